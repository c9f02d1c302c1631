"""Dose bookkeeping: Ka,r, KAP, fluoroscopy time, the skin dose map, operator dose, events and alarms."""

from game.sim.dose.ledger import DoseLedger, IrradiationEvent, Notification, Pulse
from game.sim.dose.operator import OperatorShielding, operator_dose_uSv
from game.sim.dose.skin import Beam, SkinDoseMap

__all__ = [
    "Beam",
    "DoseLedger",
    "IrradiationEvent",
    "Notification",
    "OperatorShielding",
    "Pulse",
    "SkinDoseMap",
    "operator_dose_uSv",
]
