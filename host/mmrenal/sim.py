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
# whole UI needs more than the 180K that models a Pico for the protocol alone.
SIM_HEAP = "320K"
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
    exchange on days 1, 3 and 5 and a falling kappa (half-life about 5 days), written
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
        tracker.add_sample(DEMO_PATIENT, start + day * DAY + 420, kappa, 1850, "LAB-1", False)


def prepare_flash(flash: Path, with_table: bool = True, demo: bool = False,
                  now: int = SIM_NOW) -> None:
    """A flash folder with the example table installed in slot a and its key trusted
    (and with `demo`, the demo patient's FLC records up to `now`)."""
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
        (flash / "approvers.txt").write_text(
            tablebin.device_key_line(tablebin.load_public(pub), "sim") + "\n")
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


TO_RESULT = ["B", "X"] + ["X"] * 8
LENALIDOMIDE = TO_RESULT + ["X", "B", "B", "B", "B", "X"]
TO_FLC = ["B", "B", "B", "X", "X"]  # FLC, choose the first patient (BED-12): the FLC menu
SCREENS = {  # name -> keys from power-up (flash with the table and the demo patient)
    "home": [],
    "patient": ["X"],
    "new-patient": ["X", "B", "X", "A", "A", "X", "B"],
    "renal-entry": ["B", "X"],
    "renal-result": TO_RESULT,
    "drugs": TO_RESULT + ["X"],
    "dose-adjusted": LENALIDOMIDE,
    "dose-standard": TO_RESULT + ["X", "X"],
    "dose-uncertain": ["B"] + ["X"] * 5 + ["A"] * 50 + ["X"] * 4 + ["X"] + ["B"] * 9 + ["X"],
    "dose-citation": LENALIDOMIDE + ["X"],
    "dose-check": LENALIDOMIDE + ["B", "X"],
    "dose-check-above": LENALIDOMIDE + ["B", "X", "A", "X", "X"],
    "flc-menu": TO_FLC,
    "flc-trend": TO_FLC + ["X"],
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
