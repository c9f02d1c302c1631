"""The level file schema (TOML, ``format = 1``): one pydantic model per table, every field with its unit.

``docs/levels.md`` documents each field for instructors; keep the two in step. Cross-references that need the
built anatomy (a branch that must exist, a lesion inside its branch) are checked by the loader afterwards.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from game.sim import constants as C
from game.sim.anatomy.body import NOMINAL_THICKNESS_AP_MM, NOMINAL_WIDTH_MM, THICKNESS_RANGE_MM, WIDTH_RANGE_MM

LEVEL_FORMAT = 1

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=48)]
Point = Annotated[list[float], Field(min_length=3, max_length=3)]
Coordinate = Annotated[float, Field(ge=-C.MAX_COORDINATE_MM, le=C.MAX_COORDINATE_MM)]
Radius = Annotated[float, Field(gt=0.0, le=C.MAX_VESSEL_RADIUS_MM)]


class Strict(BaseModel):
    """Base of every table: unknown keys are errors (likely typos), NaN and infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Procedure(StrEnum):
    TUTORIAL = "tutorial"
    DIAGNOSTIC_ANGIOGRAPHY = "diagnostic_angiography"
    SELECTIVE_ANGIOGRAPHY = "selective_angiography"
    ANGIOPLASTY_STENTING = "angioplasty_stenting"
    CORONARY_ANGIOGRAPHY = "coronary_angiography"
    CORONARY_INTERVENTION = "coronary_intervention"


class Patient(Strict):
    description: str = Field("Adult patient", max_length=300, description="shown in the briefing")
    thickness_ap_mm: float = Field(
        NOMINAL_THICKNESS_AP_MM,
        ge=THICKNESS_RANGE_MM[0],
        le=THICKNESS_RANGE_MM[1],
        description="front-to-back abdominal thickness",
    )
    width_mm: float = Field(
        NOMINAL_WIDTH_MM, ge=WIDTH_RANGE_MM[0], le=WIDTH_RANGE_MM[1], description="side-to-side width"
    )
    weight_kg: float | None = Field(None, ge=2.0, le=300.0, description="shown in the briefing")


class Vessel(Strict):
    name: Name = Field(description="branch name: lowercase letters, digits and _")
    parent: Name | None = Field(None, description="the branch it leaves from; omit for the root")
    points_mm: list[Annotated[list[Coordinate], Field(min_length=3, max_length=3)]] = Field(
        min_length=2, description="centreline points [x, y, z], origin first"
    )
    radius_mm: Radius | None = Field(None, description="one radius for the whole branch")
    radii_mm: list[Radius] | None = Field(None, description="one radius per point")
    flow_mL_per_min: float | None = Field(
        None, gt=0.0, le=20000.0, description="blood flow entering the branch; default: Murray's law"
    )

    @model_validator(mode="after")
    def _one_radius_form(self) -> Vessel:
        if (self.radius_mm is None) == (self.radii_mm is None):
            raise ValueError("give either radius_mm (one value) or radii_mm (one per point), not both or neither")
        if self.radii_mm is not None and len(self.radii_mm) != len(self.points_mm):
            raise ValueError(f"radii_mm has {len(self.radii_mm)} values for {len(self.points_mm)} points")
        return self

    def radii(self) -> tuple[float, ...]:
        return tuple(self.radii_mm) if self.radii_mm is not None else (self.radius_mm,) * len(self.points_mm)


class Anatomy(Strict):
    generator: str | None = Field(None, description="name of a parametric generator")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seed of the generator's random variation")
    params: dict[str, Any] = Field(default_factory=dict, description="the generator's parameters")
    vessels: list[Vessel] = Field(default_factory=list, max_length=200, description="explicit branches")

    @model_validator(mode="after")
    def _something_to_build(self) -> Anatomy:
        if self.generator is None and not self.vessels:
            raise ValueError("give a generator, explicit [[anatomy.vessels]], or both")
        if self.generator is None and self.params:
            raise ValueError("params given without a generator")
        return self


class Lesion(Strict):
    branch: Name = Field(description="the branch the lesion is on")
    position_mm: float = Field(ge=0.0, le=C.MAX_COORDINATE_MM, description="centre, along the branch from its origin")
    length_mm: float = Field(gt=0.0, le=200.0, description="length along the branch")
    severity_pct: float = Field(gt=0.0, lt=100.0, description="diameter stenosis at the centre")


class Direction(StrEnum):
    RETROGRADE = "retrograde"
    ANTEGRADE = "antegrade"


class Access(Strict):
    branch: Name = Field(description="the branch the sheath is in")
    position_mm: float = Field(ge=0.0, le=C.MAX_COORDINATE_MM, description="where the sheath enters, along the branch")
    direction: Direction = Field(
        Direction.RETROGRADE, description="retrograde: toward the branch origin (against the flow); antegrade: with it"
    )
    sheath_fr: float = Field(6.0, ge=4.0, le=10.0, description="sheath size in French")


class Instrument(Strict):
    name: Name = Field(description="what the player and replays call it, e.g. 'wire'")
    device: str = Field(description="a catalogue name, e.g. 'angled_hydrophilic_035'")


