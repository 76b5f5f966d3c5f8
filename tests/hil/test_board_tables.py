"""Dose tables on the board: install into the standby slot, refusal of anything not
intact and approved, power cuts during an install, boot fallback, and every Table 1
cell looked up over the device protocol."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from mmrenal import deploy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import table1  # noqa: E402

QUIET = {"log": lambda *a, **k: None}


def _status(board) -> dict:
    with board.device() as dev:
        return dev.request({"op": "table_status"})


def _active(board) -> tuple | None:
    """(version, SHA-256 of the body) of the active table, None without one."""
    st = _status(board)
    if not st["active_slot"]:
        return None
    info = st[f"slot_{st['active_slot']}"]
    return info["version"], info["sha256"]


def _ident(data: bytes) -> tuple:
    body = data[64 : 64 + int.from_bytes(data[20:24], "little")]
    return int.from_bytes(data[8:12], "little"), hashlib.sha256(body).hexdigest()


def _wipe_tables(board):
    code = ("import os\nfor n in ('table_a.bin','table_b.bin','table.act','table.act.new'):\n"
            " try:\n  os.remove(n)\n except OSError:\n  pass")
    assert board.mpremote("exec", code, "+", "soft-reset").returncode == 0


@pytest.mark.req("R-TAB-06")
def test_no_valid_table_gives_no_doses_but_renal_works(trusted):
    _wipe_tables(trusted)
    with trusted.device() as dev:
        st = dev.request({"op": "table_status"})
        assert st["active_slot"] is None
        r = dev.request({"op": "dose", "drug": "lenalidomide", "crcl": "25"})
        assert r["ok"] is False and r["field"] == "table" and "no valid dose table" in r["error"]
        assert "doses" not in r
        assert dev.request({"op": "egfr", "age": "60", "sex": "M", "scr": "1.0",
                            "scr_unit": "mg/dL"})["ok"]
        assert "NO VALID DOSE TABLE" in dev.request({"op": "status"})["dose_table"]


@pytest.mark.req("R-DOSE-01", "R-TAB-03")
def test_install_then_every_table1_cell_over_the_protocol(trusted, signed_tables):
    after = deploy.flash_table(trusted.port, signed_tables.v1, **QUIET)
    assert after["slot_" + after["active_slot"]]["version"] == 1
    with trusted.device() as dev:
        for drug, value, dialysis, expected in table1.cases():
            keyed = "egfr" if drug == "melphalan" else "crcl"
            resp = dev.request({"op": "dose", "drug": drug, keyed: value, "dialysis": dialysis})
            assert resp["ok"], resp
            assert table1.matches(resp, expected) is None, (drug, value, dialysis, resp)
            assert resp["table"]["verified"] is True


@pytest.mark.req("R-TAB-05")
def test_older_version_refused_unless_forced(trusted, signed_tables):
    deploy.flash_table(trusted.port, signed_tables.v2, **QUIET)
    assert _active(trusted) == _ident(signed_tables.v2)
    with pytest.raises(deploy.DeployError, match="older than the active version"):
        deploy.flash_table(trusted.port, signed_tables.v1, **QUIET)
    assert _active(trusted) == _ident(signed_tables.v2)
    deploy.flash_table(trusted.port, signed_tables.v1, force=True, **QUIET)
    st = _status(trusted)
    assert st[f"slot_{st['active_slot']}"]["version"] == 1


@pytest.mark.parametrize("kind", ["unsigned", "foreign", "bitflip-header", "bitflip-body",
                                  "bitflip-signature", "truncated-body", "truncated-signature"])
@pytest.mark.req("R-TAB-02", "R-TAB-03", "R-TAB-04")
def test_bad_tables_are_refused_and_the_old_one_stays(trusted, signed_tables, kind):
    deploy.flash_table(trusted.port, signed_tables.v1, force=True, **QUIET)
    before = _active(trusted)
    assert before == _ident(signed_tables.v1)
    good = bytearray(signed_tables.v2)
    bad = {
        "unsigned": bytes(signed_tables.unsigned),
        "foreign": signed_tables.foreign,
        "bitflip-header": bytes(good[:8]) + bytes([good[8] ^ 0x01]) + bytes(good[9:]),
        "bitflip-body": bytes(good[:5000]) + bytes([good[5000] ^ 0x80]) + bytes(good[5001:]),
        "bitflip-signature": bytes(good[:-10]) + bytes([good[-10] ^ 0x04]) + bytes(good[-9:]),
        "truncated-body": bytes(good[:4000]),
        "truncated-signature": bytes(good[:-1]),
    }[kind]
    with pytest.raises(deploy.DeployError, match="refused the table"):
        deploy.flash_table(trusted.port, bad, **QUIET)
    assert _active(trusted) == before


@pytest.mark.req("R-TAB-04")
def test_power_cut_at_every_step_of_an_install(trusted, signed_tables, monkeypatch):
    board = trusted
    if not board.virtual:
        pytest.skip("needs the virtual board's power switch")
    monkeypatch.setattr(deploy, "STEP_TIMEOUT", 1)
    from support import SOAK

    size = len(signed_tables.v2)
    step = 256 if SOAK else 1024  # 256: every chunk mpremote writes
    points = [*range(0, size, step), size - 1, size, size + 1]  # size + 1: the pointer byte
    old, new = _ident(signed_tables.v1), _ident(signed_tables.v2)
    assert old != new
    outcomes = {"old": 0, "new": 0}
    for n in points:
        deploy.flash_table(board.port, signed_tables.v1, force=True, **QUIET)
        cuts = board.control("status")["power_cuts"]
        board.control(f"power-cut-after {n}")
        try:
            deploy.flash_table(board.port, signed_tables.v2, **QUIET)
        except deploy.DeployError:
            pass
        board.control("disarm")
        assert board.control("status")["power_cuts"] == cuts + 1, f"no cut at {n}"
        now = _active(board)
        assert now in (old, new), f"after a cut at byte {n}: active {now}"
        outcomes["new" if now == new else "old"] += 1
        with board.device() as dev:  # a whole table, usable
            r = dev.request({"op": "dose", "drug": "len", "crcl": "25"})
            assert r["ok"], (n, r)
    # Every cut before the pointer's rename leaves the old table; none leaves a mix.
    assert outcomes["old"] == len(points), outcomes


@pytest.mark.req("R-TAB-02", "R-TAB-04")
def test_boot_falls_back_to_the_other_good_slot(trusted, signed_tables):
    board = trusted
    if not board.virtual:
        pytest.skip("corrupts a slot on the virtual flash directly")
    deploy.flash_table(board.port, signed_tables.v1, force=True, **QUIET)
    deploy.flash_table(board.port, signed_tables.v2, **QUIET)
    st = _status(board)
    active = st["active_slot"]
    f = board.vd.flash / f"table_{active}.bin"
    data = bytearray(f.read_bytes())
    data[3000] ^= 0x10
    f.write_bytes(bytes(data))
    board.control("power-cut")  # boot re-checks the active slot
    st = _status(board)
    assert st["active_slot"] != active and st["fallback"] is True
    assert st[f"slot_{st['active_slot']}"]["version"] == 1
    assert any("SHA-256" in p or "CRC" in p for p in st["problems"])


@pytest.mark.req("R-TAB-08", "R-CLK-02")
def test_unset_clock_and_future_table_are_said_on_every_dose(trusted, signed_tables):
    """A Pico's clock restarts at 2021-01-01 after a power loss. Dose answers then say
    that the clock is not set instead of judging the table's dates by it (by 2021 the
    table would be 'not yet effective'); with the clock set before the table's effective
    date (2026-11-01) every dose says the table is not yet in effect."""
    board = trusted
    deploy.flash_table(board.port, signed_tables.v2, force=True, **QUIET)
    board.control("power-cut")  # cold boot: the RTC reads 2021-01-01
    try:
        with board.device() as dev:
            assert dev.request({"op": "status"})["clock_set"] is False
            for drug in ("lenalidomide", "ide-cel"):
                r = dev.request({"op": "dose", "drug": drug, "crcl": "50"})
                assert r["ok"], r
                t = r["table"]
                assert (t["clock_set"], t["expired"], t["not_yet_effective"]) == (False, False, False)
        import subprocess

        res = subprocess.run([sys.executable, "-m", "mmrenal", "dose", "len", "--crcl", "25", "--port",
                              board.port], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and "the device clock is not set" in res.stdout, res.stdout
        board.control("set-clock 2026-06-01T08:00:00")
        with board.device() as dev:
            assert dev.request({"op": "status"})["clock_set"] is True
            for drug in ("lenalidomide", "ide-cel"):
                t = dev.request({"op": "dose", "drug": drug, "crcl": "50"})["table"]
                assert (t["clock_set"], t["expired"], t["not_yet_effective"]) == (True, False, True)
    finally:
        board.control("set-clock 2026-11-26T08:00:00")


@pytest.mark.req("R-TAB-07")
def test_expired_table_warns_on_every_dose(trusted, signed_tables):
    board = trusted
    deploy.flash_table(board.port, signed_tables.v2, force=True, **QUIET)
    board.control("set-clock 2028-01-01T08:00:00")
    try:
        with board.device() as dev:
            for drug in ("lenalidomide", "bortezomib", "ide-cel"):
                r = dev.request({"op": "dose", "drug": drug, "crcl": "50"})
                assert r["ok"] and r["table"]["expired"] is True
    finally:
        board.control("set-clock 2026-11-26T08:00:00")


def test_table_commands_on_the_board(trusted, signed_tables, tmp_path):
    import subprocess

    deploy.flash_table(trusted.port, signed_tables.v1, force=True, **QUIET)
    res = subprocess.run([sys.executable, "-m", "mmrenal", "table", "show", "--port", trusted.port],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "active  slot" in res.stdout and "v1" in res.stdout
    f = tmp_path / "v2.bin"
    f.write_bytes(signed_tables.v2)
    res = subprocess.run([sys.executable, "-m", "mmrenal", "table", "flash", str(f), "--port",
                          trusted.port], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "v2" in res.stdout
    res = subprocess.run([sys.executable, "-m", "mmrenal", "dose", "len", "--crcl", "25", "--port",
                          trusted.port, "--json"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and '"amount": 15.0' in res.stdout


# --- the dose the board serves comes from its verified active table, always ------------


def _sha8(data: bytes) -> str:
    return _ident(data)[1][:8]


def _tampered(version: int) -> bytes:
    """The example table with lenalidomide at CrCl 15-29 at 150 mg instead of 15: the
    same layout, so its bytes in the table buffer would read as a plausible dose."""
    from decimal import Decimal

    from mmrenal import tablebin, tables

    table, _ = tables.load(tables.EXAMPLE)
    table.version = version
    band = next(b for d in table.drugs if d.inn == "lenalidomide" for b in d.bands if b.lo == 15)
    band.doses[0].amount = Decimal("150")
    return tablebin.compile_table(table)


def _put(board, name: str, data: bytes, tmp_path) -> None:
    """A file on the board's flash, then a soft reset (main.py serves again)."""
    local = tmp_path / name
    local.write_bytes(data)
    res = board.mpremote("cp", str(local), f":{name}", "+", "soft-reset")
    assert res.returncode == 0, res.stderr


