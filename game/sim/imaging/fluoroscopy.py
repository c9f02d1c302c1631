"""The fluoroscope: C-arm + AEC + image formation + image chain, pulsed at the pulse rate.

The procedure owns one :class:`Fluoroscope` and calls :meth:`Fluoroscope.step` once per fixed simulation step
with the pedal states, the pulse rate, the iodine on the vessel samples and the instruments' shapes, passing
its own seeded generator. Pulses fire at the pedal press and then every ``1 / rate`` seconds while it is held;
each returns a :class:`PulseRecord` (technique, time, beam) for the dose ledger. Between pulses, and after the
pedal is released (last-image hold), the monitor keeps its image and nothing is computed.

Caches: the body background, the vessels' projection and the quantum noise's amplitude over the body are computed
once per geometry (a C-arm, table or field change) and dose; per pulse only iodine, instruments (and the noise
amplitude where they are), noise, filter and display are computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.sim.imaging.aec import MODE_SETTINGS, Mode, Technique, choose_technique
from game.sim.imaging.carm import CArm
from game.sim.imaging.chain import ImageChain
from game.sim.imaging.display import equalization_log, vignetting_log
from game.sim.imaging.render import Renderer
from game.sim.imaging.shapes import Tube

#: Default frame rates of acquisitions *(est.: cine 15 f/s as in coronary work; peripheral DSA 3 f/s)*.
CINE_RATE_PER_S = 15.0
DSA_RATE_PER_S = 3.0
#: Pulses due within this much of a step's end fire in that step (float accumulation of dt).
TIME_EPS_S = 1e-9


@dataclass(frozen=True)
class PulseRecord:
    """One pulse or frame that fired: when, with which technique, through which beam."""

    t_s: float
    technique: Technique
    carm: CArm

    def for_ledger(self):
        """The dose ledger's :class:`game.sim.dose.ledger.Pulse` for this pulse (Ka,r at the IRP, beam, angles)."""
        from game.sim.dose.ledger import Pulse

        t = self.technique
        return Pulse(
            t_s=self.t_s,
            mode=t.mode.ledger_mode,
            pulse_rate_per_s=t.pulse_rate_per_s,
            kvp=t.kvp,
            mA=t.mA,
            air_kerma_irp_mGy=t.air_kerma_irp_mGy,
            beam=self.carm.beam(),
            lao_deg=self.carm.lao_deg,
            cra_deg=self.carm.cra_deg,
        )


