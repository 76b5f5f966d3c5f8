"""`mmrenal flc ...`: FLC records on a board, and analysis of a CSV through the firmware.

`analyze` feeds a CSV file to the firmware's own tracker (a throw-away one, "scratch")
on the chosen engine, so the host shows exactly the kinetics the handheld computes, and
the day-21 status and its reason in the words of the device's screens (ui_text.py).
`pull` copies a board's journal into a folder, by sequence number, so a second pull
appends nothing twice; each person under a bed code (an episode) gets files of their
own, so two occupants of one bed never merge. `plot` draws one PNG per patient file.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

from mmrenal import clock
from mmrenal.engine import ENGINES

EXIT_INPUT = 2
EVENTS = ("chemo_start", "pe", "hco_hd", "hfr")
SESSIONS = ("pe", "hco_hd", "hfr")
CSV_COLUMNS = ("time", "kappa_mg_l", "lambda_mg_l", "lab", "event")


class CsvError(ValueError):
    pass


def _err(msg: str) -> None:
    print(f"mmrenal: {msg}", file=sys.stderr)


def _num(x100: int | None, places: int = 2) -> float | None:
    return None if x100 is None else round(x100 / 100, places)


def read_csv(path: str) -> tuple[int, list[dict], list[tuple[str, int, int]]]:
    """(treatment start, samples, sessions) from an FLC CSV, rows sorted by time."""
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("time", "kappa_mg_l", "lambda_mg_l") if c not in (reader.fieldnames or [])]
        if missing:
            raise CsvError(f"{path}: missing column(s) {', '.join(missing)}")
        for i, row in enumerate(reader, start=2):
            try:
                t = clock.to_minutes(row["time"])
            except ValueError as e:
                raise CsvError(f"{path}:{i}: time: {e}") from e
            event = (row.get("event") or "").strip()
            if event and event not in (*EVENTS, "session_end"):
                raise CsvError(f"{path}:{i}: event {event!r} is not one of "
                               f"{', '.join((*EVENTS, 'session_end'))}")
            rows.append((t, i, row, event))
    rows.sort(key=lambda r: (r[0], r[1]))
    start = 0
    samples, sessions = [], []
    open_session = None
    for t, i, row, event in rows:
        if event == "chemo_start" and not start:
            start = t
        elif event in SESSIONS:
            if open_session:
                sessions.append((open_session[0], open_session[1], 0))
            open_session = (event, t)
        elif event == "session_end":
            if not open_session:
                raise CsvError(f"{path}:{i}: session_end without a session before it")
            sessions.append((open_session[0], open_session[1], t))
            open_session = None
        k, lam = (row.get("kappa_mg_l") or "").strip(), (row.get("lambda_mg_l") or "").strip()
        if k or lam:
            if not (k and lam):
                raise CsvError(f"{path}:{i}: a sample needs both kappa_mg_l and lambda_mg_l")
            samples.append({"time": t, "kappa": k, "lambda": lam,
                            "lab": (row.get("lab") or "").strip().upper(), "row": i})
    if open_session:
        sessions.append((open_session[0], open_session[1], 0))
    return start, samples, sessions


def analyze(path: str, involved: str, engine: str = "micropython") -> dict:
    """The device's kinetics for a CSV file (raises CsvError naming row and field)."""
    from mmrenal.engine import Engine

    start, samples, sessions = read_csv(path)
    with Engine(engine) as eng:
        def send(req, where):
            resp = eng.request({**req, "scratch": True})
            if not resp.get("ok"):
                raise CsvError(f"{path}{where}: {resp.get('field')}: {resp.get('error')}")
            return resp

        reg = {"op": "flc_patient", "patient": "CSV-1", "involved": involved}
        if start:
            reg["start"] = start
        send(reg, "")
        for s in samples:
            send({"op": "flc_sample", "patient": "CSV-1", "time": s["time"], "kappa": s["kappa"],
                  "lambda": s["lambda"], "lab": s["lab"], "confirm": True}, f":{s['row']}")
        for kind, a, b in sessions:
            ev = {"op": "flc_event", "patient": "CSV-1", "event": kind, "start": a}
            if b:
                ev["end"] = b
            send(ev, "")
        return send({"op": "flc_kinetics", "patient": "CSV-1"}, "")


