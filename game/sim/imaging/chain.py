"""The image chain: quantum noise, recursive filter, last-image hold, cine/DSA runs, roadmap, display.

Each X-ray pulse turns the noise-free attenuation image ``L = -ln(I/I0)`` into a detector image:

- **Quantum noise** (DOMAIN.md section 3): the expected count in a pixel is ``N = N0 exp(-L)``, with ``N0`` the
  unattenuated count set by the detector dose per pulse (``Technique.counts_per_pixel``: 3.0e4 photons per mm^2
  per uGy, DQE 0.65, pixel = detector side / pixels). The detector reads ``N + sqrt(N) z``, Gaussian with the
  Poisson variance. The chain works in the log domain, to first order in ``1 / sqrt(N)`` (the delta method):
  ``-ln(I/I0) = L + z / sqrt(N)``, with ``1 / sqrt(N) = exp((L - ln N0) / 2)``. At fluoroscopy dose the
  background holds ~100 counts per pixel, where the terms left out (a bias ``1 / 2N`` and a skew) are a few per
  cent of the noise; behind metal, where counts are few, the Gaussian model is crude either way. Expected counts
  below :data:`MIN_COUNTS` are clamped (the noise there stops growing) and no pixel reads less than that: the
  noisy log is capped at ``ln(N0 / MIN_COUNTS)``. Four times the dose halves the noise.
- ``z`` is a standard normal field from the procedure's seeded generator (:func:`standard_normal_field`): a
  slice of a fixed bank of deviates at an offset the generator draws, so the same seed gives the same images bit
  for bit, and every pixel's noise is independent from frame to frame.
- The **raw** image is the signal over ``N0`` (so 1.0 is the unattenuated beam), ``exp`` of minus the noisy log,
  computed when asked for; outside the collimator shutters (and an image intensifier's circle) no X-rays arrive
  and the raw signal is 0.
- **Recursive filter** in fluoroscopy: ``y_n = (1 - b) x_n + b y_(n-1)`` on the log image (noise variance
  x (1-b)/(1+b), at the cost of lag); reset when the geometry changes. Cine and DSA frames are not filtered.
- **Last-image hold**: between pulses and after the pedal is released the monitor keeps the last image.
- **Cine / DSA runs** keep their frames (8-bit, as displayed) for review on the reference monitor. **DSA** takes the
  run's first frame as the mask and shows ``log(frame) - log(mask)``: only what changed (iodine) remains.
- **Roadmap**: storing one keeps the most opacified frame seen since the geometry last changed; live fluoroscopy is
  then shown with that mask subtracted, so the vessels stay visible (white) and the wire (dark) moves inside them.

The whole state is numpy arrays and numbers in this object, so ``copy.deepcopy`` is a snapshot.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from game.sim.imaging import display, pixels_kernel
from game.sim.imaging.aec import Mode

#: -ln(I/I0) shown where no X-rays arrive (outside the shutters): far beyond any patient.
BLANK_LOG = 20.0
#: Expected counts below this are clamped (a pixel behind a marker band still reads a little scatter).
MIN_COUNTS = 0.5
#: At most this many stored acquisition frames (8-bit) are kept; older runs are dropped first.
MAX_STORED_FRAMES = 240
#: Standard normal deviates come from one bank of this many float32 values (16 MiB), drawn once, at first use, from
#: a generator seeded with :data:`NOISE_BANK_SEED`. A pulse's field is the contiguous run of the bank at an offset
#: drawn from the procedure's generator: a copy-free slice instead of a quarter of a million fresh deviates. Two
#: frames share a pixel's value only if their offsets are equal (one chance in four million); overlapping runs
#: hold the same white noise shifted by the offsets' difference, which no filter or eye can pick out.
NOISE_BANK_SIZE = 1 << 22
NOISE_BANK_SEED = 0x4C756D656E  # "Lumen"


@cache
def _noise_bank() -> np.ndarray:
    """The bank of deviates (read-only float32), scaled to zero mean and unit variance exactly."""
    bank = np.random.default_rng(NOISE_BANK_SEED).standard_normal(NOISE_BANK_SIZE)
    bank = ((bank - bank.mean()) / bank.std()).astype(np.float32)
    bank.flags.writeable = False
    return bank


@cache
def _noise_bound() -> float:
    """The largest deviate in the bank (in absolute value)."""
    return float(np.abs(_noise_bank()).max())


def standard_normal_field(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian float32 noise of ``shape`` drawn from ``rng`` (one integer per call).

    The result is a read-only view into the noise bank; a field larger than the bank is drawn afresh."""
    size = int(np.prod(shape))
    bank = _noise_bank()
    if size > bank.size:
        return rng.standard_normal(shape, dtype=np.float32)
    start = int(rng.integers(0, bank.size - size + 1))
    return bank[start : start + size].reshape(shape)


