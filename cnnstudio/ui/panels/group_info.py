"""The inspector's page for a group block: its name (editable), what it holds, what it costs,
the shapes it takes and gives, and buttons to open/close or dissolve it."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from cnnstudio.core.group_summary import summarize_groups
from cnnstudio.core.groups import GroupError
from cnnstudio.core.layers.base import format_shape
from cnnstudio.core.summary import human_count

from .. import theme
from ..document import NetworkDocument
from ..group_commands import rename_group_command, toggle_group_command, ungroup_command
from ..canvas.group_item import GROUP_COLOR


class GroupForm:
    """The rows of the group page, added to the inspector's form."""

    def __init__(self, document: NetworkDocument, group_id: str, form: QFormLayout) -> None:
        self.document = document
        self.group_id = group_id
        group = document.network.groups.get(group_id)
        self.name_edit = QLineEdit(group.name)
        self.name_edit.setToolTip("The group's name: shown on its block and in the paths of its layers")
        self.name_edit.editingFinished.connect(self._rename)
        self.name_error = QLabel()
        self.name_error.setWordWrap(True)
        self.name_error.setStyleSheet(f"color: {theme.ERROR_COLOR};")
        self.name_error.hide()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_error)
        buttons = QWidget()
        row = QHBoxLayout(buttons)
        row.setContentsMargins(0, 0, 0, 0)
        self.toggle_button = QPushButton("Close" if not group.collapsed else "Open")
        self.toggle_button.clicked.connect(
            lambda: document.push(toggle_group_command(document.network, group_id)))
        self.ungroup_button = QPushButton("Ungroup")
        self.ungroup_button.clicked.connect(lambda: document.push(ungroup_command(document.network, group_id)))
        row.addWidget(self.toggle_button)
        row.addWidget(self.ungroup_button)
        row.addStretch(1)
        form.addRow("", buttons)

    def title(self) -> str:
        group = self.document.network.groups.get(self.group_id)
        return (f"<span style='color:{GROUP_COLOR}; font-size:15px'><b>{html.escape(group.name)}</b></span>"
                f" <span>· {html.escape(group.kind)}</span><br><span>A group block: one block on the canvas for "
                "the layers inside. It changes nothing that is computed.</span>")

    def refresh(self) -> None:
        groups = self.document.network.groups
        group = groups.get(self.group_id)
        if self.name_edit.text() != group.name and not self.name_edit.hasFocus():
            self.name_edit.setText(group.name)
        self.toggle_button.setText("Open" if group.collapsed else "Close")

    def text(self) -> str:
        """What the group holds and costs, with the paths of its layers."""
        network, analysis = self.document.network, self.document.analysis
        summary = summarize_groups(network, analysis)[self.group_id]
        inputs = ", ".join(format_shape(s) for s in summary.input_shapes) or "none"
        lines = [f"{summary.layers} layers · {summary.params:,} parameters ({summary.trainable_params:,} trainable)",
                 f"{summary.macs:,} MACs per sample ({human_count(summary.macs)})",
                 f"Input {html.escape(inputs)} → output {html.escape(format_shape(summary.output_shape))}"]
        children = [network.groups.get(g).name for g in network.groups.children(self.group_id)]
        if children:
            lines.append("Holds " + html.escape(", ".join(children)))
        problems = ""
        if summary.errors or summary.warnings:
            items = "".join(f"<li style='color:{theme.ERROR_COLOR}'>{html.escape(t)}</li>" for t in summary.errors)
            items += "".join(f"<li style='color:{theme.WARNING_COLOR}'>{html.escape(t)}</li>"
                             for t in summary.warnings)
            problems = f"<p><b>Problems inside</b><ul style='margin-left:-20px'>{items}</ul></p>"
        return "<p><b>What it holds</b></p><p>" + "<br>".join(lines) + "</p>" + problems

    def _rename(self) -> None:
        name = self.name_edit.text()
        group = self.document.network.groups.get(self.group_id)
        if name.strip() == group.name:
            self.name_error.hide()
            return
        try:
            command = rename_group_command(self.document.network, self.group_id, name)
        except GroupError as error:
            self.name_error.setText(f"Not applied: {error.problem}.")
            self.name_error.show()
            return
        self.name_error.hide()
        self.document.push(command)
