"""Results as findings: what failed or was not decided, where, and which rules decided it.

SARIF, JUnit XML and GitHub annotations all say the same thing in different shapes: a
check, an outcome, a message and a source location, with the policy rules that decided
the packet as related locations. This module decides once what each result means as a
finding, so the three renderers agree. Plain values, no formatting of any output format.
"""

from __future__ import annotations

import enum
import os
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import attrs

from npverify.coverage import Coverage
from npverify.invariants.model import InvariantKind
from npverify.model import Direction, PolicyItem, SourceLocation
from npverify.report.text import describe_packet, redundancy_reason_lines, result_packet_lines
from npverify.results import InvariantResult, ProofReport, Verdict
from npverify.semantics import Decision, DirectionDecision, RuleMatch

if TYPE_CHECKING:
    from npverify.compare import Comparison, Difference
    from npverify.lint import LintReport
    from npverify.redundancy import RedundancyReport


class Outcome(enum.Enum):
    """How one check came out, in the terms of test reports and code scanning."""

    #: The invariant holds (or there is nothing to report).
    PASSED = "passed"
    #: Refuted, a difference, a redundant or vacuous item: the command exits 1.
    FAILED = "failed"
    #: Not decided (timeout, solver limit): never a pass; the command exits 3.
    UNKNOWN = "unknown"


@attrs.frozen
class Check:
    """A kind of question, reported as one SARIF rule: ``npverify/<id>``."""

    id: str
    name: str
    short: str
    full: str
    help: str


@attrs.frozen
class Related:
    """A source location that took part in a finding, e.g. the rule that allowed the packet."""

    location: SourceLocation
    text: str


@attrs.frozen
class Finding:
    """One check's outcome, with a one-sentence headline and further lines of detail."""

    check: Check
    outcome: Outcome
    #: What was checked: the invariant's name, a region, a policy item.
    name: str
    headline: str
    details: tuple[str, ...] = ()
    location: SourceLocation | None = None
    related: tuple[Related, ...] = ()
    seconds: float | None = None
    #: The verdict word as the text output says it (REFUTED, UNKNOWN, redundant, ...).
    verdict: str = ""
    #: Worth a look even when passed: "holds vacuously: nothing reaches ...".
    note: str = ""
    #: "warning" for a failed finding of a warning-severity lint rule ("" : by outcome).
    level: str = ""

    @property
    def message(self) -> str:
        return "\n".join((self.headline, *self.details))


_HELP_PROVE = (
    "Run `npverify prove` on the invariants file to see the counterexample and the rules that "
    "decided it; fix the policies (or the invariant) and run it again. An UNKNOWN verdict is "
    "not a pass: raise --timeout or --rlimit."
)

#: One check per invariant kind (docs/invariants.md), in the order of InvariantKind.
INVARIANT_CHECKS: dict[InvariantKind, Check] = {
    InvariantKind.ISOLATED: Check(
        "isolated",
        "Isolated",
        "No packet from 'from' to 'to' is allowed.",
        "An isolated invariant holds when the NetworkPolicies deny every packet from the "
        "'from' scope to the 'to' scope on the given ports; it is refuted by an allowed packet.",
        _HELP_PROVE,
    ),
    InvariantKind.ALLOWED: Check(
        "allowed",
        "Allowed",
        "Every packet from 'from' to 'to' is allowed.",
        "An allowed invariant holds when the NetworkPolicies allow every packet from the "
        "'from' scope to the 'to' scope on the given ports; it is refuted by a denied packet.",
        _HELP_PROVE,
    ),
    InvariantKind.REACHABLE: Check(
        "reachable",
        "Reachable",
        "Some packet from 'from' to 'to' is allowed.",
        "A reachable invariant holds when at least one packet from the 'from' scope to the "
        "'to' scope on the given ports is allowed (a witness); it is refuted when all are denied.",
        _HELP_PROVE,
    ),
    InvariantKind.ONLY: Check(
        "only",
        "Only",
        "Only 'from' reaches 'to'.",
        "An only invariant holds when every allowed packet into the 'to' scope on the given "
        "ports comes from the 'from' scope; it is refuted by an allowed packet from elsewhere.",
        _HELP_PROVE,
    ),
    InvariantKind.EQUIVALENT: Check(
        "equivalent",
        "Equivalent",
        "The policies allow exactly what the policies at 'compareTo' allow.",
        "An equivalent invariant holds when the manifests' NetworkPolicies and those at "
        "'compareTo' allow the same packets; it is refuted by a packet one side allows and the "
        "other denies.",
        _HELP_PROVE,
    ),
    InvariantKind.REDUNDANT: Check(
        "redundant",
        "Redundant",
        "The policy adds nothing to the others.",
        "A redundant invariant holds when removing the named policy leaves every allowed "
        "packet unchanged; it is refuted by a packet the policy changes.",
        _HELP_PROVE,
    ),
    InvariantKind.NON_REDUNDANT: Check(
        "nonRedundant",
        "NonRedundant",
        "No policy, rule, peer or port entry is redundant or vacuous.",
        "A nonRedundant invariant holds when removing any one policy, rule, peer or port "
        "entry would change the allowed packets, and each can apply to some packet.",
        _HELP_PROVE,
    ),
}

