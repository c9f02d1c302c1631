"""Dose bookkeeping against hand-computed expectations: KAP, events, alarms, skin map, operator dose."""

import numpy as np
import pytest

from game.sim import constants as C
from game.sim.dose import Beam, DoseLedger, OperatorShielding, Pulse, operator_dose_uSv
from game.sim.dose.operator import projection_factor


def ap_beam(half_mm=100.0, lao_deg=0.0, z_mm=0.0):
    """An AP beam from under the table (source posterior), rotated by ``lao_deg`` about the z axis."""
    a = np.radians(lao_deg)
    # LAO: the detector goes to the patient's left, so the source swings to the right-posterior.
    toward_source = np.array([-np.sin(a), np.cos(a), 0.0])
    iso = np.array([0.0, 0.0, z_mm])
    irp = iso + toward_source * (C.FOCUS_TO_ISOCENTRE_MM - C.FOCUS_TO_IRP_MM)
    source = iso + toward_source * C.FOCUS_TO_ISOCENTRE_MM
    u = np.array([np.cos(a), np.sin(a), 0.0])
    return Beam(source, irp, u, np.array([0.0, 0.0, 1.0]), (half_mm, half_mm))


def pulse(t, kerma=0.1, beam=None, mode="fluoro", lao=0.0):
    return Pulse(t, mode, 15.0, 70.0, 10.0, kerma, beam or ap_beam(), lao, 0.0)


def run(ledger, seconds, rate=15.0, kerma=0.1, beam=None, mode="fluoro", dt=1 / 60, lao=0.0):
    """Beam on for ``seconds`` at ``rate`` pulses/s, stepping the ledger like the procedure does."""
    t, next_pulse = 0.0, 0.0
    for _ in range(round(seconds / dt)):
        ledger.beam(t, dt, mode, rate, lao, 0.0)
        while next_pulse < t + dt - 1e-12:
            ledger.add_pulse(pulse(next_pulse, kerma, beam, mode, lao))
            next_pulse += 1.0 / rate
        t += dt
    return ledger


def test_kap_is_air_kerma_times_field_area_at_the_irp():
    ledger = DoseLedger()
    ledger.add_pulse(pulse(0.0, kerma=2.0, beam=ap_beam(half_mm=50.0)))
    # 2 mGy x (10 cm x 10 cm) = 200 mGy*cm^2 = 0.2 Gy*cm^2
    assert ledger.kap_Gycm2 == pytest.approx(0.2)
    assert ledger.air_kerma_mGy == pytest.approx(2.0)


def test_halving_the_pulse_rate_halves_air_kerma_for_the_same_beam_on_time():
    fast, slow = run(DoseLedger(), 10.0, rate=15.0), run(DoseLedger(), 10.0, rate=7.5)
    assert slow.air_kerma_mGy / fast.air_kerma_mGy == pytest.approx(0.5, rel=0.1)
    assert slow.fluoro_time_s == pytest.approx(fast.fluoro_time_s) == pytest.approx(10.0)


def test_collimating_to_half_the_side_quarters_kap():
    wide, narrow = run(DoseLedger(), 5.0), run(DoseLedger(), 5.0, beam=ap_beam(half_mm=50.0))
    assert narrow.kap_Gycm2 / wide.kap_Gycm2 == pytest.approx(0.25, rel=0.15)
    assert narrow.air_kerma_mGy == pytest.approx(wide.air_kerma_mGy, rel=0.1)


def test_fluoro_alarm_every_five_minutes():
    ledger = run(DoseLedger(), 901.0, rate=7.5, kerma=0.0)
    alarms = [n.t_s for n in ledger.notifications if n.kind == "fluoro_alarm"]
    assert alarms == pytest.approx([300.0, 600.0, 900.0], abs=0.02)


def test_cine_counts_frames_and_time_but_not_fluoro_time():
    ledger = run(DoseLedger(), 4.0, rate=15.0, mode="cine")
    assert ledger.cine_frames == 60
    assert ledger.fluoro_time_s == 0.0
    assert ledger.cine_time_s == pytest.approx(4.0)


def test_one_event_per_pedal_press_with_its_totals():
    ledger = DoseLedger()
    run(ledger, 1.0)
    ledger.beam(1.0, 1 / 60, None, 15.0, 0.0, 0.0)
    run(ledger, 2.0, mode="cine")
    assert [e.mode for e in ledger.events] == ["fluoro", "cine"]
    assert sum(e.air_kerma_mGy for e in ledger.events) == pytest.approx(ledger.air_kerma_mGy)
    assert ledger.events[0].to_dict()["pulses"] == 15


def test_air_kerma_notifications_at_level_thresholds_and_srdl():
    ledger = DoseLedger(notify_air_kerma_mGy=(50.0,))
    ledger.add_pulse(pulse(1.0, kerma=60.0))
    ledger.add_pulse(pulse(2.0, kerma=5000.0))
    messages = [n.message for n in ledger.notifications]
    assert messages[0] == "reference air kerma passed 0.05 Gy"
    assert any("5 Gy" in m for m in messages) and any("3 Gy" in m for m in messages)


def test_skin_dose_follows_inverse_square_with_backscatter_and_table():
    ledger = DoseLedger(width_mm=340.0, thickness_ap_mm=220.0)
    ledger.add_pulse(pulse(0.0, kerma=10.0))
    # The back skin (y = +110 mm) is 810 - 110 = 700 mm from the source; the IRP is 660 mm from it.
    expected = 10.0 * (660.0 / 700.0) ** 2 * C.BACKSCATTER_FACTOR * C.TABLE_TRANSMISSION
    assert ledger.peak_skin_dose_mGy == pytest.approx(expected, rel=0.02)
    # Only the entrance side is dosed: the front of the body gets nothing.
    front = ledger.skin.dose_mGy[np.abs(ledger.skin.theta - np.pi) < 0.3]
    assert front.max() == 0.0


def test_changing_the_angle_spreads_skin_dose():
    fixed = DoseLedger()
    for k in range(20):
        fixed.add_pulse(pulse(k, kerma=1.0, beam=ap_beam(half_mm=50.0)))
    spread = DoseLedger()
    for k in range(20):
        angle = -40.0 + 80.0 * (k % 2)
        spread.add_pulse(pulse(k, kerma=1.0, beam=ap_beam(half_mm=50.0, lao_deg=angle), lao=angle))
    assert spread.air_kerma_mGy == fixed.air_kerma_mGy
    assert spread.peak_skin_dose_mGy < 0.7 * fixed.peak_skin_dose_mGy


def test_operator_dose_per_kap_projection_and_shielding():
    plain = OperatorShielding(ceiling_shield=False)
    assert operator_dose_uSv(10.0, 0.0, plain) == pytest.approx(10.0 * 1089 / 1000)
    assert projection_factor(90.0) / projection_factor(-90.0) == pytest.approx(23.0)
    shielded = operator_dose_uSv(10.0, 0.0, OperatorShielding(ceiling_shield=True))
    assert shielded == pytest.approx(10.0 * 54 / 1000)
    far = operator_dose_uSv(10.0, 0.0, OperatorShielding(distance_mm=1400.0))
    assert far == pytest.approx(operator_dose_uSv(10.0, 0.0, plain) / 4)
