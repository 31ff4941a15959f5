"""Size systems: known conversions, round trips in every system, and bad labels."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tryon.fit.errors import SizeSystemError
from tryon.fit.size_systems import (
    SizeSystem,
    convert,
    foot_length_mm,
    format_label,
    last_length_mm,
    mondopoint_label,
    parse_label,
    size_label,
)

LENGTH_SYSTEMS = (SizeSystem.EU, SizeSystem.UK, SizeSystem.US_MEN, SizeSystem.US_WOMEN)
ADULT_HALF_SIZES = {
    SizeSystem.EU: [Fraction(n, 2) for n in range(66, 101)],  # 33 .. 50
    SizeSystem.UK: [Fraction(n, 2) for n in range(2, 32)],  # 1 .. 15.5
    SizeSystem.US_MEN: [Fraction(n, 2) for n in range(4, 34)],
    SizeSystem.US_WOMEN: [Fraction(n, 2) for n in range(6, 36)],
}


@pytest.mark.parametrize(
    ("system", "label", "length"),
    [
        (SizeSystem.EU, "42", 280.0),  # 42 / 1.5 = 28 cm
        (SizeSystem.EU, "37.5", 250.0),
        (SizeSystem.UK, "8", 279.4),  # (8 + 25) x 25.4 / 3 = 11 in
        (SizeSystem.US_MEN, "9", 279.4),  # US men = UK + 1
        (SizeSystem.US_WOMEN, "10", 279.4),  # US women = UK + 2
        (SizeSystem.UK, "0", 211.667),
    ],
)
def test_last_lengths_by_the_definitions(system: SizeSystem, label: str, length: float) -> None:
    assert last_length_mm(system, label) == pytest.approx(length, abs=1e-3)


@pytest.mark.parametrize("system", LENGTH_SYSTEMS)
def test_every_adult_half_size_round_trips(system: SizeSystem) -> None:
    for size in ADULT_HALF_SIZES[system]:
        label = format_label(size)
        assert size_label(system, last_length_mm(system, label)) == label


@pytest.mark.parametrize("system", [SizeSystem.MONDOPOINT, SizeSystem.CN])
def test_mondopoint_and_cn_round_trip(system: SizeSystem) -> None:
    for millimetres in range(200, 336, 5):
        label = str(millimetres)
        assert mondopoint_label(foot_length_mm(system, label)) == label


@pytest.mark.parametrize(
    ("label", "source", "target", "expected"),
    [
        ("42", "eu", "uk", "8"),  # 280 mm = 11.02 in -> 8.07
        ("42", "eu", "us_men", "9"),
        ("42", "eu", "us_women", "10"),
        ("44", "eu", "uk", "9.5"),
        ("8", "uk", "eu", "42"),  # 279.4 mm -> 41.9
        ("9", "us_men", "uk", "8"),
        ("42", "eu", "mondopoint", "265"),  # 280 - 15 mm allowance
        ("265", "cn", "eu", "42"),
        ("42", "eu", "cn", "265"),
    ],
)
def test_conversions_between_systems(label: str, source: str, target: str, expected: str) -> None:
    assert convert(label, source, target) == expected


def test_whole_sizes_only_and_labels_as_written() -> None:
    assert size_label(SizeSystem.EU, 283.0) == "42.5"
    assert size_label(SizeSystem.EU, 283.0, half_sizes=False) == "42"
    assert format_label(Fraction(85, 2)) == "42.5" and format_label(40) == "40"
    assert mondopoint_label(267.5) == "270" and mondopoint_label(267.4) == "265"


@given(st.floats(min_value=215.0, max_value=330.0), st.sampled_from(LENGTH_SYSTEMS))
def test_nearest_label_is_within_half_a_step(length: float, system: SizeSystem) -> None:
    label = size_label(system, length)
    step = 20.0 / 3.0 if system is SizeSystem.EU else 25.4 / 3.0
    assert abs(last_length_mm(system, label) - length) <= step / 4 + 1e-9
    assert size_label(system, last_length_mm(system, label)) == label


@given(st.floats(min_value=215.0, max_value=320.0), st.floats(min_value=0.1, max_value=25.0))
def test_longer_lasts_never_get_smaller_labels(length: float, more: float) -> None:
    for system in LENGTH_SYSTEMS:
        assert parse_label(system, size_label(system, length + more)) >= parse_label(system, size_label(system, length))


@pytest.mark.parametrize(
    ("system", "label", "message"),
    [
        ("eu", "forty", "not a number"),
        ("eu", "265", "outside the adult range"),  # a Mondopoint label typed as EU
        ("uk", "-3", "outside the adult range"),
        ("mondopoint", "42", "outside the adult range"),
    ],
)
def test_bad_labels_are_refused(system: str, label: str, message: str) -> None:
    with pytest.raises(SizeSystemError, match=message):
        parse_label(system, label)


def test_wrong_kind_of_system_is_refused() -> None:
    with pytest.raises(SizeSystemError, match="foot length"):
        last_length_mm(SizeSystem.MONDOPOINT, "265")
    with pytest.raises(SizeSystemError, match="last length"):
        foot_length_mm(SizeSystem.EU, "42")
    with pytest.raises(ValueError):
        SizeSystem("jp")


def test_lasts_beyond_the_adult_range_have_no_label() -> None:
    with pytest.raises(SizeSystemError, match="outside the adult range"):
        size_label(SizeSystem.EU, 360.0)  # EU 54
