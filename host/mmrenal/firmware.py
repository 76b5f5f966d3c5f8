"""Import the firmware's pure-logic modules into this CPython process.

Tests, the sweep and the benchmarks call the firmware functions directly, which is
much faster than a pipe per calculation. The modules keep their device names
(``renal``, ``egfr``, ...), so they are loaded once from FIRMWARE only.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from mmrenal.paths import FIRMWARE

CORE = ("fixtables", "fixmath", "fmt", "limits", "body", "crcl", "egfr", "kdigo", "renal", "service")


def load(name: str) -> ModuleType:
    path = str(FIRMWARE)
    if path not in sys.path:
        sys.path.insert(0, path)
    mod = importlib.import_module(name)
    origin = getattr(mod, "__file__", "") or ""
    if not origin.startswith(path):
        raise ImportError(f"firmware module {name!r} resolved to {origin}, not {path}")
    return mod
