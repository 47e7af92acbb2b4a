"""Lambda events and context objects shaped like the ones AWS delivers.

API Gateway REST (payload v1) proxy events, TOKEN authorizer events, SQS batches and the context object.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from devkit.template import ACCOUNT_ID, LOCAL_API_ID, REGION, FunctionDef

_IDENTITY_FIELDS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "principalOrgId",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
    "clientCert",
)


@dataclass(frozen=True)
class ProxyRequest:
    """An HTTP request matched to a route, ready to become a proxy event."""

    method: str
    path: str
    resource: str
    headers: Sequence[tuple[str, str]] = ()
    query: str = ""
    body: bytes = b""
    path_parameters: Mapping[str, str] | None = None
    stage: str = "v1"
    api_id: str = LOCAL_API_ID
    source_ip: str = "127.0.0.1"
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    authorizer: Mapping[str, Any] | None = None
    api_key: str | None = None
    api_key_id: str | None = None


def proxy_event(request: ProxyRequest) -> dict[str, Any]:
    """The Lambda proxy integration event API Gateway (REST, v1 payload) sends for request."""
    headers = _with_forwarding_headers(request)
    query = parse_qsl(request.query, keep_blank_values=True)
    body, is_base64 = encode_body(request.body)
    return {
        "resource": request.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": _last_values(headers),
        "multiValueHeaders": _multi_values(headers),
        "queryStringParameters": _last_values(query),
        "multiValueQueryStringParameters": _multi_values(query),
        "pathParameters": dict(request.path_parameters) if request.path_parameters else None,
        "stageVariables": None,
        "requestContext": _request_context(request, _header(headers, "Host"), _header(headers, "User-Agent")),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def encode_body(body: bytes) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): text when it is UTF-8, base64 otherwise, None when empty."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), True


def method_arn(api_id: str, stage: str, method: str, path: str) -> str:
    """arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path without leading slash>."""
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/{stage}/{method}/{path.lstrip('/')}"


def token_authorizer_event(token: str, arn: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": token, "methodArn": arn}


def _request_context(request: ProxyRequest, host: str | None, user_agent: str | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    domain_name = host or f"{request.api_id}.execute-api.{REGION}.amazonaws.com"
    context: dict[str, Any] = {
        "resourceId": "local0",
        "resourcePath": request.resource,
        "httpMethod": request.method,
        "extendedRequestId": base64.b64encode(secrets.token_bytes(12)).decode("ascii"),
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "path": f"/{request.stage}{request.path}",
        "accountId": ACCOUNT_ID,
        "protocol": "HTTP/1.1",
        "stage": request.stage,
        "domainPrefix": domain_name.split(".")[0],
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "requestId": request.request_id,
        "identity": _identity(request, user_agent),
        "domainName": domain_name,
        "deploymentId": "localdeploy",
        "apiId": request.api_id,
    }
    if request.authorizer is not None:
        context["authorizer"] = dict(request.authorizer)
    return context


def _identity(request: ProxyRequest, user_agent: str | None) -> dict[str, Any]:
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_FIELDS)
    identity.update(
        sourceIp=request.source_ip,
        userAgent=user_agent,
        apiKey=request.api_key,
        apiKeyId=request.api_key_id,
    )
    return identity


def _with_forwarding_headers(request: ProxyRequest) -> list[tuple[str, str]]:
    """API Gateway adds the client address and a trace id to the headers it forwards."""
    headers = [(name, value) for name, value in request.headers if name.lower() != "x-forwarded-for"]
    forwarded = _header(request.headers, "X-Forwarded-For")
    headers.append(
        ("X-Forwarded-For", f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip)
    )

    if _header(headers, "X-Amzn-Trace-Id") is None:
        headers.append(("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"))
    return headers


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in headers if key.lower() == name.lower()]
    return values[-1] if values else None


def _last_values(pairs: Sequence[tuple[str, str]]) -> dict[str, str] | None:
    return dict(pairs) if pairs else None


def _multi_values(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]] | None:
    if not pairs:
        return None
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


# ---------------------------------------------------------------------------------------------- context


@dataclass
class LambdaContext:
    """The attributes and method of the Python runtime's context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def lambda_context(function: FunctionDef, request_id: str | None = None) -> LambdaContext:
    """A context for one invocation of function; its deadline is the function's Timeout from now."""
    # The runtime reads the memory size from AWS_LAMBDA_FUNCTION_MEMORY_SIZE, so it is a string.
    today = datetime.now(UTC).strftime("%Y/%m/%d")
    return LambdaContext(
        function_name=function.function_name,
        function_version="$LATEST",
        invoked_function_arn=function.arn,
        memory_limit_in_mb=str(function.memory_size),
        aws_request_id=request_id or str(uuid.uuid4()),
        log_group_name=f"/aws/lambda/{function.function_name}",
        log_stream_name=f"{today}/[$LATEST]{secrets.token_hex(16)}",
        deadline_ms=int(time.time() * 1000) + function.timeout * 1000,
    )


# ---------------------------------------------------------------------------------------------- sqs


def sqs_event(messages: Sequence[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda's SQS poller sends for messages as returned by ReceiveMessage."""
    return {"Records": [_sqs_record(message, queue_arn) for message in messages]}


def _sqs_record(message: Mapping[str, Any], queue_arn: str) -> dict[str, Any]:
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues") or []),
        "binaryListValues": [_b64(item) for item in value.get("BinaryListValues") or []],
        "dataType": value.get("DataType"),
    }
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = _b64(value["BinaryValue"])
    return attribute


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode("ascii")
