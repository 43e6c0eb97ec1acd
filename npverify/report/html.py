"""HTML for notebooks (``_repr_html_``) and standalone pages.

Every piece of text that comes from the input (names, labels, namespaces, paths,
reasons) goes through ``html.escape``: a label value may hold any text, markup included.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from npverify.model import Packet
from npverify.report.text import describe_endpoint, describe_packet
from npverify.results import InvariantResult, ProofReport, Verdict

if TYPE_CHECKING:
    from npverify.compare import Comparison, Difference
    from npverify.redundancy import RedundancyReport
    from npverify.semantics import Decision

_COLOURS = {Verdict.PROVED: "#1a7f37", Verdict.REFUTED: "#cf222e", Verdict.UNKNOWN: "#9a6700"}
#: Colours of a comparison's verdict: same (True), different (False), undecided (None).
_SAME_COLOURS = {True: _COLOURS[Verdict.PROVED], False: _COLOURS[Verdict.REFUTED], None: _COLOURS[Verdict.UNKNOWN]}


def _lines(lines: Iterable[str]) -> str:
    """Lines of plain text as escaped HTML, one per line."""
    return "<br>".join(escape(line) for line in lines)


def _decision_html(decision: Decision) -> str:
    """'allowed'/'denied' and the policies and rules that decided, with file:line."""
    verdict = "allowed" if decision.allowed else "denied"
    return f"<b>{verdict}</b><br>{_lines(decision.describe())}"


def render_packet_html(packet: Packet) -> str:
    """A packet as a two-column table: protocol, port, source, destination."""
    rows = [
        ("protocol", str(packet.protocol)),
        ("port", str(packet.port)),
        ("from", describe_endpoint(packet.src)),
        ("to", describe_endpoint(packet.dst, with_ports=True)),
    ]
    body = "".join(f"<tr><th>{name}</th><td style='text-align:left'>{escape(value)}</td></tr>" for name, value in rows)
    notes = describe_packet(packet)[3:]
    caption = f"<caption style='caption-side:bottom'><i>{_lines(notes)}</i></caption>" if notes else ""
    return f"<table class='npverify-packet'>{caption}{body}</table>"


def _row(result: InvariantResult) -> str:
    verdict = result.verdict
    packet = result.packet
    parts = []
    if packet is not None:
        label = "witness" if verdict is Verdict.PROVED else "counterexample"
        parts.append(f"{label}: {_lines(describe_packet(packet))}")
        if result.decision is not None:
            parts.append(f"<i>{_lines(result.decision.describe())}</i>")
    if result.reason:
        parts.append(escape(result.reason))
    shown = "<br>".join(parts)
    where = f"<br><small>{escape(str(result.invariant.location))}</small>" if result.invariant.location else ""
    return (
        f"<tr><td>{escape(result.invariant.name)}</td><td>{escape(str(result.invariant.kind))}{where}</td>"
        f"<td style='color:{_COLOURS[verdict]};font-weight:bold'>{verdict.value.upper()}</td>"
        f"<td style='text-align:left'>{shown}</td><td>{result.seconds * 1000:.0f} ms</td></tr>"
    )


_HEAD = "<tr><th>invariant</th><th>kind</th><th>verdict</th><th>packet and reason</th><th>time</th></tr>"


def render_result_html(result: InvariantResult) -> str:
    return f"<table>{_HEAD}{_row(result)}</table>"


def render_report_html(report: ProofReport) -> str:
    """The report as in the text output: what was loaded, warnings, one row per invariant, counts."""
    head = []
    if report.source:
        head.append(f"npverify: {report.source}")
    if report.cluster_summary:
        head.append(f"loaded {report.cluster_summary}")
    intro = f"<p>{_lines(head)}</p>" if head else ""
    notes = [f"warning: {w}" for w in report.warnings]
    if report.skipped:
        notes.append(f"skipped {len(report.skipped)} document(s) of kinds npverify does not use:")
        notes += [f"  {s}" for s in report.skipped]
    listed = "<ul class='npverify-notes'>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>" if notes else ""
    rows = "".join(_row(r) for r in report.results)
    summary = (
        f"{len(report.results)} invariants: {report.count(Verdict.PROVED)} proved, "
        f"{report.count(Verdict.REFUTED)} refuted, {report.count(Verdict.UNKNOWN)} unknown"
    )
    return f"{intro}{listed}<table class='npverify-report'>{_HEAD}{rows}</table><p>{escape(summary)}</p>"


def render_difference_html(difference: Difference, left_name: str = "left", right_name: str = "right") -> str:
    """One region where two policy sets differ: the region, an example packet, each side's decision."""
    region = difference.region
    rows = [
        ("region", escape(str(region))),
        ("example packet", render_packet_html(region.packet)),
        (f"{left_name} {'allows' if difference.left.allowed else 'denies'}", _decision_html(difference.left)),
        (f"{right_name} {'allows' if difference.right.allowed else 'denies'}", _decision_html(difference.right)),
    ]
    body = "".join(f"<tr><th>{escape(name)}</th><td style='text-align:left'>{value}</td></tr>" for name, value in rows)
    return f"<table class='npverify-difference'>{body}</table>"


