"""One registry for every dataset; a path is recognised by what it holds."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from dataset_writers import write_cifar_folder, write_class_folders, write_mnist_folder

from cnnstudio.data import DATASETS, DatasetError, detect_dataset, load_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_registry_lists_every_dataset_with_shape_classes_and_loader():
    assert list(DATASETS) == ["mnist", "mnist-files", "fashion-mnist", "cifar10", "image-folder", "npz"]
    mnist = DATASETS["mnist"]
    assert (mnist.input_shape, mnist.num_classes, mnist.needs_path) == ((1, 28, 28), 10, False)
    assert DATASETS["cifar10"].input_shape == (3, 32, 32) and DATASETS["cifar10"].class_names[0] == "airplane"
    assert DATASETS["image-folder"].input_shape is None and DATASETS["image-folder"].needs_path
    for spec in DATASETS.values():
        assert spec.title and spec.description and callable(spec.loader)


def test_builtin_mnist_by_name_with_subset():
    dataset = load_dataset("mnist", subset=50, seed=1)
    assert dataset.x.shape == (50, 1, 28, 28) and dataset.class_counts().tolist() == [5] * 10
    assert len(load_dataset("mnist", split="test", subset=10)) == 10


def test_named_datasets_with_a_path(tmp_path):
    mnist = write_mnist_folder(tmp_path / "digits")
    assert load_dataset("mnist-files", mnist).name == "mnist"
    assert load_dataset("fashion-mnist", mnist, split="test").classes[1] == "Trouser"
    cifar = write_cifar_folder(tmp_path / "cifar", per_batch=10)
    assert load_dataset("cifar10", cifar, subset=10).class_counts().tolist() == [1] * 10
    assert load_dataset("mnist-files", mnist / "train-images-idx3-ubyte.gz").x.shape[0] == 30  # a file in it


@pytest.mark.parametrize("kind", ["idx", "fashion", "cifar", "folder", "npz", "idx-file"])
def test_paths_are_recognised_by_what_they_hold(tmp_path, kind):
    if kind == "idx":
        path, expected = write_mnist_folder(tmp_path / "MNIST"), "mnist-files"
    elif kind == "fashion":
        path, expected = write_mnist_folder(tmp_path / "FashionMNIST"), "fashion-mnist"
    elif kind == "cifar":
        write_cifar_folder(tmp_path / "cifar-10-batches-py", per_batch=2)
        path, expected = tmp_path, "cifar10"
    elif kind == "folder":
        path, expected = write_class_folders(tmp_path / "pets", {"cat": 2, "dog": 2}), "image-folder"
    elif kind == "npz":
        path, expected = tmp_path / "d.npz", "npz"
        np.savez(path, x=np.zeros((4, 5, 5), np.uint8), y=np.array([0, 1, 0, 1]))
    else:
        path, expected = write_mnist_folder(tmp_path / "m", gz=False) / "t10k-labels-idx1-ubyte", "mnist-files"
    assert detect_dataset(path)[0] == expected
    assert len(load_dataset(path)) > 0


def test_image_folder_options_pass_through_and_unknown_options_are_refused(tmp_path):
    folder = write_class_folders(tmp_path, {"cat": 2, "dog": 2})
    assert load_dataset(folder, target_size=(7, 9), color="rgb").sample_shape == (3, 7, 9)
    with pytest.raises(ValueError, match="does not take option"):
        load_dataset(folder, layout="nhwc")


def test_unknown_name_or_missing_path_says_what_is_known(tmp_path):
    with pytest.raises(DatasetError) as caught:
        load_dataset("imagenet")
    assert "neither a dataset name nor an existing file" in caught.value.problem
    assert "mnist, mnist-files" in caught.value.fix
    with pytest.raises(DatasetError, match="no path was given"):
        load_dataset("cifar10")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no dataset found here"):
        load_dataset(tmp_path / "empty")


def test_importing_the_registry_loads_neither_torch_nor_qt_nor_pillow():
    code = ("import sys, cnnstudio.data.registry; "
            "print(sorted(m for m in ('torch', 'PySide6', 'pyqtgraph', 'PIL') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
