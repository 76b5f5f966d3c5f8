"""`mmrenal sim`: the handheld's screens on MicroPython, driven by a key script.

The firmware's UI (firmware/ui.py) runs in the unix port (firmware/sim.py) with a flash
folder holding the example dose table, signed with a key made for the run and
installed as on a board. Keys: A (up), B (down), X (select), Y (back); add ":long" for
a long press. Screenshots are PNGs made from the 4-bit framebuffer and its palette.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from mmrenal import tablebin, tables
from mmrenal.engine import command, env_for
from mmrenal.paths import FIRMWARE

KEYS = {"A": "UP", "B": "DOWN", "X": "SELECT", "Y": "BACK"}
# The unix port's objects take up to twice the RAM of the RP2040's 32-bit ones, so the
# whole UI needs more than the 180K that models a Pico for the protocol alone. The
# screens compiled from source on 64-bit words outgrew 320K with the whole-rule dose
# screens and the 18 px Chinese font (a fragmentation MemoryError while wrapping a
# Chinese note); this heap is a stand-in, not the chip's figure: RAM is judged on the
# emulated RP2040 with the frozen firmware (issue 16).
SIM_HEAP = "512K"
WIDTH, HEIGHT = 240, 135
EPOCH = dt.datetime(2000, 1, 1)
DAY = 1440
# The clock of screenshots and tests: fixed, so the title bar's time does not change.
SIM_NOW = int((dt.datetime(2026, 11, 26, 9, 30) - EPOCH).total_seconds()) // 60
DEMO_PATIENT = "BED-12"


def minutes(when: dt.datetime) -> int:
    return int((when - EPOCH).total_seconds()) // 60


def add_demo_patient(flash: Path, now: int = SIM_NOW) -> None:
    """BED-12: kappa myeloma cast nephropathy, treatment started 19 days ago, with plasma
    exchange on days 1, 3 and 5, a falling kappa (half-life about 5 days) and a
    creatinine of 1.40 mg/dL two days ago, written
    by the firmware's own FLC store so the trend screen has something to show."""
    from mmrenal.firmware import load

    tracker = load("flcstore").Tracker(str(flash / "flc.jnl"))
    tracker.boot()
    start = now - 19 * DAY - now % 60
    tracker.add_patient(DEMO_PATIENT, 0, start)
    for day in (1, 3, 5):
        tracker.add_event(DEMO_PATIENT, 2, start + day * DAY + 600, start + day * DAY + 780)
    for day, kappa in ((-1, 184000), (1, 161500), (2, 121000), (4, 93200), (6, 70400),
                       (8, 51800), (11, 33100), (14, 24600), (18, 15900)):
        tracker.add_sample(DEMO_PATIENT, start + day * DAY + 420, kappa, 1850, "LAB1", False)
    # Creatinine 1.40 mg/dL two days ago (drawn at 07:00): the series KDIGO reads.
    tracker.add_creatinine(DEMO_PATIENT, now - now % DAY - 2 * DAY + 420, 123760)


def prepare_flash(flash: Path, with_table: bool = True, demo: bool = False,
                  now: int = SIM_NOW) -> None:
    """A flash folder with the example table installed in slot a and its key trusted
    as a development key (and with `demo`, the demo patient's FLC records up to `now`)."""
    flash.mkdir(parents=True, exist_ok=True)
    if demo:
        add_demo_patient(flash, now)
    if not with_table:
        return
    keys = Path(tempfile.mkdtemp(prefix="mmrenal-sim-key-"))
    try:
        priv, pub = tablebin.keygen(keys, "sim")
        table, problems = tables.load(tables.EXAMPLE)
        if problems or table is None:
            raise SystemExit("the example table has problems")
        (flash / "table_a.bin").write_bytes(tablebin.sign(tablebin.compile_table(table), priv))
        (flash / "table.act").write_text("a")
        # A development key: the table verifies and doses are shown, each with the
        # DRAFT banner (a table only an approver's key signed is for patient use).
        (flash / "approvers.txt").write_text(
            tablebin.device_key_line(tablebin.load_public(pub), "sim", role="dev") + "\n")
    finally:
        shutil.rmtree(keys, ignore_errors=True)


