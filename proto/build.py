"""Generate the Python modules of the wire contract from ``proto/omnifit/v1/*.proto``.

``python -m proto.build`` writes them next to the ``.proto`` files;
``python -m proto.build --check`` exits non-zero when the committed modules are stale.

protoc writes absolute imports (``from omnifit.v1 import cart_pb2``) that only work
with ``proto/`` on ``sys.path``; they are rewritten to ``proto.omnifit.v1`` so the
generated code imports like the rest of the project.
"""
from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
PACKAGE_DIR = PROTO_ROOT / "omnifit" / "v1"
_IMPORT = re.compile(r"^from omnifit\.v1 import ", re.MULTILINE)
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def proto_files() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*.proto"))


def generate(out_root: Path) -> list[Path]:
    """Run protoc over every contract file into ``out_root``; returns the written modules."""
    from grpc_tools import protoc  # imported here: only the build needs grpcio-tools

    include = Path(protoc.__file__).resolve().parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(p.relative_to(PROTO_ROOT)) for p in proto_files()),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")
    written = sorted(p for p in (out_root / "omnifit" / "v1").iterdir() if p.name.endswith(GENERATED_SUFFIXES))
    for path in written:
        path.write_text(_IMPORT.sub("from proto.omnifit.v1 import ", path.read_text()))
    return written


def stale_modules() -> list[str]:
    """Names of generated modules that differ from what protoc makes now (or are missing/extra)."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {p.name: p for p in generate(Path(tmp))}
        current = {p.name: p for p in PACKAGE_DIR.iterdir() if p.name.endswith(GENERATED_SUFFIXES)}
        names = sorted(set(fresh) | set(current))
        return [n for n in names if n not in fresh or n not in current or not filecmp.cmp(fresh[n], current[n], shallow=False)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the generated modules are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_modules()
        if stale:
            print("stale generated modules (run `make proto`): " + ", ".join(stale), file=sys.stderr)
            return 1
        print("generated modules are up to date")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in generate(Path(tmp)):
            shutil.copyfile(path, PACKAGE_DIR / path.name)
    print(f"generated {len(list(PACKAGE_DIR.glob('*_pb2*.py*')))} modules in {PACKAGE_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
