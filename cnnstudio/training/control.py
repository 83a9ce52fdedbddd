"""Steering a session from outside its thread: Ctrl+C in a terminal, or commands on
standard input from the studio.

The studio writes one command per line to the training process's standard
input: ``stop``, ``pause``, ``resume``, ``layer NAME`` (whose feature maps to
send; ``layer`` alone for none).  When the input closes (the window went away),
the run stops cleanly, so a training process never outlives its window by more
than a batch.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any, TextIO


def apply_command(session: Any, line: str) -> bool:
    """Carry out one command line; ``False`` for a line that is not a command."""
    word, _, rest = line.strip().partition(" ")
    if word == "stop":
        session.request_stop()
    elif word == "pause":
        session.pause()
    elif word == "resume":
        session.resume()
    elif word == "layer":
        session.set_probe_layer(rest.strip() or None)
    else:
        return False
    return True


def follow_commands(session: Any, stream: TextIO | None = None) -> threading.Thread:
    """Read commands from ``stream`` (standard input) on a daemon thread; stop the
    run when it closes."""
    source = stream if stream is not None else sys.stdin

    def read() -> None:
        try:
            for line in source:
                apply_command(session, line)
        except (OSError, ValueError):
            pass
        session.request_stop()

    thread = threading.Thread(target=read, name="cnnstudio-commands", daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def ctrl_c_stops(session: Any, stream: TextIO | None) -> Iterator[None]:
    """The first Ctrl+C asks the session to stop after the current batch (a clean,
    resumable stop); the second raises ``KeyboardInterrupt`` as usual.  The handler
    stays until the block ends, saving and the test evaluation included."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def handler(signum: int, frame: Any) -> None:
        if session.stop_requested:
            raise KeyboardInterrupt
        if stream is not None:
            stream.write("\nStopping after this batch (press Ctrl+C again to abort)...\n")
            stream.flush()
        session.request_stop()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


__all__ = ["apply_command", "ctrl_c_stops", "follow_commands"]
