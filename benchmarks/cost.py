"""Figure 5: what a million requests of each endpoint cost at AWS list prices.

The prices are assumptions written down here, not looked up: AWS list prices for us-east-1 as last known
(Lambda arm64 duration and requests, API Gateway REST requests in the first volume tier, DynamoDB
on-demand request units after the November 2024 price cut). Free tiers, CloudWatch Logs, X-Ray traces,
data transfer and storage are left out. Check them against the AWS price pages before relying on them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.endpoints import CallRecord, EndpointsResult, ScenarioResult

REGION = "us-east-1"
LAMBDA_ARM64_PER_GB_SECOND = 0.0000133334
LAMBDA_PER_MILLION_REQUESTS = 0.20
API_GATEWAY_REST_PER_MILLION = 3.50
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
SQS_PER_MILLION_REQUESTS = 0.40
# Lambda bills the handler's wall time; DynamoDB answers in-region in a few milliseconds. These stand in
# for measurements we cannot make here.
ASSUMED_CALL_MS = 5.0
ASSUMED_TRANSACTION_MS = 10.0
ASSUMED_AUTHORIZER_CODE_MS = 3.0

PRICES = (
    ("Lambda arm64 duration", f"${LAMBDA_ARM64_PER_GB_SECOND:.10f} per GB-second"),
    ("Lambda requests", f"${LAMBDA_PER_MILLION_REQUESTS:.2f} per million"),
    (
        "API Gateway REST API requests",
        f"${API_GATEWAY_REST_PER_MILLION:.2f} per million (first 333 million a month)",
    ),
    ("DynamoDB on-demand writes", f"${DYNAMODB_PER_MILLION_WRITE_UNITS} per million write request units"),
    ("DynamoDB on-demand reads", f"${DYNAMODB_PER_MILLION_READ_UNITS} per million read request units"),
    ("SQS standard queue requests", f"${SQS_PER_MILLION_REQUESTS:.2f} per million (64 KB chunks)"),
)


@dataclass(frozen=True)
class Cost:
    """Dollars per million requests, by part."""

    name: str
    read_units: float
    write_units: float
    billed_ms: int
    api_gateway: float
    lambda_requests: float
    lambda_duration: float
    dynamodb: float
    other: float = 0.0

    @property
    def total(self) -> float:
        return self.api_gateway + self.lambda_requests + self.lambda_duration + self.dynamodb + self.other


def assumed_dynamodb_ms(calls: list[CallRecord]) -> float:
    """Assumed time in DynamoDB: calls one after another add up; a call made side by side with the one
    before it (`concurrent`) only counts for what it takes longer."""
    total, group = 0.0, 0.0
    for call in calls:
        latency = ASSUMED_TRANSACTION_MS if call.label.startswith("Transact") else ASSUMED_CALL_MS
        if call.concurrent:
            group = max(group, latency)
        else:
            total += group
            group = latency
    return total + group


def lambda_duration(billed_ms: int, memory_mb: int) -> float:
    return billed_ms / 1000 * memory_mb / 1024 * LAMBDA_ARM64_PER_GB_SECOND * 1_000_000


def dynamodb(read_units: float, write_units: float) -> float:
    return read_units * DYNAMODB_PER_MILLION_READ_UNITS + write_units * DYNAMODB_PER_MILLION_WRITE_UNITS


def scenario_cost(scenario: ScenarioResult, memory_mb: int) -> Cost:
    units = scenario.units
    billed_ms = math.ceil(scenario.code_ms + assumed_dynamodb_ms(scenario.calls))
    return Cost(
        name=scenario.name,
        read_units=units.read,
        write_units=units.write,
        billed_ms=billed_ms,
        api_gateway=API_GATEWAY_REST_PER_MILLION,
        lambda_requests=LAMBDA_PER_MILLION_REQUESTS,
        lambda_duration=lambda_duration(billed_ms, memory_mb),
        dynamodb=dynamodb(units.read, units.write),
        other=sum(SQS_PER_MILLION_REQUESTS for call in scenario.other_calls if call.startswith("SQS ")),
    )


def authorizer_cost(result: EndpointsResult, memory_mb: int) -> Cost:
    """One authorizer invocation: paid once per key and cache period (AuthorizerCacheSeconds), not per
    request."""
    read = sum(c.read_units for c in result.authorizer)
    billed_ms = math.ceil(ASSUMED_AUTHORIZER_CODE_MS + assumed_dynamodb_ms(result.authorizer))
    return Cost(
        name="authorizer, per cache miss",
        read_units=read,
        write_units=0.0,
        billed_ms=billed_ms,
        api_gateway=0.0,
        lambda_requests=LAMBDA_PER_MILLION_REQUESTS,
        lambda_duration=lambda_duration(billed_ms, memory_mb),
        dynamodb=dynamodb(read, 0.0),
    )
