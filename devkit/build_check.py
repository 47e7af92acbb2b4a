"""Checks what `sam build` made of the shared layer: every module of ours ships as bytecode Lambda uses
as it is (unchecked-hash, this interpreter's magic number), and the native dependency is built for
Lambda's arm64, not for this machine.

    python -m devkit.build_check [.aws-sam/build]
"""

import importlib.util
import sys
from pathlib import Path

UNCHECKED_HASH = 0b01  # hash-based, source not checked (PEP 552)


def problems(build_dir: Path) -> list[str]:
    layer = build_dir / "CommonLayer" / "python"
    sources = Path(__file__).resolve().parent.parent / "layers" / "common" / "craiverse"
    found = []
    for source in sorted(sources.glob("*.py")):
        compiled = layer / "craiverse" / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
        if not compiled.is_file():
            found.append(f"{compiled}: missing")
            continue
        header = compiled.read_bytes()[:8]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            found.append(f"{compiled}: compiled for another Python")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            found.append(f"{compiled}: not unchecked-hash bytecode")
    if not list(layer.glob("pydantic_core/_pydantic_core.*aarch64*.so")):
        found.append(f"{layer}/pydantic_core: no aarch64 build of the native module")
    if (layer / "pydantic").exists():
        found.append(f"{layer}/pydantic: the pydantic package does not belong in the layer")
    return found


def main() -> int:
    build_dir = Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")
    found = problems(build_dir)
    for problem in found:
        sys.stderr.write(f"build check: {problem}\n")
    if not found:
        sys.stdout.write(f"build check: {build_dir}/CommonLayer ships compiled bytecode and arm64 binaries\n")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
