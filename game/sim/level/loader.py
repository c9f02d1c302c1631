"""Load a level file: read it safely, validate the schema, build the anatomy, check cross-references.

Every problem becomes a :class:`LevelProblem` (file, line where known, message) and :func:`load_level` raises
one :class:`LevelError` holding them all, so the command line can print ``PATH:LINE: message`` lines and never
a traceback.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from game.sim import constants as C
from game.sim.anatomy.spec import LesionSpec, VesselSpec
from game.sim.anatomy.vessel_tree import AnatomyError, VesselTree
from game.sim.devices.catalogue import CATALOGUE, Device, DeviceKind
from game.sim.level.locate import key_lines, line_of
from game.sim.level.schema import LEVEL_FORMAT, LevelFile, ObjectiveKind


@dataclass(frozen=True)
class LevelProblem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


class LevelError(Exception):
    """A level that cannot be loaded; ``problems`` lists every reason found."""

    def __init__(self, problems: list[LevelProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, eq=False)
class Level:
    """A loaded level: the validated definition and its built, immutable anatomy."""

    definition: LevelFile
    tree: VesselTree
    sha256: str
    path: Path | None = None
    devices: dict[str, Device] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def title(self) -> str:
        return self.definition.title

    @cached_property
    def body(self):
        """The patient body the X-rays see, built on first use."""
        from game.sim.anatomy.body import build_body

        patient = self.definition.patient
        return build_body(thickness_ap_mm=patient.thickness_ap_mm, width_mm=patient.width_mm)


def load_level(path: str | Path) -> Level:
    """Read, validate and build the level at ``path``; raise :class:`LevelError` on any problem."""
    path = Path(path)
    data = _read_bytes(path)
    return parse_level(data, str(path), path)


def parse_level(data: bytes, name: str, path: Path | None = None) -> Level:
    """Validate and build a level from the bytes of a level file; ``name`` is used in messages."""
    text = _decode(data, name)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        reason, line = _toml_reason(exc, text)
        problem = LevelProblem(name, line, f"invalid TOML: {reason}")
        raise LevelError([problem]) from None
    lines = key_lines(text)
    _check_format(raw, name, lines, text)
    try:
        definition = LevelFile.model_validate(raw)
    except ValidationError as exc:
        errors = _without_typo_echoes(exc.errors())
        raise LevelError([_problem(name, text, lines, err) for err in errors]) from None
    tree = _build_tree(definition, name, text, lines)
    devices = _cross_check(definition, tree, name, text, lines)
    return Level(definition, tree, hashlib.sha256(data).hexdigest(), path, devices)


def check_level(path: str | Path) -> list[LevelProblem]:
    """All problems of the level at ``path`` (empty when it is valid)."""
    try:
        load_level(path)
    except LevelError as exc:
        return exc.problems
    return []


# --- reading -------------------------------------------------------------------------------------------------
def _read_bytes(path: Path) -> bytes:
    name = str(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise LevelError([LevelProblem(name, None, "is a directory, not a level file")])
        if size > C.MAX_LEVEL_FILE_BYTES:
            limit_kb = C.MAX_LEVEL_FILE_BYTES // 1000
            raise LevelError([LevelProblem(name, None, f"file is {size // 1000} kB, over the {limit_kb} kB limit")])
        with path.open("rb") as f:
            return f.read(C.MAX_LEVEL_FILE_BYTES + 1)
    except FileNotFoundError:
        raise LevelError([LevelProblem(name, None, "no such file")]) from None
    except PermissionError:
        raise LevelError([LevelProblem(name, None, "permission denied")]) from None
    except OSError as exc:
        raise LevelError([LevelProblem(name, None, f"cannot read: {exc.strerror or exc}")]) from None


def _decode(data: bytes, name: str) -> str:
    if len(data) > C.MAX_LEVEL_FILE_BYTES:
        raise LevelError([LevelProblem(name, None, f"file is over the {C.MAX_LEVEL_FILE_BYTES // 1000} kB limit")])
    if not data.strip():
        raise LevelError([LevelProblem(name, None, "file is empty")])
    if b"\x00" in data:
        raise LevelError([LevelProblem(name, None, "file is binary, not a TOML level file")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LevelError([LevelProblem(name, line, "file is not UTF-8 text")]) from None


def _toml_reason(exc: tomllib.TOMLDecodeError, text: str) -> tuple[str, int | None]:
    """The parser's reason without its position, and the line (Python 3.11's tomllib only puts it in the text)."""
    message = str(exc)
    found = re.search(r"\(at line (\d+), column \d+\)", message)
    if found:
        return message[: found.start()].strip(), int(found.group(1))
    if "end of document" in message:
        return message.split(" (at ")[0], text.count("\n") + 1
    return message, None


def _check_format(raw: dict, name: str, lines: dict, text: str) -> None:
    version = raw.get("format")
    if version is None:
        raise LevelError([LevelProblem(name, 1, f"missing 'format = {LEVEL_FORMAT}' (the level format version)")])
    if version != LEVEL_FORMAT or isinstance(version, bool):
        raise LevelError(
            [
                LevelProblem(
                    name,
                    line_of(text, ("format",), lines),
                    f"unsupported format {version!r}: this Lumen reads format {LEVEL_FORMAT}",
                )
            ]
        )


# --- schema errors -------------------------------------------------------------------------------------------
def _without_typo_echoes(errors: list) -> list:
    """Drop "missing field x" when the same table has an unknown key that is a likely typo of x."""
    unknown = {(tuple(e["loc"][:-1]), str(e["loc"][-1])) for e in errors if e["type"] == "extra_forbidden"}

    def echoed(err: dict) -> bool:
        table, key = tuple(err["loc"][:-1]), str(err["loc"][-1])
        typos = [k for t, k in unknown if t == table]
        return err["type"] == "missing" and bool(difflib.get_close_matches(key, typos, n=1, cutoff=0.6))

    return [e for e in errors if not echoed(e)]


def _problem(name: str, text: str, lines: dict, err: dict) -> LevelProblem:
    loc = tuple(err["loc"])
    where = _describe(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = loc[-1]
        known = _known_keys(loc[:-1])
        hint = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else f" (known keys: {', '.join(sorted(known))})"
        message = f"unknown key '{key}' in {_describe(loc[:-1])}{suggestion}"
    elif kind == "missing":
        message = f"missing required field '{loc[-1]}' in {_describe(loc[:-1])}"
        loc = loc[:-1]
    else:
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        text_msg = err["msg"].removeprefix("Value error, ")
        message = f"{where}: {text_msg[0].lower()}{text_msg[1:]}{shown}"
    return LevelProblem(name, line_of(text, loc, lines) or _fallback_line(loc, lines), message)


def _fallback_line(loc: tuple, lines: dict) -> int | None:
    return lines.get(loc[:1]) if loc else None


def _describe(loc: tuple) -> str:
    """A readable place: ('lesions', 0, 'severity_pct') -> "[[lesions]] #1 'severity_pct'"."""
    if not loc:
        return "the top level"
    parts: list[str] = []
    table: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts = [f"[[{'.'.join(table)}]] #{item + 1}"]
        elif item in ("function-after", "function-before"):
            continue
        else:
            table.append(str(item))
            parts.append(str(item))
    head, *rest = parts
    if head.startswith("[["):
        return head + (f" '{'.'.join(rest)}'" if rest else "")
    return f"'{'.'.join(parts)}'"


def _known_keys(loc: tuple) -> list[str]:
    model: Any = LevelFile
    for item in loc:
        if isinstance(item, int):
            continue
        annotation = model.model_fields[item].annotation
        model = _model_in(annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_in(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


# --- anatomy and cross-references ----------------------------------------------------------------------------
def _build_tree(definition: LevelFile, name: str, text: str, lines: dict) -> VesselTree:
    anatomy = definition.anatomy
    specs: list[VesselSpec] = []
    if anatomy.generator is not None:
        specs.extend(_generate(anatomy, name, text, lines))
    explicit_index: dict[str, int] = {}
    for i, vessel in enumerate(anatomy.vessels):
        explicit_index[vessel.name] = i
        points = tuple((float(x), float(y), float(z)) for x, y, z in vessel.points_mm)
        specs.append(VesselSpec(vessel.name, vessel.parent, points, vessel.radii(), vessel.flow_mL_per_min))
    lesions = [LesionSpec(le.branch, le.position_mm, le.length_mm, le.severity_pct) for le in definition.lesions]
    try:
        return VesselTree(specs, lesions)
    except AnatomyError as exc:
        if exc.lesion is not None:
            loc: tuple = ("lesions", exc.lesion)
        elif exc.branch in explicit_index:
            loc = ("anatomy", "vessels", explicit_index[exc.branch])
            if exc.field == "radii_mm" and (*loc, "radii_mm") not in lines:
                loc = (*loc, "radius_mm")
            elif exc.field is not None:
                loc = (*loc, exc.field)
        else:
            loc = ("anatomy",)
        raise LevelError([LevelProblem(name, line_of(text, loc, lines), str(exc))]) from None


def _generate(anatomy, name: str, text: str, lines: dict) -> list[VesselSpec]:
    from game.sim.anatomy.generators import GENERATORS, generate

    if anatomy.generator not in GENERATORS:
        hint = difflib.get_close_matches(anatomy.generator, list(GENERATORS), n=1)
        known = f"did you mean '{hint[0]}'?" if hint else f"known: {', '.join(sorted(GENERATORS))}"
        message = f"unknown anatomy generator '{anatomy.generator}' ({known})"
        raise LevelError([LevelProblem(name, line_of(text, ("anatomy", "generator"), lines), message)])
    try:
        return generate(anatomy.generator, anatomy.params, anatomy.seed)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                known = list(GENERATORS[anatomy.generator].params_model.model_fields)
                hint = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                more = f"did you mean '{hint[0]}'?" if hint else f"known: {', '.join(sorted(known))}"
                message = f"unknown parameter '{key}' for generator '{anatomy.generator}' ({more})"
            else:
                message = f"anatomy.params.{key}: {err['msg']} (got {err.get('input')!r})"
            line = line_of(text, ("anatomy", "params", *err["loc"]), lines)
            problems.append(LevelProblem(name, line, message))
        raise LevelError(problems) from None


def _cross_check(definition: LevelFile, tree: VesselTree, name: str, text: str, lines: dict) -> dict[str, Device]:
    problems: list[LevelProblem] = []

    def add(loc: tuple, message: str) -> None:
        problems.append(LevelProblem(name, line_of(text, loc, lines), message))

    def branch_hint(branch: str) -> str:
        hint = difflib.get_close_matches(branch, list(tree.by_name), n=1, cutoff=0.6)
        return f" (did you mean '{hint[0]}'?)" if hint else ""

    access = definition.access
    if access.branch not in tree:
        add(("access", "branch"), f"access branch '{access.branch}' does not exist{branch_hint(access.branch)}")
    elif access.position_mm > tree[access.branch].length_mm:
        length = tree[access.branch].length_mm
        add(
            ("access", "position_mm"),
            f"access position {access.position_mm:g} mm lies beyond the end of "
            f"'{access.branch}' ({length:.1f} mm long)",
        )

    devices: dict[str, Device] = {}
    for i, instrument in enumerate(definition.instruments):
        if instrument.device not in CATALOGUE:
            hint = difflib.get_close_matches(instrument.device, list(CATALOGUE), n=1, cutoff=0.5)
            more = f"did you mean '{hint[0]}'?" if hint else "see docs/levels.md for the catalogue"
            add(("instruments", i, "device"), f"unknown instrument '{instrument.device}' ({more})")
        else:
            devices[instrument.name] = CATALOGUE[instrument.device]

    objective = definition.objective
    if objective.branch is not None and objective.branch not in tree:
        add(
            ("objective", "branch"),
            f"objective branch '{objective.branch}' does not exist{branch_hint(objective.branch)}",
        )
    if objective.instrument is not None and objective.instrument not in {i.name for i in definition.instruments}:
        add(
            ("objective", "instrument"),
            f"objective instrument '{objective.instrument}' is not among the level's [[instruments]]",
        )
    if objective.kind == ObjectiveKind.STENT:
        if objective.lesion > len(definition.lesions):
            add(
                ("objective", "lesion"),
                f"objective names lesion {objective.lesion}, but the level has {len(definition.lesions)}",
            )
        if not any(d.kind == DeviceKind.STENT for d in devices.values()):
            add(("objective", "kind"), "a stent objective needs a stent among the [[instruments]]")
    if problems:
        raise LevelError(problems)
    return devices
