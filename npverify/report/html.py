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
