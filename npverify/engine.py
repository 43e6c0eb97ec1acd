"""The questions npverify answers, on top of the solver-neutral smt interface.

Every packet the solver produces is replayed through the reference evaluator
(npverify.semantics) before it is returned; a disagreement raises InternalError.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

import attrs

from npverify.coverage import Coverage, unknown_reason
from npverify.errors import InputError, InternalError
from npverify.hints import did_you_mean
from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, Scope, describe_scope
from npverify.invariants.services import lower_services, service_route
from npverify.load.limits import InputLimits
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ClusterPolicy,
    Diagnostic,
    Direction,
    LabelSelector,
    NetworkPolicy,
    Operator,
    Packet,
    Semantics,
    Severity,
    Universe,
)
from npverify.results import InvariantResult, Verdict
from npverify.semantics import decide, ports_match, possible_outcomes, scope_matches, universe_problem
from npverify.tiers import Resolution, overlapping_priorities
from npverify.smt import Limits, Mentions, Outcome, PacketQuery, SolverSession, Status, mentions_of
from npverify.smt.batch import allowed_each


class Verifier:
    """Answers invariants about one cluster in one universe.

    The encoding of the cluster is built once and shared by all questions; it is rebuilt
    only when a question mentions labels or names the encoding has not seen.
    """

    def __init__(
        self,
        cluster: Cluster,
        universe: Universe = Universe(),
        semantics: Semantics = Semantics(),
        invariants: Iterable[Invariant] = (),
        limits: Limits = Limits(),
        check_samples: int = 0,
        input_limits: InputLimits = InputLimits(),
        ignore_kinds: Sequence[str] = (),
    ) -> None:
        """``input_limits`` bounds reading the manifests ``equivalent`` invariants name, and
        ``ignore_kinds`` their unmodelled kinds to answer without (as for ``cluster``).
        ``check_samples`` > 0 turns on check mode: every PROVED isolated, allowed or only
        invariant is re-checked on that many packets sampled from its scope (see ``_check_proof``).
        """
        self.cluster = cluster
        self.check_samples = check_samples
        self.input_limits = input_limits
        self.ignore_kinds = tuple(ignore_kinds)
        self.coverage = Coverage.of(cluster)
        self.universe = universe
        self.semantics = semantics
        self.limits = limits
        self._lowered: dict[Invariant, Invariant] = {}
        self._invariants = tuple(self._lowered_or_self(i) for i in invariants)
        self._session: SolverSession | None = None

    def _mentions(self, invariants: Iterable[Invariant], policies: Iterable[NetworkPolicy | ClusterPolicy] = ()) -> Mentions:
        """What ``invariants`` and ``policies`` mention, with the workloads the invariants name."""
        invariants = tuple(invariants)
        named = set()
        for invariant in invariants:
            for scope in (invariant.src, invariant.dst):
                try:
                    index = self.resolve_workload(scope, "")
                except InputError:
                    continue  # reported when the invariant is checked
                if index is not None:
                    named.add(self.cluster.workloads[index].key)
        return attrs.evolve(mentions_of(policies, invariants), workloads=frozenset(named))

    def _session_for(self, invariant: Invariant, *more: Invariant) -> SolverSession:
        wanted = self._mentions([invariant, *more])
        if self._session is None or not self._session.mentions.covers(wanted):
            base = self._mentions(self._invariants, self.cluster.policies + self.cluster.cluster_policies)
            if self._session is not None:
                base = base.union(self._session.mentions)
            self._session = SolverSession(self.cluster, base.union(wanted), self.universe, self.semantics)
        return self._session

    def resolve_workload(self, scope: Scope, path: str) -> int | None:
        """The index of the workload a scope names, or None when it names none."""
        if scope.workload is None:
            return None
        kind, _, name = scope.workload.rpartition("/")
        namespace = scope.namespace if isinstance(scope.namespace, str) else None
        found = [
            i
            for i, w in enumerate(self.cluster.workloads)
            if w.name == name and (not kind or w.kind == kind) and (namespace is None or w.namespace == namespace)
        ]
        where = f" in namespace {namespace!r}" if namespace else ""
        if not found:
            raise InputError(Diagnostic(f"workload {scope.workload!r} was not loaded{where}", scope.location, path))
        if len(found) > 1:
            keys = ", ".join(self.cluster.workloads[i].key for i in found)
            raise InputError(
                Diagnostic(
                    f"workload {scope.workload!r} is ambiguous{where}: {keys}; name the namespace or write Kind/name",
                    scope.location,
                    path,
                )
            )
        return found[0]

    def _lowered_or_self(self, invariant: Invariant) -> Invariant:
        """The invariant with its Service scopes lowered, or itself while a Service it names
        is missing (that error is raised when the invariant is checked)."""
        try:
            return self.lower(invariant)
        except InputError:
            return invariant

    def lower(self, invariant: Invariant) -> Invariant:
        """The invariant in the terms the questions know: Service scopes and Service ports
        replaced by namespaces, pod selectors and target ports (npverify.invariants.services)."""
        lowered = self._lowered.get(invariant)
        if lowered is None:
            lowered = self._lowered[invariant] = lower_services(invariant, self.cluster)
        return lowered

    def check(self, invariant: Invariant, limits: Limits | None = None) -> InvariantResult:
        """Prove or refute one invariant."""
        started = time.perf_counter()
        limits = limits or self.limits
        asked, invariant = invariant, self.lower(invariant)
        if invariant.is_flow:
            result = self._check_flow(invariant, limits)
        elif invariant.kind is InvariantKind.EQUIVALENT:
            result = self._check_equivalent(invariant, limits)
        elif invariant.kind is InvariantKind.REDUNDANT:
            result = self._check_redundant(invariant, limits)
        else:
            result = self._check_non_redundant(invariant, limits)
        result = self._fail_closed(invariant, result)
        via = service_route(asked, self.cluster, result.packet) if result.packet is not None else ""
        return attrs.evolve(result, invariant=asked, via=via, seconds=time.perf_counter() - started)

    def allowed_each(self, invariants: Sequence[Invariant], limits: Limits | None = None, settle=None) -> list[Outcome]:
        """For many ``reachable`` invariants at once: SAT when the solver finds an allowed
        packet of the invariant's scopes and ports (possibly only under one resolution of
        what no manifest holds), UNSAT when there is none, UNKNOWN otherwise. One solver
        holds the cluster for all of them (smt.batch); no packet is decoded or replayed,
        and unmodelled objects are not consulted: ask ``check`` for a verdict. ``settle``
        as for smt.batch.allowed_each (indexes into ``invariants``)."""
        if not invariants:
            return []
        lowered = [self.lower(i) for i in invariants]
        if any(i.kind is not InvariantKind.REACHABLE for i in lowered):
            raise ValueError("allowed_each answers reachable invariants")
        queries = [
            PacketQuery(
                src=i.src,
                dst=i.dst,
                ports=i.ports,
                allowed=True,
                src_workload=self.resolve_workload(i.src, "reachable.from.workload"),
                dst_workload=self.resolve_workload(i.dst, "reachable.to.workload"),
            )
            for i in lowered
        ]
        return allowed_each(self._session_for(*lowered), queries, limits or self.limits, settle)

    def _fail_closed(self, invariant: Invariant, result: InvariantResult) -> InvariantResult:
        """UNKNOWN when an object npverify does not model could change the answer."""
        if result.verdict is Verdict.UNKNOWN:
            return result
        affecting = self.coverage.affecting(self._namespaces_of(invariant))
        if not affecting:
            return result
        return InvariantResult(
            invariant, Verdict.UNKNOWN, reason=f"{unknown_reason(affecting)}; with NetworkPolicies alone: {result.verdict}"
        )

    def _namespaces_of(self, invariant: Invariant) -> frozenset[str] | None:
        """The namespaces of the pods the invariant's packets can have at either end; None
        when any namespace can take part.

        ``only`` ranges over every source, and the other kinds compare or remove policies
        of the whole cluster, so only the other flow invariants are narrower.
        """
        if not invariant.is_flow or invariant.kind is InvariantKind.ONLY:
            return None
        found: set[str] = set()
        for scope in (invariant.src, invariant.dst):
            if scope.kind is EndpointKind.EXTERNAL:
                continue
            if isinstance(scope.namespace, str):
                found.add(scope.namespace)
                continue
            try:
                index = self.resolve_workload(scope, "")
            except InputError:
                return None
            if index is None:
                return None
            found.add(self.cluster.workloads[index].namespace)
        return frozenset(found)

    def _check_flow(self, invariant: Invariant, limits: Limits) -> InvariantResult:
        kind = invariant.kind
        src_workload = self.resolve_workload(invariant.src, f"{kind}.from.workload")
        dst_workload = self.resolve_workload(invariant.dst, f"{kind}.to.workload")
        query = PacketQuery(
            src=invariant.src,
            dst=invariant.dst,
            ports=invariant.ports,
            allowed=kind is not InvariantKind.ALLOWED,
            src_negated=kind is InvariantKind.ONLY,
            src_workload=src_workload,
            dst_workload=dst_workload,
        )
        outcome = self._session_for(invariant).solve(query, limits)
        result = self._verdict(invariant, query, outcome, src_workload, dst_workload)
        if kind is InvariantKind.REACHABLE and result.verdict is Verdict.REFUTED and outcome.status is Status.UNSAT:
            result = self._denied_example(result, query, limits, src_workload, dst_workload)
        if kind in (InvariantKind.ISOLATED, InvariantKind.ONLY) and result.verdict is Verdict.PROVED:
            result = self._vacuity_note(result, limits, dst_workload)
        if self.check_samples > 0 and result.verdict is Verdict.PROVED and kind is not InvariantKind.REACHABLE:
            checked = self._check_proof(invariant, src_workload, dst_workload, limits)
            result = attrs.evolve(result, reason=f"check: {checked} sampled packets agree with the reference evaluator")
        return result

    def _vacuity_note(self, result: InvariantResult, limits: Limits, dst_workload: int | None) -> InvariantResult:
        """A proved isolated or only invariant that holds because no packet at all reaches
        its destination on its ports (a typo in 'to', a default-deny nobody meant) says so:
        one more query on the same encoding, from anywhere."""
        invariant = result.invariant
        anywhere = PacketQuery(src=Scope(), dst=invariant.dst, ports=invariant.ports, allowed=True, dst_workload=dst_workload)
        outcome = self._session_for(invariant).solve(anywhere, limits)
        if outcome.status is Status.SAT:
            assert outcome.packet is not None
            self._replay(outcome.packet, anywhere, None, dst_workload, outcome.resolution)
        if outcome.status is not Status.UNSAT:
            return result
        on = " on the given ports" if invariant.ports else ""
        return attrs.evolve(result, note=f"holds vacuously: nothing reaches {describe_scope(invariant.dst)}{on}")

    def tier_warnings(self) -> tuple[Diagnostic, ...]:
        """Policies of one tier and priority whose rules match some packet with different
        actions: the API leaves their order to the implementation, so answers that depend
        on it are UNKNOWN (unless ``same_priority`` is "name"). One warning per pair and
        direction, with a packet they both match."""
        groups = overlapping_priorities(self.cluster)
        if not groups:
            return ()
        session = SolverSession(
            self.cluster, mentions_of(self.cluster.policies + self.cluster.cluster_policies), self.universe, self.semantics
        )
        warnings = []
        for tier, priority, policies in groups:
            for i, first in enumerate(policies):
                for second in policies[i + 1 :]:
                    for direction in (Direction.INGRESS, Direction.EGRESS):
                        if not (first.rules(direction) and second.rules(direction)):
                            continue
                        outcome = session.same_priority_overlap(first, second, direction, self.limits)
                        if outcome.status is not Status.SAT:
                            continue
                        order = (
                            "npverify applies them by name (--same-priority name)"
                            if self.semantics.same_priority == "name"
                            else "which applies first is the implementation's choice, so answers that depend on it are "
                            "UNKNOWN (--same-priority name applies them by name)"
                        )
                        warnings.append(
                            _warning(
                                f"{first.key} and {second.key} share tier {tier} and priority {priority}, and both match "
                                f"{str(direction).lower()} packets with different actions (e.g. {outcome.packet}); {order}",
                                second.location,
                                "spec.priority",
                            )
                        )
        return tuple(warnings)

    def scope_warnings(self, invariants: Iterable[Invariant]) -> tuple[Diagnostic, ...]:
        """Warnings for scopes that name a namespace, label key or label value that
        appears nowhere in the manifests (neither on a loaded object nor in a policy's
        selector): such an invariant is most likely about a typo, and proves silently."""
        known = _KnownNames(self.cluster)
        warnings: list[Diagnostic] = []
        for invariant in invariants:
            if not invariant.is_flow:
                continue
            for end, scope in (("from", invariant.src), ("to", invariant.dst)):
                where = scope.location or invariant.location
                path = f"{invariant.kind}.{end}"
                if isinstance(scope.namespace, str):
                    if scope.namespace not in known.namespaces:
                        hint = did_you_mean(scope.namespace, sorted(known.namespaces))
                        warnings.append(_warning(f"namespace {scope.namespace!r} appears nowhere in the manifests{hint}", where, f"{path}.namespace"))
                elif scope.namespace is not None:
                    warnings += known.selector_warnings(scope.namespace, known.namespace_values, "namespace label", where, f"{path}.namespace")
                if scope.pod is not None:
                    warnings += known.selector_warnings(scope.pod, known.pod_values, "pod label", where, f"{path}.pod")
        return tuple(warnings)

    def _denied_example(
        self, result: InvariantResult, query: PacketQuery, limits: Limits, src_workload: int | None, dst_workload: int | None
    ) -> InvariantResult:
        """A refuted ``reachable`` has no packet to show: show one packet of the scope
        (denied, as every one is) with the policies and rules that deny it, replayed like
        any other. A scope with no packet at all says so instead."""
        denied = attrs.evolve(query, allowed=False)
        outcome = self._session_for(result.invariant).solve(denied, limits)
        if outcome.status is Status.UNSAT:
            return attrs.evolve(result, reason="no packet in scope is allowed: the scope holds no packet at all")
        if outcome.status is Status.UNKNOWN:
            return result  # the refutation stands; only its example could not be found
        assert outcome.packet is not None
        decision = self._replay(outcome.packet, denied, src_workload, dst_workload, outcome.resolution)
        return attrs.evolve(result, packet=outcome.packet, decision=decision)

    def _check_proof(self, invariant: Invariant, src_workload: int | None, dst_workload: int | None, limits: Limits) -> int:
        """Check mode: sample packets from a proved invariant's scope, replay each through the
        reference evaluator, and raise InternalError when one contradicts the proof. Returns
        how many packets were checked.

        A proof is a claim about every packet of the scope; a sample at corner values (port
        and CIDR boundaries, every protocol, label and namespace code) that the evaluator
        decides otherwise means the encoding and the evaluator disagree.
        """
        kind = invariant.kind
        only = kind is InvariantKind.ONLY
        # ``only`` constrains every packet into ``to``: sample sources from anywhere.
        query = PacketQuery(
            src=Scope() if only else invariant.src,
            dst=invariant.dst,
            ports=invariant.ports,
            allowed=kind is InvariantKind.ALLOWED,
            src_workload=None if only else src_workload,
            dst_workload=dst_workload,
        )
        packets = self._session_for(invariant).sample(query, self.check_samples, limits)
        src_key, dst_key = self._workload_key(src_workload), self._workload_key(dst_workload)
        for packet in packets:
            problems = self._placement_problems(packet, query, None if only else src_key, dst_key)
            in_src = scope_matches(invariant.src, packet.src, src_key)
            allowed = decide(self.cluster, packet, self.semantics, nodes=self.universe.nodes).allowed
            if kind is InvariantKind.ISOLATED and allowed:
                problems.append("the invariant is proved isolated, the reference evaluator allows the packet")
            elif kind is InvariantKind.ALLOWED and not allowed:
                problems.append("the invariant is proved allowed, the reference evaluator denies the packet")
            elif only and allowed and not in_src:
                problems.append("the invariant is proved only, the reference evaluator allows the packet from outside 'from'")
            if problems:
                raise InternalError(
                    f"check mode: the proof of {invariant.name!r} and the reference evaluator disagree on "
                    f"{packet!r}: " + "; ".join(problems)
                )
        return len(packets)

    def _policies_named(
        self, invariant: Invariant, names: Iterable[str], field: str
    ) -> tuple[NetworkPolicy | ClusterPolicy, ...]:
        """The policies ``namespace/name`` (NetworkPolicy) or ``cnp/``, ``anp/``, ``banp/NAME``
        (cluster-scoped) names; a name both could mean is an error."""
        names = tuple(names)
        by_key: dict[str, NetworkPolicy | ClusterPolicy] = {p.key: p for p in self.cluster.policies}
        for p in self.cluster.cluster_policies:
            if p.key in by_key and p.key in names:
                raise InputError(
                    Diagnostic(
                        f"{p.key} names both the NetworkPolicy {p.key} and the {p.kind} {p.name}; rename one to tell them apart",
                        invariant.location,
                        f"{invariant.kind}.{field}",
                    )
                )
            by_key.setdefault(p.key, p)
        missing = [n for n in names if n not in by_key]
        if missing:
            raise InputError(
                Diagnostic(
                    f"no NetworkPolicy {', '.join(missing)} in the manifests (cluster-scoped policies are cnp/, anp/ or banp/NAME)",
                    invariant.location,
                    f"{invariant.kind}.{field}",
                )
            )
        return tuple(by_key[n] for n in names)

    def _check_equivalent(self, invariant: Invariant, limits: Limits) -> InvariantResult:
        from npverify.compare import compare, merge_context
        from npverify.load import load_manifests

        other = load_manifests(list(invariant.compare_to), limits=self.input_limits, ignore_kinds=self.ignore_kinds)
        comparison = compare(
            self.cluster.policies + self.cluster.cluster_policies,
            other.policies + other.cluster_policies,
            merge_context(self.cluster, other),
            universe=self.universe,
            semantics=self.semantics,
            max_diffs=1,
            limits=limits,
            names=("the manifests", ", ".join(invariant.compare_to)),
            coverage=Coverage.of(self.cluster, other),
        )
        if comparison.same:
            return InvariantResult(invariant, Verdict.PROVED)
        if comparison.same is None:
            return InvariantResult(invariant, Verdict.UNKNOWN, reason=comparison.reason or "undecided")
        diff = comparison.differences[0]
        side = "only the manifests allow" if diff.left.allowed else f"only {comparison.right_name} allows"
        return InvariantResult(
            invariant, Verdict.REFUTED, diff.region.packet, diff.left, reason=f"{side}: {diff.region}"
        )

    def _check_redundant(self, invariant: Invariant, limits: Limits) -> InvariantResult:
        assert invariant.policy is not None
        (policy,) = self._policies_named(invariant, [invariant.policy], "policy")
        if invariant.under is None:
            under = tuple(p for p in self.cluster.policies + self.cluster.cluster_policies if p != policy)
        else:
            under = self._policies_named(invariant, invariant.under, "under")
        with_policy = under + (policy,)
        if self.cluster.tiered:
            # A policy of one namespace still decides between the cluster-wide tiers, and a
            # cluster-scoped one anywhere: asked of the whole encoding.
            outcome = self._session_for(invariant).differ(with_policy, under, limits)
        else:
            checker = self._session_for(invariant).change_checker(with_policy, limits)
            outcome = checker.differs(policy.namespace, tuple(p for p in under if p.namespace == policy.namespace), packet=True)
        if outcome.status is Status.UNSAT:
            return InvariantResult(invariant, Verdict.PROVED)
        if outcome.status is Status.UNKNOWN:
            return InvariantResult(invariant, Verdict.UNKNOWN, reason=outcome.reason)
        return self._redundant_result(invariant, policy, with_policy, under, outcome)

    def _redundant_result(
        self,
        invariant: Invariant,
        policy: NetworkPolicy | ClusterPolicy,
        with_policy: tuple[NetworkPolicy | ClusterPolicy, ...],
        under: tuple[NetworkPolicy | ClusterPolicy, ...],
        outcome: Outcome,
    ) -> InvariantResult:
        """REFUTED with the packet that ``policy`` changes, replayed with and without it."""
        assert outcome.packet is not None
        resolution = outcome.resolution or Resolution()
        with_cluster, without_cluster = (_holding(self.cluster, ps) for ps in (with_policy, under))
        with_decision = decide(with_cluster, outcome.packet, self.semantics, resolution, nodes=self.universe.nodes)
        without_decision = decide(without_cluster, outcome.packet, self.semantics, resolution, nodes=self.universe.nodes)
        if with_decision.allowed == without_decision.allowed or universe_problem(self.cluster, outcome.packet, self.universe):
            raise InternalError(f"the SMT encoding and the reference evaluator disagree on {outcome.packet!r}: {policy.key} changes nothing there")
        change = "allows" if with_decision.allowed else "denies"
        return InvariantResult(
            invariant,
            Verdict.REFUTED,
            outcome.packet,
            with_decision,
            reason=f"with {policy.key} the packet is {'allowed' if with_decision.allowed else 'denied'}, without it "
            f"{'allowed' if without_decision.allowed else 'denied'} ({policy.key} {change} it)",
        )

    def _check_non_redundant(self, invariant: Invariant, limits: Limits) -> InvariantResult:
        from npverify.redundancy import find_redundancy

        names = None
        if invariant.policies is not None:
            names = tuple(p.key for p in self._policies_named(invariant, invariant.policies, "policies"))
        report = find_redundancy(self.cluster, self.universe, self.semantics, limits, names)
        found = [f"redundant {r.item.kind} {r.item}" + (f" ({r.reason})" if r.reason else "") for r in report.redundant]
        found += [f"vacuous {v.item.kind} {v.item}: {v.reason}" for v in report.vacuous]
        if found:
            return InvariantResult(invariant, Verdict.REFUTED, reason="; ".join(found))
        if report.undecided:
            return InvariantResult(invariant, Verdict.UNKNOWN, reason="; ".join(f"{u.item}: {u.reason}" for u in report.undecided))
        return InvariantResult(invariant, Verdict.PROVED)

    def check_all(
        self, invariants: Iterable[Invariant], progress: Callable[[int, int, str], None] | None = None
    ) -> tuple[InvariantResult, ...]:
        """Check each invariant in order. ``progress(number, total, name)`` is called as
        the invariant numbered ``number`` (from 1) starts, for a progress display."""
        invariants = tuple(invariants)
        results = []
        for number, invariant in enumerate(invariants, start=1):
            if progress is not None:
                progress(number, len(invariants), invariant.name)
            results.append(self.check(invariant))
        return tuple(results)

    def _verdict(
        self,
        invariant: Invariant,
        query: PacketQuery,
        outcome: Outcome,
        src_workload: int | None,
        dst_workload: int | None,
    ) -> InvariantResult:
        if outcome.status is Status.UNKNOWN:
            return InvariantResult(invariant, Verdict.UNKNOWN, reason=outcome.reason)
        reachable = invariant.kind is InvariantKind.REACHABLE
        if outcome.status is Status.UNSAT:
            if reachable:
                return InvariantResult(invariant, Verdict.REFUTED, reason="every packet from 'from' to 'to' on the given ports is denied")
            return InvariantResult(invariant, Verdict.PROVED)
        assert outcome.packet is not None
        decision = self._replay(outcome.packet, query, src_workload, dst_workload, outcome.resolution)
        verdict = Verdict.PROVED if reachable else Verdict.REFUTED
        undetermined = self._undetermined(outcome.packet)
        if undetermined:
            return InvariantResult(
                invariant,
                Verdict.UNKNOWN,
                outcome.packet,
                decision,
                reason=f"{'a witness' if reachable else 'a counterexample'} packet's verdict depends on {undetermined}, "
                f"which no manifest settles: {verdict} only if it is as in the example",
            )
        return InvariantResult(invariant, verdict, outcome.packet, decision)

    def _undetermined(self, packet: Packet) -> str:
        """What the packet's verdict depends on that no manifest settles ("" if nothing)."""
        outcomes = possible_outcomes(self.cluster, packet, self.semantics, nodes=self.universe.nodes)
        return "" if outcomes.determined else "; ".join(outcomes.depends_on)

    def _workload_key(self, index: int | None) -> str | None:
        return None if index is None else self.cluster.workloads[index].key

    def _placement_problems(self, packet: Packet, query: PacketQuery, src_key: str | None, dst_key: str | None) -> list[str]:
        """Why ``packet`` is not a packet ``query`` asks about: outside the universe, the
        scopes (the source inside ``from`` when it is negated) or the ports."""
        problems = []
        outside = universe_problem(self.cluster, packet, self.universe)
        if outside:
            problems.append(f"the packet is outside the universe: {outside}")
        in_src = scope_matches(query.src, packet.src, src_key)
        if in_src == query.src_negated:
            problems.append("the source is " + ("inside" if in_src else "outside") + " the 'from' scope")
        if not scope_matches(query.dst, packet.dst, dst_key):
            problems.append("the destination is outside the 'to' scope")
        if not ports_match(query.ports, packet.protocol, packet.port, packet.dst):
            problems.append("the port is outside the invariant's ports")
        return problems

    def _replay(
        self,
        packet: Packet,
        query: PacketQuery,
        src_workload: int | None,
        dst_workload: int | None,
        resolution: Resolution | None = None,
    ):
        """Check the solver's packet with the reference evaluator, under the solver's
        resolution of what no manifest holds; raise on disagreement."""
        problems = self._placement_problems(packet, query, self._workload_key(src_workload), self._workload_key(dst_workload))
        decision = decide(self.cluster, packet, self.semantics, resolution or Resolution(), nodes=self.universe.nodes)
        if decision.allowed != query.allowed:
            problems.append(
                f"the solver says the packet is {'allowed' if query.allowed else 'denied'}, "
                f"the reference evaluator says {'allowed' if decision.allowed else 'denied'}"
            )
        if problems:
            raise InternalError(
                "the SMT encoding and the reference evaluator disagree on "
                f"{packet!r}: " + "; ".join(problems)
            )
        return decision