_HELP_COMPARE = (
    "Run `npverify equiv` or `npverify contains` to see every region with a packet and the "
    "rules on each side that decide it. If the change was meant to keep the traffic as it "
    "was, fix the new policies; if it was meant to change it, this is the change."
)

ONLY_LEFT = Check(
    "equiv/only-left",
    "OnlyLeftAllows",
    "Packets the left side allows and the right side denies.",
    "A region of packets (sources, destinations, protocols and a port range) that the left "
    "policy set of `npverify equiv` allows and the right one denies.",
    _HELP_COMPARE,
)
ONLY_RIGHT = Check(
    "equiv/only-right",
    "OnlyRightAllows",
    "Packets the right side allows and the left side denies.",
    "A region of packets (sources, destinations, protocols and a port range) that the right "
    "policy set of `npverify equiv` allows and the left one denies.",
    _HELP_COMPARE,
)
NOT_CONTAINED = Check(
    "contains/only-candidate",
    "OnlyCandidateAllows",
    "Packets the candidate allows and the baseline denies.",
    "A region of packets (sources, destinations, protocols and a port range) that the "
    "candidate policy set of `npverify contains` allows and the baseline denies, so the "
    "baseline does not contain the candidate.",
    _HELP_COMPARE,
)

_HELP_REDUNDANCY = (
    "Run `npverify redundant` to see each item with the items that cover it. Remove a "
    "redundant or vacuous item, or fix it if it was meant to allow something."
)

REDUNDANT_ITEM = Check(
    "redundancy/redundant",
    "RedundantItem",
    "Removing this item alone leaves every allowed packet unchanged.",
    "A policy, rule, peer or port entry is redundant when removing it changes no allowed "
    "packet: either it is covered (the other items, listed as covering it, already allow or "
    "isolate everything it does) or it is unusable (the other end, the source's egress or the "
    "destination's ingress, denies every packet it would change; the example shows which policy).",
    _HELP_REDUNDANCY,
)
VACUOUS_ITEM = Check(
    "redundancy/vacuous",
    "VacuousItem",
    "This item can never apply.",
    "A policy that selects no pod, a rule that matches no packet, or rules of a direction the "
    "policy's policyTypes does not include: the item changes nothing.",
    _HELP_REDUNDANCY,
)
UNDECIDED_ITEM = Check(
    "redundancy/undecided",
    "UndecidedItem",
    "The solver could not decide whether this item is redundant.",
    "The question was not decided within the solver's limits; the item may or may not be "
    "redundant. Undecided is not a pass.",
    "Raise --timeout or --rlimit and run `npverify redundant` again.",
)

UNMODELLED_OBJECT = Check(
    "unmodelled",
    "UnmodelledObject",
    "An object of a policy kind npverify does not model yet.",
    "The object changes which packets flow (a Cilium, Calico or Antrea policy, ...), but "
    "npverify does not model its kind yet, so every answer it could change "
    "is unknown, which is not a pass.",
    "Pass --ignore-kind KIND (or list the kind under ignoreKinds in the invariants file) to "
    "answer as if such objects did not exist; the report then lists them as ignored.",
)

COMPARISON_CHECKS = (ONLY_LEFT, ONLY_RIGHT, NOT_CONTAINED, UNMODELLED_OBJECT)
REDUNDANCY_CHECKS = (REDUNDANT_ITEM, VACUOUS_ITEM, UNDECIDED_ITEM, UNMODELLED_OBJECT)


# --- locations ---------------------------------------------------------------------------


