"""The filter playground: presets, typed kernels, and responses equal to torch's conv2d."""

import itertools

import numpy as np
import pytest
from lab_reference import keras_same_pads, torch_conv

from cnnstudio.lab.filters import (CORRELATION_REMARK, PRESETS, apply_filter, multiply_only, parse_kernel,
                                   sample_images, to_gray)
from cnnstudio.lab.windows import window_geometry
from cnnstudio.paths import RESOURCES

RNG = np.random.default_rng(7)
GREY = RNG.normal(size=(11, 10))
RGB = RNG.normal(size=(3, 9, 12))
PADDINGS = ["valid", "same", 0, 1, 2]


# ---------------------------------------------------------------------- presets

def test_the_curve_detector_is_the_lecture_s_7x7_of_30s():
    kernel = PRESETS["Curve detector 7x7"].kernel
    assert kernel.shape == (7, 7)
    expected = np.zeros((7, 7))
    expected[0, 5] = expected[1, 4] = 30
    expected[2:6, 3] = 30
    assert np.array_equal(kernel, expected)


def test_presets_have_descriptions_and_the_textbook_sums():
    expected = {"Laplacian", "Sobel-X", "Sobel-Y", "Sharpen", "Box blur 3x3", "Gaussian 3x3", "Gaussian 5x5",
                "Curve detector 7x7"}
    assert set(PRESETS) == expected
    for preset in PRESETS.values():
        assert len(preset.description) > 30 and preset.kernel.shape[0] % 2 == 1
    for edge in ("Laplacian", "Sobel-X", "Sobel-Y"):
        assert PRESETS[edge].kernel.sum() == 0  # flat areas give 0
    for blur in ("Box blur 3x3", "Gaussian 3x3", "Gaussian 5x5", "Sharpen"):
        assert PRESETS[blur].kernel.sum() == pytest.approx(1)  # brightness kept
    assert PRESETS["Gaussian 5x5"].kernel.shape == (5, 5)
    with pytest.raises(ValueError):
        PRESETS["Laplacian"].kernel[0, 0] = 5  # shared, read-only


def test_sobel_x_finds_vertical_edges_and_sobel_y_horizontal_ones():
    image = np.zeros((8, 8))
    image[:, 4:] = 1  # a vertical edge: dark left, bright right
    assert apply_filter(image, PRESETS["Sobel-X"].kernel).total.max() == 4
    assert np.all(apply_filter(image, PRESETS["Sobel-Y"].kernel).total == 0)
    assert np.all(apply_filter(image.T, PRESETS["Sobel-X"].kernel).total == 0)


def test_the_curve_detector_fires_on_its_curve_and_not_elsewhere():
    kernel = PRESETS["Curve detector 7x7"].kernel
    image = np.zeros((14, 14))
    image[:7, :7] = kernel / 30 * 50  # the curve drawn with pixel value 50 in the top-left corner
    response = apply_filter(image, kernel).total
    assert response[0, 0] == 6 * 30 * 50
    assert response[0, -1] == 0


# ---------------------------------------------------------------------- typed kernels

def test_parse_kernel_reads_rows_fractions_commas_and_semicolons():
    assert np.array_equal(parse_kernel("0 1 0\n1 -4 1\n0 1 0"), PRESETS["Laplacian"].kernel)
    assert np.array_equal(parse_kernel("1/9, 1/9, 1/9; 1/9 1/9 1/9;\n 1/9,1/9,1/9,"), PRESETS["Box blur 3x3"].kernel)
    assert parse_kernel("2.5").shape == (1, 1)
    assert np.array_equal(parse_kernel([[1, 2, 3], ["4", 5, 6], [7, 8, 9.0]]), np.arange(1, 10).reshape(3, 3))
    assert parse_kernel(np.eye(5)).shape == (5, 5)
    assert parse_kernel("\n".join(["1 " * 11] * 11)).shape == (11, 11)


