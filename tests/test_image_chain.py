"""Image formation and the image chain on analytic phantoms: noise, contrast, kVp, AEC, pulses, hold, cine, DSA,
roadmap, collimation, display."""

import numpy as np
import pytest

from game.sim.anatomy.spec import VesselSpec
from game.sim.anatomy.vessel_tree import VesselTree
from game.sim.imaging import attenuation as A
from game.sim.imaging.aec import MODE_SETTINGS, Mode, choose_technique, fov_dose_factor
from game.sim.imaging.carm import CArm
from game.sim.imaging.chain import MIN_COUNTS, ImageChain, standard_normal_field
from game.sim.imaging.display import to_grey
from game.sim.imaging.fluoroscopy import Fluoroscope
from game.sim.imaging.phantom import water_cylinder, water_slab_with_bone
from game.sim.imaging.render import Renderer
from game.sim.imaging.shapes import Radiopacity, Tube
from game.sim.level.schema import Detector

SIZE = 256
VESSEL_RADIUS_MM = 2.5


def vessel_tree(radius_mm=VESSEL_RADIUS_MM):
    """One straight vessel along z through the isocentre (a renal-sized artery seen side-on)."""
    points = tuple((0.0, 0.0, float(z)) for z in np.linspace(-80, 80, 5))
    return VesselTree([VesselSpec("artery", None, points, (radius_mm,) * 5)])


def scope(phantom=None, tree=None, carm=None, size=SIZE):
    return Fluoroscope(
        phantom if phantom is not None else water_slab_with_bone(200.0, 0.1),
        tree if tree is not None else vessel_tree(),
        carm if carm is not None else CArm(fov_cm=37.0),
        size,
    )


def single_frame_log(fl: Fluoroscope, seed: int, concentration=None, tubes=(), mode=Mode.FLUORO) -> np.ndarray:
    """-ln of one unfiltered frame's raw signal."""
    fl.chain.geometry_changed(registration_lost=True)  # no recursive-filter history
    fl.pulse(mode, 15.0, np.random.default_rng(seed), concentration, list(tubes))
    return -np.log(np.maximum(fl.chain.raw, 1e-12))


def central(image, half=40):
    c = image.shape[0] // 2
    return image[c - half : c + half, c - half : c + half]


# --- noise --------------------------------------------------------------------------------------------------
def frame_difference_noise(dose_scale: float) -> float:
    fl = scope()
    fl.dose_scale = dose_scale
    a, b = single_frame_log(fl, 1), single_frame_log(fl, 2)
    return float(np.std(central(a - b)) / np.sqrt(2.0))


def test_four_times_the_dose_halves_the_noise():
    ratio = frame_difference_noise(1.0) / frame_difference_noise(4.0)
    assert ratio == pytest.approx(2.0, rel=0.15)


def test_noise_matches_the_counts_per_pixel():
    fl = scope()
    technique = fl.technique()
    counts = technique.counts_per_pixel(fl.carm.pixel_mm(SIZE))
    assert frame_difference_noise(1.0) == pytest.approx(1.0 / np.sqrt(counts), rel=0.1)


def test_noise_comes_only_from_the_generator_passed_in():
    fl1, fl2 = scope(), scope()
    a = single_frame_log(fl1, 7)
    b = single_frame_log(fl2, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, single_frame_log(fl1, 8))


def test_the_noise_bank_is_fixed_unit_normal_and_read_at_a_seeded_offset():
    a = standard_normal_field(np.random.default_rng(3), (64, 64))
    b = standard_normal_field(np.random.default_rng(3), (64, 64))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32 and not a.flags.writeable
    rng = np.random.default_rng(4)
    fields = np.stack([standard_normal_field(rng, (256, 256)) for _ in range(8)])
    assert abs(float(fields.mean())) < 0.01 and float(fields.std()) == pytest.approx(1.0, abs=0.01)
    # Frames are independent pixel by pixel: no frame-to-frame correlation.
    assert abs(float(np.corrcoef(fields[0].ravel(), fields[1].ravel())[0, 1])) < 0.02


