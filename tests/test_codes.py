"""Codes are codes (issue 14): patient codes of the institution's pattern and lab codes
from its list, never names; records kept under an older code are read and pulled but
never added to; a code refused by the pattern never becomes a file name."""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import pytest

from mmrenal import flc_cmds, tablebin, tables
from mmrenal.firmware import load

flc = load("flc")
flcstore = load("flcstore")
limits = load("limits")
dosetable = load("dosetable")

# From the issue: codes seen stored on a device, each a name, a date of birth or a
# hospital number.
IDENTIFYING = ("JOHNSMITH1", "SMITH-J-1960", "MRN-12345678", "ZHANGSAN-01", "1-1-1960")
DOCUMENTED = ("BED-12", "ICU-4", "S-10233")  # the default pattern's examples
WARD = "BED-[0-9]{1,3}|ICU-[0-9]{1,2}|S-[0-9]{5}"
T0 = 14_000_000


@pytest.fixture(autouse=True)
def default_policy():
    """Every test starts and ends with the defaults (the policy is the module's)."""
    flc.set_code_policy()
    yield
    flc.set_code_policy()


def _policy(pattern, labs=()):
    flc.set_code_policy(pattern, tables.compile_code_pattern(pattern), labs)


@pytest.mark.req("R-CODE-01")
def test_default_pattern_takes_bed_and_study_numbers_and_refuses_names():
    tr = flcstore.Tracker(None)
    tr.boot()
    for code in DOCUMENTED:
        assert tr.add_patient(code, 0, 0) == 0  # recorded (no journal: sequence 0)
    for code in (*IDENTIFYING, "6", "10233", "BED12", "bed-1", "BED-", "-12", "ABCDE-1",
                 "BED-1234567", "", "ZHANG SAN"):
        with pytest.raises(limits.InputError) as e:
            tr.add_patient(code, 0, 0)
        assert e.value.field == "patient", code
        # The refusal names the pattern, and its shape as codes.
        assert "[A-Z]{1,4}-[0-9]{1,6}" in e.value.message and "A-1 … ABCD-123456" in e.value.message
    assert sorted(tr.patients) == sorted(DOCUMENTED)


@pytest.mark.req("R-CODE-01")
def test_the_device_matcher_agrees_with_regular_expressions():
    """The device's matcher on the host-compiled atoms, against Python's re on the
    pattern as written, for every code of up to 12 characters drawn at random."""
    rnd = random.Random(14)
    alphabet = "ABCDEIJMNSZ0123456789-"
    patterns = [flc.PATIENT_PATTERN, flc.LAB_PATTERN, WARD, "[A-Z0-9-]{2,5}[0-9]", "W[A-Z]{0,2}-{0,1}[0-9]{3}",
                "[0-9]{1,3}-[A-Z]{2}[0-9]{0,4}", "A{2}-[0-9A-Z]{1,3}|[0-9]{6}"]
    for pattern in patterns:
        atoms = tables.compile_code_pattern(pattern)
        want = re.compile(pattern)
        hits = 0
        for _ in range(4000):
            code = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
            if rnd.random() < 0.5:  # half of them near a code of the pattern
                code = flc.shapes(atoms).split(", ")[0].split(" … ")[-1][:rnd.randint(1, 12)] + code[:3]
            got = flc.fits(atoms, code)
            assert got == bool(want.fullmatch(code)), (pattern, code)
            hits += got
        assert hits > 50, pattern  # the draw reached codes of the pattern, not only misses


@pytest.mark.req("R-CODE-01")
def test_the_firmware_default_is_the_host_compiled_pattern():
    assert tables.compile_code_pattern(flc.PATIENT_PATTERN) == flc.PATIENT_ATOMS
    assert tables.compile_code_pattern(flc.LAB_PATTERN) == flc.LAB_ATOMS


@pytest.mark.req("R-CODE-02")
def test_lab_codes_default_pattern_or_the_tables_list():
    tr = flcstore.Tracker(None)
    tr.boot()
    tr.add_patient("BED-1", 0, T0)
    for i, lab in enumerate(("", "LAB1", "HAEM", "C3PO42")):
        tr.add_sample("BED-1", T0 + i, 1000, 1000, lab, False)
    for lab in ("ZHANGSAN", "JOHNSMITH1", "LAB-1", "lab1", "1-1-1960", "LAB 1"):
        with pytest.raises(limits.InputError) as e:
            tr.add_sample("BED-1", T0 + 100, 1000, 1000, lab, False)
        assert e.value.field == "lab" and "[A-Z0-9]{1,6}" in e.value.message, lab
    _policy(flc.PATIENT_PATTERN, ["HAEM1", "BIOCH-2"])
    tr.add_sample("BED-1", T0 + 200, 1000, 1000, "BIOCH-2", False)
    tr.add_sample("BED-1", T0 + 201, 1000, 1000, "", False)  # no laboratory given
    with pytest.raises(limits.InputError) as e:
        tr.add_sample("BED-1", T0 + 202, 1000, 1000, "LAB1", False)  # not listed
    assert e.value.field == "lab" and "HAEM1, BIOCH-2" in e.value.message


