"""The lint rules' proofs: each finding is confirmed by the reference evaluator.

Rules about packets (dns-blocked, unusable-rule, overly-broad) are questions to the solver
(npverify.engine.Verifier), whose packets are replayed through semantics.decide; shadowed
and redundant are npverify redundant's items; the rest read the manifests against the
universe with the evaluator's own selector and port matching.
"""

from __future__ import annotations

import ipaddress
import itertools
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
    Action,
    NAMESPACE_NAME_LABEL,
    Cluster,
    ClusterPeer,
    ClusterPolicy,
    ContainerPort,
    Diagnostic,
    Direction,
    Endpoint,
    ExternalEndpoint,
    IPAddress,
    IPBlock,
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
from npverify.semantics import Decision, decide, ports_match, possible_outcomes, scope_matches, universe_problem
from npverify.tiers import effective_action
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
    run = _Run(cluster, universe, semantics, config, limits, jobs)
    for rule in config.rules:
        run.rule(rule)
    findings = sorted(run.findings, key=_finding_order)
    ignores = run.ignores
    shown = tuple(f for f in findings if not _silenced(f, ignores))
    silenced = tuple(sorted([f for f in findings if _silenced(f, ignores)] + run.silenced, key=_finding_order))
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


def _silenced(finding: LintFinding, ignores: dict[ObjectRef, frozenset[str]]) -> bool:
    return any(finding.rule in ignores.get(ref, ()) for ref in finding.objects)


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
        #: Findings silenced while a rule ran (dns-blocked asks again without their pods).
        self.silenced: list[LintFinding] = []
        self.ignores = _ignores(cluster)
        self.undecided: list[UndecidedRule] = []
        self.skipped: list[SkippedRule] = []
        self.notes: list[str] = []
        self.coverage = Coverage.of(cluster)
        self._verifier = None
        self._unusable_locations: set = set()
        #: Where selects-nothing reported a selector: redundant does not repeat it as vacuous.
        self._nothing_locations: set = set()
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

    def add(self, rule: str, message: str, location, obj: ObjectRef, packet=None, decision=None, details=(), about=()) -> None:
        self.findings.append(self.finding(rule, message, location, obj, packet, decision, details, about))

    def finding(self, rule: str, message: str, location, obj: ObjectRef, packet=None, decision=None, details=(), about=()) -> LintFinding:
        """A finding about ``obj`` and the objects ``about``; a NetworkPolicy's is about its namespace too."""
        if obj.kind == "NetworkPolicy":
            about = (*about, ObjectRef("Namespace", "", obj.namespace))
        about = tuple(dict.fromkeys(ref for ref in about if ref != obj))
        return LintFinding(rule, self.config.severity(rule), message, location, obj, packet, decision, tuple(details), about)

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
        found = len(self.findings)
        self._nothing_found(own_namespace, namespace_selector, pod_selector, what, location, ref)
        if len(self.findings) > found:
            self._nothing_locations.add(location)

    def _nothing_found(self, own_namespace, namespace_selector, pod_selector, what, location, ref) -> None:
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
                            f" ({_checked(targets)}){hint}",
                            entry.location or rule.location,
                            policy_ref(policy),
                        )

        for cp in self.cluster.cluster_policies:
            for direction in (Direction.INGRESS, Direction.EGRESS):
                for r, rule in enumerate(cp.rules(direction)):
                    named = [(i, e) for i, e in enumerate(rule.ports) if e.named is not None]
                    targets = self._cluster_destinations(cp, direction, rule) if named else []
                    for i, entry in named:
                        # A cluster rule's named port matches a container port of that name
                        # whatever its protocol.
                        if not targets or any(p.name == entry.named for w in targets for p in w.ports):
                            continue
                        hint = did_you_mean(entry.named, sorted({p.name for w in targets for p in w.ports if p.name}))
                        self.add(
                            "unknown-named-port",
                            f"{cp.key} spec.{_rule_path(direction, r)}.ports[{i}]: no pod the rule can reach defines the port {entry.named!r}"
                            f" ({_checked(targets)}){hint}",
                            entry.location or rule.location,
                            policy_ref(cp),
                        )

    def _pod_set_workloads(self, pods) -> list[Workload]:
        return [
            w
            for n, labels in self._namespace_labels.items()
            if pods.namespace_selector.matches(labels)
            for w in self._workloads_by_namespace.get(n, ())
            if pods.pod_selector.matches(w.labels)
        ]

    def _cluster_destinations(self, policy: ClusterPolicy, direction: Direction, rule) -> list[Workload]:
        """The workloads a cluster rule's packets can go to: the subject's pods (ingress),
        or the pods its peers match (egress; a networks peer can reach any pod)."""
        if direction is Direction.INGRESS:
            return self._pod_set_workloads(policy.subject)
        if any(p.networks for p in rule.peers):
            return [w for ws in self._workloads_by_namespace.values() for w in ws]
        return [w for p in rule.peers if p.pods is not None for w in self._pod_set_workloads(p.pods)]

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
        so the next finding is another culprit. Packets from loaded workloads' pods go
        through the evaluator first (see _egress_alike): each one denied is a
        counterexample found without the solver, which then re-encodes the fixed cluster
        far less often."""
        from npverify.engine import Verifier

        config = self.config
        dns = Scope(namespace=config.dns_namespace, pod=LabelSelector(config.dns_labels), kind=EndpointKind.POD)
        ports = (PolicyPort(Protocol.UDP, 53), PolicyPort(Protocol.TCP, 53))
        invariant = Invariant("dns-blocked", InvariantKind.ALLOWED, Scope(kind=EndpointKind.POD), dns, ports)
        dns_workloads = [w for w in self._workloads_by_namespace.get(config.dns_namespace, ()) if LabelSelector(config.dns_labels).matches(w.labels)]
        if self.universe.pods == "workloads" and not dns_workloads:
            self.skipped.append(
                SkippedRule(
                    "dns-blocked",
                    f"no loaded pod in namespace {config.dns_namespace} has the DNS labels {_labels_text(config.dns_labels)} "
                    "(pods: workloads); set lint.rules.dns-blocked.namespace and labels",
                )
            )
            return
        search = _DnsSearch(self, dns, ports)
        witnesses = _Witnesses(self)
        # The DNS pods: a loaded one, and (where the universe holds pods no manifest
        # describes) one with the DNS labels and no container ports, which rules naming the
        # DNS ports by name do not match.
        made = witnesses.made_pod(config.dns_namespace, None, LabelSelector(config.dns_labels), ())
        targets = [witnesses.pod(w, "dst") for w in dns_workloads[:1]] + ([made] if made is not None else [])
        if not self.universe.pod_cidrs:
            # Pod IPs are unconstrained: the DNS pods may have a public address too, which
            # tier rules about networks (cluster-internal ranges, the internet) tell apart.
            targets += [attrs.evolve(t, ip=ipaddress.ip_address("203.0.113.53")) for t in targets if t.ip.version == 4]
        for w in self._egress_alike():
            for dns_pod, protocol in itertools.product(targets, (Protocol.UDP, Protocol.TCP)):
                if search.stopped or w.namespace in search.excluded or search.cluster.workload(w.key) is None:
                    break
                packet = Packet(witnesses.pod(w, "src"), dns_pod, protocol, 53)
                if universe_problem(self.cluster, packet, self.universe):
                    continue
                # Until the fixes let it through: each culprit on its way is a finding.
                while not search.stopped and w.namespace not in search.excluded and search.cluster.workload(w.key) is not None:
                    outcomes = possible_outcomes(search.cluster, packet, self.semantics, nodes=self.universe.nodes)
                    if not outcomes.determined or outcomes.decisions[0].allowed:
                        break
                    search.counterexample(packet)
        while not search.stopped:
            cluster = search.cluster
            verifier = self.verifier if cluster is self.cluster else Verifier(cluster, self.universe, self.semantics, limits=self.limits)
            if search.excluded:
                others = LabelSelector(match_expressions=(Requirement(NAMESPACE_NAME_LABEL, Operator.NOT_IN, tuple(sorted(search.excluded))),))
                invariant = attrs.evolve(invariant, src=Scope(kind=EndpointKind.POD, namespace=others))
            result = verifier.check(invariant)
            if result.verdict is Verdict.PROVED:
                return
            if result.verdict is Verdict.UNKNOWN:
                self.undecided.append(UndecidedRule("dns-blocked", result.reason or "undecided"))
                return
            assert result.packet is not None
            search.counterexample(result.packet)

    def _egress_alike(self) -> Iterator[Workload]:
        """Per namespace, one loaded workload for each set of policies selecting it for
        egress (its NetworkPolicies, the cluster policies whose subject it is in): the
        candidates a namespace's DNS verdicts most likely differ by. The solver finds what
        they miss."""
        egress = [cp for cp in self.cluster.cluster_policies if cp.egress]
        for namespace, workloads in self._workloads_by_namespace.items():
            labels = self._namespace_labels[namespace]
            subjects = [cp.subject.pod_selector for cp in egress if cp.subject.namespace_selector.matches(labels)]
            selectors = subjects + [p.pod_selector for p in self.cluster.policies_in(namespace) if Direction.EGRESS in p.policy_types]
            seen: set[tuple[bool, ...]] = set()
            for w in workloads:
                signature = tuple(selector.matches(w.labels) for selector in selectors)
                if signature not in seen:
                    seen.add(signature)
                    yield w

    # --- unusable-rule ---------------------------------------------------------------------

    def rule_unusable_rule(self) -> None:
        """A rule none of whose packets is allowed. Most rules are shown usable by a witness:
        a packet the rule matches that the reference evaluator allows (_Witnesses). The
        others are asked of the solver all at once, one question per peer (smt.batch); a
        rule whose every peer has no allowed packet is asked once more per peer, for the
        denied example the finding shows (which the evaluator confirms)."""
        witnesses = _Witnesses(self)
        open_rules = []
        for policy in self.cluster.policies:
            for direction in (Direction.INGRESS, Direction.EGRESS):
                if direction not in policy.policy_types:
                    continue
                for r, rule in enumerate(policy.rules(direction)):
                    affecting = self.coverage.affecting(_rule_namespaces(policy, rule)) if not self.coverage.complete else ()
                    if affecting:
                        self.undecided.append(UndecidedRule("unusable-rule", unknown_reason(affecting), rule.location, f"{policy.key} {_rule_path(direction, r)}"))
                    else:
                        usable, tried = witnesses.usable(policy, direction, rule)
                        if not usable:
                            open_rules.append(((policy, direction, r, rule), tried))
        if not open_rules:
            return
        questions = [(entry, self._unusable_invariant(entry, peer)) for entry, _ in open_rules for peer in entry[3].peers or (None,)]

        #: Questions the evaluator answered (allowed whatever no manifest settles).
        proved: set[int] = set()

        def settle(packet: Packet, open_questions: list[int]) -> list[int]:
            # The solver's packet shows an endpoint that gets through (a pod no manifest
            # describes, an address some tier lets by): tried at the other end of the
            # questions still open, most of which it settles at once.
            found = [i for i in open_questions if witnesses.usable_with(questions[i][0], questions[i][1], packet)]
            proved.update(found)
            return found

        outcomes = self.verifier.allowed_each([invariant for _, invariant in questions], settle=settle)
        answers: dict[tuple, list] = {}
        for i, ((entry, invariant), outcome) in enumerate(zip(questions, outcomes)):
            answers.setdefault(entry[:3], []).append((invariant, outcome))
        evaluated = {questions[i][0][:3] for i in proved}
        for entry, tried in open_rules:
            if entry[:3] not in evaluated:  # else a packet through it is allowed: usable
                self._unusable(entry, answers[entry[:3]], tried)

    def _unusable_invariant(self, entry, peer: Peer | None) -> Invariant:
        policy, direction, _, rule = entry
        own = Scope(namespace=policy.namespace, pod=policy.pod_selector)
        other = _peer_scope(peer, policy.namespace)
        src, dst = (other, own) if direction is Direction.INGRESS else (own, other)
        return Invariant(f"unusable-rule {policy.key}", InvariantKind.REACHABLE, src, dst, rule.ports)

    def _unusable(self, entry, answers: list, tried: dict[int, Packet]) -> None:
        from npverify.smt import Status

        policy, direction, r, rule = entry
        where = f"{policy.key} {_rule_path(direction, r)}"
        unknown = next((outcome for _, outcome in answers if outcome.status is Status.UNKNOWN), None)
        if unknown is not None:
            self.undecided.append(UndecidedRule("unusable-rule", unknown.reason or "undecided", rule.location, where))
            return
        allowed = [invariant for invariant, outcome in answers if outcome.status is Status.SAT]
        if allowed:
            if not self.cluster.cluster_policies:
                return
            # With Admin or Baseline tiers the solver's packet may be allowed only under one
            # resolution of what no manifest holds (nodes, domainNames, same-priority order):
            # the Verifier tells a proof from a possibility.
            result = self.verifier.check(allowed[0])
            if result.verdict is Verdict.UNKNOWN:
                self.undecided.append(UndecidedRule("unusable-rule", result.reason or "undecided", rule.location, where))
            return
        # No packet of any peer is allowed. The finding shows one packet per peer is
        # there to deny (a peer whose scope holds none is selects-nothing's finding): the
        # witnesses' tries where they found one, else the solver's denied example.
        examples = []
        for index, (invariant, _) in enumerate(answers):
            packet = tried.get(index)
            if packet is not None:
                decision = decide(self.cluster, packet, self.semantics, nodes=self.universe.nodes)
                if decision.allowed:
                    raise InternalError(f"unusable-rule: {where}: the solver finds no allowed packet, the evaluator allows {packet!r}")
                examples.append((packet, decision))
                continue
            result = self.verifier.check(invariant)
            if result.verdict is Verdict.PROVED:
                raise InternalError(f"unusable-rule: {where}: the solver found no allowed packet of {invariant.src} -> {invariant.dst} at first, then one")
            if result.verdict is Verdict.UNKNOWN:
                self.undecided.append(UndecidedRule("unusable-rule", result.reason or "undecided", rule.location, where))
                return
            if result.packet is None:
                return  # the scope holds no packet: selects-nothing's (or vacuity's) finding
            examples.append((result.packet, result.decision))
        packet, decision = examples[0]
        other_side = "every source it admits is denied egress to the policy's pods" if direction is Direction.INGRESS else "every destination it admits denies ingress from the policy's pods"
        deciding = decision.egress if direction is Direction.INGRESS else decision.ingress
        if deciding.allowed:
            other_side = "every packet it matches is denied before it applies"
        self._unusable_locations.add(rule.location)
        self.add(
            "unusable-rule",
            f"{where} lets nothing through: {other_side}, e.g. {packet}",
            rule.location or policy.location,
            policy_ref(policy),
            packet,
            decision,
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
        for cp in self.cluster.cluster_policies:
            for r, rule in enumerate(cp.ingress):
                self._overly_broad_cluster_rule(cp, r, rule, production)

    def _overly_broad_cluster_rule(self, cp: ClusterPolicy, r: int, rule, production: LabelSelector) -> None:
        """An Admin or Baseline Accept rule admitting every namespace or address into a
        production namespace its subject covers: reported when the solver's packet from
        outside that namespace is allowed and this rule is what decided its ingress (a packet
        an earlier rule decides says nothing about this one: then no finding)."""
        if effective_action(rule) is not Action.ACCEPT:
            return
        ports = _policy_ports(rule.ports)
        if ports is None:
            return  # named ports only: their protocol is the pod's, which a PolicyPort cannot leave open
        where = f"{cp.key} spec.ingress[{r}]"
        for declared in self.cluster.namespaces:
            if not production.matches(declared.labels) or not cp.subject.namespace_selector.matches(declared.labels):
                continue
            dst = Scope(namespace=declared.name, pod=cp.subject.pod_selector)
            elsewhere = LabelSelector(match_expressions=(Requirement(NAMESPACE_NAME_LABEL, Operator.NOT_IN, (declared.name,)),))
            for what, src, location in _broad_cluster_sources(rule, elsewhere):
                result = self.verifier.check(Invariant(f"overly-broad {cp.key}", InvariantKind.REACHABLE, src, dst, ports))
                if result.verdict is Verdict.UNKNOWN:
                    self.undecided.append(UndecidedRule("overly-broad", result.reason or "undecided", location, f"{where} into {declared.name}"))
                    continue
                if result.verdict is not Verdict.PROVED or result.packet is None:
                    continue
                side = result.decision.ingress
                outcome = side.admin if cp.tier is Tier.ADMIN else side.baseline
                if side.decided_by != cp.tier.value or outcome is None or outcome.rule is None or (outcome.rule.policy, outcome.rule.index) != (cp, r):
                    continue
                self.add(
                    "overly-broad",
                    f"{where}{' (' + rule.name + ')' if rule.name else ''} admits {what} into production namespace {declared.name} "
                    f"({_labels_text(declared.labels)}), e.g. {result.packet}",
                    location,
                    policy_ref(cp),
                    result.packet,
                    result.decision,
                    about=(ObjectRef("Namespace", "", declared.name),),
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
        vacuous = {v.item for v in report.vacuous}
        for rule, message, item, details, example in found:
            if not self.config.runs(rule):
                continue
            if rule == "redundant" and item.kind == "rule" and self.config.runs("unusable-rule") and self._unusable_known(item):
                continue  # unusable-rule says it, with its packet
            if rule == "redundant" and self.config.runs("ignored-rules") and _of_ignored_direction(item):
                continue  # ignored-rules says it, once for the policy's rules of that direction
            if item in vacuous and item.location is not None and item.location in self._nothing_locations:
                continue  # vacuous because a selector matches nothing: selects-nothing says which
            if not self.coverage.complete:
                self.undecided.append(UndecidedRule(rule, f"{unknown_reason(self.coverage.unmodelled)}; with NetworkPolicies alone: {message}", item.location, str(item)))
                continue
            self.add(rule, message, item.location, policy_ref(item.policy), example.packet if example else None, example, details)

    def _unusable_known(self, item) -> bool:
        if "unusable-rule" in self.config.rules[: self.config.rules.index("redundant")]:
            return item.location in self._unusable_locations
        return False


def _of_ignored_direction(item) -> bool:
    """A NetworkPolicy's rule (or part of one) of a direction its policyTypes lacks."""
    return isinstance(item.policy, NetworkPolicy) and item.direction is not None and item.direction not in item.policy.policy_types


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


