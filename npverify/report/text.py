"""Plain-text rendering of results, for terminals and logs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from npverify.coverage import unknown_reason
from npverify.invariants.model import InvariantKind
from npverify.model import NAMESPACE_NAME_LABEL, Endpoint, ExternalEndpoint, NodeEndpoint, Packet, PodEndpoint
from npverify.results import InvariantResult, ProofReport, Verdict
from npverify.words import counted

if TYPE_CHECKING:
    from npverify.compare import Comparison
    from npverify.redundancy import RedundancyReport

#: ANSI colours of verdict words on a terminal (the CLI decides when; see --help and NO_COLOR).
_GREEN, _RED, _YELLOW, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[0m"
VERDICT_COLOURS = {
    "PROVED": _GREEN,
    "REFUTED": _RED,
    "UNKNOWN": _YELLOW,
    "EQUIVALENT": _GREEN,
    "CONTAINED": _GREEN,
    "DIFFERENT": _RED,
    "NOT CONTAINED": _RED,
    "redundant": _RED,
    "vacuous": _RED,
    "undecided": _YELLOW,
}


def paint(word: str, color: bool, width: int = 0) -> str:
    """``word`` padded to ``width``, coloured by its verdict when ``color`` is set.

    The padding stays outside the escape codes so columns line up either way.
    """
    padding = " " * max(0, width - len(word))
    if not color or word not in VERDICT_COLOURS:
        return word + padding
    return f"{VERDICT_COLOURS[word]}{word}{_RESET}{padding}"


def format_labels(labels: Mapping[str, str], hide: tuple[str, ...] = ()) -> str:
    shown = [f"{k}={v}" for k, v in labels.items() if k not in hide]
    return "{" + ", ".join(shown) + "}"


def describe_endpoint(endpoint: Endpoint, with_ports: bool = False) -> str:
    """One line naming an endpoint: a pod with its namespace, labels and IP, or a host."""
    if isinstance(endpoint, ExternalEndpoint):
        return f"external host {endpoint.ip}"
    if isinstance(endpoint, NodeEndpoint):
        own = "the destination pod's own node" if endpoint.own_node else "another node"
        return f"node {endpoint.ip} ({own})"
    assert isinstance(endpoint, PodEndpoint)
    what = "pod"
    if endpoint.workload:
        namespace, kind, name = endpoint.workload.split("/", 2)
        what = f"pod of {kind} {namespace}/{name}"
    text = f"{what} in namespace {endpoint.namespace}"
    ns_labels = format_labels(endpoint.namespace_labels, hide=(NAMESPACE_NAME_LABEL,))
    if ns_labels != "{}":
        text += f" {ns_labels}"
    text += f", labels {format_labels(endpoint.labels)}, ip {endpoint.ip}"
    if endpoint.host_network:
        text += " (hostNetwork, on the destination pod's node)" if endpoint.own_node else " (hostNetwork)"
    if with_ports and endpoint.ports:
        ports = ", ".join(f"{p.name}={p.port}/{p.protocol}" if p.name else f"{p.port}/{p.protocol}" for p in endpoint.ports)
        text += f", ports {ports}"
    return text


def describe_packet(packet: Packet) -> list[str]:
    lines = [
        f"{packet.protocol} port {packet.port}",
        f"from {describe_endpoint(packet.src)}",
        f"to   {describe_endpoint(packet.dst, with_ports=True)}",
    ]
    if any(isinstance(e, PodEndpoint) and not e.workload for e in (packet.src, packet.dst)):
        lines.append("labels not shown are arbitrary: no selector involved reads them")
    return lines


def packet_label(result: InvariantResult) -> str:
    """What a result's packet is: a witness, a counterexample, or (refuted reachable) an
    example of the scope that is denied, which refutes nothing by itself."""
    if result.verdict is Verdict.PROVED:
        return "witness"
    if result.denied_example is not None:
        return "example packet of the scope (denied, as every one is)"
    return "counterexample"


def result_packet_lines(result: InvariantResult) -> list[str]:
    """A result's packet (labelled witness, counterexample or example), how it went through
    a destination Service, and the evaluator's account of it; [] without a packet."""
    if result.packet is None:
        return []
    packet_lines = describe_packet(result.packet)
    lines = [f"{packet_label(result)}: {packet_lines[0]}", *(f"  {line}" for line in packet_lines[1:])]
    if result.via:
        lines.append(f"  through {result.via}")
    if result.decision is not None:
        lines.append("allowed because:" if result.decision.allowed else "denied because:")
        lines += [f"  {line}" for line in result.decision.describe()]
    return lines


