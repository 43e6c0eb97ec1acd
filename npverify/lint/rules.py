"""The lint rules, their configuration and what a lint returns: plain values, no solver.

docs/lint.md is the user reference for every rule; the ``lint`` section of the invariants
file (npverify/invariants/parser.py, specs/invariants.schema.json) and ``npverify lint``'s
``--enable``/``--disable`` name rules by the ids of ``RULES``.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from npverify.coverage import Coverage
from npverify.errors import InputError
from npverify.hints import did_you_mean
from npverify.model import Diagnostic, Labels, Packet, Severity, SourceLocation
from npverify.semantics import Decision


@attrs.frozen
class Rule:
    """A lint rule: its id, default severity, a one-line summary and help text."""

    id: str
    severity: Severity
    summary: str
    help: str
    #: Whether its answer is a proof over the universe (solver or evaluator), so objects of
    #: kinds npverify does not model can change it; the others read the manifests alone.
    semantic: bool = True
    #: Whether it runs unless disabled; the others run when enabled (they cost more).
    by_default: bool = True


RULES: tuple[Rule, ...] = (
    Rule(
        "dns-blocked",
        Severity.ERROR,
        "Some pod cannot reach the cluster DNS service's pods on UDP and TCP port 53.",
        "Every pod of the universe that a policy isolates for egress (or that an Admin or Baseline "
        "rule denies) must still reach the DNS pods (by default pods labelled k8s-app: kube-dns in "
        "kube-system; set lint.rules.dns-blocked.namespace and .labels) on UDP/53 and TCP/53, or "
        "name resolution fails. Add an egress rule to the DNS pods on port 53 (UDP and TCP).",
    ),
    Rule(
        "selects-nothing",
        Severity.WARNING,
        "A policy, subject or peer selects no loaded pod or namespace.",
        "Decided over the loaded workloads (pods: workloads) and declared namespaces (namespaces: "
        "declared) only: under 'any' a pod or namespace that could exist is matched. A selector "
        "that matches nothing is most often a typo in a label value; the message names close values.",
        semantic=False,
    ),
    Rule(
        "ignored-rules",
        Severity.ERROR,
        "Rules of a direction the policy's policyTypes does not list: the API keeps them and enforces nothing.",
        "A NetworkPolicy whose policyTypes lacks Egress ignores its egress rules (and likewise for "
        "Ingress). Add the direction to policyTypes, or remove the rules.",
        semantic=False,
    ),
    Rule(
        "unusable-rule",
        Severity.WARNING,
        "A rule lets nothing through: the other end denies every packet it matches.",
        "An ingress rule whose every possible source is denied egress to the policy's pods (or an "
        "egress rule whose every destination denies ingress from them), proved over the universe; "
        "the example packet names what denies it. Open the other end, or remove the rule.",
    ),
    Rule(
        "unknown-named-port",
        Severity.ERROR,
        "A named port that no pod the rule can reach defines.",
        "A named port matches only pods with a container port of that name and protocol; decided "
        "over the loaded workloads (pods: workloads). Fix the name, or the protocol.",
        semantic=False,
    ),
    Rule(
        "shadowed",
        Severity.WARNING,
        "A policy item whose packets other items already decide alike (npverify redundant: covered).",
        "Removing the item alone leaves every allowed packet unchanged because the items named as "
        "covering it do what it does. Remove it, or change it if it was meant to do more. Off unless "
        "enabled: it costs what npverify redundant costs.",
        by_default=False,
    ),
    Rule(
        "redundant",
        Severity.WARNING,
        "A policy item that changes nothing for another reason (npverify redundant: unusable, vacuous).",
        "The item can never apply (vacuous), or the other end denies every packet it would change "
        "(unusable; the example names the policy). Remove it, or fix it. Off unless enabled: it "
        "costs what npverify redundant costs.",
        by_default=False,
    ),
    Rule(
        "overly-broad",
        Severity.WARNING,
        "An ingress rule admits every namespace or 0.0.0.0/0 into a production namespace.",
        "A rule with namespaceSelector: {} (or no 'from' at all) or an ipBlock of 0.0.0.0/0 or ::/0, "
        "in a policy of a namespace labelled as production (by default environment: production; "
        "set lint.rules.overly-broad.namespaceLabels), and proved to let such a packet in. Narrow it.",
    ),
)

RULES_BY_ID = {rule.id: rule for rule in RULES}
RULE_IDS = tuple(rule.id for rule in RULES)


def unknown_rule_problem(name: str) -> str | None:
    """Why ``name`` is not a rule id (with did-you-mean), or None."""
    if name in RULES_BY_ID:
        return None
    return f"unknown lint rule {name!r}{did_you_mean(name, RULE_IDS) or '; rules: ' + ', '.join(RULE_IDS)}"


def check_rule_ids(names: Iterable[str], where: str, location: SourceLocation | None = None) -> tuple[str, ...]:
    """``names`` when each is a rule id; else an InputError naming ``where`` (an option or field)."""
    names = tuple(names)
    for name in names:
        problem = unknown_rule_problem(name)
        if problem:
            raise InputError(Diagnostic(problem, location, where))
    return names


@attrs.frozen
class LintConfig:
    """Which rules run and how: the ``lint`` section of the invariants file, then the options."""

    #: Rules turned on besides those that run by default, and rules turned off.
    enabled: frozenset[str] = frozenset()
    disabled: frozenset[str] = frozenset()
    #: Severity per rule id where it differs from the rule's default.
    severities: tuple[tuple[str, Severity], ...] = ()
    #: The cluster DNS service's pods: their namespace and labels.
    dns_namespace: str = "kube-system"
    dns_labels: Labels = Labels.of({"k8s-app": "kube-dns"})
    #: Labels that mark a namespace as production (every one must match).
    production_labels: Labels = Labels.of({"environment": "production"})
    #: Exit 1 when a finding of at least this severity exists ("error" or "warning").
    fail_on: Severity = Severity.ERROR

    def runs(self, rule: str) -> bool:
        return (RULES_BY_ID[rule].by_default or rule in self.enabled) and rule not in self.disabled

    def severity(self, rule: str) -> Severity:
        return dict(self.severities).get(rule, RULES_BY_ID[rule].severity)

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of the rules that run, in RULES order."""
        return tuple(r for r in RULE_IDS if self.runs(r))


