"""Solving packet queries: the solver-neutral face of the smt package.

A PacketQuery asks "is there a packet of the universe with these properties?"; the
answer is SAT with a decoded Packet, UNSAT, or UNKNOWN with z3's reason.
"""

from __future__ import annotations

import enum
import ipaddress
import random
from collections.abc import Iterable

import attrs
import z3

from npverify.invariants.model import Scope
from npverify.model import Action, Cluster, ClusterPolicy, Direction, NetworkPolicy, Packet, PolicyItem, PolicyPort, Semantics, Tier, Universe
from npverify.regions import Region
from npverify.smt.decode import Decoder
from npverify.smt.domains import Mentions, build_domains, mentions_of
from npverify.smt.encode import Encoding
from npverify.smt.regions import RegionFinder
from npverify.tiers import Resolution


@attrs.frozen
class PacketQuery:
    """Packets from ``src`` to ``dst`` on ``ports`` that are allowed (or, if not
    ``allowed``, denied). ``src_negated`` asks for sources outside ``src``.
    ``*_workload`` are indexes into the cluster's workloads resolving ``scope.workload``.
    """

    src: Scope
    dst: Scope
    ports: tuple[PolicyPort, ...]
    allowed: bool
    src_negated: bool = False
    src_workload: int | None = None
    dst_workload: int | None = None


class Status(enum.Enum):
    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


@attrs.frozen
class Outcome:
    status: Status
    packet: Packet | None = None
    reason: str = ""
    #: How the model took what no manifest holds (None: nothing of the kind was asked).
    resolution: Resolution | None = None


@attrs.frozen
class RegionsOutcome:
    """Regions covering a set of packets: all of it (``complete``) or as many as asked."""

    regions: tuple[Region, ...]
    complete: bool
    #: Why enumeration stopped early when the solver could not decide.
    reason: str = ""
    #: Per region, how its model took what no manifest holds (None: nothing of the kind).
    resolutions: tuple[Resolution | None, ...] = ()


@attrs.frozen
class Limits:
    """Per-query solver limits. ``rlimit`` is z3's deterministic resource count."""

    timeout_ms: int | None = None
    rlimit: int | None = None


def new_solver(encoding: Encoding, limits: Limits, constraints: list[z3.BoolRef] | None = None) -> z3.Solver:
    """A fresh QF_BV solver of ``encoding`` under ``limits``, holding the universe (or
    ``constraints``)."""
    solver = encoding.new_solver()
    if limits.timeout_ms is not None:
        solver.set("timeout", int(limits.timeout_ms))
    if limits.rlimit is not None:
        solver.set("rlimit", int(limits.rlimit))
    encoding.assert_all(solver, encoding.constraints if constraints is None else constraints)
    return solver


