"""File > Import Model...: a model made elsewhere (any format with an importer: ONNX, a
PyTorch module, Keras) becomes a new project with its weights kept as a run, opened in the
window, with a report.

Every question goes through the window's ``prompter``, so tests script the answers.
A ``.py`` file is run only after the user has named its class and input shape AND
confirmed running that file; nothing here runs code on its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget)

from cnnstudio.interop.model_import import (InputShapeNeeded, ModelImportError, import_model, importer_suffixes,
                                            parse_input_shape, save_imported)
from cnnstudio.interop.torch_source import module_classes, parse_class_args

from .prompter import PROJECT_FILTER

if TYPE_CHECKING:  # pragma: no cover
    from cnnstudio.interop.model_import import ImportedModel

    from .main_window import MainWindow

#: what each importer's suffix reads, for the file dialog's filter
FORMAT_NAMES = {".onnx": "ONNX", ".py": "PyTorch module", ".keras": "Keras"}
WEIGHTS_FILTER = "PyTorch weights (*.pt *.pth *.safetensors);;All files (*)"


def model_filter() -> str:
    suffixes = importer_suffixes()
    patterns = " ".join(f"*{suffix}" for suffix in suffixes)
    each = ";;".join(f"{FORMAT_NAMES.get(suffix, suffix)} (*{suffix})" for suffix in suffixes)
    return f"Models ({patterns});;{each};;All files (*)"


def import_model_into(window: "MainWindow") -> bool:
    """Ask for a model file (and, for a .py file, its class and input shape, then permission
    to run it), import it, save it as a new project with its weights, open it, report."""
    prompter = window.prompter
    folder = str(window.document.path.parent) if window.document.path else str(Path.home())
    chosen = prompter.import_model_path(folder, model_filter())
    if not chosen:
        return False
    source = Path(chosen)
    options: dict[str, Any] = {}
    if source.suffix.lower() == ".py":
        answer = prompter.ask_module_options(str(source), module_classes(source))
        if answer is None or not prompter.confirm_run_code(str(source)):
            return False
        options = dict(answer)
    target = prompter.save_path(str(source.with_suffix(".cnnproj")), PROJECT_FILTER, "Save the imported project as")
    if not target:
        return False
    target_path = Path(target if target.endswith(".cnnproj") else target + ".cnnproj")
    if not window.confirm_discard():
        return False
    imported = _import(prompter, source, options)
    if imported is None:
        return False
    try:
        # the save dialog asked before choosing an existing file
        project_file, run = save_imported(imported, target_path, force=True)
    except (ModelImportError, OSError) as error:
        prompter.error("Cannot save the imported project", str(error))
        return False
    window.open_path(project_file, ask=False)
    prompter.info("Model imported", f"{imported.report()}\n\nSaved as {project_file}. The weights are kept as the "
                                    f"run \u201c{run.label}\u201d: the Train tab shows its feature maps, "
                                    "fine-tunes it and exports it.")
    return True


def _import(prompter: Any, source: Path, options: dict[str, Any]) -> "ImportedModel | None":
    """The imported model, asking for the input shape when the file leaves it open;
    None (after saying why) when it cannot be imported."""
    while True:
        try:
            return _busy(lambda: import_model(source, **options))
        except InputShapeNeeded as error:
            shape = prompter.ask_input_shape(str(source), str(error))
            if shape is None:
                return None
            options["input_shape"] = tuple(shape)
        except ModelImportError as error:
            prompter.error("Cannot import model", str(error))
            return None


def _busy(work):
    """``work()`` under a wait cursor (an import takes a second or two: torch loads, the model is traced)."""
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return work()
    finally:
        QApplication.restoreOverrideCursor()


class ModuleOptionsDialog(QDialog):
    """The class, constructor arguments, input shape and optional weights of a PyTorch module
    in a .py file.  Nothing is run here; the classes listed were found by reading the file."""

    def __init__(self, parent: QWidget | None, path: str, classes: list[str]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a PyTorch module")
        self.class_box = QComboBox()
        self.class_box.setEditable(True)
        self.class_box.addItems(classes)
        self.args_edit = QLineEdit()
        self.args_edit.setPlaceholderText('none, or JSON: [10] or {"classes": 10}')
        self.shape_edit = QLineEdit()
        self.shape_edit.setPlaceholderText("C,H,W, e.g. 3,32,32")
        self.weights_edit = QLineEdit()
        self.weights_edit.setPlaceholderText("optional: a state_dict (.pt or .safetensors)")
        browse = QPushButton("Browse\u2026")
        browse.clicked.connect(self._browse_weights)
        weights_row = QHBoxLayout()
        weights_row.addWidget(self.weights_edit, 1)
        weights_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Class:", self.class_box)
        form.addRow("Constructor arguments:", self.args_edit)
        form.addRow("Input shape:", self.shape_edit)
        form.addRow("Weights:", weights_row)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #C62828;")
        self.problem.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Continue\u2026")
        buttons.accepted.connect(self._check_and_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        intro = QLabel(f"<b>{Path(path).name}</b><br>Which module should become the network? Its forward() is "
                       "traced on one input of this shape.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
        self._answer: dict[str, Any] | None = None

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights for the module", "", WEIGHTS_FILTER)
        if path:
            self.weights_edit.setText(path)

    def _check_and_accept(self) -> None:
        try:
            self._answer = self.read()
        except ModelImportError as error:
            self.problem.setText(str(error))
            return
        self.accept()

    def read(self) -> dict[str, Any]:
        """The answers as ``import_model`` options; ``ModelImportError`` says what is wrong."""
        class_name = self.class_box.currentText().strip()
        if not class_name.isidentifier():
            raise ModelImportError("name the nn.Module class to import")
        args_text = self.args_edit.text().strip()
        parse_class_args(args_text)  # refuse bad JSON here, before anything runs
        answer: dict[str, Any] = {"class_name": class_name,
                                  "input_shape": parse_input_shape(self.shape_edit.text())}
        if args_text:
            answer["class_args"] = args_text
        weights = self.weights_edit.text().strip()
        if weights:
            if not Path(weights).is_file():
                raise ModelImportError(f"{weights}: no such weights file")
            answer["weights"] = weights
        return answer

    def options(self) -> dict[str, Any] | None:
        return self._answer

