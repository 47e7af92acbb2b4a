"""HTTP plumbing for handlers: the request read from an API Gateway proxy event, the response, and
`endpoint`, the decorator that turns every outcome into a proxy result with the error envelope.
"""

import base64
import binascii
import functools
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any, NamedTuple

import pydantic_core

from craiverse import idempotency, ratelimit
from craiverse.auth import Principal
from craiverse.config import settings
from craiverse.errors import (
    ApiError,
    PayloadTooLarge,
    ServerError,
    UnsupportedMediaType,
    ValidationError,
)
from craiverse.log import logger
from craiverse.models import Model
from craiverse.routes import Route, route

ProxyEvent = dict[str, Any]
ProxyResult = dict[str, Any]
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_IDEMPOTENCY_KEY = 255
EXPOSED_HEADERS = ", ".join(
    [
        "X-Request-Id",
        REPLAYED_HEADER,
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "Retry-After",
    ]
)


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers

    @classmethod
    def ok(cls, body: dict[str, Any], *, status: int = 200, replayed: bool = False) -> "Response":
        return cls(status, body, {REPLAYED_HEADER: "true"} if replayed else {})

    def to_proxy(self, request_id: str) -> ProxyResult:
        headers = {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "X-Request-Id": request_id,
            "Access-Control-Allow-Origin": settings().cors_allow_origin,
            "Access-Control-Expose-Headers": EXPOSED_HEADERS,
            **self.headers,
        }
        return {
            "statusCode": self.status,
            "headers": headers,
            "body": json.dumps(self.body, separators=(",", ":")),
            "isBase64Encoded": False,
        }


class Request(NamedTuple):
    route: Route
    event: ProxyEvent
    principal: Principal

    @property
    def request_id(self) -> str:
        return request_id_of(self.event)

    def header(self, name: str) -> str | None:
        values = _multi(self.event, "multiValueHeaders", "headers", lowercase=True).get(name.lower())
        return values[-1] if values else None

    def query[M: Model](self, model: type[M]) -> M:
        """Validates the query string against `model`: unknown, repeated or empty parameters are errors."""
        params = _multi(self.event, "multiValueQueryStringParameters", "queryStringParameters")
        problems = []
        single: dict[str, str] = {}
        for name, values in params.items():
            if len(values) > 1:
                problems.append(_field(name, "Give this parameter once", "repeated"))
            elif values[0] == "":
                problems.append(_field(name, "Must not be empty", "empty"))
            else:
                single[name] = values[0]
        if problems:
            raise ValidationError(details={"fields": problems})
        return validate(model, single)

    def json[M: Model](self, model: type[M]) -> M:
        """Validates a JSON object body against `model`; such routes take no query parameters."""
        unexpected = _multi(self.event, "multiValueQueryStringParameters", "queryStringParameters")
        if unexpected:
            fields = [
                _field(name, "This route takes its input in the JSON body", "extra_forbidden")
                for name in unexpected
            ]
            raise ValidationError(details={"fields": fields})
        raw = self._raw_body()
        if len(raw) > settings().max_body_bytes:
            raise PayloadTooLarge(details={"max_bytes": settings().max_body_bytes})
        content_type = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise UnsupportedMediaType(details={"content_type": content_type or None})
        return validate(model, _parse_json(raw))

    def idempotency_key(self) -> str | None:
        values = _multi(self.event, "multiValueHeaders", "headers", lowercase=True).get("idempotency-key")
        if not values:
            return None
        if len(values) > 1:
            raise ValidationError.for_field("Idempotency-Key", "Give this header once", "header")
        value = values[0]
        if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY or not value.isprintable():
            raise ValidationError.for_field(
                "Idempotency-Key", f"Must be 1 to {MAX_IDEMPOTENCY_KEY} printable characters", "header"
            )
        return value

    def idempotency_claim(self, body: Model) -> idempotency.Claim | None:
        """The caller's Idempotency-Key for this route and validated body, if it sent one."""
        key = self.idempotency_key()
        if key is None:
            return None
        return idempotency.Claim.of(self.principal.ref, key, self.route.name, body.dump())

    def _raw_body(self) -> bytes:
        body = self.event.get("body") or ""
        if not self.event.get("isBase64Encoded"):
            return body.encode("utf-8", "surrogatepass")
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as err:
            raise ValidationError("Body is not valid base64") from err


def validate[M: Model](model: type[M], data: Any) -> M:
    try:
        return model.validate(data)
    except pydantic_core.ValidationError as err:
        raise ValidationError(details={"fields": [_schema_field(e) for e in err.errors()]}) from err