class SolverSession:
    """One encoding of a cluster in a universe, answering many queries with fresh solvers."""

    def __init__(self, cluster: Cluster, mentions: Mentions, universe: Universe, semantics: Semantics):
        self.mentions = mentions
        self.encoding = Encoding(cluster, build_domains(cluster, mentions, universe), universe, semantics, mentions.workloads)

    def solve(self, query: PacketQuery, limits: Limits = Limits()) -> Outcome:
        enc = self.encoding
        solver = self._scoped_solver(query, limits)
        solver.add(enc.allowed if query.allowed else z3.Not(enc.allowed))
        try:
            result = solver.check()
        except z3.Z3Exception as exc:  # e.g. interrupted or out of memory inside z3
            return Outcome(Status.UNKNOWN, reason=f"solver error: {exc}")
        if result == z3.sat:
            model = self._prefer_readable(solver, solver.model())
            return Outcome(Status.SAT, Decoder(enc, model).packet(), resolution=enc.resolution_of(model))
        if result == z3.unsat:
            return Outcome(Status.UNSAT)
        return Outcome(Status.UNKNOWN, reason=solver.reason_unknown() or "unknown")

    def _scoped_solver(self, query: PacketQuery, limits: Limits) -> z3.Solver:
        """A fresh solver holding the universe and the query's scopes and ports (not yet
        whether the packet is allowed)."""
        enc = self.encoding
        solver = self._solver(limits)
        src_scope = enc.scope(query.src, enc.src, query.src_workload)
        solver.add(z3.Not(src_scope) if query.src_negated else src_scope)
        solver.add(enc.scope(query.dst, enc.dst, query.dst_workload))
        solver.add(enc.ports(query.ports))
        return solver

    def _solver(self, limits: Limits, constraints: list[z3.BoolRef] | None = None) -> z3.Solver:
        """A fresh solver under ``limits`` holding the universe (or ``constraints``)."""
        return new_solver(self.encoding, limits, constraints)

    def _status(self, solver: z3.Solver) -> tuple[Status, str]:
        try:
            result = solver.check()
        except z3.Z3Exception as exc:
            return Status.UNKNOWN, f"solver error: {exc}"
        if result == z3.sat:
            return Status.SAT, ""
        if result == z3.unsat:
            return Status.UNSAT, ""
        return Status.UNKNOWN, solver.reason_unknown() or "unknown"

    def difference_regions(
        self,
        allowing: tuple[NetworkPolicy | ClusterPolicy, ...],
        denying: tuple[NetworkPolicy | ClusterPolicy, ...],
        max_regions: int,
        limits: Limits = Limits(),
        within: tuple[str, ...] | None = None,
    ) -> RegionsOutcome:
        """Regions of the packets that ``allowing`` allows and ``denying`` denies.

        ``within``: namespaces outside which no pod's decisions differ between the two
        (see ``namespaces_differing``); every differing packet then has an end in one of
        them, and saying so lets the solver skip the rest of the cluster early.

        With cluster-scoped tiers, a difference may hold only for some resolution of what
        no manifest holds: each region is widened under the resolution its model chose,
        which ``RegionsOutcome.resolutions`` reports beside it.
        """
        enc = self.encoding
        inside = z3.And(enc.allowed_by(allowing), z3.Not(enc.allowed_by(denying)))
        if within is not None:
            codes = [enc.domains.namespace_code(ns) for ns in within]
            ends = [enc.conj([enc.is_policy_pod(e), enc.disj(enc.namespace_code_in(e, codes))]) for e in (enc.src, enc.dst)]
            inside = z3.And(enc.disj(ends), inside)
        solver = self._solver(limits)
        solver.add(inside)
        unknowns = enc.unknown_vars
        finder = RegionFinder(enc, inside, limits.timeout_ms)
        regions: list[Region] = []
        resolutions: list[Resolution | None] = []
        while True:
            status, reason = self._status(solver)
            if status is Status.UNSAT:
                return RegionsOutcome(tuple(regions), True, resolutions=tuple(resolutions))
            if status is Status.UNKNOWN:
                return RegionsOutcome(tuple(regions), False, reason, tuple(resolutions))
            if len(regions) >= max_regions:
                return RegionsOutcome(tuple(regions), False, resolutions=tuple(resolutions))
            model = self._prefer_readable(solver, solver.model())
            region, term = finder.widen(model, unknowns)
            resolutions.append(enc.resolution_of(model) if unknowns else None)
            regions.append(region)
            solver.add(z3.Not(term))

    def differ(
        self,
        first: tuple[NetworkPolicy | ClusterPolicy, ...],
        second: tuple[NetworkPolicy | ClusterPolicy, ...],
        limits: Limits = Limits(),
    ) -> Outcome:
        """Is some packet's verdict different under ``first`` than under ``second``? With
        the packet, and how the model took what no manifest holds."""
        enc = self.encoding
        solver = self._solver(limits)
        solver.add(enc.allowed_by(first) != enc.allowed_by(second))
        status, reason = self._status(solver)
        if status is Status.SAT:
            model = self._prefer_readable(solver, solver.model())
            return Outcome(status, Decoder(enc, model).packet(), resolution=enc.resolution_of(model))
        return Outcome(status, reason=reason)

    def same_priority_overlap(
        self, first: ClusterPolicy, second: ClusterPolicy, direction: Direction, limits: Limits = Limits()
    ) -> Outcome:
        """Is there a packet both policies match for ``direction`` (each by its first matching
        rule) with different actions? Then which applies first decides it."""
        enc = self.encoding
        e, other = (enc.src, enc.dst) if direction is Direction.EGRESS else (enc.dst, enc.src)
        _, a = enc._policy_first_match(first, direction, e, other)
        _, b = enc._policy_first_match(second, direction, e, other)
        goal = enc.disj(enc.conj([a[x], b[y]]) for x in Action for y in Action if x is not y)
        solver = self._solver(limits)
        solver.add(goal)
        status, reason = self._status(solver)
        if status is Status.SAT:
            model = self._prefer_readable(solver, solver.model())
            return Outcome(status, Decoder(enc, model).packet(), resolution=enc.resolution_of(model))
        return Outcome(status, reason=reason)

    def change_checker(self, policies: tuple[NetworkPolicy, ...], limits: Limits = Limits()) -> ChangeChecker:
        """A checker for many changes to ``policies``, each confined to one namespace."""
        return ChangeChecker(self, policies, limits)

    def namespaces_differing(
        self,
        changed: Iterable[tuple[str, tuple[NetworkPolicy, ...], tuple[NetworkPolicy, ...]]],
        limits: Limits = Limits(),
        shortcuts: bool = True,
    ) -> tuple[str, ...]:
        """Of the ``changed`` namespaces (name, policies before, policies after; see
        ``policyform.changed_namespaces``), those where some pod's egress or ingress
        decision differs, or may (an undecided query counts as a difference).

        One small query per namespace (LocalChecker): a namespace's policies decide only
        for its own pods, so elsewhere nothing differs. ``shortcuts`` (see
        ``_alone_is_exact``) asks each query of an encoding of that namespace's policies
        alone, where it is exact; ``shortcuts=False`` asks all of this session's.
        """
        enc = self.encoding
        alone = shortcuts and self._alone_is_exact()
        checker = None if alone else self.local_checker(limits)
        differing = []
        both = (Direction.EGRESS, Direction.INGRESS)
        for ns, before, after in changed:
            if alone:
                tiers = enc.cluster.cluster_policies
                session = SolverSession(
                    Cluster(policies=before, cluster_policies=tiers), mentions_of(before + after + tiers), enc.universe, enc.semantics
                )
                outcome = session.local_checker(limits).differs(ns, both, before, after, steer=False)
            else:
                assert checker is not None
                outcome = checker.differs(ns, both, before, after, steer=False)
            if outcome.status is not Status.UNSAT:
                differing.append(ns)
        return tuple(differing)

    def _alone_is_exact(self) -> bool:
        """Whether a namespace's own decisions are the same question in an encoding of its
        policies alone: with no Namespace and no workload loaded and any namespace in the
        universe, every other namespace is undeclared, its labels free, and it differs
        from a fresh namespace only by a name these policies may not mention (the
        encoding of the one namespace then keeps the names they do mention, and two fresh
        namespaces). Why: there, each namespace selector is a case per namespace in the
        whole cluster's encoding, so each query grows with the number of namespaces.
        """
        cluster, universe = self.encoding.cluster, self.encoding.universe
        return not cluster.namespaces and not cluster.workloads and universe.namespaces == "any"

    def tier_change_checker(self, limits: Limits = Limits()) -> TierChangeChecker:
        """A checker for many changes to one tier of the cluster-scoped policies."""
        return TierChangeChecker(self, limits)

    def local_checker(self, limits: Limits = Limits()) -> LocalChecker:
        """A checker for changes to one namespace's own decisions (see LocalChecker)."""
        return LocalChecker(self, limits)

    def evaluate(self, packet: Packet, resolution: Resolution = Resolution()) -> bool | None:
        """Is this concrete packet allowed, according to the encoding, with what no
        manifest holds taken as ``resolution`` says? None when the packet is not in the
        universe. For differential testing against the reference evaluator.
        """
        enc = self.encoding
        results = []
        allowed = enc.allowed  # first: pinning the resolution pins the unknowns it made
        for goal in (allowed, z3.Not(allowed)):
            solver = self._solver(Limits())
            solver.add(*[t for t in enc.pin(packet, resolution) if t is not True])
            solver.add(goal)
            results.append(solver.check())
        if results == [z3.sat, z3.unsat]:
            return True
        if results == [z3.unsat, z3.sat]:
            return False
        if results == [z3.unsat, z3.unsat]:
            return None
        raise AssertionError(f"a pinned packet has both verdicts: {results}")

    def evaluate_many(self, packets: list[Packet], resolution: Resolution = Resolution()) -> list[bool | None]:
        """``evaluate`` for many packets with one solver (each packet pinned in a push/pop
        scope): the same question, asked faster, for deep differential runs.
        """
        enc = self.encoding
        enc.allowed  # noqa: B018 -- built first, so that pinning the resolution pins its unknowns
        solver = self._solver(Limits())
        answers: list[bool | None] = []
        for packet in packets:
            solver.push()
            solver.add(*[t for t in enc.pin(packet, resolution) if t is not True])
            results = []
            for goal in (enc.allowed, z3.Not(enc.allowed)):
                solver.push()
                solver.add(goal)
                results.append(solver.check())
                solver.pop()
            solver.pop()
            if results == [z3.sat, z3.unsat]:
                answers.append(True)
            elif results == [z3.unsat, z3.sat]:
                answers.append(False)
            elif results == [z3.unsat, z3.unsat]:
                answers.append(None)
            else:
                raise AssertionError(f"a pinned packet has both verdicts: {results}")
        return answers

    def sample(self, query: PacketQuery, count: int, limits: Limits = Limits(), seed: int = 0) -> list[Packet]:
        """Up to ``count`` distinct packets of the universe in the query's scope, steered
        towards corner values, for ``--check`` mode to replay through the reference evaluator.

        The query's ``allowed`` goal is ignored: samples cover the scope whatever the
        policies decide. Each sample picks a target for every dimension (IP family, endpoint
        kinds, protocol, port 1, 65535 and every policy or invariant port boundary +-1,
        IPs at the network and broadcast addresses +-1 of every CIDR and except mentioned,
        namespace, every pod and namespace label code incl. absent and other, named ports
        defined or not) and
        keeps each target that leaves the scope satisfiable. Stops early when the scope is
        exhausted or the solver cannot decide within ``limits``.
        """
        enc = self.encoding
        solver = self._scoped_solver(query, limits)
        rng = random.Random(seed)
        ports, addresses = self._corners(query)
        packets: list[Packet] = []
        seen: set[Packet] = set()
        for _ in range(count * 3):
            if len(packets) >= count:
                break
            # One scope per sample; each target that keeps the scope satisfiable stays in it.
            solver.push()
            model = None
            for target in self._targets(rng, ports, addresses):
                solver.push()
                solver.add(target)
                status, _ = self._status(solver)
                if status is Status.SAT:
                    model = solver.model()
                solver.pop()
                if status is Status.SAT:
                    solver.add(target)
                elif status is Status.UNKNOWN:
                    model = None
                    break
            if model is None and self._status(solver)[0] is Status.SAT:
                model = solver.model()
            packet = Decoder(enc, model).packet() if model is not None else None
            solver.pop()
            if packet is None:
                break
            if packet not in seen:
                seen.add(packet)
                packets.append(packet)
        return packets

    def _corners(self, query: PacketQuery) -> tuple[list[int], dict[int, list[int]]]:
        """Corner ports and IPs (per family) of the cluster's policies, the universe and a query."""
        enc = self.encoding
        entries = list(query.ports)
        networks = list(enc.universe.pod_cidrs)
        for scope in (query.src, query.dst):
            if scope.ip_block is not None:
                networks += [scope.ip_block.cidr, *scope.ip_block.except_]
        for policy in enc.cluster.policies:
            for rule in policy.ingress + policy.egress:
                entries += rule.ports
                for peer in rule.peers:
                    if peer.ip_block is not None:
                        networks += [peer.ip_block.cidr, *peer.ip_block.except_]
        numbers = {1, 65535}
        for entry in entries:
            if isinstance(entry.port, int):
                for edge in (entry.port, entry.end_port if entry.end_port is not None else entry.port):
                    numbers.update((edge - 1, edge, edge + 1))
        for workload in enc.workloads:
            numbers.update(cp.port for cp in workload.ports)
        ports = sorted(n for n in numbers if 1 <= n <= 65535)
        addresses: dict[int, set[int]] = {4: {0, 2**32 - 1}, 6: {0, 2**128 - 1}}
        for network in networks:
            top = 2 ** network.max_prefixlen - 1
            for edge in (int(network.network_address), int(network.broadcast_address)):
                addresses[network.version].update(a for a in (edge - 1, edge, edge + 1) if 0 <= a <= top)
        return ports, {family: sorted(values) for family, values in addresses.items()}

    def _targets(self, rng: random.Random, ports: list[int], addresses: dict[int, list[int]]) -> list[z3.BoolRef]:
        """Corner targets for one sample, most important first: the IP family, protocol,
        port, endpoint kinds and IPs, then a few of the others (namespaces, pod and
        namespace label codes, named ports, self and own-node traffic) picked at random,
        so that each sample costs a handful of solver calls and the samples together
        still visit every dimension.
        """
        enc = self.encoding
        v6 = rng.random() < 0.3
        family = 6 if v6 else 4
        targets = [enc.v6 if v6 else z3.Not(enc.v6), enc.protocol == rng.randrange(3), enc.port == rng.choice(ports)]
        for e in (enc.src, enc.dst):
            targets.append(e.kind == rng.randrange(3))
            targets.append(e.ip == z3.BitVecVal(rng.choice(addresses[family]), 128, enc.ctx))
        others: list[z3.BoolRef] = []
        pod_others = {dom.key: dom.other for dom in enc.domains.pod_keys}
        for e in (enc.src, enc.dst):
            others.append(e.namespace == rng.randrange(max(len(enc.domains.namespaces), 1)))
            for key, code in e.labels.items():
                others.append(code == rng.randrange(pod_others[key] + 1))
            for defined, number, _ in e.ports.values():
                others.append(z3.And(defined, number == rng.choice(ports)) if rng.random() < 0.5 else z3.Not(defined))
        namespace_others = {dom.key: dom.other for dom in enc.domains.namespace_keys}
        for row in enc.namespace_labels.values():
            for key, code in row.items():
                if not isinstance(code, int):
                    others.append(code == rng.randrange(namespace_others[key] + 1))
        if not z3.is_false(enc.same_pod):
            others.append(enc.same_pod == (rng.random() < 0.2))
        if not z3.is_false(enc.own_node):
            others.append(enc.own_node == (rng.random() < 0.5))
        return targets + rng.sample(others, min(len(others), 4))

    def _prefer_readable(self, solver: z3.Solver, model: z3.ModelRef) -> z3.ModelRef:
        """Steer a satisfiable query towards a packet people read easily: IPv4, TCP, a
        well-known port, small IPs from the pod CIDRs or private and documentation ranges,
        no invented labels or ports.

        Each group of alternatives is tried in order and the first that keeps the query
        satisfiable is kept, so the packet is still a genuine answer; this only picks
        among the answers.
        """
        enc = self.encoding
        groups: list[list[z3.BoolRef]] = [
            [z3.Not(enc.v6)],
            [z3.And(enc.is_pod(enc.src), enc.is_pod(enc.dst))],
        ]
        # Pods of loaded workloads (and so of declared namespaces) read best of all.
        arbitrary = len(enc.classes)
        named = len(enc.domains.namespaces) - enc.domains.fresh
        for e in (enc.src, enc.dst):
            if arbitrary:
                groups.append([z3.Implies(enc.is_pod(e), z3.ULT(e.workload_class, arbitrary))])
            if enc.domains.fresh and named:
                groups.append([z3.Implies(enc.is_pod(e), z3.ULT(e.namespace, named))])
        groups += [
            [enc.protocol == 0],
            [z3.Or([enc.port == p for p in (80, 443, 8080, 53)])],
        ]
        for offset, e in enumerate((enc.src, enc.dst), start=1):
            candidates = [int(c.network_address) + offset for c in enc.universe.pod_cidrs]
            candidates += [int(ipaddress.ip_address(a)) + offset for a in ("10.0.0.0", "192.0.2.0", "203.0.113.0", "2001:db8::", "fd00::")]
            groups.append([e.ip == z3.BitVecVal(c, 128, enc.ctx) for c in candidates])
            labels = [code == 0 for code in e.labels.values()]
            if labels:
                groups.append([z3.And(labels)])
                groups += [[absent] for absent in labels]
            ports = [z3.Not(defined) for defined, _, _ in e.ports.values()]
            if ports:
                groups.append([z3.And(ports)])
                groups += [[undefined] for undefined in ports]
        kept = 0
        for alternatives in groups:
            for preference in alternatives:
                solver.push()
                solver.add(preference)
                if solver.check() == z3.sat:
                    model = solver.model()
                    kept += 1
                    break
                solver.pop()
        if kept:
            solver.pop(kept)
        return model


