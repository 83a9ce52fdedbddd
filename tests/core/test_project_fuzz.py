"""The reader's promise under fuzzing: whatever a file holds, loading it gives a
``Project`` or one ``ProjectError`` naming the file, and never changes the file.

Hypothesis mutates the example projects the way damaged and hand-edited files
differ from good ones: numbers no float holds, NaN, huge and wrong-typed values,
deep nesting, duplicate ids, cycles, wires to missing nodes, missing names, cut
off text. What loads must also analyse and summarise (the CLI's next steps)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnstudio.core import analyze
from cnnstudio.core.layers import CATALOG
from cnnstudio.core.project import ProjectError, load_project
from cnnstudio.core.summary import format_summary, summary_json

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
EXAMPLES = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(PROJECTS.glob("*.cnnproj"))]
MARK = "@@RAW{}@@"
#: literals only raw text can hold: Python's json module cannot write them
RAW_LITERALS = ["9" * 5000, "1" + "0" * 309, "-1" + "0" * 309, "1e400", "-1e400", "NaN", "Infinity", "-Infinity",
                '"\\ud800"', "[" * 200 + "]" * 200, "1" + "0" * 5000 + ".5", "1e99999999999"]
PLAIN_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-2, 2 ** 70), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12), st.sampled_from(["", "n1", "n2", "conv2d_1", "forward", "same", "relu", "Conv2D"]),
    st.lists(st.integers(-2, 70_000), max_size=4), st.just({}), st.just([[1]]), st.just({"a": [1, {"b": None}]}))


def paths(value, prefix=()):
    """Every place in a document (as key paths), the document itself first."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        yield from paths(item, prefix + (key,))


def place(doc, path):
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def mutated_file(draw) -> bytes:
    doc = copy.deepcopy(draw(st.sampled_from(EXAMPLES)))
    raw: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        network = doc.get("network") if isinstance(doc, dict) else None
        nodes = network.get("nodes") if isinstance(network, dict) else None
        edges = network.get("edges") if isinstance(network, dict) else None
        ids = [n["id"] for n in nodes if isinstance(n, dict) and "id" in n] if isinstance(nodes, list) else []
        kind = draw(st.sampled_from(["value", "raw", "delete", "cycle", "missing-node", "duplicate-id",
                                     "type", "unnamed", "nest"]))
        everywhere = sorted(list(paths(doc))[1:], key=len, reverse=True)  # leaves first: the shrinker's favourites
        if kind in ("value", "raw", "delete", "nest") and everywhere:
            path = draw(st.sampled_from(everywhere))
            parent = place(doc, path[:-1])
            if kind == "delete":
                if isinstance(parent, dict):
                    del parent[path[-1]]
            elif kind == "value":
                parent[path[-1]] = draw(PLAIN_VALUES)
            elif kind == "raw":
                parent[path[-1]] = MARK.format(len(raw))
                raw.append(draw(st.sampled_from(RAW_LITERALS)))
            else:
                nested = parent[path[-1]]
                for _ in range(draw(st.integers(50, 80))):
                    nested = [nested]
                parent[path[-1]] = nested
        elif kind in ("cycle", "missing-node") and isinstance(edges, list) and len(ids) >= 2:
            later, earlier = draw(st.sampled_from(ids[1:])), ids[1]
            target = earlier if kind == "cycle" else draw(st.sampled_from(["n99", "", ids[0] + "x"]))
            edges.insert(draw(st.integers(0, len(edges))), {"source": later, "target": target})
        elif kind == "duplicate-id" and len(ids) >= 2:
            nodes[draw(st.integers(1, len(nodes) - 1))]["id"] = draw(st.sampled_from(ids))
        elif kind == "type" and ids:
            node = draw(st.sampled_from([n for n in nodes if isinstance(n, dict)]))
            node["type"] = draw(st.sampled_from(sorted(CATALOG)))
        elif kind == "unnamed" and ids:
            for node in nodes:
                if isinstance(node, dict):
                    node.pop("name", None)
    text = json.dumps(doc, indent=1)
    for index, literal in enumerate(raw):
        text = text.replace(json.dumps(MARK.format(index)), literal)
    data = text.encode("utf-8")
    if draw(st.sampled_from([False] * 9 + [True])):  # a file cut off in the middle
        data = data[:int(len(data) * draw(st.floats(0.0, 1.0)))]
    return data


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=mutated_file())
def test_a_mutated_project_loads_or_is_one_project_error_and_is_never_changed(tmp_path, data):
    path = tmp_path / "fuzzed.cnnproj"
    path.write_bytes(data)
    try:
        project = load_project(path)
    except ProjectError as error:
        message = str(error)
        assert message.startswith(str(path)) and "\n" not in message and error.fix
    else:
        analysis = analyze(project.network)
        format_summary(project.network, analysis, "keras", 64)
        summary_json(project.network, analysis, 64)
    assert path.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fuzzed.cnnproj"]
