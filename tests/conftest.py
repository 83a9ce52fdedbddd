"""Shared test setup.

Qt needs a platform plugin before it is first imported; without a display and without this,
the test process aborts (SIGABRT) and pytest prints no summary.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import tempfile  # noqa: E402  (after the platform is chosen)

# Settings, recent files and autosave copies go to a throwaway folder, never the user's.
os.environ["CNNSTUDIO_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cnnstudio-tests-")
