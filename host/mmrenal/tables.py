"""Dose-table sources (TOML) for pharmacists: load, check every rule, diff two versions.

The format is described at the top of tables/myeloma-renal.toml and in
docs/table-format.md. Every problem is reported with file, line and reason; a table
with problems is never compiled.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

STATUSES = ("standard", "adjusted", "uncertain")
UNITS = ("mg", "mg/m2", "mg/kg", "cells")
KEYED = ("crcl", "egfr")
POLICIES = ("actual", "ideal", "adjusted", "bmi", "pharmacy")
# Words the device shows, in both languages (the binary carries both).
FREQUENCY_ZH = {"": "", "daily": "每日", "every other day": "隔日", "weekly": "每周",
                "every 2 weeks": "每2周", "every 3 weeks": "每3周", "every 4 weeks": "每4周",
                "once": "单次"}
# The code the device compares a prescribed frequency with: the days from one dose to
# the next (255: a single dose). firmware/dosing.py FREQUENCIES holds the same codes.
FREQUENCY_CODE = {"": 0, "daily": 1, "every other day": 2, "weekly": 7, "every 2 weeks": 14,
                  "every 3 weeks": 21, "every 4 weeks": 28, "once": 255}
# Product forms: a whole number of capsules or tablets makes an oral dose; a dose from
# vials is drawn up by volume, so any amount can be given.
FORMS = ("", "capsule", "tablet", "vial")
SOLID = ("capsule", "tablet")
MAX_UNITS = 4  # capsules or tablets in one dose, at most (firmware/dosing.py MAX_UNITS)
MAX_STRENGTHS = 8
MAX_CYCLE = 56  # days in a treatment cycle, at most
# Table-wide defaults of the dose check (docs/table-format.md), each a whole percent
# above the rule's largest single dose.
DEFAULT_TOLERANCE = 5
DEFAULT_SOFT = 10
DEFAULT_HARD = 100
MAX_PCT = 500
DEFAULT_FRESH_HOURS = 24
DEFAULT_BSA_CAP = Decimal("2.2")
# Codes ([codes]; docs/table-format.md "Codes"): the firmware's own pattern reader
# (firmware/flc.py) checks a pattern here, so host and device read it alike. Whatever
# the pattern, a patient code has at most 12 characters with a digit, and no run of
# more than 6 letters; and it must refuse these codes from the field, which are a
# name, a date of birth or a hospital number.
MAX_LETTER_RUN = 6
NAME_LIKE = ("JOHNSMITH1", "SMITH-J-1960", "MRN-12345678", "ZHANGSAN-01", "1-1-1960")
LAB_RE = re.compile(r"[A-Z0-9-]{1,8}")
TIMING_ZH = {"": "", "after dialysis": "透析后"}
ROUTE_ZH = {"iv": "静脉注射", "sc": "皮下注射", "oral": "口服", "iv or sc": "静脉注射或皮下注射"}
EXAMPLE = Path(__file__).resolve().parents[2] / "tables" / "myeloma-renal.toml"


@dataclass
class Problem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class Dose:
    amount: Decimal
    unit: str
    amount_max: Decimal | None = None
    amount_then: Decimal | None = None
    regimen: str = ""
    frequency: str = ""
    scale: int = 0  # power of ten (cells: 8 means x 10^8)
    cycle_days: list[tuple[int, int]] = field(default_factory=list)  # (first, last) runs
    cycle_length: int = 0  # days in the cycle; 0: no cycle given

    def text(self) -> str:
        amt = f"{self.amount}" + (f"-{self.amount_max}" if self.amount_max is not None else "")
        if self.amount_then is not None:
            amt += f"/{self.amount_then}"
        scale = f" x 10^{self.scale}" if self.scale else ""
        reg = f"[{self.regimen}] " if self.regimen else ""
        freq = f" {self.frequency}" if self.frequency else ""
        cycle = f", {self.cycle_en()}" if self.cycle_length else ""
        return f"{reg}{amt}{scale} {self.unit}{freq}{cycle}"

    def cycle_en(self) -> str:
        return cycle_text(self.cycle_days, self.cycle_length)[0]

    def ceiling(self) -> Decimal:
        return max(x for x in (self.amount, self.amount_max, self.amount_then) if x is not None)


@dataclass
class Limits:
    """What the dose check allows above a rule's largest single dose, in whole percent,
    and the body-surface-area cap of per-m2 doses (None: no cap). A field left None
    takes the drug's value, then the table's."""

    tolerance: int | None = None
    soft: int | None = None
    hard: int | None = None
    bsa_cap: Decimal | None = None
    bsa_cap_set: bool = False  # True when bsa_cap was written (None then means "none")

    def over(self, base: Limits) -> Limits:
        return Limits(base.tolerance if self.tolerance is None else self.tolerance,
                      base.soft if self.soft is None else self.soft,
                      base.hard if self.hard is None else self.hard,
                      self.bsa_cap if self.bsa_cap_set else base.bsa_cap, True)


@dataclass
class Product:
    """The drug's product: its form and strengths (mg), with their source."""

    form: str
    strengths: list[Decimal]
    source: str
    where: str


