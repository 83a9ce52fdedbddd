"""What can be done with one trial: show its run in the Train tab, or apply its
values to the open project as one undoable edit.

The edits are the ones the trial's run was trained with (``plan_operations``:
parameters set, blocks left out with their wires rejoined), replayed as the
usual commands, plus the trial's training settings, all in one ``MacroCommand``.
"""

from __future__ import annotations

from pathlib import Path
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


def show_run(training: Any, folder: str) -> str:
    """Choose the run in ``folder`` in the training view's run list (its results, maps and
    export follow); returns ``""`` or why it cannot."""
    if training.running:
        return "A training run is going on in the Train tab; stop it first."
    training.load_project_settings(runs=True)  # the list as the runs folder holds it now
    wanted = Path(folder).resolve()
    index = next((i for i, record in enumerate(training.runs) if record.folder.resolve() == wanted), None)
    if index is None:
        return f"{wanted} is not among the project's runs any more."
    training.run_box.setCurrentIndex(-1)  # the run shows even when it was the one chosen already
    training.run_box.setCurrentIndex(index)
    return ""


__all__ = ["apply_trial_command", "show_run"]
