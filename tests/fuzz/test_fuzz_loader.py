"""Fuzzing the manifest loader: broken and hostile input is a located InputError or a clean load.

See hostile.py for the property, the mutations and how to run longer.
"""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from npverify.load import load_text
from tests.fuzz.hostile import (
    FUZZ,
    MANIFEST_SEEDS,
    SPECIAL,
    WRONG_VALUES,
    assert_clean,
    deleted,
    field_paths,
    hostile_yaml,
    load_bytes,
    replaced,
    schema_path,
    structurally_mutated,
    textually_mutated,
    yaml_text,
)

FILE = "fuzz.yaml"


def check_text(text: str) -> None:
    assert_clean(lambda: load_text(text, FILE), text, FILE)


def check_bytes(data: bytes) -> None:
    result = assert_clean(lambda: load_bytes(data), None, "<stdin>")
    del result


@FUZZ
@given(structurally_mutated(MANIFEST_SEEDS))
def test_structurally_mutated_manifests(text):
    check_text(text)


@FUZZ
@given(textually_mutated(MANIFEST_SEEDS))
def test_textually_mutated_manifests(data):
    check_bytes(data)
    check_text(data.decode("utf-8", "replace"))


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(data):
    check_bytes(data)


@FUZZ
@given(st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(), max_size=500))
def test_random_text(text):
    check_text(text)


@FUZZ
@given(hostile_yaml())
def test_hostile_yaml_constructs(text):
    check_text(text)
    # The same value as a document's field the loader reads.
    check_text(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n  labels: {text}\n")
    check_text(f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np}}\nspec: {{podSelector: {text}}}\n")
    policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: np}\nspec:\n  podSelector: {}\n  ingress:\n"
    check_text(policy + f"  - ports: [{{port: {text}, endPort: {text}}}]\n")
    check_text(policy + f"  - from: [{{ipBlock: {{cidr: {text}, except: [{text}]}}}}]\n")
    check_text(policy + f"  - from: [{{podSelector: {{matchExpressions: [{{key: {text}, operator: In, values: [{text}]}}]}}}}]\n")


def _documents():
    """Every document of every seed file, each once."""
    seen = []
    for text in MANIFEST_SEEDS:
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue  # the seed that is deliberately not YAML
        for document in documents:
            if document is not None and document not in seen:
                seen.append(document)
    return seen


def test_wrong_type_at_every_field_path():
    """Each value of each type (WRONG_VALUES) at every schema path of every seed document, and each path deleted."""
    checked = set()
    for document in _documents():
        for path in field_paths(document):
            key = (document.get("kind"), schema_path(path))
            if key in checked:
                continue
            checked.add(key)
            check_text(yaml_text([deleted(document, path)]))
            for value in WRONG_VALUES:
                check_text(yaml_text([replaced(document, path, value)]))
    assert len(checked) > 300  # the seeds cover the schema, not a handful of fields
