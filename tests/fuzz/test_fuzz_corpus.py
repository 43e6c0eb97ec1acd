"""The hostile corpus: every input in tests/data/hostile/ and exactly what loading it gives.

Manifests are read with load_manifests and invariants with load_invariants, from the file, so
decoding is part of the test. An error is given as ``line:col`` and a fragment of the message
(the file name is the corpus file); a success as parts of a summary of what was loaded,
separated by ``; ``. Add every
input the fuzzer finds (minimized) here, with its outcome.
"""

from __future__ import annotations

import pytest

from npverify.errors import InputError
from npverify.invariants import load_invariants
from npverify.load import load_manifests
from tests.fuzz.hostile import HOSTILE

TOO_MANY = "too many YAML nodes: more than 2,000,000 in this file, counting each node an alias or merge key (<<) repeats; the limit is 2,000,000 nodes; raise it with --max-yaml-nodes (InputLimits.max_nodes)"
TOO_DEEP = "document nested too deeply: more than 200 levels of mappings and lists"
DEPTH_LIMIT = "the limit is 200 levels; raise it with --max-nesting-depth (InputLimits.max_depth)"

#: manifests/<file>: (location, message fragment) for an error, or ("ok", summary).
MANIFESTS = {
    "billion-laughs.yaml": ("8:4", TOO_MANY),
    "billion-laughs-merge.yaml": ("8:4", TOO_MANY),
    "billion-laughs-in-policy.yaml": ("25:17", TOO_MANY),
    "deep-flow.yaml": ("1:1", f"{TOO_DEEP} (level 201 starts at line 1, column 203); {DEPTH_LIMIT}"),
    "deep-flow-mapping.yaml": ("1:1", f"{TOO_DEEP} (level 201 starts at line 1, column 801)"),
    "deep-block.yaml": ("1:1", f"{TOO_DEEP} (level 201 starts at line 1, column 401)"),
    "deep-aliases.yaml": ("1:1", f"{TOO_DEEP} (with aliases expanded, the list at line 201, column 7 is 201 levels deep)"),
    "recursive-alias.yaml": ("1:4", "invalid YAML: recursive alias: this list contains an alias to itself"),
    "recursive-merge.yaml": ("1:4", "invalid YAML: recursive alias: this mapping contains an alias to itself"),
    "merge-not-a-mapping.yaml": ("1:9", "invalid YAML: a merge key (<<) takes a mapping or a list of mappings, got scalar"),
    "merge-list-with-scalar.yaml": ("2:14", "invalid YAML: a merge key (<<) takes a mapping or a list of mappings, got scalar"),
    "merge-override.yaml": ("ok", "namespaces=['own']; skipped=[]"),
    "merge-in-policy.yaml": ("ok", "policies=['prod/np']; peers=[['pod'], ['namespace']]; ports=[[80], [80]]"),
    "duplicate-key.yaml": ("4:1", "duplicate key 'kind'"),
    "duplicate-anchor.yaml": ("2:4", "invalid YAML: duplicate anchor 'x' (first defined at line 1, column 4)"),
    "undefined-alias.yaml": ("1:4", "invalid YAML: found undefined alias 'nowhere'"),
    "complex-key.yaml": ("1:3", "mapping keys must be strings"),
    "key-bad-timestamp.yaml": ("1:1", "invalid YAML value '2024-13-45': not a valid !!timestamp: month must be in 1..12"),
    "key-bad-int-tag.yaml": ("1:1", "invalid YAML value 'x': not a valid !!int: invalid literal for int() with base 10: 'x'"),
    "tag-bool.yaml": ("1:4", "invalid YAML value 'maybe': not a valid !!bool"),
    "tag-timestamp.yaml": ("1:4", "invalid YAML value 'x': not a valid !!timestamp"),
    "tag-binary.yaml": ("1:4", "invalid YAML: failed to convert base64 data into ascii"),
    "tag-python.yaml": ("1:4", "invalid YAML: unsupported tag '!!python/object/apply:os.system' on a list"),
    "tag-python-scalar.yaml": ("1:4", "invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/name:os.system'"),
    "tag-local.yaml": ("3:18", "invalid YAML: could not determine a constructor for the tag '!Ref'"),
    "tag-set.yaml": ("3:29", "invalid YAML: unsupported tag '!!set' on a mapping"),
    "hex-port.yaml": ("7:20", "integer too long: 4,002 characters, more than 1,000; quote it if it is a string"),
    "decimal-port.yaml": ("7:20", "integer too long: 5,000 characters, more than 1,000"),
    "sexagesimal-port.yaml": ("7:20", "integer too long: 6,001 characters, more than 1,000"),
    "float-port.yaml": ("7:20", "spec.ingress[0].ports[0].port: must be an integer, got number inf"),
    "list-itemz.yaml": ("3:1", "itemz: unknown field 'itemz'; did you mean 'items'?"),
    "list-of-unknown-kinds.yaml": ("ok", "skipped=[('Secret', 's', '4:3'), ('Widget', 'w', '5:3')]"),
    "control-character.yaml": ("3:19", "invalid YAML: unacceptable character #x0007: control characters are not allowed"),
    "tab-indentation.yaml": ("4:1", "invalid YAML: found character that cannot start any token"),
    "truncated-policy.yaml": ("9:1", "invalid YAML: did not find expected node content"),
    "only-separators.yaml": ("ok", "policies=[]; namespaces=[]; skipped=[]"),
    "unknown-field-in-except.yaml": ("7:64", "spec.ingress[0].from[0].ipBlock.exept: unknown field 'exept'; did you mean 'except'?"),
    # the third warning: the policy has no metadata.namespace
    "null-everywhere.yaml": ("ok", "policies=['default/np']; warnings=3"),
    "not-utf8.yaml": ("3:21", "not valid UTF-8 (byte 0xe9); save the file as UTF-8"),
    "random-bytes.yaml": ("2:118", "not valid UTF-8 (byte 0x80)"),
    "utf16-odd-length.yaml": ("1:1", "not valid UTF-16 (it starts with a UTF-16 byte-order mark): truncated data"),
    "bom-in-the-middle.yaml": ("2:2", "invalid YAML: did not find expected key"),
    # Minimized by the fuzzer (test_hostile_yaml_constructs) before the fixes: each escaped as
    # ValueError, KeyError or AttributeError.
    "fuzz-tagged-int-key.yaml": ("1:6", "invalid YAML value 'x': not a valid !!int"),
    "fuzz-bad-date-key.yaml": ("1:6", "invalid YAML value '2024-02-30': not a valid !!timestamp: day is out of range for month"),
    "fuzz-timestamp-tag.yaml": ("1:1", "invalid YAML value 'x': not a valid !!timestamp"),
    "fuzz-bool-tag.yaml": ("1:1", "invalid YAML value 'maybe': not a valid !!bool"),
    "fuzz-long-hex.yaml": ("1:1", "integer too long: 4,002 characters"),
}

