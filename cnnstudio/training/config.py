"""Training settings: what the project file's ``training`` object holds.

``TrainConfig`` is plain data (no torch), so the editor can show, edit and
save it without loading torch.  Every value is checked when a config is made,
and ``from_dict`` reads a project file's ``training`` object with messages
that name the field (``training.batch_size must be a whole number >= 1, not
0``).

Optimizer settings follow Keras's names and defaults where Keras has them
(``RMSprop(learning_rate=0.001, rho=0.9, epsilon=1e-7)``, ``SGD(0.01)``,
``AdamW(weight_decay=0.004)``); leaving ``learning_rate`` or ``weight_decay``
as ``None`` picks the chosen optimizer's default.  ``weight_decay`` is passed
to the torch optimizer as it is: an L2 term for SGD, Adam and RMSprop, decoupled
decay for AdamW (PyTorch's meaning, which the generated code also uses).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass
from typing import Any, Mapping

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("float32", "float16", "bfloat16")

#: other spellings of a setting, accepted wherever settings are given by name (the project
#: file, ``Trainer(..., lr=...)``); the CLI's ``--lr`` is the same alias
ALIASES = {"lr": "learning_rate"}
#: ``training`` keys of a project file that are not ``TrainConfig`` fields (the session reads them)
TRAINING_EXTRAS = ("callbacks", "threads", "health_checks")

FLOAT16_ON_CPU = ("training.precision 'float16' needs a GPU (CUDA or Apple MPS): the CPU has no fast float16 "
                  "kernels; use 'bfloat16' or 'float32' on the CPU")

#: Keras's defaults for the settings that differ between optimizers
OPTIMIZER_DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 0.01, "weight_decay": 0.0},
    "adam": {"learning_rate": 0.001, "weight_decay": 0.0},
    "adamw": {"learning_rate": 0.001, "weight_decay": 0.004},
    "rmsprop": {"learning_rate": 0.001, "weight_decay": 0.0},
}

#: the settings each optimizer reads (the rest are kept but unused)
OPTIMIZER_SETTINGS: dict[str, tuple[str, ...]] = {
    "sgd": ("learning_rate", "momentum", "nesterov", "weight_decay"),
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"),
    "adamw": ("learning_rate", "beta_1", "beta_2", "epsilon", "weight_decay"),
    "rmsprop": ("learning_rate", "rho", "momentum", "epsilon", "weight_decay"),
}


@dataclass
class TrainConfig:
    """How to train: optimizer, batches, epochs, data split, device, precision, seed.

    The defaults are the lecture's ``model.compile(optimizer='rmsprop')`` and
    ``model.fit(epochs=5, batch_size=64)``.  ``seed=None`` means a fresh random
    run; ``deterministic=True`` also makes torch pick deterministic kernels
    (and uses seed 0 when no seed is given).  ``precision`` other than float32
    runs the forward pass under autocast: float16 needs a GPU, bfloat16 also
    runs on the CPU.
    """

    optimizer: str = "rmsprop"
    learning_rate: float | None = None  # None: the optimizer's Keras default
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float | None = None  # None: the optimizer's Keras default
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    rho: float = 0.9
    batch_size: int = 64
    epochs: int = 5
    validation_split: float = 0.0
    shuffle: bool = True
    seed: int | None = None
    deterministic: bool = False
    device: str = "auto"
    precision: str = "float32"

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        defaults = OPTIMIZER_DEFAULTS[self.optimizer]
        if self.learning_rate is None:
            self.learning_rate = defaults["learning_rate"]
        if self.weight_decay is None:
            self.weight_decay = defaults["weight_decay"]
        self.learning_rate = _number("learning_rate", self.learning_rate, low=0.0, low_open=True)
        self.momentum = _number("momentum", self.momentum, low=0.0, high=1.0, high_open=True)
        self.nesterov = _flag("nesterov", self.nesterov)
        self.weight_decay = _number("weight_decay", self.weight_decay, low=0.0)
        self.beta_1 = _number("beta_1", self.beta_1, low=0.0, high=1.0, high_open=True)
        self.beta_2 = _number("beta_2", self.beta_2, low=0.0, high=1.0, high_open=True)
        self.epsilon = _number("epsilon", self.epsilon, low=0.0, low_open=True)
        self.rho = _number("rho", self.rho, low=0.0, high=1.0, high_open=True)
        self.batch_size = _whole("batch_size", self.batch_size, low=1)
        self.epochs = _whole("epochs", self.epochs, low=1)
        self.validation_split = _number("validation_split", self.validation_split, low=0.0, high=1.0,
                                        high_open=True)
        self.shuffle = _flag("shuffle", self.shuffle)
        if self.seed is not None:
            self.seed = _whole("seed", self.seed, low=0, high=2**63 - 1)
        self.deterministic = _flag("deterministic", self.deterministic)
        _check_choice("device", self.device, DEVICES)
        _check_choice("precision", self.precision, PRECISIONS)
        if self.device == "cpu" and self.precision == "float16":
            raise ValueError(FLOAT16_ON_CPU)
        if self.nesterov and self.optimizer == "sgd" and self.momentum == 0.0:
            raise ValueError("training.nesterov needs training.momentum > 0 (Nesterov momentum with no "
                             "momentum does nothing); set a momentum such as 0.9 or turn nesterov off")

    # ------------------------------------------------------------------ derived values
    @property
    def effective_seed(self) -> int | None:
        """The seed a run uses: ``seed``, or 0 in deterministic mode without one."""
        if self.seed is None and self.deterministic:
            return 0
        return self.seed

    def optimizer_settings(self) -> dict[str, Any]:
        """Only the settings the chosen optimizer reads, by their Keras names."""
        return {name: getattr(self, name) for name in OPTIMIZER_SETTINGS[self.optimizer]}

    def with_settings(self, **settings: Any) -> "TrainConfig":
        """A copy with ``settings`` replaced, by field name or alias (``lr``).  A new
        optimizer without a learning rate or weight decay brings its own defaults, as
        ``with_optimizer`` does.  An unknown name is a ``TypeError`` (as a wrong keyword
        argument is); a bad value a ``ValueError`` naming the field."""
        settings = _canonical(settings, TypeError)
        config = self
        if "optimizer" in settings and settings["optimizer"] != self.optimizer:
            config = config.with_optimizer(settings["optimizer"])
        return dataclasses.replace(config, **settings)

    def with_optimizer(self, optimizer: str) -> "TrainConfig":
        """A copy using ``optimizer``, with that optimizer's default learning rate and
        weight decay (what switching optimizer in a settings form should do)."""
        _check_choice("optimizer", optimizer, OPTIMIZERS)
        return dataclasses.replace(self, optimizer=optimizer, learning_rate=None, weight_decay=None)

    # ------------------------------------------------------------------ the project file
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, in field order."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "TrainConfig":
        """Read the project file's ``training`` object (``None`` or ``{}``: defaults).

        Missing fields take their defaults; unknown fields and bad values raise
        ``ValueError`` naming the field."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"training settings must be an object, not {type(data).__name__}")
        return cls(**_canonical(data, ValueError))

    @classmethod
    def from_project(cls, training: Mapping[str, Any] | None) -> "TrainConfig":
        """The config of a project file's ``training`` object, leaving out what the
        session reads itself (``TRAINING_EXTRAS``: callbacks, threads, health_checks)."""
        if isinstance(training, Mapping):
            training = {key: value for key, value in training.items() if key not in TRAINING_EXTRAS}
        return cls.from_dict(training)