@dataclass
class Band:
    lo: Decimal | None  # None for the dialysis entry
    hi: Decimal | None
    status: str
    doses: list[Dose]  # as written; empty "standard" means the drug's standard dose
    source: str
    where: str
    timing: str = ""
    note_en: str = ""
    note_zh: str = ""
    dialysis: bool = False
    line: int = 0  # the band's header
    from_line: int = 0  # its `from =` line, where edge problems are reported
    limits: Limits | None = None  # the dose check's own, when the rule sets any
    where_zh: str = ""  # `where` for the Chinese screens, in the source's own Chinese terms

    def label(self, keyed_to: str) -> str:
        if self.dialysis:
            return "dialysis"
        name = "CrCl" if keyed_to == "crcl" else "eGFR"
        if self.hi is None:
            return f"{name} >= {self.lo}"
        if self.lo == 0:
            return f"{name} < {self.hi}"
        return f"{name} {self.lo} to < {self.hi}"


@dataclass
class Drug:
    inn: str
    zh: str
    aliases: list[str]
    route: str
    keyed_to: str
    standard: list[Dose]
    bands: list[Band]
    dialysis: Band | None
    note_en: str = ""
    note_zh: str = ""
    line: int = 0
    limits: Limits = field(default_factory=Limits)
    product: Product | None = None
    dosing_source: str = ""  # where frequencies, cycle days and regimens come from
    dosing_where: str = ""
    dosing_where_zh: str = ""

    def effective_doses(self, band: Band) -> list[Dose]:
        if band.status == "standard" and not band.doses:
            return self.standard
        return band.doses


@dataclass
class Table:
    path: str
    id: str
    version: int
    title_en: str
    title_zh: str
    effective: dt.date
    expires: dt.date
    author: str
    approver: str
    weight_policy: str
    sources: dict[str, tuple[str, str]]
    drugs: list[Drug] = field(default_factory=list)
    fresh_hours: int = DEFAULT_FRESH_HOURS
    patient_codes: str = ""  # the patient code pattern; "": the device's default
    labs: list[str] = field(default_factory=list)  # the laboratories; none: the default pattern
    limits: Limits = field(default_factory=lambda: Limits(DEFAULT_TOLERANCE, DEFAULT_SOFT,
                                                          DEFAULT_HARD, DEFAULT_BSA_CAP, True))

    def rule_limits(self, drug: Drug, band: Band) -> Limits:
        """The dose-check limits and BSA cap that apply to one rule."""
        base = drug.limits.over(self.limits)
        return band.limits.over(base) if band.limits else base


def cycle_text(days: list[tuple[int, int]], length: int) -> tuple[str, str]:
    """The words for cycle days, English and Chinese: ("days 1-21 of 28",
    "28天周期第1-21天"); ("", "") when there is no cycle."""
    if not length:
        return "", ""
    runs = [f"{a}-{b}" if b > a else f"{a}" for a, b in days]
    word = "day" if len(days) == 1 and days[0][0] == days[0][1] else "days"
    return f"{word} {', '.join(runs)} of {length}", f"{length}天周期第{'、'.join(runs)}天"


def parse_cycle_days(text: str, length: int) -> list[tuple[int, int]]:
    """'1-21' or '1, 8, 15' into runs of days; ValueError with the reason."""
    runs: list[tuple[int, int]] = []
    for part in text.split(","):
        part = part.strip()
        a, sep, b = part.partition("-")
        if not a.strip().isdigit() or (sep and not b.strip().isdigit()):
            raise ValueError(f"{part!r} is not a day or a run of days such as 1-21")
        first = int(a)
        last = int(b) if sep else first
        if not 1 <= first <= last <= length:
            raise ValueError(f"{part!r} is not within days 1-{length} of the cycle")
        if runs and first <= runs[-1][1] + 1:
            raise ValueError(f"{part!r} overlaps or joins the days before it (write days in "
                             "ascending runs)")
        runs.append((first, last))
    return runs


def makeable(amount: Decimal, strengths: list[Decimal], units: int = MAX_UNITS) -> bool:
    """True if `amount` is a sum of at most `units` of the strengths (whole capsules)."""
    if amount == 0:
        return True
    if units == 0:
        return False
    return any(s <= amount and makeable(amount - s, strengths, units - 1) for s in strengths)


