"""The lint rules' proofs: each finding is confirmed by the reference evaluator.

Rules about packets (dns-blocked, unusable-rule, overly-broad) are questions to the solver
(npverify.engine.Verifier), whose packets are replayed through semantics.decide; shadowed
and redundant are npverify redundant's items; the rest read the manifests against the
universe with the evaluator's own selector and port matching.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import attrs

from npverify.coverage import Coverage, unknown_reason
from npverify.errors import InputError, InternalError
from npverify.hints import did_you_mean
from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, Scope
from npverify.lint.rules import (
    LintConfig,
    LintFinding,
    LintReport,
    ObjectRef,
    SkippedRule,
    UndecidedRule,
    unknown_rule_problem,
)
from npverify.model import (
    IGNORE_ANNOTATION,
    NAMESPACE_NAME_LABEL,
    Cluster,
    ClusterPolicy,
    Diagnostic,
    Direction,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Operator,
    Packet,
    Peer,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Semantics,
    Tier,
    Universe,
    Workload,
)
from npverify.results import Verdict
from npverify.semantics import Decision, decide, universe_problem
from npverify.smt import Limits

#: dns-blocked stops after this many findings: each one is a fix to make first (the next
#: proof runs on the policies with the earlier ones fixed), and a cluster where every
#: namespace blocks DNS does not need a thousand lines to say so.
MAX_DNS_FINDINGS = 20


def lint(
    cluster: Cluster,
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    config: LintConfig = LintConfig(),
    limits: Limits = Limits(),
    jobs: int = 1,
) -> LintReport:
    """Run the rules ``config`` selects over ``cluster``; see docs/lint.md.

    Raises InputError for an ``npverify.io/ignore`` annotation naming an unknown rule.
    """
    started = time.perf_counter()
    ignores = _ignores(cluster)
    run = _Run(cluster, universe, semantics, config, limits, jobs)
    for rule in config.rules:
        run.rule(rule)
    findings = sorted(run.findings, key=_finding_order)
    shown = tuple(f for f in findings if f.rule not in ignores.get(f.object, ()))
    silenced = tuple(f for f in findings if f.rule in ignores.get(f.object, ()))
    return LintReport(
        findings=shown,
        silenced=silenced,
        undecided=tuple(run.undecided),
        skipped=tuple(run.skipped),
        rules=config.rules,
        fail_on=config.fail_on,
        seconds=time.perf_counter() - started,
        coverage=Coverage.of(cluster),
        warnings=tuple(run.notes),
    )


def _finding_order(f: LintFinding) -> tuple:
    from npverify.lint.rules import RULE_IDS

    loc = f.location
    return (RULE_IDS.index(f.rule), loc is None, (loc.file, loc.line, loc.column) if loc else ("", 0, 0), f.message)


def _ignores(cluster: Cluster) -> dict[ObjectRef, frozenset[str]]:
    """The rules each object's annotation silences; an unknown rule id is an error there."""
    found: dict[ObjectRef, frozenset[str]] = {}
    for note in cluster.ignore_annotations:
        for name in note.rules:
            problem = unknown_rule_problem(name) if name else f"empty rule id in {note.rules!r}; write rule ids separated by commas"
            if problem:
                raise InputError(Diagnostic(problem, note.location, f"metadata.annotations.{IGNORE_ANNOTATION}"))
        ref = ObjectRef(note.kind, note.namespace, note.name)
        found[ref] = found.get(ref, frozenset()) | frozenset(note.rules)
    return found


def policy_ref(policy: NetworkPolicy | ClusterPolicy) -> ObjectRef:
    if isinstance(policy, NetworkPolicy):
        return ObjectRef("NetworkPolicy", policy.namespace, policy.name)
    return ObjectRef(policy.kind, "", policy.name)


def _rule_path(direction: Direction, index: int) -> str:
    return f"{'ingress' if direction is Direction.INGRESS else 'egress'}[{index}]"


def _labels_text(labels) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in labels.items()) + "}"


def selector_text(selector: LabelSelector | None) -> str:
    if selector is None:
        return "{}"
    parts = [f"{r.key}={r.values[0]}" if r.operator is Operator.IN and len(r.values) == 1 else
             f"{r.key} {r.operator}" + (f" ({', '.join(r.values)})" if r.values else "") for r in selector.requirements()]
    return "{" + ", ".join(parts) + "}"


