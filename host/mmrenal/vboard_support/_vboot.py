# Virtual board bootstrap, run by the MicroPython unix port as
#   micropython -i _vboot.py SUPPORT_DIR CONTROL_DIR MODE
# with the board's flash folder as the working directory. It makes the interpreter
# look like a Pico's: sys.path, a `machine` module with an RTC, writes to flash counted
# for power-cut injection, then boot.py and (MODE "friendly") main.py in __main__, as a
# board runs them. The supervisor (host/mmrenal/vboard.py) does the serial side.
import sys

sys.stdout.write("\x1b_vb:up\x1b\\")  # running: Ctrl-C may now be delivered as SIGINT
_vb_args = sys.argv[1:]
sys.argv[:] = []
sys.path[:] = ["", ".frozen", "lib", _vb_args[0]]
import _vboard_machine  # noqa: E402
import _vboard_os  # noqa: E402

_vboard_machine.install(_vb_args[1])
_vboard_os.install(_vb_args[1])
sys.path.pop()
sys.modules["machine"] = _vboard_machine
sys.modules["os"] = _vboard_os


def _vb_run(name, g):
    try:
        src = open(name).read()
    except OSError:
        return
    try:
        exec(compile(src, name, "exec"), g)
    except KeyboardInterrupt as e:
        sys.print_exception(e)
    except SystemExit:
        raise
    except Exception as e:
        sys.print_exception(e)


_vb_run("boot.py", globals())
if _vb_args[2] == "friendly":
    _vb_run("main.py", globals())
sys.stdout.write("\x1b_vb:ready\x1b\\")
del _vb_run, _vb_args
