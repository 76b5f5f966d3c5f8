"""Body size: ideal, adjusted and dosing weight, BMI and body surface area.

Weights are in 0.1 kg, heights in 0.1 cm. Ideal and adjusted weight are kept as exact
fractions (numerator over IBW_DEN or ADJ_DEN) so that Cockcroft-Gault can use them
without a rounding step a pharmacist could not reproduce.
"""

from fixmath import isqrt, ratio
from limits import HEIGHT, OBESE_PCT, WEIGHT, check

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


# Weight policies (institution choice) and the weight basis each one yields.
ACTUAL = const(0)
IDEAL = const(1)
ADJUSTED = const(2)
BMI_RULE = const(3)  # BMI < 18.5 actual; 18.5-25 min(ideal, actual); >= 25 adjusted
PHARMACY_RULE = const(4)  # actual < IBW actual; actual > obese_pct% of IBW adjusted; else ideal
POLICY_NAMES = ("actual", "ideal", "adjusted", "bmi", "pharmacy")

IBW_DEN = const(127)  # IBW (0.1 kg) = ibw_num() / 127: 1 inch = 2.54 cm
ADJ_DEN = const(635)  # adjusted = (3 * ibw_num + 254 * weight) / 635: 0.6 IBW + 0.4 actual
SHORT_HEIGHT = const(1524)  # 60 in: Devine's formula is extrapolated below it

_MALE_OFFSET = const(111760)  # 127 * (1380 - 500): 50 kg minus 2.3 kg x 60 in, in 0.1 kg
_FEMALE_OFFSET = const(117475)  # 127 * (1380 - 455): 45.5 kg minus 2.3 kg x 60 in


def ibw_num(female, height):
    """Devine 1974 ideal body weight, 0.1 kg, as a numerator over IBW_DEN.

    IBW = 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 60 in; in 0.1 kg
    with height h in 0.1 cm that is (115 h - offset) / 127.
    """
    check(HEIGHT, height)
    return 115 * height - (_FEMALE_OFFSET if female else _MALE_OFFSET)


def ibw(female, height):
    """Ideal body weight in 0.1 kg, rounded."""
    return ratio(ibw_num(female, height), 1, IBW_DEN, 1)


def adjusted_num(female, weight, height):
    """Adjusted body weight IBW + 0.4 (actual - IBW), 0.1 kg, numerator over ADJ_DEN."""
    check(WEIGHT, weight)
    return 3 * ibw_num(female, height) + 254 * weight


def adjusted(female, weight, height):
    """Adjusted body weight in 0.1 kg, rounded."""
    return ratio(adjusted_num(female, weight, height), 1, ADJ_DEN, 1)


def bmi(weight, height):
    """Body-mass index in 0.1 kg/m2: weight / height**2."""
    check(WEIGHT, weight)
    check(HEIGHT, height)
    return ratio(weight, 1000000, height * height, 1)


def bsa(weight, height):
    """Mosteller body surface area in 0.01 m2, correctly rounded.

    sqrt(h[cm] * w[kg] / 3600) * 100 = sqrt(h * w) / 6 with h, w in tenths; and
    floor((sqrt(x) + 3) / 6) == floor((isqrt(x) + 3) / 6) for integer x.
    """
    check(WEIGHT, weight)
    check(HEIGHT, height)
    return (isqrt(height * weight) + 3) // 6


def weight_basis(policy, female, weight, height, obese_pct):
    """Which weight (ACTUAL, IDEAL or ADJUSTED) the institution's policy picks."""
    check(WEIGHT, weight)
    check(HEIGHT, height)
    if policy == ACTUAL or policy == IDEAL or policy == ADJUSTED:
        return policy
    if policy == BMI_RULE:
        hh = height * height
        # BMI = weight * 100000 / hh (weight, height in tenths); compare without dividing.
        if 2 * weight * 100000 < 37 * hh:  # BMI < 18.5
            return ACTUAL
        if weight * 4000 >= hh:  # BMI >= 25
            return ADJUSTED
        if weight * IBW_DEN < ibw_num(female, height):
            return ACTUAL
        return IDEAL
    if policy == PHARMACY_RULE:
        check(OBESE_PCT, obese_pct)
        w127 = weight * IBW_DEN
        ideal = ibw_num(female, height)
        if w127 < ideal:
            return ACTUAL
        if w127 * 100 > obese_pct * ideal:
            return ADJUSTED
        return IDEAL
    raise ValueError("unknown weight policy")


def weight_num(basis, female, weight, height):
    """The chosen weight in 0.1 kg as a numerator over weight_den(basis)."""
    if basis == IDEAL:
        return ibw_num(female, height)
    if basis == ADJUSTED:
        return adjusted_num(female, weight, height)
    return check(WEIGHT, weight)


def weight_den(basis):
    if basis == IDEAL:
        return IBW_DEN
    if basis == ADJUSTED:
        return ADJ_DEN
    return 1
