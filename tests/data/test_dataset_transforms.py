"""Normalisation, light augmentation and the sample preview."""

import numpy as np
import pytest
import torch

from cnnstudio.data import ArrayDataset, AugmentConfig, Augmenter, Normalization, preview_samples


def test_normalization_is_measured_per_channel_and_applied_to_arrays_and_tensors():
    rng = np.random.default_rng(0)
    x = np.stack([rng.normal(0.2, 0.1, (50, 6, 6)), rng.normal(0.7, 0.3, (50, 6, 6))], axis=1).astype(np.float32)
    norm = Normalization.fit(x)
    assert norm.mean == pytest.approx((x[:, 0].mean(), x[:, 1].mean()), abs=1e-6)
    assert norm.std == pytest.approx((x[:, 0].std(), x[:, 1].std()), abs=1e-6)
    out = norm.apply(x)
    assert out.dtype == np.float32
    assert out.mean(axis=(0, 2, 3)) == pytest.approx([0, 0], abs=1e-5)
    assert out.std(axis=(0, 2, 3)) == pytest.approx([1, 1], abs=1e-5)
    tensor_out = norm.apply(torch.from_numpy(x))
    np.testing.assert_allclose(tensor_out.numpy(), out, atol=1e-6)
    assert norm.apply(x[0]).shape == (2, 6, 6)
    assert Normalization.from_dict(norm.to_dict()) == norm


def test_constant_channel_is_not_divided_by_zero():
    norm = Normalization.fit(np.full((3, 1, 2, 2), 0.5, np.float32))
    assert norm.std == (1.0,) and norm.apply(np.full((1, 2, 2), 0.5, np.float32)).max() == 0


def test_wrong_channel_count_is_refused():
    with pytest.raises(ValueError, match="1 channel"):
        Normalization.identity(1).apply(np.zeros((2, 3, 4, 4), np.float32))


def test_shifts_move_images_by_at_most_k_pixels_with_zero_fill():
    batch = np.zeros((64, 1, 9, 9), np.float32)
    batch[:, 0, 4, 4] = 1.0  # one bright pixel in the centre
    out = Augmenter(AugmentConfig(max_shift=2), seed=0)(batch)
    assert out.shape == batch.shape and out.sum() == 64  # nothing lost, nothing wrapped
    positions = np.argwhere(out[:, 0] == 1.0)[:, 1:]
    assert np.abs(positions - 4).max() == 2 and len({tuple(p) for p in positions}) > 10


def test_shift_at_the_border_fills_zeros_instead_of_wrapping():
    batch = np.ones((32, 2, 5, 5), np.float32)
    out = Augmenter(AugmentConfig(max_shift=1), seed=3)(batch)
    zero_rows = (out.sum(axis=(1, 3)) == 0).sum(axis=1)
    assert set(zero_rows.tolist()) <= {0, 1} and zero_rows.sum() > 0
    assert out.sum() < batch.sum()


def test_augmentation_is_repeatable_for_a_seed_and_same_on_numpy_and_torch():
    batch = np.random.default_rng(1).random((16, 3, 8, 8)).astype(np.float32)
    config = AugmentConfig(max_shift=3, horizontal_flip=True)
    first = Augmenter(config, seed=5)(batch)
    np.testing.assert_array_equal(first, Augmenter(config, seed=5)(batch))
    np.testing.assert_array_equal(first, Augmenter(config, seed=5)(torch.from_numpy(batch)).numpy())
    assert not np.array_equal(first, Augmenter(config, seed=6)(batch))


def test_flip_only_mirrors_some_images_and_is_off_by_default():
    batch = np.random.default_rng(2).random((40, 1, 4, 6)).astype(np.float32)
    assert AugmentConfig().horizontal_flip is False
    out = Augmenter(AugmentConfig(max_shift=0, horizontal_flip=True), seed=0)(batch)
    mirrored = [np.array_equal(o, b[:, :, ::-1]) for o, b in zip(out, batch)]
    unchanged = [np.array_equal(o, b) for o, b in zip(out, batch)]
    assert all(m or u for m, u in zip(mirrored, unchanged)) and 5 < sum(mirrored) < 35
    assert Augmenter(AugmentConfig(max_shift=0), seed=0)(batch) is batch


def test_preview_gives_pictures_with_labels_per_class():
    x = np.zeros((6, 1, 4, 5), np.float32)
    x[:, 0, 0, 0] = np.arange(6) / 5
    dataset = ArrayDataset(x, np.array([0, 1, 0, 1, 0, 2]), ["zero", "one", "two"], "t", "s")
    samples = preview_samples(dataset, per_class=2, seed=0)
    assert [name for _, name in samples] == ["zero", "zero", "one", "one", "two"]
    picture = samples[-1][0]
    assert picture.shape == (4, 5) and picture.dtype == np.uint8 and picture[0, 0] == 255
    assert [s[0][0, 0] for s in samples] == [s[0][0, 0] for s in preview_samples(dataset, 2, seed=0)]


def test_preview_of_colour_images_is_height_width_3():
    dataset = ArrayDataset(np.ones((2, 3, 4, 5), np.float32), np.array([0, 1]), ["a", "b"], "t", "s")
    picture, name = preview_samples(dataset)[0]
    assert picture.shape == (4, 5, 3) and picture.max() == 255 and name == "a"
