"""JSON of equiv, contains and redundant: golden files, and every schema in specs/ checked
and matched against real output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from results_fixture import fixed_comparison, fixed_redundancy

from npverify.report.json import render_comparison, render_redundancy

SPECS = Path(__file__).parents[2] / "specs"


def schema(name: str) -> dict:
    return json.loads((SPECS / f"{name}.schema.json").read_text())


@pytest.mark.parametrize("name", ["report", "comparison", "redundancy"])
def test_schemas_are_valid_draft_2020_12(name):
    doc = schema(name)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(doc)
    assert doc["additionalProperties"] is False
    assert doc["properties"]["schema_version"] == {"const": 1}


def test_shared_definitions_do_not_drift_from_the_report_schema():
    """The comparison and redundancy schemas are self-contained copies of the report
    schema's packet, decision and location definitions; a change must reach all three."""
    report = schema("report")["$defs"]
    for name in ("comparison", "redundancy"):
        for key, definition in schema(name)["$defs"].items():
            if key in report:
                assert definition == report[key], f"{name}.schema.json $defs.{key} differs from report.schema.json"


@pytest.mark.parametrize(
    "golden_name, schema_name, render",
    [
        ("equiv.json", "comparison", lambda: render_comparison(fixed_comparison())),
        ("contains.json", "comparison", lambda: render_comparison(fixed_comparison(containment=True))),
        ("redundancy.json", "redundancy", lambda: render_redundancy(fixed_redundancy())),
    ],
)
def test_json_matches_golden_and_schema(golden, golden_name, schema_name, render):
    text = render()
    golden(golden_name, text)
    jsonschema.validate(json.loads(text), schema(schema_name), cls=jsonschema.Draft202012Validator)


def test_comparison_fields_scripts_read():
    doc = json.loads(render_comparison(fixed_comparison(containment=True)))
    assert doc["schema_version"] == 1 and doc["same"] is False and doc["only_left"] is None
    [diff] = doc["only_right"]
    assert diff["region"]["ports"] == {"low": 81, "high": 81}
    assert diff["left"]["allowed"] is False and diff["right"]["allowed"] is True


def test_schemas_reject_what_they_should():
    comparison = json.loads(render_comparison(fixed_comparison()))
    comparison["same"] = "no"
    redundancy = json.loads(render_redundancy(fixed_redundancy()))
    redundancy["vacuous"][0]["item"]["kind"] = "namespace"
    redundancy["extra"] = 1
    errors = list(jsonschema.Draft202012Validator(schema("comparison")).iter_errors(comparison))
    assert [list(e.path) for e in errors] == [["same"]]
    errors = list(jsonschema.Draft202012Validator(schema("redundancy")).iter_errors(redundancy))
    assert len(errors) == 2
