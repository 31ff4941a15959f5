"""Reading mesh files and bringing them into metres with z up, shared by measure and scan.

``load_mesh`` reads PLY, STL, OBJ, GLB/glTF (a scene is flattened with its node transforms)
and raises :class:`scanning.errors.MeshFileError` naming the file when it cannot.
``prepare_mesh`` checks that a mesh can be measured and returns a copy in metres with the
file's vertical axis turned onto +z.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import trimesh

from scanning.errors import MeshError, MeshFileError

_LOGGER = logging.getLogger(__name__)

UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001}
MESH_SUFFIXES = (".ply", ".stl", ".obj", ".glb", ".gltf", ".off")
# Rotations that carry the named file axis onto +z (right-handed, proper rotations).
UP_ROTATION = {
    "z": np.eye(3),
    "y": np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]]),
    "x": np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
}


def open_edge_count(faces: np.ndarray, vertex_count: int) -> int:
    """How many edges are not shared by exactly two faces (0 for a closed, manifold surface)."""
    from scipy.sparse import csr_matrix

    faces = np.asarray(faces, dtype=np.int64)
    start, end = faces.ravel(), faces[:, [1, 2, 0]].ravel()
    # Each undirected edge counted in a sparse matrix (the CSR build buckets rows, then sums
    # duplicates): several times faster than sorting the edge keys of a 50k-face foot.
    uses = csr_matrix((np.ones(len(start), dtype=np.int32), (np.minimum(start, end), np.maximum(start, end))),
                      shape=(vertex_count, vertex_count))
    uses.sum_duplicates()
    return int(np.count_nonzero(uses.data != 2))


def is_closed(mesh: trimesh.Trimesh) -> bool:
    """Whether ``mesh`` has faces and every edge is shared by exactly two of them: trimesh's
    ``is_watertight`` without its hashed caches, which hash the arrays anew on every fresh mesh."""
    return len(mesh.faces) > 0 and open_edge_count(mesh.faces, len(mesh.vertices)) == 0


def face_geometry(mesh: trimesh.Trimesh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centroids (m, 3), areas (m,) and unit normals (m, 3) of the faces, without trimesh's hashed caches."""
    (a, b, c), cross, doubled = _face_cross(np.asarray(mesh.vertices), np.asarray(mesh.faces))
    return (a + b + c) / 3.0, 0.5 * doubled, cross / np.maximum(doubled, 1e-300)[:, None]


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(m,) areas of ``faces`` (m, 3) over ``vertices`` (n, 3), without trimesh's hashed caches."""
    return 0.5 * _face_cross(vertices, faces)[2]


def _face_cross(vertices: np.ndarray, faces: np.ndarray):
    """The faces' corners (a, b, c), each (m, 3), the cross product (b − a) × (c − a) (m, 3)
    and its length (m,), twice the face's area."""
    a, b, c = (vertices[faces[:, i]] for i in range(3))
    first, second = (b - a).T, (c - a).T
    # np.cross and np.linalg.norm spelled out (the same arithmetic): over three columns
    # numpy's versions take several times longer on a scanned foot.
    cross = np.empty_like(a)
    cross[:, 0] = first[1] * second[2] - first[2] * second[1]
    cross[:, 1] = first[2] * second[0] - first[0] * second[2]
    cross[:, 2] = first[0] * second[1] - first[1] * second[0]
    x, y, z = cross.T
    return (a, b, c), cross, np.sqrt(x * x + y * y + z * z)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """Enclosed volume (m^3) of a closed mesh; negative when its faces are wound inward."""
    a, b, c = (vertices[faces[:, i]].T for i in range(3))
    triple = a[0] * (b[1] * c[2] - b[2] * c[1]) + a[1] * (b[2] * c[0] - b[0] * c[2]) + a[2] * (b[0] * c[1] - b[1] * c[0])
    return float(triple.sum() / 6.0)