class Sim:
    """The firmware's UI on MicroPython. `clock`: minutes since 2000 the device clock
    reads (SIM_NOW by default; 0 is an unset clock; None follows the host's clock)."""

    def __init__(self, flash: Path, clock: int | None = SIM_NOW):
        env = env_for("micropython")
        self.proc = subprocess.Popen(command("micropython", str(FIRMWARE / "sim.py"), SIM_HEAP), cwd=flash,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        if clock is not None:
            self.set_clock(clock)

    def set_clock(self, minutes: int) -> None:
        self._cmd(f"clock {minutes}")

    def tick(self) -> int:
        return int(self._cmd("tick"))

    def press_time(self, name: str, n: int) -> int:
        """Microseconds from a key event to its frame drawn and pushed (mean of n)."""
        return int(self._cmd(f"press {name} {n}"))

    def memory(self) -> dict:
        return json.loads(self._cmd("mem"))

    def _cmd(self, line: str) -> str:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the simulator stopped: " + (self.proc.stderr.read() if self.proc.stderr else ""))
        return answer.strip()

    def key(self, spec: str) -> None:
        name, _, kind = spec.strip().upper().partition(":")
        if name not in KEYS:
            raise ValueError(f"unknown key {spec!r}: use A, B, X, Y (add :long)")
        self._cmd(f"key {KEYS[name]} {'long' if kind == 'LONG' else 'short'}")

    def audit(self) -> list:
        return json.loads(self._cmd("audit"))

    def timing(self, n: int) -> dict:
        return json.loads(self._cmd(f"time {n}"))

    def screen(self) -> dict:
        return json.loads(self._cmd("text"))

    def png(self, path: Path) -> Path:
        from PIL import Image

        raw = Path(tempfile.mkstemp(suffix=".fb")[1])
        try:
            self._cmd(f"frame {raw}")
            data = raw.read_bytes()
        finally:
            raw.unlink(missing_ok=True)
        fb, lut = data[: WIDTH * HEIGHT // 2], data[WIDTH * HEIGHT // 2 :]
        palette = []
        for i in range(16):
            c = (lut[2 * i] << 8) | lut[2 * i + 1]
            palette += [(c >> 11) * 255 // 31, ((c >> 5) & 63) * 255 // 63, (c & 31) * 255 // 31]
        img = Image.new("P", (WIDTH, HEIGHT))
        img.putpalette(palette)
        img.putdata([(b >> 4) if x % 2 == 0 else (b & 15)
                     for b in fb for x in (0, 1)])
        img = img.convert("RGB").resize((WIDTH * 2, HEIGHT * 2), Image.NEAREST)
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path)
        return path

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self._cmd("quit")
            except (RuntimeError, BrokenPipeError):
                pass
            self.proc.wait(timeout=10)

    def __enter__(self) -> Sim:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def steps(delta: int, short: int, big: int) -> list[str]:
    """The fewest presses that move a value by `delta` with steps `short` (a press) and
    `big` (a long press): long presses, then short ones, or one long press past it and
    short ones back, whichever is fewer."""
    up, down = ("A", "B") if delta >= 0 else ("B", "A")
    d = abs(delta)
    if d % short:
        raise ValueError(f"{delta} is not on the grid of {short}")
    n_big, rest = divmod(d, big)
    plain = [up + ":long"] * n_big + [up] * (rest // short)
    over = [up + ":long"] * (n_big + 1) + [down] * ((big - rest) // short)
    return over if rest and len(over) < len(plain) else plain


# The kidney-function form's starting points and steps (firmware/ui.py RenalEntry).
AGE_START, WEIGHT_START, HEIGHT_START, SCR_START = 65, 700, 1650, 100  # y, 0.1 kg, 0.1 cm, 0.01 mg/dL


def entry_keys(age: int, female: bool, weight_x10: int, height_x10: int, scr_x100: int,
               dialysis: bool = False, drawn_back: int = 0) -> list[str]:
    """The presses that fill in the kidney-function form (mg/dL) from empty and
    calculate: each number's first press shows its starting point; `drawn_back` moves the
    creatinine's draw time that many minutes before the clock (a multiple of 15). The
    calculation is a long SELECT on the last row entered."""
    keys = ["A"] + steps(age - AGE_START, 1, 5) + ["X"]
    keys += ["A" if female else "B", "X"]
    keys += ["A"] + steps(weight_x10 - WEIGHT_START, 5, 50) + ["X"]
    keys += ["A"] + steps(height_x10 - HEIGHT_START, 10, 50) + ["X"]
    keys += ["A"] + steps(scr_x100 - SCR_START, 1, 10) + ["X"]
    keys += ["A" if dialysis else "B"]
    if drawn_back:
        keys += ["X"] + steps(-drawn_back, 15, 60)
    return keys + ["X:long"]  # calculate


# A typical patient: 67-year-old woman, 58 kg, 160 cm, creatinine 1.40 mg/dL (CrCl 37.8
# mL/min by the table's BMI rule, lenalidomide's 30-59 band).
TYPICAL = entry_keys(67, True, 580, 1600, 140)
TO_RENAL = ["B", "X", "X"]  # Kidney function, choose the first patient (BED-12): the form
CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-"  # firmware/ui_flc.py, in its order


def bedside_keys(digits: str = "14") -> list[str]:
    """A nurse's whole path from Home to lenalidomide's dose for a new patient in bed
    BED-<digits> (the ward's prefix BED- from BED-12) who is the typical patient above:
    Kidney function, + New patient, the code, the involved chain (kappa), save; the form;
    the drug list; the 5th drug."""
    keys = ["B", "X", "B", "X"]
    at = 0  # the new character starts at '0'
    for i, ch in enumerate(digits):
        to = CODE_CHARS.index(ch)
        keys += ["A"] * (to - at) if to >= at else ["B"] * (at - to)
        if i < len(digits) - 1:
            keys.append("X")  # add a character (a copy of this one)
        at = to
    keys += ["X:long", "B", "X", "X"]  # on to the chain: kappa; the Save row; save
    return keys + TYPICAL + ["X"] + ["B"] * 4 + ["X"]
TO_RESULT = TO_RENAL + TYPICAL
LENALIDOMIDE = TO_RESULT + ["X"] + ["B"] * 4 + ["X"]  # drug doses, the 5th drug
TO_FLC = ["B", "B", "B", "X", "X"]  # FLC, choose the first patient (BED-12): the FLC menu
SCREENS = {  # name -> keys from power-up (flash with the table and the demo patient)
    "home": [],
    "patient": ["X"],
    "new-patient": ["X", "B", "X", "A", "A", "X", "B"],
    "renal-entry": TO_RENAL,
    "renal-missing": TO_RENAL + ["X"] * 9,
    "renal-result": TO_RESULT,
    "drugs": TO_RESULT + ["X"],
    "dose-adjusted": LENALIDOMIDE,
    "dose-standard": TO_RESULT + ["X", "X"],
    "dose-regimens": TO_RESULT + ["X", "B", "B", "X"],  # carfilzomib
    "dose-uncertain": TO_RESULT + ["X"] + ["B"] * 9 + ["X"],
    "dose-citation": LENALIDOMIDE + ["B"] * 8,
    "dose-aki": TO_RENAL + entry_keys(67, True, 580, 1600, 210) + ["X", "X"] + ["B"] * 4 + ["X"],
    "aki-ack": TO_RENAL + entry_keys(67, True, 580, 1600, 210) + ["X"],
    "stale": TO_RENAL + entry_keys(67, True, 580, 1600, 140, drawn_back=25 * 60) + ["X"],
    "dose-check": LENALIDOMIDE + ["X"],
    "dose-check-within": LENALIDOMIDE + ["X", "X", "A", "X", "A", "X", "A", "X", "X"],  # 10 mg daily, day 1
    "dose-check-above": LENALIDOMIDE + ["X", "X", "A", "A:long", "A:long", "X", "A", "X", "A", "X", "X"],
    "flc-menu": TO_FLC,
    "flc-trend": TO_FLC + ["X"],
    "flc-chart": TO_FLC + ["X", "B"],
    "flc-sample": TO_FLC + ["B", "X"],
    "flc-event": TO_FLC + ["B", "B", "X"],
    "table-info": ["B"] * 4 + ["X"],
    "settings": ["B"] * 5 + ["X"],
    "clock": ["B"] * 5 + ["X", "X", "X", "X"],
}
ZH_PREFIX = ["B"] * 5 + ["X", "A", "Y", "B"]  # Settings, switch the language, back, to the top
SAFE_SCREENS = {  # name -> (table installed, clock, keys): the states that give no dose
    "no-table": (False, SIM_NOW, ["B", "B", "X"]),
    "clock-unset": (True, 0, ["B", "B", "X"]),
    "table-expired": (True, minutes(dt.datetime(2027, 11, 2, 8, 0)), ["B", "B", "X"]),
}


def screens(out: Path) -> list[Path]:
    """A PNG of every screen in English and Chinese (docs/screens/), and of the safe
    screens: no table, clock not set, table expired."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-screens-"))
    try:
        for lang, prefix in (("en", []), ("zh", ZH_PREFIX)):
            for name, keys in SCREENS.items():
                shutil.rmtree(flash, ignore_errors=True)
                prepare_flash(flash, demo=True)  # fresh: a screen may write records
                with Sim(flash) as s:
                    for k in prefix + keys:
                        s.key(k)
                    written.append(s.png(out / f"{name}-{lang}.png"))
            for name, (with_table, clock, keys) in SAFE_SCREENS.items():
                shutil.rmtree(flash, ignore_errors=True)
                prepare_flash(flash, with_table)
                with Sim(flash, clock) as s:
                    for k in prefix + keys:
                        s.key(k)
                    written.append(s.png(out / f"{name}-{lang}.png"))
    finally:
        shutil.rmtree(flash, ignore_errors=True)
    return written


def run(keys: str, screenshot: str | None, with_table: bool = True) -> dict:
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-sim-flash-"))
    try:
        prepare_flash(flash, with_table, demo=True)
        with Sim(flash) as sim:
            for k in [k for k in keys.split(",") if k.strip()]:
                sim.key(k)
            if screenshot:
                sim.png(Path(screenshot))
            return sim.screen()
    finally:
        shutil.rmtree(flash, ignore_errors=True)
