"""What the instruments look like to X-rays: tubes and wires along polylines, marker bands, stent struts.

The mechanics describe instruments as rods (node positions); the imaging needs, for each, a centreline, a cross
section and a material. :func:`device_shapes` builds these from the mechanics' ``Instruments`` object and the
catalogue; tests build them directly.

Materials (``game.sim.imaging.attenuation``): wires are metal (a stainless-steel or nitinol core, strongly
radiopaque); catheters are a polymer tube whose wall is loaded with barium (faint) and may carry a platinum
marker band at the tip; a stent on its delivery system shows two marker bands on the shaft and the crimped stent
between them; an expanded stent shows a mesh of thin steel struts with small platinum tabs on its end rings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from game.sim.devices.catalogue import Device, DeviceKind


class Radiopacity(StrEnum):
    """The attenuating material of a shape."""

    STEEL = "steel"  # wire cores, stent struts
    PLATINUM = "platinum"  # marker bands
    CATHETER_WALL = "catheter_wall"  # barium-loaded polymer (iodine-equivalent)


#: A catheter's wall is this fraction of its outer radius when the catalogue gives no inner diameter.
DEFAULT_WALL_FRACTION = 0.3
#: Platinum marker bands: length and wall thickness, mm *(est.: typical swaged Pt-Ir bands)*.
MARKER_LENGTH_MM = 1.2
MARKER_WALL_MM = 0.05
#: Stent struts *(est.: a balloon-expandable steel stent)*: strut thickness, ring pitch, crowns per ring.
STRUT_DIAMETER_MM = 0.14
STENT_RING_PITCH_MM = 2.0
STENT_CROWNS = 8
STENT_CONNECTOR_EVERY = 2  # a longitudinal connector at every second crown
#: An expanded stent's markers: small radiopaque tabs on its end rings (length, radius mm; tabs per end) *(est.)*.
STENT_TAB_LENGTH_MM = 0.9
STENT_TAB_RADIUS_MM = 0.3
STENT_TABS_PER_END = 2


@dataclass(frozen=True, eq=False)
class Tube:
    """A radiopaque tube (solid when ``inner_radius_mm`` = 0) along a polyline ``points_mm`` (N, 3)."""

    points_mm: np.ndarray
    outer_radius_mm: float
    inner_radius_mm: float
    material: Radiopacity


@dataclass(frozen=True, eq=False)
class StentShape:
    """A stent on its centreline ``axis_mm`` (K, 3) at radius ``radius_mm`` (crimped or expanded)."""

    axis_mm: np.ndarray
    radius_mm: float
    with_markers: bool = True

    def tubes(self) -> list[Tube]:
        """Struts (thin steel wires) and the radiopaque tabs on both end rings."""
        tubes = [Tube(p, STRUT_DIAMETER_MM / 2.0, 0.0, Radiopacity.STEEL) for p in stent_struts(self)]
        if self.with_markers and len(self.axis_mm) >= 2:
            tubes.extend(stent_tabs(self))
        return tubes


def stent_tabs(stent: StentShape) -> list[Tube]:
    """Small platinum tabs, :data:`STENT_TABS_PER_END` around each end ring of an expanded stent."""
    axis = np.asarray(stent.axis_mm, float)
    tabs = []
    for end, inward in ((0, 1), (len(axis) - 1, -1)):
        direction = axis[end + inward] - axis[end]
        direction /= max(np.linalg.norm(direction), 1e-9)
        helper = np.array([1.0, 0.0, 0.0]) if abs(direction[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        normal = np.cross(direction, helper)
        normal /= np.linalg.norm(normal)
        binormal = np.cross(direction, normal)
        for k in range(STENT_TABS_PER_END):
            phi = 2.0 * np.pi * (k + 0.25) / STENT_TABS_PER_END
            at = axis[end] + stent.radius_mm * (np.cos(phi) * normal + np.sin(phi) * binormal)
            seg = np.stack([at, at + STENT_TAB_LENGTH_MM * direction])  # direction points into the stent
            tabs.append(Tube(seg, STENT_TAB_RADIUS_MM, 0.0, Radiopacity.PLATINUM))
    return tabs


def marker_band(points_mm: np.ndarray, end: int, inward: int, radius_mm: float) -> Tube:
    """A platinum band of :data:`MARKER_LENGTH_MM` at one end of a polyline (``inward`` = +1 from the first
    point toward the second, -1 from the last point back)."""
    p0 = points_mm[end]
    direction = points_mm[end + inward] - p0
    direction = direction / max(np.linalg.norm(direction), 1e-9)
    seg = np.stack([p0, p0 + MARKER_LENGTH_MM * direction])
    return Tube(seg, radius_mm + MARKER_WALL_MM, radius_mm, Radiopacity.PLATINUM)


def marker_at(point_mm: np.ndarray, direction: np.ndarray, radius_mm: float) -> Tube:
    """A platinum band centred on ``point_mm`` along ``direction``."""
    d = np.asarray(direction, float)
    d = d / max(np.linalg.norm(d), 1e-9)
    half = 0.5 * MARKER_LENGTH_MM * d
    p = np.asarray(point_mm, float)
    return Tube(np.stack([p - half, p + half]), radius_mm + MARKER_WALL_MM, radius_mm, Radiopacity.PLATINUM)


def stent_struts(stent: StentShape) -> list[np.ndarray]:
    """Polylines (each (M, 3)) of the strut mesh: zig-zag rings every ring pitch, joined by connectors."""
    axis = np.asarray(stent.axis_mm, float)
    if len(axis) < 2:
        return []
    seg = np.linalg.norm(np.diff(axis, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    length = float(s[-1])
    if length < 1e-6:
        return []
    n_rings = max(int(np.ceil(length / STENT_RING_PITCH_MM)), 1)
    pitch = length / n_rings
    # Local frame along the axis (parallel transport from an arbitrary normal).
    tangents = np.gradient(axis, s, axis=0)
    tangents /= np.maximum(np.linalg.norm(tangents, axis=1, keepdims=True), 1e-12)
    helper = np.array([1.0, 0.0, 0.0]) if abs(tangents[0, 0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    normals = np.empty_like(tangents)
    n = np.cross(tangents[0], helper)
    for i, t in enumerate(tangents):
        n = n - (n @ t) * t
        n /= max(np.linalg.norm(n), 1e-12)
        normals[i] = n
    binormals = np.cross(tangents, normals)

    def surface(s_mm: np.ndarray, phi: np.ndarray) -> np.ndarray:
        c = np.stack([np.interp(s_mm, s, axis[:, k]) for k in range(3)], axis=-1)
        nn = np.stack([np.interp(s_mm, s, normals[:, k]) for k in range(3)], axis=-1)
        bb = np.stack([np.interp(s_mm, s, binormals[:, k]) for k in range(3)], axis=-1)
        return c + stent.radius_mm * (np.cos(phi)[:, None] * nn + np.sin(phi)[:, None] * bb)

    lines = []
    points_per_ring = 2 * STENT_CROWNS * 3 + 1
    phi = np.linspace(0.0, 2.0 * np.pi, points_per_ring)
    for ring in range(n_rings):
        s0 = ring * pitch
        # Zig-zag between s0 + 0.1 pitch and s0 + 0.8 pitch.
        zig = 0.5 * (1.0 - np.cos(phi * STENT_CROWNS))
        s_ring = s0 + pitch * (0.1 + 0.7 * zig)
        lines.append(surface(s_ring, phi))
        if ring + 1 < n_rings:
            for crown in range(0, STENT_CROWNS, STENT_CONNECTOR_EVERY):
                ph = np.full(2, 2.0 * np.pi * (crown + 0.5) / STENT_CROWNS)
                lines.append(surface(np.array([s0 + 0.8 * pitch, s0 + 1.1 * pitch]), ph))
    return lines


def wire_tube(points_mm: np.ndarray, device: Device) -> Tube:
    return Tube(np.asarray(points_mm, float), device.outer_diameter_mm / 2.0, 0.0, Radiopacity.STEEL)


def catheter_tube(points_mm: np.ndarray, device: Device) -> Tube:
    outer = device.outer_diameter_mm / 2.0
    inner = device.inner_diameter_mm / 2.0 if device.inner_diameter_mm > 0 else outer * (1 - DEFAULT_WALL_FRACTION)
    return Tube(np.asarray(points_mm, float), outer, min(inner, outer * 0.95), Radiopacity.CATHETER_WALL)


def device_shapes(instruments) -> list[Tube]:
    """Tubes for every instrument of the mechanics' ``Instruments`` (``names``, ``devices``, ``nodes_mm(name)``,
    ``markers_mm(name)``, ``deployed_stents``): wires, catheters with their tip markers, stent delivery systems
    with the crimped stent between their markers, and every deployed stent."""
    tubes: list[Tube] = []
    deployed = list(getattr(instruments, "deployed_stents", ()))
    deployed_names = {stent.instrument for stent in deployed}
    for name, device in instruments.devices.items():
        nodes = np.asarray(instruments.nodes_mm(name), float)
        if len(nodes) < 2:
            continue
        markers = np.asarray(instruments.markers_mm(name), float).reshape(-1, 3)
        tubes.extend(instrument_tubes(nodes, device, markers, crimped_stent=name not in deployed_names))
    for stent in deployed:
        tubes.extend(StentShape(np.asarray(stent.points_mm, float), stent.diameter_mm / 2.0).tubes())
    return tubes


def instrument_tubes(
    nodes_mm: np.ndarray, device: Device, markers_mm: np.ndarray | None = None, crimped_stent: bool = True
) -> list[Tube]:
    """The tubes of one instrument from its node polyline and marker positions (mm); a stent system shows its
    crimped stent between its two markers unless ``crimped_stent`` is False (the stent has been deployed)."""
    markers_mm = np.zeros((0, 3)) if markers_mm is None else np.asarray(markers_mm, float).reshape(-1, 3)
    if device.kind == DeviceKind.WIRE:
        return [wire_tube(nodes_mm, device)]
    if device.kind == DeviceKind.CATHETER:
        tubes = [catheter_tube(nodes_mm, device)]
        tubes.extend(_markers_on(nodes_mm, markers_mm, device.outer_diameter_mm / 2.0))
        return tubes
    # Stent on its delivery system: the shaft (a catheter), the crimped stent between the two markers.
    tubes = [catheter_tube(nodes_mm, device)]
    if crimped_stent and len(markers_mm) >= 2:
        axis = _polyline_between(nodes_mm, markers_mm[0], markers_mm[-1])
        crimped = device.outer_diameter_mm / 2.0
        tubes.extend(StentShape(axis, crimped, with_markers=False).tubes())
    tubes.extend(_markers_on(nodes_mm, markers_mm, device.outer_diameter_mm / 2.0 * 0.6))
    return tubes


def _markers_on(nodes_mm: np.ndarray, markers_mm: np.ndarray, radius_mm: float) -> list[Tube]:
    tubes = []
    for m in markers_mm:
        j = int(np.argmin(np.linalg.norm(nodes_mm - m, axis=1)))
        a, b = nodes_mm[max(j - 1, 0)], nodes_mm[min(j + 1, len(nodes_mm) - 1)]
        tubes.append(marker_at(m, b - a, radius_mm))
    return tubes


def _polyline_between(nodes_mm: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The part of a polyline between the nodes closest to ``a`` and ``b``, with ``a`` and ``b`` as its ends."""
    i = int(np.argmin(np.linalg.norm(nodes_mm - a, axis=1)))
    j = int(np.argmin(np.linalg.norm(nodes_mm - b, axis=1)))
    lo, hi = min(i, j), max(i, j)
    inner = nodes_mm[lo + 1 : hi]
    first, last = (a, b) if i <= j else (b, a)
    return np.vstack([first, inner, last])
