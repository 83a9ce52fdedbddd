"""One editor widget per parameter kind, made from the catalog's ``ParamSpec``.

Fields never clamp: a typed value outside the spec's range is shown with the
spec's own reason and not applied, so the user sees why."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QLineEdit, QSpinBox,
                               QWidget)

from cnnstudio.core.layers.params import PARAM_KINDS, ParamSpec

WIDE = 2_000_000_000
#: a number box's width does not follow its (huge) range, so a narrow inspector never clips or scrolls
NUMBER_MIN_WIDTH = 52


class ParamField(QWidget):
    """Emits ``edited(value)`` with the raw value; the inspector validates it."""

    edited = Signal(object)

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setToolTip(spec.help)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._updating = False

    def set_value(self, value: Any) -> None:
        self._updating = True
        try:
            self._show(value)
        finally:
            self._updating = False

    def _emit(self, *_args) -> None:
        if not self._updating:
            self.edited.emit(self.value())

    # subclasses
    def _show(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


def _int_box(spec: ParamSpec) -> QSpinBox:
    box = QSpinBox()
    box.setRange(-WIDE, WIDE)  # the spec decides what is valid, with a reason
    box.setAccelerated(True)
    box.setKeyboardTracking(False)  # a typed number applies on Enter or focus-out, not digit by digit
    box.setMinimumWidth(NUMBER_MIN_WIDTH)
    return box


class IntField(ParamField):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = _int_box(spec)
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.box.setValue(int(value))

    def value(self) -> Any:
        return self.box.value()


class FloatField(ParamField):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QDoubleSpinBox()
        self.box.setDecimals(6 if (spec.maximum or 1) <= 1 else 4)
        self.box.setRange(-1e9, 1e9)
        self.box.setSingleStep(0.01 if (spec.maximum or 1) <= 1 else 0.1)
        self.box.setKeyboardTracking(False)
        self.box.setMinimumWidth(NUMBER_MIN_WIDTH)
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.box.setValue(float(value))

    def value(self) -> Any:
        return self.box.value()


class BoolField(ParamField):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox()
        self._layout.addWidget(self.box)
        self.box.toggled.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.box.setChecked(bool(value))

    def value(self) -> Any:
        return self.box.isChecked()


class ChoiceField(ParamField):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox()
        self.box.addItems(list(spec.choices))
        self.box.setMinimumContentsLength(6)
        self.box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self._layout.addWidget(self.box)
        self.box.currentTextChanged.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.box.setCurrentText(str(value))

    def value(self) -> Any:
        return self.box.currentText()


class PairField(ParamField):
    """Height and width; optional pairs (pool strides) have an 'auto' box."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.auto = None
        if spec.optional:
            self.auto = QCheckBox("auto")
            self.auto.setToolTip("Use the pool size as the stride (Keras's default)")
            self._layout.addWidget(self.auto)
            self.auto.toggled.connect(self._on_auto)
        self.height_box, self.width_box = _int_box(spec), _int_box(spec)
        self.height_box.setToolTip("height")
        self.width_box.setToolTip("width")
        self._layout.addWidget(self.height_box)
        self._layout.addWidget(QLabel("×"))
        self._layout.addWidget(self.width_box)
        self.height_box.valueChanged.connect(self._emit)
        self.width_box.valueChanged.connect(self._emit)

    def _on_auto(self, checked: bool) -> None:
        self.height_box.setEnabled(not checked)
        self.width_box.setEnabled(not checked)
        self._emit()

    def _show(self, value: Any) -> None:
        if self.auto is not None:
            self.auto.setChecked(value is None)
            self.height_box.setEnabled(value is not None)
            self.width_box.setEnabled(value is not None)
        if value is not None:
            self.height_box.setValue(int(value[0]))
            self.width_box.setValue(int(value[1]))

    def value(self) -> Any:
        if self.auto is not None and self.auto.isChecked():
            return None
        return [self.height_box.value(), self.width_box.value()]


class ShapeField(ParamField):
    """A shape typed as ``1, 28, 28``; applied when editing finishes."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText("C, H, W")
        self._layout.addWidget(self.line)
        self.line.editingFinished.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.line.setText(", ".join(str(v) for v in value))

    def value(self) -> Any:
        parts = [p.strip() for p in self.line.text().replace("x", ",").replace("×", ",").split(",") if p.strip()]
        try:
            return [int(p) for p in parts]
        except ValueError:
            return self.line.text()  # the spec refuses it with a reason


class TextField(ParamField):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit()
        self._layout.addWidget(self.line)
        self.line.editingFinished.connect(self._emit)

    def _show(self, value: Any) -> None:
        self.line.setText(str(value))

    def value(self) -> Any:
        return self.line.text()


_EDITORS = {"int": IntField, "float": FloatField, "bool": BoolField, "choice": ChoiceField,
            "pair": PairField, "shape": ShapeField, "text": TextField}
#: one editor for every kind the catalog knows (a KeyError here names a kind without one)
FIELD_TYPES = {kind: _EDITORS[kind] for kind in PARAM_KINDS}


def make_field(spec: ParamSpec) -> ParamField:
    if spec.kind == "int" and spec.optional:
        raise AssertionError("optional ints are not used by the catalog")
    return FIELD_TYPES[spec.kind](spec)