class ChangeChecker:
    """Answers "does this change to one namespace's policies change any allowed packet?"
    for many changes of one base policy set, with one solver.

    The base set's per-direction terms are asserted once, as definitions of two Booleans;
    each change adds only its namespace's terms, in a push/pop scope. Sound because a
    namespace's policies decide only for endpoints in that namespace.
    """

    def __init__(self, session: SolverSession, policies: tuple[NetworkPolicy, ...], limits: Limits):
        enc = session.encoding
        self.session = session
        # The cluster's Admin and Baseline tiers hold under every change to a namespace.
        # (A set: ``in`` on the tuple compared each with every NetworkPolicy, 10,000 at xl.)
        given = set(policies)
        policies = tuple(policies) + tuple(p for p in enc.cluster.cluster_policies if p not in given)
        self.solver = session._solver(limits)
        self.egress = z3.Bool("base.egress_allows", enc.ctx)
        self.ingress = z3.Bool("base.ingress_allows", enc.ctx)
        self.solver.add(self.egress == enc.direction_allows(Direction.EGRESS, enc.src, enc.dst, policies))
        self.solver.add(self.ingress == enc.direction_allows(Direction.INGRESS, enc.dst, enc.src, policies))
        self.allowed = enc.combine(self.egress, self.ingress)

    def differs(
        self, namespace: str, changed: tuple[NetworkPolicy, ...], packet: bool = False, where: z3.BoolRef | None = None
    ) -> Outcome:
        """Replace ``namespace``'s policies by ``changed``: is some packet's verdict different?

        ``packet`` asks for the differing packet (decoded and made readable) when there is one.
        ``where``: packets outside which no verdict can differ (the caller's claim, e.g.
        ``Encoding.item_reach``); it only narrows the search.
        """
        enc = self.session.encoding
        egress = enc.with_namespace_changed(Direction.EGRESS, self.egress, namespace, changed)
        ingress = enc.with_namespace_changed(Direction.INGRESS, self.ingress, namespace, changed)
        self.solver.push()
        try:
            if where is not None:
                self.solver.add(where)
            self.solver.add(self.allowed != enc.combine(egress, ingress))
            status, reason = self.session._status(self.solver)
            if status is Status.SAT and packet:
                model = self.session._prefer_readable(self.solver, self.solver.model())
                return Outcome(status, Decoder(enc, model).packet())
            return Outcome(status, reason=reason)
        finally:
            self.solver.pop()

    def applies(self, *items: PolicyItem) -> Status:
        """Is there a packet of the universe that every one of ``items`` applies to?"""
        self.solver.push()
        try:
            self.solver.add(*[self.session.encoding.item_match(i) for i in items])
            return self.session._status(self.solver)[0]
        finally:
            self.solver.pop()


