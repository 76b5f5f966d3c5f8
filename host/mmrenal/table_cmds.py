"""`mmrenal table ...` and `mmrenal dose`: the pharmacist's and the nurse's commands.

Parsers are set up here and bound into cli.COMMANDS; every dose is looked up by the
firmware (firmware/dosing.py) on the chosen engine or board, never on the host.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path

from mmrenal import tablebin, tables
from mmrenal.engine import ENGINES
from mmrenal.paths import REPO

EXIT_PROBLEMS = 1
EXIT_INPUT = 2
BUILT_EXAMPLE = REPO / "build" / "tables" / "myeloma-renal.bin"


def _err(msg: str) -> None:
    print(f"mmrenal: {msg}", file=sys.stderr)


def _load_checked(path: str):
    table, problems = tables.load(path)
    for p in problems:
        print(p)
    return table, problems


def cmd_check(a) -> int:
    table, problems = _load_checked(a.file)
    if problems or table is None:
        print(f"{a.file}: {len(problems)} problem(s)")
        return EXIT_PROBLEMS
    rules = sum(len(d.bands) + (1 if d.dialysis else 0) for d in table.drugs)
    print(f"{a.file}: {table.id} v{table.version}, {len(table.drugs)} drugs, {rules} rules, "
          "every rule cited, no problems")
    return 0


def cmd_diff(a) -> int:
    old, p1 = tables.load(a.old)
    new, p2 = tables.load(a.new)
    if old is None or new is None:
        for p in p1 + p2:
            print(p)
        return EXIT_PROBLEMS
    changes = tables.diff(old, new)
    for line in changes:
        print(line)
    print(f"{len(changes)} change(s) from {a.old} to {a.new}")
    return 0


def cmd_compile(a) -> int:
    table, problems = _load_checked(a.file)
    if problems or table is None:
        _err(f"{a.file}: {len(problems)} problem(s); not compiled")
        return EXIT_PROBLEMS
    data = tablebin.compile_table(table)
    Path(a.output).parent.mkdir(parents=True, exist_ok=True)
    Path(a.output).write_bytes(data)
    print(f"wrote {a.output}: {len(data):,} bytes, {table.id} v{table.version}, unsigned "
          "(sign it: mmrenal table sign)")
    return 0


def cmd_keygen(a) -> int:
    priv, pub = tablebin.keygen(Path(a.out), a.name)
    print(f"private key: {priv} (keep it secret; never commit it)")
    print(f"public key:  {pub} (install on devices: mmrenal table trust {pub} --port PORT)")
    return 0


def cmd_sign(a) -> int:
    data = Path(a.table).read_bytes()
    try:
        signed = tablebin.sign(data, Path(a.key))
    except (tablebin.BinError, ValueError) as e:
        _err(str(e))
        return EXIT_INPUT
    out = a.output or a.table
    Path(out).write_bytes(signed)
    print(f"signed {out}: {len(signed):,} bytes")
    return 0


def cmd_verify(a) -> int:
    try:
        data = Path(a.table).read_bytes()
        keys = [tablebin.load_public(Path(p)) for p in a.pubkey]
    except (OSError, tablebin.BinError, ValueError) as e:
        _err(str(e))
        return EXIT_PROBLEMS
    ok, reason = tablebin.verify(data, keys)
    if ok and not keys:
        ok, reason = False, "intact, but no --pubkey given to check the signature with"
    print(f"{a.table}: {'OK' if ok else 'REFUSED'}: {reason}")
    return 0 if ok else EXIT_PROBLEMS


def cmd_trust(a) -> int:
    from mmrenal import deploy

    pub = tablebin.load_public(Path(a.pubkey))
    name = a.name or Path(a.pubkey).name.split(".")[0]
    deploy.trust_key(a.port, tablebin.device_key_line(pub, name))
    print(f"trusted approver key {tablebin.key_id(pub).hex()} ({name}) on {a.port}")
    return 0


def cmd_flash(a) -> int:
    from mmrenal import deploy

    data = Path(a.table).read_bytes()
    _, reason = tablebin.verify(data, [])
    if "not among" not in reason:  # intact and signed; the device checks whose signature
        _err(f"{a.table}: {reason}; not flashed")
        return EXIT_PROBLEMS
    after = deploy.flash_table(a.port, data, force=a.force)
    slot = after["active_slot"]
    info = after[f"slot_{slot}"]
    print(f"active: slot {slot}, {info['id']} v{info['version']}, sha256 {info['sha256'][:16]}...")
    return 0


def _slot_text(slot: str, info: dict, active: bool) -> str:
    mark = "active " if active else "standby"
    if "problem" in info:
        return f"{mark} slot {slot}: {info['problem']}"
    from mmrenal.clock import from_minutes

    return (f"{mark} slot {slot}: {info['id']} v{info['version']}, effective "
            f"{from_minutes(info['effective'] * 1440)[:10]}, expires "
            f"{from_minutes(info['expires'] * 1440)[:10]}, approver {info['approver']} "
            f"(key {info['approver_key']}), sha256 {info['sha256']}")


def cmd_show(a) -> int:
    from mmrenal.device import Device

    with Device(a.port) as dev:
        st = dev.request({"op": "table_status"})
    if not st.get("ok"):
        _err(f"{st.get('field')}: {st.get('error')}")
        return EXIT_INPUT
    if a.json:
        print(json.dumps(st))
        return 0
    for slot in ("a", "b"):
        print(_slot_text(slot, st[f"slot_{slot}"], slot == st["active_slot"]))
    if st["active_slot"] is None:
        print("NO VALID DOSE TABLE: the device gives no doses")
    if st["fallback"]:
        print("note: the slot named active failed its checks; the device fell back")
    return 0


# --- dose ---------------------------------------------------------------------


def example_table() -> str:
    """The repository's example table, compiled (unsigned) for host look-ups."""
    src = tables.EXAMPLE
    if not BUILT_EXAMPLE.exists() or BUILT_EXAMPLE.stat().st_mtime < src.stat().st_mtime:
        table, problems = tables.load(src)
        if problems or table is None:
            raise SystemExit("the example table has problems: " + "; ".join(map(str, problems)))
        BUILT_EXAMPLE.parent.mkdir(parents=True, exist_ok=True)
        BUILT_EXAMPLE.write_bytes(tablebin.compile_table(table))
    return str(BUILT_EXAMPLE)


