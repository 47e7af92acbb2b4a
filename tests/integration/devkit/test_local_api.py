"""The local runner end to end over HTTP on loopback, with the tiny fixture template and its handlers."""

import base64
import http.client
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from devkit.local import LocalApi, start_local_api
from devkit.local.gateway import MAX_BODY_BYTES

FIXTURE_TEMPLATE = Path(__file__).resolve().parents[2] / "fixtures" / "template_min.yaml"
ALLOW = ("Authorization", "Bearer allow")
NOT_FOUND = {"error": "Route not found", "code": "NOT_FOUND", "details": {}}
UNAUTHORIZED = {"error": "Invalid or missing API key", "code": "UNAUTHORIZED", "details": {}}
SERVER_ERROR = {"error": "Internal server error", "code": "SERVER_ERROR", "details": {}}
ORIGIN = "https://app.example"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers_named(name)
        return values[-1] if values else None

    def headers_named(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)


@pytest.fixture(scope="module")
def api() -> Iterator[LocalApi]:
    local = start_local_api(FIXTURE_TEMPLATE)
    yield local
    local.stop()


@pytest.fixture
def authorizer_calls(api: LocalApi) -> list[str]:
    api.gateway.authorizers["TokenAuth"].clear_cache()
    calls: list[str] = api.functions["AuthorizerFunction"].module.CALLS
    calls.clear()
    return calls


def call(
    api: LocalApi, method: str, path: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
) -> Answer:
    address = urlsplit(api.url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        framed = any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers)
        if not framed and (body or method in ("POST", "PUT", "PATCH")):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def test_unknown_route_answers_the_not_found_envelope(api: LocalApi) -> None:
    answer = call(api, "GET", "/v1/nowhere")

    assert answer.status == 404
    assert answer.json() == NOT_FOUND
    assert answer.header("Access-Control-Allow-Origin") == ORIGIN
    assert answer.header("x-amzn-RequestId")


def test_unknown_method_on_a_known_path_is_not_found(api: LocalApi) -> None:
    assert call(api, "DELETE", "/v1/echo/x", [ALLOW]).status == 404


@pytest.mark.parametrize(
    "headers",
    [[], [("Authorization", "")], [("Authorization", "Bearer UPPER")], [("Authorization", "allow")]],
)
def test_missing_or_malformed_key_is_401_without_calling_the_authorizer(
    api: LocalApi, authorizer_calls: list[str], headers: list[tuple[str, str]]
) -> None:
    answer = call(api, "GET", "/v1/echo/x", headers)

    assert answer.status == 401
    assert answer.json() == UNAUTHORIZED
    assert answer.header("WWW-Authenticate") == "Bearer"
    assert authorizer_calls == []


def test_authorizer_result_is_cached_per_token(api: LocalApi, authorizer_calls: list[str]) -> None:
    statuses = [call(api, "GET", f"/v1/echo/{name}", [ALLOW]).status for name in ("a", "b")]
    statuses.append(call(api, "POST", "/v1/echo", [ALLOW], b"{}").status)

    assert statuses == [200, 200, 200]
    assert authorizer_calls == ["allow"]


def test_a_cached_policy_is_evaluated_against_each_route(api: LocalApi, authorizer_calls: list[str]) -> None:
    allowed = call(api, "GET", "/v1/echo/a", [("Authorization", "Bearer partial")])
    denied = call(api, "POST", "/v1/echo", [("Authorization", "Bearer partial")], b"{}")

    assert allowed.status == 200
    assert denied.status == 403
    assert denied.json()["code"] == "FORBIDDEN"
    assert authorizer_calls == ["partial"]


@pytest.mark.parametrize(
    ("word", "status", "code"),
    [("deny", 403, "FORBIDDEN"), ("unauthorized", 401, "UNAUTHORIZED"), ("boom", 500, "SERVER_ERROR")],
)
def test_authorizer_outcomes_map_to_gateway_responses(
    api: LocalApi, authorizer_calls: list[str], word: str, status: int, code: str
) -> None:
    answer = call(api, "GET", "/v1/echo/a", [("Authorization", f"Bearer {word}")])

    assert (answer.status, answer.json()["code"]) == (status, code)
    assert answer.header("Access-Control-Allow-Origin") == ORIGIN


def test_context_that_is_not_flat_is_an_authorizer_failure(
    api: LocalApi, authorizer_calls: list[str]
) -> None:
    answer = call(api, "GET", "/v1/echo/a", [("Authorization", "Bearer nested")])

    assert answer.status == 500
    assert answer.json() == SERVER_ERROR


def test_a_required_api_key_missing_from_the_authorizer_result_is_403(
    api: LocalApi, authorizer_calls: list[str]
) -> None:
    answer = call(api, "GET", "/v1/echo/a", [("Authorization", "Bearer nokey")])

    assert answer.status == 403
    assert answer.json() == {"error": "Forbidden", "code": "BAD_REQUEST", "details": {}}


def test_handler_receives_a_proxy_event_and_its_environment(api: LocalApi) -> None:
    headers = [ALLOW, ("X-Multi", "one"), ("X-Multi", "two")]

    answer = call(api, "GET", "/v1/echo/b%20ob?a=1&a=2&b=3", headers)
    body = answer.json()
    event = body["event"]

    assert answer.status == 200
    assert event["resource"] == "/echo/{name}"
    assert event["pathParameters"] == {"name": "b ob"}
    assert event["queryStringParameters"] == {"a": "2", "b": "3"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["3"]}
    assert event["headers"]["X-Multi"] == "two"
    assert event["multiValueHeaders"]["X-Multi"] == ["one", "two"]
    assert event["requestContext"]["path"] == "/v1/echo/b%20ob"
    assert event["requestContext"]["authorizer"]["principalId"] == "user-1"
    assert event["requestContext"]["authorizer"]["number"] == "7"
    assert event["requestContext"]["identity"]["apiKey"] == "fixture-key-test"
    assert answer.header("x-amzn-RequestId") == event["requestContext"]["requestId"]
    assert body["greeting"] == "hello b ob"
    assert body["environment"] == {
        "TABLE_NAME": "fixture-test",
        "QUEUE_URL": api.resources.queue_url("WorkQueue"),
        "GREETING": "hello from",
        "STAGE": "test",
    }
    assert body["function_name"] == "craiverse-local-EchoFunction"


