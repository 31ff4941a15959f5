"""The import rules of docs/architecture.md, checked on every module of every room.

Imports are read from the source (at any depth, so a lazy import inside a function counts too),
not by importing: a rule broken in a module that no test happens to import is still caught.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from omnifit.shared import REPO_ROOT

ROOMS = ("omnifit", "proto", "cloud", "scanning", "tryon", "payments", "kiosk", "mobile", "assets")
OURS = (*ROOMS, "tests", "benchmarks")
GENERATED = Path("proto") / "omnifit"


def _modules() -> Iterator[tuple[str, Path]]:
    for room in ROOMS:
        for path in sorted((REPO_ROOT / room).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT)
            if GENERATED in relative.parents:
                continue
            parts = relative.with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(module: str, path: Path) -> Iterator[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def _ours(name: str) -> bool:
    return name.split(".")[0] in OURS


def _within(name: str, *prefixes: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def _broken_rule(module: str, target: str) -> str | None:
    """The rule of docs/architecture.md that ``module`` importing ``target`` breaks, or None."""
    if _within(target, "tests", "benchmarks"):
        return "nothing installed imports tests or benchmarks (rule 6)"
    on_top = module == "omnifit.cli" or module.startswith("omnifit.demo")
    if _within(module, "omnifit") and not on_top and not _within(target, "omnifit"):
        return "omnifit imports no room, except its command line and demo (rule 1)"
    if _within(module, "scanning", "tryon", "payments", "assets") and _within(target, "kiosk", "mobile", "cloud"):
        return "a domain room never imports kiosk, mobile or the cloud (rule 2)"
    if _within(module, "kiosk") and _within(target, "mobile") or _within(module, "mobile") and _within(target, "kiosk"):
        return "kiosk and mobile do not import each other (rule 3)"
    if _within(module, "kiosk", "mobile") and _within(target, "cloud") and not _within(target, "cloud.client"):
        return "kiosk and mobile reach the cloud only through cloud.client (rule 3)"
    if _within(module, "cloud.client") and _within(target, "cloud") and not _within(target, "cloud.client", "cloud.domain.types"):
        return "cloud.client does not import the server side of cloud (rule 4)"
    if _within(module, "proto") and not _within(target, "proto"):
        return "proto imports nothing of ours (rule 5)"
    if _within(module, "cloud.domain") and _within(target, "cloud.api", "cloud.server", "proto"):
        return "cloud.domain imports neither the gRPC layer nor proto (rule 7)"
    if _within(module, "tryon.fit") and _within(target, "assets"):
        return "the fit engine does not import assets; its product types are tryon.fit.catalog (rule 8)"
    return None


def test_every_import_keeps_the_rules() -> None:
    broken = []
    for module, path in _modules():
        for target in sorted(set(_imports(module, path))):
            if _ours(target) and (rule := _broken_rule(module, target)):
                broken.append(f"{module} imports {target}: {rule}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [
        ("scanning.pipeline", "kiosk.app", "rule 2"),
        ("payments.service", "cloud.storage", "rule 2"),
        ("kiosk.app.checkout", "cloud.api.payments", "rule 3"),
        ("mobile.app", "kiosk.app.ui", "rule 3"),
        ("cloud.client.client", "cloud.storage.schema", "rule 4"),
        ("omnifit.errors", "payments.money", "rule 1"),
        ("proto.build", "cloud.server", "rule 5"),
        ("kiosk.app.app", "tests.conftest", "rule 6"),
        ("cloud.domain.payments", "cloud.api.convert", "rule 7"),
        ("cloud.domain.faces", "proto.omnifit.v1.face_pb2", "rule 7"),
        ("tryon.fit.recommend", "assets.catalog.seed", "rule 8"),
    ],
)
def test_the_checker_catches_each_kind_of_break(module: str, target: str, expected: str) -> None:
    rule = _broken_rule(module, target)
    assert rule is not None and expected in rule


@pytest.mark.parametrize(("module", "target"), [("kiosk.app.checkout", "cloud.client"), ("omnifit.demo", "cloud.server"),
                                                ("cloud.server", "payments.service"), ("tryon.fit.shoes", "scanning.types"),
                                                ("assets.catalog.seed", "tryon.fit.catalog"), ("tryon.ar.catalog", "assets.shoes")])
def test_the_checker_allows_what_the_rules_allow(module: str, target: str) -> None:
    assert _broken_rule(module, target) is None


def test_the_sync_client_loads_no_server() -> None:
    """What a kiosk or phone loads with cloud.client: neither the server modules nor SQLAlchemy."""
    probe = (
        "import sys, cloud.client; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' or m.startswith(('cloud.server', 'cloud.api', "
        "'cloud.storage', 'cloud.fanout', 'cloud.admin'))); print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_fit_engine_loads_no_assets() -> None:
    """Importing the fit engine loads no module of assets (rule 8), not even through another room."""
    probe = (
        "import sys, tryon.fit; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'assets'); print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
