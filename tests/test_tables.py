"""Dose tables on the host: the source check, diff, compile, signatures, and every
Table 1 cell through the firmware on both engines."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest

from mmrenal import tablebin, tables
from mmrenal.firmware import load

import table1

EXAMPLE = tables.EXAMPLE


def mmrenal(*args):
    return subprocess.run([sys.executable, "-m", "mmrenal", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    priv, pub = tablebin.keygen(d, "test-approver")
    other_priv, other_pub = tablebin.keygen(d, "someone-else")
    return {"priv": priv, "pub": pub, "other_priv": other_priv, "other_pub": other_pub,
            "dir": d}


@pytest.fixture(scope="module")
def compiled():
    table, problems = tables.load(EXAMPLE)
    assert problems == []
    return tablebin.compile_table(table)


@pytest.fixture(scope="module")
def signed(compiled, keys):
    return tablebin.sign(compiled, keys["priv"])


@pytest.mark.req("R-TAB-01", "R-DOSE-03")
def test_example_table_is_clean_and_complete():
    table, problems = tables.load(EXAMPLE)
    assert problems == []
    assert {d.inn for d in table.drugs} == set(table1.CELLS)
    for d in table.drugs:
        for b in [*d.bands, d.dialysis]:
            assert b.source in table.sources and b.where  # every rule cited


# --- table check: each kind of problem, with its line ---------------------------

GOOD = '''[table]
id = "t"
version = 2
title_en = "T"
title_zh = "T"
effective = 2026-01-01
expires = 2099-01-01
author = "a"
approver = "b"
weight_policy = "actual"

[sources.s]
citation_en = "Source S"

[[drug]]
inn = "drugx"
zh = "X"
route = "oral"
keyed_to = "crcl"
standard = [{ amount = "10", unit = "mg", frequency = "daily" }]

  [[drug.band]]
  from = 30
  status = "standard"
  source = "s"
  where = "row 1"

  [[drug.band]]
  from = 0
  to = 30
  status = "adjusted"
  dose = [{ amount = "5", unit = "mg", frequency = "daily" }]
  source = "s"
  where = "row 2"

  [drug.dialysis]
  status = "uncertain"
  source = "s"
  where = "row 3"
'''


def _problems(tmp_path, text):
    f = tmp_path / "t.toml"
    f.write_text(text)
    table, problems = tables.load(f, today=dt.date(2026, 11, 26))
    return problems


def _line_of(text, needle, nth=1):
    lines = [i for i, s in enumerate(text.splitlines(), 1) if needle in s]
    return lines[nth - 1]


@pytest.mark.req("R-TAB-01")
def test_good_source_has_no_problems(tmp_path):
    assert _problems(tmp_path, GOOD) == []


@pytest.mark.parametrize("change, reason, line_of", [
    (('to = 30', 'to = 25'), "gap between 25 and 30", ("from = 30", 1)),
    (('to = 30', 'to = 35'), "overlap", ("from = 30", 1)),
    (('  where = "row 2"\n', ''), "missing citation", ("[[drug.band]]", 2)),
    (('unit = "mg", frequency = "daily" }]\n  source', 'unit = "mL", frequency = "daily" }]\n  source'),
     "unknown unit 'mL'", ('unit = "mL"', 1)),
    (('status = "uncertain"', 'status = "uncertain"\n  dose = [{ amount = "1", unit = "mg" }]'),
     "uncertain band carries an amount", ('dose = [{ amount = "1"', 1)),
    (('status = "adjusted"\n  dose = [{ amount = "5"', 'status = "standard"\n  dose = [{ amount = "15"'),
     "above the standard dose but marked standard", ('amount = "15"', 1)),
    (('expires = 2099-01-01', 'expires = 2026-06-01'), "expired on 2026-06-01", ("expires =", 1)),
    (('source = "s"\n  where = "row 1"', 'source = "t"\n  where = "row 1"'),
     "source 't' is not in [sources]", ("[[drug.band]]", 1)),
    (('  [drug.dialysis]\n  status = "uncertain"\n  source = "s"\n  where = "row 3"\n', ''),
     "no [drug.dialysis] entry", ("[[drug]]", 1)),
    (('from = 30\n', 'from = 30.05\n'), "steps of 0.1", ("from = 30.05", 1)),
])
@pytest.mark.req("R-TAB-01", "R-DOSE-02", "R-DOSE-03")
def test_check_reports_problem_with_line(tmp_path, change, reason, line_of):
    text = GOOD.replace(*change)
    assert text != GOOD
    problems = _problems(tmp_path, text)
    hits = [p for p in problems if reason in p.reason]
    assert hits, [str(p) for p in problems]
    assert hits[0].line == _line_of(text, *line_of)
    assert str(hits[0]).startswith(f"{tmp_path / 't.toml'}:{hits[0].line}: ")


@pytest.mark.req("R-TAB-01")
def test_check_command_exit_codes(tmp_path):
    res = mmrenal("table", "check", str(EXAMPLE))
    assert res.returncode == 0 and "no problems" in res.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("to = 30", "to = 25"))
    res = mmrenal("table", "check", str(bad))
    assert res.returncode == 1 and f"{bad}:" in res.stdout and "gap" in res.stdout
    res = mmrenal("table", "compile", str(bad), "-o", str(tmp_path / "x.bin"))
    assert res.returncode == 1 and not (tmp_path / "x.bin").exists()


@pytest.mark.req("R-TAB-10")
def test_diff_rule_by_rule(tmp_path):
    new = tmp_path / "new.toml"
    new.write_text(GOOD.replace('amount = "5"', 'amount = "7.5"').replace("version = 2", "version = 3"))
    old = tmp_path / "old.toml"
    old.write_text(GOOD)
    res = mmrenal("table", "diff", str(old), str(new))
    assert res.returncode == 0
    assert "table version: 2 -> 3" in res.stdout
    assert "drugx CrCl < 30: adjusted 5 mg daily" in res.stdout and "-> adjusted 7.5 mg daily" in res.stdout
    assert "2 change(s)" in res.stdout


# --- binary, keys, signatures ----------------------------------------------------


@pytest.mark.req("R-TAB-03", "R-TAB-09")
def test_compile_sign_verify_commands(tmp_path, keys):
    out = tmp_path / "t.bin"
    res = mmrenal("table", "compile", str(EXAMPLE), "-o", str(out))
    assert res.returncode == 0 and "bytes" in res.stdout
    res = mmrenal("table", "verify", str(out), "--pubkey", str(keys["pub"]))
    assert res.returncode == 1 and "not signed" in res.stdout
    res = mmrenal("table", "sign", str(out), "--key", str(keys["priv"]))
    assert res.returncode == 0
    res = mmrenal("table", "verify", str(out), "--pubkey", str(keys["pub"]))
    assert res.returncode == 0 and "OK" in res.stdout
    res = mmrenal("table", "verify", str(out), "--pubkey", str(keys["other_pub"]))
    assert res.returncode == 1
    res = mmrenal("table", "keygen", "--out", str(tmp_path / "k"), "--name", "pharm")
    assert res.returncode == 0
    names = sorted(p.name for p in (tmp_path / "k").iterdir())
    assert names == ["pharm.key", "pharm.pub.pem"]
    assert ((tmp_path / "k" / "pharm.key").stat().st_mode & 0o077) == 0


@pytest.mark.req("R-TAB-09")
def test_no_private_key_in_the_repository():
    repo = EXAMPLE.parents[1]
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True).stdout
    needle = b"-----BEGIN " + b"PRIVATE KEY"  # split so that this file does not match itself
    for name in tracked.splitlines():
        path = repo / name
        if path.is_file() and path.stat().st_size < 1_000_000:
            assert needle not in path.read_bytes(), name


def _device_keys(keys):
    signature = load("signature")
    line = tablebin.device_key_line(tablebin.load_public(keys["pub"]), "test")
    n_hex = line.split()[2]
    n = bytes.fromhex(n_hex)
    return {signature.key_id(n): (n, 65537, "test")}


@pytest.mark.req("R-TAB-03")
def test_device_code_accepts_the_signed_table(signed, keys):
    dosetable = load("dosetable")
    t = dosetable.Table(signed, _device_keys(keys))
    assert t.version == 1 and t.approver_key == "test" and len(t.drugs) == len(table1.CELLS)


@pytest.mark.req("R-TAB-02")
def test_every_bit_flip_and_truncation_is_refused(signed, keys):
    """The device's check refuses every single-bit flip and every truncation."""
    dosetable = load("dosetable")
    dev_keys = _device_keys(keys)
    flips = 0
    for i in range(len(signed)):
        for bit in range(8):
            bad = bytearray(signed)
            bad[i] ^= 1 << bit
            with pytest.raises(dosetable.TableError):
                dosetable.check(bytes(bad), dev_keys)
            flips += 1
    for n in range(len(signed)):
        with pytest.raises(dosetable.TableError):
            dosetable.check(signed[:n], dev_keys)
    assert flips == 8 * len(signed)


