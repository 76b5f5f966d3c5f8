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
    print(f"public key:  {pub} (install on devices as an approver key: mmrenal table trust {pub} "
          "--port PORT)")
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
    role = "dev" if a.dev else "approver"
    deploy.trust_key(a.port, tablebin.device_key_line(pub, name, role=role))
    what = "development key (its tables show DRAFT)" if a.dev else "approver key"
    print(f"trusted {what} {tablebin.key_id(pub).hex()} ({name}) on {a.port}")
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

    # The approver is the trusted key that verified the signature; the table's own
    # approver text is only its claim.
    role = " development key: DRAFT" if info.get("approver_role") == "dev" else ""
    text = (f"{mark} slot {slot}: {info['id']} v{info['version']}, effective "
            f"{from_minutes(info['effective'] * 1440)[:10]}, expires "
            f"{from_minutes(info['expires'] * 1440)[:10]}, approver {info['approver']} "
            f"(key {info['approver_key']}{role}; the table's own text: {info.get('approver_claim', '?')}), "
            f"sha256 {info['sha256']}")
    if info.get("banner"):
        text = f"{banner_text(info['banner'])}\n{text}"
    return text


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
    # Rebuilt when the source or the compiler changed (a new format must not meet a stale file).
    newest = max(p.stat().st_mtime for p in (src, Path(tablebin.__file__), Path(tables.__file__)))
    if not BUILT_EXAMPLE.exists() or BUILT_EXAMPLE.stat().st_mtime < newest:
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
    if d.get("cycle"):
        text += f", {d['cycle']}"
    return (f"[{d['regimen']}] " if d["regimen"] else "") + text


def banner_text(banner: str) -> str:
    """The handheld's own words for a table banner (firmware/ui_text.py), as a warning."""
    from mmrenal.firmware import load

    return "WARNING: " + load("ui_text").T[banner][0]


def dose_text(r: dict) -> str:
    t = r["table"]
    lines = []
    banner = t.get("banner", "")
    if banner:  # first, before any number
        why = {"draft": " (a table file checked for integrity on this computer, not its signature)"
               if not t["verified"] else " (signed with a development key)",
               "expired": f" (expired on {t['expires']}: check with pharmacy)"}.get(banner, "")
        lines.append(banner_text(banner) + why)
    lines.append(f"{r['drug']} {r['drug_zh']} ({r['route']}): {r['band']}")
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
    if r.get("dosing_where"):  # frequency and cycle days come from their own source
        lines.append(f"Schedule source: {r['dosing_source']}; {r['dosing_where']}")
    if r.get("strengths_x100"):
        lines.append(f"Product: {r['form'] or 'strengths'} " + ", ".join(_num(x) for x in r["strengths_x100"])
                     + " mg")
    approver = t.get("approver") or "none verified"
    lines.append(f"Table {t['id']} v{t['version']} sha {t.get('sha8', '?')}, approver {approver} "
                 f"(expires {t['expires']})")
    if t["expired"] and banner != "expired":
        lines.append(f"WARNING: the dose table expired on {t['expires']}: check with pharmacy")
    if t["not_yet_effective"] and banner != "not_effective":
        lines.append("WARNING: the dose table is not yet in effect")
    if not t.get("clock_set", True):
        lines.append("WARNING: the device clock is not set: the table's dates cannot be checked")
    if not t["verified"] and banner != "draft":  # said in the banner line when there is one
        lines.append("note: table file checked for integrity on this computer, not its signature")
    if r.get("bsa_capped"):
        lines.append(f"BSA capped: per-m2 amounts use {_num(r['bsa_used_x100'])} m2, not the "
                     f"patient's {_num(r['bsa_m2_x100'])} m2")
    if "check" in r:
        lines += check_text(r, r["check"])
    return "\n".join(lines)


FLAG_TEXT = {"frequency": "the frequency is not the table's", "cycle_day": "not a dosing day of the "
             "cycle", "strength": "no combination of whole capsules makes this amount"}


def check_text(r: dict, c: dict) -> list[str]:
    """The dose check's verdict in words, as the device's result screen gives it."""
    if c["verdict"] == "not checkable":
        return [f"DOSE CHECK: CANNOT BE CHECKED ({c['reason']}): no number"]
    u = c["unit"]
    dose = next((d for d in r["doses"] if d["regimen"] == c["regimen"]), r["doses"][0])
    head = {"within": "WITHIN the renal dose", "above": "ABOVE the renal dose",
            "does not match": "DOES NOT MATCH the table", "refused": "REFUSED"}[c["verdict"]]
    out = [f"DOSE CHECK: {head} (largest single dose {_num(c['ceiling_x100'])} {u}; within up "
           f"to {_num(c['within_x100'])} {u}, soft limit {_num(c['soft_x100'])} {u}, hard limit "
           f"{_num(c['hard_x100'])} {u})"]
    if c["verdict"] == "refused":
        out.append("  above the hard limit: no override; ask the prescriber and the pharmacist")
    elif c["limit"] == "soft":
        out.append("  above the soft limit")
    for f in c["flags"]:
        table = {"frequency": f" (table: {dose['frequency']})",
                 "cycle_day": f" (table: {dose.get('cycle', '')})"}.get(f, "")
        out.append(f"  FLAG: {FLAG_TEXT[f]}{table}")
    for f in c["unchecked"]:
        out.append(f"  {f.replace('_', ' ')} not checked: give --{f.replace('_', '-')}"
                   + (f" (table: {dose['frequency']})" if f == "frequency" else
                      f" (table: {dose.get('cycle', '')})"))
    if c["override"]:
        out.append(f"  OVERRIDDEN: {c['override']}")
    elif c["override_needed"]:
        out.append("  needs an override with a reason: --override-reason "
                   "'prescriber confirmed' | 'protocol dose' | 'other'")
    return out


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
        "source_zh": f"{r['source_zh'] or r['source']}; {r['where_zh']}",
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
            t = resp["table"]
            if t.get("banner"):  # stdout stays the list alone
                _err(f"{banner_text(t['banner'])} (table {t['id']} v{t['version']} sha {t['sha8']})")
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
            if a.frequency is not None:
                req["prescribed_frequency"] = a.frequency
            if a.cycle_day is not None:
                req["cycle_day"] = a.cycle_day
            if a.override_reason is not None:
                req["override_reason"] = a.override_reason
        elif a.frequency or a.cycle_day or a.override_reason:
            _err("--frequency, --cycle-day and --override-reason go with --check AMOUNT")
            return EXIT_INPUT
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
    c.add_argument("--name", help="the approver's name on the device (shown as the approver)")
    c.add_argument("--dev", action="store_true",
                   help="a development key: its tables verify, every dose shows DRAFT")
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
    p.add_argument("--frequency", help="dose check: the prescribed frequency (daily, every other "
                   "day, weekly, every 2 weeks, every 3 weeks, every 4 weeks, once)")
    p.add_argument("--cycle-day", help="dose check: the day of the treatment cycle (1, 2, ...)")
    p.add_argument("--override-reason", help="dose check: give a dose that needs an override "
                   "anyway: 'prescriber confirmed', 'protocol dose' or 'other'")
    p.add_argument("--table", help="a compiled table file (default: the repository's example)")
    p.add_argument("--port", help="look up on a board's active table instead")
    p.add_argument("--engine", choices=ENGINES, default="micropython")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_dose)
