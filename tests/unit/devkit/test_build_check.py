"""The check `make build` runs on the layer sam build made (devkit.build_check)."""

import compileall
import py_compile
import shutil
from pathlib import Path

from devkit import build_check

SOURCES = Path(__file__).resolve().parents[3] / "layers" / "common" / "craiverse"


def built_layer(root: Path, mode: py_compile.PycInvalidationMode) -> Path:
    layer = root / "CommonLayer" / "python"
    shutil.copytree(SOURCES, layer / "craiverse", ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(layer / "craiverse", quiet=1, invalidation_mode=mode)
    native = layer / "pydantic_core" / "_pydantic_core.cpython-312-aarch64-linux-gnu.so"
    native.parent.mkdir()
    native.write_bytes(b"\x7fELF")
    return layer


def test_a_layer_built_as_the_makefile_builds_it_passes(tmp_path: Path) -> None:
    built_layer(tmp_path, py_compile.PycInvalidationMode.UNCHECKED_HASH)

    assert build_check.problems(tmp_path) == []


def test_timestamp_bytecode_is_refused(tmp_path: Path) -> None:
    built_layer(tmp_path, py_compile.PycInvalidationMode.TIMESTAMP)

    found = build_check.problems(tmp_path)

    assert found
    assert all("not unchecked-hash bytecode" in problem for problem in found)


def test_missing_bytecode_a_native_module_for_this_machine_and_pydantic_are_refused(tmp_path: Path) -> None:
    layer = built_layer(tmp_path, py_compile.PycInvalidationMode.UNCHECKED_HASH)
    for compiled in (layer / "craiverse" / "__pycache__").glob("api.*.pyc"):
        compiled.unlink()
    shutil.rmtree(layer / "pydantic_core")
    (layer / "pydantic_core").mkdir()
    (layer / "pydantic_core" / "_pydantic_core.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (layer / "pydantic").mkdir()

    found = build_check.problems(tmp_path)

    assert len(found) == 3
    assert any("api." in problem and "missing" in problem for problem in found)
    assert any("no aarch64 build" in problem for problem in found)
    assert any("pydantic package" in problem for problem in found)
