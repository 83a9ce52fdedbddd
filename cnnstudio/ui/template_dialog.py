"""File > New from Template: pick a classic architecture, set its input and classes,
see what it will cost (parameters, MACs, training memory) before opening it.

The dialog only chooses; ``open_template`` asks the window's usual questions and
opens the network as a new, untitled project.  The numbers come from the core
analysis of the very network that will open."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QListWidget,
                               QListWidgetItem, QSpacerItem, QSpinBox, QVBoxLayout, QWidget)

from cnnstudio.core.analysis import analyze
from cnnstudio.core.summary import human_bytes, human_count
from cnnstudio.core.templates import MAX_CLASSES, TEMPLATES, TemplateError, get_template

KEY_ROLE = Qt.ItemDataRole.UserRole
#: the batch the memory preview assumes: a common training batch, so the figure means something
PREVIEW_BATCH = 32


@dataclass(frozen=True)
class TemplateChoice:
    key: str
    input_shape: tuple[int, int, int]
    classes: int


class TemplateDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New from Template")
        self.resize(860, 480)
        self.list = QListWidget()
        self.list.setMinimumWidth(220)
        for key, template in TEMPLATES.items():
            item = QListWidgetItem(template.title)
            item.setData(KEY_ROLE, key)
            item.setToolTip(template.description)
            self.list.addItem(item)

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setMinimumHeight(90)

        self.channels, self.height, self.width = (self._spin(1, 4096) for _ in range(3))
        self.classes = self._spin(1, MAX_CLASSES)
        self.classes.setMinimumWidth(110)
        shape_row = QHBoxLayout()
        for label, box in (("C", self.channels), ("H", self.height), ("W", self.width)):
            shape_row.addWidget(QLabel(label))
            shape_row.addWidget(box)
        shape_row.addStretch(1)
        classes_row = QHBoxLayout()
        classes_row.addWidget(self.classes)
        classes_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Input (channels, height, width)", shape_row)
        form.addRow("Classes", classes_row)
        form.addItem(QSpacerItem(0, 10))

        self.preview = {key: QLabel() for key in ("layers", "params", "macs", "memory", "output")}
        captions = {"layers": "Layers", "params": "Parameters", "macs": "Multiply-accumulates per sample",
                    "memory": f"Training memory (batch {PREVIEW_BATCH}, float32, Adam)", "output": "Output"}
        for key, caption in captions.items():
            self.preview[key].setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.preview[key].setStyleSheet("font-weight: bold;")
            form.addRow(caption, self.preview[key])
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #E53935;")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Open")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.description)
        right.addLayout(form)
        right.addWidget(self.problem)
        right.addStretch(1)
        right.addWidget(self.buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(right, 1)

        self.list.currentItemChanged.connect(self._on_template)
        for box in (self.channels, self.height, self.width, self.classes):
            box.valueChanged.connect(self._update_preview)
        self.list.setCurrentRow(0)

    def _spin(self, low: int, high: int) -> QSpinBox:
        box = QSpinBox()
        box.setRange(low, high)
        box.setKeyboardTracking(False)  # one preview per typed number, not per digit
        box.setGroupSeparatorShown(True)
        return box

    # ------------------------------------------------------------------ state
    @property
    def key(self) -> str:
        return self.list.currentItem().data(KEY_ROLE)

    def choice(self) -> TemplateChoice:
        shape = (self.channels.value(), self.height.value(), self.width.value())
        return TemplateChoice(self.key, shape, self.classes.value())

    def select(self, key: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(KEY_ROLE) == key:
                self.list.setCurrentRow(row)
                return
        raise KeyError(key)

    def _on_template(self, *_args) -> None:
        template = TEMPLATES[self.key]
        self.title.setText(f"<b style='font-size:15px'>{html.escape(template.title)}</b>")
        self.description.setText(template.description)
        boxes = (self.channels, self.height, self.width, self.classes)
        for box in boxes:
            box.blockSignals(True)
        for box, value in zip(boxes, (*template.default_input, template.default_classes)):
            box.setValue(value)
        for box in boxes:
            box.blockSignals(False)
        self._update_preview()

    def _update_preview(self) -> None:
        choice = self.choice()
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            network = get_template(choice.key).network(choice.input_shape, choice.classes)
        except TemplateError as error:
            for label in self.preview.values():
                label.setText("–")
            self.problem.setText(str(error))
            ok.setEnabled(False)
            return
        analysis = analyze(network)
        memory = analysis.memory(PREVIEW_BATCH, "float32", training=True, optimizer="adam")
        self.preview["layers"].setText(f"{len(network)}")
        self.preview["params"].setText(f"{analysis.total_params:,} ({analysis.trainable_params:,} trainable)")
        self.preview["macs"].setText(f"{analysis.macs:,} ({human_count(analysis.macs)})")
        self.preview["memory"].setText(human_bytes(memory.total))
        self.preview["output"].setText(f"{analysis.output_shape[0]:,} class scores")
        self.problem.setText("")
        ok.setEnabled(True)


def ask_template(parent: QWidget) -> TemplateChoice | None:
    """Show the dialog; the choice, or None when cancelled."""
    dialog = TemplateDialog(parent)
    return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None


def open_template(window) -> bool:
    """File > New from Template: choose, then the usual unsaved-changes question, then
    the network opens as a new untitled project (saving asks where)."""
    choice = window.prompter.choose_template()
    if choice is None or not window.confirm_discard():
        return False
    project = get_template(choice.key).project(choice.input_shape, choice.classes)
    window.open_project(project)
    return True
