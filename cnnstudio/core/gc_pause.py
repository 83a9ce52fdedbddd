"""Bulk work without CPython's cyclic garbage collector.

The collector runs whenever enough container objects have been allocated, and a
full pass walks every live object: building a graph of tens of thousands of
layers (reading a file, analysing it) triggers passes over an ever larger heap,
which made loading grow faster than the file.  Nothing these steps build needs
the collector (reference counting frees it), so it is paused around them.
"""

from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block (if it was on), then turn it back on."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