class _Run:
    """The state of one lint: the findings so far and a Verifier built once for the solver's rules."""

    def __init__(self, cluster: Cluster, universe: Universe, semantics: Semantics, config: LintConfig, limits: Limits, jobs: int):
        self.cluster = cluster
        self.universe = universe
        self.semantics = semantics
        self.config = config
        self.limits = limits
        self.jobs = jobs
        self.findings: list[LintFinding] = []
        self.undecided: list[UndecidedRule] = []
        self.skipped: list[SkippedRule] = []
        self.notes: list[str] = []
        self.coverage = Coverage.of(cluster)
        self._verifier = None
        self._unusable_locations: set = set()
        self._workloads_by_namespace: dict[str, list[Workload]] = {}
        for w in cluster.workloads:
            if not w.host_network:
                self._workloads_by_namespace.setdefault(w.namespace, []).append(w)
        self._namespace_labels = {name: self._labels_of(name) for name in sorted(cluster.namespace_names())}

    def _labels_of(self, name: str) -> Labels:
        declared = self.cluster.namespace(name)
        return declared.labels if declared is not None else Labels.of({NAMESPACE_NAME_LABEL: name})

    def rule(self, rule: str) -> None:
        getattr(self, "rule_" + rule.replace("-", "_"))()

    def add(self, rule: str, message: str, location, obj: ObjectRef, packet=None, decision=None, details=()) -> None:
        self.findings.append(LintFinding(rule, self.config.severity(rule), message, location, obj, packet, decision, tuple(details)))

    @property
    def verifier(self):
        from npverify.engine import Verifier

        if self._verifier is None:
            self._verifier = Verifier(self.cluster, self.universe, self.semantics, limits=self.limits)
        return self._verifier

    # --- ignored-rules -----------------------------------------------------------------

    def rule_ignored_rules(self) -> None:
        for policy in self.cluster.policies:
            for direction in (Direction.INGRESS, Direction.EGRESS):
                rules = policy.rules(direction)
                if not rules or direction in policy.policy_types:
                    continue
                listed = ", ".join(sorted(str(d) for d in policy.policy_types))
                field = "ingress" if direction is Direction.INGRESS else "egress"
                count = f"{len(rules)} {field} rule" + ("s" if len(rules) > 1 else "")
                self.add(
                    "ignored-rules",
                    f"{policy.key} has {count} but policyTypes [{listed}] lacks {direction}: the API keeps them and enforces nothing",
                    rules[0].location or policy.location,
                    policy_ref(policy),
                )

    # --- selects-nothing ---------------------------------------------------------------

    def rule_selects_nothing(self) -> None:
        by_pods = self.universe.pods == "workloads"
        by_namespaces = self.universe.namespaces == "declared"
        if not (by_pods or by_namespaces):
            self.skipped.append(
                SkippedRule(
                    "selects-nothing",
                    "needs --pods workloads or --namespaces declared (universe.pods / universe.namespaces): under 'any', "
                    "a pod or namespace that could exist is matched",
                )
            )
            return
        for policy in self.cluster.policies:
            ref = policy_ref(policy)
            if by_pods:
                self._nothing(policy.namespace, None, policy.pod_selector, policy.key, policy.location, ref)
            for direction in (Direction.INGRESS, Direction.EGRESS):
                if direction not in policy.policy_types:
                    continue  # ignored-rules says so
                for r, rule in enumerate(policy.rules(direction)):
                    for p, peer in enumerate(rule.peers):
                        if peer.ip_block is not None:
                            continue
                        what = f"{policy.key} {_rule_path(direction, r)}.{'from' if direction is Direction.INGRESS else 'to'}[{p}]"
                        self._nothing(policy.namespace, peer.namespace_selector, peer.pod_selector, what, peer.location or rule.location, ref)
        for cp in self.cluster.cluster_policies:
            ref = policy_ref(cp)
            self._nothing(None, cp.subject.namespace_selector, cp.subject.pod_selector, f"{cp.key} subject", cp.location, ref)
            for direction in (Direction.INGRESS, Direction.EGRESS):
                for r, rule in enumerate(cp.rules(direction)):
                    for p, peer in enumerate(rule.peers):
                        if peer.pods is None:
                            continue
                        what = f"{cp.key} spec.{_rule_path(direction, r)}.{'from' if direction is Direction.INGRESS else 'to'}[{p}]"
                        self._nothing(None, peer.pods.namespace_selector, peer.pods.pod_selector, what, peer.location or rule.location, ref)

    def _nothing(self, own_namespace, namespace_selector, pod_selector, what, location, ref) -> None:
        """A finding when no namespace (declared universe) or no workload pod (workloads
        universe) matches; the message names close label values."""
        if namespace_selector is None:
            namespaces = [own_namespace]
        else:
            namespaces = [n for n, labels in self._namespace_labels.items() if namespace_selector.matches(labels)]
        if self.universe.pods == "workloads":
            if any(pod_selector is None or pod_selector.matches(w.labels) for n in namespaces for w in self._workloads_by_namespace.get(n, ())):
                return
        elif namespaces:
            return
        if not namespaces and namespace_selector is not None:
            hints = _near_misses(namespace_selector, list(self._namespace_labels.values()), "namespace label")
            self.add(
                "selects-nothing",
                f"{what}: namespaceSelector {selector_text(namespace_selector)} matches no {'loaded' if self.universe.namespaces == 'declared' else 'declared'} namespace",
                location,
                ref,
                details=hints,
            )
            return
        pods = [w.labels for n in namespaces for w in self._workloads_by_namespace.get(n, ())]
        where = f"namespace {namespaces[0]}" if len(namespaces) == 1 else f"the {len(namespaces)} namespaces it selects"
        hints = _near_misses(pod_selector, pods, "pod label") if pod_selector is not None else ()
        self.add(
            "selects-nothing",
            f"{what}: podSelector {selector_text(pod_selector)} matches no loaded pod in {where}",
            location,
            ref,
            details=hints,
        )

    # --- unknown-named-port --------------------------------------------------------------

    def rule_unknown_named_port(self) -> None:
        if self.universe.pods != "workloads":
            self.skipped.append(
                SkippedRule(
                    "unknown-named-port",
                    "needs --pods workloads (universe.pods): under 'any', a pod that could exist may define any port name",
                )
            )
            return
        for policy in self.cluster.policies:
            for direction in (Direction.INGRESS, Direction.EGRESS):
                if direction not in policy.policy_types:
                    continue
                for r, rule in enumerate(policy.rules(direction)):
                    named = [(i, e) for i, e in enumerate(rule.ports) if isinstance(e.port, str)]
                    if not named:
                        continue
                    targets = self._destinations(policy, direction, rule)
                    if not targets:
                        continue  # no pod at all: selects-nothing's finding
                    for i, entry in named:
                        defined = [(p, w) for w in targets for p in w.ports if p.name == entry.port]
                        if any(p.protocol is entry.protocol for p, _ in defined):
                            continue
                        if defined:
                            other = defined[0]
                            hint = f"; {other[1].key} defines it for {other[0].protocol}, not {entry.protocol}"
                        else:
                            hint = did_you_mean(entry.port, sorted({p.name for w in targets for p in w.ports if p.name}))
                        self.add(
                            "unknown-named-port",
                            f"{policy.key} {_rule_path(direction, r)}.ports[{i}]: no pod the rule can reach defines the {entry.protocol} port {entry.port!r}"
                            f" ({len(targets)} loaded workload{'s' if len(targets) != 1 else ''} checked){hint}",
                            entry.location or rule.location,
                            policy_ref(policy),
                        )

    def _destinations(self, policy: NetworkPolicy, direction: Direction, rule: Rule) -> list[Workload]:
        """The workloads a rule's packets can go to: the policy's pods (ingress), or those
        its peers match (egress; an ipBlock or no peer at all can reach any pod)."""
        if direction is Direction.INGRESS:
            return [w for w in self._workloads_by_namespace.get(policy.namespace, ()) if policy.pod_selector.matches(w.labels)]
        if not rule.peers or any(p.ip_block is not None for p in rule.peers):
            return [w for ws in self._workloads_by_namespace.values() for w in ws]
        found = []
        for peer in rule.peers:
            if peer.namespace_selector is None:
                namespaces = [policy.namespace]
            else:
                namespaces = [n for n, labels in self._namespace_labels.items() if peer.namespace_selector.matches(labels)]
            found += [
                w for n in namespaces for w in self._workloads_by_namespace.get(n, ()) if peer.pod_selector is None or peer.pod_selector.matches(w.labels)
            ]
        return found

    # --- dns-blocked ---------------------------------------------------------------------

    def rule_dns_blocked(self) -> None:
        """Is every packet from any pod of the universe to a DNS pod on UDP/53 and TCP/53
        allowed? Each counterexample is blamed on what denies it (the policy isolating the
        pod, or a tier's Deny rule); that is fixed in a copy and the question asked again,
        so the next finding is another culprit."""
        from npverify.engine import Verifier

        config = self.config
        dns = Scope(namespace=config.dns_namespace, pod=LabelSelector(config.dns_labels), kind=EndpointKind.POD)
        ports = (PolicyPort(Protocol.UDP, 53), PolicyPort(Protocol.TCP, 53))
        invariant = Invariant("dns-blocked", InvariantKind.ALLOWED, Scope(kind=EndpointKind.POD), dns, ports)
        if self.universe.pods == "workloads" and not any(
            LabelSelector(config.dns_labels).matches(w.labels) for w in self._workloads_by_namespace.get(config.dns_namespace, ())
        ):
            self.skipped.append(
                SkippedRule(
                    "dns-blocked",
                    f"no loaded pod in namespace {config.dns_namespace} has the DNS labels {_labels_text(config.dns_labels)} "
                    "(pods: workloads); set lint.rules.dns-blocked.namespace and labels",
                )
            )
            return
        cluster = self.cluster
        blamed: set[ObjectRef] = set()
        while True:
            verifier = self.verifier if cluster is self.cluster else Verifier(cluster, self.universe, self.semantics, limits=self.limits)
            result = verifier.check(invariant)
            if result.verdict is Verdict.PROVED:
                return
            if result.verdict is Verdict.UNKNOWN:
                self.undecided.append(UndecidedRule("dns-blocked", result.reason or "undecided"))
                return
            packet = result.packet
            assert packet is not None
            # The fixes only ever allow more, so a packet denied with them is denied without.
            decision = decide(self.cluster, packet, self.semantics)
            if decision.allowed:
                raise InternalError(f"dns-blocked: the packet {packet!r} is denied with fixes applied but allowed without them")
            culprit = _denier(decision)
            ref = policy_ref(culprit[0])
            if ref in blamed:
                raise InternalError(f"dns-blocked: {ref} blamed twice for {packet!r}")
            blamed.add(ref)
            src = packet.src
            pod = f"pod {_labels_text(src.labels)} in namespace {src.namespace}" if isinstance(src, PodEndpoint) else str(src)
            self.add(
                "dns-blocked",
                f"{pod} cannot reach DNS ({config.dns_namespace} pods {_labels_text(config.dns_labels)}) on {packet.protocol}/53: {culprit[1]}",
                culprit[2],
                ref,
                packet,
                decision,
            )
            if len(blamed) >= MAX_DNS_FINDINGS:
                self.notes.append(
                    f"dns-blocked: stopped after {MAX_DNS_FINDINGS} findings; more pods may be blocked: fix these and run again"
                )
                return
            cluster = _fixed(cluster, culprit[0], culprit[3], dns, ports)

    # --- unusable-rule ---------------------------------------------------------------------

    def rule_unusable_rule(self) -> None:
        """A rule none of whose packets is allowed: for each peer, a witness packet allowed
        by the evaluator (from the loaded workloads) shows the rule usable at once; the
        others ask the solver whether any packet of the peer's scope is allowed."""
        witnesses = _Witnesses(self)
        for policy in self.cluster.policies:
            own = Scope(namespace=policy.namespace, pod=policy.pod_selector)
            for direction in (Direction.INGRESS, Direction.EGRESS):
                if direction not in policy.policy_types:
                    continue
                for r, rule in enumerate(policy.rules(direction)):
                    self._unusable(policy, direction, r, rule, own, witnesses)

    def _unusable(self, policy, direction, r, rule, own: Scope, witnesses: _Witnesses) -> None:
        examples = []
        for peer in rule.peers or (None,):
            if witnesses.usable(policy, direction, rule, peer):
                return
            other = _peer_scope(peer, policy.namespace)
            src, dst = (other, own) if direction is Direction.INGRESS else (own, other)
            result = self.verifier.check(Invariant(f"unusable-rule {policy.key}", InvariantKind.REACHABLE, src, dst, rule.ports))
            if result.verdict is Verdict.PROVED:
                return
            if result.verdict is Verdict.UNKNOWN:
                self.undecided.append(UndecidedRule("unusable-rule", result.reason or "undecided", rule.location, f"{policy.key} {_rule_path(direction, r)}"))
                return
            if result.packet is None:
                return  # the scope holds no packet: selects-nothing's (or vacuity's) finding
            examples.append(result)
        first = examples[0]
        other_side = "every source it admits is denied egress to the policy's pods" if direction is Direction.INGRESS else "every destination it admits denies ingress from the policy's pods"
        deciding = first.decision.egress if direction is Direction.INGRESS else first.decision.ingress
        if deciding.allowed:
            other_side = "every packet it matches is denied before it applies"
        self._unusable_locations.add(rule.location)
        self.add(
            "unusable-rule",
            f"{policy.key} {_rule_path(direction, r)} lets nothing through: {other_side}, e.g. {first.packet}",
            rule.location or policy.location,
            policy_ref(policy),
            first.packet,
            first.decision,
        )

    # --- overly-broad ----------------------------------------------------------------------

    def rule_overly_broad(self) -> None:
        production = LabelSelector(self.config.production_labels)
        for policy in self.cluster.policies:
            if Direction.INGRESS not in policy.policy_types:
                continue
            declared = self.cluster.namespace(policy.namespace)
            if declared is None or not production.matches(declared.labels):
                continue
            dst = Scope(namespace=policy.namespace, pod=policy.pod_selector)
            elsewhere = LabelSelector(match_expressions=(Requirement(NAMESPACE_NAME_LABEL, Operator.NOT_IN, (policy.namespace,)),))
            for r, rule in enumerate(policy.ingress):
                for what, src, location in _broad_sources(rule, elsewhere):
                    result = self.verifier.check(Invariant(f"overly-broad {policy.key}", InvariantKind.REACHABLE, src, dst, rule.ports))
                    if result.verdict is Verdict.UNKNOWN:
                        self.undecided.append(UndecidedRule("overly-broad", result.reason or "undecided", location, f"{policy.key} ingress[{r}]"))
                        continue
                    if result.verdict is not Verdict.PROVED or result.packet is None:
                        continue  # something else denies all of it: not broad in effect
                    decision = result.decision
                    if not any(m.policy == policy and m.rule_index == r for m in decision.ingress.matches):
                        raise InternalError(f"overly-broad: {policy.key} ingress[{r}] does not match its own witness {result.packet!r}")
                    self.add(
                        "overly-broad",
                        f"{policy.key} ingress[{r}] admits {what} into production namespace {policy.namespace} "
                        f"({_labels_text(declared.labels)}), e.g. {result.packet}",
                        location,
                        policy_ref(policy),
                        result.packet,
                        decision,
                    )
                    break

    # --- shadowed, redundant ---------------------------------------------------------------

    def rule_shadowed(self) -> None:
        self._redundancy()

    def rule_redundant(self) -> None:
        self._redundancy()

    def _redundancy(self) -> None:
        """npverify redundant's items, once for both rules: covered items are shadowed, the
        other redundant (unusable, unexplained) and vacuous items redundant."""
        if getattr(self, "_redundancy_done", False):
            return
        self._redundancy_done = True
        from npverify.redundancy import COVERED, find_redundancy
        from npverify.report.text import redundancy_reason_lines

        report = find_redundancy(self.cluster, self.universe, self.semantics, self.limits, None, None, jobs=self.jobs)
        for u in report.undecided:
            for rule in ("shadowed", "redundant"):
                if self.config.runs(rule):
                    self.undecided.append(UndecidedRule(rule, u.reason, u.item.location, str(u.item)))
        found = []
        for entry in report.redundant:
            rule = "shadowed" if entry.why == COVERED else "redundant"
            lines = redundancy_reason_lines(entry)
            found.append((rule, f"{entry.item.kind} {entry.item} is redundant: {lines[0] if lines else 'removing it changes nothing'}", entry.item, tuple(lines[1:]), entry.example))
        for v in report.vacuous:
            found.append(("redundant", f"{v.item.kind} {v.item} is vacuous: {v.reason}", v.item, (), None))
        for rule, message, item, details, example in found:
            if not self.config.runs(rule):
                continue
            if rule == "redundant" and item.kind == "rule" and self.config.runs("unusable-rule") and self._unusable_known(item):
                continue  # unusable-rule says it, with its packet
            if not self.coverage.complete:
                self.undecided.append(UndecidedRule(rule, f"{unknown_reason(self.coverage.unmodelled)}; with NetworkPolicies alone: {message}", item.location, str(item)))
                continue
            self.add(rule, message, item.location, policy_ref(item.policy), example.packet if example else None, example, details)

    def _unusable_known(self, item) -> bool:
        if "unusable-rule" in self.config.rules[: self.config.rules.index("redundant")]:
            return item.location in self._unusable_locations
        return False