def test_noise_follows_the_counts_down_to_the_clamp_behind_metal():
    """Per pixel the log-domain noise is 1/sqrt(N): twice as strong where the counts are four times fewer; where
    fewer than MIN_COUNTS are expected, no pixel reads less than MIN_COUNTS."""
    fl = scope(tree=vessel_tree())
    seeds = range(12)
    flat = np.stack([single_frame_log(fl, s) for s in seeds])
    behind = Tube(np.array([[-60.0, 0, 30.0], [60.0, 0, 30.0]]), 4.0, 0.0, Radiopacity.STEEL)  # a steel rod
    metal = np.stack([single_frame_log(fl, s, tubes=[behind]) for s in seeds])
    truth = fl.renderer.render(fl.carm, fl.last_technique.kvp, tubes=[behind])
    body = fl.renderer.render(fl.carm, fl.last_technique.kvp)
    extra = truth - body
    edge = (extra > 0.5) & (extra < 3.0)  # the rod's rim: 1/1.6 to 1/20 of the counts
    assert edge.sum() > 100
    ratio = metal.std(axis=0)[edge] / flat.std(axis=0)[edge] / np.exp(extra[edge] / 2.0)
    assert float(np.mean(ratio)) == pytest.approx(1.0, rel=0.05)
    counts = fl.last_technique.counts_per_pixel(fl.carm.pixel_mm(SIZE)) * np.exp(
        fl.renderer.background(fl.carm).measuring_log(fl.last_technique.kvp)
    )
    assert np.exp(-metal.max()) * counts == pytest.approx(MIN_COUNTS, rel=1e-3)


def test_the_cached_background_noise_amplitude_gives_the_same_image():
    """A pulse computes the noise amplitude over the body once per geometry and dose and per pulse only where
    iodine and instruments are: the image equals the one computed over the whole field."""
    tree = vessel_tree()
    conc = np.full(tree.sample_count, 100.0, np.float32)
    wire = Tube(np.array([[-60.0, 0, 30.0], [60.0, 0, 30.0]]), 0.445, 0.0, Radiopacity.STEEL)
    marker = Tube(np.array([[0.0, 0, 30.0], [1.2, 0, 30.0]]), 0.9, 0.8, Radiopacity.PLATINUM)
    fast = scope(tree=tree)
    for _ in range(3):  # the second and third pulses reuse the cached amplitude
        fast.pulse(Mode.CINE, 15.0, np.random.default_rng(6), conc, [wire, marker])
    technique = fast.last_technique
    bg = fast.renderer.background(fast.carm)
    level = bg.measuring_log(technique.kvp)
    full = ImageChain(SIZE)
    full.expose(
        fast.renderer.render(fast.carm, technique.kvp, conc, [wire, marker]),
        technique.counts_per_pixel(fast.carm.pixel_mm(SIZE)) * float(np.exp(level)),
        None,
        np.random.default_rng(6),
        Mode.CINE,
        recursive_weight=0.0,
        level=level,
        display_offset=fast._field(fast.carm, technique.kvp, level)[1],
    )
    np.testing.assert_allclose(fast.chain.raw, full.raw, rtol=1e-5)
    assert np.mean(fast.live_image != full.display) < 1e-3


# --- contrast -----------------------------------------------------------------------------------------------
def vessel_cnr(concentration_mg_per_mL: float, dose_scale: float = 1.0) -> float:
    """Contrast-to-noise ratio of the vessel's core against the tissue beside it, in one unfiltered frame."""
    tree = vessel_tree()
    fl = scope(tree=tree)
    fl.dose_scale = dose_scale
    conc = np.full(tree.sample_count, concentration_mg_per_mL, np.float32)
    log = single_frame_log(fl, 3, conc if concentration_mg_per_mL > 0 else None)
    c = SIZE // 2
    r_px = VESSEL_RADIUS_MM * fl.carm.magnification_at_isocentre / fl.carm.pixel_mm(SIZE)
    core = log[c - 40 : c + 40, c - max(int(r_px / 2), 1) : c + max(int(r_px / 2), 1) + 1]
    beside = np.concatenate(
        [
            log[c - 40 : c + 40, c + int(3 * r_px) : c + int(6 * r_px)],
            log[c - 40 : c + 40, c - int(6 * r_px) : c - int(3 * r_px)],
        ],
        axis=1,
    )
    return float((core.mean() - beside.mean()) / beside.std())


def test_vessels_are_invisible_without_contrast_and_clear_with_it():
    assert abs(vessel_cnr(0.0)) < 1.0
    assert vessel_cnr(100.0) > 5.0  # 100 mgI/mL: a 300 mgI/mL injection diluted by the blood flow