def _words(key: str) -> str:
    """The English words the device's screens show for a text key."""
    from mmrenal.firmware import load

    return load("ui_text").T[key][0]


def _two_figures(x100: int) -> str:
    from mmrenal.firmware import load

    return load("flc").two_figures(x100)


def public(k: dict) -> dict:
    """The kinetics as the JSON the issue names (mg/L, %, h, ISO dates)."""
    def iso(m):
        return None if m is None else clock.from_minutes(m)

    reason = k.get("on_track_reason")

    return {
        "involved": k["involved"],
        "samples": k["samples"],
        "treatment_start": iso(k.get("treatment_start")),
        "baseline_mg_l": _num(k.get("baseline_x100")),
        "latest_mg_l": _num(k.get("latest_x100")),
        "latest_time": iso(k.get("latest_time")),
        "reduction_pct": None if k.get("reduction_x10") is None else k["reduction_x10"] / 10,
        "dflc_mg_l": _num(k.get("dflc_x100")),
        "kl_ratio": None if k.get("kl_ratio_x1000") is None else k["kl_ratio_x1000"] / 1000,
        "kl_normal": k.get("kl_normal"),
        "kl_renal_range": k.get("kl_renal_range"),
        "trend": k.get("trend"),
        "last_change_pct": None if k.get("last_change_x10") is None else k["last_change_x10"] / 10,
        "half_life_h": None if not k.get("half_life_x10") else k["half_life_x10"] / 10,
        # As the device shows it: two significant figures, or why there is none.
        "half_life_text": (_two_figures(k["half_life_x100"]) + " h" if k.get("half_life_x100")
                           else _words("not_enough_data" if not k.get("fit_points")
                                       else "flc_r_not_falling")),
        "fit_points": k.get("fit_points"),
        "fit_r2": None if k.get("fit_r2_x1000") is None else k["fit_r2_x1000"] / 1000,
        "reached_60pct_date": iso(k.get("reached_60_at")),
        "projected_60pct_date": iso(k.get("projected_60")),
        "on_track_day21": k.get("on_track_day21"),
        "on_track_reason": reason,
        "on_track_reason_text": _words("flc_r_" + reason) if reason else None,
        "chain_doubt_samples": k.get("chain_doubt", 0),
        "episode": k.get("episode", 1),
        "labs": k.get("labs"),
        "labs_differ": k.get("labs_differ"),
        "sessions": [{"kind": kind, "start": iso(a), "end": iso(b),
                      "removal_pct": None if r is None else r / 10,
                      "rebound_pct": None if rb is None else rb / 10}
                     for kind, a, b, r, rb in k.get("sessions", [])],
    }


