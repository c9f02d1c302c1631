"""The device catalogue: guidewires, catheters and stents with real dimensions, stiffness and tip shapes.

Stiffness values are from DOMAIN.md section 5 (Harrison 2011 for 0.035" wires); catheter shaft stiffness and
tip softness are marked *(est.)* there. A tip shape is a list of planar arcs walked from the distal tip toward
the hub: each arc has a length (mm) and a turning angle (deg; positive and negative curve opposite ways in the
tip's plane), which the mechanics turn into a rest curvature along the device.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from game.sim.constants import MM_PER_FRENCH, MM_PER_INCH


class DeviceKind(StrEnum):
    WIRE = "wire"
    CATHETER = "catheter"
    STENT = "stent"


@dataclass(frozen=True)
class Arc:
    """A piece of the tip's rest shape: ``length_mm`` of centreline turning by ``angle_deg`` in the tip plane."""

    length_mm: float
    angle_deg: float = 0.0


@dataclass(frozen=True)
class Device:
    """One catalogue entry. Diameters and lengths in mm, bending stiffness EI in N*mm^2."""

    name: str
    title: str
    kind: DeviceKind
    outer_diameter_mm: float
    length_mm: float
    bending_stiffness_N_mm2: float
    friction_coefficient: float
    #: Rest shape of the distal end, from the tip toward the hub.
    tip_shape: tuple[Arc, ...] = ()
    #: The distal ``soft_tip_length_mm`` is ``soft_tip_stiffness_ratio`` times as stiff as the shaft.
    soft_tip_length_mm: float = 0.0
    soft_tip_stiffness_ratio: float = 1.0
    inner_diameter_mm: float = 0.0  # catheters and stent delivery systems: the wire lumen
    #: Rapid-exchange systems carry the wire only over their distal part (it leaves at a side port this far from
    #: the tip); 0: over the wire, the lumen runs the whole length.
    rapid_exchange_lumen_mm: float = 0.0
    #: Tip contact force above which the wall is injured (dissection/perforation), N *(est.)*.
    max_tip_force_N: float = 1.0
    #: Stents: expanded diameter and length, mm; markers at both ends of the stent, the distal one this far behind
    #: the delivery system's tip (balloon taper and tip), mm.
    stent_diameter_mm: float = 0.0
    stent_length_mm: float = 0.0
    stent_distal_offset_mm: float = 0.0
    uses: tuple[str, ...] = field(default_factory=tuple)

    @property
    def radius_mm(self) -> float:
        return self.outer_diameter_mm / 2.0

    @property
    def wire_lumen_length_mm(self) -> float:
        """How much of the device a wire inside it runs through (from the tip)."""
        return self.rapid_exchange_lumen_mm or self.length_mm

    def fits_over(self, wire: Device) -> bool:
        """True when ``wire`` passes through this device's lumen."""
        return self.inner_diameter_mm >= wire.outer_diameter_mm


WIRE_035_MM = 0.035 * MM_PER_INCH  # 0.89 mm
WIRE_014_MM = 0.014 * MM_PER_INCH  # 0.36 mm
LUMEN_038_MM = 0.038 * MM_PER_INCH  # inner diameter of a 4-6 F diagnostic catheter
LUMEN_6F_GUIDE_MM = 0.071 * MM_PER_INCH  # inner diameter of a 6 F guiding catheter (takes balloons and stents)

# Friction coefficients (est., DOMAIN.md section 5): hydrophilic wet, PTFE, bare polymer/steel.
MU_HYDROPHILIC = 0.03
MU_PTFE = 0.1
MU_POLYMER = 0.2
# Shaft stiffness of catheters (est., DOMAIN.md section 5: 5F 99-330, 6F 179-597 N*mm^2).
EI_CATHETER_5F_N_MM2 = 180.0
EI_CATHETER_6F_N_MM2 = 350.0
# Standard (non-stiff) 0.035" hydrophilic and J wires (est.: below the Amplatz's 291 N*mm^2).
EI_STANDARD_035_N_MM2 = 120.0
EI_CORONARY_014_N_MM2 = 40.0  # DOMAIN.md: <= 40-160 N*mm^2
FLOPPY_TIP_RATIO = 1.0 / 20.0  # DOMAIN.md: 10-30x softer over the distal 1-3 cm
# Tip force limits (est.): hydrophilic wires cross lesions at a fraction of a newton; catheters push harder.
MAX_FORCE_WIRE_N = 0.6
MAX_FORCE_CORONARY_WIRE_N = 0.25
MAX_FORCE_CATHETER_N = 1.5
# Distance from a balloon catheter's tip to the stent's distal marker (balloon shoulder and tip), mm (est.).
STENT_TIP_OFFSET_MM = 5.0
STENT_TIP_OFFSET_CORONARY_MM = 3.0
# Rapid-exchange coronary systems: the wire leaves the shaft at a port ~25 cm from the tip (est.).
RAPID_EXCHANGE_LUMEN_MM = 250.0


