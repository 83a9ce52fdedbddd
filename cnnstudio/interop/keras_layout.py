"""Channels-first (CNN Studio, PyTorch) against channels-last (Keras): shapes and flat vectors.

Images and sequences only swap axes: ``(C, H, W)`` here is ``(H, W, C)`` in Keras.  A flat
vector is where the two part ways for real: ``Flatten`` of a ``(C, H, W)`` tensor lists the
values channel by channel, Keras's ``Flatten`` of ``(H, W, C)`` pixel by pixel, so the same
network holds the same numbers in a different order from then on, and the weights that read
such a vector (a ``Dense`` kernel, a ``BatchNormalization`` of the vector) must be permuted
on the way between the two.

A ``FeatureOrder`` records, for a vector, the channels-first shapes it was flattened from (one
per concatenated part); ``permutation`` turns it into indices: entry ``i`` of the studio's
vector is entry ``permutation[i]`` of Keras's.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

Shape = tuple[int, ...]
#: the channels-first shapes a vector was flattened from, part by part
FeatureOrder = tuple[Shape, ...]


def channels_last(shape: Sequence[int]) -> Shape:
    """``(C, H, W)`` -> ``(H, W, C)``; ``(C, L)`` -> ``(L, C)``; a vector stays as it is."""
    shape = tuple(shape)
    return shape[1:] + shape[:1] if len(shape) > 1 else shape


def channels_first(shape: Sequence[int]) -> Shape:
    """``(H, W, C)`` -> ``(C, H, W)``: the inverse of ``channels_last``."""
    shape = tuple(shape)
    return shape[-1:] + shape[:-1] if len(shape) > 1 else shape


def flattened(shape: Sequence[int]) -> FeatureOrder:
    """The order of ``Flatten`` applied to a tensor of channels-first ``shape``."""
    return (tuple(shape),)


def plain(size: int) -> FeatureOrder:
    """A vector in the same order on both sides (a Dense output, a global pooling)."""
    return ((size,),)


def is_plain(order: FeatureOrder) -> bool:
    """True when studio and Keras hold the vector in the same order."""
    return all(len(part) == 1 or part[0] == 1 or math.prod(part[1:]) == 1 for part in order)


def permutation(order: FeatureOrder) -> "np.ndarray":
    """Indices ``p`` with ``studio_vector == keras_vector[p]``."""
    import numpy as np

    pieces, offset = [], 0
    for part in order:
        size = math.prod(part)
        keras_index = np.arange(size).reshape(channels_last(part))
        pieces.append(offset + np.moveaxis(keras_index, -1, 0).reshape(-1) if len(part) > 1
                      else offset + np.arange(size))
        offset += size
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=int)


def same_order(first: FeatureOrder, second: FeatureOrder) -> bool:
    """Whether two vectors of equal length line up entry by entry on both sides."""
    import numpy as np

    return np.array_equal(permutation(first), permutation(second))
