"""Parametric vessel generators: valid, deterministic, seed-varied trees with anatomically sane branches."""

import itertools

import numpy as np
import pydantic
import pytest

from game.sim.anatomy.centreline import resample_centreline
from game.sim.anatomy.generators import GENERATORS, generate
from game.sim.anatomy.generators.aortic_arch import ArchType
from game.sim.anatomy.spec import VesselSpec
from game.sim.anatomy.vessel_tree import VesselTree

SEEDS = range(32)
ARCH_CASES = [
    {"arch_type": t, "variant": v, "coronaries": c}
    for t, v, c in itertools.product(("I", "II", "III"), ("normal", "bovine"), (False, True))
]
CASES = [("aorto_iliac", {}), ("aorto_iliac", {"iliac_tortuosity": 1.0})] + [("aortic_arch", p) for p in ARCH_CASES]
ABDOMINAL_NAMES = {
    "abdominal_aorta",
    "coeliac",
    "sma",
    "left_renal",
    "right_renal",
    *(
        f"{side}_{vessel}"
        for side in ("left", "right")
        for vessel in ("common_iliac", "external_iliac", "internal_iliac", "common_femoral")
    ),
}
ARCH_NAMES = {
    "ascending_aorta",
    "aortic_arch",
    "descending_aorta",
    "brachiocephalic",
    "right_common_carotid",
    "right_subclavian",
    "left_common_carotid",
    "left_subclavian",
}
CORONARY_NAMES = {"left_main", "lad", "lcx", "rca"}
CCA_DIAMETER_MM = 6.5  # DOMAIN.md section 6


def points(spec: VesselSpec) -> np.ndarray:
    return np.asarray(spec.points_mm, dtype=float)


def distance_to_polyline(p: np.ndarray, line: np.ndarray) -> float:
    a, b = line[:-1], line[1:]
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.einsum("ij,ij->i", ab, ab), 0.0, 1.0)
    return float(np.min(np.linalg.norm(a + t[:, None] * ab - p, axis=1)))


def check_specs(specs: list[VesselSpec]) -> None:
    """Structural validity demanded of every generator output."""
    by_name = {}
    roots = [s for s in specs if s.parent is None]
    assert len(roots) == 1 and specs[0] is roots[0]
    assert roots[0].flow_mL_per_min is not None and roots[0].flow_mL_per_min > 0
    for spec in specs:
        assert spec.name not in by_name, f"duplicate {spec.name}"
        assert spec.name.isidentifier() and spec.name == spec.name.lower()
        p = points(spec)
        r = np.asarray(spec.radii_mm)
        assert p.shape == (len(r), 3) and len(r) >= 2
        assert np.all(np.isfinite(p)) and np.all(np.isfinite(r))
        assert np.all((r >= 0.5) & (r <= 20.0)), spec.name
        steps = np.linalg.norm(np.diff(p, axis=0), axis=1)
        assert steps.min() >= 2.0, f"{spec.name}: segment of {steps.min():.2f} mm"
        assert steps.sum() >= 15.0, f"{spec.name}: only {steps.sum():.1f} mm long"
        if spec.parent is not None:
            assert spec.parent in by_name, f"{spec.name}: parent {spec.parent} missing or after it"
            assert spec.flow_mL_per_min is None
            parent = points(by_name[spec.parent])
            assert distance_to_polyline(p[0], parent) < 0.5, f"{spec.name} does not start on {spec.parent}"
        by_name[spec.name] = spec