def _wire(name: str, title: str, ei: float, mu: float, tip: tuple[Arc, ...], uses: tuple[str, ...], *,
          diameter_mm: float = WIRE_035_MM, length_mm: float = 1500.0, soft_mm: float = 30.0,
          max_force_N: float = MAX_FORCE_WIRE_N) -> Device:  # fmt: skip
    """A guidewire: a floppy distal ``soft_mm`` (DOMAIN.md: 10-30x softer) on a shaft of stiffness ``ei``."""
    return Device(name, title, DeviceKind.WIRE, diameter_mm, length_mm, ei, mu, tip_shape=tip,
                  soft_tip_length_mm=soft_mm, soft_tip_stiffness_ratio=FLOPPY_TIP_RATIO,
                  max_tip_force_N=max_force_N, uses=uses)  # fmt: skip


def _catheter(name: str, title: str, french: int, length_mm: float, mu: float, tip: tuple[Arc, ...],
              uses: tuple[str, ...], *, soft_mm: float = 10.0, lumen_mm: float = LUMEN_038_MM) -> Device:  # fmt: skip
    """A catheter of ``french`` size (a diagnostic one has a 0.038" lumen) with a softer (half as stiff) tip."""
    ei = EI_CATHETER_5F_N_MM2 if french <= 5 else EI_CATHETER_6F_N_MM2
    return Device(name, title, DeviceKind.CATHETER, french * MM_PER_FRENCH, length_mm, ei, mu, tip_shape=tip,
                  soft_tip_length_mm=soft_mm, soft_tip_stiffness_ratio=0.5, inner_diameter_mm=lumen_mm,
                  max_tip_force_N=MAX_FORCE_CATHETER_N, uses=uses)  # fmt: skip