def is_working_tree_file(location: SourceLocation | None) -> bool:
    """Does the location name a file of the working tree (not stdin, not ``REV:path``)?

    Locations read from a git revision are written ``REV:path``; they point at no file a
    code-scanning view or an annotation could open, so renderers show them only in text.
    """
    if location is None or not location.file or location.file.startswith("<"):
        return False
    head, colon, _ = location.file.partition(":")
    windows_drive = len(head) == 1 and head.isalpha()
    return not colon or windows_drive


def relative_path(file: str, root: str | None) -> str:
    """``file`` with forward slashes, relative to ``root`` when it lies below it."""
    if root is not None and os.path.isabs(file):
        try:
            relative = os.path.relpath(file, root)
        except ValueError:  # another drive on Windows
            relative = None
        if relative is not None and relative != ".." and not relative.startswith(".." + os.sep):
            file = relative
    return PurePosixPath(file.replace("\\", "/")).as_posix() if file else file


# --- invariants --------------------------------------------------------------------------


def _match_label(match: RuleMatch) -> str:
    field, peers = ("ingress", "from") if match.direction is Direction.INGRESS else ("egress", "to")
    text = f"{match.policy.key} {field}[{match.rule_index}]"
    if match.peer_index is not None:
        text += f".{peers}[{match.peer_index}]"
    if match.port_index is not None:
        text += f" ports[{match.port_index}]"
    return text


def _match_location(match: RuleMatch) -> SourceLocation | None:
    """Where the matching entry is written: the peer, else the rule, else the policy."""
    rule = match.rule
    where = rule.location or match.policy.location
    if match.peer_index is not None:
        where = rule.peers[match.peer_index].location or where
    return where


def _side(direction: DirectionDecision) -> str:
    return "source egress" if direction.direction is Direction.EGRESS else "destination ingress"


def direction_related(decision: DirectionDecision, prefix: str = "") -> list[Related]:
    """The rules that allowed the packet in one direction, or the policies that isolated
    the endpoint when none did."""
    if decision.matches:
        return [
            Related(where, f"{prefix}{_side(decision)}: allowed by {_match_label(m)}")
            for m in decision.matches
            if (where := _match_location(m)) is not None
        ]
    return [
        Related(p.location, f"{prefix}{_side(decision)}: isolated by {p.key}, no rule matches")
        for p in decision.isolating
        if p.location is not None
    ]


def decision_related(decision: Decision | None, prefix: str = "") -> tuple[Related, ...]:
    """The policy rules that decided a packet, as related locations (egress, then ingress)."""
    if decision is None or decision.override:
        return ()
    return _unique(direction_related(decision.egress, prefix) + direction_related(decision.ingress, prefix))


def _unique(related: list[Related]) -> tuple[Related, ...]:
    seen: set[tuple[str, int, int]] = set()
    kept = []
    for r in related:
        key = (r.location.file, r.location.line, r.location.column)
        if key not in seen:
            seen.add(key)
            kept.append(r)
    return tuple(kept)


def invariant_finding(result: InvariantResult) -> Finding:
    """One invariant's result as a finding (passed, failed or unknown)."""
    inv = result.invariant
    check = INVARIANT_CHECKS[inv.kind]
    details: list[str] = []
    # A refuted reachable's reason is its verdict in words: before the example packet.
    reason_first = result.verdict is Verdict.REFUTED and inv.kind is InvariantKind.REACHABLE
    if reason_first and result.reason:
        details.append(result.reason)
    details += result_packet_lines(result)
    if result.reason and not reason_first:
        details.append(result.reason)
    if result.note:
        details.append(f"note: {result.note}")
    if result.verdict is Verdict.PROVED:
        outcome, headline = Outcome.PASSED, f"Proved: {inv.name} ({inv.kind})."
    elif result.verdict is Verdict.REFUTED:
        outcome, headline = Outcome.FAILED, f"Refuted: {inv.name} ({inv.kind})."
    else:
        outcome = Outcome.UNKNOWN
        headline = f"Unknown: {inv.name} ({inv.kind}) was not decided, which is not a pass."
    return Finding(
        check,
        outcome,
        inv.name,
        headline,
        tuple(details),
        inv.location,
        decision_related(result.decision) if outcome is Outcome.FAILED else (),
        result.seconds,
        result.verdict.value.upper(),
        result.note,
    )


def proof_findings(report: ProofReport) -> list[Finding]:
    """One finding per invariant, in file order, proved ones included; then one per
    unmodelled object."""
    return [invariant_finding(r) for r in report.results] + coverage_findings(report.coverage)


