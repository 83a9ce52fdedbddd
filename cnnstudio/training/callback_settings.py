"""The callbacks a user can switch on from the studio, described as data.

Each entry names an engine callback, says in plain words what it does, and lists
the Keras arguments that matter as ``ParamSpec``s (the same schema the layer
inspector uses), so the callbacks editor is built from here and its settings
are stored in the project's ``training.callbacks`` object.  ``make_callbacks``
turns those settings into engine callbacks for one run folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from cnnstudio.core.layers.base import ParamError, ParamSpec

MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")


@dataclass(frozen=True)
class CallbackOption:
    name: str
    summary: str
    params: tuple[ParamSpec, ...] = ()
    default_on: bool = False

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def normalize(self, given: Mapping[str, Any]) -> dict[str, Any]:
        values = self.defaults()
        for spec in self.params:
            if spec.name in given:
                values[spec.name] = spec.normalize(given[spec.name])
        return values


def _monitor(default: str = "val_loss") -> ParamSpec:
    return ParamSpec("monitor", "choice", default, "The logged metric to watch.", choices=MONITORS)


CALLBACK_OPTIONS: tuple[CallbackOption, ...] = (
    CallbackOption("EarlyStopping", "Stops training when the monitored metric stops improving.", (
        _monitor(),
        ParamSpec("patience", "int", 3, "Epochs without improvement before stopping.", minimum=0, maximum=1000),
        ParamSpec("min_delta", "float", 0.0, "Smallest change that counts as an improvement.", minimum=0.0,
                  maximum=1e6),
        ParamSpec("restore_best_weights", "bool", True, "Go back to the best epoch's weights at the end."),
        ParamSpec("start_from_epoch", "int", 0, "Epochs to wait before watching.", minimum=0, maximum=1000),
    )),
    CallbackOption("ReduceLROnPlateau", "Lowers the learning rate when the metric has stopped improving.", (
        _monitor(),
        ParamSpec("factor", "float", 0.1, "New rate = rate * factor.", minimum=1e-6, maximum=0.999999),
        ParamSpec("patience", "int", 2, "Epochs without improvement before lowering.", minimum=0, maximum=1000),
        ParamSpec("cooldown", "int", 0, "Epochs to wait after a reduction.", minimum=0, maximum=1000),
        ParamSpec("min_lr", "float", 0.0, "The rate never goes below this.", minimum=0.0, maximum=10.0),
    )),
    CallbackOption("ModelCheckpoint", "Saves the weights after each epoch, or only the best ones.", (
        _monitor(),
        ParamSpec("save_best_only", "bool", True, "Keep only epochs that improve the monitored metric."),
    ), default_on=True),
    CallbackOption("LearningRateScheduler", "Multiplies the learning rate by a factor every few epochs.", (
        ParamSpec("every", "int", 2, "Epochs between steps.", minimum=1, maximum=1000),
        ParamSpec("factor", "float", 0.5, "Multiplier at each step.", minimum=1e-6, maximum=10.0),
    )),
    CallbackOption("TerminateOnNaN", "Ends the run as failed as soon as the loss becomes NaN.", default_on=True),
    CallbackOption("CSVLogger", "Writes each epoch's metrics to log.csv in the run folder.", (
        ParamSpec("append", "bool", False, "Append to an existing log instead of replacing it."),
    ), default_on=True),
    CallbackOption("TensorBoard", "Writes event files TensorBoard reads (scalars and weight histograms).", (
        ParamSpec("histogram_freq", "int", 1, "Epochs between weight histograms (0: none).", minimum=0,
                  maximum=1000),
    )),
    CallbackOption("BackupAndRestore", "Keeps a backup so an interrupted run resumes where it stopped.", ()),
    CallbackOption("SwapEMAWeights", "Evaluates and saves an exponential moving average of the weights.", (
        ParamSpec("decay", "float", 0.99, "How slowly the average follows the weights.", minimum=0.0,
                  maximum=0.999999),
    )),
    CallbackOption("RemoteMonitor", "POSTs each epoch's logs as JSON to a URL (a dead server never stops "
                                    "training).", (
        ParamSpec("root", "text", "http://localhost:9000", "Server address the logs are sent to."),
    )),
)

OPTIONS_BY_NAME = {option.name: option for option in CALLBACK_OPTIONS}


def default_settings() -> dict[str, dict[str, Any]]:
    return {o.name: {"enabled": o.default_on, **o.defaults()} for o in CALLBACK_OPTIONS}


def normalize_settings(given: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Settings completed with defaults; raises ``ValueError`` naming the callback and field."""
    settings = default_settings()
    for name, values in (given or {}).items():
        option = OPTIONS_BY_NAME.get(name)
        if option is None:
            raise ValueError(f"training.callbacks: unknown callback {name!r}; known: {', '.join(OPTIONS_BY_NAME)}")
        if not isinstance(values, Mapping):
            raise ValueError(f"training.callbacks.{name} must be an object of settings")
        try:
            settings[name] = {"enabled": bool(values.get("enabled", False)),
                              **option.normalize({k: v for k, v in values.items() if k != "enabled"})}
        except ParamError as error:
            raise ValueError(f"training.callbacks.{name}.{error.param}: {error.message}") from None
    return settings


def make_callbacks(settings: Mapping[str, Any] | None, run_dir: Path, has_validation: bool) -> list:
    """The engine callbacks the settings switch on, writing into ``run_dir``."""
    from .callbacks import (BackupAndRestore, CSVLogger, EarlyStopping, LearningRateScheduler, ModelCheckpoint,
                            ReduceLROnPlateau, RemoteMonitor, SwapEMAWeights, TensorBoard, TerminateOnNaN)

    def monitor(values: dict) -> str:
        chosen = values["monitor"]
        return chosen if has_validation or not chosen.startswith("val_") else chosen[4:]

    result = []
    for name, values in normalize_settings(settings).items():
        if not values.pop("enabled"):
            continue
        if name == "EarlyStopping":
            result.append(EarlyStopping(monitor=monitor(values), patience=values["patience"],
                                        min_delta=values["min_delta"],
                                        restore_best_weights=values["restore_best_weights"],
                                        start_from_epoch=values["start_from_epoch"]))
        elif name == "ReduceLROnPlateau":
            result.append(ReduceLROnPlateau(monitor=monitor(values), factor=values["factor"],
                                            patience=values["patience"], cooldown=values["cooldown"],
                                            min_lr=values["min_lr"]))
        elif name == "ModelCheckpoint":
            watched = monitor(values)
            result.append(ModelCheckpoint(str(run_dir / "checkpoints" / "epoch{epoch:02d}.pt"), monitor=watched,
                                          save_best_only=values["save_best_only"], save_weights_only=True))
        elif name == "LearningRateScheduler":
            every, factor = values["every"], values["factor"]
            result.append(LearningRateScheduler(
                lambda epoch, lr: lr * factor if epoch > 0 and epoch % every == 0 else lr))
        elif name == "TerminateOnNaN":
            result.append(TerminateOnNaN())
        elif name == "CSVLogger":
            result.append(CSVLogger(run_dir / "log.csv", append=values["append"]))
        elif name == "TensorBoard":
            result.append(TensorBoard(run_dir / "tensorboard", histogram_freq=values["histogram_freq"]))
        elif name == "BackupAndRestore":
            result.append(BackupAndRestore(run_dir / "backup"))
        elif name == "SwapEMAWeights":
            result.append(SwapEMAWeights(decay=values["decay"], swap_on_epoch=True))
        elif name == "RemoteMonitor":
            result.append(RemoteMonitor(root=values["root"]))
    return result
