"""The left side of the training view: the dataset (with a preview and a fit
check against the network), the training settings and the callbacks editor.
Everything here is stored in the project's ``dataset`` and ``training`` objects."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSpinBox, QStackedWidget, QVBoxLayout, QWidget)

from cnnstudio.data.registry import DATASETS
from cnnstudio.training.callback_settings import CALLBACK_OPTIONS, normalize_settings
from cnnstudio.training.config import DEVICES, OPTIMIZER_DEFAULTS, OPTIMIZERS, PRECISIONS, TrainConfig
from cnnstudio.training.settings import DEFAULT_VALIDATION_SPLIT

from .. import theme
from ..panels.param_fields import make_field
from .colormap import grey_image, rgb_image


def available_devices() -> list[str]:
    """What this machine can train on, without importing torch before it is needed."""
    import torch
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    return found


class DatasetBox(QGroupBox):
    changed = Signal()

    def _emit_changed(self, *_args) -> None:
        self.changed.emit()

    def __init__(self, parent=None) -> None:
        super().__init__("Dataset", parent)
        self.kind = QComboBox()
        for spec in DATASETS.values():
            self.kind.addItem(spec.title, spec.name)
            self.kind.setItemData(self.kind.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole)
        self.path = QLineEdit()
        self.path.setPlaceholderText("folder or file…")
        self.browse = QPushButton("Browse…")
        self.subset = QSpinBox()
        self.subset.setRange(0, 10_000_000)
        self.subset.setSpecialValueText("all samples")
        self.subset.setSingleStep(1000)
        self.subset.setToolTip("Train on a class-balanced part of this many samples (0: all)")
        self.validation = QSpinBox()
        self.validation.setRange(0, 90)
        self.validation.setSuffix(" %")
        self.validation.setValue(10)
        self.validation.setToolTip("Share of the training samples held out for validation")
        self.preview_button = QPushButton("Preview")
        self.preview_grid = QGridLayout()
        self.preview_grid.setSpacing(4)
        self.preview_grid.setContentsMargins(0, 0, 0, 0)  # five tiles across must fit the panel's width
        self.fit_label = QLabel()
        self.fit_label.setWordWrap(True)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        form = QFormLayout(self)
        form.addRow("Source", self.kind)
        form.addRow("Files", path_row)
        form.addRow("Subset", self.subset)
        form.addRow("Validation", self.validation)
        form.addRow(self.preview_button)
        grid_host = QWidget()
        grid_host.setLayout(self.preview_grid)
        form.addRow(grid_host)
        form.addRow(self.fit_label)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.browse.clicked.connect(self._browse)
        for signal in (self.kind.currentIndexChanged, self.subset.valueChanged, self.validation.valueChanged,
                       self.path.editingFinished):
            signal.connect(self._emit_changed)
        self._on_kind()

    @property
    def name(self) -> str:
        return self.kind.currentData()

    def _on_kind(self) -> None:
        needs_path = DATASETS[self.name].needs_path
        self.path.setEnabled(needs_path)
        self.browse.setEnabled(needs_path)

    def _browse(self) -> None:
        if self.name == "npz":
            chosen, _ = QFileDialog.getOpenFileName(self, "Choose a .npz file", "", "NumPy archives (*.npz)")
        else:
            chosen = QFileDialog.getExistingDirectory(self, "Choose the dataset folder")
        if chosen:
            self.path.setText(chosen)
            self.changed.emit()

    def settings(self) -> dict[str, Any]:
        spec = DATASETS[self.name]
        return {"name": self.name, "path": self.path.text().strip() or None, "subset": self.subset.value() or None,
                "validation_split": self.validation.value() / 100, "num_classes": spec.num_classes}

    def apply(self, settings: dict | None, legacy_split: float | None = None) -> None:
        """Show the project's dataset settings; ``legacy_split`` is an older file's
        ``training.validation_split``, used when the dataset names none."""
        settings = settings or {}
        index = self.kind.findData(settings.get("name", "mnist"))
        self.kind.setCurrentIndex(max(index, 0))
        self.path.setText(settings.get("path") or "")
        subset = settings.get("subset")
        self.subset.setValue(subset if isinstance(subset, int) and not isinstance(subset, bool) else 0)
        split = settings.get("validation_split", legacy_split)
        if isinstance(split, bool) or not isinstance(split, (int, float)):
            split = DEFAULT_VALIDATION_SPLIT
        self.validation.setValue(int(round(100 * float(split))))

    def show_preview(self, samples: list[tuple]) -> None:
        while self.preview_grid.count():
            item = self.preview_grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for index, (picture, label) in enumerate(samples[:20]):
            image = rgb_image(picture) if picture.ndim == 3 else grey_image(picture / 255.0)
            tile = QLabel()
            tile.setPixmap(QPixmap.fromImage(image).scaled(44, 44, Qt.AspectRatioMode.KeepAspectRatio))
            tile.setToolTip(label)
            caption = QLabel(label[:8])
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.setContentsMargins(0, 0, 0, 0)
            holder = QWidget()
            holder.setLayout(cell)
            cell.addWidget(tile, alignment=Qt.AlignmentFlag.AlignCenter)
            cell.addWidget(caption)
            self.preview_grid.addWidget(holder, index // 5, index % 5)

    def show_fit(self, problems: list[str]) -> None:
        if problems:
            self.fit_label.setStyleSheet(f"color: {theme.ERROR_COLOR};")
            self.fit_label.setText("\n".join(problems))
        else:
            self.fit_label.setStyleSheet("color: #43A047;")
            self.fit_label.setText("The dataset fits the network's input and classes.")


class SettingsBox(QGroupBox):
    changed = Signal()

    def _emit_changed(self, *_args) -> None:
        self.changed.emit()

    def __init__(self, parent=None) -> None:
        super().__init__("Training", parent)
        self.optimizer = QComboBox()
        self.optimizer.addItems(list(OPTIMIZERS))
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(6)
        self.learning_rate.setRange(1e-6, 10.0)
        self.learning_rate.setSingleStep(0.0005)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 65536)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.device = QComboBox()
        self.precision = QComboBox()
        self.precision.addItems(list(PRECISIONS))
        self.seed = QSpinBox()
        self.seed.setRange(-1, 2**31 - 1)
        self.seed.setSpecialValueText("random")
        self.deterministic = QCheckBox("deterministic kernels")
        self.health_checks = QCheckBox("training health checks")
        self.health_checks.setToolTip("Watch a few batches for dead ReLUs, vanishing or exploding gradients, "
                                      "inf/NaN values, a learning rate too high or too low, over-fitting and "
                                      "unbalanced classes; findings show in Problems, on the blocks and the plots")
        self.threads = QSpinBox()
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText("auto")
        self.threads.setToolTip("CPU threads for training. auto measures while it trains and keeps the fastest "
                                "team size, so a busy machine does not halve the speed")
        self.device_note = QLabel()
        self.device_note.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)
        form.addRow("Device", self.device)
        form.addRow("", self.device_note)
        form.addRow("Precision", self.precision)
        form.addRow("Seed", self.seed)
        form.addRow("", self.deterministic)
        form.addRow("CPU threads", self.threads)
        form.addRow("", self.health_checks)
        self._devices_known = False
        self.optimizer.currentTextChanged.connect(self._on_optimizer)
        for signal in (self.optimizer.currentIndexChanged, self.learning_rate.valueChanged,
                       self.batch_size.valueChanged, self.epochs.valueChanged, self.device.currentIndexChanged,
                       self.precision.currentIndexChanged, self.seed.valueChanged, self.deterministic.toggled,
                       self.threads.valueChanged, self.health_checks.toggled):
            signal.connect(self._emit_changed)
        self.apply(None)

    def show_devices(self, found: list[str]) -> None:
        """Offer the devices this machine has (``available_devices``, which imports torch: the
        view calls it off the UI thread)."""
        if self._devices_known:
            return
        self._devices_known = True
        current = self.device.currentText() or "auto"
        self.device.blockSignals(True)
        self.device.clear()
        self.device.addItems(["auto"] + [d for d in DEVICES[1:] if d in found])
        self.device.setCurrentText(current if current in ["auto", *found] else "auto")
        self.device.blockSignals(False)
        self.device_note.setText("available: " + ", ".join(found))

    def _on_optimizer(self, name: str) -> None:
        self.learning_rate.setValue(OPTIMIZER_DEFAULTS[name]["learning_rate"])

    def config(self) -> TrainConfig:
        """The settings as a checked ``TrainConfig`` (``ValueError`` names a bad field)."""
        data = self.to_dict()
        data.pop("threads")
        data.pop("health_checks")
        return TrainConfig.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.currentText(), "learning_rate": self.learning_rate.value(),
                "batch_size": self.batch_size.value(), "epochs": self.epochs.value(),
                "device": self.device.currentText() or "auto", "precision": self.precision.currentText(),
                "seed": None if self.seed.value() < 0 else self.seed.value(),
                "deterministic": self.deterministic.isChecked(), "threads": self.threads.value() or "auto",
                "health_checks": self.health_checks.isChecked()}

    def apply(self, settings: dict | None) -> None:
        config = TrainConfig.from_dict({k: v for k, v in (settings or {}).items()
                                        if k in TrainConfig.__dataclass_fields__})
        self.optimizer.blockSignals(True)
        self.optimizer.setCurrentText(config.optimizer)
        self.optimizer.blockSignals(False)
        self.learning_rate.setValue(config.learning_rate or OPTIMIZER_DEFAULTS[config.optimizer]["learning_rate"])
        self.batch_size.setValue(config.batch_size)
        self.epochs.setValue(config.epochs)
        if self.device.findText(config.device) < 0:
            self.device.addItem(config.device)
        self.device.setCurrentText(config.device)
        self.precision.setCurrentText(config.precision)
        self.seed.setValue(-1 if config.seed is None else config.seed)
        self.deterministic.setChecked(config.deterministic)
        self.health_checks.setChecked((settings or {}).get("health_checks", True) is not False)
        threads = (settings or {}).get("threads", "auto")
        self.threads.setValue(threads if isinstance(threads, int) and not isinstance(threads, bool) else 0)


class CallbacksBox(QGroupBox):
    """Each of the lecture's callbacks: a check box to switch it on and its Keras arguments."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Callbacks", parent)
        self.list = QListWidget()
        self.list.setMaximumHeight(190)
        self.pages = QStackedWidget()
        self.fields: dict[str, dict[str, Any]] = {}
        for option in CALLBACK_OPTIONS:
            item = QListWidgetItem(option.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if option.default_on else Qt.CheckState.Unchecked)
            item.setToolTip(option.summary)
            self.list.addItem(item)
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            summary = QLabel(option.summary)
            summary.setWordWrap(True)
            form.addRow(summary)
            self.fields[option.name] = {}
            for spec in option.params:
                field = make_field(spec)
                field.set_value(spec.default)
                field.edited.connect(lambda _value: self.changed.emit())
                form.addRow(spec.title, field)
                self.fields[option.name][spec.name] = field
            self.pages.addWidget(page)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.pages)
        self.list.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        self.list.setCurrentRow(0)

    def settings(self) -> dict[str, dict[str, Any]]:
        result = {}
        for index, option in enumerate(CALLBACK_OPTIONS):
            enabled = self.list.item(index).checkState() == Qt.CheckState.Checked
            result[option.name] = {"enabled": enabled,
                                   **{name: field.value() for name, field in self.fields[option.name].items()}}
        return normalize_settings(result)

    def apply(self, settings: dict | None) -> None:
        values = normalize_settings(settings)
        self.list.blockSignals(True)
        for index, option in enumerate(CALLBACK_OPTIONS):
            chosen = values[option.name]
            self.list.item(index).setCheckState(Qt.CheckState.Checked if chosen["enabled"]
                                                else Qt.CheckState.Unchecked)
            for name, field in self.fields[option.name].items():
                field.set_value(chosen[name])
        self.list.blockSignals(False)