def _num(x100: int, scale: int = 0) -> str:
    d = (Decimal(x100) / 100).normalize()
    s = f"{d:f}"
    return s + (f" x 10^{scale}" if scale else "")


def _amount_text(d: dict) -> str:
    amt = _num(d["amount_x100"])
    if d["amount_max_x100"]:
        amt += "-" + _num(d["amount_max_x100"])
    if d["amount_then_x100"]:
        amt += " then " + _num(d["amount_then_x100"])
    unit = d["unit"] if not d["scale"] else f"x 10^{d['scale']} {d['unit']}"
    text = f"{amt} {unit}"
    if "absolute_x100" in d:
        ab = _num(d["absolute_x100"])
        if d["absolute_max_x100"]:
            ab += "-" + _num(d["absolute_max_x100"])
        if d["absolute_then_x100"]:
            ab += " then " + _num(d["absolute_then_x100"])
        text += f" = {ab} mg for this patient"
    if d["frequency"]:
        text += f", {d['frequency']}"
    return (f"[{d['regimen']}] " if d["regimen"] else "") + text


def dose_text(r: dict) -> str:
    lines = [f"{r['drug']} {r['drug_zh']} ({r['route']}): {r['band']}"]
    if r["status"] == "uncertain":
        lines.append("UNCERTAIN: the source gives no dose for this band. No number; "
                     "ask the pharmacist.")
    else:
        label = "STANDARD DOSE (no renal adjustment)" if r["status"] == "standard" else \
            "ADJUSTED DOSE"
        lines.append(f"{label}:")
        lines += ["  " + _amount_text(d) for d in r["doses"]]
    if r["timing"]:
        lines.append(f"Timing: {r['timing']}")
    if r["note"]:
        lines.append(f"Note: {r['note']}")
    lines.append(f"Source: {r['source']}; {r['where']}")
    t = r["table"]
    lines.append(f"Table {t['id']} v{t['version']} (expires {t['expires']})")
    if t["expired"]:
        lines.append(f"WARNING: the dose table expired on {t['expires']}: check with pharmacy")
    if t["not_yet_effective"]:
        lines.append("WARNING: the dose table is not yet in effect")
    if not t.get("clock_set", True):
        lines.append("WARNING: the device clock is not set: the table's dates cannot be checked")
    if not t["verified"]:
        lines.append("note: table file checked for integrity on this computer, not its signature")
    if "check" in r:
        c = r["check"]
        if c["verdict"] == "not checkable":
            lines.append(f"DOSE CHECK: NOT CHECKABLE ({c['reason']})")
        else:
            lines.append(f"DOSE CHECK: {c['verdict'].upper()} the renal dose (largest single "
                         f"dose {_num(c['ceiling_x100'])} {c['unit']})")
    return "\n".join(lines)


def dose_json(r: dict) -> dict:
    first = r["doses"][0] if r["doses"] else None

    def val(key):
        if first is None or (key != "amount_x100" and not first.get(key)):
            return None
        return float(Decimal(first[key]) / 100)

    out = {
        "drug": r["drug"],
        "status": r["status"],
        "regimen": first["regimen"] if first else None,
        "amount": val("amount_x100"),
        "amount_max": val("amount_max_x100"),
        "amount_then": val("amount_then_x100"),
        "scale": first["scale"] if first else None,
        "unit": first["unit"] if first else None,
        "absolute_amount": val("absolute_x100") if first and "absolute_x100" in first else None,
        "absolute_unit": "mg" if first and "absolute_x100" in first else None,
        "frequency": first["frequency"] if first else None,
        "timing": r["timing"],
        "band": r["band"],
        "source": f"{r['source']}; {r['where']}",
        "doses": r["doses"],
        "table": r["table"],
    }
    if "check" in r:
        out["check"] = r["check"]
    return out


