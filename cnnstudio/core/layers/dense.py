"""Fully connected and regularisation layers: Dense, Dropout."""

from __future__ import annotations

from typing import Sequence

from .activation import activation_calls, activation_param
from .base import (Explanation, LayerSpec, ModuleCall, ParamCount, ParamSpec, Params, Shape,
                   TorchRecipe, kw)

UNITS_MAX = 1 << 20


class Dense(LayerSpec):
    type_name = "Dense"
    family = "Core"
    name_prefix = "dense"
    accepts = "vector"
    global_view = True
    summary = "Every unit is connected to every input value (a fully connected layer)."
    params = (
        ParamSpec("units", "int", 64, "Number of output units (neurons).", minimum=1, maximum=UNITS_MAX),
        ParamSpec("use_bias", "bool", True, "Add one learned bias per unit."),
        activation_param(),
    )

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        self.check_rank(inputs)
        return (p["units"],)

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        return ParamCount((inputs[0][0] + int(p["use_bias"])) * p["units"])

    def macs(self, p: Params, inputs: Sequence[Shape], output: Shape) -> int:
        return inputs[0][0] * p["units"]

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        bias = " + 1" if p["use_bias"] else ""
        return Explanation([
            self.summary,
            f"params = ({inputs[0][0]}{bias}) * {p['units']} = {self.param_count(p, inputs, output).total}",
        ])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("Linear", (inputs[0][0], p["units"]), kw(bias=p["use_bias"])),
                           after=activation_calls(p["activation"]))

    def key_settings(self, p: Params) -> str:
        text = str(p["units"])
        return text + (f" · {p['activation']}" if p["activation"] != "linear" else "")


class Dropout(LayerSpec):
    type_name = "Dropout"
    family = "Core"
    name_prefix = "dropout"
    summary = "During training, zeroes a random share of values (rate) to fight overfitting; off at inference."
    params = (ParamSpec("rate", "float", 0.5, "Share of values dropped while training.", minimum=0.0, maximum=0.99),)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        return Explanation([self.summary, f"Drops {p['rate']:.0%} of values in training; shape unchanged; "
                                          "no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("Dropout", (), kw(p=p["rate"])))

    def key_settings(self, p: Params) -> str:
        return f"rate {p['rate']:g}"


SPECS = (Dense(), Dropout())
