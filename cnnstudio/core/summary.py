"""The Keras-like summary: numbers from the analysis, turned into rows, text and JSON.

Computing (``analysis``), collecting rows (``summary_rows``) and formatting
(``format_summary``/``summary_json``) are separate so the CLI, the editor's
summary dock and the golden-file tests share the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .analysis import DEFAULT_OPTIMIZER, OPTIMIZER_TITLES, Analysis
from .layers.base import format_shape
from .network import Network


@dataclass(frozen=True)
class SummaryRow:
    node_id: str
    name: str
    type: str
    output_shape: tuple[int, ...] | None
    params: int
    trainable: int
    non_trainable: int
    macs: int
    inputs: tuple[str, ...]
    problem: str
    #: the name through group blocks (``layer2/block1/conv1``); the name when not grouped
    path: str = ""
    input_paths: tuple[str, ...] = ()


def summary_rows(network: Network, analysis: Analysis) -> list[SummaryRow]:
    rows = []
    for node_id in analysis.order:
        node = analysis.nodes[node_id]
        errors = [d for d in node.diagnostics if d.is_error]
        rows.append(SummaryRow(
            node_id, node.name, node.type, node.output_shape, node.params.total, node.params.trainable,
            node.params.non_trainable, node.macs,
            tuple(analysis.nodes[s].name for s in analysis.inputs[node_id]),
            errors[0].text if errors else "", node.path or node.name,
            tuple(analysis.nodes[s].path or analysis.nodes[s].name for s in analysis.inputs[node_id])))
    return rows


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.2f} {unit}"
        count /= 1024
    raise AssertionError


def human_count(count: int) -> str:
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if count >= limit:
            return f"{count / limit:.2f}{suffix}"
    return str(count)


def is_chain(analysis: Analysis) -> bool:
    return all(len(sources) <= 1 for sources in analysis.inputs.values())


def keras_shape(shape: tuple[int, ...] | None, order: str) -> str:
    """``(None, 26, 26, 32)``: the batch axis first, as Keras prints it."""
    if shape is None:
        return "?"
    inner = format_shape(shape, order)[1:].rstrip(")").rstrip(",")
    return f"(None, {inner})"


def receptive_field_line(analysis: Analysis) -> str | None:
    target = analysis.last_spatial_node()
    if target is None:
        return None
    node = analysis.nodes[target]
    spatial = "x".join(str(d) for d in analysis.input_shape[1:])
    share = analysis.coverage(target)
    return (f"Receptive field of {node.path or node.name}: {node.receptive_field.text()} "
            f"({share:.1%} of the {spatial} input)")


#: the activation statistics a probe adds to each layer (``lab.preview.ActivationStats.to_json``)
STAT_COLUMNS = (("Mean", "mean"), ("Std", "std"), ("Zeros", "zero_share"), ("Min", "min"), ("Max", "max"))


def _stat_cells(stats: Mapping[str, float] | None) -> list[str]:
    if stats is None:
        return [""] * len(STAT_COLUMNS)
    return [f"{stats[key]:.1%}" if key == "zero_share" else f"{stats[key]:.4g}" for _, key in STAT_COLUMNS]


def format_summary(network: Network, analysis: Analysis, order: str = "torch", batch_size: int = 1,
                   optimizer: str = DEFAULT_OPTIMIZER, activations: Mapping[str, Mapping[str, float]] | None = None,
                   probe_lines: tuple[str, ...] = ()) -> str:
    """The text table the CLI prints; the training memory counts ``optimizer``'s state (an
    ``OPTIMIZER_SLOTS`` key: ``analysis.training_optimizer(project.training)``).

    ``activations`` (layer name -> statistics, from a probe with one sample) adds the
    columns of ``STAT_COLUMNS``; ``probe_lines`` (what was probed, and how) follow the table."""
    rows = summary_rows(network, analysis)
    chain = is_chain(analysis)
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    table = [[f"{r.path} ({r.type})", keras_shape(r.output_shape, order), f"{r.params:,}"]
             + ([] if chain else [", ".join(r.input_paths)]) for r in rows]
    right = {2}
    if activations is not None:
        right |= set(range(len(headers), len(headers) + len(STAT_COLUMNS)))
        headers += [title for title, _ in STAT_COLUMNS]
        for cells, r in zip(table, rows):
            cells += _stat_cells(activations.get(r.name))
    widths = [max(len(h), *(len(line[i]) for line in table)) if table else len(h) for i, h in enumerate(headers)]
    rule_width = sum(widths) + 3 * (len(widths) - 1)

    def line(cells: list[str]) -> str:
        return "   ".join(c.rjust(w) if i in right else c.ljust(w)
                          for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(headers), "=" * rule_width]
    for index, cells in enumerate(table):
        out.append(line(cells))
        if index < len(table) - 1:
            out.append("-" * rule_width)
    out.append("=" * rule_width)
    out += probe_lines
    out.append(f"Total params: {analysis.total_params:,}")
    out.append(f"Trainable params: {analysis.trainable_params:,}")
    out.append(f"Non-trainable params: {analysis.non_trainable_params:,}")
    out.append(f"Multiply-accumulates (MACs) per sample: {analysis.macs:,} ({human_count(analysis.macs)})")
    for precision in ("float32", "float16"):
        inference = analysis.memory(batch_size, precision, training=False)
        training = analysis.memory(batch_size, precision, training=True, optimizer=optimizer)
        out.append(f"Memory {precision}, batch {batch_size}: weights {human_bytes(inference.weights)}, "
                   f"inference {human_bytes(inference.total)}, training with {OPTIMIZER_TITLES[optimizer]} "
                   f"{human_bytes(training.total)}")
    field_line = receptive_field_line(analysis)
    if field_line:
        out.append(field_line)
    if analysis.diagnostics:
        out.append("")
        out.append(f"Problems ({len(analysis.diagnostics)}):")
        out += [f"  {d.severity}: {d.text}" for d in analysis.diagnostics]
    return "\n".join(out) + "\n"


def summary_json(network: Network, analysis: Analysis, batch_size: int = 1,
                 optimizer: str = DEFAULT_OPTIMIZER,
                 activations: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, Any]:
    """Machine-readable summary; shapes in PyTorch order without the batch axis; the training
    memory counts ``optimizer``'s state, named in ``"training_optimizer"``.  With
    ``activations`` (see ``format_summary``) each layer has an ``"activations"`` object
    (``mean``, ``std``, ``zero_share``, ``min``, ``max``), null for a layer the probe did not reach."""
    layers = [{
        "name": r.name, "path": r.path, "type": r.type,
        "output_shape": list(r.output_shape) if r.output_shape else None,
        "params": r.params, "trainable_params": r.trainable, "non_trainable_params": r.non_trainable,
        "macs": r.macs, "inputs": list(r.inputs),
    } for r in summary_rows(network, analysis)]
    if activations is not None:
        for layer in layers:
            stats = activations.get(layer["name"])
            layer["activations"] = dict(stats) if stats is not None else None
    memory = {precision: {
        "weights_bytes": analysis.memory(batch_size, precision).weights,
        "inference_bytes": analysis.memory(batch_size, precision, training=False).total,
        "training_bytes": analysis.memory(batch_size, precision, training=True, optimizer=optimizer).total,
    } for precision in ("float32", "float16")}
    result: dict[str, Any] = {
        "layers": layers,
        "total_params": analysis.total_params,
        "trainable_params": analysis.trainable_params,
        "non_trainable_params": analysis.non_trainable_params,
        "macs": analysis.macs,
        "batch_size": batch_size,
        "memory": memory,
        "training_optimizer": optimizer,
        "receptive_field": None,
        "diagnostics": [{"layer": d.node_name or None, "path": d.node_path or None, "severity": d.severity,
                         "message": d.message, "fix": d.fix} for d in analysis.diagnostics],
    }
    target = analysis.last_spatial_node()
    if target is not None:
        rows = analysis.footprint_table(target)
        result["receptive_field"] = {
            "layer": analysis.nodes[target].name,
            "size": list(analysis.nodes[target].receptive_field.size),
            "coverage": analysis.coverage(target),
            "footprint": [{"layer": r.name, "layer_size": list(r.layer_size), "footprint": list(r.footprint)}
                          for r in rows],
        }
    return result
