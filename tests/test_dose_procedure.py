"""Dose through the whole chain (AEC technique per pulse -> ledger), against DOMAIN.md's rules."""

import pytest

from game.sim import actions as A
from game.sim.level import load_level, parse_level
from game.sim.level.library import level_files
from game.sim.procedure import Procedure, run_actions

LEVEL_TEXT = level_files()[0].read_text()


def level_with(thickness_mm=200.0, width_mm=340.0):
    """The tutorial level with another patient; the default is DOMAIN.md's standard adult (~20 cm)."""
    text = LEVEL_TEXT.replace("thickness_ap_mm = 220", f"thickness_ap_mm = {thickness_mm}")
    text = text.replace("width_mm = 340", f"width_mm = {width_mm}")
    return parse_level(text.encode(), "test level")


STANDARD = level_with()


def beam_on(level, seconds=20.0, rate=15.0, fov=None, collimate=None, cine=False, lao=0.0):
    """Fluoroscopy (or cine) for ``seconds`` with nothing inserted; returns the procedure."""
    p = Procedure(level, seed=0, image_size_px=128)
    acts = [A.make(0.0, "pulse_rate", rate), A.make(0.0, "carm", {"lao": lao, "cra": 0.0})]
    if fov is not None:
        acts.append(A.make(0.0, "fov_cm", fov))
    if collimate is not None:
        acts.append(A.make(0.0, "collimate", collimate))
    acts += [A.make(0.0, "cine" if cine else "fluoro", True), A.make(seconds, "end")]
    run_actions(p, acts)
    return p


def rate_mGy_per_min(p):
    return p.ledger.air_kerma_mGy / (p.ledger.fluoro_time_s / 60.0)


def test_normal_fluoroscopy_of_a_standard_adult_is_5_to_40_mGy_per_min():
    p = beam_on(STANDARD)
    assert 5.0 <= rate_mGy_per_min(p) <= 40.0
    assert p.ledger.fluoro_time_s == pytest.approx(20.0, abs=0.02)


def test_halving_the_pulse_rate_halves_air_kerma():
    fast, slow = beam_on(STANDARD, rate=15.0), beam_on(STANDARD, rate=7.5)
    assert slow.ledger.air_kerma_mGy / fast.ledger.air_kerma_mGy == pytest.approx(0.5, rel=0.1)


def test_collimating_to_half_the_side_quarters_kap_and_keeps_air_kerma():
    open_, narrow = beam_on(STANDARD), beam_on(STANDARD, collimate=0.5)
    assert narrow.ledger.kap_Gycm2 / open_.ledger.kap_Gycm2 == pytest.approx(0.25, rel=0.15)
    assert narrow.ledger.air_kerma_mGy == pytest.approx(open_.ledger.air_kerma_mGy, rel=0.1)


def test_smaller_field_raises_air_kerma_by_the_fd20_factor():
    wide, small = beam_on(STANDARD, fov=37.0), beam_on(STANDARD, fov=22.0)
    assert small.ledger.air_kerma_mGy / wide.ledger.air_kerma_mGy == pytest.approx(240.0 / 145.0, rel=0.15)


def test_three_cm_more_tissue_doubles_air_kerma():
    thin, thick = beam_on(level_with(thickness_mm=190.0)), beam_on(level_with(thickness_mm=220.0))
    assert thick.ledger.air_kerma_mGy / thin.ledger.air_kerma_mGy == pytest.approx(2.0, rel=0.15)


def test_normal_fluoroscopy_never_exceeds_88_mGy_per_min_even_for_a_huge_patient():
    p = beam_on(level_with(thickness_mm=400.0, width_mm=560.0), rate=30.0, fov=15.0)
    assert rate_mGy_per_min(p) <= 88.0 + 1e-6


def test_cine_costs_more_per_frame_than_fluoroscopy_per_pulse():
    fluoro, cine = beam_on(STANDARD, seconds=4.0), beam_on(STANDARD, seconds=4.0, cine=True)
    per_pulse = fluoro.ledger.air_kerma_mGy / fluoro.ledger.fluoro_pulses
    per_frame = cine.ledger.air_kerma_mGy / cine.ledger.cine_frames
    assert per_frame > 3 * per_pulse


def test_alarm_after_five_minutes_of_fluoroscopy():
    p = beam_on(STANDARD, seconds=301.0, rate=7.5)
    alarms = [n for n in p.ledger.notifications if n.kind == "fluoro_alarm"]
    assert len(alarms) == 1 and alarms[0].t_s == pytest.approx(300.0, abs=0.05)


def test_oblique_angle_costs_more_dose_and_moves_the_skin_dose():
    ap, lao = beam_on(STANDARD), beam_on(STANDARD, lao=60.0)
    assert lao.ledger.air_kerma_mGy > ap.ledger.air_kerma_mGy
    assert (lao.ledger.skin.dose_mGy.argmax()) != (ap.ledger.skin.dose_mGy.argmax())


def test_operator_dose_is_higher_in_lao_than_rao():
    lao, rao = beam_on(STANDARD, lao=45.0), beam_on(STANDARD, lao=-45.0)
    per_kap_lao = lao.ledger.operator_dose_uSv / lao.ledger.kap_Gycm2
    per_kap_rao = rao.ledger.operator_dose_uSv / rao.ledger.kap_Gycm2
    assert per_kap_lao > 3 * per_kap_rao


def test_shipped_levels_load_for_dose_tests():
    assert load_level(level_files()[0]).id == "pedal-and-hold"


def test_a_ceiling_shield_set_in_the_level_cuts_the_operator_dose():
    text = LEVEL_TEXT.replace("thickness_ap_mm = 220", "thickness_ap_mm = 200.0")
    shielded = parse_level(text.replace("[imaging]", "[staff]\nceiling_shield = true\n\n[imaging]").encode(), "x")
    plain, covered = beam_on(STANDARD), beam_on(shielded)
    assert covered.ledger.operator_dose_uSv == pytest.approx(plain.ledger.operator_dose_uSv * 54 / 1089, rel=0.05)
