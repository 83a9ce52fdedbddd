"""Family icons, drawn once from the SVGs in ``resources/icons/``."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from cnnstudio.paths import RESOURCES


@lru_cache(maxsize=None)
def family_icon(family: str) -> QIcon:
    path = RESOURCES / "icons" / f"family-{family.lower()}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


@lru_cache(maxsize=None)
def app_icon() -> QIcon:
    return QIcon(str(RESOURCES / "icons" / "cnnstudio.svg"))