def load_mesh(path: str | Path) -> trimesh.Trimesh:
    """Read one triangle mesh from ``path``; scenes are merged into one mesh in world coordinates."""
    path = Path(path)
    if not path.is_file():
        raise MeshFileError(f"mesh file not found: {path}", path=str(path))
    if path.suffix.lower() not in MESH_SUFFIXES:
        raise MeshFileError(f"{path}: unsupported mesh format {path.suffix!r}; expected one of {MESH_SUFFIXES}", path=str(path))
    try:
        loaded = trimesh.load(path, force="scene", process=False)
        meshes = [g for g in loaded.dump(concatenate=False) if isinstance(g, trimesh.Trimesh)]
    except Exception as exc:  # trimesh raises many types for corrupt files
        raise MeshFileError(f"{path}: could not read as a mesh ({type(exc).__name__}: {exc})", path=str(path)) from exc
    if not meshes or sum(len(m.faces) for m in meshes) == 0:
        raise MeshFileError(f"{path}: holds no triangles", path=str(path))
    mesh = trimesh.util.concatenate(meshes) if len(meshes) > 1 else meshes[0]
    mesh.merge_vertices()
    return mesh


def prepare_mesh(mesh: trimesh.Trimesh, *, up: str = "z", units: str = "m") -> trimesh.Trimesh:
    """A checked copy of ``mesh`` in metres with the file's ``up`` axis (x|y|z) on +z.

    Raises :class:`MeshError` for an empty or open (not watertight) mesh or bad arguments.
    """
    if units not in UNIT_SCALE:
        raise MeshError(f"units must be one of {sorted(UNIT_SCALE)}, got {units!r}", units=units)
    if up not in UP_ROTATION:
        raise MeshError(f"up must be one of {sorted(UP_ROTATION)}, got {up!r}", up=up)
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise MeshError("mesh is empty: expected a triangle mesh with faces", faces=0)
    vertices = np.asarray(mesh.vertices, dtype=float)
    if not np.all(np.isfinite(vertices)):
        raise MeshError("mesh has non-finite (NaN or infinite) vertex coordinates")
    out = trimesh.Trimesh(vertices=vertices @ UP_ROTATION[up].T * UNIT_SCALE[units], faces=np.asarray(mesh.faces), process=False)
    open_edges = open_edge_count(out.faces, len(out.vertices))
    if open_edges:
        out.merge_vertices()  # a triangle soup (STL) closes once shared corners are merged
        open_edges = open_edge_count(out.faces, len(out.vertices))
    if open_edges:
        raise MeshError(
            f"mesh is not watertight: {open_edges} edges are not shared by exactly two faces; "
            "expected a closed surface, as the scan's reconstruction produces",
            open_edges=open_edges,
        )
    if signed_volume(out.vertices, out.faces) < 0:
        out.invert()
    return out


def rigid_transform(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """4x4 homogeneous matrix from a (3, 3) rotation and a (3,) translation."""
    matrix = np.eye(4)
    matrix[:3, :3] = rotation
    matrix[:3, 3] = translation
    return matrix


def file_to_canonical(rotation: np.ndarray, offset: np.ndarray, *, up: str, units: str) -> np.ndarray:
    """4x4 transform from a file's coordinates (``units``, ``up`` axis) to a canonical frame
    reached from the prepared mesh by ``rotation`` (3, 3) then ``offset`` (3,) metres."""
    to_metres = np.diag([UNIT_SCALE[units]] * 3 + [1.0])
    return rigid_transform(rotation, offset) @ rigid_transform(UP_ROTATION[up], np.zeros(3)) @ to_metres


def principal_direction(points: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Unit direction (d,) of greatest weighted spread of points (n, d); its sign is arbitrary."""
    centre = np.average(points, axis=0, weights=weights)
    offset = points - centre
    _values, vectors = np.linalg.eigh((offset * weights[:, None]).T @ offset)
    return vectors[:, -1]
