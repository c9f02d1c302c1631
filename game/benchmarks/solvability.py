"""Solvability on unseen anatomy: the autopilot against generated levels, many seeds, varied targets.

``python -m game.benchmarks.solvability [SEEDS]`` builds levels from the parametric generators (each seed a new
patient), with targets a trainee meets (renal, visceral, contralateral iliac; supra-aortic vessels), lets the
expert autopilot play each, and prints one JSON object: the success rate per generator and, for every failure,
the level and why (which branch it could not enter).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass

from game.sim.level import parse_level
from game.sim.runs import autoplay_level


@dataclass(frozen=True)
class Case:
    generator: str
    params: str  # TOML inline-table body for [anatomy.params]
    target: str
    kind: str  # "reach" (the wire's tip) or "selective_angiogram" (the catheter's)
    catheter: str


CASES = (
    Case("aorto_iliac", "", "left_renal", "selective_angiogram", "cobra_c2_5f"),
    Case("aorto_iliac", "", "right_renal", "reach", "cobra_c2_5f"),
    Case("aorto_iliac", "", "sma", "reach", "cobra_c2_5f"),
    Case("aorto_iliac", "", "left_common_iliac", "reach", "cobra_c2_5f"),
    Case("aortic_arch", 'arch_type = "I"', "left_common_carotid", "reach", "berenstein_5f"),
    Case("aortic_arch", 'arch_type = "II"', "brachiocephalic", "reach", "berenstein_5f"),
    Case("aortic_arch", 'arch_type = "I"', "left_subclavian", "reach", "berenstein_5f"),
)


def level_text(case: Case, seed: int) -> str:
    """A complete level file for ``case`` on the patient of ``seed``."""
    instrument = 'instrument = "wire"' if case.kind == "reach" else 'instrument = "catheter"'
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

[objective]
kind = "{case.kind}"
branch = "{case.target}"
depth_mm = 8
{instrument}

[reference]
fluoro_time_s = 120
air_kerma_mGy = 60
kap_Gycm2 = 12
contrast_mL = 20

[budget]
time_limit_s = 900
"""


def run(seeds: int = 20, cases: tuple[Case, ...] = CASES) -> dict:
    per_generator: dict[str, list[int]] = {}
    failures = []
    started = time.perf_counter()
    sim_s = 0.0
    for case in cases:
        for seed in range(seeds):
            level = parse_level(level_text(case, seed).encode(), f"{case.generator}/{case.target}/seed {seed}")
            result = autoplay_level(level, "expert", seed=seed)
            sim_s += result["sim_time_s"]
            tally = per_generator.setdefault(case.generator, [0, 0])
            tally[0] += int(result["success"])
            tally[1] += 1
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
        "failures": failures,
        "sim_time_s": round(sim_s, 1),
        "wall_time_s": round(wall_s, 1),
        "speed_x_real_time": round(sim_s / wall_s, 1) if wall_s else None,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20), indent=1))
