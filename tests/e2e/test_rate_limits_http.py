"""Rate limits through the local runner: exact under concurrency, per key, with the standard headers."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from craiverse import apikeys, clock, credits, provisioning, ratelimit
from tests.e2e.conftest import DEMO_KEYS, Api

LIMIT = 20


def limited_key(user_id: str, **limits: int) -> str:
    secret, key = apikeys.create(
        principal_type=apikeys.PrincipalType.USER,
        principal_id=user_id,
        tier="free",
        created_at=clock.iso(clock.now()),
    )
    apikeys.set_rate_limits(key.key_id, limits)
    return secret


def test_one_and_a_half_times_the_limit_in_parallel_lets_exactly_the_limit_through(api: Api) -> None:
    # A service key spending from many accounts: the only thing the requests contend for is the limit.
    secret, key = apikeys.create(
        principal_type=apikeys.PrincipalType.SERVICE,
        principal_id="rate-test-app",
        tier="free",
        created_at=clock.iso(clock.now()),
    )
    apikeys.set_rate_limits(key.key_id, {"write": LIMIT})
    accounts = [provisioning.create_user(email=f"{uuid.uuid4()}@example.test")[0].user_id for _ in range(30)]
    for user_id in accounts:
        grant = {"user_id": user_id, "amount": 10, "source": "purchase", "source_reference": uuid.uuid4().hex}
        api.call("POST", "/credits/add", DEMO_KEYS["market-oracle"], json=grant)

    def deduct(user_id: str) -> tuple[int, dict[str, str]]:
        body = {"user_id": user_id, "amount": 1, "source_app": "load-test", "source_action": "spend"}
        response = api.call("POST", "/v1/credits/deduct", secret, json=body)
        return response.status_code, dict(response.headers)

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(deduct, accounts[: LIMIT * 3 // 2]))

    statuses = [status for status, _ in results]
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == LIMIT // 2
    refused = next(headers for status, headers in results if status == 429)
    assert refused["X-RateLimit-Remaining"] == "0"
    assert int(refused["Retry-After"]) >= 1
    remaining = sorted(int(headers["X-RateLimit-Remaining"]) for status, headers in results if status == 200)
    assert remaining == list(range(LIMIT))
    spent = [10 - credits.balance(user_id).balance for user_id in accounts]
    assert sum(spent) == LIMIT
    assert set(spent) <= {0, 1}
    assert sum(len([e for e in credits.ledger(u) if e["type"] == "debit"]) for u in accounts) == LIMIT


def test_a_limited_key_does_not_limit_another_key_of_the_same_user(
    api: Api, new_user: tuple[str, str]
) -> None:
    user_id, roomy_key = new_user
    tight_key = limited_key(user_id, read=1)
    path = f"/credits/balance?user_id={user_id}"

    assert api.call("GET", path, tight_key).status_code == 200
    refused = api.call("GET", path, tight_key)
    assert refused.status_code == 429
    assert refused.json()["details"]["category"] == "read"

    allowed = api.call("GET", path, roomy_key)
    assert allowed.status_code == 200
    assert allowed.headers["X-RateLimit-Limit"] == "100000"


def test_the_next_window_lets_a_limited_key_through_again(
    api: Api, new_user: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_id, _ = new_user
    key = limited_key(user_id, read=1)
    path = f"/credits/balance?user_id={user_id}"
    now = 1_900_000_000.0
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)  # the runner serves from this process
    assert api.call("GET", path, key).status_code == 200
    refused = api.call("GET", path, key)
    assert refused.status_code == 429

    now = float(refused.json()["details"]["reset"])

    again = api.call("GET", path, key)
    assert again.status_code == 200
    assert int(again.headers["X-RateLimit-Reset"]) == int(now) + ratelimit.WINDOW_SECONDS
