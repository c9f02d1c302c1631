"""``render_snapshot`` on real levels (generated anatomy in the analytic body), and screenshot tests.

Screenshot tests compare small renders with the PNGs in ``tests/screenshots/`` (mean and 99th-percentile grey
difference). On a mismatch they write reference | actual | difference side by side into a temporary folder and
fail with its path. After an intended change to the look (imaging, body, generators), regenerate the references
with ``LUMEN_UPDATE_SCREENSHOTS=1 python -m pytest tests/test_snapshot.py`` and look at them before committing.
"""

import os
import tempfile
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from game.pngio import read_png, write_png
from game.sim.imaging.snapshot import level_carm, render_snapshot
from game.sim.level.loader import load_level, parse_level

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
SIZE = 128

CHEST_LEVEL = b"""
format = 1
id = "chest-preview"
title = "Arch and coronaries (test)"
procedure = "coronary_angiography"
difficulty = 3
briefing = "Test level: the aortic arch with coronaries."
[anatomy]
generator = "aortic_arch"
seed = 3
params = { coronaries = true }
[access]
branch = "right_common_femoral"
position_mm = 25
[[instruments]]
name = "wire"
device = "j_tip_035"
[objective]
kind = "reach"
branch = "aortic_arch"
[reference]
fluoro_time_s = 60
air_kerma_mGy = 30
kap_Gycm2 = 10
[imaging]
fov_cm = 31
lao_deg = 30
table_z_mm = 300
contrast_mgI_per_mL = 350
"""


@cache
def abdomen():
    return load_level(ROOT / "levels" / "01_pedal_and_hold.toml")


@cache
def chest():
    return parse_level(CHEST_LEVEL, "chest-preview.toml")


def test_snapshot_returns_the_monitor_image_and_the_raw_detector_signal():
    display, raw = render_snapshot(abdomen(), size_px=SIZE)
    assert display.shape == raw.shape == (SIZE, SIZE)
    assert display.dtype == np.uint8 and raw.dtype == np.float32
    assert raw.min() > 0.0 and raw.max() < 1.0  # everything is behind some tissue
    assert 40 < display.mean() < 215


def test_snapshot_is_deterministic_per_seed():
    a, ra = render_snapshot(abdomen(), size_px=SIZE, seed=5)
    b, rb = render_snapshot(abdomen(), size_px=SIZE, seed=5)
    c, _ = render_snapshot(abdomen(), size_px=SIZE, seed=6)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)
    assert not np.array_equal(a, c)


def test_overrides_change_the_geometry():
    level = abdomen()
    assert level_carm(level).fov_cm == level.definition.imaging.fov_cm
    carm = level_carm(level, lao_deg=25, cra_deg=-10, fov_cm=22)
    assert (carm.lao_deg, carm.cra_deg, carm.fov_cm) == (25.0, -10.0, 22.0)
    wide, _ = render_snapshot(level, size_px=SIZE, fov_cm=42)
    narrow, _ = render_snapshot(level, size_px=SIZE, fov_cm=22)
    assert not np.array_equal(wide, narrow)


def vessel_pixels(level, branch, size):
    """Pixels (rows, cols) on a branch's projected centreline, away from its ends."""
    carm = level_carm(level)
    points = level.tree[branch].points_mm[10:-10]
    pix, _ = carm.project(points, size)
    inside = np.all((pix > 2) & (pix < size - 3), axis=1)
    cols, rows = np.rint(pix[inside]).astype(int).T
    return rows, cols


def test_contrast_fills_the_vessels_and_only_them():
    level = abdomen()
    size = 256
    plain, raw_plain = render_snapshot(level, size_px=size, seed=1)
    filled, raw_filled = render_snapshot(level, size_px=size, seed=1, contrast=True)
    rows, cols = vessel_pixels(level, "left_common_iliac", size)
    assert len(rows) > 10
    # The same seed draws the same noise field: the difference of the two log images is the iodine alone.
    log_filled, log_plain = -np.log(raw_filled), -np.log(raw_plain)
    iodine = log_filled - log_plain
    carm = level_carm(level)
    offset = int(np.rint(10.0 * carm.magnification_at_isocentre / carm.pixel_mm(size)))  # 10 mm beside the vessel
    noise = np.std(log_plain[rows, cols + offset] - log_plain[rows, cols + offset - 1]) / np.sqrt(2.0)
    assert iodine[rows, cols].mean() / noise > 5.0  # clearly visible: contrast-to-noise above 5
    beside = np.concatenate([iodine[rows, cols + offset], iodine[rows, cols - offset]])
    assert np.median(np.abs(beside)) / noise < 1.0  # nothing where no contrast flows (other vessels aside)
    assert filled[rows, cols].mean() < plain[rows, cols].mean() - 40  # dark on the monitor
    far = (slice(0, 30), slice(0, 30))  # a corner with no vessel
    assert abs(float(filled[far].mean()) - float(plain[far].mean())) < 2.0


