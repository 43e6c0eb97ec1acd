"""HTML tables for notebooks (``_repr_html_``)."""

from __future__ import annotations

from html import escape

from npverify.report.text import describe_endpoint
from npverify.results import InvariantResult, ProofReport, Verdict

_COLOURS = {Verdict.PROVED: "#1a7f37", Verdict.REFUTED: "#cf222e", Verdict.UNKNOWN: "#9a6700"}


def _row(result: InvariantResult) -> str:
    verdict = result.verdict
    packet = result.packet
    if packet is not None:
        shown = (
            f"{escape(str(packet.protocol))} {packet.port}<br>from {escape(describe_endpoint(packet.src))}"
            f"<br>to {escape(describe_endpoint(packet.dst, with_ports=True))}"
        )
        if result.decision is not None:
            shown += "<br><i>" + "<br>".join(escape(line) for line in result.decision.describe()) + "</i>"
    else:
        shown = escape(result.reason)
    return (
        f"<tr><td>{escape(result.invariant.name)}</td><td>{escape(str(result.invariant.kind))}</td>"
        f"<td style='color:{_COLOURS[verdict]};font-weight:bold'>{verdict.value.upper()}</td>"
        f"<td style='text-align:left'>{shown}</td><td>{result.seconds * 1000:.0f} ms</td></tr>"
    )


_HEAD = "<tr><th>invariant</th><th>kind</th><th>verdict</th><th>packet and reason</th><th>time</th></tr>"


def render_result_html(result: InvariantResult) -> str:
    return f"<table>{_HEAD}{_row(result)}</table>"


def render_report_html(report: ProofReport) -> str:
    rows = "".join(_row(r) for r in report.results)
    summary = (
        f"{report.count(Verdict.PROVED)} proved, {report.count(Verdict.REFUTED)} refuted, "
        f"{report.count(Verdict.UNKNOWN)} unknown"
    )
    return f"<table>{_HEAD}{rows}</table><p>{escape(summary)}</p>"


def render_comparison_html(comparison) -> str:
    rows = []
    for name, diffs in ((comparison.left_name, comparison.only_left), (comparison.right_name, comparison.only_right)):
        for diff in diffs or ():
            rows.append(
                f"<tr><td>only {escape(name)} allows</td><td style='text-align:left'>{escape(str(diff.region))}</td>"
                f"<td style='text-align:left'>{escape(describe_endpoint(diff.region.packet.src))} &rarr; "
                f"{escape(describe_endpoint(diff.region.packet.dst))} {escape(str(diff.region.packet.protocol))} {diff.region.packet.port}</td></tr>"
            )
    verdict = {True: "equivalent", False: "different", None: "unknown"}[comparison.same]
    head = "<tr><th>difference</th><th>region</th><th>example packet</th></tr>"
    return f"<p><b>{escape(comparison.left_name)}</b> vs <b>{escape(comparison.right_name)}</b>: {verdict}</p><table>{head}{''.join(rows)}</table>"


def render_redundancy_html(report) -> str:
    rows = [
        f"<tr><td>redundant</td><td>{escape(r.item.kind)}</td><td style='text-align:left'>{escape(str(r.item))}</td>"
        f"<td style='text-align:left'>covered by {escape('; '.join(str(c) for c in r.covered_by))}</td></tr>"
        for r in report.redundant
    ] + [
        f"<tr><td>vacuous</td><td>{escape(v.item.kind)}</td><td style='text-align:left'>{escape(str(v.item))}</td>"
        f"<td style='text-align:left'>{escape(v.reason)}</td></tr>"
        for v in report.vacuous
    ]
    head = "<tr><th>category</th><th>item</th><th>where</th><th>why</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"