def test_iodine_contrast_is_higher_at_70_than_at_90_kvp():
    for density in (5.0, 10.0, 20.0, 50.0):
        assert A.iodine_contrast(density, 70.0) > A.iodine_contrast(density, 80.0) > A.iodine_contrast(density, 90.0)
    tree = vessel_tree()
    renderer = Renderer(water_cylinder(), tree, SIZE)
    conc = np.full(tree.sample_count, 150.0, np.float32)
    carm = CArm()
    at70 = renderer.render(carm, 70.0, conc, include_body=False).max()
    at90 = renderer.render(carm, 90.0, conc, include_body=False).max()
    assert at70 > 1.25 * at90


def test_iodine_contrast_reproduces_the_domain_table():
    for kvp, row in A.IODINE_CONTRAST.items():
        for density, expected in zip(A.IODINE_TABLE_MG_PER_CM2, row, strict=True):
            assert A.iodine_contrast(density, kvp) == pytest.approx(expected, abs=0.005)


def test_projected_iodine_equals_concentration_times_chord():
    tree = vessel_tree(radius_mm=3.0)
    renderer = Renderer(water_cylinder(), tree, 512)
    carm = CArm()
    fp = renderer.vessels.footprint(carm, 512)
    conc = np.full(tree.sample_count, 150.0, np.float32)
    areal = np.zeros(512 * 512, np.float32)
    areal[fp.rows] = fp.areal_density_mg_per_cm2(conc)
    areal = areal.reshape(512, 512)
    assert areal.max() == pytest.approx(150.0 * 0.6, rel=0.02)  # 150 mg/mL x 6 mm = 90 mg/cm^2 on the axis
    # Across the vessel the areal density integrates to concentration x cross-section (mass per length).
    mm_per_px = carm.pixel_mm(512) / carm.magnification_at_isocentre
    per_length = areal[256].sum() * mm_per_px / 10.0  # mg/cm^2 * cm = mg/cm
    assert per_length == pytest.approx(150.0 * np.pi * 0.3**2, rel=0.02)


def test_metal_wire_is_dark_and_a_catheter_faint():
    fl = scope(tree=vessel_tree())
    line = np.array([[-60.0, 0, 30.0], [60.0, 0, 30.0]])
    wire = Tube(line, 0.445, 0.0, Radiopacity.STEEL)
    catheter = Tube(line, 0.83, 0.48, Radiopacity.CATHETER_WALL)
    none = fl.renderer.render(fl.carm, 70.0, include_body=False)
    w = fl.renderer.render(fl.carm, 70.0, tubes=[wire], include_body=False)
    c = fl.renderer.render(fl.carm, 70.0, tubes=[catheter], include_body=False)
    assert none.max() == 0.0
    assert w.max() > 3.0 * c.max() > 0.1


# --- AEC ------------------------------------------------------------------------------------------------------
def test_aec_reproduces_the_domain_cross_check():
    """40 nGy per pulse, 15 p/s, 70 kVp, 20 cm water, grid 0.7, FD20 geometry: ~29 mGy/min at the IRP."""
    t = choose_technique(200.0, CArm(fov_cm=37.0), Mode.FLUORO, 15.0)
    assert t.kvp == 70.0 and t.detector_dose_nGy == pytest.approx(40.0)
    assert t.transmission == pytest.approx(0.0059)
    assert t.air_kerma_rate_mGy_per_min == pytest.approx(29.0, rel=0.05)


def test_aec_doubles_the_dose_per_3_cm_then_raises_kvp_and_respects_the_limit():
    carm = CArm(fov_cm=37.0)
    t20, t23 = choose_technique(200.0, carm), choose_technique(230.0, carm)
    assert t20.kvp == t23.kvp == 70.0
    assert t23.air_kerma_irp_mGy / t20.air_kerma_irp_mGy == pytest.approx(2.0, rel=0.05)
    assert t23.detector_dose_nGy == pytest.approx(t20.detector_dose_nGy)
    thick = [choose_technique(w, carm) for w in (280.0, 320.0, 400.0)]
    assert all(t.kvp > 70.0 for t in thick) and thick[0].kvp < thick[-1].kvp
    assert all(t.mA <= MODE_SETTINGS[Mode.FLUORO].max_mA + 1e-9 for t in thick)
    assert all(t.air_kerma_rate_mGy_per_min <= 88.0 + 1e-6 for t in thick)
    assert thick[-1].detector_dose_nGy < t20.detector_dose_nGy  # at the limits the image gets noisier
    assert choose_technique(200.0, carm, pulse_rate_per_s=30.0).air_kerma_irp_mGy == pytest.approx(
        t20.air_kerma_irp_mGy
    )  # dose per pulse does not depend on the pulse rate


