"""Live fluoroscopy: C-arm geometry, X-ray image formation, AEC, the image chain, DSA, roadmap and snapshots.

Modules, one concept each: :mod:`.carm` (geometry and projection), :mod:`.attenuation` (what the beam sees at a
kVp), :mod:`.aec` (automatic exposure control and the per-pulse :class:`Technique`), :mod:`.render` (the noise-free
attenuation image: body, iodine, instruments), :mod:`.shapes` (instruments as X-rays see them), :mod:`.chain`
(noise, filter, hold, cine, DSA, roadmap), :mod:`.display` (window/level, flat panel / image-intensifier look),
:mod:`.fluoroscopy` (the pulsed fluoroscope the procedure steps) and :mod:`.snapshot` (``lumen snapshot``).
"""

from game.sim.imaging.aec import Mode, Technique, choose_technique
from game.sim.imaging.carm import CArm
from game.sim.imaging.chain import ImageChain
from game.sim.imaging.fluoroscopy import Fluoroscope, PulseRecord
from game.sim.imaging.shapes import StentShape, Tube, device_shapes
from game.sim.imaging.snapshot import render_snapshot

__all__ = [
    "CArm",
    "Fluoroscope",
    "ImageChain",
    "Mode",
    "PulseRecord",
    "StentShape",
    "Technique",
    "Tube",
    "choose_technique",
    "device_shapes",
    "render_snapshot",
]
