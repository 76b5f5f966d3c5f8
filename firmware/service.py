"""Requests and answers for the host tools: one dict in, one dict out.

The same handler serves the host's engines (CPython in-process, MicroPython over a
pipe) and, later, the USB serial port, so every path computes through this code.
Numbers cross as fixed-point integers (the key's suffix gives the scale) or as exact
decimal text; a refused input answers {"ok": false, "field": ..., "error": ...}.
"""

# First: the active table's buffer (16 KB, one block) comes from the fresh heap, before
# the rest of the firmware's code can leave it without a free block that large.
import tablestore  # noqa: I001

import gc
import os
import sys

import body
import clock
import dosetable
import dosing
import flc
import flcstore
import journal
import kdigo
import limits
import renal
from egfr import egfr
from limits import InputError

FIRMWARE_VERSION = "0.1.0"
PROTOCOL_VERSION = 1
MAX_SERIES = 64  # creatinine samples one request may carry

CRCL = ("crcl", "mL/min", 1, 0, 9999)
EGFR = ("egfr", "mL/min/1.73 m2", 1, 0, 9999)
PRESCRIBED = ("prescribed", "", 2, 1, 99999999)
CYCLE_DAY = ("cycle_day", "", 0, 1, 56)  # a day of the treatment cycle (tables.MAX_CYCLE)

_renal = renal.Renal()
_store = None  # the device's table slots, booted on first use (main.py boots it at start)
_tracker = None  # the device's FLC records (journal on flash)
_scratch = None  # an in-memory tracker for the host's `flc analyze` (never written)
_table_file = None  # host engines only (serve.py): path -> Table, read into its own memory
_aki = kdigo.Aki()
_safe = ""  # why the device started in safe mode ("" when it started normally)
_audit_on = True  # the device's audit log; host engines keep none (allow_table_files)
# What a device in safe mode still answers: enough for `mmrenal doctor` to say what
# failed, and for the host to pull every record off it (no record is stranded).
SAFE_OPS = ("version", "status", "flc_pull", "audit_pull", "board_check")
PULL_PAGE = 25  # FLC records in one flc_pull answer (docs/protocol.md: its largest answer)
_times = [0] * MAX_SERIES
_values = [0] * MAX_SERIES


def _get(req, key, default=None):
    v = req.get(key, default)
    if v is None:
        raise InputError(key, "missing")
    return v


def _policy(req):
    name = req.get("weight_policy") or "actual"
    if name in body.POLICY_NAMES:
        return body.POLICY_NAMES.index(name)
    raise InputError("weight_policy", repr(name) + " is not one of " + ", ".join(body.POLICY_NAMES))


def _flag(req, key):
    v = req.get(key, False)
    if v is True or v is False:
        return v
    raise InputError(key, "must be true or false")


def _minutes(v, field):
    if isinstance(v, bool) or not isinstance(v, int):
        raise InputError(field, "time must be whole minutes since 2000-01-01")
    return limits.check(limits.MINUTES, v)


def _series(req, unit, extra_time, extra_value):
    """Load history (+ the current sample) into the preallocated arrays, oldest first."""
    hist = req.get("history") or []
    if not isinstance(hist, list):
        raise InputError("history", "must be a list of [minutes, value] pairs")
    n = len(hist) + (1 if extra_value else 0)
    if n > MAX_SERIES:
        raise InputError("history", "at most " + str(MAX_SERIES) + " creatinine samples")
    pairs = []
    for item in hist:
        if not isinstance(item, list) or len(item) != 2:
            raise InputError("history", "each sample is [minutes, value]")
        pairs.append((_minutes(item[0], "history"), limits.scr_nmol(item[1], unit)))
    if extra_value:
        pairs.append((extra_time, extra_value))
    pairs.sort()
    for i in range(n):
        _times[i] = pairs[i][0]
        _values[i] = pairs[i][1]
    return n


