"""Packaging: the Kubernetes manifests against the Kubernetes schemas (kubernetes-validate, offline),
their wiring (labels, probes, Secret keys, `omnifit serve` flags), the image's dependency list
against what the service imports, and a pg_dump / pg_restore round trip of a live database."""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from cloud.testing import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
MANIFEST = DEPLOY / "kubernetes" / "omnifit-cloud.yaml"
KUBERNETES_VERSION = "1.30.0"  # the oldest minor we promise; gRPC probes are GA since 1.27


def _documents() -> list[dict[str, Any]]:
    yaml = pytest.importorskip("yaml")
    return [doc for doc in yaml.safe_load_all(MANIFEST.read_text()) if doc]


def _validator() -> Any:
    try:
        import kubernetes_validate
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("kubernetes-validate is not installed (pyproject test extra)")
        pytest.skip("kubernetes-validate is not installed")
    return kubernetes_validate


def _by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in docs}


def test_manifests_validate_against_the_kubernetes_schemas() -> None:
    validator = _validator()
    docs = _documents()
    assert sorted(_by_kind(docs)) == ["Deployment", "HorizontalPodAutoscaler", "Job", "PodDisruptionBudget", "Secret", "Service"]
    for doc in docs:
        validator.validate(doc, KUBERNETES_VERSION, strict=True)
    broken = copy.deepcopy(_by_kind(docs)["Deployment"])
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["prot"] = 50051  # a typo
    with pytest.raises(validator.ValidationError):
        validator.validate(broken, KUBERNETES_VERSION, strict=True)


def test_manifests_wire_together() -> None:
    from omnifit.cli import build_parser

    kinds = _by_kind(_documents())
    deployment, service, pdb, hpa, secret, job = (kinds[k] for k in (
        "Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Secret", "Job"))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    for selector in (deployment["spec"]["selector"]["matchLabels"], service["spec"]["selector"], pdb["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= labels.items()
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] >= 2 and pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    port = container["ports"][0]["containerPort"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == port  # the gRPC health service, not a TCP connect
    parsed = build_parser().parse_args(container["args"])  # real flags of `omnifit serve`
    assert parsed.command == "serve" and parsed.listen.endswith(f":{port}") and parsed.trusted_proxy
    assert build_parser().parse_args(job["spec"]["template"]["spec"]["containers"][0]["args"]).command == "admin"
    for env in [*container["env"], *job["spec"]["template"]["spec"]["containers"][0]["env"]]:
        ref = env["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"]
    assert {e["name"] for e in container["env"]} == {"OMNIFIT_DB_URL", "OMNIFIT_TOKEN_KEY", "OMNIFIT_FACE_KEK"}


def test_the_image_installs_what_the_service_imports() -> None:
    """deploy/requirements-service.txt names every distribution `omnifit serve` imports, as pyproject pins it."""
    import importlib.metadata
    import re
    import tomllib

    wanted = [line.strip() for line in (DEPLOY / "requirements-service.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    pinned = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert set(wanted) <= set(pinned), set(wanted) - set(pinned)
    names = {re.split(r"[\[<>=!~ ]", line, maxsplit=1)[0].lower().replace("_", "-") for line in wanted}
    probe = ("import sys, cloud.server, cloud.fanout_nats, omnifit.cli, nats\n"
             "print('\\n'.join(sorted({m.split('.')[0] for m in sys.modules})))")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    by_module = importlib.metadata.packages_distributions()
    # Not needed: grpc looks for grpcio-tools when it is there; setuptools' .pth hook runs in any venv.
    used = {dist.lower().replace("_", "-") for module in loaded for dist in by_module.get(module, [])} - {
        "omnifit", "grpcio-tools", "setuptools"}
    installed = set(names)  # what pip brings for the named distributions: their requirements, recursively
    todo = list(names)
    while todo:
        try:
            requirements = importlib.metadata.requires(todo.pop()) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # for another platform (a marker): not installed here, so imported by nothing
        for requirement in requirements:
            if "extra ==" in requirement:
                continue
            dist = re.split(r"[\[<>=!~ ;(]", requirement, maxsplit=1)[0].lower().replace("_", "-")
            if dist not in installed:
                installed.add(dist)
                todo.append(dist)
    assert used <= installed, f"imported by the service but not in the image: {sorted(used - installed)}"
    text = (DEPLOY / "Containerfile").read_text()
    assert "requirements-service.txt" in text and "--no-deps" in text and "USER 10001" in text


@pytest.mark.postgres
def test_pg_dump_and_restore_round_trip(pg_schema_url: str) -> None:
    """The backup in docs/deploy.md: dump a live schema, lose it, restore it, and the service reads it back."""
    import psycopg
    import sqlalchemy as sa

    from cloud.admin import issue_device_session
    from cloud.domain.types import Principal, PrincipalKind
    from cloud.fanout import CartHub
    from cloud.server import build_services
    from cloud.storage import open_database, schema
    from tests.cloud.conftest import STORE

    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            (pytest.fail if os.environ.get("CI") else pytest.skip)(f"{tool} is not installed (Debian postgresql-client)")
    session = issue_device_session(pg_schema_url, STORE)
    database = open_database(pg_schema_url, pool_size=1)
    try:
        services = build_services(database, CartHub())
        kiosk = Principal(PrincipalKind.DEVICE, session.subject_id, STORE)
        cart_id = services.carts.create_cart(kiosk, STORE, "backup-c").cart.cart_id
        with database.read() as conn:
            sku = conn.execute(sa.select(schema.stock.c.sku).where(schema.stock.c.store_id == STORE).limit(1)).scalar_one()
        before = services.carts.add_line(kiosk, cart_id, "backup-a", sku, 2).cart
    finally:
        database.close()

    raw, _, query = pg_schema_url.replace("postgresql+psycopg", "postgresql").partition("?")
    name = query.split("%3D", 1)[1]
    dump = Path(f"/tmp/omnifit-backup-{uuid.uuid4().hex}.dump")
    try:
        subprocess.run(["pg_dump", "--format=custom", f"--schema={name}", f"--file={dump}", raw], check=True, timeout=120)
        with psycopg.connect(raw, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')  # the disaster
        subprocess.run(["pg_restore", "--exit-on-error", f"--dbname={raw}", str(dump)], check=True, timeout=120)
    finally:
        dump.unlink(missing_ok=True)

    restored = open_database(pg_schema_url, pool_size=1)
    try:
        services = build_services(restored, CartHub())
        kiosk = Principal(PrincipalKind.DEVICE, session.subject_id, STORE)
        assert services.carts.get_cart(kiosk, cart_id) == before  # the kiosk's token still verifies too
        assert services.carts.add_line(kiosk, cart_id, "backup-b", sku, 1).cart.version == before.version + 1
        assert services.carts.add_line(kiosk, cart_id, "backup-a", sku, 2).change is None  # idempotency keys came back
    finally:
        restored.close()
