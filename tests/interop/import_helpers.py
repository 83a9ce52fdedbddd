"""Helpers shared by the ONNX and PyTorch import tests: quiet ONNX export of torch modules,
running an imported model, and a comparable description of a network's graph."""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

import torch

from cnnstudio.core.analysis import analyze
from cnnstudio.core.build import build_model
from cnnstudio.core.network import Network

HERE = Path(__file__).resolve().parent
SAMPLES_FILE = HERE / "sample_modules.py"


def export_with_torch(module: torch.nn.Module, input_shape, path: Path, *, legacy: bool = False) -> Path:
    """``torch.onnx.export`` as a user would call it: the default (dynamo) exporter with a dynamic
    batch axis, or the legacy TorchScript exporter with ``dynamic_axes``."""
    example = torch.randn(2, *input_shape)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if legacy:
            torch.onnx.export(module, (example,), str(path), dynamo=False, input_names=["input"],
                              dynamic_axes={"input": {0: "batch"}})
        else:
            torch.onnx.export(module, (example,), str(path), dynamo=True,
                              dynamic_shapes={"x": {0: torch.export.Dim("batch")}})
    return path


def run_imported(imported, x: torch.Tensor) -> torch.Tensor:
    """The imported network, built by CNN Studio's builder with the imported weights, on ``x``."""
    model = build_model(imported.network)
    model.load_state_dict(imported.state_dict)
    model.eval()
    with torch.no_grad():
        return model(x)


def graph_of(network: Network) -> list[tuple]:
    """Each layer in topological order: type, parameters, output shape, parameter counts and
    which earlier layers feed it (by position): what two equal graphs share, names aside."""
    analysis = analyze(network)
    position = {node_id: index for index, node_id in enumerate(analysis.order)}
    described = []
    for node_id in analysis.order:
        node, result = network.node(node_id), analysis.nodes[node_id]
        described.append((node.type, node.params, tuple(result.output_shape),
                          (result.params.trainable, result.params.non_trainable),
                          tuple(position[source] for source in analysis.inputs[node_id])))
    return described


def without_dropout(network: Network) -> Network:
    """``network`` with its Dropout layers bypassed: an inference graph (ONNX) has none."""
    data = network.to_dict()
    dropped = {node["id"]: network.inputs_of(node["id"])[0] for node in data["nodes"] if node["type"] == "Dropout"}
    edges = []
    for edge in data["edges"]:
        if edge["target"] in dropped:
            continue
        source = edge["source"]
        while source in dropped:
            source = dropped[source]
        edges.append({"source": source, "target": edge["target"]})
    nodes = [node for node in data["nodes"] if node["id"] not in dropped]
    return Network.from_dict({"nodes": nodes, "edges": edges})
