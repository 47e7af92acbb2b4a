"""Figures 1 and 5 share this: each endpoint's typical requests, run through the local runner while every
DynamoDB call of the shared client is recorded, with the capacity units each call consumes.

A scenario is one request in a known state (a replay first makes the request it replays). Each runs
`repeats` times; the calls come from the first run (they do not vary), the time of our own code (the
request's wall time minus the time spent inside DynamoDB calls) is the median of all runs.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks import sandbox
from benchmarks.calls import AUTHORIZER, Call, DynamoCalls, ServiceCalls
from benchmarks.capacity import Units, call_units, moto_reported

Send = Callable[[], tuple[int, dict[str, Any]]]


@dataclass
class Subject:
    """The caller and account every scenario acts on."""

    http: sandbox.Http
    user_id: str
    user_key: str
    service_key: str
    admin_key: str

    def call(
        self, method: str, path: str, key: str | None = None, **kwargs: Any
    ) -> tuple[int, dict[str, Any]]:
        return self.http.call(method, path, key or self.user_key, **kwargs)


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str
    expected: int
    # Builds the request to measure; it may first make uncounted requests (the original of a replay).
    prepare: Callable[[Subject], Send]


def _balance(s: Subject) -> Send:
    return lambda: s.call("GET", f"/credits/balance?user_id={s.user_id}")


def _add(s: Subject, reference: str | None = None) -> Send:
    body = {
        "user_id": s.user_id,
        "amount": 10,
        "source": "purchase",
        "source_reference": reference or _token(),
    }
    return lambda: s.call("POST", "/credits/add", s.service_key, body=body)


def _add_replay(s: Subject) -> Send:
    send = _add(s, _token())
    send()
    return send


def _deduct(s: Subject, *, amount: int = 1, key: str | None = None) -> Send:
    body = {"user_id": s.user_id, "amount": amount, "source_app": "bench", "source_action": "spend"}
    headers = {"Idempotency-Key": key} if key else None
    return lambda: s.call("POST", "/credits/deduct", body=body, headers=headers)


def _deduct_replay(s: Subject) -> Send:
    send = _deduct(s, key=_token())
    send()
    return send


def _over_limit(s: Subject) -> Send:
    """A key allowed one read per hour, asking for its second."""
    from craiverse import apikeys, clock

    secret, key = apikeys.create(
        principal_type=apikeys.PrincipalType.USER,
        principal_id=s.user_id,
        tier="free",
        created_at=clock.iso(clock.now()),
    )
    apikeys.set_rate_limits(key.key_id, {"read": 1})
    path = f"/credits/balance?user_id={s.user_id}"
    s.call("GET", path, secret)
    return lambda: s.call("GET", path, secret)


def _dashboard(s: Subject) -> Send:
    return lambda: s.call("GET", f"/customer/dashboard?user_id={s.user_id}")


def _profile(s: Subject) -> Send:
    return lambda: s.call("GET", f"/user/profile?user_id={s.user_id}")


def _profile_update(s: Subject) -> Send:
    body = {"user_id": s.user_id, "display_name": f"Bench {_token()[:8]}"}
    return lambda: s.call("PATCH", "/user/profile", body=body)


def _sign_up(s: Subject, email: str | None = None) -> Send:
    body = {"email": email or f"{_token()}@bench.example", "display_name": "Bench"}
    return lambda: s.call("POST", "/users", s.admin_key, body=body)


def _sign_up_again(s: Subject) -> Send:
    send = _sign_up(s)
    send()
    return send


def _ticket(s: Subject) -> Send:
    body = {
        "user_id": s.user_id,
        "subject": "Benchmark ticket",
        "description": "Opened by the benchmarks.",
        "priority": "low",
        "category": "general",
    }
    return lambda: s.call("POST", "/customer/tickets", body=body)


def _tickets(s: Subject) -> Send:
    return lambda: s.call("GET", f"/customer/tickets?user_id={s.user_id}&limit=20")


def _token() -> str:
    return uuid.uuid4().hex


SCENARIOS = (
    Scenario("balance", "GET", "/credits/balance", 200, _balance),
    Scenario("add", "POST", "/credits/add", 200, _add),
    Scenario("add, replayed reference", "POST", "/credits/add", 200, _add_replay),
    Scenario("deduct", "POST", "/credits/deduct", 200, _deduct),
    Scenario(
        "deduct, new Idempotency-Key", "POST", "/credits/deduct", 200, lambda s: _deduct(s, key=_token())
    ),
    Scenario("deduct, replayed Idempotency-Key", "POST", "/credits/deduct", 200, _deduct_replay),
    Scenario(
        "deduct, insufficient credits", "POST", "/credits/deduct", 402, lambda s: _deduct(s, amount=10**9)
    ),
    Scenario("any keyed request over its hourly limit", "GET", "/credits/balance", 429, _over_limit),
    Scenario("dashboard", "GET", "/customer/dashboard", 200, _dashboard),
    Scenario("profile", "GET", "/user/profile", 200, _profile),
    Scenario("profile update", "PATCH", "/user/profile", 200, _profile_update),
    Scenario("sign-up", "POST", "/users", 201, _sign_up),
    Scenario("sign-up, email already known", "POST", "/users", 200, _sign_up_again),
    Scenario("ticket", "POST", "/customer/tickets", 201, _ticket),
    Scenario("ticket list", "GET", "/customer/tickets", 200, _tickets),
)


@dataclass
class CallRecord:
    party: str
    label: str
    error: str | None
    read_units: float
    write_units: float
    moto_units: float | None
    # Started while an earlier call of the same request was in flight.
    concurrent: bool = False


@dataclass
class ScenarioResult:
    name: str
    route: str
    status: int
    expected: int
    calls: list[CallRecord]
    other_calls: list[str]
    code_ms: float
    dynamodb_ms: float

    @property
    def units(self) -> Units:
        return Units(sum(c.read_units for c in self.calls), sum(c.write_units for c in self.calls))


@dataclass
class EndpointsResult:
    scenarios: list[ScenarioResult]
    authorizer: list[CallRecord]
    unmeasured_routes: list[str]
    index_keys: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EndpointsResult:
        scenarios = [
            ScenarioResult(**{**s, "calls": [CallRecord(**c) for c in s["calls"]]}) for s in data["scenarios"]
        ]
        authorizer = [CallRecord(**c) for c in data["authorizer"]]
        return cls(scenarios, authorizer, data["unmeasured_routes"], data["index_keys"])


def measure(repeats: int = 5) -> EndpointsResult:
    with sandbox.local_api() as api:
        from craiverse import db

        routes = {f"{r.method} {r.path}" for r in api.template.routes()}
        index_keys = _index_hash_keys(api.template)
        http = sandbox.Http(api.url)
        keys = sandbox.demo_keys()
        service_key = keys["market-oracle"]
        user_id, user_key = sandbox.new_account(10_000, grant_key=service_key, api=http)
        subject = Subject(http, user_id, user_key, service_key, keys["operator"])
        stored = _stored_items()
        others = _other_clients()

        with DynamoCalls(db.client(), consumed_capacity=True) as recorder:
            # The first request of a key runs the authorizer; later ones hit its cache.
            subject.call("GET", f"/credits/balance?user_id={user_id}")
            authorizer = [_record(c, stored, index_keys) for c in recorder.take() if c.party == AUTHORIZER]
            for key in (service_key, keys["operator"]):
                subject.call("GET", f"/credits/balance?user_id={user_id}", key)
            recorder.take()
            results = [
                _run(scenario, subject, recorder, others, stored, index_keys, repeats)
                for scenario in SCENARIOS
                if f"{scenario.method} {scenario.path}" in routes
            ]
        for other in others:
            other.close()
        measured = {r.route for r in results}
        return EndpointsResult(results, authorizer, sorted(routes - measured), list(index_keys))


def _run(
    scenario: Scenario,
    subject: Subject,
    recorder: DynamoCalls,
    others: list[ServiceCalls],
    stored: Callable[[tuple[str, str]], Any],
    index_keys: tuple[str, ...],
    repeats: int,
) -> ScenarioResult:
    first: list[Call] = []
    other_calls: list[str] = []
    status = 0
    code_ms: list[float] = []
    dynamodb_ms: list[float] = []
    for attempt in range(repeats):
        send = scenario.prepare(subject)
        recorder.take()
        for other in others:
            other.take()
        started = time.perf_counter()
        status, _ = send()
        elapsed = time.perf_counter() - started
        calls = recorder.take()
        if attempt == 0:
            other_calls = [call for other in others for call in other.take()]
        in_dynamodb = _covered(calls)
        code_ms.append((elapsed - in_dynamodb) * 1000)
        dynamodb_ms.append(in_dynamodb * 1000)
        if attempt == 0:
            first = calls
    return ScenarioResult(
        name=scenario.name,
        route=f"{scenario.method} {scenario.path}",
        status=status,
        expected=scenario.expected,
        calls=[_record(c, stored, index_keys, _overlaps(c, first)) for c in first],
        other_calls=other_calls,
        code_ms=round(statistics.median(code_ms), 2),
        dynamodb_ms=round(statistics.median(dynamodb_ms), 2),
    )


def _record(
    call: Call,
    stored: Callable[[tuple[str, str]], Any],
    index_keys: tuple[str, ...],
    concurrent: bool = False,
) -> CallRecord:
    units = call_units(call, stored, index_keys)
    return CallRecord(
        call.party, call.label(), call.error, units.read, units.write, moto_reported(call), concurrent
    )


def _covered(calls: list[Call]) -> float:
    """Seconds during which at least one call was in flight (a handler may run calls side by side)."""
    total, reach = 0.0, float("-inf")
    for call in sorted(calls, key=lambda c: c.started):
        end = call.started + call.elapsed
        if end > reach:
            total += end - max(call.started, reach)
            reach = end
    return total


def _overlaps(call: Call, calls: list[Call]) -> bool:
    """Whether an earlier call was still in flight when `call` started."""
    return any(
        other.started <= call.started < other.started + other.elapsed
        for other in calls
        if other is not call and other.started <= call.started
    )


def _other_clients() -> list[ServiceCalls]:
    """A counter on every other AWS client the layer keeps (`craiverse.notifications.client()`, ...)."""
    import sys

    counters = []
    for name, module in list(sys.modules.items()):
        factory: Any = getattr(module, "client", None)
        if name.startswith("craiverse.") and name != "craiverse.db" and hasattr(factory, "cache_clear"):
            counters.append(ServiceCalls(factory()))
    return counters


def _stored_items() -> Callable[[tuple[str, str]], Any]:
    """Reads an item as stored now, with a client of its own (not recorded)."""
    import boto3

    from craiverse import db

    client = boto3.client("dynamodb")

    def stored(key: tuple[str, str]) -> Any:
        return client.get_item(TableName=db.table(), Key=db.key(*key), ConsistentRead=True).get("Item")

    return stored


def _index_hash_keys(template: Any) -> tuple[str, ...]:
    names: list[str] = []
    for table in template.tables():
        for index in table.properties.get("GlobalSecondaryIndexes", []):
            names += [k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH"]
    return tuple(names)
