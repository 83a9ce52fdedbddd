"""Activation layers, and the ``activation=`` argument shared with Conv/Dense.

Both paths produce the same parameter-free ``FunctionCall`` steps, so a
``Conv2D(activation='relu')`` and a ``Conv2D`` followed by a ``ReLU`` layer
build and generate the same operation.
"""

from __future__ import annotations

from typing import Sequence

from .base import (ACTIVATIONS, Explanation, FunctionCall, LayerSpec, ParamSpec, Params, Shape,
                   TorchRecipe, kw)

#: Keras's ``activation='leaky_relu'`` string uses this slope (the LeakyReLU layer defaults to 0.3).
ACTIVATION_STRING_SLOPE = 0.2

ACTIVATION_FORMULAS = {
    "linear": "a(x) = x",
    "relu": "ReLU(x) = max(0, x)",
    "relu6": "ReLU6(x) = min(max(0, x), 6)",
    "leaky_relu": "LeakyReLU(x) = max(alpha*x, x)",
    "elu": "ELU(x) = x if x > 0 else alpha*(exp(x) - 1)",
    "gelu": "GELU(x) = x * Phi(x)",
    "sigmoid": "sigma(x) = 1 / (1 + exp(-x))",
    "tanh": "tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))",
    "softmax": "softmax(z)_i = exp(z_i) / sum_j exp(z_j), over the channel axis",
}


def activation_calls(name: str, alpha: float | None = None) -> tuple[FunctionCall, ...]:
    """The torch steps of one activation; ``linear`` is no step at all."""
    if name == "linear":
        return ()
    if name == "relu":
        return (FunctionCall("relu"),)
    if name == "relu6":
        return (FunctionCall("relu6"),)
    if name == "leaky_relu":
        return (FunctionCall("leaky_relu", kw(negative_slope=ACTIVATION_STRING_SLOPE if alpha is None else alpha)),)
    if name == "elu":
        return (FunctionCall("elu", kw(alpha=1.0 if alpha is None else alpha)),)
    if name == "gelu":
        return (FunctionCall("gelu"),)
    if name == "sigmoid":
        return (FunctionCall("sigmoid"),)
    if name == "tanh":
        return (FunctionCall("tanh"),)
    if name == "softmax":
        return (FunctionCall("softmax", kw(dim=1)),)
    raise ValueError(f"unknown activation {name!r}")


def activation_param(default: str = "linear") -> ParamSpec:
    return ParamSpec("activation", "choice", default,
                     "Applied to the output; 'linear' means none (as in Keras).", choices=ACTIVATIONS)


def is_softmax(call: FunctionCall) -> bool:
    return call.name == "softmax"


class _Activation(LayerSpec):
    family = "Activation"
    activation = ""
    alpha_default: float | None = None

    def __init__(self) -> None:
        if self.alpha_default is not None:
            self.params = (ParamSpec("alpha", "float", self.alpha_default,
                                     "Slope/scale for negative inputs.", minimum=0.0, maximum=100.0),)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        return Explanation([self.summary, ACTIVATION_FORMULAS[self.activation],
                            "Shape unchanged; no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(after=activation_calls(self.activation, p.get("alpha")))

    def key_settings(self, p: Params) -> str:
        return f"alpha {p['alpha']:g}" if "alpha" in p else ""


class ReLU(_Activation):
    type_name, name_prefix, activation = "ReLU", "re_lu", "relu"
    summary = "Keeps positive values and sets negative ones to zero."


class ReLU6(_Activation):
    type_name, name_prefix, activation = "ReLU6", "relu6", "relu6"
    summary = ("ReLU capped at 6: keeps values between 0 and 6, so they stay small enough for "
               "low-precision arithmetic (MobileNet's activation).")


class LeakyReLU(_Activation):
    type_name, name_prefix, activation = "LeakyReLU", "leaky_re_lu", "leaky_relu"
    summary = "Like ReLU, but lets a small slope (alpha) through for negative inputs."
    alpha_default = 0.3


class ELU(_Activation):
    type_name, name_prefix, activation = "ELU", "elu", "elu"
    summary = "Smooth exponential curve for negative inputs, identity for positive ones."
    alpha_default = 1.0


class GELU(_Activation):
    type_name, name_prefix, activation = "GELU", "gelu", "gelu"
    summary = "Weights each input by the Gaussian probability that it is positive."


class Sigmoid(_Activation):
    type_name, name_prefix, activation = "Sigmoid", "sigmoid", "sigmoid"
    summary = "Squashes values into (0, 1); flat far from zero, so gradients vanish there."


class Tanh(_Activation):
    type_name, name_prefix, activation = "Tanh", "tanh", "tanh"
    summary = "Squashes values into (-1, 1)."


class Softmax(_Activation):
    type_name, name_prefix, activation = "Softmax", "softmax", "softmax"
    summary = "Turns scores into probabilities that add up to 1 over the channel axis."


SPECS = (ReLU(), ReLU6(), LeakyReLU(), ELU(), GELU(), Sigmoid(), Tanh(), Softmax())
