"""The request models' contract: which inputs they accept, and each refusal's field, type and message
(as the error envelope carries them). It is the pydantic BaseModels' contract, kept when the models
moved to pydantic-core, plus the refusals added since (blank references, invisible or
direction-reversing descriptions, ports out of range)."""

import json
import subprocess
import sys
from typing import Any

import pydantic_core
import pytest

from craiverse.api import validate
from craiverse.errors import ValidationError
from craiverse.models import (
    UNSET,
    AddCredits,
    CreateTicket,
    CreateUser,
    DeductCredits,
    Model,
    ProfileUpdate,
    TicketsQuery,
    UserQuery,
)
from tests.conftest import DEMO_USER, FUNCTIONS, ROOT

DEDUCT = {"user_id": DEMO_USER, "amount": 5, "source_app": "market-oracle", "source_action": "ai_prediction"}
UUID_MESSAGE = "Value error, must be a UUID such as 3f2b8c1e-5d4a-4b7e-9c21-0a1b2c3d4e5f"


def problems(model: type[Model], data: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(field, type, message) of each problem, in the order the envelope lists them."""
    with pytest.raises(ValidationError) as err:
        validate(model, data)
    return [(f["field"], f["type"], f["message"]) for f in err.value.details["fields"]]


def test_missing_and_unknown_fields_are_named_in_field_order_then_the_unknown_ones() -> None:
    payload = {"bonus": 1, "user_id": DEMO_USER, "amount": 5}

    assert problems(DeductCredits, payload) == [
        ("source_app", "missing", "Field required"),
        ("source_action", "missing", "Field required"),
        ("bonus", "extra_forbidden", "Extra inputs are not permitted"),
    ]


@pytest.mark.parametrize(
    ("amount", "kind", "message"),
    [
        (True, "int_type", "Input should be a valid integer"),
        (False, "int_type", "Input should be a valid integer"),
        (5.0, "int_type", "Input should be a valid integer"),
        (5.5, "int_type", "Input should be a valid integer"),
        ("5", "int_type", "Input should be a valid integer"),
        (None, "int_type", "Input should be a valid integer"),
        (0, "greater_than_equal", "Input should be greater than or equal to 1"),
        (1_000_000_001, "less_than_equal", "Input should be less than or equal to 1000000000"),
        (10**30, "less_than_equal", "Input should be less than or equal to 1000000000"),
    ],
)
def test_an_amount_must_be_a_whole_number_in_range(amount: Any, kind: str, message: str) -> None:
    assert problems(DeductCredits, {**DEDUCT, "amount": amount}) == [("amount", kind, message)]


@pytest.mark.parametrize(
    ("user_id", "kind", "message"),
    [
        ("../admin", "value_error", UUID_MESSAGE),
        ("x" * 37, "string_too_long", "String should have at most 36 characters"),
        (7, "string_type", "Input should be a valid string"),
        (None, "string_type", "Input should be a valid string"),
    ],
)
def test_a_user_id_must_be_a_uuid(user_id: Any, kind: str, message: str) -> None:
    assert problems(UserQuery, {"user_id": user_id}) == [("user_id", kind, message)]


def test_a_slug_must_match_its_pattern() -> None:
    assert problems(DeductCredits, {**DEDUCT, "source_app": "Market"}) == [
        (
            "source_app",
            "string_pattern_mismatch",
            "String should match pattern '^[a-z0-9][a-z0-9_-]{0,63}$'",
        )
    ]


def test_a_valid_body_keeps_its_values_and_dumps_every_field() -> None:
    body = DeductCredits.validate({**DEDUCT, "user_id": DEMO_USER.upper()})

    assert body.user_id == DEMO_USER
    assert body.dump() == DEDUCT


def test_a_ticket_dumps_its_defaults_as_the_idempotency_fingerprint_always_did() -> None:
    ticket = CreateTicket.validate({"user_id": DEMO_USER, "subject": "  Help  ", "description": "x\n"})

    assert ticket.dump() == {
        "user_id": DEMO_USER,
        "subject": "Help",
        "description": "x",
        "priority": "medium",
        "category": "general",
    }


def test_models_are_frozen() -> None:
    body = DeductCredits.validate(DEDUCT)

    with pytest.raises(AttributeError):
        body.amount = 6  # type: ignore[misc]


def test_a_literal_names_its_choices() -> None:
    ticket = {"user_id": DEMO_USER, "subject": "Help", "description": "x", "priority": "LOW"}

    assert problems(CreateTicket, ticket) == [
        ("priority", "literal_error", "Input should be 'low', 'medium', 'high' or 'urgent'")
    ]


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("  ab  ", [("subject", "string_too_short", "String should have at least 3 characters")]),
        ("  abc  ", None),
        (" " + "x" * 200 + " ", None),
        ("x" * 201, [("subject", "string_too_long", "String should have at most 200 characters")]),
        (
            "a\u202ebc",
            [
                (
                    "subject",
                    "value_error",
                    "Value error, must not contain control or text-direction characters",
                )
            ],
        ),
    ],
)
def test_text_is_stripped_before_its_length_is_checked(
    subject: str, expected: list[tuple[str, str, str]] | None
) -> None:
    ticket = {"user_id": DEMO_USER, "subject": subject, "description": "x"}

    if expected is None:
        assert CreateTicket.validate(ticket).subject == subject.strip()
    else:
        assert problems(CreateTicket, ticket) == expected


def test_a_reference_of_control_characters_is_a_value_error() -> None:
    payload = {"user_id": DEMO_USER, "amount": 1, "source": "purchase", "source_reference": "a\nb"}

    assert problems(AddCredits, payload) == [
        ("source_reference", "value_error", "Value error, must not contain control characters")
    ]


def test_a_blank_reference_is_refused() -> None:
    payload = {"user_id": DEMO_USER, "amount": 1, "source": "purchase", "source_reference": "   "}

    assert problems(AddCredits, payload) == [
        ("source_reference", "value_error", "Value error, must not be blank")
    ]


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("pay \u202egnp.exe", "Value error, must not contain text-direction characters"),
        ("\u200b", "Value error, must contain a visible character"),
        ("\u200b\n\t\u200b", "Value error, must contain a visible character"),
    ],
)
def test_a_description_must_be_visible_text_in_reading_order(description: str, message: str) -> None:
    ticket = {"user_id": DEMO_USER, "subject": "Refund", "description": description}

    assert problems(CreateTicket, ticket) == [("description", "value_error", message)]


def test_a_description_keeps_its_line_breaks_tabs_and_emoji() -> None:
    text = "Line one\n\tindented \U0001f468\u200d\U0001f469\u200d\U0001f467"
    ticket = {"user_id": DEMO_USER, "subject": "Refund", "description": text}

    assert validate(CreateTicket, ticket).description == text


def test_a_new_user_may_leave_out_the_display_name_or_give_null() -> None:
    assert CreateUser.validate({"email": "ada@example.com"}).display_name is None
    assert CreateUser.validate({"email": "ada@example.com", "display_name": None}).display_name is None
    assert problems(CreateUser, {"email": "ada@example.com", "display_name": "   "}) == [
        ("display_name", "string_too_short", "String should have at least 1 character")
    ]


# ProfileUpdate: a partial update knows which fields were given.


def test_a_profile_update_changes_only_the_fields_given() -> None:
    patch = ProfileUpdate.validate({"user_id": DEMO_USER, "display_name": " Ada "})

    assert patch.changes() == {"display_name": "Ada"}
    assert patch.avatar_url is UNSET


def test_a_null_avatar_url_removes_the_avatar() -> None:
    patch = ProfileUpdate.validate({"user_id": DEMO_USER, "avatar_url": None})

    assert patch.changes() == {"avatar_url": None}
    assert patch.dump() == {"user_id": DEMO_USER, "avatar_url": None}


def test_both_fields_change_together() -> None:
    patch = ProfileUpdate.validate(
        {"user_id": DEMO_USER, "display_name": "Ada", "avatar_url": "https://example.com/a.png"}
    )

    assert patch.changes() == {"avatar_url": "https://example.com/a.png", "display_name": "Ada"}


def test_a_profile_update_must_change_something() -> None:
    assert problems(ProfileUpdate, {"user_id": DEMO_USER}) == [
        ("body", "value_error", "Value error, give display_name or avatar_url to change")
    ]


def test_an_empty_profile_update_names_the_missing_user_only() -> None:
    assert problems(ProfileUpdate, {}) == [("user_id", "missing", "Field required")]


def test_a_display_name_cannot_be_removed() -> None:
    assert problems(ProfileUpdate, {"user_id": DEMO_USER, "display_name": None}) == [
        ("display_name", "value_error", "Value error, must be a string; a display name cannot be removed")
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/a.png", "Value error, must be an https:// URL with a host"),
        ("https://user:pw@example.com/", "Value error, must not carry credentials"),
        ("https://exa mple.com/", "Value error, must not contain spaces or control characters"),
        ("https://cdn.example.com:99999/a.png", "Value error, must have a port from 1 to 65535"),
        ("https://cdn.example.com:0/a.png", "Value error, must have a port from 1 to 65535"),
    ],
)
def test_an_avatar_must_be_a_plain_https_url(url: str, message: str) -> None:
    assert problems(ProfileUpdate, {"user_id": DEMO_USER, "avatar_url": url}) == [
        ("avatar_url", "value_error", message)
    ]


# TicketsQuery: query string values are text.


@pytest.mark.parametrize(("text", "limit"), [("5", 5), ("05", 5), ("1", 1), ("100", 100)])
def test_a_page_limit_is_read_from_its_digits(text: str, limit: int) -> None:
    assert TicketsQuery.validate({"user_id": DEMO_USER, "limit": text}).limit == limit


def test_the_page_limit_defaults_to_20_and_the_filters_to_none() -> None:
    query = TicketsQuery.validate({"user_id": DEMO_USER})

    assert (query.limit, query.status, query.cursor) == (20, None, None)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("abc", "int_type", "Input should be a valid integer"),
        ("+5", "int_type", "Input should be a valid integer"),
        (" 5", "int_type", "Input should be a valid integer"),
        ("\u0665", "int_type", "Input should be a valid integer"),
        ("1000000", "int_type", "Input should be a valid integer"),
        ("0", "greater_than_equal", "Input should be greater than or equal to 1"),
        ("101", "less_than_equal", "Input should be less than or equal to 100"),
        ("999999", "less_than_equal", "Input should be less than or equal to 100"),
    ],
)
def test_a_page_limit_that_is_not_1_to_100_is_refused(text: str, kind: str, message: str) -> None:
    assert problems(TicketsQuery, {"user_id": DEMO_USER, "limit": text}) == [("limit", kind, message)]


def test_a_status_filter_names_its_choices() -> None:
    assert problems(TicketsQuery, {"user_id": DEMO_USER, "status": "OPEN"}) == [
        ("status", "literal_error", "Input should be 'open', 'in_progress', 'resolved' or 'closed'")
    ]


def test_validation_errors_are_pydantic_cores() -> None:
    with pytest.raises(pydantic_core.ValidationError) as err:
        UserQuery.validate({"user_id": 1, "bonus": 2})

    assert err.value.title == "UserQuery"
    assert [e["type"] for e in err.value.errors()] == ["string_type", "extra_forbidden"]


def test_no_function_imports_the_pydantic_package() -> None:
    """pydantic (not pydantic_core) costs tens of milliseconds of every cold start."""
    script = (
        "import importlib.util, json, pathlib, sys\n"
        "for app in sorted(pathlib.Path(sys.argv[1]).glob('*/app.py')):\n"
        "    spec = importlib.util.spec_from_file_location(f'app_{app.parent.name}', app)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(json.dumps(sorted(n for n in sys.modules if n == 'pydantic' or n.startswith('pydantic.'))))\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", script, str(FUNCTIONS)],
        env={"PYTHONPATH": f"{ROOT / 'layers' / 'common'}", "AWS_EC2_METADATA_DISABLED": "true"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    assert json.loads(done.stdout.splitlines()[-1]) == []
