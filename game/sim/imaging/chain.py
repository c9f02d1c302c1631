"""The image chain: quantum noise, recursive filter, last-image hold, cine/DSA runs, roadmap, display.

Each X-ray pulse turns the noise-free attenuation image ``L = -ln(I/I0)`` into a detector image:

- **Quantum noise** (DOMAIN.md section 3): the expected count in a pixel is ``N = N0 exp(-L)``, with ``N0`` the
  unattenuated count set by the detector dose per pulse (``Technique.counts_per_pixel``: 3.0e4 photons per mm^2
  per uGy, DQE 0.65, pixel = detector side / pixels). The detector reads ``N + sqrt(N) z`` with ``z`` a standard
  normal field from the procedure's seeded generator (:func:`standard_normal_field`): Gaussian with the Poisson
  variance. Four times the dose halves the noise.
- The **raw** image is that signal over ``N0`` (so 1.0 is the unattenuated beam); outside the collimator shutters
  (and an image intensifier's circle) no X-rays arrive and the raw signal is 0.
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

import numpy as np
from scipy.special import ndtri

from game.sim.imaging import display
from game.sim.imaging.aec import Mode

#: -ln(I/I0) shown where no X-rays arrive (outside the shutters): far beyond any patient.
BLANK_LOG = 20.0
#: Expected counts below this are clamped (a pixel behind a marker band still reads a little scatter).
MIN_COUNTS = 0.5
#: At most this many stored acquisition frames (8-bit) are kept; older runs are dropped first.
MAX_STORED_FRAMES = 240
#: Standard normal deviates by inverse-CDF look-up of 16-bit uniform integers: four times faster than numpy's
#: normal sampler at 512 x 512, indistinguishable as image noise (tails cut at 4.2 sigma; variance scaled to 1).
_NORMAL_LEVELS = 1 << 16
_NORMAL_TABLE = ndtri((np.arange(_NORMAL_LEVELS) + 0.5) / _NORMAL_LEVELS)
_NORMAL_TABLE = (_NORMAL_TABLE / np.sqrt(np.mean(_NORMAL_TABLE**2))).astype(np.float32)


def standard_normal_field(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian float32 noise of ``shape`` drawn from ``rng``."""
    index = rng.integers(0, _NORMAL_LEVELS, size=shape, dtype=np.uint16)
    return np.take(_NORMAL_TABLE, index)


class ImageChain:
    """Per-pulse image processing and the monitors' state for one imaging plane."""

    def __init__(self, size_px: int):
        self.size_px = size_px
        self.filtered: np.ndarray | None = None  # log image after the recursive filter (float32)
        self._counts: np.ndarray | None = None  # last pulse's detected counts (float32)
        self._ln_n0 = 0.0
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

    @property
    def raw(self) -> np.ndarray | None:
        """The last pulse's detector signal I/I0 (float32; 1.0 = unattenuated beam, 0 outside the field)."""
        if self._counts is None:
            return None
        return self._counts * np.float32(np.exp(-self._ln_n0))

    # --- pulses ---------------------------------------------------------------------------------------------------
    def expose(
        self,
        expected_log: np.ndarray,
        counts_unattenuated: float,
        field: np.ndarray,
        rng: np.random.Generator,
        mode: Mode,
        *,
        recursive_weight: float,
        level: float,
        iodine_score: float = 0.0,
        display_offset: np.ndarray | None = None,
    ) -> np.ndarray:
        """One pulse: noise, filter, masks, display. Returns the live monitor's new 8-bit image.

        ``expected_log`` (S, S) float32 is the noise-free -ln(I/I0); ``counts_unattenuated`` the counts per pixel
        of the unattenuated beam; ``field`` the bool mask where X-rays arrive; ``level`` the display level (the
        AEC field's mean attenuation); ``iodine_score`` how much iodine the frame shows (for roadmap/review);
        ``display_offset`` is added before windowing (dynamic-range compression, II vignetting).
        """
        ln_n0 = np.float32(np.log(max(counts_unattenuated, 1e-6)))
        counts = np.subtract(ln_n0, expected_log, dtype=np.float32)
        np.exp(counts, out=counts)  # expected counts N = N0 exp(-L)
        noise = standard_normal_field(rng, expected_log.shape)
        noise *= np.sqrt(counts)
        counts += noise
        np.maximum(counts, np.float32(MIN_COUNTS), out=counts)
        log = np.log(counts)
        np.subtract(ln_n0, log, out=log)  # -ln(I/I0) with noise
        outside = None if field.all() else ~field
        if outside is not None:
            counts[outside] = 0.0
            log[outside] = BLANK_LOG
        self._counts, self._ln_n0 = counts, float(ln_n0)
        self.level = level
        self.beam_on = True
        self.pulses += 1

        if mode.is_fluoro and self.filtered is not None and recursive_weight > 0:
            b = np.float32(recursive_weight)
            previous = self.filtered
            previous *= b
            log *= np.float32(1.0) - b
            log += previous
        self.filtered = log

        if not mode.is_fluoro:
            if self._run_mode != mode:
                self.start_run(mode)
            if mode == Mode.DSA and self.dsa_mask is None:
                self.dsa_mask = log.copy()
        if iodine_score > self.peak_score:
            self.peak_score = iodine_score
            self.peak = log.copy()

        subtracted_window = display.SUBTRACTED_WINDOW * self.window_scale
        if mode == Mode.DSA:
            image = display.to_grey(log - self.dsa_mask, 0.0, subtracted=True, window=subtracted_window)
        elif self.roadmap is not None and mode.is_fluoro:
            image = display.to_grey(log - self.roadmap, 0.0, subtracted=True, window=subtracted_window)
        else:
            shown = log if display_offset is None else log + display_offset
            image = display.to_grey(shown, level - self.level_offset, window=display.FLUORO_WINDOW * self.window_scale)
        if outside is not None:
            image[outside] = display.BLANK_GREY
        self.display = image
        if not mode.is_fluoro:
            self._store(image, iodine_score)
        return image

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
