"""SARIF 2.1.0 rendering, for GitHub code scanning and other SARIF viewers.

One run per document. ``tool.driver.rules`` holds one rule per kind of question (an
invariant kind, a comparison direction, a redundancy category); ``results`` holds one
result per refuted invariant, difference region or redundant/vacuous item (level
``error``) and per undecided one (level ``warning``, ``properties.verdict`` "unknown":
UNKNOWN is never a pass). A result is located at the invariant in the invariants file,
or at the deciding policy rule; the rules that decided its packet are related locations,
linked from the message as ``[file:line:col](id)``.

Proved invariants produce no result. SARIF has ``kind: "pass"`` results, but GitHub code
scanning ignores ``kind`` and would show every pass as an open alert; a clean run is an
empty ``results`` list, which closes earlier alerts.
"""

from __future__ import annotations

import json
from pathlib import PureWindowsPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from npverify import __version__
from npverify.model import SourceLocation
from npverify.report.findings import (
    COMPARISON_CHECKS,
    INVARIANT_CHECKS,
    REDUNDANCY_CHECKS,
    UNMODELLED_OBJECT,
    Check,
    Finding,
    Outcome,
    Related,
    comparison_findings,
    lint_checks,
    lint_findings,
    is_containment,
    is_working_tree_file,
    proof_findings,
    redundancy_findings,
    relative_path,
)
from npverify.results import ProofReport

if TYPE_CHECKING:
    from npverify.compare import Comparison
    from npverify.coverage import Coverage
    from npverify.lint import LintReport
    from npverify.redundancy import RedundancyReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
#: The project's home page for ``tool.driver.informationUri``; None until it has a public one.
INFORMATION_URI: str | None = None
#: Relative artifact URIs are relative to this base: the directory npverify ran in,
#: which GitHub code scanning takes to be the repository root.
SRCROOT = "%SRCROOT%"

_LEVELS = {Outcome.FAILED: "error", Outcome.UNKNOWN: "warning"}


def _warning_rules() -> frozenset[str]:
    from npverify.lint.rules import RULES
    from npverify.model import Severity

    return frozenset(f"lint/{r.id}" for r in RULES if r.severity is Severity.WARNING)


#: Lint rules whose findings are warnings by default (their SARIF defaultConfiguration).
_WARNING_RULES = _warning_rules()


def artifact_uri(file: str, root: str | None) -> tuple[str, bool]:
    """The URI of an input file, and whether it is relative (to ``SRCROOT``).

    Paths below ``root`` become relative; others stay absolute ``file:`` URIs.
    """
    path = relative_path(file, root)
    if path.startswith("/"):
        return "file://" + quote(path), False
    if PureWindowsPath(path).drive:
        return "file:///" + quote(path, safe="/:"), False
    return quote(path), True


def _physical(location: SourceLocation, root: str | None) -> dict[str, Any]:
    uri, relative = artifact_uri(location.file, root)
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = SRCROOT
    return {
        "artifactLocation": artifact,
        "region": {"startLine": location.line, "startColumn": location.column},
    }


def _rule(check: Check) -> dict[str, Any]:
    undecided = check.id.endswith("undecided") or check.id == "unmodelled" or check.id in _WARNING_RULES
    return {
        "id": f"npverify/{check.id}",
        "name": check.name,
        "shortDescription": {"text": check.short},
        "fullDescription": {"text": check.full},
        "help": {"text": check.help},
        "defaultConfiguration": {"level": "warning" if undecided else "error"},
        "properties": {"tags": ["kubernetes", "networkpolicy"]},
    }


def _message(text: str) -> dict[str, str]:
    """A plain-text SARIF message: literal braces doubled (SARIF 2.1.0 §3.11.5, since
    "{0}" would be a placeholder) and lines not indented (§3.11.3)."""
    lines = [line.strip() for line in text.split("\n")]
    return {"text": "\n".join(lines).replace("{", "{{").replace("}", "}}")}


def _result(finding: Finding, rule_index: int, root: str | None) -> dict[str, Any]:
    related: list[tuple[int, Related]] = [
        (number, r) for number, r in enumerate((r for r in finding.related if is_working_tree_file(r.location)), start=1)
    ]
    lines = [finding.headline, *finding.details]
    if related:
        # GitHub links a related location when the message embeds it as [text](id).
        lines.append("see " + ", ".join(f"[{r.location}]({number})" for number, r in related))
    result: dict[str, Any] = {
        "ruleId": f"npverify/{finding.check.id}",
        "ruleIndex": rule_index,
        "level": finding.level or _LEVELS[finding.outcome],
        "message": _message("\n".join(lines)),
        "locations": [],
        "properties": {"verdict": finding.verdict.lower(), "outcome": finding.outcome.value, "subject": finding.name},
    }
    if is_working_tree_file(finding.location):
        assert finding.location is not None
        result["locations"] = [{"physicalLocation": _physical(finding.location, root)}]
    elif finding.location is not None:
        # A file of a git revision: no file in the working tree to point at; say where in words.
        result["locations"] = [{"message": _message(str(finding.location))}]
    if related:
        result["relatedLocations"] = [
            {"id": number, "physicalLocation": _physical(r.location, root), "message": _message(r.text)}
            for number, r in related
        ]
    return result