def _canonical(settings: Mapping[str, Any], error: type[Exception]) -> dict[str, Any]:
    """``settings`` with aliases replaced by field names; an unknown name raises ``error``
    with the nearest field name as a hint."""
    names = [field.name for field in dataclasses.fields(TrainConfig)]
    result: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for key, value in settings.items():
        name = ALIASES.get(key, key)
        if name not in names:
            close = difflib.get_close_matches(str(key), names + list(ALIASES), n=1)
            hint = f"; did you mean {ALIASES.get(close[0], close[0])!r}?" if close else \
                f"; known fields: {', '.join(names)}"
            raise error(f"training: unknown field {key!r}{hint}")
        if name in result:
            raise error(f"training: {given_as[name]!r} and {key!r} name the same setting; give one of them")
        result[name], given_as[name] = value, key
    return result


# ---------------------------------------------------------------------- checks

def _check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"training.{name} must be one of {options}, not {value!r}")


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"training.{name} must be true or false, not {value!r}")
    return value


def _whole(name: str, value: Any, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ValueError(f"training.{name} must be a whole number >= {low}, not {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValueError(f"training.{name} must be a whole number {bound}, not {value}")
    return value


def _number(name: str, value: Any, *, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"training.{name} must be a finite number, not {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "" if low is None else ("> " if low_open else ">= ") + f"{low:g}"
        right = "" if high is None else ("< " if high_open else "<= ") + f"{high:g}"
        bound = " and ".join(part for part in (left, right) if part)
        raise ValueError(f"training.{name} must be {bound}, not {value:g}")
    return value
