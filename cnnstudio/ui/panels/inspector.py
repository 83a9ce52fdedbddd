"""The inspector: a form made from the selected layer's parameter schema, and
under it the layer's explanation with the user's numbers filled in; for a selected
group block, the group's page (``group_info``)."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QAbstractSpinBox, QFormLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget)

from cnnstudio.core.layers import ParamError, spec_for
from cnnstudio.core.network import NetworkError

from .. import theme
from ..commands import Rename, SetParams
from ..document import NetworkDocument
from .group_info import GroupForm
from .param_fields import ParamField, make_field


class NetworkUndoKeys(QObject):
    """Ctrl+Z and Ctrl+Shift+Z in an inspector field undo and redo edits of the network,
    like everywhere else in the window, instead of the field's own typing history: the
    field refuses to claim the shortcut, so the window's Undo and Redo actions get it."""

    KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and any(event.matches(key) for key in self.KEYS):
            event.ignore()
            return True
        return False


class InspectorPanel(QScrollArea):
    def __init__(self, document: NetworkDocument, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.undo_keys = NetworkUndoKeys(self)
        self.node_id: str | None = None
        self.group: GroupForm | None = None
        self.fields: dict[str, ParamField] = {}
        self.errors: dict[str, QLabel] = {}
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        # everything wraps to the panel's width: a sideways scroll bar hides the right half of the text
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content = QWidget()
        self.setWidget(self._content)
        self._layout = QVBoxLayout(self._content)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self._layout.addWidget(self.title)
        self._form_host = QWidget()
        self._layout.addWidget(self._form_host)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._layout.addWidget(self.explanation)
        self._layout.addStretch(1)
        document.analysisChanged.connect(self._refresh)
        document.networkChanged.connect(self._on_network_changed)
        document.projectReplaced.connect(lambda: self.show_node(None))
        document.readOnlyChanged.connect(lambda locked: self._form_host.setEnabled(not locked))
        self.show_node(None)

    # ------------------------------------------------------------------ building the form
    def _new_form(self) -> QFormLayout:
        old = self._form_host.layout()
        if old is not None:
            QWidget().setLayout(old)  # reparent the old form so it is deleted
        self.fields.clear()
        self.errors.clear()
        self.group = None
        form = QFormLayout(self._form_host)
        form.setContentsMargins(0, 6, 0, 6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        return form

    def show_group(self, group_id: str) -> None:
        """The page of a group block: its name, what it holds and costs, open/close and ungroup."""
        self.node_id = None
        form = self._new_form()
        self.group = GroupForm(self.document, group_id, form)
        self.title.setText(self.group.title())
        self._form_host.setEnabled(not self.document.read_only)
        self.group.name_edit.installEventFilter(self.undo_keys)
        self._refresh()

    def show_node(self, node_id: str | None) -> None:
        if node_id is not None and not self.document.network.has_node(node_id):
            node_id = None
        self.node_id = node_id
        form = self._new_form()
        if node_id is None:
            self.title.setText("<b>No layer selected</b><br><span>Select a block on the canvas to edit it, "
                               "or drag a layer from the palette.</span>")
            self.explanation.setText(self._network_text())
            return
        node = self.document.network.node(node_id)
        spec = spec_for(node.type)
        color = theme.FAMILY_COLORS.get(spec.family, "#757575")
        self.title.setText(f"<span style='color:{color}; font-size:15px'><b>{html.escape(node.type)}</b></span>"
                           f" <span>· {spec.family}</span><br><span>{html.escape(spec.summary)}</span>")
        self.name_edit = QLineEdit(node.name)
        self.name_edit.setToolTip("The layer's name: used in the summary and as the attribute name in "
                                  "exported code")
        self.name_edit.editingFinished.connect(self._rename)
        self.name_error = self._error_label()
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_error)
        for param in spec.params:
            field = make_field(param)
            field.set_value(node.params[param.name])
            field.edited.connect(lambda value, name=param.name: self._apply(name, value))
            label = QLabel(param.title)
            label.setToolTip(param.help)
            form.addRow(label, field)
            error = self._error_label()
            form.addRow("", error)
            self.fields[param.name] = field
            self.errors[param.name] = error
        self._form_host.setEnabled(not self.document.read_only)
        for editor in self._form_host.findChildren(QLineEdit) + self._form_host.findChildren(QAbstractSpinBox):
            editor.installEventFilter(self.undo_keys)
        self._update_active(node.params)
        self._refresh()

    def add_section(self, widget: QWidget) -> None:
        """Another part under the explanation (the live preview's maps)."""
        self._layout.insertWidget(self._layout.count() - 1, widget)

    def _update_active(self, values) -> None:
        """Grey out parameters that do not matter with the current settings (pad unless 'explicit')."""
        for name, field in self.fields.items():
            field.setEnabled(field.spec.is_active(values))

    def _error_label(self) -> QLabel:
        label = QLabel()
        label.setWordWrap(True)
        label.setStyleSheet(f"color: {theme.ERROR_COLOR};")
        label.hide()
        return label

    # ------------------------------------------------------------------ applying edits
    def _apply(self, name: str, value) -> None:
        node = self.document.network.node(self.node_id)
        spec = spec_for(node.type)
        error = self.errors[name]
        try:
            spec.normalize_params({**node.params, name: value})
        except ParamError as problem:
            error.setText(f"Not applied: {problem.message}.")
            error.show()
            return
        error.hide()
        if node.params.get(name) != spec.param(name).normalize(value):
            self.document.push(SetParams(self.document.network, self.node_id, {name: value}))

    def _rename(self) -> None:
        node = self.document.network.node(self.node_id)
        name = self.name_edit.text().strip()
        if name == node.name:
            self.name_error.hide()
            return
        try:
            self.document.network.check_name(name, self.node_id)
        except NetworkError as problem:
            self.name_error.setText(f"Not applied: {problem}.")
            self.name_error.show()
            return
        self.name_error.hide()
        self.document.push(Rename(self.document.network, self.node_id, name))

    def field_error(self, name: str) -> str:
        label = self.errors.get(name)
        return label.text() if label is not None and not label.isHidden() else ""

    # ------------------------------------------------------------------ following the document
    def _on_network_changed(self, change) -> None:
        if self.group is not None:
            if self.group.group_id not in self.document.network.groups:
                self.show_node(None)
            else:
                self.group.refresh()
                self.title.setText(self.group.title())
            return
        if self.node_id is None:
            return
        if not self.document.network.has_node(self.node_id):
            self.show_node(None)
        elif self.node_id in change.node_ids and change.kind in ("params_changed", "renamed"):
            node = self.document.network.node(self.node_id)
            for name, field in self.fields.items():
                if field.value() != node.params[name]:
                    field.set_value(node.params[name])
                self.errors[name].hide()
            if self.name_edit.text() != node.name:
                self.name_edit.setText(node.name)
            self._update_active(node.params)

    def _refresh(self) -> None:
        if self.group is not None and self.group.group_id in self.document.network.groups:
            self.explanation.setText(self.group.text())
            return
        if self.node_id is None or not self.document.network.has_node(self.node_id):
            self.explanation.setText(self._network_text())
            return
        analysis = self.document.analysis
        explanation = analysis.explain(self.document.network, self.node_id)
        result = analysis.nodes.get(self.node_id)
        lines = [html.escape(line) for line in explanation.lines]
        body = "<br>".join(f"<code>{line}</code>" if ("=" in line and "out" in line or "params =" in line)
                           else line for line in lines)
        problems = ""
        if result is not None and result.diagnostics:
            items = "".join(f"<li style='color:{theme.ERROR_COLOR if d.is_error else theme.WARNING_COLOR}'>"
                            f"{html.escape(d.message)}. {html.escape(d.fix)}</li>" for d in result.diagnostics)
            problems = f"<p><b>Problems</b><ul style='margin-left:-20px'>{items}</ul></p>"
        self.explanation.setText(f"<p><b>How it is computed</b></p><p>{body}</p>{problems}")

    def _network_text(self) -> str:
        analysis = self.document.analysis
        if not len(self.document.network):
            return ""
        return (f"<p><b>Network</b><br>{len(self.document.network)} layers · "
                f"{analysis.total_params:,} parameters · {analysis.macs:,} MACs per sample</p>")