def test_instruments_from_the_mechanics_show_a_crisp_dark_wire():
    from game.sim.imaging.shapes import device_shapes
    from game.sim.mechanics import AccessSite, Instruments

    level = abdomen()
    access = level.definition.access
    instruments = Instruments(
        level.tree, AccessSite(access.branch, access.position_mm, str(access.direction)), level.devices
    )
    while instruments.inserted_mm("wire") < 150.0:
        instruments.step(1.0 / 60.0, {"wire": (60.0, 0.0)})
    size = 256
    tubes = device_shapes(instruments)
    with_wire, _ = render_snapshot(level, size_px=size, seed=3, tubes=tubes)
    without, _ = render_snapshot(level, size_px=size, seed=3)
    carm = level_carm(level)
    pix, _ = carm.project(instruments.nodes_mm("wire")[-40:-5], size)
    inside = np.all((pix > 1) & (pix < size - 2), axis=1)
    cols, rows = np.rint(pix[inside]).astype(int).T
    assert len(rows) > 5
    darkening = without[rows, cols].astype(int) - with_wire[rows, cols].astype(int)
    assert np.median(darkening) > 40


def test_noise_grows_when_the_dose_drops():
    def noise(scale):
        a = render_snapshot(abdomen(), size_px=SIZE, dose_scale=scale, seed=1)[1]
        b = render_snapshot(abdomen(), size_px=SIZE, dose_scale=scale, seed=2)[1]
        return np.std(np.log(a[40:88, 40:88]) - np.log(b[40:88, 40:88]))

    assert noise(0.25) > 1.7 * noise(1.0)


def test_chest_lungs_are_brighter_than_the_mediastinum():
    level = chest()
    display, _ = render_snapshot(level, lao_deg=0, fov_cm=42, size_px=SIZE)
    carm = level_carm(level, lao_deg=0, fov_cm=42)
    (lung_l, lung_r, spine), _ = carm.project(np.array([[85.0, 0, 320.0], [-85.0, 0, 320.0], [0, 30.0, 320.0]]), SIZE)
    grey = [display[int(p[1]), int(p[0])] for p in (lung_l, lung_r, spine)]
    assert grey[0] > grey[2] + 40 and grey[1] > grey[2] + 40


def test_png_writer_round_trips_grey_and_rgb(tmp_path):
    grey = (np.arange(35 * 21) % 256).astype(np.uint8).reshape(35, 21)
    rgb = np.stack([grey, grey[::-1], 255 - grey], axis=-1)
    for name, image in (("grey.png", grey), ("rgb.png", rgb)):
        write_png(tmp_path / name, image)
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        np.testing.assert_array_equal(read_png(tmp_path / name), image)
    with pytest.raises(ValueError):
        write_png(tmp_path / "bad.png", grey.astype(np.float32))


# --- screenshots ------------------------------------------------------------------------------------------------
SCREENSHOT_CASES = {
    "abdomen_ap": lambda: render_snapshot(abdomen(), size_px=SIZE, seed=11)[0],
    "abdomen_ap_contrast": lambda: render_snapshot(abdomen(), size_px=SIZE, seed=11, contrast=True)[0],
    "chest_lao30_contrast": lambda: render_snapshot(chest(), size_px=SIZE, seed=11, contrast=True)[0],
    "abdomen_low_dose_lao20": lambda: render_snapshot(abdomen(), size_px=SIZE, seed=11, lao_deg=20, dose_scale=0.25)[0],
}
MAX_MEAN_DIFFERENCE = 2.0
MAX_P99_DIFFERENCE = 30


@pytest.mark.parametrize("name", sorted(SCREENSHOT_CASES))
def test_screenshot(name):
    image = SCREENSHOT_CASES[name]()
    reference_path = SCREENSHOTS / f"{name}.png"
    if os.environ.get("LUMEN_UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(exist_ok=True)
        write_png(reference_path, image)
        pytest.skip(f"wrote {reference_path}")
    assert reference_path.exists(), f"no reference {reference_path}: run with LUMEN_UPDATE_SCREENSHOTS=1"
    reference = read_png(reference_path)
    difference = np.abs(image.astype(int) - reference.astype(int))
    mean, p99 = float(difference.mean()), float(np.percentile(difference, 99))
    if reference.shape != image.shape or mean > MAX_MEAN_DIFFERENCE or p99 > MAX_P99_DIFFERENCE:
        out = Path(tempfile.gettempdir()) / "lumen-screenshots"
        out.mkdir(exist_ok=True)
        side_by_side = np.concatenate([reference, image, np.clip(difference * 4, 0, 255).astype(np.uint8)], axis=1)
        write_png(out / f"{name}_reference_actual_diff.png", side_by_side)
        pytest.fail(
            f"{name} differs from its reference (mean {mean:.2f}, p99 {p99:.0f} grey levels): "
            f"see {out / (name + '_reference_actual_diff.png')}"
        )
