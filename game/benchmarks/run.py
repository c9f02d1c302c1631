"""``lumen bench``: every benchmark, seeded and headless, with the headline figures first."""

from __future__ import annotations

import os


def run_all(quick: bool = False) -> dict:
    """Physics step, image, simulation frame, full frame and anatomy figures (ms); ``quick`` uses fewer repeats.

    ``frame_ms_median``/``frame_ms_p95``/``fps_median`` are the full frame: simulation, image at the pulse rate and
    the monitors and HUD composited at 1280x800 (see :mod:`game.benchmarks.frame`)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from game.benchmarks import anatomy, frame, imaging, mechanics

    scale = 0.25 if quick else 1.0
    physics = mechanics.physics_step_ms(repeats=max(50, int(600 * scale)))
    image = imaging.image_ms(repeats=max(10, int(60 * scale)))
    background = imaging.background_ms(repeats=max(2, int(6 * scale)))
    sim = frame.sim_frame_ms(frames=max(60, int(480 * scale)))
    full = frame.full_frame_ms(frames=max(120, int(600 * scale)))
    return {
        "physics_step_ms": physics["median"],
        "image_ms": image["median_ms"],
        "background_ms": background["background_ms"],
        "frame_ms_median": full["median"],
        "frame_ms_p95": full["p95"],
        "fps_median": full["fps_median"],
        "details": {
            "physics": physics,
            "image": image,
            "background": background,
            "sim_frame": sim,
            "frame": full,
            "anatomy": anatomy.run(repeats=max(3, int(20 * scale))),
        },
    }
