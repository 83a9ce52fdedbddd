"""A run's settings, resolved once from the project file and its overrides.

Everything the studio's Train tab offers is stored in the project (its
``dataset`` and ``training`` objects), and every CLI flag is an override of one
of those settings, so the same project trains the same from either.  Each value
remembers where it came from, and a bad one is reported as a ``SettingsError``
naming the setting and its source: ``--lr: must be > 0, not -1`` or
``net.cnnproj: training.batch_size must be a whole number >= 1, not 0``.

Where settings live in the project:

* ``dataset``: ``name`` (a registry name such as ``mnist``), ``path`` (for a
  dataset read from files; relative paths are relative to the project file),
  ``subset`` (train on a class-balanced part), ``validation_split`` (the share
  held out for validation, stratified by class; default 0.1).
* ``training``: the ``TrainConfig`` fields (optimizer, learning rate, batch
  size, epochs, device, precision, seed, deterministic...), ``callbacks`` (the
  callbacks editor's settings), ``threads`` (``auto`` or a number) and
  ``health_checks`` (``true`` unless switched off: ``training.health``).

Older files kept ``validation_split`` under ``training``; it is read from there
when ``dataset`` has none.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .callback_settings import normalize_settings
from .config import ALIASES, TRAINING_EXTRAS, TrainConfig
from .threads import AUTO, parse_threads

DEFAULT_VALIDATION_SPLIT = 0.1
MAX_VALIDATION_SPLIT = 0.9
#: the dataset settings a run reads
DATASET_KEYS = ("name", "path", "subset", "validation_split")

#: override name -> the CLI flag that sets it (for messages); everything else is a TrainConfig field
FLAGS = {"dataset": "--dataset", "subset": "--subset", "validation_split": "--validation-split",
         "epochs": "--epochs", "batch_size": "--batch-size", "optimizer": "--optimizer", "learning_rate": "--learning-rate",
         "device": "--device", "seed": "--seed", "precision": "--precision", "threads": "--threads",
         "deterministic": "--deterministic", "health_checks": "--no-health-checks"}


class SettingsError(ValueError):
    """A setting that cannot be used; ``str()`` names the setting and where it came from."""

    def __init__(self, source: str, message: str) -> None:
        self.source, self.message = source, message
        super().__init__(f"{source}: {message}")

    def __reduce__(self):
        return type(self), (self.source, self.message)


@dataclass(frozen=True)
class Override:
    """A value that replaces a project setting, and who gave it (``--lr``, ``the Train tab``)."""

    value: Any
    source: str


@dataclass
class ResolvedSettings:
    """The complete settings of one run."""

    config: TrainConfig
    dataset: dict[str, Any]                 # name, path (absolute or None), subset, validation_split
    callbacks: dict[str, dict[str, Any]]    # normalized callbacks-editor settings
    threads: str | int = AUTO
    health_checks: bool = True              # the training-health findings (training.health_monitor)
    sources: dict[str, str] = field(default_factory=dict)   # setting -> where its value came from

    def to_json(self) -> dict[str, Any]:
        """The settings as the run record keeps them (the project's own shape)."""
        training = {key: value for key, value in self.config.to_dict().items() if key != "validation_split"}
        return {"training": {**training, "callbacks": self.callbacks, "threads": self.threads,
                             "health_checks": self.health_checks},
                "dataset": dict(self.dataset)}


def resolve_settings(project_dataset: Mapping[str, Any] | None, project_training: Mapping[str, Any] | None,
                     overrides: Mapping[str, Override] | None = None, *, where: str = "project",
                     base_dir: str | os.PathLike[str] | None = None) -> ResolvedSettings:
    """The project's settings with ``overrides`` on top; ``where`` names the project in messages
    and ``base_dir`` is where a relative dataset path starts."""
    overrides = dict(overrides or {})
    dataset_in = _object(project_dataset, "dataset", where)
    training_in = _object(project_training, "training", where)
    sources: dict[str, str] = {}

    # ---------------------------------------------------------------- training
    config_fields = {key: value for key, value in training_in.items() if key not in TRAINING_EXTRAS}
    legacy_split = config_fields.pop("validation_split", None)
    named = {ALIASES.get(key, key) for key in config_fields}
    try:
        config = TrainConfig.from_dict(config_fields)
    except ValueError as error:
        raise SettingsError(where, str(error)) from None
    for name in [field.name for field in dataclasses.fields(TrainConfig)]:
        sources[name] = f"{where}: training.{name}" if name in named else "default"
    if "optimizer" in overrides:  # first: a new optimizer brings its own default learning rate
        config = _override_config(config, "optimizer", overrides.pop("optimizer"), sources)
    for name in [field.name for field in dataclasses.fields(TrainConfig)]:
        if name in overrides and name != "validation_split":
            config = _override_config(config, name, overrides.pop(name), sources)
    try:
        callbacks = normalize_settings(training_in.get("callbacks"))
    except ValueError as error:
        raise SettingsError(where, str(error)) from None
    threads_value = training_in.get("threads", AUTO)
    sources["threads"] = f"{where}: training.threads" if "threads" in training_in else "default"
    if "threads" in overrides:
        given = overrides.pop("threads")
        threads_value, sources["threads"] = given.value, given.source
    try:
        threads = parse_threads(threads_value)
    except ValueError as error:
        raise SettingsError(sources["threads"], str(error)) from None

    health_checks = training_in.get("health_checks", True)
    sources["health_checks"] = f"{where}: training.health_checks" if "health_checks" in training_in else "default"
    if "health_checks" in overrides:
        given = overrides.pop("health_checks")
        health_checks, sources["health_checks"] = given.value, given.source
    if not isinstance(health_checks, bool):
        raise SettingsError(sources["health_checks"], f"health_checks must be true or false, not {health_checks!r}")

    # ---------------------------------------------------------------- dataset
    dataset = {"name": dataset_in.get("name"), "path": dataset_in.get("path"), "subset": dataset_in.get("subset"),
               "validation_split": dataset_in.get("validation_split", legacy_split)}
    for key in DATASET_KEYS:
        if dataset[key] is not None:
            sources[f"dataset.{key}"] = f"{where}: dataset.{key}" if key in dataset_in \
                else f"{where}: training.validation_split"
    if dataset["validation_split"] is None:
        dataset["validation_split"] = DEFAULT_VALIDATION_SPLIT
        sources["dataset.validation_split"] = "default"
    if dataset["path"] is not None and not isinstance(dataset["path"], str):
        raise SettingsError(f"{where}: dataset.path", f"must be text (a folder or file), not {dataset['path']!r}")
    if dataset["path"] and base_dir is not None and not Path(dataset["path"]).is_absolute():
        dataset["path"] = str(Path(base_dir) / dataset["path"])
    if "dataset" in overrides:
        given = overrides.pop("dataset")
        dataset["name"], dataset["path"] = _dataset_source(given)
        sources["dataset.name"] = sources["dataset.path"] = given.source
    for key in ("subset", "validation_split"):
        if key in overrides:
            given = overrides.pop(key)
            dataset[key] = given.value
            sources[f"dataset.{key}"] = given.source
    dataset["subset"] = _subset(dataset["subset"], sources.get("dataset.subset", where))
    dataset["validation_split"] = _split(dataset["validation_split"], sources["dataset.validation_split"])
    if not dataset["name"]:
        raise SettingsError(f"{where}: dataset.name", "the project names no dataset; choose one (for example "
                                                      "'mnist', built in) in the Train tab or with --dataset")
    _check_dataset_name(dataset, sources.get("dataset.name", f"{where}: dataset.name"))
    if overrides:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(overrides))}")
    return ResolvedSettings(config, dataset, callbacks, threads, health_checks, sources)


