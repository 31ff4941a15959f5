"""Generated feet and bodies shared by the population tests (built once per session: seconds each)."""
from __future__ import annotations

import pytest
import trimesh

from scanning.population import body_population, foot_population


@pytest.fixture(scope="session")
def feet() -> list[trimesh.Trimesh]:
    """Four feet, right and left alternating, from seed 100."""
    return foot_population(4, seed=100)


@pytest.fixture(scope="session")
def bodies() -> list[trimesh.Trimesh]:
    return body_population(2, seed=7)
