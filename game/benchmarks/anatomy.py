"""Level loading and the vessel tree's geometric queries."""

from __future__ import annotations

import numpy as np

from game.benchmarks.timing import summary, time_ms
from game.sim.level import load_level
from game.sim.level.library import level_files


def run(repeats: int = 20) -> dict:
    """Median/p95 of loading each shipped level, and of lumen queries on its tree (ms)."""
    results: dict = {"load_level_ms": {}, "query_ms": {}}
    for path in level_files():
        level = load_level(path)
        results["load_level_ms"][level.id] = summary(time_ms(lambda p=path: load_level(p), repeats, warmup=1))
        tree = level.tree
        rng = np.random.default_rng(0)
        # Points near the centrelines, as the mechanics and imaging ask: within a radius of a random sample.
        idx = rng.integers(0, tree.sample_count, size=1000)
        branch_of = np.searchsorted([b.first_sample for b in tree.branches], idx, side="right") - 1
        centres = np.array(
            [tree.branches[b].points_mm[i - tree.branches[b].first_sample] for b, i in zip(branch_of, idx, strict=True)]
        )
        points = centres + rng.normal(scale=3.0, size=centres.shape)
        for n in (1, 100, 1000):
            key = f"{level.id}/{n}_points"
            results["query_ms"][key] = summary(time_ms(lambda p=points[:n], t=tree: t.query(p), repeats * 5))
        results.setdefault("samples", {})[level.id] = tree.sample_count
    return results
