"""Table 1 of the seed and the melphalan rule, transcribed by hand from
../shared/clinical-facts.md for the tests (independently of tables/*.toml), and the
values at and around every band edge where each cell is checked. The renal part
(status, amounts, every other day, after dialysis) is Table 1's; the schedules
(frequency and cycle days where Table 1 gives none, elotuzumab's regimens) are the
product labels' that the example table cites, written out here by hand."""

from __future__ import annotations

# A dose: (regimen, amount, amount_max, amount_then, unit, scale, frequency, cycle days)
BTZ = [("", "1.3", None, None, "mg/m2", 0, "", "")]
# Ixazomib: once a week on days 1, 8 and 15 of a 28-day cycle (NINLARO label, 2.1).
IXA4 = [("", "4", None, None, "mg", 0, "weekly", "days 1, 8, 15 of 28")]
IXA3 = [("", "3", None, None, "mg", 0, "weekly", "days 1, 8, 15 of 28")]
CFZ = [("20/27", "20", None, "27", "mg/m2", 0, "", ""),
       ("20/56", "20", None, "56", "mg/m2", 0, "", ""),
       ("20/70", "20", None, "70", "mg/m2", 0, "", "")]
THAL = [("", "50", "200", None, "mg", 0, "daily", "")]
# Lenalidomide and pomalidomide: days 1-21 of repeated 28-day cycles (their labels).
LEN_DAYS = "days 1-21 of 28"
LEN25 = [("", "25", None, None, "mg", 0, "daily", LEN_DAYS)]
LEN10 = [("", "10", None, None, "mg", 0, "daily", LEN_DAYS)]
LEN15 = [("", "15", None, None, "mg", 0, "every other day", LEN_DAYS)]
LEN5 = [("", "5", None, None, "mg", 0, "daily", LEN_DAYS)]
POM = [("", "4", None, None, "mg", 0, "daily", "days 1-21 of 28")]
DARA = [("iv", "16", None, None, "mg/kg", 0, "", ""), ("sc", "1800", None, None, "mg", 0, "", "")]
ISA = [("", "10", None, None, "mg/kg", 0, "", "")]
# Elotuzumab: Table 1's 10 mg/kg, on the label's schedule (EMPLICITI 2.1, 2.2): weekly in
# cycles 1-2, then every 2 weeks with lenalidomide (ERd) or 20 mg/kg every 4 weeks with
# pomalidomide (EPd, ELOQUENT-3).
ELO = [("C1-2", "10", None, None, "mg/kg", 0, "weekly", "days 1, 8, 15, 22 of 28"),
       ("ERd C3+", "10", None, None, "mg/kg", 0, "every 2 weeks", "days 1, 15 of 28"),
       ("EPd C3+", "20", None, None, "mg/kg", 0, "every 4 weeks", "day 1 of 28")]
IDECEL = [("", "2.6", "5.0", None, "cells", 8, "", "")]
TEC = [("", "1.5", None, None, "mg/kg", 0, "", "")]
BELA = [("", "2.5", None, None, "mg/kg", 0, "", "")]
MEL200 = [("", "200", None, None, "mg/m2", 0, "", "")]
MEL140 = [("", "140", None, None, "mg/m2", 0, "", "")]
S, A, U = "standard", "adjusted", "uncertain"

