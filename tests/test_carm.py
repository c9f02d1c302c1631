"""C-arm geometry: projections against hand-computed positions, angle conventions, fields, shutters, II."""

import numpy as np
import pytest

from game.sim import constants as C
from game.sim.imaging.carm import II_PINCUSHION, CArm
from game.sim.level.schema import Detector

SIZE = 512


def expected_pixel(point, lao_deg, cra_deg, carm: CArm):
    """Independent cone-beam projection from the DOMAIN.md conventions, written out by hand."""
    a, c = np.radians(lao_deg), np.radians(cra_deg)
    beam = np.array([np.cos(c) * np.sin(a), -np.cos(c) * np.cos(a), np.sin(c)])  # source -> detector
    right = np.array([np.cos(a), np.sin(a), 0.0])  # image columns
    up = np.array([-np.sin(a) * np.sin(c), np.cos(a) * np.sin(c), np.cos(c)])  # toward the head in the image
    iso = np.array([carm.table_x_mm, carm.table_y_mm, carm.table_z_mm])
    source = iso - C.FOCUS_TO_ISOCENTRE_MM * beam
    rel = np.asarray(point, float) - source
    scale = carm.sid_mm / (rel @ beam)
    pixel = carm.fov_cm * 10.0 / SIZE
    col = (rel @ right) * scale / pixel + SIZE / 2 - 0.5
    row = -(rel @ up) * scale / pixel + SIZE / 2 - 0.5
    return np.array([col, row])


@pytest.mark.parametrize(
    ("lao", "cra"), [(0, 0), (30, 0), (-30, 0), (90, 0), (0, 25), (0, -25), (45, 20), (-35, -15), (120, 40)]
)
def test_known_points_project_where_predicted(lao, cra):
    carm = CArm(lao_deg=lao, cra_deg=cra, fov_cm=37, table_x_mm=20, table_z_mm=-40)
    points = np.array([[0, 0, 0], [60, 0, 0], [0, 80, 30], [-40, -70, 120], [20, 0, -40]], float)
    got, depth = carm.project(points, SIZE)
    want = np.array([expected_pixel(p, lao, cra, carm) for p in points])
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert np.all(depth > 0)


def test_isocentre_lands_on_the_image_centre_at_every_angle():
    for lao, cra in [(0, 0), (40, 0), (-60, 30), (90, -20)]:
        carm = CArm(lao_deg=lao, cra_deg=cra, table_x_mm=-15, table_z_mm=250)
        pix, depth = carm.project(carm.isocentre_mm, SIZE)
        np.testing.assert_allclose(pix[0], [SIZE / 2 - 0.5] * 2, atol=1e-9)
        assert depth[0] == pytest.approx(C.FOCUS_TO_ISOCENTRE_MM)


def test_ap_shows_the_patients_left_on_the_right_and_the_head_up():
    carm = CArm()
    (centre, left, head), _ = carm.project(np.array([[0, 0, 0], [50.0, 0, 0], [0, 0, 50.0]]), SIZE)
    assert left[0] > centre[0] and left[1] == pytest.approx(centre[1])
    assert head[1] < centre[1] and head[0] == pytest.approx(centre[0])
    np.testing.assert_allclose(carm.source_mm, [0, C.FOCUS_TO_ISOCENTRE_MM, 0])  # under the table
    assert carm.detector_centre_mm[1] < 0  # above the patient


def test_lao_moves_structures_as_on_a_real_system():
    """LAO: the detector swings to the patient's left. The spine (posterior) moves to the image's right, the
    sternum (anterior) to the left, and a left-sided structure at mid-depth moves toward the centre as the
    left-right axis foreshortens; RAO mirrors it."""
    spine, sternum, left_kidney_level = [0, 60.0, 0], [0, -90.0, 0], [70.0, 0, 0]
    ap = CArm().project(np.array([spine, sternum, left_kidney_level]), SIZE)[0][:, 0]
    lao = CArm(lao_deg=30).project(np.array([spine, sternum, left_kidney_level]), SIZE)[0][:, 0]
    rao = CArm(lao_deg=-30).project(np.array([spine, sternum, left_kidney_level]), SIZE)[0][:, 0]
    centre = SIZE / 2 - 0.5
    assert lao[0] > ap[0] == pytest.approx(centre)  # spine right in LAO
    assert lao[1] < ap[1]  # sternum left in LAO
    assert centre < lao[2] < ap[2]  # left structure toward the centre
    assert rao[0] < centre and rao[1] > centre  # RAO: spine left, sternum right
    assert CArm(lao_deg=30).detector_centre_mm[0] > 0  # named by where the detector goes


