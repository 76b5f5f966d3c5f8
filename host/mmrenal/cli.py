"""The `mmrenal` command. One table, COMMANDS, maps each command to its handler.

Every calculation runs through the firmware (firmware/service.py) on the chosen
engine: MicroPython's unix port by default, or CPython; the host never recomputes.
Exit status: 0 done, 2 input refused (the message names the field), 1 other failure.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path

from mmrenal import __version__, clock, flc_cmds, hwdocs, report, table_cmds, trace
from mmrenal.device import DeviceError, NoBoard
from mmrenal.engine import ENGINES, PICO_HEAP, Engine, EngineError

EXIT_INPUT = 2

# calc kind -> (request op, CSV columns required, CSV columns optional, text formatter)
CALCS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], Callable]] = {
    "crcl": (
        "crcl",
        ("age", "sex", "weight_kg", "height_cm", "scr", "scr_unit"),
        ("weight_policy", "obese_pct", "dialysis"),
        report.crcl_text,
    ),
    "egfr": ("egfr", ("age", "sex", "scr", "scr_unit"), (), report.egfr_text),
    "bsa": ("bsa", ("weight_kg", "height_cm"), (), report.bsa_text),
    "ibw": ("ibw", ("sex", "height_cm"), ("weight_kg",), report.ibw_text),
}

# CSV column -> request key
CSV_KEYS = {"weight_kg": "weight", "height_cm": "height"}


class UsageError(Exception):
    """Input refused before it reached the device (bad time, bad CSV header)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _history(pairs: list[str]) -> list[list]:
    out = []
    for item in pairs:
        when, sep, value = item.rpartition("=")
        if not sep:
            raise UsageError("history", f"{item!r} is not TIME=VALUE")
        try:
            out.append([clock.to_minutes(when), value])
        except ValueError as e:
            raise UsageError("history", str(e)) from e
    return out


def _request_from_args(kind: str, a: argparse.Namespace) -> dict:
    req: dict = {"op": CALCS[kind][0]}
    for key in ("age", "sex", "weight", "height", "scr", "scr_unit", "weight_policy", "obese_pct"):
        value = getattr(a, key, None)
        if value is not None:
            req[key] = value
    if getattr(a, "dialysis", False):
        req["dialysis"] = True
    if getattr(a, "history", None):
        req["history"] = _history(a.history)
        try:
            req["scr_time"] = clock.to_minutes(a.scr_time) if a.scr_time else clock.now_minutes()
        except ValueError as e:
            raise UsageError("scr_time", str(e)) from e
    return req


def _request_from_row(kind: str, row: dict) -> dict:
    req: dict = {"op": CALCS[kind][0]}
    for col in CALCS[kind][1] + CALCS[kind][2]:
        value = (row.get(col) or "").strip()
        if not value:
            continue
        key = CSV_KEYS.get(col, col)
        if col == "dialysis":
            req[key] = value.lower() in ("1", "true", "yes", "y")
        else:
            req[key] = value
    return req


def _engine(a: argparse.Namespace):
    """Where the firmware runs: a board (--port) or a local interpreter (--engine)."""
    if getattr(a, "port", None):
        from mmrenal.device import Device

        return Device(a.port)
    return Engine(a.engine)


def _engine_name(a: argparse.Namespace) -> str:
    return f"board {a.port}" if getattr(a, "port", None) else a.engine


def _print_error(field: str, message: str, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"ok": False, "field": field, "error": message}))
    print(f"mmrenal: {field}: {message}", file=sys.stderr)


def cmd_calc(a: argparse.Namespace) -> int:
    kind = a.kind
    if a.csv:
        return _calc_csv(kind, a)
    try:
        req = _request_from_args(kind, a)
    except UsageError as e:
        _print_error(e.field, e.message, a.json)
        return EXIT_INPUT
    with _engine(a) as eng:
        resp = eng.request(req)
    if not resp.get("ok"):
        _print_error(resp.get("field", "?"), resp.get("error", "refused"), a.json)
        return EXIT_INPUT
    if a.json:
        out = report.public(resp)
        out["engine"] = _engine_name(a)
        print(json.dumps(out))
    else:
        inputs = {k: v for k, v in req.items() if k != "op"}
        print(CALCS[kind][3](inputs, resp))
    return 0


