"""The network's indexes (names, wires, successors) and its typed refusals.

Edits stay cheap on large graphs because the network keeps indexes; these tests
check the indexes always say what a plain scan of the document says, through any
sequence of edits and undos, and that each refusal carries its data."""

from __future__ import annotations

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cnnstudio.core.network import Network, find_cycle, sequential
from cnnstudio.core.network_errors import (CycleError, DuplicateEdgeError, DuplicateIdError, InvalidNameError,
                                           InvalidParamsError, NameTakenError, NetworkError, NotConnectedError,
                                           SelfLoopError, TakesNoInputsError, UnknownLayerTypeError,
                                           UnknownNodeError)


def chain(length: int) -> Network:
    return sequential([("Input", {"shape": [4]})] + [("ReLU", {})] * (length - 1))


def test_each_refusal_is_typed_with_its_data_and_a_fix():
    network = chain(4)
    first, second, _, last = (n.id for n in network.nodes)
    cases = [
        (lambda: network.connect(last, second), CycleError),
        (lambda: network.connect(second, second), SelfLoopError),
        (lambda: network.connect(first, second), DuplicateEdgeError),
        (lambda: network.connect(last, first), TakesNoInputsError),
        (lambda: network.connect("nope", second), UnknownNodeError),
        (lambda: network.disconnect(first, last), NotConnectedError),
        (lambda: network.add_node("Conv3D"), UnknownLayerTypeError),
        (lambda: network.add_node("ReLU", node_id=second), DuplicateIdError),
        (lambda: network.add_node("ReLU", name="re_lu_1"), NameTakenError),
        (lambda: network.add_node("ReLU", name="2x"), InvalidNameError),
        (lambda: network.add_node("Dense", {"units": 0}), InvalidParamsError),
    ]
    for edit, kind in cases:
        with pytest.raises(kind) as caught:
            edit()
        assert isinstance(caught.value, NetworkError) and caught.value.fix.endswith(".")
        assert caught.value.index is None
    assert len(network) == 4 and len(network.edges) == 3


def test_a_cycle_names_its_nodes_in_flow_order():
    network = chain(5)
    ids = [n.id for n in network.nodes]
    with pytest.raises(CycleError) as caught:
        network.connect(ids[4], ids[1])
    error = caught.value
    assert (error.source, error.target) == (ids[4], ids[1])
    assert error.cycle == tuple(ids[1:]) and error.names == ("re_lu_1", "re_lu_2", "re_lu_3", "re_lu_4")
    assert str(error) == ("connecting re_lu_4 to re_lu_1 would make a cycle "
                          "(re_lu_1 -> re_lu_2 -> re_lu_3 -> re_lu_4 -> re_lu_1)")


def test_the_refused_param_and_the_duplicate_name_owner_are_named():
    network = chain(2)
    with pytest.raises(InvalidParamsError) as caught:
        network.add_node("Dropout", {"rate": 5}, name="drop")
    assert caught.value.param == "rate" and caught.value.layer == "drop"
    with pytest.raises(NameTakenError) as taken:
        network.rename(network.nodes[1].id, "input_1")
    assert taken.value.owner == network.nodes[0].id


def test_bulk_edits_add_nothing_when_one_item_is_refused_and_name_its_index():
    network = chain(3)
    before = network.to_dict()
    with pytest.raises(NameTakenError) as caught:
        network.add_nodes([{"type": "ReLU", "name": "a"}, {"type": "ReLU"}, {"type": "ReLU", "name": "a"}])
    assert (caught.value.index, caught.value.first_index) == (2, 0)
    ids = [n.id for n in network.nodes]
    extra = network.add_node("ReLU")
    with pytest.raises(CycleError) as cycle:
        network.connect_all([(ids[2], extra.id), (extra.id, ids[1])])
    assert cycle.value.index == 1 and cycle.value.cycle == (ids[1], ids[2], extra.id)
    with pytest.raises(DuplicateEdgeError) as duplicate:
        network.connect_all([(ids[2], extra.id), (ids[2], extra.id)])
    assert duplicate.value.index == 1
    network.remove_nodes([extra.id])
    assert network.to_dict() == before


def test_bulk_added_nodes_keep_later_explicit_names_and_ids():
    network = Network()
    added = network.add_nodes([{"type": "Conv2D"}, {"type": "Conv2D", "name": "conv2d_1", "id": "n1"},
                               {"type": "Conv2D"}])
    assert [(n.id, n.name) for n in added] == [("n2", "conv2d_2"), ("n1", "conv2d_1"), ("n3", "conv2d_3")]


