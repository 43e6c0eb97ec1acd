"""SARIF 2.1.0 output: golden files, the official schema, and what GitHub code scanning reads."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import attrs
import jsonschema
import pytest
from results_fixture import fixed_comparison, fixed_redundancy, fixed_report

from npverify import __version__
from npverify.model import SourceLocation
from npverify.redundancy import UndecidedItem
from npverify.report import sarif

OFFICIAL_SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
VALIDATOR = jsonschema.Draft4Validator(OFFICIAL_SCHEMA)


def versionless(text: str) -> str:
    """The document with npverify's version blanked, so goldens survive a release."""
    return text.replace(f'"version": "{__version__}"', '"version": "VERSION"')


def validate(doc: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    # The schema's "uri" formats are not checked without extra packages: check them here.
    for run in doc["runs"]:
        for result in run["results"]:
            for loc in result.get("locations", []) + result.get("relatedLocations", []):
                if "physicalLocation" in loc:
                    artifact = loc["physicalLocation"]["artifactLocation"]
                    parts = urlsplit(artifact["uri"])
                    assert (parts.scheme == "") == ("uriBaseId" in artifact), artifact
                    assert " " not in artifact["uri"]


def test_the_official_schema_is_the_sarif_2_1_0_one():
    jsonschema.Draft4Validator.check_schema(OFFICIAL_SCHEMA)
    assert OFFICIAL_SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


@pytest.mark.parametrize(
    "name, render",
    [
        ("report.sarif", lambda: sarif.render_report(fixed_report()[0])),
        ("equiv.sarif", lambda: sarif.render_comparison(fixed_comparison())),
        ("contains.sarif", lambda: sarif.render_comparison(fixed_comparison(containment=True))),
        ("redundancy.sarif", lambda: sarif.render_redundancy(fixed_redundancy())),
    ],
)
def test_sarif_matches_golden_and_the_official_schema(golden, name, render):
    text = render()
    golden(name, versionless(text))
    validate(json.loads(text))


def test_sarif_with_a_root_is_valid_and_names_the_working_directory(tmp_path):
    doc = sarif.report_sarif(fixed_report()[0], root=str(tmp_path))
    validate(doc)
    run = doc["runs"][0]
    base = tmp_path.as_uri() + "/"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": base}}
    assert run["invocations"][0]["workingDirectory"] == {"uri": base}


def test_one_rule_per_invariant_kind_and_results_point_at_their_rule():
    doc = sarif.report_sarif(fixed_report()[0])
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [
        "npverify/isolated", "npverify/allowed", "npverify/reachable", "npverify/only",
        "npverify/equivalent", "npverify/redundant", "npverify/nonRedundant", "npverify/unmodelled",
    ]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert run["tool"]["driver"]["name"] == "npverify"
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and doc["version"] == "2.1.0"


def test_refuted_is_an_error_at_the_invariant_with_the_deciding_rule_related():
    results = sarif.report_sarif(fixed_report()[0])["runs"][0]["results"]
    # The fixture: only (refuted, packet), reachable (refuted, no packet), isolated
    # (proved: no result), allowed (unknown).
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("npverify/only", "error"),
        ("npverify/reachable", "error"),
        ("npverify/allowed", "warning"),
    ]
    only = results[0]
    location = only["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "invariants.yaml"
    assert location["region"] == {"startLine": 5, "startColumn": 5}
    [related] = only["relatedLocations"]
    # The fixture's peer (ingress[0].from[0]) is written at k8s/policies.yaml:12:11.
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "k8s/policies.yaml"
    assert related["physicalLocation"]["region"] == {"startLine": 12, "startColumn": 11}
    assert "shop/api ingress[0].from[0] ports[0]" in related["message"]["text"]
    text = only["message"]["text"]
    assert text.startswith("Refuted: only shop reaches the api (only).")
    assert "from pod in namespace staging" in text and "TCP port 8080" in text
    assert f"[k8s/policies.yaml:12:11]({related['id']})" in text


def test_unknown_is_a_warning_marked_unknown_and_the_run_is_not_successful():
    doc = sarif.report_sarif(fixed_report()[0])
    run = doc["runs"][0]
    unknown = run["results"][2]
    assert unknown["level"] == "warning"
    assert unknown["properties"]["verdict"] == "unknown"
    assert "not a pass" in unknown["message"]["text"] and "timeout" in unknown["message"]["text"]
    assert run["invocations"][0]["executionSuccessful"] is False


def test_all_proved_gives_no_results_and_a_successful_run():
    report, _, _ = fixed_report()
    proved = attrs.evolve(report, results=(report.results[2],))
    run = sarif.report_sarif(proved)["runs"][0]
    assert run["results"] == []
    assert run["invocations"][0]["executionSuccessful"] is True


def _relocated(report, file: str):
    first = report.results[0]
    invariant = attrs.evolve(first.invariant, location=SourceLocation(file, 5, 5))
    return attrs.evolve(report, results=(attrs.evolve(first, invariant=invariant),))


def test_paths_below_the_root_become_relative_and_others_absolute_file_uris(tmp_path):
    report, _, _ = fixed_report()
    inside = sarif.report_sarif(_relocated(report, str(tmp_path / "ci" / "my invariants.yaml")), root=str(tmp_path))
    artifact = inside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "ci/my%20invariants.yaml", "uriBaseId": "%SRCROOT%"}
    outside = sarif.report_sarif(_relocated(report, "/elsewhere/inv.yaml"), root=str(tmp_path))
    artifact = outside["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "file:///elsewhere/inv.yaml"}
    validate(inside)
    validate(outside)


def test_a_location_in_a_git_revision_is_named_not_pointed_at():
    report, _, _ = fixed_report()
    doc = sarif.report_sarif(_relocated(report, "main:ci/invariants.yaml"))
    [location] = doc["runs"][0]["results"][0]["locations"]
    assert location == {"message": {"text": "main:ci/invariants.yaml:5:5"}}
    validate(doc)


def test_equiv_has_one_result_per_region_at_the_allowing_rule():
    run = sarif.comparison_sarif(fixed_comparison())["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "npverify/equiv/only-left", "npverify/equiv/only-right", "npverify/contains/only-candidate", "npverify/unmodelled",
    ]
    assert run["automationDetails"] == {"id": "npverify/equiv/"}
    only_old, only_new = run["results"]
    assert only_old["ruleId"] == "npverify/equiv/only-left" and only_new["ruleId"] == "npverify/equiv/only-right"
    # data/old.yaml line 14 is ingress[1]'s prometheus peer, the rule new.yaml lost;
    # data/new.yaml line 10 is the peer of the rule whose port range grew to 80-81.
    def where(result):
        physical = result["locations"][0]["physicalLocation"]
        return physical["artifactLocation"]["uri"], physical["region"]["startLine"]

    assert where(only_old) == ("data/old.yaml", 14)
    assert where(only_new) == ("data/new.yaml", 10)
    related = {(r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"]) for r in only_new["relatedLocations"]}
    assert ("data/old.yaml", 2) in related  # the old policy that isolates the api and denies port 81
    assert only_new["message"]["text"].startswith("Only data/new.yaml allows TCP 81 ")


def test_contains_uses_its_own_rule():
    run = sarif.comparison_sarif(fixed_comparison(containment=True))["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["npverify/contains/only-candidate"]
    assert run["automationDetails"] == {"id": "npverify/contains/"}


def test_an_undecided_comparison_is_a_warning_not_a_clean_run():
    comparison = attrs.evolve(fixed_comparison(), only_left=(), only_right=(), left_complete=True, right_complete=False, reason="timeout")
    doc = sarif.comparison_sarif(comparison)
    validate(doc)
    run = doc["runs"][0]
    [result] = run["results"]
    assert (result["ruleId"], result["level"], result["properties"]["verdict"]) == ("npverify/equiv/only-right", "warning", "unknown")
    assert run["invocations"][0]["executionSuccessful"] is False


def test_redundancy_results_are_located_at_the_item_with_covers_related():
    report = fixed_redundancy()
    item = report.redundant[0].item
    undecided = attrs.evolve(report, undecided=(UndecidedItem(item, "canceled"),))
    doc = sarif.redundancy_sarif(undecided)
    validate(doc)
    run = doc["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "npverify/redundancy/redundant", "npverify/redundancy/vacuous", "npverify/redundancy/undecided",
        "npverify/unmodelled",
    ]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("npverify/redundancy/redundant", "error"),
        ("npverify/redundancy/redundant", "error"),
        ("npverify/redundancy/vacuous", "error"),
        ("npverify/redundancy/undecided", "warning"),
    ]
    first = run["results"][0]
    # ingress[0] at line 9 is covered by its copy, ingress[1] at line 13.
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    assert [r["physicalLocation"]["region"]["startLine"] for r in first["relatedLocations"]] == [13]


def test_the_schema_check_catches_a_broken_document():
    doc = sarif.report_sarif(fixed_report()[0])
    doc["runs"][0]["results"][0]["level"] = "fatal"
    del doc["runs"][0]["invocations"][0]["executionSuccessful"]
    assert len(list(VALIDATOR.iter_errors(doc))) == 2
