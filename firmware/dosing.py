"""dose_for and check_dose: the dose for this patient from the active table.

A result always says which band applied and where the rule comes from. For an
`uncertain` band it carries no amount at all, so no screen or host tool can show one.
Absolute amounts (per m2 x BSA, per kg x actual weight) are in 0.01 of the unit; per-m2
amounts use the BSA capped by the rule's bsa_cap.

check_dose works as a smart pump's drug library does (docs/table-format.md, "Dose
check"): at or below the rule's largest single dose plus the rounding tolerance is
within; above it, up to the soft limit, is above (said, no override needed); above the
soft limit, up to the hard limit, is above and needs an override with a reason; above
the hard limit is refused. A frequency or cycle day that differs from the rule, or an
oral amount no combination of capsules makes, is flagged and needs an override too.
"""

import dosetable
from limits import InputError

WITHIN = "within"
ABOVE = "above"
FLAGGED = "does not match"  # the amount is within, the frequency or cycle day is not
REFUSED = "refused"
NOT_CHECKABLE = "not checkable"
VERDICTS = (WITHIN, ABOVE, FLAGGED, REFUSED, NOT_CHECKABLE)  # audit codes 0-4
# A prescribed frequency, compared by its code (days from one dose to the next; 255 a
# single dose), as host/mmrenal/tables.py FREQUENCY_CODE writes it into the table.
FREQUENCIES = ((1, "daily"), (2, "every other day"), (7, "weekly"), (14, "every 2 weeks"),
               (21, "every 3 weeks"), (28, "every 4 weeks"), (255, "once"))
# Why a dose above the soft limit, or one that does not match the rule, is given anyway.
REASONS = ("prescriber confirmed", "protocol dose", "other")
FLAG_FREQUENCY = "frequency"
FLAG_CYCLE_DAY = "cycle_day"
FLAG_STRENGTH = "strength"
FLAGS = (FLAG_FREQUENCY, FLAG_CYCLE_DAY, FLAG_STRENGTH)  # audit bits 1, 2, 4
MAX_UNITS = 4  # capsules or tablets in one dose, at most (as tables.MAX_UNITS)
MAX_CHECKED = 99999999  # 0.01 units: the largest amount checked (the protocol's limit)


def _band_label(drug, band, zh=False):
    """The band in words: 'CrCl 30 to < 60' (Chinese: 'CrCl 30至<60')."""
    if band["dialysis"]:
        return "透析" if zh else "dialysis"
    name = "CrCl" if drug["keyed_to"] == "crcl" else "eGFR"
    lo = band["lo_x10"]
    hi = band["hi_x10"]
    if hi == dosetable.NO_EDGE:
        return name + (" ≥" if zh else " >= ") + _tenths(lo)
    if lo == 0:
        return name + (" <" if zh else " < ") + _tenths(hi)
    return name + " " + _tenths(lo) + ("至<" if zh else " to < ") + _tenths(hi)


def _both(a, b):
    return a + " " + b if a and b else a or b