def render_result(result: InvariantResult, color: bool = False) -> str:
    inv = result.invariant
    where = f", {inv.location}" if inv.location else ""
    lines = [f"{paint(result.verdict.value.upper(), color, 8)} {inv.name}  ({inv.kind}{where})"]
    indent = " " * 9
    # A refuted reachable's reason is its verdict in words: before the example packet.
    reason_first = result.verdict is Verdict.REFUTED and inv.kind is InvariantKind.REACHABLE
    if reason_first:
        lines.append(f"{indent}{result.reason or 'every packet from the scope is denied'}")
    lines += [f"{indent}{line}" for line in result_packet_lines(result)]
    if result.reason and not reason_first:
        lines.append(f"{indent}{result.reason}")
    if result.note:
        lines.append(f"{indent}note: {result.note}")
    return "\n".join(lines)


def summary_line(report: ProofReport) -> str:
    n = len(report.results)
    return (
        f"{counted(n, 'invariant')}: {report.count(Verdict.PROVED)} proved, "
        f"{report.count(Verdict.REFUTED)} refuted, {report.count(Verdict.UNKNOWN)} unknown "
        f"({report.seconds:.2f} s)"
    )


def render_report(report: ProofReport, color: bool = False) -> str:
    lines = []
    if report.source:
        lines.append(f"npverify: {report.source}")
    if report.cluster_summary:
        lines.append(f"loaded {report.cluster_summary}")
    lines += list(report.warnings)  # each says "warning:" itself (file:line: warning: ...)
    lines += report.coverage.details(skipped=False)
    if report.skipped:
        lines.append(f"skipped {counted(len(report.skipped), 'document')} of kinds npverify does not use:")
        lines += [f"  {s}" for s in report.skipped]
    if lines:
        lines.append("")
    for result in report.results:
        lines.append(render_result(result, color))
    lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


# --- comparisons and redundancy ---------------------------------------------------------


def _comparison_verdict(comparison: Comparison) -> str:
    same = comparison.same
    return {True: "EQUIVALENT", False: "DIFFERENT", None: "UNKNOWN"}[same]


def _side_count(diffs, complete: bool) -> str:
    n = len(diffs)
    return counted(n, "region") + ("" if complete else " (more exist; raise --max-diffs)" if n else " (undecided)")


def render_comparison(comparison: Comparison, color: bool = False) -> str:
    left, right = comparison.left_name, comparison.right_name
    containment = comparison.only_left is None
    lines = [f"npverify: {'does ' + left + ' contain ' + right if containment else left + ' vs ' + right}"]
    lines += comparison.coverage.details()
    for title, diffs, complete, name in (
        (f"only {left} allows", comparison.only_left, comparison.left_complete, left),
        (f"only {right} allows", comparison.only_right, comparison.right_complete, right),
    ):
        if diffs is None:
            continue
        lines.append("")
        lines.append(f"{title}: {_side_count(diffs, complete)}")
        for number, diff in enumerate(diffs, start=1):
            lines.append(f"  [{number}] {diff.region}")
            packet = describe_packet(diff.region.packet)
            lines.append(f"      e.g. {packet[0]} {packet[1]}")
            lines.append(f"                       {packet[2]}")
            for side, decision in ((left, diff.left), (right, diff.right)):
                verdict = "allows" if decision.allowed else "denies"
                lines.append(f"      {side} {verdict}:")
                lines += [f"        {line}" for line in decision.describe()]
    if comparison.reason:
        lines.append(f"{'solver' if comparison.coverage.complete else 'unknown'}: {comparison.reason}")
    lines.append("")
    verdict = _comparison_verdict(comparison)
    if containment and comparison.same is not None:
        verdict = "CONTAINED" if comparison.same else "NOT CONTAINED"
    count = len(comparison.differences)
    alone = "" if comparison.coverage.complete else " between the NetworkPolicies alone"
    lines.append(f"{paint(verdict, color)}: {counted(count, 'difference region')}{alone} ({comparison.seconds:.2f} s)")
    return "\n".join(lines) + "\n"


def _item(item) -> str:
    return f"{item} ({item.location})" if item.location else str(item)


