"""Solvability on unseen anatomy: the autopilot against generated levels, many seeds, varied targets.

``python -m game.benchmarks.solvability [SEEDS] [--jobs N] [--all-targets]`` builds levels from the parametric
generators (each seed a new patient, given the generator's targets in turn, or all of them), with targets a trainee
meets (renal, visceral, contralateral iliac; supra-aortic vessels), lets the
expert autopilot play each, and prints one JSON object: the success rate per generator and, for every failure,
the level and why (which branch it could not enter).
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from game.sim.level import parse_level
from game.sim.runs import autoplay_level


@dataclass(frozen=True)
class Case:
    generator: str
    params: str  # TOML inline-table body for [anatomy.params]
    target: str
    kind: str  # "reach" (the wire's tip), "selective_angiogram" (the catheter's) or "stent" (across a lesion)
    catheter: str


CASES = (
    Case("aorto_iliac", "", "left_renal", "selective_angiogram", "cobra_c2_5f"),
    Case("aorto_iliac", "", "right_renal", "reach", "cobra_c2_5f"),
    Case("aorto_iliac", "", "sma", "reach", "cobra_c2_5f"),
    Case("aorto_iliac", "", "left_common_iliac", "reach", "cobra_c2_5f"),
    Case("aorto_iliac", "", "right_renal", "stent", "cobra_c2_5f"),
    Case("aortic_arch", 'arch_type = "I"', "left_common_carotid", "reach", "berenstein_5f"),
    Case("aortic_arch", 'arch_type = "II"', "brachiocephalic", "reach", "berenstein_5f"),
    Case("aortic_arch", 'arch_type = "I"', "left_subclavian", "reach", "berenstein_5f"),
)


def level_text(case: Case, seed: int) -> str:
    """A complete level file for ``case`` on the patient of ``seed``."""
    instrument = 'instrument = "wire"' if case.kind == "reach" else 'instrument = "catheter"'
    objective = f'branch = "{case.target}"\ndepth_mm = 8\n{instrument}'
    stent = ""
    if case.kind == "stent":  # an ostial stenosis 8-16 mm into the target, a 6 x 18 mm stent to treat it
        objective = "lesion = 1\nmargin_mm = 2"
        stent = '[[instruments]]\nname = "stent"\ndevice = "stent_balloon_6x18"\n'
        stent += f'\n[[lesions]]\nbranch = "{case.target}"\nposition_mm = 12\nlength_mm = 8\nseverity_pct = 70\n'
    return f"""
format = 1
id = "solve-{case.generator}-{case.target}-{seed}"
title = "Generated: {case.target} ({case.generator}, seed {seed})"
procedure = "selective_angiography"
difficulty = 3
briefing = "Generated for the solvability benchmark."

[anatomy]
generator = "{case.generator}"
seed = {seed}
params = {{ {case.params} }}

[access]
branch = "right_common_femoral"
position_mm = 25
direction = "retrograde"

[[instruments]]
name = "wire"
device = "angled_hydrophilic_035"

[[instruments]]
name = "catheter"
device = "{case.catheter}"

{stent}
[objective]
kind = "{case.kind}"
{objective}

[reference]
fluoro_time_s = 120
air_kerma_mGy = 60
kap_Gycm2 = 12
contrast_mL = 20

[budget]
time_limit_s = 900
"""


def solve(case: Case, seed: int) -> dict:
    """The expert autopilot on ``case`` for the patient of ``seed``: its result."""
    level = parse_level(level_text(case, seed).encode(), f"{case.generator}/{case.target}/seed {seed}")
    return autoplay_level(level, "expert", seed=seed)


def _solve(job: tuple[Case, int]) -> tuple[Case, dict]:
    return job[0], solve(*job)


def jobs_for(seeds: int, cases: tuple[Case, ...], all_targets: bool) -> list[tuple[Case, int]]:
    """``seeds`` patients per generator, each given the generator's targets in turn (or every target)."""
    work = []
    for generator in dict.fromkeys(c.generator for c in cases):
        mine = [c for c in cases if c.generator == generator]
        for seed in range(seeds):
            work += [(c, seed) for c in mine] if all_targets else [(mine[seed % len(mine)], seed)]
    return work


def run(seeds: int = 20, cases: tuple[Case, ...] = CASES, jobs: int = 1, all_targets: bool = False) -> dict:
    """``seeds`` patients per generator (``jobs`` processes); success rates per generator and target, every
    failure with why."""
    per_generator: dict[str, list[int]] = {}
    per_target: dict[str, list[int]] = {}
    failures = []
    started = time.perf_counter()
    sim_s = 0.0
    work = jobs_for(seeds, cases, all_targets)
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_solve, work))
    else:
        results = [_solve(job) for job in work]
    for case, result in results:
        sim_s += result["sim_time_s"]
        target = f"{case.generator}/{case.target} {case.kind}"
        for key, tally in ((case.generator, per_generator), (target, per_target)):
            counts = tally.setdefault(key, [0, 0])
            counts[0] += int(result["success"])
            counts[1] += 1
        if not result["success"]:
            failures.append({
                "level": result["level"],
                "outcome": result["outcome"],
                "why": result.get("autopilot_problem") or result["message"],
            })  # fmt: skip
    wall_s = time.perf_counter() - started
    return {
        "success_rate": {g: round(ok / n, 3) for g, (ok, n) in per_generator.items()},
        "runs": {g: n for g, (_, n) in per_generator.items()},
        "success_rate_per_target": {g: round(ok / n, 3) for g, (ok, n) in per_target.items()},
        "failures": failures,
        "sim_time_s": round(sim_s, 1),
        "wall_time_s": round(wall_s, 1),
        "jobs": jobs,
        "speed_x_real_time": round(sim_s / wall_s, 1) if wall_s else None,
    }


def shipped_speed(styles: tuple[str, ...] = ("expert", "careless")) -> dict:
    """Every shipped level autoplayed headless (imaging at the pulse rate): simulated time against wall time."""
    from game.sim.level import load_level
    from game.sim.level.library import level_files

    rows = {}
    for path in level_files():
        level = load_level(path)
        for style in styles:
            started = time.perf_counter()
            result = autoplay_level(level, style, seed=0)
            wall_s = time.perf_counter() - started
            rows[f"{level.definition.id}/{style}"] = {
                "success": result["success"],
                "sim_time_s": result["sim_time_s"],
                "wall_time_s": round(wall_s, 2),
                "speed_x_real_time": round(result["sim_time_s"] / wall_s, 1),
            }
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seeds", nargs="?", type=int, default=20, help="patients per case (seeds 0..N-1)")
    parser.add_argument("--jobs", type=int, default=1, help="processes to run in parallel")
    parser.add_argument("--all-targets", action="store_true", help="every target on every patient")
    parser.add_argument("--shipped", action="store_true", help="instead: speed of autoplay on every shipped level")
    args = parser.parse_args()
    figures = shipped_speed() if args.shipped else run(args.seeds, jobs=args.jobs, all_targets=args.all_targets)
    print(json.dumps(figures, indent=1))