def test_cranial_tilt_moves_the_detector_toward_the_head():
    carm = CArm(cra_deg=30)
    assert carm.detector_centre_mm[2] > 0 and carm.source_mm[2] < 0
    posterior, anterior = carm.project(np.array([[0, 80.0, 0], [0, -80.0, 0]]), SIZE)[0]
    assert posterior[1] < anterior[1]  # seen from the feet-side source, posterior structures project higher


def test_magnification_follows_the_source_distance():
    carm = CArm()
    assert carm.magnification_at_isocentre == pytest.approx(C.SID_DEFAULT_MM / C.FOCUS_TO_ISOCENTRE_MM)
    near_source, near_detector = carm.magnification_at(np.array([[0, 100.0, 0], [0, -100.0, 0]]))
    assert near_source > carm.magnification_at_isocentre > near_detector
    a = carm.project(np.array([[10.0, 100.0, 0], [10.0, -100.0, 0]]), SIZE)[0][:, 0] - (SIZE / 2 - 0.5)
    assert a[0] / a[1] == pytest.approx(near_source / near_detector)


def test_rays_through_pixels_project_back_onto_them():
    carm = CArm(lao_deg=25, cra_deg=-10, fov_cm=22, table_z_mm=100)
    rays = carm.ray_directions(SIZE, 9)
    coords = np.linspace(0, SIZE - 1, 9)
    cols, rows = np.meshgrid(coords, coords)
    points = carm.source_mm + 700.0 * rays.reshape(-1, 3)
    pix, _ = carm.project(points, SIZE)
    np.testing.assert_allclose(pix[:, 0], cols.ravel(), atol=1e-6)
    np.testing.assert_allclose(pix[:, 1], rows.ravel(), atol=1e-6)


def test_image_intensifier_pincushion_stretches_the_rim_and_inverts():
    ff = CArm(fov_cm=23)
    ii = CArm(fov_cm=23, detector=Detector.IMAGE_INTENSIFIER)
    edge_point = np.array([[70.0, 0, 0]])  # near the rim of a 23 cm field at the isocentre
    c = SIZE / 2 - 0.5
    r_ff = ff.project(edge_point, SIZE)[0][0, 0] - c
    r_ii = ii.project(edge_point, SIZE)[0][0, 0] - c
    assert 1.0 < r_ii / r_ff < 1.0 + II_PINCUSHION + 1e-9
    rays = ii.ray_directions(SIZE, 5)
    pix, _ = ii.project(ii.source_mm + 900.0 * rays.reshape(-1, 3), SIZE)
    coords = np.linspace(0, SIZE - 1, 5)
    np.testing.assert_allclose(pix[:, 0], np.tile(coords, 5), atol=1e-6)
    assert not ii.field_mask(SIZE)[0, 0] and ii.field_mask(SIZE)[SIZE // 2, SIZE // 2]
    assert ff.field_mask(SIZE).all()


def test_fields_and_the_beam_for_the_dose_code():
    carm = CArm(fov_cm=37, collimation=(0.5, 1.0))
    su, sv = carm.field_side_at_irp_mm()
    scale = C.FOCUS_TO_IRP_MM / C.SID_DEFAULT_MM
    assert su == pytest.approx(370.0 * 0.5 * scale) and sv == pytest.approx(370.0 * scale)
    assert carm.field_area_at_irp_cm2() == pytest.approx(su * sv / 100.0)
    beam = carm.beam()
    assert beam.area_irp_cm2 == pytest.approx(carm.field_area_at_irp_cm2())
    np.testing.assert_allclose(np.linalg.norm(beam.irp_mm - beam.source_mm), C.FOCUS_TO_IRP_MM)
    ii = CArm(fov_cm=23, detector=Detector.IMAGE_INTENSIFIER)
    radius = 115.0 * C.FOCUS_TO_IRP_MM / C.SID_DEFAULT_MM
    assert ii.field_area_at_irp_cm2() == pytest.approx(np.pi * radius**2 / 100.0, rel=1e-3)
    assert ii.beam().area_irp_cm2 == pytest.approx(ii.field_area_at_irp_cm2())


def test_shutters_open_the_requested_fraction():
    mask = CArm(collimation=(0.5, 0.25)).shutter_mask(SIZE)
    assert mask[:, SIZE // 2].sum() == SIZE // 4
    assert mask[SIZE // 2, :].sum() == SIZE // 2
    assert CArm().shutter_mask(SIZE).all()
    with pytest.raises(ValueError):
        CArm(collimation=(0.1, 1.0))


def test_table_pan_moves_the_anatomy_the_other_way_in_the_image():
    point = np.array([[0.0, 0.0, 0.0]])
    base = CArm().project(point, SIZE)[0][0]
    panned = CArm(table_x_mm=30.0, table_z_mm=40.0).project(point, SIZE)[0][0]
    assert panned[0] < base[0]  # looking further left, the midline moves left in the image
    assert panned[1] > base[1]  # looking further up, the midline moves down