def redundancy_reason_lines(entry) -> list[str]:
    """Why a redundant item changes nothing, with the example packet of an unusable one
    (shared by every format, so they say the same)."""
    if not entry.reason:
        return ["covered by " + "; ".join(str(c) for c in entry.covered_by)] if entry.covered_by else []
    lines = [entry.reason]
    if entry.example is not None:
        packet = describe_packet(entry.example.packet)
        lines.append(f"e.g. {packet[0]} {packet[1]}")
        lines += [f"     {line}" for line in packet[2:]]
        lines.append("  denied because:")
        lines += [f"    {line}" for line in entry.example.describe()]
    return lines


def render_redundancy(report: RedundancyReport, color: bool = False) -> str:
    lines = [f"npverify: {counted(report.items_checked, 'policy item')} checked (policies, rules, peers, port entries)"]
    lines += report.coverage.details()
    if report.coverage.unmodelled:
        lines.append(
            "UNKNOWN: " + unknown_reason(report.coverage.unmodelled) + "; the items below are those of the NetworkPolicies alone"
        )
    if report.redundant:
        lines += ["", f"{paint('redundant', color)} (removing it alone leaves every allowed packet unchanged):"]
        for entry in report.redundant:
            lines.append(f"  {entry.item.kind:6} {_item(entry.item)}")
            lines += [f"         {line}" for line in redundancy_reason_lines(entry)]
    if report.vacuous:
        lines += ["", f"{paint('vacuous', color)} (can never apply):"]
        lines += [f"  {v.item.kind:6} {_item(v.item)}: {v.reason}" for v in report.vacuous]
    if report.undecided:
        lines += ["", f"{paint('undecided', color)} (solver limit):"]
        lines += [f"  {u.item.kind:6} {_item(u.item)}: {u.reason}" for u in report.undecided]
    lines.append("")
    lines.append(
        f"{len(report.redundant)} redundant, {len(report.vacuous)} vacuous, "
        f"{len(report.undecided)} undecided ({report.seconds:.2f} s)"
    )
    return "\n".join(lines) + "\n"


# --- explain ---------------------------------------------------------------------------


def render_explanation(explanation) -> str:
    """``npverify explain`` as text: a headline, then one sentence a line (details indented)."""
    from npverify.explain import endpoint_name

    packet = explanation.packet
    verdict = "ALLOWED" if explanation.allowed else "DENIED"
    if explanation.outside_universe:
        verdict += " (a packet outside the universe; see below)"
    if not explanation.known:
        verdict = f"UNKNOWN (NetworkPolicies alone: {verdict})"
    lines = [
        f"{packet.protocol}/{packet.port} from {endpoint_name(packet.src)} to {endpoint_name(packet.dst)}: {verdict}",
        *explanation.coverage.details(),
        "",
    ]
    lines += [("  " if s.detail else "") + s.text for s in explanation.sentences]
    return "\n".join(lines) + "\n"


# --- connectivity matrix (npverify matrix) ----------------------------------------------

#: A grid wider than this many characters is printed as a list of non-empty cells.
MATRIX_MAX_WIDTH = 160


def matrix_verdict_line(matrix) -> str:
    """The proof's verdict on a connectivity matrix, in one line."""
    if matrix.verdict is None:
        return "NOT PROVED  computed by set algebra only; the solver did not check it (--no-proof)"
    if matrix.verdict is Verdict.PROVED and not matrix.rows:
        return "PROVED   trivially: the matrix has no rows, so it claims nothing about any packet (see the notes)"
    if matrix.verdict is Verdict.PROVED:
        return (
            f"PROVED   the solver found no packet allowed outside its cell or denied inside its "
            f"always-ports; {counted(matrix.witnesses, 'may-only range')} confirmed by witness packets ({matrix.proof_seconds:.2f} s)"
        )
    if not matrix.coverage.complete:
        return f"UNKNOWN  {matrix.reason}"
    return f"UNKNOWN  the solver did not finish the proof: {matrix.reason}"


