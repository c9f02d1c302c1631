"""Small vessel trees and helpers shared by the mechanics tests (test_rod, test_contact, test_instruments)."""

from __future__ import annotations

import numpy as np

from game.sim.anatomy.spec import VesselSpec
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.devices.catalogue import CATALOGUE
from game.sim.mechanics import AccessSite, Instruments

DT_S = 1.0 / 60.0


def straight(name, parent, start, end, radius, n=5):
    points = tuple(tuple(float(v) for v in p) for p in np.linspace(start, end, n))
    return VesselSpec(name, parent, points, (float(radius),) * n)


def tube(radius_mm=15.0, length_mm=400.0) -> VesselTree:
    """One straight vessel along +z."""
    return VesselTree([straight("a", None, (0, 0, 0), (0, 0, length_mm), radius_mm)])


def y_tree(angle_deg: float, trunk_radius_mm=5.0, limb_radius_mm=4.0) -> VesselTree:
    """A trunk along +z (150 mm) forking symmetrically into "left" (+x) and "right" (-x) limbs, ``angle_deg`` from
    the trunk's axis each."""
    end = np.array([0.0, 0.0, 150.0])
    a = np.radians(angle_deg)
    return VesselTree(
        [
            straight("trunk", None, (0, 0, 0), end, trunk_radius_mm),
            straight("left", "trunk", end, end + 100.0 * np.array([np.sin(a), 0, np.cos(a)]), limb_radius_mm),
            straight("right", "trunk", end, end + 100.0 * np.array([-np.sin(a), 0, np.cos(a)]), limb_radius_mm),
        ]
    )


def side_branch_tree(angle_deg: float, trunk_radius_mm: float, branch_radius_mm: float = 2.75) -> VesselTree:
    """A trunk along +z (260 mm) with one small "side" branch (70 mm) leaving it at 150 mm toward +x,
    ``angle_deg`` from the trunk's axis, like a renal artery off the aorta."""
    origin = np.array([0.0, 0.0, 150.0])
    a = np.radians(angle_deg)
    end = origin + 70.0 * np.array([np.sin(a), 0.0, np.cos(a)])
    return VesselTree(
        [
            straight("trunk", None, (0, 0, 0), (0, 0, 260), trunk_radius_mm, n=14),
            straight("side", "trunk", origin, end, branch_radius_mm, n=8),
        ]
    )


def side_by_side_tree(gap_mm: float, trunk_radius_mm: float = 5.0, branch_radius_mm: float = 3.0) -> VesselTree:
    """A trunk along +z (260 mm) and a "beside" branch that leaves it at 200 mm, turns down and runs along it,
    ``gap_mm`` from its wall where the control points are (the spline between them brings it closer, so that over
    part of its course its tube merges with the trunk's, elsewhere a thin wall divides them) - as the SMA runs down
    in front of the aorta."""
    x = trunk_radius_mm + gap_mm + branch_radius_mm
    points = (
        (0.0, 0.0, 200.0),
        (0.6 * x, 0.0, 206.0),
        (x, 0.0, 196.0),
        (x, 0.0, 170.0),
        (x, 0.0, 100.0),
        (x, 0.0, 40.0),
    )
    return VesselTree(
        [
            straight("trunk", None, (0, 0, 0), (0, 0, 260), trunk_radius_mm, n=14),
            VesselSpec("beside", "trunk", points, (branch_radius_mm,) * len(points)),
        ]
    )


def winding_tree() -> VesselTree:
    """A curved, non-planar vessel (S-bends in two planes) with a side branch: for long random sequences."""
    z = np.linspace(0.0, 300.0, 13)
    points = np.stack([18.0 * np.sin(z / 60.0), 10.0 * np.sin(z / 45.0 + 1.0), z], axis=1)
    radii = np.linspace(5.0, 4.0, len(z))
    main = VesselSpec("main", None, tuple(map(tuple, points)), tuple(radii))
    origin = points[6]
    side = [origin + t * np.array([0.7, 0.1, 0.7]) for t in np.linspace(0.0, 60.0, 5)]
    return VesselTree([main, VesselSpec("side", "main", tuple(map(tuple, side)), (3.0,) * 5)])