def test_response_headers_and_length_come_from_the_proxy_result(api: LocalApi) -> None:
    answer = call(api, "GET", "/v1/echo/a", [ALLOW])

    assert answer.headers_named("Set-Cookie") == ["a=1", "b=2"]
    assert answer.header("X-Single") == "one"
    assert answer.header("Content-Length") == str(len(answer.body))


def test_the_stage_prefix_is_optional(api: LocalApi) -> None:
    without = call(api, "GET", "/echo/a", [ALLOW]).json()["event"]
    with_prefix = call(api, "GET", "/v1/echo/a", [ALLOW]).json()["event"]

    assert without["resource"] == with_prefix["resource"] == "/echo/{name}"
    assert without["path"] == with_prefix["path"] == "/echo/a"


def test_a_non_utf8_body_arrives_base64_encoded(api: LocalApi) -> None:
    event = call(api, "POST", "/v1/echo", [ALLOW], b"\xff\xfe binary").json()["event"]

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\xfe binary"


def test_a_chunked_body_is_reassembled(api: LocalApi) -> None:
    chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    answer = call(api, "POST", "/v1/echo", [ALLOW, ("Transfer-Encoding", "chunked")], chunked)

    assert answer.json()["event"]["body"] == "hello world"


def test_handler_exception_is_a_502_envelope_with_cors(
    api: LocalApi, caplog: pytest.LogCaptureFixture
) -> None:
    answer = call(api, "GET", "/v1/broken/raise", [ALLOW])

    assert answer.status == 502
    assert answer.json() == SERVER_ERROR
    assert answer.header("Access-Control-Allow-Origin") == ORIGIN
    assert "handler failed function=BrokenFunction" in caplog.text
    assert "handler bug" in caplog.text


def test_malformed_proxy_result_is_a_502(api: LocalApi) -> None:
    answer = call(api, "GET", "/v1/broken/malformed", [ALLOW])

    assert answer.status == 502
    assert answer.json() == SERVER_ERROR


def test_oversize_body_is_413_without_invoking_anything(api: LocalApi, authorizer_calls: list[str]) -> None:
    answer = call(api, "POST", "/v1/echo", [ALLOW], b"x" * (MAX_BODY_BYTES + 1))

    assert answer.status == 413
    assert answer.json() == {"error": "Request Too Long", "code": "BAD_REQUEST", "details": {}}
    assert authorizer_calls == []


def test_a_bad_content_length_is_a_400(api: LocalApi) -> None:
    answer = call(api, "POST", "/v1/echo", [ALLOW, ("Content-Length", "-5")])

    assert answer.status == 400
    assert answer.json()["code"] == "BAD_REQUEST"


def test_options_preflight_answers_cors_without_authorization(
    api: LocalApi, authorizer_calls: list[str]
) -> None:
    answer = call(
        api, "OPTIONS", "/v1/echo/a", [("Origin", ORIGIN), ("Access-Control-Request-Method", "GET")]
    )

    assert answer.status == 200
    assert answer.header("Access-Control-Allow-Origin") == ORIGIN
    assert answer.header("Access-Control-Allow-Headers") == "Authorization,Content-Type"
    assert answer.header("Access-Control-Allow-Methods") == "GET,POST,OPTIONS"
    assert answer.header("Access-Control-Max-Age") == "600"
    assert answer.body == b""
    assert authorizer_calls == []


def test_a_public_route_skips_the_authorizer(api: LocalApi, authorizer_calls: list[str]) -> None:
    answer = call(api, "GET", "/v1/public")

    assert answer.status == 200
    assert "authorizer" not in answer.json()["event"]["requestContext"]
    assert authorizer_calls == []


def wait_for(condition: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_worker_deletes_successes_once_and_dead_letters_reported_failures(api: LocalApi) -> None:
    worker = api.functions["WorkerFunction"].module
    worker.PROCESSED.clear()
    worker.FAILED.clear()
    sqs = boto3.client(
        "sqs",
        endpoint_url=api.aws_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    queue, dead_letters = api.resources.queue_url("WorkQueue"), api.resources.queue_url("WorkDeadLetterQueue")

    sent = {
        body: sqs.send_message(QueueUrl=queue, MessageBody=body)["MessageId"]
        for body in ("ok-1", "fail", "ok-2")
    }
    arrived = wait_for(lambda: count(sqs, dead_letters, "ApproximateNumberOfMessages") == 1)

    assert arrived
    assert sorted(worker.PROCESSED) == sorted([sent["ok-1"], sent["ok-2"]])
    assert [sent["fail"], sent["fail"]] == worker.FAILED
    assert count(sqs, queue, "ApproximateNumberOfMessages") == 0
    assert count(sqs, queue, "ApproximateNumberOfMessagesNotVisible") == 0
    (dead,) = sqs.receive_message(QueueUrl=dead_letters).get("Messages", [])
    assert dead["Body"] == "fail"


def count(sqs: Any, url: str, attribute: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[attribute])["Attributes"][attribute])