@pytest.mark.req("R-TAB-03")
def test_forged_and_foreign_signatures_are_refused(compiled, keys):
    dosetable = load("dosetable")
    dev_keys = _device_keys(keys)
    foreign = tablebin.sign(compiled, keys["other_priv"])
    with pytest.raises(dosetable.TableError, match="unknown approver"):
        dosetable.check(foreign, dev_keys)
    # Someone else's signature under the trusted key id: a forgery.
    own = tablebin.sign(compiled, keys["priv"])
    forged = own[:-384] + foreign[-384:]
    with pytest.raises(dosetable.TableError, match="does not verify"):
        dosetable.check(forged, dev_keys)
    # A changed body with a recomputed CRC and SHA-256 keeps the old signature: refused.
    table, _ = tables.load(EXAMPLE)
    table.version = 99
    other = tablebin.compile_table(table)
    with pytest.raises(dosetable.TableError, match="does not verify"):
        dosetable.check(other + own[len(compiled):], dev_keys)


# --- every cell of Table 1, both engines ---------------------------------------------


@pytest.fixture(scope="module")
def table_file(tmp_path_factory, signed):
    f = tmp_path_factory.mktemp("tbl") / "example.bin"
    f.write_bytes(signed)
    return str(f)


@pytest.mark.req("R-DOSE-01", "R-DOSE-02", "R-DOSE-03", "R-WARN-02")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_every_table1_cell_at_and_around_band_edges(engines, engine, table_file):
    eng = engines[engine]
    checked = 0
    for drug, value, dialysis, expected in table1.cases():
        keyed = "egfr" if drug == "melphalan" else "crcl"
        req = {"op": "dose", "drug": drug, keyed: value, "dialysis": dialysis,
               "table_path": table_file}
        resp = eng.request(req)
        assert resp["ok"], (req, resp)
        problem = table1.matches(resp, expected)
        assert problem is None, (drug, value, dialysis, problem)
        assert resp["source"] and resp["where"]  # the rule's citation comes with it
        checked += 1
    assert checked == len(table1.CELLS) * (len(table1.POINTS) + 1)


