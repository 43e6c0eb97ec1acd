"""InputLimits: alias bombs, deep nesting, huge inputs, strings and numbers are refused fast, in little memory.

Each limit's message names the limit, its value and how to raise it (docs/limits.md).
"""

from __future__ import annotations

import io
import re
import time
import tracemalloc

import attrs
import pytest

from npverify.errors import InputError
from npverify.invariants import load_invariants, parse_invariants
from npverify.load import load_manifests, load_text
from npverify.load.limits import MAX_INTEGER_CHARS, OPTIONS, InputLimits
from tests.fuzz.hostile import ROOT, load_bytes

MiB = 1024 * 1024

#: The classic "billion laughs": 9 levels of 9 aliases, 10^9 nodes when expanded.
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")]
) + "\n"

#: The same with mappings and merge keys: each level merges the one below under nine names.
MERGE_LAUGHS = "\n".join(
    ["a: &a {a0: lol, a1: lol, a2: lol, a3: lol, a4: lol, a5: lol, a6: lol, a7: lol, a8: lol}"]
    + [f"{c}: &{c} {{{', '.join(f'{c}{i}: *{p}' for i in range(9))}}}" for p, c in zip("abcdefgh", "bcdefghi")]
) + "\n"


def error_of(call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    (diagnostic,) = info.value.diagnostics
    return str(diagnostic)


def measured(call):
    """``call()``'s InputError message, seconds taken and peak traced memory in bytes."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        message = error_of(call)
        return message, time.perf_counter() - start, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_names_limit(message: str, name: str, value: str) -> None:
    """The message names the limit, its value and how to raise it."""
    assert f"InputLimits.{name}" in message, message
    assert OPTIONS[name] in message, message
    assert f"the limit is {value}" in message, message


# --- alias bombs -------------------------------------------------------------------------


@pytest.mark.parametrize("text", [BILLION_LAUGHS, MERGE_LAUGHS], ids=["lists", "merge-keys"])
@pytest.mark.parametrize("parser", ["manifests", "invariants"])
def test_alias_bomb_is_refused_fast_in_little_memory(text, parser):
    if parser == "manifests":
        message, seconds, peak = measured(lambda: load_text(text, "bomb.yaml"))
    else:
        message, seconds, peak = measured(lambda: parse_invariants(text, "bomb.yaml"))
    # g is the first level over the limit: 5,380,840 nodes expanded.
    assert message.startswith("bomb.yaml:7:4: error: too many YAML nodes: more than 2,000,000 in this file"), message
    assert_names_limit(message, "max_nodes", "2,000,000 nodes")
    assert seconds < 5
    assert peak < 20 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_alias_bomb_inside_a_network_policy_is_refused_before_it_is_read():
    text = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n"
        "  podSelector: {}\n  ingress:\n" + "".join(f"  - &r{i} {{from: [*r{i - 1}, *r{i - 1}]}}\n" if i else "  - &r0 {}\n" for i in range(40))
    )
    message, seconds, peak = measured(lambda: load_text(text, "np.yaml"))
    assert "too many YAML nodes" in message and seconds < 5 and peak < 20 * MiB


def test_alias_bomb_under_a_raised_limit_is_still_linear_to_build():
    """Expanded nodes are shared, so raising max_nodes does not multiply memory; a skipped kind is never walked."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n" + "".join(f"  {line}\n" for line in BILLION_LAUGHS.splitlines())
    tracemalloc.start()
    try:
        cluster = load_text(text, "c.yaml", limits=InputLimits(max_nodes=10**10))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [s.kind for s in cluster.skipped] == ["ConfigMap"]
    assert peak < 20 * MiB


def test_quadratic_merge_chain_is_bounded():
    """Each mapping merges the previous one: n mappings expand to n^2/2 keys."""
    text = "a0: &a0 {k0: 1}\n" + "".join(f"a{i}: &a{i} {{<<: *a{i - 1}, k{i}: 1}}\n" for i in range(1, 3000))
    start = time.perf_counter()
    message = error_of(load_text, text, "m.yaml", limits=InputLimits(max_nodes=100_000))
    assert time.perf_counter() - start < 5
    # a445 is the first mapping whose keys, with those of the ones before, are over the limit.
    assert message.startswith("m.yaml:445:7: error: too many YAML nodes: more than 100,000 in this file")


def test_recursive_aliases_are_errors():
    assert error_of(load_text, "a: &a [x, *a]\n", "r.yaml") == (
        "r.yaml:1:4: error: invalid YAML: recursive alias: this list contains an alias to itself"
    )
    assert error_of(load_text, "a: &a {b: {<<: *a}}\n", "r.yaml") == (
        "r.yaml:1:4: error: invalid YAML: recursive alias: this mapping contains an alias to itself"
    )


# --- nesting depth ---------------------------------------------------------------------------


def nested(depth: int) -> str:
    """A ConfigMap (a skipped kind) whose data is ``depth`` lists deep: depth + 1 levels with the root."""
    return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: " + "[" * depth + "x" + "]" * depth + "\n"


@pytest.mark.parametrize("text", ["a: " + "[" * 100_000, "{a: " * 100_000, "- " * 100_000 + "x\n"])
def test_deep_nesting_is_refused_at_the_limit(text):
    message, seconds, peak = measured(lambda: load_text(text, "deep.yaml"))
    assert message.startswith("deep.yaml:1:1: error: document nested too deeply: more than 200 levels of mappings and lists (level 201 starts at line 1, column ")
    assert_names_limit(message, "max_depth", "200 levels")
    assert seconds < 5 and peak < 20 * MiB


def test_depth_limit_boundary_and_raising_it():
    limits = InputLimits(max_depth=10)
    # The root mapping is level 1, so 9 lists fit.
    assert [s.kind for s in load_text(nested(9), "d.yaml", limits=limits).skipped] == ["ConfigMap"]
    message = error_of(load_text, nested(10), "d.yaml", limits=limits)
    assert message.startswith("d.yaml:1:1: error: document nested too deeply: more than 10 levels of mappings and lists (level 11 starts at line 4, column 16); ")
    assert_names_limit(message, "max_depth", "10 levels")
    # Far deeper than Python's recursion limit once raised: nothing recurses per level.
    assert [s.kind for s in load_text(nested(5000), "d.yaml", limits=InputLimits(max_depth=6000)).skipped] == ["ConfigMap"]


def test_depth_through_aliases_is_counted():
    text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 300))
    message = error_of(load_text, text, "d.yaml")
    assert message.startswith(
        "d.yaml:1:1: error: document nested too deeply: more than 200 levels of mappings and lists "
        "(with aliases expanded, the list at line 201, column 7 is 201 levels deep)"
    )