def _aki_fields(out):
    out["aki_stage"] = _aki.stage
    out["aki_criterion"] = kdigo.CRITERION_NAMES[_aki.criterion]
    return out


def _op_version(req):
    return {
        "ok": True,
        "firmware": FIRMWARE_VERSION,
        "protocol": PROTOCOL_VERSION,
        "engine": sys.implementation.name,
    }


def _op_status(req):
    """What `mmrenal doctor` shows: versions, memory, flash and clock."""
    gc.collect()
    out = _op_version(req)
    out["micropython"] = sys.version
    out["platform"] = sys.platform
    out["mpy"] = getattr(sys.implementation, "_mpy", 0)
    out["heap_free"] = gc.mem_free() if hasattr(gc, "mem_free") else -1
    try:
        st = os.statvfs("/")
        out["flash_free"] = st[0] * st[3]
        out["flash_total"] = st[0] * st[2]
    except (AttributeError, OSError):
        out["flash_free"] = out["flash_total"] = -1
    out["clock"] = clock.iso(clock.now())
    out["clock_set"] = clock.is_set()
    out["safe_mode"] = _safe
    if _safe:  # the table store may be what failed: not touched again
        out["dose_table"] = "not loaded: the device is in safe mode"
        return out
    st = store()
    t = st.table
    out["dose_table"] = (
        t.id + " v" + str(t.version) + " (slot " + st.slot + ", sha " + tablestore.sha8(t)
        + ", expires " + clock.iso(t.expires * 1440)[:10] + ")"
        if t else "NO VALID DOSE TABLE: " + "; ".join(st.problems)
    )
    return out


def store():
    global _store
    if _store is None:
        _store = tablestore.Store()
        _boot(_store)
    return _store


def _boot(st):
    """(Re)load the active table, and with it the institution's code policy for the
    records (flc.set_code_policy; the defaults without a table)."""
    st.boot()
    _codes(st)


def _codes(st):
    flc.set_code_policy(*(st.table.codes if st.table else ()))


def allow_table_files(loader):
    """Host engines only (firmware/serve.py, never on a board): requests may name a
    table file ("table_path") that `loader(path)` reads into memory of its own and
    checks for integrity. Nothing on the device calls this, so a board refuses every
    such request and answers only from its verified active table. A host engine
    keeps no audit log: its look-ups are not the device's doses."""
    global _table_file, _audit_on
    _table_file = loader
    _audit_on = False


def safe_mode(reason):
    """Start-up failed (main.py): forget the half-built table store and tracker, and
    from now on answer only SAFE_OPS, saying why (status "safe_mode")."""
    global _safe, _store, _tracker
    _safe = reason or "start-up failed"
    _store = None
    _tracker = None
    gc.collect()


def _audit(kind, text):
    # A note ("clock", "table": audit.KINDS) in the device's audit log; never raises,
    # and host engines keep none.
    if _audit_on:
        import audit

        audit.link_note(kind, text)


def _table_for(req):
    """(table, verified): the device's active table, or (host engines) a file's."""
    path = req.get("table_path")
    if path is not None:
        if _table_file is None:
            raise InputError("table_path", "this device doses only from its verified active "
                             "table; it reads no other table file (install one: mmrenal table flash)")
        if not isinstance(path, str):
            raise InputError("table_path", "must be a file path")
        return _table_file(path), False
    st = store()
    if st.table is None:
        raise InputError("table", "no valid dose table (" + "; ".join(st.problems) + "): no doses")
    if not st.intact():  # never expected: only the store writes the table buffer
        _boot(st)
        raise InputError("table", "the table in memory no longer matched the verified table: "
                         "reloaded it from flash; ask again")
    return st.table, True


