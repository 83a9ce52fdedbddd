"""Memory per layer, and the lecture's out-of-memory advice applied with its saving in numbers."""

import dataclasses

import pytest

from cnnstudio.core.analysis import analyze
from cnnstudio.core.network import sequential
from cnnstudio.core.project import load_project
from cnnstudio.lab.memory import memory_table, out_of_memory_advice
from cnnstudio.lab.receptive import LECTURE_PROJECT, LECTURE_PROJECT_NO_POOLING
from cnnstudio.paths import EXAMPLE_PROJECTS

FIELDS = ("activations", "weights", "gradients", "optimizer_state")


def lecture():
    return load_project(LECTURE_PROJECT).network


def test_layers_add_up_to_the_analysis_totals_in_both_precisions():
    network = lecture()
    table = memory_table(network, batch_size=64, optimizer="adam")
    assert [row.name for row in table.rows][:3] == ["input_1", "conv2d_1", "maxpooling2d_1"]
    conv = next(row for row in table.rows if row.name == "conv2d_1")
    assert conv.output_shape == (32, 26, 26) and conv.params == 320
    assert conv.float32.activations == 32 * 26 * 26 * 64 * 4
    assert conv.float32.optimizer_state == 2 * 320 * 4  # Adam keeps two values per weight
    analysis = analyze(network)
    for precision in ("float32", "float16"):
        expected = analysis.memory(64, precision, optimizer="adam")
        assert table.totals[precision] == expected
        for field in FIELDS:
            assert sum(getattr(row.in_precision(precision), field) for row in table.rows) == getattr(expected, field)
    assert table.totals["float32"].weights == 93_322 * 4


def test_float16_figures_are_half_the_float32_ones():
    table = memory_table(lecture(), batch_size=32, optimizer="sgd_momentum")
    for row in table.rows:
        for field in FIELDS:
            assert getattr(row.float16, field) * 2 == getattr(row.float32, field)
    assert table.totals["float16"].total * 2 == table.totals["float32"].total


@pytest.mark.parametrize("path", sorted(EXAMPLE_PROJECTS.glob("*.cnnproj")), ids=lambda p: p.stem)
def test_every_applicable_advice_reduces_its_figure_or_says_it_does_not(path):
    advice = {a.key: a for a in out_of_memory_advice(load_project(path).network, batch_size=64)}
    assert list(advice) == ["batch", "stride", "layers", "float16", "gpus"]
    for key in ("batch", "float16", "gpus"):
        assert advice[key].applicable and advice[key].helps, key
    assert advice["batch"].after.activations * 2 == advice["batch"].before.activations
    assert advice["float16"].after.total * 2 == advice["float16"].before.total
    assert advice["gpus"].after.activations * 2 == advice["gpus"].before.activations
    assert advice["stride"].helps
    for item in advice.values():
        assert item.sentence.endswith(".") and ".." not in item.sentence
        if item.applicable and not item.helps:
            assert "grow" in item.sentence


def test_each_advice_on_the_lecture_network():
    batch, stride, layers, half, gpus = out_of_memory_advice(lecture(), batch_size=64, gpus=4)
    assert batch.figure == "activations" and batch.after.batch_size == 32
    assert batch.after.weights == batch.before.weights  # weights do not depend on the batch
    assert "Batch 64 -> 32" in batch.sentence and "-50%" in batch.sentence
    # stride 2 on conv2d_1 leaves conv2d_3 a 2x2 map, so the advice moves on to conv2d_2
    assert stride.sentence.startswith("Stride 2 on conv2d_2 (on conv2d_1 it breaks conv2d_3: its 3x3 kernel does "
                                      "not fit the 2x2 input)")
    assert stride.after.activations < stride.before.activations and stride.after.total < stride.before.total
    # removing conv2d_3 makes Flatten see 5x5x64 instead of 3x3x64: it costs more than it saves
    assert layers.applicable and not layers.helps and layers.saving < 0
    assert "Without conv2d_3" in layers.sentence and "93,322 -> 121,930" in layers.sentence
    assert half.figure == "total" and half.after.precision == "float16"
    assert half.after.weights * 2 == half.before.weights and half.after.activations * 2 == half.before.activations
    assert gpus.after.batch_size == 16 and gpus.after.activations * 4 == gpus.before.activations
    assert gpus.after.weights == gpus.before.weights  # every GPU keeps a full copy of the model


def test_removing_the_last_block_helps_without_pooling():
    advice = out_of_memory_advice(load_project(LECTURE_PROJECT_NO_POOLING).network, batch_size=64)[2]
    assert advice.helps and advice.after.activations < advice.before.activations
    assert advice.after.total < advice.before.total


def test_a_conv_block_goes_with_its_pooling_and_activation_layers():
    network = sequential([
        ("Input", {"shape": [3, 32, 32]}),
        ("Conv2D", {"filters": 8, "padding": "same"}),
        ("ReLU", {}),
        ("MaxPool2D", {}),
        ("Conv2D", {"filters": 8, "padding": "same"}),
        ("BatchNorm", {}),
        ("ReLU", {}),
        ("MaxPool2D", {}),
        ("GlobalAveragePooling2D", {}),
        ("Dense", {"units": 10}),
    ])
    advice = out_of_memory_advice(network, batch_size=8)[2]
    assert "Without conv2d_2, batch_normalization_1, re_lu_2, maxpooling2d_2:" in advice.sentence
    assert advice.helps and advice.after.total < advice.before.total


def test_advice_that_cannot_apply_says_why():
    single = sequential([("Input", {"shape": [1, 8, 8]}), ("Conv2D", {"filters": 2, "strides": 2}),
                         ("Flatten", {}), ("Dense", {"units": 3})])
    batch, stride, layers, half, gpus = out_of_memory_advice(single, batch_size=1, precision="float16")
    assert not batch.applicable and "single sample" in batch.sentence and batch.saving == 0
    assert not stride.applicable and "no convolution has stride 1" in stride.sentence
    assert not layers.applicable and "fewer than two" in layers.sentence
    assert not half.applicable and "already float16" in half.sentence
    assert not gpus.applicable
    for item in (batch, stride, layers, half, gpus):
        assert dataclasses.asdict(item)["after"] is None


def test_bad_settings_and_broken_networks_are_refused():
    with pytest.raises(ValueError, match="at least 1"):
        memory_table(lecture(), batch_size=0)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        out_of_memory_advice(lecture(), optimizer="lbfgs")
    broken = sequential([("Input", {"shape": [1, 4, 4]}), ("Conv2D", {"kernel_size": 5})])
    with pytest.raises(ValueError, match="cannot be analysed: conv2d_1: its 5x5 kernel does not fit"):
        memory_table(broken)
