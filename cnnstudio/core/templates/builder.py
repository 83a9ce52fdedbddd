"""A small vocabulary for writing the classic networks as code that reads like their papers.

``TemplateBuilder`` grows a ``Network`` one layer at a time, wiring each new layer
after the previous one (or after the layers it is given), and names the layers
inside a ``group("layer2")`` scope with the scope as a prefix
(``layer2_block1_conv1``), so every name stays unique and says where it sits.
It records those scopes as ``GroupPlan``s, which become group blocks on the
canvas, and places every block as it goes: a column top to bottom, side branches
(a ResNet shortcut) one column to the right, and room for each group's frame.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from ..group_layout import FRAME_BOTTOM, FRAME_TOP
from ..groups import Group, Groups
from ..layout import COLUMN_SPACING, ROW_SPACING
from ..network import Network

#: torch's BatchNorm2d defaults, in the catalog's Keras-style terms (momentum 0.1 in torch = 0.9 here)
TORCH_BATCHNORM = {"momentum": 0.9, "epsilon": 1e-5}


@dataclass
class GroupPlan:
    """One scope the template opened: its name, what kind of block it is, the nodes
    directly inside it, and the index of the scope it sits in (None at the top)."""

    name: str
    kind: str
    parent: int | None
    node_ids: list[str] = field(default_factory=list)


class TemplateBuilder:
    def __init__(self, input_shape: Sequence[int], input_name: str = "input") -> None:
        self.network = Network()
        self._y = 0.0  # where the next block of the main column goes
        self.last = self.network.add_node("Input", {"shape": list(input_shape)}, name=input_name).id
        self._y += ROW_SPACING
        self.groups: list[GroupPlan] = []
        self._open: list[int] = []  # indices into ``groups`` of the scopes we are in

    # ------------------------------------------------------------------ layers
    def add(self, type_name: str, name: str, params: Mapping[str, Any] | None = None,
            after: Sequence[str] | None = None, beside: str | None = None) -> str:
        """Add a layer fed by ``after`` (default: the last one added) and make it the last one.
        It goes below the previous block, or one column right of the block ``beside``."""
        full_name = "_".join([*(self.groups[i].name for i in self._open), name])
        if beside is None:
            position = (0.0, self._y)
            self._y += ROW_SPACING
        else:
            x, y = self.network.node(beside).position
            position = (x + COLUMN_SPACING, y)
        node = self.network.add_node(type_name, params or {}, name=full_name, position=position)
        for source in (after if after is not None else [self.last]):
            self.network.connect(source, node.id)
        if self._open:
            self.groups[self._open[-1]].node_ids.append(node.id)
        self.last = node.id
        return node.id

    def conv(self, name: str, filters: int, kernel: int, stride: int = 1, pad: int = 0, *, bias: bool = True,
             activation: str = "linear", groups: int = 1, beside: str | None = None) -> str:
        """A convolution with PyTorch-style symmetric zero padding ``pad``."""
        params = {"filters": filters, "kernel_size": kernel, "strides": stride, "use_bias": bias,
                  "activation": activation, "groups": groups}
        params.update({"padding": "explicit", "pad": pad} if pad else {"padding": "valid"})
        return self.add("Conv2D", name, params, beside=beside)

    def batchnorm(self, name: str, beside: str | None = None) -> str:
        return self.add("BatchNorm", name, TORCH_BATCHNORM, beside=beside)

    def max_pool(self, name: str, kernel: int, stride: int, pad: int = 0) -> str:
        params: dict[str, Any] = {"kernel_size": kernel, "strides": stride}
        params.update({"padding": "explicit", "pad": pad} if pad else {"padding": "valid"})
        return self.add("MaxPool2D", name, params)

    def dense(self, name: str, units: int, activation: str = "linear") -> str:
        return self.add("Dense", name, {"units": units, "activation": activation})

    # ------------------------------------------------------------------ groups
    @contextmanager
    def group(self, name: str, kind: str) -> Iterator[GroupPlan]:
        """Layers added inside belong to a group block ``name`` (nested in the current one)."""
        plan = GroupPlan(name, kind, self._open[-1] if self._open else None)
        self.groups.append(plan)
        self._open.append(len(self.groups) - 1)
        self._y += FRAME_TOP
        try:
            yield plan
        finally:
            self._open.pop()
            self._y += FRAME_BOTTOM

    def group_blocks(self) -> Groups:
        """The scopes as group blocks (ids ``g1``, ``g2``... in the order they were opened), expanded."""
        return Groups(tuple(Group(f"g{index + 1}", plan.name, tuple(plan.node_ids),
                                  None if plan.parent is None else f"g{plan.parent + 1}", plan.kind)
                            for index, plan in enumerate(self.groups)))
