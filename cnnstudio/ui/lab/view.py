"""The Lab tab: the lecture's ideas as small interactive pages (issue #7).

A list of pages on the left, the chosen page on the right.  Each page is built the
first time it is shown, so opening the tab costs only the page you look at.  Pages
get the editor's document (for "the network open in the editor") and a callable
returning the training view, whose ``trained`` run the after-training pages read.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QScrollArea, QStackedWidget, QWidget

from ..document import NetworkDocument

#: page key -> (list title, module, class); the keys are what ``show_lab(page)`` and the CLI take
PAGES: dict[str, tuple[str, str, str]] = {
    "filters": ("Filter playground", "filter_page", "FilterPage"),
    "convolution": ("Convolution step by step", "stepper_page", "StepperPage"),
    "pooling": ("Pooling", "pooling_page", "PoolingPage"),
    "receptive-field": ("Receptive field", "receptive_page", "ReceptivePage"),
    "im2col": ("im2col: a matrix product", "im2col_page", "Im2colPage"),
    "memory": ("Memory", "memory_page", "MemoryPage"),
    "learned": ("After training", "learned_page", "LearnedPage"),
}


class LabView(QWidget):
    """The page list and the stacked pages.  ``pages[key]`` holds the pages built so far."""

    def __init__(self, document: NetworkDocument, training_view: Callable[[], object] = lambda: None,
                 parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.training_view = training_view
        self.pages: dict[str, QWidget] = {}
        self._holders: dict[str, QScrollArea] = {}
        self.page_list = QListWidget()
        self.page_list.setMaximumWidth(180)
        self.stack = QStackedWidget()
        for key, (title, _module, _cls) in PAGES.items():
            item = QListWidgetItem(title)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.page_list.addItem(item)
            holder = QScrollArea()
            holder.setWidgetResizable(True)
            holder.setFrameShape(QScrollArea.Shape.NoFrame)
            holder.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # pages fit the width
            self._holders[key] = holder
            self.stack.addWidget(holder)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.page_list)
        layout.addWidget(self.stack, 1)
        self.page_list.currentRowChanged.connect(self._on_row)
        self.page_list.setCurrentRow(0)

    @property
    def current_key(self) -> str:
        return list(PAGES)[self.stack.currentIndex()]

    def _on_row(self, row: int) -> None:
        if row >= 0:
            self.show_page(list(PAGES)[row])

    def page(self, key: str) -> QWidget:
        """The page ``key``, built on first use."""
        if key not in PAGES:
            raise KeyError(f"there is no lab page {key!r}; the pages are: {', '.join(PAGES)}")
        if key not in self.pages:
            import importlib
            _title, module_name, class_name = PAGES[key]
            module = importlib.import_module(f"{__package__}.{module_name}")
            page = getattr(module, class_name)(self)
            self.pages[key] = page
            self._holders[key].setWidget(page)
        return self.pages[key]

    def show_page(self, key: str) -> QWidget:
        page = self.page(key)
        index = list(PAGES).index(key)
        self.stack.setCurrentIndex(index)
        if self.page_list.currentRow() != index:
            self.page_list.blockSignals(True)
            self.page_list.setCurrentRow(index)
            self.page_list.blockSignals(False)
        refresh = getattr(page, "on_shown", None)
        if refresh is not None:
            refresh()
        return page

    def trained(self):
        """``(model, network, validation images)`` of the run the Train tab shows, or ``None``."""
        view = self.training_view()
        trained = getattr(view, "trained", None) if view is not None else None
        if trained is None:
            return None
        return trained.model, trained.network, trained.x

    def shutdown(self, milliseconds: int = 60000) -> None:
        """Wait for any background work a page started (on close and in tests)."""
        for page in self.pages.values():
            stop = getattr(page, "wait_for_background", None)
            if stop is not None:
                stop(milliseconds)
