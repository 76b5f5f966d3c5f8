"""`mmrenal doctor`: check a board against its profile and say plainly what is wrong.

The board answers four requests (status, board_check, table_status, flc_list); the
judging happens here, so that a finding and its remedy are worded in one place. Each
check ends as one of:

- ok:    checked and as it should be;
- FAIL:  wrong, with what to do (any FAIL makes the exit status 1);
- n/a:   does not apply here (the virtual board has no display or buttons);
- look:  cannot be checked by software, and a person has to look (the panel).

What cannot be proven is said so: neither profile names a MISO pin (the controller's
read line; the vendors' drivers only write), so no software can tell that the panel
answers.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from mmrenal import boardgen, clock
from mmrenal.firmware import load

OK, FAIL, NA, LOOK = "ok", "FAIL", "n/a", "look"
CLOCK_SLACK_MIN = 5  # board vs this computer; more means `rtc --set` was not run here
DEPLOY_MARGIN = 32 * 1024  # deploy writes each module beside the old one (largest ~13 KB)
PRESS_WAIT_MS = 10000




@dataclass
class Finding:
    check: str
    state: str
    text: str
    fix: str = ""


def _kb(n: int) -> str:
    return f"{n / 1024:,.0f} KB"


# --- the checks -----------------------------------------------------------------


def firmware(st: dict) -> Finding:
    here = load("service").FIRMWARE_VERSION  # this computer's copy of the firmware
    text = (f"mmrenal {st['firmware']} (protocol {st['protocol']}), "
            f"{st['micropython'].split('; ')[-1]} ({st['platform']})")
    if st["firmware"] != here:
        return Finding("firmware", FAIL, text + f"; this computer has {here}",
                       "run `mmrenal deploy --port PORT`")
    return Finding("firmware", OK, text)


def startup(st: dict) -> Finding:
    """Safe mode (firmware/main.py): start-up failed, and the device says what failed."""
    why = st.get("safe_mode")
    if why is None:
        return Finding("start-up", LOOK, "this firmware does not report how it started")
    if why:
        return Finding("start-up", FAIL, f"SAFE MODE: start-up failed ({why}); the handheld gives "
                       "no doses and serves only status and the pulls of its records",
                       "first pull every record off it: `mmrenal flc pull --port PORT` and "
                       "`mmrenal audit pull --port PORT`; then report the reason above to the "
                       "device's maintainers (a deploy does not fix a fault in its data)")
    return Finding("start-up", OK, "started normally (not in safe mode)")


def memory(st: dict) -> Finding:
    heap = st["heap_free"]
    return Finding("memory", OK if heap >= 0 else LOOK,
                   f"free heap {_kb(heap)} after a collection" if heap >= 0 else "free heap unknown")


def profile(bc: dict, expected: str | None) -> Finding:
    profiles = boardgen.load()
    name = bc["profile"]
    chosen = bc.get("board_txt")
    label = f"{name} ({profiles[name]['name']})"
    if chosen is not None and chosen not in profiles:
        return Finding("profile", FAIL,
                       f"board.txt names {chosen!r}, which is not a profile; the firmware fell back "
                       f"to {label}",
                       "write one of " + ", ".join(profiles) + " into board.txt: `mpremote connect "
                       "PORT exec \"f=open('board.txt','w'); f.write('NAME'); f.close()\" + "
                       "soft-reset` (docs/hardware.md)")
    if expected and expected not in profiles:
        return Finding("profile", FAIL, f"--profile {expected}: no such profile; the board runs "
                       f"{label}", "name one of " + ", ".join(profiles))
    if expected and expected != name:
        return Finding("profile", FAIL, f"the board runs {label}; you said {expected}",
                       f"if the hardware is {expected}, write it into board.txt (see docs/hardware.md)")
    how = "from board.txt" if chosen is not None else "the default: no board.txt"
    return Finding("profile", OK, f"{label}, {how}")


def _on_spi(rep: str) -> bool:
    """As firmware/boardcheck.on_spi: the pin's function is SPI, by name or number."""
    return "alt=SPI" in rep or rep.endswith("alt=1)")


def _mode(rep: str) -> str:
    m = re.search(r"mode=(\w+)", rep)
    return m.group(1) if m else "?"


