"""Project files that broke the reader's one-error promise (issue 12), shared by the
core, CLI and studio tests: each is a real example project with one hostile change,
written as raw text where JSON libraries cannot write it (a 5,000-digit integer, NaN).

``HOSTILE_FILES``: id -> (file bytes, the place the error must name, a piece of its problem).
"""

from __future__ import annotations

import json
from pathlib import Path

PROJECTS = Path(__file__).resolve().parents[1] / "projects"
MARK = "@@RAW@@"


def _edited(example: str, change, raw: str | None = None) -> bytes:
    """``example`` with ``change(doc)`` applied; the string MARK in the result becomes ``raw``."""
    doc = json.loads((PROJECTS / example).read_text(encoding="utf-8"))
    change(doc)
    text = json.dumps(doc, indent=2)
    return (text.replace(json.dumps(MARK), raw) if raw is not None else text).encode("utf-8")


def _node(index: int, **fields):
    return lambda doc: doc["network"]["nodes"][index].update(fields)


def _param(index: int, **params):
    return lambda doc: doc["network"]["nodes"][index]["params"].update(params)


def _edge(source: str, target: str):
    return lambda doc: doc["network"]["edges"].append({"source": source, "target": target})


def _nested(depth: int):
    def change(doc):
        value: object = 1
        for _ in range(depth):
            value = [value]
        doc["view"]["nested"] = value
    return change


LECTURE = "lecture_mnist.cnnproj"
BATCHNORM = "batchnorm_dropout_net.cnnproj"

HOSTILE_FILES: dict[str, tuple[bytes, str, str]] = {
    "integer-of-5000-digits": (_edited(LECTURE, _param(1, filters=MARK), "9" * 5000),
                               "network.nodes[1].params.filters", "too large"),
    "position-of-10-to-309": (_edited(LECTURE, _node(2, position=[0, MARK]), "1" + "0" * 309),
                              "network.nodes[2].position[1]", "too large"),
    "momentum-of-1e400": (_edited(BATCHNORM, _param(2, momentum=MARK), "1e400"),
                          "network.nodes[2].params.momentum", "not a finite number"),
    "dropout-rate-nan": (_edited(BATCHNORM, _param(10, rate=MARK), "NaN"),
                         "network.nodes[10].params.rate", "not a finite number"),
    "units-of-10-to-300": (_edited(LECTURE, _param(7, units=10 ** 300)),
                           "network.nodes[7].params.units", "above the maximum"),
    "position-off-the-canvas": (_edited(LECTURE, _node(3, position=[1e300, 0])),
                                "network.nodes[3].position[0]", "not a place on the canvas"),
    "nesting-70-deep-in-view": (_edited(LECTURE, _nested(70)), "view.nested", "nested more than"),
    "nesting-100000-deep": (b"[" * 100_000 + b"]" * 100_000, "", "nested too deeply"),
    "unpaired-surrogate": (_edited(LECTURE, lambda doc: doc.update(description=MARK), '"caf\\ud800"'),
                           "description", "surrogate"),
    "id-of-5000-digits": (_edited(LECTURE, _node(0, id="n" + "9" * 5000)), "network.edges[0].source",
                          "no node with id"),
    "node-id-is-a-number": (_edited(LECTURE, _node(4, id=5)), "network.nodes[4].id", "non-empty text"),
    "params-is-a-list": (_edited(LECTURE, _node(1, params=[1, 2])), "network.nodes[1].params",
                         "expected an object"),
    "duplicate-id": (_edited(LECTURE, _node(5, id="n2")), "network.nodes[5].id",
                     "'n2' is already used by network.nodes[1]"),
    "edge-to-a-missing-node": (_edited(LECTURE, _edge("n9", "n99")), "network.edges[8].target",
                               "no node with id 'n99'"),
    "cycle-through-the-network": (_edited(LECTURE, _edge("n8", "n2")), "network.edges[8]",
                                  "would make a cycle (conv2d_1 -> maxpooling2d_1"),
}
