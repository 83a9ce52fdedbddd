"""An exponential moving average of a model's weights ("Polyak averaging").

``ema = decay * ema + (1 - decay) * weights`` after every optimizer step; the
first update copies the weights (Keras starts its EMA the same way).  The
average usually evaluates better than the last weights, at no training cost.
``swap()`` exchanges the average and the model's weights in place, so the
model can be evaluated or saved with either, without a second model.

Only floating-point parameters are averaged; buffers (BatchNorm statistics)
stay the model's own, as in Keras.
"""

from __future__ import annotations

from typing import Any

import torch


class ExponentialMovingAverage:
    def __init__(self, model: torch.nn.Module, decay: float = 0.99) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must be in [0, 1), not {decay}")
        self.decay = decay
        self.parameters = [p for p in model.parameters() if p.is_floating_point()]
        self.shadow = [p.detach().clone() for p in self.parameters]
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        current = [p.detach() for p in self.parameters]
        if self.updates == 0:
            for average, value in zip(self.shadow, current):
                average.copy_(value)
        elif hasattr(torch, "_foreach_lerp_"):
            torch._foreach_lerp_(self.shadow, current, 1.0 - self.decay)  # one fused kernel per step
        else:  # pragma: no cover - torch without the fused form
            for average, value in zip(self.shadow, current):
                average.lerp_(value, 1.0 - self.decay)
        self.updates += 1

    @torch.no_grad()
    def swap(self) -> None:
        """Exchange the model's weights and the average."""
        for parameter, average in zip(self.parameters, self.shadow):
            held = parameter.detach().clone()
            parameter.copy_(average)
            average.copy_(held)

    @torch.no_grad()
    def copy_to_model(self) -> None:
        for parameter, average in zip(self.parameters, self.shadow):
            parameter.copy_(average)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "shadow": [s.detach().cpu().clone() for s in self.shadow]}

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.decay, self.updates = state["decay"], state["updates"]
        for average, saved in zip(self.shadow, state["shadow"]):
            average.copy_(saved)
