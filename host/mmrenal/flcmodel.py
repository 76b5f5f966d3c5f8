"""Synthetic FLC series and the float reference for the device's kinetics.

The series come from a two-compartment model of free light chains (plasma ~2.5 L,
extravascular ~12 L, plasma->tissue 0.0215/min, tissue->plasma 0.0043/min; from
clinical-facts.md) with renal elimination from plasma, clonal production that falls
after chemotherapy starts, extracorporeal sessions (plasma exchange, high-cutoff
haemodialysis, HFR) that clear plasma while they run, the rebound from the tissue
afterwards, and multiplicative assay noise. The reference computes, in float with
numpy, what firmware/flc.py computes in integers, on the same samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

V_PLASMA = 2.5  # L
V_TISSUE = 12.0  # L
K_PT = 0.0215  # /min, plasma -> tissue
K_TP = 0.0043  # /min, tissue -> plasma
DAY = 1440
# The device's choice of samples (firmware/flc.py): the fit uses the samples after
# treatment start among the latest RING, at most WINDOW back from the latest.
RING = 48
WINDOW = 60 * DAY


@dataclass
class Series:
    chain: str  # "kappa" or "lambda"
    t0: int  # minutes since 2000-01-01 (chemotherapy start)
    times: list[int] = field(default_factory=list)
    kappa: list[float] = field(default_factory=list)  # mg/L
    lam: list[float] = field(default_factory=list)
    sessions: list[tuple[str, int, int]] = field(default_factory=list)  # kind, start, end


def simulate(rng: np.random.Generator, chain: str, half_life_h: float, days: int = 28,
             sessions: int = 0, session_kind: str = "hco_hd", noise: float = 0.15,
             start_mg_l: float = 2000.0, t0: int = 14_000_000) -> Series:
    """One patient's series: daily samples from 2 days before chemotherapy for `days`
    days, plus a sample before and after each session."""
    k_el = math.log(2) / (half_life_h * 60)  # renal elimination from plasma, /min
    # Steady state before treatment: production balances elimination.
    c_p = start_mg_l
    c_t = c_p * K_PT * V_PLASMA / (K_TP * V_TISSUE)
    production = k_el * c_p * V_PLASMA  # mg/min
    kill = math.log(2) / (rng.uniform(2, 6) * DAY)  # production halves every 2-6 days
    clear = {"pe": 0.004, "hco_hd": 0.0025, "hfr": 0.0014}[session_kind]  # /min on the session
    plan = []
    for i in range(sessions):
        start = t0 + (1 + 2 * i) * DAY + 9 * 60
        plan.append((session_kind, start, start + 5 * 60))
    uninvolved = rng.uniform(8, 20)
    s = Series(chain, t0, sessions=plan)
    sample_at = sorted({t0 - 2 * DAY + d * DAY + 8 * 60 for d in range(days + 3)}
                       | {p[1] - 10 for p in plan} | {p[2] + 10 for p in plan})
    t = t0 - 2 * DAY
    step = 5.0
    j = 0
    while j < len(sample_at):
        target = sample_at[j]
        while t < target:
            prod = production * (math.exp(-kill * (t - t0)) if t >= t0 else 1.0)
            extra = sum(clear for _, a, b in plan if a <= t < b)
            dp = (prod - (k_el + extra) * c_p * V_PLASMA - K_PT * c_p * V_PLASMA
                  + K_TP * c_t * V_TISSUE) / V_PLASMA
            dt_ = (K_PT * c_p * V_PLASMA - K_TP * c_t * V_TISSUE) / V_TISSUE
            c_p = max(c_p + dp * step, 0.0)
            c_t = max(c_t + dt_ * step, 0.0)
            t += step
        noisy = c_p * math.exp(rng.normal(0, noise))
        other = uninvolved * math.exp(rng.normal(0, noise))
        involved = min(max(round(noisy, 2), 0.1), 100000.0)
        other = min(max(round(other, 2), 0.1), 100000.0)
        s.times.append(int(target))
        s.kappa.append(involved if chain == "kappa" else other)
        s.lam.append(other if chain == "kappa" else involved)
        j += 1
    return s


def reference(s: Series) -> dict:
    """Float kinetics of a series, with the device's choice of samples."""
    t = np.array(s.times, dtype=np.int64)
    inv = np.array(s.kappa if s.chain == "kappa" else s.lam, dtype=float)
    before = np.nonzero(t <= s.t0)[0]
    base = inv[before[-1]] if len(before) else None
    latest = inv[-1]
    out = {"baseline": base, "latest": latest,
           "reduction_pct": None if base is None else 100.0 * (base - latest) / base}
    keep = np.arange(len(t))[-RING:]
    lo = max(s.t0 + 1, t[-1] - WINDOW)
    sel = keep[t[keep] >= lo]
    out["fit_points"] = len(sel)
    if len(sel) >= 3:
        slope, _ = np.polyfit((t[sel] - t[sel[0]]) / 60.0, np.log2(inv[sel]), 1)
        out["half_life_h"] = -1.0 / slope if slope < 0 else None
    else:
        out["half_life_h"] = None
    return out