def _near_misses(selector: LabelSelector, label_sets: list, what: str) -> tuple[str, ...]:
    """For each value a selector requires that no label set has, the close ones that exist."""
    values: dict[str, set[str]] = {}
    for labels in label_sets:
        for key, value in labels.items():
            values.setdefault(key, set()).add(value)
    hints = []
    for requirement in selector.requirements():
        if requirement.key not in values:
            if requirement.operator in (Operator.IN, Operator.EXISTS):
                hints.append(f"no {what} key {requirement.key!r}{did_you_mean(requirement.key, sorted(values))}")
            continue
        if requirement.operator is Operator.IN:
            for value in requirement.values:
                if value not in values[requirement.key]:
                    hints.append(f"no {what} {requirement.key}={value}{did_you_mean(value, sorted(values[requirement.key]))}")
    return tuple(hints)


def _denier(decision: Decision):
    """What denies a packet: (policy, a sentence, location, how to let it through), from
    the source's egress if that denies, else the destination's ingress."""
    side = decision.egress if not decision.egress.allowed else decision.ingress
    by = side.decided_by
    if by in (Tier.ADMIN.value, Tier.BASELINE.value):
        outcome = side.admin if by == Tier.ADMIN.value else side.baseline
        ref = outcome.rule
        return ref.policy, f"denied by {by} tier rule {ref.describe()}", ref.location, ("drop", side.direction, ref.index)
    policy = side.isolating[0]
    verb = "isolates it for egress" if side.direction is Direction.EGRESS else "isolates the DNS pod for ingress"
    names = ", ".join(p.key for p in side.isolating)
    return policy, f"{names} {verb} and no rule allows it", policy.location, ("allow", side.direction, None)


