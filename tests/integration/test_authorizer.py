"""The TOKEN authorizer against stored keys: whole-API policy, scalar context, tier usage key, 401s."""

from typing import Any

import pytest

from craiverse import apikeys, clock
from craiverse.apikeys import KeyKind, PrincipalType
from tests.conftest import DEMO_USER, load_event, load_function

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:localapi01/v1/GET/credits/balance"


def authorize(token: str) -> dict[str, Any]:
    event = load_event("authorizer")
    event["authorizationToken"] = token
    result: dict[str, Any] = load_function("authorizer").handler(event, None)
    return result


@pytest.fixture
def user_key(accounts: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("USAGE_KEY_PRO", "craiverse-dev-tier-pro-123456789012")
    secret, _ = apikeys.create(
        principal_type=PrincipalType.USER,
        principal_id=DEMO_USER,
        tier="pro",
        name="test",
        created_at=clock.iso(clock.now()),
    )
    return secret


def test_a_valid_key_is_allowed_on_the_whole_api_with_a_scalar_context(user_key: str) -> None:
    result = authorize(f"Bearer {user_key}")

    assert result["principalId"] == f"user:{DEMO_USER}"
    (statement,) = result["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:localapi01/v1/*/*"
    context = result["context"]
    assert context["principal_type"] == "user"
    assert context["principal_id"] == DEMO_USER
    assert context["key_kind"] == "secret"
    assert context["scopes"] == (
        "credits:read credits:write profile:read profile:write dashboard:read tickets:read tickets:write"
    )
    assert context["key_id"] == apikeys.key_id_for(apikeys.hash_key(user_key))
    assert (context["limit_read"], context["limit_write"], context["limit_ai"]) == (5000, 500, 300)
    assert all(isinstance(value, str | int | bool) for value in context.values())
    assert result["usageIdentifierKey"] == "craiverse-dev-tier-pro-123456789012"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer crv_sk_short",
        "Bearer " + apikeys.generate(KeyKind.SECRET),
    ],
)
def test_malformed_or_unknown_keys_are_unauthorized(user_key: str, token: str) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token)


def test_a_revoked_key_is_unauthorized(user_key: str) -> None:
    key_id = apikeys.key_id_for(apikeys.hash_key(user_key))

    apikeys.revoke(key_id, clock.iso(clock.now()))

    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(f"Bearer {user_key}")


def test_only_the_hash_of_a_key_is_stored(user_key: str) -> None:
    (stored,) = apikeys.list_keys()

    assert user_key not in repr(stored)
    assert stored.key_hash == apikeys.hash_key(user_key)
    assert "key_hash" not in stored.public_view()


def test_a_keys_limit_override_reaches_the_context(user_key: str) -> None:
    apikeys.set_rate_limits(apikeys.key_id_for(apikeys.hash_key(user_key)), {"write": 3})

    context = authorize(f"Bearer {user_key}")["context"]

    assert (context["limit_read"], context["limit_write"], context["limit_ai"]) == (5000, 3, 300)
