"""Layer names in use, and fresh Keras-style ones (``conv2d_3``: the lowest free number).

One book serves the network (``node_by_name``, ``unique_name``) and paste
planning. It remembers, per prefix, a number below which every name is taken,
so naming thousands of layers one after the other stays linear instead of
counting up from 1 each time.
"""

from __future__ import annotations

#: digits of a name's number that the book tracks; longer ones cannot be a fresh name's anyway
_MAX_NUMBER_DIGITS = 18


class LayerNames:
    """A map from layer name to owner (a node id, or None) with fresh-name lookup."""

    def __init__(self) -> None:
        self._owners: dict[str, str | None] = {}
        #: prefix -> a number such that ``prefix_1`` up to ``prefix_(number - 1)`` are all taken
        self._lowest_free: dict[str, int] = {}

    def __contains__(self, name: object) -> bool:
        return name in self._owners

    def __len__(self) -> int:
        return len(self._owners)

    def owner(self, name: str) -> str | None:
        return self._owners.get(name)

    def add(self, name: str, owner: str | None = None) -> None:
        self._owners[name] = owner

    def remove(self, name: str) -> None:
        del self._owners[name]
        prefix, _, digits = name.rpartition("_")
        if prefix and digits.isascii() and digits.isdigit() and len(digits) <= _MAX_NUMBER_DIGITS:
            number = int(digits)
            if number < self._lowest_free.get(prefix, 1):
                self._lowest_free[prefix] = max(number, 1)

    def clear(self) -> None:
        self._owners.clear()
        self._lowest_free.clear()

    def fresh(self, prefix: str) -> str:
        """``prefix_N`` with the lowest N >= 1 not in use (not added: the caller adds it)."""
        number = self._lowest_free.get(prefix, 1)
        while f"{prefix}_{number}" in self._owners:
            number += 1
        self._lowest_free[prefix] = number
        return f"{prefix}_{number}"