def render_comparison_html(comparison: Comparison) -> str:
    """Both directions of a comparison (one for containment): a row per region, then the verdict."""
    left, right = comparison.left_name, comparison.right_name
    containment = comparison.only_left is None
    rows = []
    for diffs, complete, name in (
        (comparison.only_left, comparison.left_complete, left),
        (comparison.only_right, comparison.right_complete, right),
    ):
        if diffs is None:
            continue
        count = f"{len(diffs)} region{'s' if len(diffs) != 1 else ''}"
        if not complete:
            count += " (more exist; raise --max-diffs)" if diffs else " (undecided)"
        rows.append(f"<tr><th colspan='5' style='text-align:left'>only {escape(name)} allows: {escape(count)}</th></tr>")
        for number, diff in enumerate(diffs, start=1):
            rows.append(
                f"<tr><td>[{number}]</td><td style='text-align:left'>{escape(str(diff.region))}</td>"
                f"<td style='text-align:left'>{_lines(describe_packet(diff.region.packet)[:3])}</td>"
                f"<td style='text-align:left'>{_decision_html(diff.left)}</td>"
                f"<td style='text-align:left'>{_decision_html(diff.right)}</td></tr>"
            )
    if containment:
        title = f"does {left} contain {right}"
        verdict = {True: "CONTAINED", False: "NOT CONTAINED", None: "UNKNOWN"}[comparison.same]
    else:
        title = f"{left} vs {right}"
        verdict = {True: "EQUIVALENT", False: "DIFFERENT", None: "UNKNOWN"}[comparison.same]
    head = (
        f"<tr><th></th><th>region</th><th>example packet</th><th>{escape(left)}</th><th>{escape(right)}</th></tr>"
    )
    reason = f"<p>solver: {escape(comparison.reason)}</p>" if comparison.reason else ""
    count = len(comparison.differences)
    return (
        f"<p>npverify: {escape(title)}</p><table class='npverify-comparison'>{head}{''.join(rows)}</table>{reason}"
        f"<p><b style='color:{_SAME_COLOURS[comparison.same]}'>{verdict}</b>: "
        f"{count} difference region{'s' if count != 1 else ''}</p>"
    )


def render_redundancy_html(report: RedundancyReport) -> str:
    """Redundant, vacuous and undecided items, one row each, with file:line."""

    def where(item) -> str:
        return escape(f"{item} ({item.location})" if item.location else str(item))

    rows = [
        f"<tr><td>redundant</td><td>{escape(r.item.kind)}</td><td style='text-align:left'>{where(r.item)}</td>"
        f"<td style='text-align:left'>covered by {escape('; '.join(str(c) for c in r.covered_by))}</td></tr>"
        for r in report.redundant
    ] + [
        f"<tr><td>vacuous</td><td>{escape(v.item.kind)}</td><td style='text-align:left'>{where(v.item)}</td>"
        f"<td style='text-align:left'>{escape(v.reason)}</td></tr>"
        for v in report.vacuous
    ] + [
        f"<tr><td>undecided</td><td>{escape(u.item.kind)}</td><td style='text-align:left'>{where(u.item)}</td>"
        f"<td style='text-align:left'>{escape(u.reason)}</td></tr>"
        for u in report.undecided
    ]
    head = "<tr><th>category</th><th>item</th><th>where</th><th>why</th></tr>"
    summary = (
        f"{report.items_checked} items checked: {len(report.redundant)} redundant, "
        f"{len(report.vacuous)} vacuous, {len(report.undecided)} undecided"
    )
    return f"<table class='npverify-redundancy'>{head}{''.join(rows)}</table><p>{escape(summary)}</p>"


_PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5em}"
    "table{border-collapse:collapse;margin:0.5em 0}"
    "th,td{border:1px solid #d0d7de;padding:0.3em 0.6em;vertical-align:top}"
)


def html_page(title: str, body: str) -> str:
    """A standalone HTML5 document around ``body`` (already HTML); ``title`` is plain text."""
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n<style>{_PAGE_STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def render_report_page(report: ProofReport) -> str:
    """A proof report as a standalone HTML page."""
    return html_page(f"npverify: {report.source}" if report.source else "npverify", render_report_html(report))


# --- explain ---------------------------------------------------------------------------


def render_explanation_html(explanation) -> str:
    """An explanation as a small table: one row per sentence, the verdict coloured."""
    from npverify.explain import endpoint_name

    packet = explanation.packet
    allowed = explanation.allowed
    colour = "#1a7f37" if allowed else "#cf222e"
    head = (
        f"<p>{escape(str(packet.protocol))}/{packet.port} from {escape(endpoint_name(packet.src))} "
        f"to {escape(endpoint_name(packet.dst))}: "
        f"<span style='color:{colour};font-weight:bold'>{'ALLOWED' if allowed else 'DENIED'}</span></p>"
    )
    rows = "".join(
        f"<tr><td>{'' if s.detail else escape(s.topic)}</td>"
        f"<td style='text-align:left{';padding-left:2em' if s.detail else ''}'>{escape(s.text)}</td></tr>"
        for s in explanation.sentences
    )
    return f"{head}<table><tr><th>about</th><th>why</th></tr>{rows}</table>"
