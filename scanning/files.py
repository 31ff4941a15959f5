"""Writing the files the scanning stages produce atomically: a failed write leaves the previous
file (or folder) as it was and no temporary file behind, so a reader never sees half a mesh,
calibration, scan folder or calibration capture."""
from __future__ import annotations

import os
import shutil
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


def replace_folder(staging: Path, target: Path) -> None:
    """Move the complete folder ``staging`` into place as ``target``; a previous ``target`` is
    removed only after the new one is in place (``staging`` must sit beside ``target``)."""
    if target.exists() and not target.is_dir():
        raise ScanningError(f"output path {target} exists and is not a folder", path=str(target))
    previous = None
    if target.exists():
        previous = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, previous)
    os.replace(staging, target)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
