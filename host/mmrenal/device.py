"""Talk to a handheld (real or virtual) over its USB serial port.

Two layers, both on mpremote's SerialTransport (the same code path as `mpremote`):
the raw REPL for files and code (deploy, doctor), and the firmware's line protocol
(docs/protocol.md) for calculations. If the board's main.py already serves the
protocol, the client uses it; otherwise it starts the server from the raw REPL and,
on close, soft-resets the board so that main.py takes over again.
"""

from __future__ import annotations

import itertools
import json
import time

import serial
import serial.tools.list_ports
from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

PROBE_WAIT = 0.6  # seconds to wait for a running server's answer
ANSWER_WAIT = 15.0  # seconds for one protocol answer


class DeviceError(RuntimeError):
    """The board could not be reached, or stopped answering."""


class NoBoard(DeviceError):
    """`--port auto` found no board."""


def find_port(port: str) -> str:
    """The serial device for --port: itself, or with 'auto' the first USB serial port
    with a vendor and product id, as `mpremote connect auto` picks it."""
    if port != "auto":
        return port
    for p in sorted(serial.tools.list_ports.comports()):
        if p.vid is not None and p.pid is not None:
            return p.device
    raise NoBoard("no board found: connect a Pico by USB, or give --port /dev/ttyACM0")


def open_transport(port: str) -> SerialTransport:
    try:
        t = SerialTransport(find_port(port), baudrate=115200)
    except TransportError as e:
        raise DeviceError(f"cannot open {port}: {e.args[0]} (is another program using it?)") from e
    # mpremote blocks for ever on a pseudo-terminal that stops talking; bound each read.
    t.serial.timeout = 0.5
    return t


class Device:
    """A protocol session with a board. Use as a context manager."""

    def __init__(self, port: str):
        self.port = port
        self.transport = open_transport(port)
        self.serial = self.transport.serial
        self._ids = itertools.count(1)
        self._started_here = False
        self._rx = b""
        try:
            if not self._probe():
                self._start_server()
        except Exception:
            self.transport.close()
            raise

    # --- lines --------------------------------------------------------------------

    def _write(self, obj: dict) -> None:
        self.serial.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")

    def _read_line(self, deadline: float) -> bytes | None:
        while b"\n" not in self._rx:
            if time.monotonic() > deadline:
                return None
            chunk = self.serial.read(self.serial.in_waiting or 1)
            if chunk:
                self._rx += chunk
        line, self._rx = self._rx.split(b"\n", 1)
        return line.strip(b"\r\x04> ")

    def _await(self, want_id, wait: float, key: str = "ok") -> dict | None:
        """The next JSON answer (an object with `key`) carrying want_id. Anything else
        is noise: tracebacks, prompts, and a REPL's echo of a request (it has "op")."""
        deadline = time.monotonic() + wait
        while True:
            line = self._read_line(deadline)
            if line is None:
                return None
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if (isinstance(obj, dict) and key in obj and "op" not in obj
                    and (want_id is None or obj.get("id") == want_id)):
                return obj

    def _probe(self) -> bool:
        self.serial.reset_input_buffer()
        rid = f"probe-{time.monotonic_ns()}"
        self.serial.write(b"\n")
        self._write({"op": "version", "id": rid})
        return self._await(rid, PROBE_WAIT) is not None

    def _start_server(self) -> None:
        t = self.transport
        try:
            t.enter_raw_repl(soft_reset=False)
            t.exec_raw_no_follow("import protocol\nprotocol.serve()")
        except TransportError as e:
            raise DeviceError(f"{self.port}: the board did not answer its REPL ({e})") from e
        self._started_here = True
        hello = self._await(None, ANSWER_WAIT, key="hello")
        if not hello or hello.get("hello") != "mmrenal":
            raise DeviceError(
                f"{self.port}: the mmrenal firmware did not start ({hello!r}); "
                "run `mmrenal deploy --port ...` first"
            )

    # --- requests -----------------------------------------------------------------

    def request(self, req: dict, wait: float = ANSWER_WAIT) -> dict:
        rid = next(self._ids)
        self._write({**req, "id": rid})
        resp = self._await(rid, wait)
        if resp is None:
            raise DeviceError(f"{self.port}: no answer within {wait:.0f} s")
        resp.pop("id", None)
        return resp

    def send_raw(self, data: bytes) -> None:
        """Bytes as they are (tests of malformed input)."""
        self.serial.write(data)

    def read_answer(self, wait: float = ANSWER_WAIT) -> dict | None:
        """The next answer, whatever its id (after send_raw)."""
        return self._await(None, wait)

    def close(self) -> None:
        try:
            if self._started_here:
                # Stop the server we started, leave the raw REPL and soft-reset so that
                # the board's own main.py runs again, as after a power-up.
                self.serial.write(b"\r\x03")
                time.sleep(0.05)
                self.serial.write(b"\r\x02")
                time.sleep(0.05)
                self.serial.write(b"\x04")
                self.serial.flush()
        except (OSError, serial.SerialException):
            pass
        finally:
            self.transport.close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
