"""im2col: the matrix product equals torch's convolution; the lecture's AlexNet sizes."""

import itertools

import numpy as np
import pytest
from lab_reference import torch_conv

from cnnstudio.lab.im2col import (column_receptive_field, conv_via_im2col, example_sizes, filter_matrix, im2col,
                                  lecture_example_sizes)

RNG = np.random.default_rng(11)


def test_the_lecture_s_alexnet_layer_sizes_are_computed():
    sizes = lecture_example_sizes()
    assert sizes.positions_per_axis == 55
    assert sizes.positions == 3025
    assert sizes.column_length == 363
    assert sizes.columns_shape == (363, 3025)
    assert sizes.filter_matrix_shape == (96, 363)
    assert sizes.product_shape == (96, 3025)
    assert sizes.output_shape == (55, 55, 96)
    lines = sizes.lines()
    assert "positions per axis: (227 - 11) / 4 + 1 = 55" in lines
    assert "column matrix X_col: 363 x 3025" in lines
    assert sizes.duplication > 7  # overlapping windows copy each input value into about 7 columns


def test_the_sizes_follow_the_settings():
    sizes = example_sizes(28, 1, kernel=3, stride=1, filters=32)  # the lecture's conv2d_1
    assert sizes.columns_shape == (9, 676) and sizes.filter_matrix_shape == (32, 9)
    assert sizes.output_shape == (26, 26, 32)
    assert "floor((30 - 4) / 3) + 1 = 9" in example_sizes(30, 1, 4, 3, 1).lines()[1]


def test_the_real_lecture_matrices_have_those_shapes_and_multiply_to_torch_s_output():
    image = RNG.normal(size=(3, 227, 227))
    weights = RNG.normal(size=(96, 3, 11, 11))
    columns = im2col(image, 11, 11, stride=4)
    assert columns.shape == (363, 3025)
    assert filter_matrix(weights).shape == (96, 363)
    output = conv_via_im2col(image, weights, stride=4)
    assert output.shape == (96, 55, 55)
    np.testing.assert_allclose(output, torch_conv(image, weights, stride=4), atol=1e-9)


@pytest.mark.parametrize(("padding", "stride", "dilation"),
                         list(itertools.product(["valid", "same", 1, 2], (1, 2, 3), (1, 2))))
def test_im2col_product_equals_torch_convolution(padding, stride, dilation):
    image = RNG.normal(size=(2, 10, 9))
    weights = RNG.normal(size=(4, 2, 3, 2))
    bias = RNG.normal(size=4)
    output = conv_via_im2col(image, weights, stride, padding, dilation, bias=bias)
    np.testing.assert_allclose(output, torch_conv(image, weights, stride, padding, dilation, bias), atol=1e-12)


def test_a_column_is_one_stretched_window_and_knows_where_it_came_from():
    image = RNG.normal(size=(2, 7, 8))
    columns = im2col(image, 3, 3, stride=2, padding=1)
    out_w = (8 + 2 - 3) // 2 + 1
    for index in (0, 5, columns.shape[1] - 1):
        window = column_receptive_field(index, 7, 8, 3, 3, stride=2, padding=1)
        assert (window.out_row, window.out_col) == divmod(index, out_w)
        padded = np.pad(image, ((0, 0), (1, 1), (1, 1)))
        patch = padded[:, window.top + 1:window.bottom + 2, window.left + 1:window.right + 2]
        np.testing.assert_array_equal(columns[:, index], patch.reshape(-1))
    first = column_receptive_field(0, 7, 8, 3, 3, stride=2, padding=1)
    assert (first.top, first.left, first.bottom, first.right) == (-1, -1, 1, 1)  # row and column -1: padding
    last = column_receptive_field(3024, 227, 227, 11, 11, stride=4)
    assert (last.top, last.left, last.bottom, last.right) == (216, 216, 226, 226)
    with pytest.raises(IndexError, match="3025 columns"):
        column_receptive_field(3025, 227, 227, 11, 11, stride=4)


def test_mismatched_channels_are_refused():
    with pytest.raises(ValueError, match="expect 3 input channels but the input has 1"):
        conv_via_im2col(np.zeros((5, 5)), np.zeros((2, 3, 3, 3)))
