"""MNIST and Fashion-MNIST from IDX files the user points to, and every way those files go wrong."""

import gzip

import numpy as np
import pytest
from dataset_writers import digit_images, idx_bytes, write_idx, write_mnist_folder

from cnnstudio.data import DatasetError
from cnnstudio.data.idx import load_idx_folder, read_idx


def error_for(folder, split="train", kind="mnist"):
    with pytest.raises(DatasetError) as caught:
        load_idx_folder(folder, split, kind)
    return caught.value


@pytest.mark.parametrize("gz", [True, False])
def test_reads_gzip_and_raw_idx_files(tmp_path, gz):
    folder = write_mnist_folder(tmp_path, train=30, test=10, gz=gz)
    train = load_idx_folder(folder, "train")
    test = load_idx_folder(folder, "test")
    images, labels = digit_images(30, seed=1)
    assert train.x.shape == (30, 1, 28, 28) and test.x.shape == (10, 1, 28, 28)
    np.testing.assert_array_equal(train.x[:, 0], images.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(train.y, labels)
    assert train.name == "mnist" and train.source == str(folder)


def test_fashion_mnist_uses_the_same_files_with_clothing_names(tmp_path):
    dataset = load_idx_folder(write_mnist_folder(tmp_path), "train", kind="fashion-mnist")
    assert dataset.classes[0] == "T-shirt/top" and dataset.classes[9] == "Ankle boot"
    assert dataset.name == "fashion-mnist"


def test_accepts_dotted_names_and_torchvision_raw_folder(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images, labels = digit_images(12)
    write_idx(raw / "train-images.idx3-ubyte", images, gz=False)
    write_idx(raw / "train-labels.idx1-ubyte", labels, gz=False)
    assert len(load_idx_folder(tmp_path / "MNIST")) == 12


def test_missing_labels_file_is_named_with_the_fix(tmp_path):
    folder = write_mnist_folder(tmp_path)
    (folder / "train-labels-idx1-ubyte.gz").unlink()
    error = error_for(folder)
    assert error.path.endswith("train-labels-idx1-ubyte")
    assert "missing" in error.problem and "Put the MNIST train labels file in" in error.fix


def test_corrupt_gzip_names_the_file_and_says_download_again(tmp_path):
    folder = write_mnist_folder(tmp_path)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    error = error_for(folder)
    assert error.path == str(path) and "corrupt gzip" in error.problem
    assert "Download train-images-idx3-ubyte.gz again" in error.fix


def test_swapped_files_are_caught_by_their_magic_numbers(tmp_path):
    folder = write_mnist_folder(tmp_path)
    images = folder / "train-images-idx3-ubyte.gz"
    labels = folder / "train-labels-idx1-ubyte.gz"
    swap = images.read_bytes()
    images.write_bytes(labels.read_bytes())
    labels.write_bytes(swap)
    error = error_for(folder)
    assert error.path == str(images)
    assert "wrong magic number 0x00000801" in error.problem and "0x00000803" in error.problem
    assert "swapped" in error.fix


def test_file_that_is_not_idx_at_all(tmp_path):
    folder = write_mnist_folder(tmp_path, gz=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(b"<html>Not found</html>")
    error = error_for(folder, "test")
    assert error.path.endswith("t10k-images-idx3-ubyte") and "not an IDX file" in error.problem


def test_truncated_file_reports_bytes_missing(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(digit_images(5)[0])[:-100])
    with pytest.raises(DatasetError, match="truncated or damaged") as caught:
        read_idx(path)
    assert "Download train-images-idx3-ubyte again" in caught.value.fix


def test_images_and_labels_of_different_counts(tmp_path):
    folder = write_mnist_folder(tmp_path)
    write_idx(folder / "train-labels-idx1-ubyte.gz", digit_images(29)[1])
    error = error_for(folder)
    assert error.path.endswith("train-labels-idx1-ubyte.gz")
    assert "29 labels" in error.problem and "30 images" in error.problem
    assert "labels file that belongs to these images" in error.fix


def test_labels_out_of_range(tmp_path):
    folder = write_mnist_folder(tmp_path)
    labels = digit_images(30)[1]
    labels[17] = 12
    write_idx(folder / "train-labels-idx1-ubyte.gz", labels)
    error = error_for(folder)
    assert "label 12 at index 17 is out of range" in error.problem and "0-9" in error.problem
    assert error.path.endswith("train-labels-idx1-ubyte.gz")


def test_missing_folder(tmp_path):
    error = error_for(tmp_path / "nowhere")
    assert error.problem == "folder not found"


def test_gzip_detected_by_content_not_name(tmp_path):
    path = tmp_path / "train-labels-idx1-ubyte"  # gzip data without the .gz suffix
    path.write_bytes(gzip.compress(idx_bytes(np.arange(10, dtype=np.uint8))))
    assert read_idx(path).tolist() == list(range(10))
