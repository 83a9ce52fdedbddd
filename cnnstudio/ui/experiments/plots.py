"""The study's pictures (pyqtgraph): the objective against a cost with the Pareto
front marked, and parallel coordinates of every swept setting.  They only draw
what ``training.sweeps`` computed (the front, the axes' positions)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cnnstudio.training.sweeps.parallel import ParallelLayout
from cnnstudio.training.sweeps.study import COMPLETE, TrialRow
from cnnstudio.training.sweeps.table import front_numbers

from .. import theme

COST_AXES = {"params": "Parameters", "macs": "MACs (multiply-accumulates)", "seconds": "Training time (s)"}
TRIAL_COLOR = "#90A4AE"
FRONT_COLOR = "#E53935"
#: a line's colour from its score: pale blue for the worst trial to deep red for the best
SCORE_COLORS = pg.ColorMap([0.0, 1.0], [QColor("#9EC5E8"), QColor("#C62828")])


class CostPlot(QWidget):
    """Each complete trial a point (x = its cost, y = its score); the front's points are
    large and joined by a step line.  Clicking a point emits ``trialClicked(number)``."""

    trialClicked = Signal(int)
    costChanged = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.cost_box = QComboBox()
        for key, title in COST_AXES.items():
            self.cost_box.addItem(title, key)
        self.log_box = QCheckBox("log scale")
        self.log_box.setChecked(True)
        self.note = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Cost on x:"))
        top.addWidget(self.cost_box)
        top.addWidget(self.log_box)
        top.addStretch(1)
        top.addWidget(self.note)
        self.plot = pg.PlotWidget(background=theme.canvas_background())
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).enableAutoSIPrefix(False)  # an accuracy of 0.3 reads 0.3, not 300 (x0.001)
        self.points = pg.ScatterPlotItem(size=9, pen=pg.mkPen(None), brush=pg.mkBrush(TRIAL_COLOR), hoverable=True)
        self.front_line = pg.PlotDataItem(pen=pg.mkPen(FRONT_COLOR, width=2, style=Qt.PenStyle.DashLine))
        self.front_points = pg.ScatterPlotItem(size=13, pen=pg.mkPen(FRONT_COLOR, width=2),
                                               brush=pg.mkBrush(QColor(FRONT_COLOR).lighter(160)))
        self.selected_point = pg.ScatterPlotItem(size=19, pen=pg.mkPen(theme.text_color(), width=2),
                                                 brush=pg.mkBrush(None))
        self.plot.addItem(self.front_line)
        self.plot.addItem(self.points)
        self.plot.addItem(self.front_points)
        self.plot.addItem(self.selected_point)
        self.plot.addLegend(offset=(-10, 10))
        self.plot.getPlotItem().legend.addItem(self.points, "trial")
        self.plot.getPlotItem().legend.addItem(self.front_points, "Pareto front")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.rows: list[TrialRow] = []
        self.metric, self.maximize = "score", True
        self.front: set[int] = set()
        self.selected: int | None = None
        self.cost_box.currentIndexChanged.connect(self._on_cost)
        self.log_box.toggled.connect(lambda _on: self.redraw())
        self.points.sigClicked.connect(self._clicked)
        self.front_points.sigClicked.connect(self._clicked)

    @property
    def cost(self) -> str:
        return self.cost_box.currentData()

    def show_rows(self, rows: list[TrialRow], metric: str, maximize: bool) -> None:
        self.rows, self.metric, self.maximize = list(rows), metric, maximize
        self.redraw()

    def _on_cost(self) -> None:
        self.redraw()
        self.costChanged.emit(self.cost)

    def redraw(self) -> None:
        cost = self.cost
        log = self.log_box.isChecked()
        scored = [row for row in self.rows if row.state == COMPLETE and row.score is not None
                  and row.cost(cost) is not None and (row.cost(cost) > 0 or not log)]
        self.front = front_numbers(scored, cost, maximize=self.maximize)
        self.plot.getAxis("bottom").setLogMode(log)  # the data are given as log10(x); the axis labels 10^x
        self.plot.setLabel("bottom", COST_AXES[cost])
        self.plot.setLabel("left", self.metric)
        self.points.setData([self._spot(row, cost) for row in scored if row.number not in self.front])
        front = sorted((row for row in scored if row.number in self.front), key=lambda row: row.cost(cost))
        self.front_points.setData([self._spot(row, cost) for row in front])
        xs = np.array([row.cost(cost) for row in front], dtype=float)
        xs = np.log10(xs) if log and len(xs) else xs
        ys = np.array([row.score for row in front], dtype=float)
        # a staircase: from each front point, its score holds until a dearer point does better
        self.front_line.setData(np.repeat(xs, 2)[1:], np.repeat(ys, 2)[:-1])
        self.note.setText(f"{len(scored)} complete trial(s), {len(front)} on the front")
        self.set_selected(self.selected)

    def set_selected(self, number: int | None) -> None:
        """Ring the point of trial ``number`` (the table's selection)."""
        self.selected = number
        row = next((row for row in self.rows if row.number == number and row.state == COMPLETE
                    and row.score is not None and row.cost(self.cost) is not None), None)
        self.selected_point.setData([self._spot(row, self.cost)] if row is not None else [])

    def _spot(self, row: TrialRow, cost: str) -> dict:
        x = row.cost(cost)
        return {"pos": (np.log10(x) if self.log_box.isChecked() else x, row.score), "data": row.number}

    def _clicked(self, _item, spots, *_args) -> None:
        if len(spots):
            self.trialClicked.emit(int(spots[0].data()))


class ParallelPlot(QWidget):
    """One vertical axis per swept setting and one for the objective; a complete trial is a
    line through its values, coloured from pale blue (lowest score) to red (highest)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background=theme.canvas_background())
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.layout_shown: ParallelLayout | None = None
        self.selected: int | None = None

    def show_layout(self, layout: ParallelLayout, selected: int | None = None) -> None:
        self.layout_shown, self.selected = layout, selected
        plot = self.plot
        plot.clear()
        count = len(layout.axes)
        text = theme.text_color()
        for x, axis in enumerate(layout.axes):
            plot.addItem(pg.PlotDataItem([x, x], [0, 1], pen=pg.mkPen(text, width=1)))
            title = pg.TextItem(axis.title, color=text, anchor=(0.5, 0))
            title.setPos(x, -0.04)
            plot.addItem(title)
            for position, label in axis.ticks:
                tick = pg.TextItem(label, color=theme.muted_text(), anchor=(0, 0.5))
                tick.setPos(x + 0.03, position)
                plot.addItem(tick)
        low, high = (min(layout.scores), max(layout.scores)) if layout.scores else (0.0, 1.0)
        # the best trials drawn last, on top; the selected one last of all, thick and dark
        for (number, ys), score in sorted(zip(layout.lines, layout.scores),
                                          key=lambda item: (item[0][0] == selected, item[1])):
            share = (score - low) / (high - low) if high > low else 1.0
            pen = pg.mkPen(text, width=4) if number == selected else pg.mkPen(SCORE_COLORS.map(share, mode="qcolor"),
                                                                               width=2)
            plot.addItem(pg.PlotDataItem(list(range(count)), ys, pen=pen))
        plot.setXRange(-0.3, count - 0.4, padding=0)
        plot.setYRange(-0.12, 1.05, padding=0)
        plot.getViewBox().invertY(False)


__all__ = ["COST_AXES", "CostPlot", "ParallelPlot"]
