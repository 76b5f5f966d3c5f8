"""eGFR by the CKD-EPI 2021 creatinine equation, race-free (Inker, NEJM 2021;385:1737).

eGFR = 142 x min(SCr/k, 1)**a x max(SCr/k, 1)**-1.200 x 0.9938**age x 1.012 [female],
k = 0.7 (F) / 0.9 (M) mg/dL, a = -0.241 (F) / -0.302 (M); mL/min/1.73 m2.

Computed as a sum of logarithms in base 2 (Q24 fixed point) and one exp2, so the
powers need no float: log2(eGFR x 10) = log2(1420) + e log2(SCr/k) + age log2(0.9938)
[+ log2(1.012)]. The exponents are exact fractions (241/1000, 302/1000, 6/5).
"""

from fixmath import exp2_q24, log2_q24, ratio
from fixtables import (
    LOG2_1012_Q24,
    LOG2_1420_Q24,
    LOG2_KAPPA_F_Q24,
    LOG2_KAPPA_M_Q24,
    NEG_LOG2_09938_Q32,
)
from limits import AGE, check, check_scr_nmol


def egfr(age, female, scr):
    """CKD-EPI 2021 eGFR in 0.1 mL/min/1.73 m2; scr in nmol/L."""
    check(AGE, age)
    check_scr_nmol(scr)
    x = log2_q24(scr) - (LOG2_KAPPA_F_Q24 if female else LOG2_KAPPA_M_Q24)  # log2(SCr/k)
    if x <= 0:
        # SCr <= k: (SCr/k)**a with a < 0 and log2(SCr/k) <= 0 adds a * x >= 0.
        term = ratio(-x, 241 if female else 302, 1000, 1)
    else:
        term = -ratio(x, 6, 5, 1)  # (SCr/k)**-1.2
    y = LOG2_1420_Q24 + term - ratio(age, NEG_LOG2_09938_Q32, 256, 1)
    if female:
        y += LOG2_1012_Q24
    return exp2_q24(y)
