"""The `mmrenal calc` command as nurses, pharmacists and scripts use it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

BASE = ["--age", "67", "--sex", "F", "--weight", "58", "--height", "160", "--scr", "1.4",
        "--scr-unit", "mg/dL", "--weight-policy", "bmi"]


def mmrenal(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "mmrenal", *args], capture_output=True,
                          text=True, input=stdin, timeout=120)


@pytest.mark.req("R-WT-02", "R-CALC-05")
@pytest.mark.parametrize("engine", ["micropython", "cpython"])
def test_crcl_json(engine):
    res = mmrenal("calc", "crcl", *BASE, "--json", "--engine", engine)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    # 67 y woman, 160 cm, 58 kg: BMI 22.7 -> min(IBW 52.4, 58) = IBW 52.39 kg;
    # (140 - 67) x 52.39 / (72 x 1.4) x 0.85 = 32.2 mL/min.
    assert out["crcl_ml_min"] == 32.2
    assert out["weight_policy"] == "bmi"
    assert out["weight_basis"] == "ideal"
    assert out["weight_used_kg"] == 52.4
    assert out["imwg_renal_impairment"] is True
    assert out["warnings"] == []
    assert out["engine"] == engine


@pytest.mark.req("R-DEV-01", "R-WT-02")
def test_engines_print_the_same():
    outs = {e: mmrenal("calc", "crcl", *BASE, "--engine", e).stdout for e in ("micropython", "cpython")}
    assert outs["micropython"] == outs["cpython"]
    assert "32.2 mL/min" in outs["micropython"]
    assert "ideal body weight" in outs["micropython"]


@pytest.mark.req("R-UNIT-02")
def test_umol_gives_same_as_mg():
    # 1.4 mg/dL = 123.76 umol/L; 123.8 umol/L is 1.4005 mg/dL: within 0.1 mL/min.
    mg = json.loads(mmrenal("calc", "egfr", "--age", "67", "--sex", "F", "--scr", "1.4",
                            "--scr-unit", "mg/dL", "--json").stdout)
    um = json.loads(mmrenal("calc", "egfr", "--age", "67", "--sex", "F", "--scr", "123.8",
                            "--scr-unit", "umol/L", "--json").stdout)
    assert abs(mg["egfr_ml_min_1_73m2"] - um["egfr_ml_min_1_73m2"]) <= 0.1


@pytest.mark.parametrize("args, field", [
    (["--age", "130"], "age"),
    (["--weight", "301"], "weight"),
    (["--height", "119"], "height"),
    (["--scr", "26"], "scr"),
    (["--scr-unit", "mmol/L"], "scr_unit"),
    (["--sex", "X"], "sex"),
])
@pytest.mark.req("R-IN-01", "R-UNIT-01")
def test_out_of_range_exits_2_naming_the_field(args, field):
    argv = list(BASE)
    flag = args[0]
    argv[argv.index(flag) + 1] = args[1]
    res = mmrenal("calc", "crcl", *argv)
    assert res.returncode == 2
    assert res.stdout == ""  # no number printed
    assert f"{field}:" in res.stderr


@pytest.mark.req("R-UNIT-01")
def test_missing_unit_is_refused_not_guessed():
    argv = BASE[: BASE.index("--scr-unit")] + BASE[BASE.index("--scr-unit") + 2 :]
    res = mmrenal("calc", "crcl", *argv, "--json")
    assert res.returncode == 2
    assert json.loads(res.stdout)["field"] == "scr_unit"
    assert "never guessed" in res.stderr


@pytest.mark.req("R-WARN-01", "R-CALC-06")
def test_history_with_rise_warns():
    res = mmrenal("calc", "crcl", *BASE, "--json", "--scr-time", "2026-11-26T08:00",
                  "--history", "2026-11-24T08:00=0.9")
    out = json.loads(res.stdout)
    # 1.4 / 0.9 = 1.56 x baseline within 7 days: KDIGO stage 1, rise 0.5 in 48 h.
    assert out["aki_stage"] == 1
    assert "cg_unreliable_aki" in out["warnings"]


@pytest.mark.req("R-WARN-02")
def test_dialysis_warns():
    out = json.loads(mmrenal("calc", "crcl", *BASE, "--json", "--dialysis").stdout)
    assert "cg_not_valid_dialysis" in out["warnings"]
    assert out["aki_stage"] == 3


@pytest.mark.req("R-IN-05")
def test_bad_history_time():
    res = mmrenal("calc", "crcl", *BASE, "--history", "yesterday=1.0")
    assert res.returncode == 2 and "history:" in res.stderr


@pytest.mark.req("R-CALC-03", "R-CALC-04")
def test_bsa_and_ibw():
    out = json.loads(mmrenal("calc", "bsa", "--weight", "80", "--height", "180", "--json").stdout)
    assert out["bsa_m2"] == 2.0  # sqrt(180 x 80 / 3600)
    out = json.loads(mmrenal("calc", "ibw", "--sex", "M", "--height", "177.8", "--json").stdout)
    assert out["ibw_kg"] == 73.0  # 50 + 2.3 x 10 in


@pytest.mark.req("R-CALC-06")
def test_aki_command():
    res = mmrenal("calc", "aki", "--scr-unit", "umol/L", "--sample", "2026-11-20T08:00=80",
                  "--sample", "2026-11-23T08:00=170", "--json")
    out = json.loads(res.stdout)
    assert out["aki_stage"] == 2  # 170 / 80 = 2.1 x baseline


@pytest.mark.req("R-IN-05", "R-IN-01", "R-UNIT-01", "R-UNIT-02")
def test_csv_batch_keeps_going(tmp_path):
    f = tmp_path / "ward.csv"
    f.write_text(
        "age,sex,weight_kg,height_cm,scr,scr_unit,weight_policy\n"
        "40,M,72,170,1.0,mg/dL,actual\n"
        "130,M,72,170,1.0,mg/dL,actual\n"
        "40,F,72,170,88.4,umol/L,actual\n"
        "40,F,72,170,1.0,,actual\n"
        "40,F,72,170,abc,mg/dL,\n"
    )
    res = mmrenal("calc", "crcl", "--csv", str(f))
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["crcl_ml_min"] == 100.0  # (140 - 40) x 72 / (72 x 1.0)
    assert rows[1]["field"] == "age" and "crcl_ml_min" not in rows[1]
    assert rows[2]["crcl_ml_min"] == 85.0  # 88.4 umol/L = 1.0 mg/dL, x 0.85
    assert rows[3]["field"] == "scr_unit"
    assert rows[4]["field"] == "scr"
    assert rows[2]["age"] == "40" and rows[2]["scr_unit"] == "umol/L"  # row fields echoed
    assert "5 rows, 2 computed, 3 refused" in res.stderr


@pytest.mark.req("R-IN-05")
def test_csv_egfr_and_missing_column(tmp_path):
    f = tmp_path / "e.csv"
    f.write_text("age,sex,scr,scr_unit\n40,F,0.7,mg/dL\n")
    rows = [json.loads(x) for x in mmrenal("calc", "egfr", "--csv", str(f)).stdout.splitlines()]
    assert len(rows) == 1 and rows[0]["egfr_ml_min_1_73m2"] > 0
    g = tmp_path / "bad.csv"
    g.write_text("age,sex,scr\n40,F,0.7\n")
    res = mmrenal("calc", "egfr", "--csv", str(g))
    assert res.returncode == 2 and "scr_unit" in res.stderr


@pytest.mark.req("R-WARN-01")
def test_demo_runs_on_micropython():
    res = mmrenal("demo")
    assert res.returncode == 0, res.stderr
    assert "micropython engine" in res.stdout
    assert "KDIGO AKI stage 2" in res.stdout
    assert "WARNING" in res.stdout


@pytest.mark.req("R-DEV-03")
def test_port_auto_without_a_board_exits_2():
    res = mmrenal("calc", "egfr", "--age", "60", "--sex", "F", "--scr", "1.0", "--scr-unit", "mg/dL",
                  "--port", "auto")
    assert res.returncode == 2
    assert "no board found" in res.stderr
    res = mmrenal("deploy", "--port", "auto")
    assert res.returncode == 2 and "no board found" in res.stderr
