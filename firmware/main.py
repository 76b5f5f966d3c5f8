# Runs at every boot. With a display (a real handheld) the screens run and the host
# tools are answered between button presses; without one (the virtual board, a bare
# Pico) the handheld serves the host tools only. Ctrl-C (as mpremote sends) stops it
# and leaves the REPL, as on any MicroPython board.
#
# If start-up fails (the table store, the FLC replay or the screens raising,
# MemoryError included), the device does not fall to the REPL: it comes up in safe
# mode, says what failed (on the screen, and in the protocol's status), and still
# serves status and the pulls, so that no record is stranded on it.
import gc

try:
    import machine

    _display = hasattr(machine, "SPI")
except ImportError:
    _display = False

_stage = "start-up"


def _start():
    global _stage
    if _display:
        _stage = "screens (loading)"
        import app  # allocates the display buffers before anything else

        app.run()  # says what failed itself, and goes to safe mode (app.safe)
    else:
        import protocol  # imports service, whose table buffer comes first from the heap
        import service

        _stage = "serial link"
        link = protocol.Link(hello=False)  # its line buffer, before the journal's replay
        _stage = "dose table store"
        service.store()  # check the active dose table now, falling back to the other slot
        _stage = "FLC records (journal replay)"
        service.tracker()  # replay the FLC journal (damaged records reported and skipped)
        _stage = "serving"
        protocol.serve(link=link)


def _safe(e):
    gc.collect()
    import protocol
    import service

    reason = _stage + ": " + type(e).__name__ + ": " + str(e)
    service.safe_mode(reason)
    protocol.note_error("start-up failed, safe mode: " + reason)
    if _display:
        try:
            import app

            app.safe_screen(reason)
        except Exception:  # noqa: S110 (no screen at all: the protocol still says why)
            pass
    protocol.serve()


try:
    _start()
except Exception as _e:  # KeyboardInterrupt (Ctrl-C) still reaches the REPL
    _safe(_e)
