"""The full simulation frame: a level's procedure stepped at 60 Hz with live fluoroscopy at 15 p/s and contrast.

Each frame is one fixed step of :class:`~game.sim.procedure.Procedure`: the instruments move, contrast flows from
the catheter tip, and every fourth frame an X-ray pulse is imaged (15 p/s at 60 Hz). This is what the game's loop
runs headless; the front end's drawing comes on top (see ``lumen bench`` in the README).
"""

from __future__ import annotations

import numpy as np

from game.benchmarks.timing import summary
from game.sim import actions as A
from game.sim.level import load_level
from game.sim.level.library import resolve_level
from game.sim.procedure import Procedure

BENCH_LEVEL = "renal-cobra"


def frame_ms(frames: int = 240, seed: int = 0) -> dict:
    """Median and p95 time (ms) of one simulation frame, and the frames per second that allows."""
    import time

    level = load_level(resolve_level(BENCH_LEVEL))
    p = Procedure(level, seed)
    for action in (
        A.make(0.0, "select", "wire"), A.make(0.0, "advance", 40.0), A.make(0.0, "select", "catheter"),
        A.make(0.0, "advance", 30.0), A.make(0.0, "fluoro", True), A.make(0.0, "pulse_rate", 15.0),
    ):  # fmt: skip
        p.apply(action)
    for _ in range(120):  # get instruments well in before timing
        p.step()
    p.apply(A.make(p.t_s, "inject", 3.0))
    samples = np.empty(frames)
    for i in range(frames):
        start = time.perf_counter()
        p.step()
        samples[i] = (time.perf_counter() - start) * 1000.0
    stats = summary(samples)
    return {"median": stats["median"], "p95": stats["p95"], "fps_median": round(1000.0 / stats["median"], 1)}
