"""The summary exactly as Keras 3's ``model.summary()`` prints the exported model.

Keras draws its table with the ``rich`` library: fixed column shares of the line
(``keras/src/utils/summary_utils.py``), which rich then fits into the line with its borders
(``rich/table.py``, ``rich/_ratio.py``), wrapping a long cell at spaces and cutting a word
that is still too long with an ellipsis (``rich/_wrap.py``, ``rich/text.py``).  This module
redoes those few rules on plain strings, so a student sees the same characters in both
places and CNN Studio needs neither Keras nor rich to print them; the tests compare the two
outputs character by character.

The rows are those of the model ``keras_export`` writes (``keras_plan``): a chain is a
``Sequential`` model (three columns, no input row), a network with branches a functional
model (four columns with ``Connected to``, the input first).
"""

from __future__ import annotations

import re
import shutil
from typing import Sequence

from cnnstudio.core.analysis import Analysis
from cnnstudio.core.network import Network

from .keras_plan import KerasLayer, KerasPlan, plan_keras

#: Keras's default line length and column shares, Sequential and functional
SEQUENTIAL_LAYOUT = (88, (0.45, 0.80, 1.0), ("Layer (type)", "Output Shape", "Param #"), "llr")
FUNCTIONAL_LAYOUT = (108, (0.3, 0.56, 0.74, 1.0), ("Layer (type)", "Output Shape", "Param #", "Connected to"),
                     "llrl")
BYTES_PER_PARAM = 4  # float32
_WORD = re.compile(r"\s*\S+\s*")


def format_keras_summary(network: Network, analysis: Analysis | None = None, *, title: str | None = None,
                         line_length: int | None = None) -> str:
    """What ``model.summary()`` prints for the Keras export of ``network``.

    ``line_length`` defaults to Keras's: 88 (108 with branches), or the terminal's width
    minus 4 when that is less.  Raises ``ValueError`` when the network cannot be exported.
    """
    return keras_summary(plan_keras(network, analysis, title=title), line_length=line_length)


def keras_summary(plan: KerasPlan, *, line_length: int | None = None) -> str:
    default_length, positions, headers, justify = SEQUENTIAL_LAYOUT if plan.sequential else FUNCTIONAL_LAYOUT
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)
    rows = [_row(layer, plan.sequential) for layer in plan.model_layers()]
    lines = [f'Model: "{plan.name}"', *_table(headers, rows, justify, positions, line_length)]
    trainable, frozen = plan.trainable_params, plan.non_trainable_params
    for label, count in (("Total", trainable + frozen), ("Trainable", trainable), ("Non-trainable", frozen)):
        lines.append(f" {label} params: {count:,} ({_memory(count * BYTES_PER_PARAM)})")
    return "\n".join(lines) + "\n"


def _row(layer: KerasLayer, sequential: bool) -> list[str]:
    shape = "(None, " + ", ".join(str(d) for d in layer.output_shape) + ")"
    cells = [f"{layer.name} ({layer.class_name})", shape, f"{layer.params:,}"]
    if not sequential:
        cells.append(", ".join(f"{name}[0][0]" for name in layer.inputs) or "-")
    return cells


def _memory(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


# ---------------------------------------------------------------------- the table, as rich draws it

def column_widths(positions: Sequence[float], line_length: int) -> list[int]:
    """Each column's width with its one-space padding on both sides, borders left out."""
    wanted, current = [], 0
    for position in positions:
        width = int(position * line_length) - current
        if width < 4:
            raise ValueError(f"a line of {line_length} characters is too narrow for the summary")
        wanted.append(width)
        current += width
    room = line_length - (len(positions) + 1)  # the vertical borders
    widths = [min(width + 2, room) for width in wanted]
    excess = sum(widths) - room
    if excess > 0:  # rich takes the excess off the columns evenly, rounding half to even
        remaining, columns_left = excess, len(widths)
        for index, width in enumerate(widths):
            taken = min(width, round(remaining / columns_left))
            widths[index] = width - taken
            remaining -= taken
            columns_left -= 1
    return widths


def _table(headers: Sequence[str], rows: list[list[str]], justify: str, positions: Sequence[float],
           line_length: int) -> list[str]:
    widths = column_widths(positions, line_length)

    def rule(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * width for width in widths) + right

    def row_lines(cells: Sequence[str], border: str, header: bool = False) -> list[str]:
        columns = [cell_lines(cell, width - 2, side) for cell, width, side in zip(cells, widths, justify)]
        height = max(len(lines) for lines in columns)
        for lines, width in zip(columns, widths):
            blank = [" " * (width - 2)] * (height - len(lines))
            if header:  # headers sit at the bottom of their row, cells at the top
                lines[:0] = blank
            else:
                lines += blank
        return [border + border.join(f" {column[index]} " for column in columns) + border
                for index in range(height)]

    lines = [rule("┏", "━", "┳", "┓"), *row_lines(headers, "┃", header=True), rule("┡", "━", "╇", "┩")]
    for index, cells in enumerate(rows):
        if index:
            lines.append(rule("├", "─", "┼", "┤"))
        lines += row_lines(cells, "│")
    lines.append(rule("└", "─", "┴", "┘"))
    return lines


def cell_lines(text: str, width: int, justify: str = "l") -> list[str]:
    """``text`` wrapped at spaces into lines of exactly ``width`` characters; a word longer
    than a line is cut with an ellipsis (``…``).  ``justify``: ``l`` left or ``r`` right."""
    breaks, used = [], 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        if width - used >= len(word.rstrip()):
            used += len(word)
            continue
        if start and (used or len(word.rstrip()) > width):
            breaks.append(start)
        used = len(word)
    pieces = [text[a:b] for a, b in zip([0, *breaks], [*breaks, len(text)])]
    lines = []
    for piece in pieces:
        if len(piece) > width:  # trailing spaces past the edge go first
            trailing = len(piece) - len(piece.rstrip())
            piece = piece[:len(piece) - min(trailing, len(piece) - width)]
        if justify == "r":
            piece = piece.rstrip()
        if len(piece) > width:
            piece = piece[:width - 1] + "…"
        lines.append(piece.rjust(width) if justify == "r" else piece.ljust(width))
    return lines


__all__ = ["cell_lines", "column_widths", "format_keras_summary", "keras_summary"]
