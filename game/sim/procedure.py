"""The procedure: one object that owns a level's whole state and advances it by a fixed timestep.

The game, the tests, replays, the autopilot and the benchmark all drive a run the same way: ``apply`` actions
(PRODUCT.md), then ``step``. Each step moves the instruments (mechanics), the iodine (contrast transport), fires
the X-ray pulses that are due (imaging, with the AEC's technique), books their dose, and checks the objective.
Same level, seed and actions give the same state, bit for bit: the only randomness is the image noise, drawn from
the one generator seeded here, and time is counted in integer ticks.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from game.sim.actions import Action
from game.sim.contrast import ContrastTransport, Injection
from game.sim.devices.catalogue import DeviceKind
from game.sim.dose import DoseLedger, OperatorShielding
from game.sim.dose.ledger import CINE, FLUORO
from game.sim.imaging.carm import CArm
from game.sim.imaging.fluoroscopy import Fluoroscope
from game.sim.imaging.shapes import device_shapes
from game.sim.level import Level
from game.sim.mechanics import AccessSite, Instruments
from game.sim.objectives import ObjectiveTracker, StentPlacement, TipState
from game.sim.scoring import References, RunFigures, feedback, score, score_breakdown, stars

#: The fixed simulation step: 60 Hz, the display rate, and fine enough for the quasi-static rod at hand speeds.
DT_S = 1.0 / 60.0
DEFAULT_PULSE_RATE_PER_S = 15.0
IMAGE_SIZE_PX = 512
#: Beam-on time counts as "idle" when nothing moved, was injected or re-aimed for this long (s).
IDLE_AFTER_S = 1.0
#: Device travel (mm) without a fresh image beyond which further travel counts as "blind".
BLIND_TRAVEL_MM = 30.0
#: How far downstream of a catheter tip the opacification is judged (mm).
OPACIFICATION_WINDOW_MM = 20.0


@dataclass
class Telemetry:
    """What the feedback sentences need beyond the dose totals."""

    idle_beam_s: float = 0.0
    fluoro_s_at_rate: dict[float, float] = field(default_factory=dict)
    air_kerma_at_rate_mGy: dict[float, float] = field(default_factory=dict)
    open_fraction_beam_s: float = 0.0  # integral of the collimator's open fraction over beam-on time
    beam_s: float = 0.0
    blind_advance_mm: float = 0.0
    travel_since_image_mm: float = 0.0
    cine_runs: int = 0
    press_s: float = 0.0
    longest_press_s: float = 0.0
    last_activity_s: float = 0.0


class Procedure:
    """A run of one level. Static: the level; everything else is state, changed only by ``apply`` and ``step``."""

    def __init__(self, level: Level, seed: int = 0, image_size_px: int = IMAGE_SIZE_PX):
        self.level = level
        self.seed = seed
        d = level.definition
        self.rng = np.random.default_rng(seed)
        self.tick = 0
        self.instruments = Instruments(
            level.tree,
            AccessSite(d.access.branch, d.access.position_mm, d.access.direction.value, d.access.sheath_fr),
            level.devices,
        )
        self.contrast = ContrastTransport(level.tree)
        im = d.imaging
        self.carm = CArm(
            lao_deg=im.lao_deg,
            cra_deg=im.cra_deg,
            fov_cm=im.fov_cm,
            table_x_mm=im.table_x_mm,
            table_z_mm=im.table_z_mm,
            detector=im.detector,
        )
        self.fluoroscope = Fluoroscope(level.body, level.tree, self.carm, size_px=image_size_px)
        self.ledger = DoseLedger(
            width_mm=d.patient.width_mm,
            thickness_ap_mm=d.patient.thickness_ap_mm,
            notify_air_kerma_mGy=tuple(d.budget.notify_air_kerma_mGy),
            shielding=OperatorShielding(d.staff.ceiling_shield, d.staff.lead_apron, d.staff.operator_distance_mm),
        )
        self.objective = ObjectiveTracker(level)
        self.telemetry = Telemetry()
        # Controls, as the last actions left them.
        self.selected = d.instruments[0].name
        self.advance_mm_per_s = 0.0
        self.rotate_deg_per_s = 0.0
        self.fluoro = False
        self.cine = False
        self.inject_mL_per_s = 0.0
        self.pulse_rate_per_s = DEFAULT_PULSE_RATE_PER_S
        self.contrast_mL = 0.0
        self.ended = False
        self.messages: list[tuple[float, str]] = []
        self.last_image_t_s: float | None = None  # when the last X-ray pulse made an image
        # Where each tip was last found in the tree, keyed by its exact position (a resting tip is not searched again).
        self._tip_where: dict[str, tuple[bytes, int | None, float]] = {}

    # --- time -----------------------------------------------------------------------------------------------------
    @property
    def t_s(self) -> float:
        return self.tick * DT_S

    @staticmethod
    def tick_of(t_s: float) -> int:
        """The first step at or after ``t_s``."""
        return max(0, math.ceil(t_s / DT_S - 1e-9))

    @property
    def finished(self) -> bool:
        return self.ended or self.objective.status.done or self.objective.status.failed

    # --- actions --------------------------------------------------------------------------------------------------
    def apply(self, action: Action) -> None:
        """Apply one validated action now (its value was checked by :mod:`game.sim.actions`)."""
        name, value = action.name, action.value
        if name == "select":
            if value not in self.instruments.devices:
                self._say(f"There is no instrument called {value!r}.")
                return
            if value != self.selected:
                self.advance_mm_per_s = self.rotate_deg_per_s = 0.0  # the hands move to the other device
            self.selected = value
        elif name == "advance":
            self.advance_mm_per_s = value
        elif name == "rotate":
            self.rotate_deg_per_s = value
        elif name == "fluoro":
            self.fluoro = value
        elif name == "cine":
            if value and not self.cine:
                self.telemetry.cine_runs += 1
            self.cine = value
        elif name == "inject":
            self.inject_mL_per_s = value
        elif name == "pulse_rate":
            self.pulse_rate_per_s = value
        elif name == "fov_cm":
            self._set_carm(fov_cm=value)
        elif name == "collimate":
            self._set_carm(collimation=(value, value))
        elif name == "carm":
            self._set_carm(lao_deg=value["lao"], cra_deg=value["cra"])
        elif name == "table":
            self._set_carm(table_x_mm=value["x"], table_z_mm=value["z"])
        elif name == "roadmap":
            self.fluoroscope.set_roadmap(value)
        elif name == "deploy":
            if value:
                self._deploy()
        elif name == "end":
            self.ended = True
        self.telemetry.last_activity_s = self.t_s

    def _set_carm(self, **changes: Any) -> None:
        self.carm = self.carm.with_(**changes)
        self.fluoroscope.set_carm(self.carm)

    def _deploy(self) -> None:
        stents = [n for n, dev in self.instruments.devices.items() if dev.kind == DeviceKind.STENT]
        name = self.selected if self.selected in stents else (stents[0] if stents else None)
        if name is None:
            self._say("There is no stent to deploy.")
            return
        if self.instruments.deploy_stent(name) is None:
            self._say("The stent cannot be deployed here (not fully in the vessel, or already deployed).")

    def _say(self, message: str) -> None:
        self.messages.append((self.t_s, message))

    # --- the step -------------------------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance the whole procedure by one fixed step of :data:`DT_S`."""
        if self.finished:
            return
        t = self.t_s
        controls = {self.selected: (self.advance_mm_per_s, self.rotate_deg_per_s)}
        self.instruments.step(DT_S, controls)
        self._inject()
        self.contrast.step(DT_S)

        acquire = self.cine
        beam_on = self.fluoro or acquire
        pulses = self.fluoroscope.step(
            DT_S,
            fluoro=self.fluoro,
            acquire=acquire,
            pulse_rate_per_s=self.pulse_rate_per_s,
            rng=self.rng,
            concentration_mg_per_mL=self.contrast.sample_concentration(),
            tubes=device_shapes(self.instruments) if beam_on else (),
        )
        mode = CINE if acquire else FLUORO if self.fluoro else None
        self.ledger.beam(t, DT_S, mode, self.pulse_rate_per_s, self.carm.lao_deg, self.carm.cra_deg)
        for pulse in pulses:
            self.last_image_t_s = pulse.t_s
            record = pulse.for_ledger()
            self.ledger.add_pulse(record)
            if record.mode == FLUORO:
                rate = record.pulse_rate_per_s
                kerma = self.telemetry.air_kerma_at_rate_mGy
                kerma[rate] = kerma.get(rate, 0.0) + record.air_kerma_irp_mGy
        self._record_telemetry(beam_on, mode)
        self.tick += 1
        self._check_objective()

    def _inject(self) -> None:
        """Contrast flows from the tip of the furthest-in catheter, or from the sheath's side port."""
        rate = self.inject_mL_per_s
        budget = self.level.definition.budget.contrast_mL
        if rate > 0 and self.contrast_mL >= budget:
            if self.contrast.injection is not None:
                self._say("The contrast allowed for this case is used up.")
            rate = 0.0
        if rate <= 0:
            self.contrast.set_injection(None)
            return
        self.contrast_mL += rate * DT_S
        branch, s = self._injection_site()
        concentration = self.level.definition.imaging.contrast_mgI_per_mL
        self.contrast.set_injection(Injection(branch, s, rate, concentration))

    def _injection_site(self) -> tuple[str, float]:
        catheters = [
            n for n, dev in self.instruments.devices.items()
            if dev.kind in (DeviceKind.CATHETER, DeviceKind.STENT) and self.instruments.inserted_mm(n) > 0
        ]  # fmt: skip
        tree = self.level.tree
        if catheters:
            name = max(catheters, key=self.instruments.inserted_mm)
            q = tree.query(self.instruments.tip_mm(name)[None, :])
            return tree.branches[int(q.branch[0])].name, float(q.s_mm[0])
        access = self.level.definition.access
        return access.branch, access.position_mm

    def _record_telemetry(self, beam_on: bool, mode: str | None) -> None:
        tm = self.telemetry
        moving = self.advance_mm_per_s != 0 or self.rotate_deg_per_s != 0 or self.inject_mL_per_s > 0
        if moving:
            tm.last_activity_s = self.t_s
        travel = abs(self.advance_mm_per_s) * DT_S
        if beam_on:
            tm.beam_s += DT_S
            tm.open_fraction_beam_s += self.carm.collimation[0] * DT_S
            tm.travel_since_image_mm = 0.0
            tm.press_s += DT_S
            tm.longest_press_s = max(tm.longest_press_s, tm.press_s)
            if self.t_s - tm.last_activity_s >= IDLE_AFTER_S:
                tm.idle_beam_s += DT_S
            if mode == FLUORO:
                rate = self.pulse_rate_per_s
                tm.fluoro_s_at_rate[rate] = tm.fluoro_s_at_rate.get(rate, 0.0) + DT_S
        else:
            tm.press_s = 0.0
            before = tm.travel_since_image_mm
            tm.travel_since_image_mm += travel
            tm.blind_advance_mm += max(0.0, tm.travel_since_image_mm - max(before, BLIND_TRAVEL_MM))

    def _check_objective(self) -> None:
        tips: dict[str, TipState] = {}
        concentration: dict[str, float] = {}
        tree = self.level.tree
        # Opacification counts only for a selective angiogram, on cine, with the tip in the target.
        target = self.objective.target if self.cine and self.objective.needs_opacification else None
        for name in self.instruments.names:
            inserted = self.instruments.inserted_mm(name)
            if inserted <= 0:
                continue
            branch, s_mm = self._tip_location(name)
            tips[name] = TipState(branch, s_mm, inserted)
            if target is not None and branch == target:
                concentration[name] = self._downstream_concentration(branch, s_mm)
        stents = [
            StentPlacement(tree[s.branch].index, s.s_start_mm, s.s_end_mm) for s in self.instruments.deployed_stents
        ]
        self.objective.update(self.t_s, tips, concentration, self.cine, stents, len(self.instruments.complications))

    def _tip_location(self, name: str) -> tuple[int | None, float]:
        """The branch (None outside the lumen) and arc length where ``name``'s tip is."""
        tip = self.instruments.tip_mm(name)
        key = tip.tobytes()
        cached = self._tip_where.get(name)
        if cached is None or cached[0] != key:
            q = self.level.tree.query(tip[None, :])
            cached = (key, int(q.branch[0]) if q.inside[0] else None, float(q.s_mm[0]))
            self._tip_where[name] = cached
        return cached[1], cached[2]

    def _downstream_concentration(self, branch: int, s_mm: float) -> float:
        b = self.level.tree.branches[branch]
        ahead = np.linspace(s_mm, min(s_mm + OPACIFICATION_WINDOW_MM, b.length_mm), 5)
        return float(np.mean(self.contrast.concentration_along(b.name, ahead)))

    # --- results --------------------------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        arrays = {"clock": np.array([self.tick], dtype=np.int64)}
        for prefix, part in (
            ("mechanics", self.instruments),
            ("contrast", self.contrast),
            ("imaging", self.fluoroscope),
            ("dose", self.ledger),
        ):
            for key, value in part.state_arrays().items():
                arrays[f"{prefix}.{key}"] = np.asarray(value)
        return arrays

    def state_hash(self) -> str:
        """SHA-256 of every state array, in a fixed order: equal across replays of the same actions."""
        h = hashlib.sha256()
        for key, value in sorted(self.state_arrays().items()):
            h.update(key.encode())
            h.update(str(value.dtype).encode() + str(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        return h.hexdigest()

    def figures(self) -> RunFigures:
        tm, ledger = self.telemetry, self.ledger
        return RunFigures(
            success=self.objective.status.done,
            sim_time_s=self.t_s,
            fluoro_time_s=ledger.fluoro_time_s,
            air_kerma_mGy=ledger.air_kerma_mGy,
            kap_Gycm2=ledger.kap_Gycm2,
            contrast_mL=self.contrast_mL,
            complications=len(self.instruments.complications),
            cine_frames=ledger.cine_frames,
            idle_beam_s=tm.idle_beam_s,
            fluoro_s_at_rate=dict(tm.fluoro_s_at_rate),
            air_kerma_at_rate_mGy=dict(tm.air_kerma_at_rate_mGy),
            mean_open_fraction=tm.open_fraction_beam_s / tm.beam_s if tm.beam_s else 1.0,
            blind_advance_mm=tm.blind_advance_mm,
            cine_runs=tm.cine_runs,
            longest_press_s=tm.longest_press_s,
        )

    def references(self) -> References:
        d = self.level.definition
        return References(
            fluoro_time_s=d.reference.fluoro_time_s,
            air_kerma_mGy=d.reference.air_kerma_mGy,
            kap_Gycm2=d.reference.kap_Gycm2,
            contrast_mL=d.reference.contrast_mL,
            time_limit_s=d.budget.time_limit_s,
            contrast_budget_mL=d.budget.contrast_mL,
        )

    def outcome(self) -> str:
        status = self.objective.status
        if status.done or status.failed:
            return status.outcome
        return "abandoned" if self.ended else "in_progress"

    def result(self) -> dict[str, Any]:
        """The result object of PRODUCT.md (plus a score breakdown and the dose events)."""
        run, ref = self.figures(), self.references()
        ledger = self.ledger
        return {
            "level": self.level.id,
            "level_sha256": self.level.sha256,
            "seed": self.seed,
            "success": run.success,
            "outcome": self.outcome(),
            "message": self.objective.status.message,
            "sim_time_s": round(self.t_s, 4),
            "fluoro_time_s": round(ledger.fluoro_time_s, 4),
            "cine_time_s": round(ledger.cine_time_s, 4),
            "cine_frames": ledger.cine_frames,
            "air_kerma_mGy": round(ledger.air_kerma_mGy, 4),
            "kap_Gycm2": round(ledger.kap_Gycm2, 5),
            "peak_skin_dose_mGy": round(ledger.peak_skin_dose_mGy, 4),
            "operator_dose_uSv": round(ledger.operator_dose_uSv, 4),
            "contrast_mL": round(self.contrast_mL, 3),
            "complications": [
                {
                    "t_s": round(c.t_s, 3),
                    "kind": c.kind,
                    "instrument": c.instrument,
                    "branch": c.branch,
                    "position_mm": round(c.position_mm, 1),
                    "force_N": round(c.force_N, 3),
                }
                for c in self.instruments.complications
            ],
            "score": score(run, ref),
            "score_breakdown": score_breakdown(run, ref),
            "stars": stars(run, ref),
            "feedback": feedback(run, ref),
            "objective": dict(self.objective.status.details),
            "instruments": [self._instrument_result(name) for name in self.instruments.names],
            "irradiation_events": len(ledger.events),
            "notifications": [n.message for n in ledger.notifications],
            "result_hash": self.state_hash(),
        }

    def _instrument_result(self, name: str) -> dict[str, Any]:
        inserted = self.instruments.inserted_mm(name)
        tip = self.instruments.tip_mm(name)
        return {
            "name": name,
            "device": self.instruments.devices[name].name,
            "inserted_mm": round(inserted, 2),
            "tip_branch": self.instruments.tip_branch(name) if inserted > 0 else None,
            "tip_position_mm": [round(float(v), 2) for v in tip],
        }


def run_actions(procedure: Procedure, actions: list[Action] | tuple[Action, ...], max_s: float | None = None) -> None:
    """Play ``actions`` (sorted by time) into ``procedure`` until it finishes (objective met or failed, or an
    ``end`` action) or ``max_s`` (default: the level's time limit) has passed. Recorders end every run with an
    ``end`` action, so a replay stops exactly where its run did."""
    limit = procedure.level.definition.budget.time_limit_s if max_s is None else max_s
    last_tick = Procedure.tick_of(limit)
    pending = list(actions)
    i = 0
    while not procedure.finished and procedure.tick <= last_tick:
        while i < len(pending) and Procedure.tick_of(pending[i].t_s) <= procedure.tick:
            procedure.apply(pending[i])
            i += 1
        if procedure.finished:
            break
        procedure.step()
