"""Instrument mechanics: pre-shaped elastic rods in the vessel tree, pushed and turned at their hubs.

``Instruments`` is the one object the procedure steps; see :mod:`game.sim.mechanics.instruments` for the model
and :mod:`game.sim.mechanics.rod` for the method and why it was chosen.
"""

from game.sim.mechanics.contact import ComplicationEvent, LumenIndex
from game.sim.mechanics.insertion import AccessSite
from game.sim.mechanics.instruments import NEWTON_ITERATIONS, NODE_SPACING_MM, Instruments
from game.sim.mechanics.stent import DeployedStent

__all__ = [
    "NEWTON_ITERATIONS",
    "NODE_SPACING_MM",
    "AccessSite",
    "ComplicationEvent",
    "DeployedStent",
    "Instruments",
    "LumenIndex",
]
