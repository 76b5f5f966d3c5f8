"""Records what a pytest run proved, for the traceability matrix (`mmrenal trace`).

tests/conftest.py registers a Recorder. When the session ends it writes one JSON file
(`.trace/last-run.json`, git-ignored): every test's node id, its outcome and the
requirement ids of its `req` markers, whether the run was the whole suite, and a
fingerprint of the sources it ran against. `mmrenal trace --check` certifies only a
whole-suite run on an unchanged tree: a run narrowed by a path, `-k`, `-m`, `--lf`,
deselection, or stopped early (`-x`, Ctrl-C) proves nothing about the tests it left out.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

RESULTS = Path(".trace") / "last-run.json"
MARKER = "req"
MARKER_HELP = "req(*ids): requirement ids (docs/safety/requirements.toml) that this test proves"

# What a run is judged against: the code, the tests, the pin maps, the tables and
# the safety data.
# Generated Markdown and build output are left out so that writing them does not make
# the run look stale.
_TREE = ("firmware", "host", "hw", "tests", "tables", "docs/safety", "pyproject.toml", "Makefile")
_SUFFIXES = {".py", ".toml", ".json", ".exp", ".txt"}


def fingerprint(repo: Path) -> str:
    """SHA-256 over the paths and bytes of the files a test run depends on."""
    h = hashlib.sha256()
    for part in _TREE:
        top = repo / part
        if top.is_file():
            files = [top]
        elif top.is_dir():
            files = sorted(f for f in top.rglob("*")
                           if f.is_file() and f.suffix in _SUFFIXES and "__pycache__" not in f.parts)
        else:
            continue
        for f in files:
            h.update(f.relative_to(repo).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


class Recorder:
    """A pytest plugin object: register it with config.pluginmanager.register()."""

    def __init__(self, config, path: Path | None = None):
        self.config = config
        self.root = Path(config.rootpath)
        self.path = path or self.root / RESULTS
        self.reqs: dict[str, list[str]] = {}
        self.outcomes: dict[str, str] = {}
        self.collected = 0
        self.deselected = 0
        self.tree = ""

    def pytest_sessionstart(self, session):
        # Taken before any test runs: an edit during the run makes the run stale.
        self.tree = fingerprint(self.root)

    def pytest_deselected(self, items):
        self.deselected += len(items)

    def pytest_collection_finish(self, session):
        self.collected = len(session.items)
        for item in session.items:
            ids = [str(a) for m in item.iter_markers(name=MARKER) for a in m.args]
            self.reqs[item.nodeid] = sorted(set(ids))

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            outcome = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            outcome = "error"  # setup or teardown failed
        elif report.skipped:
            outcome = "skipped"
        else:
            return  # a passing setup or teardown: the call decides
        if self.outcomes.get(report.nodeid) not in ("failed", "error"):
            self.outcomes[report.nodeid] = outcome  # keep the worst

    def partial(self, session) -> list[str]:
        """Why this run is not the whole suite (empty when it is)."""
        cfg = self.config
        why = []
        root = self.root.resolve()
        whole = {root} | {(root / p).resolve() for p in cfg.getini("testpaths")}
        source = getattr(cfg, "args_source", None)
        base = root if source is not None and source.name == "TESTPATHS" else Path(cfg.invocation_params.dir)
        for arg in cfg.args:
            path, sep, _ = arg.partition("::")
            p = Path(path)
            p = (p if p.is_absolute() else base / p).resolve()
            if sep or p not in whole:
                why.append(f"only {arg} selected")
        opt = cfg.option
        if getattr(opt, "keyword", ""):
            why.append(f"-k {opt.keyword!r}")
        if getattr(opt, "markexpr", ""):
            why.append(f"-m {opt.markexpr!r}")
        if getattr(opt, "lf", False):
            why.append("--lf")
        if getattr(opt, "stepwise", False):
            why.append("--sw")
        if getattr(opt, "ignore", None) or getattr(opt, "ignore_glob", None):
            why.append("--ignore")
        if self.deselected:
            why.append(f"{self.deselected} tests deselected")
        missing = self.collected - len(self.outcomes)
        if missing > 0:
            why.append(f"{missing} of {self.collected} collected tests did not run")
        if session.shouldfail or session.shouldstop:
            why.append(f"stopped early: {session.shouldfail or session.shouldstop}")
        return why

    def pytest_sessionfinish(self, session, exitstatus):
        if self.config.option.collectonly:
            return  # nothing ran: keep the last real run
        why = self.partial(session)
        data = {
            "whole_suite": not why,
            "partial_because": why,
            "exitstatus": int(exitstatus),
            "collected": self.collected,
            "deselected": self.deselected,
            "args": list(self.config.invocation_params.args),
            "soak": os.environ.get("MMRENAL_SOAK") == "1",
            "board": _option(self.config, "port") or "virtual",
            "python": sys.version.split()[0],
            "tree": self.tree,
            "tests": [{"nodeid": n, "outcome": self.outcomes.get(n, "not run"), "reqs": r}
                      for n, r in self.reqs.items()],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        tmp.replace(self.path)  # never a half-written results file


def _option(config, name):
    try:
        return config.getoption(name)
    except ValueError:
        return None