class _Lines:
    """Line numbers for the parts of a TOML file (tomllib gives none)."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.drug_at: list[int] = []
        self.band_at: list[list[int]] = []
        self.dialysis_at: list[int] = []
        for i, raw in enumerate(self.lines, start=1):
            s = raw.strip()
            if s == "[[drug]]":
                self.drug_at.append(i)
                self.band_at.append([])
                self.dialysis_at.append(0)
            elif s == "[[drug.band]]" and self.drug_at:
                self.band_at[-1].append(i)
            elif s == "[drug.dialysis]" and self.drug_at:
                self.dialysis_at[-1] = i

    def key(self, start: int, name: str) -> int:
        """Line of `name = ...` in the section that starts at line `start`."""
        pat = re.compile(rf"^\s*{re.escape(name)}\s*=")
        for i in range(start, len(self.lines)):  # index start is the line after the header
            if self.lines[i].strip().startswith("["):
                break
            if pat.match(self.lines[i]):
                return i + 1
        return start


def _dec(value, problems: list[Problem], path: str, line: int, what: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        problems.append(Problem(path, line, f"{what}: {value!r} is not a number"))
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        problems.append(Problem(path, line, f"{what}: {value!r} is not a number"))
        return None
    if not d.is_finite() or d < 0:
        problems.append(Problem(path, line, f"{what}: {value!r} must be a number >= 0"))
        return None
    return d


def _doses(raw, problems, path, line, what) -> list[Dose]:
    out = []
    if raw is None:
        return out
    if not isinstance(raw, list):
        problems.append(Problem(path, line, f"{what}: a list of doses is expected"))
        return out
    for d in raw:
        if not isinstance(d, dict):
            problems.append(Problem(path, line, f"{what}: each dose is a table {{amount, unit}}"))
            continue
        unknown = set(d) - {"amount", "amount_max", "amount_then", "unit", "regimen", "frequency",
                            "scale", "cycle_days", "cycle_length"}
        if unknown:
            problems.append(Problem(path, line, f"{what}: unknown dose field(s) {sorted(unknown)}"))
        unit = d.get("unit")
        if unit not in UNITS:
            problems.append(Problem(path, line, f"{what}: unknown unit {unit!r} "
                                                f"(one of {', '.join(UNITS)})"))
        freq = d.get("frequency", "")
        if freq not in FREQUENCY_ZH:
            problems.append(Problem(path, line, f"{what}: unknown frequency {freq!r} "
                                                f"(one of {', '.join(f for f in FREQUENCY_ZH if f)})"))
        amount = _dec(d.get("amount"), problems, path, line, f"{what} amount")
        if amount is None:
            if "amount" not in d:
                problems.append(Problem(path, line, f"{what}: a dose needs an amount"))
            continue
        scale = d.get("scale", 0)
        if not isinstance(scale, int) or not 0 <= scale <= 12:
            problems.append(Problem(path, line, f"{what}: scale must be a whole power of ten 0-12"))
            scale = 0
        days, length = _cycle(d, problems, path, line, what)
        dose = Dose(amount, unit if unit in UNITS else "mg",
                    _dec(d.get("amount_max"), problems, path, line, f"{what} amount_max"),
                    _dec(d.get("amount_then"), problems, path, line, f"{what} amount_then"),
                    str(d.get("regimen", "")), freq if freq in FREQUENCY_ZH else "", scale,
                    days, length)
        if dose.ceiling() >= 1_000_000:
            problems.append(Problem(path, line, f"{what}: {dose.text()} is not a dose (1,000,000 "
                                                "or more)"))
        out.append(dose)
    return out


def _cycle(d, problems, path, line, what) -> tuple[list[tuple[int, int]], int]:
    """A dose's cycle days and cycle length: both or neither."""
    days, length = d.get("cycle_days"), d.get("cycle_length")
    if days is None and length is None:
        return [], 0
    if days is None or length is None:
        problems.append(Problem(path, line, f"{what}: cycle_days and cycle_length go together "
                                            "(days 1-21 of a 28-day cycle: cycle_days = \"1-21\", "
                                            "cycle_length = 28)"))
        return [], 0
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= MAX_CYCLE:
        problems.append(Problem(path, line, f"{what}: cycle_length must be a whole number of "
                                            f"days 1-{MAX_CYCLE}"))
        return [], 0
    if not isinstance(days, str):
        problems.append(Problem(path, line, f"{what}: cycle_days is text such as \"1-21\" or "
                                            "\"1, 8, 15\""))
        return [], 0
    try:
        return parse_cycle_days(days, length), length
    except ValueError as e:
        problems.append(Problem(path, line, f"{what}: cycle_days {e}"))
        return [], 0


def _pct(raw, key, problems, path, line, what, lo=0) -> int | None:
    v = raw.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= MAX_PCT:
        problems.append(Problem(path, line, f"{what}: {key} must be a whole percent {lo}-{MAX_PCT}"))
        return None
    return v