def _table_brief(t, verified):
    """What every dose answer says about its table: which one (sha8: the first 8 hex
    digits of its body SHA-256), whose key verified it, and the banner every dose
    from it must carry (draft / expired / not_effective, or ""). Without a set clock
    the dates cannot be judged, and the answer says so rather than guessing."""
    today = clock.now() // 1440
    known = clock.is_set()
    signer = t.signer if verified else None
    return {"id": t.id, "version": t.version, "verified": verified, "clock_set": known,
            "expired": known and today > t.expires,
            "not_yet_effective": known and today < t.effective,
            "expires": clock.iso(t.expires * 1440)[:10], "sha8": tablestore.sha8(t),
            "banner": tablestore.banner(t, today if known else None) if verified
            else tablestore.DRAFT,
            "approver": signer[0] if signer else ""}


def _opt(req, spec):
    v = req.get(spec[0])
    return None if v is None else limits.parse(spec, v)


def _op_dose(req):
    table, verified = _table_for(req)
    name = _get(req, "drug")
    if not isinstance(name, str):
        raise InputError("drug", "a drug name (INN, Chinese name or alias)")
    dialysis = _flag(req, "dialysis")
    crcl = _opt(req, CRCL)
    egfr_x10 = _opt(req, EGFR)
    weight = _opt(req, limits.WEIGHT)
    height = _opt(req, limits.HEIGHT)
    bsa = body.bsa(weight, height) if weight and height else 0
    out = dosing.dose_for(table, name, crcl, egfr_x10, dialysis, bsa, weight or 0)
    out["ok"] = True
    out["bsa_m2_x100"] = bsa
    out["weight_kg_x10"] = weight or 0
    out["table"] = _table_brief(table, verified)
    prescribed = 0
    if req.get("prescribed") is not None:
        out["check"] = _dose_check(req, out)
        prescribed = limits.parse(PRESCRIBED, req["prescribed"])
    if verified and _audit_on:
        # Every dose the device answers is in its audit log, as the screens' are; a full
        # log does not withhold the dose (the answer says "audited": false).
        import audit

        out["audited"] = audit.link_dose(req.get("patient"), out, crcl, egfr_x10, dialysis,
                                         table.version, prescribed)
    return out


def _dose_check(req, result):
    """The dose check of a prescribed single dose, its frequency and cycle day (each
    compared when given), with an override reason when one is given."""
    unit = req.get("prescribed_unit") or "mg"
    if unit not in dosetable.UNIT_NAMES:
        raise InputError("prescribed_unit", "one of " + ", ".join(dosetable.UNIT_NAMES))
    regimen = req.get("regimen") or ""
    if not isinstance(regimen, str):
        raise InputError("regimen", "a regimen's label, such as iv or 20/56")
    freq = req.get("prescribed_frequency")
    if freq is not None:
        try:
            freq = dosing.frequency_code(freq)
        except InputError as e:
            raise InputError("prescribed_frequency", e.message) from None
    day = _opt(req, CYCLE_DAY)
    check = dosing.check_dose(result, limits.parse(PRESCRIBED, req["prescribed"]), unit, regimen,
                              freq, day)
    reason = req.get("override_reason")
    if reason is not None:
        dosing.override(check, reason)
    return check


def _op_drugs(req):
    table, verified = _table_for(req)
    names = []
    for inn, _ in table.drugs:
        d = table.drug(inn)
        names.append([inn, d["zh"], d["keyed_to"]])
    return {"ok": True, "drugs": names, "table": _table_brief(table, verified)}


def _op_table_status(req):
    st = store()
    out = {"ok": True, "active_slot": st.slot, "standby_slot": st.standby(),
           "fallback": st.fallback, "problems": st.problems}
    for slot in tablestore.SLOTS:
        if slot == st.slot:
            info = st.table.info()
            brief = _table_brief(st.table, True)
            for key in ("expired", "clock_set", "sha8", "banner"):
                info[key] = brief[key]
            out["slot_" + slot] = info
        else:
            out["slot_" + slot] = st.describe(slot)
    return out


