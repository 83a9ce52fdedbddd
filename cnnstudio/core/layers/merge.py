"""Merge layers that join branches: Add (residual connections) and Concatenate."""

from __future__ import annotations

from typing import Sequence

from .base import Explanation, LayerSpec, Params, Shape, ShapeError, TorchRecipe, format_shape


class Add(LayerSpec):
    type_name = "Add"
    family = "Merge"
    name_prefix = "add"
    summary = "Adds its inputs element by element (residual / skip connections)."
    min_inputs = 2
    max_inputs = None

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        first = inputs[0]
        for other in inputs[1:]:
            if other != first:
                shapes = " and ".join(format_shape(s) for s in inputs)
                raise ShapeError(f"its inputs must have the same shape to be added, got {shapes}",
                                 "Make the branches end in the same shape (same filters, padding='same', "
                                 "or a 1x1 Conv2D on the shorter branch).")
        return first

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        return Explanation([self.summary, f"{len(inputs)} inputs of {format_shape(output)}; no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(merge="add")


class Concatenate(LayerSpec):
    type_name = "Concatenate"
    family = "Merge"
    name_prefix = "concatenate"
    summary = "Stacks its inputs along the channel axis."
    min_inputs = 2
    max_inputs = None

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        first = inputs[0]
        for other in inputs[1:]:
            if len(other) != len(first) or other[1:] != first[1:]:
                shapes = " and ".join(format_shape(s) for s in inputs)
                raise ShapeError(f"its inputs must agree on every axis but channels, got {shapes}",
                                 "Give the branches the same spatial size (padding='same', or the same pooling).")
        return (sum(s[0] for s in inputs), *first[1:])

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        parts = " + ".join(str(s[0]) for s in inputs)
        return Explanation([self.summary, f"channels = {parts} = {output[0]}; no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(merge="concat")


SPECS = (Add(), Concatenate())
