"""CIFAR-10 from its python batches, read with an unpickler that refuses anything but data."""

import pickle

import numpy as np
import pytest
from dataset_writers import cifar_batch, write_cifar_folder, write_pickle

from cnnstudio.data import DatasetError
from cnnstudio.data.cifar import load_cifar10


def error_for(folder, split="train"):
    with pytest.raises(DatasetError) as caught:
        load_cifar10(folder, split)
    return caught.value


@pytest.mark.parametrize("protocol", [2, pickle.HIGHEST_PROTOCOL])
def test_loads_five_training_batches_and_the_test_batch(tmp_path, protocol):
    folder = write_cifar_folder(tmp_path / "cifar-10-batches-py", per_batch=10, protocol=protocol)
    train = load_cifar10(folder, "train")
    test = load_cifar10(folder, "test")
    assert train.x.shape == (50, 3, 32, 32) and test.x.shape == (10, 3, 32, 32)
    assert train.classes[:3] == ["airplane", "automobile", "bird"] and train.num_classes == 10
    first = cifar_batch(10, 1)
    # row layout: 1024 red values, then green, then blue, each image row by row
    np.testing.assert_array_equal(train.x[3, 1, 0, :5], first[b"data"][3, 1024:1029] / np.float32(255))
    assert train.y[:10].tolist() == first[b"labels"]


def test_numpy1_pickles_naming_numpy_core_load_too(tmp_path):
    """The original files were written by NumPy 1.x, whose arrays name ``numpy.core.multiarray``."""
    folder = write_cifar_folder(tmp_path, per_batch=4)
    for path in folder.iterdir():
        path.write_bytes(path.read_bytes().replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert b"numpy.core.multiarray" in (folder / "test_batch").read_bytes()
    assert len(load_cifar10(folder, "test")) == 4


def test_parent_of_the_archive_folder_is_accepted(tmp_path):
    write_cifar_folder(tmp_path / "cifar-10-batches-py", per_batch=2)
    assert len(load_cifar10(tmp_path, "test")) == 2


def test_a_pickle_that_would_run_code_is_refused_before_running(tmp_path):
    marker = tmp_path / "ran"

    class Trap:
        def __reduce__(self):
            return exec, (f"open({str(marker)!r}, 'w').write('ran')",)

    folder = write_cifar_folder(tmp_path / "batches", per_batch=2)
    write_pickle(folder / "test_batch", {b"data": Trap(), b"labels": [0]})
    error = error_for(folder, "test")
    assert "exec, which a CIFAR batch never needs" in error.problem and "refused" in error.problem
    assert error.path.endswith("test_batch") and "original CIFAR-10" in error.fix
    assert not marker.exists()


def test_missing_batch_is_named(tmp_path):
    folder = write_cifar_folder(tmp_path, per_batch=2)
    (folder / "data_batch_3").unlink()
    error = error_for(folder)
    assert error.path.endswith("data_batch_3") and "missing" in error.problem
    assert "data_batch_1, data_batch_2, data_batch_3, data_batch_4, data_batch_5" in error.fix


def test_corrupt_batch_is_named(tmp_path):
    folder = write_cifar_folder(tmp_path, per_batch=2)
    path = folder / "data_batch_2"
    path.write_bytes(path.read_bytes()[:50])
    error = error_for(folder)
    assert error.path == str(path) and "corrupt or not a pickle" in error.problem
    assert "Download the CIFAR-10 python version again" in error.fix


def test_images_and_labels_of_different_counts(tmp_path):
    folder = write_cifar_folder(tmp_path, per_batch=4)
    batch = cifar_batch(4, 9)
    batch[b"labels"] = batch[b"labels"][:3]
    write_pickle(folder / "test_batch", batch)
    error = error_for(folder, "test")
    assert "4 images but 3 labels" in error.problem and error.path.endswith("test_batch")


def test_labels_out_of_range(tmp_path):
    folder = write_cifar_folder(tmp_path, per_batch=4)
    batch = cifar_batch(4, 9)
    batch[b"labels"][2] = 10
    write_pickle(folder / "test_batch", batch)
    error = error_for(folder, "test")
    assert "label 10 at index 2 is out of range" in error.problem and "0-9" in error.problem


def test_wrong_data_layout_and_cifar100_are_explained(tmp_path):
    folder = write_cifar_folder(tmp_path, per_batch=4)
    write_pickle(folder / "test_batch", {b"data": np.zeros((4, 32, 32, 3), np.uint8), b"labels": [0] * 4})
    assert "not uint8 (N, 3072)" in error_for(folder, "test").problem
    write_pickle(folder / "test_batch", {b"data": np.zeros((4, 3072), np.uint8), b"fine_labels": [0] * 4})
    assert "CIFAR-100" in error_for(folder, "test").problem
    write_pickle(folder / "test_batch", [1, 2, 3])
    assert "not a CIFAR batch" in error_for(folder, "test").problem
