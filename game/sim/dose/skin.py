"""The skin dose map: where the entrance fields fell on the patient's skin, and the peak skin dose.

The skin is the body outline, an elliptic cylinder around the z axis (semi-axes: half the width in x, half the
AP thickness in y), unrolled into a grid of 1 cm cells by angle around the body and height. For every pulse, each
cell that faces the source and lies inside the collimated beam gets the reference air kerma scaled by the inverse
square of its distance from the source (relative to the IRP), times backscatter and, for beams from below, the
table's transmission.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.sim import constants as C


@dataclass(frozen=True)
class Beam:
    """The collimated X-ray beam: a pyramid from the focal spot through a rectangle around the IRP (mm)."""

    source_mm: np.ndarray  # focal spot
    irp_mm: np.ndarray  # interventional reference point on the central ray
    u_axis: np.ndarray  # unit vectors spanning the field, perpendicular to the central ray
    v_axis: np.ndarray
    half_width_irp_mm: tuple[float, float]  # half the collimated field's sides, measured at the IRP

    @property
    def area_irp_cm2(self) -> float:
        return 4.0 * self.half_width_irp_mm[0] * self.half_width_irp_mm[1] / 100.0

    def key(self) -> tuple:
        """Hashable identity of the geometry, for caching the field pattern."""
        return tuple(np.round(np.concatenate([self.source_mm, self.irp_mm, self.u_axis, self.v_axis]), 6)) + tuple(
            round(h, 6) for h in self.half_width_irp_mm
        )


class SkinDoseMap:
    """Accumulated entrance skin dose (mGy) per 1 cm cell of the body outline."""

    def __init__(self, width_mm: float, thickness_ap_mm: float, cell_mm: float = C.SKIN_MAP_CELL_MM):
        self.a_mm, self.b_mm = width_mm / 2.0, thickness_ap_mm / 2.0
        perimeter = np.pi * (
            3 * (self.a_mm + self.b_mm) - np.sqrt((3 * self.a_mm + self.b_mm) * (self.a_mm + 3 * self.b_mm))
        )
        n_theta = int(np.ceil(perimeter / cell_mm))
        z0, z1 = C.SKIN_MAP_Z_RANGE_MM
        n_z = int(np.ceil((z1 - z0) / cell_mm))
        # theta = 0 on the posterior midline (the back, on the table), increasing toward the patient's left.
        self.theta = (np.arange(n_theta) + 0.5) * 2 * np.pi / n_theta
        self.z_mm = z0 + (np.arange(n_z) + 0.5) * cell_mm
        th, z = np.meshgrid(self.theta, self.z_mm, indexing="ij")
        x, y = self.a_mm * np.sin(th), self.b_mm * np.cos(th)
        self.points_mm = np.stack([x, y, z], axis=-1).reshape(-1, 3)
        normal = np.stack([np.sin(th) / self.a_mm, np.cos(th) / self.b_mm, np.zeros_like(th)], axis=-1)
        self.normals = (normal / np.linalg.norm(normal, axis=-1, keepdims=True)).reshape(-1, 3)
        self.dose_mGy = np.zeros(th.shape)
        self._cache: dict[tuple, np.ndarray] = {}

    def pattern(self, beam: Beam) -> np.ndarray:
        """Skin dose per mGy of Ka,r for this beam, per cell (cached per geometry)."""
        key = beam.key()
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            self._cache[key] = self._pattern(beam)
        return self._cache[key]

    def _pattern(self, beam: Beam) -> np.ndarray:
        to_cell = self.points_mm - beam.source_mm
        axis = beam.irp_mm - beam.source_mm
        d_irp = np.linalg.norm(axis)
        axis = axis / d_irp
        along = to_cell @ axis
        scale = np.where(along > 1e-6, d_irp / np.maximum(along, 1e-6), 0.0)  # project onto the IRP plane
        u = (to_cell @ beam.u_axis) * scale
        v = (to_cell @ beam.v_axis) * scale
        inside = (along > 0) & (np.abs(u) <= beam.half_width_irp_mm[0]) & (np.abs(v) <= beam.half_width_irp_mm[1])
        facing = np.einsum("ij,ij->i", self.normals, -to_cell) > 0
        distance = np.linalg.norm(to_cell, axis=1)
        factor = (d_irp / np.maximum(distance, 1e-6)) ** 2 * C.BACKSCATTER_FACTOR
        if beam.source_mm[1] > self.b_mm:  # tube under the tabletop: the beam crosses the table first
            factor = factor * C.TABLE_TRANSMISSION
        return np.where(inside & facing, factor, 0.0).reshape(self.dose_mGy.shape)

    def add(self, beam: Beam, air_kerma_irp_mGy: float) -> None:
        self.dose_mGy += air_kerma_irp_mGy * self.pattern(beam)

    @property
    def peak_mGy(self) -> float:
        return float(self.dose_mGy.max())
