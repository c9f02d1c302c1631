"""The autopilot: performs a level with the actions a person uses, seeing only what a person could see.

It knows the level and the anatomy (as from a prior CT) and plans the route (:mod:`.plan`). While working it sees
the instruments only on X-ray images: after a pedal tap (or, careless, all the time) it reads where the tips are
on that image, if they are inside the collimated field, and locates them in the known anatomy. Its hands know
how far each device is in and how far it has been turned. It never reads the mechanics' state directly.

The script is a generator: each ``yield`` waits the given number of seconds of simulated time, while the
procedure steps and the controls set by the last actions keep acting. Technique: the wire leads through each
junction, its angled tip turned (by the hub) toward the next branch; the catheter follows over it; a tip that
enters the wrong branch is pulled back and re-aimed with another turn. For a selective angiogram the wire is
pulled back into the catheter and a hand injection is recorded on cine.

``expert`` taps the pedal at 7.5 pulses/s near decision points, collimates, and uses the view that opens the
target bifurcation; ``careless`` keeps the beam on at 30 pulses/s with the widest field, no collimation, and runs
cine every few seconds - and gets to the same goal.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from game.sim import actions
from game.sim.autopilot.plan import Junction, Plan, make_plan
from game.sim.devices.catalogue import DeviceKind
from game.sim.level.schema import ObjectiveKind
from game.sim.mechanics.insertion import nests
from game.sim.mechanics.stent import arc_length_on
from game.sim.procedure import DT_S, Procedure

Script = Generator[float, None, None]


@dataclass(frozen=True)
class Style:
    name: str
    pulse_rate_per_s: float
    fov_cm: float | None  # None: keep the level's
    collimation: float
    beam_always_on: bool
    tap_s: float  # one look: pedal down this long
    look_every_mm: float  # travel between looks while approaching a junction
    cine_every_s: float | None  # careless: a cine run this often
    fast_mm_per_s: float
    slow_mm_per_s: float


EXPERT = Style("expert", 7.5, None, 0.6, False, 0.27, 60.0, None, 40.0, 12.0)
#: The careless operator has the same hands as the expert (same moves, same pauses to look) and only a bad foot and
#: bad settings, so the two runs differ in radiation habits alone and both reach the goal.
CARELESS = Style("careless", 30.0, 48.0, 1.0, True, 0.27, 60.0, 12.0, 40.0, 12.0)
STYLES = {s.name: s for s in (EXPERT, CARELESS)}

ROTATE_DEG_PER_S = 180.0
#: Stop this far (route mm) before a junction to aim the tip.
APPROACH_MM = 12.0
#: Travel past a junction before judging where the tip went, mm.
CROSS_MM = 22.0
#: Extra turns tried, in order, when a tip keeps entering the wrong branch (deg).
PROBE_TURNS_DEG = (0.0, 60.0, -60.0, 120.0, -120.0, 180.0, 30.0, -30.0)
#: The catheter follows this far behind the wire tip, mm.
FOLLOW_GAP_MM = 40.0
#: While the wire is aimed into a branch its last this many mm stay free of the catheter (insertion mm).
FREE_WIRE_MM = 25.0
#: A tip this far (mm) from the field's centre, as a fraction of half the field, prompts a table move.
RECENTRE_FRACTION = 0.55
#: Hand injection for a selective angiogram: rate (mL/s), duration (s), cine kept on after it (s).
#: The rate is this fraction of the blood flow at the tip (known from the anatomy), so the branch fills with contrast
#: at about a sixth of its concentration (DOMAIN.md: renal 3-6, carotid ~7, aortogram 8-20 mL/s).
INJECT_FRACTION_OF_FLOW = 0.2
INJECT_ML_PER_S_RANGE = (3.0, 20.0)
INJECT_S = 1.5
CINE_AFTER_S = 0.8
CINE_RUN_S = 1.0
WIRE_BEYOND_TARGET_MM = 30.0
#: The catheter is seated this far beyond the objective's depth; for the injection the wire waits this far inside
#: its tip (tried in turn: the shorter, the less the catheter's curve can re-form and pull it out).
CATHETER_SEAT_MM = 8.0
WIRE_PARKED_FOR_INJECTION_MM = (40.0, 15.0, 5.0)
#: Catheter engagement of a side branch: park the tip this far beyond the ostium, pull down in steps to this far
#: below it; the wire waits this far inside the catheter's tip (mm).
ENGAGE_ABOVE_MM = 15.0
ENGAGE_BELOW_MM = 10.0
ENGAGE_STEP_MM = 3.0
WIRE_PROBE_MM = 12.0
WIRE_OUT_TRIES = 4
#: With two wires, the lead wire hands over to the fine one at the first branch narrower than this at its origin.
FINE_BRANCH_RADIUS_MM = 3.0
SEAT_ALONE_STEPS = 8
SEAT_ALONE_STEP_MM = 6.0
#: A catheter engaged in an ostium that the wire keeps pulling out is seated this much deeper first, mm.
SEAT_DEEPER_MM = 8.0
WIRE_PARKED_MM = 25.0
#: When the catheter leads past a side branch the wire keeps taking, the wire stays this far inside its tip, mm.
WIRE_IN_LEADING_CATHETER_MM = 3.0
#: To let a catheter's whole shape re-form, the wire is drawn back this far behind its curves, mm.
SHAPE_CLEAR_MM = 10.0
#: Stenting: bring the stent this far short of the lesion quickly, then centre its markers on the lesion to within
#: this (mm) in at most this many corrections; the balloon is inflated this long (s).
STENT_APPROACH_SHORT_MM = 6.0
STENT_TOLERANCE_MM = 0.8
STENT_CORRECTIONS = 8
STENT_INFLATE_S = 1.0
#: Keep tips this far from the end of the target branch, mm.
END_MARGIN_MM = 12.0
#: Side-branch detours tolerated in one run, and how far beyond the side branch's origin to pull back (mm).
MAX_DETOURS = 12
BACK_OUT_MARGIN_MM = 8.0
#: After this many detours of the wire into one side branch, the catheter leads past it, this far (mm).
WIRE_TRIES_BEFORE_CATHETER = 2
PASS_BEYOND_MM = 20.0
#: A tip seen this far outside the modelled lumen (mm) is taken to be in the nearest vessel.
WALL_TOLERANCE_MM = 2.5


class StuckError(Exception):
    """The pilot could not get past a junction."""


@dataclass(frozen=True)
class TipSeen:
    position_mm: np.ndarray
    direction: np.ndarray
    branch: int | None
    s_mm: float
    route_mm: float | None  # distance along the planned route, None when off the route
    markers_mm: np.ndarray  # (k, 3) the device's radiopaque markers (a stent's two ends)


class Pilot:
    """Drives one :class:`Procedure`; ``actions`` records what it did (a replay)."""

    def __init__(self, procedure: Procedure, style: Style = EXPERT, on_action=None):
        self.p = procedure
        self.on_action = on_action  # e.g. a replay writer's append
        self.style = style
        self.level = procedure.level
        self.tree = procedure.level.tree
        self.plan: Plan = make_plan(procedure.level)
        self.actions: list[actions.Action] = []
        self.turn_sign = 1.0
        self.calibrated = False
        self.failure: str | None = None
        self.detours = 0
        self._detours_into: dict[int, int] = {}  # wrong branch index -> times the tip went in
        self.seated_without_wire = False  # the catheter engaged the target itself, deep enough for the objective
        devices = procedure.instruments.devices
        self.wire = next((n for n, d in devices.items() if d.kind == DeviceKind.WIRE), None)
        self.catheter = next((n for n, d in devices.items() if d.kind == DeviceKind.CATHETER), None)
        self.stent = next((n for n, d in devices.items() if d.kind == DeviceKind.STENT), None)
        # A second wire is the fine one (a 0.014" coronary wire), taken in through the engaged catheter.
        wires = [n for n, d in devices.items() if d.kind == DeviceKind.WIRE]
        self.fine_wire = wires[1] if len(wires) > 1 else None
        self.catheter_parked = False  # an engaged guiding catheter stays where it is
        self.last_seen: dict[str, TipSeen] = {}
        self._script = self._run()
        self._wake_tick = 0
        self._next_cine_s = style.cine_every_s
        self._cine_stop_s: float | None = None  # when the careless habit's current cine run ends

    # --- driving ----------------------------------------------------------------------------------------------
    def act(self) -> None:
        """Called before every step: resume the script when its wait is over."""
        p = self.p
        self._stop_careless_cine()
        if self._next_cine_s is not None and p.t_s >= self._next_cine_s and not p.cine:
            self._careless_cine()
        while not p.finished and p.tick >= self._wake_tick:
            try:
                wait_s = next(self._script)
            except StopIteration:
                if not p.finished:
                    self.do("end")
                return
            except StuckError as exc:
                self.failure = str(exc)
                self.do("end")
                return
            self._wake_tick = p.tick + max(1, round(wait_s / DT_S))

    def do(self, name: str, value=None) -> None:
        action = actions.make(self.p.t_s, name, value)
        self.p.apply(action)
        self.actions.append(action)
        if self.on_action is not None:
            self.on_action(action)

    def _careless_cine(self) -> None:
        """Careless habit: a short cine run every few seconds, whatever is on the screen."""
        self.do("cine", True)
        self._cine_stop_s = self.p.t_s + CINE_RUN_S
        self._next_cine_s = self.p.t_s + self.style.cine_every_s

    # --- hands ------------------------------------------------------------------------------------------------
    def wait(self, seconds: float) -> Script:
        end = self.p.t_s + seconds
        while self.p.t_s < end - 1e-9:
            yield min(end - self.p.t_s, 0.25)

    def _stop_careless_cine(self) -> None:
        stop = self._cine_stop_s
        if stop is not None and self.p.t_s >= stop:
            self.do("cine", False)
            self._cine_stop_s = None

    def move(self, name: str, distance_mm: float, speed_mm_per_s: float | None = None) -> Script:
        """Push (or pull, negative) ``name`` by ``distance_mm`` at its hub."""
        if abs(distance_mm) < 0.2:
            return
        speed = speed_mm_per_s or self.style.fast_mm_per_s
        self._select(name)
        self.do("advance", float(np.sign(distance_mm) * speed))
        yield from self.wait(abs(distance_mm) / speed)
        self.do("advance", 0.0)

    def turn(self, name: str, angle_deg: float) -> Script:
        angle_deg = (angle_deg + 180.0) % 360.0 - 180.0
        if abs(angle_deg) < 3.0:
            return
        self._select(name)
        self.do("rotate", float(np.sign(angle_deg) * ROTATE_DEG_PER_S))
        yield from self.wait(abs(angle_deg) / ROTATE_DEG_PER_S)
        self.do("rotate", 0.0)

    def _select(self, name: str) -> None:
        if self.p.selected != name:
            self.do("select", name)

    # --- eyes -------------------------------------------------------------------------------------------------
    def look(self) -> Generator[float, None, dict[str, TipSeen]]:
        """Take an image (a pedal tap, unless the beam is on anyway) and read the tips off it."""
        if self.style.beam_always_on:
            yield self.style.tap_s  # the beam is on anyway: the same pause to look
        else:
            self.do("fluoro", True)
            yield self.style.tap_s
            self.do("fluoro", False)
        seen = self._observe()
        self.last_seen.update(seen)
        return seen

    def _observe(self) -> dict[str, TipSeen]:
        p = self.p
        if p.last_image_t_s is None or p.t_s - p.last_image_t_s > 0.25:
            return {}
        seen = {}
        carm = p.carm
        half = np.array(carm.field_side_mm) / 2.0 * np.array(carm.collimation)
        for name in p.instruments.names:
            if p.instruments.inserted_mm(name) <= 0:
                continue
            tip = p.instruments.tip_mm(name)
            pix, _ = carm.project(tip[None, :], p.fluoroscope.size_px)
            centre = (p.fluoroscope.size_px - 1) / 2.0
            offset_mm = (pix[0] - centre) * carm.pixel_mm(p.fluoroscope.size_px)
            if np.any(np.abs(offset_mm) > half):
                continue  # outside the collimated field: not on the image
            q = self.tree.query(tip[None, :])
            # A tip pressed into the wall is still seen in its vessel.
            branch = int(q.branch[0]) if q.clearance_mm[0] > -WALL_TOLERANCE_MM else None
            s = float(q.s_mm[0])
            route = self.plan.route_position(branch, s) if branch is not None else None
            markers = p.instruments.markers_mm(name)
            seen[name] = TipSeen(tip, p.instruments.tip_direction(name), branch, s, route, markers)
        return seen

    def see(self, name: str) -> Script:
        """Look until ``name``'s tip is on the image, moving the table toward where it should be; if it is still
        not found, open the field wide for one look (as a person would) and then close it again."""
        for attempt in range(4):
            if attempt == 3:
                carm = self.p.carm
                self.do("collimate", 1.0)
                self.do("fov_cm", 48.0)
            seen = yield from self.look()
            if attempt == 3:
                self.do("fov_cm", carm.fov_cm)
                self.do("collimate", carm.collimation[0])
            if name in seen:
                yield from self._recentre(seen[name].position_mm)
                return
            yield from self._recentre(self._expected_tip(name))
        raise StuckError(f"lost sight of the {name} tip")

    def _expected_tip(self, name: str) -> np.ndarray:
        """Where the tip should be: the route point at the inserted length (the hands' estimate)."""
        return self.route_point(min(self.p.instruments.inserted_mm(name), self.plan.target_route_mm + 40.0))

    def route_point(self, route_mm: float) -> np.ndarray:
        for leg in self.plan.legs:
            if route_mm <= leg.start_route_mm + leg.length_mm or leg is self.plan.legs[-1]:
                s = leg.entry_s_mm + leg.sign * (route_mm - leg.start_route_mm)
                return self.tree.branches[leg.branch].point_at(s)
        raise AssertionError("unreachable")

    def _recentre(self, point_mm: np.ndarray) -> Script:
        carm = self.p.carm
        half = carm.field_side_mm / 2.0 / carm.magnification_at_isocentre * carm.collimation[0]
        dx, dz = point_mm[0] - carm.table_x_mm, point_mm[2] - carm.table_z_mm
        if max(abs(dx), abs(dz)) > RECENTRE_FRACTION * half:
            self.do("table", {"x": round(float(point_mm[0]), 1), "z": round(float(point_mm[2]), 1)})
            yield DT_S

    # --- the procedure ----------------------------------------------------------------------------------------
    def _run(self) -> Script:
        s, plan = self.style, self.plan
        self.do("pulse_rate", s.pulse_rate_per_s)
        if s.fov_cm is not None:
            self.do("fov_cm", s.fov_cm)
        self.do("collimate", s.collimation)
        self.do("carm", {"lao": plan.view_lao_deg, "cra": plan.view_cra_deg})
        start = self.route_point(0.0)
        self.do("table", {"x": round(float(start[0]), 1), "z": round(float(start[2]), 1)})
        if s.beam_always_on:
            self.do("fluoro", True)
        yield DT_S
        objective = self.level.definition.objective
        lead = self.wire or self.catheter
        if lead is None:
            raise StuckError("no wire or catheter to lead with")
        # Into the vessel: a first push out of the sheath.
        yield from self.move(lead, 30.0)
        for junction in plan.junctions:
            if self._exchange_at(junction, lead):
                yield from self.exchange_for_fine_wire(junction)
                lead = self.wire
                continue
            yield from self.approach(lead, junction.route_mm - APPROACH_MM)
            yield from self.cross_or_engage(lead, junction)
        if objective.kind == ObjectiveKind.REACH and (objective.instrument in (None, lead)):
            yield from self.approach(lead, plan.target_route_mm + 3.0)
            yield from self.wait(0.2)
            yield from self.see(lead)
            return
        if objective.kind == ObjectiveKind.STENT:
            yield from self.place_stent(lead)
            return
        catheter = self.catheter
        if catheter is None:
            raise StuckError("no catheter for the selective angiogram")
        if not self.seated_without_wire:
            yield from self.seat_over_wire(lead, catheter)
        if objective.kind == ObjectiveKind.REACH:
            return
        self.do("cine", True)
        self._cine_stop_s = None  # a careless habit's short run may have just begun: this one runs to its end
        self.do("inject", self.injection_rate_mL_per_s())
        yield from self.wait(INJECT_S)
        self.do("inject", 0.0)
        yield from self.wait(CINE_AFTER_S)
        self.do("cine", False)
        yield from self.wait(0.2)

    def seat_over_wire(self, lead: str, catheter: str) -> Script:
        """The catheter to the target over the wire; for an angiogram, the wire then back inside it."""
        plan = self.plan
        yield from self.approach(lead, self._capped(plan.target_route_mm + WIRE_BEYOND_TARGET_MM))
        seat = self._capped(plan.target_route_mm + CATHETER_SEAT_MM)
        yield from self.follow(catheter, lead, seat)
        if self.level.definition.objective.kind == ObjectiveKind.REACH:
            yield from self.see(catheter)
            return
        # Selective angiogram: the wire back just inside the catheter (a shaped catheter whose wire is pulled
        # right out may recoil out of the ostium), check the catheter is still in, inject on cine.
        target_leg = len(plan.legs) - 1
        for parked_mm in WIRE_PARKED_FOR_INJECTION_MM:
            behind = self.p.instruments.inserted_mm(lead) - self.p.instruments.inserted_mm(catheter) + parked_mm
            yield from self.move(lead, -behind, self.style.slow_mm_per_s * 2)
            yield from self.see(catheter)
            if self._past(self.last_seen[catheter], target_leg):
                # A curve that re-forms as the wire leaves (a pigtail's loop) draws the tip back: ease it in.
                deep = yield from self._seat_without_wire(target_leg)
                if deep:
                    break
            # It recoiled: wire out again, catheter back in, and keep the wire further forward this time.
            yield from self.approach(lead, self._capped(plan.target_route_mm + WIRE_BEYOND_TARGET_MM))
            yield from self.follow(catheter, lead, seat)
        else:
            # The catheter recoils whenever its wire comes back (a reverse curve): inject with the wire left out
            # beyond its tip, through the side arm of a Y-connector.
            yield from self.see(catheter)
            if not self._past(self.last_seen[catheter], target_leg):
                raise StuckError(f"the catheter does not stay in {self._branch_name(plan.legs[-1].branch)}")

    def place_stent(self, lead: str) -> Script:
        """Stent across the lesion: the wire well beyond it, the catheter out over the wire (exchange), the stent
        up over the wire, its two markers centred on the lesion in small corrections, then deployed."""
        stent, plan = self.stent, self.plan
        if stent is None:
            raise StuckError("no stent for the stent objective")
        if lead != self.wire:
            raise StuckError("a stent needs a wire to ride on")
        yield from self.approach(lead, self._capped(plan.target_route_mm + WIRE_BEYOND_TARGET_MM))
        last_leg = len(plan.legs) - 1
        devices = self.p.instruments.devices
        through = self.catheter is not None and nests(devices[stent], devices[self.catheter])
        if self.catheter is not None and self.p.instruments.inserted_mm(self.catheter) > 0 and not through:
            # Exchange: the catheter comes out while the wire's hub is held, so the wire stays across the lesion.
            yield from self.move(self.catheter, -self.p.instruments.inserted_mm(self.catheter))
            yield from self.see(lead)
            if not self._past(self.last_seen[lead], last_leg):
                yield from self.approach(lead, self._capped(plan.target_route_mm + WIRE_BEYOND_TARGET_MM))
        distal_mm = self.p.instruments.devices[stent].stent_distal_offset_mm
        half_mm = self.p.instruments.devices[stent].stent_length_mm / 2.0
        # Up over the wire to just short of the lesion, then stepwise with a look after each correction.
        short_mm = STENT_APPROACH_SHORT_MM
        yield from self.move(stent, 30.0)  # in through the sheath
        yield from self.approach(stent, plan.target_route_mm + distal_mm + half_mm - short_mm)
        for _ in range(STENT_CORRECTIONS):
            yield from self.see(stent)
            error = plan.legs[-1].sign * (plan.legs[-1].exit_s_mm - self.stent_centre_s_mm())
            if abs(error) <= STENT_TOLERANCE_MM:
                break
            yield from self.move(stent, error, self.style.slow_mm_per_s / 2)
        else:
            raise StuckError("the stent could not be centred on the lesion")
        self.do("deploy", True)
        yield from self.wait(STENT_INFLATE_S)
        self.do("deploy", False)
        yield from self.wait(0.2)

    def stent_centre_s_mm(self) -> float:
        """Where the midpoint between the stent's two markers on the last image lies along the lesion's branch
        (arc length, mm), read against the known anatomy as a person reads markers against a roadmap."""
        branch = self.tree.branches[self.plan.legs[-1].branch]
        markers = self.last_seen[self.stent].markers_mm
        return float(np.mean([arc_length_on(branch.points_mm, branch.s_mm, m) for m in markers]))

    def injection_rate_mL_per_s(self) -> float:
        """A hand (or pump) injection matched to the flow where the catheter's tip sits in the target branch."""
        leg = self.plan.legs[-1]
        flow_mL_per_s = self.tree.branches[leg.branch].flow_at(leg.exit_s_mm) / 60.0
        low, high = INJECT_ML_PER_S_RANGE
        return round(float(np.clip(INJECT_FRACTION_OF_FLOW * flow_mL_per_s, low, high)), 1)

    def approach(self, name: str, route_target_mm: float, on_leg: int | None = None) -> Script:
        """Advance ``name`` until its tip is at ``route_target_mm`` along the route, looking every so often. The tip
        is to end on leg ``on_leg`` (default: the leg that holds the target); one that runs on past a junction
        instead of turning into that leg is brought back and crosses it again."""
        for _ in range(200):
            yield from self.see(name)
            tip = self.last_seen[name]
            if tip.route_mm is None:
                yield from self.back_out(name, tip)
                continue
            missed = self._missed_junction(tip, route_target_mm, on_leg)
            if missed is not None:
                yield from self.move(name, -(tip.route_mm - missed.route_mm + APPROACH_MM), self.style.slow_mm_per_s)
                yield from self.cross_or_engage(name, missed)
                continue
            remaining = route_target_mm - tip.route_mm
            if remaining <= 2.0:
                return
            step = min(remaining, self.style.look_every_mm)
            speed = (
                self.style.fast_mm_per_s if remaining > 2 * self.style.look_every_mm else self.style.slow_mm_per_s * 2
            )
            yield from self.move(name, step, speed)
            yield from self._keep_following(name)
        raise StuckError(f"the {name} does not advance")

    def back_out(self, name: str, tip: TipSeen) -> Script:
        """The tip went into a side branch off the route: pull it back out and turn it the other way."""
        self.detours += 1
        if tip.branch is None or self.detours > MAX_DETOURS:
            raise StuckError(f"the {name} tip left the route in {self._branch_name(tip.branch)}")
        wrong = self.tree.branches[tip.branch]
        # The same turn failing again would fail forever: each further detour into this branch adds a probe turn.
        tries = self._detours_into.get(wrong.index, 0)
        self._detours_into[wrong.index] = tries + 1
        extra = PROBE_TURNS_DEG[tries % len(PROBE_TURNS_DEG)]
        yield from self.move(name, -(tip.s_mm + BACK_OUT_MARGIN_MM), self.style.slow_mm_per_s * 2)
        if tries + 1 >= WIRE_TRIES_BEFORE_CATHETER and name == self.wire and self.catheter is not None:
            passed = yield from self.pass_with_catheter(wrong)
            if passed:
                return
        seen = yield from self.look()
        if name in seen and seen[name].route_mm is not None:
            here = seen[name]
            away = self._axis_at(here) - wrong.tangents[0]  # along the route, away from the side branch
            yield from self.turn(name, self.aim_deg(here, away / max(np.linalg.norm(away), 1e-9)) + extra)

    def pass_with_catheter(self, wrong) -> Generator[float, None, bool]:
        """The wire keeps taking a side branch off the route (as a wire hugging the outer curve of the arch takes
        the left subclavian): lead past its origin with the catheter instead, the wire parked inside it and the
        catheter's curve turned away from the branch. True when the catheter's tip is past the origin."""
        wire, cath = self.wire, self.catheter
        origin = self.plan.route_position(wrong.parent, wrong.parent_s_mm) if wrong.parent is not None else None
        if origin is None:
            return False
        ins = self.p.instruments
        # Catheter up to the wire's tip, then the wire back just inside it: it straightens the catheter's curved tip,
        # which would otherwise dive into the branch itself.
        lead = 5.0
        yield from self.move(cath, ins.inserted_mm(wire) - ins.inserted_mm(cath) - lead, self.style.slow_mm_per_s * 2)
        yield from self.move(wire, -(lead + WIRE_IN_LEADING_CATHETER_MM), self.style.slow_mm_per_s * 2)
        for extra in PROBE_TURNS_DEG:
            yield from self.see(cath)
            tip = self.last_seen[cath]
            if tip.route_mm is None:
                yield from self._withdraw_both(tip.s_mm + BACK_OUT_MARGIN_MM)
                continue
            if tip.route_mm >= origin + PASS_BEYOND_MM:
                return True
            away = self._axis_at(tip) - wrong.tangents[0]
            yield from self.turn(cath, self.aim_deg(tip, away / max(np.linalg.norm(away), 1e-9)) + extra)
            distance = origin + PASS_BEYOND_MM - tip.route_mm
            yield from self._advance_both(distance)
            yield from self.see(cath)
            tip = self.last_seen[cath]
            if tip.route_mm is not None and tip.route_mm >= origin + PASS_BEYOND_MM - 3.0:
                return True
            back = (tip.s_mm + BACK_OUT_MARGIN_MM) if tip.route_mm is None else distance
            yield from self._withdraw_both(back)
        return False

    def _advance_both(self, distance_mm: float) -> Script:
        """Catheter and wire inside it pushed on together (one hand each, in turn, in short steps)."""
        step = 10.0
        done = 0.0
        while done < distance_mm - 0.2:
            d = min(step, distance_mm - done)
            yield from self.move(self.catheter, d, self.style.slow_mm_per_s * 2)
            yield from self.move(self.wire, d, self.style.slow_mm_per_s * 2)
            done += d

    def _withdraw_both(self, distance_mm: float) -> Script:
        yield from self.move(self.wire, -distance_mm, self.style.slow_mm_per_s * 2)
        yield from self.move(self.catheter, -distance_mm, self.style.slow_mm_per_s * 2)

    def _exchange_at(self, junction: Junction, lead: str) -> bool:
        """The lead wire hands over to the fine wire at the first small branch (a coronary ostium)."""
        if self.fine_wire is None or self.catheter is None or lead == self.fine_wire:
            return False
        return float(self.tree.branches[self.plan.legs[junction.index + 1].branch].radii_mm[0]) < FINE_BRANCH_RADIUS_MM

    def exchange_for_fine_wire(self, junction: Junction) -> Script:
        """Coronary engagement: the catheter over the lead wire down to the ostium's level, the wire right out so the
        catheter's shape re-forms, the catheter engaged alone, then the fine wire in through it to its tip."""
        big, cath, ins = self.wire, self.catheter, self.p.instruments
        park = yield from self._park_above(junction, big, lead_mm=10.0)
        yield from self.move(big, -ins.inserted_mm(big))
        engaged = yield from self.engage_alone(junction, park)
        if not engaged:
            raise StuckError(f"could not engage {self._branch_name(self.plan.legs[junction.index + 1].branch)}")
        self.catheter_parked = True
        self.wire = self.fine_wire
        yield from self.move(self.wire, 30.0)  # into the sheath and the catheter's hub
        yield from self.move(self.wire, ins.inserted_mm(cath) - ins.inserted_mm(self.wire) - 3.0)

    def _park_above(self, junction: Junction, wire: str, lead_mm: float) -> Generator[float, None, float]:
        """The catheter's tip parked beyond the ostium of ``junction``'s branch, over ``wire`` ``lead_mm`` ahead of
        it, but never past the end of the vessel it leaves (the aortic valve, below the left main). Returns the
        park point's route distance."""
        room = self.plan.leg_end_route_mm(junction.index) - END_MARGIN_MM / 2
        park = min(junction.route_mm + ENGAGE_ABOVE_MM, room - 4.0)
        yield from self.approach(wire, min(park + lead_mm, room), on_leg=junction.index)
        yield from self.follow(self.catheter, wire, park, on_leg=junction.index)
        return park

    def engage_alone(self, junction: Junction, park_route_mm: float) -> Generator[float, None, bool]:
        """A shaped catheter without a wire finds the ostium: turned toward it, moved down to the park point and
        back up in short steps, looking after each."""
        cath, next_leg = self.catheter, junction.index + 1
        for extra in PROBE_TURNS_DEG:
            yield from self.see(cath)
            tip = self.last_seen[cath]
            if self._past(tip, next_leg):
                return True
            if tip.route_mm is None:
                yield from self.move(cath, -(tip.s_mm + BACK_OUT_MARGIN_MM), self.style.slow_mm_per_s)
                continue
            yield from self.turn(cath, self.aim_deg(tip, junction.direction) + extra)
            engaged = yield from self._inch(cath, park_route_mm - tip.route_mm, next_leg)
            if not engaged:
                engaged = yield from self._inch(cath, -(ENGAGE_ABOVE_MM + ENGAGE_BELOW_MM), next_leg)
            if engaged:
                return True
        return False

    def _keep_following(self, lead: str) -> Script:
        """The catheter trails the wire, giving it support, when the wire has gone well ahead."""
        cath = self.catheter
        if cath is None or cath == lead or (self.p.instruments.inserted_mm(cath) <= 0 and lead != self.wire):
            return
        if self.catheter_parked:
            return
        gap = self.p.instruments.inserted_mm(lead) - self.p.instruments.inserted_mm(cath)
        if gap > FOLLOW_GAP_MM + 40.0:
            yield from self.move(cath, gap - FOLLOW_GAP_MM)

    def follow(self, follower: str, leader: str, route_target_mm: float, on_leg: int | None = None) -> Script:
        """Advance ``follower`` over ``leader`` until its tip reaches ``route_target_mm`` (on leg ``on_leg``, by
        default the one holding the target)."""
        for _ in range(100):
            yield from self.see(follower)
            tip = self.last_seen[follower]
            if tip.route_mm is None:  # into a side branch its leader did not take: out of it, turned, leader deeper
                self.detours += 1
                if tip.branch is None or self.detours > MAX_DETOURS:
                    raise StuckError(f"the {follower} tip left the route in {self._branch_name(tip.branch)}")
                yield from self.move(follower, -(tip.s_mm + BACK_OUT_MARGIN_MM), self.style.slow_mm_per_s)
                yield from self.turn(follower, 90.0)
                if on_leg is None:
                    yield from self.approach(leader, self._capped(self.plan.target_route_mm + WIRE_BEYOND_TARGET_MM))
                continue
            missed = self._missed_junction(tip, route_target_mm, on_leg)
            if missed is not None:  # it slid on past the branch its leader took: back below it, turn, again,
                back_mm = tip.route_mm - missed.route_mm + APPROACH_MM  # with the leader deeper for support
                yield from self.move(follower, -back_mm, self.style.slow_mm_per_s)
                yield from self.turn(follower, 90.0)
                deeper = self._capped(self.plan.target_route_mm + WIRE_BEYOND_TARGET_MM)
                yield from self.approach(leader, deeper)
                continue
            remaining = route_target_mm - tip.route_mm
            if remaining <= 1.5:
                return
            room = self.p.instruments.inserted_mm(leader) - self.p.instruments.inserted_mm(follower) - 8.0
            step = min(remaining, self.style.look_every_mm, max(room, 0.0))
            if step < 1.0:
                yield from self.move(leader, 20.0, self.style.slow_mm_per_s)
                continue
            yield from self.move(follower, step, self.style.slow_mm_per_s * 2)
        raise StuckError(f"the {follower} does not follow the {leader}")

    def _missed_junction(self, tip: TipSeen, route_target_mm: float, on_leg: int | None) -> Junction | None:
        """The junction that ``tip`` has run on past (along the vessel it leaves) instead of turning into the leg
        it is meant to reach (``on_leg``, default the leg holding ``route_target_mm``)."""
        here = self.plan.leg_index(tip.branch) if tip.branch is not None else None
        if here is None or tip.route_mm is None:
            return None
        goal = self._leg_of_route(route_target_mm) if on_leg is None else on_leg
        for junction in self.plan.junctions[here:goal]:
            if tip.route_mm > junction.route_mm + 2.0:
                return junction
        return None

    def _leg_of_route(self, route_mm: float) -> int:
        """The leg that a route distance lies on (a distance exactly at a junction: the leg before it)."""
        legs = self.plan.legs
        return max((i for i, leg in enumerate(legs) if leg.start_route_mm < route_mm), default=0)

    def cross_or_engage(self, name: str, junction: Junction) -> Script:
        """Cross ``junction`` with ``name``; a wire that will not take a side branch gets the catheter's help."""
        try:
            yield from self.cross(name, junction)
        except StuckError:
            if not (junction.into_side_branch and self.catheter and name == self.wire):
                raise
            yield from self.engage_with_catheter(junction)

    def cross(self, name: str, junction: Junction) -> Script:
        """Aim ``name``'s tip into the next branch and push it through; pull back and re-aim when it goes wrong."""
        next_leg = junction.index + 1
        for extra in PROBE_TURNS_DEG:
            yield from self.see(name)
            tip = self.last_seen[name]
            if self._past(tip, next_leg):
                return
            if not self.calibrated:
                yield from self._calibrate(name)
                tip = self.last_seen[name]
            yield from self._free_wire_tip(name)
            yield from self.turn(name, self.aim_deg(tip, junction.direction) + extra)
            yield from self.move(name, APPROACH_MM + CROSS_MM, self.style.slow_mm_per_s)
            yield from self.see(name)
            tip = self.last_seen[name]
            if self._past(tip, next_leg):
                return
            backoff = (tip.route_mm or junction.route_mm) - (junction.route_mm - APPROACH_MM)
            yield from self.move(name, -max(backoff, APPROACH_MM + CROSS_MM), self.style.slow_mm_per_s)
        raise StuckError(f"could not enter {self._branch_name(self.plan.legs[next_leg].branch)}")

    def _free_wire_tip(self, name: str) -> Script:
        """Before the wire ``name`` is aimed into a branch: the catheter over it drawn back until the wire's last
        :data:`FREE_WIRE_MM` are free (a catheter close behind the tip stiffens it and it cannot turn)."""
        cath, ins = self.catheter, self.p.instruments
        if name != self.wire or cath is None or self.catheter_parked or ins.inserted_mm(cath) <= 0:
            return
        over = ins.inserted_mm(cath) - (ins.inserted_mm(name) - FREE_WIRE_MM)
        if over > 0.5:
            yield from self.move(cath, -over, self.style.slow_mm_per_s * 2)

    def engage_with_catheter(self, junction: Junction) -> Script:
        """When the wire will not take a side branch: use the shaped catheter. Wire back inside it, the catheter's
        tip parked above the ostium and turned toward the branch, then pulled down until it drops in; the wire
        then goes out into the branch and the catheter follows."""
        wire, cath = self.wire, self.catheter
        next_leg = junction.index + 1
        above = yield from self._park_above(junction, wire, lead_mm=15.0)
        shape_mm = sum(arc.length_mm for arc in self.p.instruments.devices[cath].tip_shape) + SHAPE_CLEAR_MM
        # Every turn is tried first with the wire just inside the catheter's tip, probing out of it; if none engages,
        # every turn again with the wire right back behind the catheter's curves, so the whole shape re-forms and
        # its tip reaches across a wide vessel (a Cobra's in a big aorta), and a catheter the wire pulls out of the
        # ostium is first seated deeper.
        for extra, shaped in [(e, False) for e in PROBE_TURNS_DEG] + [(e, True) for e in PROBE_TURNS_DEG]:
            inside = self.p.instruments.inserted_mm(cath) - (shape_mm if shaped else WIRE_PARKED_MM)
            yield from self.move(wire, inside - self.p.instruments.inserted_mm(wire), self.style.slow_mm_per_s * 2)
            yield from self.see(cath)
            tip = self.last_seen[cath]
            engaged = self._past(tip, next_leg)
            if not engaged and tip.route_mm is None:  # in a wrong branch: out of it, never further in
                yield from self._withdraw_both(tip.s_mm + BACK_OUT_MARGIN_MM)
                continue
            if not engaged and tip.route_mm < junction.route_mm + 3.0:  # re-park above the ostium
                engaged = yield from self._inch(cath, above - (tip.route_mm or junction.route_mm), next_leg)
            if not engaged:
                yield from self.turn(cath, self.aim_deg(self.last_seen[cath], junction.direction) + extra)
                down = -(ENGAGE_ABOVE_MM + ENGAGE_BELOW_MM)
                engaged = yield from self._inch(cath, down, next_leg, probe_wire=not shaped)
            if not engaged:  # up above the ostium again, for another turn
                back = above - (self.last_seen[cath].route_mm or junction.route_mm)
                engaged = yield from self._inch(cath, back, next_leg)
            if engaged:
                wired = yield from self._wire_out_of_engaged(junction)
                if not wired and shaped and (yield from self._seat_deeper(next_leg)):
                    # the wire straightened the catheter's curve and pulled its tip out: seated deeper, it holds
                    wired = yield from self._wire_out_of_engaged(junction)
                if wired:
                    return
                if next_leg == len(self.plan.legs) - 1 and self._catheter_is_the_goal():
                    self.seated_without_wire = yield from self._seat_without_wire(next_leg)
                    if self.seated_without_wire:
                        return
        raise StuckError(f"could not engage {self._branch_name(self.plan.legs[next_leg].branch)} with the catheter")

    def _catheter_is_the_goal(self) -> bool:
        o = self.level.definition.objective
        reach_with_catheter = o.kind == ObjectiveKind.REACH and o.instrument == self.catheter
        return o.kind == ObjectiveKind.SELECTIVE_ANGIOGRAM or reach_with_catheter

    def _seat_without_wire(self, leg: int) -> Generator[float, None, bool]:
        """The wire will not go out into a short, sharply turning branch, but the catheter is in it: ease the
        catheter in to the objective's depth, alone, looking after each step; True when it got there."""
        cath = self.catheter
        goal = self.plan.target_route_mm + 1.0
        for _ in range(SEAT_ALONE_STEPS):
            yield from self.see(cath)
            tip = self.last_seen[cath]
            if not self._past(tip, leg) or tip.route_mm is None:
                return False
            if tip.route_mm >= goal:
                return True
            yield from self.move(cath, min(SEAT_ALONE_STEP_MM, goal - tip.route_mm + 0.5), self.style.slow_mm_per_s / 2)
        return False

    def _seat_deeper(self, leg: int) -> Generator[float, None, bool]:
        """The catheter engaged in ``leg``'s ostium eased :data:`SEAT_DEEPER_MM` further in, alone, looking after each
        step (never past the end of the branch); True if it is still in the branch."""
        cath = self.catheter
        yield from self.see(cath)
        tip = self.last_seen[cath]
        if not self._past(tip, leg) or tip.route_mm is None:
            return False
        goal = self._capped(tip.route_mm + SEAT_DEEPER_MM)
        for _ in range(int(SEAT_DEEPER_MM // ENGAGE_STEP_MM) + 1):
            if tip.route_mm >= goal - 0.5:
                break
            yield from self.move(cath, min(ENGAGE_STEP_MM, goal - tip.route_mm), self.style.slow_mm_per_s / 2)
            yield from self.see(cath)
            tip = self.last_seen[cath]
            if not self._past(tip, leg) or tip.route_mm is None:
                return False
        return True

    def _wire_out_of_engaged(self, junction: Junction) -> Generator[float, None, bool]:
        """The catheter (or the wire probing from it) is in the ostium: take the wire out into the branch, turning
        it a quarter turn for each try that meets the wall, as long as the catheter stays engaged."""
        wire, cath = self.wire, self.catheter
        next_leg = junction.index + 1
        for quarter in range(WIRE_OUT_TRIES):
            if quarter:
                yield from self.turn(wire, 90.0)
            tip = self.last_seen[cath]
            ahead = self._capped((tip.route_mm or junction.route_mm) + CROSS_MM) - (tip.route_mm or junction.route_mm)
            out = self.p.instruments.inserted_mm(cath) - self.p.instruments.inserted_mm(wire) + ahead
            yield from self.move(wire, out, self.style.slow_mm_per_s)
            yield from self.see(wire)
            if self._past(self.last_seen[wire], next_leg):
                return True
            yield from self.move(wire, -max(out, 0.0), self.style.slow_mm_per_s * 2)  # back inside the catheter
            yield from self.see(cath)
            if not self._past(self.last_seen[cath], next_leg):
                return False
        return False

    def _inch(
        self, name: str, distance_mm: float, leg: int | None, probe_wire: bool = False
    ) -> Generator[float, None, bool]:
        """Move ``name`` in short steps, looking after each; stop (True) as soon as its tip is into ``leg``. With
        ``probe_wire`` (``name`` a catheter turned toward the ostium), the wire is pushed a little out of its tip
        at every step: the thin wire finds an ostium the catheter's tip only brushes past."""
        steps = int(abs(distance_mm) // ENGAGE_STEP_MM) + 1
        for _ in range(steps):
            yield from self.move(name, float(np.sign(distance_mm)) * ENGAGE_STEP_MM, self.style.slow_mm_per_s / 2)
            yield from self.see(name)
            if leg is not None and self._past(self.last_seen[name], leg):
                return True
            if probe_wire and leg is not None:
                out = self.p.instruments.inserted_mm(name) - self.p.instruments.inserted_mm(self.wire) + WIRE_PROBE_MM
                yield from self.move(self.wire, out, self.style.slow_mm_per_s)
                yield from self.see(self.wire)
                if self._past(self.last_seen[self.wire], leg):
                    return True
                yield from self.move(self.wire, -out, self.style.slow_mm_per_s * 2)
        return False

    def _capped(self, route_mm: float) -> float:
        """``route_mm``, but short of the end of the target branch (never push a tip into a blind end)."""
        return min(route_mm, self.plan.end_route_mm - END_MARGIN_MM)

    def _past(self, tip: TipSeen, leg: int) -> bool:
        if tip.branch is None:
            return False
        index = self.plan.leg_index(tip.branch)
        return index is not None and index >= leg

    def aim_deg(self, tip: TipSeen, desired: np.ndarray) -> float:
        """Hub turn (deg) that swings the tip's bend toward ``desired`` around the local vessel axis."""
        axis = self._axis_at(tip)
        lateral = tip.direction - (tip.direction @ axis) * axis
        goal = desired - (desired @ axis) * axis
        if np.linalg.norm(lateral) < 0.05 or np.linalg.norm(goal) < 0.05:
            return 0.0
        angle = np.degrees(np.arctan2(np.cross(lateral, goal) @ axis, lateral @ goal))
        return float(self.turn_sign * angle)

    def _axis_at(self, tip: TipSeen) -> np.ndarray:
        if tip.branch is None:
            return tip.direction
        b = self.tree.branches[tip.branch]
        i = int(np.clip(np.searchsorted(b.s_mm, tip.s_mm), 0, len(b.s_mm) - 1))
        axis = b.tangents[i]
        leg = self.plan.leg_index(tip.branch)
        sign = self.plan.legs[leg].sign if leg is not None else float(np.sign(axis @ tip.direction) or 1.0)
        return axis * sign

    def _calibrate(self, name: str) -> Script:
        """Learn which way a hub turn swings the tip: turn a little and watch."""
        before = self.last_seen[name]
        axis = self._axis_at(before)
        yield from self.turn(name, 45.0)
        yield from self.see(name)
        after = self.last_seen[name]
        l0 = before.direction - (before.direction @ axis) * axis
        l1 = after.direction - (after.direction @ axis) * axis
        if np.linalg.norm(l0) > 0.05 and np.linalg.norm(l1) > 0.05:
            swing = np.cross(l0, l1) @ axis
            if abs(swing) > 1e-3:
                self.turn_sign = float(np.sign(swing))
                self.calibrated = True

    def _branch_name(self, branch: int | None) -> str:
        return "no vessel" if branch is None else self.tree.branches[branch].name


def autoplay(procedure: Procedure, style: Style = EXPERT, max_s: float | None = None, on_action=None) -> Pilot:
    """Run ``procedure`` to its end under the autopilot; returns the pilot (its ``actions`` are the replay)."""
    pilot = Pilot(procedure, style, on_action)
    limit = procedure.level.definition.budget.time_limit_s if max_s is None else max_s
    while not procedure.finished and procedure.t_s < limit:
        pilot.act()
        if procedure.finished:
            break
        procedure.step()
    if not pilot.actions or pilot.actions[-1].name != "end":
        pilot.do("end")  # every recording ends with the action that ended the run
    return pilot