def display(bc: dict, st: dict) -> list[Finding]:
    if not bc["machine_pin"]:
        where = "a virtual board" if st["platform"] == "linux" else f"this port ({st['platform']})"
        return [Finding("display", NA, f"no display on {where}: its machine module has no Pin "
                        "or SPI, so the screens do not run there")]
    prof = boardgen.load()[bc["profile"]]
    d = prof["display"]
    out = []
    rows = {role: (gpio, rep, level) for role, gpio, rep, level in bc["display"]}
    if any(_mode(rep) == "?" for _, rep, _ in rows.values()):
        out.append(Finding("display", LOOK, "this port does not show pin modes; the pins could not "
                           "be compared with the profile"))
    else:
        wrong = []
        for role in ("sck", "mosi"):
            gpio, rep, _ = rows[role]
            if not _on_spi(rep):
                wrong.append(f"{role.upper()} GP{gpio} is {_mode(rep)}, not the SPI bus")
        for role in ("cs", "dc", "rst", "backlight"):
            if role in rows and _mode(rows[role][1]) != "OUT":
                gpio, rep, _ = rows[role]
                wrong.append(f"{role.upper()} GP{gpio} is {_mode(rep)}"
                             + (" (taken by the SPI bus)" if _on_spi(rep) else "")
                             + ", not an output")
        if wrong:
            out.append(Finding("display", FAIL, "; ".join(wrong),
                               "the display was not started as the profile says: soft-reset the "
                               "board (`mpremote connect PORT soft-reset`) and watch for a traceback; "
                               "if it persists, run `mmrenal deploy --port PORT`"))
        else:
            pins = ", ".join(f"{r.upper()} GP{rows[r][0]}" for r in rows)
            out.append(Finding("display", OK, f"pins as the profile says: {pins}"))
    bus = bc.get("bus") or ""
    m = re.search(r"SPI\((\d+), baudrate=(\d+).*sck=(\d+), mosi=(\d+)", bus)
    if m:
        spi_id, baud, sck, mosi = map(int, m.groups())
        if (spi_id, sck, mosi) != (d["spi_id"], d["sck"], d["mosi"]):
            out.append(Finding("display", FAIL, f"bus is SPI{spi_id} SCK GP{sck} MOSI GP{mosi}; the "
                               f"profile says SPI{d['spi_id']} SCK GP{d['sck']} MOSI GP{d['mosi']}",
                               "soft-reset the board; if it persists, run `mmrenal deploy`"))
        else:
            out.append(Finding("display", OK, f"SPI{spi_id} created at {baud / 1e6:.1f} MHz (profile "
                               f"asks {d['baudrate'] / 1e6:.1f} MHz; the chip gives the nearest rate "
                               "at or below)"))
    elif bus:
        out.append(Finding("display", LOOK, f"the SPI bus could not be read back: {bus}"))
    if "backlight" in rows and _mode(rows["backlight"][1]) == "OUT" and rows["backlight"][2] != 1:
        out.append(Finding("display", FAIL, f"backlight GP{rows['backlight'][0]} is off: the screen "
                           "is dark", "soft-reset the board; if it stays dark, reseat the display board"))
    out.append(Finding("display", LOOK, "the panel itself cannot be read back: the profile names no "
                       "MISO pin (the controller's read line), so software cannot tell that it "
                       "answers. Look at it: the handheld's home screen must be on it, sharp and the "
                       "right way up"))
    return out


def buttons(bc: dict) -> list[Finding]:
    if not bc["machine_pin"]:
        return [Finding("buttons", NA, "no buttons on this board (no machine.Pin)")]
    prof = boardgen.load()[bc["profile"]]
    want_pull = "PULL_DOWN" if prof["pull"] == "down" else "PULL_UP"  # as board.buttons()
    level = "low" if prof["active_low"] else "high"
    out = []
    for name, gpio, pressed, samples, rep in bc["buttons"]:
        if pressed == samples:
            out.append(Finding("buttons", FAIL, f"{name} (GP{gpio}) reads pressed with nobody "
                               f"touching it (held {level} in {samples} of {samples} reads)",
                               "a stuck key or a short to ground: check that the key springs back "
                               "and that nothing bridges its pins; otherwise replace the display "
                               "board"))
        elif pressed:
            out.append(Finding("buttons", FAIL, f"{name} (GP{gpio}) flickers: pressed in {pressed} "
                               f"of {samples} idle reads",
                               "a loose joint or a floating input: reseat the display board on the "
                               "Pico's header; if it persists, replace it"))
        elif _mode(rep) not in ("IN", "?") or (_mode(rep) == "IN" and want_pull not in rep):
            out.append(Finding("buttons", FAIL, f"{name} (GP{gpio}) is set up as {rep}, not an "
                               f"input with {want_pull}", "run `mmrenal deploy --port PORT`"))
    if not out:
        keys = ", ".join(f"{n} GP{g}" for n, g, *_ in bc["buttons"])
        out.append(Finding("buttons", OK, f"idle as the profile says (active {level}): {keys}"))
    return out


