"""Live loss/accuracy/learning-rate plots (pyqtgraph).

Each curve is created once and fed with ``setData``; training and validation
share a colour, validation is dashed; per-batch points are smoothed; markers
show where a callback acted; earlier runs stay, dimmed, for comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .. import theme

LOSS_COLOR = "#1E88E5"
ACCURACY_COLOR = "#43A047"
LR_COLOR = "#8E24AA"
REDRAW_MS = 500   # batch curves redraw at most twice a second
#: the smoothed curves forget with this time constant, in epochs.  Points arrive at most a few
#: times a second (fewer than batches on a fast run), so a weight per point would make the curve
#: lag by more the faster the run; a weight per distance along the epoch axis does not.
SMOOTHING_EPOCHS = 0.05


@dataclass
class RunCurves:
    """The numbers of one run, kept so the curves can be redrawn or compared."""

    label: str
    batch_x: list[float] = field(default_factory=list)
    batch_loss: list[float] = field(default_factory=list)
    batch_accuracy: list[float] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    epoch_logs: dict[str, list[float]] = field(default_factory=dict)
    markers: list[tuple[float, str]] = field(default_factory=list)
    rates: list[tuple[float, float]] = field(default_factory=list)   # (epoch position, learning rate)
    smoothed: dict[str, list[float]] = field(default_factory=dict)


class TrainingPlots(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)  # antialiased curves cost a software-rendered repaint several times more
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setBackground(theme.canvas_background())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.layout_widget)
        # each legend sits in the corner its curves leave free: loss falls away from the top right,
        # accuracy and a (usually constant, high) learning rate leave the bottom right
        self.loss_plot = self._plot("Loss", "loss", row=0, legend_offset=(-10, 10))
        self.accuracy_plot = self._plot("Accuracy", "accuracy", row=1, legend_offset=(-10, -10))
        self.lr_plot = self._plot("Learning rate", "lr", row=2, legend_offset=(-10, -10))
        self.accuracy_plot.setXLink(self.loss_plot)
        self.lr_plot.setXLink(self.loss_plot)
        self.runs: list[RunCurves] = []
        self.current: RunCurves | None = None
        self.readout = pg.TextItem(anchor=(0, 1), color=theme.text_color())
        self.loss_plot.addItem(self.readout, ignoreBounds=True)
        self._crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#FFB300", width=1))
        self.loss_plot.addItem(self._crosshair, ignoreBounds=True)
        self._crosshair.hide()  # until the mouse is over the plot
        self._proxy = pg.SignalProxy(self.loss_plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse)
        self._make_curves()
        self._dirty = False
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw_if_needed)
        self._redraw_timer.start()

    def _plot(self, title: str, axis: str, row: int, legend_offset: tuple[int, int]) -> pg.PlotItem:
        plot = self.layout_widget.addPlot(row=row, col=0)
        plot.setTitle(title, color=theme.text_color().name(), size="10pt")
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", axis)
        # no grid: pyqtgraph's grid makes each repaint ~8x slower (22 ms vs 2.6 ms here), and repaints hold
        # the GIL the training thread needs; the crosshair readout gives exact values instead
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)  # accuracy stays 0.9, not "900 (x0.001)"
        legend = plot.addLegend(offset=legend_offset, labelTextColor=theme.text_color().name(), labelTextSize="8pt",
                                colCount=2)
        backdrop = QColor(theme.canvas_background())
        backdrop.setAlpha(210)
        legend.setBrush(pg.mkBrush(backdrop))  # a curve passing behind it does not run through its words
        return plot

    def _make_curves(self) -> None:
        def pen(color: str, dashed: bool = False, width: float = 2.0, alpha: int = 255):
            c = QColor(color)
            c.setAlpha(alpha)
            return pg.mkPen(c, width=width, style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)

        self.curves = {
            "batch_loss": self.loss_plot.plot([], [], pen=pen(LOSS_COLOR, width=1, alpha=90), name="loss (batch)"),
            "batch_loss_smooth": self.loss_plot.plot([], [], pen=pen(LOSS_COLOR, width=1.5),
                                                     name="loss (smoothed)"),
            "loss": self.loss_plot.plot([], [], pen=None, symbol="o", symbolSize=7, symbolBrush=LOSS_COLOR,
                                        name="loss (epoch)"),
            "val_loss": self.loss_plot.plot([], [], pen=pen(LOSS_COLOR, dashed=True), symbol="s", symbolSize=7,
                                            symbolBrush=LOSS_COLOR, name="val_loss"),
            "batch_accuracy_smooth": self.accuracy_plot.plot([], [], pen=pen(ACCURACY_COLOR, width=1.5),
                                                             name="accuracy (smoothed)"),
            "accuracy": self.accuracy_plot.plot([], [], pen=None, symbol="o", symbolSize=7,
                                                symbolBrush=ACCURACY_COLOR, name="accuracy (epoch)"),
            "val_accuracy": self.accuracy_plot.plot([], [], pen=pen(ACCURACY_COLOR, dashed=True), symbol="s",
                                                    symbolSize=7, symbolBrush=ACCURACY_COLOR, name="val_accuracy"),
            "lr": self.lr_plot.plot([], [], pen=pen(LR_COLOR), stepMode=None, name="lr"),
        }
        self._marker_items: list = []
        for key in ("batch_loss", "batch_loss_smooth", "batch_accuracy_smooth"):
            self.curves[key].setDownsampling(auto=True, method="peak")  # long runs draw what the pixels show
            self.curves[key].setClipToView(True)

    # ------------------------------------------------------------------ runs
    def start_run(self, label: str) -> None:
        """Keep the previous run as dimmed curves and start fresh ones."""
        if self.current is not None and self.current.batch_x:
            self._keep_as_old(self.current)
        self.current = RunCurves(label)
        self.runs.append(self.current)
        for curve in self.curves.values():
            curve.setData([], [])
        for item in self._marker_items:
            self.loss_plot.removeItem(item)
        self._marker_items.clear()

    def _keep_as_old(self, run: RunCurves) -> None:
        grey = QColor(theme.text_color())
        grey.setAlpha(70)
        for plot, key in ((self.loss_plot, "loss"), (self.accuracy_plot, "accuracy")):
            values = run.epoch_logs.get(f"val_{key}") or run.epoch_logs.get(key)
            if values:
                plot.plot(run.epochs[:len(values)], values, pen=pg.mkPen(grey, width=1.5), name=f"{run.label}")

    def set_epochs(self, epochs: int) -> None:
        """Fix the shared epoch axis for a run: a growing curve then never re-ranges (and repaints) x."""
        self.loss_plot.setXRange(0, max(epochs, 1), padding=0.02)
        for plot in (self.loss_plot, self.accuracy_plot, self.lr_plot):
            plot.enableAutoRange(x=False)

    def add_batch(self, epoch_position: float, logs: dict) -> None:
        run = self.current
        if run is None:
            return
        run.batch_x.append(epoch_position)
        run.batch_loss.append(float(logs.get("loss", np.nan)))
        run.batch_accuracy.append(float(logs.get("accuracy", np.nan)))
        gap = epoch_position - run.batch_x[-2] if len(run.batch_x) > 1 else 0.0
        keep = math.exp(-max(gap, 0.0) / SMOOTHING_EPOCHS)
        for key, value in (("loss", run.batch_loss[-1]), ("accuracy", run.batch_accuracy[-1])):
            smoothed = run.smoothed.setdefault(key, [])
            previous = smoothed[-1] if smoothed else value
            smoothed.append(keep * previous + (1 - keep) * value)  # incremental: O(1) per point

    def add_batches(self, points: list[tuple[float, dict]]) -> None:
        """Several batch points at once; drawn by the redraw timer (a few times a second, only
        while the plots are visible), because each redraw holds the GIL the training thread needs."""
        for position, logs in points:
            self.add_batch(position, logs)
        self._dirty = True

    def flush(self) -> None:
        """Draw what is pending now (at the end of a run)."""
        if self._dirty:
            self._dirty = False
            self.redraw_batches()

    def _redraw_if_needed(self) -> None:
        if self._dirty and self.isVisible():
            self._dirty = False
            self.redraw_batches()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._redraw_if_needed()

    def redraw_batches(self) -> None:
        run = self.current
        if run is None or not run.batch_x:
            return
        x = np.asarray(run.batch_x)
        self.curves["batch_loss"].setData(x, np.asarray(run.batch_loss), skipFiniteCheck=True)
        self.curves["batch_loss_smooth"].setData(x, np.asarray(run.smoothed["loss"]), skipFiniteCheck=True)
        self.curves["batch_accuracy_smooth"].setData(x, np.asarray(run.smoothed["accuracy"]),
                                                     skipFiniteCheck=True)

    def add_epoch(self, epoch: int, logs: dict) -> None:
        """``epoch`` counts from 0 as in Keras; it is drawn at its end (epoch + 1)."""
        run = self.current
        if run is None:
            return
        run.epochs.append(epoch + 1)
        for key, value in logs.items():
            run.epoch_logs.setdefault(key, []).append(float(value))
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            values = run.epoch_logs.get(key)
            if values:
                self.curves[key].setData(run.epochs[-len(values):], values)
        if "lr" in logs:
            self.add_learning_rate(epoch + 1.0, float(logs["lr"]))

    def add_learning_rate(self, epoch_position: float, rate: float) -> None:
        """The rate in use from ``epoch_position`` on (a run's first point is its start, at 0)."""
        run = self.current
        if run is None:
            return
        run.rates.append((epoch_position, rate))
        self.curves["lr"].setData([x for x, _ in run.rates], [r for _, r in run.rates])
        # a constant rate would otherwise be centred in a meaningless +-0.5 band
        self.lr_plot.setYRange(0, max(r for _, r in run.rates) * 1.15, padding=0)

    def add_marker(self, epoch_position: float, text: str) -> None:
        """A labelled vertical line where a callback acted (checkpoint, lr reduced, early stop)."""
        run = self.current
        if run is not None:
            run.markers.append((epoch_position, text))
        line = pg.InfiniteLine(pos=epoch_position, angle=90, movable=False,
                               pen=pg.mkPen("#FB8C00", width=1, style=Qt.PenStyle.DotLine),
                               label=text, labelOpts={"position": 0.95, "color": "#FB8C00", "anchors": [(0, 0), (0, 0)]})
        self.loss_plot.addItem(line)
        self._marker_items.append(line)

    def curve_points(self, key: str) -> int:
        self.flush()
        x, _ = self.curves[key].getData()
        return 0 if x is None else len(x)

    # ------------------------------------------------------------------ crosshair
    def _on_mouse(self, event) -> None:
        position = event[0]
        if not self.loss_plot.sceneBoundingRect().contains(position) or self.current is None:
            return
        x = self.loss_plot.vb.mapSceneToView(position).x()
        self._crosshair.setPos(x)
        self._crosshair.show()
        run = self.current
        lines = [f"epoch {x:.2f}"]
        if run.batch_x:
            index = int(np.clip(np.searchsorted(run.batch_x, x), 0, len(run.batch_x) - 1))
            lines.append(f"loss {run.batch_loss[index]:.4f}  accuracy {run.batch_accuracy[index]:.4f}")
        if run.epochs:
            index = int(np.clip(np.searchsorted(run.epochs, x), 0, len(run.epochs) - 1))
            epoch_line = "  ".join(f"{k} {v[index]:.4g}" for k, v in run.epoch_logs.items()
                                   if index < len(v) and k.startswith("val_"))
            if epoch_line:
                lines.append(epoch_line)
        self.readout.setText("\n".join(lines))
        self.readout.setPos(x, self.loss_plot.vb.viewRange()[1][0])
