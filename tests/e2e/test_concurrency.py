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

    def deduct(amount: int) -> tuple[int, int, dict]:
        body = {"user_id": user_id, "amount": amount, "source_app": "load-test", "source_action": "spend"}
        response = api.call("POST", "/credits/deduct", key, json=body)
        return response.status_code, amount, response.json()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(deduct, amounts))

    # A movement is one commutative transaction: no movement is redone or given up for another's sake.
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {200, 402}, statuses
    refusals = [answer["details"] for status, _, answer in results if status == 402]
    assert all(0 <= refusal["balance"] < refusal["requested"] for refusal in refusals)
    spent = sum(amount for status, amount, _ in results if status == 200)
    successes = statuses.count(200)
    balance = api.call("GET", f"/credits/balance?user_id={user_id}", key).json()
    entries = credits.ledger(user_id)
    debits = [e for e in entries if e["type"] == "debit"]

    assert balance["balance"] == INITIAL - spent
    assert balance["balance"] >= 0
    assert balance["lifetime_spent"] == spent
    assert len(debits) == successes
    assert sum(e["amount"] for e in debits) == spent
    assert sum(e["amount"] if e["type"] == "credit" else -e["amount"] for e in entries) == balance["balance"]
    assert successes > 0
    assert refusals


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
