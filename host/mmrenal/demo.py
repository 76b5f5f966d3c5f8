"""`make run`: a worked bedside example, computed by the firmware on MicroPython.

Until the simulated handheld exists, this prints what a nurse would read for one
patient on the myeloma ward: kidney function, the weight behind it, and the flags
that change how the number may be used.
"""

from __future__ import annotations

from mmrenal import clock, report
from mmrenal.engine import Engine
from mmrenal.table_cmds import dose_text, example_table

PATIENT = "BED-12"  # patients are short codes on the device, never names
INPUTS = {
    "age": "72",
    "sex": "M",
    "weight": "81.5",
    "height": "175.0",
    "scr": "2.60",
    "scr_unit": "mg/dL",
    "weight_policy": "bmi",
}
NOW = "2026-11-26T08:00"
HISTORY = [("2026-11-21T07:30", "1.10"), ("2026-11-24T07:45", "1.80")]


def run(engine: str = "micropython") -> int:
    req = {"op": "crcl", **INPUTS, "scr_time": clock.to_minutes(NOW),
           "history": [[clock.to_minutes(t), v] for t, v in HISTORY]}
    table = example_table()
    with Engine(engine) as eng:
        version = eng.request({"op": "version"})
        resp = eng.request(req)
        doses = []
        if resp.get("ok"):
            for drug in ("lenalidomide", "bortezomib"):
                doses.append(eng.request({
                    "op": "dose", "drug": drug, "table_path": table,
                    "crcl": report.text(resp["crcl_ml_min_x10"], 1),
                    "weight": INPUTS["weight"], "height": INPUTS["height"]}))
    if not resp.get("ok"):
        print(f"refused: {resp.get('field')}: {resp.get('error')}")
        return 2
    rule = "=" * 64
    print(rule)
    print(f"mmrenal {version['firmware']} - worked bedside example "
          f"({version['engine']} engine, protocol {version['protocol']})")
    print(rule)
    print(f"Patient {PATIENT}   {NOW.replace('T', ' ')}")
    print("Creatinine history: " + ", ".join(f"{t.replace('T', ' ')} {v}" for t, v in HISTORY)
          + f", now {INPUTS['scr']} mg/dL")
    print()
    print(report.crcl_text(INPUTS, resp))
    print()
    print("What this means at the bedside: the creatinine has more than doubled in five days,")
    print("so the CrCl above is an overestimate; dose decisions keyed to CrCl need a")
    print("pharmacist's review until the creatinine is stable.")
    for d in doses:
        print("-" * 64)
        print(dose_text(d) if d.get("ok") else f"refused: {d.get('field')}: {d.get('error')}")
    print(rule)
    return 0
