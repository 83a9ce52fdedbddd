"""Why an edit of the network was refused, as types that carry their data.

Each refusal is a subclass of ``NetworkError`` with the ids (and names) it is
about, and ``fix``: one sentence that tells the user what to do.  Callers pick
what to show by type and data (the project reader turns them into file errors
that name the place), never by searching the message text.
"""

from __future__ import annotations

#: names shown in a cycle's message before the middle is left out
CYCLE_NAMES_SHOWN = 8


class NetworkError(ValueError):
    """An edit that would make the document invalid.

    ``index`` is set by bulk edits (``Network.add_nodes``, ``Network.connect_all``):
    the position of the offending item in the list they were given."""

    fix = "Correct this edit."

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.index: int | None = None

    def at(self, index: int) -> "NetworkError":
        self.index = index
        return self


class UnknownNodeError(NetworkError):
    fix = "Remove this edge or correct the id."

    def __init__(self, node_id: str) -> None:
        super().__init__(f"there is no node with id {node_id!r}")
        self.node_id = node_id


class UnknownLayerTypeError(NetworkError):
    fix = "Use a layer type from the palette."

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name


class DuplicateIdError(NetworkError):
    """``first_index``: where the id first appeared in the same bulk edit (None: an existing node)."""

    fix = "Give every node a different id."

    def __init__(self, node_id: str, first_index: int | None = None) -> None:
        super().__init__(f"a node with id {node_id!r} already exists")
        self.node_id = node_id
        self.first_index = first_index


class InvalidNameError(NetworkError):
    fix = "Rename the layer: letters, digits and underscores, starting with a letter."

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(problem)
        self.name = name


class NameTakenError(NetworkError):
    """``owner`` is the id of the node that has the name; ``first_index`` as in ``DuplicateIdError``."""

    fix = "Give every layer a different name."

    def __init__(self, name: str, owner: str | None, first_index: int | None = None) -> None:
        super().__init__(f"another layer is already named {name!r}; layer names must be unique")
        self.name = name
        self.owner = owner
        self.first_index = first_index


class InvalidParamsError(NetworkError):
    """A parameter value the layer's spec refuses; ``param`` names it."""

    fix = "Change the parameter to a value the layer accepts."

    def __init__(self, layer: str, param: str, problem: str) -> None:
        super().__init__(f"{layer}: {param}: {problem}")
        self.layer = layer
        self.param = param
        self.problem = problem


class SelfLoopError(NetworkError):
    fix = "Remove this edge; a layer cannot feed itself."

    def __init__(self, node_id: str, name: str) -> None:
        super().__init__(f"{name} cannot be connected to itself")
        self.node_id = node_id


class DuplicateEdgeError(NetworkError):
    fix = "Remove the repeated edge."

    def __init__(self, source: str, target: str, source_name: str, target_name: str) -> None:
        super().__init__(f"{source_name} is already connected to {target_name}")
        self.source, self.target = source, target


class TakesNoInputsError(NetworkError):
    fix = "Remove this edge; an Input layer starts the network and receives nothing."

    def __init__(self, node_id: str, name: str, type_name: str) -> None:
        super().__init__(f"{name} is an {type_name} layer and takes no inputs")
        self.node_id = node_id


class NotConnectedError(NetworkError):
    fix = "Only an existing edge can be removed."

    def __init__(self, source: str, target: str, source_name: str, target_name: str) -> None:
        super().__init__(f"{source_name} is not connected to {target_name}")
        self.source, self.target = source, target


class CycleError(NetworkError):
    """Wiring ``source -> target`` would close a loop. ``cycle`` holds the loop's node ids
    in flow order, starting at ``target`` and ending at ``source`` (whose output goes
    back to ``target``); ``names`` are their layer names."""

    fix = "Remove one of the edges of the loop; a network flows one way."

    def __init__(self, source: str, target: str, cycle: list[str], names: list[str]) -> None:
        shown = names if len(names) <= CYCLE_NAMES_SHOWN else (
            names[:CYCLE_NAMES_SHOWN // 2] + [f"... ({len(names) - CYCLE_NAMES_SHOWN} more)"]
            + names[-(CYCLE_NAMES_SHOWN // 2):])
        loop = " -> ".join([*shown, names[0]])
        super().__init__(f"connecting {names[-1]} to {names[0]} would make a cycle ({loop})")
        self.source, self.target = source, target
        self.cycle = tuple(cycle)
        self.names = tuple(names)