def _limits(raw, problems, path, lines, start, what) -> Limits:
    """The dose-check limits and BSA cap a [table], [[drug]] or band sets, if any."""
    lim = Limits()
    for key, attr in (("rounding_tolerance_pct", "tolerance"), ("soft_limit_pct", "soft"),
                      ("hard_limit_pct", "hard")):
        setattr(lim, attr, _pct(raw, key, problems, path, lines.key(start, key), what))
    if lim.tolerance is not None and lim.tolerance > 50:
        problems.append(Problem(path, lines.key(start, "rounding_tolerance_pct"),
                                f"{what}: rounding_tolerance_pct above 50 is not rounding"))
    if "bsa_cap" in raw:
        lim.bsa_cap_set = True
        cap = raw["bsa_cap"]
        cline = lines.key(start, "bsa_cap")
        if cap != "none":
            lim.bsa_cap = _dec(cap, problems, path, cline, f"{what} bsa_cap")
            if lim.bsa_cap is not None and (lim.bsa_cap * 100 != int(lim.bsa_cap * 100)
                                            or not 1 <= lim.bsa_cap <= 3):
                problems.append(Problem(path, cline, f"{what}: bsa_cap {cap!r} must be 1.00-3.00 "
                                                     "m2 in steps of 0.01, or \"none\""))
                lim.bsa_cap = None
    return lim


def _check_limits(lim: Limits, problems, path, line, what) -> None:
    """The resolved limits must rise: tolerance <= soft limit <= hard limit."""
    if lim.tolerance is not None and lim.soft is not None and lim.soft < lim.tolerance:
        problems.append(Problem(path, line, f"{what}: soft limit {lim.soft}% is below the "
                                            f"rounding tolerance {lim.tolerance}%"))
    if lim.soft is not None and lim.hard is not None and lim.hard < lim.soft:
        problems.append(Problem(path, line, f"{what}: hard limit {lim.hard}% is below the soft "
                                            f"limit {lim.soft}%"))


def _product(raw, problems, path, line, what, sources, route) -> Product | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(path, line, f"{what}: product is a table {{form, strengths_mg, "
                                            "source, where}"))
        return None
    unknown = set(raw) - {"form", "strengths_mg", "source", "where"}
    if unknown:
        problems.append(Problem(path, line, f"{what}: unknown product field(s) {sorted(unknown)}"))
    form = raw.get("form")
    if form not in FORMS[1:]:
        problems.append(Problem(path, line, f"{what}: product form {form!r} is not one of "
                                            f"{', '.join(FORMS[1:])}"))
        return None
    if (route == "oral") != (form in SOLID):
        problems.append(Problem(path, line, f"{what}: a {form} does not fit route {route!r}"))
    strengths = []
    for v in raw.get("strengths_mg") or []:
        d = _dec(v, problems, path, line, f"{what} strength")
        if d is not None:
            if d == 0 or d * 100 != int(d * 100) or d > 100_000:
                problems.append(Problem(path, line, f"{what}: strength {v!r} must be above 0 and "
                                                    "at most 100000 mg, in steps of 0.01 mg"))
            else:
                strengths.append(d)
    if not strengths or len(strengths) > MAX_STRENGTHS:
        problems.append(Problem(path, line, f"{what}: product needs 1-{MAX_STRENGTHS} strengths_mg"))
    elif strengths != sorted(set(strengths)):
        problems.append(Problem(path, line, f"{what}: strengths_mg must rise, each once"))
    source, where = raw.get("source"), raw.get("where")
    if not source or not where:
        problems.append(Problem(path, line, f"{what}: product strengths need their source and "
                                            "where"))
    elif source not in sources:
        problems.append(Problem(path, line, f"{what}: product source {source!r} is not in "
                                            "[sources]"))
    return Product(form, strengths, str(source or ""), str(where or ""))