def _amplitude(expected_log: np.ndarray, ln_n0: float, max_log: np.float32, out: np.ndarray | None = None):
    """The quantum noise's amplitude in the log domain, 1 / sqrt(N) = exp((L - ln N0) / 2), with N clamped at
    MIN_COUNTS (np.clip with both bounds is numpy's fast one)."""
    amplitude = np.clip(expected_log, np.float32(-BLANK_LOG), max_log, out=out)
    amplitude -= np.float32(ln_n0)
    amplitude *= np.float32(0.5)
    return np.exp(amplitude, out=amplitude)


class ImageChain:
    """Per-pulse image processing and the monitors' state for one imaging plane."""

    def __init__(self, size_px: int):
        self.size_px = size_px
        self.filtered: np.ndarray | None = None  # log image after the recursive filter (float32)
        self._noisy_log: np.ndarray | None = None  # last pulse's noisy -ln(I/I0) before the filter (float32)
        self._outside: np.ndarray | None = None  # where the last pulse's X-rays did not arrive (None: nowhere)
        self.display = np.zeros((size_px, size_px), dtype=np.uint8)  # the live monitor
        self.reference = np.zeros((size_px, size_px), dtype=np.uint8)  # the reference monitor
        self.level = 0.0
        #: The user's window/level: the window width as a multiple of the default, and a level shift (-ln units;
        #: positive darkens). Applied to fluoroscopy and cine; subtracted images use their own window times the scale.
        self.window_scale = 1.0
        self.level_offset = 0.0
        self.beam_on = False
        self.pulses = 0
        self.dsa_mask: np.ndarray | None = None
        self.roadmap: np.ndarray | None = None
        self.peak: np.ndarray | None = None  # most opacified filtered frame since the geometry changed
        self.peak_score = 0.0
        self.runs: list[list[np.ndarray]] = []  # stored acquisitions, 8-bit frames
        self._run_mode: Mode | None = None
        self._run_best = (-1.0, None)
        self._scratch: np.ndarray | None = None  # a float32 work image (no state: its content is never read back)
        #: The noise amplitude over the last background seen: (background, ln N0, amplitude, whether to clip).
        self._amplitude: tuple[np.ndarray, float, np.ndarray, bool] | None = None

    @property
    def raw(self) -> np.ndarray | None:
        """The last pulse's detector signal I/I0 (float32; 1.0 = unattenuated beam, 0 outside the field)."""
        if self._noisy_log is None:
            return None
        raw = np.exp(np.negative(self._noisy_log))
        if self._outside is not None:
            raw[self._outside] = 0.0
        return raw

    def _work(self, shape: tuple[int, ...]) -> np.ndarray:
        if self._scratch is None or self._scratch.shape != shape:
            self._scratch = np.empty(shape, dtype=np.float32)
        return self._scratch

    # --- pulses ---------------------------------------------------------------------------------------------------
    def expose(
        self,
        expected_log: np.ndarray,
        counts_unattenuated: float,
        field: np.ndarray | None,
        rng: np.random.Generator,
        mode: Mode,
        *,
        recursive_weight: float,
        level: float,
        iodine_score: float = 0.0,
        display_offset: np.ndarray | None = None,
        background: np.ndarray | None = None,
        changed: np.ndarray | None = None,
    ) -> np.ndarray:
        """One pulse: noise, filter, masks, display. Returns the live monitor's new 8-bit image.

        ``expected_log`` (S, S) float32 is the noise-free -ln(I/I0); ``counts_unattenuated`` the counts per pixel
        of the unattenuated beam; ``field`` the bool mask where X-rays arrive (None: the whole detector);
        ``level`` the display level (the AEC field's mean attenuation); ``iodine_score`` how much iodine the frame
        shows (for roadmap/review); ``display_offset`` is added before windowing (dynamic-range compression, II
        vignetting). ``background`` (a read-only array that does not change) and ``changed`` (flat pixel indices,
        repeats allowed), if given, say that ``expected_log`` equals ``background`` except at ``changed``: the
        noise amplitude over the background is then computed once per background and dose, and per pulse only
        at the changed pixels (the image is the same).
        """
        shape = expected_log.shape
        ln_n0 = float(np.log(max(counts_unattenuated, 1e-6)))
        max_log = np.float32(ln_n0 - np.log(MIN_COUNTS))  # -ln(I/I0) at MIN_COUNTS
        noise = standard_normal_field(rng, shape)
        if background is None or changed is None or expected_log.size > NOISE_BANK_SIZE:
            log = np.multiply(_amplitude(expected_log, ln_n0, max_log, self._work(shape)), noise)
            log += expected_log
            np.clip(log, np.float32(-BLANK_LOG), max_log, out=log)  # no pixel reads less than MIN_COUNTS
        else:
            amplitude, clip = self._background_amplitude(background, ln_n0, max_log)
            log = np.multiply(amplitude, noise)
            log += expected_log
            if clip:
                np.clip(log, np.float32(-BLANK_LOG), max_log, out=log)
            if len(changed):
                at = expected_log.reshape(-1)[changed]
                value = _amplitude(at, ln_n0, max_log, np.empty_like(at))
                value *= noise.reshape(-1)[changed]
                value += at
                log.reshape(-1)[changed] = np.clip(value, np.float32(-BLANK_LOG), max_log, out=value)
        outside = None if field is None or field.all() else ~field
        self._noisy_log, self._outside = log, outside
        self.level = level
        self.beam_on = True
        self.pulses += 1

        filtered = log
        previous = pixels_kernel.NO_IMAGE
        if mode.is_fluoro and self.filtered is not None and recursive_weight > 0:
            filtered = previous = self.filtered  # updated in place: y = b y + (1 - b) x
        mask = pixels_kernel.NO_MASK if outside is None else outside
        pixels_kernel.blank_and_filter(log, mask, np.float32(BLANK_LOG), previous, np.float32(recursive_weight))
        self.filtered = filtered

        if not mode.is_fluoro:
            if self._run_mode != mode:
                self.start_run(mode)
            if mode == Mode.DSA and self.dsa_mask is None:
                self.dsa_mask = filtered.copy()
        if iodine_score > self.peak_score:
            self.peak_score = iodine_score
            self.peak = filtered.copy()

        subtracted_window = display.SUBTRACTED_WINDOW * self.window_scale
        if mode == Mode.DSA or (self.roadmap is not None and mode.is_fluoro):
            mask = self.dsa_mask if mode == Mode.DSA else self.roadmap
            image = display.to_grey(filtered, 0.0, True, subtracted_window, add=mask, sign=-1.0, outside=outside)
        else:
            window = display.FLUORO_WINDOW * self.window_scale
            image = display.to_grey(filtered, level - self.level_offset, False, window, display_offset, outside=outside)
        self.display = image
        if not mode.is_fluoro:
            self._store(image, iodine_score)
        return image

    def _background_amplitude(self, background: np.ndarray, ln_n0: float, max_log: np.float32):
        """The noise amplitude over ``background`` at this dose (cached), and whether a noisy background pixel
        can reach the MIN_COUNTS cap (if not, only the changed pixels need clipping)."""
        cached = self._amplitude
        if cached is not None and cached[0] is background and cached[1] == ln_n0:
            return cached[2], cached[3]
        amplitude = _amplitude(background, ln_n0, max_log, np.empty(background.shape, dtype=np.float32))
        peak = min(float(background.max()), float(max_log))
        clip = peak + _noise_bound() * np.exp(0.5 * (peak - ln_n0)) >= float(max_log) - 1e-3
        self._amplitude = (background, ln_n0, amplitude, clip)
        return amplitude, clip

    def beam_off(self) -> None:
        """The pedal is up: last-image hold (the monitor keeps its image); an acquisition run ends."""
        self.beam_on = False
        self.end_run()

    # --- acquisitions ---------------------------------------------------------------------------------------------
    def start_run(self, mode: Mode) -> None:
        self.end_run()
        self._run_mode = mode
        self._run_best = (-1.0, None)
        self.dsa_mask = None
        self.runs.append([])

    def end_run(self) -> None:
        if self._run_mode is None:
            return
        self._run_mode = None
        best = self._run_best[1]
        if best is not None:
            self.reference = best
        self.dsa_mask = None

    def _store(self, image: np.ndarray, score: float) -> None:
        self.runs[-1].append(image)
        if score >= self._run_best[0]:
            self._run_best = (score, image)
        while sum(len(r) for r in self.runs) > MAX_STORED_FRAMES and len(self.runs) > 1:
            self.runs.pop(0)
        if sum(len(r) for r in self.runs) > MAX_STORED_FRAMES:
            self.runs[-1].pop(0)

    @property
    def cine_frames(self) -> list[np.ndarray]:
        """Frames of the last (or current) acquisition run."""
        return self.runs[-1] if self.runs else []

    # --- roadmap and geometry -------------------------------------------------------------------------------------
    def set_roadmap(self, on: bool) -> bool:
        """Store a roadmap from the most opacified frame (True if one was stored) or clear it."""
        if not on:
            self.roadmap = None
            return False
        source = self.peak if self.peak is not None else self.filtered
        if source is None:
            return False
        self.roadmap = source.copy()
        self.reference = display.to_grey(self.roadmap, self.level)
        return True

    def geometry_changed(self, registration_lost: bool) -> None:
        """The C-arm or table moved: the recursive filter restarts; masks of other angles are dropped (a table
        pan keeps the roadmap, misregistered, as on a real system)."""
        self.filtered = None
        self.peak = None
        self.peak_score = 0.0
        if registration_lost:
            self.roadmap = None
        self.dsa_mask = None if self._run_mode is None else self.dsa_mask

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The monitors' images (for hashing and snapshots)."""
        return {"live_display": self.display.copy(), "reference_display": self.reference.copy()}
