"""The Credits API through its handlers: exact balances, an exact ledger and exactly-once effects."""

import json
from typing import Any

import pytest

from craiverse import credits, db, users
from tests.conftest import DEMO_USER, OTHER_USER, invoke_function, load_event

SERVICE_CONTEXT = load_event("credits_add")["requestContext"]["authorizer"]


def balance_of(user_id: str, context: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    event = load_event("credits_balance")
    event["queryStringParameters"] = {"user_id": user_id}
    event["multiValueQueryStringParameters"] = {"user_id": [user_id]}
    if context:
        event["requestContext"]["authorizer"] = context
    status, body, _ = invoke_function("credits_balance", event)
    return status, body


def add(
    user_id: str = DEMO_USER, amount: Any = 100, reference: str = "ch_1", **extra: Any
) -> tuple[int, dict, dict]:
    event = load_event("credits_add")
    payload = {
        "user_id": user_id,
        "amount": amount,
        "source": "purchase",
        "source_reference": reference,
        **extra,
    }
    event["body"] = json.dumps(payload)
    return invoke_function("credits_add", event)


def deduct(
    user_id: str = DEMO_USER,
    amount: Any = 5,
    app: str = "market-oracle",
    key: str | None = None,
    context: dict[str, Any] | None = None,
) -> tuple[int, dict, dict]:
    event = load_event("credits_deduct")
    event["body"] = json.dumps(
        {"user_id": user_id, "amount": amount, "source_app": app, "source_action": "ai_prediction"}
    )
    event["multiValueHeaders"].pop("Idempotency-Key")
    event["headers"].pop("Idempotency-Key")
    if key is not None:
        event["multiValueHeaders"]["Idempotency-Key"] = [key]
    if context:
        event["requestContext"]["authorizer"] = context
    return invoke_function("credits_deduct", event)


def ledger_sum(user_id: str) -> int:
    entries = credits.ledger(user_id)
    return sum(e["amount"] if e["type"] == "credit" else -e["amount"] for e in entries)


def test_a_new_user_has_zero_everywhere(accounts: tuple[str, str]) -> None:
    status, body = balance_of(DEMO_USER)

    assert status == 200
    assert body == {"user_id": DEMO_USER, "balance": 0, "lifetime_earned": 0, "lifetime_spent": 0}


def test_an_unknown_user_is_not_found(accounts: tuple[str, str]) -> None:
    stranger = "33333333-3333-4333-8333-333333333333"
    status, body = balance_of(stranger, SERVICE_CONTEXT)

    assert status == 404
    assert body == {"error": "User not found", "code": "NOT_FOUND", "details": {"user_id": stranger}}


def test_add_100_deduct_30_leaves_70_with_exact_lifetime_figures(accounts: tuple[str, str]) -> None:
    status, added, _ = add(amount=100)
    assert status == 200
    assert added["entry_id"].startswith("le_")
    assert (added["type"], added["amount"], added["source_reference"]) == ("credit", 100, "ch_1")

    status, spent, _ = deduct(amount=30)
    assert status == 200
    assert (spent["type"], spent["amount"], spent["source_app"]) == ("debit", 30, "market-oracle")

    _, body = balance_of(DEMO_USER)
    assert body == {"user_id": DEMO_USER, "balance": 70, "lifetime_earned": 100, "lifetime_spent": 30}
    assert ledger_sum(DEMO_USER) == 70


def test_the_ledger_records_each_movement_as_its_receipt_says(accounts: tuple[str, str]) -> None:
    added = add(amount=50, reference="ch_a")[1]
    spent = deduct(amount=20, app="barrelverse")[1]

    first, second = credits.ledger(DEMO_USER)
    assert (first["entry_id"], first["created_at"]) == (added["entry_id"], added["created_at"])
    assert (first["type"], first["amount"], first["source_reference"]) == ("credit", 50, "ch_a")
    assert (second["entry_id"], second["created_at"]) == (spent["entry_id"], spent["created_at"])
    assert (second["type"], second["amount"], second["source_app"]) == ("debit", 20, "barrelverse")
    assert second["source_action"] == "ai_prediction"
    assert second["actor_key_id"] == "key_demo_user"


def test_deducting_more_than_the_balance_is_402_and_writes_nothing(accounts: tuple[str, str]) -> None:
    add(amount=70)
    before = credits.ledger(DEMO_USER)

    status, body, _ = deduct(amount=1000)

    assert status == 402
    assert body["code"] == "INSUFFICIENT_CREDITS"
    assert body["details"] == {"balance": 70, "requested": 1000}
    assert credits.ledger(DEMO_USER) == before
    assert balance_of(DEMO_USER)[1]["balance"] == 70
    assert db.get(users.pk(DEMO_USER), credits.usage_sk(before[0]["created_at"][:7])) is None


def test_a_deduction_to_exactly_zero_is_allowed(accounts: tuple[str, str]) -> None:
    add(amount=10)

    status, _, _ = deduct(amount=10)

    assert status == 200
    assert balance_of(DEMO_USER)[1]["balance"] == 0
    assert ledger_sum(DEMO_USER) == 0
    assert deduct(amount=1)[1]["details"] == {"balance": 0, "requested": 1}


def test_deductions_maintain_the_monthly_usage_counters(accounts: tuple[str, str]) -> None:
    add(amount=100)
    deduct(amount=5, app="market-oracle")
    deduct(amount=7, app="barrelverse")
    _, last, _ = deduct(amount=3, app="market-oracle")

    usage = db.get(users.pk(DEMO_USER), credits.usage_sk(last["created_at"][:7]))

    assert usage is not None
    assert usage["credits_used"] == 15
    assert usage["deductions"] == 3
    assert usage["apps"] == ["barrelverse", "market-oracle"]


def test_a_repeated_add_with_the_same_reference_adds_once(accounts: tuple[str, str]) -> None:
    _, first, first_headers = add(amount=100, reference="ch_same")
    status, again, headers = add(amount=100, reference="ch_same")

    assert status == 200
    assert again == first
    assert headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first_headers
    assert balance_of(DEMO_USER)[1]["balance"] == 100
    assert len(credits.ledger(DEMO_USER)) == 1


@pytest.mark.parametrize(("user_id", "amount"), [(DEMO_USER, 99), (OTHER_USER, 100)])
def test_the_same_reference_with_another_amount_or_user_conflicts(
    accounts: tuple[str, str], user_id: str, amount: int
) -> None:
    add(amount=100, reference="ch_taken")

    status, body, _ = add(user_id=user_id, amount=amount, reference="ch_taken")

    assert status == 409
    assert body["code"] == "CONFLICT"
    assert body["details"] == {"source": "purchase", "source_reference": "ch_taken"}
    assert balance_of(OTHER_USER, SERVICE_CONTEXT)[1]["balance"] == 0
    assert balance_of(DEMO_USER)[1]["balance"] == 100


def test_a_deduct_retried_with_its_idempotency_key_applies_once(accounts: tuple[str, str]) -> None:
    add(amount=100)

    _, first, _ = deduct(amount=30, key="order-77")
    status, again, headers = deduct(amount=30, key="order-77")

    assert status == 200
    assert again == first
    assert headers["Idempotent-Replayed"] == "true"
    assert balance_of(DEMO_USER)[1]["balance"] == 70
    assert ledger_sum(DEMO_USER) == 70


def test_an_idempotent_replay_answers_even_when_the_balance_no_longer_covers_it(
    accounts: tuple[str, str],
) -> None:
    add(amount=30)
    _, first, _ = deduct(amount=30, key="order-78")

    status, again, _ = deduct(amount=30, key="order-78")

    assert status == 200
    assert again == first


def test_an_idempotency_key_reused_for_another_request_conflicts(accounts: tuple[str, str]) -> None:
    add(amount=100)
    deduct(amount=30, key="order-79")

    status, body, _ = deduct(amount=31, key="order-79")

    assert status == 409
    assert body["details"] == {"idempotency_key": "order-79"}
    assert balance_of(DEMO_USER)[1]["balance"] == 70


def test_without_an_idempotency_key_each_deduct_applies(accounts: tuple[str, str]) -> None:
    add(amount=100)

    deduct(amount=10)
    deduct(amount=10)

    assert balance_of(DEMO_USER)[1]["balance"] == 80


def test_a_user_key_naming_another_user_is_forbidden_and_changes_nothing(accounts: tuple[str, str]) -> None:
    add(user_id=OTHER_USER, amount=50, reference="ch_other")

    status, body, _ = deduct(user_id=OTHER_USER, amount=5)
    assert status == 403
    assert body["code"] == "FORBIDDEN"
    assert balance_of(OTHER_USER, SERVICE_CONTEXT)[1]["balance"] == 50
    assert balance_of(OTHER_USER)[0] == 403


def test_a_user_key_cannot_add_credits(accounts: tuple[str, str]) -> None:
    event = load_event("credits_add")
    event["requestContext"]["authorizer"] = load_event("credits_deduct")["requestContext"]["authorizer"]

    status, body, _ = invoke_function("credits_add", event)

    assert status == 403
    assert body["details"] == {"required_scope": "credits:grant"}
    assert balance_of(DEMO_USER)[1]["balance"] == 0


def test_adding_to_an_unknown_user_is_not_found_and_claims_nothing(accounts: tuple[str, str]) -> None:
    stranger = "33333333-3333-4333-8333-333333333333"

    status, _, _ = add(user_id=stranger, reference="ch_lost")
    assert status == 404

    assert db.get(credits.reference_pk("purchase", "ch_lost"), credits.REFERENCE_SK) is None
    status, _, _ = add(amount=100, reference="ch_lost")
    assert status == 200
    assert balance_of(DEMO_USER)[1]["balance"] == 100


@pytest.mark.parametrize("amount", [1.5, "10", 0, -1, 10**12, None])
def test_bad_amounts_answer_400_naming_the_field(accounts: tuple[str, str], amount: Any) -> None:
    for status, body, _ in (add(amount=amount), deduct(amount=amount)):
        assert status == 400
        assert body["code"] == "VALIDATION_ERROR"
        assert [f["field"] for f in body["details"]["fields"]] == ["amount"]
    assert credits.ledger(DEMO_USER) == []


def test_every_answer_carries_the_request_id_and_cors(accounts: tuple[str, str]) -> None:
    _, _, ok_headers = deduct(amount=1)
    _, _, error_headers = add(amount=0)

    for headers in (ok_headers, error_headers):
        assert headers["X-Request-Id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert headers["Content-Type"] == "application/json"


def test_an_unexpected_failure_is_a_500_envelope_without_internals(
    accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(db, "get", broken)
    status, body = balance_of(DEMO_USER)

    assert status == 500
    assert body == {"error": "Internal server error", "code": "SERVER_ERROR", "details": {}}


def test_any_other_cancellation_is_a_logged_500_that_writes_nothing(
    accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    add(amount=100)
    monkeypatch.setattr(credits.clock, "sortable_id", lambda prefix: "le_fixed")
    assert deduct(amount=10)[0] == 200

    status, body, _ = deduct(amount=10)  # its ledger entry id collides with the first one

    assert status == 500
    assert body["code"] == "SERVER_ERROR"
    assert balance_of(DEMO_USER)[1]["balance"] == 90
    assert ledger_sum(DEMO_USER) == 90
