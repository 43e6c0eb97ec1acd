"""The location-keeping YAML parser: libyaml and pure PyYAML give the same nodes."""

from __future__ import annotations

import pathlib
import time

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from npverify.errors import InputError
from npverify.load import yamlnodes
from npverify.load.limits import InputLimits
from tests.environment import require
from tests.fuzz.hostile import FUZZ, MANIFEST_SEEDS, hostile_yaml, textually_mutated

DATA = pathlib.Path(__file__).resolve().parent.parent / "data" / "manifests"


def flatten(node: yamlnodes.Node) -> list:
    """Every value and location in document order (key locations included)."""
    out = [str(node.location)]
    if isinstance(node.value, dict):
        for key, child in node.value.items():
            out += [key, str(node.key_locations[key])] + flatten(child)
    elif isinstance(node.value, list):
        for child in node.value:
            out += flatten(child)
    else:
        out.append(repr(node.value))
    return out


@pytest.mark.parametrize("name", ["kubectl-get.yaml", "all-workloads.yaml", "shop/policies/web.yml", "shop/workloads/web.json"])
def test_libyaml_and_python_parsers_agree(name, monkeypatch):
    require(yaml.__with_libyaml__, "libyaml", "PyYAML built without libyaml")
    text = (DATA / name).read_text().replace("\t", " ")
    fast = [flatten(n) for n in yamlnodes.parse_documents(text, name)]
    monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    slow = [flatten(n) for n in yamlnodes.parse_documents(text, name)]
    assert fast == slow
    assert len(fast) > 0


@pytest.mark.parametrize("use_libyaml", [True, False])
def test_errors_are_located_with_either_parser(use_libyaml, monkeypatch):
    if not use_libyaml:
        monkeypatch.setattr(yamlnodes, "_Loader", yaml.SafeLoader)
    else:
        require(yaml.__with_libyaml__, "libyaml", "PyYAML built without libyaml")
    cases = {
        "a: 1\nb: [1, 2\n": "f.yaml:3:1",
        "- " * 1500 + "x\n": "f.yaml:1:1",  # deeper than the composer can recurse
        "é: ok\nb: \x00\n": "f.yaml:2:4",
        "a: *missing\n": "f.yaml:1:4",
        "a: 2024-13-45\n": "f.yaml:1:4",
    }
    for text, where in cases.items():
        with pytest.raises(InputError) as info:
            list(yamlnodes.parse_documents(text, "f.yaml"))
        assert str(info.value.diagnostics[0].location) == where, text[:20]


# --- npverify's depth limit, not the parser's own cap, decides ----------------------------------

#: libyaml's own nesting cap (MAX_NESTING_LEVEL in libyaml 0.2.6, bundled with PyYAML 6.0.4):
#: flow collections 1,000 levels deep parse, block ones 999 (docs/limits.md).
LIBYAML_CAP = 1000


def flow(levels: int) -> str:
    """A flow list ``levels`` levels deep, the root included."""
    return "[" * levels + "x" + "]" * levels + "\n"


def block(levels: int) -> str:
    """A block list ``levels`` levels deep, the root included (libyaml counts block levels from 0)."""
    return "- " * levels + "x\n"


def depth_of(node: yamlnodes.Node) -> int:
    depth = 0
    while isinstance(node.value, (dict, list)):
        depth += 1
        node = next(iter(node.value.values())) if isinstance(node.value, dict) else node.value[0]
    return depth


def first_error(text: str, limits: InputLimits) -> str:
    with pytest.raises(InputError) as info:
        list(yamlnodes.parse_documents(text, "d.yaml", limits))
    return str(info.value.diagnostics[0])


def use_parser(use_libyaml: bool, monkeypatch) -> None:
    if use_libyaml:
        require(yaml.__with_libyaml__, "libyaml", "PyYAML built without libyaml")
    else:
        monkeypatch.setattr(yamlnodes, "_Loader", yamlnodes._PythonLoader)


def test_libyaml_cap_is_what_the_docs_say():
    """If a PyYAML upgrade moves libyaml's cap, docs/limits.md must say the new one."""
    require(yaml.__with_libyaml__, "libyaml", "PyYAML built without libyaml")

    def parses(text: str) -> bool:
        loader = yamlnodes._Loader(text)
        try:
            while loader.get_event() is not None and not isinstance(loader.peek_event(), yaml.StreamEndEvent):
                pass
            return True
        except yaml.YAMLError as exc:
            assert exc.problem == "exceeded maximum nesting depth"
            return False
        finally:
            loader.dispose()

    assert parses(flow(LIBYAML_CAP)) and not parses(flow(LIBYAML_CAP + 1))
    assert parses(block(LIBYAML_CAP - 1)) and not parses(block(LIBYAML_CAP))
    limits_doc = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "limits.md").read_text()
    assert f"libyaml's own cap is {LIBYAML_CAP:,} levels" in limits_doc


