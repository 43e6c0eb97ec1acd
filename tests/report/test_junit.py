"""JUnit XML output: golden files, counts, failure/error semantics, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import attrs
import pytest
from results_fixture import fixed_comparison, fixed_redundancy, fixed_report

from npverify.redundancy import UndecidedItem
from npverify.report import junit


@pytest.mark.parametrize(
    "name, render",
    [
        ("report.junit.xml", lambda: junit.render_report(fixed_report()[0])),
        ("equiv.junit.xml", lambda: junit.render_comparison(fixed_comparison())),
        ("contains.junit.xml", lambda: junit.render_comparison(fixed_comparison(containment=True))),
        ("redundancy.junit.xml", lambda: junit.render_redundancy(fixed_redundancy())),
    ],
)
def test_junit_matches_golden_and_is_well_formed(golden, name, render):
    text = render()
    golden(name, text)
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "npverify"


def test_one_test_case_per_invariant_with_counts():
    root = ET.fromstring(junit.render_report(fixed_report()[0]))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("file"), c.get("line")) for c in cases] == [
        ("invariants.yaml", "only shop reaches the api", "invariants.yaml", "5"),
        ("invariants.yaml", "the internet reaches the api", "invariants.yaml", "10"),
        ("invariants.yaml", "dev is isolated", "invariants.yaml", "15"),
        ("invariants.yaml", "a slow one", "invariants.yaml", "20"),
    ]
    for element in (root, suite):
        assert {k: element.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
            "tests": "4", "failures": "2", "errors": "1", "skipped": "0", "time": "1.517",
        }
    assert [c.get("time") for c in cases] == ["0.012", "0.004", "0.001", "1.500"]


def test_refuted_fails_with_the_counterexample_and_unknown_errs():
    cases = ET.fromstring(junit.render_report(fixed_report()[0])).find("testsuite").findall("testcase")
    failure = cases[0].find("failure")
    assert failure.get("type") == "refuted"
    assert "Counterexample: TCP port 8080 from pod in namespace staging" in failure.get("message")
    assert "allowed by shop/api ingress[0].from[0] ports[0] (k8s/policies.yaml:12:11)" in failure.text
    assert cases[2].find("failure") is None and cases[2].find("error") is None
    error = cases[3].find("error")
    assert error.get("type") == "unknown" and error.text == "timeout"
    assert cases[3].find("skipped") is None and cases[3].find("failure") is None


def test_names_are_escaped_and_forbidden_characters_made_visible():
    report, _, _ = fixed_report()
    first = report.results[0]
    evil = attrs.evolve(first, invariant=attrs.evolve(first.invariant, name='<a & "b"> \x07 ]]>'))
    text = junit.render_report(attrs.evolve(report, results=(evil,)))
    case = ET.fromstring(text).find("testsuite/testcase")
    assert case.get("name") == '<a & "b"> \\x07 ]]>'
    assert "\x07" not in text


def test_equiv_has_one_test_case_per_direction_listing_regions():
    cases = ET.fromstring(junit.render_comparison(fixed_comparison())).find("testsuite").findall("testcase")
    assert [c.get("name") for c in cases] == [
        "data/new.yaml allows everything data/old.yaml allows",
        "data/old.yaml allows everything data/new.yaml allows",
    ]
    failures = [c.find("failure") for c in cases]
    assert [f.get("message") for f in failures] == [
        "1 region that only data/old.yaml allows.",
        "1 region that only data/new.yaml allows.",
    ]
    assert failures[1].text.startswith("[1] TCP 81 from pods {app=web}")


def test_an_undecided_direction_is_an_error_and_a_clean_one_passes():
    comparison = attrs.evolve(fixed_comparison(), only_left=(), only_right=(), left_complete=True, right_complete=False, reason="timeout")
    cases = ET.fromstring(junit.render_comparison(comparison)).find("testsuite").findall("testcase")
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert cases[1].find("error").get("type") == "unknown"


def test_redundancy_has_a_test_case_per_finding_or_one_passing_case():
    report = fixed_redundancy()
    undecided = attrs.evolve(report, undecided=(UndecidedItem(report.vacuous[0].item, "canceled"),))
    cases = ET.fromstring(junit.render_redundancy(undecided)).find("testsuite").findall("testcase")
    assert [(c.get("name"), c[0].tag, c[0].get("type")) for c in cases] == [
        ("redundant shop/api ingress[0]", "failure", "redundant"),
        ("redundant shop/api ingress[1]", "failure", "redundant"),
        ("vacuous shop/api egress[0]", "failure", "vacuous"),
        ("undecided shop/api egress[0]", "error", "unknown"),
    ]
    clean = attrs.evolve(report, redundant=(), vacuous=())
    root = ET.fromstring(junit.render_redundancy(clean))
    [case] = root.find("testsuite").findall("testcase")
    assert case.get("name") == "no redundant or vacuous item among 4 checked" and len(case) == 0
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
