"""The one-sentence explanation never gives a good fit as the reason a size lost."""
from __future__ import annotations

import re

import numpy as np

from assets.catalog import load_seed
from scanning.types import FootMeasurements
from tryon.fit import Feet, recommend_shoe_size

_GOOD_AS_REASON = re.compile(r"would fit the \w+ well(, so we go|\.)")


def _foot(length: float, girth: float) -> FootMeasurements:
    return FootMeasurements(
        length_mm=length, width_mm=girth * 0.41, ball_girth_mm=girth, instep_girth_mm=girth * 1.02,
        instep_height_mm=length * 0.23, arch_height_mm=12.0, heel_width_mm=girth * 0.27, toe_height_mm=22.0,
    )


def test_a_size_never_loses_for_fitting_well():
    shoes = [p for p in load_seed().products if p.category == "shoes"]
    checked = 0
    for length in np.arange(232.0, 292.0, 2.3):
        for ratio in (0.88, 0.92, 0.96):
            feet = Feet(left=_foot(length, length * ratio), right=_foot(length - 1.0, length * ratio))
            for product in shoes[::3]:
                sentence = recommend_shoe_size(product, feet).explanation
                assert not _GOOD_AS_REASON.search(sentence), sentence
                checked += 1
    assert checked > 300
