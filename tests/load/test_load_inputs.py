"""load_manifests / load_text: every input form, and input-level errors."""

from __future__ import annotations

import codecs
import io
import os
import pathlib

import pytest

from npverify.errors import InputError
from npverify.load import load_manifests, load_text
from npverify.load import manifests as manifests_module
from npverify.model import Protocol, Severity, SourceLocation

DATA = pathlib.Path(__file__).resolve().parent.parent / "data" / "manifests"

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: prod
spec:
  podSelector: {{}}
"""


def errors_of(call, *args, **kwargs) -> list[str]:
    """The diagnostics of the InputError ``call`` raises, as compiler-style lines."""
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return [str(d) for d in info.value.diagnostics]


def rel(location: SourceLocation) -> str:
    """A location with its file relative to the fixture directory."""
    return f"{pathlib.Path(location.file).resolve().relative_to(DATA)}:{location.line}:{location.column}"


# --- input forms ---------------------------------------------------------------------


def test_directory_is_read_recursively_in_sorted_order_skipping_hidden_and_other_files():
    cluster = load_manifests([DATA / "shop"])
    assert [p.key for p in cluster.policies] == ["shop/default-deny", "shop/web"]
    assert [rel(p.location) for p in cluster.policies] == [
        "shop/policies/default-deny.yaml:1:1",
        "shop/policies/web.yml:1:1",
    ]
    assert [n.name for n in cluster.namespaces] == ["shop", "monitoring"]
    # workloads/db/postgres.yaml sorts before workloads/web.json; .git-crypt/keys.yaml
    # (invalid YAML), README.md and notes.txt are not read.
    assert [(w.kind, w.key) for w in cluster.workloads] == [
        ("StatefulSet", "shop/StatefulSet/postgres"),
        ("Deployment", "shop/Deployment/web"),
    ]
    assert [(s.key, rel(s.location)) for s in cluster.services] == [("shop/postgres", "shop/workloads/db/postgres.yaml:43:1")]
    assert cluster.skipped == ()
    assert cluster.warnings == ()


def test_directory_file_names_keep_the_given_prefix():
    cluster = load_manifests([str(DATA / "shop" / "policies")])
    assert cluster.policies[0].location.file == os.path.join(str(DATA / "shop" / "policies"), "default-deny.yaml")


def test_single_file_and_multi_document_yaml():
    cluster = load_manifests([DATA / "shop" / "namespaces.yaml"])
    assert [(n.name, rel(n.location)) for n in cluster.namespaces] == [
        ("shop", "shop/namespaces.yaml:2:1"),
        ("monitoring", "shop/namespaces.yaml:10:1"),
    ]


def test_json_file_indented_with_tabs():
    (web,) = load_manifests([DATA / "shop" / "workloads" / "web.json"]).workloads
    assert dict(web.labels) == {"app": "web", "tier": "frontend"}
    assert [(p.port, p.protocol, p.name) for p in web.ports] == [(8080, Protocol.TCP, "http")]
    assert rel(web.location) == "shop/workloads/web.json:1:1"


def test_kind_list_items_are_loaded_and_located():
    cluster = load_manifests([DATA / "kubectl-get.yaml"])
    (policy,) = cluster.policies
    (pod,) = cluster.workloads
    assert policy.key == "payments/api"
    assert rel(policy.location) == "kubectl-get.yaml:3:3"
    assert rel(pod.location) == "kubectl-get.yaml:31:3"


def test_typed_list_items_inherit_kind_and_api_version():
    cluster = load_manifests([DATA / "typed-list.json"])
    assert [(n.name, rel(n.location)) for n in cluster.namespaces] == [
        ("payments", "typed-list.json:6:5"),
        ("kube-system", "typed-list.json:7:5"),
    ]
    assert cluster.namespaces[0].labels["pci"] == "true"


def test_nested_lists_and_empty_list():
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: List
  items:
  - {apiVersion: v1, kind: Namespace, metadata: {name: inner}}
- apiVersion: v1
  kind: ConfigMapList
  items: null
"""
    cluster = load_text(text, "l.yaml")
    assert [(n.name, str(n.location)) for n in cluster.namespaces] == [("inner", "l.yaml:7:5")]
    assert cluster.skipped == ()


def test_xxx_list_without_items_is_an_ordinary_skipped_kind():
    cluster = load_text("apiVersion: example.com/v1\nkind: AllowList\nmetadata: {name: a}\n")
    assert [(s.kind, s.name) for s in cluster.skipped] == [("AllowList", "a")]


