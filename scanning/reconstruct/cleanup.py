"""Mesh clean-up after fusion: close holes, keep what matters, smooth lightly.

All functions take and return ``trimesh.Trimesh`` in metres and never change the
input mesh.
"""
from __future__ import annotations

import logging

import numpy as np
import trimesh

_LOGGER = logging.getLogger(__name__)

TAUBIN_ITERATIONS = 20


def boundary_loops(mesh: trimesh.Trimesh) -> list[np.ndarray]:
    """Closed loops of boundary vertices, each (k,) int in the order the faces wind them."""
    edges = mesh.edges  # (3m, 2) directed edges of every face
    unique = trimesh.grouping.group_rows(mesh.edges_sorted, require_count=1)
    following: dict[int, list[int]] = {}
    for start, end in edges[unique]:
        following.setdefault(int(start), []).append(int(end))
    loops = []
    while following:
        start = next(iter(following))
        loop = [start]
        current = start
        while True:
            targets = following.get(current)
            if not targets:
                break
            nxt = targets.pop()
            if not targets:
                del following[current]
            if nxt == start:
                loops.append(np.array(loop))
                break
            loop.append(nxt)
            current = nxt
    return loops


def fill_holes(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Close every boundary loop with a fan around the loop's centroid.

    The new faces wind opposite to the loop's existing faces, so the closed mesh
    keeps a consistent orientation.
    """
    loops = boundary_loops(mesh)
    if not loops:
        return mesh.copy()
    vertices = [np.asarray(mesh.vertices)]
    faces = [np.asarray(mesh.faces)]
    next_index = len(mesh.vertices)
    for loop in loops:
        centre = mesh.vertices[loop].mean(axis=0)
        vertices.append(centre[None, :])
        rolled = np.roll(loop, -1)
        faces.append(np.stack([rolled, loop, np.full(len(loop), next_index)], axis=1))
        next_index += 1
    filled = trimesh.Trimesh(np.vstack(vertices), np.vstack(faces), process=True)
    _LOGGER.debug("filled %d holes (largest %d edges)", len(loops), max(len(loop) for loop in loops))
    return filled


def keep_large_components(mesh: trimesh.Trimesh, min_share: float, max_count: int) -> list[trimesh.Trimesh]:
    """Connected pieces whose area is at least ``min_share`` of the largest, largest first.

    Components are labelled on the vertex graph (sparse, fast) and only the kept ones
    become meshes: a noisy scan can hold thousands of specks.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if len(mesh.faces) == 0:
        return []
    faces = np.asarray(mesh.faces)
    edges = faces[:, [0, 1, 1, 2]].reshape(-1, 2)
    count = len(mesh.vertices)
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(count, count))
    _, vertex_labels = connected_components(graph, directed=False)
    labels = vertex_labels[faces[:, 0]]
    areas = np.bincount(labels, weights=mesh.area_faces)
    order = np.argsort(areas)[::-1]
    kept = [label for label in order[:max_count] if areas[label] >= min_share * areas[order[0]]]
    pieces = []
    for label in kept:
        piece = trimesh.Trimesh(mesh.vertices, faces[labels == label], process=False)
        piece.remove_unreferenced_vertices()
        pieces.append(piece)
    return pieces


def smooth(mesh: trimesh.Trimesh, iterations: int = TAUBIN_ITERATIONS) -> trimesh.Trimesh:
    """Taubin smoothing (no shrinkage): evens out sensor noise without moving the surface."""
    smoothed = mesh.copy()
    trimesh.smoothing.filter_taubin(smoothed, lamb=0.5, nu=0.52, iterations=iterations)  # 1/λ − 1/ν ≈ 0.08
    return smoothed


def make_watertight(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Merge, fill holes, orient outward. The result may still be non-watertight where
    the fused surface had non-manifold edges; callers check ``is_watertight``."""
    closed = fill_holes(mesh)
    closed.merge_vertices()
    closed.update_faces(closed.nondegenerate_faces())
    closed.remove_unreferenced_vertices()
    if not closed.is_watertight:
        trimesh.repair.fill_holes(closed)
    trimesh.repair.fix_normals(closed)
    return closed