def test_aec_field_of_view_factors():
    assert fov_dose_factor(48.0, Detector.FLAT_PANEL) / fov_dose_factor(15.0, Detector.FLAT_PANEL) == pytest.approx(
        1.0 / 3.3
    )
    assert fov_dose_factor(31.0, Detector.FLAT_PANEL) / fov_dose_factor(48.0, Detector.FLAT_PANEL) == pytest.approx(1.7)
    assert fov_dose_factor(11.5, Detector.IMAGE_INTENSIFIER) == pytest.approx(4.0)
    small, large = (choose_technique(200.0, CArm(fov_cm=f)) for f in (15.0, 48.0))
    assert small.air_kerma_irp_mGy / large.air_kerma_irp_mGy == pytest.approx(3.3, rel=1e-6)


def test_cine_and_dsa_frames_cost_what_the_domain_says():
    carm = CArm(fov_cm=37.0)
    cine = choose_technique(200.0, carm, Mode.CINE, 15.0)
    dsa = choose_technique(200.0, carm, Mode.DSA, 3.0)
    assert cine.air_kerma_irp_mGy == pytest.approx(0.196, rel=0.1)  # Azurion: coronary cine 0.196 mGy/frame
    assert dsa.air_kerma_irp_mGy / cine.air_kerma_irp_mGy == pytest.approx(25.0, rel=0.05)


def test_aec_reads_the_water_equivalent_path_at_the_current_angle():
    slab = scope(phantom=water_slab_with_bone(200.0, 0.1))
    assert slab.renderer.background(slab.carm).water_path_mm() == pytest.approx(200.0, rel=0.02)
    cylinder = scope(phantom=water_cylinder(200.0))  # rays off the axis cross less water
    assert 180.0 < cylinder.renderer.background(cylinder.carm).water_path_mm() < 200.0
    oval = Fluoroscope(water_slab_with_bone(200.0, 0.1), None, CArm(), SIZE)
    lateral = Fluoroscope(water_slab_with_bone(200.0, 0.1), None, CArm(lao_deg=60.0), SIZE)
    side, front = lateral.technique(), oval.technique()
    assert side.path_length_mm > 1.5 * front.path_length_mm
    assert side.kvp > front.kvp and side.air_kerma_irp_mGy > 2.5 * front.air_kerma_irp_mGy


# --- pulses, hold, cine ---------------------------------------------------------------------------------------
def run_pedal(fl, seconds, rate, dt=1.0 / 60.0, **kwargs):
    pulses = []
    rng = kwargs.pop("rng", np.random.default_rng(0))
    for _ in range(round(seconds / dt)):
        pulses += fl.step(dt, pulse_rate_per_s=rate, rng=rng, **kwargs)
    return pulses


@pytest.mark.parametrize(("rate", "expected"), [(7.5, 8), (15.0, 15), (30.0, 30)])
def test_images_update_only_at_the_pulse_rate(rate, expected):
    fl = scope(size=64)
    pulses = run_pedal(fl, 1.0, rate, fluoro=True)
    assert len(pulses) == expected
    assert pulses[0].t_s == 0.0  # the first pulse fires when the pedal goes down
    np.testing.assert_allclose(np.diff([p.t_s for p in pulses]), 1.0 / rate, atol=1e-9)
    assert fl.chain.pulses == expected


def test_last_image_hold_keeps_the_image_and_fires_nothing():
    fl = scope(size=64)
    rng = np.random.default_rng(0)
    run_pedal(fl, 0.5, 15.0, fluoro=True, rng=rng)
    held = fl.live_image.copy()
    state = rng.bit_generator.state
    assert run_pedal(fl, 1.0, 15.0, fluoro=False, rng=rng) == []
    np.testing.assert_array_equal(fl.live_image, held)
    assert rng.bit_generator.state == state  # no noise drawn while the beam is off
    assert not fl.chain.beam_on