@pytest.mark.req("R-CODE-03")
def test_the_tables_codes_reach_the_device_and_its_tracker(tmp_path):
    text = tables.EXAMPLE.read_text(encoding="utf-8").replace(
        'patient = "[A-Z]{1,4}-[0-9]{1,6}"\n# labs = ["HAEM1", "BIOCH2"]',
        f'patient = "{WARD}"\nlabs = ["HAEM1", "BIOCH2"]')
    assert WARD in text
    src = tmp_path / "ward.toml"
    src.write_text(text, encoding="utf-8")
    table, problems = tables.load(src)
    assert problems == []
    t = dosetable.Table(tablebin.compile_table(table), {}, require_signature=False)
    assert t.codes == (WARD, tables.compile_code_pattern(WARD), ("HAEM1", "BIOCH2"))
    assert t.info()["patient_codes"] == WARD
    flc.set_code_policy(*t.codes)  # what the composition does when the table loads
    tr = flcstore.Tracker(None)
    tr.boot()
    for code in ("BED-7", "ICU-12", "S-10233"):
        tr.add_patient(code, 0, T0)
    for code in ("S-1023", "BED-1234", "ICU-123", "AB-1", *IDENTIFYING):
        with pytest.raises(limits.InputError) as e:
            tr.add_patient(code, 0, T0)
        assert WARD in e.value.message and "BED-1 … BED-123, ICU-1 … ICU-12, S-12345" in e.value.message
    tr.add_sample("BED-7", T0 + 1, 1000, 1000, "BIOCH2", False)
    with pytest.raises(limits.InputError):
        tr.add_sample("BED-7", T0 + 2, 1000, 1000, "LAB1", False)
    # The code entry starts from the ward's prefix: the newest code's, else the pattern's.
    assert (flc.ward_prefix("S-10233"), flc.ward_prefix(""), flc.ward_prefix("JOHNSMITH1")) == \
        ("S-", "BED-", "BED-")
    flc.set_code_policy()  # no table: the defaults again
    assert flc.code_fits("AB-1") and flc.code_policy() == (flc.PATIENT_PATTERN, None)


@pytest.mark.parametrize("pattern, reason", [
    ("[A-Z]{1,8}-[0-9]{1,2}", "8 letters in a row could spell a name"),
    ("[A-Z]{1,4}-[0-9]{1,8}", "codes longer than 12 characters"),
    ("[A-Z]{2,4}", "a code without a digit could be a name"),
    ("[A-Z0-9-]{1,10}", "it accepts JOHNSMITH1"),
    ("[0-9]{1,2}-[0-9]{1,2}-[0-9]{4}", "it accepts 1-1-1960"),
    ("[a-z]{1,4}-[0-9]", "expected a capital"),
    ("[A-Z]{3,1}-1", "not below least"),
    ("A|B|C|D|E|F|G|H|1", "at most 8 alternatives"),
])
@pytest.mark.req("R-CODE-03")
def test_table_check_refuses_a_pattern_that_lets_names_in(tmp_path, pattern, reason):
    text, problems = _example_with(tmp_path, 'patient = "[A-Z]{1,4}-[0-9]{1,6}"', f'patient = "{pattern}"')
    hits = [p for p in problems if reason in p.reason]
    assert hits, [str(p) for p in problems]
    assert text.splitlines()[hits[0].line - 1].startswith("patient =")


@pytest.mark.parametrize("labs, reason", [
    ('["ZHANGSAN-1"]', "not 1-8 capitals"),
    ('["haem"]', "not 1-8 capitals"),
    ('["HAEM", "HAEM"]', "listed twice"),
])
@pytest.mark.req("R-CODE-03")
def test_table_check_refuses_a_bad_lab_list(tmp_path, labs, reason):
    _, problems = _example_with(tmp_path, '# labs = ["HAEM1", "BIOCH2"]', f"labs = {labs}")
    assert any(reason in p.reason for p in problems), [str(p) for p in problems]


