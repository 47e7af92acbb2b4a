"""Calling the portal's handlers with the sample events, as a user, a service or an admin."""

import json
from typing import Any

from craiverse import notifications
from craiverse.config import settings
from tests.conftest import DEMO_USER, load_event
from tests.conftest import invoke_function as invoke

USER_SCOPES = (
    "credits:read credits:write profile:read profile:write dashboard:read tickets:read tickets:write"
)
STRANGER = "33333333-3333-4333-8333-333333333333"


def context(principal_type: str, principal_id: str, scopes: str, key_id: str = "key_test") -> dict[str, str]:
    return {
        "principalId": f"{principal_type}:{principal_id}",
        "principal_type": principal_type,
        "principal_id": principal_id,
        "key_id": key_id,
        "key_kind": "secret",
        "scopes": scopes,
        "tier": "platform",
    }


USER = context("user", DEMO_USER, USER_SCOPES, "key_demo_user")
SERVICE = context("service", "portal", USER_SCOPES + " credits:grant", "key_portal")
SIGNUP_SERVICE = context("service", "signup", "users:create", "key_signup")
ADMIN = context("admin", "operator", "admin", "key_demo_admin")


def call(
    name: str,
    *,
    query: dict[str, str] | None = None,
    body: Any = None,
    caller: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Invokes functions/<name> with events/<name>.json, replacing its query, body or caller."""
    event = load_event(name)
    if query is not None:
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    if body is not None:
        event["body"] = json.dumps(body)
    if caller is not None:
        event["requestContext"]["authorizer"] = caller
    return invoke(name, event)


def queued_emails() -> list[dict[str, Any]]:
    """Every message waiting on the email queue (received once, so a second call sees none again)."""
    url = notifications.queue_url()
    messages: list[dict[str, Any]] = []
    while (
        batch := notifications.client().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
    ):
        messages.extend(json.loads(m["Body"]) for m in batch)
    return messages


def use_signup_bonus(monkeypatch: Any, credits: int) -> None:
    monkeypatch.setenv("SIGNUP_BONUS_CREDITS", str(credits))
    settings.cache_clear()