def load(path: str | Path, today: dt.date | None = None) -> tuple[Table | None, list[Problem]]:
    """Parse and check a table source. Returns (table, problems); the table is None when
    the file cannot be read as a table at all."""
    p = str(path)
    problems: list[Problem] = []
    try:
        text = Path(path).read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except OSError as e:
        return None, [Problem(p, 0, f"cannot read: {e.strerror}")]
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        return None, [Problem(p, int(m.group(1)) if m else 0, f"not valid TOML: {e}")]
    lines = _Lines(text)
    meta = raw.get("table")
    if not isinstance(meta, dict):
        return None, [Problem(p, 1, "no [table] section with the table's metadata")]
    meta_line = next((i for i, s in enumerate(lines.lines, 1) if s.strip() == "[table]"), 1)

    def need(key, kind):
        v = meta.get(key)
        if not isinstance(v, kind) or (isinstance(v, str) and not v.strip()):
            problems.append(Problem(p, lines.key(meta_line, key),
                                    f"[table] {key} is missing or not a {kind.__name__}"))
            return None
        return v

    tid, version = need("id", str), need("version", int)
    eff, exp = need("effective", dt.date), need("expires", dt.date)
    for key in ("title_en", "title_zh", "author", "approver"):
        need(key, str)
    if isinstance(version, int) and not 1 <= version < 2**31:
        problems.append(Problem(p, lines.key(meta_line, "version"), "version must be 1 or more"))
    today = today or dt.date.today()
    if isinstance(eff, dt.date) and isinstance(exp, dt.date):
        if exp <= eff:
            problems.append(Problem(p, lines.key(meta_line, "expires"), "expires is not after effective"))
        if exp < today:
            problems.append(Problem(p, lines.key(meta_line, "expires"), f"the table expired on {exp}"))
    policy = meta.get("weight_policy", "actual")
    if policy not in POLICIES:
        problems.append(Problem(p, lines.key(meta_line, "weight_policy"),
                                f"weight_policy {policy!r} is not one of {', '.join(POLICIES)}"))
    sources = {}
    for key, s in (raw.get("sources") or {}).items():
        if not isinstance(s, dict) or not s.get("citation_en"):
            problems.append(Problem(p, 1, f"source {key!r} has no citation_en"))
            continue
        sources[key] = (str(s["citation_en"]), str(s.get("citation_zh", "")))
    table = Table(p, tid or "", version or 0, str(meta.get("title_en", "")),
                  str(meta.get("title_zh", "")), eff or today, exp or today,
                  str(meta.get("author", "")), str(meta.get("approver", "")),
                  policy if policy in POLICIES else "actual", sources)
    fresh = meta.get("fresh_hours", DEFAULT_FRESH_HOURS)
    if isinstance(fresh, bool) or not isinstance(fresh, int) or not 1 <= fresh <= 168:
        problems.append(Problem(p, lines.key(meta_line, "fresh_hours"),
                                "[table] fresh_hours must be whole hours 1-168"))
    else:
        table.fresh_hours = fresh
    _load_codes(raw, lines, p, problems, table)
    table.limits = _limits(meta, problems, p, lines, meta_line, "[table]").over(table.limits)
    _check_limits(table.limits, problems, p, meta_line, "[table]")
    names: dict[str, int] = {}
    for i, d in enumerate(raw.get("drug") or []):
        line = lines.drug_at[i] if i < len(lines.drug_at) else 0
        drug = _load_drug(d, i, line, lines, p, problems, sources, table)
        if drug is None:
            continue
        for name in [drug.inn, drug.zh, *drug.aliases]:
            key = name.lower()
            if key in names:
                problems.append(Problem(p, line, f"name {name!r} is used by another drug "
                                                 f"(line {names[key]})"))
            names[key] = line
        table.drugs.append(drug)
    if not table.drugs:
        problems.append(Problem(p, 1, "the table has no [[drug]]"))
    return table, problems


_ATOM = re.compile(r"(\[(?:A-Z|0-9|-)+\]|[A-Z0-9-])(?:\{([0-9]{1,2})(?:,([0-9]{1,2}))?\})?")
_KIND = {"A-Z": 1, "0-9": 2, "-": 4}
MAX_ALTERNATIVES = 8
MAX_ATOMS = 12


def compile_code_pattern(pattern: str) -> str:
    """A patient code pattern in the device's form (firmware/flc.py): per atom three
    characters, kind (a literal, or 1 capitals | 2 digits | 4 '-'), least and most;
    alternatives joined by "|". ValueError naming what is outside the mini-format:
    alternatives "|" of atoms, an atom a capital, a digit, '-', or a class of A-Z, 0-9
    and '-' in brackets, each with an optional count {n} or {least,most}."""
    if not 1 <= len(pattern) <= 64:
        raise ValueError("a pattern of 1-64 characters")
    alts = pattern.split("|")
    if len(alts) > MAX_ALTERNATIVES:
        raise ValueError(f"at most {MAX_ALTERNATIVES} alternatives")
    out = []
    for alt in alts:
        atoms, pos = [], 0
        while pos < len(alt):
            m = _ATOM.match(alt, pos)
            if not m:
                raise ValueError(f"{alt[pos:]!r}: expected a capital, a digit, '-', [A-Z], [0-9] "
                                 "or [A-Z0-9] with an optional {n} or {least,most}")
            tok, least, most = m.group(1), m.group(2), m.group(3)
            if tok.startswith("["):
                kind = 0
                for part in re.findall(r"A-Z|0-9|-", tok[1:-1]):
                    kind |= _KIND[part]
                kind = chr(kind)
            else:
                kind = tok
            lo = int(least) if least else 1
            hi = int(most) if most else lo
            if not (0 <= lo <= hi and 1 <= hi <= 12):
                raise ValueError(f"count in {m.group(0)!r}: least 0-12, most 1-12, not below least")
            atoms.append(kind + chr(lo) + chr(hi))
            pos = m.end()
        if not 1 <= len(atoms) <= MAX_ATOMS:
            raise ValueError(f"each alternative has 1-{MAX_ATOMS} parts")
        out.append("".join(atoms))
    return "|".join(out)


