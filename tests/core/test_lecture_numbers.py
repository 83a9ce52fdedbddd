"""Every number of the lecture, as the analysis computes it."""

import pytest

from cnnstudio.core import analyze, sequential
from cnnstudio.core.layers import CATALOG
from lecture import lecture_conv_base, lecture_net, lecture_net_without_pooling

LECTURE_SUMMARY = [  # name, Keras output shape (H, W, C), params: the lecture's model.summary()
    ("conv2d_1", (26, 26, 32), 320),
    ("maxpooling2d_1", (13, 13, 32), 0),
    ("conv2d_2", (11, 11, 64), 18496),
    ("maxpooling2d_2", (5, 5, 64), 0),
    ("conv2d_3", (3, 3, 64), 36928),
    ("flatten_1", (576,), 0),
    ("dense_1", (64,), 36928),
    ("dense_2", (10,), 650),
]


def keras_order(shape):
    return tuple(shape[1:]) + tuple(shape[:1]) if len(shape) > 1 else tuple(shape)


@pytest.mark.parametrize("name, keras_shape, params", LECTURE_SUMMARY)
def test_lecture_summary_rows(name, keras_shape, params):
    analysis = analyze(lecture_net())
    row = analysis.by_name(name)
    assert keras_order(row.output_shape) == keras_shape
    assert row.params.total == params


def test_lecture_mnist_net_has_93322_params():
    analysis = analyze(lecture_net(), num_classes=10)
    assert analysis.ok, [d.text for d in analysis.diagnostics]
    assert analysis.total_params == 93_322
    assert analysis.trainable_params == 93_322
    assert analysis.non_trainable_params == 0


def test_lecture_conv_base_has_55744_params():
    analysis = analyze(lecture_conv_base())
    assert analysis.total_params == 55_744
    assert analysis.trainable_params == 55_744


def test_conv_explanation_fills_in_the_lecture_formulas():
    network = lecture_net()
    analysis = analyze(network)
    text = analysis.explain(network, network.node_by_name("conv2d_1").id).text()
    assert "out = floor((28 + 2*0 - 1*(3-1) - 1) / 1) + 1 = 26" in text
    assert "params = (3*3*1 + 1) * 32 = 320" in text
    text = analysis.explain(network, network.node_by_name("conv2d_2").id).text()
    assert "floor((13 + 2*0 - 1*(3-1) - 1) / 1) + 1 = 11" in text
    assert "params = (3*3*32 + 1) * 64 = 18496" in text
    text = analysis.explain(network, network.node_by_name("dense_1").id).text()
    assert "params = (576 + 1) * 64 = 36928" in text


def test_max_pooling_2x2_discards_75_percent():
    network = lecture_net()
    analysis = analyze(network)
    text = analysis.explain(network, network.node_by_name("maxpooling2d_1").id).text()
    assert "75% of the activations are discarded" in text
    assert "= 13" in text


WITH_POOLING = [("input_1", 28, 18), ("conv2d_1", 26, 16), ("maxpooling2d_1", 13, 8),
                ("conv2d_2", 11, 6), ("maxpooling2d_2", 5, 3), ("conv2d_3", 3, 1)]
WITHOUT_POOLING = [("input_1", 28, 7), ("conv2d_1", 26, 5), ("conv2d_2", 24, 3), ("conv2d_3", 22, 1)]


@pytest.mark.parametrize("build, table, area, share", [
    (lecture_net, WITH_POOLING, 324, 0.413),
    (lecture_net_without_pooling, WITHOUT_POOLING, 49, 0.0625),
])
def test_receptive_field_table_of_the_lecture(build, table, area, share):
    analysis = analyze(build())
    target = analysis.last_spatial_node()
    assert analysis.nodes[target].name == "conv2d_3"
    rows = analysis.footprint_table(target)
    assert [(r.name, r.layer_size[0], r.footprint[0]) for r in rows] == table
    assert all(r.footprint[0] == r.footprint[1] for r in rows)
    assert rows[0].area == area
    assert analysis.coverage(target) == pytest.approx(share, abs=5e-4)
    assert analysis.nodes[target].receptive_field.size == (table[0][2],) * 2