class Fluoroscope:
    """One imaging plane: the C-arm, the renderer's caches, the image chain and the pulse clock."""

    def __init__(self, body, tree, carm: CArm, size_px: int = 512, grid_px: int | None = None):
        self.renderer = Renderer(body, tree, size_px, grid_px)
        self.chain = ImageChain(size_px)
        self.size_px = size_px
        self.carm = carm
        self.fluoro_mode = Mode.FLUORO
        self.acquisition_mode = Mode.CINE
        self.cine_rate_per_s = CINE_RATE_PER_S
        self.dsa_rate_per_s = DSA_RATE_PER_S
        self.dose_scale = 1.0
        self.t_s = 0.0
        self.last_technique: Technique | None = None
        self._next_pulse_s: float | None = None
        self._beam_mode: Mode | None = None
        self._masks: dict[tuple, tuple[np.ndarray | None, np.ndarray]] = {}
        self._techniques: dict[tuple, Technique] = {}

    # --- geometry -------------------------------------------------------------------------------------------------
    def set_carm(self, carm: CArm) -> None:
        """Move the C-arm, table, field or shutters. Caches are per geometry; the chain restarts its filter."""
        old = self.carm
        self.carm = carm
        if carm.geometry_key() != old.geometry_key():
            self.chain.geometry_changed(registration_lost=carm.angles_key() != old.angles_key())

    def technique(self, mode: Mode | None = None, pulse_rate_per_s: float = 15.0) -> Technique:
        """What the AEC would choose now (computes the background if this geometry is new)."""
        mode = self.fluoro_mode if mode is None else mode
        bg = self.renderer.background(self.carm)
        return choose_technique(bg.water_path_mm(), self.carm, mode, pulse_rate_per_s, self.dose_scale)

    # --- time -----------------------------------------------------------------------------------------------------
    def step(
        self,
        dt_s: float,
        *,
        fluoro: bool,
        acquire: bool = False,
        pulse_rate_per_s: float = 15.0,
        rng: np.random.Generator,
        concentration_mg_per_mL: np.ndarray | None = None,
        tubes: list[Tube] = (),
    ) -> list[PulseRecord]:
        """Advance the pulse clock by ``dt_s``; fire and image every pulse due. ``acquire`` (cine/DSA) wins over
        ``fluoro``. Returns the pulses fired in this step (empty with the beam off)."""
        start, end = self.t_s, self.t_s + dt_s
        self.t_s = end
        if not (fluoro or acquire):
            if self._beam_mode is not None:
                self.chain.beam_off()
            self._beam_mode = None
            self._next_pulse_s = None
            return []
        mode = self.acquisition_mode if acquire else self.fluoro_mode
        if mode == Mode.DSA:
            rate = self.dsa_rate_per_s
        elif mode == Mode.CINE:
            rate = self.cine_rate_per_s
        else:
            rate = pulse_rate_per_s
        if mode != self._beam_mode or self._next_pulse_s is None:
            if self._beam_mode is not None and not self._beam_mode.is_fluoro:
                self.chain.end_run()
            self._beam_mode = mode
            self._next_pulse_s = start
        fired = []
        while self._next_pulse_s < end - TIME_EPS_S:
            technique = self.pulse(mode, rate, rng, concentration_mg_per_mL, tubes)
            fired.append(PulseRecord(self._next_pulse_s, technique, self.carm))
            self._next_pulse_s += 1.0 / rate
        return fired

    def pulse(
        self,
        mode: Mode,
        pulse_rate_per_s: float,
        rng: np.random.Generator,
        concentration_mg_per_mL: np.ndarray | None = None,
        tubes: list[Tube] = (),
    ) -> Technique:
        """Fire one pulse now: AEC, image formation, image chain. Returns its technique."""
        carm = self.carm
        bg = self.renderer.background(carm)
        technique = self._technique(bg.water_path_mm(), mode, pulse_rate_per_s)
        stats: dict[str, float] = {}
        changed: list[np.ndarray] = []
        expected = self.renderer.render(
            carm, technique.kvp, concentration_mg_per_mL, tubes, stats=stats, changed=changed
        )
        level = bg.measuring_log(technique.kvp)
        counts = technique.counts_per_pixel(carm.pixel_mm(self.size_px)) * float(np.exp(level))
        field, offset = self._field(carm, technique.kvp, level)
        self.chain.expose(
            expected,
            counts,
            field,
            rng,
            mode,
            recursive_weight=MODE_SETTINGS[mode].recursive_filter,
            level=level,
            iodine_score=stats.get("iodine", 0.0),
            display_offset=offset,
            background=bg.line_integral(technique.kvp),
            changed=np.concatenate(changed) if changed else np.zeros(0, dtype=np.int64),
        )
        self.last_technique = technique
        return technique

    def _technique(self, water_path_mm: float, mode: Mode, pulse_rate_per_s: float) -> Technique:
        """The AEC's choice for this pulse: a pure function of its inputs, so it is kept while they repeat."""
        key = (water_path_mm, self.carm, mode, pulse_rate_per_s, self.dose_scale)
        technique = self._techniques.get(key)
        if technique is None:
            if len(self._techniques) > 16:
                self._techniques.clear()
            technique = choose_technique(water_path_mm, self.carm, mode, pulse_rate_per_s, self.dose_scale)
            self._techniques[key] = technique
        return technique

    def _field(self, carm: CArm, kvp: float, level: float) -> tuple[np.ndarray | None, np.ndarray]:
        """Where X-rays arrive (None: on the whole detector), and the display offset (dynamic-range compression
        + II vignetting)."""
        key = (carm.geometry_key(), carm.collimation, round(kvp, 3))
        if key not in self._masks:
            if len(self._masks) > 16:
                self._masks.clear()
            coarse = self.renderer.background(carm).coarse(kvp)
            offset = equalization_log(coarse, level, carm.field_side_mm, self.size_px)
            vignette = vignetting_log(carm, self.size_px)
            if vignette is not None:
                offset += vignette
            field = carm.shutter_mask(self.size_px)
            self._masks[key] = (None if field.all() else field, offset)
        return self._masks[key]

    # --- monitors -------------------------------------------------------------------------------------------------
    @property
    def live_image(self) -> np.ndarray:
        """The live monitor (8-bit grey, S x S): the last pulse's image, held."""
        return self.chain.display

    @property
    def reference_image(self) -> np.ndarray:
        """The reference monitor: the best frame of the last acquisition, or the roadmap mask."""
        return self.chain.reference

    def set_roadmap(self, on: bool) -> bool:
        return self.chain.set_roadmap(on)

    def state_arrays(self) -> dict[str, np.ndarray]:
        arrays = self.chain.state_arrays()
        arrays["imaging_clock"] = np.array([self.t_s, -1.0 if self._next_pulse_s is None else self._next_pulse_s])
        return arrays
