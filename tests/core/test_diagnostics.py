"""Problems are named, explained with their numbers, and come with a fix."""

from cnnstudio.core import Network, analyze, sequential
from lecture import LECTURE_CLASSIFIER, LECTURE_CONV_BASE, lecture_net


def errors_by_name(analysis):
    return {d.node_name: d for d in analysis.diagnostics if d.is_error}


def test_kernel_that_does_not_fit_names_sizes_and_fix():
    network = sequential([("Input", {"shape": [1, 28, 28]}), ("MaxPool2D", {"kernel_size": 14}),
                          ("Conv2D", {"filters": 8}, "conv3"), ("Flatten", {}), ("Dense", {"units": 10})])
    analysis = analyze(network)
    problem = errors_by_name(analysis)["conv3"]
    assert problem.text == ("conv3: its 3x3 kernel does not fit the 2x2 input. Use padding='same', a smaller "
                            "kernel, or remove a pooling layer before it.")
    # the layers after it have no shape, but report nothing of their own
    assert list(errors_by_name(analysis)) == ["conv3"]
    assert analysis.by_name("flatten_1").output_shape is None
    # the layers before it are still analysed
    assert analysis.by_name("maxpooling2d_1").output_shape == (1, 2, 2)


def test_same_padding_fixes_the_kernel_problem():
    network = sequential([("Input", {"shape": [1, 2, 2]}), ("Conv2D", {"filters": 4, "padding": "same"})])
    assert analyze(network).output_shape == (4, 2, 2)


def test_dense_fed_an_image_tensor_asks_for_flatten():
    network = sequential(LECTURE_CONV_BASE + [("Dense", {"units": 10})])
    problem = errors_by_name(analyze(network))["dense_1"]
    assert "(64, 3, 3)" in problem.message
    assert "Flatten" in problem.fix


def test_add_with_disagreeing_shapes_lists_both():
    network = sequential([("Input", {"shape": [3, 16, 16]}), ("Conv2D", {"filters": 8})])
    add = network.add_node("Add")
    network.connect(network.nodes[0].id, add.id)
    network.connect(network.nodes[1].id, add.id)
    problem = errors_by_name(analyze(network))["add_1"]
    assert "(3, 16, 16) and (8, 14, 14)" in problem.message


def test_concatenate_with_different_sizes_is_refused_but_channels_may_differ():
    network = sequential([("Input", {"shape": [3, 16, 16]}), ("Conv2D", {"filters": 8, "padding": "same"})])
    cat = network.add_node("Concatenate")
    network.connect(network.nodes[0].id, cat.id)
    network.connect(network.nodes[1].id, cat.id)
    assert analyze(network).by_name("concatenate_1").output_shape == (11, 16, 16)
    network.set_params(network.nodes[1].id, {"padding": "valid"})
    assert "concatenate_1" in errors_by_name(analyze(network))


def test_missing_and_extra_inputs():
    network = sequential([("Conv2D", {}), ("Flatten", {})])
    analysis = analyze(network)
    assert any(d.node_id is None and "no Input" in d.message for d in analysis.diagnostics)
    network = sequential([("Input", {}), ("Flatten", {})])
    extra = network.add_node("Input")
    problem = errors_by_name(analyze(network))[extra.name]
    assert "already has an Input" in problem.message


def test_disconnected_node_and_dead_end_branch():
    network = lecture_net()
    loose = network.add_node("Dense", {"units": 5})
    branch = network.add_node("Conv2D", {"filters": 4})
    network.connect(network.node_by_name("conv2d_1").id, branch.id)
    analysis = analyze(network)
    assert "not connected to any input" in errors_by_name(analysis)[loose.name].message
    warnings = {d.node_name: d for d in analysis.diagnostics if not d.is_error}
    assert "dead end" in warnings[branch.name].message
    assert analysis.nodes[analysis.output_id].name == "dense_2"


def test_classifier_units_must_match_the_dataset_classes():
    network = lecture_net()
    network.set_params(network.node_by_name("dense_2").id, {"units": 12})
    problem = errors_by_name(analyze(network, num_classes=10))["dense_2"]
    assert problem.text == "dense_2: its 12 units do not match the dataset's 10 classes. Set units to 10."
    assert analyze(network).ok