class ObjectiveKind(StrEnum):
    REACH = "reach"
    SELECTIVE_ANGIOGRAM = "selective_angiogram"
    STENT = "stent"


class Objective(Strict):
    kind: ObjectiveKind = Field(description="what counts as done (see the objective table above)")
    branch: Name | None = Field(None, description="target branch (reach, selective_angiogram)")
    depth_mm: float = Field(10.0, ge=0.0, le=500.0, description="how far into the branch the tip must be")
    instrument: Name | None = Field(None, description="whose tip counts; default: any")
    lesion: int = Field(1, ge=1, description="stent: which [[lesions]] entry, counting from 1")
    margin_mm: float = Field(2.0, ge=0.0, le=20.0, description="stent: cover the lesion by this much on each side")
    description: str = Field("", max_length=300, description="the task in one sentence, shown in the game")

    @model_validator(mode="after")
    def _needs_branch(self) -> Objective:
        if self.kind in (ObjectiveKind.REACH, ObjectiveKind.SELECTIVE_ANGIOGRAM) and self.branch is None:
            raise ValueError(f"a '{self.kind.value}' objective needs a branch")
        return self


class Reference(Strict):
    """What a competent operator uses on this level; the score compares the run with these."""

    fluoro_time_s: float = Field(gt=0.0, le=36000.0, description="fluoroscopy time")
    air_kerma_mGy: float = Field(gt=0.0, le=20000.0, description="reference air kerma Ka,r at the IRP")
    kap_Gycm2: float = Field(gt=0.0, le=5000.0, description="kerma-area product")
    contrast_mL: float = Field(0.0, ge=0.0, le=C.MAX_TOTAL_CONTRAST_ML, description="contrast volume")


class Budget(Strict):
    time_limit_s: float = Field(1800.0, gt=0.0, le=14400.0, description="the run fails when it runs out")
    contrast_mL: float = Field(C.MAX_TOTAL_CONTRAST_ML, ge=0.0, le=500.0, description="contrast available")
    notify_air_kerma_mGy: list[Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=list, description="extra dose notifications (Ka,r thresholds)"
    )


class Detector(StrEnum):
    FLAT_PANEL = "flat_panel"
    IMAGE_INTENSIFIER = "image_intensifier"


class Imaging(Strict):
    detector: Detector = Field(Detector.FLAT_PANEL, description="square flat panel or round image intensifier")
    fov_cm: float = Field(37.0, ge=10.0, le=48.0, description="starting field of view (detector side)")
    lao_deg: float = Field(0.0, ge=-120.0, le=120.0, description="starting LAO (+) / RAO (-) angle")
    cra_deg: float = Field(0.0, ge=-50.0, le=50.0, description="starting CRA (+) / CAU (-) angle")
    table_x_mm: float = Field(0.0, ge=-300.0, le=300.0, description="table pan: region of interest, left-right")
    table_z_mm: float = Field(0.0, ge=-1000.0, le=1000.0, description="table pan: region of interest, head-foot")
    contrast_mgI_per_mL: float = Field(300.0, ge=50.0, le=400.0, description="concentration of the contrast agent")


class Staff(Strict):
    """Radiation protection of the operator, for the staff-dose estimate."""

    lead_apron: bool = Field(True, description="the operator wears a lead apron (body dose behind it)")
    ceiling_shield: bool = Field(False, description="a ceiling-suspended lead shield is in place (eye dose)")
    operator_distance_mm: float = Field(
        C.OPERATOR_REFERENCE_DISTANCE_MM, ge=300.0, le=3000.0, description="operator's distance from the beam entry"
    )


class LevelFile(Strict):
    format: int = Field(description=f"level format version; this Lumen reads {LEVEL_FORMAT}")
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)] = Field(
        description="unique id: lowercase letters, digits, - and _; used by `lumen play ID` and replays"
    )
    title: str = Field(min_length=1, max_length=80, description="shown in the level list")
    procedure: Procedure = Field(description="the kind of procedure, for the level list and the records")
    difficulty: int = Field(ge=1, le=5, description="1 (first steps) to 5 (expert)")
    briefing: str = Field(min_length=1, max_length=4000, description="the case: patient, indication, task")
    patient: Patient = Field(default_factory=Patient, description="the [patient] table")
    anatomy: Anatomy = Field(description="the [anatomy] table")
    lesions: list[Lesion] = Field(default_factory=list, max_length=20, description="[[lesions]] entries")
    access: Access = Field(description="the [access] table")
    instruments: list[Instrument] = Field(min_length=1, max_length=8, description="[[instruments]] entries")
    objective: Objective = Field(description="the [objective] table")
    reference: Reference = Field(description="the [reference] table")
    budget: Budget = Field(default_factory=Budget, description="the [budget] table")
    imaging: Imaging = Field(default_factory=Imaging, description="the [imaging] table")
    staff: Staff = Field(default_factory=Staff, description="the [staff] table")

    @model_validator(mode="after")
    def _unique_instrument_names(self) -> LevelFile:
        names = [i.name for i in self.instruments]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"instrument names must be unique: {', '.join(duplicates)} given twice")
        return self