# drug -> column -> (status, doses, timing); columns ">=60", "30-59", "15-29", "<15",
# "dialysis" (CrCl, mL/min); teclistamab splits 30-59 at 40; melphalan is keyed to eGFR.
CELLS = {
    "bortezomib": {">=60": (S, BTZ, ""), "30-59": (S, BTZ, ""), "15-29": (S, BTZ, ""),
                   "<15": (S, BTZ, ""), "dialysis": (S, BTZ, "after dialysis")},
    "ixazomib": {">=60": (S, IXA4, ""), "30-59": (S, IXA4, ""), "15-29": (A, IXA3, ""),
                 "<15": (A, IXA3, ""), "dialysis": (A, IXA3, "")},
    "carfilzomib": {">=60": (S, CFZ, ""), "30-59": (S, CFZ, ""), "15-29": (S, CFZ, ""),
                    "<15": (S, CFZ, ""), "dialysis": (S, CFZ, "after dialysis")},
    "thalidomide": {c: (S, THAL, "") for c in (">=60", "30-59", "15-29", "<15", "dialysis")},
    "lenalidomide": {">=60": (S, LEN25, ""), "30-59": (A, LEN10, ""), "15-29": (A, LEN15, ""),
                     "<15": (A, LEN5, ""), "dialysis": (A, LEN5, "after dialysis")},
    "pomalidomide": {c: (S, POM, "") for c in (">=60", "30-59", "15-29", "<15", "dialysis")},
    "daratumumab": {c: (S, DARA, "") for c in (">=60", "30-59", "15-29", "<15", "dialysis")},
    "isatuximab": {c: (S, ISA, "") for c in (">=60", "30-59", "15-29", "<15", "dialysis")},
    "elotuzumab": {c: (S, ELO, "") for c in (">=60", "30-59", "15-29", "<15", "dialysis")},
    "idecabtagene-vicleucel": {">=60": (S, IDECEL, ""), "30-59": (U, [], ""),
                               "15-29": (U, [], ""), "<15": (U, [], ""), "dialysis": (U, [], "")},
    "teclistamab": {">=60": (S, TEC, ""), "41-59": (S, TEC, ""), "30-40": (U, [], ""),
                    "15-29": (U, [], ""), "<15": (U, [], ""), "dialysis": (U, [], "")},
    "belantamab-mafodotin": {">=60": (S, BELA, ""), "30-59": (S, BELA, ""), "15-29": (U, [], ""),
                             "<15": (U, [], ""), "dialysis": (U, [], "")},
    # Melphalan, by eGFR (mL/min/1.73 m2): 200 mg/m2, 140 mg/m2 below 30; the source
    # gives no dialysis dose, so the table must not invent one.
    "melphalan": {">=30": (S, MEL200, ""), "<30": (A, MEL140, ""), "dialysis": (U, [], "")},
}

# Renal values (mL/min, 0.1 steps) at and around every band edge.
POINTS = ["0", "0.1", "14.9", "15", "15.1", "29.9", "30", "30.1", "39.9", "40", "40.1", "40.2",
          "59.9", "60", "60.1", "120", "999.9"]


def column(drug: str, value: str) -> str:
    """The Table 1 column that a renal value falls in, read off the facts file."""
    v = float(value)
    if drug == "melphalan":
        return ">=30" if v >= 30 else "<30"
    if v >= 60:
        return ">=60"
    if v >= 30:
        if drug == "teclistamab":
            return "41-59" if v > 40 else "30-40"  # "none if CrCl > 40; uncertain 30-40"
        return "30-59"
    return "15-29" if v >= 15 else "<15"


def cases():
    for drug, cols in CELLS.items():
        for value in POINTS:
            yield drug, value, False, cols[column(drug, value)]
        yield drug, "45", True, cols["dialysis"]


def matches(resp: dict, expected) -> str | None:
    """None if a dose answer matches the expected cell, else what differs."""
    from decimal import Decimal

    status, doses, timing = expected
    if resp.get("status") != status:
        return f"status {resp.get('status')} != {status}"
    if resp.get("timing") != timing:
        return f"timing {resp.get('timing')!r} != {timing!r}"
    got = []
    for d in resp["doses"]:
        def dec(x100):
            return None if not x100 else Decimal(x100) / 100

        got.append((d["regimen"], Decimal(d["amount_x100"]) / 100, dec(d["amount_max_x100"]),
                    dec(d["amount_then_x100"]), d["unit"], d["scale"], d["frequency"],
                    d["cycle"]))
    want = [(r, Decimal(a), Decimal(m) if m else None, Decimal(t) if t else None, u, sc, f, c)
            for r, a, m, t, u, sc, f, c in doses]
    if got != want:
        return f"doses {got} != {want}"
    if status == "uncertain" and any("amount" in k for d in resp["doses"] for k in d):
        return "an uncertain band carries an amount"
    return None
