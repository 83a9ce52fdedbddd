"""Every question and message box the main window shows, in one replaceable
object: tests swap in scripted answers instead of clicking modal dialogs."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QWidget

PROJECT_FILTER = "CNN Studio projects (*.cnnproj);;All files (*)"


class Prompter:
    def __init__(self, parent: QWidget) -> None:
        self.parent = parent

    def ask_save_changes(self, name: str) -> str:
        """'save', 'discard' or 'cancel'."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"{name} has changes that are not saved.", parent=self.parent)
        box.setInformativeText("Save them before closing?")
        box.setStandardButtons(QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                               | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        return {QMessageBox.StandardButton.Save: "save",
                QMessageBox.StandardButton.Discard: "discard"}.get(QMessageBox.StandardButton(answer), "cancel")

    def ask_restore(self, description: str) -> bool:
        answer = QMessageBox.question(
            self.parent, "Recover unsaved work",
            f"CNN Studio closed without saving {description}.\nRestore the autosaved copy?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def ask_replace(self, path: str) -> bool:
        answer = QMessageBox.question(self.parent, "Replace file", f"{path} already exists. Replace it?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def ask_stop_training(self) -> bool:
        answer = QMessageBox.question(self.parent, "Training is running",
                                      "Stop the training run and close? The run ends after the current batch.",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def error(self, title: str, text: str) -> None:
        QMessageBox.critical(self.parent, title, text)

    def info(self, title: str, text: str) -> None:
        QMessageBox.information(self.parent, title, text)

    def open_path(self, folder: str = "") -> str:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open project", folder, PROJECT_FILTER)
        return path

    def save_path(self, suggested: str, file_filter: str = PROJECT_FILTER, title: str = "Save project as") -> str:
        # the native dialog asks before replacing a file, so callers need not ask again
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggested, file_filter)
        return path

    # ------------------------------------------------------------------ File > Import Model
    def import_model_path(self, folder: str, file_filter: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Import model", folder, file_filter)
        return path

    def ask_module_options(self, path: str, classes: list[str]) -> dict | None:
        """Class name, constructor arguments, input shape and weights of a module in a .py file."""
        from .import_model import ModuleOptionsDialog
        dialog = ModuleOptionsDialog(self.parent, path, classes)
        return dialog.options() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def confirm_run_code(self, path: str) -> bool:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        box = QMessageBox(QMessageBox.Icon.Warning, "Run Python code?",
                          f"Importing {name} runs its Python code on this computer, with your permissions.",
                          parent=self.parent)
        box.setInformativeText(f"{path}\n\nOnly continue if you trust this file.")
        run = box.addButton("Run and Import", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is run

    def ask_input_shape(self, path: str, reason: str) -> tuple[int, ...] | None:
        from cnnstudio.interop.model_import import ModelImportError, parse_input_shape
        prompt = f"{reason}\n\nInput shape (C,H,W):"
        while True:
            text, ok = QInputDialog.getText(self.parent, "Input shape", prompt)
            if not ok:
                return None
            try:
                return parse_input_shape(text)
            except ModelImportError as error:
                prompt = f"{error}\n\nInput shape (C,H,W):"
