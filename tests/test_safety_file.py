"""The safety file (docs/safety): its data, its rendered documents, and the traceability
check itself, which must refuse to certify what a run did not prove."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mmrenal import trace
from mmrenal.paths import REPO
from mmrenal.traceplugin import RESULTS, fingerprint


@pytest.mark.req("R-SAFE-01")
def test_safety_data_is_consistent():
    s = trace.load()
    assert s.problems == []
    assert len(s.reqs) >= 60 and len(s.hazards) >= 20  # the files were really read
    assert all(h.get("mitigation") for h in s.hazards)
    named = {r for h in s.hazards for m in h["mitigation"] for r in m["requirements"]}
    assert named <= set(s.reqs)


@pytest.mark.req("R-SAFE-01")
def test_rendered_documents_are_current():
    assert trace.stale_documents(trace.load()) == [], "run: .venv/bin/mmrenal trace --render"


def _names(where: str) -> list[str]:
    """'firmware/ui.py: UI.draw, SafeScreen (x)' -> ['draw', 'SafeScreen']."""
    _, _, names = where.partition(":")
    out = []
    for part in names.split(","):
        part = re.sub(r"\(.*?\)", "", part).strip()
        if part:
            out.append(part.split(".")[-1])
    return out


@pytest.mark.req("R-SAFE-01")
def test_every_design_reference_exists():
    """A risk control's `where` names files and functions that exist, so a refactoring
    that moves a control shows up here rather than leaving the analysis pointing at
    nothing."""
    checked = 0
    for h in trace.load().hazards:
        for m in h["mitigation"]:
            for where in m.get("where", []):
                path = where.partition(":")[0].strip()
                files = sorted(REPO.glob(path))
                assert files, f"{h['id']}: {path} does not exist"
                text = "".join(f.read_text(encoding="utf-8") for f in files if f.is_file())
                for name in _names(where):
                    assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), f"{h['id']}: {name} not in {path}"
                    checked += 1
    assert checked > 50


# --- the judgement, on a small safety file of its own ---------------------------------

REQS = '''
[[requirement]]
id = "R-A-01"
area = "A"
text = "first"
source = "test"

[[requirement]]
id = "R-A-02"
area = "A"
text = "second"
source = "test"
'''

HAZARDS = '''
[method]
scope = "s"
[acceptability]
S1 = "AAAAR"
S2 = "AAARR"
S3 = "AARRU"
S4 = "ARRUU"
S5 = "RRUUU"
''' + "".join(f'''
[[severity]]
level = {i}
name = "s{i}"
text = "t"
[[probability]]
level = {i}
name = "p{i}"
text = "t"
''' for i in range(1, 6)) + '''
[[hazard]]
id = "H-01"
title = "t"
hazard = "h"
cause = "c"
situation = "s"
harm = "x"
severity = 4
probability_before = 4
probability_after = 2
residual = "r"
  [[hazard.mitigation]]
  type = "design"
  text = "m"
  requirements = ["R-A-02"]
'''


@pytest.fixture
def repo(tmp_path):
    safety = tmp_path / "docs" / "safety"
    safety.mkdir(parents=True)
    (safety / "requirements.toml").write_text(REQS)
    (safety / "hazards.toml").write_text(HAZARDS)
    (safety / "soup.toml").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    return tmp_path


def _run(repo, tests, whole=True):
    return {"whole_suite": whole, "partial_because": [] if whole else ["-k 'x'"],
            "tree": fingerprint(repo), "tests": [{"nodeid": n, "outcome": o, "reqs": r} for n, o, r in tests]}


GOOD = [("tests/test_x.py::test_a", "passed", ["R-A-01"]),
        ("tests/test_x.py::test_b[1]", "passed", ["R-A-02"]),
        ("tests/test_x.py::test_b[2]", "skipped", ["R-A-02"])]


@pytest.mark.req("R-SAFE-02")
def test_a_full_green_run_is_certified(repo):
    s = trace.load(repo / "docs" / "safety")
    assert s.problems == []
    assert trace.judge(s, _run(repo, GOOD), repo) == []


@pytest.mark.req("R-SAFE-02")
@pytest.mark.parametrize("change, expect", [
    (lambda r: r["tests"].pop(0), "R-A-01: no test"),
    (lambda r: r["tests"][0].update(outcome="skipped"), "R-A-01: not run"),
    (lambda r: r["tests"][1].update(outcome="failed"), "R-A-02: FAILED"),
    (lambda r: r["tests"][0]["reqs"].append("R-A-99"), "names unknown requirement R-A-99"),
    (lambda r: r.update(whole_suite=False, partial_because=["-k 'x'"]), "not the whole suite (-k 'x')"),
    (lambda r: r.update(tree="0" * 64), "sources changed since the last run"),
    (lambda r: r["tests"].append({"nodeid": "t::u", "outcome": "error", "reqs": []}), "1 tests failed"),
])
def test_gaps_are_refused(repo, change, expect):
    s = trace.load(repo / "docs" / "safety")
    run = _run(repo, [(n, o, list(r)) for n, o, r in GOOD])
    change(run)
    problems = trace.judge(s, run, repo)
    assert any(expect in p for p in problems), problems


@pytest.mark.req("R-SAFE-02")
def test_hazard_control_without_a_passing_test_is_named(repo):
    s = trace.load(repo / "docs" / "safety")
    run = _run(repo, [t for t in GOOD if "R-A-02" not in t[2]])
    assert "H-01 control 1: no passing test for R-A-02" in trace.judge(s, run, repo)


@pytest.mark.req("R-SAFE-02")
def test_bad_safety_data_is_refused(repo):
    safety = repo / "docs" / "safety"
    (safety / "hazards.toml").write_text(HAZARDS.replace('["R-A-02"]', '["R-A-02", "R-B-01"]')
                                         .replace("probability_after = 2", "probability_after = 4"))
    problems = trace.load(safety).problems
    assert any("unknown requirement R-B-01" in p for p in problems), problems
    assert any("residual risk is unacceptable" in p for p in problems), problems


@pytest.mark.req("R-SAFE-02")
def test_command_exit_status_and_matrix(repo):
    results = repo / RESULTS
    results.parent.mkdir()

    def trace_cmd(*args):
        return subprocess.run([sys.executable, "-m", "mmrenal.trace", "--repo", str(repo), "--render", *args],
                              capture_output=True, text=True, timeout=60)

    results.write_text(json.dumps(_run(repo, GOOD)))
    res = trace_cmd("--check")
    assert res.returncode == 0, res.stderr
    matrix = (repo / "docs" / "safety" / "traceability.md").read_text()
    assert "`test_x.py::test_b[1]`<br>`test_x.py::test_b[2]` (1 skipped)" in matrix
    assert "NOT CERTIFIED" not in matrix
    results.write_text(json.dumps(_run(repo, GOOD[1:])))
    res = trace_cmd("--check")
    assert res.returncode == 1 and "R-A-01: no test" in res.stderr
    assert "NOT CERTIFIED" in (repo / "docs" / "safety" / "traceability.md").read_text()
    assert trace_cmd().returncode == 0  # without --check: the matrix and the gaps, status 0


# --- the recorder: what counts as the whole suite ------------------------------------

CONFTEST = '''
from mmrenal.traceplugin import MARKER_HELP, Recorder


def pytest_configure(config):
    config.addinivalue_line("markers", MARKER_HELP)
    config.pluginmanager.register(Recorder(config), "mmrenal-trace")
'''

TESTS = '''
import pytest


@pytest.mark.req("R-A-01")
def test_one():
    pass


@pytest.mark.req("R-A-02")
@pytest.mark.parametrize("n", [1, 2])
def test_two(n):
    assert n < {limit}


def test_three():
    pass
'''


def _pytest(project: Path, *args) -> dict:
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=project,
                   capture_output=True, text=True, timeout=120)
    return json.loads((project / RESULTS).read_text())


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "conftest.py").write_text(CONFTEST)
    (tmp_path / "tests" / "test_t.py").write_text(textwrap.dedent(TESTS).format(limit=9))
    return tmp_path


@pytest.mark.req("R-SAFE-02")
def test_recorder_whole_suite_and_ids(project):
    run = _pytest(project)
    assert run["whole_suite"] is True and run["partial_because"] == []
    got = {t["nodeid"]: (t["outcome"], t["reqs"]) for t in run["tests"]}
    assert got == {"tests/test_t.py::test_one": ("passed", ["R-A-01"]),
                   "tests/test_t.py::test_two[1]": ("passed", ["R-A-02"]),
                   "tests/test_t.py::test_two[2]": ("passed", ["R-A-02"]),
                   "tests/test_t.py::test_three": ("passed", [])}
    assert run["tree"] == fingerprint(project)
    assert _pytest(project, "tests")["whole_suite"] is True  # the test path named: still whole


@pytest.mark.req("R-SAFE-02")
@pytest.mark.parametrize("args, why", [
    (["-k", "one"], "-k 'one'"),
    (["tests/test_t.py"], "only tests/test_t.py selected"),
    (["tests/test_t.py::test_one"], "only tests/test_t.py::test_one selected"),
    (["--deselect", "tests/test_t.py::test_three"], "1 tests deselected"),
])
def test_recorder_refuses_a_narrowed_run(project, args, why):
    run = _pytest(project, *args)
    assert run["whole_suite"] is False
    assert why in run["partial_because"], run["partial_because"]


@pytest.mark.req("R-SAFE-02")
def test_recorder_refuses_a_run_stopped_early(project):
    (project / "tests" / "test_t.py").write_text(textwrap.dedent(TESTS).format(limit=2))  # test_two[2] fails
    run = _pytest(project, "-x")
    assert run["whole_suite"] is False
    assert any("did not run" in w for w in run["partial_because"]), run["partial_because"]
    assert {t["nodeid"].split("::")[1]: t["outcome"] for t in run["tests"]}["test_two[2]"] == "failed"
    before = (project / RESULTS).read_text()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "--co", "-p", "no:cacheprovider"], cwd=project,
                   capture_output=True, timeout=120)
    assert (project / RESULTS).read_text() == before  # collecting only: the last real run stays