def _fixed(cluster: Cluster, policy, fix, dns: Scope, ports) -> Cluster:
    """``cluster`` with the culprit made to let DNS through: a NetworkPolicy gains a rule
    allowing DNS (egress to the DNS pods, or ingress from anywhere); a tier's Deny rule is
    removed. Both only allow more."""
    how, direction, index = fix
    if how == "drop":
        rules = policy.rules(direction)
        kept = rules[:index] + rules[index + 1 :]
        changed = attrs.evolve(policy, **{"ingress" if direction is Direction.INGRESS else "egress": kept})
        return attrs.evolve(cluster, cluster_policies=tuple(changed if p is policy else p for p in cluster.cluster_policies))
    if direction is Direction.EGRESS:
        peer = Peer(pod_selector=dns.pod, namespace_selector=LabelSelector(Labels.of({NAMESPACE_NAME_LABEL: dns.namespace})))
        changed = attrs.evolve(policy, egress=policy.egress + (Rule((peer,), ports),))
    else:
        changed = attrs.evolve(policy, ingress=policy.ingress + (Rule((), ports),))
    return cluster.with_policies(tuple(changed if p is policy else p for p in cluster.policies))


def _peer_scope(peer: Peer | None, namespace: str) -> Scope:
    """The endpoints a peer matches, as an invariant scope (None: a rule without peers)."""
    if peer is None:
        return Scope()
    if peer.ip_block is not None:
        return Scope(ip_block=peer.ip_block)
    return Scope(namespace=peer.namespace_selector if peer.namespace_selector is not None else namespace, pod=peer.pod_selector)


