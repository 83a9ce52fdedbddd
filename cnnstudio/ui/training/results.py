"""After a run: the confusion matrix (click a cell to see its samples),
per-class accuracy, the most confidently misclassified samples, and a pad to
draw a digit (or pick an image) and watch the predicted probabilities."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QGridLayout, QHBoxLayout, QHeaderView, QLabel,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from cnnstudio.training.probes import confusion_matrix, most_confident_mistakes, per_class_accuracy

from .. import theme
from .colormap import sample_image

TILE = 56


class SampleStrip(QWidget):
    """A grid of samples with captions."""

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent)
        self.title = QLabel(f"<b>{title}</b>")
        self.grid = QGridLayout()
        self.grid.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.count = 0

    def show_samples(self, images: list[np.ndarray], captions: list[str], columns: int = 8) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        for index, (image, caption) in enumerate(zip(images, captions)):
            cell = QLabel()
            cell.setPixmap(QPixmap.fromImage(sample_image(image)).scaled(TILE, TILE))
            cell.setToolTip(caption)
            text = QLabel(caption)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setStyleSheet("font-size: 10px;")
            holder = QWidget()
            box = QVBoxLayout(holder)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(0)
            box.addWidget(cell, alignment=Qt.AlignmentFlag.AlignCenter)
            box.addWidget(text)
            self.grid.addWidget(holder, index // columns, index % columns)
        self.count = len(images)


class ConfusionTable(QTableWidget):
    cellChosen = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.cellClicked.connect(self.cellChosen.emit)
        self.matrix = np.zeros((0, 0), dtype=np.int64)

    def show_matrix(self, matrix: np.ndarray, classes: list[str]) -> None:
        self.matrix = matrix
        size = len(classes)
        self.setRowCount(size)
        self.setColumnCount(size)
        self.setHorizontalHeaderLabels([str(c)[:6] for c in classes])
        self.setVerticalHeaderLabels([str(c)[:10] for c in classes])
        peak = max(int(matrix.max()), 1)
        for row in range(size):
            for column in range(size):
                count = int(matrix[row, column])
                item = QTableWidgetItem(str(count))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                strength = count / peak
                base = QColor("#43A047") if row == column else QColor(theme.ERROR_COLOR)
                base.setAlpha(int(25 + 200 * strength) if count else 0)
                item.setBackground(QBrush(base))
                item.setToolTip(f"{count} samples of class {classes[row]} predicted as {classes[column]}")
                self.setItem(row, column, item)


class DrawPad(QWidget):
    """A 28x28 canvas drawn with the mouse at 10x size; emits the image as (1, 28, 28) floats."""

    drawn = Signal(object)

    def __init__(self, size: int = 28, scale: int = 7, parent=None) -> None:
        super().__init__(parent)
        self.size_px = size
        self.scale = scale
        self.pixels = np.zeros((size, size), dtype=np.float32)
        self.setFixedSize(size * scale, size * scale)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Draw a digit with the mouse; right-click clears")

    def clear(self) -> None:
        self.pixels[:] = 0
        self.update()
        self.drawn.emit(self.pixels[None].copy())

    def stroke(self, point: QPointF) -> None:
        """Paint a soft 2-pixel brush at ``point`` (widget coordinates)."""
        cx, cy = point.x() / self.scale, point.y() / self.scale
        ys, xs = np.mgrid[0:self.size_px, 0:self.size_px]
        distance = np.sqrt((xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2)
        self.pixels = np.maximum(self.pixels, np.clip(1.6 - distance, 0, 1).astype(np.float32))
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self.clear()
            return
        self.stroke(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.stroke(event.position())

    def mouseReleaseEvent(self, event) -> None:
        self.drawn.emit(self.pixels[None].copy())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        image = QImage((self.pixels * 255).astype(np.uint8).data, self.size_px, self.size_px, self.size_px,
                       QImage.Format.Format_Grayscale8)
        painter.drawImage(QRectF(0, 0, self.width(), self.height()), image)
        painter.setPen(QPen(QColor("#FFB300"), 1))
        painter.drawRect(0, 0, self.width() - 1, self.height() - 1)


class ProbabilityBars(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.probabilities = np.zeros(0)
        self.classes: list[str] = []
        self.setMinimumSize(180, 190)

    def set_probabilities(self, probabilities: np.ndarray, classes: list[str]) -> None:
        self.probabilities, self.classes = probabilities, classes
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if not len(self.probabilities):
            return
        best = int(np.argmax(self.probabilities))
        row = self.height() / len(self.probabilities)
        for index, (p, name) in enumerate(zip(self.probabilities, self.classes)):
            y = index * row
            painter.setPen(theme.text_color())
            painter.drawText(QRectF(0, y, 60, row), Qt.AlignmentFlag.AlignVCenter, str(name)[:8])
            width = (self.width() - 120) * float(p)
            painter.fillRect(QRectF(64, y + 3, width, row - 6), QColor("#43A047" if index == best else "#1E88E5"))
            painter.drawText(QRectF(self.width() - 52, y, 52, row), Qt.AlignmentFlag.AlignVCenter, f"{p:.1%}")


class ResultsView(QWidget):
    predictRequested = Signal(object)  # a (C, H, W) array to classify with the trained model

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.confusion = ConfusionTable()
        self.accuracy_label = QLabel("Train a network to see its results here.")
        self.accuracy_label.setWordWrap(True)
        self.cell_samples = SampleStrip("Samples of the chosen cell")
        self.mistakes = SampleStrip("Most confident mistakes")
        self.pad = DrawPad()
        self.bars = ProbabilityBars()
        self.open_image = QPushButton("Classify an image file…")
        self.clear_pad = QPushButton("Clear")
        left = QVBoxLayout()
        heading = QLabel("<b>Confusion matrix</b>: rows are the true class, columns the prediction; "
                         "click a cell to see its samples")
        heading.setWordWrap(True)
        left.addWidget(heading)
        left.addWidget(self.confusion, 3)
        left.addWidget(self.accuracy_label)
        left.addWidget(self.cell_samples, 1)
        right = QVBoxLayout()
        hint = QLabel("<b>Try it</b>: draw a digit (right-click clears) or classify an image file")
        hint.setWordWrap(True)
        right.addWidget(hint)
        trial = QHBoxLayout()
        pad_column = QVBoxLayout()
        pad_column.addWidget(self.pad)
        pad_column.addWidget(self.clear_pad)
        pad_column.addWidget(self.open_image)
        pad_column.addStretch(1)
        trial.addLayout(pad_column)
        trial.addWidget(self.bars, 1)
        right.addLayout(trial)
        right.addWidget(self.mistakes, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)
        self.classes: list[str] = []
        self.x = np.zeros((0, 1, 28, 28), dtype=np.float32)
        self.y = np.zeros(0, dtype=np.int64)
        self.predicted = np.zeros(0, dtype=np.int64)
        self.confusion.cellChosen.connect(self.show_cell)
        self.pad.drawn.connect(self.predictRequested.emit)
        self.clear_pad.clicked.connect(self.pad.clear)
        self.open_image.clicked.connect(self._open_image)
        self.input_shape: tuple[int, ...] = (1, 28, 28)

    def show_results(self, x: np.ndarray, y: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> None:
        self.x, self.y, self.classes = x, y, classes
        self.input_shape = tuple(x.shape[1:])
        self.predicted = probabilities.argmax(axis=1)
        matrix = confusion_matrix(y, self.predicted, len(classes))
        self.confusion.show_matrix(matrix, classes)
        accuracy = per_class_accuracy(y, self.predicted, len(classes))
        overall = float((self.predicted == y).mean()) if len(y) else float("nan")
        parts = ", ".join(f"{c}: {a:.1%}" for c, a in zip(classes, accuracy) if not np.isnan(a))
        self.accuracy_label.setText(f"<b>Accuracy {overall:.2%}</b> on {len(y):,} validation samples. "
                                    f"Per class: {parts}")
        mistakes = most_confident_mistakes(probabilities, y, 8)
        self.mistakes.show_samples([x[m.index] for m in mistakes],
                                   [f"{classes[m.true]}→{classes[m.predicted]} {m.confidence:.0%}" for m in mistakes])
        drawable = self.input_shape == (1, 28, 28)
        self.pad.setVisible(drawable)
        self.clear_pad.setVisible(drawable)

    def show_cell(self, row: int, column: int) -> None:
        chosen = np.flatnonzero((self.y == row) & (self.predicted == column))[:16]
        self.cell_samples.title.setText(f"<b>true {self.classes[row]}, predicted {self.classes[column]}</b> "
                                        f"({int(self.confusion.matrix[row, column])} samples)")
        self.cell_samples.show_samples([self.x[i] for i in chosen], [str(int(i)) for i in chosen])

    def show_prediction(self, probabilities: np.ndarray) -> None:
        self.bars.set_probabilities(probabilities, self.classes)

    def _open_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an image", "", "Images (*.png *.jpg *.jpeg *.bmp)")
        if path:
            self.predictRequested.emit(image_as_sample(path, self.input_shape))


def image_as_sample(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """An image file resized to the network's input, grey or RGB, in [0, 1]."""
    from PIL import Image
    channels, height, width = shape
    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB").resize((width, height))
        pixels = np.asarray(image, dtype=np.float32) / 255.0
    return pixels[None] if channels == 1 else pixels.transpose(2, 0, 1)
