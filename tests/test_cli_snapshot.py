"""``lumen snapshot``: a PNG (and raw detector image) of a level's start; clear errors for bad input."""

import numpy as np

from game.cli import main
from game.pngio import read_png


def test_snapshot_writes_png_and_raw(tmp_path, capsys):
    out, raw = tmp_path / "frame.png", tmp_path / "frame.npy"
    assert main(["snapshot", "renal-cobra", "--out", str(out), "--raw", str(raw), "--contrast", "--fov", "27"]) == 0
    image = read_png(out)
    detector = np.load(raw)
    assert image.shape == (512, 512) and image.dtype == np.uint8
    assert detector.dtype == np.float32 and detector.shape == (512, 512)
    assert detector.min() >= 0.0 and detector.max() <= 1.0


def test_snapshot_reports_a_missing_level_and_an_unwritable_file(tmp_path, capsys):
    assert main(["snapshot", "no-such-level", "--out", str(tmp_path / "x.png")]) == 1
    assert main(["snapshot", "renal-cobra", "--out", str(tmp_path / "missing" / "x.png")]) == 1
    err = capsys.readouterr().err
    assert "no-such-level" in err and "cannot write" in err and "Traceback" not in err
