"""dose_for and check_dose: the dose for this patient from the active table.

A result always says which band applied and where the rule comes from. For an
`uncertain` band it carries no amount at all, so no screen or host tool can show one.
Absolute amounts (per m2 x BSA, per kg x actual weight) are in 0.01 of the unit.
"""

import dosetable
from limits import InputError

WITHIN = "within"
ABOVE = "above"
NOT_CHECKABLE = "not checkable"


def _band_label(drug, band):
    if band["dialysis"]:
        return "dialysis"
    name = "CrCl" if drug["keyed_to"] == "crcl" else "eGFR"
    lo = band["lo_x10"]
    hi = band["hi_x10"]
    if hi == dosetable.NO_EDGE:
        return name + " >= " + _tenths(lo)
    if lo == 0:
        return name + " < " + _tenths(hi)
    return name + " " + _tenths(lo) + " to < " + _tenths(hi)


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
    out = {
        "drug": drug["inn"],
        "drug_zh": drug["zh"],
        "route": drug["route"],
        "route_zh": drug["route_zh"],
        "keyed_to": drug["keyed_to"],
        "status": dosetable.STATUS_NAMES[band["status"]],
        "band": _band_label(drug, band),
        "timing": band["timing"],
        "timing_zh": band["timing_zh"],
        "note": band["note"] or drug["note"],
        "note_zh": band["note_zh"] or drug["note_zh"],
        "source": source[1],
        "source_zh": source[2],
        "where": band["where"],
        "doses": [],
    }
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
        }
        absolute = dosetable.absolute(d, bsa_x100, weight_x10)
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


def check_dose(result, prescribed_x100, unit, regimen):
    """Compare a prescribed single dose (0.01 of `unit`) with a dose_for result, as a
    pump's dose-error reduction does. Returns {verdict, ceiling_x100, unit, regimen,
    reason}; the ceiling is the band's largest single amount (range top or
    subsequent dose) in the prescribed unit."""
    out = {"verdict": NOT_CHECKABLE, "ceiling_x100": None, "unit": unit, "regimen": regimen,
           "reason": ""}
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
    out["verdict"] = WITHIN if prescribed_x100 <= ceiling else ABOVE
    out["ceiling_x100"] = ceiling
    out["regimen"] = d["regimen"]
    return out