def _legacy_journal(path):
    """A journal written before the pattern (a device that took any capitals and
    digits): a name and a date of birth as codes, a bed number beside them."""
    _policy("[A-Z0-9-]{1,12}", ["LAB-1"])
    tr = flcstore.Tracker(str(path))
    tr.boot()
    for code in ("JOHNSMITH1", "1-1-1960", "BED-3"):
        tr.add_patient(code, 0, T0)
        tr.add_sample(code, T0 + 60, 150000, 1850, "LAB-1", False)
    tr.add_creatinine("JOHNSMITH1", T0 + 60, 300000)
    flc.set_code_policy()


@pytest.mark.req("R-CODE-04")
def test_records_under_an_older_code_are_read_and_pulled_but_never_added_to(tmp_path):
    path = tmp_path / "flc.jnl"
    _legacy_journal(path)
    tr = flcstore.Tracker(str(path))
    tr.boot()
    assert sorted(tr.patients) == ["1-1-1960", "BED-3", "JOHNSMITH1"]  # nothing lost
    assert flc.kinetics(tr.patient("JOHNSMITH1"), T0 + 120)["latest_x100"] == 150000
    pulled = tr.pull(0, 100)
    assert len(pulled) == 7 and {r[2] for r in pulled} == {"JOHNSMITH1", "1-1-1960", "BED-3"}
    size = path.stat().st_size
    for write in (lambda: tr.add_sample("JOHNSMITH1", T0 + 200, 1000, 1000, "", False),
                  lambda: tr.add_event("1-1-1960", 2, T0 + 200, T0 + 300),
                  lambda: tr.add_creatinine("JOHNSMITH1", T0 + 200, 300000),
                  lambda: tr.add_patient("JOHNSMITH1", 1, 0, True)):  # a new episode
        with pytest.raises(limits.InputError) as e:
            write()
        assert e.value.field == "patient" and "[A-Z]{1,4}-[0-9]{1,6}" in e.value.message
    assert path.stat().st_size == size  # nothing written
    tr.add_sample("BED-3", T0 + 200, 1000, 1000, "LAB1", False)  # a code of the pattern: as ever


@pytest.mark.req("R-CODE-04")
def test_a_refused_code_never_becomes_a_file_name(tmp_path):
    path = tmp_path / "flc.jnl"
    _legacy_journal(path)
    tr = flcstore.Tracker(str(path))
    tr.boot()
    records = [flc_cmds._record_dict(r) for r in tr.pull(0, 100)]
    out = tmp_path / "pulled"
    out.mkdir()
    flc_cmds.write_patient_files(out, records)
    names = sorted(p.name for p in out.iterdir())
    assert "BED-3.csv" in names and "BED-3.json" in names
    assert not [n for n in names if "JOHN" in n or "1960" in n], names
    refused = sorted(n for n in names if n.startswith("code-refused-s"))
    assert refused == ["code-refused-s1.csv", "code-refused-s1.json", "code-refused-s3.csv",
                       "code-refused-s3.json"]  # by each person's first record
    # The records themselves are kept whole, code included (nothing is lost).
    kept = json.loads((out / "code-refused-s1.json").read_text())
    assert kept["patient"] == "JOHNSMITH1" and len(kept["records"]) == 3
    # The board's own pattern decides: under a ward's pattern BED-3 is a file name too.
    assert flc_cmds.file_stem("BED-3", 1, 7, tables.compile_code_pattern(WARD)) == "BED-3"
    assert flc_cmds.file_stem("BED-3", 1, 7, tables.compile_code_pattern("ICU-[0-9]{1,2}")) == \
        "code-refused-s7"


@pytest.mark.req("R-CODE-01")
def test_the_protocol_refuses_identifying_codes(engines):
    """Over the protocol, as `mmrenal flc add` sends them (the host's scratch tracker)."""
    for kind in ("cpython", "micropython"):
        eng = engines[kind]
        for code in IDENTIFYING:
            r = eng.request({"op": "flc_patient", "patient": code, "involved": "kappa",
                             "scratch": True})
            assert r["ok"] is False and r["field"] == "patient", (kind, r)
            assert "[A-Z]{1,4}-[0-9]{1,6}" in r["error"]
        base = {"patient": "ICU-4", "scratch": True}
        r = eng.request({"op": "flc_patient", "involved": "kappa", "new_episode": True, **base})
        assert r["ok"], r
        r = eng.request({"op": "flc_sample", "time": T0, "kappa": "10", "lambda": "10",
                         "lab": "ZHANGSAN", "confirm": True, **base})
        assert r["ok"] is False and r["field"] == "lab", (kind, r)


def _example_with(tmp_path, old: str, new: str):
    """The example table with one line changed, and what `table check` says of it."""
    text = tables.EXAMPLE.read_text(encoding="utf-8").replace(old, new)
    src = tmp_path / "t.toml"
    src.write_text(text, encoding="utf-8")
    return text, tables.load(src, today=dt.date(2026, 11, 26))[1]
