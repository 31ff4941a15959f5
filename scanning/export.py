"""Writing scanned meshes: PLY for tools and archives, GLB (binary glTF 2.0) for viewers and the AR mirror.

Meshes inside the pipeline are metres, z up. glTF is metres with +y up, so GLB export
turns the mesh (x, y, z) → (x, z, −y); PLY keeps the scan's own frame. Both writers
replace the target file only when the whole file has been written.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import trimesh

from scanning.errors import ExportError
from scanning.files import write_atomically

_LOGGER = logging.getLogger(__name__)

Z_UP_TO_Y_UP = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
SKIN_RGBA = (210, 165, 135, 255)


def _check_mesh(mesh: trimesh.Trimesh, path: Path) -> None:
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise ExportError(f"cannot write {path}: expected a non-empty triangle mesh", path=str(path))
    if not np.all(np.isfinite(mesh.vertices)):
        raise ExportError(f"cannot write {path}: mesh has NaN or infinite vertices", path=str(path))


def write_ply(mesh: trimesh.Trimesh, path: str | Path) -> Path:
    """Binary PLY of ``mesh`` (metres, the scan's frame)."""
    path = Path(path)
    _check_mesh(mesh, path)
    write_atomically(path, trimesh.exchange.ply.export_ply(mesh, encoding="binary"), ExportError)
    return path


def write_glb(mesh: trimesh.Trimesh, path: str | Path, *, name: str = "scan") -> Path:
    """Binary glTF 2.0 of ``mesh`` (metres; z-up input turned to glTF's +y up), one node
    called ``name`` with smooth normals and a skin-tone material."""
    path = Path(path)
    _check_mesh(mesh, path)
    y_up = mesh.copy()
    y_up.apply_transform(Z_UP_TO_Y_UP)
    y_up.visual = trimesh.visual.ColorVisuals(y_up, face_colors=None, vertex_colors=None)
    material = trimesh.visual.material.PBRMaterial(name=f"{name}_skin", baseColorFactor=SKIN_RGBA,
                                                   metallicFactor=0.0, roughnessFactor=0.8)
    y_up.visual = trimesh.visual.TextureVisuals(material=material)
    scene = trimesh.Scene()
    scene.add_geometry(y_up, node_name=name, geom_name=name)
    write_atomically(path, trimesh.exchange.gltf.export_glb(scene, include_normals=True), ExportError)
    return path
