"""The dose ledger: running totals (fluoroscopy time, Ka,r, KAP, cine), irradiation events and notifications.

The procedure tells the ledger, every fixed step, whether the beam is on and in which mode (:meth:`beam`), and
hands it every pulse or frame the image chain fires (:meth:`add_pulse`). One irradiation event is one pedal press
or one acquisition run, as in a DICOM dose report (TID 10003).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from game.sim import constants as C
from game.sim.dose.operator import OperatorShielding, operator_dose_uSv
from game.sim.dose.skin import Beam, SkinDoseMap

FLUORO = "fluoro"
CINE = "cine"


@dataclass(frozen=True)
class Pulse:
    """One X-ray pulse (fluoroscopy) or frame (cine): its technique, geometry and air kerma at the IRP."""

    t_s: float
    mode: str  # FLUORO or CINE
    pulse_rate_per_s: float
    kvp: float
    mA: float
    air_kerma_irp_mGy: float
    beam: Beam
    lao_deg: float
    cra_deg: float


@dataclass
class IrradiationEvent:
    """One pedal press or acquisition run."""

    start_s: float
    mode: str
    pulse_rate_per_s: float
    lao_deg: float
    cra_deg: float
    duration_s: float = 0.0
    pulses: int = 0
    air_kerma_mGy: float = 0.0
    kap_Gycm2: float = 0.0
    kvp_sum: float = 0.0
    mA_sum: float = 0.0
    field_area_sum_cm2: float = 0.0

    def to_dict(self) -> dict:
        n = max(self.pulses, 1)
        return {
            "start_s": round(self.start_s, 4),
            "duration_s": round(self.duration_s, 4),
            "mode": self.mode,
            "pulse_rate_per_s": self.pulse_rate_per_s,
            "pulses": self.pulses,
            "kvp": round(self.kvp_sum / n, 2),
            "mA": round(self.mA_sum / n, 2),
            "lao_deg": self.lao_deg,
            "cra_deg": self.cra_deg,
            "field_area_irp_cm2": round(self.field_area_sum_cm2 / n, 2),
            "air_kerma_mGy": self.air_kerma_mGy,
            "kap_Gycm2": self.kap_Gycm2,
        }


@dataclass(frozen=True)
class Notification:
    t_s: float
    kind: str  # "fluoro_alarm" or "air_kerma"
    message: str


@dataclass
class DoseLedger:
    width_mm: float = 340.0
    thickness_ap_mm: float = 220.0
    notify_air_kerma_mGy: tuple[float, ...] = ()
    shielding: OperatorShielding = field(default_factory=OperatorShielding)

    fluoro_time_s: float = 0.0
    cine_time_s: float = 0.0
    cine_frames: int = 0
    fluoro_pulses: int = 0
    air_kerma_mGy: float = 0.0
    kap_Gycm2: float = 0.0
    operator_dose_uSv: float = 0.0
    events: list[IrradiationEvent] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.skin = SkinDoseMap(self.width_mm, self.thickness_ap_mm)
        self._current: IrradiationEvent | None = None
        self._alarms_given = 0
        thresholds = set(self.notify_air_kerma_mGy) | {C.SRDL_AIR_KERMA_MGY}
        thresholds |= {C.NOTIFY_AIR_KERMA_MGY + k * C.NOTIFY_AIR_KERMA_STEP_MGY for k in range(18)}
        self._thresholds = sorted(thresholds)

    # --- per step ---------------------------------------------------------------------------------------------
    def beam(self, t_s: float, dt_s: float, mode: str | None, pulse_rate: float, lao: float, cra: float) -> None:
        """Account one fixed step of ``dt_s``: beam off (mode None), fluoroscopy or cine."""
        current = self._current
        if current is not None and (mode != current.mode or pulse_rate != current.pulse_rate_per_s):
            self._current = current = None
        if mode is None:
            return
        if current is None:
            current = IrradiationEvent(t_s, mode, pulse_rate, lao, cra)
            self.events.append(current)
            self._current = current
        current.duration_s += dt_s
        if mode == FLUORO:
            self.fluoro_time_s += dt_s
            while self.fluoro_time_s >= (self._alarms_given + 1) * C.FLUORO_ALARM_INTERVAL_S - 1e-9:
                self._alarms_given += 1
                minutes = self._alarms_given * C.FLUORO_ALARM_INTERVAL_S / 60.0
                self.notifications.append(
                    Notification(t_s + dt_s, "fluoro_alarm", f"{minutes:.0f} minutes of fluoroscopy")
                )
        else:
            self.cine_time_s += dt_s

    def add_pulse(self, pulse: Pulse) -> None:
        """Account one pulse or frame."""
        before = self.air_kerma_mGy
        kap = pulse.air_kerma_irp_mGy * pulse.beam.area_irp_cm2 / 1000.0  # mGy*cm^2 -> Gy*cm^2
        self.air_kerma_mGy += pulse.air_kerma_irp_mGy
        self.kap_Gycm2 += kap
        self.operator_dose_uSv += operator_dose_uSv(kap, pulse.lao_deg, self.shielding)
        self.skin.add(pulse.beam, pulse.air_kerma_irp_mGy)
        if pulse.mode == CINE:
            self.cine_frames += 1
        else:
            self.fluoro_pulses += 1
        event = self._current
        if event is not None:
            event.pulses += 1
            event.air_kerma_mGy += pulse.air_kerma_irp_mGy
            event.kap_Gycm2 += kap
            event.kvp_sum += pulse.kvp
            event.mA_sum += pulse.mA
            event.field_area_sum_cm2 += pulse.beam.area_irp_cm2
        for threshold in self._thresholds:
            if before < threshold <= self.air_kerma_mGy:
                self.notifications.append(
                    Notification(pulse.t_s, "air_kerma", f"reference air kerma passed {threshold / 1000:g} Gy")
                )

    @property
    def peak_skin_dose_mGy(self) -> float:
        return self.skin.peak_mGy

    def state_arrays(self) -> dict[str, np.ndarray]:
        totals = [
            self.fluoro_time_s,
            self.cine_time_s,
            self.cine_frames,
            self.fluoro_pulses,
            self.air_kerma_mGy,
            self.kap_Gycm2,
            self.operator_dose_uSv,
        ]
        return {"dose_totals": np.array(totals), "skin_dose": self.skin.dose_mGy}