def _op_table_activate(req):
    st = store()
    slot = _get(req, "slot")
    force = _flag(req, "force")
    try:
        t = st.activate(slot, force)
    except dosetable.TableError as e:
        _audit("table", "refused slot " + str(slot)[:4] + ": " + str(e))
        return {"ok": False, "field": "table", "error": str(e)}
    _codes(st)
    _audit("table", "active " + st.slot + (" (forced): " if force else ": ") + t.id + " v"
                 + str(t.version) + " " + tablestore.sha8(t))
    return {"ok": True, "active_slot": st.slot, "version": t.version, "id": t.id}


def tracker(req=None):
    """The FLC tracker: the device's own, or with "scratch": true the host's
    throw-away one (analysis of a CSV file through this same code)."""
    global _tracker, _scratch
    if req is not None and req.get("scratch") is True:
        if _scratch is None:
            _scratch = flcstore.Tracker(None)
        return _scratch
    if _tracker is None:
        _tracker = flcstore.Tracker()
        _tracker.boot()
    return _tracker


def _flc_value(req, key):
    return limits.parse((key,) + flc.FLC[1:], _get(req, key))


def _flc_write(fn):
    try:
        seq = fn()
    except journal.Full as e:
        # The tracker's own words say how to free space (pull, then discharge).
        return {"ok": False, "field": "storage", "error": "storage full (nothing was written): " + str(e)}
    if seq == flcstore.REPEAT:
        return {"ok": True, "seq": None, "repeat": True}  # recorded before: nothing written
    return {"ok": True, "seq": seq}


def _op_flc_patient(req):
    tr = tracker(req)
    code = _get(req, "patient")
    chain = _get(req, "involved")
    if chain not in flc.CHAINS:
        raise InputError("involved", "kappa or lambda")
    start = req.get("start")
    t0 = _minutes(start, "start") if start is not None else 0
    new = _flag(req, "new_episode")  # a new person under a code in use (flcstore)
    return _flc_write(lambda: tr.add_patient(code, flc.CHAINS.index(chain), t0, new))


def _op_flc_sample(req):
    tr = tracker(req)
    code = _get(req, "patient")
    t = _minutes(_get(req, "time"), "time")
    kappa = _flc_value(req, "kappa")
    lam = _flc_value(req, "lambda")
    lab = req.get("lab") or ""
    return _flc_write(lambda: tr.add_sample(code, t, kappa, lam, lab, _flag(req, "confirm")))


def _op_flc_event(req):
    tr = tracker(req)
    kind = _get(req, "event")
    if kind not in flc.EVENTS[1:]:
        raise InputError("event", "one of " + ", ".join(flc.EVENTS[1:]))
    start = _minutes(_get(req, "start"), "start")
    end = req.get("end")
    end = _minutes(end, "end") if end is not None else 0
    return _flc_write(lambda: tr.add_event(_get(req, "patient"), flc.EVENTS.index(kind), start, end))


def _op_flc_creatinine(req):
    tr = tracker(req)
    unit = limits.parse_unit(req.get("scr_unit"))
    nmol = limits.scr_nmol(_get(req, "scr"), unit)
    t = _minutes(_get(req, "time"), "time")
    return _flc_write(lambda: tr.add_creatinine(_get(req, "patient"), t, nmol))


def _op_flc_kinetics(req):
    tr = tracker(req)
    code = _get(req, "patient")
    out = flc.kinetics(tr.patient(code), clock.now())
    series = sorted(tr.creatinine.get(code) or [])  # recorded creatinine feeds KDIGO
    n = len(series)
    for i in range(n):
        _times[i] = series[i][0]
        _values[i] = series[i][1]
    kdigo.stage(_aki, _times, _values, n, False)
    out["creatinine_samples"] = n
    _aki_fields(out)
    out["ok"] = True
    return out


