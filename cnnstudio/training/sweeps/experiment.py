"""An experiment: a search space, an objective and a budget, with how to search.

It is stored in the project file's ``experiments`` object (the Experiments view
writes it) and can be given or overridden on the command line::

    "experiments": {
      "name": "lr-and-filters",
      "space": {"learning_rate": "1e-4..1e-1:log", "conv2d_1.filters": "8..64:step=8"},
      "objective": "val_accuracy", "direction": "maximize",
      "trials": 20, "timeout": null, "sampler": "tpe", "pruner": "median", "seed": null
    }

The objective is a metric of the run: the last epoch's ``accuracy``, ``loss``,
``val_accuracy`` or ``val_loss``, or the test set's ``test_accuracy`` or
``test_loss``; accuracies are maximised and losses minimised unless
``direction`` says otherwise.  ``trials`` is how many trials the study should
hold: running the sweep again with a larger number carries the study on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from cnnstudio.core.network import Network

from .space import SearchSpace, SpaceError, parse_space

METRICS = ("val_accuracy", "accuracy", "val_loss", "loss", "test_accuracy", "test_loss")
DIRECTIONS = ("maximize", "minimize")
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
DEFAULT_NAME = "sweep"
KEYS = ("name", "space", "objective", "direction", "trials", "timeout", "sampler", "pruner", "seed")


@dataclass(frozen=True)
class Objective:
    metric: str = "val_accuracy"
    direction: str = "maximize"

    @classmethod
    def of(cls, metric: str, direction: str | None = None, source: str = "--objective") -> "Objective":
        if metric not in METRICS:
            raise SpaceError(source, f"unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        if direction is None:
            direction = "minimize" if metric.endswith("loss") else "maximize"
        if direction not in DIRECTIONS:
            raise SpaceError(source, f"the direction is maximize or minimize, not {direction!r}")
        return cls(metric, direction)

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"

    @property
    def epoch_metric(self) -> str:
        """What the epochs log that follows the objective (for pruning): ``test_accuracy``
        is watched through ``val_accuracy``."""
        return "val_" + self.metric[len("test_"):] if self.metric.startswith("test_") else self.metric

    def value(self, record: Any) -> float | None:
        """The objective's value in a run record; ``None`` when the run did not log it."""
        if self.metric.startswith("test_"):
            value = (record.test or {}).get(self.metric[len("test_"):])
        else:
            values = record.history.get(self.metric) or [None]
            value = values[-1]
        return float(value) if value is not None and math.isfinite(float(value)) else None


@dataclass
class Experiment:
    space: SearchSpace
    objective: Objective = field(default_factory=Objective)
    trials: int = 10
    timeout: float | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    name: str = DEFAULT_NAME
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The project file's ``experiments`` object."""
        return {"name": self.name, "space": self.space.specs(), "objective": self.objective.metric,
                "direction": self.objective.direction, "trials": self.trials, "timeout": self.timeout,
                "sampler": self.sampler, "pruner": self.pruner, "seed": self.seed}


def read_experiment(data: Mapping[str, Any] | None, network: Network, *, where: str = "project",
                    space: Mapping[str, str] | None = None, num_classes: int | None = None,
                    **overrides: Any) -> Experiment:
    """The experiment from a project's ``experiments`` object (``where`` names it in
    messages), with ``space`` (from ``--param``) replacing its space and ``overrides``
    (``trials``, ``objective``...; ``None`` values ignored) on top."""
    data = dict(data or {})
    source = f"{where}: experiments"
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SpaceError(source, f"unknown field(s) {', '.join(unknown)}; known: {', '.join(KEYS)}")
    given = {key: value for key, value in overrides.items() if value is not None}
    if space:
        parsed = parse_space(space, network, source="--param", num_classes=num_classes)
    else:
        stored = data.get("space")
        if stored is not None and not isinstance(stored, Mapping):
            raise SpaceError(f"{source}.space", "must be an object {\"NAME\": \"SPEC\", ...}")
        parsed = parse_space(stored or {}, network, source=f"{source}.space", num_classes=num_classes)

    def pick(key: str, default: Any) -> tuple[Any, str]:
        if key in given:
            return given[key], f"--{key}"
        return data.get(key, default) if data.get(key) is not None else default, f"{source}.{key}"

    metric, metric_source = pick("objective", "val_accuracy")
    direction, direction_source = pick("direction", None)
    if direction is not None and direction not in DIRECTIONS:
        raise SpaceError(direction_source, f"the direction is maximize or minimize, not {direction!r}")
    objective = Objective.of(metric, direction, metric_source)
    trials, trials_source = pick("trials", None)
    if trials is None:
        raise SpaceError("--trials", "how many trials? give --trials N (or set trials in the project's experiments)")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise SpaceError(trials_source, f"the number of trials must be a whole number >= 1, not {trials!r}")
    timeout, timeout_source = pick("timeout", None)
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or not math.isfinite(timeout) or timeout <= 0):
        raise SpaceError(timeout_source, f"the time budget is a number of seconds > 0, not {timeout!r}")
    sampler, sampler_source = pick("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise SpaceError(sampler_source, f"unknown sampler {sampler!r}; choose {', '.join(SAMPLERS)}")
    if sampler == "grid":
        parsed.grid()  # refuses continuous ranges now rather than after the first trial
    pruner, pruner_source = pick("pruner", "median")
    if pruner not in PRUNERS:
        raise SpaceError(pruner_source, f"unknown pruner {pruner!r}; choose {', '.join(PRUNERS)}")
    name, name_source = pick("name", DEFAULT_NAME)
    if not isinstance(name, str) or not name.strip():
        raise SpaceError(name_source, f"the study needs a name, not {name!r}")
    seed, seed_source = pick("seed", None)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise SpaceError(seed_source, f"the sampler's seed is a whole number >= 0, not {seed!r}")
    return Experiment(parsed, objective, trials, float(timeout) if timeout is not None else None, sampler, pruner,
                      name.strip(), seed)


__all__ = ["DIRECTIONS", "Experiment", "METRICS", "Objective", "PRUNERS", "SAMPLERS", "read_experiment"]