def _schema_field(error: Any) -> dict[str, str]:
    """One pydantic_core error as a field of the envelope; an error of the whole object names `body`."""
    location = ".".join(str(part) for part in error["loc"]) or "body"
    return _field(location, error["msg"], error["type"])


def _field(name: str, message: str, kind: str) -> dict[str, str]:
    return {"field": name, "message": message, "type": kind}


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise ValidationError("Request body is required", {"fields": [_field("body", "Required", "missing")]})
    try:
        text = raw.decode("utf-8")  # JSON on the wire is UTF-8 (RFC 8259); no guessing at UTF-16
        if text.startswith("\ufeff"):
            raise _NotJson("the body starts with a byte order mark, which JSON text must not")
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_reject_duplicates)
    except UnicodeDecodeError as err:
        raise ValidationError("Malformed JSON body", {"reason": "the body is not UTF-8 text"}) from err
    except RecursionError as err:
        raise ValidationError("Malformed JSON body", {"reason": "the body is nested too deeply"}) from err
    except ValueError as err:
        raise ValidationError("Malformed JSON body", {"reason": _json_reason(err)}) from err
    if not isinstance(data, dict):
        raise ValidationError(
            "JSON body must be an object", {"fields": [_field("body", "Expected an object", "type")]}
        )
    return data


def _json_reason(err: ValueError) -> str:
    """What is wrong with a body, in our words: never Python's own message."""
    if isinstance(err, json.JSONDecodeError):
        return f"{err.msg} at line {err.lineno} column {err.colno}"
    if isinstance(err, _NotJson):
        return str(err)
    return "a number in the body is too long"


class _NotJson(ValueError):
    """Text that Python's parser accepts but JSON does not (NaN, Infinity, repeated keys)."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not valid JSON")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        repeated = next(key for key, count in Counter(key for key, _ in pairs).items() if count > 1)
        raise _NotJson(f"the key {json.dumps(repeated)} appears more than once in an object")
    return data


def _multi(
    event: ProxyEvent, multi_name: str, single_name: str, *, lowercase: bool = False
) -> dict[str, list[str]]:
    """API Gateway gives both single- and multi-value maps; the multi-value one is authoritative."""
    source = event.get(multi_name) or {
        name: [value] for name, value in (event.get(single_name) or {}).items()
    }
    merged: dict[str, list[str]] = {}
    for name, values in source.items():
        merged.setdefault(name.lower() if lowercase else name, []).extend(values or [])
    return merged


def request_id_of(event: ProxyEvent) -> str:
    context = event.get("requestContext") or {}
    return str(context.get("requestId") or uuid.uuid4())


Handler = Callable[[Request], Response]
LambdaHandler = Callable[[ProxyEvent, Any], ProxyResult]


def endpoint(method: str, path: str) -> Callable[[Handler], LambdaHandler]:
    """Wraps a handler: reads the principal, runs it, and answers errors in the contract's envelope."""
    spec = route(method, path)

    def decorate(handler: Handler) -> LambdaHandler:
        @functools.wraps(handler)
        def lambda_handler(event: ProxyEvent, _context: Any) -> ProxyResult:
            started = time.perf_counter()
            request_id = request_id_of(event)
            logger.thread_safe_append_keys(request_id=request_id, route=spec.name)
            try:
                response = _run(handler, spec, event)
                _log_completed(response.status, started)
                return response.to_proxy(request_id)
            finally:
                logger.thread_safe_remove_keys(["request_id", "route", "key_id"])

        return lambda_handler

    return decorate


def _run(handler: Handler, spec: Route, event: ProxyEvent) -> Response:
    """Runs the handler once the caller is known and within its hourly limit; every answer, errors
    included, carries the caller's rate-limit headers."""
    quota = None
    try:
        principal = Principal.from_authorizer((event.get("requestContext") or {}).get("authorizer"))
        logger.thread_safe_append_keys(key_id=principal.key_id)
        if spec.category in ratelimit.COUNTED:
            quota = ratelimit.consume(principal.key_id, spec.category, principal.limits[spec.category])
        response = handler(Request(spec, event, principal))
    except ApiError as err:
        response = Response(err.status, err.body(), dict(err.headers))
    except Exception:  # noqa: BLE001 - the last line of defence: log it, answer 500, never leak it
        logger.exception("unhandled error")
        response = Response(ServerError.status, ServerError().body())
    if quota is not None:
        response.headers.update(quota.headers())
    return response


def _log_completed(status: int, started: float) -> None:
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    logger.info("request completed", extra={"status": status, "duration_ms": elapsed_ms})