def _holding(cluster: Cluster, policies: tuple[NetworkPolicy | ClusterPolicy, ...]) -> Cluster:
    """``cluster`` with exactly ``policies``, of either scope."""
    return attrs.evolve(
        cluster,
        policies=tuple(p for p in policies if isinstance(p, NetworkPolicy)),
        cluster_policies=tuple(p for p in policies if isinstance(p, ClusterPolicy)),
    )


def _warning(message: str, location, path: str) -> Diagnostic:
    return Diagnostic(message, location, path, Severity.WARNING)


class _KnownNames:
    """The namespaces and label values the manifests hold or their policies select on."""

    def __init__(self, cluster: Cluster):
        mentioned = mentions_of(cluster.policies + cluster.cluster_policies)
        self.namespaces = set(cluster.namespace_names()) | set(mentioned.namespace_names)
        self.pod_values: dict[str, set[str]] = {k: set(v) for k, v in mentioned.pod_values.items()}
        for workload in cluster.workloads:
            for key, value in workload.labels.items():
                self.pod_values.setdefault(key, set()).add(value)
        self.namespace_values: dict[str, set[str]] = {k: set(v) for k, v in mentioned.namespace_values.items()}
        for namespace in cluster.namespaces:
            for key, value in namespace.labels.items():
                self.namespace_values.setdefault(key, set()).add(value)
        self.namespace_values.setdefault(NAMESPACE_NAME_LABEL, set()).update(self.namespaces)

    def selector_warnings(
        self, selector: LabelSelector, values: dict[str, set[str]], what: str, where, path: str
    ) -> list[Diagnostic]:
        """A key nobody uses, or a value a selector requires (In, matchLabels) that no
        object carries and no policy selects on."""
        warnings = []
        for requirement in selector.requirements():
            key = requirement.key
            if key not in values:
                hint = did_you_mean(key, sorted(values))
                warnings.append(_warning(f"{what} key {key!r} appears nowhere in the manifests{hint}", where, path))
                continue
            if requirement.operator is not Operator.IN:
                continue
            for value in requirement.values:
                if value not in values[key]:
                    hint = did_you_mean(value, sorted(values[key]))
                    warnings.append(_warning(f"{what} {key}={value} appears nowhere in the manifests{hint}", where, path))
        return warnings
