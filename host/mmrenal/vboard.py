"""The virtual board: MicroPython's unix port behind a pseudo-terminal serial port.

Two pseudo-terminals, as a serial stand-in needs: the "port" whose slave end the host
tools open (mpremote, pyserial), and the interpreter's own terminal. This supervisor
copies bytes between the two masters and adds what a Pico does that the unix port
does not:

- Ctrl-C from the host interrupts running code (the port's tty does not turn it into
  SIGINT, so the supervisor sends the signal);
- a soft reset (Ctrl-D at an empty raw-REPL prompt, Ctrl-D at the friendly prompt,
  ``machine.soft_reset()``, ``sys.exit()``) ends the unix interpreter, so the
  supervisor prints ``MPY: soft reboot``, starts a new one with boot.py (and main.py
  from the friendly REPL) and, if the board was in the raw REPL, puts it back there;
- the flash is a folder, the interpreter's working directory;
- faults for tests: a power cut now or after N bytes written to flash (the
  interpreter is killed at once, then cold-booted: RTC back to 2021-01-01, boot.py
  and main.py run);
- output newlines are sent as CRLF, as a board's cooked stdout does.

A control socket takes one command per line (see CONTROL_HELP) and answers one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import termios
import time
import tty
from datetime import UTC, datetime
from pathlib import Path

from mmrenal.engine import PICO_HEAP, micropython_path

SUPPORT = Path(__file__).with_name("vboard_support")
UP = b"\x1b_vb:up\x1b\\"  # the bootstrap is running (printed first)
READY = b"\x1b_vb:ready\x1b\\"  # boot.py (and main.py) are done
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY_PROMPT = b">>> "
SOFT_REBOOT = b"MPY: soft reboot\r\n"
PROMPTS = (b">>> ", b"... ", b"\r\n>", b"\x04>")  # friendly, continuation, raw REPL
PICO_FLASH_BYTES = 1408 * 1024  # the rp2 port's filesystem on a 2 MB Pico
POWER_ON_TIME = datetime(2021, 1, 1, tzinfo=UTC)  # a Pico's RTC after power-up
CONTROL_HELP = "status | power-cut | power-cut-after BYTES | disarm | set-clock ISO8601"


class VirtualBoard:
    def __init__(self, flash: Path, heap: str = PICO_HEAP, control: Path | None = None,
                 flash_size: int = PICO_FLASH_BYTES):
        self.flash = Path(flash)
        self.flash.mkdir(parents=True, exist_ok=True)
        self.heap = heap
        self.state = Path(tempfile.mkdtemp(prefix="mmrenal-vboard-"))
        (self.state / "flash_bytes").write_text(str(flash_size))
        self.control_path = control or self.state / "control.sock"
        self.proc: subprocess.Popen | None = None
        self.raw = False  # the interpreter is in the raw REPL
        self.phase = "run"  # "run", or "enter-raw" while a restart finds its way back
        self.pending_in = bytearray()  # host bytes held back until the board is ready
        self.scan = b""  # tail of interpreter output, for banner detection
        self.tail = b""  # the last few output bytes: does the REPL wait at a prompt?
        self.busy = False  # code was submitted and no prompt has come back yet
        self.last_out = 0  # last byte sent to the host (for LF -> CRLF)
        self.boots = 0
        self.soft_resets = 0
        self.power_cuts = 0
        self.running = True
        self.debug = os.environ.get("MMRENAL_VBOARD_LOG")  # a file to log traffic to
        self._clients: list[socket.socket] = []
        self._client_buf: dict[socket.socket, bytes] = {}

        self.port_master, self.port_slave = pty.openpty()
        tty.setraw(self.port_slave)
        self.port = os.ttyname(self.port_slave)
        os.set_blocking(self.port_master, False)
        self.mp_master, self.mp_slave = pty.openpty()
        tty.setraw(self.mp_slave)
        os.set_blocking(self.mp_master, False)

        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.control_path)
        self.listener.bind(str(self.control_path))
        self.listener.listen(4)
        self.listener.setblocking(False)

    # --- interpreter lifecycle ----------------------------------------------------

    def _start(self, mode: str) -> None:
        """Start an interpreter: mode "friendly" runs boot.py and main.py, "raw" only
        boot.py and then returns to the raw REPL."""
        for name in ("cut_now", "reset_now"):
            with contextlib.suppress(FileNotFoundError):
                (self.state / name).unlink()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MICROPY")}
        env["TZ"] = "UTC"
        self.proc = subprocess.Popen(
            [micropython_path(), "-X", f"heapsize={self.heap}", "-i",
             str(SUPPORT / "_vboot.py"), str(SUPPORT), str(self.state), mode],
            stdin=self.mp_slave, stdout=self.mp_slave, stderr=self.mp_slave,
            cwd=self.flash, env=env, start_new_session=True,
        )
        self.boots += 1
        self.raw = False
        self.scan = b""
        self.tail = b""
        self.busy = False
        # Host bytes wait until the new interpreter runs (so that Ctrl-C finds its
        # SIGINT handler) or, after a raw-REPL soft reset, is back in the raw REPL.
        self.phase = "enter-raw" if mode == "raw" else "booting"

    def cold_boot(self) -> None:
        """Power on: the RTC starts at 2021-01-01 00:00, boot.py and main.py run."""
        offset = int(POWER_ON_TIME.timestamp()) - int(time.time())
        (self.state / "rtc").write_text(str(offset))
        with contextlib.suppress(FileNotFoundError):
            (self.state / "cut_after").unlink()
        self._start("friendly")

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._drain_interpreter(forward=False)
        self._unread_input()  # a power cut loses what the board had not read

    def _unread_input(self) -> bytes:
        """Host bytes the ended interpreter never read (still queued in its terminal)."""
        left = b""
        while select.select([self.mp_slave], [], [], 0)[0]:
            try:
                chunk = os.read(self.mp_slave, 4096)
            except OSError:
                break
            if not chunk:
                break
            left += chunk
        termios.tcflush(self.mp_slave, termios.TCIOFLUSH)
        return left

    def power_cut(self) -> None:
        """Cut the power at once (nothing more is written), then power on again."""
        self._kill()
        self.power_cuts += 1
        self.pending_in.clear()
        self.last_out = 0
        self.cold_boot()

    def _soft_reboot(self) -> None:
        self._log("exit", str(self.proc.returncode if self.proc else None).encode())
        self._drain_interpreter(forward=True)
        # Bytes the host sent while the board was going down are not lost: a board's
        # USB buffer keeps them for the next program, so replay them after the reboot.
        self.pending_in[:0] = self._unread_input()
        self.soft_resets += 1
        self._to_host(SOFT_REBOOT)
        self._start("raw" if self.raw else "friendly")

    # --- byte pumps -----------------------------------------------------------------

    def _to_host(self, data: bytes) -> None:
        out = bytearray()
        for b in data:
            if b == 10 and self.last_out != 13:
                out += b"\r"
            out.append(b)
            self.last_out = b
        try:
            os.write(self.port_master, out)
        except (BlockingIOError, OSError):
            # Nobody is reading the port: a USB CDC device drops what the host misses.
            with contextlib.suppress(termios.error):
                termios.tcflush(self.port_slave, termios.TCIFLUSH)

    def _log(self, what: str, data: bytes) -> None:
        if self.debug:
            with open(self.debug, "a") as f:
                f.write(f"{time.monotonic():.3f} {what} raw={self.raw} busy={self.busy} "
                        f"tail={self.tail!r} {data!r}\n")

    def _to_interpreter(self, data: bytes) -> None:
        self._log("host>", data)
        if not data:
            return
        if self.phase != "run":
            self.pending_in += data
            return
        if b"\x03" in data and self._executing() and self.proc and self.proc.poll() is None:
            # The unix port's raw tty does not raise SIGINT for Ctrl-C; a board raises
            # KeyboardInterrupt in running code, so do that. At a prompt the REPL
            # handles Ctrl-C itself (and a signal there would end the unix port).
            self._log("SIGINT", b"")
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGINT)
        if self.raw and b"\x04" in data or not self.raw and (b"\r" in data or b"\n" in data):
            self.busy = True  # input that starts code running
        if b"\x02" in data:
            self.raw = False
        with contextlib.suppress(OSError):
            os.write(self.mp_master, data)

    def _drain_interpreter(self, forward: bool) -> None:
        while True:
            try:
                data = os.read(self.mp_master, 4096)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            if forward:
                self._from_interpreter(data)

    def _from_interpreter(self, data: bytes) -> None:
        self._log("<mp", data)
        if self.phase == "booting":
            self.scan += data
            if UP not in self.scan:
                self.scan = self.scan[-len(UP):]
                return
            data = self.scan.partition(UP)[2]
            self.scan = b""
            self.phase = "run"
            held, self.pending_in = bytes(self.pending_in), bytearray()
            self._to_interpreter(held)
            if not data:
                return
        data = data.replace(UP, b"")
        if self.phase == "enter-raw":
            # After a soft reset in the raw REPL: pass boot.py's output, hide the
            # unix port's banner, re-enter the raw REPL and show only its prompt.
            self.scan += data
            if READY in self.scan:
                before, _, after = self.scan.partition(READY)
                self._to_host(before)
                self.scan = b"\x00" + after  # marker seen
            if self.scan.startswith(b"\x00"):
                if FRIENDLY_PROMPT in self.scan and b"\x01sent" not in self.scan:
                    os.write(self.mp_master, b"\r\x01")
                    self.scan += b"\x01sent"
                if RAW_BANNER in self.scan.split(b"\x01sent", 1)[-1]:
                    self._to_host(RAW_BANNER)
                    self.scan = b""
                    self.tail = RAW_BANNER[-8:]
                    self.raw = True
                    self.phase = "run"
                    held, self.pending_in = bytes(self.pending_in), bytearray()
                    self._to_interpreter(held)
            return
        data = data.replace(READY, b"")
        self.tail = (self.tail + data)[-8:]
        if self.tail.endswith(PROMPTS):
            self.busy = False
        self.scan = (self.scan + data)[-64:]
        if b"raw REPL; CTRL-B to exit\r\n" in self.scan:
            self.raw = True
            self.scan = b""
        elif b'Type "help()" for more information.' in self.scan:
            self.raw = False
            self.scan = b""
        self._to_host(data)

    def _executing(self) -> bool:
        """Is the interpreter running code (rather than waiting at a REPL prompt)?"""
        return self.busy or not self.tail.endswith(PROMPTS)

    # --- control socket -------------------------------------------------------------

    def status(self) -> dict:
        return {
            "port": self.port,
            "flash": str(self.flash),
            "pid": self.proc.pid if self.proc else None,
            "raw_repl": self.raw,
            "boots": self.boots,
            "soft_resets": self.soft_resets,
            "power_cuts": self.power_cuts,
        }

    def command(self, line: str) -> dict:
        words = line.split()
        if not words:
            return {"ok": False, "error": "empty command; " + CONTROL_HELP}
        cmd, args = words[0], words[1:]
        if cmd == "status":
            return {"ok": True, **self.status()}
        if cmd == "power-cut":
            self.power_cut()
            return {"ok": True, **self.status()}
        if cmd == "power-cut-after" and len(args) == 1 and args[0].isdigit():
            (self.state / "cut_after").write_text(args[0])
            return {"ok": True, "armed_bytes": int(args[0])}
        if cmd == "disarm":
            # A later arming replaces any budget in the running interpreter; "0" there
            # would cut at once, so disarming writes a budget larger than any flash.
            (self.state / "cut_after").write_text(str(1 << 40))
            return {"ok": True}
        if cmd == "set-clock" and len(args) == 1:
            try:
                when = datetime.fromisoformat(args[0])
            except ValueError:
                return {"ok": False, "error": f"{args[0]!r} is not ISO 8601"}
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            # Whole seconds on both sides, as the board reads int(time.time()) + offset.
            (self.state / "rtc").write_text(str(int(when.timestamp()) - int(time.time())))
            return {"ok": True}
        return {"ok": False, "error": f"unknown command {line!r}; " + CONTROL_HELP}

    def _serve_control(self, readable) -> None:
        if self.listener in readable:
            with contextlib.suppress(BlockingIOError):
                conn, _ = self.listener.accept()
                conn.setblocking(False)
                self._clients.append(conn)
                self._client_buf[conn] = b""
        for conn in list(self._clients):
            if conn not in readable:
                continue
            try:
                data = conn.recv(4096)
            except (BlockingIOError, ConnectionError):
                data = b""
            if not data:
                self._clients.remove(conn)
                self._client_buf.pop(conn, None)
                conn.close()
                continue
            buf = self._client_buf[conn] + data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                reply = self.command(line.decode(errors="replace"))
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps(reply).encode() + b"\n")
            self._client_buf[conn] = buf[-4096:]

    # --- main loop ------------------------------------------------------------------

    def serve_forever(self) -> None:
        self.cold_boot()
        while self.running:
            fds = [self.port_master, self.mp_master, self.listener, *self._clients]
            try:
                readable, _, _ = select.select(fds, [], [], 0.02)
            except InterruptedError:
                continue
            if self.mp_master in readable:
                self._drain_interpreter(forward=True)
            if self.port_master in readable:
                try:
                    data = os.read(self.port_master, 4096)
                except (BlockingIOError, OSError):
                    data = b""
                self._to_interpreter(data)
            self._serve_control(readable)
            if (self.state / "cut_now").exists():
                self.power_cut()
            elif (self.state / "reset_now").exists():
                self._kill()
                self.cold_boot()
            elif self.proc and self.proc.poll() is not None:
                self._soft_reboot()

    def stop(self, *_args) -> None:
        self.running = False

    def close(self) -> None:
        self._kill()
        for conn in self._clients:
            conn.close()
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.control_path)
        for fd in (self.port_master, self.port_slave, self.mp_master, self.mp_slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self.state, ignore_errors=True)


def run(flash: str | None, heap: str, control: str | None) -> int:
    """`mmrenal vdevice`: print the port path, serve until SIGINT or SIGTERM."""
    temp = None
    if flash is None:
        temp = tempfile.mkdtemp(prefix="mmrenal-flash-")
        flash = temp
    board = VirtualBoard(Path(flash), heap, Path(control) if control else None)
    signal.signal(signal.SIGINT, board.stop)
    signal.signal(signal.SIGTERM, board.stop)
    print(board.port, flush=True)
    print(f"virtual board: flash {flash}, heap {heap}, control {board.control_path}",
          file=__import__("sys").stderr, flush=True)
    try:
        board.serve_forever()
    finally:
        board.close()
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


def control(path: str | Path, line: str, timeout: float = 30.0) -> dict:
    """Send one control command to a running virtual board; its JSON answer."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        s.sendall(line.encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf)


class Running:
    """A `mmrenal vdevice` child process, for tests and benchmarks."""

    def __init__(self, flash: Path, heap: str = PICO_HEAP):
        import sys

        self.flash = Path(flash)
        self.control_path = Path(tempfile.mkdtemp(prefix="mmrenal-ctl-")) / "control.sock"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mmrenal", "vdevice", "--flash", str(flash), "--heap", heap,
             "--control", str(self.control_path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout
        self.port = self.proc.stdout.readline().strip()
        if not self.port:
            raise RuntimeError("vdevice did not start: " + (self.proc.stderr.read() if self.proc.stderr else ""))
        deadline = time.monotonic() + 10
        while not self.control_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)

    def control(self, line: str) -> dict:
        return control(self.control_path, line)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        shutil.rmtree(self.control_path.parent, ignore_errors=True)
        return self.proc.returncode
