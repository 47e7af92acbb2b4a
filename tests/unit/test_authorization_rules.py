"""Who may call what: scopes per route, users only on themselves, publishable keys only on widgets."""

import pytest

from craiverse.auth import Principal
from craiverse.errors import Forbidden, Unauthorized
from craiverse.routes import ROUTES, Route, route
from tests.conftest import DEMO_USER, OTHER_USER

BALANCE = route("GET", "/credits/balance")
ADD = route("POST", "/credits/add")
DEDUCT = route("POST", "/credits/deduct")


def principal(type_: str, id_: str, scopes: str, kind: str = "secret") -> Principal:
    context = {
        "principal_type": type_,
        "principal_id": id_,
        "key_id": "key_x",
        "key_kind": kind,
        "scopes": scopes,
        "tier": "free",
    }
    return Principal.from_authorizer(context)


USER = principal("user", DEMO_USER, "credits:read credits:write")
SERVICE = principal("service", "market-oracle", "credits:read credits:write credits:grant")


def test_a_user_key_acts_on_its_own_user() -> None:
    USER.authorize(BALANCE, DEMO_USER)
    USER.authorize(DEDUCT, DEMO_USER)


def test_a_user_key_naming_another_user_is_forbidden() -> None:
    with pytest.raises(Forbidden) as err:
        USER.authorize(BALANCE, OTHER_USER)

    assert err.value.details == {"field": "user_id"}


def test_a_user_key_can_never_mint_credits() -> None:
    with pytest.raises(Forbidden) as err:
        USER.authorize(ADD, DEMO_USER)

    assert err.value.details == {"required_scope": "credits:grant"}


def test_a_service_acts_on_any_user_within_its_scopes() -> None:
    SERVICE.authorize(ADD, OTHER_USER)

    reader = principal("service", "dashboard", "credits:read")
    reader.authorize(BALANCE, OTHER_USER)
    with pytest.raises(Forbidden):
        reader.authorize(DEDUCT, OTHER_USER)


def test_an_admin_may_call_every_route() -> None:
    admin = principal("admin", "operator", "admin")

    for spec in ROUTES.values():
        admin.authorize(spec, OTHER_USER)


def test_publishable_keys_reach_only_widget_routes() -> None:
    widget = principal("service", "support-widget", "credits:read", kind="publishable")
    widget_route = Route("POST", "/javari/chat", "credits:read", BALANCE.category, widget=True)

    widget.authorize(widget_route)
    with pytest.raises(Forbidden):
        widget.authorize(BALANCE, DEMO_USER)


def test_a_request_without_authorizer_context_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        Principal.from_authorizer(None)
    with pytest.raises(Unauthorized):
        Principal.from_authorizer({"principal_type": "user"})


def test_every_route_has_a_scope_and_a_category() -> None:
    for spec in ROUTES.values():
        assert spec.category
        assert spec.scope or spec.category == "webhook"