LEN_25 = {"op": "dose", "drug": "lenalidomide", "crcl": "25"}


@pytest.mark.req("R-VTAB-01", "R-VTAB-02")
def test_no_request_sequence_changes_the_verified_table(trusted, signed_tables, tmp_path):
    """The reported defect on the board: files named by requests (a tampered table, the
    same with a bad CRC, the slots themselves), reloads, refused and accepted
    activations and power cuts, in a random order; after each, the active table is the
    one installed, by SHA-256, and the dose is its 15 mg, never the tampered 150 mg."""
    import random

    board = trusted
    deploy.flash_table(board.port, signed_tables.v1, force=True, **QUIET)
    tampered = _tampered(1)
    crc = bytearray(tampered)
    crc[24] ^= 0x01
    _put(board, "tampered.bin", tampered, tmp_path)
    _put(board, "tampered-crc.bin", bytes(crc), tmp_path)
    active = signed_tables.v1
    rng = random.Random(13)
    steps = ["path", "path", "reload", "install-good", "install-bad", "reboot"]
    for i in range(24):
        op = rng.choice(steps)
        with board.device() as dev:
            if op == "path":
                for name in ("tampered.bin", "/tampered-crc.bin", "table_a.bin", "table_b.bin"):
                    r = dev.request({**LEN_25, "table_path": name})
                    assert (r["ok"], r["field"]) == (False, "table_path"), (i, r)
            elif op == "reload":
                assert dev.request({"op": "table_reload"})["ok"]
        if op == "install-good":  # v1 and v2 in turn, forced: each is signed and intact
            active = signed_tables.v2 if active == signed_tables.v1 else signed_tables.v1
            deploy.flash_table(board.port, active, force=True, **QUIET)
        elif op == "install-bad":
            with pytest.raises(deploy.DeployError, match="refused the table"):
                deploy.flash_table(board.port, rng.choice([tampered, bytes(crc)]), force=True, **QUIET)
        elif op == "reboot":
            if board.virtual:
                board.control("power-cut")
            else:
                assert board.mpremote("soft-reset").returncode == 0
        assert _active(board) == _ident(active), (i, op)
        with board.device() as dev:
            r = dev.request(LEN_25)
        assert r["ok"] and r["doses"][0]["amount_x100"] == 1500, (i, op, r)
        assert (r["table"]["verified"], r["table"]["sha8"]) == (True, _sha8(active)), (i, op)


