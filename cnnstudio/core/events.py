"""A minimal observer: the Qt-free core announces changes, the UI subscribes."""

from __future__ import annotations

from typing import Any, Callable


class Event:
    """A list of callbacks called in subscription order by ``emit``."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def subscribe(self, callback: Callable[..., Any]) -> None:
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[..., Any]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)
