"""DynamoDB round trips per endpoint, counted on the client every handler shares: the minimum the design
allows, and the same record BENCHMARKS.md is drawn from (benchmarks.calls).

Every keyed request spends one conditional UpdateItem on its rate-limit counter. A movement of credits
is then one transaction and nothing else: it reads nothing first, and its refusals and replays come
back in that transaction's cancellation reasons.
"""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from benchmarks.calls import AUTHORIZER, ENDPOINT, RATE_LIMIT, DynamoCalls
from craiverse import apikeys, clock, db
from tests.conftest import DEMO_USER, invoke_function, load_event, load_function

ONE_WRITE = ["UpdateItem"]


@pytest.fixture
def calls(accounts: tuple[str, str]) -> Iterator[DynamoCalls]:
    status, _, _ = add(amount=1000, reference="ch_opening")
    assert status == 200
    with DynamoCalls(db.client()) as recorder:
        yield recorder


def cancelled(calls: DynamoCalls) -> list[str | None]:
    return [call.error for call in calls.calls if call.party == ENDPOINT]


def add(amount: int = 10, reference: str = "ch_round_trips") -> tuple[int, dict[str, Any], dict[str, str]]:
    event = load_event("credits_add")
    event["body"] = json.dumps(
        {"user_id": DEMO_USER, "amount": amount, "source": "purchase", "source_reference": reference}
    )
    return invoke_function("credits_add", event)


def deduct(amount: int = 5, key: str | None = None) -> tuple[int, dict[str, Any], dict[str, str]]:
    event = load_event("credits_deduct")
    event["body"] = json.dumps(
        {
            "user_id": DEMO_USER,
            "amount": amount,
            "source_app": "market-oracle",
            "source_action": "ai_prediction",
        }
    )
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    if key:
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
    return invoke_function("credits_deduct", event)


def test_a_balance_is_the_rate_limit_counter_and_one_consistent_read(calls: DynamoCalls) -> None:
    status, _, _ = invoke_function("credits_balance", load_event("credits_balance"))

    assert status == 200
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["GetItem (consistent)"]


def test_an_add_is_one_transaction(calls: DynamoCalls) -> None:
    status, _, _ = add()

    assert status == 200
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["TransactWriteItems x3"]


def test_a_replayed_add_costs_no_more_than_the_first(calls: DynamoCalls) -> None:
    add()
    calls.take()

    status, _, headers = add()

    assert (status, headers["Idempotent-Replayed"]) == (200, "true")
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["TransactWriteItems x3"]
    assert cancelled(calls) == ["TransactionCanceledException"]


def test_a_deduct_is_one_transaction(calls: DynamoCalls) -> None:
    status, _, _ = deduct()

    assert status == 200
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["TransactWriteItems x3"]


def test_a_deduct_with_an_idempotency_key_claims_it_in_the_same_transaction(calls: DynamoCalls) -> None:
    status, _, _ = deduct(key="order-rt-1")

    assert status == 200
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["TransactWriteItems x4"]


def test_a_replayed_deduct_is_answered_from_its_cancelled_transaction(calls: DynamoCalls) -> None:
    deduct(key="order-rt-2")
    calls.take()

    status, _, headers = deduct(key="order-rt-2")

    assert (status, headers["Idempotent-Replayed"]) == (200, "true")
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["TransactWriteItems x4"]
    assert cancelled(calls) == ["TransactionCanceledException"]


def test_a_refused_deduct_is_one_cancelled_transaction(calls: DynamoCalls) -> None:
    status, body, _ = deduct(amount=10**9)

    assert (status, body["details"]) == (402, {"balance": 1000, "requested": 10**9})
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == ["TransactWriteItems x3"]
    assert cancelled(calls) == ["TransactionCanceledException"]


def test_a_request_over_its_limit_costs_only_the_refused_counter_update(calls: DynamoCalls) -> None:
    event = load_event("credits_balance")
    event["requestContext"]["authorizer"]["limit_read"] = 1
    invoke_function("credits_balance", event)
    calls.take()

    status, _, _ = invoke_function("credits_balance", event)

    assert status == 429
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert calls.operations(ENDPOINT) == []


def test_the_dashboard_is_two_reads(calls: DynamoCalls) -> None:
    status, _, _ = invoke_function("customer_dashboard", load_event("customer_dashboard"))

    assert status == 200
    assert calls.operations(RATE_LIMIT) == ONE_WRITE
    assert sorted(calls.operations(ENDPOINT)) == ["BatchGetItem (consistent)", "Query (eventual)"]


def test_the_authorizer_is_one_eventually_consistent_read(calls: DynamoCalls) -> None:
    secret, _ = apikeys.create(
        principal_type=apikeys.PrincipalType.USER, principal_id=DEMO_USER, created_at=clock.iso(clock.now())
    )
    event = load_event("authorizer")
    event["authorizationToken"] = f"Bearer {secret}"
    calls.take()

    load_function("authorizer").handler(event, None)

    assert calls.operations() == ["GetItem (eventual)"]
    assert calls.operations(AUTHORIZER) == ["GetItem (eventual)"]
