# Runs on MicroPython and CPython alike (firmware on the path), with argv: TABLE KEYS N.
# Prints "name value" lines: microseconds for the signature check, a full load and a
# dose look-up, and the heap a loaded table keeps (MicroPython only).
import sys

from ticks import heap_free, ticks_diff, ticks_us

import dosetable
import dosing
import signature

path, keys_path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
keys = signature.load_keys(keys_path)
with open(path, "rb") as f:
    data = f.read()
import hashlib  # noqa: E402

end = len(data) - 396
digest = hashlib.sha256(data[:end]).digest()
kid = data[end + 2 : end + 10]
t0 = ticks_us()
for _ in range(n // 10 or 1):
    ok = signature.verify(digest, data[end + 12 :], keys[kid][0], keys[kid][1])
print("verify_us", ticks_diff(ticks_us(), t0) // (n // 10 or 1), 1 if ok else 0)
before = heap_free()
t0 = ticks_us()
table = dosetable.Table(data, keys)
print("load_us", ticks_diff(ticks_us(), t0))
print("heap_bytes", (before - heap_free()) if before >= 0 else -1)
t0 = ticks_us()
for _ in range(n):
    dosing.dose_for(table, "lenalidomide", 250, None, False, 182, 700)
print("lookup_us", ticks_diff(ticks_us(), t0) // n)