def _calc_csv(kind: str, a: argparse.Namespace) -> int:
    required = CALCS[kind][1]
    try:
        fh = sys.stdin if a.csv == "-" else open(a.csv, newline="", encoding="utf-8-sig")
    except OSError as e:
        print(f"mmrenal: csv: {e}", file=sys.stderr)
        return EXIT_INPUT
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            print(f"mmrenal: csv: missing column(s) {', '.join(missing)}; "
                  f"need {','.join(required)}", file=sys.stderr)
            return EXIT_INPUT
        rows = refused = 0
        with _engine(a) as eng:
            for number, row in enumerate(reader, start=1):
                rows += 1
                row = {k: v for k, v in row.items() if k is not None}
                resp = eng.request(_request_from_row(kind, row))
                out = {"row": number, **row}
                if resp.get("ok"):
                    out.update(report.public(resp))
                else:
                    refused += 1
                    out["error"] = resp.get("error")
                    out["field"] = resp.get("field")
                print(json.dumps(out), flush=True)
    print(f"mmrenal: {rows} rows, {rows - refused} computed, {refused} refused "
          f"({_engine_name(a)})", file=sys.stderr)
    return 0


def cmd_aki(a: argparse.Namespace) -> int:
    try:
        req = {"op": "aki", "scr_unit": a.scr_unit, "history": _history(a.sample)}
    except UsageError as e:
        _print_error(e.field, e.message, a.json)
        return EXIT_INPUT
    if a.dialysis:
        req["dialysis"] = True
    with _engine(a) as eng:
        resp = eng.request(req)
    if not resp.get("ok"):
        _print_error(resp.get("field", "?"), resp.get("error", "refused"), a.json)
        return EXIT_INPUT
    print(json.dumps(report.public(resp)) if a.json else report.aki_text({}, resp))
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from mmrenal import demo

    return demo.run(a.engine)


def _add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=ENGINES, default="micropython",
                   help="interpreter that runs the firmware (default: micropython)")
    p.add_argument("--json", action="store_true", help="one JSON object per result")
    p.add_argument("--port", help="run on a board at this serial port ('auto' finds one) "
                   "instead of a local engine")


def _setup_calc(sub) -> None:
    p = sub.add_parser("calc", help="renal calculations through the firmware")
    kinds = p.add_subparsers(dest="kind", required=True, metavar="{crcl,egfr,bsa,ibw,aki}")
    for kind in CALCS:
        k = kinds.add_parser(kind, help=f"{kind} (batch: --csv FILE)")
        _add_engine(k)
        k.add_argument("--csv", metavar="FILE", help="one row per patient; '-' for stdin; "
                       f"columns {','.join(CALCS[kind][1] + CALCS[kind][2])}")
        cols = CALCS[kind][1] + CALCS[kind][2]
        if "age" in cols:
            k.add_argument("--age", help="years (18-110)")
        if "sex" in cols:
            k.add_argument("--sex", help="F or M")
        if "weight_kg" in cols:
            k.add_argument("--weight", help="kg (25-300, 0.1 kg)")
        if "height_cm" in cols:
            k.add_argument("--height", help="cm (120-230, 0.1 cm)")
        if "scr" in cols:
            k.add_argument("--scr", help="serum creatinine")
            k.add_argument("--scr-unit", help="mg/dL or umol/L (required, never guessed)")
        if kind == "crcl":
            k.add_argument("--weight-policy",
                           choices=("actual", "ideal", "adjusted", "bmi", "pharmacy"),
                           help="which weight enters Cockcroft-Gault (default actual)")
            k.add_argument("--obese-pct", help="pharmacy rule: adjusted weight above this "
                           "%% of IBW (110-150, default 120)")
            k.add_argument("--dialysis", action="store_true", help="patient is on dialysis")
            k.add_argument("--history", action="append", metavar="TIME=SCR",
                           help="earlier creatinine (ISO time=value, same unit), repeatable; "
                           "enables the KDIGO AKI check")
            k.add_argument("--scr-time", help="time of --scr (ISO 8601, default now)")
        k.set_defaults(func=cmd_calc)
    k = kinds.add_parser("aki", help="KDIGO AKI stage from a creatinine series")
    _add_engine(k)
    k.add_argument("--scr-unit", help="mg/dL or umol/L (required)")
    k.add_argument("--sample", action="append", default=[], metavar="TIME=SCR",
                   help="a creatinine sample (ISO time=value), repeatable")
    k.add_argument("--dialysis", action="store_true", help="kidney replacement therapy started")
    k.set_defaults(func=cmd_aki)


