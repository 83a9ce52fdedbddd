"""A dataset that does not fit the network names the layer to change and the new value."""

import numpy as np

from cnnstudio.core import analyze, sequential
from cnnstudio.data import ArrayDataset, check_compatibility, check_network

LECTURE = [
    ("Input", {"shape": [1, 28, 28]}),
    ("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2}),
    ("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
    ("Flatten", {}),
    ("Dense", {"units": 64, "activation": "relu"}),
    ("Dense", {"units": 10, "activation": "softmax"}),
]


def test_lecture_network_fits_mnist():
    assert check_compatibility(analyze(sequential(LECTURE)), (1, 28, 28), 10) == []


def test_cifar_images_on_an_mnist_network_name_the_input_and_its_new_shape():
    (mismatch,) = check_compatibility(analyze(sequential(LECTURE)), (3, 32, 32), 10)
    assert str(mismatch) == ("The dataset's images are (3, 32, 32) but input_1 expects (1, 28, 28). "
                             "Set input_1's shape to [3, 32, 32].")
    assert (mismatch.node_name, mismatch.param, mismatch.value) == ("input_1", "shape", [3, 32, 32])


def test_wrong_class_count_names_the_last_dense_and_its_units():
    layers = LECTURE[:-1] + [("Dense", {"units": 12}), ("Softmax", {}), ("Dropout", {})]
    (mismatch,) = check_compatibility(analyze(sequential(layers)), (1, 28, 28), 10)
    assert str(mismatch) == "The dataset has 10 classes but dense_2 has 12 units. Set dense_2's units to 10."
    assert (mismatch.param, mismatch.value) == ("units", 10)


def test_all_convolutional_classifier_names_the_filters():
    layers = LECTURE[:4] + [("Conv2D", {"filters": 7, "kernel_size": 1}), ("BatchNorm", {}),
                            ("GlobalAveragePooling2D", {})]
    (mismatch,) = check_compatibility(analyze(sequential(layers)), (1, 28, 28), 10)
    assert str(mismatch) == "The dataset has 10 classes but conv2d_3 has 7 filters. Set conv2d_3's filters to 10."


def test_network_ending_in_feature_maps_is_told_to_add_a_classifier():
    (mismatch,) = check_compatibility(analyze(sequential(LECTURE[:4])), (1, 28, 28), 10)
    assert "ends in (64, 11, 11)" in str(mismatch) and "Flatten and Dense(units=10)" in str(mismatch)
    assert mismatch.param is None


def test_both_problems_at_once_and_the_network_shortcut():
    dataset = ArrayDataset(np.zeros((2, 3, 32, 32), np.float32), np.array([0, 1]), ["a", "b"], "t", "s")
    messages = [str(m) for m in check_network(sequential(LECTURE), dataset)]
    assert messages == ["The dataset's images are (3, 32, 32) but input_1 expects (1, 28, 28). "
                        "Set input_1's shape to [3, 32, 32].",
                        "The dataset has 2 classes but dense_2 has 10 units. Set dense_2's units to 2."]


def test_network_without_input_is_told_to_add_one():
    (mismatch,) = check_compatibility(analyze(sequential([("Dense", {"units": 10})])), (1, 28, 28), None)
    assert str(mismatch) == "The network has no Input layer. Add an Input layer with shape [1, 28, 28]."
