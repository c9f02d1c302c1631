"""The patient body: analytic chords against hand-computed cases, containment, and radiographic sanity."""

import itertools

import numpy as np
import pytest

from game.sim import constants as C
from game.sim.anatomy.body import (
    Body,
    Ellipsoid,
    EllipticCylinder,
    ShapeStack,
    build_body,
    frame,
    half_space,
    vertebra_levels_mm,
)
from game.sim.materials import (
    MATERIALS,
    Material,
    linear_attenuation_per_mm,
    linear_attenuation_table_per_mm,
)

SOFT = Material.SOFT_TISSUE
MU_70 = linear_attenuation_table_per_mm(70.0)


@pytest.fixture(scope="module")
def body() -> Body:
    return build_body()


def sphere(radius=10.0, centre=(0.0, 0.0, 0.0), clips=()):
    return Ellipsoid(name="s", material=SOFT, container=None, centre_mm=centre, semi_axes_mm=(radius,) * 3, clips=clips)


def unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


def chord(shape, origin, direction):
    return float(shape.chord_length_mm(np.asarray(origin, float), unit(direction)[None, :])[0])


# --- chords against hand-computed cases ---------------------------------------------------------------------
def test_sphere_chords():
    s = sphere(10.0, (5.0, 0.0, 0.0))
    assert chord(s, (5, -50, 0), (0, 1, 0)) == pytest.approx(20.0)  # through the centre
    assert chord(s, (15, -50, 0), (0, 1, 0)) == pytest.approx(0.0, abs=1e-6)  # tangent
    assert chord(s, (30, -50, 0), (0, 1, 0)) == 0.0  # misses
    assert chord(s, (5, 0, 0), (0, 1, 0)) == pytest.approx(10.0)  # starts at the centre
    assert chord(s, (5, 6, 0), (0, 1, 0)) == pytest.approx(4.0)  # starts inside
    assert chord(s, (5, 50, 0), (0, 1, 0)) == 0.0  # sphere behind the origin
    assert chord(s, (5, -50, 6), (0, 1, 0)) == pytest.approx(16.0)  # off-centre: 2 sqrt(100 - 36)


def test_rotated_ellipsoid_chords():
    axis = unit((1, 1, 0))
    e = Ellipsoid(
        name="e",
        material=SOFT,
        container=None,
        centre_mm=(0, 0, 0),
        semi_axes_mm=(30, 10, 5),
        rotation=frame(axis, (0, 0, 1)),
    )
    assert chord(e, -100 * axis, axis) == pytest.approx(60.0)
    assert chord(e, (0, 0, -100), (0, 0, 1)) == pytest.approx(20.0)  # second axis is z
    assert chord(e, (100, -100, 0), (-1, 1, 0)) == pytest.approx(10.0)  # third axis
    lo, hi = e.bounds_mm()
    np.testing.assert_allclose(hi, [np.sqrt(450 + 12.5), np.sqrt(450 + 12.5), 10.0])
    np.testing.assert_allclose(lo, -hi)


def test_elliptic_cylinder_with_caps():
    c = EllipticCylinder(
        name="c",
        material=SOFT,
        container=None,
        bottom_centre_mm=(0, 0, 0),
        top_centre_mm=(0, 0, 50),
        semi_axes_mm=(20, 10),
    )
    assert chord(c, (0, 0, -100), (0, 0, 1)) == pytest.approx(50.0)  # along the axis, through both caps
    assert chord(c, (0, 0, 10), (0, 0, 1)) == pytest.approx(40.0)  # starts inside
    assert chord(c, (-100, 0, 25), (1, 0, 0)) == pytest.approx(40.0)  # across the wide axis
    assert chord(c, (0, -100, 25), (0, 1, 0)) == pytest.approx(20.0)  # across the narrow axis
    assert chord(c, (-100, 0, 60), (1, 0, 0)) == 0.0  # above the top cap
    # oblique ray through the centre at 45 deg in xz: leaves through a cap at z = 50 (x = 25 > 20? no: side)
    d = unit((1, 0, 1))
    assert chord(c, (0, 0, 25) - 100 * d, d) == pytest.approx(2 * 20 * np.sqrt(2))
    d = unit((0.2, 0, 1))  # steep: exits through both caps
    assert chord(c, (0, 0, 25) - 100 * d, d) == pytest.approx(50 / d[2])
    assert c.contains(np.array([[0, 0, 25], [19, 0, 1], [0, 11, 25], [0, 0, 51]])).tolist() == [
        True,
        True,
        False,
        False,
    ]


