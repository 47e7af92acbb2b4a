"""The tickets listing cursor: opaque, bound to one user's listing and filter, refused when altered."""

import base64
import json

import pytest

from craiverse import tickets
from craiverse.errors import ValidationError
from tests.conftest import DEMO_USER, OTHER_USER

AFTER = "tkt_0193a1b2c3d4" + "0123456789abcdef"


def test_a_cursor_round_trips_to_the_ticket_it_continues_after() -> None:
    cursor = tickets.encode_cursor(DEMO_USER, "open", AFTER)

    assert tickets.decode_cursor(cursor, DEMO_USER, "open") == AFTER
    assert DEMO_USER not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    ("user_id", "status"), [(OTHER_USER, "open"), (DEMO_USER, None), (DEMO_USER, "closed")]
)
def test_a_cursor_is_refused_for_another_user_or_another_filter(user_id: str, status: str | None) -> None:
    cursor = tickets.encode_cursor(DEMO_USER, "open", AFTER)

    with pytest.raises(ValidationError) as err:
        tickets.decode_cursor(cursor, user_id, status)

    assert err.value.details["fields"][0]["field"] == "cursor"


def test_every_single_character_change_is_refused() -> None:
    cursor = tickets.encode_cursor(DEMO_USER, None, AFTER)

    for index, char in enumerate(cursor):
        for replacement in {"A", "b", "-", "_"} - {char}:
            altered = cursor[:index] + replacement + cursor[index + 1 :]
            with pytest.raises(ValidationError):
                tickets.decode_cursor(altered, DEMO_USER, None)


def test_a_different_spelling_of_the_same_checksum_is_refused() -> None:
    """The last base64 character of the checksum carries unused bits: changing only them is still a change."""
    for after in (AFTER, AFTER[:-1] + "0", AFTER[:-1] + "1", AFTER[:-1] + "2"):
        cursor = tickets.encode_cursor(DEMO_USER, None, after)
        last = cursor[-1]
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        same_bits = [c for c in alphabet if c != last and alphabet.index(c) >> 4 == alphabet.index(last) >> 4]
        for replacement in same_bits:
            with pytest.raises(ValidationError):
                tickets.decode_cursor(cursor[:-1] + replacement, DEMO_USER, None)


def forged(payload: dict[str, object]) -> str:
    """A cursor rebuilt by hand: the payload edited, the checksum left as it was."""
    genuine = tickets.encode_cursor(DEMO_USER, None, AFTER)
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    return body + "." + genuine.split(".")[1]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        ".",
        "abc",
        "abc.",
        ".abc",
        "a.b.c",
        "e30.e30",
        "not a cursor",
        "é.é",
        forged({"v": 1, "user_id": DEMO_USER, "status": None, "after": AFTER}),
        forged({"v": 1, "user_id": DEMO_USER, "status": None, "after": "TICKET#x"}),
    ],
)
def test_garbage_and_hand_made_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(ValidationError):
        tickets.decode_cursor(cursor, DEMO_USER, None)


def test_ticket_numbers_read_tkt_and_8_unambiguous_characters() -> None:
    numbers = {tickets.new_number() for _ in range(2000)}

    assert len(numbers) == 2000
    assert all(tickets.NUMBER_PATTERN.fullmatch(n) for n in numbers)
    assert not set("".join(numbers)) & set("ILOU")
