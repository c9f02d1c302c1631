"""Regenerate the reference tables of docs/levels.md from the code: the schema, the generators, the catalogue.

Usage: python tools/gen_level_reference.py [--check]
The tables sit between the markers ``<!-- reference:begin -->`` and ``<!-- reference:end -->``; with --check the
script exits 1 when the file is out of date (the test suite runs it so the guide never drifts from the code).
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from game.sim.devices.catalogue import CATALOGUE
from game.sim.level import schema

DOC = Path(__file__).resolve().parent.parent / "docs" / "levels.md"
BEGIN, END = "<!-- reference:begin -->", "<!-- reference:end -->"

TABLES: list[tuple[str, type[BaseModel]]] = [
    ("top level", schema.LevelFile),
    ("[patient]", schema.Patient),
    ("[anatomy]", schema.Anatomy),
    ("[[anatomy.vessels]]", schema.Vessel),
    ("[[lesions]]", schema.Lesion),
    ("[access]", schema.Access),
    ("[[instruments]]", schema.Instrument),
    ("[objective]", schema.Objective),
    ("[reference]", schema.Reference),
    ("[budget]", schema.Budget),
    ("[imaging]", schema.Imaging),
    ("[staff]", schema.Staff),
]


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) is Annotated:
        return _type_name(get_args(annotation)[0])
    origin = get_origin(annotation)
    if origin is Literal:
        return " / ".join(f'"{a}"' if isinstance(a, str) else str(a) for a in get_args(annotation))
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is dict:
        return "table"
    args = [a for a in get_args(annotation) if a is not type(None) and not isinstance(a, FieldInfo)]
    if origin is not None and args:
        names = list(dict.fromkeys(_type_name(a) for a in args))
        return " or ".join(names)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " / ".join(f'"{m.value}"' for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    return {int: "integer", float: "number", str: "text", bool: "true/false"}.get(
        annotation, getattr(annotation, "__name__", str(annotation))
    )


def _bounds(field) -> str:
    parts = []
    for item in field.metadata:
        for attr, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(item, attr, None)
            if value is not None:
                parts.append(f"{sign} {value}" if isinstance(value, int) else f"{sign} {value:g}")
    return ", ".join(parts)


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        return "empty" if value in ([], {}) else "see its table"
    value = field.default
    if value is None or value is PydanticUndefined:
        return "none"
    return f"`{value.value if isinstance(value, Enum) else value}`"


def model_table(title: str, model: type[BaseModel]) -> str:
    rows = [f"#### {title}", "", "| key | type | default | limits | meaning |", "|---|---|---|---|---|"]
    for key, field in model.model_fields.items():
        meaning = (field.description or "").replace("|", "/")
        rows.append(f"| `{key}` | {_type_name(field.annotation)} | {_default(field)} | {_bounds(field)} | {meaning} |")
    return "\n".join(rows)


def generator_tables() -> str:
    from game.sim.anatomy.generators import GENERATORS

    out = []
    for name, generator in sorted(GENERATORS.items()):
        out.append(model_table(f'generator "{name}": {generator.description}', generator.params_model))
    return "\n\n".join(out)


def catalogue_table() -> str:
    rows = [
        "| device | kind | what | outer diameter (mm) | length (mm) | EI (N*mm^2) | for |",
        "|---|---|---|---|---|---|---|",
    ]
    for d in CATALOGUE.values():
        rows.append(
            f"| `{d.name}` | {d.kind.value} | {d.title} | {d.outer_diameter_mm:.2f} | {d.length_mm:g} | "
            f"{d.bending_stiffness_N_mm2:g} | {'; '.join(d.uses)} |"
        )
    return "\n".join(rows)


def reference() -> str:
    parts = ["### Every field", ""]
    parts += [model_table(title, model) + "\n" for title, model in TABLES]
    parts += ["### Anatomy generators and their parameters (`[anatomy.params]`)", "", generator_tables(), ""]
    parts += ["### Device catalogue (`device = ...` in `[[instruments]]`)", "", catalogue_table()]
    return "\n".join(parts)


def render(text: str) -> str:
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{reference()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in argv:
        if current != wanted:
            print(f"{DOC} is out of date: run python tools/gen_level_reference.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
