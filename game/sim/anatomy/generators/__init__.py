"""Parametric, seeded vessel-tree generators: ``generate(name, params, seed)`` -> list of :class:`VesselSpec`.

Each generator validates its params with a pydantic model (every field has a default, so ``{}`` is valid) and
draws all randomness from one ``numpy.random.default_rng(seed)``: the same name, params and seed always give
the same specs. Names of the branches are stable; levels refer to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pydantic

from game.sim.anatomy.generators import aortic_arch, aorto_iliac
from game.sim.anatomy.spec import VesselSpec


@dataclass(frozen=True)
class Generator:
    """A named generator: its params model and its build function."""

    name: str
    description: str
    params_model: type[pydantic.BaseModel]
    build: Callable[[pydantic.BaseModel, np.random.Generator], list[VesselSpec]]


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator(
            "aorto_iliac",
            "Abdominal aorta from the diaphragm with visceral and renal branches, iliacs and common femorals.",
            aorto_iliac.AortoIliacParams,
            aorto_iliac.build,
        ),
        Generator(
            "aortic_arch",
            "Aortic root, arch (type I-III, normal or bovine), great vessels, optional coronaries and abdomen.",
            aortic_arch.AorticArchParams,
            aortic_arch.build,
        ),
    )
}


def generate(name: str, params: Mapping[str, Any], seed: int) -> list[VesselSpec]:
    """Validate params with the generator's params_model and build with numpy.random.default_rng(seed).

    Raises ``KeyError`` for an unknown generator and ``pydantic.ValidationError`` for bad params.
    """
    if name not in GENERATORS:
        raise KeyError(f"unknown vessel generator {name!r}; known: {', '.join(sorted(GENERATORS))}")
    generator = GENERATORS[name]
    model = generator.params_model.model_validate(dict(params))
    return generator.build(model, np.random.default_rng(seed))
