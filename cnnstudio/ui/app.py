"""``python main.py [PROJECT]``: start the studio."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QCoreApplication, Qt, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from .icons import app_icon


#: Qt messages that say nothing to a user (the offscreen platform cannot size native windows)
QUIET_QT_MESSAGES = ("does not support propagateSizeHints",)


def _qt_message(mode, context, message: str) -> None:
    if not any(noise in message for noise in QUIET_QT_MESSAGES):
        sys.stderr.write(message + "\n")


def make_application(argv: Sequence[str] = ()) -> QApplication:
    existing = QApplication.instance()
    if existing is not None:
        return existing
    qInstallMessageHandler(_qt_message)
    QCoreApplication.setOrganizationName("CNN Studio")
    QCoreApplication.setApplicationName("CNN Studio")
    QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([sys.argv[0], *argv])
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python main.py", description="CNN Studio: design CNNs visually.")
    parser.add_argument("project", nargs="?", help="a .cnnproj file to open")
    args, qt_args = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    app = make_application(qt_args)
    from .main_window import MainWindow  # after QApplication exists
    window = MainWindow()
    window.show()
    if os.environ.get("CNNSTUDIO_EXIT_AFTER_SHOW"):  # startup benchmark: report once painted, then quit
        from PySide6.QtCore import QTimer
        QTimer.singleShot(0, lambda: (print("window shown", flush=True), app.quit()))
    recovered = window.offer_recovery()
    if args.project and not recovered:
        window.open_path(Path(args.project), ask=False)
    return app.exec()
