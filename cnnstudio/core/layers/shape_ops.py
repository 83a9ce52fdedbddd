"""Layers that only move values around: Input, Flatten, Reshape, ZeroPadding2D, UpSampling2D."""

from __future__ import annotations

import math
from typing import Sequence

from .base import (Explanation, LayerSpec, shape_words, ModuleCall, ParamSpec, Params, ReceptiveStep,
                   Shape, ShapeError, TorchRecipe, format_shape, kw)

DIM_MAX = 16384


class Input(LayerSpec):
    type_name = "Input"
    family = "Input"
    name_prefix = "input"
    summary = "Where data enters: images as (channels, height, width), sequences as (channels, length)."
    min_inputs = 0
    max_inputs = 0
    params = (ParamSpec("shape", "shape", [1, 28, 28],
                        "Shape of one sample without the batch axis, in PyTorch order: "
                        "[C, H, W] for images, [C, L] for sequences, [N] for vectors.",
                        minimum=1, maximum=DIM_MAX),)

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        return tuple(p["shape"])

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        return Explanation([self.summary, f"Each sample holds {math.prod(output):,} values {format_shape(output)}."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe()

    def key_settings(self, p: Params) -> str:
        return shape_words(p["shape"])


class Flatten(LayerSpec):
    type_name = "Flatten"
    family = "Core"
    name_prefix = "flatten"
    global_view = True
    summary = "Unrolls a tensor of any shape into one long vector, for Dense layers."

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        return (math.prod(inputs[0]),)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        dims = " * ".join(str(d) for d in inputs[0])
        return Explanation([self.summary, f"out = {dims} = {output[0]} values; no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("Flatten"))


class Reshape(LayerSpec):
    type_name = "Reshape"
    family = "Core"
    name_prefix = "reshape"
    global_view = True
    summary = "Rearranges the values into a new shape with the same number of elements."
    params = (ParamSpec("target_shape", "shape", [1, 28, 28],
                        "New shape without the batch axis (PyTorch order); one dimension may be -1.",
                        minimum=1, maximum=DIM_MAX, allow_infer=True),)

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        total = math.prod(inputs[0])
        target = list(p["target_shape"])
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            if total % known:
                raise ShapeError(f"cannot infer -1: {total} values are not divisible by {known}",
                                 f"Choose dimensions whose product divides {total}.")
            target[target.index(-1)] = total // known
        elif known != total:
            raise ShapeError(f"target {format_shape(tuple(target))} holds {known} values but the input "
                             f"{format_shape(inputs[0])} holds {total}",
                             f"Choose dimensions whose product is {total}, or use -1 for one of them.")
        return tuple(target)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        return Explanation([self.summary, f"{format_shape(inputs[0])} -> {format_shape(output)}: "
                                          f"{math.prod(output)} values; no parameters."])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("Sequential", children=(ModuleCall("Flatten"),
                                                               ModuleCall("Unflatten", (1, tuple(output))))))

    def key_settings(self, p: Params) -> str:
        return "to " + shape_words(p["target_shape"])


class ZeroPadding2D(LayerSpec):
    type_name = "ZeroPadding2D"
    family = "Core"
    name_prefix = "zero_padding2d"
    accepts = "image"
    summary = "Adds rows and columns of zeros around the image so edges are not lost."
    params = tuple(ParamSpec(side, "int", 1, f"Zero rows/columns added at the {side}.", minimum=0, maximum=DIM_MAX)
                   for side in ("top", "bottom", "left", "right"))

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        self.check_rank(inputs)
        c, h, w = inputs[0]
        return (c, h + p["top"] + p["bottom"], w + p["left"] + p["right"])

    def receptive_step(self, p: Params, inputs: Sequence[Shape]) -> ReceptiveStep:
        return ReceptiveStep((1, 1), (1, 1), pad_before=(p["top"], p["left"]))

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        _, h, w = inputs[0]
        return Explanation([self.summary,
                            f"height = {h} + {p['top']} + {p['bottom']} = {output[1]}",
                            f"width = {w} + {p['left']} + {p['right']} = {output[2]}"])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        return TorchRecipe(ModuleCall("ZeroPad2d", ((p["left"], p["right"], p["top"], p["bottom"]),)))

    def key_settings(self, p: Params) -> str:
        sides = {p[s] for s in ("top", "bottom", "left", "right")}
        return f"pad {sides.pop()}" if len(sides) == 1 else f"{p['top']},{p['bottom']},{p['left']},{p['right']}"


class UpSampling2D(LayerSpec):
    type_name = "UpSampling2D"
    family = "Core"
    name_prefix = "up_sampling2d"
    accepts = "image"
    summary = "Repeats (or interpolates) pixels to enlarge the image."
    params = (
        ParamSpec("size", "pair", [2, 2], "Scale factor for height and width.", minimum=1, maximum=64),
        ParamSpec("interpolation", "choice", "nearest", "How new pixels are filled.",
                  choices=("nearest", "bilinear")),
    )

    def output_shape(self, p: Params, inputs: Sequence[Shape]) -> Shape:
        self.check_rank(inputs)
        c, h, w = inputs[0]
        return (c, h * p["size"][0], w * p["size"][1])

    def receptive_step(self, p: Params, inputs: Sequence[Shape]) -> ReceptiveStep:
        return ReceptiveStep((1, 1), (1, 1), upsample=tuple(p["size"]))

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        _, h, w = inputs[0]
        return Explanation([self.summary, f"height = {h} * {p['size'][0]} = {output[1]}, "
                                          f"width = {w} * {p['size'][1]} = {output[2]}"])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        extra = {"align_corners": False} if p["interpolation"] == "bilinear" else {}
        return TorchRecipe(ModuleCall("Upsample", (), kw(scale_factor=tuple(float(s) for s in p["size"]),
                                                         mode=p["interpolation"], **extra)))

    def key_settings(self, p: Params) -> str:
        return "x".join(str(s) for s in p["size"])


SPECS = (Input(), Flatten(), Reshape(), ZeroPadding2D(), UpSampling2D())
