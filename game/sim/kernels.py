"""Compile the simulation's numba kernels once, ahead of the first run: ``python -m game.sim.kernels``.

The kernels (the ``*_kernel`` modules of :mod:`game.sim.mechanics`, :mod:`game.sim.anatomy` and
:mod:`game.sim.imaging`) are compiled on first use and cached on disk; ``make setup`` runs this so that the first
game, test or replay does not wait for it.
"""

from __future__ import annotations

import time

import numpy as np


def compile_all() -> float:
    """Run each kernel once on a small problem; returns the seconds it took (compiling, or loading the cache)."""
    from game.sim.anatomy.spec import VesselSpec
    from game.sim.anatomy.vessel_tree import VesselTree
    from game.sim.imaging import display, pixels_kernel, tubes_kernel
    from game.sim.mechanics.contact import LumenIndex
    from game.sim.mechanics.rod import Clamp, RodSolver, Walls

    start = time.perf_counter()
    n = 8
    x = np.zeros((n + 1, 3))
    x[:, 2] = np.arange(n + 1) * 2.0
    clamp = Clamp(np.zeros(3), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    along = np.tile([-np.inf, np.inf], (n + 1, 1))  # open cylinders along the vessel
    walls = Walls(x.copy(), np.tile([0.0, 0.0, 1.0], (n + 1, 1)), np.full(n + 1, 3.0), along)
    load = np.zeros((n + 1, 3))
    load[-1, 0] = 0.01
    for w in (None, walls):
        RodSolver().solve(x, np.full(n, 2.0), np.full(n, 100.0), np.zeros((n, 3)), clamp, iterations=2, walls=w,
                          force_N=load, watch=((np.array([n]), 0.0),))  # fmt: skip
    tree = VesselTree([VesselSpec("vessel", None, ((0.0, 0.0, 0.0), (0.0, 0.0, 50.0)), (5.0, 5.0), 1000.0)])
    tree.query(np.zeros((1, 3)))
    LumenIndex(tree).locate(np.zeros((1, 3)), np.zeros(1, dtype=np.int64))
    image = np.zeros((4, 4), dtype=np.float32)
    outside = np.zeros((4, 4), dtype=bool)
    pixels_kernel.blank_and_filter(image.copy(), outside, np.float32(20.0), image.copy(), np.float32(0.5))
    tubes_kernel.draw_segments(image.copy(), np.ones((1, 2)), np.full((1, 2), 3.0), np.ones(1), np.zeros(1), np.ones(1))
    display.to_grey(image, 0.0, add=image, sign=-1.0, outside=outside)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"kernels ready ({compile_all():.1f} s)")
