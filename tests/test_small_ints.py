"""Every intermediate value of the renal calculations stays below 2**30 in magnitude.

The firmware is loaded with every arithmetic result recorded (mmrenal.intcheck) and run
over the corners of the validated domain (where products and quotients peak), the
thresholds in between, and a random sample; `make soak` runs a far larger sample.
"""

from __future__ import annotations

import random

import pytest

from mmrenal import intcheck, sweep

from support import SOAK

LIMIT = 1 << 30


@pytest.fixture(scope="module")
def instrumented():
    rec = intcheck.Recorder()
    return rec, intcheck.load_instrumented(rec)


def _run_all(mods, points):
    renal, kdigo = mods["renal"], mods["kdigo"]
    r = renal.Renal()
    for age, female, w, h, scr, policy in points:
        for pct in (110, 150):
            for dialysis in (False, True):
                renal.assess(r, age, female, w, h, scr, policy, pct, dialysis, 1)
    a = kdigo.Aki()
    hi, lo = sweep.SCR_MG[1] * 884, sweep.SCR_MG[0] * 884
    times = [0, 1, 2880, 10080, (1 << 30) - 1]
    for values in ([lo, hi, lo, hi, hi], [hi, hi, hi, hi, hi], [lo, lo, lo, lo, hi]):
        kdigo.stage(a, times, values, len(times), True)


@pytest.mark.req("R-CORE-02")
def test_corners_and_sample_stay_small(instrumented):
    rec, mods = instrumented
    rec.reset()
    n = 200_000 if SOAK else 3_000
    _run_all(mods, sweep.crcl_points(n, seed=7))
    assert rec.count > 100_000  # the recorder really saw the arithmetic
    assert rec.max_abs < LIMIT, rec.top()


@pytest.mark.req("R-CORE-02")
def test_egfr_every_creatinine_at_age_ends(instrumented):
    rec, mods = instrumented
    rec.reset()
    egfr = mods["egfr"].egfr
    step = 1 if SOAK else 13
    for scr in sweep.scr_values(step):
        for age in (18, 110):
            for female in (0, 1):
                egfr(age, female, scr)
    assert rec.max_abs < LIMIT, rec.top()


@pytest.mark.req("R-CORE-02")
def test_parsing_stays_small(instrumented):
    rec, mods = instrumented
    rec.reset()
    limits = mods["limits"]
    rng = random.Random(3)
    for spec in (limits.AGE, limits.WEIGHT, limits.HEIGHT, limits.SCR_MG_DL, limits.SCR_UMOL_L):
        for text in ("0", "1000000", "999999.9", "0.01", str(rng.randint(0, 10**6))):
            try:
                limits.parse(spec, text)
            except limits.InputError:
                pass
    assert rec.max_abs < LIMIT, rec.top()


@pytest.mark.req("R-CORE-02")
def test_recorder_catches_an_overflow(instrumented):
    # The instrument must be able to fail: a product beyond 2**30 is seen.
    rec, mods = instrumented
    rec.reset()
    with pytest.raises(mods["fixmath"].FixedPointOverflow):
        mods["fixmath"].ratio(1 << 29, 1 << 29, 1, 1)
    rec.reset()
    mods["body"].bsa(3000, 2300)
    assert 0 < rec.max_abs < LIMIT
