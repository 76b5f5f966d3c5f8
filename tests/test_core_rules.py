"""Source-level promises of the firmware core: no float, no machine, small literals."""

from __future__ import annotations

import ast

import pytest

from mmrenal import intcheck
from mmrenal.firmware import CORE
from mmrenal.paths import FIRMWARE

PURE = CORE  # pure-logic modules: no hardware, no float


def _tree(name):
    return ast.parse((FIRMWARE / f"{name}.py").read_text(encoding="utf-8"))


@pytest.mark.req("R-CORE-01")
def test_no_float_in_core():
    offenders = []
    for name in PURE:
        for node in ast.walk(_tree(name)):
            if isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
                offenders.append(f"{name}.py:{node.lineno} literal {node.value!r}")
            if isinstance(node, ast.Name) and node.id in ("float", "round", "math"):
                offenders.append(f"{name}.py:{node.lineno} uses {node.id}")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
                offenders.append(f"{name}.py:{node.lineno} true division '/'")
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
                for m in mods:
                    if m in ("math", "cmath", "machine"):
                        offenders.append(f"{name}.py:{node.lineno} imports {m}")
    assert offenders == []


@pytest.mark.req("R-CORE-02")
def test_int_literals_fit_small_ints():
    big = [(m, line, v) for m, line, v in intcheck.literal_ints() if abs(v) >= 1 << 30]
    assert big == []


@pytest.mark.req("R-CORE-01")
def test_core_does_not_import_machine():
    for name in PURE:
        src = (FIRMWARE / f"{name}.py").read_text(encoding="utf-8")
        assert "import machine" not in src and "from machine" not in src, name


@pytest.mark.req("R-CORE-04")
def test_tables_are_generated():
    from mmrenal import tablegen

    assert tablegen.render() == (FIRMWARE / "fixtables.py").read_text(encoding="utf-8")
