"""`mmrenal sim`: the handheld's screens on MicroPython, driven by a key script.

The firmware's UI (firmware/ui.py) runs in the unix port (firmware/sim.py) with a flash
folder holding the example dose table, signed with a key made for the run and
installed as on a board. Keys: A (up), B (down), X (select), Y (back); add ":long" for
a long press. Screenshots are PNGs made from the 4-bit framebuffer and its palette.
"""

from __future__ import annotations

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


def prepare_flash(flash: Path, with_table: bool = True) -> None:
    """A flash folder with the example table installed in slot a and its key trusted."""
    flash.mkdir(parents=True, exist_ok=True)
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
    def __init__(self, flash: Path):
        env = env_for("micropython")
        self.proc = subprocess.Popen(command("micropython", str(FIRMWARE / "sim.py"), SIM_HEAP), cwd=flash,
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)

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
SCREENS = {  # name -> keys from power-up
    "home": [],
    "renal-entry": ["B", "X"],
    "renal-result": TO_RESULT,
    "drugs": TO_RESULT + ["X"],
    "dose-adjusted": TO_RESULT + ["X", "B", "B", "B", "B", "X"],
    "dose-standard": TO_RESULT + ["X", "X"],
    "dose-uncertain": ["B"] + ["X"] * 5 + ["A"] * 50 + ["X"] * 4 + ["X"] + ["B"] * 9 + ["X"],
    "dose-citation": TO_RESULT + ["X", "B", "B", "B", "B", "X", "X"],
    "table-info": ["B", "B", "B", "X"],
    "settings": ["B", "B", "B", "B", "X"],
    "patient": ["X"],
}
ZH_PREFIX = ["B", "B", "B", "B", "X", "X", "Y", "A", "A", "A", "A"]  # Settings, switch, back


def screens(out: Path) -> list[Path]:
    """A PNG of every screen in English and Chinese (docs/screens/), and the safe
    screen without a table."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-screens-"))
    try:
        prepare_flash(flash)
        for lang, prefix in (("en", []), ("zh", ZH_PREFIX)):
            for name, keys in SCREENS.items():
                with Sim(flash) as s:
                    for k in prefix + keys:
                        s.key(k)
                    written.append(s.png(out / f"{name}-{lang}.png"))
        shutil.rmtree(flash)
        prepare_flash(flash, with_table=False)
        for lang, prefix in (("en", []), ("zh", ZH_PREFIX)):
            with Sim(flash) as s:
                for k in prefix + ["B", "B", "X"]:  # Drug doses
                    s.key(k)
                written.append(s.png(out / f"no-table-{lang}.png"))
    finally:
        shutil.rmtree(flash, ignore_errors=True)
    return written


def run(keys: str, screenshot: str | None, with_table: bool = True) -> dict:
    flash = Path(tempfile.mkdtemp(prefix="mmrenal-sim-flash-"))
    try:
        prepare_flash(flash, with_table)
        with Sim(flash) as sim:
            for k in [k for k in keys.split(",") if k.strip()]:
                sim.key(k)
            if screenshot:
                sim.png(Path(screenshot))
            return sim.screen()
    finally:
        shutil.rmtree(flash, ignore_errors=True)
