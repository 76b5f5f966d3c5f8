"""Acute kidney injury stage by the KDIGO 2012 creatinine criteria.

From a timed series of serum creatinine values (times in minutes, values in nmol/L,
oldest first), each sample is compared with the samples before it:
  stage 1: a rise >= 26.5 umol/L (0.3 mg/dL) within 48 h, or >= 1.5 x the lowest
           value of the previous 7 days;
  stage 2: >= 2.0 x that baseline;
  stage 3: >= 3.0 x that baseline, or a rise (stage 1 or 2) that reaches >= 4.0 mg/dL
           (353.6 umol/L), or kidney replacement therapy (dialysis).
The 26.5 umol/L threshold is KDIGO's; it is 20 nmol/L below 0.3 mg/dL, so a rise of
exactly 0.3 mg/dL also counts. Nothing here allocates for a valid series.
"""

from limits import MINUTES, InputError, check, check_scr_nmol

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


_WEEK = const(10080)  # minutes in 7 days
_TWO_DAYS = const(2880)  # minutes in 48 h
RISE_NMOL = const(26500)  # 26.5 umol/L in nmol/L (the screens use it for "rising")
_SCR_4_MG_DL = const(353600)  # 4.0 mg/dL in nmol/L

# Which criterion set the stage.
NONE = const(0)
RISE_48H = const(1)
RATIO_1_5 = const(2)
RATIO_2 = const(3)
RATIO_3 = const(4)
SCR_4_MG_DL = const(5)
KRT = const(6)
CRITERION_NAMES = (
    "none",
    "rise >= 26.5 umol/L (0.3 mg/dL) within 48 h",
    ">= 1.5 x baseline within 7 days",
    ">= 2.0 x baseline",
    ">= 3.0 x baseline",
    "rise to >= 4.0 mg/dL (353.6 umol/L)",
    "kidney replacement therapy",
)


class Aki:
    """Result of stage(): the highest stage, the criterion and the sample index."""

    def __init__(self):
        self.stage = 0
        self.criterion = NONE
        self.at = -1


def stage(result, times, values, n, on_krt):
    """Fill `result` (an Aki) with the highest KDIGO stage over the first n samples."""
    result.stage = 0
    result.criterion = NONE
    result.at = -1
    for i in range(n):
        check(MINUTES, times[i])
        check_scr_nmol(values[i])
        if i and times[i] < times[i - 1]:
            raise InputError("time", "creatinine samples must be in time order")
    for i in range(1, n):
        ti = times[i]
        vi = values[i]
        base = 0  # lowest value in the 7 days before sample i
        low = 0  # lowest value in the 48 h before sample i
        j = i - 1
        while j >= 0 and ti - times[j] <= _WEEK:
            v = values[j]
            if base == 0 or v < base:
                base = v
            if ti - times[j] <= _TWO_DAYS and (low == 0 or v < low):
                low = v
            j -= 1
        s = 0
        c = NONE
        if base:
            if vi >= 3 * base:
                s = 3
                c = RATIO_3
            elif vi >= 2 * base:
                s = 2
                c = RATIO_2
            elif 2 * vi >= 3 * base:
                s = 1
                c = RATIO_1_5
        if s == 0 and low and vi - low >= RISE_NMOL:
            s = 1
            c = RISE_48H
        if s and s < 3 and vi >= _SCR_4_MG_DL:
            s = 3
            c = SCR_4_MG_DL
        if s > result.stage:
            result.stage = s
            result.criterion = c
            result.at = i
    if on_krt and result.stage < 3:
        result.stage = 3
        result.criterion = KRT
        result.at = n - 1
