"""C-arm geometry: angles, focal spot, detector frame, cone-beam projection, field sizes and collimator shutters.

Conventions (DOMAIN.md section 1; patient coordinates of ``game.sim.constants``: mm, x patient's left,
y posterior, z head):

- The C-arm turns about its **isocentre**. The table pan puts the region of interest there: the isocentre sits at
  ``(table_x_mm, table_y_mm, table_z_mm)`` in patient coordinates (``table_y_mm`` = 0: the mid-coronal plane).
- The **primary angle** LAO (+) / RAO (-) is a rotation about the patient's long axis, named by where the
  *detector* goes; the **secondary angle** CRA (+) / CAU (-) tilts the detector toward the head / feet. 0/0 is
  AP: the source under the table (+y), the detector above the patient (-y). The beam axis (source to detector)
  is ``d = (cos c sin a, -cos c cos a, sin c)`` for LAO ``a`` and CRA ``c``; the whole frame is
  ``R = Rz(a) @ Rx(c)`` applied to the AP frame.
- The **image** is shown as seen from the detector, looking at the patient, head up: at AP the patient's left is
  on the image's right. Image columns run along ``u = R @ (1, 0, 0)``, rows downward along ``v = -R @ (0, 0, 1)``.
  In LAO the spine (posterior) moves to the image's right, as on a real system.
- Pixels: a square detector field ``fov_cm`` on a side, ``size_px`` pixels; pixel (col, row) has its centre at
  ``u = (col + 0.5 - W/2) * pixel_mm`` on the detector. :meth:`CArm.project` returns these continuous
  (col, row) coordinates, so a point that lands on a pixel's centre gets integer coordinates.
- An **image intensifier** (``Detector.IMAGE_INTENSIFIER``) has a circular field of diameter ``fov_cm`` and a
  slight pincushion distortion: a point at radius ``r`` on the input screen appears at
  ``r * (1 + k (r/R)^2)`` in the image (R the field radius), k = :data:`II_PINCUSHION`. The distortion is part of
  the projection, so the body background, vessels and instruments are all distorted alike at no cost per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from game.sim import constants as C
from game.sim.dose.skin import Beam
from game.sim.level.schema import Detector

#: Pincushion coefficient of an image intensifier: the field's edge is stretched by this fraction *(est.; a few
#: percent is typical of a modern II, PMC3097666 describes the effect)*.
II_PINCUSHION = 0.04
#: Collimator shutters open at least this fraction of the field side (the ``collimate`` action's range).
MIN_COLLIMATION = 0.2
#: The IRP lies on the central ray this far from the isocentre toward the source (DOMAIN.md section 1).
IRP_FROM_ISOCENTRE_MM = C.FOCUS_TO_ISOCENTRE_MM - C.FOCUS_TO_IRP_MM


@dataclass(frozen=True)
class CArm:
    """One C-arm position and detector set-up. Immutable: a move makes a new one (``with_``)."""

    lao_deg: float = 0.0
    cra_deg: float = 0.0
    fov_cm: float = 37.0
    sid_mm: float = C.SID_DEFAULT_MM
    table_x_mm: float = 0.0
    table_z_mm: float = 0.0
    table_y_mm: float = 0.0
    detector: Detector = Detector.FLAT_PANEL
    #: Open fraction of the field side between the shutters, (along image columns, along image rows).
    collimation: tuple[float, float] = (1.0, 1.0)
    focus_to_isocentre_mm: float = C.FOCUS_TO_ISOCENTRE_MM

    def __post_init__(self) -> None:
        if self.sid_mm <= self.focus_to_isocentre_mm:
            raise ValueError(f"SID {self.sid_mm} mm must exceed the focus-isocentre distance")
        if self.fov_cm <= 0:
            raise ValueError("fov_cm must be positive")
        cu, cv = self.collimation
        if not (MIN_COLLIMATION - 1e-9 <= cu <= 1.0 + 1e-9 and MIN_COLLIMATION - 1e-9 <= cv <= 1.0 + 1e-9):
            raise ValueError(f"collimation fractions must lie in [{MIN_COLLIMATION}, 1], not {self.collimation}")

    def with_(self, **changes) -> CArm:
        """A copy with some fields changed (e.g. ``carm.with_(lao_deg=30)``)."""
        return replace(self, **changes)

    # --- frame -----------------------------------------------------------------------------------------------
    @cached_property
    def rotation(self) -> np.ndarray:
        """3x3 matrix whose columns are the image column axis u, the row axis v (down) and the beam axis d."""
        a, c = np.radians(self.lao_deg), np.radians(self.cra_deg)
        rz = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
        # Rx(c) tilts the AP beam (0, -1, 0) toward the head: (0, -cos c, sin c).
        rx = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(c), np.sin(c)], [0.0, -np.sin(c), np.cos(c)]])
        r = rz @ rx
        u = r @ np.array([1.0, 0.0, 0.0])
        v = -(r @ np.array([0.0, 0.0, 1.0]))
        d = r @ np.array([0.0, -1.0, 0.0])
        return np.stack([u, v, d], axis=1)

    @property
    def u_axis(self) -> np.ndarray:
        return self.rotation[:, 0]

    @property
    def v_axis(self) -> np.ndarray:
        return self.rotation[:, 1]

    @property
    def beam_axis(self) -> np.ndarray:
        """Unit vector of the central ray, from the focal spot toward the detector."""
        return self.rotation[:, 2]

    @property
    def isocentre_mm(self) -> np.ndarray:
        return np.array([self.table_x_mm, self.table_y_mm, self.table_z_mm])

    @property
    def source_mm(self) -> np.ndarray:
        """The focal spot."""
        return self.isocentre_mm - self.focus_to_isocentre_mm * self.beam_axis

    @property
    def detector_centre_mm(self) -> np.ndarray:
        return self.source_mm + self.sid_mm * self.beam_axis

    @property
    def irp_mm(self) -> np.ndarray:
        """Interventional reference point: on the central ray, 15 cm from the isocentre toward the source."""
        return self.isocentre_mm - IRP_FROM_ISOCENTRE_MM * self.beam_axis

    @property
    def focus_to_irp_mm(self) -> float:
        return self.focus_to_isocentre_mm - IRP_FROM_ISOCENTRE_MM

    # --- field sizes -------------------------------------------------------------------------------------------
    @property
    def field_side_mm(self) -> float:
        """Side (flat panel) or diameter (image intensifier) of the detector field, at the detector."""
        return self.fov_cm * 10.0

    @property
    def magnification_at_isocentre(self) -> float:
        return self.sid_mm / self.focus_to_isocentre_mm

    def magnification_at(self, points_mm: np.ndarray) -> np.ndarray:
        """Geometric magnification SID / (distance from the focal spot along the beam axis) of each point."""
        depth = (np.atleast_2d(points_mm) - self.source_mm) @ self.beam_axis
        return self.sid_mm / depth

    def field_side_at_irp_mm(self) -> tuple[float, float]:
        """Collimated field sides (along u, along v) at the IRP, mm: what the dose code multiplies Ka,r by."""
        scale = self.focus_to_irp_mm / self.sid_mm
        return (
            self.field_side_mm * self.collimation[0] * scale,
            self.field_side_mm * self.collimation[1] * scale,
        )

    def field_area_at_irp_cm2(self) -> float:
        """Collimated beam area at the IRP in cm^2 (an image intensifier's circle is cut by the shutters)."""
        su, sv = self.field_side_at_irp_mm()
        if self.detector == Detector.IMAGE_INTENSIFIER:
            return _circle_in_rectangle_area(self.field_side_mm / 2.0 * self.focus_to_irp_mm / self.sid_mm, su, sv)
        return su * sv / 100.0

    def beam(self) -> Beam:
        """The collimated beam as the dose code wants it (:class:`game.sim.dose.skin.Beam`). An image
        intensifier's round field is given as the rectangle of the same area and aspect, so KAP stays right."""
        su, sv = self.field_side_at_irp_mm()
        if self.detector == Detector.IMAGE_INTENSIFIER:
            shrink = np.sqrt(self.field_area_at_irp_cm2() * 100.0 / (su * sv))
            su, sv = su * shrink, sv * shrink
        return Beam(self.source_mm, self.irp_mm, self.u_axis, self.v_axis, (su / 2.0, sv / 2.0))

    def pixel_mm(self, size_px: int) -> float:
        """Pixel pitch at the detector (mm) for an image of ``size_px`` pixels on a side."""
        return self.field_side_mm / size_px

    # --- projection --------------------------------------------------------------------------------------------
    def project(self, points_mm: np.ndarray, size_px: int) -> tuple[np.ndarray, np.ndarray]:
        """Cone-beam projection of points (N, 3) mm: continuous pixel coordinates (N, 2) as (col, row), and the
        depth (N,) of each point along the beam axis from the focal spot (mm; magnification = SID / depth)."""
        p = np.atleast_2d(np.asarray(points_mm, dtype=float)) - self.source_mm
        local = p @ self.rotation  # (u, v, depth)
        depth = local[:, 2]
        scale = self.sid_mm / np.where(depth > 1e-6, depth, np.nan)
        uv = local[:, :2] * scale[:, None]
        if self.detector == Detector.IMAGE_INTENSIFIER:
            uv = self._distort(uv)
        pixel = self.pixel_mm(size_px)
        return uv / pixel + (size_px / 2.0 - 0.5), depth

    def detector_points_mm(self, cols: np.ndarray, rows: np.ndarray, size_px: int) -> np.ndarray:
        """(u, v) on the detector plane, mm, of continuous pixel coordinates, undoing the II distortion."""
        pixel = self.pixel_mm(size_px)
        uv = np.stack([np.asarray(cols, float), np.asarray(rows, float)], axis=-1)
        uv = (uv - (size_px / 2.0 - 0.5)) * pixel
        if self.detector == Detector.IMAGE_INTENSIFIER:
            uv = self._undistort(uv)
        return uv

    def ray_directions(self, size_px: int, grid_px: int | None = None) -> np.ndarray:
        """Unit ray directions (G, G, 3) from the focal spot through a G x G grid spanning the image.

        With ``grid_px`` = G < ``size_px`` the rays pass through a coarser grid whose corners coincide with the
        corner pixel centres of the full image, so bilinear/bicubic upsampling lands exactly on it.
        """
        g = size_px if grid_px is None else grid_px
        coords = np.linspace(0.0, size_px - 1.0, g)
        cols, rows = np.meshgrid(coords, coords)
        uv = self.detector_points_mm(cols, rows, size_px)
        r = self.rotation
        directions = uv[..., 0:1] * r[:, 0] + uv[..., 1:2] * r[:, 1] + self.sid_mm * r[:, 2]
        return directions / np.linalg.norm(directions, axis=-1, keepdims=True)

    def _distort(self, uv: np.ndarray) -> np.ndarray:
        radius = self.field_side_mm / 2.0
        r2 = np.sum(uv * uv, axis=-1, keepdims=True) / (radius * radius)
        return uv * (1.0 + II_PINCUSHION * r2)

    def _undistort(self, uv: np.ndarray) -> np.ndarray:
        radius = self.field_side_mm / 2.0
        rd = np.sqrt(np.sum(uv * uv, axis=-1, keepdims=True)) / radius
        r = rd.copy()
        for _ in range(6):  # Newton on r (1 + k r^2) = rd
            r -= (r * (1.0 + II_PINCUSHION * r * r) - rd) / (1.0 + 3.0 * II_PINCUSHION * r * r)
        return uv * np.where(rd > 1e-12, r / np.maximum(rd, 1e-12), 1.0)

    # --- field masks ---------------------------------------------------------------------------------------------
    def shutter_mask(self, size_px: int) -> np.ndarray:
        """True where X-rays reach the detector: inside the collimator shutters (and the II's circle)."""
        centre = size_px / 2.0 - 0.5
        idx = np.arange(size_px) - centre
        half_u = self.collimation[0] * size_px / 2.0
        half_v = self.collimation[1] * size_px / 2.0
        inside = (np.abs(idx)[None, :] < half_u) & (np.abs(idx)[:, None] < half_v)
        if self.detector == Detector.IMAGE_INTENSIFIER:
            inside &= self.field_mask(size_px)
        return inside

    def field_mask(self, size_px: int) -> np.ndarray:
        """True inside the detector's field: the whole square of a flat panel, the circle of an II."""
        if self.detector != Detector.IMAGE_INTENSIFIER:
            return np.ones((size_px, size_px), dtype=bool)
        idx = np.arange(size_px) - (size_px / 2.0 - 0.5)
        return idx[None, :] ** 2 + idx[:, None] ** 2 < (size_px / 2.0) ** 2

    def geometry_key(self) -> tuple:
        """What the body background depends on (everything but the shutters)."""
        return (
            round(self.lao_deg, 6),
            round(self.cra_deg, 6),
            round(self.fov_cm, 6),
            round(self.sid_mm, 6),
            round(self.table_x_mm, 6),
            round(self.table_y_mm, 6),
            round(self.table_z_mm, 6),
            str(self.detector),
            round(self.focus_to_isocentre_mm, 6),
        )

    def angles_key(self) -> tuple:
        """What a stored mask's registration depends on besides the table: angles, field, SID, detector."""
        return self.geometry_key()[:4] + self.geometry_key()[7:]


def _circle_in_rectangle_area(radius: float, side_u: float, side_v: float) -> float:
    """Area (cm^2) of a centred circle of ``radius`` mm intersected with a centred ``side_u`` x ``side_v`` mm
    rectangle, by numerical integration over one quadrant."""
    hu, hv = min(side_u / 2.0, radius), min(side_v / 2.0, radius)
    x = np.linspace(0.0, hu, 257)
    y = np.minimum(np.sqrt(np.maximum(radius * radius - x * x, 0.0)), hv)
    return 4.0 * float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0) / 100.0
