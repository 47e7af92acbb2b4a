"""Many clients deducting from one account through the local runner: no overdraft, no lost update."""

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

from craiverse import credits
from tests.e2e.conftest import DEMO_KEYS, Api

THREADS = 16
DEDUCTIONS = 240
INITIAL = 500  # less than the sum of the deductions, so some must be refused


def test_concurrent_deductions_are_exact_and_never_overdraw(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    grant = {
        "user_id": user_id,
        "amount": INITIAL,
        "source": "purchase",
        "source_reference": uuid.uuid4().hex,
    }
    assert api.call("POST", "/credits/add", DEMO_KEYS["market-oracle"], json=grant).status_code == 200
    amounts = [random.randint(1, 5) for _ in range(DEDUCTIONS)]

    def deduct(amount: int) -> tuple[int, int]:
        body = {"user_id": user_id, "amount": amount, "source_app": "load-test", "source_action": "spend"}
        return api.call("POST", "/credits/deduct", key, json=body).status_code, amount

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(deduct, amounts))

    statuses = [status for status, _ in results]
    # 503 means "lost the race for 8 s, nothing written, retry": allowed, but it must stay rare. Locally
    # it happens only here, with 16 writers on one account behind the runner's one lock (BENCHMARKS.md).
    assert set(statuses) <= {200, 402, 503}, statuses
    assert statuses.count(503) <= DEDUCTIONS // 10
    spent = sum(amount for status, amount in results if status == 200)
    successes = sum(1 for status, _ in results if status == 200)
    balance = api.call("GET", f"/credits/balance?user_id={user_id}", key).json()
    entries = credits.ledger(user_id)
    debits = [e for e in entries if e["type"] == "debit"]

    assert balance["balance"] == INITIAL - spent
    assert balance["balance"] >= 0
    assert balance["lifetime_spent"] == spent
    assert len(debits) == successes
    assert sum(e["amount"] for e in debits) == spent
    assert min(e["balance_after"] for e in entries) >= 0
    assert successes > 0
    assert any(status == 402 for status, _ in results)


def test_concurrent_retries_with_one_idempotency_key_apply_once(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    grant = {"user_id": user_id, "amount": 100, "source": "purchase", "source_reference": uuid.uuid4().hex}
    api.call("POST", "/credits/add", DEMO_KEYS["market-oracle"], json=grant)
    body = {"user_id": user_id, "amount": 7, "source_app": "load-test", "source_action": "spend"}
    idempotency_key = uuid.uuid4().hex

    def deduct(_: int) -> dict:
        response = api.call(
            "POST", "/credits/deduct", key, json=body, headers={"Idempotency-Key": idempotency_key}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        answers = list(pool.map(deduct, range(48)))

    assert len({answer["entry_id"] for answer in answers}) == 1
    assert api.call("GET", f"/credits/balance?user_id={user_id}", key).json()["balance"] == 93
    assert len([e for e in credits.ledger(user_id) if e["type"] == "debit"]) == 1