def render_matrix(matrix) -> str:
    """``npverify matrix`` as text: a grid when it fits, else one line per non-empty cell."""
    cells = list(matrix.nonempty())
    some = sum(1 for _, _, cell in cells if not cell.may_only.is_empty)
    unknown = any(not cell.unknown.is_empty for _, _, cell in cells)
    lines = [f"connectivity matrix by {matrix.by}: {counted(len(matrix.rows), matrix.by)}, rows are sources, columns destinations"]
    lines += [f"note: {note}" for note in matrix.notes]
    lines.append("")
    grid = _matrix_grid(matrix)
    if grid is not None:
        lines += grid
    else:
        width = max((len(s) for s, _, _ in cells), default=0)
        texts: dict[object, str] = {}  # cells repeat: a thousand workloads share a few hundred
        for s, d, cell in cells:
            text = texts.get(cell)
            if text is None:
                text = texts[cell] = cell.text()
            lines.append(f"{s:<{width}} -> {d}: {text}")
        if not matrix.rows:
            lines.append("no rows: no workload in the universe (see the notes)")
        elif not cells:
            lines.append("no packet between any two pods is allowed")
    lines += [
        "",
        "ports marked * are allowed for some pods or IPs only; '-' nothing allowed; "
        "'n/a' no such pair of pods in the universe (a single Pod to itself without --self-traffic)"
        + ("; ports marked ? are allowed or denied depending on what no manifest says (see the notes)" if unknown else ""),
        matrix_verdict_line(matrix),
        f"{counted(len(cells), 'non-empty cell')}, {some} with ports for some pods or IPs only, {len(matrix.void)} n/a ({matrix.seconds:.2f} s)",
    ]
    return "\n".join(lines) + "\n"


def _matrix_grid(matrix) -> list[str] | None:
    n = len(matrix.rows)
    label = max((len(f"{i + 1} {r}") for i, r in enumerate(matrix.rows)), default=0)
    if n == 0 or label + sum(len(str(j + 1)) + 2 for j in range(n)) > MATRIX_MAX_WIDTH:
        return None  # too wide even with every cell a single character
    texts = [
        [
            "n/a" if (i, j) in matrix.void else matrix.cells[(i, j)].text() if (i, j) in matrix.cells else "-"
            for j in range(n)
        ]
        for i in range(n)
    ]
    numbers = [str(j + 1) for j in range(n)]
    widths = [max([len(numbers[j])] + [len(texts[i][j]) for i in range(n)]) for j in range(n)]
    if label + sum(w + 2 for w in widths) > MATRIX_MAX_WIDTH:
        return None
    head = " " * label + "".join(f"  {numbers[j]:<{widths[j]}}" for j in range(n))
    rows = [
        f"{f'{i + 1} {matrix.rows[i]}':<{label}}" + "".join(f"  {texts[i][j]:<{widths[j]}}" for j in range(n))
        for i in range(n)
    ]
    return [head.rstrip()] + [r.rstrip() for r in rows]


# --- lint ------------------------------------------------------------------------------


def lint_rules():
    from npverify.lint.rules import RULES

    return RULES


def render_lint(report, color: bool = False) -> str:
    """``file:line:col: severity: rule-id: message``, one per finding (evidence indented),
    then what was undecided or not run, and a summary line."""
    lines = list(report.coverage.details())
    for f in report.findings:
        where = f"{f.location}: " if f.location else ""
        lines.append(f"{where}{paint(f.severity.value, color)}: {f.rule}: {f.message}")
        lines += [f"    {d}" for d in f.details]
        if f.decision is not None:
            lines += [f"    {d}" for d in f.decision.describe()]
    for u in report.undecided:
        where = f"{u.location}: " if u.location else ""
        lines.append(f"{where}{paint('undecided', color)}: {u.rule}: {u.subject + ': ' if u.subject else ''}{u.reason}")
    for s in report.skipped:
        lines.append(f"note: {s.rule} not run: {s.reason}")
    off = [r.id for r in lint_rules() if not r.by_default and r.id not in report.rules]
    if off:
        lines.append(f"note: {', '.join(off)} not run: off by default, as they cost what npverify redundant costs; --enable {','.join(off)}")
    lines += [f"note: {w}" for w in report.warnings]
    errors, warnings = (sum(1 for f in report.findings if f.severity.value == level) for level in ("error", "warning"))
    silenced = f", {len(report.silenced)} silenced by npverify.io/ignore" if report.silenced else ""
    undecided = f", {len(report.undecided)} undecided" if report.undecided else ""
    lines.append(
        f"npverify lint: {counted(len(report.rules), 'rule')} run, {counted(errors, 'error')}, {counted(warnings, 'warning')}{silenced}{undecided} ({report.seconds:.2f} s)"
    )
    return "\n".join(lines) + "\n"
