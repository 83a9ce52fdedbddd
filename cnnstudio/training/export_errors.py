"""What model export reports besides a written file: failures and notes.

``WeightsError`` (in ``export_weights``) and ``core.build.BuildError`` are
``ValueError``s, things the user can fix; ``ExportError`` is a failure of the
export itself.  ``ExportNote`` is a warning category for things the user should
know about a file that was written anyway (a TorchScript file traced because
scripting failed, untrained weights); callers show them with
``warnings.catch_warnings(record=True)``.
"""


class ExportError(RuntimeError):
    """The export itself failed (the exporter raised); the message says which format and why,
    and ``log`` holds what the exporter printed meanwhile (kept out of the console)."""

    def __init__(self, message: str, log: str = "") -> None:
        super().__init__(message)
        self.log = log


class ExportNote(UserWarning):
    """Something worth telling the user about a file that was written anyway."""
