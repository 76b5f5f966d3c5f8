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
  where_zh = "第1行"

  [[drug.band]]
  from = 0
  to = 30
  status = "adjusted"
  dose = [{ amount = "5", unit = "mg", frequency = "daily" }]
  source = "s"
  where = "row 2"
  where_zh = "第2行"

  [drug.dialysis]
  status = "uncertain"
  source = "s"
  where = "row 3"
  where_zh = "第3行"
'''


def _problems(tmp_path, text):
    f = tmp_path / "t.toml"
    f.write_text(text)
    table, problems = tables.load(f, today=dt.date(2026, 11, 26))
    return problems


def _line_of(text, needle, nth=1):
    lines = [i for i, s in enumerate(text.splitlines(), 1) if needle in s]
    return lines[nth - 1]


def _reported_at(tmp_path, good, change, reason, line_of):
    """`good` with one change (old, new) is reported for `reason` at the line of
    `line_of` (needle, nth); the problem is returned."""
    text = good.replace(*change)
    assert text != good
    problems = _problems(tmp_path, text)
    hits = [p for p in problems if reason in p.reason]
    assert hits, [str(p) for p in problems]
    assert hits[0].line == _line_of(text, *line_of)
    return hits[0]


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
    (('  [drug.dialysis]\n  status = "uncertain"\n  source = "s"\n  where = "row 3"\n'
      '  where_zh = "第3行"\n', ''), "no [drug.dialysis] entry", ("[[drug]]", 1)),
    # A rule's citation in one language only: the Chinese screens would show English.
    (('  where_zh = "第2行"\n', ''), "no Chinese citation (where_zh)", ('where = "row 2"', 1)),
    (('  where_zh = "第3行"\n', ''), "no Chinese citation (where_zh)", ('where = "row 3"', 1)),
    (('where_zh = "第1行"', 'where_zh = " "'), "no Chinese citation (where_zh)", ('where = "row 1"', 1)),
    (('from = 30\n', 'from = 30.05\n'), "steps of 0.1", ("from = 30.05", 1)),
])
@pytest.mark.req("R-TAB-01", "R-DOSE-02", "R-DOSE-03")
def test_check_reports_problem_with_line(tmp_path, change, reason, line_of):
    hit = _reported_at(tmp_path, GOOD, change, reason, line_of)
    assert str(hit).startswith(f"{tmp_path / 't.toml'}:{hit.line}: ")


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
    return {signature.key_id(n): (n, 65537, "test", "approver")}


@pytest.mark.req("R-TAB-03")
def test_device_code_accepts_the_signed_table(signed, keys):
    dosetable = load("dosetable")
    t = dosetable.Table(signed, _device_keys(keys))
    kid = tablebin.key_id(tablebin.load_public(keys["pub"])).hex()
    assert t.version == 1 and t.signer == ("test", "approver", kid)
    assert len(t.drugs) == len(table1.CELLS)


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
        assert resp["source"] and resp["where"] and resp["where_zh"]  # the rule's citation comes with it
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


# --- the dose the device serves comes from its verified active table, always -----------


def _sha8(data: bytes) -> str:
    """The first 8 hex digits of a table file's body SHA-256, computed here."""
    import hashlib

    blen = int.from_bytes(data[20:24], "little")
    return hashlib.sha256(data[64 : 64 + blen]).hexdigest()[:8]


@pytest.fixture(scope="module")
def tampered(compiled):
    """The example table with lenalidomide at CrCl 15-29 raised from 15 to 150 mg: the
    same layout (every string and offset unchanged), so a parsed index of the real
    table reads the wrong amount from it if its bytes ever land in the table buffer."""
    from decimal import Decimal

    table, _ = tables.load(EXAMPLE)
    len_ = next(d for d in table.drugs if d.inn == "lenalidomide")
    band = next(b for b in len_.bands if b.lo == 15)
    assert band.doses[0].amount == Decimal("15")
    band.doses[0].amount = Decimal("150")
    data = tablebin.compile_table(table)
    assert len(data) == len(compiled) and data != compiled
    return data


@pytest.fixture
def device_flash(tmp_path, signed, keys, tampered):
    """A device's flash folder: the example table in slot a, signed by a trusted key,
    and two files a request might name: the tampered table whole and with a bad CRC."""
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "table_a.bin").write_bytes(signed)
    (flash / "table.act").write_text("a")
    (flash / "approvers.txt").write_text(
        tablebin.device_key_line(tablebin.load_public(keys["pub"]), "Pharmacy Lead") + "\n")
    (flash / "tampered.bin").write_bytes(tampered)
    bad = bytearray(tampered)
    bad[24] ^= 0xFF  # the CRC32: refused by the check, after the file has been read
    (flash / "tampered-crc.bin").write_bytes(bytes(bad))
    return flash


LEN_25 = {"op": "dose", "drug": "lenalidomide", "crcl": "25"}


@pytest.mark.req("R-VTAB-01")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_table_path_on_the_device_is_refused_and_leaves_the_active_table(engine, device_flash,
                                                                         signed):
    """The reported defect: a dose request naming a table file made the device read it
    into its one table buffer, and the next ordinary dose answered 150 mg, "verified"."""
    from mmrenal.engine import Engine

    with Engine(engine, flash=device_flash) as dev:
        first = dev.request(LEN_25)
        assert first["ok"] and first["doses"][0]["amount_x100"] == 1500, first
        for name in ("tampered.bin", "tampered-crc.bin", str(device_flash / "tampered.bin"),
                     "no-such-file.bin"):
            r = dev.request({**LEN_25, "table_path": name})
            assert r["ok"] is False and r["field"] == "table_path", r
            assert "doses" not in r
            r = dev.request({"op": "drugs", "table_path": name})
            assert r["ok"] is False and r["field"] == "table_path", r
            after = dev.request(LEN_25)
            assert after["ok"] and after["doses"][0]["amount_x100"] == 1500, (name, after)
            assert after["table"]["verified"] is True
            assert after["table"]["sha8"] == _sha8(signed)


# A sequence of device requests, property-style: files named by requests, good and bad
# tables installed in the standby slot, activations (forced or not), reloads and power
# cycles. After every step the active table is exactly the one the model says (by its
# SHA-256), and every dose answer names it and gives its dose.

WIDE = (dt.date(2020, 1, 1), dt.date(2099, 1, 1))  # dates that hold whenever the test runs


def _compiled(version: int, len_mg: str = "15") -> bytes:
    from decimal import Decimal

    table, _ = tables.load(EXAMPLE)
    table.version = version
    table.effective, table.expires = WIDE
    band = next(b for d in table.drugs if d.inn == "lenalidomide" for b in d.bands if b.lo == 15)
    band.doses[0].amount = Decimal(len_mg)
    return tablebin.compile_table(table)


@pytest.fixture(scope="module")
def dev_key(tmp_path_factory):
    d = tmp_path_factory.mktemp("devkey")
    return tablebin.keygen(d, "dev-test")


@pytest.fixture(scope="module")
def candidates(keys, dev_key):
    """name -> (bytes, trusted signer's role or None, version). Trusted: signed by the
    approver ("Pharmacy Lead") or the development key; the rest must all be refused."""
    approver = keys["priv"]
    v4 = tablebin.sign(_compiled(4), approver)
    tampered4 = _compiled(4, "150")
    crc = bytearray(tablebin.sign(tampered4, approver))
    crc[24] ^= 0x01
    return {
        "v1": (tablebin.sign(_compiled(1), approver), "approver", 1),
        "v2-dev": (tablebin.sign(_compiled(2), dev_key[0]), "dev", 2),
        "v3": (tablebin.sign(_compiled(3), approver), "approver", 3),
        "v4": (v4, "approver", 4),
        "tampered-unsigned": (_compiled(2, "150"), None, 2),
        "tampered-foreign": (tablebin.sign(tampered4, keys["other_priv"]), None, 4),
        "tampered-crc": (bytes(crc), None, 4),
        "tampered-moved-signature": (tampered4 + v4[len(tampered4):], None, 4),
    }


def _keys_file(keys, dev_key) -> str:
    return (tablebin.device_key_line(tablebin.load_public(keys["pub"]), "Pharmacy Lead",
                                     role="approver") + "\n"
            + tablebin.device_key_line(tablebin.load_public(dev_key[1]), "dev-test") + "\n")


class _Model:
    """What the device must hold: the active slot and its table's bytes and role."""

    def __init__(self, flash, candidates):
        self.flash = flash
        self.cands = candidates
        self.slot = "a"
        self.active = "v1"
        self.standby = None  # candidate name in the standby slot

    def other(self):
        return "b" if self.slot == "a" else "a"

    def activate_ok(self, slot, force) -> bool:
        if slot != self.other() or self.standby is None:
            return False
        data, role, version = self.cands[self.standby]
        old_data, _, old_version = self.cands[self.active]
        if role is None:
            return False
        if not force and (version < old_version or
                          (version == old_version and _sha8(data) != _sha8(old_data))):
            return False
        return True


def _check_active(dev, m: _Model, step):
    data, role, version = m.cands[m.active]
    r = dev.request(LEN_25)
    assert r["ok"] and r["doses"][0]["amount_x100"] == 1500, (step, r)
    t = r["table"]
    assert (t["verified"], t["version"], t["sha8"]) == (True, version, _sha8(data)), (step, t)
    assert t["banner"] == ("draft" if role == "dev" else ""), (step, t)
    assert t["approver"] == ("dev-test" if role == "dev" else "Pharmacy Lead"), (step, t)
    st = dev.request({"op": "table_status"})
    info = st["slot_" + m.slot]
    assert st["active_slot"] == m.slot, (step, st)
    blen = int.from_bytes(data[20:24], "little")
    import hashlib

    assert info["sha256"] == hashlib.sha256(data[64 : 64 + blen]).hexdigest(), step
    assert (info["approver"], info["approver_role"], info["sha8"]) == (t["approver"], role, t["sha8"])
    assert info["approver_claim"] != info["approver"]  # the table's own text, shown apart


@pytest.mark.req("R-VTAB-01", "R-VTAB-02", "R-VTAB-03", "R-VTAB-05")
@pytest.mark.parametrize("engine, seed", [("micropython", 1), ("cpython", 2), ("micropython", 3)])
def test_any_request_sequence_keeps_the_verified_active_table(tmp_path, engine, seed, candidates,
                                                             keys, dev_key):
    import random

    from mmrenal.engine import Engine

    rng = random.Random(seed)
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "table_a.bin").write_bytes(candidates["v1"][0])
    (flash / "table.act").write_text("a")
    (flash / "approvers.txt").write_text(_keys_file(keys, dev_key))
    for name, (data, _, _) in candidates.items():
        (flash / f"{name}.bin").write_bytes(data)
    paths = [f"{n}.bin" for n in candidates] + [str(flash / "tampered-unsigned.bin"),
                                                 "table_a.bin", "table_b.bin", "nothing.bin", 7]
    m = _Model(flash, candidates)
    refused = activated = 0
    dev = Engine(engine, flash=flash)
    try:
        _check_active(dev, m, "boot")
        for i in range(200):
            op = rng.choice(["path", "path", "drugs-path", "install", "install", "install",
                             "activate", "activate", "activate", "reload", "wipe", "bad", "reboot"])
            step = (i, op)
            if op in ("path", "drugs-path"):
                req = {**LEN_25} if op == "path" else {"op": "drugs"}
                req["table_path"] = rng.choice(paths)
                r = dev.request(req)
                assert (r["ok"], r["field"]) == (False, "table_path"), (step, r)
                refused += 1
            elif op == "install":
                signed = [n for n, c in candidates.items() if c[1]]  # half of them
                m.standby = rng.choice(signed if rng.random() < 0.5 else list(candidates))
                (flash / f"table_{m.other()}.bin").write_bytes(candidates[m.standby][0])
            elif op == "wipe":
                (flash / f"table_{m.other()}.bin").unlink(missing_ok=True)
                m.standby = None
            elif op == "activate":
                slot = rng.choice([m.other()] * 3 + [m.slot, "c"])
                force = rng.random() < 0.3
                expect = m.activate_ok(slot, force)
                r = dev.request({"op": "table_activate", "slot": slot, "force": force})
                assert r["ok"] is expect, (step, slot, force, m.standby, r)
                if expect:
                    m.slot, m.active, m.standby = slot, m.standby, m.active
                    activated += 1
            elif op == "reload":
                assert dev.request({"op": "table_reload"})["active_slot"] == m.slot
            elif op == "bad":
                r = dev.request({"op": "dose", "drug": "aspirin", "crcl": "25"})
                assert (r["ok"], r["field"]) == (False, "drug")
            else:  # power cycle: boot checks the slots again
                dev.close()
                dev = Engine(engine, flash=flash)
            _check_active(dev, m, step)
    finally:
        dev.close()
    assert refused > 20 and activated >= 2  # the sequence did exercise both


# --- the dose screens' table mark: UI.table_mark() on MicroPython -----------------------

MARK_SCRIPT = """
import json
import tablestore
import ui
store = tablestore.Store()
store.boot()
out = []
for now in NOWS:
    u = ui.UI(None, None, store, now=lambda: now)
    out.append(list(u.table_mark()))
print(json.dumps(out))
"""


def _minutes(*when) -> int:
    return int((dt.datetime(*when) - dt.datetime(2000, 1, 1)).total_seconds()) // 60


def _table_marks(flash, nows: list[int]) -> list[list[str]]:
    from mmrenal.engine import env_for, micropython_path

    script = MARK_SCRIPT.replace("NOWS", repr(nows))
    res = subprocess.run([micropython_path(), "-X", "heapsize=320K", "-c", script], cwd=flash,
                         env=env_for("micropython"), capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr + res.stdout
    import json

    return json.loads(res.stdout.splitlines()[-1])


@pytest.mark.req("R-VTAB-03", "R-VTAB-05")
def test_table_mark_for_the_dose_screens(tmp_path, signed, keys, dev_key):
    """sha8 and banner for each kind of key and each date around the example table's
    effective (2026-11-01) and expiry (2027-11-01) days; an unset clock judges no date."""
    nows = [_minutes(2026, 11, 26, 9, 30), _minutes(2027, 11, 1, 23, 59), _minutes(2027, 11, 2),
            _minutes(2026, 10, 31, 23, 59), _minutes(2026, 11, 1), 0, _minutes(2021, 1, 1)]
    in_dates = ["", "", "expired", "not_effective", "", "", ""]
    pub = tablebin.load_public(keys["pub"])
    approver_line = tablebin.device_key_line(pub, "Pharmacy Lead", role="approver")
    lines = {
        "approver": (approver_line, in_dates),
        # Written before keys had roles: only `mmrenal table trust` wrote them.
        "old line": (approver_line.replace(" role:approver", ""), in_dates),
        "dev": (tablebin.device_key_line(pub, "sim", role="dev"), ["draft"] * len(nows)),
        "unknown role": (approver_line.replace("role:approver", "role:boss"), ["draft"] * len(nows)),
    }
    for kind, (line, banners) in lines.items():
        flash = tmp_path / kind.replace(" ", "-")
        flash.mkdir()
        (flash / "table_a.bin").write_bytes(signed)
        (flash / "table.act").write_text("a")
        (flash / "approvers.txt").write_text(line + "\n")
        marks = _table_marks(flash, nows)
        assert marks == [[_sha8(signed), b] for b in banners], kind
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _table_marks(empty, nows[:1]) == [["", ""]]


@pytest.mark.req("R-VTAB-04")
def test_table_info_screen_names_the_key_that_verified(tmp_path, signed, keys):
    from mmrenal import sim

    (tmp_path / "table_a.bin").write_bytes(signed)
    (tmp_path / "table.act").write_text("a")
    (tmp_path / "approvers.txt").write_text(tablebin.device_key_line(
        tablebin.load_public(keys["pub"]), "Pharmacy Lead", role="approver") + "\n")
    with sim.Sim(tmp_path) as s:
        for k in sim.SCREENS["table-info"]:
            s.key(k)
        screen = s.screen()
    assert screen["screen"] == "TableInfo"
    assert "Approver: Pharmacy Lead" in screen["text"]
    assert not any("to be approved" in line for line in screen["text"])  # the table's own text


@pytest.mark.req("R-VTAB-01", "R-VTAB-02", "R-VTAB-03")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_host_lookups_are_unverified_drafts_named_by_sha8(engines, engine, tmp_path, signed,
                                                          tampered):
    """A host engine reads a named table file into its own buffer: the answer is the
    file's (whatever it says), never "verified", always DRAFT, and names the file."""
    eng = engines[engine]
    for name, data, mg in (("signed.bin", signed, 1500), ("tampered.bin", tampered, 15000),
                           ("signed-again.bin", signed, 1500)):
        f = tmp_path / name
        f.write_bytes(data)
        r = eng.request({**LEN_25, "table_path": str(f)})
        assert r["ok"] and r["doses"][0]["amount_x100"] == mg, r
        t = r["table"]
        assert (t["verified"], t["banner"], t["approver"], t["sha8"]) == \
            (False, "draft", "", _sha8(data))
    bad = bytearray(signed)
    bad[5000] ^= 0x40
    (tmp_path / "bad.bin").write_bytes(bytes(bad))
    r = eng.request({**LEN_25, "table_path": str(tmp_path / "bad.bin")})
    assert (r["ok"], r["field"]) == (False, "table") and "refused" in r["error"] and "doses" not in r


@pytest.mark.req("R-VTAB-01")
def test_a_changed_table_buffer_is_refused_then_reloaded(tmp_path, monkeypatch, signed, tampered,
                                                         keys):
    """Defence in depth: if the active table's bytes in RAM ever stopped being the ones
    verified (only the store writes them), the device refuses the dose and re-reads
    its slots rather than answering from them."""
    service = load("service")
    tablestore = load("tablestore")
    (tmp_path / "table_a.bin").write_bytes(signed)
    (tmp_path / "table.act").write_text("a")
    (tmp_path / "approvers.txt").write_text(tablebin.device_key_line(
        tablebin.load_public(keys["pub"]), "Pharmacy Lead", role="approver") + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(service, "_store", None)
    assert service.handle(LEN_25)["doses"][0]["amount_x100"] == 1500
    tablestore._buf[: len(tampered)] = tampered  # what the defect did
    r = service.handle(LEN_25)
    assert (r["ok"], r["field"]) == (False, "table") and "reloaded" in r["error"], r
    r = service.handle(LEN_25)
    assert r["doses"][0]["amount_x100"] == 1500 and r["table"]["sha8"] == _sha8(signed)


# --- issue 13: schedules, strengths, limits and the dose check ------------------------


@pytest.mark.req("R-CHK-01")
def test_a_table_of_the_old_format_is_refused_with_the_reason(compiled):
    """The device reads format 2 only: a format-1 table (no cycle days, strengths or
    limits) is refused at the header, saying which format it is and which it reads."""
    dosetable = load("dosetable")
    assert compiled[4:6] == (2).to_bytes(2, "little")  # the host writes format 2
    old = bytearray(compiled)
    old[4:6] = (1).to_bytes(2, "little")
    with pytest.raises(dosetable.TableError, match="format 1 is not supported.*reads format 2"):
        dosetable.read_header(bytes(old))
    with pytest.raises(dosetable.TableError, match="format 1"):
        dosetable.Table(bytes(old), {}, require_signature=False)


@pytest.mark.req("R-CHK-01", "R-CHK-08")
def test_schedule_strengths_and_table_policy_reach_the_device(compiled):
    dosetable = load("dosetable")
    t = dosetable.Table(compiled, {}, require_signature=False)
    assert (t.fresh_minutes, t.bsa_cap_x100) == (24 * 60, 220)
    ixa = t.drug("ixazomib")
    assert (ixa["form"], ixa["strengths_x100"]) == ("capsule", [230, 300, 400])
    d = ixa["standard"][0]
    assert (d["frequency"], d["frequency_zh"], d["frequency_code"]) == ("weekly", "每周", 7)
    assert (d["cycle_length"], list(d["cycle_days"])) == (28, [(1, 1), (8, 8), (15, 15)])
    assert (d["cycle"], d["cycle_zh"]) == ("days 1, 8, 15 of 28", "28天周期第1、8、15天")
    lena = t.drug("lenalidomide")
    assert lena["strengths_x100"] == [250, 500, 750, 1000, 1500, 2000, 2500]
    every_other = next(b for b in lena["bands"] if b["lo_x10"] == 150)["doses"][0]
    assert (every_other["frequency_code"], every_other["cycle"]) == (2, "days 1-21 of 28")
    pom = t.drug("pomalidomide")
    assert pom["strengths_x100"] == [100, 200, 300, 400]
    assert pom["standard"][0]["cycle"] == "days 1-21 of 28"
    assert t.drug("thalidomide")["strengths_x100"][:2] == [5000, 10000]
    assert t.drug("elotuzumab")["form"] == "vial"
    # The table-wide limits reach every rule: 5 % rounding, 10 % soft, 100 % hard.
    band = ixa["bands"][0]
    assert (band["tolerance_pct"], band["soft_pct"], band["hard_pct"], band["bsa_cap_x100"]) == \
        (5, 10, 100, 220)


@pytest.mark.req("R-TAB-01", "R-ZH-01")
def test_every_citation_reaches_the_device_in_both_languages(compiled):
    """Each rule's where and where_zh, and each drug's dosing_where and dosing_where_zh,
    come out of the device's parser and dose_for as the table's source wrote them."""
    dosetable = load("dosetable")
    dosing = load("dosing")
    t = dosetable.Table(compiled, {}, require_signature=False)
    table, _ = tables.load(EXAMPLE)
    for drug in table.drugs:
        dev = t.drug(drug.inn)
        assert (dev["dosing_where"], dev["dosing_where_zh"]) == \
            (drug.dosing_where, drug.dosing_where_zh), drug.inn
        rules = sorted(drug.bands, key=lambda b: b.lo) + [drug.dialysis]
        assert [(b["where"], b["where_zh"]) for b in dev["bands"]] == \
            [(b.where, b.where_zh) for b in rules], drug.inn
    # By hand, from the TOML: lenalidomide at CrCl 45 (the 30-59 column) on a Chinese screen.
    r = dosing.dose_for(t, "lenalidomide", 450, None, False, 0, 0)
    assert (r["where"], r["where_zh"]) == ("Table 1, lenalidomide, CrCl 30-59: 10 mg/d",
                                           "表1，CrCl 30~59 mL/min：10 mg/d")
    assert r["dosing_where_zh"] == "说明书4.2节：28天周期第1-21天，按肾功能调整的剂量亦同"
    r = dosing.dose_for(t, "bortezomib", None, None, True, 0, 0)
    assert r["where_zh"] == "表1，透析：透析后给药，无需调整" and r["dosing_where_zh"] == ""


@pytest.mark.req("R-TAB-01")
def test_the_signed_example_table_fits_the_device_buffer(signed):
    """The device reads a table file, signature and all, into one buffer of
    tablestore.MAX_TABLE bytes: the example table, in both languages, fits it."""
    assert len(signed) <= load("tablestore").MAX_TABLE, len(signed)


@pytest.mark.req("R-CHK-08")
def test_example_schedules_and_strengths_are_cited():
    table, problems = tables.load(EXAMPLE)
    assert problems == []
    drugs = {d.inn: d for d in table.drugs}
    want = {  # written out from the labels the table cites
        "ixazomib": ("weekly", "days 1, 8, 15 of 28", ["2.3", "3", "4"], "ninlaro-label"),
        "lenalidomide": ("daily", "days 1-21 of 28", ["2.5", "5", "7.5", "10", "15", "20", "25"],
                         "revlimid-smpc"),
        "pomalidomide": ("daily", "days 1-21 of 28", ["1", "2", "3", "4"], "pomalyst-label"),
    }
    for inn, (freq, cycle, strengths, source) in want.items():
        d = drugs[inn]
        assert (d.standard[0].frequency, d.standard[0].cycle_en()) == (freq, cycle), inn
        assert [str(s) for s in d.product.strengths] == strengths, inn
        assert d.product.source == source and d.product.where, inn
        assert d.dosing_source == source and d.dosing_where, inn
        assert source in table.sources
    thal = drugs["thalidomide"].product
    assert thal.form == "capsule" and thal.source == "thalomid-label"
    assert {"50", "100"} <= {str(s) for s in thal.strengths}
    elo = drugs["elotuzumab"]
    epd = next(x for x in elo.standard if x.regimen == "EPd C3+")
    assert (str(epd.amount), epd.unit, epd.frequency, epd.cycle_en()) == \
        ("20", "mg/kg", "every 4 weeks", "day 1 of 28")
    assert elo.dosing_source == "empliciti-label"
    assert "ELOQUENT-3" in table.sources["empliciti-label"][0]
    assert [str(s) for s in elo.product.strengths] == ["300", "400"]
    # Pomalidomide on dialysis: Table 1's dialysis column says 无需调整 (no adjustment, no
    # timing); the table keeps that and notes the US label's different advice.
    pom = drugs["pomalidomide"].dialysis
    assert (pom.status, pom.timing, pom.doses) == ("standard", "", [])
    assert "3 mg" in pom.note_en and "3 mg" in pom.note_zh


GOOD2 = GOOD.replace(
    'standard = [{ amount = "10", unit = "mg", frequency = "daily" }]',
    'standard = [{ amount = "10", unit = "mg", frequency = "daily", cycle_days = "1-21", '
    'cycle_length = 28 }]\n'
    'dosing_source = "s"\n'
    'dosing_where = "2.1"\n'
    'dosing_where_zh = "说明书2.1节"\n'
    'product = { form = "capsule", strengths_mg = ["2.5", "5", "10"], source = "s", where = "3" }',
).replace('weight_policy = "actual"', 'weight_policy = "actual"\nfresh_hours = 12\nbsa_cap = "none"\n'
          'rounding_tolerance_pct = 5\nsoft_limit_pct = 10\nhard_limit_pct = 100')


@pytest.mark.req("R-CHK-01")
def test_good_source_with_schedule_and_limits_has_no_problems(tmp_path):
    assert GOOD2 != GOOD and _problems(tmp_path, GOOD2) == []
    f = tmp_path / "t.toml"
    f.write_text(GOOD2)
    table, _ = tables.load(f, today=dt.date(2026, 11, 26))
    t = load("dosetable").Table(tablebin.compile_table(table), {}, require_signature=False)
    assert (t.fresh_minutes, t.bsa_cap_x100) == (720, 0)  # 12 hours; "none": no cap


@pytest.mark.parametrize("change, reason, line_of", [
    (('cycle_days = "1-21", ', ''), "cycle_days and cycle_length go together", ("standard =", 1)),
    (('cycle_days = "1-21"', 'cycle_days = "1-30"'), "not within days 1-28", ("standard =", 1)),
    (('cycle_days = "1-21"', 'cycle_days = "8, 1"'), "ascending", ("standard =", 1)),
    (('frequency = "daily", cycle', 'frequency = "fortnightly", cycle'), "unknown frequency",
     ("standard =", 1)),
    (('strengths_mg = ["2.5", "5", "10"]', 'strengths_mg = ["3"]'), "10 mg is not made by",
     ("[[drug]]", 1)),
    (('form = "capsule"', 'form = "vial"'), "does not fit route 'oral'", ("product =", 1)),
    (('soft_limit_pct = 10', 'soft_limit_pct = 3'), "soft limit 3% is below the rounding",
     ("[table]", 1)),
    (('hard_limit_pct = 100', 'hard_limit_pct = 8'), "hard limit 8% is below the soft", ("[table]", 1)),
    (('bsa_cap = "none"', 'bsa_cap = "5"'), "bsa_cap '5' must be 1.00-3.00", ("bsa_cap =", 1)),
    (('fresh_hours = 12', 'fresh_hours = 0'), "fresh_hours must be whole hours", ("fresh_hours", 1)),
    (('dosing_source = "s"\ndosing_where = "2.1"\ndosing_where_zh = "说明书2.1节"\n', ''),
     "cycle days need the source", ("[[drug]]", 1)),
    (('dosing_where_zh = "说明书2.1节"\n', ''), "dosing_where and dosing_where_zh",
     ("dosing_where =", 1)),
    (('source = "s", where = "3" }', 'source = "s" }'), "strengths need their source",
     ("product =", 1)),
])
@pytest.mark.req("R-CHK-01")
def test_check_reports_schedule_and_limit_problems_with_line(tmp_path, change, reason, line_of):
    _reported_at(tmp_path, GOOD2, change, reason, line_of)


def _check(eng, table_file, drug, amount, **kw):
    req = {"op": "dose", "table_path": table_file, "drug": drug, "prescribed": amount,
           "weight": "70", "height": "170", "crcl": kw.pop("crcl", "70")}
    req.update(kw)
    return eng.request(req)


@pytest.mark.req("R-CHK-02", "R-CHK-09")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_dose_check_within_above_soft_and_hard_limits(engines, engine, table_file):
    """Elotuzumab EPd from cycle 3: 20 mg/kg x 70 kg = 1400 mg. Edges by hand: within up
    to 1400 x 1.05 = 1470 mg, soft limit 1400 x 1.10 = 1540 mg, hard 1400 x 2 = 2800 mg."""
    eng = engines[engine]
    epd = {"regimen": "EPd C3+", "prescribed_frequency": "every 4 weeks", "cycle_day": "1"}
    cases = [("1400", "within", "", False), ("1470", "within", "", False),
             ("1470.01", "above", "", False), ("1540", "above", "", False),
             ("1540.01", "above", "soft", True), ("2800", "above", "soft", True),
             ("2800.01", "refused", "hard", False)]
    for amount, verdict, limit, override in cases:
        r = _check(eng, table_file, "elotuzumab", amount, **epd)
        assert r["ok"], r
        c = r["check"]
        assert (c["verdict"], c["limit"], c["override_needed"], c["flags"]) == \
            (verdict, limit, override, []), (amount, c)
        assert (c["ceiling_x100"], c["within_x100"], c["soft_x100"], c["hard_x100"]) == \
            (140000, 147000, 154000, 280000)
    # The same 1400 mg in cycles 1-2 (10 mg/kg weekly = 700 mg) is twice the dose.
    r = _check(eng, table_file, "elotuzumab", "1400", regimen="C1-2",
               prescribed_frequency="weekly", cycle_day="8")
    assert (r["check"]["verdict"], r["check"]["limit"]) == ("above", "soft")


@pytest.mark.req("R-CHK-03", "R-CHK-09")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_dose_check_flags_frequency_cycle_day_and_capsules(engines, engine, table_file):
    """Lenalidomide at CrCl 25: 15 mg every other day, days 1-21 of a 28-day cycle."""
    eng = engines[engine]

    def check(amount, freq, day):
        r = _check(eng, table_file, "len", amount, crcl="25", prescribed_frequency=freq,
                   cycle_day=day)
        assert r["ok"], r
        return r["check"]

    c = check("15", "every other day", "21")
    assert (c["verdict"], c["flags"], c["override_needed"]) == ("within", [], False)
    c = check("15", "daily", "1")  # twice the table's exposure
    assert (c["verdict"], c["flags"], c["override_needed"]) == ("does not match", ["frequency"], True)
    c = check("15", "every other day", "22")  # the rest week
    assert (c["verdict"], c["flags"]) == ("does not match", ["cycle_day"])
    c = check("12", "every other day", "1")  # no combination of whole capsules makes 12 mg
    assert (c["verdict"], c["flags"]) == ("does not match", ["strength"])
    c = check("12.5", "every other day", "1")  # 10 + 2.5
    assert (c["verdict"], c["flags"]) == ("within", [])
    # Not given: not compared, and said so.
    r = _check(eng, table_file, "len", "15", crcl="25")
    assert (r["check"]["verdict"], r["check"]["unchecked"]) == ("within", ["frequency", "cycle_day"])
    # Refused inputs name their field.
    r = _check(eng, table_file, "len", "15", crcl="25", prescribed_frequency="fortnightly")
    assert (r["ok"], r["field"]) == (False, "prescribed_frequency")
    r = _check(eng, table_file, "len", "15", crcl="25", cycle_day="29")
    assert (r["ok"], r["field"]) == (False, "cycle_day") and "1-28" in r["error"]


@pytest.mark.req("R-CHK-02", "R-CHK-06", "R-CHK-09")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_override_needs_a_reason_from_the_list_and_never_passes_the_hard_limit(engines, engine,
                                                                              table_file):
    eng = engines[engine]
    base = {"crcl": "25", "prescribed_frequency": "every other day", "cycle_day": "1"}
    r = _check(eng, table_file, "len", "20", override_reason="protocol dose", **base)
    assert r["ok"] and r["check"]["override"] == "protocol dose", r
    assert r["check"]["limit"] == "soft"
    r = _check(eng, table_file, "len", "20", override_reason="because", **base)
    assert (r["ok"], r["field"]) == (False, "override_reason")
    r = _check(eng, table_file, "len", "35", override_reason="prescriber confirmed", **base)
    assert (r["ok"], r["field"]) == (False, "override_reason") and "hard limit" in r["error"]
    r = _check(eng, table_file, "len", "15", override_reason="other", **base)
    assert (r["ok"], r["field"]) == (False, "override_reason")  # nothing to override


@pytest.mark.req("R-CHK-04")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_uncertain_rule_cannot_be_checked_and_has_no_number(engines, engine, table_file):
    r = _check(engines[engine], table_file, "tec", "100", crcl="35",
               prescribed_frequency="weekly", cycle_day="1")
    c = r["check"]
    assert c["verdict"] == "not checkable" and r["doses"] == []
    assert all(c[k] is None for k in ("ceiling_x100", "within_x100", "soft_x100", "hard_x100"))
    assert not c["override_needed"]


@pytest.mark.req("R-CHK-07")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_per_m2_doses_use_the_capped_bsa_and_say_so(engines, engine, table_file):
    eng = engines[engine]
    # 120 kg, 190 cm: BSA sqrt(190 x 120 / 3600) = 2.52 m2 (Mosteller), above the 2.2 cap.
    r = eng.request({"op": "dose", "table_path": table_file, "drug": "bortezomib", "crcl": "70",
                     "weight": "120", "height": "190", "prescribed": "3.28"})
    assert (r["bsa_m2_x100"], r["bsa_used_x100"], r["bsa_capped"]) == (252, 220, True)
    assert r["doses"][0]["absolute_x100"] == 286  # 1.3 x 2.2 = 2.86 mg, not 1.3 x 2.52
    assert r["check"]["ceiling_x100"] == 286 and r["check"]["limit"] == "soft"  # 3.28 = +14.7 %
    # 70 kg, 170 cm: 1.82 m2, under the cap: used as it is.
    r = eng.request({"op": "dose", "table_path": table_file, "drug": "bortezomib", "crcl": "70",
                     "weight": "70", "height": "170"})
    assert (r["bsa_used_x100"], r["bsa_capped"]) == (182, False)
    # Not a per-m2 drug: no BSA used.
    r = eng.request({"op": "dose", "table_path": table_file, "drug": "len", "crcl": "70",
                     "weight": "120", "height": "190"})
    assert (r["bsa_used_x100"], r["bsa_capped"]) == (0, False)


ROUNDING = GOOD.replace(
    'standard = [{ amount = "10", unit = "mg", frequency = "daily" }]',
    'standard = [{ amount = "1", unit = "mg/kg", frequency = "daily" }]\n'
    'product = { form = "capsule", strengths_mg = ["25"], source = "s", where = "3" }\n'
    'soft_limit_pct = 20',
).replace('dose = [{ amount = "5", unit = "mg", frequency = "daily" }]',
          'dose = [{ amount = "0.5", unit = "mg/kg", frequency = "daily" }]')


@pytest.mark.req("R-CHK-02")
def test_a_dose_rounded_to_whole_capsules_is_within(tmp_path, engines):
    """1 mg/kg of a drug made only as 25 mg capsules, for 64 kg: 64 mg. The nearest
    whole-capsule dose is 75 mg (+17 %, within the drug's 20 % soft limit): a correct
    dose, within; 70 mg is nearer the number but cannot be given, and is flagged."""
    f = tmp_path / "r.toml"
    f.write_text(ROUNDING)
    table, problems = tables.load(f, today=dt.date(2026, 11, 26))
    assert problems == []
    b = tmp_path / "r.bin"
    b.write_bytes(tablebin.compile_table(table))
    for engine in ("micropython", "cpython"):
        def check(amount, eng=engines[engine]):
            r = eng.request({"op": "dose", "table_path": str(b), "drug": "drugx",
                                         "crcl": "50", "weight": "64", "height": "170",
                                         "prescribed": amount, "prescribed_frequency": "daily"})
            assert r["ok"], r
            return r["check"]

        assert (check("75")["verdict"], check("75")["flags"]) == ("within", [])
        assert (check("70")["verdict"], check("70")["flags"]) == ("above", ["strength"])
        assert check("100")["limit"] == "soft"  # two capsules: +56 %


@pytest.mark.req("R-CHK-09")
def test_dose_command_prints_the_check():
    res = mmrenal("dose", "len", "--crcl", "25", "--check", "15", "--frequency", "daily",
                  "--cycle-day", "24")
    assert res.returncode == 0, res.stderr
    assert "DOSE CHECK: DOES NOT MATCH the table" in res.stdout
    assert "table: every other day" in res.stdout and "days 1-21 of 28" in res.stdout
    assert "--override-reason" in res.stdout
    res = mmrenal("dose", "len", "--crcl", "25", "--check", "35")
    assert "DOSE CHECK: REFUSED" in res.stdout and "no override" in res.stdout
    res = mmrenal("dose", "elo", "--crcl", "70", "--weight", "70", "--height", "170", "--check",
                  "1400", "--regimen", "EPd C3+", "--frequency", "every 4 weeks", "--cycle-day", "1")
    assert "DOSE CHECK: WITHIN the renal dose (largest single dose 1400 mg" in res.stdout
    res = mmrenal("dose", "ide-cel", "--crcl", "45", "--check", "3")
    assert "CANNOT BE CHECKED" in res.stdout
    res = mmrenal("dose", "len", "--crcl", "25", "--check", "20", "--override-reason", "protocol dose",
                  "--frequency", "every other day", "--cycle-day", "2")
    assert res.returncode == 0 and "OVERRIDDEN: protocol dose" in res.stdout
    res = mmrenal("dose", "len", "--crcl", "25", "--frequency", "daily")
    assert res.returncode == 2 and "go with --check" in res.stderr


@pytest.mark.req("R-VTAB-02", "R-VTAB-03")
def test_dose_command_says_draft_first_and_names_the_table(tmp_path, signed):
    import json

    f = tmp_path / "t.bin"
    f.write_bytes(signed)
    res = mmrenal("dose", "len", "--crcl", "25", "--table", str(f))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("WARNING: DRAFT TABLE: not for patients"), res.stdout
    assert f"Table myeloma-renal v1 sha {_sha8(signed)}, approver none verified" in res.stdout
    res = mmrenal("dose", "len", "--crcl", "25", "--table", str(f), "--json")
    t = json.loads(res.stdout)["table"]
    assert (t["sha8"], t["banner"], t["verified"]) == (_sha8(signed), "draft", False)


@pytest.mark.req("R-CHK-01", "R-CHK-03")
def test_frequency_codes_and_words_agree_between_host_device_and_screens():
    """The host writes a frequency's code, the device compares codes and the check screen
    offers its own list: all three must name the same frequencies the same way."""
    dosing = load("dosing")
    ui_text = load("ui_text")
    device = {name: code for code, name in dosing.FREQUENCIES}
    host = {name: code for name, code in tables.FREQUENCY_CODE.items() if name}
    assert device == host
    for code, name in dosing.FREQUENCIES:
        assert ui_text.T["freq" + str(code)] == (name, tables.FREQUENCY_ZH[name])
