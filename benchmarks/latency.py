"""Figure 3: warm latency of balance and deduct through the local runner, against the same DynamoDB calls
made directly with boto3 on the same embedded backend.

The API path is the whole local stack: HTTP to the runner's gateway, the (cached) authorizer, the proxy
event, the handler with validation, rate limiting, logging, and its calls to the embedded moto server.
The raw path makes the calls the handler makes (the rate-limit UpdateItem, then for a balance the
consistent GetItem and for a deduction the TransactWriteItems of account, ledger entry and usage
counters) on an account of its own, with a plain boto3 client configured like the product's. The two
paths run one after another in a shuffled order in every round, so a busy machine slows them alike.
The ratio is the overhead of everything that is not DynamoDB, as the local stack runs it.
"""

from __future__ import annotations

import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks import sandbox
from benchmarks.calls import DynamoCalls

_RAW_USER = "raw-" + uuid.uuid4().hex


@dataclass
class Percentiles:
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float


@dataclass
class OperationResult:
    name: str
    api: Percentiles
    raw: Percentiles
    api_calls: list[str]
    raw_calls: list[str]

    @property
    def p50_overhead_ms(self) -> float:
        return round(self.api.p50_ms - self.raw.p50_ms, 2)

    @property
    def p50_ratio(self) -> float:
        return round(self.api.p50_ms / self.raw.p50_ms, 2)

    @property
    def p99_ratio(self) -> float:
        return round(self.api.p99_ms / self.raw.p99_ms, 2)


@dataclass
class LatencyResult:
    samples: int
    operations: list[OperationResult]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LatencyResult:
        operations = [
            OperationResult(
                name=o["name"],
                api=Percentiles(**o["api"]),
                raw=Percentiles(**o["raw"]),
                api_calls=o["api_calls"],
                raw_calls=o["raw_calls"],
            )
            for o in data["operations"]
        ]
        return cls(data["samples"], operations)


def percentiles(samples_ms: list[float]) -> Percentiles:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return Percentiles(
        round(statistics.median(samples_ms), 3),
        round(cuts[89], 3),
        round(cuts[98], 3),
        round(statistics.fmean(samples_ms), 3),
    )


def measure(samples: int = 400, warmup: int = 40) -> LatencyResult:
    with sandbox.local_api() as api:
        from craiverse import db

        http = sandbox.Http(api.url)
        service_key = sandbox.demo_keys()["market-oracle"]
        user_id, key = sandbox.new_account(10**9, grant_key=service_key, api=http)
        raw = RawCalls(_raw_client(), db.table())
        raw.open_account(10**9)

        body = {"user_id": user_id, "amount": 1, "source_app": "bench", "source_action": "spend"}
        paths: dict[str, dict[str, Callable[[], Any]]] = {
            "GET /credits/balance": {
                "api": lambda: _expect(http.call("GET", f"/credits/balance?user_id={user_id}", key), 200),
                "raw": raw.balance,
            },
            "POST /credits/deduct": {
                "api": lambda: _expect(http.call("POST", "/credits/deduct", key, body=body), 200),
                "raw": raw.deduct,
            },
        }
        timings = _time(paths, samples, warmup)
        calls = {name: _calls_of(ops, db.client(), raw.client) for name, ops in paths.items()}
    return LatencyResult(
        samples,
        [
            OperationResult(
                name,
                percentiles(timings[name]["api"]),
                percentiles(timings[name]["raw"]),
                *calls[name],
            )
            for name in paths
        ],
    )


def _time(
    paths: dict[str, dict[str, Callable[[], Any]]], samples: int, warmup: int
) -> dict[str, dict[str, list[float]]]:
    timings: dict[str, dict[str, list[float]]] = {name: {"api": [], "raw": []} for name in paths}
    runs = [(name, side) for name in paths for side in ("api", "raw")]
    for round_ in range(warmup + samples):
        for name, side in random.sample(runs, len(runs)):
            started = time.perf_counter()
            paths[name][side]()
            elapsed = (time.perf_counter() - started) * 1000
            if round_ >= warmup:
                timings[name][side].append(elapsed)
    return timings