# --- input size -------------------------------------------------------------------------------


def test_text_over_max_bytes_is_refused_counting_utf8_bytes():
    limits = InputLimits(max_bytes=100)
    ok = "# " + "x" * 97 + "\n"
    assert load_text(ok, "s.yaml", limits=limits) == load_text("")
    message = error_of(load_text, ok.replace("x", "é", 1), "s.yaml", limits=limits)
    assert message.startswith("s.yaml:1:1: error: input too large: 101 bytes; ")
    assert_names_limit(message, "max_bytes", "100 bytes")
    assert error_of(parse_invariants, "#" * 101, "i.yaml", limits=limits).startswith("i.yaml:1:1: error: input too large: 101 bytes")


def test_default_max_bytes_is_64_mib_and_said_so():
    message = error_of(load_text, "#" * (64 * MiB + 1), "big.yaml")
    assert message.startswith("big.yaml:1:1: error: input too large: 67,108,865 bytes; ")
    assert_names_limit(message, "max_bytes", "67,108,864 bytes (64 MiB)")


def test_files_and_stdin_over_max_bytes_are_refused_before_being_read_whole(tmp_path):
    limits = InputLimits(max_bytes=1000)
    path = tmp_path / "big.yaml"
    path.write_text("#" * 5000)
    message = error_of(load_manifests, [path], limits=limits)
    assert message.startswith(f"{path}:1:1: error: input too large: more than 1,000 bytes; ")
    assert error_of(load_bytes, b"#" * 1001, limits=limits).startswith("<stdin>:1:1: error: input too large: more than 1,000 bytes")
    assert error_of(load_manifests, ["-"], stdin=io.StringIO("#" * 1001), limits=limits).startswith("<stdin>:1:1: error: input too large")
    assert error_of(load_invariants, path, limits=limits).startswith(f"{path}:1:1: error: input too large: more than 1,000 bytes")
    # The limit is per file: two files under it load together.
    (tmp_path / "a.yaml").write_text("#" * 900)
    (tmp_path / "b.yaml").write_text("#" * 900)
    assert load_manifests([tmp_path / "a.yaml", tmp_path / "b.yaml"], limits=limits).skipped == ()


