"""Markdown for each figure, and its place in BENCHMARKS.md between `<!-- bench:NAME -->` markers."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import cost
from benchmarks.calls import AUTHORIZER, ENDPOINT, RATE_LIMIT
from benchmarks.coldstart import BASELINE, BUDGET, ColdStartResult
from benchmarks.contention import ContentionResults
from benchmarks.endpoints import CallRecord, EndpointsResult
from benchmarks.latency import LatencyResult

REPORT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def machine() -> str:
    return (
        f"{platform.machine()}, {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def header(figure: str, machine_line: str, when: datetime) -> str:
    return (
        f"_Produced by `make bench` (this figure alone: `.venv/bin/python -m benchmarks --only {figure}`) "
        f"on {when:%Y-%m-%d %H:%M} UTC; machine: {machine_line}._\n"
    )


def _calls(calls: list[CallRecord]) -> str:
    return " + ".join(c.label + (f" ({c.error})" if c.error else "") for c in calls) or "none"


def roundtrips(result: EndpointsResult) -> str:
    rows = [
        "| request | status | rate limit | endpoint's own calls | DynamoDB round trips | other AWS calls |",
        "|---|---|---|---|---|---|",
    ]
    for s in result.scenarios:
        limit = [c for c in s.calls if c.party == RATE_LIMIT]
        own = [c for c in s.calls if c.party == ENDPOINT]
        status = str(s.status) if s.status == s.expected else f"**{s.status}** (expected {s.expected})"
        rows.append(
            f"| `{s.route}` {s.name} | {status} | {len(limit)} | {len(own)}: {_calls(own)} "
            f"| **{len(s.calls)}** | {', '.join(s.other_calls) or '-'} |"
        )
    rows.append(
        f"| authorizer, first request of a key in a cache period | - | 0 | "
        f"{len(result.authorizer)}: {_calls(result.authorizer)} | **{len(result.authorizer)}** | - |"
    )
    stray = [c for s in result.scenarios for c in s.calls if c.party == AUTHORIZER]
    notes = []
    if stray:
        notes.append(f"\n{len(stray)} authorizer call(s) were counted inside scenarios (cache misses).")
    if result.unmeasured_routes:
        notes.append(
            "\nRoutes in template.yaml without a scenario yet: "
            + ", ".join(f"`{r}`" for r in result.unmeasured_routes)
            + "."
        )
    return "\n".join(rows) + "\n" + "".join(notes)


def coldstart(result: ColdStartResult) -> str:
    rows = [
        "| function | import + client, CPU ms | **x baseline** | wall ms | x baseline (wall) "
        "| compiling our sources, ms | left for the first request, ms | heavy SDKs loaded | within 1.3x |",
        "|---|---|---|---|---|---|---|---|---|",
        f'| {BASELINE}: `import boto3; boto3.client("dynamodb")` | {result.baseline_cpu_ms} | 1.00 '
        f"| {result.baseline_wall_ms} | 1.00 | - | - | - | - |",
    ]
    functions = [f for f in result.functions if not f.breakdown]
    for f in functions:
        sdks = ", ".join(f.loaded_sdks) or "none"
        if f.unused_sdks:
            sdks += " (**unused: " + ", ".join(f.unused_sdks) + "**)"
        verdict = "yes" if f.within_budget else "**no**"
        if not f.in_budget_scope:
            verdict = "exempt (uses " + ", ".join(f.used_sdks) + ")"
        rows.append(
            f"| {f.name} | {f.cpu_ms} | **{f.cpu_ratio:.2f}** | {f.wall_ms} | {f.ratio:.2f} | {f.compile_ms} "
            f"| {f.deferred_ms} | {sdks} | {verdict} |"
        )
    over = [f.name for f in functions if f.in_budget_scope and not f.within_budget]
    unused = [f.name for f in functions if f.unused_sdks]
    summary = (
        f"\nMedians of {result.rounds} interleaved rounds. Over the {BUDGET}x budget: "
        f"{', '.join(over) if over else 'none'}. "
        f"Functions loading an SDK they do not use: {', '.join(unused) if unused else 'none'}.\n"
    )
    return "\n".join(rows) + "\n" + summary + _coldstart_breakdown(result)


def _coldstart_breakdown(result: ColdStartResult) -> str:
    runs = [f for f in result.functions if f.breakdown]
    if not runs:
        return ""
    name = runs[0].name.split(",")[0]
    (full,) = [f for f in result.functions if f.name == name]
    rows = [
        "",
        f"Where the time goes ({name}, CPU ms, the same medians):",
        "",
        "| run | import + client, CPU ms | x baseline | difference to the full run, ms |",
        "|---|---|---|---|",
        f"| full | {full.cpu_ms} | {full.cpu_ratio:.2f} | - |",
    ]
    rows += [
        f"| {f.name.split(', ', 1)[1]} | {f.cpu_ms} | {f.cpu_ratio:.2f} | {full.cpu_ms - f.cpu_ms:.1f} |"
        for f in runs
    ]
    return "\n".join(rows) + "\n"


def latency(result: LatencyResult) -> str:
    rows = [
        "| operation | path | p50 ms | p90 ms | p99 ms | mean ms | DynamoDB calls |",
        "|---|---|---|---|---|---|---|",
    ]
    ratios = ["", "| operation | p50 ratio | p99 ratio | p50 overhead, ms |", "|---|---|---|---|"]
    for o in result.operations:
        for side, p, calls in (("local runner", o.api, o.api_calls), ("raw boto3", o.raw, o.raw_calls)):
            rows.append(
                f"| `{o.name}` | {side} | {p.p50_ms:.2f} | {p.p90_ms:.2f} | {p.p99_ms:.2f} | {p.mean_ms:.2f} "
                f"| {' + '.join(calls)} |"
            )
        ratios.append(f"| `{o.name}` | **{o.p50_ratio:.2f}** | **{o.p99_ratio:.2f}** | {o.p50_overhead_ms} |")
    same = all(o.api_calls == o.raw_calls for o in result.operations)
    note = (
        f"\n{result.samples} samples per path after warm-up. The two paths make "
        f"{'the same' if same else '**different**'} DynamoDB calls.\n"
    )
    return "\n".join(rows + ratios) + "\n" + note


def contention(result: ContentionResults) -> str:
    rows = [
        "| run | clients | accounts | requests | seconds | requests/s | accepted/s | answers "
        "| transactions per request | p50 / p99 ms | exact |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    checks = ["", "| run | check | result |", "|---|---|---|"]
    for r in result.runs:
        answers = ", ".join(f"{n} x {status}" for status, n in r.statuses.items())
        rows.append(
            f"| {r.name} | {r.clients} | {r.accounts} | {r.requests} | {r.seconds} | {r.throughput} "
            f"| {r.accepted_per_second} | {answers} | {r.transactions_per_request} "
            f"({r.cancelled_transactions} of {r.transactions} cancelled) | {r.p50_ms} / {r.p99_ms} "
            f"| {'yes' if r.exact else '**NO**'} |"
        )
        checks += [
            f"| {r.name} | {c.name} | {'pass' if c.passed else '**FAIL**'}: {c.detail} |" for c in r.checks
        ]
    return "\n".join(rows + checks) + "\n"


def cost_table(result: EndpointsResult, memory_mb: int) -> str:
    rows = [
        "| request | read units | write units | billed ms (assumed) | API Gateway | Lambda requests "
        "| Lambda duration | DynamoDB | SQS | **total** |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    costs = [cost.scenario_cost(s, memory_mb) for s in result.scenarios if s.status in {200, 201, 402}]
    costs.append(cost.authorizer_cost(result, memory_mb))
    for c in costs:
        rows.append(
            f"| {c.name} | {c.read_units:g} | {c.write_units:g} | {c.billed_ms} | ${c.api_gateway:.2f} "
            f"| ${c.lambda_requests:.2f} | ${c.lambda_duration:.2f} | ${c.dynamodb:.2f} | ${c.other:.2f} "
            f"| **${c.total:.2f}** |"
        )
    return "\n".join(rows) + "\n" + _cost_notes(result, memory_mb)


def _cost_notes(result: EndpointsResult, memory_mb: int) -> str:
    prices = "\n".join(f"- {name}: {price}" for name, price in cost.PRICES)
    moto = sorted(
        {
            f"{c.label}: {c.moto_units:g}"
            for s in result.scenarios
            for c in s.calls
            if c.moto_units is not None and c.party == ENDPOINT
        }
    )
    indexes = ", ".join(result.index_keys) or "none"
    return (
        f"\nDollars per million requests, {cost.REGION}, functions at {memory_mb} MB arm64. "
        f"Assumed prices:\n\n{prices}\n\n"
        "Billed duration = our code's measured time (the request's wall time minus the time inside "
        "DynamoDB calls; an upper bound, it includes the local gateway) "
        f"+ {cost.ASSUMED_CALL_MS:g} ms per DynamoDB call and {cost.ASSUMED_TRANSACTION_MS:g} ms per "
        "transaction (assumed in-region latency). Units from item sizes; global index keys written: "
        f"{indexes}. moto's own figures, for comparison: {'; '.join(moto) or 'none'}.\n"
    )


def replace_block(text: str, figure: str, block: str) -> str:
    pattern = re.compile(rf"(<!-- bench:{figure} -->\n).*?(<!-- /bench:{figure} -->)", re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"BENCHMARKS.md has no <!-- bench:{figure} --> ... <!-- /bench:{figure} --> block")
    return pattern.sub(lambda m: m.group(1) + block.rstrip("\n") + "\n" + m.group(2), text, count=1)


def write(blocks: dict[str, str], path: Path = REPORT) -> None:
    text = path.read_text(encoding="utf-8")
    for figure, block in blocks.items():
        text = replace_block(text, figure, block)
    path.write_text(text, encoding="utf-8")


def now() -> datetime:
    return datetime.now(UTC)
