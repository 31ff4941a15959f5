"""The demo report's pieces: the chart, the fit map's colours, the views, the page and its folder swap."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import trimesh

from omnifit.demo import DemoReport, Step, _person_photo
from omnifit.demo_report import (
    SKIN,
    VERDICT_COLOURS,
    Advice,
    Picture,
    Showcase,
    changed_region,
    fit_map_colours,
    render_view,
    timings_svg,
)


def _report(ok: bool = True) -> DemoReport:
    return DemoReport(db_url="postgresql+psycopg://alice:secret@db/omnifit", target="127.0.0.1:1",
                      steps=[Step("kiosk: scan both feet", 8000.0), Step("phone <b>claims</b> & pays", 12.5, ok=ok, detail="x")])


def test_the_chart_has_one_bar_per_step_in_proportion_and_failures_in_red():
    svg = ET.fromstring(timings_svg(_report(ok=False).steps))
    bars = [rect for rect in svg.iter("{http://www.w3.org/2000/svg}rect") if rect.get("rx")]
    assert len(bars) == 2
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[0] == 400 and 0.5 < widths[1] < 1.5  # linear in time; the shortest still shows
    assert bars[1].get("fill") == "#c62828"
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "phone <b>claims</b> & pays" in texts and "8.0 s" in texts and "12 ms" in texts  # escaped, parsed back


def test_the_fit_map_colours_each_shoe_zone_by_its_verdict_and_leaves_the_ankle_bare():
    length = 0.26
    points = np.array([[0.02, 0, 0.01],  # heel
                       [0.5 * length, 0, 0.06],  # top of the midfoot: instep
                       [0.5 * length, 0, 0.005],  # its sole: not the instep
                       [0.7 * length, 0, 0.02],  # ball
                       [0.95 * length, 0, 0.01],  # toes
                       [0.05, 0, 0.15]])  # the leg above the ankle
    colours = fit_map_colours(points, length, {"heel": "good", "instep": "roomy", "ball": "tight", "toe_room": "short"})
    expected = [VERDICT_COLOURS["good"], VERDICT_COLOURS["roomy"], SKIN, VERDICT_COLOURS["tight"], VERDICT_COLOURS["short"], SKIN]
    np.testing.assert_allclose(colours, np.array(expected))


def test_a_view_frames_the_whole_mesh_on_white():
    from scanning.sources.render import shared_renderer

    box = trimesh.creation.box(extents=(0.3, 0.1, 0.1))
    image = render_view(shared_renderer(), [(box, None, 0.0)], np.array([0.0, -1.0, 0.0]), size=(200, 100))
    assert image.shape == (100, 200, 3)
    drawn = np.argwhere(image.min(axis=2) < 250)
    assert image[0, 0].tolist() == [255, 255, 255] and len(drawn) > 0.5 * 200 * 100 * 0.3
    rows, cols = drawn[:, 0], drawn[:, 1]
    assert cols.min() <= 15 and cols.max() >= 185  # the long side fills about 90 % of the width, centred
    assert abs((rows.min() + rows.max()) / 2 - 50) < 3


def test_the_close_up_is_what_changed_between_two_pictures():
    before = np.full((300, 200, 3), 128, np.uint8)
    after = before.copy()
    assert changed_region(before, after) is None
    after[240:260, 50:90] = 0
    close = changed_region(before, after, width=120)
    assert close is not None and close.shape[1] == 120 and close.min() == 0


def test_without_photos_of_people_the_mirror_uses_the_bundled_picture_and_says_so(tmp_path: Path):
    photo, note = _person_photo(tmp_path / "absent")
    assert photo.name == "mannequin.png" and photo.is_file()
    assert "bundled picture" in note and str(tmp_path / "absent") in note


def test_the_mirror_takes_a_whole_person_with_feet_in_frame_and_credits_it(tmp_path: Path):
    cases = [{"file": "half.jpg", "kind": "photo", "people": 1, "whole_body": False, "feet_in_frame": False},
             {"file": "two.jpg", "kind": "photo", "people": 2, "whole_body": True, "feet_in_frame": True},
             {"file": "acme_whole.jpg", "kind": "photo", "people": 1, "whole_body": True, "feet_in_frame": True}]
    for case in cases:
        (tmp_path / case["file"]).write_bytes(b"jpeg")
    (tmp_path / "CREDITS-acme-README.md").write_text("by acme")
    (tmp_path / "cases.json").write_text(json.dumps({"cases": cases}))
    photo, note = _person_photo(tmp_path)
    assert photo == tmp_path / "acme_whole.jpg" and "CREDITS-acme-README.md" in note


def test_the_page_replaces_the_old_report_whole_with_relative_links_and_no_password(tmp_path: Path):
    target = tmp_path / "demo-report"
    target.mkdir()
    (target / "stale.png").write_bytes(b"old")
    showcase = Showcase.beside(target)
    showcase.store = "Omnifit <Jing'an>"
    showcase.qr = Picture(showcase.save_png("qr", np.zeros((10, 10, 3), np.uint8)), "Pairing QR code", "scan it", "small")
    showcase.shoe = Advice("Ridgeline", "43", 0.58, "because", [{"zone": "ball", "verdict": "good", "ease_mm": 1.0,
                                                                "target_ease_mm": 0.0}])
    index = showcase.write(_report(ok=False), target)
    assert index == target / "index.html" and not (target / "stale.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-report"]  # no staging folder left beside it
    page = index.read_text()
    assert "src='images/qr.png'" in page and "src='timings.svg'" in page and (target / "images" / "qr.png").is_file()
    assert "Omnifit &lt;Jing&#x27;an&gt;" in page and "phone &lt;b&gt;claims&lt;/b&gt;" in page
    assert "secret" not in page and "postgresql+psycopg://alice@db/omnifit" in page
    assert "The journey stopped at a step that failed" in page
