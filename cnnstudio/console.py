"""The command line as a program: its name, its exit codes, how its help shows defaults,
and what a Ctrl+C does once the command is done.

``cli`` holds the commands; this module holds what every command shares as a tool a
person runs from a terminal (and scripts run by exit code).
"""

from __future__ import annotations

import argparse
import atexit
import os
import signal
import sys

DONE, FAILED, BAD_INPUT, INTERRUPTED = 0, 1, 2, 130
EXIT_CODES = ("exit codes: 0 done, 1 failed, 2 bad input (one line on standard error, no traceback), "
              "130 interrupted (Ctrl+C)")


def program_name() -> str:
    """How the user started us, for usage lines and the commands we suggest:
    ``python -m cnnstudio``, or the installed ``cnnstudio`` command."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return "python -m cnnstudio" if spec is not None and spec.name == "cnnstudio.__main__" else "cnnstudio"


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless the help already says it (an
    option whose default depends on the project says so in words); on/off flags and
    required options have none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (not action.option_strings or action.required or "default" in text
                or action.default in (None, False, argparse.SUPPRESS) or action.nargs == 0):
            return text
        return f"{text} (default: %(default)s)"


def exit_on_late_interrupt() -> None:
    """Make a Ctrl+C that comes after the command finished end the process with 130.

    Python turns a Ctrl+C into ``KeyboardInterrupt`` wherever the interpreter is; once
    ``main`` has returned, that is in its shutdown (atexit callbacks, torch's
    finalizers), where nothing catches it, and late in the shutdown Python puts the
    signal's default action back: the process then dies by the signal (exit -2, often
    with a traceback) instead of reporting the interruption.  So: until the atexit
    callbacks start (while other threads are joined, the one place a shutdown may
    hang), a Ctrl+C exits with 130 at once; from then on it is ignored, and the process
    exits with its own code.  Call from the main thread, once the command's own
    handling of Ctrl+C has ended."""

    def interrupted(signum: int, frame: object) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(INTERRUPTED)

    signal.signal(signal.SIGINT, interrupted)
    # atexit runs the last registered first: this comes before the callbacks that tear torch down
    atexit.register(signal.signal, signal.SIGINT, signal.SIG_IGN)


__all__ = ["BAD_INPUT", "DONE", "EXIT_CODES", "FAILED", "HelpFormatter", "INTERRUPTED", "exit_on_late_interrupt",
           "program_name"]
