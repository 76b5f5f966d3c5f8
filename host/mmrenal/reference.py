"""Reference implementations, written straight from the published formulas.

These are the yardstick for the firmware's integer core and deliberately share none of
its code or tricks: Cockcroft-Gault, ideal/adjusted weight and the weight policies in
exact rational arithmetic (fractions.Fraction), and everything in float with numpy.
Units are the clinical ones: years, kg, cm, mg/dL.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import numpy as np

UMOL_PER_MG_DL = Fraction("88.4")
CM_PER_INCH = Fraction("2.54")


def scr_mg_dl(value: str, unit: str) -> Fraction:
    """Creatinine text in mg/dL or umol/L as an exact value in mg/dL."""
    v = Fraction(value)
    if unit == "mg/dL":
        return v
    if unit == "umol/L":
        return v / UMOL_PER_MG_DL
    raise ValueError(f"unknown unit {unit!r}")


# --- exact (Fraction) ------------------------------------------------------------


def ibw_exact(female: bool, height_cm: Fraction) -> Fraction:
    """Devine 1974: 50 kg (M) / 45.5 kg (F) + 2.3 kg per inch over 60 in."""
    base = Fraction("45.5") if female else Fraction(50)
    return base + Fraction("2.3") * (height_cm / CM_PER_INCH - 60)


def adjusted_exact(female: bool, weight_kg: Fraction, height_cm: Fraction) -> Fraction:
    ibw = ibw_exact(female, height_cm)
    return ibw + Fraction("0.4") * (weight_kg - ibw)


def bmi_exact(weight_kg: Fraction, height_cm: Fraction) -> Fraction:
    return weight_kg / (height_cm / 100) ** 2


def dosing_weight_exact(
    policy: str, female: bool, weight_kg: Fraction, height_cm: Fraction, obese_ratio=Fraction(6, 5)
) -> tuple[str, Fraction]:
    """(basis, weight in kg) for an institution's weight policy (clinical-facts.md)."""
    ibw = ibw_exact(female, height_cm)
    adjusted = adjusted_exact(female, weight_kg, height_cm)
    if policy == "actual":
        return "actual", weight_kg
    if policy == "ideal":
        return "ideal", ibw
    if policy == "adjusted":
        return "adjusted", adjusted
    if policy == "bmi":
        bmi = bmi_exact(weight_kg, height_cm)
        if bmi < Fraction("18.5"):
            return "actual", weight_kg
        if bmi >= 25:
            return "adjusted", adjusted
        return ("actual", weight_kg) if weight_kg < ibw else ("ideal", ibw)
    if policy == "pharmacy":
        if weight_kg < ibw:
            return "actual", weight_kg
        if weight_kg > obese_ratio * ibw:
            return "adjusted", adjusted
        return "ideal", ibw
    raise ValueError(f"unknown policy {policy!r}")


def crcl_exact(age: int, female: bool, weight_kg: Fraction, scr: Fraction) -> Fraction:
    """Cockcroft-Gault 1976, mL/min: (140 - age) x weight / (72 x SCr) [x 0.85 female]."""
    value = Fraction(140 - age) * weight_kg / (72 * scr)
    return value * Fraction("0.85") if female else value


def round_half_up(x: Fraction, decimals: int) -> Fraction:
    """x correctly rounded to `decimals` places, halves up (x >= 0)."""
    scale = 10**decimals
    return Fraction((x * scale * 2 + 1) // 2, scale)


def bsa_exact_rounded(weight_kg: Fraction, height_cm: Fraction) -> int:
    """Mosteller BSA in 0.01 m2, correctly rounded halves up, with 40-digit decimals
    (a square root of a perfect square, an exact tie, is exact in Decimal)."""
    with localcontext() as ctx:
        ctx.prec = 40
        x = Decimal(weight_kg.numerator * height_cm.numerator) / Decimal(
            weight_kg.denominator * height_cm.denominator * 3600
        )
        return int((x.sqrt() * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- float (numpy, vectorised) ---------------------------------------------------


def egfr_float(age, female, scr_mg_dl):
    """CKD-EPI 2021 race-free (Inker, NEJM 2021), mL/min/1.73 m2."""
    age = np.asarray(age, dtype=np.float64)
    female = np.asarray(female, dtype=bool)
    scr = np.asarray(scr_mg_dl, dtype=np.float64)
    k = np.where(female, 0.7, 0.9)
    a = np.where(female, -0.241, -0.302)
    ratio = scr / k
    return (
        142.0
        * np.minimum(ratio, 1.0) ** a
        * np.maximum(ratio, 1.0) ** -1.200
        * 0.9938**age
        * np.where(female, 1.012, 1.0)
    )


def bsa_float(weight_kg, height_cm):
    """Mosteller 1987: sqrt(height x weight / 3600), m2."""
    return np.sqrt(np.asarray(height_cm, np.float64) * np.asarray(weight_kg, np.float64) / 3600.0)


def crcl_float(age, female, weight_kg, scr_mg_dl):
    age = np.asarray(age, dtype=np.float64)
    value = (140.0 - age) * np.asarray(weight_kg, np.float64) / (72.0 * np.asarray(scr_mg_dl))
    return np.where(np.asarray(female, bool), value * 0.85, value)
