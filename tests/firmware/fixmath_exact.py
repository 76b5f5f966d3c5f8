# fixmath.ratio / isqrt / log2 / exp2 against exact big-int arithmetic (both engines
# have arbitrary-precision ints on the host; the device code never uses them).
import fixmath
from check import check, done

seed = [12345]


def rnd(n):
    # Deterministic LCG so both interpreters see the same numbers.
    seed[0] = (seed[0] * 1103515245 + 12345) % 2147483648
    return seed[0] % n


bad = 0
count = 0
for _ in range(3000):
    a = rnd(1 << 30)
    b = rnd(1 << 30) >> rnd(30)
    c1 = 1 + (rnd(1 << 29) >> rnd(29))
    c2 = 1 + (rnd(1 << 20) >> rnd(20))
    if a * b // c1 >= 1 << 30:
        continue
    n = a * b
    d = c1 * c2
    want = (2 * n + d) // (2 * d)  # round half up
    count += 1
    if fixmath.ratio(a, b, c1, c2) != want:
        bad += 1
        print("ratio mismatch", a, b, c1, c2)
check("ratio exact on " + str(count) + " draws", bad, 0)

bad = 0
for n in range(0, 70000, 7):
    r = fixmath.isqrt(n)
    if not (r * r <= n < (r + 1) * (r + 1)):
        bad += 1
for n in (1 << 29, (1 << 30) - 1, 999999999):
    r = fixmath.isqrt(n)
    if not (r * r <= n < (r + 1) * (r + 1)):
        bad += 1
check("isqrt floor", bad, 0)

# log2 of powers of two is exact; exp2 of exact integers too.
check("log2(1)", fixmath.log2_q24(1), 0)
check("log2(2**20)", fixmath.log2_q24(1 << 20), 20 << 24)
check("exp2(10.0)", fixmath.exp2_q24(10 << 24), 1024)
check("exp2(0.5)*2**20", fixmath.exp2_q24((20 << 24) + (1 << 23)), 1482910)  # 2**20.5 = 1482910.4
# log2(3) = 1.5849625007...; in Q24 26591258.1 -> within one unit
v = fixmath.log2_q24(3)
check("log2(3) within 1 ulp", abs(v - 26591258) <= 1, True)
# A round trip: exp2(log2(x)) == x for exact-ish x
bad = 0
for x in (3, 7, 100, 1000, 12345, 99999, 1000003):
    if fixmath.exp2_q24(fixmath.log2_q24(x)) != x:
        bad += 1
check("exp2(log2(x)) == x", bad, 0)
try:
    fixmath.log2_q24(0)
    check("log2(0) refused", False, True)
except fixmath.FixedPointOverflow:
    check("log2(0) refused", True, True)
done()