def test_recursive_filter_lowers_the_noise_variance_as_predicted():
    fl = scope()
    rng = np.random.default_rng(5)
    b = MODE_SETTINGS[Mode.FLUORO].recursive_filter
    truth = fl.renderer.render(fl.carm, 70.0)
    frames = []
    for _ in range(30):
        fl.pulse(Mode.FLUORO, 15.0, rng)
        frames.append(fl.chain.filtered.copy())
    filtered_var = np.var(central(frames[-1] - truth))
    single_var = np.var(central(single_frame_log(fl, 9) - truth))
    assert filtered_var / single_var == pytest.approx((1 - b) / (1 + b), rel=0.15)


def test_cine_frames_are_less_noisy_and_kept_for_review():
    fl = scope()
    fluoro_noise = np.std(central(single_frame_log(fl, 1) - single_frame_log(fl, 2)))
    cine_noise = np.std(central(single_frame_log(fl, 1, mode=Mode.CINE) - single_frame_log(fl, 2, mode=Mode.CINE)))
    assert cine_noise < 0.5 * fluoro_noise
    fl = scope(size=64)
    pulses = run_pedal(fl, 1.0, 15.0, fluoro=False, acquire=True)
    assert len(pulses) == 15 and all(p.technique.mode == Mode.CINE for p in pulses)
    assert len(fl.chain.cine_frames) == 15
    run_pedal(fl, 0.1, 15.0, fluoro=False)  # the run ends: its best frame goes to the reference monitor
    assert fl.reference_image.any()


# --- DSA and roadmap ----------------------------------------------------------------------------------------------
def test_dsa_subtracts_the_mask_and_shows_only_the_iodine():
    tree = vessel_tree()
    fl = scope(phantom=water_slab_with_bone(200.0, 30.0), tree=tree)
    fl.acquisition_mode = Mode.DSA
    rng = np.random.default_rng(0)
    fl.pulse(Mode.DSA, 3.0, rng)  # the mask: bone, no iodine
    first = fl.live_image.copy()
    conc = np.full(tree.sample_count, 100.0, np.float32)
    fl.pulse(Mode.DSA, 3.0, rng, conc)
    frame = fl.live_image
    c = SIZE // 2
    assert abs(float(np.median(first)) - 128) < 3  # nothing changed yet: flat grey
    assert frame[c - 20 : c + 20, c].mean() < 60  # the vessel over the bone rod is dark
    background = frame[c - 40 : c + 40, c + 60 : c + 100]
    assert abs(background.mean() - 128) < 3 and background.std() < 4  # bone and tissue are gone


def test_roadmap_keeps_the_opacified_vessel_over_live_fluoroscopy():
    tree = vessel_tree()
    fl = scope(tree=tree)
    rng = np.random.default_rng(0)
    conc = np.full(tree.sample_count, 100.0, np.float32)
    for _ in range(4):
        fl.pulse(Mode.FLUORO, 15.0, rng, conc)
    assert fl.set_roadmap(True)
    wire = Tube(np.array([[-60.0, 0, 30.0], [60.0, 0, 30.0]]), 0.445, 0.0, Radiopacity.STEEL)
    for _ in range(6):  # contrast gone, a wire in view
        fl.pulse(Mode.FLUORO, 15.0, rng, None, [wire])
    image = fl.live_image.astype(float)
    c = SIZE // 2
    assert image[c + 30 : c + 60, c].mean() > 170  # vessel bright: in the mask, not in the live image
    wire_row = int(np.rint(fl.carm.project(np.array([[40.0, 0, 30.0]]), SIZE)[0][0, 1]))
    assert image[wire_row, c + 40 : c + 60].mean() < 80  # the wire is dark
    fl.set_carm(fl.carm.with_(lao_deg=20.0))
    assert fl.chain.roadmap is None  # a new angle invalidates the mask


# --- collimation and display ----------------------------------------------------------------------------------------
def test_collimation_blanks_outside_the_shutters_and_leaves_the_inside_unchanged():
    tree = vessel_tree()
    conc = np.full(tree.sample_count, 100.0, np.float32)
    open_ = scope(tree=tree)
    shut = scope(tree=tree, carm=CArm(fov_cm=37.0, collimation=(0.5, 0.7)))
    open_.pulse(Mode.FLUORO, 15.0, np.random.default_rng(4), conc)
    shut.pulse(Mode.FLUORO, 15.0, np.random.default_rng(4), conc)
    inside = shut.carm.shutter_mask(SIZE)
    assert 0 < inside.sum() < SIZE * SIZE
    assert np.all(shut.live_image[~inside] == 0) and np.all(shut.chain.raw[~inside] == 0)
    np.testing.assert_array_equal(shut.live_image[inside], open_.live_image[inside])
    np.testing.assert_array_equal(shut.chain.raw[inside], open_.chain.raw[inside])
    assert shut.carm.field_area_at_irp_cm2() == pytest.approx(0.35 * open_.carm.field_area_at_irp_cm2())


