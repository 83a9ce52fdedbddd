"""Predicted training memory against what the device has: a network that cannot fit is
refused before a model is built, with both figures and the lecture's advice."""

from __future__ import annotations

import pytest

from cnnstudio.core import analyze, sequential
from cnnstudio.core.summary import human_bytes
from cnnstudio.training.memory_check import (MemoryFit, NotEnoughMemoryError, available_memory,
                                             check_training_memory)

GB = 2 ** 30


def huge_dense():
    """About five billion parameters, like issue 12's network that crashed `train`."""
    return analyze(sequential([("Input", {"shape": [1, 70, 70]}), ("Flatten", {}),
                               ("Dense", {"units": 1_000_000}), ("Dense", {"units": 10})]))


def lecture():
    return analyze(sequential([("Input", {"shape": [1, 28, 28]}), ("Conv2D", {"filters": 32}), ("Flatten", {}),
                               ("Dense", {"units": 10})]))


def test_a_network_that_fits_passes_with_the_figures():
    analysis = lecture()
    fit = check_training_memory(analysis, 64, "float32", "cpu", available=8 * GB)
    assert isinstance(fit, MemoryFit) and fit.available == 8 * GB
    assert fit.estimate == analysis.memory(64, "float32", training=True, optimizer="adam")


def test_the_five_billion_parameter_dense_is_refused_with_both_figures_and_the_advice():
    analysis = huge_dense()
    predicted = analysis.memory(64, "float32", training=True, optimizer="adam").total
    with pytest.raises(NotEnoughMemoryError) as caught:
        check_training_memory(analysis, 64, "float32", "cpu", available=16 * GB)
    error = caught.value
    message = str(error)
    assert isinstance(error, ValueError) and "\n" not in message
    assert (error.predicted, error.available, error.device) == (predicted, 16 * GB, "cpu")
    assert human_bytes(predicted) in message and human_bytes(16 * GB) in message
    assert error.largest_batch == 0 and "no batch size fits" in message  # the weights alone are too much
    for advice in ("stride 2", "fewer filters or layers", "bfloat16"):
        assert advice in message


def test_when_activations_are_the_problem_the_largest_batch_that_fits_is_named():
    analysis = lecture()
    per_sample = analysis.memory(2, "float32").activations - analysis.memory(1, "float32").activations
    fixed = analysis.memory(1, "float32").total - analysis.memory(1, "float32").activations
    available = fixed + 40 * per_sample + per_sample // 2  # room for 40 samples, not 41
    with pytest.raises(NotEnoughMemoryError) as caught:
        check_training_memory(analysis, 64, "float32", "cuda:0", available=available)
    assert caught.value.largest_batch == 40 and "at most 40 fits" in str(caught.value)
    assert "float16 instead of float32" in str(caught.value) and "the device cuda:0" in str(caught.value)
    check_training_memory(analysis, 40, "float32", "cuda:0", available=available)


def test_float16_is_advised_only_from_a_wider_precision_and_said_whether_it_fits():
    analysis = lecture()
    in_float16 = analysis.memory(64, "float16").total
    with pytest.raises(NotEnoughMemoryError) as caught:
        check_training_memory(analysis, 64, "float32", "cuda", available=in_float16)
    assert "float16 instead of float32" in str(caught.value) and "which fits" in str(caught.value)
    with pytest.raises(NotEnoughMemoryError) as caught:
        check_training_memory(analysis, 64, "float16", "cuda", available=in_float16 - 1)
    assert "float16 instead" not in str(caught.value)


def test_the_optimizer_changes_the_prediction():
    analysis = lecture()
    sgd = analysis.memory(64, "float32", optimizer="sgd").total
    check_training_memory(analysis, 64, "float32", "cpu", optimizer="sgd", available=sgd)
    with pytest.raises(NotEnoughMemoryError):
        check_training_memory(analysis, 64, "float32", "cpu", optimizer="adam", available=sgd)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "at least 1"),
    ({"precision": "float8"}, "unknown precision"),
    ({"optimizer": "lion"}, "unknown optimizer"),
    ({"device": "tpu"}, "unknown device"),
])
def test_bad_settings_are_value_errors(kwargs, message):
    settings = {"batch_size": 8, "precision": "float32", "device": "cpu", **kwargs}
    with pytest.raises(ValueError, match=message):
        check_training_memory(lecture(), settings["batch_size"], settings["precision"], settings["device"],
                              optimizer=kwargs.get("optimizer", "adam"))


def test_the_cpu_reports_its_available_memory():
    free = available_memory("cpu")
    assert isinstance(free, int) and free > 0


def test_a_gpu_that_is_not_there_is_not_checked():
    import torch
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert available_memory("cuda:0") is None
    fit = check_training_memory(huge_dense(), 64, "float32", "cuda:0")
    assert fit.available is None