def _op_flc_list(req):
    tr = tracker(req)
    pts = []
    for p in tr.by_pid:
        pts.append([p.code, flc.CHAINS[p.involved], p.t0 or None, p.count, p.last_time(),
                    p.episode])
    out = tr.status()
    out["ok"] = True
    out["patient_list"] = pts
    return out


def _op_flc_pull(req):
    if _safe and req.get("scratch") is not True:
        # Safe mode: the journal is never replayed (that may be what failed). A pull
        # reads each record's patient code from the journal itself (flcstore.Tracker.pull),
        # so an unreplayed tracker gives every record.
        tr = flcstore.Tracker()
    else:
        tr = tracker(req)
    since = req.get("since", 0)
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise InputError("since", "a sequence number (0 for everything)")
    limit = req.get("limit", 40)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise InputError("limit", "1-100 records per request")
    # At most PULL_PAGE records an answer, whatever the limit: "more" brings the rest,
    # so the largest answer stays within what a Pico's heap can build.
    limit = min(limit, PULL_PAGE)
    records = tr.pull(since, limit + 1)
    more = len(records) > limit
    return {"ok": True, "records": records[:limit], "more": more,
            "last_seq": tr.journal.last_seq if tr.journal else 0}


def _op_audit_pull(req):
    """The audit log of doses shown on the screens, by sequence number."""
    import audit

    since = req.get("since", 0)
    if isinstance(since, bool) or not isinstance(since, int) or since < 0:
        raise InputError("since", "a sequence number (0 for everything)")
    records = audit.shared().pull(since, 41)
    return {"ok": True, "records": records[:40], "more": len(records) > 40}


def _op_board_check(req):
    """`mmrenal doctor`: the board's profile, display pins, SPI bus and buttons."""
    import boardcheck

    return boardcheck.check(req)


def _op_table_reload(req):
    st = store()
    _boot(st)
    _audit("table", "reload: " + ("active " + st.slot + ": " + st.table.id + " v" + str(st.table.version)
                               + " " + tablestore.sha8(st.table) if st.table
                               else "no valid table (" + "; ".join(st.problems) + ")"))
    return _op_table_status(req)


def _op_set_clock(req):
    minutes = _minutes(_get(req, "time"), "time")
    old = clock.now()
    if not clock.set_clock(minutes):
        return {"ok": False, "field": "time", "error": "this engine has no clock to set"}
    # Noted at the new time, with the old one: a dose's time in the log can be judged.
    _audit("clock", "link: " + clock.iso(old) + " -> " + clock.iso(minutes))
    return {"ok": True, "clock": clock.iso(clock.now())}


def _op_crcl(req):
    age = limits.parse(limits.AGE, _get(req, "age"))
    female = limits.parse_sex(_get(req, "sex"))
    weight = limits.parse(limits.WEIGHT, _get(req, "weight"))
    height = limits.parse(limits.HEIGHT, _get(req, "height"))
    unit = limits.parse_unit(req.get("scr_unit"))
    scr = limits.scr_nmol(_get(req, "scr"), unit)
    policy = _policy(req)
    obese = limits.parse(limits.OBESE_PCT, req.get("obese_pct", 120))
    dialysis = _flag(req, "dialysis")
    n = 0
    if req.get("history"):
        n = _series(req, unit, _minutes(_get(req, "scr_time"), "scr_time"), scr)
    kdigo.stage(_aki, _times, _values, n, dialysis)
    r = _renal
    renal.assess(r, age, female, weight, height, scr, policy, obese, dialysis, _aki.stage)
    warnings = [renal.WARNING_CODES[i] for i in range(len(renal.WARNING_CODES)) if r.warnings >> i & 1]
    return _aki_fields({
        "ok": True,
        "crcl_ml_min_x10": r.crcl_x10,
        "egfr_x10": r.egfr_x10,
        "weight_policy": body.POLICY_NAMES[policy],
        "weight_basis": body.POLICY_NAMES[r.basis],
        "weight_used_kg_x10": r.weight_x10,
        "ibw_kg_x10": r.ibw_x10,
        "adjbw_kg_x10": r.adjbw_x10,
        "bmi_x10": r.bmi_x10,
        "bsa_m2_x100": r.bsa_x100,
        "imwg_renal_impairment": r.imwg,
        "scr_nmol_l": scr,
        "warnings": warnings,
    })


