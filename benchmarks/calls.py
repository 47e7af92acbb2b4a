"""Every DynamoDB call one botocore client makes, recorded through its event hooks.

`DynamoCalls(client)` registers on `before-call.dynamodb` and `after-call.dynamodb` of that client (in
the product: `craiverse.db.client()`, which every handler and the authorizer share) and keeps one `Call`
per API call: the operation, the keys it touched, whether a read was strongly consistent, the items a
write sent, what came back, and how long the call took. The benchmarks and the round-trip tests read the
same record, so the figures in BENCHMARKS.md and the assertions cannot drift apart.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Who a call is for, told apart by the partition it touches.
RATE_LIMIT = "rate limit"
AUTHORIZER = "authorizer"
ENDPOINT = "endpoint"

_RATE_PREFIX = "RATE#"
_API_KEY_PREFIX = "APIKEY#"
_ids = itertools.count()

AttributeMap = dict[str, Any]


@dataclass
class Call:
    """One DynamoDB API call as the client sent it and as it was answered."""

    operation: str
    request: dict[str, Any]
    started: float
    elapsed: float = 0.0
    response: dict[str, Any] = field(default_factory=dict)
    status: int = 0

    @property
    def keys(self) -> list[tuple[str, str]]:
        """(PK, SK) of every item the call names, in request order (for a Query: its partition)."""
        return [(_string(k.get("PK")), _string(k.get("SK"))) for k in _key_maps(self.operation, self.request)]

    @property
    def party(self) -> str:
        partitions = {pk for pk, _ in self.keys}
        if partitions and all(pk.startswith(_RATE_PREFIX) for pk in partitions):
            return RATE_LIMIT
        if partitions and all(pk.startswith(_API_KEY_PREFIX) for pk in partitions):
            return AUTHORIZER
        return ENDPOINT

    @property
    def consistent(self) -> bool:
        """A strongly consistent (or transactional) read; writes answer False."""
        if self.operation == "TransactGetItems":
            return True
        if self.operation == "BatchGetItem":
            tables = self.request.get("RequestItems", {}).values()
            return bool(tables) and all(t.get("ConsistentRead") for t in tables)
        return bool(self.request.get("ConsistentRead"))

    @property
    def error(self) -> str | None:
        if self.status < 300:
            return None
        return str(self.response.get("Error", {}).get("Code") or self.status)

    @property
    def transaction_size(self) -> int:
        return len(self.request.get("TransactItems", []))

    def label(self) -> str:
        """`GetItem (consistent)`, `TransactWriteItems x3`, ...: how the call reads in a table."""
        if self.transaction_size:
            return f"{self.operation} x{self.transaction_size}"
        if self.operation in {"GetItem", "BatchGetItem", "Query"}:
            return f"{self.operation} ({'consistent' if self.consistent else 'eventual'})"
        return self.operation


def _string(value: Any) -> str:
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def _key_maps(operation: str, request: dict[str, Any]) -> Iterator[AttributeMap]:
    if "Key" in request:
        yield request["Key"]
    elif "Item" in request:
        yield request["Item"]
    elif operation == "Query":
        values = request.get("ExpressionAttributeValues", {})
        yield {"PK": values.get(":pk", {}), "SK": {"S": ""}}
    for entry in request.get("TransactItems", []):
        (action,) = entry.values()
        yield action.get("Key") or action.get("Item") or {}
    for table in request.get("RequestItems", {}).values():
        yield from table.get("Keys", [])


class DynamoCalls:
    """Records the calls of one client until `close`; safe to use from many threads."""

    def __init__(self, client: Any, *, consumed_capacity: bool = False) -> None:
        self._events = client.meta.events
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._id = f"craiverse-bench-{next(_ids)}"
        self._events.register("before-call.dynamodb", self._before, unique_id=f"{self._id}-before")
        self._events.register("after-call.dynamodb", self._after, unique_id=f"{self._id}-after")
        if consumed_capacity:
            # Ask the backend for its capacity figures (moto answers some operations with fixed values).
            self._events.register(
                "before-parameter-build.dynamodb", _ask_capacity, unique_id=f"{self._id}-capacity"
            )

    def close(self) -> None:
        self._events.unregister("before-call.dynamodb", unique_id=f"{self._id}-before")
        self._events.unregister("after-call.dynamodb", unique_id=f"{self._id}-after")
        self._events.unregister("before-parameter-build.dynamodb", unique_id=f"{self._id}-capacity")

    def __enter__(self) -> DynamoCalls:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def take(self) -> list[Call]:
        """The calls recorded so far, forgetting them."""
        with self._lock:
            calls, self._calls = self._calls, []
        return calls

    def operations(self, party: str | None = None) -> list[str]:
        return [call.label() for call in self.calls if party is None or call.party == party]

    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        call = Call(model.name, json.loads(body), time.perf_counter())
        context[self._id] = call
        with self._lock:
            self._calls.append(call)

    def _after(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.get(self._id)
        if call is not None:
            call.elapsed = time.perf_counter() - call.started
            call.response = parsed
            call.status = int(http_response.status_code)


class ServiceCalls:
    """Counts the calls of any other client (`SQS SendMessage`, ...), by service and operation."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events
        self._service = client.meta.service_model.service_id
        self._lock = threading.Lock()
        self._calls: list[str] = []
        self._id = f"craiverse-bench-{next(_ids)}"
        self._events.register("before-call", self._before, unique_id=self._id)

    def close(self) -> None:
        self._events.unregister("before-call", unique_id=self._id)

    def take(self) -> list[str]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls

    def _before(self, model: Any, **_: Any) -> None:
        with self._lock:
            self._calls.append(f"{self._service} {model.name}")


_DATA_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


def _ask_capacity(params: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name in _DATA_OPERATIONS:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")
