"""Instruments: the device catalogue (and, with the mechanics, their rods)."""
