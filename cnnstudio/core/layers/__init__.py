"""The layer catalog: every layer type CNN Studio knows, by type name.

Adding a layer type means adding one ``LayerSpec`` to one of the family
modules and listing it in that module's ``SPECS``; the palette, inspector,
analysis, builder, code generator and file validation all read it from here.
"""

from __future__ import annotations

from . import activation, conv, dense, merge, normalization, pooling, shape_ops
from .base import (LayerSpec, ParamCount, ParamError, ParamSpec, ReceptiveStep, Shape, ShapeError,
                   format_shape, name_problem)

FAMILIES: tuple[str, ...] = ("Input", "Convolution", "Pooling", "Core", "Normalization", "Activation", "Merge")

CATALOG: dict[str, LayerSpec] = {
    spec.type_name: spec
    for module in (shape_ops, conv, pooling, dense, normalization, activation, merge)
    for spec in module.SPECS
}


def spec_for(type_name: str) -> LayerSpec:
    """The spec of ``type_name``; ``KeyError`` with the known names otherwise."""
    try:
        return CATALOG[type_name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise KeyError(f"unknown layer type {type_name!r} (known types: {known})") from None


def by_family() -> dict[str, list[LayerSpec]]:
    """Specs grouped for the palette, in the order of ``FAMILIES``."""
    groups: dict[str, list[LayerSpec]] = {family: [] for family in FAMILIES}
    for spec in CATALOG.values():
        groups[spec.family].append(spec)
    return groups


__all__ = ["CATALOG", "FAMILIES", "LayerSpec", "ParamCount", "ParamError", "ParamSpec", "ReceptiveStep",
           "Shape", "ShapeError", "by_family", "format_shape", "name_problem", "spec_for"]
