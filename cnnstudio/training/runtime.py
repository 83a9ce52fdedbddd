"""Turning a ``TrainConfig`` into torch objects: device, optimizer, seeds,
deterministic mode, mixed precision, and the random-number state a backup keeps.

Kept apart from the loop so ``trainer.py`` reads as the loop and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from .config import FLOAT16_ON_CPU, TrainConfig
from .errors import TrainingError

AUTOCAST_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA, then Apple MPS, then CPU; a named device must exist."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise TrainingError(f"training.device is 'cuda' but this torch ({torch.__version__}) sees no CUDA GPU; "
                            "choose 'auto' or 'cpu'")
    if name == "mps" and not mps:
        raise TrainingError("training.device is 'mps' but Apple's Metal (MPS) backend is not available here; "
                            "choose 'auto' or 'cpu'")
    return torch.device(name)


def check_precision(precision: str, device: torch.device) -> None:
    """Refuse a precision the device cannot run (float16 on the CPU, bfloat16 on old GPUs)."""
    if precision == "float16" and device.type == "cpu":
        raise TrainingError(FLOAT16_ON_CPU)
    if precision == "bfloat16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise TrainingError("training.precision 'bfloat16' is not supported by this GPU; use 'float16' or 'float32'")


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision for the forward pass; nothing at all for float32."""
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=AUTOCAST_DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> "torch.amp.GradScaler | None":
    """float16 gradients underflow without loss scaling; bfloat16 has float32's range and needs none."""
    if precision == "float16" and device.type in ("cuda", "mps"):
        return torch.amp.GradScaler(device.type)
    return None


def make_optimizer(parameters: Iterable[torch.nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """The torch optimizer for ``config``, Keras names mapped to torch's."""
    params = list(parameters)
    lr, wd = config.learning_rate, config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, nesterov=config.nesterov, weight_decay=wd)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(config.beta_1, config.beta_2), eps=config.epsilon,
                                weight_decay=wd)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, betas=(config.beta_1, config.beta_2), eps=config.epsilon,
                                 weight_decay=wd)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=config.rho, eps=config.epsilon, momentum=config.momentum,
                                   weight_decay=wd)
    raise ValueError(f"unknown optimizer {config.optimizer!r}")  # TrainConfig already refuses it


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (CPU and every GPU), like
    ``keras.utils.set_random_seed``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def deterministic_mode(enabled: bool) -> Iterator[None]:
    """Deterministic kernels while the block runs, then the previous settings.

    ``warn_only=True``: an operation with no deterministic version warns instead
    of failing the run.  These are process-wide switches, hence the restore."""
    if not enabled:
        yield
        return
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # cuBLAS reads it for reproducible matmuls
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = previous[2], previous[3]


# ---------------------------------------------------------------------- random-number state

def global_rng_state() -> dict[str, Any]:
    """Python's, NumPy's and torch's generator states as tensors and numbers, so a
    backup loads with ``torch.load(weights_only=True)``."""
    version, words, gauss = random.getstate()
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "python": {"version": version, "state": torch.tensor(words, dtype=torch.int64), "gauss": gauss},
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "position": int(position),
                  "has_gauss": int(has_gauss), "cached": float(cached)},
        "torch": torch.get_rng_state(),
        # only once CUDA is in use: asking earlier would start it (seconds, and memory) for nothing
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
    }


def set_global_rng_state(state: dict[str, Any]) -> None:
    python = state["python"]
    random.setstate((python["version"], tuple(int(w) for w in python["state"].tolist()), python["gauss"]))
    numpy = state["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["position"],
                         numpy["has_gauss"], numpy["cached"]))
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def to_cpu(value: Any) -> Any:
    """A deep copy of ``value`` with every tensor cloned onto the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {key: to_cpu(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(to_cpu(item) for item in value)
    return value
