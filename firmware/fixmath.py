"""Integer arithmetic that stays inside the RP2040's small ints.

MicroPython on the RP2040 keeps integers below 2**30 in magnitude as tagged small
ints; anything larger becomes a heap-allocated big int (slow, and a MemoryError if the
heap is locked). Every function here keeps every intermediate value below 2**30, so
the renal calculations never allocate. Arguments are non-negative unless stated.

Fixed-point notation: Q24 means value * 2**24, Q28 value * 2**28.
"""

from fixtables import EXP2_COARSE, EXP2_FINE, INV_LN2_Q28, LN2_Q28, LOG2_COARSE, LOG2_FINE

try:
    from micropython import const
except ImportError:  # CPython

    def const(x):
        return x


SMALL_MAX = const(0x3FFFFFFF)  # 2**30 - 1, the largest small int on the RP2040
_DIV_MAX = const(0x1FFFFFFF)  # divisors stay below 2**29 so that 2 * remainder fits
_ONE28 = const(0x10000000)  # 1.0 in Q28


class FixedPointOverflow(ArithmeticError):
    """A result would not fit in a small int. Inputs inside the validated ranges never
    raise it; it exists so that a wrong number can never come out silently."""


def bitlen(x):
    """Number of bits of x >= 0 (MicroPython's int has no bit_length)."""
    n = 0
    while x >= 256:
        x >>= 8
        n += 8
    while x:
        x >>= 1
        n += 1
    return n


def ratio(a, b, c1, c2):
    """round(a * b / (c1 * c2)), halves rounded up, exactly.

    Needs 0 <= a, b <= SMALL_MAX, 1 <= c1, c2 <= 2**29 - 1, and floor(a * b / c1)
    below 2**30. The product a * b and the divisor c1 * c2 may each be far beyond
    2**30: the product is divided by c1 while it is formed, then by c2.
    """
    if c1 > _DIV_MAX or c2 > _DIV_MAX or c1 < 1 or c2 < 1:
        raise FixedPointOverflow("divisor out of range")
    if a == 0 or b == 0:
        return 0
    if b <= SMALL_MAX // a:
        # a * b fits: one division.
        p = a * b
        q1 = p // c1
        r1 = p - q1 * c1
    else:
        # a * b / c1 = qa * b + ra * b / c1 with a = qa * c1 + ra.
        qa = a // c1
        ra = a - qa * c1
        if qa and b > SMALL_MAX // qa:
            raise FixedPointOverflow("quotient too large")
        q1 = qa * b
        # ra * b / c1 by shift-and-add over the bits of b; the running remainder stays
        # below c1 < 2**29 and the running quotient below b, so nothing reaches 2**30.
        bit = 1 << (bitlen(b) - 1)
        q = 0
        r1 = 0
        while bit:
            q <<= 1
            r1 <<= 1
            if r1 >= c1:
                r1 -= c1
                q += 1
            if b & bit:
                r1 += ra
                if r1 >= c1:
                    r1 -= c1
                    q += 1
            bit >>= 1
        if q > SMALL_MAX - q1:
            raise FixedPointOverflow("quotient too large")
        q1 += q
    # floor(N / (c1 * c2)) = floor(q1 / c2); the exact remainder is r2 * c1 + r1.
    q = q1 // c2
    r2 = q1 - q * c2
    # Round up when 2 * (r2 * c1 + r1) >= c1 * c2, decided without forming either side:
    # with 2 * r1 = k * c1 + f (k in {0, 1}, 0 <= f < c1) it holds iff 2 * r2 + k >= c2.
    k = 1 if r1 >= c1 - r1 else 0
    if r2 + r2 + k >= c2:
        q += 1
    return q


def muldiv(a, b, c):
    """round(a * b / c), halves up, exact; see ratio()."""
    return ratio(a, b, c, 1)


def smuldiv(a, b, c):
    """round(a * b / c) for a signed a (halves away from zero); b, c as in ratio()."""
    if a < 0:
        return -ratio(-a, b, c, 1)
    return ratio(a, b, c, 1)


def isqrt(n):
    """floor(sqrt(n)) for 0 <= n < 2**30, digit by digit."""
    r = 0
    bit = 1 << 28
    while bit > n:
        bit >>= 2
    while bit:
        if n >= r + bit:
            n -= r + bit
            r = (r >> 1) + bit
        else:
            r >>= 1
        bit >>= 2
    return r


def log2_q24(x):
    """log2(x) in Q24 for an integer 1 <= x < 2**29, within 2**-24 of the true value.

    Two table steps bring the mantissa within 2**-12 of 1, where ln(1 + t) = t - t*t/2
    is exact to about 2**-38.
    """
    if x < 1 or x > _DIV_MAX:
        raise FixedPointOverflow("log2 argument out of range")
    n = bitlen(x) - 1
    m = x << (28 - n)  # mantissa in [1, 2) as Q28
    i = (m >> 22) & 63
    m = ratio(m, 64, 64 + i, 1)  # now in [1, 1 + 1/64)
    j = (m - _ONE28) >> 16
    m = ratio(m, 4096, 4096 + j, 1)  # now in [1, 1 + 1/4096] (j may reach 64)
    t = m - _ONE28  # at most 2**16
    h = t >> 2  # t*t would pass 2**30; (t/4)**2 keeps a wide margin at no useful cost
    ln1p = t - ((h * h) >> 25)  # t - t*t/2, Q28
    frac = LOG2_COARSE[i] + LOG2_FINE[j] + ratio(ln1p, INV_LN2_Q28, _ONE28, 1)
    return (n << 24) + ((frac + 8) >> 4)


def exp2_q24(y):
    """round(2**(y / 2**24)) for 0 <= y, result below 2**29.

    Relative error below 2**-26 before the final rounding to an integer.
    """
    n = y >> 24
    if y < 0 or n > 28:
        raise FixedPointOverflow("exp2 argument out of range")
    f = y & 0xFFFFFF
    i = f >> 18
    j = (f >> 12) & 63
    g = f & 4095  # remainder below 2**-12, as Q24
    u = ratio(g, LN2_Q28, 1 << 24, 1)  # g * ln 2, Q28, below 2**16
    h = u >> 1
    e = _ONE28 + u + ((h * h) >> 27)  # exp(u) = 1 + u + u*u/2, Q28
    m = ratio(EXP2_COARSE[i], EXP2_FINE[j], _ONE28, 1)
    m = ratio(m, e, _ONE28, 1)  # 2**f in Q28, in [1, 2)
    if n >= 28:
        return m << (n - 28)
    return (m + (1 << (27 - n))) >> (28 - n)
