"""The MNIST shipped inside the project: the real files, complete, loaded fast and offline."""

import gzip
import hashlib
import re

import numpy as np
import pytest

from cnnstudio.data import DatasetError
from cnnstudio.data import builtin
from cnnstudio.data.builtin import MNIST_FOLDER, load_mnist


def readme_md5s():
    text = (MNIST_FOLDER / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"\|\s*([\w-]+-ubyte)\s*\|\s*([0-9a-f]{32})\s*\|", text))


def test_bundled_files_match_the_md5s_in_their_readme():
    expected = readme_md5s()
    assert len(expected) == 4
    for name, md5 in expected.items():
        data = gzip.decompress((MNIST_FOLDER / f"{name}.gz").read_bytes())
        assert hashlib.md5(data).hexdigest() == md5, name


def test_lecture_mnist_has_60000_training_images_of_1x28x28_with_labels_0_to_9():
    train = load_mnist("train")
    assert len(train) == 60_000 and train.x.shape == (60_000, 1, 28, 28)
    assert train.sample_shape == (1, 28, 28) and train.num_classes == 10
    assert train.classes == [str(d) for d in range(10)]
    assert train.x.dtype == np.float32 and 0.0 == train.x.min() and train.x.max() == 1.0
    assert sorted(np.unique(train.y).tolist()) == list(range(10))
    # the well-known class sizes of MNIST's training set
    assert train.class_counts().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert train.y[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]


def test_mnist_test_split_has_10000_images():
    test = load_mnist("test")
    assert test.x.shape == (10_000, 1, 28, 28)
    assert test.y[:5].tolist() == [7, 2, 1, 0, 4]


def test_second_load_gives_a_fresh_copy_and_keeps_the_cache_intact():
    load_mnist("train")
    again = load_mnist("train")
    again.x[0] = 0  # each caller gets its own float copy; the cache stays intact
    assert load_mnist("train").x[0].max() == 1.0


def test_subset_is_class_balanced_and_repeatable():
    part = load_mnist("train", subset=200, seed=7)
    assert part.x.shape == (200, 1, 28, 28)
    assert part.class_counts().tolist() == [20] * 10
    np.testing.assert_array_equal(part.x, load_mnist("train", subset=200, seed=7).x)
    assert load_mnist("test", subset=25).class_counts().tolist() == [3] * 5 + [2] * 5


def test_missing_bundled_file_says_which_and_how_to_restore(tmp_path, monkeypatch):
    monkeypatch.setattr(builtin, "MNIST_FOLDER", tmp_path)
    monkeypatch.setattr(builtin, "_cache", {})
    with pytest.raises(DatasetError) as caught:
        load_mnist("test")
    assert "t10k-images-idx3-ubyte.gz" in str(caught.value)
    assert "restore resources/datasets/mnist" in caught.value.fix


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="train' or 'test"):
        load_mnist("validation")
