"""The inspector has an editor for every kind of parameter the catalog's table lists,
and each shows a value and gives back one that means the same."""

from __future__ import annotations

import pytest

from cnnstudio.core.layers import CATALOG
from cnnstudio.core.layers.params import PARAM_KINDS
from cnnstudio.training.callback_settings import CALLBACK_OPTIONS
from cnnstudio.ui.panels.param_fields import FIELD_TYPES, make_field

SPECS = [p for spec in CATALOG.values() for p in spec.params] + [p for o in CALLBACK_OPTIONS for p in o.params]


def test_every_kind_has_exactly_one_editor():
    assert set(FIELD_TYPES) == set(PARAM_KINDS)


@pytest.mark.parametrize("kind", sorted(PARAM_KINDS))
def test_an_editor_shows_a_value_and_gives_it_back(qtbot, kind):
    spec = next(p for p in SPECS if p.kind == kind and not (kind == "int" and p.optional))
    field = make_field(spec)
    qtbot.addWidget(field)
    value = spec.normalize(spec.default)
    field.set_value(value)
    assert spec.normalize(field.value()) == value
