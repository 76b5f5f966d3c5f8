"""Fixed-point integers as the decimal text a nurse reads (no float anywhere)."""


def fixed(value, decimals):
    """fixed(412, 1) -> '41.2'; fixed(-5, 2) -> '-0.05'; fixed(7, 0) -> '7'."""
    sign = ""
    if value < 0:
        sign = "-"
        value = -value
    if decimals == 0:
        return sign + str(value)
    scale = 10**decimals
    whole = value // scale
    frac = str(value - whole * scale)
    return sign + str(whole) + "." + "0" * (decimals - len(frac)) + frac
