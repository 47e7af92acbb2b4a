"""DynamoDB capacity units of a recorded call, from the sizes of the items it read or wrote.

The rules are DynamoDB's published ones for on-demand tables (request units equal capacity units):
  * a strongly consistent read costs 1 read unit per 4 KB of item, an eventually consistent one half of
    that, a transactional read twice; a Query rounds the sum of the items it returns up to 4 KB;
  * a write costs 1 write unit per 1 KB of the larger of the item before and after, a transactional write
    twice; a write whose condition fails still costs its units; each global secondary index an item is
    written to costs a standard write of the index entry;
  * item size: attribute names and values in UTF-8 bytes, numbers about one byte per two digits plus one,
    3 bytes of overhead per map or list plus 1 per element.
moto reports fixed figures for some operations (GetItem 0.5 even when consistent, UpdateItem 1, nothing
for TransactWriteItems), so the cost model uses these rules; moto's figures are shown beside them.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from benchmarks.calls import Call

KB = 1024
READ_BLOCK = 4 * KB
WRITE_BLOCK = KB

AttributeMap = Mapping[str, Any]
# The item as stored now under (PK, SK), as an attribute map, or None if there is none.
StoredItem = Callable[[tuple[str, str]], AttributeMap | None]


@dataclass(frozen=True)
class Units:
    read: float = 0.0
    write: float = 0.0

    def __add__(self, other: Units) -> Units:
        return Units(self.read + other.read, self.write + other.write)


def item_size(item: AttributeMap) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: Mapping[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) for v in raw)
    if kind == "L":
        return 3 + sum(value_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in raw.items())
    raise ValueError(f"unknown attribute type {kind}")


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _blocks(size: int, block: int) -> int:
    return max(1, math.ceil(size / block))


def call_units(call: Call, stored: StoredItem, index_keys: tuple[str, ...]) -> Units:
    """The units `call` consumes. `stored` gives an item as it is after the call (for updates, whose
    result the call does not carry); `index_keys` are the hash keys of the table's global indexes."""
    operation, request, response = call.operation, call.request, call.response
    if operation == "GetItem":
        return Units(read=_read(response.get("Item"), consistent=call.consistent))
    if operation == "BatchGetItem":
        found = [i for items in response.get("Responses", {}).values() for i in items]
        asked = sum(len(t.get("Keys", [])) for t in request.get("RequestItems", {}).values())
        missing = asked - len(found)
        units = sum(_read(i, consistent=call.consistent) for i in found)
        return Units(read=units + missing * _read(None, consistent=call.consistent))
    if operation == "Query":
        size = sum(item_size(i) for i in response.get("Items", []))
        return Units(read=_blocks(size, READ_BLOCK) * (1.0 if call.consistent else 0.5))
    if operation == "TransactGetItems":
        return Units(read=sum(2.0 * _blocks(_size(r.get("Item")), READ_BLOCK) for r in response["Responses"]))
    if operation in {"PutItem", "UpdateItem", "DeleteItem"}:
        written = request.get("Item") or stored(call.keys[0])
        return _write(written, 1.0, index_keys)
    if operation == "TransactWriteItems":
        total = Units()
        for entry, key in zip(request["TransactItems"], call.keys, strict=True):
            (action,) = entry.values()
            total += _write(action.get("Item") or stored(key), 2.0, index_keys)
        return total
    raise ValueError(f"no capacity rule for {operation}")


def _size(item: AttributeMap | None) -> int:
    return item_size(item) if item else 0


def _read(item: AttributeMap | None, *, consistent: bool) -> float:
    return _blocks(_size(item), READ_BLOCK) * (1.0 if consistent else 0.5)


def _write(item: AttributeMap | None, factor: float, index_keys: tuple[str, ...]) -> Units:
    size = _size(item)
    indexed = sum(1 for name in index_keys if item and name in item)
    return Units(write=factor * _blocks(size, WRITE_BLOCK) + indexed * _blocks(size, WRITE_BLOCK))


def moto_reported(call: Call) -> float | None:
    """The capacity units moto answered for the call, if it answered any."""
    consumed = call.response.get("ConsumedCapacity")
    if isinstance(consumed, dict):
        return float(consumed.get("CapacityUnits", 0.0))
    if isinstance(consumed, list) and consumed:
        return float(sum(c.get("CapacityUnits", 0.0) for c in consumed))
    return None