def _notification(level: str, text: str) -> dict[str, Any]:
    return {"level": level, "message": _message(text)}


def _log(
    command: str,
    checks: tuple[Check, ...],
    findings: list[Finding],
    notifications: list[dict[str, Any]],
    root: str | None,
) -> dict[str, Any]:
    index = {check.id: i for i, check in enumerate(checks)}
    results = [_result(f, index[f.check.id], root) for f in findings if f.outcome is not Outcome.PASSED]
    driver: dict[str, Any] = {"name": "npverify", "version": __version__}
    if INFORMATION_URI:
        driver["informationUri"] = INFORMATION_URI
    driver["rules"] = [_rule(c) for c in checks]
    # The analysis succeeded when every question was decided; an undecided one (exit 3)
    # makes the run incomplete, which SARIF consumers should not read as clean.
    invocation: dict[str, Any] = {
        "executionSuccessful": all(f.outcome is not Outcome.UNKNOWN for f in findings),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        # A category per command, so uploading prove's and redundant's SARIF for one commit
        # keeps both (upload-sarif's `category` input replaces it when given).
        "automationDetails": {"id": f"npverify/{command}/"},
        "invocations": [invocation],
        # Columns count characters, as the YAML reader does, not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    if root is not None:
        base = _directory_uri(root)
        invocation["workingDirectory"] = {"uri": base}
        run["originalUriBaseIds"] = {SRCROOT: {"uri": base}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _directory_uri(root: str) -> str:
    """A directory's URI, ending in "/" as SARIF requires of base URIs."""
    uri, _ = artifact_uri(root, None)
    return uri if uri.endswith("/") else uri + "/"


def _dumps(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def report_sarif(report: ProofReport, root: str | None = None) -> dict[str, Any]:
    """``root``: the directory relative paths are relative to (the CLI's working directory)."""
    notifications = [_notification("warning", w) for w in report.warnings]
    notifications += _ignored_notifications(report.coverage)
    notifications += [_notification("note", f"skipped {s}: a kind npverify does not use") for s in report.skipped]
    findings = proof_findings(report)
    # A proved invariant is no result (see above), but one that holds vacuously needs a look.
    notifications += [_notification("note", f"{f.name}: {f.note}") for f in findings if f.note]
    return _log("prove", (*INVARIANT_CHECKS.values(), UNMODELLED_OBJECT), findings, notifications, root)


def _ignored_notifications(coverage: Coverage) -> list[dict[str, Any]]:
    """A note per object the user chose to ignore: the answers assume it does not exist."""
    return [_notification("note", f"ignored (--ignore-kind) {o}: answers assume it does not exist") for o in coverage.ignored]


def _coverage_notifications(coverage: Coverage) -> list[dict[str, Any]]:
    return _ignored_notifications(coverage) + [
        _notification("note", f"skipped {s}: a kind npverify does not use") for s in coverage.skipped
    ]


def render_report(report: ProofReport, root: str | None = None) -> str:
    return _dumps(report_sarif(report, root))


def comparison_sarif(comparison: Comparison, root: str | None = None) -> dict[str, Any]:
    findings = comparison_findings(comparison)
    notifications = [_notification("warning", f"solver: {comparison.reason}")] if comparison.reason else []
    notifications += _coverage_notifications(comparison.coverage)
    command = "contains" if is_containment(comparison) else "equiv"
    return _log(command, COMPARISON_CHECKS, findings, notifications, root)


def render_comparison(comparison: Comparison, root: str | None = None) -> str:
    return _dumps(comparison_sarif(comparison, root))


def redundancy_sarif(report: RedundancyReport, root: str | None = None) -> dict[str, Any]:
    return _log("redundant", REDUNDANCY_CHECKS, redundancy_findings(report), _coverage_notifications(report.coverage), root)


def render_redundancy(report: RedundancyReport, root: str | None = None) -> str:
    return _dumps(redundancy_sarif(report, root))


def lint_sarif(report: LintReport, root: str | None = None) -> dict[str, Any]:
    notifications = [_notification("warning", w) for w in report.warnings]
    notifications += [_notification("note", f"{s.rule} not run: {s.reason}") for s in report.skipped]
    if report.silenced:
        notifications.append(_notification("note", f"{len(report.silenced)} finding(s) silenced by npverify.io/ignore annotations"))
    notifications += _coverage_notifications(report.coverage)
    return _log("lint", lint_checks(), lint_findings(report), notifications, root)


def render_lint(report: LintReport, root: str | None = None) -> str:
    return _dumps(lint_sarif(report, root))