class _DnsSearch:
    """dns-blocked's state: the cluster with the findings so far fixed (and silenced
    workloads removed), the namespaces taken out of the question, and what was blamed."""

    def __init__(self, run: _Run, dns: Scope, ports: tuple[PolicyPort, ...]):
        self.run = run
        self.dns = dns
        self.ports = ports
        self.cluster = run.cluster
        #: What was blamed: a NetworkPolicy, or one rule of a cluster-scoped policy.
        self.blamed: set[tuple] = set()
        #: Namespaces whose annotation silences dns-blocked for the example pod: asked again
        #: without their pods, so that other pods the same culprit blocks are still found.
        self.excluded: set[str] = set()
        self.stopped = False

    def counterexample(self, packet: Packet) -> None:
        """A packet to DNS denied in the fixed cluster: a finding (or a silenced one), and
        the culprit fixed (or the silenced pods taken out)."""
        run, config = self.run, self.run.config
        # The fixes only ever allow more, so a packet denied with them is denied without.
        if decide(run.cluster, packet, run.semantics, nodes=run.universe.nodes).allowed:
            raise InternalError(f"dns-blocked: the packet {packet!r} is denied with fixes applied but allowed without them")
        # Blamed on what denies it with the earlier findings fixed: the next fix to make
        # (without them, it may be an earlier finding's rule that matches it first).
        decision = decide(self.cluster, packet, run.semantics, nodes=run.universe.nodes)
        if decision.allowed:
            raise InternalError(f"dns-blocked: the counterexample {packet!r} is allowed by the evaluator")
        culprit = _denier(decision)
        ref = policy_ref(culprit[0])
        src = packet.src
        pod = f"pod {_labels_text(src.labels)} in namespace {src.namespace}" if isinstance(src, PodEndpoint) else str(src)
        evidence = _pod_refs(self.cluster, src)
        finding = run.finding(
            "dns-blocked",
            f"{pod} cannot reach DNS ({config.dns_namespace} pods {_labels_text(config.dns_labels)}) on {packet.protocol}/53: {culprit[1]}",
            culprit[2],
            ref,
            packet,
            decision,
            about=evidence,
        )
        silencing = [e for e in evidence if "dns-blocked" in run.ignores.get(e, ())]
        if silencing:
            # Silenced by the example pod's namespace or workload: asked again without
            # those pods (the culprit is not fixed: it may block other pods).
            run.silenced.append(finding)
            for e in silencing:
                if e.kind == "Namespace":
                    self.excluded.add(e.name)
                else:
                    kept = tuple(w for w in self.cluster.workloads if (w.kind, w.namespace, w.name) != (e.kind, e.namespace, e.name))
                    self.cluster = attrs.evolve(self.cluster, workloads=kept)
            return
        key = (ref, culprit[3])
        if key in self.blamed:
            raise InternalError(f"dns-blocked: {ref} {culprit[3]} blamed twice for {packet!r}")
        self.blamed.add(key)
        run.findings.append(finding)
        if len(self.blamed) >= MAX_DNS_FINDINGS:
            run.notes.append(f"dns-blocked: stopped after {MAX_DNS_FINDINGS} findings; more pods may be blocked: fix these and run again")
            self.stopped = True
            return
        self.cluster = _fixed(self.cluster, culprit[0], culprit[3], self.dns, self.ports)


