"""Entry limits: what the handheld accepts, and the named error for what it refuses.

Every value enters the core as a fixed-point integer (age in years, weight in 0.1 kg,
height in 0.1 cm, creatinine in nmol/L). Text is parsed exactly, digit by digit: more
decimals than the device's resolution is an error, not a silent rounding, because a
number the nurse did not type must never reach a dose.
"""

from fmt import fixed

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


NMOL_PER_MG_DL = const(88400)  # 1 mg/dL creatinine = 88.4 umol/L = 88,400 nmol/L
NMOL_PER_UMOL = const(1000)

# (field, unit, decimals, low, high) with low/high in the field's fixed-point units.
AGE = ("age", "y", 0, 18, 110)  # adults only
WEIGHT = ("weight", "kg", 1, 250, 3000)
HEIGHT = ("height", "cm", 1, 1200, 2300)
SCR_MG_DL = ("scr", "mg/dL", 2, 10, 2500)
SCR_UMOL_L = ("scr", "umol/L", 1, 89, 22100)  # 8.9 umol/L is the first >= 0.10 mg/dL
OBESE_PCT = ("obese_pct", "%", 0, 110, 150)  # pharmacy rule: "obese" above this % of IBW
MINUTES = ("time", "min", 0, 0, 0x3FFFFFFF)

SCR_NMOL_LOW = const(8840)  # 0.10 mg/dL
SCR_NMOL_HIGH = const(2210000)  # 25.00 mg/dL

UNIT_MG_DL = const(0)
UNIT_UMOL_L = const(1)
UNIT_NAMES = ("mg/dL", "umol/L")

_MAX_TEXT = const(16)


class InputError(ValueError):
    """A refused input: `field` names it, `message` says why and what is allowed."""

    def __init__(self, field, message):
        super().__init__(field + ": " + message)
        self.field = field
        self.message = message


def _range_text(spec):
    _, unit, decimals, low, high = spec
    return fixed(low, decimals) + "-" + fixed(high, decimals) + " " + unit


def check(spec, value):
    """Return value if it lies in spec's range, else raise InputError naming the field."""
    if value < spec[3] or value > spec[4]:
        raise InputError(
            spec[0],
            fixed(value, spec[2]) + " " + spec[1] + " is outside " + _range_text(spec),
        )
    return value


def parse(spec, text):
    """Exact decimal text (or a whole int) to spec's fixed-point int, range-checked."""
    field, unit, decimals, _, _ = spec
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise InputError(field, "give the value as text such as '12.3' " + unit)
    if isinstance(text, int):
        if text < -(10**6) or text > 10**6:  # keep the scaling below 2**30
            raise InputError(field, str(text) + " " + unit + " is outside " + _range_text(spec))
        return check(spec, text * 10**decimals)
    text = text.strip(" \t\r\n")  # ASCII only, the same on every interpreter
    if not text:
        raise InputError(field, "missing (" + _range_text(spec) + ")")
    if len(text) > _MAX_TEXT:
        raise InputError(field, "too long to be a number")
    whole = 0
    frac = 0
    places = -1  # -1 until the decimal point is seen
    digits = 0
    for ch in text:
        if ch == ".":
            if places >= 0:
                raise InputError(field, repr(text) + " is not a number like 12.3")
            places = 0
            continue
        d = ord(ch) - 48
        if d < 0 or d > 9:
            raise InputError(field, repr(text) + " is not a number like 12.3 " + unit)
        digits += 1
        if places >= 0:
            places += 1
            if places > decimals:
                raise InputError(
                    field,
                    text + " has more decimals than the device reads (resolution "
                    + fixed(1, decimals) + " " + unit + ")",
                )
            frac = frac * 10 + d
        else:
            whole = whole * 10 + d
            if whole > 10**6:
                raise InputError(field, text + " " + unit + " is outside " + _range_text(spec))
    if digits == 0:
        raise InputError(field, repr(text) + " is not a number like 12.3")
    if places < 0:
        places = 0
    value = whole * 10**decimals + frac * 10 ** (decimals - places)
    return check(spec, value)


def parse_sex(text):
    """'F'/'female' -> 1, 'M'/'male' -> 0 (CKD-EPI and Cockcroft-Gault are sex-specific)."""
    if isinstance(text, str):
        t = text.strip(" \t\r\n").lower()
        if t in ("f", "female"):
            return 1
        if t in ("m", "male"):
            return 0
    raise InputError("sex", "must be F or M")


def parse_unit(text):
    """The creatinine unit is required and never guessed: mg/dL or umol/L."""
    if isinstance(text, str):
        t = text.strip(" \t\r\n").lower().replace("\u00b5", "u").replace("\u03bc", "u")
        if t == "mg/dl":
            return UNIT_MG_DL
        if t in ("umol/l", "micromol/l"):
            return UNIT_UMOL_L
    if text is None or text == "":
        raise InputError("scr_unit", "required: mg/dL or umol/L (the unit is never guessed)")
    raise InputError("scr_unit", repr(text) + " is not a creatinine unit: use mg/dL or umol/L")


def scr_nmol(text, unit):
    """Serum creatinine text in `unit` (UNIT_MG_DL or UNIT_UMOL_L) to nmol/L."""
    if unit == UNIT_MG_DL:
        return parse(SCR_MG_DL, text) * (NMOL_PER_MG_DL // 100)
    return parse(SCR_UMOL_L, text) * (NMOL_PER_UMOL // 10)


def check_scr_nmol(nmol):
    """Range check for creatinine already in nmol/L (from the UI or a stored series)."""
    if nmol < SCR_NMOL_LOW or nmol > SCR_NMOL_HIGH:
        raise InputError(
            "scr",
            "creatinine " + fixed(nmol // 100, 1) + " umol/L is outside "
            + _range_text(SCR_MG_DL) + " (" + _range_text(SCR_UMOL_L) + ")",
        )
    return nmol