def test_an_endless_file_is_refused_not_read_forever():
    tracemalloc.start()
    try:
        message = error_of(load_manifests, ["/dev/zero"], limits=InputLimits(max_bytes=MiB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert message.startswith("/dev/zero:1:1: error: input too large: more than 1,048,576 bytes")
    assert peak < 10 * MiB


def test_many_empty_documents_count_as_nodes():
    message = error_of(load_text, "---\n" * 2000, "e.yaml", limits=InputLimits(max_nodes=1000))
    # The 1,001st empty document's (empty) node is where its content would start.
    assert message.startswith("e.yaml:1002:1: error: too many YAML nodes: more than 1,000 in this file")


def test_node_limit_is_per_file_and_counts_every_document():
    document = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n"  # 9 nodes with the keys
    limits = InputLimits(max_nodes=90)
    assert len(load_text("---\n".join(document % i for i in range(10)), limits=limits).skipped) == 10
    assert "too many YAML nodes" in error_of(load_text, "---\n".join(document % i for i in range(11)), limits=limits)


# --- huge strings and numbers -----------------------------------------------------------------


def test_huge_strings_load_and_their_messages_are_cut():
    huge = "x" * 10 * MiB
    start = time.perf_counter()
    cluster = load_text(f"apiVersion: v1\nkind: {huge}\nmetadata: {{name: a}}\n", "h.yaml")
    assert cluster.skipped[0].kind == huge
    message = error_of(load_text, f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {huge}}}\n", "h.yaml")
    assert message.startswith("h.yaml:3:18: error: metadata.name: invalid name 'xxx")
    assert message.endswith("must be a DNS label (lowercase letters, digits and '-', at most 63 characters)")
    assert len(message) < 1200
    # (A plain key is at most 1024 characters; ``?`` starts a key of any length.)
    message = error_of(load_text, f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  ? {huge}\n  : 1\n", "h.yaml")
    assert message.startswith("h.yaml:5:5: error: metadata.xxxxx")
    assert "unknown field 'xxxxx" in message and "characters left out" in message and len(message) < 2500
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize(
    "number, expected",
    [
        ("9" * 5000, f"integer too long: 5,000 characters, more than {MAX_INTEGER_CHARS:,}; quote it if it is a string"),
        ("0x" + "f" * 1000, f"integer too long: 1,002 characters, more than {MAX_INTEGER_CHARS:,}"),
        ("1" + ":30" * 400, "integer too long: 1,201 characters"),  # YAML 1.1 base 60: quadratic to convert
        ("!!int " + "1" * 2000, "integer too long: 2,000 characters"),
        ("9" * 1000, "must be between 1 and 65535 (got 999"),
        ("0x" + "f" * 998, "must be between 1 and 65535 (got 5149234739"),
        ("1" + ":30" * 333, "must be between 1 and 65535 (got "),
        ("1.0e+999999", "must be an integer, got number inf"),
        ("1" * 100_000 + ".5", "must be an integer, got number "),
        ("-.inf", "must be an integer, got number -inf"),
        (".nan", "must be an integer, got number nan"),
    ],
    ids=["decimal", "hex", "base60", "tagged", "decimal-1000", "hex-998", "base60-333", "inf", "long-float", "-inf", "nan"],
)
def test_huge_numbers(number, expected):
    text = f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np}}\nspec:\n  podSelector: {{}}\n  ingress:\n  - ports:\n    - port: {number}\n"
    start = time.perf_counter()
    message = error_of(load_text, text, "n.yaml")
    assert time.perf_counter() - start < 2
    assert message.startswith("n.yaml:8:"), message[:200]
    assert expected in message, message[:300]
    assert len(message) < 2500


# --- the limits themselves ----------------------------------------------------------------------


def test_limits_are_validated_and_frozen():
    for bad in (0, -1, 1.5, True, "10"):
        with pytest.raises(ValueError, match="must be a positive integer"):
            InputLimits(max_bytes=bad)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        InputLimits().max_depth = 5  # type: ignore[misc]


def test_docs_list_every_limit_with_its_default_and_option():
    doc = (ROOT / "docs" / "limits.md").read_text()
    defaults = InputLimits()
    for field in attrs.fields(InputLimits):
        value = getattr(defaults, field.name)
        row = next((line for line in doc.splitlines() if f"`{field.name}`" in line and line.startswith("|")), None)
        assert row is not None, f"docs/limits.md has no table row for {field.name}"
        assert OPTIONS[field.name] in row
        assert re.search(rf"\b{value:,}\b|\b{value}\b", row), (field.name, value, row)
    assert f"{MAX_INTEGER_CHARS:,}" in doc
