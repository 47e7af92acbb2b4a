"""GET /customer/dashboard: the contract's shape with exact figures, read in two DynamoDB round trips."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from craiverse import clock, credits, db, subscriptions
from tests.conftest import DEMO_USER, OTHER_USER, load_event
from tests.conftest import invoke_function as invoke
from tests.integration.handlers import SERVICE, STRANGER, USER, call, context, use_signup_bonus


def dashboard(user_id: str = DEMO_USER, caller: dict[str, str] = USER) -> tuple[int, dict[str, Any]]:
    status, body, _ = call("customer_dashboard", query={"user_id": user_id}, caller=caller)
    return status, body


def add(amount: int, reference: str, user_id: str = DEMO_USER) -> None:
    event = load_event("credits_add")
    event["body"] = json.dumps(
        {"user_id": user_id, "amount": amount, "source": "purchase", "source_reference": reference}
    )
    assert invoke("credits_add", event)[0] == 200


def deduct(amount: int, app: str, action: str = "ai_prediction", user_id: str = DEMO_USER) -> None:
    event = load_event("credits_deduct")
    event["headers"].pop("Idempotency-Key")
    event["multiValueHeaders"].pop("Idempotency-Key")
    event["body"] = json.dumps(
        {"user_id": user_id, "amount": amount, "source_app": app, "source_action": action}
    )
    status, answer, _ = invoke("credits_deduct", event)
    assert status == 200, answer


def open_ticket(subject: str) -> str:
    body = {"user_id": DEMO_USER, "subject": subject, "description": "Details."}
    status, answer, _ = call("customer_tickets_create", body=body)
    assert status == 201
    return str(answer["ticket_number"])


@pytest.fixture
def dynamodb_calls() -> Iterator[list[str]]:
    """The name of every DynamoDB operation the handlers send, in order."""
    calls: list[str] = []
    lock = threading.Lock()

    def record(model: Any, **_: Any) -> None:
        with lock:
            calls.append(model.name)

    events = db.client().meta.events
    events.register("before-call.dynamodb", record, unique_id="count-round-trips")
    yield calls
    events.unregister("before-call.dynamodb", unique_id="count-round-trips")


def test_a_new_user_sees_the_contracts_shape_with_zeros_and_no_subscription(
    accounts: tuple[str, str],
) -> None:
    status, body = dashboard()

    assert status == 200
    assert body == {
        "user": {"display_name": None, "plan": "free"},
        "credits": {"balance": 0},
        "subscription": {"status": "none", "current_period_end": None},
        "recent_activity": [],
        "stats": {"apps_used": 0, "credits_used_this_month": 0},
    }


def test_adds_and_deducts_across_two_apps_give_exact_figures_and_the_newest_ten_movements(
    accounts: tuple[str, str],
) -> None:
    add(500, "ch_1")
    for amount in (5, 7, 11, 13, 17):
        deduct(amount, "market-oracle")
    for amount in (2, 3, 4):
        deduct(amount, "barrelverse", "bottle_scan")
    add(50, "ch_2")
    ticket = open_ticket("Where did my credits go?")
    deduct(19, "market-oracle")

    status, body = dashboard()

    assert status == 200
    assert body["credits"] == {"balance": 469}  # 500 - (5 + 7 + 11 + 13 + 17) - (2 + 3 + 4) + 50 - 19
    assert body["stats"] == {"apps_used": 2, "credits_used_this_month": 81}
    activity = body["recent_activity"]
    assert [(a["type"], a["amount"], a["source_app"]) for a in activity] == [
        ("debit", 19, "market-oracle"),
        ("ticket_created", None, None),
        ("credit", 50, None),
        ("debit", 4, "barrelverse"),
        ("debit", 3, "barrelverse"),
        ("debit", 2, "barrelverse"),
        ("debit", 17, "market-oracle"),
        ("debit", 13, "market-oracle"),
        ("debit", 11, "market-oracle"),
        ("debit", 7, "market-oracle"),
    ]
    assert [a["description"] for a in activity[:4]] == [
        "market-oracle: ai_prediction",
        f"Ticket {ticket} opened: Where did my credits go?",
        "Credits added (purchase)",
        "barrelverse: bottle_scan",
    ]
    assert all(set(a) == {"type", "amount", "source_app", "description", "created_at"} for a in activity)
    stamps = [a["created_at"] for a in activity]
    assert stamps == sorted(stamps, reverse=True)


def test_the_signup_bonus_shows_as_the_first_movement(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    use_signup_bonus(monkeypatch, 100)
    status, user, _ = call("users_create", body={"email": "new@example.com", "display_name": "New"})
    assert status == 201

    _, body = dashboard(user["user_id"], caller=SERVICE)

    assert body["user"] == {"display_name": "New", "plan": "free"}
    assert body["credits"] == {"balance": 100}
    assert [(a["type"], a["amount"], a["description"]) for a in body["recent_activity"]] == [
        ("credit", 100, "Signup bonus")
    ]


def test_only_this_utc_months_usage_counts(accounts: tuple[str, str]) -> None:
    add(100, "ch_1")
    deduct(10, "market-oracle")
    last_month = clock.month_of(clock.iso(datetime.now(UTC).replace(day=1) - timedelta(days=1)))
    pk, sk = credits.usage_key(DEMO_USER, last_month)
    db.put({"PK": pk, "SK": sk, "credits_used": 999, "apps": {"a", "b", "c"}})

    _, body = dashboard()

    assert body["stats"] == {"apps_used": 1, "credits_used_this_month": 10}


def test_a_subscription_shows_its_status_and_period_end(accounts: tuple[str, str]) -> None:
    pk, sk = subscriptions.key(DEMO_USER)
    db.put({"PK": pk, "SK": sk, "status": "active", "current_period_end": "2027-01-04T00:00:00.000Z"})

    _, body = dashboard()

    assert body["subscription"] == {"status": "active", "current_period_end": "2027-01-04T00:00:00.000Z"}


def test_the_dashboard_reads_in_two_round_trips_beside_the_rate_limit_counter(
    accounts: tuple[str, str], dynamodb_calls: list[str]
) -> None:
    add(100, "ch_1")
    deduct(10, "market-oracle")
    dynamodb_calls.clear()

    status, _ = dashboard()

    assert status == 200
    assert dynamodb_calls.count("UpdateItem") == 1  # the endpoint wrapper's hourly rate-limit counter
    assert sorted(c for c in dynamodb_calls if c != "UpdateItem") == ["BatchGetItem", "Query"]


def test_an_unknown_user_is_404(accounts: tuple[str, str]) -> None:
    status, body = dashboard(STRANGER, caller=SERVICE)

    assert status == 404
    assert body == {"error": "User not found", "code": "NOT_FOUND", "details": {"user_id": STRANGER}}


def test_a_user_key_on_another_user_or_a_service_without_the_scope_is_forbidden(
    accounts: tuple[str, str],
) -> None:
    assert dashboard(OTHER_USER)[0] == 403

    status, body = dashboard(OTHER_USER, caller=context("service", "market-oracle", "credits:read"))

    assert status == 403
    assert body["details"] == {"required_scope": "dashboard:read"}


def test_the_sample_event_answers_the_demo_users_dashboard(accounts: tuple[str, str]) -> None:
    status, body, headers = call("customer_dashboard")

    assert status == 200
    assert set(body) == {"user", "credits", "subscription", "recent_activity", "stats"}
    assert headers["X-RateLimit-Limit"] == "5000"
