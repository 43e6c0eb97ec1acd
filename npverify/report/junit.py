"""JUnit XML rendering, for CI test dashboards (GitLab, Jenkins, Azure, test-reporter actions).

A ``<testsuites>`` root holding one ``<testsuite name="npverify">``. A refuted invariant
or a difference is a ``<failure>``; an undecided one is an ``<error type="unknown">``,
never a pass and never ``<skipped>`` (dashboards hide skips, and UNKNOWN needs a look).
The message attribute is one sentence; the body holds the counterexample and the rules
that decided it, as the text output prints them. Built with ElementTree, so names and
messages are escaped; characters XML 1.0 cannot hold at all are shown as ``\\xNN``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from npverify.report.findings import (
    lint_findings,
    Finding,
    UNMODELLED_OBJECT,
    Outcome,
    comparison_findings,
    direction_checks,
    is_containment,
    proof_findings,
    redundancy_findings,
)
from npverify.report.text import describe_packet
from npverify.results import ProofReport

if TYPE_CHECKING:
    from npverify.compare import Comparison
    from npverify.coverage import Coverage
    from npverify.lint import LintReport
    from npverify.redundancy import RedundancyReport

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (control characters, lone
    surrogates), each replaced by a visible ``\\xNN`` / ``\\uNNNN`` escape."""
    return _NOT_XML.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _testcase(
    suite: ET.Element,
    classname: str,
    name: str,
    seconds: float | None = None,
    file: str | None = None,
    line: int | None = None,
) -> ET.Element:
    attrib = {"classname": xml_safe(classname), "name": xml_safe(name)}
    if seconds is not None:
        attrib["time"] = _seconds(seconds)
    if file is not None:
        attrib["file"] = xml_safe(file)
    if line is not None:
        attrib["line"] = str(line)
    return ET.SubElement(suite, "testcase", attrib)


def _outcome(case: ET.Element, outcome: Outcome, failure_type: str, message: str, body: str) -> None:
    """Mark a test case failed (``<failure>``) or undecided (``<error type="unknown">``)."""
    if outcome is Outcome.PASSED:
        return
    tag, kind = ("failure", failure_type) if outcome is Outcome.FAILED else ("error", "unknown")
    element = ET.SubElement(case, tag, {"message": xml_safe(message), "type": kind})
    element.text = xml_safe(body)


def _document(cases: ET.Element, seconds: float, coverage: Coverage) -> str:
    """Wrap a filled ``<testsuite>`` in ``<testsuites>`` with the counts both carry; what
    the input held that npverify did not model or use is the suite's ``<system-out>``."""
    if coverage.groups():
        ET.SubElement(cases, "system-out").text = xml_safe("\n".join(coverage.details()))
    tests = len(cases.findall("testcase"))
    failures = len(cases.findall("testcase/failure"))
    errors = len(cases.findall("testcase/error"))
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors), "skipped": "0", "time": _seconds(seconds)}
    cases.attrib.update(counts)
    root = ET.Element("testsuites", {"name": "npverify", **counts})
    root.append(cases)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite() -> ET.Element:
    return ET.Element("testsuite", {"name": "npverify"})


def _body(finding: Finding) -> str:
    """The finding's detail lines (they name the deciding rules with their locations)."""
    return "\n".join(finding.details)


def render_report(report: ProofReport) -> str:
    """One test case per invariant: classname the invariants file, name the invariant."""
    suite = _suite()
    classname = report.source or "npverify"
    for finding, result in zip(proof_findings(report), report.results):
        where = result.invariant.location
        case = _testcase(
            suite,
            classname,
            finding.name,
            finding.seconds,
            where.file if where else None,
            where.line if where else None,
        )
        if finding.outcome is Outcome.PASSED:
            if finding.details:  # a reachable invariant's witness, a note that it holds vacuously
                ET.SubElement(case, "system-out").text = xml_safe("\n".join(finding.details))
            continue
        message = finding.headline
        if result.counterexample is not None:
            # Dashboards often show only the message: it carries the packet, in one line.
            protocol_port, source, destination = describe_packet(result.counterexample)[:3]
            message += f" Counterexample: {protocol_port} {source}; {destination.replace('to   ', 'to ', 1)}"
        elif result.denied_example is not None:
            protocol_port, source, destination = describe_packet(result.denied_example)[:3]
            message += f" Every packet of the scope is denied, e.g. {protocol_port} {source}; {destination.replace('to   ', 'to ', 1)}"
        _outcome(case, finding.outcome, "refuted", message, _body(finding))
    if report.warnings:
        # Suite-level output: dashboards show it with the run, and nothing is dropped.
        ET.SubElement(suite, "system-err").text = xml_safe("\n".join(report.warnings))
    _unmodelled_cases(suite, proof_findings(report)[len(report.results):])
    return _document(suite, report.seconds, report.coverage)