def check_smooth(spec: VesselSpec) -> None:
    """No kinks: consecutive control segments turn by less than 60 degrees."""
    d = np.diff(points(spec), axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    cos = np.einsum("ij,ij->i", d[:-1], d[1:])
    assert np.all(cos > np.cos(np.radians(60.0))), f"{spec.name}: kink of {np.degrees(np.arccos(cos.min())):.0f} deg"


def min_curvature_radius_mm(spec: VesselSpec) -> float:
    """Tightest bend of the centreline the vessel tree will fit through the control points."""
    p, _, _ = resample_centreline(points(spec), np.asarray(spec.radii_mm), 1.0)
    d = np.diff(p, axis=0)
    step = np.linalg.norm(d, axis=1)
    d /= step[:, None]
    turn = np.arccos(np.clip(np.einsum("ij,ij->i", d[:-1], d[1:]), -1.0, 1.0))
    return float(1.0 / max(np.max(turn / step[:-1]), 1e-9))


@pytest.mark.parametrize(("name", "params"), CASES)
def test_every_seed_gives_a_valid_smooth_tree(name, params):
    for seed in SEEDS:
        specs = generate(name, params, seed)
        check_specs(specs)
        for spec in specs:
            check_smooth(spec)
            floor = 12.0 if spec.name.endswith("aorta") else 5.0
            assert min_curvature_radius_mm(spec) > max(floor, spec.radii_mm[0]), spec.name


def test_branch_names_are_the_documented_ones():
    assert {s.name for s in generate("aorto_iliac", {}, 0)} >= ABDOMINAL_NAMES
    full = {s.name for s in generate("aortic_arch", {"coronaries": True}, 0)}
    assert full >= ABDOMINAL_NAMES | ARCH_NAMES | CORONARY_NAMES
    alone = {s.name for s in generate("aortic_arch", {"include_abdomen": False}, 0)}
    assert alone == ARCH_NAMES
    bovine = {s.name: s for s in generate("aortic_arch", {"variant": "bovine"}, 0)}
    assert bovine["left_common_carotid"].parent == "brachiocephalic"
    assert bovine["abdominal_aorta"].parent == "descending_aorta"


def test_the_lead_vessel_tree_accepts_the_output():
    for name, params in CASES[::3]:
        tree = VesselTree(generate(name, params, 5))
        assert tree.total_length_mm > 500.0


@pytest.mark.parametrize(("name", "params"), CASES[:4])
def test_same_seed_same_tree_and_seeds_differ(name, params):
    a, b = generate(name, params, 7), generate(name, params, 7)
    assert a == b
    others = [generate(name, params, s) for s in (8, 9)]
    for other in others:
        assert [s.name for s in other] == [s.name for s in a]
        shift = max(
            np.abs(points(x) - points(y)).max()
            for x, y in zip(a, other, strict=True)
            if len(x.points_mm) == len(y.points_mm)
        )
        assert shift > 2.0 or any(len(x.points_mm) != len(y.points_mm) for x, y in zip(a, other, strict=True))


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_zero_variation_is_the_same_tree_for_every_seed(name):
    params = {"variation_amount": 0.0, "iliac_tortuosity": 0.5}
    reference = generate(name, params, 0)
    for seed in (1, 2, 99):
        assert generate(name, params, seed) == reference


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_bad_params_are_rejected(name):
    with pytest.raises(pydantic.ValidationError):
        generate(name, {"no_such_param": 1}, 0)
    with pytest.raises(pydantic.ValidationError):
        generate(name, {"renal_height_mm": 500.0}, 0)
    with pytest.raises(pydantic.ValidationError):
        generate(name, {"variation_amount": -1.0}, 0)
    with pytest.raises(KeyError):
        generate("no_such_generator", {}, 0)


def test_params_models_document_every_field():
    for generator in GENERATORS.values():
        assert generator.params_model.model_config.get("extra") == "forbid"
        generator.params_model()  # every field has a default
        for field_name, field in generator.params_model.model_fields.items():
            assert field.description, field_name
            if field.annotation is float:
                bounds = {type(m).__name__ for m in field.metadata}
                assert {"Ge", "Le"} <= bounds, field_name
        with pytest.raises(pydantic.ValidationError):
            generate("aortic_arch", {"arch_type": "IV"}, 0)


def first_direction(spec: VesselSpec, length_mm: float = 20.0) -> np.ndarray:
    """Displacement from the origin to the point ``length_mm`` along the control polyline."""
    p = points(spec)
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(p, axis=0), axis=1))])
    end = np.array([np.interp(length_mm, s, p[:, i]) for i in range(3)])
    return end - p[0]


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_abdominal_branches_leave_where_they_should(name):
    for seed in range(12):
        by_name = {s.name: s for s in generate(name, {}, seed)}
        for side, sign in (("left", 1), ("right", -1)):
            renal = by_name[f"{side}_renal"]
            d = first_direction(renal)
            assert abs(d[0]) > abs(d[2]) and np.sign(d[0]) == sign
            assert 90.0 <= renal.points_mm[0][2] <= 120.0  # L1-L2
            femoral = points(by_name[f"{side}_common_femoral"])
            bifurcation = points(by_name["abdominal_aorta"])[-1]
            assert np.all(femoral[:, 2] < bifurcation[2] - 80.0)
            assert np.all(femoral[:, 1] < bifurcation[1] - 25.0)  # anterior
            assert np.sign(femoral[:, 0].mean()) == sign
        sma = by_name["sma"]
        takeoff = first_direction(sma, 6.0)
        assert -takeoff[1] > abs(takeoff[2]) and -takeoff[1] > abs(takeoff[0])  # anteriorly first
        run = points(sma)[-1] - points(sma)[2]
        assert -run[2] > 2.0 * abs(run[1])  # then caudally
        assert by_name["coeliac"].points_mm[0][2] > sma.points_mm[0][2] + 7.0
        assert first_direction(by_name["coeliac"], 10.0)[1] < -7.0


