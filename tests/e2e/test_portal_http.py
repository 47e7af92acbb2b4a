"""Users, profile, dashboard and tickets over HTTP through the local runner, with the seeded keys."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from craiverse import apikeys, clock, credits, notifications
from tests.conftest import DEMO_USER
from tests.e2e.conftest import DEMO_KEYS, Api
from tests.e2e.test_credits_http import assert_envelope

ADMIN = DEMO_KEYS["operator"]
ORACLE = DEMO_KEYS["market-oracle"]
STRANGER = "33333333-3333-4333-8333-333333333333"
# template.yaml's SignupBonusCredits default, which the local runner applies.
SIGNUP_BONUS = 100


@pytest.fixture(scope="module")
def portal_key(local_api: Api) -> str:
    """A platform service holding the default service scopes (every user-facing one, not users:create)."""
    secret, _ = apikeys.create(
        principal_type=apikeys.PrincipalType.SERVICE,
        principal_id="customer-portal",
        tier="platform",
        created_at=clock.iso(clock.now()),
    )
    return secret


def emails_for(user_id: str) -> list[dict[str, Any]]:
    """The email queue's messages about one user (the worker that drains it comes later)."""
    found = []
    for _ in range(20):
        batch = notifications.client().receive_message(
            QueueUrl=notifications.queue_url(), MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages = [json.loads(m["Body"]) for m in batch.get("Messages", [])]
        found += [m for m in messages if m["user_id"] == user_id]
        if not messages:
            break
    return found


def test_signing_up_grants_the_bonus_once_and_queues_one_welcome_email(api: Api) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"

    created = api.call("POST", "/v1/users", ADMIN, json={"email": email, "display_name": "Ada"})
    again = api.call("POST", "/v1/users", ADMIN, json={"email": email.upper()})

    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["email"], user["display_name"], user["plan"]) == (email, "Ada", "free")
    assert again.status_code == 200
    assert again.json() == user
    balance = api.call("GET", f"/v1/credits/balance?user_id={user['user_id']}", ORACLE).json()
    assert balance == {
        "user_id": user["user_id"],
        "balance": SIGNUP_BONUS,
        "lifetime_earned": SIGNUP_BONUS,
        "lifetime_spent": 0,
    }
    assert emails_for(user["user_id"]) == [
        {"template": "welcome", "user_id": user["user_id"], "data": {"name": "Ada"}}
    ]


@pytest.mark.parametrize("key", ["market-oracle", "demo-user"])
def test_keys_without_users_create_cannot_sign_users_up(api: Api, key: str) -> None:
    response = api.call("POST", "/v1/users", DEMO_KEYS[key], json={"email": "x@example.com"})

    body = assert_envelope(response, 403, "FORBIDDEN")
    assert body["details"] == {"required_scope": "users:create"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/users"),
        ("GET", f"/v1/user/profile?user_id={DEMO_USER}"),
        ("PATCH", "/v1/user/profile"),
        ("GET", f"/v1/customer/dashboard?user_id={DEMO_USER}"),
        ("POST", "/v1/customer/tickets"),
        ("GET", f"/v1/customer/tickets?user_id={DEMO_USER}"),
    ],
)
def test_every_portal_route_needs_a_key(api: Api, method: str, path: str) -> None:
    assert_envelope(api.call(method, path, json={}), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("path", ["/v1/user/profile", "/v1/customer/dashboard", "/v1/customer/tickets"])
def test_reads_of_an_unknown_user_are_404_and_of_another_user_403(
    api: Api, portal_key: str, path: str
) -> None:
    assert_envelope(api.call("GET", f"{path}?user_id={STRANGER}", portal_key), 404, "NOT_FOUND")
    assert_envelope(api.call("GET", f"{path}?user_id={STRANGER}", DEMO_KEYS["demo-user"]), 403, "FORBIDDEN")


def test_a_user_reads_and_edits_its_profile(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    avatar = "https://cdn.example.com/avatars/ada.png"

    patched = api.call(
        "PATCH",
        "/v1/user/profile",
        key,
        json={"user_id": user_id, "display_name": " Ada ", "avatar_url": avatar},
    )
    read = api.call("GET", f"/v1/user/profile?user_id={user_id}", key)

    assert patched.status_code == 200, patched.text
    assert read.json() == patched.json()
    assert (read.json()["display_name"], read.json()["avatar_url"]) == ("Ada", avatar)
    cleared = api.call("PATCH", "/v1/user/profile", key, json={"user_id": user_id, "avatar_url": None})
    assert cleared.json()["avatar_url"] is None


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"display_name": "x" * 81}, "display_name"),
        ({"avatar_url": "http://cdn.example.com/a.png"}, "avatar_url"),
        ({"email": "new@example.com"}, "email"),
        ({}, "body"),
    ],
)
def test_bad_profile_patches_are_400(api: Api, new_user: tuple[str, str], patch: dict, field: str) -> None:
    user_id, key = new_user

    response = api.call("PATCH", "/v1/user/profile", key, json={"user_id": user_id, **patch})

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert [f["field"] for f in body["details"]["fields"]] == [field]


