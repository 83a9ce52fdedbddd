"""Receptive fields: the lecture's table, exact footprints checked against the analysis and
against torch's gradients, and the input crops that excite a channel most."""

import itertools

import numpy as np
import pytest
import torch

from cnnstudio.core.analysis import analyze
from cnnstudio.core.build import build_model, layer_outputs
from cnnstudio.core.network import sequential
from cnnstudio.core.project import load_project
from cnnstudio.lab.receptive import (LECTURE_PROJECT, box_size, footprint_of, lecture_table,
                                     most_activating_region, receptive_table)

LECTURE_BASE = [
    ("Input", {"shape": [1, 28, 28]}),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2}),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2}),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
]
# every kind of window: 'same' with stride 2 (odd padding total), dilation, 'same' pooling,
# an even kernel, uneven zero padding, explicit padding, upsampling; linear layers and
# average pooling so every pixel in the field has a nonzero gradient
MIXED = [
    ("Input", {"shape": [2, 13, 12]}),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, "c1"),
    ("Conv2D", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, "c2"),
    ("AvgPool2D", {"kernel_size": 2, "padding": "same"}, "p1"),
    ("ZeroPadding2D", {"top": 1, "bottom": 2, "left": 0, "right": 1}, "z1"),
    ("Conv2D", {"filters": 3, "kernel_size": 2}, "c3"),
    ("UpSampling2D", {"size": 2}, "u1"),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "explicit", "pad": 1}, "c4"),
]


def test_the_lecture_table_with_and_without_pooling():
    table = lecture_table()
    with_pooling, without = table.with_pooling, table.without_pooling
    assert [(r.layer, r.layer_size, r.footprint) for r in with_pooling.rows] == [
        ("input_1", (28, 28), (18, 18)), ("conv2d_1", (26, 26), (16, 16)), ("maxpooling2d_1", (13, 13), (8, 8)),
        ("conv2d_2", (11, 11), (6, 6)), ("maxpooling2d_2", (5, 5), (3, 3)), ("conv2d_3", (3, 3), (1, 1))]
    assert [(r.layer, r.layer_size, r.footprint) for r in without.rows] == [
        ("input_1", (28, 28), (7, 7)), ("conv2d_1", (26, 26), (5, 5)), ("conv2d_2", (24, 24), (3, 3)),
        ("conv2d_3", (22, 22), (1, 1))]
    assert with_pooling.input_row.area == 324 and with_pooling.input_pixels == 784
    assert with_pooling.coverage == pytest.approx(0.413, abs=5e-4)
    assert without.input_row.area == 49 and without.coverage == 0.0625
    assert with_pooling.coverage_text() == "18x18 = 324 = 41.3% of 784"
    assert without.coverage_text() == "7x7 = 49 = 6.25% of 784"
    assert any("6x6" in line for line in table.lines())


def test_the_lecture_neuron_sees_an_18x18_square_of_the_digit():
    network = load_project(LECTURE_PROJECT).network
    boxes = footprint_of(network, "conv2d_3", 0, 0)
    assert list(boxes) == ["input_1", "conv2d_1", "maxpooling2d_1", "conv2d_2", "maxpooling2d_2", "conv2d_3"]
    assert boxes["input_1"] == (0, 0, 17, 17)
    assert boxes["maxpooling2d_2"] == (0, 0, 2, 2)
    assert footprint_of(network, "conv2d_3", 2, 1)["input_1"] == (8, 4, 25, 21)
    with pytest.raises(ValueError, match="outside conv2d_3's 3x3 map"):
        footprint_of(network, "conv2d_3", 3, 0)
    with pytest.raises(ValueError, match="not an image"):
        footprint_of(network, "dense_1", 0, 0)
    with pytest.raises(ValueError, match="no layer named 'conv9'"):
        footprint_of(network, "conv9", 0, 0)


@pytest.mark.parametrize("layers", [LECTURE_BASE, MIXED[:-2], MIXED], ids=["lecture", "mixed", "upsampling"])
def test_footprints_agree_with_the_analysis_table_and_receptive_field(layers):
    network = sequential(layers)
    analysis = analyze(network)
    assert analysis.ok
    target = analysis.nodes[analysis.last_spatial_node()]
    table = {row.name: row.footprint for row in analysis.footprint_table(target.node_id)}
    input_shape = analysis.input_shape[1:]
    upsampling = any(layer[0] == "UpSampling2D" for layer in layers)
    blind = 0
    for row, col in itertools.product(range(target.output_shape[1]), range(target.output_shape[2])):
        # unclipped, the windows are the footprint table's, layer by layer
        unclipped = footprint_of(network, target.name, row, col, clip=False)
        assert {name: box_size(box) for name, box in unclipped.items()} == table
        boxes = footprint_of(network, target.name, row, col)
        if "input_1" not in boxes:
            blind += 1  # its window lies in z1's bottom padding (the torch test checks it sees nothing)
            continue
        top, left, bottom, right = boxes["input_1"]
        (first_row, last_row), (first_col, last_col) = target.receptive_field.region((row, col), input_shape)
        if not upsampling:
            # after upsampling the analysis's field has half-pixel steps and region() rounds them
            # inwards (c(0, 0) after a 2x upsampling and a 3x3 kernel reads input rows 0-1, region
            # says row 0); there the torch test below is the reference
            assert ((top, bottom), (left, right)) == ((first_row, last_row), (first_col, last_col))
    assert blind == (0 if layers is LECTURE_BASE else target.output_shape[2])  # its whole last row


