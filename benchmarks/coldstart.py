"""Figure 2: cold start of every function, as a ratio to "import boto3 and create a DynamoDB client".

Each sample is a fresh interpreter that times, from its first line, the import of one handler module
plus the creation of its DynamoDB client (`craiverse.db.client()`); the baseline child times
`import boto3; boto3.client("dynamodb")`. Interpreter start-up is outside both timings (Lambda's
runtime start-up is not the function's). Rounds interleave the baseline and every function in a
shuffled order, so a busy machine slows them alike; the figure is the median of the rounds, in CPU time
(which other processes disturb far less than wall time) and in wall time.

The code runs as Lambda runs it: the function's directory first on `sys.path`, then the layer (Lambda's
/opt/python), both copied to a scratch directory and run with `-B` (Lambda's file system is read-only,
so nothing compiled at a cold start is kept). The layer is staged as `sam build` builds it
(layers/common/Makefile): compiled ahead into unchecked-hash bytecode. The function's own directory has
no bytecode, as SAM's python builder leaves it; installed packages, boto3 and pydantic_core included,
ship compiled.

After the timing, each child times what is left for the first request (the other SDK clients the layer
creates on first use, and the validators of any pydantic BaseModel its handler names, which pydantic
defers; our request models build theirs at import, so that is inside the timing), times compiling the
sources of ours it imported (what the layer's bytecode saves), and lists the heavy SDKs in `sys.modules`.
"""

from __future__ import annotations

import ast
import compileall
import json
import py_compile
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks import sandbox

BUDGET = 1.3
# SDKs that cost real time to import; no function may load one it does not use. "pydantic" is the
# BaseModel package (tens of ms); our request models use only its compiled core, `pydantic_core`, a
# module of another name that is not listed here.
HEAVY_SDKS = (
    "stripe",
    "anthropic",
    "openai",
    "httpx",
    "httpx2",
    "requests",
    "aws_xray_sdk",
    "moto",
    "yaml",
    "pydantic",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.idempotency",
)
# Where one function's cold start goes: the same function again with a dependency imported before the
# clock starts, so that its import is not counted (building our request models' validators still is).
# What such a module imports comes along, stdlib modules boto3 would load anyway included: a row's
# difference is an upper bound of that dependency's own cost.
BREAKDOWN_FUNCTION = "CreditsDeductFunction"
BREAKDOWN = (
    ("pydantic_core imported beforehand", ("pydantic_core",)),
    ("pydantic_core and powertools imported beforehand", ("pydantic_core", "aws_lambda_powertools")),
)
# Functions that use one of these are outside the 1.3x budget (the rule).
BUDGET_EXEMPT_SDKS = ("stripe", "anthropic")

BASELINE = "baseline"

_BASELINE_CHILD = """
import json, time
wall, cpu = time.perf_counter(), time.process_time()
import boto3
boto3.client("dynamodb")
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""

_FUNCTION_CHILD = """
import importlib, importlib.util, json, sys, time
code_dir, source, layers, heavy = sys.argv[1], sys.argv[2], sys.argv[3].split(":"), sys.argv[4].split(",")
sys.path[:0] = [code_dir, *layers]
for name in filter(None, sys.argv[5].split(",")):
    importlib.import_module(name)
wall, cpu = time.perf_counter(), time.process_time()
spec = importlib.util.spec_from_file_location("app", source)
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
if "craiverse.db" in sys.modules:
    sys.modules["craiverse.db"].client()
result = {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}
started = time.perf_counter()
if "pydantic" in sys.modules:
    from pydantic import BaseModel
    for value in list(vars(module).values()):
        if isinstance(value, type) and issubclass(value, BaseModel) and not value.__pydantic_complete__:
            value.model_rebuild()
for name, layer_module in list(sys.modules.items()):
    factory = getattr(layer_module, "client", None)
    if name.startswith("craiverse.") and name != "craiverse.db" and hasattr(factory, "cache_clear"):
        factory()
result["deferred"] = time.perf_counter() - started
roots = tuple([code_dir, *layers])
ours = [m.__file__ for m in list(sys.modules.values()) if str(getattr(m, "__file__", "")).startswith(roots)]
started = time.process_time()
for path in ours:
    with open(path, encoding="utf-8") as handle:
        compile(handle.read(), path, "exec")
