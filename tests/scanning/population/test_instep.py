"""Generated feet are as full over the instep as adult feet: instep girth about equal to ball girth.

Adult foot surveys put the instep girth (tape round the dorsum at about half the foot length) at
roughly 100-105 % of the ball girth on average (see ``docs/measurements.md``, "Test
population"); single feet spread a few per cent either side, low to high instep.
"""
from __future__ import annotations

import numpy as np
import pytest
import trimesh

from scanning.measure import measure_foot
from scanning.population import foot_population

PUBLISHED_MEAN_RATIO = (1.00, 1.05)
SINGLE_FOOT_RATIO = (0.97, 1.09)


@pytest.fixture(scope="module")
def population() -> list[trimesh.Trimesh]:
    """Six feet, seeds 0-5, right and left alternating."""
    return foot_population(6, seed=0)


def test_instep_to_ball_girth_ratio_is_in_the_adult_range(population: list[trimesh.Trimesh]) -> None:
    ratios = []
    for foot in population:
        got = measure_foot(foot).to_mm_dict()
        ratio = got["instep_girth"] / got["ball_girth"]
        seed = foot.metadata["omnifit_truth"]["seed"]
        assert SINGLE_FOOT_RATIO[0] <= ratio <= SINGLE_FOOT_RATIO[1], f"seed {seed}: instep/ball girth {ratio:.3f}"
        ratios.append(ratio)
    assert PUBLISHED_MEAN_RATIO[0] <= np.mean(ratios) <= PUBLISHED_MEAN_RATIO[1]
    assert np.ptp(ratios) > 0.02  # low and high insteps, not one shape scaled