def _object(value: Any, key: str, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where}: {key}", f"must be an object of settings, not {type(value).__name__}")
    return dict(value)


def _override_config(config: TrainConfig, name: str, given: Override, sources: dict[str, str]) -> TrainConfig:
    try:
        if name == "optimizer":
            updated = config.with_optimizer(given.value) if given.value != config.optimizer else config
        else:
            updated = dataclasses.replace(config, **{name: given.value})
    except ValueError as error:
        raise SettingsError(given.source, _without_field(str(error), name, given.source)) from None
    sources[name] = given.source
    return updated


def _without_field(message: str, name: str, source: str) -> str:
    """``training.learning_rate must be > 0`` said of ``--lr`` reads ``must be > 0``."""
    prefix = f"training.{name} "
    return message[len(prefix):] if source.startswith("--") and message.startswith(prefix) else message


def _dataset_source(given: Override) -> tuple[str, str | None]:
    """A registry name, or a path whose contents say which kind of dataset it is."""
    from cnnstudio.data.dataset import DatasetError
    from cnnstudio.data.registry import DATASETS, detect_dataset

    value = os.fspath(given.value)
    if value in DATASETS:
        if DATASETS[value].needs_path:
            raise SettingsError(given.source, f"{value!r} is read from your files: give the folder or file "
                                              f"instead (for example --dataset path/to/{value})")
        return value, None
    try:
        name, path = detect_dataset(value)
    except DatasetError as error:
        raise SettingsError(given.source, str(error)) from None
    return name, str(Path(path).resolve())


def _check_dataset_name(dataset: dict[str, Any], source: str) -> None:
    from cnnstudio.data.registry import DATASETS

    name = dataset["name"]
    if not isinstance(name, str) or name not in DATASETS:
        raise SettingsError(source, f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    spec = DATASETS[name]
    if spec.needs_path and not dataset["path"]:
        raise SettingsError(source, f"{spec.title} is read from your own files and no path is set; choose its "
                                    "folder in the Train tab or give --dataset PATH")
    if not spec.needs_path:
        dataset["path"] = None


def _subset(value: Any, source: str) -> int | None:
    if value in (None, 0):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(source, f"subset must be a whole number of samples >= 1 (or none), not {value!r}")
    return value


def _split(value: Any, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0.0 <= value <= MAX_VALIDATION_SPLIT:
        raise SettingsError(source, f"validation_split must be a share between 0 and {MAX_VALIDATION_SPLIT} "
                                    f"(0.1 holds out 10%), not {value!r}")
    return float(value)


def with_absolute_dataset_path(project: Any, base_dir: str | os.PathLike[str] | None) -> Any:
    """A copy of ``project`` whose dataset path no longer depends on where the file lies
    (a run trains from a copy of the project inside its run folder)."""
    import copy

    result = copy.copy(project)
    dataset = dict(project.dataset or {})
    path = dataset.get("path")
    if isinstance(path, str) and path and base_dir is not None and not Path(path).is_absolute():
        dataset["path"] = str((Path(base_dir) / path).resolve())
    result.dataset = dataset if project.dataset is not None or dataset else project.dataset
    return result


__all__ = ["DEFAULT_VALIDATION_SPLIT", "FLAGS", "Override", "ResolvedSettings", "SettingsError", "resolve_settings",
           "with_absolute_dataset_path"]
