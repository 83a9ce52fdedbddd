"""Render the main window with a project open to a PNG, without a screen."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def render_window(project: str | None, output: str, size: tuple[int, int] = (1600, 1000),
                  select: str | None = None, view: str = "editor", train_steps: int = 40) -> Path:
    """Open ``project`` in a fresh window of ``size``, fit the network, save a PNG.

    ``view="training"`` first trains for ``train_steps`` real batches (over two
    epochs, on a subset of the project's dataset) so plots and feature maps are filled.
    ``view="lab-<page>"`` shows that page of the Lab tab (``lab-filters``, ``lab-pooling``, ...;
    the keys of ``cnnstudio.ui.lab.view.PAGES``)."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # a throwaway settings folder: a screenshot never reads or changes the user's layout or recent files
    os.environ.setdefault("CNNSTUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="cnnstudio-screenshot-"))
    from PySide6.QtWidgets import QApplication

    from .app import make_application
    from .main_window import MainWindow

    app = make_application()
    window = MainWindow(restore_layout=False)
    window.prompter = _NoDialogs()
    window.resize(*size)
    window.show()
    try:
        # as an untitled copy: a screenshot never writes beside the project (its runs go to a scratch folder)
        if project and not window.open_path(Path(project), ask=False, as_copy=True):
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
    _wait_for_previews(window)
    window.view.show_network()
    app.processEvents()
    if view == "training":
        _train_for_screenshot(app, window, train_steps)
    elif view.startswith("lab-"):
        try:
            window.show_lab(view[len("lab-"):])
        except KeyError as error:
            window.close()
            raise ValueError(error.args[0]) from None
        for _ in range(5):
            app.processEvents()
    target = Path(output)
    if not window.grab().save(str(target)):
        raise OSError(f"could not write {target}")
    window.document.undo_stack.setClean()
    window.close()
    QApplication.processEvents()
    return target


def _wait_for_previews(window, seconds: float = 60.0) -> None:
    """The live previews of the opened network, so the picture shows its thumbnails."""
    from PySide6.QtCore import QEventLoop, QTimer
    previews = window.previews
    if not previews.enabled or not len(window.document.network) or previews.result is not None:
        return
    loop = QEventLoop()
    previews.changed.connect(loop.quit)
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    previews.changed.disconnect(loop.quit)


def _train_for_screenshot(app, window, steps: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer
    training = window.show_training()
    epochs = 2
    per_epoch = max(1, steps // epochs)
    batch = training.settings_box.batch_size.value()
    validation = training.dataset_box.validation.value() / 100
    training.dataset_box.subset.setValue(int(per_epoch * batch / (1 - validation)) + 1)
    training.settings_box.epochs.setValue(epochs)
    if training.layer_box.count() > 1:
        training.layer_box.setCurrentIndex(0)
    loop = QEventLoop()
    training.runFinished.connect(lambda _status: loop.quit())
    if not training.start():
        raise ValueError("the project cannot be trained; see its problems in the editor")
    QTimer.singleShot(600_000, loop.quit)
    loop.exec()
    if training.failure:
        raise ValueError(f"training failed: {training.failure.splitlines()[0]}")
    training.wait_for_background()  # the finished run's model and results, loaded from its folder
    training.tabs.setCurrentIndex(0)
    for _ in range(5):
        app.processEvents()


class _NoDialogs:
    """A screenshot has no one to answer dialogs: every message becomes an error for the command."""

    def error(self, title: str, text: str) -> None:
        raise ValueError(f"{title}: {text}")

    def info(self, title: str, text: str) -> None:
        pass

    def ask_save_changes(self, name: str) -> str:
        return "discard"

    def ask_stop_training(self) -> bool:
        return True

    def ask_restore(self, description: str) -> bool:
        return False
