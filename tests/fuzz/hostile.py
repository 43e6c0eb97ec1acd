"""Shared pieces of the fuzz tests: seed files, mutations, wrong values, and the outcome check.

The property every fuzz test checks (:func:`assert_clean`): loading any text either succeeds
or raises InputError whose every diagnostic is an error with a location inside the text;
never another exception, never a hang.

Hypothesis settings: ``FUZZ`` is derandomized (the same examples on every run, so CI is
reproducible) with NPVERIFY_FUZZ_EXAMPLES examples per test (default 300, under a minute for
the whole of tests/fuzz). For a longer, new search::

    NPVERIFY_FUZZ_EXAMPLES=20000 NPVERIFY_FUZZ_RANDOMIZE=1 python -m pytest tests/fuzz -q -x

A failure prints the minimal input; add it to tests/data/hostile/ (test_fuzz_corpus.py).
"""

from __future__ import annotations

import io
import os
import pathlib
import time
from collections.abc import Callable
from copy import deepcopy
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from npverify.errors import InputError
from npverify.load import load_manifests
from npverify.model import Severity

ROOT = pathlib.Path(__file__).resolve().parents[2]
HOSTILE = ROOT / "tests" / "data" / "hostile"

#: Examples per fuzz test; raise it for a longer run.
EXAMPLES = int(os.environ.get("NPVERIFY_FUZZ_EXAMPLES", "300"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("NPVERIFY_FUZZ_RANDOMIZE"),
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

#: Seconds one load may take before the fuzz tests call it a hang (inputs are small).
HANG_SECONDS = 10.0


def _read(paths: list[pathlib.Path]) -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(paths)]


MANIFEST_SEEDS: list[str] = _read(
    [
        *(ROOT / "specs" / "examples" / "shop" / "k8s").glob("*.yaml"),
        *(p for p in (ROOT / "tests" / "data" / "manifests").rglob("*") if p.suffix in (".yaml", ".yml", ".json")),
    ]
)
INVARIANT_SEEDS: list[str] = _read(
    [
        ROOT / "specs" / "examples" / "shop" / "invariants.yaml",
        *(ROOT / "tests" / "data" / "invariants" / "valid").iterdir(),
        *(ROOT / "tests" / "data" / "invariants" / "invalid").iterdir(),
    ]
)


# --- the property --------------------------------------------------------------------------


def assert_clean(load: Callable[[], Any], text: str | None, filename: str) -> Any:
    """Run ``load``: it returns, or raises InputError with located errors; anything else fails.

    Returns what ``load`` returned, or the InputError. With ``text``, locations must lie
    inside it (a line at most one past its last line break).
    """
    start = time.perf_counter()
    try:
        result = load()
    except InputError as exc:
        result = exc
        assert exc.diagnostics, "an InputError without diagnostics"
        for diagnostic in exc.diagnostics:
            shown = str(diagnostic)
            assert diagnostic.severity is Severity.ERROR, shown
            assert diagnostic.message, shown
            assert diagnostic.location is not None, f"no location: {shown}"
            assert diagnostic.location.file == filename, shown
            assert diagnostic.location.line >= 1 and diagnostic.location.column >= 1, shown
            if text is not None:
                # splitlines breaks at a superset of YAML's line breaks (\n, \r, \x85, \u2028, \u2029).
                assert diagnostic.location.line <= len(text.splitlines()) + 1, shown
    elapsed = time.perf_counter() - start
    assert elapsed < HANG_SECONDS, f"took {elapsed:.1f} s"
    return result


class _BytesStdin:
    """A stand-in for sys.stdin whose ``buffer`` holds ``data``, so the loader decodes the bytes itself."""

    def __init__(self, data: bytes):
        self.buffer = io.BytesIO(data)


def load_bytes(data: bytes, **kwargs: Any):
    """load_manifests of ``data`` read as standard input: the byte-level path (BOMs, UTF-8, size)."""
    return load_manifests(["-"], stdin=_BytesStdin(data), **kwargs)  # type: ignore[arg-type]


# --- values of every type, for replacing values ---------------------------------------------

#: One value of each YAML type, plus the edge values of the types npverify reads.
WRONG_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    65536,
    2**70,
    1.5,
    float("inf"),
    "",
    "x",
    "80",
    "Not A_Name!",
    "10.0.0.0/33",
    [],
    [None],
    ["x"],
    {},
    {"x": None},
    {"matchLabels": None},
]


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def yaml_text(documents: list[Any]) -> str:
    """``documents`` as a YAML stream."""
    return yaml.dump_all(documents, Dumper=_DUMPER, sort_keys=False, allow_unicode=True)


