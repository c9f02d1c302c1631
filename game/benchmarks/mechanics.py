"""Benchmark of one physics step: a wire (>= 100 inserted nodes) and a catheter over it in an aorto-iliac tree.

Run ``python -m game.benchmarks.mechanics`` (prints one JSON object). Seeded and headless; the figures are
wall-clock times of :meth:`Instruments.step`, the same step the game, tests and replays use.
"""

from __future__ import annotations

import json
import time

import numpy as np

from game.sim.anatomy.spec import VesselSpec
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.devices.catalogue import CATALOGUE
from game.sim.mechanics import NODE_SPACING_MM, AccessSite, Instruments

#: The step the procedure is expected to run at (s).
DT_S = 1.0 / 60.0
ACCESS = AccessSite("right_common_femoral", 30.0, "retrograde")
WIRE_INSERTED_MM = 330.0
CATHETER_INSERTED_MM = 260.0


def build_tree(seed: int = 0) -> VesselTree:
    """The parametric aorto-iliac tree (or, if the generators are unavailable, a hand-made one like it)."""
    try:
        from game.sim.anatomy.generators import generate

        return VesselTree(generate("aorto_iliac", {}, seed))
    except ImportError:
        return VesselTree(_fallback_specs())


def _fallback_specs() -> list[VesselSpec]:
    def vessel(name, parent, points, r0, r1):
        radii = tuple(np.linspace(r0, r1, len(points)))
        return VesselSpec(name, parent, tuple(tuple(map(float, p)) for p in points), radii)

    return [
        vessel("abdominal_aorta", None, [(0, 10, 180), (2, 5, 120), (4, 0, 60), (0, 0, 0)], 10.0, 8.5),
        vessel("left_renal", "abdominal_aorta", [(2, 5, 110), (30, 12, 104), (60, 20, 98)], 2.9, 2.5),
        vessel("right_renal", "abdominal_aorta", [(2, 5, 110), (-30, 14, 104), (-60, 25, 100)], 2.9, 2.5),
        vessel("sma", "abdominal_aorta", [(2, 3, 135), (4, -15, 110), (0, -20, 40)], 3.0, 2.5),
        vessel("left_common_iliac", "abdominal_aorta", [(0, 0, 0), (25, 3, -30), (45, 6, -55)], 5.0, 4.7),
        vessel("right_common_iliac", "abdominal_aorta", [(0, 0, 0), (-25, 3, -30), (-45, 6, -55)], 5.0, 4.7),
        vessel("left_external_iliac", "left_common_iliac", [(45, 6, -55), (70, -20, -90), (90, -40, -115)], 4.4, 4.4),
        vessel(
            "right_external_iliac", "right_common_iliac", [(-45, 6, -55), (-70, -20, -90), (-90, -40, -115)], 4.5, 4.4
        ),
        vessel("left_internal_iliac", "left_common_iliac", [(45, 6, -55), (48, 30, -80), (48, 37, -100)], 3.2, 2.8),
        vessel(
            "right_internal_iliac", "right_common_iliac", [(-45, 6, -55), (-48, 30, -80), (-48, 37, -100)], 3.2, 2.8
        ),
        vessel(
            "left_common_femoral", "left_external_iliac", [(90, -40, -115), (92, -46, -140), (93, -48, -165)], 4.2, 4.2
        ),
        vessel(
            "right_common_femoral",
            "right_external_iliac",
            [(-90, -40, -115), (-92, -46, -140), (-93, -48, -165)],
            4.8,
            4.2,
        ),
    ]


def prepared_instruments(seed: int = 0) -> Instruments:
    """Wire in up the aorta, a Cobra catheter over it, both placed through the same step the game uses."""
    instruments = Instruments(
        build_tree(seed), ACCESS, {"wire": CATALOGUE["angled_hydrophilic_035"], "catheter": CATALOGUE["cobra_c2_5f"]}
    )
    while instruments.inserted_mm("wire") < WIRE_INSERTED_MM - 1e-6:
        instruments.step(DT_S, {"wire": (60.0, 0.0)})
    while instruments.inserted_mm("catheter") < CATHETER_INSERTED_MM - 1e-6:
        instruments.step(DT_S, {"catheter": (60.0, 0.0)})
    return instruments


def _controls(i: int) -> dict[str, tuple[float, float]]:
    """A trainee's manipulation: turn and nudge the wire, then the catheter, back and forth."""
    phase = (i // 60) % 4
    sign = 1.0 if (i // 30) % 2 == 0 else -1.0
    if phase == 0:
        return {"wire": (5.0 * sign, 90.0 * sign)}
    if phase == 1:
        return {"catheter": (5.0 * sign, 60.0 * sign)}
    if phase == 2:
        return {"wire": (10.0 * sign, 0.0), "catheter": (0.0, 45.0)}
    return {}


def physics_step_ms(repeats: int = 600, seed: int = 0) -> dict:
    """One ``Instruments.step``: ``median`` and ``p95`` wall-clock ms (``physics_step_ms`` = the median), the same
    in CPU time of the stepping thread, wire ``nodes`` in the vessel, mean Newton ``iterations`` per step."""
    instruments = prepared_instruments(seed)
    solver = instruments._solver
    times, cpu, iterations = [], [], []
    for i in range(repeats):
        controls = _controls(i)
        start, start_cpu = time.perf_counter(), time.thread_time()
        instruments.step(DT_S, controls)
        cpu.append(time.thread_time() - start_cpu)
        times.append(time.perf_counter() - start)
        iterations.append(solver.last_iterations)
    times_ms, cpu_ms = np.array(times) * 1e3, np.array(cpu) * 1e3
    return {
        "physics_step_ms": float(np.median(times_ms)),
        "median": float(np.median(times_ms)),
        "p95": float(np.percentile(times_ms, 95)),
        # CPU time of the stepping thread: the cost on one core, unaffected by other processes sharing the machine.
        "cpu_median_ms": float(np.median(cpu_ms)),
        "cpu_p95_ms": float(np.percentile(cpu_ms, 95)),
        "nodes": len(instruments.nodes_mm("wire")),
        "catheter_nodes": len(instruments.nodes_mm("catheter")),
        "node_spacing_mm": NODE_SPACING_MM,
        "iterations": float(np.mean(iterations)),  # Newton iterations per step, mean (0 = at rest, skipped)
        "iterations_max": int(np.max(iterations)),
        "tree_samples": instruments.tree.sample_count,
        "dt_s": DT_S,
        "repeats": repeats,
        "wire_tip_branch": instruments.tip_branch("wire"),
    }


if __name__ == "__main__":
    print(json.dumps(physics_step_ms()))
