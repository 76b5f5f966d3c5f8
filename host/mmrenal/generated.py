"""Shared command line of the generators whose output is checked in (fixtables,
font_ui, board_pins, the hardware docs): write the files, or with --check prove them
current."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path


def main(doc: str, target: Path, render: Callable[[], str], module: str,
         argv: list[str] | None = None) -> int:
    return main_files(doc, lambda: {target: render()}, module, argv)


def main_files(doc: str, render: Callable[[], dict[Path, str]], module: str,
               argv: list[str] | None = None) -> int:
    """As main(), for a generator that writes several files (hwdocs)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a file is stale")
    args = ap.parse_args(argv)
    files = render()
    if args.check:
        stale = [t for t, text in files.items()
                 if not t.exists() or t.read_text(encoding="utf-8") != text]
        for target in stale:
            print(f"{target} differs from the generator's output: run python -m {module}",
                  file=sys.stderr)
        if stale:
            return 1
        for target in files:
            print(f"{target} is current")
        return 0
    for target, text in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return 0
