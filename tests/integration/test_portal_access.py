"""Every portal handler refuses a request without a principal (401) and publishable widget keys (403)."""

import pytest

from tests.conftest import invoke_function, load_event
from tests.integration.handlers import USER

PORTAL_FUNCTIONS = [
    "users_create",
    "user_profile_get",
    "user_profile_update",
    "customer_dashboard",
    "customer_tickets_create",
    "customer_tickets_list",
]


@pytest.mark.parametrize("name", PORTAL_FUNCTIONS)
def test_a_request_without_an_authorized_principal_is_401(accounts: tuple[str, str], name: str) -> None:
    event = load_event(name)
    event["requestContext"]["authorizer"] = None

    status, body, _ = invoke_function(name, event)

    assert status == 401
    assert body == {"error": "Invalid or missing API key", "code": "UNAUTHORIZED", "details": {}}


@pytest.mark.parametrize("name", PORTAL_FUNCTIONS)
def test_a_publishable_key_is_403_on_every_portal_route(accounts: tuple[str, str], name: str) -> None:
    event = load_event(name)
    event["requestContext"]["authorizer"] = {**USER, "key_kind": "publishable"}

    status, body, _ = invoke_function(name, event)

    assert status == 403
    assert body["code"] == "FORBIDDEN"


@pytest.mark.parametrize("name", PORTAL_FUNCTIONS)
def test_every_sample_event_succeeds_for_its_caller(accounts: tuple[str, str], name: str) -> None:
    status, body, _ = invoke_function(name, load_event(name))

    assert status in (200, 201), body