def test_classifier_must_end_in_a_vector():
    network = sequential(LECTURE_CONV_BASE)
    problem = errors_by_name(analyze(network, num_classes=10))["conv2d_3"]
    assert "ends in (64, 3, 3)" in problem.message and "Dense(units=10" in problem.fix


def test_merge_with_a_single_input_and_conv_with_two():
    network = sequential([("Input", {"shape": [3, 8, 8]}), ("Add", {})])
    assert "at least 2 inputs" in errors_by_name(analyze(network))["add_1"].message
    network = sequential([("Input", {"shape": [3, 8, 8]}), ("ReLU", {}), ("Conv2D", {})])
    network.connect(network.nodes[0].id, network.nodes[2].id)
    assert "takes one input but 2" in errors_by_name(analyze(network))["conv2d_1"].message


def test_reshape_with_wrong_count_says_both_counts():
    network = sequential([("Input", {"shape": [1, 28, 28]}), ("Reshape", {"target_shape": [10, 10]})])
    problem = errors_by_name(analyze(network))["reshape_1"]
    assert "100 values" in problem.message and "784" in problem.message


def test_empty_network_has_no_diagnostics():
    analysis = analyze(Network())
    assert analysis.diagnostics == [] and analysis.total_params == 0


def test_residual_network_analyses_cleanly():
    network = sequential([("Input", {"shape": [3, 32, 32]}),
                          ("Conv2D", {"filters": 16, "padding": "same", "activation": "relu"}),
                          ("Conv2D", {"filters": 16, "padding": "same"})])
    add = network.add_node("Add")
    network.connect(network.nodes[1].id, add.id)
    network.connect(network.nodes[2].id, add.id)
    gap = network.add_node("GlobalAveragePooling2D")
    network.connect(add.id, gap.id)
    dense = network.add_node("Dense", {"units": 10, "activation": "softmax"})
    network.connect(gap.id, dense.id)
    analysis = analyze(network, num_classes=10)
    assert analysis.ok, [d.text for d in analysis.diagnostics]
    assert analysis.by_name("add_1").receptive_field.size == (5, 5)
    assert analysis.total_params == (27 + 1) * 16 + (144 + 1) * 16 + (16 + 1) * 10


def test_an_output_too_large_for_any_device_is_a_problem_not_a_crash():
    from cnnstudio.core.analysis import MAX_OUTPUT_VALUES
    from cnnstudio.core.summary import format_summary, summary_json
    network = sequential([("Input", {"shape": [1, 64, 64]})] + [("UpSampling2D", {"size": 64})] * 200
                         + [("Flatten", {}), ("Dense", {"units": 10})])
    analysis = analyze(network)
    [problem] = analysis.errors
    assert problem.node_name == "up_sampling2d_4"  # 64 * 64**4 = 2**30 per side: 2**60 values
    assert f"more than {MAX_OUTPUT_VALUES:,} values per sample" in problem.message
    assert analysis.by_name("up_sampling2d_3").output_shape == (1, 2 ** 24, 2 ** 24)
    format_summary(network, analysis)
    summary_json(network, analysis)


def test_hundreds_of_strided_layers_keep_their_receptive_field_finite():
    from cnnstudio.core.receptive_field import FIELD_LIMIT
    from cnnstudio.core.summary import summary_json
    pool = ("MaxPool2D", {"kernel_size": 256, "strides": 256, "padding": "same"})
    network = sequential([("Input", {"shape": [1, 64, 64]})] + [pool] * 300)
    analysis = analyze(network)
    assert analysis.ok and analysis.output_shape == (1, 1, 1)
    field_ = analysis.nodes[analysis.output_id].receptive_field
    assert field_.size == (FIELD_LIMIT, FIELD_LIMIT) and field_.jump == (FIELD_LIMIT, FIELD_LIMIT)
    assert analysis.coverage(analysis.output_id) == 1.0
    rows = summary_json(network, analysis)["receptive_field"]["footprint"]
    assert rows[0]["footprint"] == [FIELD_LIMIT, FIELD_LIMIT] and rows[-1]["footprint"] == [1, 1]