@pytest.mark.req("R-VTAB-02", "R-VTAB-03", "R-VTAB-04", "R-VTAB-05")
def test_banner_and_approver_come_from_the_verifying_key(trusted, signed_tables, tmp_path):
    """The session's key is a development key (tests make those): every dose carries
    DRAFT. A key installed with `mmrenal table trust` is an approver's: no banner, and
    the approver shown is that key's name, not the table's own approver text; expiry
    then shows EXPIRED. `mmrenal dose --port` says the banner first."""
    import subprocess

    from mmrenal import tablebin

    board = trusted

    def mmrenal(*args):
        res = subprocess.run([sys.executable, "-m", "mmrenal", *args], capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        return res.stdout

    deploy.flash_table(board.port, signed_tables.v1, force=True, **QUIET)
    with board.device() as dev:
        t = dev.request(LEN_25)["table"]
        st = dev.request({"op": "table_status"})
    assert (t["banner"], t["approver"], t["sha8"]) == ("draft", "hil-approver", _sha8(signed_tables.v1))
    info = st["slot_" + st["active_slot"]]
    assert (info["approver"], info["approver_role"], info["banner"]) == ("hil-approver", "dev", "draft")
    assert info["approver_claim"] == "to be approved by the institution's pharmacist"
    text = mmrenal("dose", "len", "--crcl", "25", "--port", board.port)
    assert text.splitlines()[0] == ("WARNING: DRAFT TABLE: not for patients "
                                    "(signed with a development key)"), text

    priv, pub = tablebin.keygen(tmp_path / "keys", "pharmacy")
    out = mmrenal("table", "trust", str(pub), "--port", board.port, "--name", "Pharmacy Lead")
    kid = tablebin.key_id(tablebin.load_public(pub)).hex()
    assert f"trusted approver key {kid} (Pharmacy Lead)" in out
    approved = tablebin.sign(signed_tables.unsigned, priv)
    deploy.flash_table(board.port, approved, force=True, **QUIET)
    try:
        board.control("set-clock 2026-11-26T08:00:00")
        with board.device() as dev:
            t = dev.request(LEN_25)["table"]
        assert (t["banner"], t["approver"], t["verified"]) == ("", "Pharmacy Lead", True)
        text = mmrenal("dose", "len", "--crcl", "25", "--port", board.port)
        assert "WARNING" not in text
        assert f"sha {_sha8(approved)}, approver Pharmacy Lead" in text
        show = mmrenal("table", "show", "--port", board.port)
        assert f"approver Pharmacy Lead (key {kid}; the table's own text: to be approved" in show
        board.control("set-clock 2028-01-01T08:00:00")
        with board.device() as dev:
            assert dev.request(LEN_25)["table"]["banner"] == "expired"
        text = mmrenal("dose", "len", "--crcl", "25", "--port", board.port)
        assert text.splitlines()[0].startswith("WARNING: TABLE EXPIRED"), text
        board.control("set-clock 2026-06-01T08:00:00")
        with board.device() as dev:
            assert dev.request(LEN_25)["table"]["banner"] == "not_effective"
    finally:
        board.control("set-clock 2026-11-26T08:00:00")