def _op_egfr(req):
    age = limits.parse(limits.AGE, _get(req, "age"))
    female = limits.parse_sex(_get(req, "sex"))
    unit = limits.parse_unit(req.get("scr_unit"))
    scr = limits.scr_nmol(_get(req, "scr"), unit)
    return {"ok": True, "egfr_x10": egfr(age, female, scr), "scr_nmol_l": scr}


def _op_bsa(req):
    weight = limits.parse(limits.WEIGHT, _get(req, "weight"))
    height = limits.parse(limits.HEIGHT, _get(req, "height"))
    return {"ok": True, "bsa_m2_x100": body.bsa(weight, height), "bmi_x10": body.bmi(weight, height)}


def _op_ibw(req):
    female = limits.parse_sex(_get(req, "sex"))
    height = limits.parse(limits.HEIGHT, _get(req, "height"))
    out = {"ok": True, "ibw_kg_x10": body.ibw(female, height)}
    if req.get("weight") is not None:
        weight = limits.parse(limits.WEIGHT, req["weight"])
        out["adjbw_kg_x10"] = body.adjusted(female, weight, height)
    return out


def _op_aki(req):
    unit = limits.parse_unit(req.get("scr_unit"))
    n = _series(req, unit, 0, 0)
    kdigo.stage(_aki, _times, _values, n, _flag(req, "dialysis"))
    out = _aki_fields({"ok": True, "samples": n})
    out["aki_at"] = _aki.at
    return out


OPS = {
    "version": _op_version,
    "status": _op_status,
    "set_clock": _op_set_clock,
    "crcl": _op_crcl,
    "egfr": _op_egfr,
    "bsa": _op_bsa,
    "ibw": _op_ibw,
    "aki": _op_aki,
    "dose": _op_dose,
    "drugs": _op_drugs,
    "table_status": _op_table_status,
    "table_activate": _op_table_activate,
    "table_reload": _op_table_reload,
    "flc_patient": _op_flc_patient,
    "flc_sample": _op_flc_sample,
    "flc_event": _op_flc_event,
    "flc_creatinine": _op_flc_creatinine,
    "flc_kinetics": _op_flc_kinetics,
    "flc_list": _op_flc_list,
    "flc_pull": _op_flc_pull,
    "flc_ack": lambda req: flcstore.op_ack(tracker(), req),  # records' life cycle (flcstore)
    "flc_discharge": lambda req: flcstore.op_discharge(tracker(), req),
    "audit_pull": _op_audit_pull,
    "board_check": _op_board_check,
}


def handle(req):
    """Answer one request dict; never raises."""
    if not isinstance(req, dict):
        return {"ok": False, "field": "request", "error": "a request is a JSON object"}
    op = req.get("op")
    fn = OPS.get(op) if isinstance(op, str) else None
    if fn is None:
        return {"ok": False, "field": "op", "error": "unknown request " + repr(op)}
    if _safe and op not in SAFE_OPS:
        return {"ok": False, "field": "safe_mode", "error": "the device started in safe mode ("
                + _safe + "): it answers only " + ", ".join(SAFE_OPS)
                + "; pull the records, then see docs/protocol.md (safe mode)"}
    try:
        return fn(req)
    except InputError as e:
        return {"ok": False, "field": e.field, "error": e.message}
    except Exception as e:  # a defect, reported rather than crashing the device
        return {"ok": False, "field": "internal", "error": type(e).__name__ + ": " + str(e)}
