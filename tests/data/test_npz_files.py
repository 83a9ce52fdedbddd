"""``.npz`` files: the layout rule for x, one-hot or integer y, and clear refusals."""

import numpy as np
import pytest

from cnnstudio.data import DatasetError
from cnnstudio.data.npz import load_npz

LABELS = np.array([0, 1, 2, 1, 0, 2])


def save(tmp_path, name="data.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def error_for(path, **options):
    with pytest.raises(DatasetError) as caught:
        load_npz(path, **options)
    return caught.value


@pytest.mark.parametrize(("shape", "expected"), [
    ((6, 5, 7), (1, 5, 7)),            # (N, H, W) grey
    ((6, 5, 7, 3), (3, 5, 7)),         # channels last
    ((6, 5, 7, 1), (1, 5, 7)),
    ((6, 3, 5, 7), (3, 5, 7)),         # channels first
    ((6, 1, 28, 28), (1, 28, 28)),
    ((6, 49), (1, 7, 7)),              # flattened square images
])
def test_image_layouts_follow_the_documented_rule(tmp_path, shape, expected):
    x = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    dataset = load_npz(save(tmp_path, x=x, y=LABELS))
    assert dataset.sample_shape == expected and dataset.num_classes == 3
    assert dataset.x.flags["C_CONTIGUOUS"] and dataset.x.dtype == np.float32


def test_channels_last_values_land_in_the_right_channel(tmp_path):
    x = np.zeros((6, 5, 5, 3), np.uint8)
    x[..., 2] = 255
    dataset = load_npz(save(tmp_path, x=x, y=LABELS))
    assert dataset.x[:, 2].min() == 1.0 and dataset.x[:, :2].max() == 0.0


def test_layout_option_overrides_the_guess(tmp_path):
    x = np.zeros((6, 3, 8, 3), np.uint8)  # ambiguous on purpose: read as channels first by the rule
    assert load_npz(save(tmp_path, x=x, y=LABELS)).sample_shape == (3, 8, 3)
    assert load_npz(save(tmp_path, x=x, y=LABELS), layout="nhwc").sample_shape == (3, 3, 8)


def test_float_pixels_in_0_1_are_kept_and_0_255_are_scaled(tmp_path):
    x = np.full((6, 2, 2), 0.5, np.float32)
    assert load_npz(save(tmp_path, x=x, y=LABELS)).x.max() == pytest.approx(0.5)
    assert load_npz(save(tmp_path, x=x * 255, y=LABELS)).x.max() == pytest.approx(0.5)
    error = error_for(save(tmp_path, x=x - 1, y=LABELS))
    assert "values from -0.5 to -0.5" in error.problem and "uint8 0-255 or float 0-1" in error.fix


def test_one_hot_labels_become_class_numbers(tmp_path):
    one_hot = np.eye(4)[LABELS]
    dataset = load_npz(save(tmp_path, x=np.zeros((6, 3, 3), np.uint8), y=one_hot))
    assert dataset.y.tolist() == LABELS.tolist() and dataset.num_classes == 4


def test_class_names_and_keras_train_test_keys(tmp_path):
    path = save(tmp_path, x_train=np.zeros((6, 3, 3), np.uint8), y_train=LABELS,
                x_test=np.zeros((2, 3, 3), np.uint8), y_test=np.array([0, 1]),
                classes=np.array(["cat", "dog", "fox"]))
    train = load_npz(path)
    assert train.classes == ["cat", "dog", "fox"] and len(train) == 6
    assert len(load_npz(path, split="test")) == 2


def test_different_counts_name_both_arrays(tmp_path):
    error = error_for(save(tmp_path, x=np.zeros((5, 3, 3), np.uint8), y=LABELS))
    assert "'x' has 5 images but 'y' has 6 labels" in error.problem
    assert error.path.endswith("data.npz") and "one label per image" in error.fix


def test_labels_out_of_range(tmp_path):
    error = error_for(save(tmp_path, x=np.zeros((6, 3, 3), np.uint8), y=np.array([0, 1, 2, 3, 0, -1])))
    assert "label -1 at index 5 is out of range" in error.problem
    path = save(tmp_path, x=np.zeros((6, 3, 3), np.uint8), y=np.array([0, 1, 5, 1, 0, 1]),
                classes=np.array(["a", "b"]))
    error = error_for(path)
    assert "label 5 at index 2 is out of range" in error.problem and "names only 2 classes" in error.problem


def test_missing_arrays_are_listed(tmp_path):
    error = error_for(save(tmp_path, images=np.zeros((2, 3, 3)), labels=np.zeros(2)))
    assert "has arrays images, labels but not x and y" in error.problem
    assert "numpy.savez(path, x=images, y=labels)" in error.fix


def test_corrupt_missing_and_object_files(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 definitely not a zip")
    assert "corrupt or not an .npz file" in error_for(broken).problem
    assert error_for(tmp_path / "absent.npz").problem == "file not found"
    objects = save(tmp_path, "objects.npz", x=np.array([object()] * 6, dtype=object), y=LABELS)
    assert "Python objects" in error_for(objects).problem


def test_no_test_part_in_a_plain_x_y_file(tmp_path):
    error = error_for(save(tmp_path, x=np.zeros((6, 3, 3), np.uint8), y=LABELS), split="test")
    assert "has no test part" in error.problem