def code_pattern_problems(pattern: str) -> list[str]:
    """Why a patient code pattern cannot be used ([] when it can); codes are tried with
    the firmware's own matcher."""
    from mmrenal.firmware import load

    flc = load("flc")
    try:
        atoms = compile_code_pattern(pattern)
    except ValueError as e:
        return [str(e)]
    out = []
    for alt in atoms.split("|"):
        parts = [(ord(alt[i]), ord(alt[i + 1]), ord(alt[i + 2])) for i in range(0, len(alt), 3)]
        shape = flc.shapes(alt).split(" … ")[-1]
        if sum(most for _, _, most in parts) > flc.MAX_CODE:
            out.append(f"{shape}: codes longer than {flc.MAX_CODE} characters")
        if not any(least and (kind == 2 or "0" <= chr(kind) <= "9") for kind, least, _ in parts):
            out.append(f"{shape}: a code without a digit could be a name")
        run = longest = 0
        for kind, _, most in parts:
            run = run + most if (kind < 8 and kind & 1) or "A" <= chr(kind) <= "Z" else 0
            longest = max(longest, run)
        if longest > MAX_LETTER_RUN:
            out.append(f"{shape}: {longest} letters in a row could spell a name "
                       f"(at most {MAX_LETTER_RUN})")
    taken = [c for c in NAME_LIKE if flc.fits(atoms, c)]
    if taken:
        out.append(f"it accepts {', '.join(taken)}: a name, a date of birth or a hospital number")
    return out


def _load_codes(raw, lines: _Lines, p: str, problems: list[Problem], table: Table) -> None:
    """[codes]: `patient` (the pattern of patient codes) and `labs` (the laboratories)."""
    codes = raw.get("codes")
    if codes is None:
        return
    start = next((i for i, s in enumerate(lines.lines, 1) if s.strip() == "[codes]"), 1)
    if not isinstance(codes, dict):
        problems.append(Problem(p, start, "[codes] must be a section"))
        return
    for key in codes:
        if key not in ("patient", "labs"):
            problems.append(Problem(p, lines.key(start, key), f"[codes] {key}: unknown (patient, labs)"))
    pattern = codes.get("patient", "")
    if not isinstance(pattern, str):
        problems.append(Problem(p, lines.key(start, "patient"), "[codes] patient: a pattern in quotes"))
    elif pattern:
        why = code_pattern_problems(pattern)
        for w in why:
            problems.append(Problem(p, lines.key(start, "patient"), f"[codes] patient {pattern!r}: {w}"))
        if not why:
            table.patient_codes = pattern
    labs = codes.get("labs", [])
    line = lines.key(start, "labs")
    if not isinstance(labs, list) or len(labs) > 16:
        problems.append(Problem(p, line, "[codes] labs: a list of at most 16 laboratory codes"))
        return
    for lab in labs:
        if not isinstance(lab, str) or not LAB_RE.fullmatch(lab) or not re.search(r"[A-Z0-9]", lab):
            problems.append(Problem(p, line, f"[codes] labs: {lab!r} is not 1-8 capitals, digits "
                                             "and '-'"))
        elif lab in NAME_LIKE or lab in table.labs:
            problems.append(Problem(p, line, f"[codes] labs: {lab!r} is listed twice or looks like "
                                             "a name"))
        else:
            table.labs.append(lab)