@pytest.mark.req("R-DOSE-07")
def test_aliases_and_chinese_names(engines, table_file):
    for name in ("ide-cel", "dara", "Len", "来那度胺", "belantamab-mafodotin"):
        resp = engines["cpython"].request({"op": "dose", "drug": name, "crcl": "50",
                                           "egfr": "50", "table_path": table_file})
        assert resp["ok"], resp
    resp = engines["cpython"].request({"op": "dose", "drug": "aspirin", "crcl": "50",
                                       "table_path": table_file})
    assert resp == {"ok": False, "field": "drug", "error": resp["error"]} and "aspirin" in resp["error"]


@pytest.mark.req("R-DOSE-05", "R-UNIT-03", "R-DOSE-02")
def test_absolute_amounts_and_dose_check(engines, table_file):
    eng = engines["micropython"]
    base = {"op": "dose", "table_path": table_file, "weight": "70", "height": "170"}
    # BSA 1.82 m2 (sqrt(170 x 70 / 3600) = 1.818): bortezomib 1.3 mg/m2 -> 2.37 mg (2.366).
    r = eng.request({**base, "drug": "bortezomib", "crcl": "50"})
    assert r["bsa_m2_x100"] == 182 and r["doses"][0]["absolute_x100"] == 237
    # Daratumumab iv 16 mg/kg x 70 kg = 1120 mg; sc is 1800 mg flat.
    r = eng.request({**base, "drug": "dara", "crcl": "50", "prescribed": "1800", "regimen": "sc"})
    assert r["check"]["verdict"] == "within"
    r = eng.request({**base, "drug": "dara", "crcl": "50", "prescribed": "1800", "regimen": "iv"})
    assert r["check"]["verdict"] == "above" and r["check"]["ceiling_x100"] == 112000
    r = eng.request({**base, "drug": "dara", "crcl": "50", "prescribed": "1800"})
    assert r["check"]["verdict"] == "not checkable" and "regimen" in r["check"]["reason"]
    # Lenalidomide at CrCl 25: 15 mg every other day.
    r = eng.request({**base, "drug": "len", "crcl": "25", "prescribed": "15"})
    assert r["check"]["verdict"] == "within"
    r = eng.request({**base, "drug": "len", "crcl": "25", "prescribed": "25"})
    assert r["check"]["verdict"] == "above"
    r = eng.request({**base, "drug": "tec", "crcl": "35", "prescribed": "1"})
    assert r["check"]["verdict"] == "not checkable" and r["doses"] == []
    r = eng.request({**base, "drug": "melphalan", "egfr": "29.9", "prescribed": "140",
                     "prescribed_unit": "mg/m2"})
    assert r["check"]["verdict"] == "within"