def _tenths(v):
    return str(v // 10) if v % 10 == 0 else str(v // 10) + "." + str(v % 10)


def dose_for(table, name, crcl_x10, egfr_x10, dialysis, bsa_x100, weight_x10):
    """The dose for a patient: crcl_x10 / egfr_x10 in 0.1 mL/min(/1.73 m2), or None if
    not known; bsa_x100 and weight_x10 (0 if unknown) give absolute amounts."""
    drug = table.drug(name)
    if drug is None:
        raise InputError("drug", repr(name) + " is not in table " + table.id)
    value = None
    if not dialysis:
        value = crcl_x10 if drug["keyed_to"] == "crcl" else egfr_x10
        if value is None:
            raise InputError(drug["keyed_to"], drug["inn"] + " is dosed by "
                             + ("CrCl (Cockcroft-Gault)" if drug["keyed_to"] == "crcl"
                                else "eGFR (CKD-EPI)") + ": give it")
    band = dosetable.band_for(drug, value or 0, dialysis)
    if band is None:
        raise InputError(drug["keyed_to"], "no band of " + drug["inn"] + " holds this value")
    source = table.sources[band["source"]]
    cap = band["bsa_cap_x100"]
    bsa_used = bsa_x100 if not cap or bsa_x100 <= cap else cap
    out = {
        "drug": drug["inn"],
        "drug_zh": drug["zh"],
        "route": drug["route"],
        "route_zh": drug["route_zh"],
        "keyed_to": drug["keyed_to"],
        "status": dosetable.STATUS_NAMES[band["status"]],
        "band": _band_label(drug, band),
        "band_zh": _band_label(drug, band, True),
        "timing": band["timing"],
        "timing_zh": band["timing_zh"],
        # The drug's note and the band's own, both: neither hides the other.
        "note": _both(drug["note"], band["note"]),
        "note_zh": _both(drug["note_zh"], band["note_zh"]),
        "source": source[1],
        "source_zh": source[2],
        "where": band["where"],
        "where_zh": band["where_zh"],  # the same place in the source, for Chinese screens
        "doses": [],
        # the BSA per-m2 amounts were computed with (0: none were), and whether the
        # rule's cap lowered the patient's BSA to it
        "bsa_used_x100": 0,
        "bsa_capped": False,
        "tolerance_pct": band["tolerance_pct"],
        "soft_pct": band["soft_pct"],
        "hard_pct": band["hard_pct"],
        "form": drug["form"],
        "strengths_x100": drug["strengths_x100"],
        # where the frequency and cycle days come from: the label, its citation below
        "dosing_where": drug["dosing_where"],
        "dosing_where_zh": drug["dosing_where_zh"],
        "dosing_source": "",
        "dosing_source_zh": "",
    }
    if drug["dosing_source"] != dosetable.NO_SOURCE:  # the schedule's own citation (its label)
        src = table.sources[drug["dosing_source"]]
        out["dosing_source"] = src[1]
        out["dosing_source_zh"] = src[2] or src[1]
    if band["status"] == dosetable.UNCERTAIN:
        return out  # the source gives no dose: nothing to show as a number
    for d in band["doses"]:
        entry = {
            "regimen": d["regimen"],
            "amount_x100": d["amount_x100"],
            "amount_max_x100": d["amount_max_x100"],
            "amount_then_x100": d["amount_then_x100"],
            "scale": d["scale"],
            "unit": d["unit"],
            "frequency": d["frequency"],
            "frequency_zh": d["frequency_zh"],
            "frequency_code": d["frequency_code"],
            "cycle": d["cycle"],
            "cycle_zh": d["cycle_zh"],
            "cycle_length": d["cycle_length"],
            "cycle_days": d["cycle_days"],
        }
        if d["unit"] == "mg/m2" and bsa_x100:
            out["bsa_used_x100"] = bsa_used
            out["bsa_capped"] = bsa_used < bsa_x100
        absolute = dosetable.absolute(d, bsa_used, weight_x10)
        if absolute is not None:
            entry["absolute_x100"] = absolute[0]
            entry["absolute_max_x100"] = absolute[1]
            entry["absolute_then_x100"] = absolute[2]
            entry["absolute_unit"] = "mg"
        out["doses"].append(entry)
    return out


def ceiling_in(d, unit):
    """A dose entry's largest single amount (range top or subsequent dose) in `unit`:
    its own unit, or mg from the absolute amounts for this patient; None otherwise."""
    if unit == d["unit"]:
        return dosetable.ceiling_x100(d)
    if unit == "mg" and "absolute_x100" in d:
        return max(d["absolute_x100"], d["absolute_max_x100"], d["absolute_then_x100"])
    return None


def frequency_code(name):
    """The code of a frequency's name ("daily" -> 1); InputError for another name."""
    for code, n in FREQUENCIES:
        if n == name:
            return code
    raise InputError("frequency", repr(name) + " is not one of "
                     + ", ".join(n for _, n in FREQUENCIES))


def frequency_name(code):
    for c, n in FREQUENCIES:
        if c == code:
            return n
    return ""


def _pct_of(x, pct):
    """floor(x * pct / 100) for x <= MAX_CHECKED and pct <= 500, below 2**30 throughout."""
    return (x // 100) * pct + (x % 100) * pct // 100


def makeable(amount, strengths, units=MAX_UNITS):
    """True if `amount` (0.01 mg) is a sum of at most `units` whole strengths."""
    if amount == 0:
        return True
    if units == 0:
        return False
    for s in strengths:
        if s <= amount and makeable(amount - s, strengths, units - 1):
            return True
    return False


def nearest_makeable(target, strengths):
    """The amount made by 1 to MAX_UNITS whole strengths nearest to `target` (the lower
    of two equally near): a correctly rounded oral dose."""
    best = 0
    n = len(strengths)
    # Every multiset of up to four strengths, as non-decreasing indices i <= j <= k <= m;
    # index n stands for "no unit" so that fewer than four are tried too.
    for i in range(n):
        for j in range(i, n + 1):
            for k in range(j, n + 1):
                for m in range(k, n + 1):
                    total = strengths[i]
                    for x in (j, k, m):
                        if x < n:
                            total += strengths[x]
                    gap = total - target if total > target else target - total
                    best_gap = best - target if best > target else target - best
                    if not best or gap < best_gap or (gap == best_gap and total < best):
                        best = total
    return best


def check_dose(result, prescribed_x100, unit, regimen, frequency=None, cycle_day=None):
    """Compare a prescribed single dose (0.01 of `unit`), and its frequency (a code of
    FREQUENCIES) and cycle day when given (None: not given, not compared), with a
    dose_for result. Returns {verdict, ceiling_x100, within_x100, soft_x100, hard_x100,
    unit, regimen, reason, flags, override_needed, limit, frequency, cycle_day,
    unchecked, override}: the ceiling is the rule's largest single amount (range top or
    subsequent dose) in the prescribed unit; within/soft/hard are the edges the amount
    is compared with. An uncertain rule is never checked and carries no number."""
    out = {"verdict": NOT_CHECKABLE, "ceiling_x100": None, "within_x100": None,
           "soft_x100": None, "hard_x100": None, "unit": unit, "regimen": regimen,
           "reason": "", "flags": [], "override_needed": False, "limit": "",
           "frequency": frequency, "cycle_day": cycle_day, "unchecked": [], "override": ""}
    if result["status"] == "uncertain":
        out["reason"] = "the source gives no dose for this band"
        return out
    doses = [d for d in result["doses"] if not regimen or d["regimen"] == regimen]
    if not doses:
        out["reason"] = "no regimen " + repr(regimen) + " in this band"
        return out
    if len(doses) > 1:
        out["reason"] = "choose the regimen: " + ", ".join(d["regimen"] for d in doses)
        return out
    d = doses[0]
    ceiling = ceiling_in(d, unit)
    if ceiling is None:
        out["reason"] = ("the band's dose is in " + d["unit"] + "; give weight and height "
                         "to check a dose in mg" if unit == "mg" else
                         "the band's dose is in " + d["unit"] + ", not " + unit)
        return out
    if ceiling > MAX_CHECKED or prescribed_x100 > MAX_CHECKED:
        out["reason"] = "the amount is too large to check"
        return out
    if d["cycle_length"] and cycle_day is not None and not 1 <= cycle_day <= d["cycle_length"]:
        raise InputError("cycle_day", "day 1-" + str(d["cycle_length"]) + " of this regimen's "
                         + str(d["cycle_length"]) + "-day cycle")
    within = ceiling + _pct_of(ceiling, result["tolerance_pct"])
    soft = ceiling + _pct_of(ceiling, result["soft_pct"])
    hard = ceiling + _pct_of(ceiling, result["hard_pct"])
    out["ceiling_x100"] = ceiling
    out["within_x100"] = within
    out["soft_x100"] = soft
    out["hard_x100"] = hard
    out["regimen"] = d["regimen"]
    p = prescribed_x100
    solid = result["form"] in ("capsule", "tablet") and unit == "mg" and result["strengths_x100"]
    if p <= within or (solid and within < p <= soft
                       and p == nearest_makeable(ceiling, result["strengths_x100"])):
        out["verdict"] = WITHIN  # a dose rounded to the capsules is a correct dose
    elif p <= soft:
        out["verdict"] = ABOVE
    elif p <= hard:
        out["verdict"] = ABOVE
        out["limit"] = "soft"
    else:
        out["verdict"] = REFUSED
        out["limit"] = "hard"
    flags = out["flags"]
    if d["frequency_code"]:
        if frequency is None:
            out["unchecked"].append(FLAG_FREQUENCY)
        elif frequency != d["frequency_code"]:
            flags.append(FLAG_FREQUENCY)
    if d["cycle_length"]:
        if cycle_day is None:
            out["unchecked"].append(FLAG_CYCLE_DAY)
        elif not _on_day(d["cycle_days"], cycle_day):
            flags.append(FLAG_CYCLE_DAY)
    if solid and not makeable(p, result["strengths_x100"]):
        flags.append(FLAG_STRENGTH)
    if flags and out["verdict"] == WITHIN:
        out["verdict"] = FLAGGED
    out["override_needed"] = out["verdict"] != REFUSED and (out["limit"] == "soft" or bool(flags))
    return out


def _on_day(runs, day):
    for first, last in runs:
        if first <= day <= last:
            return True
    return False


def override(check, reason):
    """Record why a dose that needs an override is given anyway; InputError when the
    reason is not one of REASONS, the dose is refused, or nothing needs overriding."""
    if reason not in REASONS:
        raise InputError("override_reason", repr(reason) + " is not one of " + ", ".join(REASONS))
    if check["verdict"] == REFUSED:
        raise InputError("override_reason", "the dose is above the hard limit: refused, it "
                         "cannot be overridden")
    if not check["override_needed"]:
        raise InputError("override_reason", "this check needs no override")
    check["override"] = reason
    return check
