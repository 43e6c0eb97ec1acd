"""Fuzzing the invariants parser: broken and hostile input is a located InputError or a clean parse.

See hostile.py for the property, the mutations and how to run longer.
"""

from __future__ import annotations

import yaml
from hypothesis import given
from hypothesis import strategies as st

from npverify.invariants import parse_invariants
from tests.fuzz.hostile import (
    FUZZ,
    INVARIANT_SEEDS,
    SPECIAL,
    WRONG_VALUES,
    assert_clean,
    deleted,
    field_paths,
    hostile_yaml,
    replaced,
    schema_path,
    structurally_mutated,
    textually_mutated,
    yaml_text,
)

FILE = "inv.yaml"


def check_text(text: str) -> None:
    assert_clean(lambda: parse_invariants(text, FILE, "."), text, FILE)


@FUZZ
@given(structurally_mutated(INVARIANT_SEEDS))
def test_structurally_mutated_invariants(text):
    check_text(text)


@FUZZ
@given(textually_mutated(INVARIANT_SEEDS))
def test_textually_mutated_invariants(data):
    check_text(data.decode("utf-8", "replace"))
    check_text(data.decode("utf-8", "surrogateescape"))


@FUZZ
@given(st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(), max_size=500))
def test_random_text(text):
    check_text(text)


@FUZZ
@given(hostile_yaml())
def test_hostile_yaml_constructs(text):
    check_text(text)
    check_text(f"invariants:\n- name: x\n  isolated: {{from: {{pod: {text}}}, to: {{namespace: {text}}}, ports: {text}}}\n")
    check_text(f"universe: {text}\nsemantics: {text}\ninvariants: {text}\n")


def test_wrong_type_at_every_field_path():
    """Each value of each type at every schema path of every seed, and each path deleted."""
    checked = set()
    for text in INVARIANT_SEEDS:
        document = yaml.safe_load(text)
        for path in field_paths(document):
            if schema_path(path) in checked:
                continue
            checked.add(schema_path(path))
            check_text(yaml_text([deleted(document, path)]))
            for value in WRONG_VALUES:
                check_text(yaml_text([replaced(document, path, value)]))
    assert len(checked) > 40
