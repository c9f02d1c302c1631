"""Render cone-beam projections of the patient body (and the generated vessels) to PNGs for a visual check.

    SDL_VIDEODRIVER=dummy .venv/bin/python tools/preview_body.py [--out out] [--seed 0]

Writes ``body_<region>_<view>.png`` (bone and iodine dark on grey, as on a fluoroscopy monitor) and
``vessels_<region>_<view>.png`` (the same with the aortic_arch tree's centrelines, abdomen and coronaries
included, drawn in red) for the chest and the abdomen/pelvis at AP, LAO 30 and left lateral, at 70 keV.
Also prints the time of one 512 x 512 line integral.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
import pygame

from game.sim import constants as C
from game.sim.anatomy.body import Body, build_body
from game.sim.anatomy.centreline import resample_centreline
from game.sim.anatomy.generators import generate
from game.sim.materials import linear_attenuation_table_per_mm

ENERGY_KEV = 70.0
DETECTOR_MM = 480.0  # largest FD20 field
PIXELS = 512
REGIONS = {"chest": 300.0, "abdomen": 0.0}  # isocentre height z (mm)
VIEWS = {"ap": 0.0, "lao30": 30.0, "lateral": 90.0}  # primary angle (deg, LAO +)
WINDOW_PERCENTILES = (2.0, 99.8)  # display window over the pixels that cross the body
WINDOW_HEADROOM = 1.25  # the window ends this much beyond the darkest percentile: dense bone stays grey
DISPLAY_GAMMA = 0.8
VESSEL_COLOUR = (220, 30, 30)
VESSEL_PARAMS = {"coronaries": True, "include_abdomen": True}


@dataclass(frozen=True)
class View:
    """A C-arm pose: source, detector centre, and the detector's screen axes (right, down), all in mm."""

    source_mm: np.ndarray
    detector_mm: np.ndarray
    right: np.ndarray
    down: np.ndarray

    @classmethod
    def at(cls, isocentre_z_mm: float, lao_deg: float) -> View:
        a = np.radians(lao_deg)
        toward_detector = np.array([np.sin(a), -np.cos(a), 0.0])  # AP: source under the table, detector above
        isocentre = np.array([0.0, 0.0, isocentre_z_mm])
        source = isocentre - C.FOCUS_TO_ISOCENTRE_MM * toward_detector
        detector = source + C.SID_DEFAULT_MM * toward_detector
        return cls(source, detector, np.array([np.cos(a), np.sin(a), 0.0]), np.array([0.0, 0.0, -1.0]))

    def ray_directions(self) -> np.ndarray:
        """Unit directions (PIXELS^2, 3) from the source to each detector pixel centre, row-major."""
        coords = (np.arange(PIXELS) + 0.5) / PIXELS * DETECTOR_MM - 0.5 * DETECTOR_MM
        down, right = np.meshgrid(coords, coords, indexing="ij")
        pixels = self.detector_mm + right[..., None] * self.right + down[..., None] * self.down
        d = (pixels - self.source_mm).reshape(-1, 3)
        return d / np.linalg.norm(d, axis=1, keepdims=True)

    def project(self, points_mm: np.ndarray) -> np.ndarray:
        """Pixel coordinates (column, row) of 3D points on the detector."""
        rel = points_mm - self.source_mm
        axis = (self.detector_mm - self.source_mm) / C.SID_DEFAULT_MM
        hit = self.source_mm + rel * (C.SID_DEFAULT_MM / (rel @ axis))[:, None] - self.detector_mm
        pixel_mm = DETECTOR_MM / PIXELS
        return np.stack([hit @ self.right, hit @ self.down], axis=1) / pixel_mm + 0.5 * PIXELS


def render(body: Body, view: View) -> tuple[np.ndarray, float]:
    """Grey image (rows, cols) uint8 where more attenuation is darker; and the line-integral time (s)."""
    mu = linear_attenuation_table_per_mm(ENERGY_KEV)
    directions = view.ray_directions()
    start = time.perf_counter()
    integral = body.line_integral(view.source_mm, directions, mu)
    elapsed = time.perf_counter() - start
    image = integral.reshape(PIXELS, PIXELS)
    inside = image[image > 0.5 * np.median(image)]
    low, high = np.percentile(inside, WINDOW_PERCENTILES) if len(inside) else (0.0, 1.0)
    high = low + WINDOW_HEADROOM * (high - low)
    grey = 1.0 - np.clip((image - low) / max(high - low, 1e-6), 0.0, 1.0)
    return (255 * grey**DISPLAY_GAMMA).astype(np.uint8), elapsed


def vessel_polylines(seed: int) -> list[tuple[np.ndarray, float]]:
    """The aortic_arch tree's centrelines, resampled as the vessel tree will (1 mm), with their mean radius."""
    lines = []
    for spec in generate("aortic_arch", VESSEL_PARAMS, seed):
        points, radii, _ = resample_centreline(np.asarray(spec.points_mm), np.asarray(spec.radii_mm), 1.0)
        lines.append((points, float(np.mean(radii))))
    return lines


def save(grey: np.ndarray, path: Path, view: View | None = None, vessels=()) -> None:
    rgb = np.repeat(grey.T[:, :, None], 3, axis=2)  # surfarray is (x, y)
    surface = pygame.surfarray.make_surface(rgb)
    for points, radius in vessels:
        pixels = view.project(points)
        width = max(1, round(radius / 3.0))
        pygame.draw.lines(surface, VESSEL_COLOUR, False, [tuple(p) for p in pixels], width)
    pygame.image.save(surface, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    body = build_body()
    print(
        f"body: {len(body.shapes)} shapes, {body.primitive_count} primitives, built in "
        f"{1e3 * (time.perf_counter() - start):.0f} ms"
    )
    start = time.perf_counter()
    vessels = vessel_polylines(args.seed)
    print(f"vessels: {len(vessels)} branches in {1e3 * (time.perf_counter() - start):.0f} ms")
    for region, z in REGIONS.items():
        for name, angle in VIEWS.items():
            view = View.at(z, angle)
            grey, elapsed = render(body, view)
            save(grey, args.out / f"body_{region}_{name}.png")
            save(grey, args.out / f"vessels_{region}_{name}.png", view, vessels)
            print(f"{region:8s} {name:8s} line integral {PIXELS}x{PIXELS}: {1e3 * elapsed:6.0f} ms")


if __name__ == "__main__":
    main()
