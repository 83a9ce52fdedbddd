"""What a group block shows: its size and where data enters and leaves it, from the analysis.

Qt-free so the numbers on a collapsed block are tested like every other number."""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis
from .layers import Shape
from .network import Network


@dataclass(frozen=True)
class GroupSummary:
    group_id: str
    layers: int
    params: int
    trainable_params: int
    macs: int
    #: shapes arriving from outside the group, one per layer outside that feeds it
    input_shapes: tuple[Shape | None, ...]
    output_shape: Shape | None
    #: the first layer fed from outside and the layer whose output leaves the group: where
    #: wires drawn to and from the collapsed block attach
    entry: str
    exit: str
    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def summarize_groups(network: Network, analysis: Analysis) -> dict[str, GroupSummary]:
    groups = network.groups
    if not len(groups):
        return {}
    position = {node_id: index for index, node_id in enumerate(analysis.order)}
    outputs: dict[str, list[str]] = {node_id: [] for node_id in analysis.inputs}
    for target, sources in analysis.inputs.items():
        for source in sources:
            outputs[source].append(target)
    summaries = {}
    for group in groups:
        members = sorted(groups.descendant_nodes(group.id), key=lambda n: position.get(n, -1))
        inside = set(members)
        results = [analysis.nodes[n] for n in members if n in analysis.nodes]
        entering = [(source, n) for n in members for source in analysis.inputs.get(n, ()) if source not in inside]
        leaving = [n for n in members if any(t not in inside for t in outputs.get(n, ()))]
        exit_node = leaving[-1] if leaving else members[-1]
        entry_node = entering[0][1] if entering else members[0]
        summaries[group.id] = GroupSummary(
            group.id, len(members), sum(r.params.total for r in results), sum(r.params.trainable for r in results),
            sum(r.macs for r in results),
            tuple(analysis.nodes[source].output_shape for source in dict.fromkeys(s for s, _ in entering)),
            analysis.nodes[exit_node].output_shape if exit_node in analysis.nodes else None,
            entry_node, exit_node,
            tuple(d.text for r in results for d in r.diagnostics if d.is_error),
            tuple(d.text for r in results for d in r.diagnostics if not d.is_error))
    return summaries
