"""GitHub Actions workflow commands: annotations at file and line on the run and the PR.

``::error`` for a refuted invariant, a difference region or a redundant/vacuous item;
``::warning`` for an undecided one (UNKNOWN is never a pass); a closing ``::notice`` with
the summary line. Each annotation sits at the invariant, or at the policy rule that
decided the packet; the message holds the counterexample and the deciding rules.

Escaping follows the runner's rules: in the message ``%``, CR and LF become ``%25``,
``%0D``, ``%0A``; in property values (file, title) ``:`` and ``,`` also become ``%3A``
and ``%2C``, since they separate the properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from npverify.report import text as text_report
from npverify.report.findings import (
    lint_findings,
    Finding,
    Outcome,
    comparison_findings,
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

_COMMANDS = {Outcome.FAILED: "error", Outcome.UNKNOWN: "warning"}


def escape_data(value: str) -> str:
    """A workflow command's message."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value (file, title)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """``::name key=value,...::message``, properties in the given order, None ones left out."""
    given = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None)
    return f"::{name}{' ' + given if given else ''}::{escape_data(message)}"


def annotation(finding: Finding, root: str | None = None) -> str:
    """One finding as an ``::error`` or ``::warning`` at its location (when it is a file
    of the working tree; ``root`` makes absolute paths relative to the repository)."""
    where = finding.location if is_working_tree_file(finding.location) else None
    lines = list(finding.details)
    if finding.location is not None and where is None:
        lines.append(f"at {finding.location}")
    shown = "\n".join(lines)
    lines += [f"{r.text} ({r.location})" for r in finding.related if str(r.location) not in shown]
    return command(
        finding.level or _COMMANDS[finding.outcome],
        "\n".join(lines) or finding.headline,
        file=relative_path(where.file, root) if where else None,
        line=where.line if where else None,
        col=where.column if where else None,
        title=finding.headline.rstrip("."),
    )


def _render(
    findings: list[Finding], summary: str, root: str | None, coverage: Coverage, warnings: tuple[str, ...] = ()
) -> str:
    lines = [annotation(f, root) for f in findings if f.outcome is not Outcome.PASSED]
    lines += [command("warning", w, title="npverify") for w in warnings]
    # A proved invariant is no annotation, but one that holds vacuously needs a look.
    lines += [command("notice", f.note, title=f"{f.headline.rstrip('.')}") for f in findings if f.outcome is Outcome.PASSED and f.note]
    # Unmodelled objects are annotations (findings); each ignored object is a notice at it.
    for obj in coverage.ignored:
        where = obj.location if is_working_tree_file(obj.location) else None
        lines.append(
            command(
                "notice",
                f"ignored (--ignore-kind) {obj}: answers assume it does not exist",
                file=relative_path(where.file, root) if where else None,
                line=where.line if where else None,
                col=where.column if where else None,
                title="npverify",
            )
        )
    lines += [command("notice", note, title="npverify") for note in coverage.notes(unmodelled=False, ignored=False)]
    lines.append(command("notice", summary, title="npverify"))
    return "\n".join(lines) + "\n"


def render_report(report: ProofReport, root: str | None = None) -> str:
    return _render(proof_findings(report), text_report.summary_line(report), root, report.coverage, report.warnings)


def _last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


def render_comparison(comparison: Comparison, root: str | None = None) -> str:
    return _render(
        comparison_findings(comparison), _last_line(text_report.render_comparison(comparison)), root, comparison.coverage
    )


def render_redundancy(report: RedundancyReport, root: str | None = None) -> str:
    return _render(redundancy_findings(report), _last_line(text_report.render_redundancy(report)), root, report.coverage)


def render_lint(report: LintReport, root: str | None = None) -> str:
    return _render(lint_findings(report), _last_line(text_report.render_lint(report)), root, report.coverage, report.warnings)