def _undecided_unless_covered(findings: list[Finding], coverage: Coverage) -> list[Finding]:
    """``findings`` and one per unmodelled object; while one is in force, what the
    NetworkPolicies alone show (a difference, a redundant item) is not a result but unknown."""
    if coverage.complete:
        return findings
    alone = "This is what the NetworkPolicies alone show; objects npverify does not model could change it."
    undecided = [
        attrs.evolve(f, outcome=Outcome.UNKNOWN, details=(*f.details, alone), verdict="UNKNOWN") if f.outcome is Outcome.FAILED else f
        for f in findings
    ]
    return undecided + coverage_findings(coverage)


def coverage_findings(coverage: Coverage) -> list[Finding]:
    """One unknown finding per unmodelled object in force, located at the object."""
    return [
        Finding(
            UNMODELLED_OBJECT,
            Outcome.UNKNOWN,
            str(obj),
            f"Not modelled: {obj.qualified_kind} {obj.name} changes which packets flow, and npverify does not "
            "model its kind yet; answers it could change are unknown, which is not a pass.",
            (f"--ignore-kind {obj.kind} answers as if it did not exist.",),
            obj.location,
            verdict="UNKNOWN",
        )
        for obj in coverage.unmodelled
    ]


# --- comparisons -------------------------------------------------------------------------


def is_containment(comparison: Comparison) -> bool:
    """``contains`` asks one direction only: what the candidate (right) alone allows."""
    return comparison.only_left is None


def direction_checks(comparison: Comparison) -> list[tuple[Check, str, str, tuple[Difference, ...] | None, bool]]:
    """Per direction asked: its check, who allows, who denies, the regions, completeness."""
    left, right = comparison.left_name, comparison.right_name
    if is_containment(comparison):
        return [(NOT_CONTAINED, right, left, comparison.only_right, comparison.right_complete)]
    return [
        (ONLY_LEFT, left, right, comparison.only_left, comparison.left_complete),
        (ONLY_RIGHT, right, left, comparison.only_right, comparison.right_complete),
    ]


def _denying_directions(decision: Decision) -> list[DirectionDecision]:
    return [d for d in (decision.egress, decision.ingress) if not d.allowed]


def difference_finding(comparison: Comparison, check: Check, number: int, diff: Difference) -> Finding:
    """A region one side alone allows, located at the rule that lets it through.

    The primary location is the allowing side's rule in a direction the other side denies
    (what the change added or removed); failing that, the denying side's isolating policy.
    Every rule of either side that decided the region's packet is a related location.
    """
    left, right = comparison.left_name, comparison.right_name
    allows_left = diff.left.allowed
    allowing_name, denying_name = (left, right) if allows_left else (right, left)
    allowing, denying = (diff.left, diff.right) if allows_left else (diff.right, diff.left)
    blocked = {d.direction for d in _denying_directions(denying)}
    primary: list[Related] = []
    for direction in (allowing.egress, allowing.ingress):
        if direction.direction in blocked:
            primary += direction_related(direction, f"{allowing_name} ")
    for direction in _denying_directions(denying):
        primary += direction_related(direction, f"{denying_name} ")
    related = _unique(primary + list(decision_related(allowing, f"{allowing_name} ")))
    located = [r for r in related if is_working_tree_file(r.location)]
    location = located[0].location if located else (related[0].location if related else None)
    packet = describe_packet(diff.region.packet)
    details = [f"e.g. {packet[0]} {packet[1]}", f"     {packet[2]}"]
    for side, decision in ((left, diff.left), (right, diff.right)):
        details.append(f"{side} {'allows' if decision.allowed else 'denies'}:")
        details += [f"  {line}" for line in decision.describe()]
    return Finding(
        check,
        Outcome.FAILED,
        f"[{number}] {diff.region}",
        f"Only {allowing_name} allows {diff.region}.",
        tuple(details),
        location,
        related,
        None,
        "NOT CONTAINED" if is_containment(comparison) else "DIFFERENT",
    )


