"""A folder of class sub-folders: any size resized, grey or colour, and unreadable files handled."""

import numpy as np
import pytest
from dataset_writers import write_class_folders, write_image
from PIL import Image

from cnnstudio.data import DatasetError
from cnnstudio.data.folder import load_image_folder


def test_grey_images_are_resized_to_the_target_size(tmp_path):
    write_class_folders(tmp_path, {"cats": 3, "dogs": 2}, mode="L", size=(12, 10))
    dataset = load_image_folder(tmp_path, target_size=(8, 6))
    assert dataset.x.shape == (5, 1, 8, 6)
    assert dataset.classes == ["cats", "dogs"] and dataset.y.tolist() == [0, 0, 0, 1, 1]
    # a uniform image stays uniform when resized: value 20*class + index
    assert dataset.x[4].min() == dataset.x[4].max() == pytest.approx(21 / 255)
    assert dataset.x.flags["C_CONTIGUOUS"]


def test_rgb_images_of_mixed_sizes_and_formats(tmp_path):
    write_image(tmp_path / "red" / "a.png", (40, 30), "RGB", value=200)
    write_image(tmp_path / "red" / "b.jpg", (16, 16), "RGB", value=200)
    write_image(tmp_path / "blue" / "c.bmp", (9, 21), "RGB", value=10)
    dataset = load_image_folder(tmp_path, target_size=(32, 32))
    assert dataset.x.shape == (3, 3, 32, 32)
    assert dataset.classes == ["blue", "red"]
    assert dataset.x[0, :, 5, 5] == pytest.approx(np.array([10, 245, 40]) / 255)


def test_colour_auto_is_grey_only_when_every_image_is_grey(tmp_path):
    write_class_folders(tmp_path, {"a": 2, "b": 2}, mode="L")
    assert load_image_folder(tmp_path).sample_shape == (1, 10, 12)
    write_image(tmp_path / "b" / "colour.png", (12, 10), "RGB")
    assert load_image_folder(tmp_path).sample_shape == (3, 10, 12)
    assert load_image_folder(tmp_path, color="grey").sample_shape == (1, 10, 12)
    assert load_image_folder(write_class_folders(tmp_path / "g", {"a": 1, "b": 1}), color="rgb").x.shape[1] == 3


def test_without_target_size_the_most_common_size_wins(tmp_path):
    write_class_folders(tmp_path, {"a": 3, "b": 2}, size=(12, 10))
    write_image(tmp_path / "b" / "big.png", (50, 50), "L")
    assert load_image_folder(tmp_path).sample_shape == (1, 10, 12)


def make_folder_with_bad_files(tmp_path):
    write_class_folders(tmp_path, {"cats": 3, "dogs": 3})
    (tmp_path / "cats" / "broken.png").write_bytes(b"this is not a png")
    cut = tmp_path / "dogs" / "cut.jpg"
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(cut, quality=95)
    cut.write_bytes(cut.read_bytes()[:2500])  # header intact, pixels cut off: fails only when decoded
    with Image.open(cut) as image:
        assert image.size == (64, 64)
    (tmp_path / "dogs" / "notes.txt").write_text("ignored: not an image extension")
    return tmp_path


def test_unreadable_images_are_refused_by_default_and_listed(tmp_path):
    folder = make_folder_with_bad_files(tmp_path)
    with pytest.raises(DatasetError) as caught:
        load_image_folder(folder)
    error = caught.value
    assert error.path == str(folder) and "2 unreadable image(s)" in error.problem
    assert "broken.png" in error.problem and "cut.jpg" in error.problem
    assert "choose to skip unreadable images" in error.fix


def test_unreadable_images_are_skipped_and_listed_on_request(tmp_path):
    folder = make_folder_with_bad_files(tmp_path)
    dataset = load_image_folder(folder, on_unreadable="skip")
    assert len(dataset) == 6 and dataset.class_counts().tolist() == [3, 3]
    skipped = sorted(s.path for s in dataset.skipped)
    assert skipped == [str(folder / "cats" / "broken.png"), str(folder / "dogs" / "cut.jpg")]
    assert all(s.reason for s in dataset.skipped)


def test_a_single_class_folder_is_refused(tmp_path):
    write_class_folders(tmp_path, {"cats": 3})
    with pytest.raises(DatasetError, match="only one class folder \\(cats\\)") as caught:
        load_image_folder(tmp_path)
    assert "Add a sub-folder" in caught.value.fix


def test_images_not_sorted_into_class_folders(tmp_path):
    write_image(tmp_path / "a.png", (5, 5), "L")
    with pytest.raises(DatasetError, match="1 images directly in it") as caught:
        load_image_folder(tmp_path)
    assert "one sub-folder per class" in caught.value.problem


def test_empty_class_folder_is_named(tmp_path):
    write_class_folders(tmp_path, {"cats": 2, "dogs": 2})
    (tmp_path / "birds").mkdir()
    with pytest.raises(DatasetError) as caught:
        load_image_folder(tmp_path)
    assert caught.value.path == str(tmp_path / "birds") and "no images" in caught.value.problem


def test_train_and_test_sub_folders_are_the_splits(tmp_path):
    write_class_folders(tmp_path / "train", {"a": 3, "b": 3})
    write_class_folders(tmp_path / "test", {"a": 1, "b": 1})
    assert len(load_image_folder(tmp_path, "train")) == 6
    assert len(load_image_folder(tmp_path, "test")) == 2


def test_bad_options_are_refused(tmp_path):
    write_class_folders(tmp_path, {"a": 1, "b": 1})
    with pytest.raises(ValueError, match="on_unreadable"):
        load_image_folder(tmp_path, on_unreadable="ignore")
    with pytest.raises(ValueError, match="color"):
        load_image_folder(tmp_path, color="cmyk")