def _load_drug(d, i, line, lines, p, problems, sources, table: Table) -> Drug | None:
    inn = d.get("inn")
    if not isinstance(inn, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", inn or ""):
        problems.append(Problem(p, line, f"drug inn {inn!r}: lower case letters, digits, hyphens"))
        return None
    keyed = d.get("keyed_to")
    if keyed not in KEYED:
        problems.append(Problem(p, lines.key(line, "keyed_to"),
                                f"{inn}: keyed_to must be crcl or egfr, not {keyed!r}"))
        keyed = "crcl"
    route = d.get("route", "")
    if route not in ROUTE_ZH:
        problems.append(Problem(p, lines.key(line, "route"),
                                f"{inn}: unknown route {route!r} (one of {', '.join(ROUTE_ZH)})"))
    if not d.get("zh"):
        problems.append(Problem(p, line, f"{inn}: no Chinese name (zh)"))
    standard = _doses(d.get("standard"), problems, p, lines.key(line, "standard"), f"{inn} standard")
    if not standard:
        problems.append(Problem(p, line, f"{inn}: no standard dose"))
    drug = Drug(inn, str(d.get("zh", "")), [str(a).lower() for a in d.get("aliases", [])],
                str(route), keyed, standard, [], None, str(d.get("note_en", "")),
                str(d.get("note_zh", "")), line)
    drug.limits = _limits(d, problems, p, lines, line, inn)
    drug.product = _product(d.get("product"), problems, p, lines.key(line, "product"), inn,
                            sources, route)
    drug.dosing_source = str(d.get("dosing_source", ""))
    drug.dosing_where = str(d.get("dosing_where", ""))
    drug.dosing_where_zh = str(d.get("dosing_where_zh", ""))
    if bool(drug.dosing_source) != bool(drug.dosing_where):
        problems.append(Problem(p, lines.key(line, "dosing_source"),
                                f"{inn}: dosing_source and dosing_where go together"))
    if bool(drug.dosing_where) != bool(drug.dosing_where_zh.strip()):
        # the Chinese dose screen shows the schedule's source too: never in English only
        problems.append(Problem(p, lines.key(line, "dosing_where"),
                                f"{inn}: dosing_where and dosing_where_zh (its Chinese) go "
                                "together"))
    elif drug.dosing_source and drug.dosing_source not in sources:
        problems.append(Problem(p, lines.key(line, "dosing_source"),
                                f"{inn}: dosing_source {drug.dosing_source!r} is not in [sources]"))
    band_lines = lines.band_at[i] if i < len(lines.band_at) else []
    for j, b in enumerate(d.get("band") or []):
        bl = band_lines[j] if j < len(band_lines) else line
        band = _load_band(b, bl, p, problems, sources, drug, lines, dialysis=False)
        if band:
            drug.bands.append(band)
    if "dialysis" in d:
        dl = lines.dialysis_at[i] if i < len(lines.dialysis_at) and lines.dialysis_at[i] else line
        drug.dialysis = _load_band(d["dialysis"], dl, p, problems, sources, drug, lines,
                                   dialysis=True)
    else:
        problems.append(Problem(p, line, f"{inn}: no [drug.dialysis] entry (dialysis is an input "
                                         "of its own; write status = \"uncertain\" if the source is silent)"))
    _check_bands(drug, p, problems)
    _check_schedule(drug, table, p, problems, lines)
    return drug


def _check_schedule(drug: Drug, table: Table, p: str, problems: list[Problem], lines) -> None:
    """Cycle days need the source they come from; a capsule drug's doses must be
    makeable from its capsules; every rule's limits must rise."""
    rules = [*drug.bands, *([drug.dialysis] if drug.dialysis else [])]
    doses = drug.standard + [d for b in rules for d in b.doses]
    if any(d.cycle_length for d in doses) and not drug.dosing_source:
        problems.append(Problem(p, drug.line, f"{drug.inn}: cycle days need the source they come "
                                              "from (dosing_source and dosing_where)"))
    prod = drug.product
    if prod and prod.form in SOLID and prod.strengths:
        for d in doses:
            if d.unit != "mg":
                continue
            for amt in (d.amount, d.amount_max, d.amount_then):
                if amt is not None and not makeable(amt, prod.strengths):
                    problems.append(Problem(p, drug.line, f"{drug.inn}: {amt} mg is not made by at "
                                                          f"most {MAX_UNITS} {prod.form}s of "
                                                          f"{', '.join(map(str, prod.strengths))} mg"))
    for b in rules:
        _check_limits(table.rule_limits(drug, b), problems, p, b.line,
                      f"{drug.inn} {b.label(drug.keyed_to)}")


def _load_band(b, line, p, problems, sources, drug: Drug, lines: _Lines,
               dialysis: bool) -> Band | None:
    what = f"{drug.inn} {'dialysis' if dialysis else 'band'}"
    dose_line = lines.key(line, "dose")
    from_line = lines.key(line, "from")
    status = b.get("status")
    if status not in STATUSES:
        problems.append(Problem(p, line, f"{what}: status {status!r} is not one of {', '.join(STATUSES)}"))
        return None
    source, where = b.get("source"), b.get("where")
    if not source or not where:
        problems.append(Problem(p, line, f"{what}: missing citation (source and where)"))
    elif source not in sources:
        problems.append(Problem(p, line, f"{what}: source {source!r} is not in [sources]"))
    where_zh = b.get("where_zh")
    if where and (not isinstance(where_zh, str) or not where_zh.strip()):
        # a rule's citation is shown on the Chinese screens too: both languages or none
        problems.append(Problem(p, lines.key(line, "where"), f"{what}: no Chinese citation "
                                                            "(where_zh) for its where"))
    timing = b.get("timing", "")
    if timing not in TIMING_ZH:
        problems.append(Problem(p, line, f"{what}: unknown timing {timing!r}"))
        timing = ""
    doses = _doses(b.get("dose"), problems, p, dose_line, what)
    lo = hi = None
    if not dialysis:
        lo = _dec(b.get("from"), problems, p, from_line, f"{what} from")
        hi = _dec(b.get("to"), problems, p, lines.key(line, "to"), f"{what} to")
        if lo is None and "from" not in b:
            problems.append(Problem(p, line, f"{what}: no lower edge (from)"))
        for edge, eline in ((lo, from_line), (hi, lines.key(line, "to"))):
            if edge is not None and (edge * 10 != int(edge * 10) or edge >= 6553):
                problems.append(Problem(p, eline, f"{what}: band edge {edge} must be in steps of "
                                                  "0.1 below 6553"))
    band = Band(lo, hi, status, doses, str(source or ""), str(where or ""), timing,
                str(b.get("note_en", "")), str(b.get("note_zh", "")), dialysis, line, from_line)
    band.limits = _limits(b, problems, p, lines, line, what)
    band.where_zh = str(where_zh or "")
    if status == "uncertain" and doses:
        problems.append(Problem(p, dose_line, f"{what}: an uncertain band carries an amount "
                                              "(the device must never show a number for it)"))
    if status == "adjusted" and not doses:
        problems.append(Problem(p, line, f"{what}: an adjusted band needs its dose"))
    if status == "standard" and doses:
        for d in doses:
            same = [s for s in drug.standard if s.unit == d.unit and s.scale == d.scale]
            if not same:
                problems.append(Problem(p, dose_line, f"{what}: standard dose in {d.unit}, but "
                                                      "the drug's standard dose has no such unit"))
            elif d.ceiling() > max(s.ceiling() for s in same):
                problems.append(Problem(p, dose_line, f"{what}: {d.text()} is above the standard "
                                                      "dose but marked standard"))
    return band


def _check_bands(drug: Drug, p: str, problems: list[Problem]) -> None:
    bands = sorted((b for b in drug.bands if b.lo is not None), key=lambda b: b.lo)
    if not bands:
        problems.append(Problem(p, drug.line, f"{drug.inn}: no bands"))
        return
    if bands[0].lo != 0:
        problems.append(Problem(p, bands[0].from_line, f"{drug.inn}: gap below {bands[0].lo} "
                                                  "(the lowest band must start at 0)"))
    for a, b in zip(bands, bands[1:], strict=False):
        if a.hi is None:
            problems.append(Problem(p, b.from_line, f"{drug.inn}: band from {a.lo} has no upper "
                                                    f"edge but another band starts at {b.lo} (overlap)"))
        elif a.hi < b.lo:
            problems.append(Problem(p, b.from_line, f"{drug.inn}: gap between {a.hi} and {b.lo}"))
        elif a.hi > b.lo:
            problems.append(Problem(p, b.from_line, f"{drug.inn}: bands overlap between {b.lo} "
                                                    f"and {a.hi}"))
    for b in bands:
        if b.hi is not None and b.hi <= b.lo:
            problems.append(Problem(p, b.from_line, f"{drug.inn}: band upper edge {b.hi} is not "
                                                    f"above its lower edge {b.lo}"))
    if bands[-1].hi is not None:
        problems.append(Problem(p, bands[-1].line, f"{drug.inn}: gap above {bands[-1].hi} "
                                                   "(the highest band needs no upper edge)"))


def diff(old: Table, new: Table) -> list[str]:
    """What changed, rule by rule, in words an approver reads."""
    out = []
    for key in ("id", "version", "title_en", "title_zh", "effective", "expires", "author",
                "approver", "weight_policy", "fresh_hours", "patient_codes", "labs", "limits"):
        a, b = getattr(old, key), getattr(new, key)
        if a != b:
            out.append(f"table {key}: {a} -> {b}")
    for key in sorted(set(old.sources) | set(new.sources)):
        a, b = old.sources.get(key), new.sources.get(key)
        if a != b:
            out.append(f"source {key}: {a[0] if a else '(none)'} -> {b[0] if b else '(removed)'}")
    olds = {d.inn: d for d in old.drugs}
    news = {d.inn: d for d in new.drugs}
    for inn in sorted(set(olds) - set(news)):
        out.append(f"{inn}: drug removed")
    for inn in sorted(set(news) - set(olds)):
        out.append(f"{inn}: drug added ({len(news[inn].bands)} bands)")
    for inn in sorted(set(olds) & set(news)):
        a, b = olds[inn], news[inn]
        for attr in ("zh", "aliases", "route", "keyed_to", "note_en", "note_zh", "limits",
                     "product", "dosing_source", "dosing_where", "dosing_where_zh"):
            if getattr(a, attr) != getattr(b, attr):
                out.append(f"{inn}: {attr} {getattr(a, attr)!r} -> {getattr(b, attr)!r}")
        if [d.text() for d in a.standard] != [d.text() for d in b.standard]:
            out.append(f"{inn}: standard dose {_doses_text(a.standard)} -> {_doses_text(b.standard)}")
        ra = {x.label(a.keyed_to): x for x in [*a.bands, *([a.dialysis] if a.dialysis else [])]}
        rb = {x.label(b.keyed_to): x for x in [*b.bands, *([b.dialysis] if b.dialysis else [])]}
        for label in sorted(set(ra) - set(rb)):
            out.append(f"{inn} {label}: rule removed")
        for label in sorted(set(rb) - set(ra)):
            out.append(f"{inn} {label}: rule added: {_rule_text(b, rb[label])}")
        for label in sorted(set(ra) & set(rb)):
            x, y = _rule_text(a, ra[label]), _rule_text(b, rb[label])
            if x != y:
                out.append(f"{inn} {label}: {x} -> {y}")
    return out


def _doses_text(doses: list[Dose]) -> str:
    return " or ".join(d.text() for d in doses) or "(none)"


def _rule_text(drug: Drug, band: Band) -> str:
    dose = "" if band.status == "uncertain" else " " + _doses_text(drug.effective_doses(band))
    timing = f", {band.timing}" if band.timing else ""
    lim = f" {band.limits}" if band.limits and band.limits != Limits() else ""
    return f"{band.status}{dose}{timing}{lim} [{band.source}: {band.where} / {band.where_zh}]"