def cmd_dose(a) -> int:
    from mmrenal.cli import _engine, _engine_name

    req: dict = {}
    if not a.port:
        req["table_path"] = str(Path(a.table).resolve()) if a.table else example_table()
    with _engine(a) as eng:
        if a.list:
            resp = eng.request({"op": "drugs", **req})
            if not resp.get("ok"):
                _err(f"{resp.get('field')}: {resp.get('error')}")
                return EXIT_INPUT
            for inn, zh, keyed in resp["drugs"]:
                print(f"{inn:26} {zh:10} dosed by {'CrCl' if keyed == 'crcl' else 'eGFR'}")
            return 0
        if not a.drug:
            _err("give a drug (or --list)")
            return EXIT_INPUT
        req.update({"op": "dose", "drug": a.drug, "dialysis": a.dialysis})
        for key in ("crcl", "egfr", "weight", "height", "regimen"):
            if getattr(a, key) is not None:
                req[key] = getattr(a, key)
        if a.check is not None:
            req["prescribed"] = a.check
            req["prescribed_unit"] = a.check_unit
        resp = eng.request(req)
    if not resp.get("ok"):
        if a.json:
            print(json.dumps({"ok": False, "field": resp.get("field"), "error": resp.get("error")}))
        _err(f"{resp.get('field')}: {resp.get('error')}")
        return EXIT_INPUT
    if a.json:
        out = dose_json(resp)
        out["engine"] = _engine_name(a)
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(dose_text(resp))
    return 0


def setup_table(sub) -> None:
    p = sub.add_parser("table", help="dose tables: check, diff, compile, sign, verify, flash")
    t = p.add_subparsers(dest="action", required=True)
    c = t.add_parser("check", help="report every problem with file, line and reason")
    c.add_argument("file")
    c.set_defaults(func=cmd_check)
    c = t.add_parser("diff", help="what changed, rule by rule")
    c.add_argument("old")
    c.add_argument("new")
    c.set_defaults(func=cmd_diff)
    c = t.add_parser("compile", help="the device binary of a checked table")
    c.add_argument("file")
    c.add_argument("-o", "--output", required=True)
    c.set_defaults(func=cmd_compile)
    c = t.add_parser("keygen", help="an approver key pair (private and .pub.pem)")
    c.add_argument("--out", required=True, help="folder for the key files")
    c.add_argument("--name", default="approver")
    c.set_defaults(func=cmd_keygen)
    c = t.add_parser("sign", help="add the approver's signature")
    c.add_argument("table")
    c.add_argument("--key", required=True, help="the approver's private key")
    c.add_argument("-o", "--output", help="default: sign in place")
    c.set_defaults(func=cmd_sign)
    c = t.add_parser("verify", help="exit 0 only for an intact table signed by a given key")
    c.add_argument("table")
    c.add_argument("--pubkey", action="append", default=[], help="approver public key (repeatable)")
    c.set_defaults(func=cmd_verify)
    c = t.add_parser("trust", help="install an approver's public key on a device")
    c.add_argument("pubkey")
    c.add_argument("--port", required=True)
    c.add_argument("--name", help="the approver's name on the device")
    c.set_defaults(func=cmd_trust)
    c = t.add_parser("flash", help="install a signed table on a device (standby slot, then switch)")
    c.add_argument("table")
    c.add_argument("--port", required=True)
    c.add_argument("--force", action="store_true", help="allow a table older than the active one")
    c.set_defaults(func=cmd_flash)
    c = t.add_parser("show", help="the device's active and standby tables")
    c.add_argument("--port", required=True)
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_show)


def setup_dose(sub) -> None:
    p = sub.add_parser("dose", help="the renal dose of a drug, with its source")
    p.add_argument("drug", nargs="?", help="INN (lenalidomide), Chinese name or alias (len, dara)")
    p.add_argument("--list", action="store_true", help="list the table's drugs")
    p.add_argument("--crcl", help="creatinine clearance, mL/min")
    p.add_argument("--egfr", help="eGFR, mL/min/1.73 m2")
    p.add_argument("--dialysis", action="store_true", help="patient on dialysis")
    p.add_argument("--weight", help="kg (for doses per kg)")
    p.add_argument("--height", help="cm (with weight: BSA for doses per m2)")
    p.add_argument("--regimen", help="regimen variant, e.g. iv, sc, 20/56")
    p.add_argument("--check", metavar="AMOUNT", help="dose check: a prescribed single dose")
    p.add_argument("--check-unit", default="mg", help="unit of --check (mg, mg/m2, mg/kg)")
    p.add_argument("--table", help="a compiled table file (default: the repository's example)")
    p.add_argument("--port", help="look up on a board's active table instead")
    p.add_argument("--engine", choices=ENGINES, default="micropython")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dose)
