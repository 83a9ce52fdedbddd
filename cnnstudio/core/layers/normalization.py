"""BatchNorm, counted like Keras: gamma and beta train, the running mean and
variance do not (they are updated by averaging, not by gradients)."""

from __future__ import annotations

from typing import Sequence

from .base import Explanation, LayerSpec, ModuleCall, ParamCount, ParamSpec, Params, Shape, TorchRecipe, kw


class BatchNorm(LayerSpec):
    type_name = "BatchNorm"
    family = "Normalization"
    name_prefix = "batch_normalization"
    summary = "Normalises each channel over the batch, then rescales it with a learned gamma and beta."
    params = (
        ParamSpec("momentum", "float", 0.99,
                  "Keras-style momentum of the running statistics (PyTorch's momentum is 1 minus this).",
                  minimum=0.0, maximum=1.0),
        ParamSpec("epsilon", "float", 1e-3, "Added to the variance to avoid dividing by zero.",
                  minimum=1e-12, maximum=1.0),
        ParamSpec("affine", "bool", True, "Learn a scale (gamma) and offset (beta) per channel "
                                          "(Keras center=True, scale=True)."),
    )

    def param_count(self, p: Params, inputs: Sequence[Shape], output: Shape) -> ParamCount:
        channels = inputs[0][0]
        return ParamCount(2 * channels if p["affine"] else 0, 2 * channels)

    def explain(self, p: Params, inputs: Sequence[Shape], output: Shape) -> Explanation:
        c = inputs[0][0]
        trainable = f"{2 * c} trainable (gamma, beta) + " if p["affine"] else ""
        return Explanation([self.summary, "y = gamma * (x - mean) / sqrt(var + epsilon) + beta",
                            f"params = {trainable}{2 * c} non-trainable (running mean, variance) for {c} channels"])

    def torch_recipe(self, p: Params, inputs: Sequence[Shape], output: Shape) -> TorchRecipe:
        cls = "BatchNorm2d" if len(inputs[0]) == 3 else "BatchNorm1d"
        return TorchRecipe(ModuleCall(cls, (inputs[0][0],), kw(
            eps=p["epsilon"], momentum=round(1.0 - p["momentum"], 12), affine=p["affine"])))


SPECS = (BatchNorm(),)