def test_fresh_names_take_the_lowest_free_number_after_removals_and_renames():
    network = chain(6)
    ids = [n.id for n in network.nodes]
    network.remove_nodes([ids[2]])          # re_lu_2 is free again
    network.rename(ids[4], "renamed")       # and re_lu_4
    assert network.unique_name("re_lu") == "re_lu_2"
    assert network.add_node("ReLU").name == "re_lu_2"
    assert network.add_node("ReLU").name == "re_lu_4"
    assert network.add_node("ReLU").name == "re_lu_6"
    assert network.node_by_name("renamed").id == ids[4] and network.node_by_name("re_lu_4").id != ids[4]


def test_find_cycle_returns_one_loop_in_flow_order_or_none():
    from cnnstudio.core.network import Edge
    edges = [Edge("a", "b"), Edge("b", "c"), Edge("c", "d"), Edge("d", "b"), Edge("x", "a")]
    loop = find_cycle("abcdx", edges)
    assert loop is not None and sorted(loop) == ["b", "c", "d"]
    assert all(Edge(s, t) in edges for s, t in zip(loop, loop[1:] + loop[:1]))
    assert find_cycle("abcdx", edges[:3] + edges[4:]) is None


# ---------------------------------------------------------------------- indexes against a plain scan

def reaches(network: Network, start: str, goal: str) -> bool:
    """The plain answer: search the edge list itself."""
    frontier, seen = [start], set()
    while frontier:
        current = frontier.pop()
        if current == goal:
            return True
        if current not in seen:
            seen.add(current)
            frontier += [e.target for e in network.edges if e.source == current]
    return False


def lowest_free(network: Network, prefix: str) -> str:
    number = 1
    while any(n.name == f"{prefix}_{number}" for n in network.nodes):
        number += 1
    return f"{prefix}_{number}"


EDITS = st.lists(st.tuples(st.sampled_from(["add", "connect", "extend", "connect", "extend", "disconnect", "remove",
                                            "undo", "rename"]), st.integers(0, 50), st.integers(0, 50)),
                 min_size=10, max_size=60)


@settings(max_examples=60, deadline=None)
@given(edits=EDITS)
def test_the_indexes_agree_with_a_plain_scan_through_any_edits_and_undos(edits):
    network = Network()
    network.add_node("Input", {"shape": [4]})
    undo = []  # the inverse of every edit made, as an undo stack holds them
    for kind, a, b in edits:
        ids = [n.id for n in network.nodes]
        source, target = ids[a % len(ids)], ids[b % len(ids)]
        if kind in ("add", "extend"):
            node = network.add_node(["ReLU", "Add", "Sigmoid"][a % 3])
            undo.append(lambda node_id=node.id: network.remove_nodes([node_id]))
            if kind == "extend":  # grow a chain: long paths for cycles to close
                network.connect(ids[-1], node.id)
                undo.append(lambda s=ids[-1], t=node.id: network.disconnect(s, t))
        elif kind == "connect":
            should_refuse = source == target or reaches(network, target, source) or any(
                e.source == source and e.target == target for e in network.edges) or \
                network.node(target).type == "Input"
            try:
                network.connect(source, target)
                assert not should_refuse
                undo.append(lambda s=source, t=target: network.disconnect(s, t))
            except NetworkError as error:
                assert should_refuse
                event(type(error).__name__)
        elif kind == "disconnect" and network.edges:
            edge = network.edges[a % len(network.edges)]
            index = network.disconnect(edge.source, edge.target)
            undo.append(lambda e=edge, i=index: network.connect(e.source, e.target, index=i))
        elif kind == "remove" and len(ids) > 1 and source != ids[0]:
            removed = network.remove_nodes([source])
            undo.append(lambda r=removed: network.restore(r))
        elif kind == "undo" and undo:
            undo.pop()()
        elif kind == "rename" and source != ids[0] and network.node_by_name(f"layer_{b}") is None:
            previous = network.rename(source, f"layer_{b}")
            undo.append(lambda n=source, p=previous: network.rename(n, p))
        for node in network.nodes:
            assert network.node_by_name(node.name) is node
        for prefix in ("re_lu", "add", "sigmoid", "layer"):
            assert network.unique_name(prefix) == lowest_free(network, prefix)
        for s in network.nodes:
            for t in network.nodes:
                if s.id != t.id and t.type != "Input" and not any(
                        e.source == s.id and e.target == t.id for e in network.edges):
                    cyclic = reaches(network, t.id, s.id)
                    try:
                        network.check_connection(s.id, t.id)
                        assert not cyclic
                    except CycleError:
                        assert cyclic
    assert Network.from_dict(network.to_dict()).same_as(network)
    while undo:
        undo.pop()()
    assert [n.name for n in network.nodes] == ["input_1"] and network.edges == []
