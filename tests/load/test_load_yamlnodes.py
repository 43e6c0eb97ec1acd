"""The location-keeping YAML parser: libyaml and pure PyYAML give the same nodes."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from npverify.errors import InputError
from npverify.load import yamlnodes
from tests.environment import require

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
