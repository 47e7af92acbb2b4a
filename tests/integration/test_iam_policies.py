"""Least privilege that still works: every AWS call a function makes is allowed by its own IAM policy
in template.yaml, and every action a policy allows is one the function makes. (moto does not enforce
IAM, so without this a missing action only shows in AWS.)"""

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from craiverse import db, notifications
from devkit.template import load_template
from tests.conftest import ROOT, invoke_function, load_event, load_function

TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = {Path(fn.code_uri).name: fn.logical_id for fn in TEMPLATE.functions().values()}
API_FUNCTIONS = sorted(name for name in FUNCTIONS if name != "authorizer")

Call = tuple[str, str | None]  # ("dynamodb:UpdateItem", partition key or None)


def allowed(function: str) -> list[tuple[str, list[str] | None]]:
    """(action, LeadingKeys patterns or None) for every Allow statement of a function's policies."""
    resources = TEMPLATE.data["Resources"]
    policies = resources[FUNCTIONS[function]]["Properties"]["Policies"]
    statements: list[dict[str, Any]] = []
    for policy in policies:
        if isinstance(policy, dict) and "Ref" in policy:
            statements += resources[policy["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
        else:
            statements += policy["Statement"]
    rules = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        leading = (
            (statement.get("Condition") or {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")
        )
        rules += [(action, leading) for action in actions]
    return rules


def permits(rules: list[tuple[str, list[str] | None]], call: Call) -> bool:
    action, partition = call
    return any(
        rule == action
        and (leading is None or (partition and any(fnmatch.fnmatch(partition, p) for p in leading)))
        for rule, leading in rules
    )


@pytest.fixture
def recorded(accounts: tuple[str, str]) -> Iterator[list[Call]]:
    calls: list[Call] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.extend(iam_actions(model.service_model.endpoint_prefix, model.name, params))

    clients = [db.client(), notifications.client()]
    for client in clients:
        client.meta.events.register("before-parameter-build.*.*", record)
    yield calls
    for client in clients:
        client.meta.events.unregister("before-parameter-build.*.*", record)


# A transaction is authorised item by item, with the item's own action.
TRANSACTION_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def iam_actions(service: str, operation: str, params: dict[str, Any]) -> list[Call]:
    if operation == "TransactWriteItems":
        return [
            (f"dynamodb:{TRANSACTION_ACTIONS[kind]}", partition_of(spec))
            for item in params["TransactItems"]
            for kind, spec in item.items()
        ]
    if operation == "TransactGetItems":
        return [("dynamodb:GetItem", partition_of(item["Get"])) for item in params["TransactItems"]]
    return [(f"{service}:{operation}", partition_of(params))]


def partition_of(spec: dict[str, Any]) -> str | None:
    key = spec.get("Key") or spec.get("Item") or {}
    value = key.get("PK", {}).get("S")
    return str(value) if value is not None else None


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_every_call_of_a_function_is_allowed_by_its_policy(function: str, recorded: list[Call]) -> None:
    if function == "credits_deduct":
        invoke_function("credits_add", load_event("credits_add"))
        recorded.clear()
    status, body, _ = invoke_function(function, load_event(function))

    assert status < 300, body
    assert recorded, "the scenario made no AWS call"
    rules = allowed(function)
    assert [call for call in recorded if not permits(rules, call)] == []


# (status, body changes) of a request a movement function refuses after trying its transaction.
REFUSALS: dict[str, tuple[int, dict[str, Any]]] = {
    "credits_add": (404, {"user_id": "33333333-3333-4333-8333-333333333333", "source_reference": "ch_none"}),
    "credits_deduct": (402, {"amount": 10**9}),
}


@pytest.mark.parametrize("function", API_FUNCTIONS)
def test_a_function_is_allowed_no_action_it_never_makes(function: str, recorded: list[Call]) -> None:
    """Its sample request twice (the second is a replay, or finds what the first made) and, for a
    movement of credits, a refused one: between them they take every path that touches AWS."""
    if function == "credits_deduct":
        invoke_function("credits_add", load_event("credits_add"))
        recorded.clear()
    event = load_event(function)
    for _ in range(2):
        assert invoke_function(function, event)[0] < 300
    if function in REFUSALS:
        refused = load_event(function)
        refused["body"] = json.dumps(json.loads(refused["body"]) | REFUSALS[function][1])
        refused["headers"].pop("Idempotency-Key", None)
        refused["multiValueHeaders"].pop("Idempotency-Key", None)
        assert invoke_function(function, refused)[0] == REFUSALS[function][0]

    unused = {action for action, _ in allowed(function)} - {action for action, _ in recorded}
    assert unused == set()


def test_the_authorizers_lookup_is_allowed(recorded: list[Call]) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        load_function("authorizer").handler(load_event("authorizer"), None)

    rules = allowed("authorizer")
    assert recorded == [("dynamodb:GetItem", recorded[0][1])]
    assert permits(rules, recorded[0])


def test_read_only_functions_write_nothing_but_their_rate_counter() -> None:
    for function in ("credits_balance", "user_profile_get", "customer_dashboard", "customer_tickets_list"):
        writes = [
            a for a, leading in allowed(function) if a.split(":")[1].startswith(("Put", "Update", "Delete"))
        ]
        assert writes == ["dynamodb:UpdateItem"], function
        assert ("dynamodb:UpdateItem", ["RATE#*"]) in allowed(function)
