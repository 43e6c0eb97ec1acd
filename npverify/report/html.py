"""HTML for notebooks (``_repr_html_``) and standalone pages.

Every piece of text that comes from the input (names, labels, namespaces, paths,
reasons) goes through ``html.escape``: a label value may hold any text, markup included.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from npverify.model import Packet
from npverify.report.text import describe_endpoint, describe_packet, packet_label, redundancy_reason_lines
from npverify.words import counted
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
        label = packet_label(result)
        parts.append(f"{label}: {_lines(describe_packet(packet))}")
        if result.decision is not None:
            parts.append(f"<i>{_lines(result.decision.describe())}</i>")
    if result.reason:
        parts.append(escape(result.reason))
    if result.note:
        parts.append(escape(f"note: {result.note}"))
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
    notes = list(report.warnings)
    notes += report.coverage.details(skipped=False)
    if report.skipped:
        notes.append(f"skipped {counted(len(report.skipped), 'document')} of kinds npverify does not use:")
        notes += [f"  {s}" for s in report.skipped]
    listed = "<ul class='npverify-notes'>" + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>" if notes else ""
    rows = "".join(_row(r) for r in report.results)
    summary = (
        f"{counted(len(report.results), 'invariant')}: {report.count(Verdict.PROVED)} proved, "
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
        count = counted(len(diffs), "region")
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
        f"<p>npverify: {escape(title)}</p>{_coverage_html(comparison.coverage)}<table class='npverify-comparison'>{head}{''.join(rows)}</table>{reason}"
        f"<p><b style='color:{_SAME_COLOURS[comparison.same]}'>{verdict}</b>: "
        f"{counted(count, 'difference region')}</p>"
    )


def _coverage_html(coverage) -> str:
    """What the input held that npverify did not model or use, as a list ("" if nothing)."""
    lines = coverage.details()
    return "<ul class='npverify-notes'>" + "".join(f"<li>{escape(n)}</li>" for n in lines) + "</ul>" if lines else ""


def render_redundancy_html(report: RedundancyReport) -> str:
    """Redundant, vacuous and undecided items, one row each, with file:line."""

    def where(item) -> str:
        return escape(f"{item} ({item.location})" if item.location else str(item))

    rows = [
        f"<tr><td>redundant</td><td>{escape(r.item.kind)}</td><td style='text-align:left'>{where(r.item)}</td>"
        f"<td style='text-align:left'>{_lines(redundancy_reason_lines(r))}</td></tr>"
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
        f"{counted(report.items_checked, 'item')} checked: {len(report.redundant)} redundant, "
        f"{len(report.vacuous)} vacuous, {len(report.undecided)} undecided"
    )
    return f"{_coverage_html(report.coverage)}<table class='npverify-redundancy'>{head}{''.join(rows)}</table><p>{escape(summary)}</p>"


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
    verdict = "ALLOWED" if allowed else "DENIED"
    if not explanation.known:
        colour, verdict = "#9a6700", f"UNKNOWN (NetworkPolicies alone: {verdict})"
    head = (
        f"<p>{escape(str(packet.protocol))}/{packet.port} from {escape(endpoint_name(packet.src))} "
        f"to {escape(endpoint_name(packet.dst))}: "
        f"<span style='color:{colour};font-weight:bold'>{verdict}</span></p>{_coverage_html(explanation.coverage)}"
    )
    rows = "".join(
        f"<tr><td>{'' if s.detail else escape(s.topic)}</td>"
        f"<td style='text-align:left{';padding-left:2em' if s.detail else ''}'>{escape(s.text)}</td></tr>"
        for s in explanation.sentences
    )
    return f"{head}<table><tr><th>about</th><th>why</th></tr>{rows}</table>"


# --- connectivity matrix (npverify matrix) ----------------------------------------------

#: Above this many rows the matrix is shown as a list of non-empty cells, not a grid.
MATRIX_GRID_MAX = 60
#: Above this many nodes or edges the page leaves the graph out (use --format dot).
MATRIX_GRAPH_MAX_NODES = 300
MATRIX_GRAPH_MAX_EDGES = 4000

#: The matrix's table and verdict styles, shared by the page and the notebook view.
_MATRIX_RULES = (
    ("table", "border-collapse:separate;border-spacing:0;font-size:0.85em"),
    ("th,td", "border:1px solid #d0d7de;padding:0.25em 0.5em;white-space:nowrap;text-align:left"),
    ("thead th,tbody th", "background:#f6f8fa"),
    (".scroll", "overflow:auto;max-height:80vh;max-width:100%;border:1px solid #d0d7de"),
    (".scroll thead th", "position:sticky;top:0;background:#f6f8fa;z-index:1"),
    (".scroll tbody th", "position:sticky;left:0;background:#f6f8fa"),
    (".scroll thead th:first-child", "left:0;z-index:2"),
    ("td.none", "color:#8c959f"),
    ("td.na", "color:#8c959f;font-style:italic"),
    ("td.some", "background:#fff8c5"),
    ("td.all", "background:#dafbe1"),
    (".verdict", "font-weight:bold"),
    (".proved", "color:#1a7f37"),
    (".unknown", "color:#9a6700"),
    (".unproved", "color:#cf222e"),
    ("svg text", "font-family:system-ui,sans-serif"),
)

_MATRIX_STYLE = "body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}" + "".join(
    f"{selector}{{{rules}}}" for selector, rules in _MATRIX_RULES
)

#: The class of the notebook view's wrapper: its styles apply inside it only, since a
#: notebook puts every output's <style> into one shared page.
MATRIX_SCOPE = "npverify-matrix"

_MATRIX_SCOPED_STYLE = f".{MATRIX_SCOPE}{{font-family:system-ui,sans-serif;color:#1f2328}}" + "".join(
    ",".join(f".{MATRIX_SCOPE} {part.strip()}" for part in selector.split(",")) + f"{{{rules}}}"
    for selector, rules in _MATRIX_RULES
)


def _matrix_verdict_html(matrix) -> str:
    from npverify.report.text import matrix_verdict_line

    line = matrix_verdict_line(matrix)
    word, _, rest = line.partition(" ")
    css = {None: "unproved", Verdict.PROVED: "proved", Verdict.UNKNOWN: "unknown"}.get(matrix.verdict, "unknown")
    return f"<p><span class='verdict {css}'>{escape(word)}</span> {escape(rest.strip())}</p>"


def _matrix_cell_td(matrix, i: int, j: int) -> str:
    if (i, j) in matrix.void:
        return "<td class='na'>n/a</td>"
    cell = matrix.cells.get((i, j))
    if cell is None:
        return "<td class='none'>-</td>"
    css = "all" if cell.may_only.is_empty else "some"
    return f"<td class='{css}' title='{escape(matrix.rows[i])} &rarr; {escape(matrix.columns[j])}'>{escape(cell.text())}</td>"


def _matrix_table_html(matrix, scroll: bool) -> str:
    n = len(matrix.rows)
    if n <= MATRIX_GRID_MAX:
        head = "<tr><th>from \\ to</th>" + "".join(f"<th>{escape(c)}</th>" for c in matrix.columns) + "</tr>"
        body = "".join(
            f"<tr><th>{escape(matrix.rows[i])}</th>" + "".join(_matrix_cell_td(matrix, i, j) for j in range(n)) + "</tr>"
            for i in range(n)
        )
    else:
        head = "<tr><th>from</th><th>to</th><th>ports</th></tr>"
        body = "".join(
            f"<tr><th>{escape(s)}</th><td>{escape(d)}</td>"
            f"<td class='{'all' if cell.may_only.is_empty else 'some'}'>{escape(cell.text())}</td></tr>"
            for s, d, cell in matrix.nonempty()
        )
    table = f"<table><thead>{head}</thead><tbody>{body}</tbody></table>"
    return f"<div class='scroll'>{table}</div>" if scroll else table


def render_matrix_html(matrix) -> str:
    """A connectivity matrix for notebooks: a grid, or the non-empty cells as a list when large,
    styled as on the page by styles scoped to its own wrapper."""
    return (
        f"<div class='{MATRIX_SCOPE}'><style>{_MATRIX_SCOPED_STYLE}</style>"
        f"<p>connectivity matrix by {escape(matrix.by)}: {counted(len(matrix.rows), matrix.by)}, "
        f"{counted(len(matrix.cells), 'non-empty cell')} "
        "(rows are sources; * marks ports allowed for some pods or IPs only)</p>"
        + _matrix_table_html(matrix, scroll=False)
        + _matrix_verdict_html(matrix)
        + "</div>"
    )


def _matrix_graph_svg(matrix) -> str:
    """The matrix as a graph drawn on a circle, grouped by namespace, as inline SVG."""
    import math

    nodes = list(matrix.rows)
    edges = list(matrix.nonempty())
    if len(nodes) > MATRIX_GRAPH_MAX_NODES or len(edges) > MATRIX_GRAPH_MAX_EDGES:
        return (
            f"<p>graph left out: {counted(len(nodes), 'node')} and {counted(len(edges), 'edge')} are too many to draw legibly here; "
            "use <code>--format dot</code> and Graphviz.</p>"
        )
    groups = [n.split("/", 1)[0] if matrix.by == "workload" else n for n in nodes]
    # One slot per node plus one empty slot between namespaces, so groups stand apart.
    slots, slot = [], 0
    for k, group in enumerate(groups):
        if k and group != groups[k - 1] and matrix.by == "workload":
            slot += 1
        slots.append(slot)
        slot += 1
    total = max(slot, 1)
    radius = max(160.0, total * 14.0)
    centre = 0.0
    points = []
    for s in slots:
        angle = 2 * math.pi * s / total - math.pi / 2
        points.append((centre + radius * math.cos(angle), centre + radius * math.sin(angle), angle))
    index = {n: k for k, n in enumerate(nodes)}
    # Labels first: the picture is sized to hold all of them, however long the names.
    labels: list[tuple[float, float, str, int, bool, str]] = []  # x, baseline y, anchor, size, bold, text
    outermost: dict[str, float] = {}  # per namespace, how far from the centre its node labels reach
    for k, node in enumerate(nodes):
        x, y, angle = points[k]
        label = node.split("/", 1)[1] if matrix.by == "workload" else node
        anchor = "start" if math.cos(angle) >= 0 else "end"
        labels.append((x + 26 * math.cos(angle), y + 26 * math.sin(angle) + 4, anchor, 11, False, label))
        reach = radius + 26 + _text_width(label, 11, bold=False) * abs(math.cos(angle))
        outermost[groups[k]] = max(outermost.get(groups[k], 0.0), reach)
    if matrix.by == "workload":
        seen: dict[str, list[int]] = {}
        for k, group in enumerate(groups):
            seen.setdefault(group, []).append(k)
        for group, members in seen.items():
            angle = sum(points[k][2] for k in members) / len(members)
            distance = max(radius + 60, outermost[group] + 24)  # outside its own node labels
            anchor = "start" if math.cos(angle) >= 0 else "end"
            labels.append((centre + distance * math.cos(angle), centre + distance * math.sin(angle), anchor, 13, True, group))
    left, top, right, bottom = -radius - 30, -radius - 30, radius + 30, radius + 30  # dots and self-loops
    for x, y, anchor, font, bold, text in labels:
        x0, x1 = _text_extent(x, anchor, _text_width(text, font, bold))
        left, right = min(left, x0), max(right, x1)
        top, bottom = min(top, y - font), max(bottom, y + font * 0.4)
    pad = 12.0
    left, top, width, height = left - pad, top - pad, right - left + 2 * pad, bottom - top + 2 * pad
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='{left:.0f} {top:.0f} {width:.0f} {height:.0f}' role='img'>",
        "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' markerHeight='7' orient='auto-start-reverse'>"
        "<path d='M0,0 L10,5 L0,10 z' fill='#57606a'/></marker></defs>",
    ]
    for source, destination, cell in edges:
        x1, y1, _ = points[index[source]]
        x2, y2, _ = points[index[destination]]
        dash = " stroke-dasharray='5,4'" if cell.always.is_empty else ""
        title = f"<title>{escape(source)} &rarr; {escape(destination)}: {escape(cell.text())}</title>"
        if source == destination:
            angle = points[index[source]][2]
            parts.append(
                f"<circle cx='{x1 + 12 * math.cos(angle):.1f}' cy='{y1 + 12 * math.sin(angle):.1f}' "
                f"r='8' fill='none' stroke='#57606a'{dash}>{title}</circle>"
            )
            continue
        # Curve towards the centre so that A->B and B->A do not overlap; stop short of the
        # destination's dot so that the arrowhead shows.
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        cx, cy = mx + (centre - mx) * 0.35, my + (centre - my) * 0.35
        length = math.hypot(x2 - cx, y2 - cy) or 1.0
        x2, y2 = x2 - 7 * (x2 - cx) / length, y2 - 7 * (y2 - cy) / length
        parts.append(
            f"<path d='M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}' fill='none' stroke='#57606a' "
            f"stroke-width='1' marker-end='url(#arrow)'{dash}>{title}</path>"
        )
    for k, node in enumerate(nodes):
        x, y, _ = points[k]
        parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='5' fill='#0969da'><title>{escape(node)}</title></circle>")
    for x, y, anchor, font, bold, text in labels:
        weight = " font-weight='bold'" if bold else ""
        parts.append(f"<text x='{x:.1f}' y='{y:.1f}' font-size='{font}'{weight} text-anchor='{anchor}'>{escape(text)}</text>")
    parts.append("</svg>")
    return "".join(parts)


def _text_width(text: str, font_size: int, bold: bool) -> float:
    """A generous estimate of how wide ``text`` is drawn: SVG cannot measure text without
    a script, so every character is taken as wide as a wide sans-serif letter."""
    return len(text) * font_size * (0.68 if bold else 0.62)


def _text_extent(x: float, anchor: str, width: float) -> tuple[float, float]:
    """Left and right edge of text of ``width`` anchored at ``x``."""
    if anchor == "start":
        return x, x + width
    if anchor == "end":
        return x - width, x
    return x - width / 2, x + width / 2


def render_matrix_page(matrix) -> str:
    """A connectivity matrix as a self-contained HTML page: inline CSS, a table with sticky
    headers and an inline SVG graph; no scripts and no external resources."""
    title = f"npverify: connectivity matrix by {matrix.by}"
    notes = "".join(f"<p>note: {escape(note)}</p>" for note in matrix.notes)
    body = (
        f"<p>{counted(len(matrix.rows), matrix.by)}, {counted(len(matrix.cells), 'non-empty cell')}. Rows are sources, columns destinations; "
        "ports marked * are allowed for some pods or IPs only; '-' nothing allowed; 'n/a' no such pair of pods in "
        "the universe.</p>"
        + notes
        + _matrix_verdict_html(matrix)
        + "<h2>Matrix</h2>"
        + _matrix_table_html(matrix, scroll=True)
        + "<h2>Graph</h2><p>Dashed edges: every port allowed only for some pods or IPs. Hover an edge for its ports.</p>"
        + _matrix_graph_svg(matrix)
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{escape(title)}</title>\n<style>{_MATRIX_STYLE}</style>\n</head>\n"
        f"<body>\n<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