def test_more_attenuation_is_darker():
    grey = to_grey(np.linspace(2.0, 7.0, 50, dtype=np.float32)[None, :], 4.5)[0]
    assert np.all(np.diff(grey.astype(int)) <= 0) and grey[0] > 200 and grey[-1] < 50


def test_image_intensifier_look_is_round_and_vignetted():
    fl = scope(phantom=water_slab_with_bone(200.0, 0.1), carm=CArm(fov_cm=23.0, detector=Detector.IMAGE_INTENSIFIER))
    fl.dose_scale = 16.0
    rng = np.random.default_rng(0)
    for _ in range(6):
        fl.pulse(Mode.FLUORO, 15.0, rng)
    image = fl.live_image.astype(float)
    c = SIZE // 2
    assert image[0, 0] == 0 and image[-1, -1] == 0
    centre = image[c - 8 : c + 8, c - 8 : c + 8].mean()
    rim = image[8:20, c - 8 : c + 8].mean()  # along the body's long axis: the same tissue
    assert rim < centre - 10


def test_pulses_feed_the_dose_ledger():
    from game.sim.dose.ledger import DoseLedger

    fl = scope(size=64)
    ledger = DoseLedger()
    rng = np.random.default_rng(0)
    dt = 1.0 / 60.0
    for i in range(60):
        ledger.beam(i * dt, dt, "fluoro", 15.0, fl.carm.lao_deg, fl.carm.cra_deg)
        for record in fl.step(dt, fluoro=True, pulse_rate_per_s=15.0, rng=rng):
            ledger.add_pulse(record.for_ledger())
    assert ledger.fluoro_pulses == 15
    assert ledger.air_kerma_mGy == pytest.approx(29.0 / 60.0, rel=0.06)  # one second at ~29 mGy/min
    assert ledger.kap_Gycm2 == pytest.approx(ledger.air_kerma_mGy * fl.carm.field_area_at_irp_cm2() / 1000.0)


def test_window_and_level_can_be_adjusted():
    fl = scope(size=64)
    rng = np.random.default_rng(0)
    fl.pulse(Mode.FLUORO, 15.0, rng)
    default = fl.live_image.astype(float)
    fl.chain.window_scale = 0.5
    fl.chain.geometry_changed(registration_lost=False)
    fl.pulse(Mode.FLUORO, 15.0, np.random.default_rng(0))
    narrow = fl.live_image.astype(float)
    assert narrow.std() > 1.5 * default.std()  # a narrower window shows more contrast (and noise)
    fl.chain.window_scale, fl.chain.level_offset = 1.0, 0.5
    fl.chain.geometry_changed(registration_lost=False)
    fl.pulse(Mode.FLUORO, 15.0, np.random.default_rng(0))
    assert fl.live_image.mean() < default.mean() - 10  # a higher level darkens


def test_compiled_display_pass_matches_the_look_up_done_with_numpy():
    """One pass: display offset (or mask subtracted), window look-up, blank outside the field."""
    from game.sim.imaging import display

    rng = np.random.default_rng(5)
    log = rng.uniform(0.0, 9.0, (32, 32)).astype(np.float32)
    offset = rng.normal(0.0, 0.5, (32, 32)).astype(np.float32)
    outside = rng.random((32, 32)) < 0.2
    grey = display.to_grey(log, 4.0, add=offset, sign=-1.0, outside=outside)
    lut = display.make_lut(display.FLUORO_WINDOW, display.FLUORO_MID_GREY)
    scale = np.float32((display.LUT_SIZE - 1) / display.LUT_SPAN)
    shift = np.float32((display.LUT_SPAN / 2.0 - 4.0) * (display.LUT_SIZE - 1) / display.LUT_SPAN + 0.5)
    expected = lut[np.clip(((log - offset) * scale + shift).astype(np.int32), 0, display.LUT_SIZE - 1)]
    expected[outside] = display.BLANK_GREY
    np.testing.assert_array_equal(grey, expected)
