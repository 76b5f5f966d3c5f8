"""Turn the firmware's fixed-point answers into JSON and into text a nurse reads."""

from __future__ import annotations

from decimal import Decimal

# firmware key -> (public key, decimals)
SCALED = {
    "crcl_ml_min_x10": ("crcl_ml_min", 1),
    "egfr_x10": ("egfr_ml_min_1_73m2", 1),
    "weight_used_kg_x10": ("weight_used_kg", 1),
    "ibw_kg_x10": ("ibw_kg", 1),
    "adjbw_kg_x10": ("adjusted_weight_kg", 1),
    "bmi_x10": ("bmi_kg_m2", 1),
    "bsa_m2_x100": ("bsa_m2", 2),
}

WARNING_TEXT = {
    "cg_unreliable_aki": "Creatinine is rising (KDIGO AKI): not a steady state, "
    "Cockcroft-Gault overstates kidney function.",
    "cg_not_valid_dialysis": "On dialysis: Cockcroft-Gault does not apply; "
    "use the dialysis entry of the dose table.",
    "ibw_extrapolated_short": "Height under 152.4 cm (60 in): the Devine ideal weight "
    "is extrapolated.",
    "ideal_weight_above_actual": "Ideal weight exceeds actual weight: CrCl on ideal "
    "weight overstates clearance.",
}

POLICY_TEXT = {
    "actual": "actual body weight",
    "ideal": "ideal body weight (Devine)",
    "adjusted": "adjusted body weight (IBW + 0.4 x excess)",
    "bmi": "BMI rule",
    "pharmacy": "pharmacy rule",
}


def number(value: int, decimals: int) -> float | int:
    """A fixed-point int as a JSON number with exactly its decimals (no binary noise)."""
    if decimals == 0:
        return value
    return float(Decimal(value).scaleb(-decimals))


def text(value: int, decimals: int) -> str:
    return f"{Decimal(value).scaleb(-decimals):.{decimals}f}"


def public(resp: dict) -> dict:
    """The firmware answer with scaled keys turned into plain decimals."""
    out = {}
    for key, value in resp.items():
        if key in SCALED:
            name, decimals = SCALED[key]
            out[name] = number(value, decimals)
        elif key != "ok":
            out[key] = value
    return out


def crcl_text(inputs: dict, r: dict) -> str:
    """CrCl as a nurse reads it: the number, the weight behind it, and the flags."""
    sex = "female" if inputs["sex"].strip().lower() in ("f", "female") else "male"
    unit = inputs["scr_unit"]
    lines = [
        f"Creatinine clearance (Cockcroft-Gault): {text(r['crcl_ml_min_x10'], 1)} mL/min",
        f"  weight used: {text(r['weight_used_kg_x10'], 1)} kg, "
        f"{POLICY_TEXT[r['weight_basis']]} (policy: {POLICY_TEXT[r['weight_policy']]})",
        f"  patient: {inputs['age']} y, {sex}, {inputs['weight']} kg, {inputs['height']} cm, "
        f"BMI {text(r['bmi_x10'], 1)}, ideal {text(r['ibw_kg_x10'], 1)} kg",
        f"  serum creatinine: {inputs['scr']} {unit}",
        f"eGFR (CKD-EPI 2021): {text(r['egfr_x10'], 1)} mL/min/1.73 m2",
        f"Body surface area (Mosteller): {text(r['bsa_m2_x100'], 2)} m2",
        "IMWG renal impairment (SCr > 2 mg/dL or CrCl < 40 mL/min): "
        + ("YES" if r["imwg_renal_impairment"] else "no"),
    ]
    if r.get("aki_stage"):
        lines.append(f"KDIGO AKI stage {r['aki_stage']}: {r['aki_criterion']}")
    for code in r.get("warnings", []):
        lines.append("WARNING: " + WARNING_TEXT.get(code, code))
    return "\n".join(lines)


def egfr_text(inputs: dict, r: dict) -> str:
    return f"eGFR (CKD-EPI 2021): {text(r['egfr_x10'], 1)} mL/min/1.73 m2"


def bsa_text(inputs: dict, r: dict) -> str:
    return (
        f"Body surface area (Mosteller): {text(r['bsa_m2_x100'], 2)} m2\n"
        f"BMI: {text(r['bmi_x10'], 1)} kg/m2"
    )


def ibw_text(inputs: dict, r: dict) -> str:
    out = f"Ideal body weight (Devine): {text(r['ibw_kg_x10'], 1)} kg"
    if "adjbw_kg_x10" in r:
        out += f"\nAdjusted body weight: {text(r['adjbw_kg_x10'], 1)} kg"
    return out


def aki_text(inputs: dict, r: dict) -> str:
    if not r["aki_stage"]:
        return f"KDIGO AKI: no stage reached over {r['samples']} samples"
    return f"KDIGO AKI stage {r['aki_stage']}: {r['aki_criterion']}"
