# Tiny assertion helper shared by the firmware test scripts. Each script prints one
# line per check; the runner fails on any "FAIL" line and compares the output of
# CPython with that of MicroPython (as MicroPython's own run-tests.py does).
failures = [0]


def check(name, got, want):
    if got == want:
        print("ok", name, got)
    else:
        failures[0] += 1
        print("FAIL", name, "got", got, "want", want)


def refused(name, fn, field):
    """fn() must raise InputError naming `field`."""
    from limits import InputError

    try:
        value = fn()
    except InputError as e:
        check(name, e.field, field)
        print("   ", e.message)
        return
    failures[0] += 1
    print("FAIL", name, "returned", value, "instead of refusing", field)


def fake_machine(**parts):
    """Put a stand-in `machine` module (Pin, SPI, ...) in sys.modules, before any
    firmware module imports it."""
    import sys

    class Machine:
        pass

    m = Machine()
    for name in parts:
        setattr(m, name, parts[name])
    sys.modules["machine"] = m
    return m


def done():
    print("failures", failures[0])