def arch_tree(branch_deg: float, arch_radius_mm=25.0, descending_mm=250.0) -> VesselTree:
    """A simplified aortic arch in the x-z plane: "aorta" runs up a descending limb (x = +R), over a semicircular
    arch and down a wide ascending limb (x = -R); "branch" leaves the arch at ``branch_deg`` (0 = top of the
    descending limb, 180 = top of the ascending limb) pointing upward, as the great vessels of a steep arch."""
    r, top = arch_radius_mm, descending_mm
    descending = [(r, 0.0, z) for z in np.linspace(0.0, top, 11)]
    arc = [(r * np.cos(a), 0.0, top + r * np.sin(a)) for a in np.radians(np.linspace(0.0, 180.0, 13))[1:]]
    ascending = [(-r, 0.0, z) for z in np.linspace(top, top - 160.0, 9)[1:]]
    radii = [10.0] * len(descending) + list(np.linspace(11.0, 15.0, len(arc))) + [15.0] * len(ascending)
    a = np.radians(branch_deg)
    origin = np.array([r * np.cos(a), 0.0, top + r * np.sin(a)])
    up = np.array([-0.25, 0.0, 1.0]) / np.linalg.norm([-0.25, 0.0, 1.0])
    branch = [tuple(origin + t * up) for t in np.linspace(0.0, 90.0, 7)]
    aorta = VesselSpec("aorta", None, tuple(descending + arc + ascending), tuple(radii))
    return VesselTree([aorta, VesselSpec("branch", "aorta", tuple(branch), (5.0,) * 7)])


def instruments(tree: VesselTree, access: AccessSite, **devices: str) -> Instruments:
    return Instruments(tree, access, {name: CATALOGUE[device] for name, device in devices.items()})


def run(instr: Instruments, seconds: float, controls: dict[str, tuple[float, float]]) -> list:
    events = []
    for _ in range(round(seconds / DT_S)):
        events += instr.step(DT_S, controls)
    return events


def advance_to(instr: Instruments, name: str, inserted_mm: float, speed_mm_per_s: float = 60.0) -> None:
    """Push or pull ``name`` at the hub until it is inserted ``inserted_mm`` (or can go no further)."""
    for _ in range(10_000):
        gap = inserted_mm - instr.inserted_mm(name)
        if abs(gap) < 1e-6:
            return
        before = instr.inserted_mm(name)
        instr.step(DT_S, {name: (float(np.clip(gap / DT_S, -speed_mm_per_s, speed_mm_per_s)), 0.0)})
        if instr.inserted_mm(name) == before:
            return


def run_watching(instr: Instruments, seconds: float, controls: dict[str, tuple[float, float]], peak: dict) -> list:
    """:func:`run`, recording in ``peak`` the largest tip force of every instrument."""
    events = []
    for _ in range(round(seconds / DT_S)):
        events += instr.step(DT_S, controls)
        for name in instr.names:
            peak[name] = max(peak.get(name, 0.0), instr.tip_force_N(name))
    return events


def turn_tip_toward(instr: Instruments, name: str, direction: np.ndarray, rate_deg_per_s: float = 180.0) -> None:
    """Rotate ``name``'s hub until its tip's sideways direction (across the local vessel axis z) faces
    ``direction``, as a trainee watching the screen would."""
    tip = instr.tip_direction(name)
    current = np.degrees(np.arctan2(tip[1], tip[0]))
    wanted = np.degrees(np.arctan2(direction[1], direction[0]))
    delta = (wanted - current + 180.0) % 360.0 - 180.0
    steps = round(abs(delta) / (rate_deg_per_s * DT_S))
    for _ in range(steps):
        instr.step(DT_S, {name: (0.0, float(np.sign(delta)) * rate_deg_per_s)})


def polyline_length(points: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(points, axis=0), axis=1).sum())


def turning_deg(points: np.ndarray) -> np.ndarray:
    """Turning angle (deg) at each interior node of a polyline."""
    d = np.diff(points, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", d[1:], d[:-1]), -1.0, 1.0)))
