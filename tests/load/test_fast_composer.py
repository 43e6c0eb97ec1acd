"""The fast composer (text without anchors or merge keys) against the general one.

parse_documents builds Nodes straight from parser events when the text cannot hold
anchors, aliases or merge keys; it must give exactly the Nodes (values, locations, key
locations) or exactly the first error that the general composer gives.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from npverify.errors import InputError
from npverify.load.limits import InputLimits
from npverify.load.yamlnodes import Node, parse_documents
from tests.fuzz.hostile import FUZZ, MANIFEST_SEEDS, hostile_yaml, structurally_mutated, textually_mutated


def _shape(node: Node):
    """Everything a Node holds, key locations included (Node equality leaves them out)."""
    value = node.value
    if isinstance(value, dict):
        value = {k: (_shape(v), node.key_locations[k]) for k, v in value.items()}
    elif isinstance(value, list):
        value = [_shape(v) for v in value]
    return (type(value).__name__, value, node.location)


def _outcome(text: str, fast: bool, limits: InputLimits):
    try:
        return "ok", [_shape(n) for n in parse_documents(text, "f.yaml", limits, fast=fast)]
    except InputError as exc:
        return "error", [str(d) for d in exc.diagnostics]


def _agree(text: str, limits: InputLimits = InputLimits()) -> None:
    assert _outcome(text, True, limits) == _outcome(text, False, limits)


def test_seed_manifests_agree():
    for text in MANIFEST_SEEDS:
        _agree(text)


@FUZZ
@given(st.data())
def test_mutated_manifests_agree(data):
    text = data.draw(st.one_of(structurally_mutated(MANIFEST_SEEDS), textually_mutated(MANIFEST_SEEDS).map(lambda b: b.decode("utf-8", "replace"))))
    _agree(text.replace("&", "").replace("<<", ""))


@FUZZ
@given(hostile_yaml(), st.integers(2, 30), st.integers(1, 6))
def test_grammar_agrees_under_limits(text, max_nodes, max_depth):
    """Tags, odd scalars, collection keys, duplicate keys, node and depth limits."""
    text = text.replace("&", "").replace("<<", "").replace("*", "")
    _agree(text)
    _agree(text, InputLimits(max_nodes=max_nodes, max_depth=max_depth))


def test_errors_agree_on_chosen_cases():
    cases = [
        "a: 1\na: 2\n",  # duplicate key
        "? [x, y]\n: 1\n",  # a list as a key
        "{[a, {b: !!int x}]: 1}\n",  # a key holding a bad value: the general path never builds keys
        "a: !!int x\nb: [1\n",  # the first error wins
        "!!set {a, b}\n",
        "x: *nowhere\n",
        "---\n---\na: 1\n...\n",
        "",
        "k: " + "9" * 1500 + "\n",
        "= : 1\ntrue: 2\nnull: 3\n1: 4\n",
    ]
    for text in cases:
        _agree(text)
        _agree(text, InputLimits(max_nodes=3, max_depth=1))
