"""Shared fixtures and command-line options (helpers live in support.py)."""

from __future__ import annotations

import pytest

from mmrenal.engine import Engine
from mmrenal.traceplugin import MARKER_HELP, Recorder


def pytest_configure(config):
    # Tests carry requirement ids (@pytest.mark.req("R-...")); the recorder writes the
    # run's results for the traceability matrix (python -m mmrenal.trace).
    config.addinivalue_line("markers", MARKER_HELP)
    config.pluginmanager.register(Recorder(config), "mmrenal-trace")


@pytest.fixture(scope="session")
def engines():
    """One long-lived engine of each kind for the whole session."""
    running = {kind: Engine(kind) for kind in ("micropython", "cpython")}
    yield running
    for eng in running.values():
        eng.close()


def pytest_addoption(parser):
    group = parser.getgroup("mmrenal hardware-in-the-loop")
    group.addoption("--port", default=None,
                    help="run tests/hil on the board at this serial port (default: a virtual board)")
    group.addoption("--require-board", action="store_true",
                    help="skip tests/hil unless a real board is attached at --port")
