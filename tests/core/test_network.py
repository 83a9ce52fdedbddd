"""The network document: edits, events, order, refusals, copies."""

import pytest

from cnnstudio.core import Network, NetworkError, sequential
from lecture import lecture_net


def test_add_node_completes_defaults_and_names_like_keras():
    network = Network()
    first = network.add_node("Conv2D", {"filters": 8})
    second = network.add_node("Conv2D")
    assert first.name == "conv2d_1" and second.name == "conv2d_2"
    assert first.params["kernel_size"] == [3, 3] and first.params["filters"] == 8
    assert first.params["padding"] == "valid" and first.params["activation"] == "linear"


def test_edits_emit_change_events():
    network = Network()
    seen = []
    network.changed.subscribe(lambda change: seen.append(change.kind))
    a = network.add_node("Input")
    b = network.add_node("Flatten")
    network.connect(a.id, b.id)
    network.set_params(a.id, {"shape": [1, 8, 8]})
    network.move({b.id: (10, 20)})
    network.rename(b.id, "flat")
    network.disconnect(a.id, b.id)
    network.remove_nodes([b.id])
    assert seen == ["node_added", "node_added", "edge_added", "params_changed", "moved", "renamed",
                    "edge_removed", "node_removed"]


def test_cycles_are_refused_with_the_layer_names():
    network = sequential([("Input", {}), ("ReLU", {}), ("Sigmoid", {})])
    relu, sigmoid = network.node_by_name("re_lu_1"), network.node_by_name("sigmoid_1")
    with pytest.raises(NetworkError, match="cycle"):
        network.connect(sigmoid.id, relu.id)
    with pytest.raises(NetworkError, match="itself"):
        network.connect(relu.id, relu.id)


def test_edges_to_missing_nodes_and_into_inputs_are_refused():
    network = sequential([("Input", {}), ("Flatten", {})])
    with pytest.raises(NetworkError, match="no node with id 'nope'"):
        network.connect("nope", network.nodes[0].id)
    with pytest.raises(NetworkError, match="takes no inputs"):
        network.connect(network.nodes[1].id, network.nodes[0].id)


@pytest.mark.parametrize("params, message", [
    ({"kernel_size": 0}, "below the minimum 1"),
    ({"kernel_size": 99999}, "above the maximum"),
    ({"filters": "many"}, "expected an integer"),
    ({"padding": "full"}, "not one of"),
    ({"kernels": 3}, "has no parameter 'kernels'"),
    ({"strides": 2, "dilation_rate": 2}, "cannot be combined"),
])
def test_bad_parameters_are_refused_and_leave_the_node_unchanged(params, message):
    network = sequential([("Input", {}), ("Conv2D", {})])
    conv = network.nodes[1]
    before = dict(conv.params)
    with pytest.raises(NetworkError, match=message):
        network.set_params(conv.id, params)
    assert conv.params == before


@pytest.mark.parametrize("name", ["", "2conv", "my layer", "forward", "class", "_hidden"])
def test_names_must_be_usable_as_python_attributes(name):
    network = sequential([("Input", {})])
    with pytest.raises(NetworkError):
        network.rename(network.nodes[0].id, name)


def test_duplicate_names_are_refused():
    network = sequential([("Input", {}), ("Flatten", {})])
    with pytest.raises(NetworkError, match="already named"):
        network.rename(network.nodes[1].id, "input_1")


def test_topological_order_is_stable_and_respects_edges():
    network = Network()
    c = network.add_node("ReLU")
    a = network.add_node("Input")
    b = network.add_node("Sigmoid")
    network.connect(a.id, b.id)
    network.connect(b.id, c.id)
    assert network.topological_order() == [a.id, b.id, c.id]


def test_remove_then_restore_gives_the_same_document():
    network = lecture_net()
    before = network.to_dict()
    middle = [network.node_by_name("maxpooling2d_1").id, network.node_by_name("dense_1").id]
    removed = network.remove_nodes(middle)
    assert len(network) == 7 and len(network.edges) == 4
    network.restore(removed)
    assert network.to_dict() == before


def test_disconnect_returns_the_index_for_undo():
    network = sequential([("Input", {}), ("ReLU", {}), ("Sigmoid", {})])
    ids = [n.id for n in network.nodes]
    concat = network.add_node("Concatenate")
    network.connect(ids[1], concat.id)
    network.connect(ids[2], concat.id)
    before = network.to_dict()
    index = network.disconnect(ids[1], concat.id)
    network.connect(ids[1], concat.id, index=index)
    assert network.to_dict() == before


def test_serialise_and_copy_round_trip():
    network = lecture_net()
    network.move({network.nodes[3].id: (12.5, -40)})
    copy = Network.from_dict(network.to_dict())
    assert copy.same_as(network)
    assert network.copy().same_as(network)
    copy.set_params(copy.nodes[1].id, {"filters": 16})
    assert not copy.same_as(network)


def test_new_ids_never_reuse_ids_of_a_loaded_document():
    network = Network.from_dict({"nodes": [{"id": "n7", "type": "Input"}], "edges": []})
    assert network.add_node("Flatten").id == "n8"
