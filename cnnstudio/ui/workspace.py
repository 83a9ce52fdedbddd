"""The Design, Train and Lab tabs and the editor's docks around them.

The palette, inspector and bottom docks serve the canvas: the Train and Lab tabs
get the window's whole width, and the docks come back, at the sizes they had,
when Design is chosen again.

Two things used to squeeze the docks.  A QTabWidget is as wide at least as its
widest page, the hidden ones included, so the Train page's minimum width left
the canvas's side docks with what remained (Layers shrank from 210 to 129 px
after one visit to Train, and the window widened itself when even that did not
fit).  So only the current page's size counts here (the others' size policy is
Ignored).  And a dock shown again takes whatever size the layout gives it, so
the window's dock layout is saved before the docks are hidden and restored when
they come back (``QMainWindow.saveState``: sizes, visibility, tabs).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDockWidget, QMainWindow, QSizePolicy, QTabWidget

#: the narrowest the side docks may become: below this their text is unreadable
MIN_SIDE_DOCK_WIDTH = 160


class Workspace:
    def __init__(self, window: QMainWindow, tabs: QTabWidget, side_docks: list[QDockWidget],
                 bottom_docks: list[QDockWidget]) -> None:
        self.window = window
        self.tabs = tabs
        self.side_docks = side_docks
        self.bottom_docks = bottom_docks
        self._hidden: list[QDockWidget] = []
        self._state = None
        for dock in side_docks:
            dock.setMinimumWidth(MIN_SIDE_DOCK_WIDTH)
        tabs.currentChanged.connect(self._on_tab)
        self._size_to_current_page()

    @property
    def docks(self) -> list[QDockWidget]:
        return [*self.side_docks, *self.bottom_docks]

    def replace_page(self, index: int, widget, title: str) -> None:
        """Put the real page in place of a placeholder (built on first use) without a tab change."""
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, widget, title)
        self.tabs.blockSignals(False)
        self._size_to_current_page()

    def show_editor(self) -> None:
        """Docks as the editor had them (also before the layout is saved at close)."""
        self._show_docks()

    def _on_tab(self, index: int) -> None:
        self._size_to_current_page()
        if index == 0:
            self._show_docks()
        else:
            self._hide_docks()

    def _size_to_current_page(self) -> None:
        current = self.tabs.currentIndex()
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            policy = QSizePolicy.Policy.Preferred if index == current else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)
            page.updateGeometry()

    def _hide_docks(self) -> None:
        if self._state is not None:
            return
        self._state = self.window.saveState()
        self._hidden = [dock for dock in self.docks if dock.isVisible()]
        for dock in self._hidden:
            dock.hide()

    def _show_docks(self) -> None:
        if self._state is None:
            return
        state, self._state = self._state, None
        for dock in self._hidden:
            dock.show()
        self._hidden = []
        self.window.restoreState(state)
