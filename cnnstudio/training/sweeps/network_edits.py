"""What a trial's values do to a project: parameter edits, blocks left out, training
settings.

The same list of ``Operation``s serves twice: a trial applies it to a copy of the
project it trains, and the studio turns it into undoable commands when a trial
is applied to the open project (so both always change the network the same
way).  Operations are planned on a copy of the network, step by step, so each
one is valid in the state the previous ones leave.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Mapping

from cnnstudio.core.network import Edge, Network, NetworkError
from cnnstudio.core.project import Project

from .space import SearchSpace


class TrialNetworkError(ValueError):
    """The values of a trial cannot be applied to the network (a message for the user)."""


@dataclass(frozen=True)
class Operation:
    """One edit: ``set`` a node's parameters, ``remove`` a node, or ``connect`` a wire
    (at ``index`` in the wire list, so a merge keeps its input order)."""

    kind: str
    node_id: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""
    target: str = ""
    index: int | None = None


def bypass(network: Network, node_id: str) -> list[Operation]:
    """Take ``node_id`` out of ``network`` and wire its one input to everything it fed,
    each new wire in the removed one's place among its target's inputs.  Returns the
    operations done; ``TrialNetworkError`` when that cannot be wired (it would join two
    layers twice)."""
    node = network.node(node_id)
    (source,) = network.inputs_of(node_id)
    targets = network.outputs_of(node_id)
    # which input of each target the removed block was
    places = {target: [e.source for e in network.edges if e.target == target].index(node_id) for target in targets}
    network.remove_nodes([node_id])
    done = [Operation("remove", node_id)]
    for target in targets:
        if Edge(source, target) in network.edges:
            raise TrialNetworkError(f"leaving {node.name} out would wire {network.node(source).name} to "
                                    f"{network.node(target).name} twice")
        feeding = [e for e in network.edges if e.target == target]
        index = network.edges.index(feeding[places[target]]) if places[target] < len(feeding) else None
        try:
            network.connect(source, target, index)
        except NetworkError as error:
            raise TrialNetworkError(f"leaving {node.name} out: {error}") from None
        done.append(Operation("connect", source=source, target=target, index=index))
    return done


def plan_operations(network: Network, space: SearchSpace, values: Mapping[str, Any]) -> list[Operation]:
    """The edits that give ``network`` the layer values of one trial: parameters first,
    then the blocks left out, in the network's order."""
    trial = network.copy()
    operations: list[Operation] = []
    removed: list[str] = []
    changes: dict[str, dict[str, Any]] = {}
    for dimension in space:
        if dimension.layer is None or dimension.name not in values:
            continue
        node = trial.node_by_name(dimension.layer)
        if node is None:
            raise TrialNetworkError(f"the network has no layer named {dimension.layer!r} (swept as "
                                    f"{dimension.name}); rename it back or change the search space")
        value = values[dimension.name]
        if dimension.is_presence:
            if not value:
                removed.append(node.id)
        else:
            changes.setdefault(node.id, {})[dimension.param] = dimension.project_value(value)
    for node_id, params in changes.items():
        try:
            trial.set_params(node_id, params)
        except NetworkError as error:
            raise TrialNetworkError(str(error)) from None
        operations.append(Operation("set", node_id, params))
    for node_id in [n for n in trial.topological_order() if n in removed]:
        operations += bypass(trial, node_id)
    return operations


def apply_operations(network: Network, operations: list[Operation]) -> None:
    for operation in operations:
        if operation.kind == "set":
            network.set_params(operation.node_id, operation.params)
        elif operation.kind == "remove":
            network.remove_nodes([operation.node_id])
        else:
            network.connect(operation.source, operation.target, operation.index)


def training_values(space: SearchSpace, values: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's training settings ``{setting: value}``."""
    return {d.name: d.project_value(values[d.name]) for d in space if d.layer is None and d.name in values}


def trial_training(training: Mapping[str, Any] | None, space: SearchSpace, values: Mapping[str, Any]) -> dict:
    """A project's ``training`` object with the trial's settings in it, as the trial's run
    resolved them: another optimizer brings its own default learning rate and weight
    decay unless the trial set those too."""
    from ..config import TrainConfig

    result = dict(training or {})
    settings = training_values(space, values)
    if "optimizer" in settings and settings["optimizer"] != result.get("optimizer", TrainConfig().optimizer):
        result.update(learning_rate=None, weight_decay=None)
    result.update(settings)
    return result


def trial_project(project: Project, space: SearchSpace, values: Mapping[str, Any]) -> Project:
    """A copy of ``project`` with the trial's layer values applied (the training values
    travel as overrides of the run, so the run record names their source)."""
    network = project.network.copy()
    apply_operations(network, plan_operations(network, space, values))
    return Project(network, project.name, project.description, copy.deepcopy(project.dataset),
                   copy.deepcopy(project.training), copy.deepcopy(project.view), copy.deepcopy(project.experiments))


__all__ = ["Operation", "TrialNetworkError", "apply_operations", "bypass", "plan_operations", "training_values",
           "trial_project", "trial_training"]