class TierChangeChecker:
    """Answers "does this change to the cluster-scoped tiers change any packet's verdict?"
    for many changes, each to one tier, with one solver.

    The NetworkPolicy tier is what most of a large cluster's encoding is, and no change to
    the Admin or Baseline tier touches it: its parts (``Encoding.network_policy_parts``) and
    the unchanged tiers' decisions are asserted once, as definitions of Booleans; each
    change adds only the changed tier's chain, in a push/pop scope.
    """

    def __init__(self, session: SolverSession, limits: Limits):
        enc = session.encoding
        self.session = session
        self.tiered = enc.cluster.cluster_policies
        self.solver = session._solver(limits)
        #: Per direction: the endpoint whose decision it is, the other end, and the
        #: Booleans standing for the NetworkPolicy parts and the tiers' decisions.
        self.parts: dict[Direction, tuple] = {}
        allows = {}
        for direction, e, other in ((Direction.EGRESS, enc.src, enc.dst), (Direction.INGRESS, enc.dst, enc.src)):
            name = direction.value.lower()
            denied, isolated = enc.network_policy_parts(direction, e, other, enc.cluster.policies)
            admin_accept, admin_deny = enc.tier_decides(Tier.ADMIN, direction, e, other, self.tiered)
            _, baseline_deny = enc.tier_decides(Tier.BASELINE, direction, e, other, self.tiered)
            named = []
            for part, term in (
                ("np_denied", denied),
                ("np_isolated", isolated),
                ("admin_accept", admin_accept),
                ("admin_deny", admin_deny),
                ("baseline_deny", baseline_deny),
            ):
                var = z3.Bool(f"tiers.{name}.{part}", enc.ctx)
                self.solver.add(var == term)
                named.append(var)
            self.parts[direction] = (e, other, *named)
            allows[direction] = enc.tiered_allows(e, *named)
        self.allows = allows
        self.allowed = enc.combine(allows[Direction.EGRESS], allows[Direction.INGRESS])

    def differs(
        self, tier: Tier, changed: tuple[ClusterPolicy, ...], directions: tuple[Direction, ...], where: z3.BoolRef | None = None
    ) -> Outcome:
        """Replace the cluster-scoped policies by ``changed``, which differs from them in
        ``tier`` only and for ``directions`` only: is some packet's verdict different?

        ``where``: packets outside which no verdict can differ (the caller's claim, e.g. the
        packets a removed rule matches); it only narrows the search."""
        enc = self.session.encoding
        allows = dict(self.allows)
        for direction in directions:
            e, other, denied, isolated, admin_accept, admin_deny, baseline_deny = self.parts[direction]
            accept, deny = enc.tier_decides(tier, direction, e, other, changed)
            if tier is Tier.ADMIN:
                admin_accept, admin_deny = accept, deny
            else:
                baseline_deny = deny
            allows[direction] = enc.tiered_allows(e, denied, isolated, admin_accept, admin_deny, baseline_deny)
        after = enc.combine(allows[Direction.EGRESS], allows[Direction.INGRESS])
        self.solver.push()
        try:
            if where is not None:
                self.solver.add(where)
            self.solver.add(self.allowed != after)
            status, reason = self.session._status(self.solver)
            return Outcome(status, reason=reason)
        finally:
            self.solver.pop()


