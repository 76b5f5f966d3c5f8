# The virtual board's `os` module: the unix port's own, except where a Pico's differs.
# ilistdir gives (name, type, inode, size) as LittleFS on a board does, and statvfs
# reports a Pico-sized flash (CONTROL/flash_bytes, 4096-byte blocks) minus what the
# flash folder holds, rather than the host's disk.
import os as _os

_ctl = ""
_BLOCK = 4096


def __getattr__(name):
    return getattr(_os, name)


def install(ctl):
    global _ctl
    _ctl = ctl


def ilistdir(path="."):
    for entry in _os.ilistdir(path):
        name, kind = entry[0], entry[1]
        size = 0
        if kind == 0x8000:
            size = _os.stat((path.rstrip("/") + "/" if path not in (".", "") else "") + name)[6]
        yield (name, kind, entry[2], size)


def listdir(path="."):
    return [e[0] for e in ilistdir(path)]


def _used_blocks(path):
    n = 1
    for name, kind, _, size in ilistdir(path):
        full = (path + "/" if path != "." else "") + name
        if kind == 0x4000:
            n += _used_blocks(full)
        else:
            n += 1 + (size + _BLOCK - 1) // _BLOCK
    return n


def statvfs(path="/"):
    try:
        with open(_ctl + "/flash_bytes") as f:
            total = int(f.read()) // _BLOCK
    except OSError:
        total = 352  # a Pico's 1408 KB filesystem
    free = total - 2 - _used_blocks(".")
    if free < 0:
        free = 0
    return (_BLOCK, _BLOCK, total, free, free, 0, 0, 0, 0, 255)
