"""A device's material along its length: bending stiffness and rest turning, as functions of the distance from its tip.

``u`` is the material coordinate in mm, measured from the distal tip (u = 0) toward the hub. Both properties are
given as *cell integrals* (turning angle over ``[u_lo, u_hi]``, mean stiffness over it) so that a node whose cell
slides along the device as it advances sees properties that change continuously with the inserted length:
nothing pops when a curve or the soft tip passes a node. Beyond the tip (u < 0) there is no material: zero
stiffness and no turning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:  # np.interp's compiled kernel without its Python wrapper (real arguments only)
    from numpy._core.multiarray import interp as _interp
except ImportError:  # numpy < 2
    from numpy.core.multiarray import interp as _interp

from game.sim.devices.catalogue import Device, DeviceKind


@dataclass(frozen=True, eq=False)
class DeviceProfile:
    """Piecewise-linear cumulative integrals of curvature (rad) and stiffness (N*mm^3) over u (mm)."""

    device: Device
    turn_u_mm: np.ndarray  # breakpoints of the cumulative turning angle
    turn_rad: np.ndarray  # cumulative turning from the tip, rad (positive turns toward the material normal)
    stiffness_u_mm: np.ndarray  # breakpoints of the cumulative stiffness integral
    stiffness_integral: np.ndarray  # integral of EI du from the tip, N*mm^3

    @classmethod
    def of(cls, device: Device) -> DeviceProfile:
        u = [0.0]
        turn = [0.0]
        for arc in device.tip_shape:
            u.append(u[-1] + arc.length_mm)
            turn.append(turn[-1] + np.radians(arc.angle_deg))
        ei = device.bending_stiffness_N_mm2
        soft = min(device.soft_tip_length_mm, device.length_mm)
        soft_ei = ei * device.soft_tip_stiffness_ratio
        su = np.array([0.0, soft, device.length_mm + 1.0])
        si = np.array([0.0, soft_ei * soft, soft_ei * soft + ei * (device.length_mm + 1.0 - soft)])
        return cls(device, np.array(u), np.array(turn), su, si)

    def turning_rad(self, u_lo_mm: np.ndarray, u_hi_mm: np.ndarray) -> np.ndarray:
        """Rest turning angle (rad) of the material between ``u_lo`` and ``u_hi`` (walking from hub to tip)."""
        return _interp(u_hi_mm, self.turn_u_mm, self.turn_rad) - _interp(u_lo_mm, self.turn_u_mm, self.turn_rad)

    def mean_stiffness_N_mm2(self, u_lo_mm: np.ndarray, u_hi_mm: np.ndarray) -> np.ndarray:
        """Bending stiffness EI (N*mm^2) averaged over ``[u_lo, u_hi]``; material beyond the tip counts as zero."""
        integral = _interp(u_hi_mm, self.stiffness_u_mm, self.stiffness_integral) - _interp(
            u_lo_mm, self.stiffness_u_mm, self.stiffness_integral
        )
        return integral / np.maximum(u_hi_mm - u_lo_mm, 1e-9)

    @property
    def marker_u_mm(self) -> tuple[float, ...]:
        """Material coordinates (mm from the tip) of the radiopaque markers."""
        d = self.device
        if d.kind == DeviceKind.STENT:
            return (d.stent_distal_offset_mm, d.stent_distal_offset_mm + d.stent_length_mm)
        if d.kind == DeviceKind.CATHETER:
            return (0.0,)
        return ()