@pytest.mark.parametrize("layers", [LECTURE_BASE, MIXED], ids=["lecture", "mixed"])
def test_footprints_are_exactly_the_pixels_torch_differentiates(layers):
    torch.manual_seed(0)
    network = sequential(layers)
    model = build_model(network).double()
    with torch.no_grad():
        for parameter in model.parameters():  # positive weights: no cancellation hides a pixel
            parameter.copy_(torch.rand_like(parameter) + 0.1)
    analysis = analyze(network)
    target = analysis.nodes[analysis.last_spatial_node()]
    names = [analysis.nodes[n].name for n in analysis.order]
    x = torch.rand(1, *analysis.input_shape, dtype=torch.float64, requires_grad=True)
    outputs = layer_outputs(model, x)
    exact = "MaxPool2D" not in {layer[0] for layer in layers}  # a max passes one pixel's gradient only
    for row, col in itertools.product(range(target.output_shape[1]), range(target.output_shape[2])):
        boxes = footprint_of(network, target.name, row, col)
        grads = torch.autograd.grad(outputs[target.name][0, 0, row, col], [outputs[n] for n in names[:-1]],
                                    retain_graph=True)
        for name, grad in zip(names, grads):
            touched = np.argwhere(grad[0].abs().sum(0).numpy() > 0)
            if name not in boxes:  # the neuron's window lies in padding: nothing before it matters
                assert len(touched) == 0, name
                continue
            top, left, bottom, right = boxes[name]
            assert touched[:, 0].min() >= top and touched[:, 0].max() <= bottom, name
            assert touched[:, 1].min() >= left and touched[:, 1].max() <= right, name
            if exact:
                assert (touched[:, 0].min(), touched[:, 1].min(), touched[:, 0].max(), touched[:, 1].max()) == \
                       (top, left, bottom, right), name


def test_a_receptive_table_for_any_layer():
    table = receptive_table(sequential(MIXED), target="c3", title="mixed")
    assert table.target == "c3" and table.rows[-1].footprint == (1, 1)
    assert [row.layer for row in table.rows] == ["input_1", "c1", "c2", "p1", "z1", "c3"]


def test_most_activating_regions_are_the_crops_their_neurons_see():
    torch.manual_seed(1)
    network = sequential(LECTURE_BASE)
    model = build_model(network)
    images = np.random.default_rng(0).random((20, 1, 28, 28), dtype=np.float32)
    regions = most_activating_region(model, "conv2d_2", 3, images, k=5, network=network)
    assert len(regions) == 5
    values = [r.value for r in regions]
    assert values == sorted(values, reverse=True)
    with torch.no_grad():
        maps = layer_outputs(model.eval(), torch.as_tensor(images))["conv2d_2"][:, 3].numpy()
    assert regions[0].value == pytest.approx(maps.max())
    for region in regions:
        assert maps[region.image_index, region.row, region.col] == pytest.approx(region.value)
        assert maps[region.image_index].max() == pytest.approx(region.value)
        top, left, bottom, right = region.box
        assert (bottom - top + 1, right - left + 1) == (8, 8)  # conv2d_2 sees 8x8 pixels
        np.testing.assert_array_equal(region.crop, images[region.image_index, :, top:bottom + 1, left:right + 1])
        # pixels outside the crop do not move that neuron
        changed = images[region.image_index].copy()
        keep = changed[:, top:bottom + 1, left:right + 1].copy()
        changed[:] = 5.0
        changed[:, top:bottom + 1, left:right + 1] = keep
        with torch.no_grad():
            again = layer_outputs(model, torch.as_tensor(changed[None]))["conv2d_2"][0, 3, region.row, region.col]
        assert float(again) == pytest.approx(region.value, abs=1e-6)
    with pytest.raises(ValueError, match="channels 0 to 3"):
        most_activating_region(model, "conv2d_2", 4, images, network=network)
    with pytest.raises(ValueError, match=r"images must be \(N, 1, 28, 28\)"):
        most_activating_region(model, "conv2d_2", 0, images[:, :, :20], network=network)