class LocalChecker:
    """Answers "does this change to one namespace's policies change that namespace's own
    decisions?" with one solver that holds only the universe.

    A namespace's policies decide only the egress of its pods and the ingress to them, so
    if neither direction's decision changes for any endpoint of the namespace, no packet's
    verdict changes: UNSAT here proves a change harmless without the rest of the cluster's
    terms (cheap at any cluster size). SAT is not yet a changed verdict, since the other
    direction may deny every such packet: the caller replays the packet, and asks the
    ChangeChecker only when the replay does not settle it.
    """

    def __init__(self, session: SolverSession, limits: Limits):
        self.session = session
        enc = session.encoding
        # With pods: any, only arbitrary pods: the same decisions, and a small formula at
        # any cluster size (see Encoding.arbitrary_pod_constraints).
        arbitrary = enc.arbitrary_pod_constraints() if enc.universe.pods == "any" else None
        self.solver = session._solver(limits, arbitrary)
        #: Per direction: the namespace codes whose policies can deny it (for steering packets).
        self._restricting: dict[Direction, list[int]] = {
            d: sorted({enc.domains.namespace_code(p.namespace) for p in enc.cluster.policies if d in p.policy_types})
            for d in (Direction.INGRESS, Direction.EGRESS)
        }
        self._unrestricted: dict[tuple[Direction, int], z3.BoolRef] = {}

    def differs(
        self,
        namespace: str,
        directions: tuple[Direction, ...],
        before: tuple[NetworkPolicy, ...],
        after: tuple[NetworkPolicy, ...],
        steer: bool = True,
    ) -> Outcome:
        """Is some decision of ``directions`` for an endpoint in ``namespace`` different under
        ``after`` than under ``before`` (both the namespace's policies)? With a packet if so:
        one whose other end the cluster's policies let through, where the solver finds one
        (see ``_steer``), so that the packet's verdict changes too."""
        enc = self.session.encoding
        changes = []
        steered = []
        for direction in directions:
            other = enc.dst if direction is Direction.EGRESS else enc.src
            change = self._change(direction, namespace, before, after)
            changes.append(change)
            steered.append((change, direction, other))
        return self._solve(enc.disj(changes), self._steer(steered, namespace, before) if steer else [])

    def confined(
        self,
        namespace: str,
        directions: tuple[Direction, ...],
        before: tuple[NetworkPolicy, ...],
        after: tuple[NetworkPolicy, ...],
    ) -> Status:
        """UNSAT when every changed decision (as in ``differs``) is about a packet whose
        other end is a pod of ``namespace`` too: then ``differs_within`` settles the change."""
        enc = self.session.encoding
        goals = []
        for direction in directions:
            e, other = (enc.src, enc.dst) if direction is Direction.EGRESS else (enc.dst, enc.src)
            inside = enc.conj([enc.is_policy_pod(other), enc.in_namespace(other, namespace)])
            goals.append(enc.conj([self._change(direction, namespace, before, after), enc.negate(inside)]))
        return self._solve(enc.disj(goals), decode=False).status

    def differs_within(
        self, namespace: str, before: tuple[NetworkPolicy, ...], after: tuple[NetworkPolicy, ...]
    ) -> Outcome:
        """Is some packet between two pods of ``namespace`` decided differently under
        ``after`` than under ``before``? Exact: such a packet is decided by that
        namespace's policies alone (the source's egress, the destination's ingress)."""
        enc = self.session.encoding

        def allowed(policies: tuple[NetworkPolicy, ...]) -> z3.BoolRef:
            verdicts = []
            for direction, e, other in ((Direction.EGRESS, enc.src, enc.dst), (Direction.INGRESS, enc.dst, enc.src)):
                own = tuple(p for p in policies if direction in p.policy_types)
                denied = enc.namespace_denies(direction, e, other, namespace, own)
                verdicts.append(enc._true if denied is False else enc.negate(denied))
            return enc.combine(*verdicts)

        both = [enc.is_policy_pod(e) for e in (enc.src, enc.dst)] + [enc.in_namespace(e, namespace) for e in (enc.src, enc.dst)]
        return self._solve(enc.conj(both + [allowed(before) != allowed(after)]))

    def _change(
        self, direction: Direction, namespace: str, before: tuple[NetworkPolicy, ...], after: tuple[NetworkPolicy, ...]
    ) -> z3.BoolRef:
        """The decision of ``direction`` for a policy pod of ``namespace`` differs."""
        enc = self.session.encoding
        e, other = (enc.src, enc.dst) if direction is Direction.EGRESS else (enc.dst, enc.src)
        old, new = (tuple(p for p in policies if direction in p.policy_types) for policies in (before, after))
        denied_before, denied_after = (
            enc._false if d is False else d for d in (enc.namespace_denies(direction, e, other, namespace, ps) for ps in (old, new))
        )
        return enc.conj([enc.in_namespace(e, namespace), enc.is_policy_pod(e), denied_before != denied_after])

    def _steer(self, steered: list, namespace: str, before: tuple[NetworkPolicy, ...]) -> list[z3.BoolRef]:
        """Preferences for the packet, tried in order: the other end is subject to no policy
        of the opposite direction (an external host, or a pod of a namespace without such
        policies), or is a pod of ``namespace`` that its policies let through."""
        enc = self.session.encoding
        free, local = [], []
        for change, direction, other in steered:
            opposite = Direction.INGRESS if direction is Direction.EGRESS else Direction.EGRESS
            key = (opposite, id(other))
            if key not in self._unrestricted:
                restricting = enc.disj(enc.namespace_code_in(other, self._restricting[opposite]))
                self._unrestricted[key] = enc.disj([enc.negate(enc.is_policy_pod(other)), enc.negate(restricting)])
            free.append(enc.conj([change, self._unrestricted[key]]))
            own = tuple(p for p in before if opposite in p.policy_types)
            if own:
                e = enc.src if other is enc.dst else enc.dst
                denied = enc._namespace_denies(opposite, other, e, namespace, own)
                local.append(enc.conj([change, enc.in_namespace(other, namespace), enc.negate(denied)]))
        return [enc.disj(free)] + ([enc.disj(local)] if local else [])

    def applies(self, *items: PolicyItem) -> Status:
        """Is there a packet of the universe that every one of ``items`` applies to?"""
        goal = self.session.encoding.conj(self.session.encoding.item_match(i) for i in items)
        return self._solve(goal, decode=False).status

    def _solve(self, goal: z3.BoolRef, preferences: list[z3.BoolRef] = (), decode: bool = True) -> Outcome:
        """Solve ``goal``; on SAT, the packet of the first preference that keeps it SAT
        (none unless ``decode``: the callers after a status alone skip decoding the model,
        which costs more than many of their checks).

        Each preference implies ``goal`` and most goals are SAT, so the preferences are
        tried first: usually one check settles it."""
        for goal_ in [*preferences, goal]:
            self.solver.push()
            try:
                self.solver.add(goal_)
                status, reason = self.session._status(self.solver)
                if status is Status.SAT:
                    return Outcome(status, Decoder(self.session.encoding, self.solver.model()).packet() if decode else None)
            finally:
                self.solver.pop()
        return Outcome(status, reason=reason)
