"""Pooling equals torch's max/avg pooling, and says which input each output took."""

import itertools

import numpy as np
import pytest
from lab_reference import torch_pool

from cnnstudio.lab.pooling import discarded_share, pool

RNG = np.random.default_rng(5)
CASES = list(itertools.product(("max", "avg"), ("valid", "same"), (2, 3), (1, 2, 3), ((8, 8), (11, 7))))


@pytest.mark.parametrize(("mode", "padding", "size", "stride", "shape"), CASES)
def test_pooling_equals_torch(mode, padding, size, stride, shape):
    feature_map = RNG.normal(size=shape)
    result = pool(feature_map, size, stride, mode, padding)
    expected, indices, padded_width, (top, left) = torch_pool(feature_map, size, stride, mode, padding)
    np.testing.assert_allclose(result.output, expected, atol=1e-12)
    if mode == "max":
        # torch's flat indices point into the padded map; the lab's into the input itself
        rows, cols = np.divmod(indices, padded_width)
        np.testing.assert_array_equal(result.chosen[..., 0], rows - top)
        np.testing.assert_array_equal(result.chosen[..., 1], cols - left)
    for r, c in itertools.product(*(range(n) for n in result.output.shape)):
        took = result.took(r, c)
        values = [feature_map[i, j] for i, j in took]
        assert (max(values) if mode == "max" else np.mean(values)) == pytest.approx(result.output[r, c])
        assert all(0 <= i < shape[0] and 0 <= j < shape[1] for i, j in result.windows[r][c])


def test_the_lecture_s_2x2_pooling_with_stride_2():
    feature_map = np.array([[1, 1, 2, 4],
                            [5, 6, 7, 8],
                            [3, 2, 1, 0],
                            [1, 2, 3, 4]], dtype=float)
    result = pool(feature_map)  # stride defaults to the pool size, as in Keras
    assert result.output.tolist() == [[6, 8], [3, 4]]
    assert result.took(0, 0) == [(1, 1)] and result.took(1, 1) == [(3, 3)]
    assert result.windows[0][1] == [(0, 2), (0, 3), (1, 2), (1, 3)]
    assert result.discarded_share == 0.75
    average = pool(feature_map, mode="avg")
    assert average.output.tolist() == [[3.25, 5.25], [2, 2]] and average.chosen is None
    assert average.took(0, 0) == [(0, 0), (0, 1), (1, 0), (1, 1)]


def test_pooling_discards_75_percent_and_the_lecture_s_maps():
    assert discarded_share(2, 2) == 0.75
    assert discarded_share(2) == 0.75
    assert discarded_share(3, 3) == pytest.approx(8 / 9)
    assert discarded_share(2, 1) == 0
    assert discarded_share(2, 2, (26, 26)) == 0.75  # conv2d_1 26x26 -> 13x13
    assert discarded_share(2, 2, (11, 11)) == 1 - 25 / 121  # conv2d_2 11x11 -> 5x5: the 11th row and column go too
    assert pool(RNG.normal(size=(26, 26))).output.shape == (13, 13)
    assert pool(RNG.normal(size=(11, 11))).output.shape == (5, 5)


def test_ties_go_to_the_first_pixel_in_reading_order_and_padding_never_wins():
    result = pool(np.full((3, 3), -5.0), 2, 2, "max", "same")
    assert result.output.tolist() == [[-5, -5], [-5, -5]]  # the padded corner holds no value
    assert result.took(0, 0) == [(0, 0)] and result.took(1, 1) == [(2, 2)]
    assert pool(np.ones((3, 3)), 2, 2, "avg", "same").output.tolist() == [[1, 1], [1, 1]]


def test_pool_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        pool(np.ones((4, 4)), mode="min")
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        pool(np.ones((4, 4)), padding=1)
    with pytest.raises(ValueError, match="one \\(H, W\\) feature map"):
        pool(np.ones((2, 4, 4)))
    with pytest.raises(ValueError, match="does not fit"):
        pool(np.ones((1, 1)), 2)