def test_frustum_and_sheared_cylinder():
    f = EllipticCylinder(
        name="f",
        material=SOFT,
        container=None,
        bottom_centre_mm=(0, 0, 0),
        top_centre_mm=(0, 0, 100),
        semi_axes_mm=(20, 20),
        top_scale=0.5,
    )
    assert chord(f, (0, 0, -10), (0, 0, 1)) == pytest.approx(100.0)
    assert chord(f, (-100, 0, 50), (1, 0, 0)) == pytest.approx(30.0)  # radius 15 at mid-height
    assert chord(f, (-100, 0, 100), (1, 0, 0)) == pytest.approx(20.0, abs=1e-6)
    # a ray along a generator of the cone, just inside, is parallel to the surface (a ~ 0)
    d = unit((-10, 0, 100))
    assert chord(f, np.array([19.9, 0, 0]) - 5 * d, d) == pytest.approx(np.linalg.norm((-10, 0, 100)), rel=1e-3)
    s = EllipticCylinder(
        name="s",
        material=SOFT,
        container=None,
        bottom_centre_mm=(0, 0, 0),
        top_centre_mm=(30, 0, 60),
        semi_axes_mm=(10, 10),
    )
    assert chord(s, (-100, 0, 30), (1, 0, 0)) == pytest.approx(20.0)
    assert s.contains(np.array([[15, 0, 30], [0, 0, 30]])).tolist() == [True, False]


def test_clipped_sphere_and_stack():
    half = sphere(10.0, clips=(half_space((0, 0, 1), (0, 0, 0)),))  # keeps z <= 0
    assert chord(half, (0, 0, -50), (0, 0, 1)) == pytest.approx(10.0)
    assert chord(half, (0, 0, 50), (0, 0, -1)) == pytest.approx(10.0)
    assert chord(half, (-50, 0, 5), (1, 0, 0)) == 0.0
    hi = half.bounds_mm()[1]
    assert hi[2] < 2.0  # the clip tightens the box
    stack = ShapeStack(
        name="st", material=SOFT, container=None, pieces=(sphere(10.0, (0, 0, 0)), sphere(10.0, (0, 0, 30)))
    )
    assert chord(stack, (0, 0, -50), (0, 0, 1)) == pytest.approx(40.0)
    assert stack.contains(np.array([[0, 0, 30], [0, 0, 15]])).tolist() == [True, False]


@pytest.mark.parametrize("kind", ["ellipsoid", "cylinder", "frustum", "clipped"])
def test_contains_agrees_with_chords(kind):
    """Fraction of points along a ray inside the shape x segment length ~ chord (Monte Carlo)."""
    rng = np.random.default_rng(3)
    shapes = {
        "ellipsoid": Ellipsoid(
            name="e",
            material=SOFT,
            container=None,
            centre_mm=(3, -2, 5),
            semi_axes_mm=(25, 12, 8),
            rotation=frame((1, 2, 0.5), (0, 0, 1)),
        ),
        "cylinder": EllipticCylinder(
            name="c",
            material=SOFT,
            container=None,
            bottom_centre_mm=(0, 0, -20),
            top_centre_mm=(8, 4, 25),
            semi_axes_mm=(18, 9),
        ),
        "frustum": EllipticCylinder(
            name="f",
            material=SOFT,
            container=None,
            bottom_centre_mm=(0, 0, -20),
            top_centre_mm=(0, 5, 20),
            semi_axes_mm=(20, 12),
            top_scale=0.4,
            rotation=frame((1, 0, 0.3), (0, 1, 0)),
        ),
        "clipped": Ellipsoid(
            name="k",
            material=SOFT,
            container=None,
            centre_mm=(0, 0, 0),
            semi_axes_mm=(20, 15, 10),
            clips=(half_space((1, 1, 0), (5, 0, 0)), half_space((0, 0, -1), (0, 0, -4))),
        ),
    }
    shape = shapes[kind]
    for _ in range(20):
        origin = rng.uniform(-60, 60, 3)
        target = rng.uniform(-10, 10, 3)
        d = unit(target - origin)
        t = np.linspace(0.0, 150.0, 30001)
        inside = shape.contains(origin + t[:, None] * d)
        assert chord(shape, origin, d) == pytest.approx(inside.mean() * 150.0, abs=0.05)


