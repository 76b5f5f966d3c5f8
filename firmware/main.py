# Runs at every boot. With a display (a real handheld) the screens run and the host
# tools are answered between button presses; without one (the virtual board, a bare
# Pico) the handheld serves the host tools only. Ctrl-C (as mpremote sends) stops it
# and leaves the REPL, as on any MicroPython board.
try:
    import machine

    _display = hasattr(machine, "SPI")
except ImportError:
    _display = False

if _display:
    import app  # allocates the display buffers before anything else

    app.run()
else:
    import protocol
    import service

    service.store()  # check the active dose table now, falling back to the other slot
    service.tracker()  # replay the FLC journal (damaged records reported and skipped)
    protocol.serve()
