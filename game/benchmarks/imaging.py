"""Benchmark of the imaging: one fluoroscopy image with contrast and instruments, and the background after a move.

Run ``python -m game.benchmarks.imaging`` (prints one JSON object). Seeded and headless. The scene is the
parametric aorto-iliac tree in the analytic patient body, 512 x 512, 37 cm flat-panel field, the vessels partly
filled by a 1.5 s injection (transported by the contrast model), a wire and a Cobra catheter placed by the
mechanics (or, without them, laid along the centrelines). ``image_ms`` times :meth:`Fluoroscope.pulse`: AEC,
iodine, instruments, quantum noise, recursive filter, display. ``background_ms`` times what a C-arm move costs
before the next image: tracing the body on the new geometry and the display's dynamic-range map; the vessels'
projection for the iodine (needed only while contrast is in view) is reported apart as ``vessel_projection_ms``.
"""

from __future__ import annotations

import json
import time

import numpy as np

from game.sim.anatomy.body import build_body
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.contrast import ContrastTransport, Injection
from game.sim.devices.catalogue import CATALOGUE
from game.sim.imaging.aec import Mode
from game.sim.imaging.carm import CArm
from game.sim.imaging.fluoroscopy import Fluoroscope
from game.sim.imaging.shapes import Tube, device_shapes, instrument_tubes

SIZE_PX = 512
FOV_CM = 37.0
DT_S = 1.0 / 60.0


def build_scene(seed: int = 0):
    """(body, tree, tubes, concentration): the benchmark's patient, instruments and iodine."""
    from game.sim.anatomy.generators import generate

    tree = VesselTree(generate("aorto_iliac", {}, seed))
    body = build_body()
    transport = ContrastTransport(tree)
    transport.set_injection(Injection("abdominal_aorta", 60.0, 10.0, 300.0))
    for _ in range(int(1.5 / DT_S)):
        transport.step(DT_S)
    return body, tree, _instrument_tubes(tree), transport.sample_concentration()


def _instrument_tubes(tree: VesselTree) -> list[Tube]:
    try:
        from game.benchmarks.mechanics import prepared_instruments

        return device_shapes(prepared_instruments())
    except Exception:  # the mechanics are optional for this benchmark
        path = [tree[n] for n in ("right_common_femoral", "right_external_iliac", "right_common_iliac")]
        points = np.vstack([b.points_mm[::-1] for b in path] + [tree["abdominal_aorta"].points_mm[::-1][:150]])
        points = points[::2] + np.array([1.0, 0.5, 0.0])
        tip = points[-12:-11]
        return instrument_tubes(points, CATALOGUE["angled_hydrophilic_035"]) + instrument_tubes(
            points[:-10], CATALOGUE["cobra_c2_5f"], tip
        )


def image_ms(repeats: int = 60, seed: int = 0) -> dict:
    """Median and 95th percentile (ms) of one 512 x 512 fluoroscopy image with contrast and instruments."""
    body, tree, tubes, concentration = build_scene(seed)
    carm = CArm(fov_cm=FOV_CM, table_z_mm=40.0)
    scope = Fluoroscope(body, tree, carm, SIZE_PX)
    rng = np.random.default_rng(seed)
    scope.pulse(Mode.FLUORO, 15.0, rng, concentration, tubes)  # caches for this geometry
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        scope.pulse(Mode.FLUORO, 15.0, rng, concentration, tubes)
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1e3
    return {
        "image_ms": float(np.median(ms)),
        "median_ms": float(np.median(ms)),
        "p95_ms": float(np.percentile(ms, 95)),
        "size": SIZE_PX,
        "tubes": len(tubes),
        "opacified_samples": int(np.count_nonzero(concentration > 1.0)),
        "repeats": repeats,
    }


def background_ms(repeats: int = 6, seed: int = 0) -> dict:
    """Time (ms) to make the background of a new C-arm geometry ready, and to project the vessels for it."""
    body, tree, tubes, concentration = build_scene(seed)
    scope = Fluoroscope(body, tree, CArm(fov_cm=FOV_CM), SIZE_PX)
    rng = np.random.default_rng(seed)
    scope.pulse(Mode.FLUORO, 15.0, rng, concentration, tubes)
    background, vessels, first_image = [], [], []
    for i in range(repeats):
        carm = CArm(lao_deg=10.0 + 7.0 * i, cra_deg=-5.0 + 3.0 * i, fov_cm=FOV_CM, table_z_mm=40.0)
        start = time.perf_counter()
        bg = scope.renderer.background(carm)
        level = bg.measuring_log(70.0)
        scope._field(carm, 70.0, level)
        background.append(time.perf_counter() - start)
        start = time.perf_counter()
        scope.renderer.vessels.footprint(carm, SIZE_PX)
        vessels.append(time.perf_counter() - start)
        scope.set_carm(carm.with_(lao_deg=carm.lao_deg + 1.0))
        start = time.perf_counter()
        scope.pulse(Mode.FLUORO, 15.0, rng, concentration, tubes)
        first_image.append(time.perf_counter() - start)
    return {
        "background_ms": float(np.median(background) * 1e3),
        "background_p95_ms": float(np.percentile(background, 95) * 1e3),
        "vessel_projection_ms": float(np.median(vessels) * 1e3),
        "first_image_after_move_ms": float(np.median(first_image) * 1e3),
        "grid_px": scope.renderer.background(scope.carm).grid_px,
        "background_repeats": repeats,
    }


if __name__ == "__main__":
    result = image_ms()
    result.update(background_ms())
    print(json.dumps(result))
