"""The level's objective, checked every step: reach, selective angiogram, stent; plus time limit and complications.

Depth into a branch is measured from where the route from the access site enters it: from the branch's origin
when the route comes down from its parent, from a child's origin when the route climbs up out of that child (a
femoral access reaching the aorta), and from the sheath when the target is the access branch itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from game.sim.level import Level
from game.sim.level.schema import Direction, ObjectiveKind

#: A branch counts as opacified when the iodine concentration at the tip's position reaches this (mgI/mL) *(est.)*:
#: about a tenth of full-strength contrast still shows a vessel clearly at normal dose.
OPACIFIED_MGI_PER_ML = 30.0
#: A selective angiogram is recorded once this much cine (s) has run while the branch was opacified: a short run.
SELECTIVE_RUN_S = 1.0


@dataclass(frozen=True)
class TipState:
    branch: int | None  # None: not in the lumen (or not inserted)
    s_mm: float
    inserted_mm: float


@dataclass(frozen=True)
class StentPlacement:
    branch: int
    start_s_mm: float
    end_s_mm: float


@dataclass
class ObjectiveStatus:
    done: bool = False
    failed: bool = False
    outcome: str = "in_progress"  # success, failed_complication, failed_time, failed_stent, abandoned
    message: str = ""
    details: dict = field(default_factory=dict)


class ObjectiveTracker:
    """Checks the objective of ``level`` every step; once done or failed it stays so."""

    def __init__(self, level: Level):
        self.level = level
        d = level.definition
        self.objective = d.objective
        self.time_limit_s = d.budget.time_limit_s
        tree = level.tree
        self.access_branch = tree[d.access.branch].index
        self.target = tree[self.objective.branch].index if self.objective.branch else None
        self._entry_s, self._entry_sign = self._entry(self.target) if self.target is not None else (0.0, 1.0)
        self.status = ObjectiveStatus(message=self.objective.description or self._default_message())
        self._recorded_s = 0.0  # cine time while the target was engaged and opacified
        self._last_t_s: float | None = None

    @property
    def needs_opacification(self) -> bool:
        """Whether :meth:`update` reads the concentration at the tips (a selective angiogram's)."""
        return self.objective.kind == ObjectiveKind.SELECTIVE_ANGIOGRAM

    def _default_message(self) -> str:
        o = self.objective
        if o.kind == ObjectiveKind.STENT:
            return f"Deploy the stent across lesion {o.lesion} with {o.margin_mm:g} mm margins."
        verb = "Reach" if o.kind == ObjectiveKind.REACH else "Engage and record a cine run of"
        return f"{verb} {o.branch.replace('_', ' ')} ({o.depth_mm:g} mm in)."

    def _entry(self, target: int) -> tuple[float, float]:
        """Arc length where the route enters ``target`` and the sign of travel (+1: increasing s)."""
        tree = self.level.tree
        access = self.level.definition.access
        if target == self.access_branch:
            sign = -1.0 if access.direction == Direction.RETROGRADE else 1.0
            return access.position_mm, sign
        route = tree.path(self.access_branch, target)
        previous = route[-2]
        if tree.branches[previous].parent == target:  # climbing up out of a child
            return tree.branches[previous].parent_s_mm, -1.0
        return 0.0, 1.0

    def depth_mm(self, s_mm: float) -> float:
        """How far into the target branch a point at ``s_mm`` lies (negative: not yet at the entry)."""
        return (s_mm - self._entry_s) * self._entry_sign

    def update(
        self,
        t_s: float,
        tips: dict[str, TipState],
        concentration_at_tip: dict[str, float],
        cine_on: bool,
        stents: list[StentPlacement],
        complications: int,
    ) -> ObjectiveStatus:
        status = self.status
        if status.done or status.failed:
            return status
        dt_s = 0.0 if self._last_t_s is None else t_s - self._last_t_s
        self._last_t_s = t_s
        if complications:
            return self._fail("failed_complication", "A major complication (dissection or perforation) ended the run.")
        o = self.objective
        if o.kind == ObjectiveKind.STENT:
            if stents:
                return self._check_stent(stents[0])
        else:
            names = [o.instrument] if o.instrument else list(tips)
            for name in names:
                tip = tips.get(name)
                if tip is None or tip.branch != self.target:
                    continue
                depth = self.depth_mm(tip.s_mm)
                status.details["depth_mm"] = round(depth, 1)
                if depth < o.depth_mm:
                    continue
                if o.kind == ObjectiveKind.REACH:
                    return self._succeed(f"Reached {o.branch.replace('_', ' ')}, {depth:.0f} mm in.")
                if cine_on and concentration_at_tip.get(name, 0.0) >= OPACIFIED_MGI_PER_ML:
                    self._recorded_s += dt_s
                    status.details["recorded_s"] = round(self._recorded_s, 2)
                    if self._recorded_s >= SELECTIVE_RUN_S - 1e-9:
                        return self._succeed(f"Selective angiogram of {o.branch.replace('_', ' ')} recorded.")
        if t_s >= self.time_limit_s:
            return self._fail("failed_time", "The time limit ran out.")
        return status

    def _check_stent(self, stent: StentPlacement) -> ObjectiveStatus:
        o = self.objective
        lesion = self.level.definition.lesions[o.lesion - 1]
        tree = self.level.tree
        lesion_start = lesion.position_mm - lesion.length_mm / 2
        lesion_end = lesion.position_mm + lesion.length_mm / 2
        on_branch = stent.branch == tree[lesion.branch].index
        centre_error = (stent.start_s_mm + stent.end_s_mm) / 2 - lesion.position_mm
        self.status.details.update(
            {
                "stent_branch": tree.branches[stent.branch].name,
                "position_error_mm": round(centre_error, 1) if on_branch else None,
                "margin_proximal_mm": round(lesion_start - stent.start_s_mm, 1) if on_branch else None,
                "margin_distal_mm": round(stent.end_s_mm - lesion_end, 1) if on_branch else None,
            }
        )
        if on_branch and stent.start_s_mm <= lesion_start - o.margin_mm and stent.end_s_mm >= lesion_end + o.margin_mm:
            return self._succeed(f"Stent deployed across the lesion, {abs(centre_error):.1f} mm from its centre.")
        where = f"{abs(centre_error):.1f} mm off centre" if on_branch else f"in {tree.branches[stent.branch].name}"
        return self._fail("failed_stent", f"The stent was deployed {where} and does not cover the lesion with margins.")

    def _succeed(self, message: str) -> ObjectiveStatus:
        self.status.done, self.status.outcome, self.status.message = True, "success", message
        return self.status

    def _fail(self, outcome: str, message: str) -> ObjectiveStatus:
        self.status.failed, self.status.outcome, self.status.message = True, outcome, message
        return self.status
