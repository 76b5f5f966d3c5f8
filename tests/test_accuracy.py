"""The integer core against the references over the validated domain.

Required: CrCl never more than 0.1 mL/min from the exact rational value and equal to
its correctly rounded value in >= 99.9% of points; eGFR within 0.1 mL/min/1.73 m2 of
the float reference everywhere; BSA within 0.01 m2. `make test` samples; `make soak`
covers eGFR and BSA exhaustively and CrCl with two million points.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from mmrenal import sweep

from support import SOAK


@pytest.mark.req("R-CALC-01")
def test_crcl_matches_exact_rational():
    st = sweep.sweep_crcl(sweep.crcl_points(2_000_000 if SOAK else 20_000, seed=11))
    assert st.points > 20_000
    assert st.max_abs_diff <= Fraction(1, 10), st.worst
    assert st.exact_share >= 0.999, (st.exact_share, st.worst)


@pytest.mark.req("R-WT-01")
def test_weight_policy_matches_reference():
    agree, total = sweep.sweep_policy(sweep.crcl_points(500_000 if SOAK else 20_000, seed=5))
    assert agree == total


@pytest.mark.req("R-CALC-02")
def test_egfr_within_a_tenth():
    grid = sweep.egfr_grid(1, 1) if SOAK else sweep.egfr_grid(5, 11)
    st = sweep.sweep_egfr(*grid)
    assert st.points > 10_000
    assert st.max_abs_diff <= Fraction(1, 10), st.worst
    assert st.exact_share >= 0.999


@pytest.mark.req("R-CALC-03")
def test_bsa_within_a_hundredth():
    st = sweep.sweep_bsa(1, 1) if SOAK else sweep.sweep_bsa(7, 5)
    assert st.points > 10_000
    assert st.max_abs_diff <= Fraction(1, 100), st.worst
