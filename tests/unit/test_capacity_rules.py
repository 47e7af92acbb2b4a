"""The capacity rules behind the cost figure of BENCHMARKS.md (benchmarks.capacity)."""

from typing import Any

import pytest

from benchmarks.calls import Call
from benchmarks.capacity import call_units, item_size


def string_item(size: int) -> dict[str, Any]:
    """An item of exactly `size` bytes: the key attributes plus one padding string."""
    base = {"PK": {"S": "USER#1"}, "SK": {"S": "X"}}
    padding = size - item_size(base) - len("pad")
    return {**base, "pad": {"S": "p" * padding}}


def nothing_stored(_: tuple[str, str]) -> None:
    return None


def test_item_size_counts_names_and_values_in_bytes() -> None:
    item = {"PK": {"S": "USER#é"}, "n": {"N": "12345"}, "ok": {"BOOL": True}, "tags": {"SS": ["a", "bc"]}}

    assert item_size(item) == (2 + 7) + (1 + 4) + (2 + 1) + (4 + 3)


@pytest.mark.parametrize(
    ("size", "consistent", "units"), [(4096, True, 1.0), (4097, True, 2.0), (100, False, 0.5)]
)
def test_a_read_costs_a_unit_per_4_kb_and_half_when_eventually_consistent(
    size: int, consistent: bool, units: float
) -> None:
    call = Call("GetItem", {"Key": {"PK": {"S": "USER#1"}}, "ConsistentRead": consistent}, 0.0)
    call.response = {"Item": string_item(size)}

    assert call_units(call, nothing_stored, ()).read == units


def test_a_missing_item_still_costs_the_minimum_read() -> None:
    call = Call("GetItem", {"Key": {"PK": {"S": "USER#1"}}, "ConsistentRead": True}, 0.0)

    assert call_units(call, nothing_stored, ()).read == 1.0


def test_transactional_writes_cost_double_and_an_indexed_item_pays_its_index_write() -> None:
    entry = {**string_item(1500), "GSI1PK": {"S": "ACTIVITY#1"}}
    call = Call(
        "TransactWriteItems",
        {
            "TransactItems": [
                {"Put": {"Item": entry}},
                {"Update": {"Key": {"PK": {"S": "USER#1"}, "SK": {"S": "CREDITS"}}}},
            ]
        },
        0.0,
    )

    units = call_units(call, lambda key: string_item(200), ("GSI1PK",))

    assert units.write == (2 * 2 + 2) + 2 * 1