def _calls_of(
    ops: dict[str, Callable[[], Any]], api_client: Any, raw_client: Any
) -> tuple[list[str], list[str]]:
    """The DynamoDB calls of one request on each path (they must match for the ratio to mean anything)."""
    with DynamoCalls(api_client) as recorder:
        ops["api"]()
        api_calls = recorder.operations()
    with DynamoCalls(raw_client) as recorder:
        ops["raw"]()
        raw_calls = recorder.operations()
    return api_calls, raw_calls


def _expect(answer: tuple[int, dict[str, Any]], status: int) -> None:
    if answer[0] != status:
        raise RuntimeError(f"expected {status}, got {answer}")


def _raw_client() -> Any:
    """A boto3 client like `craiverse.db.client()`, on the embedded backend the environment names."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("dynamodb", config=config)


@dataclass
class RawCalls:
    """The handler's DynamoDB calls, written out with the low-level client on an account of their own."""

    client: Any
    table: str

    def open_account(self, balance: int) -> None:
        item = {
            "PK": {"S": f"USER#{_RAW_USER}"},
            "SK": {"S": "CREDITS"},
            "entity": {"S": "credit_account"},
            "user_id": {"S": _RAW_USER},
            "balance": {"N": str(balance)},
            "lifetime_earned": {"N": str(balance)},
            "lifetime_spent": {"N": "0"},
            "updated_at": {"S": _now()},
        }
        self.client.put_item(TableName=self.table, Item=item)

    def balance(self) -> dict[str, Any]:
        self._count_request("read")
        return self._account()

    def deduct(self) -> None:
        self._count_request("write")
        entry_id = f"le_{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex[:16]}"
        now = _now()
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": self._key("CREDITS"),
                        "UpdateExpression": "ADD balance :delta, lifetime_spent :amount "
                        "SET updated_at = :now",
                        "ConditionExpression": "attribute_exists(PK) AND balance >= :amount",
                        "ExpressionAttributeValues": {
                            ":delta": {"N": "-1"},
                            ":amount": {"N": "1"},
                            ":now": {"S": now},
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": self._entry(entry_id, now),
                        "ConditionExpression": "attribute_not_exists(PK)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": self._key(f"USAGE#{now[:7]}"),
                        "UpdateExpression": "ADD credits_used :amount, deductions :one, apps :app "
                        "SET user_id = :user, updated_at = :now",
                        "ExpressionAttributeValues": {
                            ":amount": {"N": "1"},
                            ":one": {"N": "1"},
                            ":app": {"SS": ["bench"]},
                            ":user": {"S": _RAW_USER},
                            ":now": {"S": now},
                        },
                    }
                },
            ]
        )

    def _account(self) -> dict[str, Any]:
        item: dict[str, Any] = self.client.get_item(
            TableName=self.table, Key=self._key("CREDITS"), ConsistentRead=True
        )["Item"]
        return item

    def _count_request(self, category: str) -> None:
        window = int(time.time()) // 3600 * 3600
        self.client.update_item(
            TableName=self.table,
            Key={"PK": {"S": f"RATE#raw#{category}#{window}"}, "SK": {"S": "RATE"}},
            UpdateExpression="ADD #count :one SET expires_at = if_not_exists(expires_at, :expires)",
            ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames={"#count": "request_count"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": "100000"},
                ":expires": {"N": str(window + 7200)},
            },
            ReturnValues="ALL_NEW",
        )

    def _key(self, sk: str) -> dict[str, Any]:
        return {"PK": {"S": f"USER#{_RAW_USER}"}, "SK": {"S": sk}}

    def _entry(self, entry_id: str, now: str) -> dict[str, Any]:
        return {
            "PK": {"S": f"USER#{_RAW_USER}"},
            "SK": {"S": f"LEDGER#{entry_id}"},
            "entity": {"S": "ledger_entry"},
            "entry_id": {"S": entry_id},
            "user_id": {"S": _RAW_USER},
            "type": {"S": "debit"},
            "amount": {"N": "1"},
            "actor_key_id": {"S": "key_raw"},
            "created_at": {"S": now},
            "GSI1PK": {"S": f"ACTIVITY#{_RAW_USER}"},
            "GSI1SK": {"S": f"{now}#{entry_id}"},
            "source_app": {"S": "bench"},
            "source_action": {"S": "spend"},
        }


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
