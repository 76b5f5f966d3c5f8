"""The host engines' entry point: the device protocol over stdin/stdout (a pipe)."""

import protocol

protocol.serve(hello=False)