def field_paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (a tuple of keys and indexes) to a value inside ``value``, parents first."""
    paths = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return paths
    for key, child in items:
        path = (*prefix, key)
        paths.append(path)
        paths += field_paths(child, path)
    return paths


def schema_path(path: tuple) -> tuple:
    """``path`` with list indexes as ``[]``: paths with the same schema path test the same code."""
    return tuple("[]" if isinstance(step, int) else step for step in path)


def get_parent(document: Any, path: tuple) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


def replaced(document: Any, path: tuple, value: Any) -> Any:
    """A deep copy of ``document`` with the value at ``path`` replaced by ``value``."""
    copy = deepcopy(document)
    get_parent(copy, path)[path[-1]] = deepcopy(value)
    return copy


def deleted(document: Any, path: tuple) -> Any:
    copy = deepcopy(document)
    del get_parent(copy, path)[path[-1]]
    return copy


# --- mutation strategies ---------------------------------------------------------------------

#: Characters that mean something to YAML or to its reader, for insertions and flips.
SPECIAL = list("{}[],:&*!|>'\"%@`#-?~<=\\ \t\n\r") + ["\x00", "\x07", "\x85", "\u2028", "\ufeff", "\ud800", "é", "\U0001f600"]

# (Copied: a mutation may later change the inside of a drawn list or mapping.)
_wrong_value = (st.sampled_from(WRONG_VALUES) | st.text(max_size=20) | st.integers() | st.floats(allow_nan=True)).map(deepcopy)
_typo_key = st.sampled_from(["bogus", "ports ", "Ingress", "podselector", "matchlabels", "<<", "=", "", "null", "1"]) | st.text(
    min_size=1, max_size=8
)


@st.composite
def structurally_mutated(draw: Any, seeds: list[str]) -> str:
    """A seed parsed, changed at random field paths (delete, swap, wrong type, rename, wrap), dumped again."""
    text = seeds[draw(st.integers(0, len(seeds) - 1))]
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        documents = [text]  # a seed that is deliberately not YAML
    for _ in range(draw(st.integers(1, 4))):
        paths = field_paths(documents)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = get_parent(documents, path)
        key = path[-1]
        operation = draw(st.sampled_from(["delete", "wrong", "rename", "swap", "wrap", "null"]))
        if operation == "delete":
            del parent[key]
        elif operation == "wrong":
            parent[key] = draw(_wrong_value)
        elif operation == "null":
            parent[key] = None
        elif operation == "wrap":
            parent[key] = [parent[key]]
        elif operation == "rename" and isinstance(parent, dict):
            new = draw(_typo_key)
            parent[new] = parent.pop(key)
        elif operation == "swap":
            siblings = list(parent) if isinstance(parent, dict) else list(range(len(parent)))
            other = draw(st.sampled_from(siblings))
            parent[key], parent[other] = parent[other], parent[key]
    if draw(st.booleans()):
        import json

        return "\n---\n".join(json.dumps(d, default=str) for d in documents)
    return yaml_text(documents)


@st.composite
def textually_mutated(draw: Any, seeds: list[str]) -> bytes:
    """A seed's bytes cut, spliced and flipped: truncate, insert, flip, delete, duplicate, swap lines."""
    data = seeds[draw(st.integers(0, len(seeds) - 1))].encode("utf-8")
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["truncate", "insert", "flip", "delete", "duplicate", "swap-lines", "indent"]))
        at = draw(st.integers(0, len(data)))
        if operation == "truncate":
            data = data[:at]
        elif operation == "insert":
            extra = draw(st.binary(min_size=1, max_size=8) | st.sampled_from(SPECIAL).map(lambda c: c.encode("utf-8", "surrogatepass")))
            data = data[:at] + extra + data[at:]
        elif operation == "flip" and at < len(data):
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
        elif operation == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 40)) :]
        elif operation == "duplicate":
            end = min(len(data), at + draw(st.integers(1, 80)))
            data = data[:end] + data[at:end] + data[end:]
        elif operation in ("swap-lines", "indent"):
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            if operation == "indent":
                lines[i] = b" " * draw(st.integers(1, 3)) + lines[i] if draw(st.booleans()) else lines[i].lstrip(b" ")
            else:
                j = draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
    return data


_scalars = st.sampled_from(
    [
        "x", "''", '""', "~", "null", "true", "no", "0", "-0", "0x1F", "0o17", "017", "0b101", "1_000", "1:20:30",
        "1.5e3", ".inf", ".nan", "2024-02-30", "2024-01-01T00:00:00Z", "<<", "=", "!!bool maybe", "!!int x",
        "!!float x", "!!timestamp x", "!!binary '%%'", "!!null x", "!!str 1", "!foo bar", "!!python/object:os.system x",
        "'it''s'", '"\\x41\\u00e9"', '"\\ud800"', "|\n  block\n", "0x" + "f" * 4000, "9" * 5000, "1" + ":1" * 400,
    ]
)


@st.composite
def hostile_yaml(draw: Any, depth: int = 0, anchors: list | None = None) -> str:
    """Flow-style YAML built from a grammar with anchors, aliases, merge keys and tags."""
    anchors = [] if anchors is None else anchors
    choice = draw(st.integers(0, 5 if depth < 4 else 1))
    if choice == 0:
        text = draw(_scalars)
        if "\n" in text:
            text = "'block'"
    elif choice == 1 and anchors:
        return "*" + draw(st.sampled_from(anchors))
    elif choice == 1:
        text = "*undefined"
        return text
    elif choice in (2, 3):
        items = [draw(hostile_yaml(depth + 1, anchors)) for _ in range(draw(st.integers(0, 3)))]
        text = "[" + ", ".join(items) + "]"
    else:
        pairs = []
        for _ in range(draw(st.integers(0, 3))):
            key = draw(st.sampled_from(["a", "b", "<<", "=", "[x]", "1", "null", "a"]) | _scalars)
            if key.startswith(("|", "0x", "99", "1:1")):
                key = "'long'"
            pairs.append(f"{key}: {draw(hostile_yaml(depth + 1, anchors))}")
        text = "{" + ", ".join(pairs) + "}"
    if draw(st.integers(0, 3)) == 0:
        name = f"a{len(anchors) % 3}"
        anchors.append(name)
        text = f"&{name} {text}"
    if draw(st.integers(0, 5)) == 0 and not text.startswith(("&", "!")):
        text = draw(st.sampled_from(["!!set ", "!!omap ", "!!map ", "!!seq ", "!!str ", "!local "])) + text
    return text
