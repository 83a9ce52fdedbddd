"""Render the main window with a project open to a PNG, without a screen."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def render_window(project: str | None, output: str, size: tuple[int, int] = (1600, 1000),
                  select: str | None = None) -> Path:
    """Open ``project`` in a fresh window of ``size``, fit the network, save a PNG."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # a throwaway settings folder: a screenshot never reads or changes the user's layout or recent files
    os.environ.setdefault("CNNSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="cnnstudio-screenshot-"))
    from PySide6.QtWidgets import QApplication

    from .app import make_application
    from .main_window import MainWindow

    app = make_application()
    window = MainWindow(restore_layout=False)
    window.resize(*size)
    window.show()
    try:
        if project and not window.open_path(Path(project), ask=False):
            raise ValueError(f"cannot open {project}")
        if select:
            node = window.document.network.node_by_name(select)
            if node is None:
                raise ValueError(f"there is no layer named {select!r}")
            window.scene.select_nodes([node.id])
    except ValueError:
        window.close()
        raise
    for _ in range(5):
        app.processEvents()
    window.view.show_network()
    app.processEvents()
    target = Path(output)
    if not window.grab().save(str(target)):
        raise OSError(f"could not write {target}")
    window.document.undo_stack.setClean()
    window.close()
    QApplication.processEvents()
    return target