def test_a_patch_preflight_allows_the_method(api: Api) -> None:
    response = api.call("OPTIONS", "/v1/user/profile", headers={"Origin": "https://app.example"})

    assert response.status_code == 200
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]


def test_the_dashboard_after_adds_deducts_and_a_ticket(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    grant = {"user_id": user_id, "amount": 300, "source": "purchase", "source_reference": uuid.uuid4().hex}
    assert api.call("POST", "/v1/credits/add", ORACLE, json=grant).status_code == 200
    for app, amount in [("market-oracle", 25), ("barrelverse", 10), ("market-oracle", 5)]:
        spend = {"user_id": user_id, "amount": amount, "source_app": app, "source_action": "ai_prediction"}
        assert api.call("POST", "/v1/credits/deduct", key, json=spend).status_code == 200
    ticket = api.call(
        "POST",
        "/v1/customer/tickets",
        key,
        json={
            "user_id": user_id,
            "subject": "Refund please",
            "description": "Wrong bottle.",
            "priority": "low",
        },
    ).json()

    response = api.call("GET", f"/v1/customer/dashboard?user_id={user_id}", key)

    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"display_name": None, "plan": "free"}
    assert body["credits"] == {"balance": 260}
    assert body["subscription"] == {"status": "none", "current_period_end": None}
    assert body["stats"] == {"apps_used": 2, "credits_used_this_month": 40}
    assert [(a["type"], a["amount"], a["source_app"]) for a in body["recent_activity"]] == [
        ("ticket_created", None, None),
        ("debit", 5, "market-oracle"),
        ("debit", 10, "barrelverse"),
        ("debit", 25, "market-oracle"),
        ("credit", 300, None),
    ]
    assert (
        body["recent_activity"][0]["description"] == f"Ticket {ticket['ticket_number']} opened: Refund please"
    )


def test_tickets_page_newest_first_without_duplicates_or_gaps(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    numbers = []
    for i in range(7):
        body = {
            "user_id": user_id,
            "subject": f"Question {i}",
            "description": "How?",
            "category": "technical",
        }
        response = api.call("POST", "/v1/customer/tickets", key, json=body)
        assert response.status_code == 201, response.text
        assert (response.json()["status"], response.json()["priority"]) == ("open", "medium")
        numbers.append(response.json()["ticket_number"])

    listed, cursor = [], ""
    while True:
        page = api.call("GET", f"/v1/customer/tickets?user_id={user_id}&limit=3{cursor}", key).json()
        listed += [t["ticket_number"] for t in page["tickets"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"

    assert listed == numbers[::-1]
    assert sorted(m["data"]["ticket_number"] for m in emails_for(user_id)) == sorted(numbers)


def test_a_tampered_cursor_is_400(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    for subject in ("First issue", "Second issue"):
        api.call(
            "POST",
            "/v1/customer/tickets",
            key,
            json={"user_id": user_id, "subject": subject, "description": "x"},
        )
    cursor = api.call("GET", f"/v1/customer/tickets?user_id={user_id}&limit=1", key).json()["next_cursor"]

    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")

    response = api.call("GET", f"/v1/customer/tickets?user_id={user_id}&cursor={tampered}", key)

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "cursor"


def test_concurrent_signups_with_one_email_make_one_user_with_one_bonus_and_one_email(api: Api) -> None:
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"

    def sign_up(_: int) -> tuple[int, str]:
        response = api.call("POST", "/v1/users", ADMIN, json={"email": email})
        return response.status_code, response.json()["user_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(sign_up, range(8)))

    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    (user_id,) = {user_id for _, user_id in results}
    assert credits.balance(user_id).balance == SIGNUP_BONUS
    assert len(credits.ledger(user_id)) == 1
    assert len(emails_for(user_id)) == 1
