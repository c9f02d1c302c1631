"""Timing helpers: medians and 95th percentiles of repeated calls, on one core, in milliseconds."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def time_ms(fn: Callable[[], object], repeats: int, warmup: int = 3) -> np.ndarray:
    """Wall time of each of ``repeats`` calls of ``fn`` (ms), after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - start) * 1000.0
    return out


def summary(samples_ms: np.ndarray) -> dict[str, float]:
    return {
        "median": round(float(np.median(samples_ms)), 4),
        "p95": round(float(np.percentile(samples_ms, 95)), 4),
        "n": len(samples_ms),
    }