def pressed(name: str, gpio: int, after: int, released: bool, wait_ms: int) -> Finding:
    if after < 0:
        return Finding("buttons", FAIL, f"{name} (GP{gpio}) was not seen pressed within "
                       f"{wait_ms // 1000} s", "press it firmly; if it is never seen, the key or its "
                       "joint is broken: replace the display board")
    if not released:
        return Finding("buttons", FAIL, f"{name} (GP{gpio}) pressed, but not released",
                       "check that the key springs back")
    return Finding("buttons", OK, f"{name} (GP{gpio}) pressed and released")


def flash(st: dict, flc: dict | None) -> Finding:
    free, total = st["flash_free"], st["flash_total"]
    if free < 0:
        return Finding("flash", LOOK, "the board does not report its free flash")
    # Room for what still has to fit: a table in the standby slot, a deploy's second copy
    # of a module, the FLC journal up to its capacity, the audit log up to its limit (its
    # size is not reported, so it is counted in full).
    grow = (flc["capacity"] - flc["bytes"]) if flc else load("flcstore").MAX_BYTES
    need = load("tablestore").MAX_TABLE + DEPLOY_MARGIN + grow + load("audit").MAX_BYTES
    text = f"{_kb(free)} free of {_kb(total)}; {_kb(need)} needed for a table install, a deploy " \
           "and the journals to fill"
    if free < need:
        return Finding("flash", FAIL, text, "pull the FLC records and the audit log "
                       "(`mmrenal flc pull`, `mmrenal audit pull`), then remove files that are not "
                       "the firmware's (`mpremote connect PORT fs ls`)")
    return Finding("flash", OK, text)


def records(flc: dict | None) -> Finding:
    """The FLC journal: how full, and how many records are not yet pulled and
    acknowledged (only acknowledged records of discharged patients are ever removed)."""
    if not flc:
        return Finding("records", FAIL, "the board did not list its FLC records",
                       "run `mmrenal deploy --port PORT`")
    used, cap = flc["bytes"], flc["capacity"]
    waiting = flc.get("not_acked")
    text = f"FLC journal {used:,} of {cap:,} bytes ({used * 100 // max(cap, 1)}%), {flc['patients']} " \
           f"of 16 patients"
    if waiting is None:
        return Finding("records", LOOK, text + "; this firmware cannot say which records were "
                       "pulled", "run `mmrenal deploy --port PORT`")
    text += f", {waiting} records not yet pulled and acknowledged"
    how = "`mmrenal flc pull --port PORT -o FOLDER`, then `mmrenal flc discharge CODE --port PORT` " \
          "for each patient who has left (their space is freed at the next pull)"
    if flc.get("damaged"):
        return Finding("records", LOOK, text + f"; damaged bytes skipped at boot: {flc['damaged']}",
                       "pull the records now; " + how)
    if used + 64 > cap - flc.get("reserve", 0):
        return Finding("records", FAIL, text + ": STORAGE FULL, no new sample can be recorded", how)
    if used * 5 > cap * 4:
        return Finding("records", LOOK, text + ": more than 80% full", how)
    return Finding("records", OK, text)


def clock_check(st: dict, host_now: int) -> Finding:
    if not st["clock_set"]:
        return Finding("clock", FAIL, f"{st['clock']}: NOT SET (a Pico's clock starts at 2021-01-01 "
                       "after every power-up)", "`mpremote connect PORT rtc --set` (takes this "
                       "computer's time); keep the handheld powered, or set it after each power-up")
    off = clock.to_minutes(st["clock"]) - host_now
    if abs(off) > CLOCK_SLACK_MIN:
        way = "ahead of" if off > 0 else "behind"
        return Finding("clock", FAIL, f"{st['clock']}: {abs(off):,} min {way} this computer",
                       "`mpremote connect PORT rtc --set`, from a computer whose own clock is right")
    return Finding("clock", OK, f"{st['clock']}, set (within {CLOCK_SLACK_MIN} min of this computer)")