def test_stdin_dash():
    text = POLICY.format(name="from-stdin")
    cluster = load_manifests(["-"], stdin=io.StringIO(text))
    (policy,) = cluster.policies
    assert policy.name == "from-stdin"
    assert str(policy.location) == "<stdin>:1:1"


def test_stdin_is_read_once_and_mixes_with_files():
    cluster = load_manifests(["-", DATA / "shop" / "policies" / "default-deny.yaml", "-"], stdin=io.StringIO(POLICY.format(name="a")))
    assert [p.name for p in cluster.policies] == ["a", "default-deny"]


def test_same_file_twice_is_read_once():
    path = DATA / "shop" / "policies" / "default-deny.yaml"
    cluster = load_manifests([path, DATA / "shop" / "policies", str(path)])
    assert [p.name for p in cluster.policies] == ["default-deny", "web"]


def test_empty_documents_and_comments_are_ignored():
    text = "---\n# nothing here\n---\n\n...\n---\n" + POLICY.format(name="a") + "---\n"
    cluster = load_text(text, "e.yaml")
    assert [(p.name, str(p.location)) for p in cluster.policies] == [("a", "e.yaml:7:1")]
    assert load_text("") == load_text("# only a comment\n")


def test_utf8_bom_and_utf16_files(tmp_path):
    text = POLICY.format(name="ünï")  # invalid name, so the error shows the decoded text
    (tmp_path / "bom8.yaml").write_bytes(codecs.BOM_UTF8 + POLICY.format(name="a").encode())
    (tmp_path / "bom16.yaml").write_bytes(POLICY.format(name="b").encode("utf-16"))
    cluster = load_manifests([tmp_path / "bom8.yaml", tmp_path / "bom16.yaml"])
    assert [p.name for p in cluster.policies] == ["a", "b"]
    (tmp_path / "bad16.yaml").write_bytes(text.encode("utf-16"))
    [error] = errors_of(load_manifests, [tmp_path / "bad16.yaml"])
    assert error.endswith("4:9: error: metadata.name: invalid name 'ünï': must be a DNS subdomain "
                          "(lowercase letters, digits, '-' and '.', at most 253 characters)")


