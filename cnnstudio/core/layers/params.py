"""Layer parameters: ``ParamSpec`` and the table of parameter kinds.

``PARAM_KINDS`` is the one place that says what each kind of parameter is: how a
given value becomes its canonical form (or is refused with a reason), its JSON
Schema fragment, and what a valid value looks like in words (for fixes such as
"Set kernel_size to a whole number from 1 to 256").  ``ParamSpec`` delegates to
it, the project reader and the JSON Schema read it, and the inspector builds
one editor per kind listed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

#: longest shown form of a refused value: a message stays one readable line
SHOWN_CHARS = 60


class ParamError(ValueError):
    """A parameter value is outside what its spec allows."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


def format_number(number: float) -> str:
    """``3`` for 3.0, ``0.99`` for 0.99: bounds as people write them."""
    return str(int(number)) if float(number).is_integer() else str(number)


def shown(value: Any) -> str:
    """``repr(value)`` for a message, shortened; never fails (Python refuses to print
    integers of more than 4,300 digits, and a file may hold one)."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        return f"a {type(value).__name__} too large to show"
    return text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 5] + "[...]"


# --------------------------------------------------------------------------- the kinds

@dataclass(frozen=True)
class ParamKind:
    """What one kind of parameter accepts. Each function takes the ``ParamSpec``
    (for its bounds and choices); ``normalize`` never sees ``None``."""

    name: str
    normalize: Callable[["ParamSpec", Any], Any]
    schema: Callable[["ParamSpec"], dict[str, Any]]
    expected: Callable[["ParamSpec"], str]


def _as_int(spec: "ParamSpec", value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParamError(spec.name, f"expected an integer, got {shown(value)}")
    return value


def _as_float(spec: "ParamSpec", value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(spec.name, f"expected a number, got {shown(value)}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond every float
        raise ParamError(spec.name, f"{shown(value)} is far too large for a number here") from None
    if not math.isfinite(number):
        raise ParamError(spec.name, f"expected a finite number, got {shown(value)}")
    return number


def _in_range(spec: "ParamSpec", value: int | float) -> Any:
    if spec.minimum is not None and value < spec.minimum:
        raise ParamError(spec.name, f"{shown(value)} is below the minimum {format_number(spec.minimum)}")
    if spec.maximum is not None and value > spec.maximum:
        raise ParamError(spec.name, f"{shown(value)} is above the maximum {format_number(spec.maximum)}")
    return value


def _bounds(spec: "ParamSpec") -> dict[str, Any]:
    bounds = {}
    if spec.minimum is not None:
        bounds["minimum"] = spec.minimum
    if spec.maximum is not None:
        bounds["maximum"] = spec.maximum
    return bounds


def _span(spec: "ParamSpec") -> str:
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None:
        return f" from {format_number(low)} to {format_number(high)}"
    if low is not None:
        return f" of at least {format_number(low)}"
    return f" of at most {format_number(high)}" if high is not None else ""


def _bool(spec: "ParamSpec", value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(spec.name, f"expected true or false, got {shown(value)}")
    return value


def _choice(spec: "ParamSpec", value: Any) -> str:
    if not isinstance(value, str) or value.lower() not in spec.choices:
        options = ", ".join(repr(c) for c in spec.choices)
        raise ParamError(spec.name, f"{shown(value)} is not one of {options}")
    return value.lower()


def _text(spec: "ParamSpec", value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParamError(spec.name, f"expected some text, got {shown(value)}")
    return value.strip()


def _pair(spec: "ParamSpec", value: Any) -> list[int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ParamError(spec.name, f"expected two integers [height, width], got {shown(list(value))}")
        return [_in_range(spec, _as_int(spec, v)) for v in value]
    one = _in_range(spec, _as_int(spec, value))
    return [one, one]


def _shape(spec: "ParamSpec", value: Any) -> list[int]:
    if not isinstance(value, (list, tuple)) or not 1 <= len(value) <= 3:
        raise ParamError(spec.name, f"expected a list of 1 to 3 integers, got {shown(value)}")
    dims = [_as_int(spec, v) for v in value]
    inferred = [d for d in dims if d == -1]
    if inferred and (not spec.allow_infer or len(inferred) > 1):
        raise ParamError(spec.name, "at most one dimension may be -1" if spec.allow_infer
                         else "dimensions must be positive")
    for d in dims:
        if d != -1:
            _in_range(spec, d)
    return dims


def _shape_schema(spec: "ParamSpec") -> dict[str, Any]:
    item = {"type": "integer", "maximum": spec.maximum, "minimum": -1 if spec.allow_infer else spec.minimum}
    return {"type": "array", "items": item, "minItems": 1, "maxItems": 3}


def _shape_words(spec: "ParamSpec") -> str:
    infer = "; one of them may be -1" if spec.allow_infer else ""
    return f"a list of 1 to 3 whole numbers{_span(spec)}{infer}"


def _pair_schema(spec: "ParamSpec") -> dict[str, Any]:
    one = {"type": "integer", **_bounds(spec)}
    return {"oneOf": [one, {"type": "array", "items": one, "minItems": 2, "maxItems": 2}]}


PARAM_KINDS: dict[str, ParamKind] = {kind.name: kind for kind in (
    ParamKind("int", lambda s, v: _in_range(s, _as_int(s, v)),
              lambda s: {"type": "integer", **_bounds(s)}, lambda s: f"a whole number{_span(s)}"),
    ParamKind("float", lambda s, v: _in_range(s, _as_float(s, v)),
              lambda s: {"type": "number", **_bounds(s)}, lambda s: f"a number{_span(s)}"),
    ParamKind("bool", _bool, lambda s: {"type": "boolean"}, lambda s: "true or false"),
    ParamKind("choice", _choice, lambda s: {"enum": list(s.choices)},
              lambda s: "one of " + ", ".join(f'"{c}"' for c in s.choices)),
    ParamKind("text", _text, lambda s: {"type": "string", "minLength": 1}, lambda s: "some text"),
    ParamKind("pair", _pair, _pair_schema,
              lambda s: f"a whole number{_span(s)} or a pair [height, width] of them"),
    ParamKind("shape", _shape, _shape_schema, _shape_words),
)}


# --------------------------------------------------------------------------- one parameter

@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a layer type (or of a training callback).

    ``kind`` is a key of ``PARAM_KINDS``: ``int``, ``float``, ``bool``, ``choice``
    (one of ``choices``), ``pair`` (two ints ``[h, w]``; a single int means both),
    ``text``, ``shape`` (a list of 1 to 3 ints, ``-1`` allowed where ``allow_infer``).
    ``optional`` parameters accept ``None`` (for example pooling strides,
    which then default to the pool size, as in Keras).
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    allow_infer: bool = False
    label: str = ""
    #: ``(other_param, value)``: this parameter only matters while the other one has that value
    active_when: tuple[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"parameter {self.name!r}: unknown kind {self.kind!r} "
                             f"(known: {', '.join(PARAM_KINDS)})")

    def is_active(self, values: Mapping[str, Any]) -> bool:
        return self.active_when is None or values.get(self.active_when[0]) == self.active_when[1]

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def normalize(self, value: Any) -> Any:
        """Return the canonical form of ``value`` or raise ``ParamError``."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(self.name, "a value is required")
        return PARAM_KINDS[self.kind].normalize(self, value)

    def expected(self) -> str:
        """A valid value in words: ``a whole number from 1 to 256``."""
        words = PARAM_KINDS[self.kind].expected(self)
        return words + " (or null)" if self.optional else words

    def json_schema(self) -> dict[str, Any]:
        """The JSON-schema fragment of one value of this parameter."""
        schema = PARAM_KINDS[self.kind].schema(self)
        if self.optional:
            schema = {"oneOf": [{"type": "null"}, schema]}
        schema["description"] = self.help
        return schema