def _broad_sources(rule: Rule, elsewhere: LabelSelector) -> Iterator[tuple[str, Scope, object]]:
    """The broad parts of an ingress rule, as (words, sources from outside its namespace, where)."""
    if not rule.peers:
        yield "every source (no 'from')", Scope(namespace=elsewhere), rule.location
        return
    for i, peer in enumerate(rule.peers):
        if peer.namespace_selector is not None and peer.namespace_selector.is_empty:
            yield f"every namespace (from[{i}] namespaceSelector: {{}})", Scope(namespace=elsewhere, pod=peer.pod_selector), peer.location or rule.location
        elif peer.ip_block is not None and peer.ip_block.cidr.prefixlen == 0:
            yield f"every address (from[{i}] ipBlock {peer.ip_block.cidr})", Scope(kind=EndpointKind.EXTERNAL, ip_block=peer.ip_block), peer.location or rule.location


class _Witnesses:
    """Packets between loaded workloads that the evaluator allows: a rule one of them goes
    through is usable, with no solver. Finding none proves nothing."""

    PER_SIDE = 2

    def __init__(self, run: _Run):
        self.run = run
        networks = list(run.universe.pod_cidrs) or [ipaddress.ip_network("10.244.0.0/16")]
        self.network = next((n for n in networks if n.version == 4), networks[0])
        self._pods: dict[str, PodEndpoint] = {}

    def _pod(self, w: Workload, side: str) -> PodEndpoint:
        key = f"{w.key}#{side}"
        if key not in self._pods:
            ip = w.ips[0] if w.ips else self.network.network_address + (2 * len(self._pods) + 1) % max(self.network.num_addresses - 2, 1) + 1
            pod_id = w.key if w.single_pod else key
            self._pods[key] = PodEndpoint(w.namespace, self.run._namespace_labels[w.namespace], w.labels, ip, w.ports, False, w.key, pod_id)
        return self._pods[key]

    def _matching(self, namespaces, selector: LabelSelector | None) -> list[Workload]:
        found = []
        for n in namespaces:
            for w in self.run._workloads_by_namespace.get(n, ()):
                if selector is None or selector.matches(w.labels):
                    found.append(w)
                    if len(found) >= self.PER_SIDE:
                        return found
        return found

    def usable(self, policy: NetworkPolicy, direction: Direction, rule: Rule, peer: Peer | None) -> bool:
        run = self.run
        own = self._matching([policy.namespace], policy.pod_selector)
        if peer is None:
            others = self._matching([policy.namespace], None) + self._matching([n for n in run._workloads_by_namespace if n != policy.namespace][:2], None)
        elif peer.ip_block is not None:
            return False
        else:
            namespaces = [policy.namespace] if peer.namespace_selector is None else (
                n for n, labels in run._namespace_labels.items() if peer.namespace_selector.matches(labels)
            )
            others = self._matching(namespaces, peer.pod_selector)
        for a in own:
            for b in others:
                src, dst = (self._pod(b, "src"), self._pod(a, "dst")) if direction is Direction.INGRESS else (self._pod(a, "src"), self._pod(b, "dst"))
                for protocol, port in _ports(rule, dst):
                    packet = Packet(src, dst, protocol, port)
                    if packet.is_self or universe_problem(run.cluster, packet, run.universe):
                        continue
                    if decide(run.cluster, packet, run.semantics).allowed:
                        return True
        return False


def _ports(rule: Rule, dst: PodEndpoint) -> list[tuple[Protocol, int]]:
    if not rule.ports:
        return [(Protocol.TCP, 80)]
    found = []
    for entry in rule.ports[:2]:
        if isinstance(entry.port, str):
            number = next((p.port for p in dst.ports if p.name == entry.port and p.protocol is entry.protocol), None)
            if number is not None:
                found.append((entry.protocol, number))
        else:
            found.append((entry.protocol, entry.port if entry.port is not None else 80))
    return found
