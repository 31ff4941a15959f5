"""Writing the files the scanning stages produce atomically: a failed write leaves the previous
file as it was and no temporary file behind, so a reader never sees half a mesh or calibration."""
from __future__ import annotations

import os
from pathlib import Path

from scanning.errors import ScanningError


def write_atomically(path: Path, data: bytes, error: type[ScanningError]) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place; an OS failure is
    raised as ``error`` naming the path."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise error(f"cannot write {path}: {exc}", path=str(path)) from exc
