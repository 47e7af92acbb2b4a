"""Text a person types: emails that could pass for another user's and names that show nothing are refused."""

import pydantic_core
import pytest

from craiverse.models import CreateTicket, CreateUser, ProfileUpdate
from tests.conftest import DEMO_USER


@pytest.mark.parametrize(
    "email",
    [
        "a\u200b@example.com",
        ".a@example.com",
        "a.@example.com",
        "a..b@example.com",
        "fr\u0130nk@example.com",
        "a@b",
    ],
)
def test_look_alike_or_malformed_emails_are_refused(email: str) -> None:
    with pytest.raises(pydantic_core.ValidationError):
        CreateUser.validate({"email": email})


def test_an_email_is_stored_in_lower_case() -> None:
    assert CreateUser.validate({"email": " A.B+x@Example.COM "}).email == "a.b+x@example.com"


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200b", "\u00a0", "a\u202eb", "x\u2066y"])
def test_invisible_or_text_reversing_display_names_are_refused(name: str) -> None:
    with pytest.raises(pydantic_core.ValidationError):
        ProfileUpdate.validate({"user_id": DEMO_USER, "display_name": name})


def test_a_name_with_an_emoji_sequence_is_kept() -> None:
    patch = ProfileUpdate.validate({"user_id": DEMO_USER, "display_name": "Ada \U0001f469\u200d\U0001f4bb"})

    assert patch.display_name == "Ada \U0001f469\u200d\U0001f4bb"


def test_a_ticket_subject_of_invisible_characters_is_refused() -> None:
    with pytest.raises(pydantic_core.ValidationError):
        CreateTicket.validate({"user_id": DEMO_USER, "subject": "\u200b\u200b\u200b", "description": "x"})
