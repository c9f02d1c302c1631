"""Analytic test phantoms with the body's interface (``line_integral``, ``thickness_mm``, ``materials``).

Used to calibrate and test the imaging (the AEC against "20 cm of water", contrast-to-noise against a uniform
background) independently of the patient body model, and by the benchmark when a level has no body yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from game.sim.materials import Material


@dataclass(frozen=True)
class EllipticCylinder:
    """An elliptic cylinder along z: centre (x, y), semi-axes (a along x, b along y), material, z extent."""

    centre_xy_mm: tuple[float, float]
    semi_axes_mm: tuple[float, float]
    material: Material
    z_range_mm: tuple[float, float] = (-np.inf, np.inf)

    def chord_mm(self, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Length (mm) of each ray (origin + t d, t > 0) inside the solid."""
        a, b = self.semi_axes_mm
        ox, oy = origin[0] - self.centre_xy_mm[0], origin[1] - self.centre_xy_mm[1]
        dx, dy = directions[:, 0], directions[:, 1]
        qa = (dx / a) ** 2 + (dy / b) ** 2
        qb = 2.0 * (ox * dx / a**2 + oy * dy / b**2)
        qc = (ox / a) ** 2 + (oy / b) ** 2 - 1.0
        disc = qb * qb - 4.0 * qa * qc
        ok = (disc > 0) & (qa > 1e-15)
        root = np.sqrt(np.where(ok, disc, 0.0))
        safe_qa = np.where(ok, qa, 1.0)
        t0 = np.where(ok, (-qb - root) / (2 * safe_qa), 0.0)
        t1 = np.where(ok, (-qb + root) / (2 * safe_qa), 0.0)
        # Clip by the z slab.
        dz = directions[:, 2]
        z0, z1 = self.z_range_mm
        with np.errstate(divide="ignore", invalid="ignore"):
            tz0 = (z0 - origin[2]) / dz
            tz1 = (z1 - origin[2]) / dz
        lo = np.where(np.abs(dz) > 1e-12, np.minimum(tz0, tz1), -np.inf)
        hi = np.where(np.abs(dz) > 1e-12, np.maximum(tz0, tz1), np.inf)
        flat_inside = (origin[2] >= z0) & (origin[2] <= z1)
        lo = np.where((np.abs(dz) <= 1e-12) & ~flat_inside, np.inf, lo)
        t0, t1 = np.maximum(np.maximum(t0, lo), 0.0), np.minimum(t1, hi)
        return np.where(ok, np.maximum(t1 - t0, 0.0), 0.0)


@dataclass(frozen=True)
class Phantom:
    """A union of elliptic cylinders; later parts *replace* earlier ones where they overlap (an insert of bone in
    water replaces water), so the line integral adds ``(mu_part - mu_container) * chord`` for each insert."""

    parts: tuple[EllipticCylinder, ...]
    #: Which part each insert sits inside (index into parts; None for the outermost part).
    containers: tuple[int | None, ...] = field(default=())

    def line_integral(self, origin: np.ndarray, directions: np.ndarray, mu_per_mm) -> np.ndarray:
        """Sum of mu * path length (dimensionless) along each ray from ``origin`` (3,) along ``directions``
        (N, 3) unit vectors; ``mu_per_mm`` is indexed by :class:`Material` (an array or a mapping)."""
        origin = np.asarray(origin, dtype=float)
        directions = np.asarray(directions, dtype=float).reshape(-1, 3)
        total = np.zeros(len(directions))
        containers = self.containers or (None,) * len(self.parts)
        for part, container in zip(self.parts, containers, strict=True):
            mu = mu_per_mm[part.material]
            if container is not None:
                mu -= mu_per_mm[self.parts[container].material]
            total += mu * part.chord_mm(origin, directions)
        return total

    def thickness_mm(self, origin: np.ndarray, directions: np.ndarray) -> np.ndarray | float:
        """Path length (mm) through the outermost part of ray(s); a float for a single direction."""
        d = np.asarray(directions, dtype=float)
        chords = self.parts[0].chord_mm(np.asarray(origin, float), np.atleast_2d(d))
        return float(chords[0]) if d.ndim == 1 else chords


def water_cylinder(diameter_mm: float = 200.0, material: Material = Material.WATER) -> Phantom:
    """A round water cylinder along z, centred on the z axis: "20 cm of water" at every C-arm angle."""
    r = diameter_mm / 2.0
    return Phantom((EllipticCylinder((0.0, 0.0), (r, r), material),))


def water_slab_with_bone(thickness_mm: float = 200.0, bone_diameter_mm: float = 30.0) -> Phantom:
    """A wide water cylinder (nearly a slab for AP rays) with a bone rod along z at its centre."""
    r = thickness_mm / 2.0
    return Phantom(
        (
            EllipticCylinder((0.0, 0.0), (3.0 * r, r), Material.WATER),
            EllipticCylinder((0.0, 0.0), (bone_diameter_mm / 2.0, bone_diameter_mm / 2.0), Material.CORTICAL_BONE),
        ),
        (None, 0),
    )
