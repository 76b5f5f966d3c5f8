"""Creatinine clearance by Cockcroft-Gault (Nephron 1976;16:31-41).

CrCl [mL/min] = (140 - age) x weight [kg] / (72 x SCr [mg/dL]), x 0.85 if female.

With creatinine in nmol/L (1 mg/dL = 88,400 nmol/L) and the result in 0.1 mL/min:
CrCl x 10 = (140 - age) x W10 x 88400 / (72 x nmol) = (140 - age) x W10 x 11050 / (9 nmol);
the female factor 17/20 turns 11050 / 9 into 18785 / 18. The weight W10 (0.1 kg) is an
exact fraction num / den, so the result is the correctly rounded value of the formula.
"""

from fixmath import ratio
from limits import AGE, check, check_scr_nmol

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_K_MALE = const(11050)
_M_MALE = const(9)
_K_FEMALE = const(18785)
_M_FEMALE = const(18)


def crcl(age, female, weight_num, weight_den, scr):
    """Cockcroft-Gault CrCl in 0.1 mL/min, correctly rounded (halves up).

    weight_num / weight_den is the dosing weight in 0.1 kg (see body.weight_num);
    scr is serum creatinine in nmol/L.
    """
    check(AGE, age)
    check_scr_nmol(scr)
    a = (140 - age) * weight_num
    if female:
        return ratio(a, _K_FEMALE, _M_FEMALE * scr, weight_den)
    return ratio(a, _K_MALE, _M_MALE * scr, weight_den)