def text(p: dict) -> str:
    lines = [f"Involved FLC: {p['involved']}, {p['samples']} samples; treatment start "
             f"{p['treatment_start'] or 'not recorded'}"]
    if p["baseline_mg_l"] is not None:
        lines.append(f"Baseline {p['baseline_mg_l']} mg/L -> latest {p['latest_mg_l']} mg/L "
                     f"({p['latest_time']}): reduction {p['reduction_pct']}%")
    lines.append(f"dFLC {p['dflc_mg_l']} mg/L; kappa/lambda {p['kl_ratio']} "
                 f"({'normal' if p['kl_normal'] else 'abnormal'}; "
                 f"{'within' if p['kl_renal_range'] else 'outside'} the renal range 0.37-3.1)")
    if p["trend"]:
        lines.append(f"Last change {p['last_change_pct']}%: {p['trend'].upper()}"
                     + (" (within the 15% assay imprecision)" if p["trend"] == "no change" else ""))
    if p["half_life_h"]:
        lines.append(f"Half-life {p['half_life_text']} (fit of {p['fit_points']} samples, "
                     f"r2 {p['fit_r2']})")
    elif p["fit_points"]:
        lines.append("Half-life: not falling over the fit window")
    else:
        lines.append("Half-life: not enough data (fewer than 3 samples after treatment start)")
    if p["reached_60pct_date"]:
        lines.append(f"60% reduction first reached {p['reached_60pct_date']}")
    if p["projected_60pct_date"]:
        lines.append(f"60% reduction projected for {p['projected_60pct_date']}")
    if p["on_track_reason"]:
        status = {True: "ON TRACK", False: "NOT on track", None: "cannot tell yet"}[p["on_track_day21"]]
        lines.append(f"Day-21 target (>= 60%): {status}: {p['on_track_reason_text']}")
    if p["chain_doubt_samples"]:
        other = "lambda" if p["involved"] == "kappa" else "kappa"
        lines.append(f"WARNING: involved {p['involved']} below {other} in {p['chain_doubt_samples']} "
                     "sample(s): is the involved chain right (or the two values swapped)?")
    for s in p["sessions"]:
        lines.append(f"Session {s['kind']} {s['start']}: removal "
                     f"{s['removal_pct'] if s['removal_pct'] is not None else 'n/a'}%, rebound "
                     f"{s['rebound_pct'] if s['rebound_pct'] is not None else 'n/a'}%")
    if p["labs_differ"]:
        lines.append("WARNING: samples from different laboratories (" + ", ".join(p["labs"]) + ")")
    return "\n".join(lines)