@attrs.frozen
class ObjectRef:
    """The object a finding is about, as its annotation names it: kind, namespace, name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@attrs.frozen
class LintFinding:
    """One finding: the rule, its severity, where, a one-line message, and evidence."""

    rule: str
    severity: Severity
    message: str
    location: SourceLocation | None
    #: The object the finding is located at (a policy, mostly).
    object: ObjectRef
    #: A concrete packet that shows it, with the reference evaluator's decision.
    packet: Packet | None = attrs.field(default=None, eq=False)
    decision: Decision | None = attrs.field(default=None, eq=False)
    #: Further lines: the reason wording of ``npverify redundant``, the close label values.
    details: tuple[str, ...] = attrs.field(default=(), eq=False)
    #: The other objects it is about: a NetworkPolicy's namespace; for dns-blocked, the
    #: example pod's namespace and workload.
    about: tuple[ObjectRef, ...] = attrs.field(default=(), eq=False)

    @property
    def objects(self) -> tuple[ObjectRef, ...]:
        """Every object the finding is about: an ``npverify.io/ignore`` annotation naming
        its rule on any of them silences it."""
        return (self.object, *self.about)


@attrs.frozen
class UndecidedRule:
    """A rule (for an object, or as a whole) the solver could not decide: never a pass."""

    rule: str
    reason: str
    location: SourceLocation | None = None
    subject: str = ""


@attrs.frozen
class SkippedRule:
    """A rule that ran for nothing, and why (the universe does not allow its question)."""

    rule: str
    reason: str


@attrs.frozen
class LintReport:
    """What ``lint`` found, in rule order then location."""

    findings: tuple[LintFinding, ...]
    #: Findings an ``npverify.io/ignore`` annotation silenced (counted, not failing).
    silenced: tuple[LintFinding, ...] = ()
    undecided: tuple[UndecidedRule, ...] = ()
    skipped: tuple[SkippedRule, ...] = ()
    #: The ids of the rules that ran.
    rules: tuple[str, ...] = ()
    fail_on: Severity = Severity.ERROR
    seconds: float = 0.0
    coverage: Coverage = Coverage()
    warnings: tuple[str, ...] = ()

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def failed(self) -> bool:
        """A finding at or above ``fail_on``."""
        levels = (Severity.ERROR,) if self.fail_on is Severity.ERROR else (Severity.ERROR, Severity.WARNING)
        return any(f.severity in levels for f in self.findings)

    def __str__(self) -> str:
        from npverify.report.text import render_lint

        return render_lint(self)