@pytest.mark.parametrize(("typed", "message"), [
    ("1 2 3\n4 x 6\n7 8 9", "row 2, column 2: 'x' is not a number"),
    ([[1, 2, 3], [4, 5, None], [7, 8, 9]], "row 2, column 3"),
    ("1 2 3\n4 5\n7 8 9", "row 2 has 2 numbers but row 1 has 3"),
    ("1 2 3\n4 5 6", "2 rows of 3 numbers: it must be square"),
    ("1 2\n3 4", "no centre pixel"),
    ("\n".join(["0 " * 13] * 13), "too large"),
    ("", "empty"),
    ("1 2 3\n4 5 6\n7 8 1/0", "row 3, column 3: '1/0' is not a number"),
    ([[1, 2, 3], [4, float("nan"), 6], [7, 8, 9]], "row 2, column 2: nan is not a finite number"),
    ("1 2 3\n4 inf 6\n7 8 9", "row 2, column 2: 'inf' is not a finite number"),
    (np.ones((3, 3, 3)), "2-D grid"),
])
def test_parse_kernel_says_what_is_wrong_and_where(typed, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_kernel(typed)


# ---------------------------------------------------------------------- responses equal torch

CASES = list(itertools.product(PADDINGS, (1, 2, 3), (1, 2)))


@pytest.mark.parametrize(("padding", "stride", "dilation"), CASES)
def test_grey_response_equals_torch_conv2d(padding, stride, dilation):
    for kernel in (RNG.normal(size=(3, 3)), RNG.normal(size=(2, 4)), PRESETS["Gaussian 5x5"].kernel):
        response = apply_filter(GREY, kernel, padding=padding, stride=stride, dilation=dilation)
        expected = torch_conv(GREY[None], kernel[None, None], stride, padding, dilation)[0]
        np.testing.assert_allclose(response.total, expected, atol=1e-12)
        np.testing.assert_allclose(response.per_channel[0], expected, atol=1e-12)


@pytest.mark.parametrize(("padding", "stride", "dilation"), CASES)
def test_rgb_gives_per_channel_responses_and_their_sum(padding, stride, dilation):
    kernel = RNG.normal(size=(3, 3))
    response = apply_filter(RGB, kernel, padding=padding, stride=stride, dilation=dilation)
    for c in range(3):
        expected = torch_conv(RGB[c:c + 1], kernel[None, None], stride, padding, dilation)[0]
        np.testing.assert_allclose(response.per_channel[c], expected, atol=1e-12)
    # one Conv2D filter over a colour image: the same kernel on all three channels, summed
    summed = torch_conv(RGB, np.broadcast_to(kernel, (1, 3, 3, 3)), stride, padding, dilation)[0]
    np.testing.assert_allclose(response.total, summed, atol=1e-12)
    # and a (C, kh, kw) kernel is one Conv2D filter with its own slice per channel
    weights = RNG.normal(size=(3, 3, 3))
    np.testing.assert_allclose(apply_filter(RGB, weights, padding=padding, stride=stride, dilation=dilation).total,
                               torch_conv(RGB, weights[None], stride, padding, dilation)[0], atol=1e-12)


@pytest.mark.parametrize(("padding", "stride"), [("valid", 1), ("same", 1), ("same", 2), (1, 2)])
def test_convolution_mode_equals_conv2d_with_the_flipped_kernel(padding, stride):
    kernel = PRESETS["Sobel-X"].kernel
    response = apply_filter(GREY, kernel, mode="convolution", padding=padding, stride=stride)
    flipped = np.flip(kernel, axis=(0, 1))
    np.testing.assert_allclose(response.total, torch_conv(GREY[None], flipped[None, None], stride, padding)[0],
                               atol=1e-12)
    # the flip only reverses the sign of a Sobel response; a symmetric kernel does not care
    np.testing.assert_allclose(response.total, -apply_filter(GREY, kernel, padding=padding, stride=stride).total)
    laplacian = PRESETS["Laplacian"].kernel
    np.testing.assert_allclose(apply_filter(GREY, laplacian, mode="convolution").total,
                               apply_filter(GREY, laplacian).total)


def test_the_cases_cover_same_padding_with_odd_and_even_totals():
    totals = set()
    for stride, dilation, kernel in itertools.product((1, 2, 3), (1, 2), (3, 2, 4, 5)):
        for size in (11, 10, 9, 12):
            before, after = keras_same_pads(size, kernel, stride, dilation)
            geometry = window_geometry(size, size, kernel, stride, "same", dilation)
            assert geometry.pads[:2] == (before, after)
            totals.add((before + after) % 2)
    assert totals == {0, 1}
    assert keras_same_pads(11, 3, 1) == (1, 1)  # grey image rows, stride 1: even total
    assert keras_same_pads(10, 3, 2) == (0, 1)  # grey image columns, stride 2: odd total, extra at the end


def test_the_lecture_s_padded_32x32_stays_32x32_with_5x5_filters():
    volume = RNG.normal(size=(3, 32, 32))
    response = apply_filter(volume, RNG.normal(size=(3, 5, 5)), padding=2)
    assert response.geometry.padded_shape == (36, 36)
    assert response.total.shape == (32, 32)
    assert apply_filter(volume, np.ones((5, 5))).total.shape == (28, 28)  # unpadded: loses 4 = 5 - 1
    assert "out = floor((32 + 2*2 - 1*(5-1) - 1) / 1) + 1 = 32" in response.formula_lines()[0]


def test_a_5x5_filter_fits_24x24_places_on_a_28x28_digit():
    geometry = window_geometry(28, 28, 5)
    assert geometry.output_shape == (24, 24) and geometry.positions == 576


def test_bad_inputs_are_refused_with_their_sizes():
    with pytest.raises(ValueError, match="does not fit the 4x4 image"):
        apply_filter(np.zeros((4, 4)), np.ones((5, 5)))
    with pytest.raises(ValueError, match="mode must be"):
        apply_filter(GREY, np.ones((3, 3)), mode="flip")
    with pytest.raises(ValueError, match="padding must be"):
        apply_filter(GREY, np.ones((3, 3)), padding="full")
    with pytest.raises(ValueError, match=r"\(3, kh, kw\)"):
        apply_filter(RGB, np.ones((2, 3, 3)))
    with pytest.raises(ValueError, match="stride must be at least 1"):
        apply_filter(GREY, np.ones((3, 3)), stride=0)


# ---------------------------------------------------------------------- the rest of the page

def test_multiplication_only_rescales_without_finding_edges():
    darker = multiply_only(RGB, 0.5)
    assert darker.shape == RGB.shape
    np.testing.assert_allclose(darker, RGB * 0.5)
    image = np.zeros((6, 6))
    image[:, 3:] = 1
    assert set(np.unique(multiply_only(image, 0.5))) == {0, 0.5}  # the edge is not singled out


def test_the_remark_explains_the_flip():
    assert "cross-correlation" in CORRELATION_REMARK and "flip" in CORRELATION_REMARK
    assert "do not tell anyone" in CORRELATION_REMARK


def test_sample_images_are_mnist_digits_and_the_astronaut():
    samples = sample_images()
    digits = [s for s in samples if s.name.startswith("MNIST")]
    assert [s.name for s in digits] == ["MNIST digit 7", "MNIST digit 2", "MNIST digit 0", "MNIST digit 3"]
    assert all(s.pixels.shape == (28, 28) and 0 <= s.pixels.min() and s.pixels.max() <= 1 for s in digits)
    assert digits[0].source == "MNIST test image #0"  # the test set opens with a 7
    if (RESOURCES / "images" / "astronaut.png").is_file():
        (astronaut,) = [s for s in samples if s.name == "Astronaut"]
        assert astronaut.pixels.shape == (3, 512, 512)
        grey = to_gray(astronaut.pixels)
        assert grey.shape == (512, 512)
        edges = apply_filter(grey, PRESETS["Laplacian"].kernel, padding="same").total
        assert edges.shape == (512, 512)