def write_full_journal(folder: Path) -> dict:
    """The FLC journal at its documented capacity, written into `folder` (a board's
    flash) by the firmware's own store: 16 patients, each with 16 sessions, 16
    creatinine values and samples round the ward until the journal refuses one as full
    (6-character laboratory codes, codes of 12 characters where the pattern allows).
    Every patient's ring, session list and creatinine list is full: the most a replay
    can hold. Returns the store's status."""
    import os

    from mmrenal.firmware import load

    store = load("flcstore")
    flc = load("flc")
    here = os.getcwd()
    folder.mkdir(parents=True, exist_ok=True)
    os.chdir(folder)
    try:
        for name in (store.PATH, store.PATH + ".new"):
            if os.path.exists(name):
                os.remove(name)
        tr = store.Tracker()
        tr.boot()
        t0 = clock.to_minutes("2026-11-01T08:00")
        codes = [f"WARD-{100000 + i}" for i in range(store.MAX_PATIENTS)]
        for i, code in enumerate(codes):
            tr.add_patient(code, i % 2, t0)
            for k in range(flc.MAX_SESSIONS):
                tr.add_event(code, 2 + k % 3, t0 + k * 1440 + 60, t0 + k * 1440 + 300)
            for k in range(flc.MAX_SCR):
                tr.add_creatinine(code, t0 + k * 720, 300000 + k * 1000)  # nmol/L
        n = 0
        try:
            while True:
                code = codes[n % len(codes)]
                t = t0 - 600 + (n // len(codes)) * 30
                tr.add_sample(code, t, 100000 + n % 977, 900 + n % 131, f"LAB{n % 7:03d}", False)
                n += 1
        except store.StorageFull:
            pass
        st = tr.status()
        st["samples_written"] = n
        return st
    finally:
        os.chdir(here)


def cmd_analyze(a) -> int:
    try:
        k = analyze(a.csv, a.involved, a.engine)
    except (CsvError, OSError) as e:
        _err(str(e))
        return EXIT_INPUT
    p = public(k)
    print(json.dumps(p, ensure_ascii=False) if a.json else text(p))
    return 0


# --- board commands ----------------------------------------------------------


def _device(port):
    from mmrenal.device import Device

    return Device(port)


def cmd_add(a) -> int:
    def minutes(s, field):
        try:
            return clock.to_minutes(s)
        except ValueError as e:
            raise CsvError(f"{field}: {e}") from e

    try:
        if a.involved:
            req = {"op": "flc_patient", "patient": a.patient, "involved": a.involved}
            if a.start:
                req["start"] = minutes(a.start, "start")
            if a.new_episode:
                req["new_episode"] = True
        elif a.event:
            req = {"op": "flc_event", "patient": a.patient, "event": a.event,
                   "start": minutes(a.start, "start") if a.start else None}
            if a.end:
                req["end"] = minutes(a.end, "end")
        elif a.creatinine:
            req = {"op": "flc_creatinine", "patient": a.patient, "scr": a.creatinine,
                   "scr_unit": a.scr_unit, "time": minutes(a.time, "time") if a.time else None}
        else:
            req = {"op": "flc_sample", "patient": a.patient, "kappa": a.kappa, "lambda": a.lam,
                   "lab": (a.lab or "").upper(), "confirm": a.confirm,
                   "time": minutes(a.time, "time") if a.time else None}
    except CsvError as e:
        _err(str(e))
        return EXIT_INPUT
    with _device(a.port) as dev:
        resp = dev.request({k: v for k, v in req.items() if v is not None})
    if not resp.get("ok"):
        _err(f"{resp.get('field')}: {resp.get('error')}")
        return EXIT_INPUT
    if resp.get("repeat"):  # e.g. a retry after the answer was lost: one copy only
        print("already recorded: the board holds this record; nothing written")
    else:
        print(f"recorded (journal sequence {resp['seq']})")
    return 0


def cmd_list(a) -> int:
    with _device(a.port) as dev:
        if a.patient:
            k = dev.request({"op": "flc_kinetics", "patient": a.patient})
            if not k.get("ok"):
                _err(f"{k.get('field')}: {k.get('error')}")
                return EXIT_INPUT
            p = public(k)
            print(json.dumps(p, ensure_ascii=False) if a.json else text(p))
            return 0
        st = dev.request({"op": "flc_list"})
    if a.json:
        print(json.dumps(st))
        return 0
    print(f"{st['patients']} patients, {st['samples']} samples, {st['bytes']:,} of "
          f"{st['capacity']:,} bytes used, last sequence {st['last_seq']}")
    for code, chain, t0, count, last, *more in st["patient_list"]:
        episode = more[0] if more else 1
        print(f"  {code:12} {chain:6} start {clock.from_minutes(t0) if t0 else '-':16} "
              f"{count:5} samples, latest {clock.from_minutes(last) if last >= 0 else '-'}"
              + (f" (person {episode} in this bed)" if episode > 1 else ""))
    if st["damaged"]:
        print(f"WARNING: damaged journal bytes found at boot and skipped: {st['damaged']}")
    return 0


def pull(port: str, out: Path, acknowledge: bool = True) -> tuple[int, int]:
    """Append the board's new journal records to OUT/records.jsonl, rewrite the
    per-patient CSV and JSON files, make them durable (fsync), and only then acknowledge
    them to the board (flc_ack), which may then remove the records of closed episodes.
    Returns (new records, total records).

    The pull starts from the board's acknowledged point when the folder is ahead of it:
    records the folder already holds must come back identical, or the folder holds
    another board's records and nothing is written or acknowledged."""
    out.mkdir(parents=True, exist_ok=True)
    store = out / "records.jsonl"
    have = [json.loads(x) for x in store.read_text().splitlines()] if store.exists() else []
    by_seq = {r["seq"]: r for r in have}
    new = []
    with _device(port) as dev:
        atoms = device_code_atoms(dev)
        st = dev.request({"op": "flc_list"})
        if not st.get("ok"):
            raise CsvError(f"pull: {st.get('field')}: {st.get('error')}")
        since = min(max(by_seq, default=0), st.get("acked_through", 0))
        start = since
        while True:
            resp = dev.request({"op": "flc_pull", "since": since, "limit": 40})
            if not resp.get("ok"):
                raise CsvError(f"pull: {resp.get('field')}: {resp.get('error')}")
            for rec in resp["records"]:
                r = _record_dict(rec)
                if r["seq"] in by_seq:
                    if by_seq[r["seq"]] != r:
                        raise CsvError(
                            f"pull: record {r['seq']} in {store} differs from the board's: this "
                            "folder holds another board's (or another journal's) records; pull "
                            "into an empty folder (nothing was written or acknowledged)")
                else:
                    new.append(r)
                since = rec[0]
            if not resp["more"]:
                break
        with store.open("a") as f:
            for r in new:
                f.write(json.dumps(r) + "\n")
            f.flush()
            os.fsync(f.fileno())
        write_patient_files(out, have + new, atoms)
        _fsync_dir(out)
        if acknowledge and since > start:
            # Everything from the board's acknowledged point through `since` is in files
            # on disk now: the board may remove what it no longer needs.
            ack = dev.request({"op": "flc_ack", "through": since}, wait=120)
            if not ack.get("ok"):
                raise CsvError(f"acknowledge: {ack.get('field')}: {ack.get('error')} (the "
                               f"records are in {out}; nothing was removed from the board)")
    return len(new), len(have) + len(new)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def discharge(port: str, patient: str) -> dict:
    with _device(port) as dev:
        return dev.request({"op": "flc_discharge", "patient": patient})


def cmd_discharge(a) -> int:
    resp = discharge(a.port, a.patient)
    if not resp.get("ok"):
        _err(f"{resp.get('field')}: {resp.get('error')}")
        return EXIT_INPUT
    print(f"{a.patient} discharged (journal sequence {resp['seq']}): the place is free now; "
          f"{resp['not_acked']} records on the board are not yet pulled and acknowledged. "
          "Their space is freed at the next `mmrenal flc pull`.")
    return 0


def device_code_atoms(dev) -> str:
    """The patient code pattern in force on the board (its active table's, compiled),
    else the firmware's default."""
    from mmrenal.firmware import load

    st = dev.request({"op": "table_status"})
    info = st.get(f"slot_{st.get('active_slot')}") if st.get("ok") else None
    atoms = info.get("patient_atoms") if isinstance(info, dict) else None
    return atoms or load("flc").PATIENT_ATOMS


# Fields of each pulled record after [seq, kind, code]; every record ends with its
# episode (1: the bed's first person under that code, 2: the next, ...).
_FIELDS = {
    "patient": ("involved", "start"),
    "episode": ("involved", "start"),  # a new person in this bed
    "sample": ("time", "kappa_x100", "lambda_x100", "lab"),
    "event": ("event", "start", "end"),
    "creatinine": ("time", "nmol_l"),
    "discharge": (),  # the episode was closed on the board
}


def _record_dict(rec: list) -> dict:
    seq, kind, code = rec[0], rec[1], rec[2]
    if kind not in _FIELDS:
        raise CsvError(f"pull: record {seq} is of an unknown kind {kind!r}: update mmrenal")
    names = _FIELDS[kind]
    out = {"seq": seq, "type": kind, "patient": code}
    out.update(zip(names, rec[3:3 + len(names)], strict=True))
    out["episode"] = rec[3 + len(names)] if len(rec) > 3 + len(names) else 1
    return out


def episode_stem(code: str, episode: int) -> str:
    """BED-12 for the bed's first person, BED-12.e2 for the next: never the same file."""
    return code if episode <= 1 else f"{code}.e{episode}"


def file_stem(code: str, episode: int, first_seq: int, atoms: str | None = None) -> str:
    """The file name of a person's records: their code when it is of the board's code
    pattern (`atoms`, compiled; default the firmware's), else "code-refused-s<seq>",
    named by their first record's sequence number: a code kept from before the pattern
    (a name, a date of birth) never becomes a file name. The records keep the code."""
    from mmrenal.firmware import load

    flc = load("flc")
    if flc.fits(atoms or flc.PATIENT_ATOMS, code):
        return episode_stem(code, episode)
    return f"code-refused-s{first_seq}"


def write_patient_files(out: Path, records: list[dict], atoms: str | None = None) -> None:
    # Each person gets files of their own. The person is counted here, from the records
    # in sequence order, not only taken from the board: a board forgets a discharged
    # code, so the next person registered under it is its "episode 1" again.
    by_patient: dict[tuple[str, int], list[dict]] = {}
    person: dict[str, int] = {}
    closed: set[str] = set()
    for r in sorted(records, key=lambda r: r["seq"]):
        code = r["patient"]
        if r["type"] == "episode" or (r["type"] == "patient" and (code not in person or code in closed)):
            person[code] = max(person.get(code, 0) + 1, r.get("episode", 1))
        closed.discard(code)
        if r["type"] == "discharge":
            closed.add(code)
        by_patient.setdefault((code, person.get(code, r.get("episode", 1))), []).append(r)
    for (code, episode), recs in by_patient.items():
        rows = []
        involved = "kappa"
        for r in recs:
            if r["type"] in ("patient", "episode"):
                involved = r["involved"]
                if r["start"]:
                    rows.append((r["start"], "", "", "", "chemo_start"))
            elif r["type"] == "sample":
                rows.append((r["time"], f"{r['kappa_x100'] / 100:.2f}", f"{r['lambda_x100'] / 100:.2f}",
                             r["lab"], ""))
            elif r["type"] == "event":
                rows.append((r["start"], "", "", "", r["event"]))
                if r["end"] and r["event"] in SESSIONS:
                    rows.append((r["end"], "", "", "", "session_end"))
        rows.sort(key=lambda x: x[0])
        stem = file_stem(code, episode, recs[0]["seq"], atoms)
        with (out / f"{stem}.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(CSV_COLUMNS)
            for t, k, lam, lab, ev in rows:
                w.writerow((clock.from_minutes(t), k, lam, lab, ev))
        (out / f"{stem}.json").write_text(json.dumps(
            {"patient": code, "episode": episode, "involved": involved, "records": recs}, indent=1))


def cmd_pull(a) -> int:
    try:
        new, total = pull(a.port, Path(a.output))
    except CsvError as e:
        _err(str(e))
        return EXIT_INPUT
    print(f"pulled {new} new records into {a.output} ({total} in all)")
    return 0


def plot(csv_path: str, involved: str, png: Path, engine: str = "cpython") -> Path:
    """One patient's PNG: involved FLC on a log axis, the 60% target, treatment start,
    sessions, and the fitted half-life line."""
    import datetime as dt

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start, samples, sessions = read_csv(csv_path)
    k = analyze(csv_path, involved, engine)
    p = public(k)
    key = "kappa" if involved == "kappa" else "lambda"
    when = [dt.datetime.fromisoformat(clock.from_minutes(s["time"])) for s in samples]
    vals = [float(s[key]) for s in samples]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.semilogy(when, vals, "o-", color="#1f4e79", label=f"involved {involved} FLC (mg/L)")
    if p["baseline_mg_l"]:
        ax.axhline(p["baseline_mg_l"] * 0.4, color="#2e7d32", ls="--",
                   label=f"60% reduction target ({p['baseline_mg_l'] * 0.4:.1f} mg/L)")
    if start:
        ax.axvline(dt.datetime.fromisoformat(clock.from_minutes(start)), color="#b71c1c", ls=":",
                   label="treatment start")
    for i, (_kind, a, b) in enumerate(sessions):
        ax.axvspan(dt.datetime.fromisoformat(clock.from_minutes(a)),
                   dt.datetime.fromisoformat(clock.from_minutes(b or a + 300)), color="#ff9800",
                   alpha=0.3, label="extracorporeal session" if i == 0 else None)
    if p["half_life_h"] and k.get("fit_latest_x100"):
        t1 = k["latest_time"]
        t_a = k["fit_from"]
        c1 = k["fit_latest_x100"] / 100
        c_a = c1 * 2 ** ((t1 - t_a) / 60 / p["half_life_h"])
        ax.semilogy([dt.datetime.fromisoformat(clock.from_minutes(t_a)),
                     dt.datetime.fromisoformat(clock.from_minutes(t1))], [c_a, c1], "-",
                    color="#6a1b9a", label=f"fit: half-life {p['half_life_h']} h")
    ax.set_ylabel("mg/L (log scale)")
    status = {None: "cannot tell yet", True: "on track", False: "NOT on track"}[p["on_track_day21"]]
    ax.set_title(f"{Path(csv_path).stem}: reduction {p['reduction_pct']}%  day-21: {status}"
                 + (f" ({p['on_track_reason_text']})" if p["on_track_reason_text"] else ""))
    ax.legend(fontsize=8, loc="best")
    ax.grid(True, which="both", alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)
    return png


def cmd_plot(a) -> int:
    jobs = []
    if a.csv:
        jobs.append((a.csv, a.involved or "kappa", Path(a.output or Path(a.csv).with_suffix(".png"))))
    else:
        folder = Path(a.dir)
        for c in sorted(folder.glob("*.csv")):
            meta = c.with_suffix(".json")
            involved = json.loads(meta.read_text())["involved"] if meta.exists() else "kappa"
            jobs.append((str(c), involved, c.with_suffix(".png")))
    try:
        for path, involved, png in jobs:
            print(f"wrote {plot(path, involved, png, a.engine)}")
    except (CsvError, OSError) as e:
        _err(str(e))
        return EXIT_INPUT
    return 0


def setup_flc(sub) -> None:
    p = sub.add_parser("flc", help="free light chains: records on a board, CSV analysis, plots")
    s = p.add_subparsers(dest="action", required=True)
    c = s.add_parser("analyze", help="the device's kinetics for a CSV file")
    c.add_argument("--csv", required=True)
    c.add_argument("--involved", required=True, choices=("kappa", "lambda"))
    c.add_argument("--engine", choices=ENGINES, default="micropython")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_analyze)
    c = s.add_parser("add", help="record on a board: a patient (--involved), a sample "
                     "(--kappa/--lambda), a session or chemo start (--event), a creatinine")
    c.add_argument("--port", required=True)
    c.add_argument("--patient", required=True, help="bed or study number, never a name")
    c.add_argument("--involved", choices=("kappa", "lambda"), help="register the patient")
    c.add_argument("--new-episode", action="store_true",
                   help="with --involved: a new person under a bed code in use (the earlier "
                        "person's records are kept apart, never merged)")
    c.add_argument("--start", help="treatment or session start (ISO 8601)")
    c.add_argument("--end", help="session end (ISO 8601)")
    c.add_argument("--event", choices=EVENTS)
    c.add_argument("--time", help="sample time (ISO 8601)")
    c.add_argument("--kappa", help="kappa FLC, mg/L")
    c.add_argument("--lambda", dest="lam", help="lambda FLC, mg/L")
    c.add_argument("--lab", help="laboratory code")
    c.add_argument("--confirm", action="store_true", help="record a sample dated before the latest")
    c.add_argument("--creatinine", help="serum creatinine (with --scr-unit and --time)")
    c.add_argument("--scr-unit")
    c.set_defaults(func=cmd_add)
    c = s.add_parser("list", help="patients on a board, or one patient's kinetics")
    c.add_argument("--port", required=True)
    c.add_argument("--patient")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_list)
    c = s.add_parser("pull", help="copy a board's records into a folder (CSV and JSON), then "
                     "acknowledge them so the board can free discharged patients' space")
    c.add_argument("--port", required=True)
    c.add_argument("-o", "--output", required=True)
    c.set_defaults(func=cmd_pull)
    c = s.add_parser("discharge", help="close a patient's episode on a board: the place is free "
                     "at once, the records' space after the next pull")
    c.add_argument("patient", help="the bed or study code")
    c.add_argument("--port", required=True)
    c.set_defaults(func=cmd_discharge)
    c = s.add_parser("plot", help="a PNG per patient")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--csv", help="one patient's CSV")
    g.add_argument("--dir", help="a folder from `flc pull`")
    c.add_argument("--involved", choices=("kappa", "lambda"))
    c.add_argument("-o", "--output", help="PNG path (with --csv)")
    c.add_argument("--engine", choices=ENGINES, default="cpython")
    c.set_defaults(func=cmd_plot)