def test_empty_directory_warns(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    cluster = load_manifests([tmp_path])
    assert [(w.severity, w.message) for w in cluster.warnings] == [
        (Severity.WARNING, f"directory {tmp_path} has no .yaml, .yml or .json files")
    ]


def test_pathlike_and_str_paths_are_equal():
    assert load_manifests([DATA / "all-workloads.yaml"]) == load_manifests([str(DATA / "all-workloads.yaml")])


# --- input errors ----------------------------------------------------------------------


def test_missing_path(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert errors_of(load_manifests, [missing]) == [f"error: {missing}: no such file or directory"]


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.yaml"
    path.write_text(POLICY.format(name="a"))

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(manifests_module, "open", refuse, raising=False)
    assert errors_of(load_manifests, [path]) == [f"error: cannot read {path}: Permission denied"]


def test_not_utf8_points_at_the_bad_byte(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: caf\xe9\n".encode("latin-1"))
    assert errors_of(load_manifests, [path]) == [
        f"{path}:4:12: error: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    ]


def test_yaml_syntax_error_is_located_and_earlier_documents_are_still_checked():
    text = POLICY.format(name="Bad_Name") + "---\nkind: [\n"
    errors = errors_of(load_text, text, "s.yaml")
    assert errors[0] == (
        "s.yaml:4:9: error: metadata.name: invalid name 'Bad_Name': must be a DNS subdomain "
        "(lowercase letters, digits, '-' and '.', at most 253 characters)"
    )
    # The wording comes from libyaml or PyYAML, whichever parses.
    assert errors[1].startswith("s.yaml:10:1: error: invalid YAML: ")
    assert len(errors) == 2


def test_yaml_syntax_error_message():
    [error] = errors_of(load_text, "apiVersion: v1\nkind: Namespace\n  metadata: {}\n", "y.yaml")
    assert error.startswith("y.yaml:3:11: error: invalid YAML: ")
    assert "mapping values are not allowed" in error


def test_duplicate_yaml_key():
    assert errors_of(load_text, "apiVersion: v1\nkind: Namespace\nkind: Pod\n", "d.yaml") == [
        "d.yaml:3:1: error: duplicate key 'kind'"
    ]


def test_deeply_nested_input_is_an_error_not_a_crash():
    [error] = errors_of(load_text, "a: " + "[" * 100_000, "deep.yaml")
    assert error == (
        "deep.yaml:1:1: error: document nested too deeply: more than 200 levels of mappings and lists "
        "(level 201 starts at line 1, column 203); the limit is 200 levels; raise it with --max-nesting-depth "
        "(InputLimits.max_depth)"
    )


def test_control_character_is_located():
    assert errors_of(load_text, "apiVersion: v1\nkind: \x07\n", "c.yaml") == [
        "c.yaml:2:7: error: invalid YAML: unacceptable character #x0007: control characters are not allowed"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("- a\n- b\n", "must be a mapping (a Kubernetes object with apiVersion and kind), got list"),
        ("just text\n", "must be a mapping (a Kubernetes object with apiVersion and kind), got string 'just text'"),
        ("--- ~\n", "must be a mapping (a Kubernetes object with apiVersion and kind), got null"),
    ],
)
def test_top_level_document_must_be_a_mapping(text, expected):
    [error] = errors_of(load_text, text, "t.yaml")
    assert error.split(": error: ", 1)[1] == expected
    assert error.startswith("t.yaml:1:")


def test_missing_kind_and_missing_api_version():
    text = "apiVersion: v1\nmetadata: {name: a}\n---\nkind: Namespace\nmetadata: {name: b}\n"
    assert errors_of(load_text, text, "k.yaml") == [
        "k.yaml:1:1: error: missing required field 'kind'",
        "k.yaml:4:1: error: missing required field 'apiVersion'",
    ]


def test_kind_must_be_a_string():
    assert errors_of(load_text, "apiVersion: v1\nkind: 3\n", "k.yaml") == [
        "k.yaml:2:7: error: kind: must be a string, got integer 3"
    ]


def test_list_items_must_be_a_list_and_item_errors_are_located():
    text = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: ok}
- apiVersion: v1
  kind: Namespace
  metadata: {name: Not-OK}
---
apiVersion: v1
kind: List
items: {a: b}
"""
    assert errors_of(load_text, text, "l.yaml") == [
        "l.yaml:9:20: error: items[1].metadata.name: invalid name 'Not-OK': must be a DNS label "
        "(lowercase letters, digits and '-', at most 63 characters)",
        "l.yaml:13:8: error: items: must be a list, got mapping",
    ]


def test_errors_are_collected_across_files_and_sorted_by_location(tmp_path):
    (tmp_path / "b.yaml").write_text(POLICY.format(name="B") + "---\napiVersion: v1\n")
    (tmp_path / "a.yaml").write_text("kind: Namespace\n")
    missing = tmp_path / "missing.yaml"
    errors = errors_of(load_manifests, [tmp_path / "b.yaml", missing, tmp_path / "a.yaml"])
    assert errors == [
        f"error: {missing}: no such file or directory",
        f"{tmp_path / 'a.yaml'}:1:1: error: missing required field 'apiVersion'",
        f"{tmp_path / 'b.yaml'}:4:9: error: metadata.name: invalid name 'B': must be a DNS subdomain "
        "(lowercase letters, digits, '-' and '.', at most 253 characters)",
        f"{tmp_path / 'b.yaml'}:9:1: error: missing required field 'kind'",
    ]


def test_only_the_first_error_of_a_document_is_reported():
    text = POLICY.format(name="A") + "  ingress: 3\n"
    assert len(errors_of(load_text, text)) == 1


def test_default_stdin_is_read_as_bytes(monkeypatch):
    class FakeStdin:
        buffer = io.BytesIO(codecs.BOM_UTF8 + POLICY.format(name="piped").encode())

    monkeypatch.setattr("sys.stdin", FakeStdin())
    assert [p.name for p in load_manifests(["-"]).policies] == ["piped"]


def test_a_single_path_is_not_split_into_characters():
    assert [p.name for p in load_manifests(str(DATA / "shop" / "policies")).policies] == ["default-deny", "web"]


def test_stdin_text_stream_is_decoded_by_the_loader():
    stream = io.TextIOWrapper(io.BytesIO(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\xe9}\n"), encoding="latin-1")
    assert errors_of(load_manifests, ["-"], stdin=stream) == [
        "<stdin>:3:21: error: not valid UTF-8 (byte 0xe9); save the file as UTF-8"
    ]
