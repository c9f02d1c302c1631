"""Score, stars and feedback of a finished run.

The score (0-1000) puts success first, then exposure, the way DOMAIN.md section 7 ranks what separates experts
from novices:

| part | points | full points when | zero points when |
|---|---|---|---|
| success | 400 | the objective is met | it is not |
| fluoroscopy time | 200 | at or below the level's reference | 3x the reference |
| reference air kerma Ka,r | 150 | at or below the reference | 3x |
| kerma-area product KAP | 100 | at or below the reference | 3x |
| safety | 50 | no complication | any complication |
| procedure time | 50 | within half the time limit | at the time limit |
| contrast | 50 | at or below the reference | 3x (or over the budget) |

Between full and zero points a part falls linearly. A failed run keeps a fifth of its exposure points, so every
success outscores every failure while failed runs still compare among themselves.

Stars: 0 for a failed run; 1 for success; 2 for success with fluoroscopy time and Ka,r within 1.5x their references
and no complication; 3 for success with fluoroscopy time, Ka,r and KAP all within their references and no
complication.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUCCESS_POINTS = 400.0
WEIGHTS = {"fluoro_time": 200.0, "air_kerma": 150.0, "kap": 100.0, "safety": 50.0, "time": 50.0, "contrast": 50.0}
ZERO_AT_RATIO = 3.0  # a metric at this multiple of its reference earns nothing
FAILED_RUN_KEEPS = 0.2
TWO_STAR_RATIO = 1.5
THREE_STAR_RATIO = 1.0


@dataclass(frozen=True)
class References:
    fluoro_time_s: float
    air_kerma_mGy: float
    kap_Gycm2: float
    contrast_mL: float
    time_limit_s: float
    contrast_budget_mL: float


@dataclass(frozen=True)
class RunFigures:
    """What the run used; the telemetry fields feed the feedback sentences."""

    success: bool
    sim_time_s: float
    fluoro_time_s: float
    air_kerma_mGy: float
    kap_Gycm2: float
    contrast_mL: float
    complications: int
    cine_frames: int = 0
    idle_beam_s: float = 0.0  # beam on while nothing moved
    fluoro_s_at_rate: dict[float, float] = field(default_factory=dict)  # fluoroscopy seconds per pulse rate
    air_kerma_at_rate_mGy: dict[float, float] = field(default_factory=dict)
    mean_open_fraction: float = 1.0  # collimation: open fraction of the field side, beam-weighted
    blind_advance_mm: float = 0.0  # device travel far from the last image (see the procedure)
    cine_runs: int = 0
    longest_press_s: float = 0.0


def _part(value: float, reference: float) -> float:
    """1 at or below the reference, falling linearly to 0 at ZERO_AT_RATIO times it."""
    if reference <= 0:
        return 1.0 if value <= 0 else 0.0
    ratio = value / reference
    return max(0.0, min(1.0, (ZERO_AT_RATIO - ratio) / (ZERO_AT_RATIO - 1.0)))


def score_breakdown(run: RunFigures, ref: References) -> dict[str, float]:
    """Points per part of the score (see the module docstring); their sum is the score."""
    time_part = max(0.0, min(1.0, 2.0 * (1.0 - run.sim_time_s / ref.time_limit_s)))
    contrast_part = 0.0 if run.contrast_mL > ref.contrast_budget_mL else _part(run.contrast_mL, ref.contrast_mL)
    parts = {
        "fluoro_time": _part(run.fluoro_time_s, ref.fluoro_time_s),
        "air_kerma": _part(run.air_kerma_mGy, ref.air_kerma_mGy),
        "kap": _part(run.kap_Gycm2, ref.kap_Gycm2),
        "safety": 1.0 if run.complications == 0 else 0.0,
        "time": time_part,
        "contrast": contrast_part,
    }
    keep = 1.0 if run.success else FAILED_RUN_KEEPS
    points = {name: round(WEIGHTS[name] * value * keep, 1) for name, value in parts.items()}
    return {"success": SUCCESS_POINTS if run.success else 0.0, **points}


def score(run: RunFigures, ref: References) -> int:
    return round(sum(score_breakdown(run, ref).values()))


def stars(run: RunFigures, ref: References) -> int:
    if not run.success:
        return 0
    if run.complications:
        return 1

    def within(ratio: float) -> bool:
        return run.fluoro_time_s <= ratio * ref.fluoro_time_s and run.air_kerma_mGy <= ratio * ref.air_kerma_mGy

    if within(THREE_STAR_RATIO) and run.kap_Gycm2 <= THREE_STAR_RATIO * ref.kap_Gycm2:
        return 3
    return 2 if within(TWO_STAR_RATIO) else 1


def feedback(run: RunFigures, ref: References) -> list[str]:
    """Actionable sentences computed from this run, most important first."""
    tips: list[tuple[float, str]] = []  # (weight for ordering, sentence)
    if run.fluoro_time_s > ref.fluoro_time_s:
        extra = run.fluoro_time_s - ref.fluoro_time_s
        tips.append(
            (
                extra,
                f"Fluoroscopy time was {_mmss(run.fluoro_time_s)} against a reference of "
                f"{_mmss(ref.fluoro_time_s)}: {extra:.0f} s more than a competent run needs.",
            )
        )
    if run.idle_beam_s >= 3.0:
        tips.append(
            (
                run.idle_beam_s * 2,
                f"The beam was on for {run.idle_beam_s:.0f} s while nothing moved: release "
                "the pedal and study the last-image hold instead.",
            )
        )
    fast_s = sum(s for rate, s in run.fluoro_s_at_rate.items() if rate > 15.0)
    fast_kerma = sum(k for rate, k in run.air_kerma_at_rate_mGy.items() if rate > 15.0)
    if fast_s >= 5.0 and fast_kerma > 0:
        tips.append(
            (
                fast_kerma,
                f"{fast_s:.0f} s of fluoroscopy ran at 30 pulses/s; at 15 pulses/s Ka,r would have "
                f"been about {fast_kerma / 2:.0f} mGy lower.",
            )
        )
    if run.mean_open_fraction > 0.85 and run.kap_Gycm2 > 0.3 * ref.kap_Gycm2:
        saved = run.kap_Gycm2 * (1 - 0.7**2)
        tips.append(
            (
                saved * 10,
                f"The field was barely collimated; closing the shutters to 70 % of the field side "
                f"would have saved about {saved:.1f} Gy*cm2 of KAP.",
            )
        )
    if run.blind_advance_mm >= 50.0:
        tips.append(
            (
                run.blind_advance_mm / 5,
                f"The instruments travelled {run.blind_advance_mm:.0f} mm far from any "
                "image: tap the pedal before long moves and near branches.",
            )
        )
    if run.longest_press_s >= 20.0:
        tips.append(
            (
                run.longest_press_s,
                f"Your longest pedal press lasted {run.longest_press_s:.0f} s; short taps "
                "of a second or two show as much.",
            )
        )
    if run.cine_runs > 3:
        tips.append(
            (
                run.cine_frames / 10,
                f"{run.cine_runs} cine runs ({run.cine_frames} frames): record only what "
                "you need to keep; a cine frame costs 5-10 fluoroscopy pulses.",
            )
        )
    if ref.contrast_mL > 0 and run.contrast_mL > 1.5 * ref.contrast_mL:
        tips.append(
            (
                1.0,
                f"{run.contrast_mL:.0f} mL of contrast against {ref.contrast_mL:.0f} mL: use a roadmap "
                "instead of repeated puffs.",
            )
        )
    if not tips and run.success:
        tips.append((0.0, "Clean, frugal run: nothing to add."))
    return [sentence for _, sentence in sorted(tips, key=lambda t: -t[0])]


def _mmss(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"
