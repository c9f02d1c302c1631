"""Contrast agent in the vessels: injection at the catheter tip, transport with the blood, wash-out."""

from game.sim.contrast.transport import ContrastTransport, Injection

__all__ = ["ContrastTransport", "Injection"]
