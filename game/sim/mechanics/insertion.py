"""Insertion through the sheath: the access site, speed limits, and the rules that bound how far each device goes.

Inserted length is measured from the access point (the sheath's tip in the vessel) along the rod. Rules, applied
to the requested change of every device in the level's order:

1. ``0 <= inserted <= length - OUTSIDE_LENGTH_MM``: a device cannot go further in than its length allows (part of
   it stays in the sheath and in the hand), and pulled back past the access point it is out.
2. A device wider than the sheath cannot enter.
3. Coaxial devices nest when the outer one's lumen takes the inner one (``Device.fits_over``). Two inserted devices
   that do not nest cannot be in together (two wires, a 5F catheter and a 6F stent system): the second waits at the
   sheath until the first is out.
4. An inner device's hub end must stay outside the outer device's hub: ``inner - outer <= inner length - outer
   length`` (the wire cannot be pushed in so far that its end disappears into the catheter; a catheter cannot be
   pulled off over a wire that is too short to hold - exchanges need exchange-length wires). A catheter can only be
   loaded over an inserted wire whose outside part is longer than the catheter. For a rapid-exchange system the
   outer length is that of its short wire lumen (the wire leaves at a side port), so it loads on a standard wire.

Beyond these, coaxial devices move freely relative to each other: the wire may lead the catheter (it emerges from
the catheter's tip), the catheter may lead a retracted wire (then it is a catheter without a wire in its tip),
and either can be held while the other is advanced or rotated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.sim.constants import MM_PER_FRENCH
from game.sim.devices.catalogue import Device

#: Length of every device that stays outside the vessel: through a ~11 cm sheath and its valve, plus a grip *(est.)*.
OUTSIDE_LENGTH_MM = 150.0
#: Fastest hand push or pull at the hub, mm/s *(est.)*; also keeps a step's advance well under a node spacing.
MAX_ADVANCE_MM_PER_S = 60.0
#: Fastest hub rotation, deg/s *(est.: a full turn of the fingers per second)*.
MAX_ROTATE_DEG_PER_S = 360.0
#: Sheath sizes are named by the largest device they take (a 6F sheath takes a 6F catheter).
_SHEATH_TOLERANCE_MM = 0.05


@dataclass(frozen=True)
class AccessSite:
    """Where instruments enter: ``position_mm`` along ``branch``, heading "retrograde" (toward the branch's origin,
    decreasing s: femoral access toward the aorta) or "antegrade"; the sheath size in French."""

    branch: str
    position_mm: float
    direction: str = "retrograde"
    sheath_fr: float = 6.0

    def __post_init__(self) -> None:
        if self.direction not in ("retrograde", "antegrade"):
            raise ValueError(f"access direction must be 'retrograde' or 'antegrade', not {self.direction!r}")


def max_inserted_mm(device: Device) -> float:
    return max(device.length_mm - OUTSIDE_LENGTH_MM, 0.0)


def nests(inner: Device, outer: Device) -> bool:
    """True when ``inner`` runs inside ``outer``'s lumen."""
    return outer.inner_diameter_mm > 0.0 and outer.fits_over(inner)


def insert(devices: list[Device], inserted_mm: np.ndarray, requested_mm: np.ndarray, sheath_fr: float) -> np.ndarray:
    """Inserted lengths (mm) after each device asks to move from ``inserted_mm`` to ``requested_mm``."""
    result = np.array(inserted_mm, dtype=float)
    sheath_mm = sheath_fr * MM_PER_FRENCH + _SHEATH_TOLERANCE_MM
    for d, device in enumerate(devices):
        current = result[d]
        want = _clip(float(requested_mm[d]), 0.0, max_inserted_mm(device))
        if want == current:
            continue
        if current == 0.0 and device.outer_diameter_mm > sheath_mm:
            continue
        low, high = 0.0, max_inserted_mm(device)
        blocked = False
        for o, other in enumerate(devices):
            if o == d or result[o] <= 0.0:
                continue
            if nests(device, other):  # d inside o
                high = min(high, result[o] + device.length_mm - other.wire_lumen_length_mm)
            elif nests(other, device):  # o inside d
                bound = result[o] - (other.length_mm - device.wire_lumen_length_mm)
                if current == 0.0 and want < bound:
                    blocked = True
                low = max(low, bound)
            else:
                blocked = blocked or current == 0.0
        if blocked or low > high:
            continue
        result[d] = _clip(want, max(low, 0.0), max(high, 0.0))
    return result


def _clip(x: float, low: float, high: float) -> float:
    """``float(np.clip(x, low, high))`` for one number, bit for bit (a tie keeps ``x``, NaN stays NaN) and ~50 times
    faster."""
    if x != x:
        return x
    if x < low:
        x = low
    return high if x > high else x