@pytest.mark.parametrize("use_libyaml", [True, False])
@pytest.mark.parametrize("shape", [flow, block])
def test_the_depth_limit_holds_at_every_value_whatever_the_parser_caps(use_libyaml, shape, monkeypatch):
    """Below, near and above libyaml's cap, npverify's limit decides, with its own message."""
    use_parser(use_libyaml, monkeypatch)
    # libyaml's boundaries only matter to libyaml; deep flow text is slow for the Python parser.
    for limit in (10, 200, LIBYAML_CAP - 1, LIBYAML_CAP, LIBYAML_CAP + 20) if use_libyaml else (10, 200, LIBYAML_CAP + 20):
        limits = InputLimits(max_depth=limit)
        [document] = yamlnodes.parse_documents(shape(limit), "d.yaml", limits)
        assert depth_of(document) == limit
        message = first_error(shape(limit + 1), limits)
        assert message.startswith(
            f"d.yaml:1:1: error: document nested too deeply: more than {limit:,} levels of mappings and lists "
            f"(level {limit + 1:,} starts at line "
        ), message
        assert message.endswith(f"the limit is {limit:,} levels; raise it with --max-nesting-depth (InputLimits.max_depth)")


def test_documents_before_one_over_libyamls_cap_are_given_once(monkeypatch):
    """libyaml stops at the third document; reading again with the Python parser gives each document once."""
    require(yaml.__with_libyaml__, "libyaml", "PyYAML built without libyaml")
    text = "a: 1\n---\nb: 2\n---\n" + block(LIBYAML_CAP + 100) + "---\nc: 3\n"
    documents = list(yamlnodes.parse_documents(text, "d.yaml", InputLimits(max_depth=2000)))
    assert [d.location.line for d in documents] == [1, 3, 5, 7]
    assert [depth_of(d) for d in documents] == [1, 1, LIBYAML_CAP + 100, 1]


def test_a_parser_cap_below_the_limit_is_a_clear_error(monkeypatch):
    """Should the Python parser ever cap depth too, the message says whose limit is whose."""
    require(yaml.__with_libyaml__, "libyaml", "PyYAML built without libyaml")
    monkeypatch.setattr(yamlnodes, "_PYTHON_LOADER", yamlnodes._Loader)
    message = first_error(flow(LIBYAML_CAP + 10), InputLimits(max_depth=5000))
    assert message.startswith("d.yaml:1:")
    assert "nested deeper than the YAML parser reads" in message
    assert "npverify's limit of 5,000 levels (--max-nesting-depth, InputLimits.max_depth)" in message
    assert "invalid YAML" not in message


def events_of(loader_class, text: str) -> list:
    """Every event the parser gives, with its marks, or the error it stops with."""
    out: list = []
    loader = None
    try:
        loader = loader_class(text)
        while loader.check_event():
            event = loader.get_event()
            marks = (event.start_mark.index, event.start_mark.line, event.start_mark.column, event.end_mark.index)
            out.append((repr(event), marks))
    except yaml.YAMLError as exc:
        out.append(("error", str(exc)))
    finally:
        if loader is not None:
            loader.dispose()
    return out


SIMPLE_KEY_CASES = [
    "a: " + "[" * 1500,
    "[" * 600 + "x" + "]" * 600 + "\n",
    "{a: " * 300 + "x" + "}" * 400 + "\n",
    "[[a, b]: c, [d]: [e: f]]\n",
    "[" + "x" * 1100 + ": y]\n",  # a key too long to be a simple key
    "key" + " " * 1030 + ": v\n",  # a required simple key that goes stale
    "a:\n  [b,\n   c]: d\n",  # a key over two lines
    "- [a, {b: c}, [d: e]]\n- ? x\n  : y\n",
]


@FUZZ
@given(st.one_of(hostile_yaml(), textually_mutated(MANIFEST_SEEDS).map(lambda b: b.decode("utf-8", "replace"))))
def test_python_loader_gives_pyyamls_events(text):
    """The Python loader's faster simple-key bookkeeping changes no event, mark or error."""
    assert events_of(yamlnodes._PythonLoader, text) == events_of(yaml.SafeLoader, text)


def test_python_loader_gives_pyyamls_events_on_simple_key_edges():
    for text in SIMPLE_KEY_CASES + MANIFEST_SEEDS:
        assert events_of(yamlnodes._PythonLoader, text) == events_of(yaml.SafeLoader, text), text[:40]


def test_refusing_deep_flow_text_is_fast_with_the_python_parser(monkeypatch):
    """PyYAML's own bookkeeping takes about a second on this; the limit must cost milliseconds."""
    monkeypatch.setattr(yamlnodes, "_Loader", yamlnodes._PythonLoader)
    start = time.perf_counter()
    message = first_error("a: " + "[" * 100_000, InputLimits())
    assert time.perf_counter() - start < 0.3
    assert message.startswith("d.yaml:1:1: error: document nested too deeply: more than 200 levels")
