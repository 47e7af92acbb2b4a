"""DynamoDB access shared by the entity modules: the client, item codec and transactions.

AWS errors are translated here by error code, never by message text. Entity modules own their keys.
"""

import random
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

from craiverse.config import settings
from craiverse.errors import ServiceUnavailable
from craiverse.log import logger

Item = dict[str, Any]
Key = tuple[str, str]

# Transient failures worth another try with jittered backoff (real DynamoDB under contention or load).
RETRYABLE_ERRORS = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
    }
)
RETRYABLE_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
MAX_ATTEMPTS = 6
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 0.5

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@cache
def client() -> Any:
    """One client per process, reused by warm invocations. Endpoint comes from AWS_ENDPOINT_URL."""
    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config)


def table() -> str:
    return settings().table_name


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def deserialize(item: Mapping[str, Any]) -> Item:
    return {name: _plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; the API deals in integers only."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def get(pk: str, sk: str, *, consistent: bool = False) -> Item | None:
    response = _call("get_item", TableName=table(), Key=key(pk, sk), ConsistentRead=consistent)
    item = response.get("Item")
    return deserialize(item) if item else None


# BatchGetItem reads at most this many keys per call.
MAX_BATCH_GET = 100


def batch_get(keys: Sequence[Key], *, consistent: bool = False) -> list[Item | None]:
    """Reads up to 100 items in one round trip, in the order asked (None for a missing item).

    Not TransactGetItems: a transactional read costs twice the read units and is cancelled while a
    transaction writes one of its items. Keys DynamoDB leaves unprocessed (throttling) are asked again
    after a backoff.
    """
    if not keys or len(keys) > MAX_BATCH_GET or len(set(keys)) != len(keys):
        raise ValueError(f"batch_get takes 1 to {MAX_BATCH_GET} distinct keys")
    pending: dict[str, Any] = {
        table(): {"Keys": [key(pk, sk) for pk, sk in keys], "ConsistentRead": consistent}
    }
    found: dict[Key, Item] = {}
    for attempt in range(1, MAX_ATTEMPTS + 1):
        response = _call("batch_get_item", RequestItems=pending)
        for raw in response.get("Responses", {}).get(table(), []):
            item = deserialize(raw)
            found[(item["PK"], item["SK"])] = item
        pending = response.get("UnprocessedKeys") or {}
        if not pending:
            return [found.get(k) for k in keys]
        _backoff(attempt)
    raise ServiceUnavailable(details={"reason": "throttled"})


class Page(NamedTuple):
    """One Query call's items and where the next call starts (None: the query is exhausted)."""

    items: list[Item]
    last_key: dict[str, Any] | None


def query_page(
    pk: str,
    *,
    sk_prefix: str,
    limit: int,
    newest_first: bool = False,
    start_key: dict[str, Any] | None = None,
    equals: Mapping[str, str] | None = None,
) -> Page:
    """One Query round trip on the table. `equals` filters on attributes after `limit` items are read, so
    a filtered page may hold fewer items than `limit` and still not be the last."""
    values: dict[str, Any] = {":pk": {"S": pk}, ":prefix": {"S": sk_prefix}}
    params: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ScanIndexForward": not newest_first,
        "Limit": limit,
    }
    if start_key:
        params["ExclusiveStartKey"] = start_key
    if equals:
        names = {f"#f{i}": name for i, name in enumerate(equals)}
        values.update({f":f{i}": {"S": value} for i, value in enumerate(equals.values())})
        params["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(equals)))
        params["ExpressionAttributeNames"] = names
    params["ExpressionAttributeValues"] = values
    response = _call("query", **params)
    return Page([deserialize(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey"))


class Reason(NamedTuple):
    """One item's outcome in a cancelled transaction, read by position."""

    code: str
    item: Item | None

    @property
    def condition_failed(self) -> bool:
        return self.code == "ConditionalCheckFailed"


class TransactionCancelled(Exception):
    def __init__(self, reasons: list[Reason]) -> None:
        super().__init__("transaction cancelled: " + ",".join(r.code for r in reasons))
        self.reasons = reasons

    def reason(self, position: int) -> Reason:
        """The outcome of the item at `position` ("None" if DynamoDB gave no reason for it)."""
        return self.reasons[position] if position < len(self.reasons) else Reason("None", None)


def transact_write(items: Sequence[Mapping[str, Any]]) -> None:
    """Writes all items or none. Conflicts and throttling are retried; failed conditions are raised."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            client().transact_write_items(TransactItems=list(items))
            return
        except (ConnectionError, HTTPClientError) as err:
            # Whether it was applied is unknown: the caller retries with the same reference or key.
            raise ServiceUnavailable(details={"reason": "storage unreachable", "outcome": "unknown"}) from err
        except ClientError as err:
            reasons = _cancellation_reasons(err)
            retryable = _is_retryable(err, reasons)
            if not retryable:
                if reasons is not None:
                    raise TransactionCancelled(reasons) from err
                raise
            logger.info("transaction retried", extra={"attempt": attempt, "error": _error_code(err)})
            _backoff(attempt)
    raise ServiceUnavailable(details={"reason": "contention"})


def _is_retryable(err: ClientError, reasons: list[Reason] | None) -> bool:
    if reasons is None:
        return _error_code(err) in RETRYABLE_ERRORS
    codes = {r.code for r in reasons} - {"None"}
    # A failed condition is an answer, not contention: never retry it here.
    return bool(codes) and codes <= RETRYABLE_REASONS


def _cancellation_reasons(err: ClientError) -> list[Reason] | None:
    if _error_code(err) != "TransactionCanceledException":
        return None
    raw = err.response.get("CancellationReasons") or []
    return [
        Reason(code=r.get("Code", "None"), item=deserialize(r["Item"]) if r.get("Item") else None)
        for r in raw
    ]


def _error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _backoff(attempt: int) -> None:
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not security


def _call(operation: str, **params: Any) -> dict[str, Any]:
    """Single-item operations; botocore's standard retry mode already retries throttling for these."""
    try:
        response: dict[str, Any] = getattr(client(), operation)(**params)
    except (ConnectionError, HTTPClientError) as err:
        raise ServiceUnavailable(details={"reason": "storage unreachable"}) from err
    except ClientError as err:
        if _error_code(err) in RETRYABLE_ERRORS:
            raise ServiceUnavailable(details={"reason": "throttled"}) from err
        raise
    return response


def put(
    values: Mapping[str, Any], *, condition: str | None = None, names: dict[str, str] | None = None
) -> None:
    params: dict[str, Any] = {"TableName": table(), "Item": serialize(values)}
    if condition:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = names
    _call("put_item", **params)


def query(
    pk: str,
    *,
    sk_prefix: str | None = None,
    index: str | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[Item]:
    pk_name, sk_name = ("GSI1PK", "GSI1SK") if index else ("PK", "SK")
    expression = f"{pk_name} = :pk"
    values: dict[str, Any] = {":pk": {"S": pk}}
    if sk_prefix:
        expression += f" AND begins_with({sk_name}, :prefix)"
        values[":prefix"] = {"S": sk_prefix}
    params: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": expression,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": not newest_first,
    }
    if index:
        params["IndexName"] = index
    if limit:
        params["Limit"] = limit
    items: list[Item] = []
    while True:
        response = _call("query", **params)
        items.extend(deserialize(i) for i in response.get("Items", []))
        last = response.get("LastEvaluatedKey")
        if not last or (limit and len(items) >= limit):
            return items[:limit] if limit else items
        params["ExclusiveStartKey"] = last


class ConditionFailed(Exception):
    """A single-item write whose condition did not hold."""


def update(
    pk: str,
    sk: str,
    expression: str,
    values: Mapping[str, Any],
    *,
    condition: str | None = None,
    names: Mapping[str, str] | None = None,
) -> Item:
    """Updates one item and answers it as it is afterwards; raises ConditionFailed if `condition` fails."""
    params: dict[str, Any] = {
        "TableName": table(),
        "Key": key(pk, sk),
        "UpdateExpression": expression,
        "ReturnValues": "ALL_NEW",
    }
    if values:
        params["ExpressionAttributeValues"] = serialize(values)
    if condition:
        params["ConditionExpression"] = condition
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    try:
        return deserialize(_call("update_item", **params)["Attributes"])
    except ClientError as err:
        if _error_code(err) == "ConditionalCheckFailedException":
            raise ConditionFailed(pk) from err
        raise


def tx_put(
    values: Mapping[str, Any],
    *,
    condition: str = "attribute_not_exists(PK)",
    condition_values: Mapping[str, Any] | None = None,
    return_old: bool = False,
) -> dict[str, Any]:
    """A Put for `transact_write`; by default it only creates (never overwrites)."""
    put: dict[str, Any] = {"TableName": table(), "Item": serialize(values), "ConditionExpression": condition}
    if condition_values:
        put["ExpressionAttributeValues"] = serialize(condition_values)
    if return_old:
        put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Put": put}


def tx_check(pk: str, sk: str, condition: str) -> dict[str, Any]:
    """A ConditionCheck for `transact_write`: the transaction fails unless `condition` holds."""
    return {
        "ConditionCheck": {
            "TableName": table(),
            "Key": key(pk, sk),
            "ConditionExpression": condition,
        }
    }


def tx_update(
    pk: str,
    sk: str,
    expression: str,
    values: Mapping[str, Any],
    *,
    condition: str | None = None,
    return_old: bool = False,
) -> dict[str, Any]:
    """An Update for `transact_write`."""
    update: dict[str, Any] = {
        "TableName": table(),
        "Key": key(pk, sk),
        "UpdateExpression": expression,
        "ExpressionAttributeValues": serialize(values),
    }
    if condition:
        update["ConditionExpression"] = condition
    if return_old:
        update["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    return {"Update": update}
