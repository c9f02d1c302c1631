"""Every physical, clinical and anatomical number the simulation uses, with its unit and source.

Section numbers refer to ``shared/DOMAIN.md``. Values marked *(est.)* there are reasoned estimates; they live
here, in one place, so they can be corrected.

Coordinate convention (used everywhere in ``game.sim``): patient coordinates in millimetres,
x toward the patient's left, y posterior (toward the table), z toward the head; the patient lies supine, head
first. The origin is on the midline, in the mid-coronal plane of the abdomen, at the level of the aortic
bifurcation (vertebra L4).
"""

from __future__ import annotations

# --- 1. Geometry ---
FOCUS_TO_ISOCENTRE_MM = 810.0  # Philips FD20, Azurion IFU p.312
FOCUS_TO_IRP_MM = 660.0  # interventional reference point, 15 cm from the isocentre toward the source
SID_DEFAULT_MM = 1195.0  # source-to-image distance
SID_RANGE_MM = (900.0, 1200.0)
FLAT_PANEL_FOV_CM = (48.0, 42.0, 37.0, 31.0, 27.0, 22.0, 19.0, 15.0)
IMAGE_INTENSIFIER_FOV_CM = (23.0, 17.0, 13.0)

MM_PER_FRENCH = 1.0 / 3.0  # 1 Fr = 1/3 mm outer diameter
MM_PER_INCH = 25.4

# --- 2. Dose ---
MAX_AIR_KERMA_RATE_NORMAL_MGY_PER_MIN = 88.0  # 21 CFR 1020.32, with AEC
MAX_AIR_KERMA_RATE_HIGH_MGY_PER_MIN = 176.0  # high-level control
FLUORO_ALARM_INTERVAL_S = 300.0  # audible alarm every 5 min of cumulative fluoroscopy
BACKSCATTER_FACTOR = 1.35  # (est.) 1.3-1.4
SRDL_AIR_KERMA_MGY = 5000.0  # substantial radiation dose level, NCRP 168
NOTIFY_AIR_KERMA_MGY = 3000.0  # (est.) first notification, then every further 1 Gy
NOTIFY_AIR_KERMA_STEP_MGY = 1000.0
DETECTOR_DOSE_PER_FLUORO_PULSE_NGY = 40.0  # image intensifier, JJRT 54(5)
PULSE_RATES_PER_S = (7.5, 15.0, 30.0)

# --- 3. Image chain: mass attenuation mu/rho in cm^2/g (NIST XCOM) ---
ATTENUATION_ENERGIES_KEV = (40.0, 50.0, 60.0, 70.0, 80.0)
MASS_ATTENUATION_CM2_PER_G = {
    "iodine": (22.10, 12.32, 7.58, 5.02, 3.51),
    "water": (0.268, 0.227, 0.206, 0.193, 0.184),
    "soft_tissue": (0.262, 0.223, 0.203, 0.191, 0.182),
    "cortical_bone": (0.645, 0.415, 0.310, 0.255, 0.222),
}
IODINE_K_EDGE_KEV = 33.17

# --- 4. Contrast and flow ---
CARDIAC_OUTPUT_ML_PER_MIN = 5000.0  # resting adult
ABDOMINAL_AORTA_FLOW_ML_PER_MIN = 3000.0  # (est.) flow entering the abdominal aorta at the diaphragm
MAX_TOTAL_CONTRAST_ML = 250.0  # Omnipaque label, 250-290 mL

# --- 6. Anatomy (diameters in DOMAIN.md; radii here) ---
AORTA_ASCENDING_RADIUS_MM = 15.0
AORTA_DESCENDING_RADIUS_MM = 8.5
ABDOMINAL_AORTA_RADIUS_MM = 10.0
ABDOMINAL_AORTA_DISTAL_RADIUS_MM = 8.5
RENAL_ARTERY_RADIUS_MM = 2.75
COMMON_ILIAC_RADIUS_MM = 5.0
COMMON_FEMORAL_RADIUS_MM = 4.5
COMMON_CAROTID_RADIUS_MM = 3.25
SUPRA_AORTIC_ORIGIN_RADIUS_MM = 5.0
LEFT_MAIN_RADIUS_MM = 2.25
LAD_PROXIMAL_RADIUS_MM = 1.75
# Arch gaps (stEVE parametric arch, type I): mean and sd in mm
ARCH_GAP_AORTA_TO_BCT_MM = (36.0, 5.0)
ARCH_GAP_BCT_TO_LCCA_MM = (16.0, 4.0)
ARCH_GAP_LCCA_TO_LSCA_MM = (28.0, 3.0)

# --- Level-file limits ---
MAX_LEVEL_FILE_BYTES = 1_000_000  # refuse larger level files rather than hang
MAX_VESSEL_RADIUS_MM = 100.0  # anything larger is absurd
MAX_COORDINATE_MM = 2000.0  # no point of a patient lies further than 2 m from the origin
CENTRELINE_SPACING_MM = 1.0  # resampling step of every centreline
MIN_BRANCH_LENGTH_MM = 3.0  # shorter branches cannot be sampled meaningfully

# --- 2b. Dose bookkeeping: skin and staff (DOMAIN.md section 2) ---
TABLE_TRANSMISSION = 0.75  # (est.) carbon-fibre tabletop + mattress, for beams entering from below the table
SKIN_MAP_CELL_MM = 10.0  # resolution of the skin dose map (1 cm, the usual PSD averaging area)
SKIN_MAP_Z_RANGE_MM = (-350.0, 550.0)  # from the upper thighs to the neck
OPERATOR_EYE_NSV_PER_GYCM2 = 1089.0  # unshielded operator eye dose per KAP, coronary (PMC1767881)
OPERATOR_EYE_NSV_PER_GYCM2_CEILING_SHIELD = 54.0  # with a 1 mm Pb ceiling-suspended shield (PMC1767881)
OPERATOR_LAO_TO_RAO_RATIO = 23.0  # tube on the operator's side scatters more: LAO : RAO ~ 23 : 1 (PMC1767881)
OPERATOR_REFERENCE_DISTANCE_MM = 700.0  # (est.) where the per-KAP figures apply: the operator at the groin
LEAD_APRON_TRANSMISSION = 0.05  # 0.25 mm Pb ~ -95 % at 80 kVp (Stanford EHS)
