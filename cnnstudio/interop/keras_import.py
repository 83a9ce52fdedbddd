"""Keras 3 ``.keras`` files onto the canvas, with their weights.

``import_keras(path)`` reads the file as data (``keras_archive``: zipfile, json, h5py; no
Keras, no TensorFlow, no code from the file), walks its layers (``keras_graph``) and gives
each the catalog layer that computes the same thing (``keras_layer_reader``), channels last turned into CNN Studio's
channels first: shapes, kernels (``keras_weights``) and the order of flattened vectors
(``keras_layout``), so the imported network's outputs equal Keras's.  A layer the catalog
cannot express is refused with ``UnsupportedModelError`` naming it; nothing is half imported.

Importing this module registers the ``.keras`` suffix with the shared import path.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from cnnstudio.core.layers import ShapeError, spec_for
from cnnstudio.core.layers.base import name_problem
from cnnstudio.core.layout import tidy_positions
from cnnstudio.core.network import Network, NetworkError

from .keras_archive import KerasArchive, read_keras_archive
from .keras_graph import KerasNode, read_graph
from .keras_layer_reader import CatalogLayer, LayerReader, TensorView
from .keras_layout import FeatureOrder, Shape, channels_first, flattened, plain
from .keras_weights import WeightRule
from .model_import import ImportedModel, ModelImportError, UnsupportedModelError, register_importer

#: Keras layers that compute element by element (or, for Softmax, over the whole vector), so
#: a vector keeps whatever order it has through them
ORDER_KEEPING = {"Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "BatchNormalization"}


def import_keras(path: str | Path, **options: Any) -> ImportedModel:
    """The network and weights of the Keras 3 model saved at ``path``."""
    if options:
        given = ", ".join(sorted(options))
        raise ModelImportError(f"{path}: {given} cannot be used with .keras files; the file holds its own "
                               "input shape and weights")
    archive = read_keras_archive(path)
    try:
        nodes, model_name = read_graph(archive.config, str(path))
        return _Importer(archive, nodes, model_name).run()
    finally:
        archive.close()


class _Importer:
    def __init__(self, archive: KerasArchive, nodes: list[KerasNode], model_name: str) -> None:
        self.archive = archive
        self.nodes = nodes
        self.model_name = model_name
        self.network = Network()
        self.tensors: dict[str, TensorView] = {}
        self.weights: list[tuple[WeightRule, KerasNode]] = []
        self.notes: list[str] = []
        self.dense_output_order = self._dense_orders()
        self.reader = LayerReader(self.notes, self.dense_output_order)

    def run(self) -> ImportedModel:
        for index, node in enumerate(self.nodes, start=1):
            self.where = f"at layer {index} of {len(self.nodes)}"
            self._add(node)
        self.network.move(tidy_positions(self.network))
        state = self._state_dict()
        # Keras's own default names say nothing: the project is then named after the file
        name = "" if re.fullmatch(r"(sequential|functional|model)(_\d+)?", self.model_name) else self.model_name
        return ImportedModel(self.network, state, str(self.archive.path), "keras", name=name, notes=self.notes)

    # ----- one layer
    def _add(self, node: KerasNode) -> None:
        inputs = [self.tensors[name] for name in node.inputs]
        try:
            layer = self.reader.read(node, inputs, self.where)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, ModelImportError):
                raise
            raise ModelImportError(f"{self.archive.path}: layer {node.name!r} ({node.class_name}) has a config "
                                   f"CNN Studio cannot read ({type(error).__name__}: {error})") from None
        if layer.type is None:  # an identity: its output is its input (a Permute changes only the layout)
            source = inputs[0]
            self.tensors[node.name] = TensorView(source.node_id, source.shape, source.order, layer.channels_first)
            return
        spec = spec_for(layer.type)
        name = self._studio_name(node.name, spec.name_prefix)
        try:
            created = self.network.add_node(layer.type, layer.params, name=name)
            for tensor in inputs:
                self.network.connect(tensor.node_id, created.id)
            shape = spec.output_shape(created.params, [tensor.shape for tensor in inputs])
        except (NetworkError, ShapeError, ValueError) as error:
            raise UnsupportedModelError(node.name, node.class_name, self.where,
                                        f"it does not fit CNN Studio's {layer.type}: {error}") from None
        order = self._order_after(node, layer, inputs, shape)
        self.tensors[node.name] = TensorView(created.id, tuple(shape), order, layer.channels_first)
        if layer.weights is not None:
            self.weights.append((layer.weights, node))

    def _studio_name(self, name: str, prefix: str) -> str:
        if name_problem(name) is None and self.network.node_by_name(name) is None:
            return name
        fresh = self.network.unique_name(prefix)
        self.notes.append(f"layer {name!r} is named {fresh!r} (layer names must be Python identifiers)")
        return fresh

    def _order_after(self, node: KerasNode, layer: CatalogLayer, inputs: list[TensorView], shape: Shape) -> FeatureOrder | None:
        if len(shape) != 1:
            return None
        if layer.type == "Dense":
            return self.dense_output_order.get(node.name) or plain(shape[0])
        if layer.type == "Concatenate":
            return tuple(part for tensor in inputs for part in tensor.order)
        if layer.type in ("Flatten", "Reshape") and len(inputs[0].shape) > 1:
            return plain(shape[0]) if inputs[0].channels_first else flattened(inputs[0].shape)
        if inputs and inputs[0].order is not None:
            return inputs[0].order
        return plain(shape[0])

    # ----- vectors that a Reshape turns back into images
    def _dense_orders(self) -> dict[str, FeatureOrder]:
        """Dense layers whose outputs a Reshape regroups into an image: their units are
        imported in CNN Studio's channels-first order, so the Reshape needs no permutation."""
        by_name = {node.name: node for node in self.nodes}
        readers: dict[str, list[KerasNode]] = {}
        for node in self.nodes:
            for name in node.inputs:
                readers.setdefault(name, []).append(node)
        orders = {}
        for node in self.nodes:
            target = node.config.get("target_shape") if node.class_name == "Reshape" else None
            if not (isinstance(target, list) and len(target) >= 2 and node.inputs
                    and all(isinstance(size, int) and size > 0 for size in target)):
                continue
            after = readers.get(node.name, [])
            if len(after) == 1 and after[0].class_name == "Permute":  # an image Keras keeps channels first
                continue
            current = by_name[node.inputs[0]]
            while current.class_name in ORDER_KEEPING and len(readers.get(current.name, [])) == 1 \
                    and current.inputs:
                current = by_name[current.inputs[0]]
            if current.class_name == "Dense" and len(readers.get(current.name, [])) == 1 \
                    and current.config.get("units") == math.prod(target):
                orders[current.name] = flattened(channels_first(target))
        return orders

    # ----- weights
    def _state_dict(self) -> dict[str, Any]:
        import numpy as np
        import torch

        from .keras_weights import to_torch

        state: dict[str, Any] = {}
        for rule, node in self.weights:
            studio = self.network.node(self.tensors[node.name].node_id).name
            variables = self.archive.variables(node.weights_path or "")
            rule = WeightRule(rule.kind, studio, rule.bias, rule.center, rule.scale, rule.depth_multiplier,
                              rule.order, rule.output_order)
            if len(variables) != rule.keras_count():
                raise ModelImportError(f"{self.archive.path}: layer {node.name!r} has {len(variables)} weight "
                                       f"arrays in model.weights.h5, expected {rule.keras_count()}")
            for key, value in to_torch(rule, variables).items():
                array = value if value.dtype == np.int64 else value.astype(np.float32)
                state[key] = torch.from_numpy(array.copy(order="C"))
        self._check(state)
        return state

    def _check(self, state: dict[str, Any]) -> None:
        from cnnstudio.core.build import build_model
        from cnnstudio.training.export_weights import WeightsError, check_weights

        try:
            check_weights(build_model(self.network).state_dict(), state, "the Keras weights")
        except (WeightsError, ValueError) as error:
            raise ModelImportError(f"{self.archive.path}: {error}") from None


register_importer(".keras", import_keras)

__all__ = ["import_keras"]
