"""The autopilot's plan, made from what a person knows before starting: the level and its anatomy (as from a CT).

The route is the chain of branches from the access site to the target; a *junction* is where it passes from one
branch into the next, with the direction the instruments must take there. Distances along the route let the
pilot tell how far a tip seen on the image is from the next junction. The view is the C-arm angle that opens the
target's bifurcation (the projected angle between the parent and the branch is widest, and the branch is least
foreshortened), with the table centred on it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.imaging.carm import CArm
from game.sim.level import Level
from game.sim.level.schema import Direction, ObjectiveKind

#: C-arm angles the pilot considers, deg; steep angles cost dose (longer paths) and are penalised.
LAO_CHOICES_DEG = np.arange(-45.0, 46.0, 5.0)
CRA_CHOICES_DEG = np.arange(-30.0, 31.0, 5.0)
OBLIQUITY_PENALTY_PER_DEG = 0.005
#: Lengths of parent and branch whose directions define the bifurcation's opening, mm.
OPENING_LENGTH_MM = 15.0


@dataclass(frozen=True)
class Leg:
    """Travel through one branch of the route: from ``entry_s_mm`` toward ``exit_s_mm`` (arc lengths)."""

    branch: int
    entry_s_mm: float
    exit_s_mm: float
    start_route_mm: float  # route distance at the entry
    sign: float  # +1 when the route runs toward increasing arc length on this branch, -1 toward decreasing

    @property
    def length_mm(self) -> float:
        return abs(self.exit_s_mm - self.entry_s_mm)


@dataclass(frozen=True)
class Junction:
    """Where the route passes from ``legs[index]`` into ``legs[index + 1]``."""

    index: int
    point_mm: np.ndarray
    direction: np.ndarray  # unit direction of travel just inside the next branch
    route_mm: float  # route distance of the junction
    into_side_branch: bool  # the next branch leaves the current one (rather than being its parent)


@dataclass(frozen=True)
class Plan:
    legs: tuple[Leg, ...]
    junctions: tuple[Junction, ...]
    target_route_mm: float  # route distance at which the objective's depth is reached
    view_lao_deg: float
    view_cra_deg: float
    table_x_mm: float
    table_z_mm: float
    branch_lengths_mm: tuple[float, ...]  # length of each leg's branch

    def route_position(self, branch: int, s_mm: float) -> float | None:
        """Route distance of a point at ``s_mm`` on ``branch``, or None if the branch is not on the route."""
        for leg in self.legs:
            if leg.branch == branch:
                return leg.start_route_mm + (s_mm - leg.entry_s_mm) * leg.sign
        return None

    @property
    def end_route_mm(self) -> float:
        """Route distance at which the target branch ends (no device may be pushed beyond)."""
        return self.leg_end_route_mm(len(self.legs) - 1)

    def leg_end_route_mm(self, index: int) -> float:
        """Route distance at which the branch of ``legs[index]`` ends in the direction of travel."""
        leg = self.legs[index]
        room = leg.entry_s_mm if leg.sign < 0 else self.branch_lengths_mm[index] - leg.entry_s_mm
        return leg.start_route_mm + room

    def leg_index(self, branch: int) -> int | None:
        for i, leg in enumerate(self.legs):
            if leg.branch == branch:
                return i
        return None


def make_plan(level: Level) -> Plan:
    d = level.definition
    tree = level.tree
    objective = d.objective
    if objective.kind == ObjectiveKind.STENT:
        lesion = d.lesions[objective.lesion - 1]
        goal, goal_s = tree[lesion.branch].index, lesion.position_mm
    else:
        goal, goal_s = tree[objective.branch].index, None
    route = tree.path(tree[d.access.branch].index, goal)
    # Where the route enters and leaves each branch (arc lengths on that branch).
    entries = [d.access.position_mm]
    exits = []
    for here, nxt in itertools.pairwise(route):
        child = tree.branches[nxt]
        if child.parent == here:  # down into a child: leave at its origin, enter it at s = 0
            exits.append(child.parent_s_mm)
            entries.append(0.0)
        else:  # up into the parent: leave at this branch's origin, enter the parent where this branch leaves it
            exits.append(0.0)
            entries.append(tree.branches[here].parent_s_mm)
    last = tree.branches[goal]
    if goal_s is not None:
        exits.append(goal_s)
    else:
        if len(route) == 1:
            sign = -1.0 if d.access.direction == Direction.RETROGRADE else 1.0
        else:
            sign = 1.0 if entries[-1] <= 0.5 else -1.0  # entered at the origin: go down it; else: go up
        exits.append(float(np.clip(entries[-1] + sign * objective.depth_mm, 0.0, last.length_mm)))
    legs: list[Leg] = []
    distance = 0.0
    for branch, entry, exit_s in zip(route, entries, exits, strict=True):
        legs.append(Leg(branch, entry, exit_s, distance, _leg_sign(tree.branches[branch].length_mm, entry, exit_s)))
        distance += legs[-1].length_mm
    junctions = []
    for k in range(len(legs) - 1):
        here, nxt = tree.branches[legs[k].branch], legs[k + 1]
        point = (
            tree.branches[nxt.branch].points_mm[0]
            if tree.branches[nxt.branch].parent == here.index
            else (here.points_mm[0])
        )
        ahead = nxt.entry_s_mm + nxt.sign * min(5.0, nxt.length_mm)
        direction = nxt.sign * _tangent_at(tree, nxt.branch, ahead)
        side = tree.branches[nxt.branch].parent == here.index
        junctions.append(Junction(k, point, direction / np.linalg.norm(direction), nxt.start_route_mm, side))
    lao, cra = best_view(tree, junctions[-1] if junctions else None)
    focus = junctions[-1].point_mm if junctions else last.point_at(legs[-1].exit_s_mm)
    lengths = tuple(tree.branches[leg.branch].length_mm for leg in legs)
    return Plan(tuple(legs), tuple(junctions), distance, lao, cra, float(focus[0]), float(focus[2]), lengths)


def _leg_sign(length_mm: float, entry_s_mm: float, exit_s_mm: float) -> float:
    """Direction of travel along a leg. A leg that leaves where it is entered (crossing over at the aortic
    bifurcation: in from one iliac, out into the other) still has a direction: the one a tip that overshoots
    goes, away from the end of the branch it came in at."""
    if exit_s_mm != entry_s_mm:
        return 1.0 if exit_s_mm > entry_s_mm else -1.0
    return -1.0 if entry_s_mm >= length_mm / 2.0 else 1.0


def _tangent_at(tree: VesselTree, branch: int, s_mm: float) -> np.ndarray:
    b = tree.branches[branch]
    i = int(np.clip(np.searchsorted(b.s_mm, s_mm), 0, len(b.s_mm) - 1))
    return b.tangents[i]


def best_view(tree: VesselTree, junction: Junction | None) -> tuple[float, float]:
    """LAO/CRA that opens ``junction``: widest projected angle between the vessel before and after it."""
    if junction is None:
        return 0.0, 0.0
    after = junction.direction
    before_point = junction.point_mm - OPENING_LENGTH_MM * after
    q = tree.query(before_point[None, :])
    b = tree.branches[int(q.branch[0])]
    before = _tangent_at(tree, b.index, float(q.s_mm[0]))
    best, best_score = (0.0, 0.0), -np.inf
    for lao in LAO_CHOICES_DEG:
        for cra in CRA_CHOICES_DEG:
            beam = CArm(lao_deg=float(lao), cra_deg=float(cra)).beam_axis
            pa = after - (after @ beam) * beam
            pb = before - (before @ beam) * beam
            na, nb = np.linalg.norm(pa), np.linalg.norm(pb)
            if na < 1e-6 or nb < 1e-6:
                continue
            opening = np.sqrt(max(0.0, 1.0 - (pa @ pb / (na * nb)) ** 2))
            score = opening * na - OBLIQUITY_PENALTY_PER_DEG * (abs(lao) + abs(cra))
            if score > best_score:
                best, best_score = (float(lao), float(cra)), score
    return best
