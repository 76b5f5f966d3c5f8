"""Property tests over the validated domain (hypothesis), through the CPython engine
in-process and, for a sample, the MicroPython engine."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmrenal import reference
from mmrenal.firmware import load

from support import SOAK

service = load("service")
limits = load("limits")

EXAMPLES = 3000 if SOAK else 300
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def dec(value: int, decimals: int) -> str:
    s = str(value).rjust(decimals + 1, "0")
    return s if decimals == 0 else f"{s[:-decimals]}.{s[-decimals:]}"


ages = st.integers(18, 110)
weights = st.integers(250, 3000)
heights = st.integers(1200, 2300)
sexes = st.sampled_from(["F", "M"])
policies = st.sampled_from(["actual", "ideal", "adjusted", "bmi", "pharmacy"])
scr_mg = st.integers(10, 2500).map(lambda v: (dec(v, 2), "mg/dL"))
scr_um = st.integers(89, 22100).map(lambda v: (dec(v, 1), "umol/L"))
scrs = st.one_of(scr_mg, scr_um)
# Boundaries of every range are drawn often.
ages_b = st.one_of(ages, st.sampled_from([18, 110]))
weights_b = st.one_of(weights, st.sampled_from([250, 3000]))
heights_b = st.one_of(heights, st.sampled_from([1200, 2300]))
scrs_b = st.one_of(scrs, st.sampled_from([("0.10", "mg/dL"), ("25.00", "mg/dL"),
                                          ("8.9", "umol/L"), ("2210.0", "umol/L")]))


def crcl_req(age, sex, w, h, scr, policy):
    return {"op": "crcl", "age": str(age), "sex": sex, "weight": dec(w, 1), "height": dec(h, 1),
            "scr": scr[0], "scr_unit": scr[1], "weight_policy": policy}


@pytest.mark.req("R-CALC-01", "R-CALC-02", "R-CALC-05", "R-WT-01", "R-IN-01")
@SETTINGS
@given(ages_b, sexes, weights_b, heights_b, scrs_b, policies)
def test_valid_inputs_always_answer_within_reference(age, sex, w, h, scr, policy):
    resp = service.handle(crcl_req(age, sex, w, h, scr, policy))
    assert resp["ok"], resp
    female = sex == "F"
    mg = reference.scr_mg_dl(scr[0], scr[1])
    basis, kg = reference.dosing_weight_exact(policy, female, Fraction(w, 10), Fraction(h, 10))
    assert resp["weight_basis"] == basis
    exact = reference.crcl_exact(age, female, kg, mg)
    assert abs(Fraction(resp["crcl_ml_min_x10"], 10) - exact) <= Fraction(1, 20)
    e = float(reference.egfr_float(age, female, float(mg)))
    assert abs(resp["egfr_x10"] / 10 - e) <= 0.1
    assert resp["imwg_renal_impairment"] == (mg > 2 or resp["crcl_ml_min_x10"] < 400)


FIELDS = {
    "age": (st.one_of(st.integers(-1000, 17), st.integers(111, 10**7)).map(str)),
    "weight": st.one_of(st.integers(-(10**6), 249), st.integers(3001, 10**6)).map(
        lambda v: dec(v, 1) if v >= 0 else "-" + dec(-v, 1)
    ),
    "height": st.one_of(st.integers(0, 1199), st.integers(2301, 10**6)).map(lambda v: dec(v, 1)),
    "scr": st.one_of(st.integers(0, 9), st.integers(2501, 10**6)).map(lambda v: dec(v, 2)),
}


@pytest.mark.req("R-IN-01")
@SETTINGS
@given(st.sampled_from(sorted(FIELDS)), st.data(), ages, sexes, weights, heights, scr_mg, policies)
def test_each_out_of_range_field_is_named(field, data, age, sex, w, h, scr, policy):
    req = crcl_req(age, sex, w, h, scr, policy)
    req[field] = data.draw(FIELDS[field])
    resp = service.handle(req)
    assert resp["ok"] is False
    assert resp["field"] == field
    assert "crcl_ml_min_x10" not in resp


def _valid_text(field: str, text: str) -> bool:
    """Independent statement of what the entry accepts for the field."""
    t = text.strip(" \t\r\n")
    if field == "sex":
        return t.lower() in ("f", "m", "female", "male")
    if field == "scr_unit":
        return t.lower() in ("mg/dl", "umol/l", "micromol/l", "\u00b5mol/l", "\u03bcmol/l")
    if field == "weight_policy":
        return text in ("", "actual", "ideal", "adjusted", "bmi", "pharmacy")
    decimals, lo, hi = {"age": (0, 18, 110), "weight": (1, 25, 300), "height": (1, 120, 230),
                        "scr": (2, Fraction(1, 10), 25)}[field]
    whole, dot, frac = t.partition(".")
    if not (whole + frac) or not all(c in "0123456789" for c in whole + frac):
        return False
    if len(frac) > decimals or (dot and decimals == 0) or len(t) > 16:
        return False
    return lo <= Fraction(t if whole else "0" + t) <= hi


@SETTINGS
@given(st.text(max_size=20), st.sampled_from(["age", "weight", "height", "scr", "sex", "scr_unit",
                                              "weight_policy"]))
@pytest.mark.req("R-IN-02", "R-UNIT-01")
def test_garbage_text_never_gives_a_number(text, field):
    req = crcl_req(60, "F", 700, 1700, ("1.00", "mg/dL"), "actual")
    req[field] = text
    resp = service.handle(req)
    assert resp["ok"] == _valid_text(field, text), (text, resp)
    if not resp["ok"]:
        assert resp["field"] == field, resp
        assert "crcl_ml_min_x10" not in resp


@pytest.mark.req("R-DEV-01")
def test_micropython_engine_agrees_on_random_requests(engines):
    rng = random.Random(2026)
    reqs = []
    for _ in range(400):
        age = rng.randint(18, 110)
        w, h = rng.randint(250, 3000), rng.randint(1200, 2300)
        scr = (dec(rng.randint(10, 2500), 2), "mg/dL") if rng.random() < 0.5 else \
            (dec(rng.randint(89, 22100), 1), "umol/L")
        req = crcl_req(age, rng.choice("FM"), w, h, scr,
                       rng.choice(["actual", "ideal", "adjusted", "bmi", "pharmacy"]))
        if rng.random() < 0.1:
            req["age"] = str(rng.randint(111, 200))  # some refusals too
        reqs.append(req)
    mpy = [engines["micropython"].request(r) for r in reqs]
    cpy = [engines["cpython"].request(r) for r in reqs]
    assert mpy == cpy
    assert sum(1 for r in mpy if not r["ok"]) > 10
