"""The bedside renal assessment: every number the dose screens need, in one pass.

assess() fills a preallocated Renal object so that it allocates nothing; the fields
are fixed-point integers (the suffix says the scale) and small codes.
"""

from body import (
    IBW_DEN,
    IDEAL,
    SHORT_HEIGHT,
    adjusted,
    bmi,
    bsa,
    ibw,
    ibw_num,
    weight_basis,
    weight_den,
    weight_num,
)
from crcl import crcl
from egfr import egfr
from fixmath import ratio

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# Warning bits: each one is a reason the CrCl on screen needs a second look.
W_AKI = const(1)  # creatinine is rising (KDIGO): not a steady state, CG overstates
W_DIALYSIS = const(2)  # on dialysis: CrCl bands do not apply, the dialysis entry does
W_SHORT = const(4)  # height under 60 in: Devine IBW extrapolated
W_IDEAL_OVER_ACTUAL = const(8)  # ideal weight used although it exceeds actual weight
# Codes on the wire; the host and the screens hold the words.
WARNING_CODES = (
    "cg_unreliable_aki",
    "cg_not_valid_dialysis",
    "ibw_extrapolated_short",
    "ideal_weight_above_actual",
)

_IMWG_SCR = const(176800)  # 2 mg/dL in nmol/L
_IMWG_CRCL = const(400)  # 40 mL/min in 0.1 mL/min


class Renal:
    def __init__(self):
        self.crcl_x10 = 0  # mL/min
        self.egfr_x10 = 0  # mL/min/1.73 m2
        self.bsa_x100 = 0  # m2
        self.bmi_x10 = 0  # kg/m2
        self.ibw_x10 = 0  # kg
        self.adjbw_x10 = 0  # kg
        self.weight_x10 = 0  # kg, the weight Cockcroft-Gault used
        self.policy = 0  # body.POLICY_NAMES
        self.basis = 0  # body.ACTUAL / IDEAL / ADJUSTED
        self.imwg = False  # IMWG renal impairment: SCr > 2 mg/dL or CrCl < 40 mL/min
        self.warnings = 0  # W_* bits


def imwg_impairment(scr, crcl_x10):
    """IMWG renal impairment: SCr > 2 mg/dL or CrCl < 40 mL/min."""
    return scr > _IMWG_SCR or crcl_x10 < _IMWG_CRCL


def assess(r, age, female, weight, height, scr, policy, obese_pct, on_dialysis, aki_stage):
    """Fill r (a Renal) for one patient; all inputs are fixed-point integers:
    age y, weight 0.1 kg, height 0.1 cm, scr nmol/L; aki_stage from kdigo.stage()."""
    basis = weight_basis(policy, female, weight, height, obese_pct)
    num = weight_num(basis, female, weight, height)
    den = weight_den(basis)
    r.policy = policy
    r.basis = basis
    r.weight_x10 = ratio(num, 1, den, 1)
    r.crcl_x10 = crcl(age, female, num, den, scr)
    r.egfr_x10 = egfr(age, female, scr)
    r.bsa_x100 = bsa(weight, height)
    r.bmi_x10 = bmi(weight, height)
    r.ibw_x10 = ibw(female, height)
    r.adjbw_x10 = adjusted(female, weight, height)
    r.imwg = imwg_impairment(scr, r.crcl_x10)
    w = 0
    if aki_stage:
        w |= W_AKI
    if on_dialysis:
        w |= W_DIALYSIS
    if height < SHORT_HEIGHT:
        w |= W_SHORT
    if basis == IDEAL and weight * IBW_DEN < ibw_num(female, height):
        w |= W_IDEAL_OVER_ACTUAL
    r.warnings = w
