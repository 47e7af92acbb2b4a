"""`python -m benchmarks`: measure, print every figure, regenerate the tables in BENCHMARKS.md.

Each measurement runs in a child process of its own (a fresh local runner, a fresh embedded backend, the
handlers' log lines kept off the figures), whose result comes back as JSON:

    python -m benchmarks                      # every figure (what `make bench` runs)
    python -m benchmarks --only latency,cost  # some figures
    python -m benchmarks --quick --no-write   # fewer samples, BENCHMARKS.md untouched
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import report, sandbox

# Figure -> the measurement it is drawn from.
FIGURES = {
    "roundtrips": "endpoints",
    "coldstart": "coldstart",
    "latency": "latency",
    "contention": "contention",
    "cost": "endpoints",
}


def _measure(name: str, quick: bool) -> dict[str, Any]:
    """Runs inside the child process."""
    if name == "endpoints":
        from benchmarks import endpoints

        return endpoints.measure(repeats=3 if quick else 5).to_json()
    if name == "coldstart":
        from benchmarks import coldstart

        return coldstart.measure(rounds=3 if quick else 15).to_json()
    if name == "latency":
        from benchmarks import latency

        return latency.measure(samples=60 if quick else 300).to_json()
    if name == "contention":
        from benchmarks import contention

        return contention.measure(requests=96 if quick else 240).to_json()
    raise ValueError(f"unknown measurement {name}")


def _render(figure: str, data: dict[str, Any]) -> str:
    renderers: dict[str, Callable[[dict[str, Any]], str]] = {
        "roundtrips": lambda d: report.roundtrips(_endpoints(d)),
        "coldstart": lambda d: report.coldstart(_coldstart(d)),
        "latency": lambda d: report.latency(_latency(d)),
        "contention": lambda d: report.contention(_contention(d)),
        "cost": lambda d: report.cost_table(_endpoints(d), _function_memory()),
    }
    return renderers[figure](data)


def _endpoints(data: dict[str, Any]) -> Any:
    from benchmarks.endpoints import EndpointsResult

    return EndpointsResult.from_json(data)


def _coldstart(data: dict[str, Any]) -> Any:
    from benchmarks.coldstart import ColdStartResult

    return ColdStartResult.from_json(data)


def _latency(data: dict[str, Any]) -> Any:
    from benchmarks.latency import LatencyResult

    return LatencyResult.from_json(data)


def _contention(data: dict[str, Any]) -> Any:
    from benchmarks.contention import ContentionResults

    return ContentionResults.from_json(data)


def _function_memory() -> int:
    from devkit.template import SamTemplate

    sizes = {f.memory_size for f in SamTemplate.load(sandbox.TEMPLATE).functions().values()}
    if len(sizes) != 1:
        raise ValueError(f"functions have different memory sizes {sorted(sizes)}; the cost model assumes one")
    return sizes.pop()


def _spawn(name: str, quick: bool, scratch: Path, endpoint: str) -> dict[str, Any]:
    out = scratch / f"{name}.json"
    command = [sys.executable, "-m", "benchmarks", "--child", name, "--out", str(out)]
    if quick:
        command.append("--quick")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(sandbox.fake_aws_environment(endpoint, scratch))
    started = time.perf_counter()
    # The handlers log every request to stdout, as on Lambda; those lines are not figures.
    subprocess.run(  # noqa: S603 - our own interpreter running our own benchmark module
        command, env=environment, cwd=sandbox.ROOT, stdout=subprocess.DEVNULL, check=True, timeout=900
    )
    sys.stderr.write(f"[{name} measured in {time.perf_counter() - started:.0f} s]\n")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(FIGURES), help="comma-separated: " + ", ".join(FIGURES))
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        sandbox.apply_environment({})
        Path(args.out).write_text(json.dumps(_measure(args.child, args.quick)))
        return 0

    figures = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(figures) - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")

    machine, when = report.machine(), report.now()
    measured: dict[str, dict[str, Any]] = {}
    blocks: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="craiverse-bench-") as scratch,
        sandbox.idle_endpoint() as endpoint,
    ):
        for figure in figures:
            source = FIGURES[figure]
            if source not in measured:
                measured[source] = _spawn(source, args.quick, Path(scratch), endpoint)
            blocks[figure] = report.header(figure, machine, when) + "\n" + _render(figure, measured[source])
            sys.stdout.write(f"\n## {figure}\n\n{blocks[figure]}\n")
            sys.stdout.flush()
    if not args.no_write:
        report.write(blocks)
        sys.stdout.write(f"\n{report.REPORT.name} updated: {', '.join(blocks)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