def comparison_findings(comparison: Comparison) -> list[Finding]:
    """One finding per difference region, and one unknown finding per direction the solver
    could not finish without finding any region (an undecided comparison is never a pass)."""
    findings: list[Finding] = []
    for check, allowing, denying, diffs, complete in direction_checks(comparison):
        for number, diff in enumerate(diffs or (), start=1):
            findings.append(difference_finding(comparison, check, number, diff))
        if not diffs and not complete:
            findings.append(
                Finding(
                    check,
                    Outcome.UNKNOWN,
                    f"what only {allowing} allows",
                    f"Unknown: whether {allowing} allows packets {denying} denies was not decided, which is not a pass.",
                    (f"solver: {comparison.reason}",) if comparison.reason else (),
                    verdict="UNKNOWN",
                )
            )
    return _undecided_unless_covered(findings, comparison.coverage)


# --- redundancy --------------------------------------------------------------------------


def _item_label(item: PolicyItem) -> str:
    return f"{item.kind} {item}"


def redundancy_findings(report: RedundancyReport) -> list[Finding]:
    """One finding per redundant, vacuous or undecided item, located at the item."""
    findings = []
    for entry in report.redundant:
        covers = [Related(c.location, f"covered by {c}") for c in entry.covered_by if c.location is not None]
        denying = [Related(r.location, f"e.g. {r.text}") for r in decision_related(entry.example)] if entry.example else []
        details = [*(redundancy_reason_lines(entry) if entry.reason else ())]
        details += [f"covered by {c}" + (f" ({c.location})" if c.location else "") for c in entry.covered_by]
        findings.append(
            Finding(
                REDUNDANT_ITEM,
                Outcome.FAILED,
                str(entry.item),
                f"Redundant {_item_label(entry.item)}: removing it alone leaves every allowed packet unchanged.",
                tuple(details),
                entry.item.location,
                _unique(covers + denying),
                verdict="redundant",
            )
        )
    for v in report.vacuous:
        findings.append(
            Finding(
                VACUOUS_ITEM,
                Outcome.FAILED,
                str(v.item),
                f"Vacuous {_item_label(v.item)}: it can never apply ({v.reason}).",
                (),
                v.item.location,
                verdict="vacuous",
            )
        )
    for u in report.undecided:
        findings.append(
            Finding(
                UNDECIDED_ITEM,
                Outcome.UNKNOWN,
                str(u.item),
                f"Undecided {_item_label(u.item)}: the solver could not decide whether it is redundant, which is not a pass.",
                (f"solver: {u.reason}",) if u.reason else (),
                u.item.location,
                verdict="undecided",
            )
        )
    return _undecided_unless_covered(findings, report.coverage)


# --- lint --------------------------------------------------------------------------------

_HELP_LINT = "Run `npverify lint` to see the finding with its evidence; docs/lint.md explains every rule. "

UNDECIDED_LINT = Check(
    "lint/undecided",
    "UndecidedLintRule",
    "The solver could not decide a lint rule.",
    "A lint rule's question was not decided within the solver's limits, or an object of a "
    "policy kind npverify does not model could change it. Undecided is not a pass.",
    "Raise --timeout or --rlimit, or see --ignore-kind, and run `npverify lint` again.",
)


def lint_checks() -> tuple[Check, ...]:
    """One check per lint rule (``npverify/lint/<rule id>``), then undecided and unmodelled."""
    from npverify.lint import RULES

    checks = [Check(f"lint/{r.id}", "".join(w.capitalize() for w in r.id.split("-")), r.summary, r.summary, _HELP_LINT + r.help) for r in RULES]
    return (*checks, UNDECIDED_LINT, UNMODELLED_OBJECT)


def lint_findings(report: LintReport) -> list[Finding]:
    """One finding per lint finding (failed; level by severity) and per undecided rule."""
    from npverify.model import Severity

    checks = {c.id: c for c in lint_checks()}
    findings = []
    for f in report.findings:
        details = list(f.details)
        if f.packet is not None:
            details += [f"e.g. {line}" if i == 0 else line for i, line in enumerate(describe_packet(f.packet))]
        findings.append(
            Finding(
                checks[f"lint/{f.rule}"],
                Outcome.FAILED,
                str(f.object),
                f"{f.rule}: {f.message}",
                tuple(details),
                f.location,
                decision_related(f.decision),
                verdict=f.severity.value,
                level="warning" if f.severity is Severity.WARNING else "",
            )
        )
    for u in report.undecided:
        findings.append(
            Finding(
                UNDECIDED_LINT,
                Outcome.UNKNOWN,
                u.subject or u.rule,
                f"{u.rule} undecided{' for ' + u.subject if u.subject else ''}: {u.reason}",
                (),
                u.location,
                verdict="undecided",
            )
        )
    return findings + coverage_findings(report.coverage)
