"""How a handler reads a request: bodies, query strings and headers, and the errors it answers."""

import base64
import json
from typing import Any

import pytest

from craiverse.api import Request
from craiverse.auth import Principal
from craiverse.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from craiverse.models import AddCredits, DeductCredits, UserQuery
from craiverse.routes import route
from tests.conftest import DEMO_USER, load_event

DEDUCT = {"user_id": DEMO_USER, "amount": 5, "source_app": "market-oracle", "source_action": "ai_prediction"}


def request_with_body(body: str | bytes, content_type: str | None = "application/json") -> Request:
    event = load_event("credits_deduct")
    headers: dict[str, Any] = {} if content_type is None else {"Content-Type": content_type}
    event["headers"] = headers
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    if isinstance(body, bytes):
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = body, False
    principal = Principal.from_authorizer(event["requestContext"]["authorizer"])
    return Request(route("POST", "/credits/deduct"), event, principal)


def fields_of(err: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {f["field"]: f["type"] for f in err.value.details["fields"]}


def test_a_valid_body_is_read_into_the_model() -> None:
    body = request_with_body(json.dumps(DEDUCT)).json(DeductCredits)

    assert body.amount == 5
    assert body.user_id == DEMO_USER


@pytest.mark.parametrize(
    ("amount", "kind"),
    [
        (5.0, "int_type"),
        ("5", "int_type"),
        (True, "int_type"),
        (0, "greater_than_equal"),
        (-3, "greater_than_equal"),
        (1_000_000_001, "less_than_equal"),
        (10**30, "less_than_equal"),
        (None, "int_type"),
    ],
)
def test_an_amount_that_is_not_a_whole_number_in_range_names_the_field(amount: Any, kind: str) -> None:
    with pytest.raises(ValidationError) as err:
        request_with_body(json.dumps({**DEDUCT, "amount": amount})).json(DeductCredits)

    assert fields_of(err) == {"amount": kind}


def test_the_largest_allowed_amount_is_accepted() -> None:
    body = request_with_body(json.dumps({**DEDUCT, "amount": 1_000_000_000})).json(DeductCredits)

    assert body.amount == 1_000_000_000


def test_missing_and_unknown_fields_are_each_named() -> None:
    payload = {k: v for k, v in DEDUCT.items() if k != "source_app"} | {"bonus": 1}

    with pytest.raises(ValidationError) as err:
        request_with_body(json.dumps(payload)).json(DeductCredits)

    assert fields_of(err) == {"source_app": "missing", "bonus": "extra_forbidden"}


def test_a_user_id_that_is_not_a_uuid_is_rejected_and_uppercase_is_normalised() -> None:
    with pytest.raises(ValidationError) as err:
        request_with_body(json.dumps({**DEDUCT, "user_id": "../admin"})).json(DeductCredits)
    assert fields_of(err) == {"user_id": "value_error"}

    body = request_with_body(json.dumps({**DEDUCT, "user_id": DEMO_USER.upper()})).json(DeductCredits)
    assert body.user_id == DEMO_USER


@pytest.mark.parametrize(
    "raw",
    ["{", "[1, 2]", '"text"', "", "   ", '{"amount": NaN}', '{"a": 1, "a": 2}', "[" * 50_000, "1" * 5000],
)
def test_a_body_that_is_not_one_json_object_is_a_validation_error(raw: str) -> None:
    with pytest.raises(ValidationError):
        request_with_body(raw).json(DeductCredits)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_declared_json_is_unsupported(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType):
        request_with_body(json.dumps(DEDUCT), content_type).json(DeductCredits)


def test_json_with_a_charset_parameter_is_accepted() -> None:
    body = request_with_body(json.dumps(DEDUCT), "application/json; charset=utf-8").json(DeductCredits)

    assert body.source_app == "market-oracle"


def test_a_base64_encoded_body_is_decoded() -> None:
    body = request_with_body(json.dumps(DEDUCT).encode()).json(DeductCredits)

    assert body.source_action == "ai_prediction"


def test_a_body_that_is_not_utf8_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        request_with_body(b"\xff\xfe{}").json(DeductCredits)


def test_an_oversize_body_is_refused_before_it_is_parsed() -> None:
    payload = json.dumps({**DEDUCT, "source_action": "x" * 70_000})

    with pytest.raises(PayloadTooLarge):
        request_with_body(payload).json(DeductCredits)


def test_reference_must_be_printable() -> None:
    payload = {"user_id": DEMO_USER, "amount": 1, "source": "purchase", "source_reference": "ch\n1"}

    with pytest.raises(ValidationError) as err:
        request_with_body(json.dumps(payload)).json(AddCredits)

    assert fields_of(err) == {"source_reference": "value_error"}


def query_request(multi: dict[str, list[str]] | None) -> Request:
    event = load_event("credits_balance")
    event["multiValueQueryStringParameters"] = multi
    event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} if multi else None
    principal = Principal.from_authorizer(event["requestContext"]["authorizer"])
    return Request(route("GET", "/credits/balance"), event, principal)


@pytest.mark.parametrize(
    ("multi", "expected"),
    [
        (None, {"user_id": "missing"}),
        ({"user_id": [""]}, {"user_id": "empty"}),
        ({"user_id": [DEMO_USER, DEMO_USER]}, {"user_id": "repeated"}),
        ({"user_id": [DEMO_USER], "limit": ["5"]}, {"limit": "extra_forbidden"}),
    ],
)
def test_query_parameters_must_be_given_once_and_known(
    multi: dict[str, list[str]] | None, expected: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as err:
        query_request(multi).query(UserQuery)

    assert fields_of(err) == expected


def test_an_idempotency_key_must_be_printable_and_bounded() -> None:
    request = request_with_body(json.dumps(DEDUCT))
    assert request.idempotency_key() is None

    request.event["multiValueHeaders"]["Idempotency-Key"] = ["x" * 256]
    with pytest.raises(ValidationError):
        request.idempotency_key()

    request.event["multiValueHeaders"]["idempotency-key"] = ["retry-1"]
    request.event["multiValueHeaders"].pop("Idempotency-Key")
    assert request.idempotency_key() == "retry-1"

    for repeated in (["retry-1", "retry-2"], ["retry-1", "retry-1"], [""]):
        request.event["multiValueHeaders"]["idempotency-key"] = repeated
        with pytest.raises(ValidationError) as err:
            request.idempotency_key()
        assert err.value.details["fields"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", "the body is not UTF-8 text"),
        ("[" * 50_000, "the body is nested too deeply"),
        ('{"amount": ' + "1" * 5000 + "}", "a number in the body is too long"),
        ('{"a": 1, "a": 2}', 'the key "a" appears more than once in an object'),
        ('\ufeff{"a": 1}', "the body starts with a byte order mark, which JSON text must not"),
        ("{", "Expecting property name enclosed in double quotes at line 1 column 2"),
    ],
)
def test_a_malformed_body_is_explained_without_python_internals(raw: str | bytes, reason: str) -> None:
    with pytest.raises(ValidationError) as err:
        request_with_body(raw).json(DeductCredits)

    assert err.value.details == {"reason": reason}


def test_a_json_route_refuses_query_parameters() -> None:
    request = request_with_body(json.dumps(DEDUCT))
    request.event["multiValueQueryStringParameters"] = {"user_id": ["someone-else"]}

    with pytest.raises(ValidationError) as err:
        request.json(DeductCredits)

    assert fields_of(err) == {"user_id": "extra_forbidden"}