def test_padding_2_keeps_32x32_with_a_5x5_kernel():
    analysis = analyze(sequential([
        ("Input", {"shape": [3, 32, 32]}),
        ("Conv2D", {"filters": 3, "kernel_size": 5, "padding": "explicit", "pad": 2}),
    ]))
    assert analysis.output_shape == (3, 32, 32)


def test_5x5_filter_on_28x28_gives_24x24_activation_map():
    analysis = analyze(sequential([("Input", {"shape": [1, 28, 28]}), ("Conv2D", {"filters": 1, "kernel_size": 5})]))
    assert analysis.output_shape == (1, 24, 24)


def test_3x3_filter_on_5x5_gives_3x3():
    analysis = analyze(sequential([("Input", {"shape": [1, 5, 5]}), ("Conv2D", {"filters": 1, "kernel_size": 3})]))
    assert analysis.output_shape == (1, 3, 3)


def test_local_connectivity_weights_per_neuron():
    # 5x5 field over 3 channels: 75 weights + 1 bias; 3x3 over 20 channels: 180 connections
    analysis = analyze(sequential([("Input", {"shape": [3, 24, 24]}), ("Conv2D", {"filters": 1, "kernel_size": 5})]))
    assert analysis.total_params == 5 * 5 * 3 + 1
    analysis = analyze(sequential([("Input", {"shape": [20, 16, 16]}),
                                   ("Conv2D", {"filters": 1, "kernel_size": 3, "use_bias": False})]))
    assert analysis.total_params == 180


def test_im2col_sizes_of_the_alexnet_example():
    analysis = analyze(sequential([
        ("Input", {"shape": [3, 227, 227]}),
        ("Conv2D", {"filters": 96, "kernel_size": 11, "strides": 4}),
    ]))
    out = analysis.output_shape
    assert out == (96, 55, 55)
    positions = out[1] * out[2]
    column = 11 * 11 * 3
    assert positions == 3025
    assert (column, positions) == (363, 3025)
    # the filter matrix W_row is 96 x 363: one row of 363 weights (+ bias) per filter
    assert analysis.total_params == 96 * (363 + 1)
    assert analysis.macs == 96 * 363 * 3025


def test_fully_connected_neuron_weights_for_cifar_and_200px_images():
    for shape, weights in (([3, 32, 32], 3072), ([3, 200, 200], 120_000)):
        analysis = analyze(sequential([("Input", {"shape": shape}), ("Flatten", {}),
                                       ("Dense", {"units": 1, "use_bias": False})]))
        assert analysis.total_params == weights


def test_float16_halves_weights_and_activations():
    analysis = analyze(lecture_net())
    full = analysis.memory(batch_size=64, precision="float32")
    half = analysis.memory(batch_size=64, precision="float16")
    assert half.weights * 2 == full.weights == 93_322 * 4
    assert half.activations * 2 == full.activations
    assert full.gradients == 93_322 * 4
    assert full.optimizer_state == 2 * 93_322 * 4  # Adam keeps two values per weight
    smaller = analysis.memory(batch_size=32, precision="float32")
    assert smaller.activations * 2 == full.activations


def test_every_layer_type_is_in_a_palette_family():
    from cnnstudio.core.layers import by_family
    listed = [spec.type_name for specs in by_family().values() for spec in specs]
    assert sorted(listed) == sorted(CATALOG)


def test_input_region_of_a_neuron_follows_padding_and_stride():
    analysis = analyze(lecture_net())
    field = analysis.by_name("conv2d_3").receptive_field
    assert field.region((0, 0), (28, 28)) == ((0, 17), (0, 17))
    assert field.region((2, 2), (28, 28)) == ((8, 25), (8, 25))  # jump 4 between neighbours
    same = analyze(sequential([("Input", {"shape": [1, 8, 8]}),
                               ("Conv2D", {"filters": 1, "kernel_size": 3, "padding": "same"})]))
    corner = same.output_shape and same.by_name("conv2d_1").receptive_field
    assert corner.region((0, 0), (8, 8)) == ((0, 1), (0, 1))  # the padded zeros are outside the image
    assert corner.region((4, 4), (8, 8)) == ((3, 5), (3, 5))
