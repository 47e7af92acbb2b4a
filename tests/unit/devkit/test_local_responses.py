"""devkit.local.responses: gateway responses and Lambda proxy results become HTTP answers."""

import base64
import json
from typing import Any

import pytest

from devkit.local.responses import GatewayResponses, MalformedProxyResult, proxy_response
from devkit.template import GatewayResponseDef

ENVELOPE_4XX = '{"error": $context.error.messageString, "code": "BAD_REQUEST", "details": {}}'
CORS = {"Access-Control-Allow-Origin": "*"}


def responses() -> GatewayResponses:
    return GatewayResponses(
        {
            "UNAUTHORIZED": GatewayResponseDef(
                "UNAUTHORIZED", 401, {**CORS, "WWW-Authenticate": "Bearer"}, "{}"
            ),
            "DEFAULT_4XX": GatewayResponseDef("DEFAULT_4XX", None, CORS, ENVELOPE_4XX),
            "DEFAULT_5XX": GatewayResponseDef("DEFAULT_5XX", None, CORS, '{"raw": "$context.error.message"}'),
        }
    )


def test_a_defined_response_uses_its_status_headers_and_template() -> None:
    response = responses().render("UNAUTHORIZED", "req-1")

    assert response.status == 401
    assert ("WWW-Authenticate", "Bearer") in response.headers
    assert ("x-amzn-RequestId", "req-1") in response.headers
    assert response.body == b"{}"


def test_undefined_4xx_types_fall_back_to_default_4xx_and_keep_their_status() -> None:
    response = responses().render("REQUEST_TOO_LARGE", "req-1")

    assert response.status == 413
    assert json.loads(response.body) == {"error": "Request Too Long", "code": "BAD_REQUEST", "details": {}}
    assert ("Access-Control-Allow-Origin", "*") in response.headers


def test_message_string_is_json_quoted() -> None:
    response = responses().render("ACCESS_DENIED", "req-1", message='say "no"')

    assert json.loads(response.body)["error"] == 'say "no"'


def test_braced_context_variables_are_rendered() -> None:
    definitions = {
        "THROTTLED": GatewayResponseDef("THROTTLED", None, {}, '{"m": "${context.error.message}"}')
    }

    response = GatewayResponses(definitions).render("THROTTLED", "req-1")

    assert json.loads(response.body) == {"m": "Too Many Requests"}


def test_undefined_5xx_types_fall_back_to_default_5xx_with_the_raw_message() -> None:
    response = responses().render("DEFAULT_5XX", "req-1", status=502)

    assert response.status == 502
    assert json.loads(response.body) == {"raw": "Internal server error"}


def test_without_definitions_api_gateway_defaults_apply() -> None:
    response = GatewayResponses({}).render("MISSING_AUTHENTICATION_TOKEN", "req-1")

    assert response.status == 403
    assert json.loads(response.body) == {"message": "Missing Authentication Token"}
    assert json.loads(GatewayResponses({}).render("AUTHORIZER_FAILURE", "r").body) == {"message": None}


def test_proxy_result_headers_are_merged_multi_value_first() -> None:
    result = {
        "statusCode": 201,
        "headers": {"X-One": "1", "Set-Cookie": "ignored", "Content-Length": "999"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": "{}",
    }

    response = proxy_response(result, "req-1")

    assert response.status == 201
    assert [value for name, value in response.headers if name == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("X-One", "1") in response.headers
    assert ("Content-Type", "application/json") in response.headers
    assert ("x-amzn-RequestId", "req-1") in response.headers
    assert not any(name == "Content-Length" for name, _ in response.headers)


def test_base64_bodies_are_decoded() -> None:
    result = {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True}

    assert proxy_response(result, "req-1").body == b"\x00\xff"


@pytest.mark.parametrize(
    "result",
    [
        None,
        "text",
        {"body": "x"},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "text"}},
        {"statusCode": 200, "unexpected": 1},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        {"statusCode": 200, "headers": {"X": "a\r\nInjected: 1"}},
        {"statusCode": 200, "headers": {"Bad Name": "x"}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not-a-list"}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
    ],
)
def test_malformed_proxy_results_are_rejected(result: Any) -> None:
    with pytest.raises(MalformedProxyResult):
        proxy_response(result, "req-1")
