"""Weights between PyTorch's layout (the studio's ``state_dict``) and Keras's, both ways.

=================  ==============================  ===================================
layer              PyTorch                         Keras
=================  ==============================  ===================================
Conv2D / Conv1D    weight (out, in/groups, *k)     kernel (*k, in/groups, out)
DepthwiseConv2D    weight (in*m, 1, kh, kw)        kernel (kh, kw, in, m)
SeparableConv2D    0.weight, 1.weight (1x1), bias  depthwise, pointwise (1, 1, in*m, out), bias
Dense              weight (out, in)                kernel (in, out), rows in Keras's order
BatchNorm          weight, bias, running stats     gamma, beta, moving_mean, moving_variance
=================  ==============================  ===================================

A ``Dense`` (or a ``BatchNormalization``) that reads a vector flattened from an image sees
its inputs in another order in each framework; its ``WeightRule.order`` says which (see
``keras_layout``).  Arrays are NumPy arrays; the callers convert torch tensors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

from .keras_layout import FeatureOrder, is_plain, permutation

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

CONV, DEPTHWISE, SEPARABLE, DENSE, BATCHNORM = "conv", "depthwise", "separable", "dense", "batchnorm"


@dataclass(frozen=True)
class WeightRule:
    """How one layer's weights move: ``kind``, the studio layer ``layer`` (the prefix of its
    ``state_dict`` keys) and what decides the shapes and the order."""

    kind: str
    layer: str
    bias: bool = True
    center: bool = True             # BatchNorm: Keras's beta
    scale: bool = True              # BatchNorm: Keras's gamma
    depth_multiplier: int = 1
    order: FeatureOrder | None = None  # the vector a Dense or BatchNorm reads, when flattened
    output_order: FeatureOrder | None = None  # a Dense whose units a Reshape regroups into an image

    def inputs_permutation(self) -> "np.ndarray | None":
        return _permutation_of(self.order)

    def units_permutation(self) -> "np.ndarray | None":
        return _permutation_of(self.output_order)

    def keras_count(self) -> int:
        """How many variables the Keras layer holds."""
        if self.kind == BATCHNORM:
            return 2 + int(self.center) + int(self.scale)
        return (2 if self.kind == SEPARABLE else 1) + int(self.bias)


def to_keras(rule: WeightRule, state: Mapping[str, "np.ndarray"]) -> list["np.ndarray"]:
    """The Keras layer's variables, in Keras's order, from the studio's ``state``."""
    import numpy as np

    key = f"{rule.layer}."
    if rule.kind == CONV:
        weight = state[key + "weight"]
        variables = [np.transpose(weight, (*range(2, weight.ndim), 1, 0))]
    elif rule.kind == DEPTHWISE:
        variables = [_depthwise_to_keras(state[key + "weight"], rule.depth_multiplier)]
    elif rule.kind == SEPARABLE:
        variables = [_depthwise_to_keras(state[key + "0.weight"], rule.depth_multiplier),
                     np.transpose(state[key + "1.weight"], (2, 3, 1, 0))]
        key += "1."
    elif rule.kind == DENSE:
        weight = state[key + "weight"]
        kernel = np.empty((weight.shape[1], weight.shape[0]), dtype=weight.dtype)
        order = rule.inputs_permutation()
        kernel[order if order is not None else slice(None)] = weight.T
        units = rule.units_permutation()
        if units is not None:
            kernel = _unpermute(kernel.T, units).T
            state = {**state, key + "bias": _unpermute(state[key + "bias"], units)} if rule.bias else state
        variables = [kernel]
    elif rule.kind == BATCHNORM:
        names = ((["weight"] if rule.scale else []) + (["bias"] if rule.center else [])
                 + ["running_mean", "running_var"])
        return [_unpermute(state[key + name], rule.inputs_permutation()) for name in names]
    else:
        raise ValueError(f"unknown weight rule {rule.kind!r}")
    if rule.bias:
        variables.append(state[key + "bias"])
    return [v.copy(order="C") for v in variables]


def to_torch(rule: WeightRule, variables: Sequence["np.ndarray"]) -> dict[str, "np.ndarray"]:
    """The studio's ``state_dict`` entries of one layer from the Keras layer's ``variables``."""
    import numpy as np

    key = f"{rule.layer}."
    found = list(variables)
    if rule.kind == CONV:
        kernel = found.pop(0)
        nd = kernel.ndim
        state = {key + "weight": np.transpose(kernel, (nd - 1, nd - 2, *range(nd - 2)))}
    elif rule.kind == DEPTHWISE:
        state = {key + "weight": _depthwise_to_torch(found.pop(0))}
    elif rule.kind == SEPARABLE:
        state = {key + "0.weight": _depthwise_to_torch(found.pop(0)),
                 key + "1.weight": np.transpose(found.pop(0), (3, 2, 0, 1))}
        key += "1."
    elif rule.kind == DENSE:
        kernel = found.pop(0)
        order, units = rule.inputs_permutation(), rule.units_permutation()
        state = {key + "weight": _permute((kernel[order] if order is not None else kernel).T, units)}
        if rule.bias:
            state[key + "bias"] = _permute(found.pop(0), units)
        return {name: value.copy(order="C") for name, value in state.items()}
    elif rule.kind == BATCHNORM:
        order = rule.inputs_permutation()
        gamma = found.pop(0) if rule.scale else None
        beta = found.pop(0) if rule.center else None
        mean, variance = (_permute(found.pop(0), order), _permute(found.pop(0), order))
        state = {}
        if rule.center or rule.scale:  # CNN Studio learns both or neither: the missing one starts neutral
            state[key + "weight"] = _permute(gamma, order) if gamma is not None else np.ones_like(mean)
            state[key + "bias"] = _permute(beta, order) if beta is not None else np.zeros_like(mean)
        state.update({key + "running_mean": mean, key + "running_var": variance,
                      key + "num_batches_tracked": np.array(0, dtype=np.int64)})
        return {name: value.copy(order="C") for name, value in state.items()}
    else:
        raise ValueError(f"unknown weight rule {rule.kind!r}")
    if rule.bias:
        state[key + "bias"] = found.pop(0)
    return {name: value.copy(order="C") for name, value in state.items()}


def _permutation_of(order: FeatureOrder | None) -> "np.ndarray | None":
    return None if order is None or is_plain(order) else permutation(order)


def _depthwise_to_keras(weight: "np.ndarray", multiplier: int) -> "np.ndarray":
    import numpy as np

    out, _, kh, kw = weight.shape  # output channel c*m + j holds input channel c's j-th filter
    return np.transpose(weight.reshape(out // multiplier, multiplier, kh, kw), (2, 3, 0, 1))


def _depthwise_to_torch(kernel: "np.ndarray") -> "np.ndarray":
    import numpy as np

    kh, kw, channels, multiplier = kernel.shape
    return np.transpose(kernel, (2, 3, 0, 1)).reshape(channels * multiplier, 1, kh, kw)


def _permute(values: "np.ndarray", order: "np.ndarray | None") -> "np.ndarray":
    """Keras's order -> the studio's."""
    return values if order is None else values[order]


def _unpermute(values: "np.ndarray", order: "np.ndarray | None") -> "np.ndarray":
    """The studio's order -> Keras's."""
    if order is None:
        return values
    result = values.copy()
    result[order] = values
    return result