def _setup_demo(sub) -> None:
    p = sub.add_parser("demo", help="a worked bedside example (what `make run` shows)")
    p.add_argument("--engine", choices=ENGINES, default="micropython")
    p.set_defaults(func=cmd_demo)


def cmd_deploy(a: argparse.Namespace) -> int:
    from mmrenal import deploy

    print(f"deploying firmware to {a.port} ({'sources' if a.source else 'mpy-cross'})")
    r = deploy.deploy(a.port, source=a.source)
    print(f"done: {len(r.written)} files written ({r.bytes_written:,} bytes), "
          f"{len(r.skipped)} unchanged, {len(r.removed)} removed, {r.seconds:.1f} s")
    return 0


def cmd_doctor(a: argparse.Namespace) -> int:
    from mmrenal import doctor

    return doctor.run(a.port, a.profile, a.press, a.json)


def _setup_deploy(sub) -> None:
    p = sub.add_parser("deploy", help="compile the firmware and copy what changed to a board")
    p.add_argument("--port", required=True, help="serial port, or 'auto'")
    p.add_argument("--source", action="store_true", help="copy .py sources instead of .mpy")
    p.set_defaults(func=cmd_deploy)


def _setup_doctor(sub) -> None:
    p = sub.add_parser("doctor", help="check a board against its profile: firmware, display "
                       "pins, buttons, flash, clock, dose table (exit 1 on a failed check)")
    p.add_argument("--port", required=True, help="serial port, or 'auto'")
    p.add_argument("--profile", help="the board profile the hardware should be (hw/boards/)")
    p.add_argument("--press", action="store_true", help="also ask for each button to be pressed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_doctor)


AUDIT_COLUMNS = ("seq", "kind", "time", "patient", "drug", "crcl_ml_min", "egfr", "dialysis",
                 "table_version", "status", "amount", "unit", "checked_amount", "verdict",
                 "frequency", "cycle_day", "flags", "override_reason", "regimen")


def cmd_audit(a: argparse.Namespace) -> int:
    """Append the board's new audit records to a CSV file (by sequence number)."""
    from mmrenal.device import Device

    out = Path(a.output)
    have = set()
    if out.exists():
        with out.open(newline="") as f:
            reader = csv.DictReader(f)
            have = {int(r["seq"]) for r in reader}
            if reader.fieldnames and tuple(reader.fieldnames) != AUDIT_COLUMNS:
                # An older mmrenal's file: appending rows with more columns would misalign them.
                _print_error("output", f"{out} has other columns (an older mmrenal wrote it): "
                             "pull into a new file", False)
                return EXIT_INPUT
    since = max(have, default=0)
    new = []
    with Device(a.port) as dev:
        while True:
            resp = dev.request({"op": "audit_pull", "since": since})
            if not resp.get("ok"):
                _print_error(resp.get("field", "?"), resp.get("error", "refused"), False)
                return EXIT_INPUT
            new += [r for r in resp["records"] if r[0] not in have]
            if resp["records"]:
                since = resp["records"][-1][0]
            if not resp["more"]:
                break
    fresh = not out.exists()
    with out.open("a", newline="") as f:
        w = csv.writer(f)
        if fresh:
            w.writerow(AUDIT_COLUMNS)
        for (seq, kind, t, patient, drug, crcl, egfr, dia, ver, status, amount, unit, checked,
             verdict, freq, day, flags, reason, regimen) in new:
            w.writerow((seq, kind, clock.from_minutes(t), patient, drug, crcl / 10, egfr / 10,
                        dia, ver, status,
                        amount / 100 if kind.split()[-1] in ("dose", "check", "override") and status != "uncertain"
                        else "", unit,
                        checked / 100 if checked else "", verdict, freq, day or "", flags, reason,
                        regimen))
    print(f"{len(new)} new audit records appended to {out}")
    return 0


def _setup_audit(sub) -> None:
    p = sub.add_parser("audit", help="the board's audit log: doses shown and checked, clock changes, errors")
    s = p.add_subparsers(dest="action", required=True)
    c = s.add_parser("pull", help="append new records to a CSV file")
    c.add_argument("--port", required=True)
    c.add_argument("-o", "--output", required=True)
    c.set_defaults(func=cmd_audit)


def cmd_sim(a: argparse.Namespace) -> int:
    from mmrenal import sim

    if a.screens:
        for path in sim.screens(Path(a.screens)):
            print(f"wrote {path}")
        return 0
    if a.serve is not None:
        from mmrenal import websim

        return websim.serve(a.serve)
    try:
        screen = sim.run(a.keys, a.screenshot, with_table=not a.no_table)
    except (ValueError, RuntimeError) as e:
        print(f"mmrenal: {e}", file=sys.stderr)
        return EXIT_INPUT
    print(json.dumps(screen, ensure_ascii=False) if a.json else "\n".join(screen["text"]))
    return 0


def _setup_sim(sub) -> None:
    p = sub.add_parser("sim", help="run the handheld's screens headless with a key script")
    p.add_argument("--keys", default="", help="e.g. X,A,A,X (A up, B down, X select, Y back; "
                   "A:long for a long press)")
    p.add_argument("--screenshot", help="PNG of the final screen")
    p.add_argument("--no-table", action="store_true", help="start with no dose table")
    p.add_argument("--screens", metavar="DIR", help="write every screen in both languages "
                   "(docs/screens)")
    p.add_argument("--serve", type=int, nargs="?", const=8765, metavar="PORT",
                   help="the handheld in a web page on 127.0.0.1 (default port 8765)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sim)


def cmd_vdevice(a: argparse.Namespace) -> int:
    from mmrenal import vboard

    return vboard.run(a.flash, a.heap, a.control)


def _setup_vdevice(sub) -> None:
    p = sub.add_parser("vdevice", help="start a virtual board on a pseudo-terminal port")
    p.add_argument("--flash", help="folder that plays the board's flash (kept); default: temporary")
    p.add_argument("--heap", default=PICO_HEAP, help=f"MicroPython heap size (default {PICO_HEAP}, a Pico's)")
    p.add_argument("--control", help="path of the control socket (power cut, clock)")
    p.set_defaults(func=cmd_vdevice)


# The one command table: name -> parser setup. Each setup binds its handler.
COMMANDS: dict[str, Callable] = {
    "calc": _setup_calc,
    "demo": _setup_demo,
    "vdevice": _setup_vdevice,
    "sim": _setup_sim,
    "audit": _setup_audit,
    "deploy": _setup_deploy,
    "doctor": _setup_doctor,
    "hw": hwdocs.setup,
    "table": table_cmds.setup_table,
    "dose": table_cmds.setup_dose,
    "flc": flc_cmds.setup_flc,
    "trace": trace.setup_trace,
}


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mmrenal", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"mmrenal {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)
    for setup in COMMANDS.values():
        setup(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NoBoard as e:
        print(f"mmrenal: {e}", file=sys.stderr)
        return EXIT_INPUT
    except (EngineError, DeviceError) as e:
        print(f"mmrenal: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
