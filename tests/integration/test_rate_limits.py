"""Hourly limits per key and category, enforced before a handler runs, with the standard headers."""

import json
from typing import Any

import pytest

from craiverse import credits, ratelimit
from craiverse.auth import limits_context
from tests.conftest import DEMO_USER, invoke_function, load_event

HOUR = ratelimit.WINDOW_SECONDS


def with_limits(event: dict[str, Any], key_id: str, **limits: int) -> dict[str, Any]:
    context = event["requestContext"]["authorizer"]
    context["key_id"] = key_id
    context.update(limits_context(ratelimit.limits_for(context["tier"], limits)))
    return event


def read_balance(key_id: str = "key_reader", **limits: int) -> tuple[int, dict, dict]:
    return invoke_function("credits_balance", with_limits(load_event("credits_balance"), key_id, **limits))


def deduct(key_id: str = "key_spender", **limits: int) -> tuple[int, dict, dict]:
    event = with_limits(load_event("credits_deduct"), key_id, **limits)
    event["multiValueHeaders"].pop("Idempotency-Key")
    return invoke_function("credits_deduct", event)


def test_the_first_n_pass_with_falling_remaining_and_the_next_is_429(accounts: tuple[str, str]) -> None:
    remaining = [int(read_balance(read=3)[2]["X-RateLimit-Remaining"]) for _ in range(3)]
    status, body, headers = read_balance(read=3)

    assert remaining == [2, 1, 0]
    assert status == 429
    assert body["code"] == "RATE_LIMITED"
    assert body["details"]["category"] == "read"
    assert body["details"]["limit"] == 3
    assert body["details"]["reset"] % HOUR == 0
    assert headers["X-RateLimit-Limit"] == "3"
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset"] == str(body["details"]["reset"])
    assert 1 <= int(headers["Retry-After"]) <= HOUR


def test_categories_are_counted_apart(accounts: tuple[str, str]) -> None:
    assert read_balance("key_both", read=1)[0] == 200
    assert read_balance("key_both", read=1)[0] == 429

    status, _, headers = invoke_function(
        "credits_add", with_limits(load_event("credits_add"), "key_both", read=1, write=5)
    )
    assert status == 200
    assert headers["X-RateLimit-Limit"] == "5"


def test_two_keys_do_not_share_counters(accounts: tuple[str, str]) -> None:
    assert read_balance("key_a", read=1)[0] == 200
    assert read_balance("key_a", read=1)[0] == 429

    assert read_balance("key_b", read=1)[0] == 200


def test_a_new_window_lets_requests_through_again(
    accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = 1_800_000_000.0
    monkeypatch.setattr(ratelimit.time, "time", lambda: now)
    assert read_balance(read=1)[0] == 200
    assert read_balance(read=1)[0] == 429

    now += HOUR

    status, _, headers = read_balance(read=1)
    assert status == 200
    assert headers["X-RateLimit-Remaining"] == "0"


def test_a_refused_request_does_not_run_and_spends_nothing(accounts: tuple[str, str]) -> None:
    event = load_event("credits_add")
    event["body"] = json.dumps(
        {"user_id": DEMO_USER, "amount": 10, "source": "purchase", "source_reference": "ch_rate"}
    )
    invoke_function("credits_add", event)
    assert deduct(write=1)[0] == 200
    before = credits.ledger(DEMO_USER)

    status, _, _ = deduct(write=1)

    assert status == 429
    assert credits.ledger(DEMO_USER) == before
    assert credits.balance(DEMO_USER).balance == 5


def test_errors_after_the_check_still_carry_the_headers(accounts: tuple[str, str]) -> None:
    event = with_limits(load_event("credits_deduct"), "key_bad", write=10)
    event["body"] = "{"

    status, _, headers = invoke_function("credits_deduct", event)

    assert status == 400
    assert headers["X-RateLimit-Remaining"] == "9"


def test_a_key_override_replaces_only_the_categories_it_names() -> None:
    assert ratelimit.limits_for("free") == {"read": 1000, "write": 100, "ai": 60}
    assert ratelimit.limits_for("free", {"write": 7}) == {"read": 1000, "write": 7, "ai": 60}
    assert ratelimit.limits_for("unknown-tier") == ratelimit.limits_for("free")
