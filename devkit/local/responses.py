"""HTTP answers the way API Gateway produces them: gateway responses, CORS preflight, Lambda proxy results."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devkit.template import CorsConfig, GatewayResponseDef

# API Gateway's own status code and message per gateway response type.
GATEWAY_DEFAULTS: Mapping[str, tuple[int, str | None]] = {
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "API_CONFIGURATION_ERROR": (500, "Internal server error"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None),
    "AUTHORIZER_FAILURE": (500, None),
    "BAD_REQUEST_BODY": (400, "Invalid request body"),
    "BAD_REQUEST_PARAMETERS": (400, "Missing required request parameters"),
    "DEFAULT_4XX": (400, "Bad Request"),
    "DEFAULT_5XX": (500, "Internal server error"),
    "EXPIRED_TOKEN": (403, "The security token included in the request is expired"),
    "INTEGRATION_FAILURE": (504, "Internal server error"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "INVALID_API_KEY": (403, "Forbidden"),
    "INVALID_SIGNATURE": (
        403,
        "The request signature we calculated does not match the signature you provided",
    ),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "QUOTA_EXCEEDED": (429, "Limit Exceeded"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long"),
    "RESOURCE_NOT_FOUND": (404, "Resource not found"),
    "THROTTLED": (429, "Too Many Requests"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "WAF_FILTERED": (403, "Forbidden"),
}

_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_CONTEXT_VARIABLE = re.compile(r"\$\{context\.([A-Za-z.]+)\}|\$context\.([A-Za-z]+(?:\.[A-Za-z]+)*)")
_PROXY_KEYS = frozenset({"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"})
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers the HTTP server owns; a Lambda cannot set them.
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class MalformedProxyResult(Exception):
    """The handler's result is not a valid Lambda proxy response."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""


# A gateway-response header mapped from the request id (`context.requestId` in the template).
REQUEST_ID = "$context.requestId"


class GatewayResponses:
    """Renders API Gateway's own answers with the template's gateway responses."""

    def __init__(self, definitions: Mapping[str, GatewayResponseDef]) -> None:
        self._definitions = definitions

    def render(
        self, response_type: str, request_id: str, *, status: int | None = None, message: str | None = None
    ) -> HttpResponse:
        """The answer for response_type; status and message default to API Gateway's own."""
        default_status, default_message = GATEWAY_DEFAULTS.get(response_type, (500, "Internal server error"))
        status = status or default_status
        message = message if message is not None else default_message

        definition = self._definitions.get(response_type) or self._definitions.get(_fallback(status))
        if definition is not None and definition.status_code is not None:
            status = definition.status_code

        template = (
            definition.template if definition and definition.template is not None else _DEFAULT_TEMPLATE
        )
        body = _render_template(template, message, response_type, request_id)
        headers = [
            *((name, request_id if value == REQUEST_ID else value) for name, value in _headers(definition)),
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", _error_type(response_type)),
        ]
        return HttpResponse(status, headers, body.encode("utf-8"))


def _headers(definition: GatewayResponseDef | None) -> list[tuple[str, str]]:
    return list(definition.headers.items()) if definition else []


def _fallback(status: int) -> str:
    return "DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX"


def _render_template(template: str, message: str | None, response_type: str, request_id: str) -> str:
    values = {
        "error.messageString": json.dumps(message),
        "error.message": "" if message is None else message,
        "error.responseType": response_type,
        "requestId": request_id,
    }
    return _CONTEXT_VARIABLE.sub(lambda match: values.get(match.group(1) or match.group(2), ""), template)


def _error_type(response_type: str) -> str:
    words = response_type.lower().split("_")
    return "".join(word.capitalize() for word in words) + "Exception"


def preflight(cors: CorsConfig, methods: str, request_id: str) -> HttpResponse:
    """The 200 answer of SAM's generated OPTIONS method (a mock integration)."""
    headers = [("Access-Control-Allow-Origin", cors.allow_origin)]
    headers.append(("Access-Control-Allow-Methods", cors.allow_methods or methods))
    if cors.allow_headers is not None:
        headers.append(("Access-Control-Allow-Headers", cors.allow_headers))
    if cors.max_age is not None:
        headers.append(("Access-Control-Max-Age", cors.max_age))
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))

    headers += [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(200, headers)


def proxy_response(result: Any, request_id: str) -> HttpResponse:
    """Translate a Lambda proxy result into the HTTP answer; MalformedProxyResult when it is invalid."""
    if not isinstance(result, dict) or not set(result) <= _PROXY_KEYS:
        raise MalformedProxyResult("result must be an object with proxy response keys only")

    headers = _merged_headers(result.get("headers"), result.get("multiValueHeaders"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))

    return HttpResponse(_status(result.get("statusCode")), headers, _body(result))


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedProxyResult("statusCode must be an integer")
    try:
        status = int(value)
    except ValueError as error:
        raise MalformedProxyResult("statusCode must be an integer") from error
    if not 100 <= status <= 599:
        raise MalformedProxyResult("statusCode out of range")
    return status


def _body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResult("body must be a string")

    encoded = result.get("isBase64Encoded", False)
    if not isinstance(encoded, bool):
        raise MalformedProxyResult("isBase64Encoded must be a boolean")
    if not encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise MalformedProxyResult("body is not valid base64") from error


def _merged_headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    """API Gateway merges both maps; a name present in multiValueHeaders keeps only those values."""
    if not isinstance(single, dict | None) or not isinstance(multi, dict | None):
        raise MalformedProxyResult("headers and multiValueHeaders must be objects")

    merged: list[tuple[str, str]] = []
    for name, values in (multi or {}).items():
        if not isinstance(values, list):
            raise MalformedProxyResult("multiValueHeaders values must be lists")
        merged += [_header(name, value) for value in values]

    taken = {name.lower() for name in (multi or {})}
    merged += [_header(name, value) for name, value in (single or {}).items() if name.lower() not in taken]
    return [(name, value) for name, value in merged if name.lower() not in _SERVER_HEADERS]


def _header(name: str, value: Any) -> tuple[str, str]:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        raise MalformedProxyResult("header values must be scalars")

    if not _HEADER_NAME.fullmatch(name) or "\r" in text or "\n" in text:
        raise MalformedProxyResult("invalid header name or value")
    return name, text
