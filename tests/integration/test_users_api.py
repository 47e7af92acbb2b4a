"""POST /users: provisioning with a signup bonus through the ledger and one welcome email, once."""

from typing import Any

import pytest
from botocore.exceptions import ClientError

from craiverse import credits, db, notifications, users
from tests.integration.handlers import (
    ADMIN,
    SERVICE,
    SIGNUP_SERVICE,
    USER,
    call,
    queued_emails,
    use_signup_bonus,
)


def sign_up(body: dict[str, Any], caller: dict[str, str] = ADMIN) -> tuple[int, dict[str, Any]]:
    status, answer, _ = call("users_create", body=body, caller=caller)
    return status, answer


@pytest.fixture
def bonus(aws: None, monkeypatch: pytest.MonkeyPatch) -> int:
    use_signup_bonus(monkeypatch, 100)
    return 100


def test_a_new_user_gets_a_profile_the_bonus_through_the_ledger_and_a_welcome_email(bonus: int) -> None:
    status, body = sign_up({"email": " Ada@Example.COM ", "display_name": "  Ada Lovelace "})

    assert status == 201
    user_id = body["user_id"]
    assert body == {
        "user_id": user_id,
        "email": "ada@example.com",
        "display_name": "Ada Lovelace",
        "avatar_url": None,
        "plan": "free",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert credits.balance(user_id).view() == {
        "user_id": user_id,
        "balance": 100,
        "lifetime_earned": 100,
        "lifetime_spent": 0,
    }
    (entry,) = credits.ledger(user_id)
    assert (entry["type"], entry["amount"], entry["source"]) == ("credit", 100, "signup_bonus")
    assert (entry["source"], entry["source_reference"]) == ("signup_bonus", user_id)
    assert entry["actor_key_id"] == "key_demo_admin"
    assert queued_emails() == [{"template": "welcome", "user_id": user_id, "data": {"name": "Ada Lovelace"}}]


def test_signing_up_twice_with_the_same_email_answers_the_same_user_and_grants_nothing_more(
    bonus: int,
) -> None:
    _, first = sign_up({"email": "grace@example.com"})
    queued_emails()

    status, again = sign_up({"email": "GRACE@example.com", "display_name": "Someone Else"})

    assert status == 200
    assert again == first
    assert credits.balance(first["user_id"]).balance == 100
    assert len(credits.ledger(first["user_id"])) == 1
    assert queued_emails() == []


def test_without_a_display_name_the_welcome_email_has_no_name(bonus: int) -> None:
    _, body = sign_up({"email": "anon@example.com"})

    assert body["display_name"] is None
    assert queued_emails() == [{"template": "welcome", "user_id": body["user_id"], "data": {}}]


def test_a_zero_bonus_opens_an_empty_account_with_an_empty_ledger(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_signup_bonus(monkeypatch, 0)

    _, body = sign_up({"email": "zero@example.com"})

    assert credits.balance(body["user_id"]).balance == 0
    assert credits.ledger(body["user_id"]) == []


def test_a_service_with_the_users_create_scope_may_sign_users_up(bonus: int) -> None:
    status, body = sign_up({"email": "svc@example.com"}, caller=SIGNUP_SERVICE)

    assert status == 201
    assert credits.ledger(body["user_id"])[0]["actor_key_id"] == "key_signup"


@pytest.mark.parametrize("caller", [SERVICE, USER], ids=["service-without-scope", "user"])
def test_callers_without_the_users_create_scope_are_forbidden_and_nothing_is_written(
    bonus: int, caller: dict[str, str]
) -> None:
    status, body = sign_up({"email": "nope@example.com"}, caller=caller)

    assert status == 403
    assert body["details"] == {"required_scope": "users:create"}
    assert db.get(users.email_pk("nope@example.com"), users.EMAIL_SK) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "two@@example.com"}, "email"),
        ({"email": "spaced out@example.com"}, "email"),
        ({"email": "ada@localhost"}, "email"),
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"email": 42}, "email"),
        ({"email": "ok@example.com", "display_name": ""}, "display_name"),
        ({"email": "ok@example.com", "display_name": "x" * 81}, "display_name"),
        ({"email": "ok@example.com", "display_name": "Ada\x00"}, "display_name"),
        ({"email": "ok@example.com", "plan": "pro"}, "plan"),
    ],
)
def test_bad_signups_answer_400_naming_the_field(bonus: int, body: dict[str, Any], field: str) -> None:
    status, answer = sign_up(body)

    assert status == 400
    assert answer["code"] == "VALIDATION_ERROR"
    assert [f["field"] for f in answer["details"]["fields"]] == [field]
    assert queued_emails() == []


def test_without_an_email_queue_the_signup_fails_before_it_writes(
    bonus: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EMAIL_QUEUE_URL")
    use_signup_bonus(monkeypatch, 100)

    status, body = sign_up({"email": "early@example.com"})

    assert status == 500
    assert body["code"] == "SERVER_ERROR"
    assert db.get(users.email_pk("early@example.com"), users.EMAIL_SK) is None


def test_a_welcome_email_that_cannot_be_queued_does_not_undo_the_signup(
    bonus: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue"}}, "SendMessage")

    monkeypatch.setattr(notifications.client(), "send_message", refuse)

    status, body = sign_up({"email": "unlucky@example.com"})

    assert status == 201
    assert users.get(body["user_id"]) is not None
    assert credits.balance(body["user_id"]).balance == 100
