"""The training loop: ``Trainer(network, config, callbacks).fit(x, y)``.

It builds the model from the network document, trains it with the optimizer
the config names, and reports only through callbacks (Keras's hooks and log
names: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``).  The
same trainer runs in the training session (CLI and studio), the Lab and the tests.

For a Keras user it reads like ``model.fit``: ``Trainer(project)`` takes the
project's training settings, ``Trainer(network, optimizer="adam", lr=1e-3)``
names its own, and ``fit(x, y, epochs=3, batch_size=32, validation_split=0.1,
callbacks=[...], verbose=1)`` overrides them for one call; ``verbose`` is
Keras's (1: a progress bar, 2: one line per epoch, 0: silent; the default
``"auto"`` is 1), and ``evaluate``/``predict`` take ``batch_size`` and
``verbose`` too.  See ``docs/python-api.md``.

Speed: the data sit on the device as two tensors; a batch is an index into
them (shuffled with the trainer's own ``torch.Generator``), so there is no
DataLoader, no worker process and no per-batch copy from the host.  Loss and
accuracy are summed on the device and read once per epoch; the per-batch logs
a callback gets are computed only if it reads them (``metrics.LazyLogs``).

Control from another thread: ``request_stop()``, ``pause()`` and ``resume()``
set flags the loop reads between batches, so each acts within one batch.
Callbacks stop a run the Keras way, ``trainer.stop_training = True``.

Failure: when a run ends with an error (bad data, out of memory, a NaN loss
caught by ``TerminateOnNaN``...), the model's and optimizer's state are put back
as they were before ``fit``, callbacks hear ``on_exception`` and the error is
raised (a ``TrainingError`` with a message for the user, where the trainer can
name the problem).  The trainer never writes the project.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnstudio.core.build import BuildError, build_model

from .arrays import as_images, as_labels, unpack
from .callbacks.base import Callback, CallbackList, History
from .config import TrainConfig
from .errors import TrainingError
from .keras_arguments import network_and_config, verbosity, with_progbar
from .metrics import Totals
from . import state as run_state
from .state import RunPosition
from .runtime import (autocast, check_precision, deterministic_mode, global_rng_state, grad_scaler, make_optimizer,
                      resolve_device, seed_everything, set_global_rng_state, to_cpu)

_PAUSE_POLL_S = 0.05


class Trainer:
    """Trains one model built from ``network`` with ``config``.

    ``network`` may also be a ``Project`` (``cnnstudio.core.load_project``): its
    network, trained with its ``training`` settings.  Keyword ``settings`` replace
    single ``TrainConfig`` fields on top of either (``optimizer="adam"``,
    ``learning_rate=1e-3`` or ``lr=1e-3``, ``epochs``, ``batch_size``, ``seed``...).

    Attributes: ``model`` (the ``BuiltNetwork``), ``optimizer``, ``device``,
    ``config``, ``network`` (a private copy), ``history`` (of the last ``fit``),
    ``stop_training`` (set by callbacks), ``interrupted`` (the last ``fit`` ended
    on ``request_stop``).  With a seed, building and training are repeatable:
    the seed is applied before the weights are initialised.
    """

    def __init__(self, network: Any, config: TrainConfig | None = None,
                 callbacks: list[Callback] | None = None, **settings: Any) -> None:
        network, config = network_and_config(network, config)
        self.config = config.with_settings(**settings) if settings else config
        self.network = network.copy()
        self.device = resolve_device(self.config.device)
        check_precision(self.config.precision, self.device)
        seed = self.config.effective_seed
        outside = global_rng_state()
        if seed is not None:
            seed_everything(seed)
        try:
            self.model = build_model(self.network).to(self.device)
        except BuildError as error:
            raise TrainingError(str(error)) from error
        finally:
            # the trainer keeps its own random state (dropout masks...) and swaps it in while it
            # trains, so a seeded run repeats exactly whatever else uses the generators meanwhile
            self._rng = global_rng_state()
            if seed is not None:
                set_global_rng_state(outside)
        if len(self.model.output_shape) != 1:
            raise TrainingError(f"the network's output has shape {tuple(self.model.output_shape)}; a classifier "
                                "ends with one score per class: add Flatten and Dense(units=number of classes)")
        self.num_classes = int(self.model.output_shape[0])
        self.optimizer = make_optimizer(self.model.parameters(), self.config)
        self.scaler = grad_scaler(self.config.precision, self.device)
        # CrossEntropyLoss takes the scores *before* softmax and computes log-softmax with the
        # log-sum-exp trick (subtract the largest score first), then the negative log-likelihood.
        # Taking log() of the model's softmax output instead underflows to log(0) = -inf for a
        # confident wrong answer, giving inf/NaN losses and useless gradients; on the logits the
        # loss stays finite and its gradient is exactly softmax - one_hot.
        self.loss_fn = nn.CrossEntropyLoss()
        self.callbacks: list[Callback] = list(callbacks or [])
        self.stop_training = False
        self.interrupted = False
        self.history: History | None = None
        self._generator = torch.Generator()
        if seed is not None:
            self._generator.manual_seed(seed)
        else:
            self._generator.seed()
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self._failure: str | None = None
        self._pending_state: dict[str, Any] | None = None
        self._list: CallbackList | None = None
        self.position = RunPosition()  # where the run is, for backups and progress

    # ------------------------------------------------------------------ control (any thread)
    def request_stop(self) -> None:
        """End the run after the batch in progress (also while paused)."""
        self._stop.set()

    def pause(self) -> None:
        """Hold the run after the batch in progress, until ``resume()`` or ``request_stop()``."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def fail(self, reason: str) -> None:
        """End the run as failed (a callback's verdict, e.g. ``TerminateOnNaN``): after the
        current batch, ``fit`` restores the weights and raises ``TrainingError(reason)``."""
        self._failure = reason
        self.stop_training = True

    def _halt(self) -> bool:
        """Between batches: wait while paused, and say whether to stop now."""
        if not self._running.is_set():
            while not self._running.wait(_PAUSE_POLL_S):
                if self._stop.is_set():
                    break
        return self._stop.is_set()

    # ------------------------------------------------------------------ settings
    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = float(value)

    # ------------------------------------------------------------------ training
    def fit(self, x: Any, y: Any = None, batch_size: int | None = None, epochs: int | None = None,
            verbose: int | str = "auto", callbacks: list[Callback] | None = None,
            validation_split: float | None = None, validation_data: Any = None,
            shuffle: bool | None = None) -> History:
        """Train for ``epochs`` epochs; returns the ``History`` (also ``self.history``).

        ``batch_size``, ``epochs``, ``validation_split`` and ``shuffle`` replace the
        config's values for this call only; ``callbacks`` join the trainer's own for
        this call.  ``validation_data`` is ``(x_val, y_val)``; otherwise
        ``validation_split`` keeps the last fraction of ``x`` for validation, as Keras
        does (before shuffling).  ``verbose``: 1 (and ``"auto"``) a progress bar, 2 one
        line per epoch, 0 nothing, unless a ``ProgbarLogger`` is among the callbacks.
        """
        with self._this_call(verbose, callbacks, batch_size=batch_size, epochs=epochs,
                             validation_split=validation_split, shuffle=shuffle):
            return self._fit(x, y, validation_data)

    @contextlib.contextmanager
    def _this_call(self, verbose: int | str, callbacks: list[Callback] | None, **settings: Any) -> Iterator[None]:
        """Settings and callbacks for one ``fit``/``evaluate``/``predict`` call, as Keras's
        arguments are: the trainer's own are back afterwards."""
        saved_config, saved_callbacks = self.config, self.callbacks
        given = {name: value for name, value in settings.items() if value is not None}
        self.config = self.config.with_settings(**given) if given else self.config
        self.callbacks = with_progbar([*self.callbacks, *(callbacks or [])], verbose)
        try:
            yield
        finally:
            self.config, self.callbacks = saved_config, saved_callbacks

    def _fit(self, x: Any, y: Any, validation_data: Any) -> History:
        config = self.config
        x, y = unpack(x, y)
        images = as_images(x, self.model.input_shape, "x")
        labels = as_labels(y, images.shape[0], self.num_classes, "y")
        validation = None
        if validation_data is not None:
            vx, vy = unpack(validation_data, pair=True)
            val_images = as_images(vx, self.model.input_shape, "validation x")
            validation = (val_images, as_labels(vy, val_images.shape[0], self.num_classes, "validation y"))
        elif config.validation_split > 0:
            split_at = int(math.floor(images.shape[0] * (1.0 - config.validation_split)))
            if split_at == 0 or split_at == images.shape[0]:
                raise TrainingError(f"validation_split {config.validation_split:g} of {images.shape[0]} samples "
                                    "leaves no training or no validation samples")
            validation = (images[split_at:], labels[split_at:])
            images, labels = images[:split_at], labels[:split_at]
        images, labels = self._place(images), self._place(labels)
        if validation is not None:
            validation = (self._place(validation[0]), self._place(validation[1]))

        samples = images.shape[0]
        steps = math.ceil(samples / config.batch_size)
        history = History()
        callbacks = CallbackList([*self.callbacks, history], trainer=self,
                                 params={"epochs": config.epochs, "steps": steps, "samples": samples,
                                         "batch_size": config.batch_size, "validation": validation is not None,
                                         "verbose": verbosity(self.callbacks)})
        self.history, self._list = history, callbacks
        self.stop_training, self.interrupted, self._failure = False, False, None
        self.position = RunPosition(samples=samples)
        before = self._snapshot()
        try:
            with deterministic_mode(config.deterministic), self._own_random_state():
                self._train(images, labels, validation, callbacks, history, steps)
        except BaseException as error:
            callbacks.on_exception(error)  # first: a callback may still swap weights (SwapEMAWeights)
            self._restore(before)
            raise
        finally:
            self._list = None
            self._pending_state = None
            self._stop.clear()
            self._running.set()
        return history

    @contextlib.contextmanager
    def _own_random_state(self) -> Iterator[None]:
        outside = global_rng_state()
        set_global_rng_state(self._rng)
        try:
            yield
        finally:
            self._rng = global_rng_state()
            set_global_rng_state(outside)

    def _train(self, images: torch.Tensor, labels: torch.Tensor, validation: tuple | None,
               callbacks: CallbackList, history: History, steps: int) -> None:
        config, batch_size = self.config, self.config.batch_size
        samples = images.shape[0]
        batch_logs = callbacks.wants("on_train_batch_end")
        callbacks.on_train_begin()
        first_epoch, first_step = self._resume(callbacks)
        logs: dict[str, Any] | None = None
        interrupted = False
        self.model.train()
        for epoch in range(first_epoch, config.epochs):
            callbacks.on_epoch_begin(epoch)
            if epoch == first_epoch and first_step > 0:  # resuming inside this epoch
                saved = self.position.order
                order = saved.to(images.device) if saved is not None else None
                totals = self.position.totals
            else:
                order = self._shuffle(samples, images.device) if config.shuffle else None
                totals = Totals(self.device)
                first_step = 0
            self.position = RunPosition(epoch, first_step, order, totals, samples)
            for step in range(first_step, steps):
                if self._halt():
                    break
                callbacks.on_train_batch_begin(step)
                start = step * batch_size
                index = order[start:start + batch_size] if order is not None else slice(start, start + batch_size)
                self._train_step(images[index], labels[index], totals, epoch, step)
                self.position.step = step + 1
                if batch_logs:
                    callbacks.on_train_batch_end(step, totals.logs())
                if self.stop_training:
                    break
            if self._failure is not None:
                raise TrainingError(self._failure)
            if self._stop.is_set():  # stopped by request: this epoch is unfinished, so no epoch end
                interrupted = True
                break
            epoch_logs: dict[str, Any] = totals.result()
            if validation is not None:
                val_logs = self._evaluate(*validation, callbacks, watch_stop=True)
                if val_logs is None:
                    interrupted = True
                    break
                epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
                self.model.train()
            epoch_logs["lr"] = self.learning_rate
            self.position = RunPosition(epoch + 1, 0, None, None, samples)
            callbacks.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self._failure is not None:
                raise TrainingError(self._failure)
            if self.stop_training:
                break
        self.interrupted = history.interrupted = interrupted
        callbacks.on_train_end(logs)

    def _shuffle(self, samples: int, device: torch.device) -> torch.Tensor:
        return torch.randperm(samples, generator=self._generator).to(device)

    def _train_step(self, x: torch.Tensor, y: torch.Tensor, totals: Totals, epoch: int, step: int) -> None:
        try:
            if x.device != self.device:
                x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
            with autocast(self.config.precision, self.device):
                logits = self.model.logits(x)
            loss = self.loss_fn(logits.float(), y)
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.scale(loss).backward()
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                loss.backward()
                self.optimizer.step()
            totals.update(loss, logits, y)
        except (RuntimeError, MemoryError) as error:
            raise self._step_error(error, f"epoch {epoch + 1}, batch {step + 1}") from error

    def _step_error(self, error: BaseException, where: str) -> TrainingError:
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if isinstance(error, MemoryError) or "out of memory" in text.lower() or "can't allocate" in text.lower():
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            return TrainingError(f"{where}: ran out of memory on {self.device.type} with batch_size "
                                 f"{self.config.batch_size}; lower the batch size or use a smaller network")
        return TrainingError(f"{where}: training failed: {text}")

    def _place(self, tensor: torch.Tensor) -> torch.Tensor:
        """Move data to the device once; if it does not fit there, keep it in pinned host
        memory and send each batch over as it is needed."""
        if self.device.type == "cpu":
            return tensor
        try:
            return tensor.to(self.device)
        except torch.OutOfMemoryError:
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
                return tensor.pin_memory()
            return tensor

    # ------------------------------------------------------------------ evaluation and prediction
    def evaluate(self, x: Any, y: Any = None, batch_size: int | None = None, verbose: int | str = "auto",
                 callbacks: list[Callback] | None = None) -> dict[str, float]:
        """``{"loss": ..., "accuracy": ...}`` over ``(x, y)`` (Keras's ``return_dict=True``), in
        batches of ``batch_size`` (default: the config's); ``verbose`` as in ``fit``."""
        with self._this_call(verbose, callbacks, batch_size=batch_size):
            return self._evaluate_all(x, y)

    def _evaluate_all(self, x: Any, y: Any) -> dict[str, float]:
        x, y = unpack(x, y)
        images = as_images(x, self.model.input_shape, "x")
        labels = as_labels(y, images.shape[0], self.num_classes, "y")
        callbacks = CallbackList(self.callbacks, trainer=self, params=self._eval_params(images.shape[0]))
        was_training = self.model.training
        with deterministic_mode(self.config.deterministic):
            logs = self._evaluate(self._place(images), self._place(labels), callbacks, watch_stop=False)
        self.model.train(was_training)
        assert logs is not None
        return logs

    def _eval_params(self, samples: int) -> dict[str, Any]:
        return {"steps": math.ceil(samples / self.config.batch_size), "samples": samples,
                "batch_size": self.config.batch_size, "verbose": verbosity(self.callbacks)}

    def _evaluate(self, images: torch.Tensor, labels: torch.Tensor, callbacks: CallbackList,
                  watch_stop: bool) -> dict[str, float] | None:
        """Mean loss and accuracy in eval mode; ``None`` if a stop request cut it short."""
        batch_size = self.config.batch_size
        batch_logs = callbacks.wants("on_test_batch_end")
        callbacks.on_test_begin()
        self.model.eval()
        totals = Totals(self.device)
        with torch.no_grad():
            for step in range(math.ceil(images.shape[0] / batch_size)):
                if watch_stop and self._halt():
                    return None
                callbacks.on_test_batch_begin(step)
                x = images[step * batch_size:(step + 1) * batch_size].to(self.device, non_blocking=True)
                y = labels[step * batch_size:(step + 1) * batch_size].to(self.device, non_blocking=True)
                try:
                    with autocast(self.config.precision, self.device):
                        logits = self.model.logits(x)
                    totals.update(self.loss_fn(logits.float(), y), logits, y)
                except (RuntimeError, MemoryError) as error:
                    raise self._step_error(error, f"evaluation batch {step + 1}") from error
                if batch_logs:
                    callbacks.on_test_batch_end(step, totals.logs())
        logs = totals.result()
        callbacks.on_test_end(logs)
        return logs

    def predict(self, x: Any, batch_size: int | None = None, verbose: int | str = "auto",
                callbacks: list[Callback] | None = None) -> np.ndarray:
        """Class probabilities ``(N, classes)`` as float32: the model's softmax output, or the
        softmax of its scores when the network ends without one.  ``batch_size`` as in
        ``evaluate``; the progress bar shows nothing for a prediction."""
        with self._this_call(verbose, callbacks, batch_size=batch_size):
            return self._predict_all(x)

    def _predict_all(self, x: Any) -> np.ndarray:
        x, _ = unpack(x)
        images = self._place(as_images(x, self.model.input_shape, "x"))
        batch_size = self.config.batch_size
        callbacks = CallbackList(self.callbacks, trainer=self, params=self._eval_params(images.shape[0]))
        was_training = self.model.training
        outputs = []
        with deterministic_mode(self.config.deterministic):
            callbacks.on_predict_begin()
            self.model.eval()
            with torch.no_grad():
                for step in range(math.ceil(images.shape[0] / batch_size)):
                    callbacks.on_predict_batch_begin(step)
                    batch = images[step * batch_size:(step + 1) * batch_size].to(self.device, non_blocking=True)
                    try:
                        with autocast(self.config.precision, self.device):
                            scores = self.model.logits(batch)
                    except (RuntimeError, MemoryError) as error:
                        raise self._step_error(error, f"prediction batch {step + 1}") from error
                    probabilities = torch.softmax(scores.float(), dim=1)
                    outputs.append(probabilities)
                    callbacks.on_predict_batch_end(step, {"outputs": probabilities})
            callbacks.on_predict_end()
        self.model.train(was_training)
        return torch.cat(outputs).cpu().numpy()

    # ------------------------------------------------------------------ state for backups
    def training_state(self) -> dict[str, Any]:
        """Everything needed to carry on exactly from here (between two batches of ``fit``):
        weights, optimizer, position, partial sums, every random generator, callback
        states.  Tensors are CPU copies; ``torch.load(weights_only=True)`` reads it back."""
        return run_state.capture(self)

    def load_training_state(self, state: dict[str, Any]) -> None:
        """Carry on from ``state`` (made by ``training_state``) when ``fit`` starts training.

        Called from a callback's ``on_train_begin`` (``BackupAndRestore``); applied after
        every callback's ``on_train_begin``, so their resets do not undo it.  A state made
        for another network is refused here, with the first layer that differs."""
        run_state.check(self, state)
        self._pending_state = state

    def _resume(self, callbacks: CallbackList) -> tuple[int, int]:
        """Apply a pending backup: returns ``(first epoch, first batch)``."""
        state, self._pending_state = self._pending_state, None
        if state is None:
            return 0, 0
        return run_state.apply(self, state, callbacks)

    def _snapshot(self) -> dict[str, Any]:
        return {"model": to_cpu(self.model.state_dict()), "optimizer": to_cpu(self.optimizer.state_dict())}

    def _restore(self, snapshot: dict[str, Any]) -> None:
        self.model.load_state_dict(snapshot["model"])
        self.optimizer.load_state_dict(snapshot["optimizer"])

