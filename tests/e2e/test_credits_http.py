"""The README's walk-through over HTTP with the seeded keys, and bad input answered in the envelope."""

import socket
import uuid

import pytest

from craiverse import credits
from tests.conftest import DEMO_USER, OTHER_USER
from tests.e2e.conftest import DEMO_KEYS, Api

SERVICE = DEMO_KEYS["market-oracle"]
USER = DEMO_KEYS["demo-user"]


def add(api: Api, user_id: str, amount: int, reference: str, prefix: str = "/v1") -> dict:
    body = {"user_id": user_id, "amount": amount, "source": "purchase", "source_reference": reference}
    response = api.call("POST", f"{prefix}/credits/add", SERVICE, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def deduct_body(user_id: str, amount: int) -> dict:
    return {
        "user_id": user_id,
        "amount": amount,
        "source_app": "market-oracle",
        "source_action": "ai_prediction",
    }


def assert_envelope(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.json()
    assert set(body) == {"error", "code", "details"}
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert isinstance(body["details"], dict)
    return dict(body)


def test_add_deduct_and_read_the_balance_with_the_seeded_keys(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    add(api, user_id, 100, f"ch_{uuid.uuid4().hex}")

    deducted = api.call("POST", "/v1/credits/deduct", key, json=deduct_body(user_id, 30))
    assert deducted.status_code == 200
    assert (deducted.json()["type"], deducted.json()["amount"]) == ("debit", 30)

    balance = api.call("GET", f"/v1/credits/balance?user_id={user_id}", key)
    assert balance.status_code == 200
    assert balance.json() == {"user_id": user_id, "balance": 70, "lifetime_earned": 100, "lifetime_spent": 30}
    assert balance.headers["X-Request-Id"] == balance.headers["x-amzn-RequestId"]

    refused = api.call("POST", "/v1/credits/deduct", key, json=deduct_body(user_id, 1000))
    body = assert_envelope(refused, 402, "INSUFFICIENT_CREDITS")
    assert body["details"] == {"balance": 70, "requested": 1000}


def test_the_seeded_demo_user_key_works_without_the_stage_prefix(api: Api) -> None:
    response = api.call("GET", f"/credits/balance?user_id={DEMO_USER}", USER)

    assert response.status_code == 200
    assert response.json()["user_id"] == DEMO_USER


def test_a_repeated_add_with_the_same_reference_adds_once(api: Api, new_user: tuple[str, str]) -> None:
    user_id, key = new_user
    reference = f"ch_{uuid.uuid4().hex}"
    body = {"user_id": user_id, "amount": 25, "source": "purchase", "source_reference": reference}

    first = api.call("POST", "/credits/add", SERVICE, json=body)
    second = api.call("POST", "/credits/add", SERVICE, json=body)

    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert api.call("GET", f"/credits/balance?user_id={user_id}", key).json()["balance"] == 25
    assert len(credits.ledger(user_id)) == 1


def test_another_users_id_is_forbidden(api: Api) -> None:
    response = api.call("GET", f"/v1/credits/balance?user_id={OTHER_USER}", USER)

    assert_envelope(response, 403, "FORBIDDEN")


def test_a_publishable_key_cannot_read_credits(api: Api) -> None:
    response = api.call("GET", f"/v1/credits/balance?user_id={DEMO_USER}", DEMO_KEYS["support-widget"])

    assert_envelope(response, 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer nonsense", "Basic Zm9vOmJhcg==", "Bearer crv_sk_" + "x" * 43],
)
def test_a_missing_malformed_or_unknown_key_is_unauthorized(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = api.call("GET", f"/v1/credits/balance?user_id={DEMO_USER}", headers=headers)

    assert_envelope(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nothing"), ("GET", "/"), ("DELETE", "/v1/credits/balance"), ("GET", "/v2/credits/balance")],
)
def test_an_unknown_route_is_not_found(api: Api, method: str, path: str) -> None:
    response = api.call(method, path, USER)

    assert_envelope(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        ({"data": "[]", "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        ({"data": "", "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        ({"data": b"\xff\xfe\x00", "headers": {"Content-Type": "application/json"}}, 400, "VALIDATION_ERROR"),
        (
            {"data": '{"user_id": 1}', "headers": {"Content-Type": "text/plain"}},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ({"json": {"user_id": DEMO_USER, "amount": 1, "x": "y" * 70_000}}, 413, "PAYLOAD_TOO_LARGE"),
        (
            {"json": {"user_id": DEMO_USER, "amount": 5.5, "source_app": "a", "source_action": "b"}},
            400,
            "VALIDATION_ERROR",
        ),
    ],
)
def test_bad_bodies_answer_4xx_in_the_envelope(api: Api, kwargs: dict, status: int, code: str) -> None:
    response = api.call("POST", "/v1/credits/deduct", USER, **kwargs)

    assert_envelope(response, status, code)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?user_id=",
        f"?user_id={DEMO_USER}&user_id={DEMO_USER}",
        f"?user_id={DEMO_USER}&x=1",
        "?user_id=abc",
    ],
)
def test_bad_query_strings_answer_400_naming_the_parameter(api: Api, query: str) -> None:
    response = api.call("GET", f"/v1/credits/balance{query}", USER)

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"]


def test_a_cors_preflight_is_answered_without_a_key(api: Api) -> None:
    response = api.call("OPTIONS", "/v1/credits/deduct", headers={"Origin": "https://app.example"})

    assert response.status_code == 200
    assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]


def test_gateway_errors_carry_the_request_id(api: Api) -> None:
    for response in (api.call("GET", "/v1/credits/balance"), api.call("GET", "/v1/nowhere", USER)):
        assert response.headers["X-Request-Id"] == response.headers["x-amzn-RequestId"]


def test_a_body_over_api_gateways_limit_is_payload_too_large(api: Api) -> None:
    headers = {"Content-Type": "application/json"}
    response = api.call(
        "POST", "/v1/credits/deduct", USER, data=b"x" * (10 * 1024 * 1024 + 1), headers=headers
    )

    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_an_overlong_url_is_answered_in_the_envelope_not_html(api: Api) -> None:
    response = api.call("GET", "/v1/credits/balance?user_id=" + "a" * 70_000, USER)

    assert response.status_code == 414
    assert set(response.json()) == {"error", "code", "details"}


def test_a_json_route_refuses_query_parameters_and_spends_nothing(
    api: Api, new_user: tuple[str, str]
) -> None:
    user_id, key = new_user
    add(api, user_id, 10, f"ch_{uuid.uuid4().hex}")

    response = api.call("POST", f"/v1/credits/deduct?user_id={OTHER_USER}", key, json=deduct_body(user_id, 1))

    body = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert body["details"]["fields"][0]["field"] == "user_id"
    assert api.call("GET", f"/v1/credits/balance?user_id={user_id}", key).json()["balance"] == 10


def raw_request(api: Api, head: str) -> bytes:
    """Sends a hand-written HTTP/1.1 request and returns the raw answer."""
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(head.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: 2\r\nContent-Length: 40\r\n",
        "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n",
        f"Content-Length: 2\r\nAuthorization: Bearer {SERVICE}\r\n",
    ],
)
def test_ambiguous_framing_or_a_second_authorization_is_refused(api: Api, framing: str) -> None:
    head = (
        f"POST /v1/credits/deduct HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {USER}\r\n"
        f"Content-Type: application/json\r\n{framing}Connection: close\r\n\r\n{{}}"
    )

    answer = raw_request(api, head)

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b'"code": "BAD_REQUEST"' in answer
