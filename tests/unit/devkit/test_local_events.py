"""devkit.local.events: proxy, authorizer and SQS events and the context object look like AWS's."""

import base64
import uuid
from pathlib import Path

from devkit.local.events import (
    ProxyRequest,
    lambda_context,
    method_arn,
    proxy_event,
    sqs_event,
    token_authorizer_event,
)
from devkit.template import FunctionDef


def make_request(**overrides: object) -> ProxyRequest:
    values: dict[str, object] = {
        "method": "GET",
        "path": "/items/42",
        "resource": "/items/{id}",
        "headers": [("Host", "127.0.0.1:3000"), ("User-Agent", "tests")],
        "path_parameters": {"id": "42"},
    }
    values.update(overrides)
    return ProxyRequest(**values)  # type: ignore[arg-type]


def test_repeated_query_parameters_keep_every_value_in_the_multi_value_map() -> None:
    event = proxy_event(make_request(query="a=1&a=2&b=x%20y&empty="))

    assert event["queryStringParameters"] == {"a": "2", "b": "x y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"], "empty": [""]}


def test_absent_query_and_path_parameters_are_none() -> None:
    event = proxy_event(make_request(path_parameters=None))

    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["stageVariables"] is None


def test_repeated_headers_keep_the_last_value_in_the_single_map() -> None:
    headers = [("Host", "h"), ("X-Multi", "one"), ("X-Multi", "two")]

    event = proxy_event(make_request(headers=headers))

    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"


def test_utf8_body_is_text_and_empty_body_is_none() -> None:
    assert proxy_event(make_request(body="héllo".encode()))["body"] == "héllo"
    assert proxy_event(make_request(body="héllo".encode()))["isBase64Encoded"] is False
    assert proxy_event(make_request(body=b""))["body"] is None


def test_non_utf8_body_is_base64_encoded() -> None:
    event = proxy_event(make_request(body=b"\xff\xfe\x00"))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe\x00"


def test_request_context_carries_the_stage_prefix_and_the_authorizer() -> None:
    request = make_request(authorizer={"principalId": "user:1", "scopes": "a b"}, api_key="tier-key")

    event = proxy_event(request)
    context = event["requestContext"]

    assert event["path"] == "/items/42"
    assert event["resource"] == "/items/{id}"
    assert context["path"] == "/v1/items/42"
    assert context["resourcePath"] == "/items/{id}"
    assert context["stage"] == "v1"
    assert context["requestId"] == request.request_id
    uuid.UUID(context["requestId"])
    assert isinstance(context["requestTimeEpoch"], int)
    assert context["authorizer"] == {"principalId": "user:1", "scopes": "a b"}
    assert context["identity"]["apiKey"] == "tier-key"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "tests"
    assert context["domainName"] == "127.0.0.1:3000"


def test_routes_without_authorizer_have_no_authorizer_context() -> None:
    assert "authorizer" not in proxy_event(make_request())["requestContext"]


def test_method_arn_and_token_event() -> None:
    arn = method_arn("abc123", "v1", "POST", "/credits/add")

    assert arn == "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/POST/credits/add"
    assert token_authorizer_event("Bearer x", arn) == {
        "type": "TOKEN",
        "authorizationToken": "Bearer x",
        "methodArn": arn,
    }


def test_sqs_event_records_look_like_lambdas() -> None:
    message = {
        "MessageId": "m-1",
        "ReceiptHandle": "r-1",
        "Body": "hello",
        "MD5OfBody": "md5",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MessageAttributes": {
            "kind": {"StringValue": "email", "DataType": "String"},
            "blob": {"BinaryValue": b"\x00\x01", "DataType": "Binary"},
        },
    }

    (record,) = sqs_event([message], "arn:aws:sqs:us-east-1:123456789012:q")["Records"]

    assert record["messageId"] == "m-1"
    assert record["receiptHandle"] == "r-1"
    assert record["body"] == "hello"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "email"
    assert record["messageAttributes"]["blob"]["binaryValue"] == "AAE="


def test_lambda_context_counts_down_from_the_function_timeout() -> None:
    function = FunctionDef(
        logical_id="Fn",
        code_uri=Path("functions/fn"),
        handler="app.handler",
        environment={},
        layers=(),
        timeout=3,
        memory_size=256,
        function_name="craiverse-local-Fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:craiverse-local-Fn",
    )

    context = lambda_context(function, "req-1")

    assert context.aws_request_id == "req-1"
    assert context.function_name == "craiverse-local-Fn"
    assert context.invoked_function_arn.endswith(":function:craiverse-local-Fn")
    assert context.memory_limit_in_mb == "256"
    assert context.log_group_name == "/aws/lambda/craiverse-local-Fn"
    assert 2000 < context.get_remaining_time_in_millis() <= 3000
