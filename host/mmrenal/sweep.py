"""Sweeps of the validated input domain: the integer core against the references.

Used by the tests (sampled, so `make test` stays quick), `make soak` (exhaustive where
the domain allows, large samples elsewhere) and `make bench` (the published figures).
Inputs are the firmware's fixed-point integers: age y, weight 0.1 kg, height 0.1 cm,
creatinine nmol/L; each creatinine is one a lab can report (0.01 mg/dL or 0.1 umol/L).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from mmrenal import reference
from mmrenal.firmware import load

POLICIES = ("actual", "ideal", "adjusted", "bmi", "pharmacy")
AGE = (18, 110)
WEIGHT = (250, 3000)
HEIGHT = (1200, 2300)
SCR_MG = (10, 2500)  # 0.01 mg/dL
SCR_UMOL = (89, 22100)  # 0.1 umol/L
OBESE_PCT = 120


def scr_values(step: int = 1) -> list[int]:
    """Every reportable creatinine (both units) in nmol/L, every `step`-th one."""
    mg = [s * 884 for s in range(SCR_MG[0], SCR_MG[1] + 1, step)]
    umol = [u * 100 for u in range(SCR_UMOL[0], SCR_UMOL[1] + 1, step)]
    return sorted(set(mg + umol))


def random_scr(rng: random.Random) -> int:
    if rng.random() < 0.5:
        return rng.randint(*SCR_MG) * 884
    return rng.randint(*SCR_UMOL) * 100


def corner_points() -> Iterator[tuple]:
    """Every combination of the ends of every range: where intermediates peak."""
    for age in AGE:
        for female in (0, 1):
            for w in WEIGHT:
                for h in HEIGHT:
                    for scr in (SCR_MG[0] * 884, SCR_MG[1] * 884, SCR_UMOL[0] * 100,
                                SCR_UMOL[1] * 100):
                        for p in range(len(POLICIES)):
                            yield age, female, w, h, scr, p


def crcl_points(n: int, seed: int = 1) -> Iterator[tuple]:
    """Corners, then n random points, log-uniform in creatinine half of the time."""
    yield from corner_points()
    rng = random.Random(seed)
    for _ in range(n):
        yield (rng.randint(*AGE), rng.randint(0, 1), rng.randint(*WEIGHT), rng.randint(*HEIGHT),
               random_scr(rng), rng.randrange(len(POLICIES)))


@dataclass
class Stats:
    """Differences between the integer core and a reference, in output units."""

    name: str
    unit: str
    resolution: Fraction
    points: int = 0
    exact: int = 0
    max_abs_diff: Fraction = Fraction(0)
    worst: tuple = ()
    float_ties: int = 0  # points where float64 rounding of the reference was settled exactly

    def add(self, got: int, want_rounded: int, diff_to_true: Fraction, where: tuple) -> None:
        self.points += 1
        if got == want_rounded:
            self.exact += 1
        d = abs(diff_to_true)
        if d > self.max_abs_diff:
            self.max_abs_diff = d
            self.worst = where

    @property
    def exact_share(self) -> float:
        return self.exact / self.points if self.points else 0.0


def sweep_crcl(points) -> Stats:
    """CrCl (0.1 mL/min) against exact rational Cockcroft-Gault, correctly rounded."""
    body = load("body")
    crcl = load("crcl")
    st = Stats("CrCl (Cockcroft-Gault)", "mL/min", Fraction(1, 10))
    for age, female, w, h, scr, p in points:
        basis = body.weight_basis(p, female, w, h, OBESE_PCT)
        got = crcl.crcl(age, female, body.weight_num(basis, female, w, h),
                        body.weight_den(basis), scr)
        _, kg = reference.dosing_weight_exact(POLICIES[p], bool(female), Fraction(w, 10),
                                              Fraction(h, 10), Fraction(OBESE_PCT, 100))
        true = reference.crcl_exact(age, bool(female), kg, Fraction(scr, 88400))
        want = reference.round_half_up(true, 1)
        st.add(got, int(want * 10), Fraction(got, 10) - true, (age, female, w, h, scr, p))
    return st


def sweep_policy(points) -> tuple[int, int]:
    """(agreements, points): the basis each policy picks, against the exact reference."""
    body = load("body")
    agree = total = 0
    for _age, female, w, h, _scr, p in points:
        basis = body.POLICY_NAMES[body.weight_basis(p, female, w, h, OBESE_PCT)]
        ref, _ = reference.dosing_weight_exact(POLICIES[p], bool(female), Fraction(w, 10),
                                               Fraction(h, 10), Fraction(OBESE_PCT, 100))
        total += 1
        agree += basis == ref
    return agree, total


def egfr_grid(age_step: int = 1, scr_step: int = 1) -> tuple[np.ndarray, ...]:
    ages = np.arange(AGE[0], AGE[1] + 1, age_step)
    if ages[-1] != AGE[1]:
        ages = np.append(ages, AGE[1])
    scrs = np.array(scr_values(scr_step))
    a, f, s = np.meshgrid(ages, np.array([0, 1]), scrs, indexing="ij")
    return a.ravel(), f.ravel(), s.ravel()


def sweep_egfr(ages, females, scrs) -> Stats:
    """eGFR (0.1 mL/min/1.73 m2) against the numpy float CKD-EPI 2021."""
    egfr = load("egfr").egfr
    ref = reference.egfr_float(ages, females.astype(bool), scrs / 88400.0)
    st = Stats("eGFR (CKD-EPI 2021)", "mL/min/1.73 m2", Fraction(1, 10))
    want = np.floor(ref * 10 + 0.5).astype(np.int64)
    for i in range(len(ages)):
        got = egfr(int(ages[i]), int(females[i]), int(scrs[i]))
        st.add(got, int(want[i]), Fraction(got, 10) - Fraction(float(ref[i])),
               (int(ages[i]), int(females[i]), int(scrs[i])))
    return st


def sweep_bsa(weight_step: int = 1, height_step: int = 1) -> Stats:
    """BSA (0.01 m2) against the numpy float Mosteller formula."""
    bsa = load("body").bsa
    ws = np.arange(WEIGHT[0], WEIGHT[1] + 1, weight_step)
    hs = np.arange(HEIGHT[0], HEIGHT[1] + 1, height_step)
    w, h = (g.ravel() for g in np.meshgrid(ws, hs, indexing="ij"))
    ref = reference.bsa_float(w / 10.0, h / 10.0)
    want = np.floor(ref * 100 + 0.5).astype(np.int64)
    st = Stats("BSA (Mosteller)", "m2", Fraction(1, 100))
    for i in range(len(w)):
        wi, hi = int(w[i]), int(h[i])
        got = bsa(wi, hi)
        target = int(want[i])
        if got != target:
            # float64 cannot hold an exact tie such as 2.175 m2; settle it in decimal.
            target = reference.bsa_exact_rounded(Fraction(wi, 10), Fraction(hi, 10))
            st.float_ties += target == got
        st.add(got, target, Fraction(got, 100) - Fraction(float(ref[i])), (wi, hi))
    return st