_CATALOGUE: tuple[Device, ...] = (
    _wire(
        "angled_hydrophilic_035",
        '0.035" angled hydrophilic guidewire',
        EI_STANDARD_035_N_MM2,
        MU_HYDROPHILIC,
        (Arc(3.0), Arc(6.0, 45.0)),
        ("selecting branches", "crossing lesions"),
    ),
    _wire(
        "j_tip_035",
        '0.035" J-tip guidewire (3 mm J)',
        EI_STANDARD_035_N_MM2,
        MU_PTFE,
        (Arc(9.4, 180.0),),
        ("safe advance in large vessels",),
    ),
    _wire(
        "amplatz_stiff_035",
        '0.035" Amplatz super-stiff guidewire',
        1849.0,
        MU_PTFE,
        (Arc(6.0, 30.0),),
        ("support for stents and exchanges", "straightening catheters"),
        length_mm=2600.0,
        soft_mm=60.0,
    ),
    _wire(
        "coronary_014",
        '0.014" workhorse coronary guidewire',
        EI_CORONARY_014_N_MM2,
        MU_HYDROPHILIC,
        (Arc(2.0), Arc(3.0, 40.0)),
        ("coronary wiring", "stent delivery"),
        diameter_mm=WIRE_014_MM,
        length_mm=1900.0,
        max_force_N=MAX_FORCE_CORONARY_WIRE_N,
    ),
    _catheter(
        "cobra_c2_5f",
        "Cobra C2 5F catheter",
        5,
        650.0,
        MU_HYDROPHILIC,
        (Arc(10.0), Arc(25.0, 70.0), Arc(20.0), Arc(30.0, -35.0)),
        ("renal and visceral branches",),
    ),
    _catheter(
        "berenstein_5f",
        "Berenstein 5F catheter (short angled tip)",
        5,
        1000.0,
        MU_HYDROPHILIC,
        (Arc(15.0), Arc(10.0, 40.0)),
        ("selecting branches", "crossing stenoses"),
    ),
    _catheter(
        "simmons_1_5f",
        "Simmons 1 (sidewinder) 5F catheter",
        5,
        1000.0,
        MU_HYDROPHILIC,
        (Arc(8.0), Arc(10.0, -35.0), Arc(30.0), Arc(35.0, 180.0)),
        ("steep (type III) arches: reverse-curve engagement of the great vessels",),
    ),
    _catheter(
        "simmons_2_5f",
        "Simmons 2 (sidewinder) 5F catheter",
        5,
        1000.0,
        MU_HYDROPHILIC,
        (Arc(10.0), Arc(12.0, -35.0), Arc(45.0), Arc(50.0, 180.0)),
        ("wide or elongated type III arches",),
    ),
    _catheter(
        "judkins_left_4_6f",
        "Judkins left JL4 6F catheter",
        6,
        1000.0,
        MU_PTFE,
        (Arc(6.0), Arc(12.0, 90.0), Arc(40.0), Arc(45.0, 180.0)),
        ("engaging the left main coronary artery",),
        soft_mm=5.0,
    ),
    _catheter(
        "judkins_left_4_6f_guide",
        "Judkins left JL4 6F guiding catheter (0.071\" lumen)",
        6,
        1000.0,
        MU_PTFE,
        (Arc(6.0), Arc(12.0, 90.0), Arc(40.0), Arc(45.0, 180.0)),
        ("coronary intervention on the left coronary artery: carries the wire, balloons and stents",),
        soft_mm=5.0,
        lumen_mm=LUMEN_6F_GUIDE_MM,
    ),
    _catheter(
        "judkins_right_4_6f",
        "Judkins right JR4 6F catheter",
        6,
        1000.0,
        MU_PTFE,
        (Arc(6.0), Arc(10.0, 90.0), Arc(40.0), Arc(30.0, 30.0)),
        ("engaging the right coronary artery",),
        soft_mm=5.0,
    ),
    _catheter(
        "pigtail_5f",
        "Pigtail 5F flush catheter",
        5,
        1100.0,
        MU_PTFE,
        (Arc(31.4, 360.0), Arc(10.0)),
        ("non-selective flush injections in large vessels",),
        soft_mm=30.0,
    ),
    _catheter(
        "multipurpose_5f",
        "Multipurpose (straight) 5F catheter",
        5,
        1000.0,
        MU_HYDROPHILIC,
        (Arc(10.0), Arc(10.0, 30.0)),
        ("following a wire", "exchanges"),
    ),
    Device(
        "stent_balloon_6x18",
        'Balloon-expandable stent 6 x 18 mm on a 0.035" delivery system (renal/iliac)',
        DeviceKind.STENT,
        6 * MM_PER_FRENCH,
        800.0,
        EI_CATHETER_6F_N_MM2,
        MU_HYDROPHILIC,
        inner_diameter_mm=LUMEN_038_MM,
        max_tip_force_N=MAX_FORCE_CATHETER_N,
        stent_diameter_mm=6.0,
        stent_length_mm=18.0,
        stent_distal_offset_mm=STENT_TIP_OFFSET_MM,
        uses=("renal and iliac stenoses",),
    ),
    Device(
        "stent_coronary_3x18",
        'Balloon-expandable coronary stent 3.0 x 18 mm on a 0.014" rapid-exchange system',
        DeviceKind.STENT,
        1.0,  # crossing profile ~1 mm
        1420.0,
        60.0,  # (est.) coronary delivery system shaft
        MU_HYDROPHILIC,
        inner_diameter_mm=0.4,
        max_tip_force_N=MAX_FORCE_CATHETER_N,
        stent_diameter_mm=3.0,
        stent_length_mm=18.0,
        stent_distal_offset_mm=STENT_TIP_OFFSET_CORONARY_MM,
        rapid_exchange_lumen_mm=RAPID_EXCHANGE_LUMEN_MM,
        uses=("coronary stenting (PCI)",),
    ),
)

CATALOGUE: dict[str, Device] = {d.name: d for d in _CATALOGUE}


def device(name: str) -> Device:
    """The catalogue entry called ``name`` (KeyError if there is none)."""
    return CATALOGUE[name]
