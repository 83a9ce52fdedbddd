"""A sweep's search space: which settings and layer parameters vary, and over what.

One dimension is a name and a spec, written the same way on the command line
(``--param NAME=SPEC``), in the project file's ``experiments.space`` object and
in the Experiments view's table:

* names: a training setting (``learning_rate`` or ``lr``, ``batch_size``,
  ``optimizer``, ``epochs``, ``momentum``... any ``TrainConfig`` field), a layer
  parameter ``LAYER.PARAM`` (``conv2d_1.filters``, ``conv2d_1.kernel_size``,
  ``dense_1.units``, ``dropout_1.rate``), or ``LAYER.present``: whether that block
  is in the network at all;
* specs: a range ``LOW..HIGH`` with optional ``:log`` (sampled on a log scale) or
  ``:step=S``; or a list of choices ``A,B,C`` (``32,64,128``, ``adam,sgd``,
  ``true,false``, ``3x3,5x5`` for a kernel); a single value fixes the setting.

Every value a spec can produce is checked against the same rules as a hand-made
edit (the layer's ``ParamSpec``, ``TrainConfig``), so a spec outside what the
setting allows is refused at once with a ``SpaceError`` naming it.  Whether a
combination of values gives a working network is only known per trial: such a
trial fails with the network's own message and the sweep goes on.

Removing a block (``present`` false) takes it out and wires its input to
everything it fed; only blocks with exactly one input whose removal alone keeps
the network valid may be made optional.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any, Mapping

from cnnstudio.core.analysis import analyze
from cnnstudio.core.layers import ParamError, spec_for
from cnnstudio.core.layers.base import ParamSpec
from cnnstudio.core.network import Network

from ..config import TrainConfig
from ..settings import SettingsError

PRESENT = "present"
#: short names accepted for training settings
ALIASES = {"lr": "learning_rate", "batch": "batch_size", "wd": "weight_decay"}
#: ``TrainConfig`` fields a sweep may not vary (the dataset's split lives elsewhere)
FIXED_SETTINGS = ("validation_split",)
#: layer parameter kinds a sweep can vary
SWEEPABLE_KINDS = ("int", "float", "bool", "choice", "pair")


class SpaceError(SettingsError):
    """A dimension (or another part of an experiment) that cannot be used; ``str()`` names
    it and where it came from, as for any setting."""


@dataclass(frozen=True)
class Dimension:
    """One swept setting: a range (``low``..``high``) or ``choices``.

    ``kind`` is how values are drawn: ``int`` or ``float`` for ranges, ``choice`` for
    lists.  Choices are plain values Optuna can store (a non-square kernel is the
    text ``"3x5"``); ``project_value`` turns one into what the project holds."""

    name: str
    spec: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()

    # ------------------------------------------------------------------ what it sets
    @property
    def layer(self) -> str | None:
        """The layer's name for a layer dimension, else ``None`` (a training setting)."""
        return self.name.partition(".")[0] if "." in self.name else None

    @property
    def param(self) -> str:
        """The layer parameter (or ``present``), or the training setting's name."""
        return self.name.partition(".")[2] if "." in self.name else self.name

    @property
    def is_presence(self) -> bool:
        return self.layer is not None and self.param == PRESENT

    @property
    def is_range(self) -> bool:
        return self.kind in ("int", "float")

    # ------------------------------------------------------------------ drawing values
    def suggest(self, trial: Any) -> Any:
        """Draw this dimension's value for an Optuna trial."""
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log)
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, step=self.step, log=self.log)
        return trial.suggest_categorical(self.name, list(self.choices))

    def grid(self) -> list[Any] | None:
        """Every value, for a grid search; ``None`` for a continuous range."""
        if self.kind == "choice":
            return list(self.choices)
        if self.kind == "int" and not self.log:
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if self.kind == "float" and self.step:
            count = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
            return [round(self.low + i * self.step, 12) for i in range(count)]
        return None

    def project_value(self, value: Any) -> Any:
        """The value as the project stores it (``"3x5"`` -> ``[3, 5]``)."""
        if isinstance(value, str) and _is_pair_text(value):
            height, _, width = value.lower().partition("x")
            return [int(height), int(width)]
        return value


@dataclass(frozen=True)
class SearchSpace:
    dimensions: tuple[Dimension, ...] = ()

    def __iter__(self):
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    @property
    def names(self) -> list[str]:
        return [dimension.name for dimension in self.dimensions]

    def specs(self) -> dict[str, str]:
        """``{name: spec}``: what the project file and the study keep."""
        return {dimension.name: dimension.spec for dimension in self.dimensions}

    def suggest(self, trial: Any) -> dict[str, Any]:
        return {dimension.name: dimension.suggest(trial) for dimension in self.dimensions}

    def grid(self) -> dict[str, list[Any]]:
        """The grid of every dimension; ``SpaceError`` for a continuous one."""
        result = {}
        for dimension in self.dimensions:
            values = dimension.grid()
            if values is None:
                raise SpaceError(dimension.name, f"{dimension.spec!r} is a continuous range and a grid needs a "
                                                 "list of values: give choices or a range with :step=S")
            result[dimension.name] = values
        return result