# --- the patient --------------------------------------------------------------------------------------------
def interior_and_surface_points(shape, rng, count=400):
    """Random interior points, and points on the surface reached from them (the chord to the exit)."""
    points = []
    for piece in shape.primitives():
        lo, hi = piece.bounds_mm()
        candidates = lo + (hi - lo) * rng.random((4000, 3))
        points.append(candidates[piece.contains(candidates)][: count // len(shape.primitives()) + 1])
    inside = np.vstack(points)
    surface = []
    for p in inside[:: max(1, len(inside) // 25)]:
        d = rng.normal(size=(16, 3))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        exits = shape.chord_length_mm(p, d) if len(shape.primitives()) == 1 else None
        if exits is None:
            continue
        surface.append(p + d * np.maximum(exits - 0.3, 0.0)[:, None])  # 0.3 mm inside the surface
    return inside, np.vstack(surface) if surface else inside


def test_every_shape_lies_inside_its_container_and_siblings_do_not_overlap(body):
    rng = np.random.default_rng(0)
    samples = {i: interior_and_surface_points(s, rng) for i, s in enumerate(body.shapes)}
    for i, shape in enumerate(body.shapes):
        inside, surface = samples[i]
        assert len(inside) > 0, shape.name
        if shape.container is not None:
            container = body.shapes[shape.container]
            outside = ~container.contains(np.vstack([inside, surface]))
            assert outside.mean() < 0.005, f"{shape.name} pokes out of {container.name}"
    for i, shape in enumerate(body.shapes):
        lo, hi = shape.bounds_mm()
        for j in range(i + 1, len(body.shapes)):
            other = body.shapes[j]
            if other.container != shape.container:
                continue
            lo2, hi2 = other.bounds_mm()
            if np.any(hi < lo2) or np.any(hi2 < lo):
                continue
            overlap = max(other.contains(samples[i][0]).mean(), shape.contains(samples[j][0]).mean())
            assert overlap < 0.005, f"{shape.name} overlaps {other.name}"


def test_shape_budget_and_names(body):
    assert body.primitive_count <= 400
    names = {s.name for s in body.shapes}
    for required in (
        "outline",
        "trunk",
        "left_lung",
        "right_lung",
        "heart_left",
        "L4_body",
        "T12_body",
        "rib1_left_0",
        "rib12_right_0",
        "manubrium",
        "left_clavicle_0",
        "sacrum_1",
        "left_iliac_wing",
        "right_femoral_head",
        "left_femoral_neck",
        "right_acetabulum",
    ):
        assert required in names


@pytest.mark.parametrize(("thickness", "width"), [(220.0, 340.0), (280.0, 420.0), (180.0, 290.0)])
def test_ap_thickness_through_the_abdomen(thickness, width):
    b = build_body(thickness_ap_mm=thickness, width_mm=width)
    assert b.thickness_mm(np.array([0.0, 1000.0, 0.0]), np.array([0.0, -1.0, 0.0])) == pytest.approx(thickness)
    assert b.thickness_mm(np.array([-1000.0, 0.0, 50.0]), np.array([1.0, 0.0, 0.0])) == pytest.approx(width)
    chest = b.thickness_mm(np.array([0.0, 1000.0, 300.0]), np.array([0.0, -1.0, 0.0]))
    assert thickness < chest < 1.1 * thickness


def test_smaller_patient_keeps_anatomy_inside(body):
    small = build_body(thickness_ap_mm=180.0, width_mm=290.0)
    rng = np.random.default_rng(1)
    for shape in small.shapes[2:]:
        inside, _ = interior_and_surface_points(shape, rng, count=40)
        assert small.shapes[1].contains(inside).mean() > 0.99 or shape.container != 1, shape.name
    with pytest.raises(ValueError):
        build_body(thickness_ap_mm=50.0)


def frontal_integrals(body, points_xz, z_source):
    """AP line integrals from a source 810 mm posterior, through the given (x, z) points at y = 0."""
    source = np.array([0.0, C.FOCUS_TO_ISOCENTRE_MM, z_source])
    targets = np.array([[x, 0.0, z] for x, z in points_xz])
    d = targets - source
    return body.line_integral(source, d / np.linalg.norm(d, axis=1, keepdims=True), MU_70)


def test_lungs_are_more_transparent_than_the_spine_and_heart(body):
    lung, spine, heart = frontal_integrals(body, [(-85.0, 300.0), (0.0, 300.0), (40.0, 230.0)], 300.0)
    assert lung < heart < spine
    assert spine - lung > 1.0


def test_a_vertebra_attenuates_more_than_the_tissue_beside_it(body):
    z_l3 = vertebra_levels_mm()["L3"]
    through, beside = frontal_integrals(body, [(0.0, z_l3), (70.0, z_l3)], z_l3)
    assert through > beside + 0.2
    ribs = frontal_integrals(body, [(x, 260.0) for x in np.linspace(60, 130, 141)], 260.0)
    assert ribs.max() - ribs.min() > 0.05  # ribs cross the lung field as bands


def test_culled_line_integral_equals_brute_force(body):
    source = np.array([30.0, 810.0, 150.0])
    u, v = np.meshgrid(np.linspace(-240, 240, 64), np.linspace(-240, 240, 64))
    targets = np.stack([u.ravel(), np.full(u.size, -385.0), 150.0 + v.ravel()], axis=1)
    d = targets - source
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    fast = body.line_integral(source, d, MU_70)
    slow = np.zeros(len(d))
    for i, shape in enumerate(body.shapes):
        delta = MU_70[shape.material] - MU_70[body.container_material(i)]
        slow += delta * shape.chord_length_mm(source, d)
    np.testing.assert_allclose(fast, slow, atol=1e-9)
    as_dict = body.line_integral(source, d[:100], {m: MU_70[m] for m in Material})
    np.testing.assert_allclose(as_dict, fast[:100])


def test_materials_and_raster(body):
    levels = vertebra_levels_mm()
    points = np.array([[-90.0, 0.0, 300.0], [0.0, 27.0, levels["L4"]], [0.0, 0.0, 2000.0], [60.0, -20.0, 0.0]])
    assert body.material_at(points).tolist() == [Material.LUNG, Material.TRABECULAR_BONE, Material.AIR, SOFT]
    grid = body.rasterize(15.0)
    found = set(np.unique(grid.materials).tolist())
    assert {Material.AIR, Material.LUNG, SOFT, Material.TRABECULAR_BONE} <= found


def test_build_is_deterministic(body):
    again = build_body()
    assert again.shapes == body.shapes
    np.testing.assert_array_equal(
        frontal_integrals(again, [(0, 100), (50, 300)], 200.0), frontal_integrals(body, [(0, 100), (50, 300)], 200.0)
    )


# --- materials ----------------------------------------------------------------------------------------------
def test_attenuation_matches_the_table_and_interpolates_log_log():
    for i, energy in enumerate(C.ATTENUATION_ENERGIES_KEV):
        expected = 1.85 * C.MASS_ATTENUATION_CM2_PER_G["cortical_bone"][i] / 10.0
        assert linear_attenuation_per_mm(Material.CORTICAL_BONE, energy) == pytest.approx(expected)
    table = C.MASS_ATTENUATION_CM2_PER_G["water"]
    between = linear_attenuation_per_mm(Material.WATER, 65.0)
    assert between == pytest.approx(np.sqrt(table[2] * table[3]) / 10.0, rel=2e-3)  # geometric mean
    assert linear_attenuation_per_mm(Material.AIR, 70.0) == 0.0
    mu = linear_attenuation_table_per_mm(60.0)
    order = [
        Material.AIR,
        Material.LUNG,
        Material.ADIPOSE,
        Material.SOFT_TISSUE,
        Material.TRABECULAR_BONE,
        Material.CORTICAL_BONE,
    ]
    assert all(mu[a] < mu[b] for a, b in itertools.pairwise(order))
    assert MATERIALS[Material.TRABECULAR_BONE].density_g_per_cm3 == pytest.approx(1.18)
    with pytest.raises(ValueError):
        linear_attenuation_per_mm(SOFT, 100.0)
