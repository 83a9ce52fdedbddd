"""Problems the analysis finds, each tied to a node and carrying its fix."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """``message`` says what is wrong with the numbers involved; ``fix`` how to repair it.
    ``node_id`` is None for problems of the whole network."""

    node_id: str | None
    severity: str
    message: str
    fix: str
    node_name: str = ""
    #: the node's path through its group blocks (``layer2/block1/conv1``); its name when not grouped
    node_path: str = ""

    @property
    def text(self) -> str:
        where = f"{self.node_path or self.node_name}: " if self.node_name else ""
        fix = f" {self.fix}" if self.fix else ""
        return f"{where}{self.message}.{fix}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR
