import json
from pathlib import Path

import jsonschema
from results_fixture import fixed_report

from npverify.report.json import render_report

SCHEMA = json.loads((Path(__file__).parents[2] / "specs" / "report.schema.json").read_text())


def test_json_report_matches_golden(golden):
    report, _, _ = fixed_report()
    golden("report.json", render_report(report))


def test_json_report_validates_against_schema():
    report, _, _ = fixed_report()
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(json.loads(render_report(report)), SCHEMA)


def test_json_fields_users_script_against():
    report, _, _ = fixed_report()
    doc = json.loads(render_report(report))
    assert doc["schema_version"] == 1
    first = doc["results"][0]
    assert (first["name"], first["verdict"]) == ("only shop reaches the api", "refuted")
    assert first["counterexample"]["source"]["namespace"] == "staging"
    assert first["counterexample"]["destination"]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert first["explanation"]["ingress"]["matching_rules"][0]["location"] == {"file": "k8s/policies.yaml", "line": 10, "column": 7}
    assert [r["verdict"] for r in doc["results"]] == ["refuted", "refuted", "proved", "unknown"]
    assert doc["results"][1]["counterexample"] is None
    assert doc["results"][3]["reason"] == "timeout"


def test_schema_rejects_a_wrong_verdict():
    report, _, _ = fixed_report()
    doc = json.loads(render_report(report))
    doc["results"][0]["verdict"] = "passed"
    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError:
        return
    raise AssertionError("the schema accepted verdict 'passed'")
