"""The frame benchmarks: the simulation alone, and the full frame the game draws.

``sim_frame_ms``: one fixed step of :class:`~game.sim.procedure.Procedure` with the instruments moving, contrast
flowing from the catheter tip and live fluoroscopy at 15 p/s (an X-ray pulse is imaged every fourth frame).

``full_frame_ms``: what one display frame of the game costs: the procedure room of the real app (SDL's dummy
video driver, 1280x800) driven by held keys through the real input mapping - wire and catheter pushed, the
fluoroscopy pedal held at 15 p/s, contrast injected - each frame one fixed step, the image at the pulse rate, the
live and reference monitors, the overlay and the status panel composited, and the display flipped.
"""

from __future__ import annotations

import os
import time

import numpy as np

from game.benchmarks.timing import summary
from game.sim import actions as A
from game.sim.level import load_level
from game.sim.level.library import resolve_level
from game.sim.procedure import Procedure

BENCH_LEVEL = "renal-cobra"
FRAME_SIZE = (1280, 800)


def _stats(samples: np.ndarray) -> dict:
    stats = summary(samples)
    return {"median": stats["median"], "p95": stats["p95"], "fps_median": round(1000.0 / stats["median"], 1)}


def sim_frame_ms(frames: int = 240, seed: int = 0) -> dict:
    """Median and p95 time (ms) of one simulation step (no drawing), and the frames per second that allows."""
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
    return _stats(samples)


def full_frame_ms(frames: int = 480, size: tuple[int, int] = FRAME_SIZE, seed: int = 0) -> dict:
    """Median and p95 time (ms) of one full display frame of the procedure room, headless."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # --json: nothing but the JSON object on stdout
    import pygame

    from game.app.main import App, FixedClock
    from game.app.scenes.procedure import ProcedureScene

    level = load_level(resolve_level(BENCH_LEVEL))
    app = App(size, clock=FixedClock())
    try:
        scene = ProcedureScene(app, level, seed, procedure=Procedure(level, seed), record=False)
        app.scenes.push(scene)

        def key(kind: int, name: str) -> pygame.event.Event:
            return pygame.event.Event(kind, key=pygame.key.key_code(name), mod=0, unicode="", scancode=0)

        def frame(events=()) -> float:
            start = time.perf_counter()
            app.frame(events, 1, 0.5)
            pygame.display.flip()
            return (time.perf_counter() - start) * 1000.0

        frame([key(pygame.KEYDOWN, "up"), key(pygame.KEYDOWN, "space")])  # push the wire, pedal down (15 p/s)
        for _ in range(90):
            frame()
        frame([key(pygame.KEYDOWN, "tab")])  # the catheter follows over the wire
        for _ in range(60):
            frame()
        frame([key(pygame.KEYDOWN, "x")])  # contrast flowing from the catheter tip
        for _ in range(30):
            frame()
        p = scene.procedure
        samples, pulsed = np.empty(frames), np.zeros(frames, dtype=bool)
        for i in range(frames):
            before = p.ledger.fluoro_pulses
            samples[i] = frame()
            pulsed[i] = p.ledger.fluoro_pulses != before
        figures = _stats(samples)
        figures.update(
            size=f"{size[0]}x{size[1]}",
            video_driver=pygame.display.get_driver(),
            pulse_rate_per_s=p.pulse_rate_per_s,
            fluoro=p.fluoro,
            contrast_mL=round(p.contrast_mL, 2),
            pulses=p.ledger.fluoro_pulses,
            frames=frames,
            pulse_frames=int(pulsed.sum()),
            pulse_frame_ms_median=round(float(np.median(samples[pulsed])), 4) if pulsed.any() else None,
            other_frame_ms_median=round(float(np.median(samples[~pulsed])), 4) if (~pulsed).any() else None,
        )
        return figures
    finally:
        app.close()


def frame_ms(frames: int = 240, seed: int = 0) -> dict:
    """The simulation-only frame (kept for callers of the earlier benchmark)."""
    return sim_frame_ms(frames, seed)
