# Runs at every boot: the handheld answers the host tools on its USB serial port.
# Ctrl-C (as mpremote sends) stops it and leaves the REPL, as on any MicroPython board.
import protocol
import service

service.store()  # check the active dose table now, falling back to the other slot
service.tracker()  # replay the FLC journal (damaged records reported and skipped)
protocol.serve()
