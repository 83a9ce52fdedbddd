"""Shared test setup.

Qt needs a platform plugin before it is first imported; without a display and without this,
the test process aborts (SIGABRT) and pytest prints no summary.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
