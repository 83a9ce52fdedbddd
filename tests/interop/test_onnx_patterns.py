"""ONNX graphs written node by node: the patterns other exporters produce (Identity and
Constant nodes, opset-9 Upsample, Pad nodes before pooling, auto_pad, a fixed batch of 1,
Squeeze after pooling) import with onnxruntime's outputs; what the catalog cannot express
is refused with the node's name, op and place, and files that are not models are refused."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from import_helpers import run_imported
from onnx import TensorProto, helper, numpy_helper

from cnnstudio.core.layers import CATALOG
from cnnstudio.interop.model_import import ModelImportError, UnsupportedModelError, import_model

RNG = np.random.default_rng(0)


def weight(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def save(path, nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs,
                              [numpy_helper.from_array(array, name) for name, array in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def image_input(name, channels, size, batch="N"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [batch, channels, size, size])


def output(name="out"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [])


def runtime(path, x: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def assert_same_outputs(path, imported, shape, batch=3):
    x = RNG.standard_normal((batch, *shape)).astype(np.float32)
    expected = runtime(path, x)
    np.testing.assert_allclose(run_imported(imported, torch.from_numpy(x)).numpy(), expected, atol=1e-5)


def test_identity_constants_auto_pad_dropout_and_a_fixed_batch_of_one(tmp_path):
    path = save(tmp_path / "a.onnx", [
        helper.make_node("Identity", ["x"], ["x1"]),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.float32))),
        helper.make_node("Conv", ["x1", "w", "b"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2],
                         kernel_shape=[3, 3], name="conv"),
        helper.make_node("Clip", ["c", "zero", ""], ["r"]),
        helper.make_node("Dropout", ["r", "ratio"], ["d"]),
        helper.make_node("GlobalMaxPool", ["d"], ["g"]),
        helper.make_node("Squeeze", ["g", "axes"], ["s"]),
        helper.make_node("Gemm", ["s", "m", "bias"], ["out"], alpha=2.0, beta=0.5),
    ], [image_input("x", 3, 9, batch=1)], [output()],
        [("w", weight(4, 3, 3, 3)), ("b", weight(4)), ("ratio", np.array(0.25, np.float32)),
         ("axes", np.array([2, 3], np.int64)), ("m", weight(4, 5)), ("bias", weight(5))])
    imported = import_model(path)
    layers = {node.type: node for node in imported.network.nodes}
    assert list(layers) == ["Input", "Conv2D", "Dropout", "GlobalMaxPooling2D", "Dense"]
    assert layers["Conv2D"].params["padding"] == "same" and layers["Conv2D"].params["activation"] == "relu"
    assert layers["Dropout"].params["rate"] == 0.25
    assert_same_outputs(path, imported, (3, 9, 9), batch=1)


def test_opset_9_upsample_pads_before_pooling_and_sums(tmp_path):
    path = save(tmp_path / "b.onnx", [
        helper.make_node("Upsample", ["x", "scales"], ["u"], mode="nearest"),
        helper.make_node("Pad", ["u"], ["p"], pads=[0, 0, 1, 1, 0, 0, 1, 1], value=float("-inf")),
        helper.make_node("MaxPool", ["p"], ["m"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["u"], ["r"]),
        helper.make_node("Upsample", ["x", "scales"], ["x2"], mode="nearest"),
        helper.make_node("Sum", ["m", "r", "x2"], ["s"]),
        helper.make_node("Flatten", ["s"], ["out"]),
    ],
        [image_input("x", 2, 4)], [output()], [("scales", np.array([1, 1, 2, 2], np.float32))], opset=9)
    imported = import_model(path)
    kinds = [node.type for node in imported.network.nodes]
    # the -inf Pad went into the pool's own padding: no ZeroPadding2D, a 'same' 3x3 max pool
    assert "ZeroPadding2D" not in kinds and kinds.count("UpSampling2D") == 2
    pool = next(node for node in imported.network.nodes if node.type == "MaxPool2D")
    assert pool.params["padding"] == "same" and pool.params["strides"] == [1, 1]
    assert len(imported.network.inputs_of(next(n.id for n in imported.network.nodes if n.type == "Add"))) == 3
    assert_same_outputs(path, imported, (2, 4, 4))


def test_an_input_of_open_size_needs_the_input_shape(tmp_path):
    path = save(tmp_path / "open.onnx", [helper.make_node("Relu", ["x"], ["out"])],
                [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])], [output()])
    with pytest.raises(ModelImportError, match=r"input size is not fixed .*--input-shape C,H,W"):
        import_model(path)
    imported = import_model(path, input_shape=(3, 5, 7))
    assert imported.network.nodes[0].params["shape"] == [3, 5, 7]
    with pytest.raises(ModelImportError, match="does not match the model's input"):
        import_model(path, input_shape=(4, 5, 7))


def einsum_model(path):
    return save(path, [
        helper.make_node("Conv", ["x", "w"], ["conv_out"], kernel_shape=[3, 3], name="conv"),
        helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu"),
        helper.make_node("Einsum", ["relu_out"], ["out"], equation="nchw->nc", name="pool_by_einsum"),
    ], [image_input("x", 3, 8)], [output()], [("w", weight(4, 3, 3, 3))], opset=13)


def test_an_unsupported_op_is_refused_with_its_name_op_and_place(tmp_path):
    with pytest.raises(UnsupportedModelError) as caught:
        import_model(einsum_model(tmp_path / "einsum.onnx"))
    error = caught.value
    assert (error.node, error.op) == ("pool_by_einsum", "Einsum")
    assert error.where == "at node 3 of 3, reading 'relu_out' (4, 6, 6)"
    assert "Einsum layer" in error.need and "\n" not in str(error)


def test_a_recurrent_layer_is_refused_naming_what_the_catalog_lacks(tmp_path):
    hidden = 4
    path = save(tmp_path / "lstm.onnx", [
        helper.make_node("Transpose", ["x"], ["t"], perm=[2, 0, 1], name="to_time_major"),
        helper.make_node("LSTM", ["t", "w", "r"], ["y"], hidden_size=hidden, name="lstm_1"),
        helper.make_node("Flatten", ["y"], ["out"]),
    ], [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5])], [output()],
        [("w", weight(1, 4 * hidden, 3)), ("r", weight(1, 4 * hidden, hidden))])
    with pytest.raises(UnsupportedModelError) as caught:
        import_model(path)
    # the Transpose comes first and is refused first: it permutes the batch axis away
    assert caught.value.node == "to_time_major" and "Permute" in caught.value.need
    path = save(tmp_path / "lstm2.onnx", [
        helper.make_node("LSTM", ["x", "w", "r"], ["y"], hidden_size=hidden, name="lstm_1"),
        helper.make_node("Flatten", ["y"], ["out"]),
    ], [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 5])], [output()],
        [("w", weight(1, 4 * hidden, 5)), ("r", weight(1, 4 * hidden, hidden))])
    with pytest.raises(UnsupportedModelError, match=r"'lstm_1' \(LSTM\) at node 1 of 2, reading 'x' \(3, 5\).*"
                                                    r"recurrent layers"):
        import_model(path)


def test_clip_0_6_is_relu6_when_the_catalog_has_it_and_refused_naming_it_otherwise(tmp_path):
    path = save(tmp_path / "clip.onnx", [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
        helper.make_node("Clip", ["c", "low", "high"], ["out"], name="clip6"),
    ], [image_input("x", 3, 4)], [output()],
        [("w", weight(2, 3, 1, 1)), ("low", np.array(0, np.float32)), ("high", np.array(6, np.float32))])
    if "ReLU6" in CATALOG:
        imported = import_model(path)
        assert imported.network.nodes[-1].type == "ReLU6"
        assert_same_outputs(path, imported, (3, 4, 4))
    else:
        with pytest.raises(UnsupportedModelError, match=r"'clip6' \(Clip\).*no ReLU6 layer"):
            import_model(path)


def test_uneven_max_pool_padding_is_refused_rather_than_approximated(tmp_path):
    path = save(tmp_path / "pool.onnx", [
        helper.make_node("MaxPool", ["x"], ["out"], kernel_shape=[3, 3], pads=[2, 0, 0, 0], name="odd_pool"),
    ], [image_input("x", 1, 6)], [output()])
    with pytest.raises(UnsupportedModelError, match=r"'odd_pool' \(MaxPool\).*neither even nor 'same'"):
        import_model(path)


@pytest.mark.parametrize("outputs, inputs, message", [
    (2, 1, "has 2 outputs"), (1, 2, "takes 2 inputs")])
def test_one_input_and_one_output(tmp_path, outputs, inputs, message):
    nodes = [helper.make_node("Relu", ["x"], ["out"]), helper.make_node("Sigmoid", ["x"], ["out2"])]
    path = save(tmp_path / "many.onnx", nodes[:outputs],
                [image_input("x", 1, 4)] + [image_input("y", 1, 4)] * (inputs - 1),
                [output("out"), output("out2")][:outputs])
    with pytest.raises(ModelImportError, match=message):
        import_model(path)


def test_a_file_that_is_not_onnx_is_refused_in_one_line(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"\x00\x01 this is not a protobuf \xff" * 10)
    with pytest.raises(ModelImportError, match="not a readable ONNX file") as caught:
        import_model(path)
    assert "\n" not in str(caught.value)
