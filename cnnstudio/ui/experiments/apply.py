"""A trial's values applied to the open project as one undoable edit.

The edits are the ones the trial's run was trained with (``plan_operations``:
parameters set, blocks left out with their wires rejoined), replayed as the
usual commands, plus the trial's training settings, all in one ``MacroCommand``.
"""

from __future__ import annotations

from typing import Any, Mapping

from cnnstudio.training.sweeps.network_edits import plan_operations, training_values, trial_training
from cnnstudio.training.sweeps.space import SearchSpace

from ..commands import Connect, MacroCommand, RemoveNodes, SetParams, SetProjectSettings
from ..document import NetworkDocument


def apply_trial_command(document: NetworkDocument, space: SearchSpace, values: Mapping[str, Any],
                        number: int) -> MacroCommand:
    """The command that gives the project trial ``number``'s network and settings;
    raises ``ValueError`` (``TrialNetworkError``) when the current network cannot take them."""
    network = document.network
    macro = MacroCommand(f"Apply trial {number}")
    for operation in plan_operations(network, space, values):
        if operation.kind == "set":
            SetParams(network, operation.node_id, operation.params, parent=macro)
        elif operation.kind == "remove":
            RemoveNodes(network, [operation.node_id], parent=macro)
        else:
            Connect(network, operation.source, operation.target, operation.index, parent=macro)
    if training_values(space, values):
        # joined like the other steps: a Python list, never Qt's parent= (see MacroCommand)
        macro.steps.append(SetProjectSettings(document, "training",
                                              trial_training(document.project.training, space, values)))
    return macro


__all__ = ["apply_trial_command"]