@pytest.mark.req("R-DOSE-04")
def test_dose_needs_the_right_renal_value(engines, table_file):
    r = engines["cpython"].request({"op": "dose", "drug": "melphalan", "crcl": "20",
                                    "table_path": table_file})
    assert r["ok"] is False and r["field"] == "egfr"
    r = engines["cpython"].request({"op": "dose", "drug": "len", "crcl": "-3",
                                    "table_path": table_file})
    assert r["ok"] is False and r["field"] == "crcl"


@pytest.mark.req("R-DOSE-02", "R-DOSE-03")
def test_dose_command_json_and_text():
    res = mmrenal("dose", "lenalidomide", "--crcl", "25", "--json")
    assert res.returncode == 0, res.stderr
    import json

    out = json.loads(res.stdout)
    assert (out["drug"], out["status"], out["amount"], out["unit"], out["frequency"]) == \
        ("lenalidomide", "adjusted", 15.0, "mg", "every other day")
    assert {"amount_max", "absolute_amount", "timing", "band", "source"} <= set(out)
    res = mmrenal("dose", "ide-cel", "--crcl", "45", "--json")
    out = json.loads(res.stdout)
    assert out["status"] == "uncertain" and out["amount"] is None and out["absolute_amount"] is None
    res = mmrenal("dose", "ide-cel", "--crcl", "45")
    assert "UNCERTAIN" in res.stdout and "No number" in res.stdout
    import re

    # No amount anywhere: no number followed by a dose unit.
    assert not re.search(r"\d\s*(mg|cells|x 10\^)", res.stdout), res.stdout
    res = mmrenal("dose", "--list")
    assert res.returncode == 0 and len(res.stdout.splitlines()) == len(table1.CELLS)
