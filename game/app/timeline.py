"""A run's dose over time, for the debrief chart and the replay viewer's scrub bar.

Built after the run from what the simulation already keeps: the dose ledger's irradiation events (one per pedal
press or acquisition run: start, duration, Ka,r, KAP) and the actions that were applied (what the hands did).
Ka,r grows linearly within each event; "idle" beam-on time is beam on while nothing moved, was injected or turned
for at least :data:`~game.sim.procedure.IDLE_AFTER_S` - the same rule the score's feedback uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from game.sim.actions import Action
from game.sim.procedure import IDLE_AFTER_S, Procedure

SAMPLE_S = 0.1


@dataclass(frozen=True)
class DoseTimeline:
    t_s: np.ndarray  # sample times (s)
    air_kerma_mGy: np.ndarray  # cumulative Ka,r at each sample
    kap_Gycm2: np.ndarray  # cumulative KAP
    beam: np.ndarray  # 0 off, 1 fluoroscopy, 2 cine (per sample)
    idle: np.ndarray  # bool: beam on while nothing moved
    end_s: float
    reference_air_kerma_mGy: float

    @classmethod
    def from_run(cls, procedure: Procedure, actions: Sequence[Action]) -> DoseTimeline:
        end = max(procedure.t_s, SAMPLE_S)
        t = np.arange(0.0, end + SAMPLE_S / 2, SAMPLE_S)
        kerma = np.zeros_like(t)
        kap = np.zeros_like(t)
        beam = np.zeros(t.shape, dtype=np.int8)
        for event in procedure.ledger.events:
            start, stop = event.start_s, event.start_s + max(event.duration_s, 1e-6)
            ramp = np.clip((t - start) / (stop - start), 0.0, 1.0)
            kerma += ramp * event.air_kerma_mGy
            kap += ramp * event.kap_Gycm2
            beam[(t >= start) & (t < stop)] = 2 if event.mode == "cine" else 1
        return cls(t, kerma, kap, beam, _idle(t, beam, actions), end,
                   procedure.level.definition.reference.air_kerma_mGy)  # fmt: skip

    @property
    def beam_on_s(self) -> float:
        return float(np.count_nonzero(self.beam)) * SAMPLE_S

    @property
    def idle_s(self) -> float:
        return float(np.count_nonzero(self.idle)) * SAMPLE_S

    def kerma_at(self, t_s: float) -> float:
        return float(np.interp(t_s, self.t_s, self.air_kerma_mGy))


def _idle(t: np.ndarray, beam: np.ndarray, actions: Sequence[Action]) -> np.ndarray:
    """Beam-on samples more than IDLE_AFTER_S after the last hand movement (push, turn or injection)."""
    moving = {"advance": 0.0, "rotate": 0.0, "inject": 0.0}
    changes: list[tuple[float, bool]] = []
    for action in actions:
        if action.name in moving:
            moving[action.name] = float(action.value or 0.0)
            changes.append((action.t_s, any(v != 0.0 for v in moving.values())))
        elif action.name == "select":
            moving["advance"] = moving["rotate"] = 0.0  # the procedure stops the hands on a new instrument
            changes.append((action.t_s, moving["inject"] != 0.0))
    last_activity = np.zeros_like(t)
    active_now = False
    since = 0.0
    j = 0
    for i, ti in enumerate(t):
        while j < len(changes) and changes[j][0] <= ti:
            if active_now and not changes[j][1]:
                since = changes[j][0]
            active_now = changes[j][1]
            j += 1
        last_activity[i] = ti if active_now else since
    return (beam > 0) & (t - last_activity >= IDLE_AFTER_S)