@pytest.mark.parametrize("seed", range(12))
def test_arch_type_three_puts_the_great_vessels_lower(seed):
    drops = {}
    for arch_type in ("I", "II", "III"):
        by_name = {s.name: s for s in generate("aortic_arch", {"arch_type": arch_type}, seed)}
        top = points(by_name["aortic_arch"])[:, 2].max()
        drops[arch_type] = top - by_name["brachiocephalic"].points_mm[0][2]
    assert drops["III"] > drops["I"] + 5.0
    assert drops["III"] > drops["II"]


@pytest.mark.parametrize("arch_type", ["I", "II", "III"])
def test_textbook_arch_types_match_their_definition(arch_type: ArchType):
    by_name = {s.name: s for s in generate("aortic_arch", {"arch_type": arch_type, "variation_amount": 0}, 0)}
    top = points(by_name["aortic_arch"])[:, 2].max()
    drop_in_diameters = (top - by_name["brachiocephalic"].points_mm[0][2]) / CCA_DIAMETER_MM
    low, high = {"I": (0.0, 1.0), "II": (1.0, 2.0), "III": (2.0, 10.0)}[arch_type]
    assert low <= drop_in_diameters < high


def test_arch_anatomy_is_in_place():
    for seed in range(8):
        by_name = {s.name: s for s in generate("aortic_arch", {"coronaries": True}, seed)}
        ascending, descending = points(by_name["ascending_aorta"]), points(by_name["descending_aorta"])
        assert ascending[:, 0].mean() < 0 < descending[:, 0].mean()  # ascending right, descending left
        assert ascending[:, 1].mean() < descending[:, 1].mean()  # ascending anterior
        assert 340 <= points(by_name["aortic_arch"])[:, 2].max() <= 390
        assert points(by_name["lad"])[-1][2] < points(by_name["lad"])[0][2] - 40  # down toward the apex
        assert points(by_name["lcx"])[-1][1] > points(by_name["lcx"])[0][1] + 30  # posterior in the AV groove
        assert points(by_name["left_subclavian"])[-1][0] > 60 and points(by_name["right_subclavian"])[-1][0] < -60
        for carotid in ("left_common_carotid", "right_common_carotid"):
            assert points(by_name[carotid])[-1][2] > 450
