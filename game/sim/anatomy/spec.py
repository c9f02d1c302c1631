"""Plain-data descriptions of vessels and lesions: what level files and generators produce.

A :class:`VesselSpec` is the raw input (control points in mm, one radius per point); the
:class:`~game.sim.anatomy.vessel_tree.VesselTree` turns a list of them into smooth, resampled branches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VesselSpec:
    """One branch as given: control points (mm), a radius per point (mm), an optional inlet flow."""

    name: str
    parent: str | None
    points_mm: tuple[tuple[float, float, float], ...]
    radii_mm: tuple[float, ...]
    flow_mL_per_min: float | None = None

    def __post_init__(self) -> None:
        if len(self.points_mm) != len(self.radii_mm):
            raise ValueError(f"vessel {self.name!r}: {len(self.points_mm)} points but {len(self.radii_mm)} radii")


@dataclass(frozen=True)
class LesionSpec:
    """A stenosis: on ``branch``, centred ``position_mm`` along it from its origin, ``severity_pct`` diameter loss."""

    branch: str
    position_mm: float
    length_mm: float
    severity_pct: float
