"""Pads and ceil modes read in the catalog's terms, checked against torch's own pooling."""

import pytest
import torch
import torch.nn.functional as F

from cnnstudio.interop.window_mapping import Pads, auto_pads, catalog_padding, ceil_mode_pads


def test_no_padding_is_valid_and_even_padding_is_explicit():
    assert catalog_padding((16, 16), [3, 3], [1, 1], [1, 1], Pads()) == {"padding": "valid"}
    assert catalog_padding((16, 16), [5, 3], [2, 2], [1, 1], Pads(2, 0, 2, 0)) == \
        {"padding": "explicit", "pad": [2, 0]}


def test_keras_same_padding_is_recognised_with_the_odd_pixel_after():
    # 32 -> ceil(32 / 2) = 16 outputs need (16 - 1) * 2 + 3 - 32 = 1 zero, after
    assert catalog_padding((32, 32), [3, 3], [2, 2], [1, 1], Pads(0, 0, 1, 1)) == {"padding": "same"}
    assert catalog_padding((32, 32), [3, 3], [1, 1], [1, 1], Pads(1, 1, 1, 1)) == {"padding": "same"}


def test_padding_only_one_side_gets_is_not_a_catalog_mode():
    pads = Pads(1, 1, 2, 2)
    assert catalog_padding((16, 16), [3, 3], [2, 2], [1, 1], pads) is None
    both, one_side = pads.split()
    assert both == Pads(1, 1, 1, 1) and one_side == Pads(0, 0, 1, 1)


@pytest.mark.parametrize("mode", ["SAME_UPPER", "SAME_LOWER"])
def test_onnx_auto_pad_keeps_ceil_n_over_stride_outputs(mode):
    pads = auto_pads(mode, (15, 16), [3, 3], [2, 2], [1, 1])
    for size, before, after in zip((15, 16), pads.before, pads.after):
        assert (size + before + after - 3) // 2 + 1 == -(-size // 2)
    upper = auto_pads("SAME_UPPER", (16, 16), [3, 3], [2, 2], [1, 1])
    assert (upper.top, upper.bottom) == (0, 1)  # Keras puts the odd pixel after
    assert auto_pads("VALID", (16, 16), [3, 3], [2, 2], [1, 1]).is_zero


@pytest.mark.parametrize("size, kernel, stride, pad", [(7, 3, 2, 0), (8, 3, 2, 1), (10, 2, 3, 0), (9, 3, 3, 1)])
def test_ceil_mode_is_a_floor_mode_pool_with_more_padding_after(size, kernel, stride, pad):
    x = torch.randn(1, 2, size, size)
    expected = F.max_pool2d(x, kernel, stride, pad, ceil_mode=True)
    pads = ceil_mode_pads((size, size), [kernel, kernel], [stride, stride], Pads.symmetric(pad, pad))
    padded = F.pad(x, (pads.left, pads.right, pads.top, pads.bottom), value=float("-inf"))
    assert torch.equal(F.max_pool2d(padded, kernel, stride), expected)