#: invariants/<file>: as MANIFESTS.
INVARIANTS = {
    "billion-laughs.yaml": ("8:4", TOO_MANY),
    "deep-flow.yaml": ("1:1", f"{TOO_DEEP} (level 201 starts at line 1, column 212); {DEPTH_LIMIT}"),
    "recursive-alias.yaml": ("1:13", "invalid YAML: recursive alias: this list contains an alias to itself"),
    "tag-bool.yaml": ("1:25", "invalid YAML value 'maybe': not a valid !!bool"),
    "tag-python.yaml": ("1:13", "invalid YAML: unsupported tag '!!python/object/apply:os.system' on a list"),
    "key-bad-timestamp.yaml": ("2:1", "invalid YAML value '2024-13-45': not a valid !!timestamp"),
    "hex-port.yaml": ("3:47", "integer too long: 4,002 characters"),
    "merge-override.yaml": ("ok", "invariants=['a', 'b']; scopes=[('dev', 'prod'), ('dev', 'prod')]"),
    "not-utf8.yaml": ("2:12", "not valid UTF-8: invalid continuation byte (byte 0xe9)"),
}


def summary(result) -> str:
    """What a successful load gave, in the words of the tables above."""
    if hasattr(result, "invariants"):
        scopes = [(i.src.namespace, i.dst.namespace) for i in result.invariants]
        return f"invariants={[i.name for i in result.invariants]}; scopes={scopes}"
    parts = [
        f"policies={[p.key for p in result.policies]}",
        f"peers={[[('pod' if peer.pod_selector is not None else 'namespace') for peer in rule.peers] for p in result.policies for rule in p.ingress]}",
        f"ports={[[port.port for port in rule.ports] for p in result.policies for rule in p.ingress]}",
        f"namespaces={[n.name for n in result.namespaces]}",
        f"skipped={[(s.kind, s.name, f'{s.location.line}:{s.location.column}') for s in result.skipped]}",
        f"warnings={len(result.warnings)}",
    ]
    return "; ".join(parts)


def outcome(load, path):
    try:
        return "ok", summary(load(path))
    except InputError as exc:
        (diagnostic,) = exc.diagnostics
        assert diagnostic.location is not None and diagnostic.location.file == str(path), str(diagnostic)
        where = f"{diagnostic.location.line}:{diagnostic.location.column}"
        return where, f"{diagnostic.path}: {diagnostic.message}" if diagnostic.path else diagnostic.message


def check(load, path, expected):
    where, text = outcome(load, path)
    expected_where, fragment = expected
    assert where == expected_where, text
    for part in fragment.split("; ") if where == "ok" else [fragment]:
        assert part in text, f"{part!r} not in {text!r}"


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_hostile_manifest(name):
    check(lambda p: load_manifests([p]), HOSTILE / "manifests" / name, MANIFESTS[name])


@pytest.mark.parametrize("name", sorted(INVARIANTS))
def test_hostile_invariants_file(name):
    check(load_invariants, HOSTILE / "invariants" / name, INVARIANTS[name])


def test_every_corpus_file_has_an_expected_outcome():
    assert sorted(p.name for p in (HOSTILE / "manifests").iterdir()) == sorted(MANIFESTS)
    assert sorted(p.name for p in (HOSTILE / "invariants").iterdir()) == sorted(INVARIANTS)
