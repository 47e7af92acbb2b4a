"""API Gateway's TOKEN authorizer: identity check, in-process invocation, policy evaluation, result cache."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from devkit.local.events import token_authorizer_event
from devkit.local.runtime import LoadedFunction
from devkit.template import AuthorizerDef

logger = logging.getLogger(__name__)

Effect = Literal["Allow", "Deny"]

_EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"
_NOT_ALLOWED = "User is not authorized to access this resource"
_INVOKE_ACTION = "execute-api:Invoke"


class PolicyError(Exception):
    """The authorizer's result or policy document is malformed."""


@dataclass(frozen=True)
class AuthorizerResult:
    """A validated authorizer answer, as API Gateway caches it per token."""

    principal_id: str
    statements: tuple[Mapping[str, Any], ...]
    context: Mapping[str, str]
    usage_identifier_key: str | None


@dataclass(frozen=True)
class AuthDecision:
    """Allowed when response_type is None; otherwise the gateway response to answer with."""

    response_type: str | None
    message: str | None = None
    authorizer_context: Mapping[str, Any] | None = None
    usage_identifier_key: str | None = None

    @property
    def allowed(self) -> bool:
        return self.response_type is None


class TokenAuthorizer:
    """Runs a TOKEN authorizer for a request and caches its result per token for ReauthorizeEvery seconds."""

    def __init__(
        self,
        definition: AuthorizerDef,
        function: LoadedFunction,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.definition = definition
        self._function = function
        self._clock = clock
        self._pattern = (
            re.compile(definition.validation_expression) if definition.validation_expression else None
        )
        self._cache: dict[str, tuple[float, AuthorizerResult]] = {}
        self._lock = threading.Lock()

    def authorize(self, headers: Sequence[tuple[str, str]], arn: str, request_id: str) -> AuthDecision:
        token = _last_header(headers, self.definition.header)
        if not token or (self._pattern is not None and not self._pattern.fullmatch(token)):
            return AuthDecision("UNAUTHORIZED")

        started = self._clock()
        result = self._cached(token)
        if result is None:
            outcome = self._invoke(token, arn, request_id)
            if isinstance(outcome, AuthDecision):
                return outcome
            result = outcome
            self._store(token, result)

        return _decide(result, arn, latency_ms=int((self._clock() - started) * 1000))

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def _invoke(self, token: str, arn: str, request_id: str) -> AuthorizerResult | AuthDecision:
        try:
            raw = self._function.invoke(token_authorizer_event(token, arn), request_id)
        except Exception as error:
            if str(error) == "Unauthorized":
                return AuthDecision("UNAUTHORIZED")
            logger.exception("authorizer failed function=%s", self._function.name)
            return AuthDecision("AUTHORIZER_FAILURE")

        try:
            return parse_result(raw)
        except PolicyError as error:
            logger.error("authorizer result malformed function=%s reason=%s", self._function.name, error)
            return AuthDecision("AUTHORIZER_FAILURE")

    def _cached(self, token: str) -> AuthorizerResult | None:
        with self._lock:
            entry = self._cache.get(token)
            if entry is None or entry[0] <= self._clock():
                return None
            return entry[1]

    def _store(self, token: str, result: AuthorizerResult) -> None:
        ttl = self.definition.reauthorize_every
        if ttl <= 0:
            return
        with self._lock:
            now = self._clock()
            self._cache = {key: entry for key, entry in self._cache.items() if entry[0] > now}
            self._cache[token] = (now + ttl, result)


def _decide(result: AuthorizerResult, arn: str, latency_ms: int) -> AuthDecision:
    effect = policy_effect(result.statements, arn)
    if effect != "Allow":
        return AuthDecision("ACCESS_DENIED", _EXPLICIT_DENY if effect == "Deny" else _NOT_ALLOWED)

    context: dict[str, Any] = {**result.context, "principalId": result.principal_id}
    context["integrationLatency"] = latency_ms
    return AuthDecision(None, authorizer_context=context, usage_identifier_key=result.usage_identifier_key)


def parse_result(raw: Any) -> AuthorizerResult:
    """Validate what the authorizer returned (principalId, policyDocument, context, usageIdentifierKey)."""
    if not isinstance(raw, dict):
        raise PolicyError("result is not an object")

    principal = raw.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise PolicyError("principalId must be a non-empty string")

    usage_key = raw.get("usageIdentifierKey")
    if usage_key is not None and not isinstance(usage_key, str):
        raise PolicyError("usageIdentifierKey must be a string")

    return AuthorizerResult(
        principal, _statements(raw.get("policyDocument")), _context(raw.get("context")), usage_key
    )


def _statements(document: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(document, dict):
        raise PolicyError("policyDocument must be an object")

    statements = document.get("Statement")
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not all(isinstance(item, dict) for item in statements):
        raise PolicyError("policyDocument.Statement must be a list of objects")

    for statement in statements:
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise PolicyError("statement Effect must be Allow or Deny")
        _strings(statement, "Action")
        _strings(statement, "Resource")
    return tuple(statements)


def _context(context: Any) -> dict[str, str]:
    """API Gateway accepts only string, number and boolean values and passes them on as strings."""
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise PolicyError("context must be an object")

    values = {}
    for key, value in context.items():
        if isinstance(value, bool):
            values[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            values[key] = str(value)
        else:
            raise PolicyError(f"context value of {key} is not a string, number or boolean")
    return values


def policy_effect(statements: Sequence[Mapping[str, Any]], arn: str) -> Effect | None:
    """Deny if any matching statement denies, Allow if one allows, None when nothing matches."""
    effects = {
        statement["Effect"]
        for statement in statements
        if _any_match(_strings(statement, "Action"), _INVOKE_ACTION, ignore_case=True)
        and _any_match(_strings(statement, "Resource"), arn, ignore_case=False)
    }
    if "Deny" in effects:
        return "Deny"
    return "Allow" if "Allow" in effects else None


def is_allowed(policy_document: Mapping[str, Any], arn: str) -> bool:
    return policy_effect(_statements(policy_document), arn) == "Allow"


def _strings(statement: Mapping[str, Any], key: str) -> list[str]:
    value = statement.get(key)
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(item, str) for item in values):
        raise PolicyError(f"statement {key} must be a string or a list of strings")
    return values


def _any_match(patterns: Sequence[str], value: str, *, ignore_case: bool) -> bool:
    return any(_wildcard(pattern, ignore_case).fullmatch(value) for pattern in patterns)


def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: * is any run of characters, ? exactly one; everything else is literal."""
    translated = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(translated, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _last_header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[-1] if values else None
