"""The callback protocol: Keras's hooks, called by ``Trainer`` at fixed points.

A callback is a plain class of no-op hooks; override the ones you need.  The
names, arguments and order are Keras's (``keras.callbacks.Callback``), so
lecture code ports line by line; where Keras writes ``self.model.stop_training
= True`` a callback here writes ``self.trainer.stop_training = True``
(``self.model`` is the torch module being trained).

Additions to Keras, all optional:

* ``on_exception(error)``: the run is ending with ``error`` (Lightning's hook);
  close files here.  ``on_train_end`` is not called then.
* ``state_dict()`` / ``load_state_dict(state)``: what a callback must carry
  across a ``BackupAndRestore`` resume (counters, best values, EMA weights).
* ``hook_order``: callbacks run in list order, those with a higher
  ``hook_order`` after the rest (``History`` is 1, ``BackupAndRestore`` 2, so
  a backup sees what every other callback did at the end of an epoch).
"""

from __future__ import annotations

import os

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..trainer import Trainer

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end", "on_exception")

#: Keras's old names for the training-batch hooks, still honoured
ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class Callback:
    """Base class: every hook does nothing.  ``trainer`` and ``params`` are set by the trainer."""

    hook_order = 0

    def __init__(self) -> None:
        self.trainer: Trainer | None = None
        self.params: dict[str, Any] = {}

    def set_trainer(self, trainer: "Trainer") -> None:
        self.trainer = trainer

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    @property
    def model(self) -> "torch.nn.Module | None":
        """The torch module being trained (``self.trainer.model``)."""
        return self.trainer.model if self.trainer is not None else None

    # ------------------------------------------------------------------ training
    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # ------------------------------------------------------------------ evaluation and prediction
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    # ------------------------------------------------------------------ additions
    def on_exception(self, exception: BaseException) -> None: ...

    def state_dict(self) -> dict[str, Any] | None:
        """What to keep in a backup; ``None``: nothing."""
        return None

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def state_key(self) -> str:
        """The name of this callback's state in a backup: its class name, plus what tells
        two callbacks of one class apart (the metric watched, the file written), so a
        backup still fits when the list of callbacks is reordered."""
        details = [str(getattr(self, name)) for name in ("monitor", "filepath", "filename")
                   if isinstance(getattr(self, name, None), (str, os.PathLike))]
        return type(self).__name__ + (f"({', '.join(details)})" if details else "")


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` does something in ``hook`` (a subclass method or an
    instance attribute, as ``LambdaCallback`` sets)."""
    names = (hook, ALIASES[hook]) if hook in ALIASES else (hook,)
    for name in names:
        method = getattr(callback, name)
        if getattr(method, "__func__", method) is not getattr(Callback, name):
            return True
    return False


class CallbackList:
    """Calls a hook on each callback in turn.

    Only callbacks that override a hook are called for it, so a per-batch hook
    that nobody uses costs nothing; ``wants(hook)`` lets the trainer skip even
    building the logs for it.
    """

    def __init__(self, callbacks: Iterable[Callback] = (), *, trainer: "Trainer | None" = None,
                 params: dict[str, Any] | None = None) -> None:
        items = list(callbacks)
        for callback in items:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be Callback instances, not {type(callback).__name__}")
        # a stable sort: equal hook_order keeps the given order
        self.callbacks = sorted(items, key=lambda callback: callback.hook_order)
        self._by_hook = {hook: [c for c in self.callbacks if _overrides(c, hook)] for hook in HOOKS}
        if trainer is not None:
            for callback in self.callbacks:
                callback.set_trainer(trainer)
        if params is not None:
            self.set_params(params)

    def set_params(self, params: dict[str, Any]) -> None:
        for callback in self.callbacks:
            callback.set_params(params)

    def wants(self, hook: str) -> bool:
        return bool(self._by_hook[hook])

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self._by_hook[hook]:
            getattr(callback, hook)(*args)

    def on_train_begin(self, logs: dict | None = None) -> None: self._call("on_train_begin", logs)
    def on_train_end(self, logs: dict | None = None) -> None: self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: self._call("on_epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_train_batch_begin", batch, logs)
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_train_batch_end", batch, logs)
    def on_test_begin(self, logs: dict | None = None) -> None: self._call("on_test_begin", logs)
    def on_test_end(self, logs: dict | None = None) -> None: self._call("on_test_end", logs)
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_test_batch_end", batch, logs)
    def on_predict_begin(self, logs: dict | None = None) -> None: self._call("on_predict_begin", logs)
    def on_predict_end(self, logs: dict | None = None) -> None: self._call("on_predict_end", logs)
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._call("on_predict_batch_end", batch, logs)

    def on_exception(self, exception: BaseException) -> None:
        """Tell every callback; one failing here does not keep the others from cleaning up."""
        for callback in self._by_hook["on_exception"]:
            try:
                callback.on_exception(exception)
            except Exception:  # noqa: BLE001 - the original error is what the caller must see
                pass

    # ------------------------------------------------------------------ backups
    def _keys(self) -> list[tuple[str, Callback]]:
        """A key per callback (``Callback.state_key``); callbacks with equal keys are alike,
        so numbering them in list order loses nothing when they swap places."""
        seen: dict[str, int] = {}
        keys = []
        for callback in self.callbacks:
            name = callback.state_key()
            seen[name] = seen.get(name, 0) + 1
            keys.append((name if seen[name] == 1 else f"{name}#{seen[name]}", callback))
        return keys

    def state_dict(self) -> dict[str, Any]:
        states = {}
        for key, callback in self._keys():
            state = callback.state_dict()
            if state is not None:
                states[key] = state
        return states

    def load_state_dict(self, states: dict[str, Any]) -> None:
        for key, callback in self._keys():
            if key in states:
                callback.load_state_dict(states[key])


class History(Callback):
    """Records each epoch's logs, like Keras's ``History`` (what ``fit`` returns).

    ``history["loss"][i]`` is epoch ``epoch[i]``'s value.  ``interrupted`` is
    true when the run ended on ``Trainer.request_stop()``.
    """

    hook_order = 1

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.interrupted = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self) -> dict[str, Any]:
        return {"history": {key: list(values) for key, values in self.history.items()}, "epoch": list(self.epoch)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = {key: list(values) for key, values in state["history"].items()}
        self.epoch = list(state["epoch"])


class LambdaCallback(Callback):
    """A callback made of functions, like Keras's: ``on_epoch_end=lambda epoch, logs: ...``.

    Epoch hooks take ``(epoch, logs)``, batch hooks ``(batch, logs)``, begin/end
    hooks ``(logs)``.  Any other hook name may be given as a keyword too.
    """

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_train_begin: Callable | None = None, on_train_end: Callable | None = None,
                 on_train_batch_begin: Callable | None = None, on_train_batch_end: Callable | None = None,
                 **hooks: Callable) -> None:
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **hooks)
        for name, function in given.items():
            if function is None:
                continue
            if name not in HOOKS and name not in ALIASES.values():
                raise TypeError(f"LambdaCallback: {name!r} is not a callback hook (hooks: {', '.join(HOOKS)})")
            setattr(self, name, function)
