"""Generated shapes and rigid-motion helpers shared by the measurement tests."""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.mesh_utils import UP_ROTATION
from scanning.population import make_body, make_foot


@pytest.fixture(scope="session")
def generated_feet() -> list[trimesh.Trimesh]:
    """Three feet (right, left, right) whose construction values are known."""
    return [make_foot(11, side="right"), make_foot(12, side="left"), make_foot(13, side="right")]


@pytest.fixture(scope="session")
def generated_body() -> trimesh.Trimesh:
    return make_body(21)


def moved(mesh: trimesh.Trimesh, rng: np.random.Generator, *, up: str = "z", scale: float = 1.0) -> trimesh.Trimesh:
    """``mesh`` turned about the vertical by a random angle, shifted up to 2 m, scaled, and
    written with its vertical along the file axis ``up``, as another program might save it."""
    angle = rng.uniform(0.0, 2.0 * np.pi)
    cos, sin = np.cos(angle), np.sin(angle)
    yaw = np.array([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]])
    to_file = UP_ROTATION[up].T  # carries +z onto the file's up axis
    vertices = (mesh.vertices @ yaw.T) @ to_file.T * scale + rng.uniform(-2.0, 2.0, size=3)
    return trimesh.Trimesh(vertices=vertices, faces=mesh.faces.copy(), process=False)
