"""Who may call the portal routes, and what user and service keys get by default."""

import pytest

from craiverse import apikeys
from craiverse.apikeys import KeyKind, PrincipalType
from craiverse.auth import Principal
from craiverse.errors import Forbidden
from craiverse.routes import ALL_SCOPES, DEFAULT_SCOPES, route
from tests.conftest import DEMO_USER, OTHER_USER

PORTAL = [
    ("POST", "/users"),
    ("GET", "/user/profile"),
    ("PATCH", "/user/profile"),
    ("GET", "/customer/dashboard"),
    ("POST", "/customer/tickets"),
    ("GET", "/customer/tickets"),
]


def principal(type_: str, id_: str, scopes: tuple[str, ...], kind: str = "secret") -> Principal:
    return Principal.from_authorizer(
        {
            "principal_type": type_,
            "principal_id": id_,
            "key_id": "key_x",
            "key_kind": kind,
            "scopes": " ".join(scopes),
            "tier": "free",
        }
    )


def test_a_default_user_key_uses_every_portal_route_on_itself_except_signing_users_up() -> None:
    user = principal("user", DEMO_USER, DEFAULT_SCOPES["user"])

    for method, path in PORTAL[1:]:
        user.authorize(route(method, path), DEMO_USER)
        with pytest.raises(Forbidden):
            user.authorize(route(method, path), OTHER_USER)
    with pytest.raises(Forbidden) as err:
        user.authorize(route("POST", "/users"))
    assert err.value.details == {"required_scope": "users:create"}


def test_a_default_service_key_acts_on_any_user_but_must_be_given_users_create() -> None:
    service = principal("service", "market-oracle", DEFAULT_SCOPES["service"])

    for method, path in PORTAL[1:]:
        service.authorize(route(method, path), OTHER_USER)
    with pytest.raises(Forbidden):
        service.authorize(route("POST", "/users"))
    principal("service", "signup", ("users:create",)).authorize(route("POST", "/users"))


def test_user_keys_can_never_hold_users_create() -> None:
    assert "users:create" not in DEFAULT_SCOPES["user"]
    with pytest.raises(ValueError, match="user keys"):
        apikeys.validate_grant(PrincipalType.USER, KeyKind.SECRET, ("profile:read", "users:create"), "free")
    apikeys.validate_grant(PrincipalType.SERVICE, KeyKind.SECRET, ("users:create",), "platform")


def test_every_portal_scope_is_known_and_user_defaults_are_grantable_to_users() -> None:
    assert {route(m, p).scope for m, p in PORTAL} <= ALL_SCOPES
    apikeys.validate_grant(PrincipalType.USER, KeyKind.SECRET, DEFAULT_SCOPES["user"], "free")


def test_no_portal_route_is_open_to_publishable_widget_keys() -> None:
    widget = principal("service", "support-widget", tuple(ALL_SCOPES - {"admin"}), kind="publishable")

    for method, path in PORTAL:
        assert not route(method, path).widget
        with pytest.raises(Forbidden):
            widget.authorize(route(method, path), DEMO_USER)