# ============================================================================ reading specs

def parse_space(specs: Mapping[str, Any], network: Network, *, source: str = "--param",
                num_classes: int | None = None) -> SearchSpace:
    """The space ``{name: spec}`` over ``network``; ``source`` names where the specs came
    from in messages (``--param``, ``project.cnnproj: experiments.space``)."""
    if not specs:
        raise SpaceError(source, "the search space is empty; give at least one --param NAME=SPEC (for example "
                                 "--param lr=1e-4..1e-1:log)")
    dimensions: dict[str, Dimension] = {}
    for raw_name, spec in specs.items():
        if not isinstance(spec, str):
            if isinstance(spec, (bool, int, float)):
                spec = _text(spec)
            else:
                raise SpaceError(f"{source} {raw_name}", f"the spec must be text such as '8..64' or 'a,b', "
                                                         f"not {spec!r}")
        dimension = parse_dimension(str(raw_name), spec, network, source=source, num_classes=num_classes)
        if dimension.name in dimensions:
            raise SpaceError(f"{source} {raw_name}", f"{dimension.name} is given twice")
        dimensions[dimension.name] = dimension
    return SearchSpace(tuple(dimensions.values()))


def parse_assignment(text: str) -> tuple[str, str]:
    """``NAME=SPEC`` from the command line."""
    name, equals, spec = text.partition("=")
    if not equals or not name.strip() or not spec.strip():
        raise SpaceError(f"--param {text}", "expected NAME=SPEC, for example lr=1e-4..1e-1:log, "
                                            "conv2d_1.filters=16..64:step=16 or dropout_1.present=true,false")
    return name.strip(), spec.strip()


def parse_dimension(name: str, spec: str, network: Network, *, source: str = "--param",
                    num_classes: int | None = None) -> Dimension:
    where = f"{source} {name}"
    spec = spec.strip()
    if "." in name:
        layer, _, param = name.partition(".")
        node = network.node_by_name(layer)
        if node is None:
            names = [n.name for n in network.nodes]
            raise SpaceError(where, f"there is no layer named {layer!r}{_guess(layer, names)}; the layers are "
                                    f"{', '.join(names) or 'none'}")
        if param == PRESENT:
            _check_removable(network, node.id, where, num_classes)
            return _dimension(name, spec, "bool", _bool_check, where)
        layer_spec = spec_for(node.type)
        known = [p.name for p in layer_spec.params if p.kind in SWEEPABLE_KINDS]
        if param not in known:
            raise SpaceError(where, f"{layer} ({node.type}) has no parameter {param!r} a sweep can vary"
                                    f"{_guess(param, known)}; it has: {', '.join(known + [PRESENT])}")
        param_spec = layer_spec.param(param)
        return _dimension(name, spec, param_spec.kind, _layer_check(param_spec), where)
    setting = ALIASES.get(name, name)
    defaults = TrainConfig()
    fields = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in FIXED_SETTINGS]
    if setting not in fields:
        raise SpaceError(where, f"{name!r} is neither a training setting nor LAYER.PARAM{_guess(setting, fields)}; "
                                f"settings: {', '.join(fields)}")
    default = getattr(defaults, setting)
    kind = ("bool" if isinstance(default, bool) else "int" if isinstance(default, int) or setting == "seed"
            else "float" if isinstance(default, float) else "choice")
    return _dimension(setting, spec, kind, _setting_check(setting), where)


def _dimension(name: str, spec: str, kind: str, check, where: str) -> Dimension:
    """Parse ``spec`` for a value of ``kind`` (a ``ParamSpec`` kind) and check every value it can give."""
    if not spec:
        raise SpaceError(where, "the spec is empty; give a range LOW..HIGH or choices A,B,C")
    body, *options = [part.strip() for part in spec.split(":")]
    if ".." in body:
        return _range(name, spec, kind, body, options, check, where)
    if options:
        raise SpaceError(where, f"options such as :{options[0]} apply to ranges (LOW..HIGH), not to choices")
    choices = []
    for token in (part.strip() for part in body.split(",")):
        if not token:
            raise SpaceError(where, f"{spec!r} has an empty choice; separate values with single commas")
        value = _choice(token, kind, where)
        check(value, where)
        if value in choices:
            raise SpaceError(where, f"{token} is listed twice")
        choices.append(value)
    return Dimension(name, spec, "choice", choices=tuple(choices))


