"""Feature-map probes read a model without changing it; the prediction summaries count right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cnnstudio.core.build import build_model, layer_outputs
from cnnstudio.core.network import sequential
from cnnstudio.core.project import load_project
from cnnstudio.training.probes import (FeatureMapProbe, Mistake, confusion_matrix, first_layer_filters,
                                       most_confident_mistakes, per_class_accuracy)

PROJECTS = Path(__file__).resolve().parents[2] / "projects"


def project_model(name: str) -> nn.Module:
    torch.manual_seed(0)
    return build_model(load_project(PROJECTS / f"{name}.cnnproj").network)


@pytest.fixture
def lecture_model() -> nn.Module:
    return project_model("lecture_mnist")


def batch(n: int = 4, shape=(1, 28, 28)) -> torch.Tensor:
    return torch.rand(n, *shape, generator=torch.Generator().manual_seed(1))


# ---------------------------------------------------------------------- feature maps

def test_probe_gives_one_map_per_channel_of_each_chosen_layer(lecture_model):
    maps = FeatureMapProbe(lecture_model, ["conv2d_1", "maxpooling2d_1", "conv2d_3", "dense_1"]).capture(batch(4))

    assert list(maps) == ["conv2d_1", "maxpooling2d_1", "conv2d_3", "dense_1"]
    assert maps["conv2d_1"].shape == (4, 32, 26, 26)  # 32 filters: 32 maps of 26x26 per image
    assert maps["maxpooling2d_1"].shape == (4, 32, 13, 13)
    assert maps["conv2d_3"].shape == (4, 64, 3, 3)
    assert maps["dense_1"].shape == (4, 64)
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in maps.values())


def test_probe_sees_each_layer_after_its_activation(lecture_model):
    x = batch(3)
    maps = FeatureMapProbe(lecture_model, ["conv2d_1", "dense_2"]).capture(x)

    lecture_model.eval()
    with torch.no_grad():
        expected = layer_outputs(lecture_model, x)
    np.testing.assert_allclose(maps["conv2d_1"], expected["conv2d_1"].numpy(), atol=1e-6)
    assert maps["conv2d_1"].min() >= 0  # after the relu
    np.testing.assert_allclose(maps["dense_2"].sum(axis=1), 1.0, atol=1e-5)  # the softmax output


def test_probe_changes_neither_outputs_nor_modes_and_leaves_no_hooks():
    model = project_model("batchnorm_dropout_net")  # dropout and batch norm behave differently in eval
    model.train()
    model.dense_1.eval()  # a mixed state must come back exactly as it was
    modes = [m.training for m in model.modules()]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x = batch(4)

    maps = FeatureMapProbe(model, ["conv2d_1", "re_lu_2"]).capture(x)

    assert [m.training for m in model.modules()] == modes
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())  # running stats untouched
    assert all(not tap._forward_hooks for tap in model.taps.children())
    model.eval()
    with torch.no_grad():
        expected = layer_outputs(model, x)
    np.testing.assert_allclose(maps["re_lu_2"], expected["re_lu_2"].numpy(), atol=1e-6)


def test_probe_between_training_steps_leaves_gradients_alone(lecture_model):
    x, y = batch(8), torch.arange(8) % 10
    nn.CrossEntropyLoss()(lecture_model.logits(x), y).backward()
    grads = [p.grad.clone() for p in lecture_model.parameters()]

    maps = FeatureMapProbe(lecture_model, ["conv2d_2"]).capture(x[:2])

    assert maps["conv2d_2"].shape == (2, 64, 11, 11)
    assert all(torch.equal(g, p.grad) for g, p in zip(grads, lecture_model.parameters()))
    assert lecture_model.training


def test_probe_returns_copies_and_reads_through_a_wrapper(lecture_model):
    wrapped = nn.DataParallel(lecture_model)  # on a CPU it simply calls the module, like DDP's .module
    probe = FeatureMapProbe(wrapped, ["conv2d_1"])
    first = probe.capture(batch(2))["conv2d_1"]
    first[...] = -1
    assert probe.capture(batch(2))["conv2d_1"].min() >= 0


def test_probe_accepts_numpy_input_and_refuses_unknown_layers(lecture_model):
    maps = FeatureMapProbe(lecture_model, ["input_1"]).capture(batch(2).numpy().astype(np.float64))
    assert maps["input_1"].shape == (2, 1, 28, 28)
    with pytest.raises(KeyError, match="conv9"):
        FeatureMapProbe(lecture_model, ["conv2d_1", "conv9"])
    with pytest.raises(TypeError, match="build_model"):
        FeatureMapProbe(nn.Linear(2, 2), ["x"])


def test_first_layer_filters_are_the_first_convolutions_kernels(lecture_model):
    filters = first_layer_filters(lecture_model)
    assert filters.shape == (32, 1, 3, 3) and filters.dtype == np.float32
    np.testing.assert_array_equal(filters, lecture_model.conv2d_1.weight.detach().numpy())
    filters[...] = 0  # a copy: the model keeps its weights
    assert lecture_model.conv2d_1.weight.abs().sum() > 0

    dense_only = build_model(sequential([("Input", {"shape": [4]}), ("Dense", {"units": 2})]))
    with pytest.raises(ValueError, match="no Conv2D"):
        first_layer_filters(dense_only)


# ---------------------------------------------------------------------- predictions

def test_confusion_matrix_rows_are_true_classes_and_it_sums_to_the_sample_count():
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    matrix = confusion_matrix(y_true, y_pred, 10)
    assert matrix.shape == (10, 10) and matrix.sum() == 500
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y_true, minlength=10))

    small = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 1], 3)
    np.testing.assert_array_equal(small, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])


def test_confusion_matrix_refuses_labels_out_of_range_or_unequal_lengths():
    with pytest.raises(ValueError, match="class 3"):
        confusion_matrix([0, 3], [0, 1], 3)
    with pytest.raises(ValueError, match="2 labels"):
        confusion_matrix([0, 1], [0], 3)
    assert confusion_matrix(torch.tensor([1, 1]), torch.tensor([1, 0]), 2).tolist() == [[0, 0], [1, 1]]


def test_per_class_accuracy_is_each_class_recall_and_nan_without_samples():
    accuracy = per_class_accuracy([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 0], 4)
    np.testing.assert_allclose(accuracy[:3], [2 / 3, 1 / 2, 0.0])
    assert np.isnan(accuracy[3])


def test_most_confident_mistakes_come_first_and_right_answers_never_appear():
    probabilities = np.array([
        [0.9, 0.1, 0.0],   # right
        [0.2, 0.7, 0.1],   # wrong (true 0), 0.7
        [0.05, 0.05, 0.9],  # wrong (true 1), 0.9
        [0.6, 0.3, 0.1],   # wrong (true 2), 0.6
        [0.1, 0.7, 0.2],   # wrong (true 2), 0.7: tie with sample 1, later index
    ])
    y_true = [0, 0, 1, 2, 2]
    mistakes = most_confident_mistakes(probabilities, y_true, 3)
    assert mistakes == [(2, 1, 2, 0.9), (1, 0, 1, 0.7), (4, 2, 1, 0.7)]
    assert isinstance(mistakes[0], Mistake) and mistakes[0].confidence == pytest.approx(0.9)
    assert len(most_confident_mistakes(probabilities, y_true, 10)) == 4
    assert most_confident_mistakes(probabilities, y_true, 0) == []
