"""The table of parameter kinds: one entry per kind decides how values are checked,
what the JSON Schema says and how a fix describes a valid value."""

from __future__ import annotations

import jsonschema
import pytest

from cnnstudio.core.layers import CATALOG
from cnnstudio.core.layers.params import PARAM_KINDS, ParamError, ParamSpec
from cnnstudio.training.callback_settings import CALLBACK_OPTIONS

ALL_SPECS = [p for spec in CATALOG.values() for p in spec.params] + [p for o in CALLBACK_OPTIONS for p in o.params]


def test_every_kind_in_use_is_in_the_table_and_an_unknown_kind_is_refused_at_once():
    assert {p.kind for p in ALL_SPECS} <= set(PARAM_KINDS)
    with pytest.raises(ValueError, match="unknown kind 'colour'"):
        ParamSpec("tint", "colour", "red", "A colour.")


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda p: f"{p.name}-{p.kind}")
def test_each_parameter_accepts_its_default_by_its_own_schema_and_describes_a_valid_value(spec):
    jsonschema.validate(spec.normalize(spec.default), spec.json_schema())
    words = spec.expected()
    assert words and "\n" not in words
    if spec.minimum is not None and spec.maximum is not None and spec.kind in ("int", "float", "pair"):
        low, high = (int(b) if float(b).is_integer() else b for b in (spec.minimum, spec.maximum))
        assert f"from {low} to {high}" in words


def test_a_text_parameter_has_a_fix_in_words():
    url = ParamSpec("root", "text", "http://localhost:9000", "Server address.")
    assert url.expected() == "some text"
    with pytest.raises(ParamError, match="expected some text"):
        url.normalize("   ")


@pytest.mark.parametrize("kind, value, message", [
    ("float", 10 ** 400, "far too large"),
    ("float", float("nan"), "finite"),
    ("int", 10 ** 5000, "above the maximum"),
    ("int", -(10 ** 5000), "below the minimum"),
    ("pair", [10 ** 5000, 1], "above the maximum"),
    ("shape", [1, 2, 10 ** 5000], "above the maximum"),
    ("choice", "x" * 10_000, "is not one of"),
], ids=["float-10^400", "float-nan", "int-10^5000", "int-minus-10^5000", "pair-10^5000", "shape-10^5000",
        "choice-10000-chars"])
def test_values_no_parameter_can_take_are_refused_with_a_short_message(kind, value, message):
    spec = ParamSpec("p", kind, None, "", minimum=1, maximum=100, choices=("a", "b"), optional=True)
    with pytest.raises(ParamError, match=message) as caught:
        spec.normalize(value)
    assert len(str(caught.value)) < 200