def _range(name: str, spec: str, kind: str, body: str, options: list[str], check, where: str) -> Dimension:
    if kind not in ("int", "float", "pair"):
        raise SpaceError(where, f"a range needs a number setting; this one takes {_kind_words(kind)}: list the "
                                "values as A,B,C")
    number_kind = "float" if kind == "float" else "int"
    low_text, _, high_text = body.partition("..")
    low, high = (_number(text, number_kind, where) for text in (low_text, high_text))
    log, step = False, None
    for option in options:
        if option == "log":
            log = True
        elif option.startswith("step="):
            step = _number(option[len("step="):], number_kind, where)
            if step <= 0:
                raise SpaceError(where, f"the step must be > 0, not {option[5:]}")
        else:
            raise SpaceError(where, f"unknown option :{option}; ranges take :log or :step=S")
    if low >= high:
        raise SpaceError(where, f"the range {body} is empty or backwards; write LOW..HIGH with LOW < HIGH")
    if log and step is not None:
        raise SpaceError(where, "a range is either :log or :step=S, not both")
    if log and low <= 0:
        raise SpaceError(where, f"a :log range must start above 0, not at {low_text}")
    for value in (low, high):
        check(value, where)
    return Dimension(name, spec, number_kind, low=low, high=high, log=log, step=step)


def _choice(token: str, kind: str, where: str) -> Any:
    lowered = token.lower()
    if kind == "bool":
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise SpaceError(where, f"{token!r} is not true or false")
    if kind in ("int", "float"):
        return _number(token, kind, where)
    if kind == "pair":
        if _is_pair_text(lowered):
            height, _, width = lowered.partition("x")
            return int(height) if height == width else f"{int(height)}x{int(width)}"
        return _number(token, "int", where)
    return token if kind == "text" else lowered


def _number(text: str, kind: str, where: str) -> float:
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise SpaceError(where, f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise SpaceError(where, f"{text!r} is not a finite number")
    if kind == "int":
        if not value.is_integer():
            raise SpaceError(where, f"{text} is not a whole number")
        return int(value)
    return value


def _is_pair_text(text: str) -> bool:
    height, x, width = text.lower().partition("x")
    return bool(x) and height.isdigit() and width.isdigit()


def _kind_words(kind: str) -> str:
    return {"bool": "true or false", "choice": "one of a few words", "text": "text"}.get(kind, kind)


# ============================================================================ checking values

def _layer_check(param: ParamSpec):
    def check(value: Any, where: str) -> None:
        try:
            param.normalize(_as_project_value(value))
        except ParamError as error:
            raise SpaceError(where, f"{_text(value)}: {error.message}") from None
    return check


def _setting_check(setting: str):
    def check(value: Any, where: str) -> None:
        try:
            if setting == "optimizer":
                TrainConfig(optimizer=value)
            else:
                dataclasses.replace(TrainConfig(), **{setting: value})
        except (ValueError, TypeError) as error:
            raise SpaceError(where, f"{_text(value)}: {str(error).removeprefix(f'training.{setting} ')}") from None
    return check


def _bool_check(value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise SpaceError(where, f"{value!r} is not true or false")


def _as_project_value(value: Any) -> Any:
    return Dimension("", "", "choice").project_value(value)


def _check_removable(network: Network, node_id: str, where: str, num_classes: int | None) -> None:
    from .network_edits import bypass

    node = network.node(node_id)
    if spec_for(node.type).max_inputs == 0:
        raise SpaceError(where, f"{node.name} is the network's Input and cannot be left out")
    if len(network.inputs_of(node_id)) != 1:
        raise SpaceError(where, f"{node.name} joins {len(network.inputs_of(node_id))} inputs; only a block with "
                                "one input can be left out (its input is wired to what it fed)")
    trial = network.copy()
    try:
        bypass(trial, node_id)
    except ValueError as error:
        raise SpaceError(where, f"leaving {node.name} out is not possible: {error}") from None
    analysis = analyze(trial, num_classes=num_classes)
    if not analysis.ok:
        problem = analysis.errors[0].text if analysis.errors else "the network would have no output"
        raise SpaceError(where, f"leaving {node.name} out breaks the network ({problem}); only blocks whose "
                                "input and output shapes allow it can be optional")


def _guess(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def format_value(value: Any) -> str:
    """A value as a table shows it: ``0.0031``, ``64``, ``true``, ``3x5``."""
    if isinstance(value, float):
        return f"{value:.4g}"
    return _text(value)


__all__ = ["ALIASES", "Dimension", "PRESENT", "SearchSpace", "SpaceError", "format_value", "parse_assignment",
           "parse_dimension", "parse_space"]
