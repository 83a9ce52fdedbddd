"""Convolution step by step: every step's sum is torch's conv2d at that output cell."""

import itertools

import numpy as np
import pytest
from lab_reference import torch_conv

from cnnstudio.lab.stepper import (LECTURE_INPUT, LECTURE_KERNEL, MAX_INPUT_SIDE, RGB_INPUT, RGB_KERNEL,
                                   ConvolutionSteps)

RNG = np.random.default_rng(3)


def test_the_lecture_s_5x5_input_and_3x3_kernel_give_a_3x3_map():
    steps = ConvolutionSteps()
    assert steps.image.shape == (1, 5, 5) and steps.kernel.shape == (1, 3, 3)
    assert steps.output_shape == (3, 3) and len(steps) == 9
    assert steps.output().tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    assert steps.formula_lines() == ["Output height and width: out = floor((5 + 2*0 - 1*(3-1) - 1) / 1) + 1 = 3"]
    assert steps.multiplications == 81  # 9 positions x 9 products


def test_a_step_shows_its_window_products_and_sum():
    steps = ConvolutionSteps()
    step = steps.step(1)  # second position: one pixel to the right
    assert (step.out_row, step.out_col) == (0, 1)
    assert (step.top, step.left, step.bottom, step.right) == (0, 1, 2, 3)
    assert step.rows == (0, 1, 2) and step.cols == (1, 2, 3)
    np.testing.assert_array_equal(step.patch[0], LECTURE_INPUT[0:3, 1:4])
    np.testing.assert_array_equal(step.products[0], LECTURE_INPUT[0:3, 1:4] * LECTURE_KERNEL)
    assert step.sum == 3 and not step.in_padding.any()
    assert step.text() == "out[0, 1] = 1*1 + 1*0 + 0*1 + 1*0 + 1*1 + 1*0 + 0*1 + 1*0 + 1*1 = 3"


def test_positions_go_left_to_right_then_down():
    steps = ConvolutionSteps(padding=1, stride=2)
    assert steps.positions == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (2, 2)]
    first = steps.step(0)
    assert first.in_padding[0, 0].all() and first.in_padding[0, :, 0].all() and not first.in_padding[0, 1:, 1:].any()
    assert (first.top, first.left) == (0, 0)  # padded coordinates: row 0 is the added zeros
    with pytest.raises(IndexError, match="there are 9 steps"):
        steps.step(9)


def test_three_channels_sum_into_one_map():
    steps = ConvolutionSteps.multi_channel_example()
    assert steps.image.shape == (3, 5, 5) and steps.kernel.shape == (3, 3, 3)
    assert steps.output_shape == (3, 3)
    expected = torch_conv(RGB_INPUT, RGB_KERNEL[None])[0]
    np.testing.assert_allclose(steps.output(), expected)
    step = steps.step(4)
    assert step.channel_sums.sum() == step.sum == expected[1, 1]
    lines = step.text().splitlines()
    assert len(lines) == 4 and lines[0].startswith("channel 1: ") and lines[3].startswith("out[1, 1] = ")


CASES = list(itertools.product(["valid", "same", 0, 1, 2], (1, 2, 3), (1, 2)))


@pytest.mark.parametrize(("padding", "stride", "dilation"), CASES)
def test_every_step_sum_equals_torch_conv2d(padding, stride, dilation):
    for image, kernel in ((RNG.integers(-3, 4, size=(7, 8)), RNG.integers(-2, 3, size=(3, 3))),
                          (RNG.normal(size=(3, 9, 6)), RNG.normal(size=(3, 2, 3)))):
        steps = ConvolutionSteps(image, kernel, stride=stride, padding=padding, dilation=dilation)
        weights = kernel[None, None] if kernel.ndim == 2 else kernel[None]
        planes = image[None] if image.ndim == 2 else image
        expected = torch_conv(planes, weights, stride, padding, dilation)[0]
        assert steps.output_shape == expected.shape
        sums = np.array([steps.step(i).sum for i in range(len(steps))]).reshape(expected.shape)
        np.testing.assert_allclose(sums, expected, atol=1e-12)
        np.testing.assert_allclose(steps.output(), expected, atol=1e-12)


def test_a_step_s_taps_read_the_padded_input_where_they_say():
    steps = ConvolutionSteps(RNG.normal(size=(6, 6)), RNG.normal(size=(3, 3)), stride=2, padding="same", dilation=2)
    for index in range(len(steps)):
        step = steps.step(index)
        np.testing.assert_array_equal(step.patch[0], steps.padded[0][np.ix_(step.rows, step.cols)])
        assert step.bottom - step.top == step.right - step.left == 4  # a dilated 3x3 spans 5 pixels


def test_inputs_are_kept_small_and_kernels_must_match_the_channels():
    ConvolutionSteps(np.zeros((MAX_INPUT_SIDE, MAX_INPUT_SIDE)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="up to 12x12"):
        ConvolutionSteps(np.zeros((13, 5)), np.ones((3, 3)))
    with pytest.raises(ValueError, match=r"\(3, kh, kw\), one slice per channel"):
        ConvolutionSteps(RGB_INPUT, LECTURE_KERNEL)
    with pytest.raises(ValueError, match="does not fit"):
        ConvolutionSteps(np.zeros((2, 2)), np.ones((3, 3)))
