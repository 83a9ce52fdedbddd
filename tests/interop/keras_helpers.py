"""What the Keras tests share: a studio model with weights worth comparing, Keras's view of
the same input, and the model an exported script defines."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest
import torch

from cnnstudio.core.build import build_model
from cnnstudio.core.network import Network

keras = pytest.importorskip("keras")

TOLERANCE = 1e-5


def studio_model(network: Network, seed: int = 0) -> torch.nn.Module:
    """The built network in eval mode with its fresh initialisation and BatchNorm statistics
    that are not the trivial 0 and 1 (so running mean and variance must travel too)."""
    torch.manual_seed(seed)
    model = build_model(network).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("running_mean"):
                buffer.copy_(torch.randn(buffer.shape, generator=generator) * 0.3)
            elif name.endswith("running_var"):
                buffer.copy_(torch.rand(buffer.shape, generator=generator) + 0.5)
        for name, parameter in model.named_parameters():
            if name.endswith("bias"):  # biases start at zero in Keras-style layers: make them count
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
    return model


def sample_batch(shape: tuple[int, ...], count: int = 3, seed: int = 1) -> torch.Tensor:
    return torch.randn(count, *shape, generator=torch.Generator().manual_seed(seed))


def channels_last(batch: torch.Tensor) -> np.ndarray:
    """A channels-first batch as Keras wants it."""
    return batch.numpy().transpose(0, *range(2, batch.ndim), 1)


def script_model(path: Path):
    """The ``model`` that an exported Keras script defines (the script is ours, generated
    by the test that calls this)."""
    return runpy.run_path(str(path))["model"]


def keras_shape(tensor) -> tuple[int, ...]:
    """A Keras tensor's shape without the batch axis."""
    return tuple(tensor.shape[1:])