result["compile"] = time.process_time() - started
result["loaded"] = [n for n in heavy if n in sys.modules]
result["modules"] = len(sys.modules)
print(json.dumps(result))
"""


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float
    deferred_ms: float = 0.0
    compile_ms: float = 0.0


@dataclass
class FunctionResult:
    name: str
    wall_ms: float
    cpu_ms: float
    deferred_ms: float
    compile_ms: float
    ratio: float
    cpu_ratio: float
    loaded_sdks: list[str]
    used_sdks: list[str]
    modules: int
    # A run of another function's code with a dependency imported beforehand (where the time goes).
    breakdown: bool = False

    @property
    def unused_sdks(self) -> list[str]:
        return [sdk for sdk in self.loaded_sdks if sdk not in self.used_sdks]

    @property
    def in_budget_scope(self) -> bool:
        return not any(sdk in self.used_sdks for sdk in BUDGET_EXEMPT_SDKS)

    @property
    def within_budget(self) -> bool:
        """Judged on CPU time, which other processes on a shared machine disturb far less than wall time."""
        return self.cpu_ratio <= BUDGET


@dataclass
class ColdStartResult:
    rounds: int
    baseline_wall_ms: float
    baseline_cpu_ms: float
    functions: list[FunctionResult]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColdStartResult:
        functions = [FunctionResult(**f) for f in data["functions"]]
        return cls(data["rounds"], data["baseline_wall_ms"], data["baseline_cpu_ms"], functions)


@dataclass(frozen=True)
class _Target:
    name: str
    argv: list[str]
    environment: dict[str, str]
    used_sdks: tuple[str, ...] = ()
    breakdown: bool = False


def measure(rounds: int = 15) -> ColdStartResult:
    from devkit.template import SamTemplate

    template = SamTemplate.load(sandbox.TEMPLATE)
    with (
        tempfile.TemporaryDirectory(prefix="craiverse-bench-") as scratch,
        sandbox.idle_endpoint() as endpoint,
    ):
        root = Path(scratch)
        environment = sandbox.fake_aws_environment(endpoint, root)
        targets = [_Target(BASELINE, ["-c", _BASELINE_CHILD], environment)]
        functions = template.functions()
        targets += [_stage(function, root, environment) for function in functions.values()]
        if BREAKDOWN_FUNCTION in functions:
            targets += [
                _stage(functions[BREAKDOWN_FUNCTION], root, environment, preload, label)
                for label, preload in BREAKDOWN
            ]
        samples: dict[str, list[Sample]] = {t.name: [] for t in targets}
        loaded: dict[str, dict[str, Any]] = {}
        for _ in range(rounds):
            for target in random.sample(targets, len(targets)):
                result = _run_child(target, root)
                samples[target.name].append(
                    Sample(
                        result["wall"] * 1000,
                        result["cpu"] * 1000,
                        result.get("deferred", 0.0) * 1000,
                        result.get("compile", 0.0) * 1000,
                    )
                )
                loaded[target.name] = result
    return _summarise(rounds, targets, samples, loaded)


def _summarise(
    rounds: int, targets: list[_Target], samples: dict[str, list[Sample]], loaded: dict[str, dict[str, Any]]
) -> ColdStartResult:
    base_wall = statistics.median(s.wall_ms for s in samples[BASELINE])
    base_cpu = statistics.median(s.cpu_ms for s in samples[BASELINE])
    functions = []
    for target in targets[1:]:
        wall = statistics.median(s.wall_ms for s in samples[target.name])
        cpu = statistics.median(s.cpu_ms for s in samples[target.name])
        deferred = statistics.median(s.deferred_ms for s in samples[target.name])
        compiled = statistics.median(s.compile_ms for s in samples[target.name])
        functions.append(
            FunctionResult(
                name=target.name,
                wall_ms=round(wall, 1),
                cpu_ms=round(cpu, 1),
                deferred_ms=round(deferred, 1),
                compile_ms=round(compiled, 1),
                ratio=round(wall / base_wall, 2),
                cpu_ratio=round(cpu / base_cpu, 2),
                breakdown=target.breakdown,
                loaded_sdks=loaded[target.name]["loaded"],
                used_sdks=list(target.used_sdks),
                modules=loaded[target.name]["modules"],
            )
        )
    return ColdStartResult(rounds, round(base_wall, 1), round(base_cpu, 1), functions)


def _stage(
    function: Any, root: Path, environment: dict[str, str], preload: tuple[str, ...] = (), label: str = ""
) -> _Target:
    """Copies the function's code and layers as the build leaves them: only the layers are compiled."""
    name = f"{function.logical_id}, {label}" if label else function.logical_id
    code_dir = root / name.replace(" ", "_").replace(",", "") / "task"
    shutil.copytree(function.code_uri, code_dir, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    layers = []
    for index, layer in enumerate(function.layers):
        target = code_dir.parent / f"opt{index}"
        ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "*.txt", "Makefile")
        shutil.copytree(layer, target, ignore=ignored)
        # As layers/common/Makefile compiles the layer for `sam build`.
        compileall.compile_dir(
            target, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        layers.append(str(target))
    source = code_dir / function.source_file.relative_to(function.code_uri)
    argv = ["-c", _FUNCTION_CHILD, str(code_dir), str(source), ":".join(layers), ",".join(HEAVY_SDKS)]
    argv.append(",".join(preload))
    return _Target(
        name,
        argv,
        {**function.environment, **environment},
        tuple(used_sdks(function.source_file, function.layers)),
        breakdown=bool(label),
    )


def _run_child(target: _Target, cwd: Path) -> dict[str, Any]:
    command = [sys.executable, "-I", "-B", *target.argv]
    done = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        command, env=target.environment, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold start of {target.name} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def used_sdks(source: Path, layers: tuple[Path, ...]) -> list[str]:
    """The heavy SDKs a function uses: those its handler, or a layer module its handler names, imports
    (anywhere in the file, lazy imports included)."""
    names = _imports(source)
    for name in list(names):
        for layer in layers:
            module = layer.joinpath(*name.split(".")).with_suffix(".py")
            if module.is_file():
                names |= _imports(module)
    return [sdk for sdk in HEAVY_SDKS if any(n == sdk or n.startswith(sdk + ".") for n in names)]


def _imports(path: Path) -> set[str]:
    """Every module an import statement in `path` names, with `from a import b` read as `a` and `a.b`."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names