def _pod_refs(cluster: Cluster, endpoint) -> tuple[ObjectRef, ...]:
    """The namespace of a pod and, if it is a loaded workload's, that workload."""
    if not isinstance(endpoint, PodEndpoint):
        return ()
    refs = [ObjectRef("Namespace", "", endpoint.namespace)]
    workload = cluster.workload(endpoint.workload)
    if workload is not None:
        refs.append(ObjectRef(workload.kind, workload.namespace, workload.name))
    return tuple(refs)


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
    made to match nothing (an Accept rule of an unknown peer: the rules keep their indexes,
    which later findings name). Both only allow more."""
    how, direction, index = fix
    if how == "drop":
        rules = list(policy.rules(direction))
        rules[index] = attrs.evolve(rules[index], action=Action.ACCEPT, peers=(ClusterPeer(),))
        if effective_action(rules[index]) is not Action.ACCEPT or not rules[index].fails_closed:
            raise InternalError(f"dns-blocked: {policy.key} {direction} rule {index} could not be made to match nothing")
        changed = attrs.evolve(policy, **{"ingress" if direction is Direction.INGRESS else "egress": tuple(rules)})
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


def _policy_ports(entries) -> tuple[PolicyPort, ...] | None:
    """A cluster rule's numbered port entries as a NetworkPolicy's (their packets are a
    part of the rule's); None when it has entries and none of them is numbered."""
    found = tuple(
        PolicyPort(e.protocol, e.start, e.end if e.end != e.start else None) for e in entries if e.named is None and e.protocol is not None
    )
    return None if entries and not found else found


def _broad_cluster_sources(rule, elsewhere: LabelSelector) -> Iterator[tuple[str, Scope, object]]:
    """The broad peers of a cluster rule, as (words, sources from outside the namespace, where)."""
    for i, peer in enumerate(rule.peers):
        if peer.pods is not None and peer.pods.namespace_selector.is_empty:
            yield f"every namespace (from[{i}])", Scope(namespace=elsewhere, pod=peer.pods.pod_selector), peer.location or rule.location
        for network in peer.networks:
            if network.prefixlen == 0:
                yield f"every address (from[{i}] networks {network})", Scope(kind=EndpointKind.EXTERNAL, ip_block=IPBlock(network)), peer.location or rule.location


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


def _rule_namespaces(policy: NetworkPolicy, rule: Rule) -> frozenset[str] | None:
    """The namespaces of the pods a rule's packets can have at either end; None: any."""
    for peer in rule.peers or (None,):
        if peer is None or peer.ip_block is not None or peer.namespace_selector is not None:
            return None
    return frozenset({policy.namespace})


def _labels_satisfying(selector: LabelSelector | None) -> dict[str, str] | None:
    """Few labels that ``selector`` matches (a pod or namespace made to match it), or None
    when the requirements contradict each other."""
    labels: dict[str, str] = {}
    if selector is None:
        return labels
    for requirement in selector.requirements():
        if requirement.operator is Operator.IN:
            if requirement.key not in labels:
                labels[requirement.key] = requirement.values[0]
        elif requirement.operator is Operator.EXISTS:
            labels.setdefault(requirement.key, "npverify-lint")
    return labels if selector.matches(labels) else None


def _address_in_block(block, pod_cidrs) -> IPAddress | None:
    """An address of ``block`` outside its excepts and the pod CIDRs: an external host's."""
    cidr = block.cidr
    # Documentation addresses first: they read as what they are in a finding's example.
    candidates = [ipaddress.ip_address(a) for a in ("203.0.113.1", "198.51.100.1", "2001:db8::1")]
    candidates += [cidr.network_address + 1 if cidr.num_addresses > 2 else cidr.network_address]
    candidates += [e.broadcast_address + 1 for e in block.except_ if int(e.broadcast_address) + 1 <= int(cidr.broadcast_address)]
    for ip in candidates:
        if block.contains(ip) and not any(ip in c for c in pod_cidrs):
            return ip
    return None


class _Witnesses:
    """Packets a rule matches that the reference evaluator allows whatever no manifest
    settles: each shows its rule usable without the solver. Finding none proves nothing.

    Endpoints come from the loaded workloads the policy and the peer select and, where the
    universe holds pods (and namespaces) that are not loaded, from pods made to match the
    selectors with as few labels as they require: in the 'any' universe the pod that makes
    a rule usable is often one no manifest describes (a namespace no policy isolates).
    """

    #: Loaded workloads tried per side, and packets tried per rule at most: enough to hit
    #: a rule's traffic in practice, few enough that a rule costs a few evaluations.
    PER_SIDE = 3
    MAX_PACKETS = 60

    def __init__(self, run: _Run):
        self.run = run
        self.cluster = run.cluster
        universe = run.universe
        self.any_pods = universe.pods == "any"
        self.any_namespaces = universe.namespaces == "any"
        self.pod_cidrs = tuple(universe.pod_cidrs)
        networks = list(universe.pod_cidrs) or [ipaddress.ip_network("10.244.0.0/16")]
        self.network = next((n for n in networks if n.version == 4), networks[0])
        self.external = _address_in_block(IPBlock(ipaddress.ip_network("0.0.0.0/0")), self.pod_cidrs)
        taken = set(run._namespace_labels) | {p.namespace for p in self.cluster.policies}
        self.fresh = next(name for name in (f"npverify-lint-{i}" for i in itertools.count()) if name not in taken)
        self._loaded: dict[str, PodEndpoint] = {}
        self._made: dict[tuple, PodEndpoint | None] = {}
        self._namespaces: dict[LabelSelector, list[str]] = {}
        self._ports_near: dict[str, list[tuple[Protocol, int]]] = {}

    def _address(self) -> IPAddress:
        count = len(self._loaded) + len(self._made)
        return self.network.network_address + (2 * count + 1) % max(self.network.num_addresses - 2, 1) + 1

    def pod(self, w: Workload, side: str) -> PodEndpoint:
        """A pod of ``w`` as the packet's ``side`` ("src" or "dst"): two pods of a workload
        of several pods, so that a rule between a workload's own pods has a witness."""
        key = f"{w.key}#{side}"
        pod = self._loaded.get(key)
        if pod is None:
            if w.ips:
                ip = w.ips[0] if side == "src" or len(w.ips) == 1 else w.ips[1]
            else:
                ip = self._address()
            pod_id = w.key if w.single_pod else key
            pod = self._loaded[key] = PodEndpoint(w.namespace, self.run._namespace_labels[w.namespace], w.labels, ip, w.ports, False, w.key, pod_id)
        return pod

    def _matching_namespaces(self, selector: LabelSelector) -> list[str]:
        if selector not in self._namespaces:
            self._namespaces[selector] = [n for n, labels in self.run._namespace_labels.items() if selector.matches(labels)]
        return self._namespaces[selector]

    def _workloads(self, namespaces, selector: LabelSelector | None) -> list[Workload]:
        """Up to PER_SIDE workloads ``selector`` matches, one per namespace first."""
        found: list[Workload] = []
        rest: list[Workload] = []
        for n in namespaces:
            matching = [w for w in self.run._workloads_by_namespace.get(n, ()) if selector is None or selector.matches(w.labels)]
            if matching:
                found.append(matching[0])
                rest += matching[1:3]
            if len(found) >= self.PER_SIDE:
                break
        return (found + rest)[: self.PER_SIDE]

    def made_pod(self, namespace: str | None, namespace_selector: LabelSelector | None, pod_selector: LabelSelector | None, named: tuple) -> PodEndpoint | None:
        """A pod the selectors match that no manifest describes, with container ports of
        the ``named`` (name, protocol) pairs; in ``namespace``, else in a namespace
        ``namespace_selector`` matches (a declared one, or a made one). None when the
        universe holds no such pod."""
        key = (namespace, namespace_selector, pod_selector, named)
        if key in self._made:
            return self._made[key]
        pod = None
        labels = _labels_satisfying(pod_selector) if self.any_pods else None
        if labels is not None:
            namespace_labels = self._namespace_for(namespace, namespace_selector)
            if namespace_labels is not None:
                ports = tuple(ContainerPort(40000 + i, protocol, name) for i, (name, protocol) in enumerate(named))
                name = namespace_labels[NAMESPACE_NAME_LABEL]
                pod = PodEndpoint(name, namespace_labels, Labels.of(labels), self._address(), ports, False, None, f"npverify-lint-pod-{len(self._made)}")
        self._made[key] = pod
        return pod

    def _namespace_for(self, namespace: str | None, selector: LabelSelector | None) -> Labels | None:
        run = self.run
        if namespace is not None:
            if namespace in run._namespace_labels:
                return run._namespace_labels[namespace]
            return Labels.of({NAMESPACE_NAME_LABEL: namespace}) if self.any_namespaces else None
        if self.any_namespaces:
            labels = _labels_satisfying(selector)
            if labels is not None:
                name = labels.setdefault(NAMESPACE_NAME_LABEL, self.fresh)
                if name not in run._namespace_labels and (selector is None or selector.matches(labels)):
                    return Labels.of(labels)
        matching = [n for n in (self._matching_namespaces(selector) if selector is not None else run._namespace_labels)]
        return run._namespace_labels[matching[0]] if matching else None

    def _own(self, policy: NetworkPolicy, named: tuple, side: str) -> list[Endpoint]:
        pods: list[Endpoint] = [self.pod(w, side) for w in self._workloads([policy.namespace], policy.pod_selector)]
        made = self.made_pod(policy.namespace, None, policy.pod_selector, named)
        return pods + ([made] if made is not None else [])

    def _others(self, policy: NetworkPolicy, peer: Peer | None, named: tuple, side: str) -> list[Endpoint]:
        run = self.run
        if peer is None:
            namespaces = [policy.namespace] + [n for n in run._workloads_by_namespace if n != policy.namespace][:2]
            found: list[Endpoint] = [self.pod(w, side) for w in self._workloads(namespaces, None)]
            made = self.made_pod(None, LabelSelector(), None, named)
            found += [made] if made is not None else []
            return found + ([ExternalEndpoint(self.external)] if self.external is not None else [])
        if peer.ip_block is not None:
            ip = _address_in_block(peer.ip_block, self.pod_cidrs)
            found = [ExternalEndpoint(ip)] if ip is not None else []
            return found + self._pods_in_block(policy, peer.ip_block, side)
        if peer.namespace_selector is None:
            namespaces = [policy.namespace]
        else:
            namespaces = self._matching_namespaces(peer.namespace_selector)
        found = [self.pod(w, side) for w in self._workloads(namespaces, peer.pod_selector)]
        made = self.made_pod(policy.namespace if peer.namespace_selector is None else None, peer.namespace_selector, peer.pod_selector, named)
        return found + ([made] if made is not None else [])

    def _pods_in_block(self, policy: NetworkPolicy, block: IPBlock, side: str) -> list[Endpoint]:
        """Pods with an address of ``block``, where ipBlocks match pods: loaded workloads
        without stated IPs of another namespace and of the policy's, and a pod made in a
        namespace no policy isolates. Their IPs are any the universe allows them."""
        if not self.run.semantics.ip_block_matches_pods:
            return []
        ip = self._pod_address_in(block)
        if ip is None:
            return []
        namespaces = [n for n in self.run._workloads_by_namespace if n != policy.namespace][:2] + [policy.namespace]
        found: list[Endpoint] = [
            attrs.evolve(self.pod(w, side), ip=ip) for w in self._workloads(namespaces, None) if not w.ips
        ]
        made = self.made_pod(None, LabelSelector(), None, ())
        if made is not None:
            found.append(attrs.evolve(made, ip=ip))
        return found

    def _pod_address_in(self, block: IPBlock) -> IPAddress | None:
        """An address of ``block`` (outside its excepts) that a pod may have."""
        if not self.pod_cidrs:
            return _address_in_block(block, ())
        for cidr in self.pod_cidrs:
            if cidr.version == block.cidr.version and cidr.overlaps(block.cidr):
                inner = cidr if cidr.subnet_of(block.cidr) else block.cidr
                ip = _address_in_block(IPBlock(inner, block.except_), ())
                if ip is not None and ip in cidr and block.contains(ip):
                    return ip
        return None

    def _ports(self, rule: Rule, src: Endpoint, dst: Endpoint) -> list[tuple[Protocol, int]]:
        """Ports the rule matches, resolved on ``dst``; for a rule of every port, a few the
        policies of either end name (what their other rules let through)."""
        dst_ports = dst.ports if isinstance(dst, PodEndpoint) else ()
        if not rule.ports:
            found = [(Protocol.TCP, 80)] + [(p.protocol, p.port) for p in dst_ports[:2]]
            for end in (src, dst):
                if isinstance(end, PodEndpoint):
                    found += self._near(end.namespace)
            return list(dict.fromkeys(found))
        found = []
        for entry in rule.ports:
            if isinstance(entry.port, str):
                number = next((p.port for p in dst_ports if p.name == entry.port and p.protocol is entry.protocol), None)
                if number is not None:
                    found.append((entry.protocol, number))
            elif entry.port is None:
                found += [(entry.protocol, 80)] + [(p.protocol, p.port) for p in dst_ports if p.protocol is entry.protocol][:2]
            else:
                found.append((entry.protocol, entry.port))
        return list(dict.fromkeys(found))

    def _near(self, namespace: str) -> list[tuple[Protocol, int]]:
        """Up to four numbered ports the policies of ``namespace`` name."""
        if namespace not in self._ports_near:
            found: dict[tuple[Protocol, int], None] = {}
            for policy in self.cluster.policies_in(namespace):
                for rule in policy.ingress + policy.egress:
                    for entry in rule.ports:
                        if isinstance(entry.port, int):
                            found[(entry.protocol, entry.port)] = None
            self._ports_near[namespace] = list(found)[:4]
        return self._ports_near[namespace]

    def usable_with(self, entry, invariant: Invariant, found: Packet) -> bool:
        """Does a packet between the policy's pods and the other end of ``found`` (a packet
        the solver found allowed for another question) get through, in ``invariant``'s
        scopes (a rule's peer)?"""
        policy, direction, _, rule = entry
        ingress = direction is Direction.INGRESS
        other, other_scope = (found.src, invariant.src) if ingress else (found.dst, invariant.dst)
        if not scope_matches(other_scope, other):
            return False
        own_found, own_scope = (found.dst, invariant.dst) if ingress else (found.src, invariant.src)
        if scope_matches(own_scope, own_found) and ports_match(rule.ports, found.protocol, found.port, found.dst) and self._allowed(found):
            return True
        named = tuple(dict.fromkeys((e.port, e.protocol) for e in rule.ports if isinstance(e.port, str)))
        for own in self._own(policy, named if ingress else (), "dst" if ingress else "src"):
            src, dst = (other, own) if ingress else (own, other)
            for protocol, port in self._ports(rule, src, dst)[:4]:
                if self._allowed(Packet(src, dst, protocol, port)):
                    return True
        return False

    def _allowed(self, packet: Packet) -> bool:
        """In the universe, and allowed by the evaluator whatever no manifest settles."""
        if universe_problem(self.cluster, packet, self.run.universe):
            return False
        outcomes = possible_outcomes(self.cluster, packet, self.run.semantics, nodes=self.run.universe.nodes)
        return outcomes.determined and outcomes.decisions[0].allowed

    def usable(self, policy: NetworkPolicy, direction: Direction, rule: Rule) -> tuple[bool, dict[int, Packet]]:
        """Does some packet the rule matches get through, according to the evaluator? If
        not (as far as the tries went): per peer index, the first packet of the universe
        tried that the peer matches (an example, should the solver find none allowed)."""
        named = tuple(dict.fromkeys((e.port, e.protocol) for e in rule.ports if isinstance(e.port, str)))
        ingress = direction is Direction.INGRESS
        tried = 0
        tried_packets: dict[int, Packet] = {}
        own = self._own(policy, named if ingress else (), "dst" if ingress else "src")
        for index, peer in enumerate(rule.peers or (None,)):
            others = self._others(policy, peer, () if ingress else named, "src" if ingress else "dst")
            for a in own:
                for b in others:
                    src, dst = (b, a) if ingress else (a, b)
                    for protocol, port in self._ports(rule, src, dst):
                        if tried >= self.MAX_PACKETS:
                            return False, tried_packets
                        tried += 1
                        packet = Packet(src, dst, protocol, port)
                        if universe_problem(self.cluster, packet, self.run.universe):
                            continue
                        tried_packets.setdefault(index, packet)
                        outcomes = possible_outcomes(self.cluster, packet, self.run.semantics, nodes=self.run.universe.nodes)
                        if outcomes.determined and outcomes.decisions[0].allowed:
                            return True, tried_packets
        return False, tried_packets


def _checked(workloads: list) -> str:
    """How many loaded workloads a named-port finding looked at, in words."""
    return f"{len(workloads)} loaded workload{'s' if len(workloads) != 1 else ''} checked"
