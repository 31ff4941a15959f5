"""The committed generated modules match what protoc makes from the .proto files now."""
from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT


def test_generated_modules_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "proto.build", "--check"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_generated_modules_import_as_project_modules() -> None:
    from proto.omnifit.v1 import cart_pb2, pairing_pb2_grpc

    assert cart_pb2.DESCRIPTOR.services_by_name["CartService"].full_name == "omnifit.v1.CartService"
    assert hasattr(pairing_pb2_grpc, "PairingServiceServicer")
