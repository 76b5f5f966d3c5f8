"""Watch every integer the firmware computes, to prove it stays a small int on the RP2040.

The unix port's small ints are 63-bit, so an overflow past 2**30 that would allocate a
big int on the Pico is invisible there. This module loads the firmware's pure-logic
modules into CPython with their syntax tree rewritten so that the result of every
arithmetic operation (binary, unary, augmented assignment) passes through a recorder.
Running the calculations over the validated domain then yields the largest magnitude
any intermediate value reached, and where.

The instrumented modules live in their own namespace and never replace the ordinary
firmware modules in sys.modules.
"""

from __future__ import annotations

import ast
import sys
from types import ModuleType

from mmrenal.firmware import CORE
from mmrenal.paths import FIRMWARE

LIMIT = 1 << 30


class Recorder:
    """Largest |int| seen, overall and per source line."""

    def __init__(self) -> None:
        self.by_line: dict[str, int] = {}
        self.count = 0

    def reset(self) -> None:
        self.by_line.clear()
        self.count = 0

    @property
    def max_abs(self) -> int:
        return max(self.by_line.values(), default=0)

    @property
    def where(self) -> str:
        return max(self.by_line, key=self.by_line.__getitem__, default="")

    def top(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.by_line.items(), key=lambda kv: -kv[1])[:n]

    def __call__(self, value, where: str):
        if type(value) is int:
            self.count += 1
            m = -value if value < 0 else value
            if m > self.by_line.get(where, -1):
                self.by_line[where] = m
        return value


class _Wrap(ast.NodeTransformer):
    def __init__(self, module: str):
        self.module = module

    def _call(self, node: ast.expr, lineno: int) -> ast.Call:
        return ast.Call(
            func=ast.Name(id="__intcheck__", ctx=ast.Load()),
            args=[node, ast.Constant(f"{self.module}.py:{lineno}")],
            keywords=[],
        )

    def visit_BinOp(self, node: ast.BinOp):
        self.generic_visit(node)
        return ast.copy_location(self._call(node, node.lineno), node)

    def visit_UnaryOp(self, node: ast.UnaryOp):
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):
            return node
        return ast.copy_location(self._call(node, node.lineno), node)

    def visit_AugAssign(self, node: ast.AugAssign):
        self.generic_visit(node)
        load = _as_load(node.target)
        value = self._call(ast.BinOp(left=load, op=node.op, right=node.value), node.lineno)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)


def _as_load(target: ast.expr) -> ast.expr:
    clone = ast.parse(ast.unparse(target), mode="eval").body
    for n in ast.walk(clone):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return clone


def load_instrumented(recorder: Recorder, names=CORE) -> dict[str, ModuleType]:
    """Load the firmware modules with every arithmetic result routed through recorder."""
    saved = {n: sys.modules.get(n) for n in names}
    modules: dict[str, ModuleType] = {}
    path = str(FIRMWARE)
    added = path not in sys.path
    if added:
        sys.path.insert(0, path)
    try:
        for name in names:
            sys.modules.pop(name, None)
        for name in names:  # CORE is in dependency order
            source = (FIRMWARE / f"{name}.py").read_text(encoding="utf-8")
            tree = ast.fix_missing_locations(_Wrap(name).visit(ast.parse(source)))
            mod = ModuleType(name)
            mod.__file__ = str(FIRMWARE / f"{name}.py")
            mod.__dict__["__intcheck__"] = recorder
            sys.modules[name] = mod
            exec(compile(tree, mod.__file__, "exec"), mod.__dict__)
            modules[name] = mod
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
        if added:
            sys.path.remove(path)
    return modules


def literal_ints(names=CORE) -> list[tuple[str, int, int]]:
    """Every integer literal in the firmware sources: (module, line, value)."""
    out = []
    for name in names:
        tree = ast.parse((FIRMWARE / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and type(node.value) is int:
                out.append((name, node.lineno, node.value))
    return out