def _unmodelled_cases(suite: ET.Element, findings: list[Finding]) -> None:
    """An erring test case per unmodelled object, at the object."""
    for finding in findings:
        where = finding.location
        case = _testcase(suite, "unmodelled", finding.name, None, where.file if where else None, where.line if where else None)
        _outcome(case, finding.outcome, "", finding.headline, _body(finding))


def render_comparison(comparison: Comparison) -> str:
    """One test case per direction asked: "RIGHT allows everything LEFT allows" and back.

    A failing direction lists its regions in the failure; a direction the solver could not
    finish without finding a region is an error. Both sides' names are the classname.
    """
    suite = _suite()
    command = "contains" if is_containment(comparison) else "equiv"
    classname = f"{command} {comparison.left_name} {comparison.right_name}"
    findings = comparison_findings(comparison)
    for check, allowing, denying, diffs, complete in direction_checks(comparison):
        case = _testcase(suite, classname, f"{denying} allows everything {allowing} allows")
        mine = [f for f in findings if f.check == check]
        if diffs:
            count = f"{len(diffs)} region{'s' if len(diffs) != 1 else ''}"
            more = "" if complete else " (more exist; raise --max-diffs)"
            body = "\n\n".join("\n".join((f.name, *f.details)) for f in mine)
            outcome = Outcome.FAILED if comparison.coverage.complete else Outcome.UNKNOWN
            _outcome(case, outcome, "different", f"{count} that only {allowing} allows{more}.", body)
        elif mine:
            _outcome(case, Outcome.UNKNOWN, "", mine[0].headline, "\n".join(mine[0].details))
    _unmodelled_cases(suite, [f for f in findings if f.check == UNMODELLED_OBJECT])
    return _document(suite, comparison.seconds, comparison.coverage)


def render_redundancy(report: RedundancyReport) -> str:
    """One test case per finding: a redundant or vacuous item fails, an undecided one errs.

    The report names only what it found, not each of the items it checked, and a dashboard
    wants one line per thing to fix; so a clean run is a single passing test case that
    says how many items were checked (a suite with no test case reads as "nothing ran").
    """
    suite = _suite()
    findings = redundancy_findings(report)
    for finding in findings:
        where = finding.location
        case = _testcase(
            suite,
            where.file if where else "redundant",
            f"{finding.verdict} {finding.name}",
            None,
            where.file if where else None,
            where.line if where else None,
        )
        _outcome(case, finding.outcome, finding.verdict, finding.headline, _body(finding))
    if not findings:
        _testcase(suite, "redundant", f"no redundant or vacuous item among {report.items_checked} checked")
    return _document(suite, report.seconds, report.coverage)


def render_lint(report: LintReport) -> str:
    """One test case per rule that ran (failing with its findings, erring when undecided),
    so a clean run shows each rule passed. The findings ``npverify.io/ignore`` silenced are
    counted in the suite's property ``silenced`` and listed in their rule's ``<system-out>``,
    as is why a rule ran for nothing."""
    suite = _suite()
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "silenced", "value": str(len(report.silenced))})
    findings = lint_findings(report)
    for rule in report.rules:
        case = _testcase(suite, "lint", rule)
        out = [f"did not run: {s.reason}" for s in report.skipped if s.rule == rule]
        silenced = [f for f in report.silenced if f.rule == rule]
        if silenced:
            out.append(f"{len(silenced)} silenced by npverify.io/ignore:")
            out += [f"{f.location}: {f.message}" if f.location else f.message for f in silenced]
        if out:
            ET.SubElement(case, "system-out").text = xml_safe("\n".join(out))
        mine = [f for f in findings if f.check.id == f"lint/{rule}"]
        undecided = [u for u in report.undecided if u.rule == rule]
        if mine:
            body = "\n\n".join("\n".join((f"{f.location}: {f.headline}" if f.location else f.headline, *f.details)) for f in mine)
            _outcome(case, Outcome.FAILED, "lint", f"{len(mine)} finding{'s' if len(mine) != 1 else ''}: {mine[0].headline}", body)
        elif undecided:
            _outcome(case, Outcome.UNKNOWN, "", f"{rule} undecided: {undecided[0].reason}", "\n".join(u.reason for u in undecided))
    _unmodelled_cases(suite, [f for f in findings if f.check == UNMODELLED_OBJECT])
    return _document(suite, report.seconds, report.coverage)
