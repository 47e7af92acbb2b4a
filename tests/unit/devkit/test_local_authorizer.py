"""devkit.local.authorizer: policy evaluation, result validation and the per-token cache."""

from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devkit.local.authorizer import PolicyError, TokenAuthorizer, is_allowed, parse_result, policy_effect
from devkit.local.runtime import LoadedFunction
from devkit.template import AuthorizerDef, FunctionDef

API = "arn:aws:execute-api:us-east-1:123456789012:api1"
BALANCE = f"{API}/v1/GET/credits/balance"
DEDUCT = f"{API}/v1/POST/credits/deduct"
TOKEN_HEADERS = [("Authorization", "Bearer good")]


def statement(effect: str, resource: str | list[str], action: str = "execute-api:Invoke") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


@pytest.mark.parametrize(
    ("resource", "arn", "allowed"),
    [
        (f"{API}/v1/*/*", BALANCE, True),
        (f"{API}/v1/*", DEDUCT, True),
        (f"{API}/v1/GET/*", DEDUCT, False),
        (f"{API}/v?/GET/credits/balance", BALANCE, True),
        (f"{API}/v1/GET/credits/balanc?", BALANCE, True),
        (f"{API}/v1/GET/credits/balanc", BALANCE, False),
        (f"{API}/prod/*/*", BALANCE, False),
        ("*", BALANCE, True),
        (f"{API}/v1/GET/credits/[balance]", f"{API}/v1/GET/credits/b", False),
    ],
)
def test_resource_wildcards(resource: str, arn: str, allowed: bool) -> None:
    assert is_allowed({"Statement": [statement("Allow", resource)]}, arn) is allowed


def test_deny_wins_over_allow() -> None:
    statements = [statement("Allow", f"{API}/*"), statement("Deny", f"{API}/v1/POST/*")]

    assert policy_effect(statements, BALANCE) == "Allow"
    assert policy_effect(statements, DEDUCT) == "Deny"


@pytest.mark.parametrize(
    ("action", "matches"), [("execute-api:*", True), ("*", True), ("s3:GetObject", False)]
)
def test_action_must_cover_invoke(action: str, matches: bool) -> None:
    effect = policy_effect([statement("Allow", "*", action)], BALANCE)

    assert effect == ("Allow" if matches else None)


@pytest.mark.parametrize(
    "result",
    [
        None,
        {"policyDocument": {"Statement": []}},
        {"principalId": "p", "policyDocument": "nope"},
        {
            "principalId": "p",
            "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]},
        },
        {"principalId": "p", "policyDocument": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}},
        {"principalId": "p", "policyDocument": {"Statement": []}, "context": {"nested": {"a": 1}}},
        {"principalId": "p", "policyDocument": {"Statement": []}, "usageIdentifierKey": 5},
    ],
)
def test_malformed_results_are_rejected(result: Any) -> None:
    with pytest.raises(PolicyError):
        parse_result(result)


def test_context_values_are_passed_on_as_strings() -> None:
    result = parse_result(
        {"principalId": "p", "policyDocument": {"Statement": []}, "context": {"n": 7, "b": False, "s": "x"}}
    )

    assert result.context == {"n": "7", "b": "false", "s": "x"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_authorizer(handler: Any, ttl: int, clock: Clock) -> TokenAuthorizer:
    definition = AuthorizerDef("Auth", "AuthFn", "Authorization", "^Bearer [a-z]+$", ttl, True, "TOKEN")
    function = FunctionDef("AuthFn", Path("."), "app.handler", {}, (), 3, 128, "auth", "arn:auth")
    return TokenAuthorizer(definition, LoadedFunction(function, ModuleType("fake"), handler), clock)


def allow_balance_only(calls: list[str]) -> Any:
    def handler(event: dict[str, Any], _context: Any) -> dict[str, Any]:
        calls.append(event["authorizationToken"])
        document = {"Statement": [statement("Allow", f"{API}/v1/GET/credits/balance")]}
        return {"principalId": "user:1", "policyDocument": document, "context": {"tier": "pro"}}

    return handler


def test_cached_policy_is_reused_and_evaluated_against_each_method_arn() -> None:
    calls: list[str] = []
    authorizer = make_authorizer(allow_balance_only(calls), ttl=300, clock=Clock())

    first = authorizer.authorize(TOKEN_HEADERS, BALANCE, "r1")
    second = authorizer.authorize(TOKEN_HEADERS, DEDUCT, "r2")

    assert first.allowed
    assert first.authorizer_context is not None
    assert first.authorizer_context["principalId"] == "user:1"
    assert first.authorizer_context["tier"] == "pro"
    assert second.response_type == "ACCESS_DENIED"
    assert calls == ["Bearer good"]


def test_cache_expires_after_reauthorize_every_seconds() -> None:
    calls: list[str] = []
    clock = Clock()
    authorizer = make_authorizer(allow_balance_only(calls), ttl=300, clock=clock)

    authorizer.authorize(TOKEN_HEADERS, BALANCE, "r1")
    clock.now += 301
    authorizer.authorize(TOKEN_HEADERS, BALANCE, "r2")

    assert len(calls) == 2


def test_zero_ttl_invokes_every_time() -> None:
    calls: list[str] = []
    authorizer = make_authorizer(allow_balance_only(calls), ttl=0, clock=Clock())

    for request_id in ("r1", "r2", "r3"):
        authorizer.authorize(TOKEN_HEADERS, BALANCE, request_id)

    assert len(calls) == 3


@pytest.mark.parametrize("headers", [[], [("Authorization", "")], [("Authorization", "Bearer BAD")]])
def test_missing_or_invalid_token_is_unauthorized_without_invoking(headers: list[tuple[str, str]]) -> None:
    calls: list[str] = []
    authorizer = make_authorizer(allow_balance_only(calls), ttl=300, clock=Clock())

    decision = authorizer.authorize(headers, BALANCE, "r1")

    assert decision.response_type == "UNAUTHORIZED"
    assert calls == []


def test_unauthorized_exception_is_401_and_other_errors_are_authorizer_failures() -> None:
    def unauthorized(_event: dict[str, Any], _context: Any) -> None:
        raise Exception("Unauthorized")  # the message API Gateway looks for

    def broken(_event: dict[str, Any], _context: Any) -> None:
        raise RuntimeError("bug")

    assert make_authorizer(unauthorized, 300, Clock()).authorize(
        TOKEN_HEADERS, BALANCE, "r"
    ).response_type == ("UNAUTHORIZED")
    assert make_authorizer(broken, 300, Clock()).authorize(TOKEN_HEADERS, BALANCE, "r").response_type == (
        "AUTHORIZER_FAILURE"
    )
