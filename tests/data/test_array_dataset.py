"""ArrayDataset: balanced subsets, stratified splits, and DatasetError's one-line message."""

import numpy as np
import pytest

from cnnstudio.data import ArrayDataset, DatasetError


def make_dataset(counts):
    """A dataset with ``counts[c]`` samples of class c; pixel value = sample index (to track samples)."""
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)]).astype(np.int64)
    np.random.default_rng(5).shuffle(y)
    x = np.arange(len(y), dtype=np.float32).reshape(-1, 1, 1, 1) * np.ones((1, 1, 2, 2), np.float32)
    return ArrayDataset(x, y, [f"c{c}" for c in range(len(counts))], "toy", "memory")


def test_dataset_error_is_one_line_naming_file_problem_and_fix():
    error = DatasetError("/data/train-labels-idx1-ubyte", "wrong magic number.", "Use the labels file")
    assert str(error) == "/data/train-labels-idx1-ubyte: wrong magic number. Use the labels file"
    assert (error.path, error.problem, error.fix) == ("/data/train-labels-idx1-ubyte", "wrong magic number",
                                                      "Use the labels file")


def test_from_uint8_scales_like_keras_divide_by_255():
    pixels = np.array([0, 1, 128, 255], np.uint8).reshape(1, 1, 2, 2)
    dataset = ArrayDataset.from_uint8(pixels, np.array([0]), ["a", "b"], "t", "s")
    assert dataset.x.dtype == np.float32 and dataset.y.dtype == np.int64
    np.testing.assert_array_equal(dataset.x, pixels.astype(np.float32) / np.float32(255))
    assert dataset.sample_shape == (1, 2, 2) and dataset.num_classes == 2 and len(dataset) == 1


def test_constructor_refuses_wrong_layout():
    with pytest.raises(ValueError, match="N, C, H, W"):
        ArrayDataset(np.zeros((2, 3, 3), np.float32), np.zeros(2, np.int64), ["a"], "t", "s")
    with pytest.raises(ValueError, match="y must be"):
        ArrayDataset(np.zeros((2, 1, 3, 3), np.float32), np.zeros(3, np.int64), ["a"], "t", "s")


def test_subset_is_class_balanced_and_deterministic():
    dataset = make_dataset([50, 40, 60])
    part = dataset.subset(30, seed=1)
    assert part.class_counts().tolist() == [10, 10, 10]
    again = dataset.subset(30, seed=1)
    np.testing.assert_array_equal(part.x, again.x)
    assert not np.array_equal(part.x, dataset.subset(30, seed=2).x)


def test_subset_gives_leftovers_to_first_classes_and_fills_in_for_small_ones():
    dataset = make_dataset([100, 2, 100, 100])
    assert dataset.subset(10).class_counts().tolist() == [3, 2, 3, 2]
    assert dataset.subset(11).class_counts().tolist() == [3, 2, 3, 3]
    assert make_dataset([5, 5, 5]).subset(7).class_counts().tolist() == [3, 2, 2]


def test_subset_larger_than_dataset_returns_everything():
    dataset = make_dataset([3, 4])
    assert len(dataset.subset(100)) == 7
    with pytest.raises(ValueError):
        dataset.subset(0)


def test_split_is_stratified_disjoint_and_deterministic():
    dataset = make_dataset([100, 50, 30])
    train, val = dataset.split(0.2, seed=3)
    assert val.class_counts().tolist() == [20, 10, 6]
    assert train.class_counts().tolist() == [80, 40, 24]
    ids = lambda d: set(d.x[:, 0, 0, 0].astype(int).tolist())  # noqa: E731
    assert ids(train).isdisjoint(ids(val)) and len(ids(train) | ids(val)) == len(dataset)
    train2, val2 = dataset.split(0.2, seed=3)
    np.testing.assert_array_equal(val.x, val2.x)
    assert ids(val) != ids(dataset.split(0.2, seed=4)[1])


def test_split_size_is_rounded_total_with_remainders_spread():
    dataset = make_dataset([7, 7, 7])
    train, val = dataset.split(0.5)
    assert len(val) == 10 and len(train) == 11
    assert sorted(val.class_counts().tolist()) == [3, 3, 4]


def test_split_with_zero_fraction_gives_empty_validation():
    train, val = make_dataset([4, 4]).split(0.0)
    assert len(train) == 8 and len(val) == 0 and val.sample_shape == (1, 2, 2)


def test_take_copies_so_parts_never_share_memory():
    dataset = make_dataset([2, 2])
    part = dataset.take([0, 1])
    part.x[:] = -1
    assert dataset.x.min() >= 0