def table(ts: dict, st: dict) -> Finding:
    active = ts.get("active_slot")
    if not active:
        why = "; ".join(ts.get("problems") or []) or "no table installed"
        return Finding("table", FAIL, f"NO VALID DOSE TABLE ({why}): the handheld gives no doses",
                       "install the signed table: `mmrenal table flash TABLE.bin --port PORT`; if "
                       "it is refused as unapproved, first `mmrenal table trust KEY.pub.pem --port "
                       "PORT` (docs/table-format.md)")
    info = ts[f"slot_{active}"]
    text = (f"{info['id']} v{info['version']} in slot {active}, approved by {info['approver']}, "
            f"effective {clock.from_minutes(info['effective'] * 1440)[:10]}, expires "
            f"{clock.from_minutes(info['expires'] * 1440)[:10]}")
    if ts.get("fallback"):
        return Finding("table", FAIL, text + "; the slot named active failed its checks ("
                       + "; ".join(ts.get("problems") or []) + ") and the device fell back to this one",
                       "install the current signed table again: `mmrenal table flash TABLE.bin "
                       "--port PORT`")
    if not st["clock_set"]:
        return Finding("table", LOOK, text + "; its dates cannot be judged until the clock is set")
    if info.get("expired"):
        return Finding("table", FAIL, text + ": EXPIRED",
                       "install the current signed table: `mmrenal table flash TABLE.bin --port PORT`")
    if clock.to_minutes(st["clock"]) // 1440 < info["effective"]:
        return Finding("table", FAIL, text + ": not yet in effect",
                       "check the board's clock; or install the table in force today")
    return Finding("table", OK, text)


# --- running it on a board ------------------------------------------------------


def _bc(dev, req: dict) -> dict | None:
    resp = dev.request({"op": "board_check", **req}, wait=PRESS_WAIT_MS / 1000 + 15)
    if resp.get("field") == "op":
        return None  # firmware older than this check
    if not resp.get("ok"):
        raise RuntimeError(f"board_check: {resp.get('field')}: {resp.get('error')}")
    return resp


def examine(dev, expected: str | None = None, press: bool = False, say=print) -> tuple[list, dict]:
    """Every finding for the board behind `dev` (a Device), and the raw answers."""
    st = dev.request({"op": "status"})
    findings = [firmware(st), startup(st), memory(st)]
    if st.get("safe_mode"):  # nothing else is served: say so rather than fail each check
        findings.append(clock_check(st, clock.now_minutes()))
        return findings, {"status": st, "board_check": None}
    bc = _bc(dev, {})
    if bc is None:
        findings.append(Finding("profile", FAIL, "the board's firmware cannot check its own "
                                "hardware (no board_check request)", "run `mmrenal deploy --port PORT`"))
    else:
        findings.append(profile(bc, expected))
        findings += display(bc, st)
        findings += buttons(bc)
        if press and bc["machine_pin"]:
            for name, gpio, *_ in bc["buttons"]:
                say(f"press and release {name} (GP{gpio}) within {PRESS_WAIT_MS // 1000} s ...",
                    flush=True)
                r = _bc(dev, {"press": name, "wait_ms": PRESS_WAIT_MS})["press"]
                findings.append(pressed(name, gpio, r[2], r[3], PRESS_WAIT_MS))
        elif bc["machine_pin"]:
            findings.append(Finding("buttons", LOOK, "presses not checked: run `mmrenal doctor "
                                    "--press` and press each key when asked"))
    flc = dev.request({"op": "flc_list"})
    findings.append(flash(st, flc if flc.get("ok") else None))
    findings.append(records(flc if flc.get("ok") else None))
    findings.append(clock_check(st, clock.now_minutes()))
    findings.append(table(dev.request({"op": "table_status"}), st))
    return findings, {"status": st, "board_check": bc}


def report(findings: list[Finding], port: str) -> str:
    lines = [f"mmrenal doctor: {port}"]
    for f in findings:
        lines.append(f"{f.state:<5} {f.check:<9} {f.text}")
        if f.fix:
            lines.append(f"{'':15} -> {f.fix.replace('PORT', port)}")
    failed = sum(f.state == FAIL for f in findings)
    if failed:
        lines.append(f"{failed} check(s) failed")
    else:
        lines.append("every check passed" + (" (items marked look need a person)"
                                              if any(f.state == LOOK for f in findings) else ""))
    return "\n".join(lines)


def run(port: str, expected: str | None = None, press: bool = False, as_json: bool = False) -> int:
    from mmrenal.device import Device

    with Device(port) as dev:
        findings, raw = examine(dev, expected, press)
    failed = any(f.state == FAIL for f in findings)
    if as_json:
        print(json.dumps({"ok": not failed, "findings": [asdict(f) for f in findings], **raw}))
    else:
        print(report(findings, port))
    return 1 if failed else 0
