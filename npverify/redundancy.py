"""Redundancy and vacuity: policies, rules, peers and port entries that change nothing.

An item is redundant when removing it (alone) leaves the allowed traffic unchanged over
the universe. Items that can never apply (a policy selecting no pod, a rule matching no
packet, rules of a direction the policy does not isolate) are vacuous: reported in their
own category, and not again as redundant. A redundant item is listed with the items that
cover it: the others of its namespace and direction that apply to some of its packets.
"""

from __future__ import annotations

import bisect
import ipaddress
import itertools
import time
from collections.abc import Callable

import attrs

from npverify.coverage import Coverage
from npverify.intervals import AddressSet, sole_parts

from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ClusterPolicy,
    Direction,
    Endpoint,
    ExternalEndpoint,
    IPAddress,
    IPBlock,
    IPNetwork,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Packet,
    Peer,
    PodEndpoint,
    PolicyItem,
    PolicyPort,
    Protocol,
    Rule,
    Semantics,
    Universe,
    Workload,
    cluster_items,
    policy_items,
)
from npverify.errors import InternalError
from npverify.semantics import Decision, decide, selector_matches, universe_problem
from npverify.smt import ChangeChecker, Limits, LocalChecker, Outcome, SolverSession, Status, TierChangeChecker, mentions_of
from npverify.workers import in_workers


#: Why a redundant item changes nothing (``RedundantItem.why``).
#: Without it, no decision of its namespace's pods changes: other items do what it does.
COVERED = "covered"
#: Without it, its namespace's pods decide some packets differently, but the other end
#: (the source's egress, the destination's ingress) denies every one of them anyway.
UNUSABLE = "unusable"
#: Redundant, but the solver could not tell which of the two within its limits.
UNEXPLAINED = "unexplained"


@attrs.frozen
class RedundantItem:
    item: PolicyItem
    #: The other items of its namespace and direction that apply to some of its packets:
    #: what still allows (or isolates) its traffic. Empty when it is UNUSABLE.
    covered_by: tuple[PolicyItem, ...] = ()
    #: COVERED, UNUSABLE or UNEXPLAINED: what the check established.
    why: str = COVERED
    #: The same in words, naming the covering items: "covered: every packet it allows is
    #: allowed anyway by shop/api ingress[1]". Empty only for items built by hand.
    reason: str = ""
    #: UNUSABLE: the reference evaluator's account of one packet whose decision in the
    #: item's namespace changes without it, denied at the other end (an example, not all).
    example: Decision | None = attrs.field(default=None, eq=False)


@attrs.frozen
class VacuousItem:
    item: PolicyItem
    reason: str


@attrs.frozen
class UndecidedItem:
    item: PolicyItem
    reason: str


@attrs.frozen
class RedundancyReport:
    redundant: tuple[RedundantItem, ...]
    vacuous: tuple[VacuousItem, ...]
    undecided: tuple[UndecidedItem, ...]
    items_checked: int
    seconds: float = 0.0
    #: What the manifests held that npverify did not model: while anything is unmodelled
    #: the report is undecided, since such an object can make an item matter or not.
    coverage: Coverage = Coverage()

    @property
    def clean(self) -> bool | None:
        """True when nothing is redundant or vacuous, None when some item was undecided or an
        unmodelled object could change the answer."""
        if not self.coverage.complete:
            return None
        if self.redundant or self.vacuous:
            return False
        return None if self.undecided else True

    def __str__(self) -> str:
        from npverify.report.text import render_redundancy

        return render_redundancy(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_redundancy_html

        return render_redundancy_html(self)


def _descends(item: PolicyItem, ancestor: PolicyItem) -> bool:
    """Is ``item`` part of ``ancestor`` (a rule of a policy, a peer of a rule)?"""
    if item.policy != ancestor.policy or item == ancestor:
        return False
    if ancestor.rule_index is None:
        return True
    return (
        ancestor.peer_index is None
        and ancestor.port_index is None
        and (item.direction, item.rule_index) == (ancestor.direction, ancestor.rule_index)
    )


def find_redundancy(
    cluster: Cluster,
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    limits: Limits = Limits(),
    policies: tuple[str, ...] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    shortcuts: bool = True,
    jobs: int = 1,
) -> RedundancyReport:
    """Every redundant or vacuous item of the cluster's policies (or of those named
    ``namespace/name`` in ``policies``). ``progress(number, total, item)`` is called as
    each item comes up (number from 1; items inside a settled one are skipped but counted;
    with ``jobs`` > 1, as each batch of policies is done).

    Each item goes through cheaper steps first (docs/performance.md):

    0. an ipBlock peer whose addresses the other ipBlock peers of its rule all match is
       redundant by interval arithmetic (its rule matches the same packets without it);
       its covering peers are compared by their addresses before the solver;
    1. a concrete packet built from the loaded workloads and the item's own peers and
       ports, decided by the reference evaluator with and without the item: a different
       verdict shows the item matters (most items of a real cluster stop here);
    2. the solver, on the item's namespace alone (LocalChecker): no changed decision for
       any endpoint of that namespace proves the item redundant; a changed decision gives
       a packet, replayed as in step 1; when every changed decision is about packets
       between two pods of the namespace, those packets are decided by its policies
       alone, and the solver settles the item on them;
    3. the solver on the whole cluster (ChangeChecker), only when the replay of step 2
       did not show a changed verdict (the other end's policies may deny all of them).

    ``shortcuts=False`` skips steps 0 to 2: every item goes to the whole-cluster solver
    (the reference the differential tests compare the steps with). ``jobs`` > 1 checks
    batches of policies in that many worker processes (items are independent).
    """
    started = time.perf_counter()
    selected = tuple(p for p in cluster.policies if policies is None or p.key in policies)
    chosen = tuple(p for p in cluster.cluster_policies if policies is None or p.key in policies)
    if jobs > 1 and len(selected) > 1:
        # The cluster-scoped items go to the workers too, as one batch beside the others.
        parts = _in_parallel(cluster, universe, semantics, limits, shortcuts, selected, jobs, progress, chosen)
    else:
        scanner = _Scanner(cluster, universe, semantics, limits, shortcuts)
        parts = [scanner.scan(selected, progress)]
        if chosen:
            parts.append(_cluster_scan(scanner.session, cluster, limits, chosen, progress, shortcuts))
    return RedundancyReport(
        tuple(r for part in parts for r in part.redundant),
        tuple(v for part in parts for v in part.vacuous),
        tuple(u for part in parts for u in part.undecided),
        sum(part.items_checked for part in parts),
        time.perf_counter() - started,
        Coverage.of(cluster),
    )


#: Why an item is redundant when the cluster-scoped tiers, not other items of its own
#: namespace, make it so: no resolution of what no manifest holds changes a verdict without it.
SHADOWED_REASON = (
    "removing it changes no packet's verdict: every packet it matches is decided the same "
    "without it (by a higher tier, an earlier rule, or other policies)"
)


def _cluster_scan(
    session: SolverSession,
    cluster: Cluster,
    limits: Limits,
    chosen: tuple[ClusterPolicy, ...],
    progress: Callable[[int, int, str], None] | None,
    shortcuts: bool = True,
) -> RedundancyReport:
    """Redundancy of cluster-scoped policies and their rules. Such a rule can decide for any
    pod, so each is asked of the whole cluster's encoding: does any packet's verdict differ
    without it, under any resolution of what no manifest holds? That covers a rule hidden by
    an earlier one or a higher-priority policy, a Deny whose removal would widen what is
    allowed, and a Pass or Accept whose packets the next tiers decide alike anyway.
    ``session``: an encoding of the whole cluster (every policy mentioned)."""
    everything = cluster.policies + cluster.cluster_policies
    items = [i for p in chosen for i in cluster_items(p)]
    redundant: list[RedundantItem] = []
    undecided: list[UndecidedItem] = []
    settled: set[ClusterPolicy] = set()
    checker: TierChangeChecker | None = None
    checked = 0
    for number, item in enumerate(items, start=1):
        if progress is not None:
            progress(number, len(items), str(item))
        if item.policy in settled:
            continue
        checked += 1
        changed = item.without()
        if shortcuts:
            # Only the item's tier changes, and only for the packets the item can reach:
            # one solver holds the NetworkPolicy tier (most of the encoding) for every item.
            if checker is None:
                checker = session.tier_change_checker(limits)
            after_tiers = tuple(changed if p is item.policy else p for p in cluster.cluster_policies if p is not item.policy or changed is not None)
            directions = tuple(d for d in (Direction.EGRESS, Direction.INGRESS) if item.direction in (None, d))
            reach = session.encoding.cluster_item_reach(item.policy, item.direction, item.rule_index)
            outcome = checker.differs(item.policy.tier, after_tiers, directions, reach)
        else:
            after = tuple(changed if p is item.policy else p for p in everything if p is not item.policy or changed is not None)
            outcome = session.differ(everything, after, limits)
        status, reason = outcome.status, outcome.reason
        if status is Status.UNSAT:
            redundant.append(RedundantItem(item, (), UNEXPLAINED, SHADOWED_REASON))  # type: ignore[arg-type]
            if item.kind == "policy":
                settled.add(item.policy)
        elif status is Status.UNKNOWN:
            undecided.append(UndecidedItem(item, f"the solver could not decide: {reason}"))  # type: ignore[arg-type]
    return RedundancyReport(tuple(redundant), (), tuple(undecided), checked)


class _Scanner:
    """The redundancy scan of one cluster: one encoding and its checkers, for any number
    of batches of policies."""

    def __init__(self, cluster: Cluster, universe: Universe, semantics: Semantics, limits: Limits, shortcuts: bool):
        self.cluster = cluster
        self.limits = limits
        self.shortcuts = shortcuts
        self.session = SolverSession(cluster, mentions_of(cluster.policies + cluster.cluster_policies), universe, semantics)
        self.local = self.session.local_checker(limits)
        self.whole: ChangeChecker | None = None
        self.ip_blocks = _IPBlockPeers()
        self.witnesses = _Witnesses(cluster, universe, semantics, self.ip_blocks)

    def scan(
        self, selected: tuple[NetworkPolicy, ...], progress: Callable[[int, int, str], None] | None = None
    ) -> RedundancyReport:
        redundant: list[RedundantItem] = []
        vacuous: list[VacuousItem] = []
        undecided: list[UndecidedItem] = []
        checked = 0
        total = sum(len(policy_items(p)) for p in selected) if progress is not None else 0
        number = 0
        for policy in selected:
            settled: list[PolicyItem] = []
            for item in policy_items(policy):
                number += 1
                if progress is not None:
                    progress(number, total, str(item))
                if any(_descends(item, s) for s in settled):
                    continue
                checked += 1
                finding = self.check(item)
                if isinstance(finding, (RedundantItem, VacuousItem)):
                    if item.kind in ("policy", "rule"):  # peers and port entries hold no items
                        settled.append(item)
                    (redundant if isinstance(finding, RedundantItem) else vacuous).append(finding)  # type: ignore[arg-type]
                elif isinstance(finding, UndecidedItem):
                    undecided.append(finding)
        return RedundancyReport(tuple(redundant), tuple(vacuous), tuple(undecided), checked)

    def check(self, item: PolicyItem) -> RedundantItem | VacuousItem | UndecidedItem | None:
        """What ``item`` is; None when removing it changes some packet's verdict."""
        policy, local, witnesses = item.policy, self.local, self.witnesses
        before = self.cluster.policies_in(policy.namespace)
        changed = item.without()
        after = tuple(changed if p is policy else p for p in before if p is not policy or changed is not None)
        directions = tuple(policy.policy_types) if item.direction is None else (item.direction,)
        if self.shortcuts and self.ip_blocks.covered(item):
            # An ipBlock peer whose every address another ipBlock peer of its rule matches:
            # without it the rule matches the same packets, so no decision changes (exact
            # interval arithmetic; the solver would only confirm it, once per peer).
            why_vacuous = _vacuity(local, item)
            if why_vacuous:
                return VacuousItem(item, why_vacuous)
            return self._redundant(item, directions, before, after, Outcome(Status.UNSAT))
        # A changed verdict shows the item applies to something, so it is not vacuous
        # either: the vacuity check waits until no change has been shown.
        if self.shortcuts and witnesses.shows_change(item, after):
            return None
        outcome = Outcome(Status.SAT)
        local_outcome: Outcome | None = None
        if self.shortcuts and _ignored_direction(item) is None:
            outcome = local_outcome = local.differs(policy.namespace, directions, before, after)
            if outcome.status is Status.SAT:
                assert outcome.packet is not None
                if witnesses.changes(outcome.packet, policy.namespace, after):
                    return None
                if local.confined(policy.namespace, directions, before, after) is Status.UNSAT:
                    outcome = local.differs_within(policy.namespace, before, after)
                    if outcome.status is Status.SAT:
                        assert outcome.packet is not None
                        if witnesses.changes(outcome.packet, policy.namespace, after):
                            return None
                        outcome = Outcome(Status.SAT)  # the replay must show it: ask the whole cluster
        why_vacuous = _vacuity(local, item)
        if why_vacuous:
            return VacuousItem(item, why_vacuous)
        if outcome.status is Status.SAT:
            if self.whole is None:
                self.whole = self.session.change_checker(self.cluster.policies, self.limits)
            # With the shortcuts, only the packets the item can reach: with the tiers many
            # items come here (the tiers decide the replayed packets), each a query of the
            # whole cluster, and this keeps the solver to the item's own traffic.
            reach = self.session.encoding.item_reach(item) if self.shortcuts else None
            outcome = self.whole.differs(policy.namespace, after, where=reach)
        if outcome.status is Status.UNSAT:
            return self._redundant(item, directions, before, after, local_outcome)
        if outcome.status is Status.UNKNOWN:
            return UndecidedItem(item, outcome.reason)
        return None


    def _redundant(
        self,
        item: PolicyItem,
        directions: tuple[Direction, ...],
        before: tuple[NetworkPolicy, ...],
        after: tuple[NetworkPolicy, ...],
        local_outcome: Outcome | None,
    ) -> RedundantItem:
        """``item``, known redundant, with why: whether its own namespace's decisions change
        without it (the local check, asked now if the shortcuts did not). "Covered" alone
        would invite deleting an item that the other end merely makes useless today."""
        namespace = item.policy.namespace
        if local_outcome is None:
            local_outcome = self.local.differs(namespace, directions, before, after)
        if local_outcome.status is Status.UNSAT:
            covers = _covers(self.local, item, before, self.ip_blocks if self.shortcuts else None)
            if not covers and self.cluster.tiered:
                # Nothing of its namespace does what it does: the Admin or Baseline tier does.
                return RedundantItem(item, (), UNEXPLAINED, SHADOWED_REASON)
            return RedundantItem(item, covers, COVERED, _covered_reason(item, covers))
        if local_outcome.status is Status.UNKNOWN or local_outcome.packet is None:
            return RedundantItem(
                item,
                why=UNEXPLAINED,
                reason="removing it changes no allowed packet; the solver could not tell within its limits "
                "whether other items do what it does or the other end denies its packets",
            )
        example = self._denied_example(local_outcome.packet, namespace, after)
        return RedundantItem(item, (), UNUSABLE, _unusable_reason(item), example)

    def _denied_example(self, packet: Packet, namespace: str, after: tuple[NetworkPolicy, ...]) -> Decision | None:
        """The evaluator's account of ``packet`` (one whose decision in ``namespace``
        changes), when it shows what the solver established: a packet of the universe,
        denied with and without the change, by the direction the change does not touch."""
        if universe_problem(self.cluster, packet, self.witnesses.universe) is not None:
            return None
        semantics = self.witnesses.semantics
        changed = self.cluster.with_policies(
            tuple(p for p in self.cluster.policies if p.namespace != namespace) + after
        )
        old, new = decide(self.cluster, packet, semantics, nodes=self.witnesses.universe.nodes), decide(changed, packet, semantics, nodes=self.witnesses.universe.nodes)
        if old.allowed != new.allowed:
            raise InternalError(
                f"the solver proved an item redundant, but the reference evaluator decides {packet!r} "
                f"{'allowed' if old.allowed else 'denied'} with it and {'allowed' if new.allowed else 'denied'} without it"
            )
        if old.override is not None or old.allowed:
            return None
        touched = [d for d, n in ((old.egress, new.egress), (old.ingress, new.ingress)) if d.allowed != n.allowed]
        if len(touched) != 1:
            return None
        return old


class _IPBlockPeers:
    """The addresses of rules' ipBlock peers, worked out once per rule by interval
    arithmetic (npverify.intervals).

    An ipBlock peer matches an endpoint by its address alone, under the same condition
    for every ipBlock peer (Semantics.ip_block_matches_pods): what one peer adds to its
    rule is exactly its addresses that no other ipBlock peer of the rule matches.
    """

    def __init__(self) -> None:
        self._rules: dict[Rule, _RuleBlocks] = {}

    def _of(self, item: PolicyItem) -> _RuleBlocks | None:
        """The rule of an ipBlock peer item, worked out; None for any other item."""
        rule = item.rule
        if rule is None or item.peer_index is None or rule.peers[item.peer_index].ip_block is None:
            return None
        found = self._rules.get(rule)
        if found is None:
            found = self._rules[rule] = _RuleBlocks(rule)
        return found

    def addresses(self, item: PolicyItem) -> AddressSet | None:
        """The addresses an ipBlock peer item matches; None for any other item."""
        blocks = self._of(item)
        return None if blocks is None else blocks.sets[item.peer_index]  # type: ignore[index]

    def sole_part(self, item: PolicyItem) -> AddressSet | None:
        """An ipBlock peer item's addresses that no other ipBlock peer of its rule matches
        (the packets its rule loses without it); None for any other item."""
        blocks = self._of(item)
        return None if blocks is None else blocks.sole[item.peer_index]  # type: ignore[index]

    def covered(self, item: PolicyItem) -> bool:
        """Is ``item`` an ipBlock peer whose every address another ipBlock peer of its rule
        matches? Then removing it leaves its rule matching the same packets."""
        sole = self.sole_part(item)
        # The last peer is never covered: without it the rule matches every peer.
        return sole is not None and not sole and not _widens(item)

    def sharing(self, item: PolicyItem) -> dict[int, bool] | None:
        """For an ipBlock peer item: the other ipBlock peers of its rule that share an
        address with it (by peer index), each with whether it holds every address of
        ``item``; None for any other item."""
        blocks = self._of(item)
        return None if blocks is None else blocks.sharing(item.peer_index)  # type: ignore[arg-type]


class _RuleBlocks:
    """The address sets of one rule's ipBlock peers, by peer index, and an index of their
    intervals to find the peers that overlap one without comparing it with all."""

    def __init__(self, rule: Rule):
        indexes = [i for i, peer in enumerate(rule.peers) if peer.ip_block is not None]
        self.sets = {i: AddressSet.of_block(rule.peers[i].ip_block) for i in indexes}  # type: ignore[arg-type]
        self.sole = dict(zip(indexes, sole_parts([self.sets[i] for i in indexes])))
        #: Every interval of every peer as (low, high, peer index), by low; and the
        #: highest high up to each position, to stop a backward scan early.
        self._intervals = sorted((low, high, i) for i in indexes for low, high in self.sets[i].intervals)
        self._lows = [low for low, _, _ in self._intervals]
        self._reach = list(itertools.accumulate((high for _, high, _ in self._intervals), max))

    def sharing(self, index: int) -> dict[int, bool]:
        mine = self.sets[index]
        found: set[int] = set()
        for low, high in mine.intervals:
            k = bisect.bisect_right(self._lows, high) - 1
            while k >= 0 and self._reach[k] >= low:
                other_high, other = self._intervals[k][1], self._intervals[k][2]
                if other_high >= low and other != index:
                    found.add(other)
                k -= 1
        return {other: mine <= self.sets[other] for other in sorted(found)}


def _widens(item: PolicyItem) -> bool:
    """Does removing ``item`` widen its rule? The last peer or port entry of a rule: an
    empty list matches everything (PolicyItem.without)."""
    rule = item.rule
    if rule is None:
        return False
    if item.peer_index is not None:
        return len(rule.peers) == 1
    return item.port_index is not None and len(rule.ports) == 1


def _covered_reason(item: PolicyItem, covers: tuple[PolicyItem, ...]) -> str:
    """Why a COVERED item changes nothing, in words; ``covers`` as from _covers."""
    names = "; ".join(str(c) for c in covers)
    by = names if len(covers) == 1 else f"some of: {names}"
    if item.kind == "policy":
        types = " and ".join(str(d) for d in sorted(item.policy.policy_types, key=str))
        if not covers:
            # No other policy selects its pods for those directions: without it they are
            # not isolated, so it must allow all their traffic.
            return f"covered: it allows all the {types} traffic of the pods it selects, as no policy at all would"
        return f"covered: without it, the pods it selects allow and deny exactly the same {types} traffic, by {by}"
    if _widens(item):
        what = "peer" if item.peer_index is not None else "port"
        return f"covered: without it its rule would match every {what}, and every packet that adds is allowed anyway"
    if not covers:
        return "covered: every packet it allows is allowed anyway by other rules of its namespace"
    return f"covered: every packet it allows is allowed anyway by {by}"


def _unusable_reason(item: PolicyItem) -> str:
    """Why an UNUSABLE item changes nothing, in words."""
    if item.kind == "policy":
        return "unusable: every packet it decides differently is denied at the other end anyway"
    assert item.direction is not None
    other = "egress by its source" if item.direction is Direction.INGRESS else "ingress by its destination"
    if _widens(item):
        return f"unusable: every packet its rule would add without it is denied {other} anyway"
    return f"unusable: every packet it alone allows is denied {other} anyway"


#: Policies per worker below which more workers cost more than they save.
POLICIES_PER_WORKER = 100


#: The scanner of a worker process, made once per process by _start_worker (state of that
#: process only: the parent never sets it).
_worker: _Scanner | None = None


def _start_worker(cluster: Cluster, universe: Universe, semantics: Semantics, limits: Limits, shortcuts: bool) -> None:
    global _worker
    _worker = _Scanner(cluster, universe, semantics, limits, shortcuts)


def _scan_in_worker(batch: tuple[str, tuple[str, ...]]) -> RedundancyReport:
    assert _worker is not None
    kind, keys = batch
    wanted = set(keys)
    if kind == "cluster":
        chosen = tuple(p for p in _worker.cluster.cluster_policies if p.key in wanted)
        return _cluster_scan(_worker.session, _worker.cluster, _worker.limits, chosen, None, _worker.shortcuts)
    return _worker.scan(tuple(p for p in _worker.cluster.policies if p.key in wanted))


#: Most policies per batch handed to a worker: small enough to balance the load and
#: report progress, large enough that the round trips cost nothing.
_BATCH = 25


def _in_parallel(
    cluster: Cluster,
    universe: Universe,
    semantics: Semantics,
    limits: Limits,
    shortcuts: bool,
    selected: tuple[NetworkPolicy, ...],
    jobs: int,
    progress: Callable[[int, int, str], None] | None,
    chosen: tuple[ClusterPolicy, ...] = (),
) -> list[RedundancyReport]:
    """Batches of ``selected`` scanned by ``jobs`` workers (npverify.workers), in the
    policies' order, then the cluster-scoped ``chosen`` as one batch of its own. That
    batch is handed out first (its one solver serves all its items, and it is the longest),
    so that it runs beside the others, not after them."""
    step = max(1, min(_BATCH, len(selected) // (4 * jobs)))
    batches: list[tuple[str, tuple[str, ...]]] = [
        ("namespaced", tuple(p.key for p in selected[i : i + step])) for i in range(0, len(selected), step)
    ]
    sizes = [sum(len(policy_items(p)) for p in selected[i : i + step]) for i in range(0, len(selected), step)]
    if chosen:
        batches.insert(0, ("cluster", tuple(p.key for p in chosen)))
        sizes.insert(0, sum(len(cluster_items(p)) for p in chosen))
    total, done = sum(sizes), 0
    parts = []
    start_args = (cluster, universe, semantics, limits, shortcuts)
    for size, part in zip(sizes, in_workers(jobs, _start_worker, start_args, _scan_in_worker, batches)):
        parts.append(part)
        done += size
        if progress is not None:
            progress(done, total, f"{len(parts)} of {len(batches)} batches")
    if chosen:
        parts.append(parts.pop(0))  # reported after the namespaced items, as without workers
    return parts


class _Witnesses:
    """Concrete packets that may show an item matters, from the loaded workloads.

    Only a speed-up: a packet counts only when the reference evaluator, on a packet of the
    universe, gives a different verdict with the item than without it, which proves the
    item is not redundant. Finding none proves nothing; the solver decides then.
    """

    #: Endpoints tried per side: enough to hit a rule's traffic in practice, few enough
    #: that an item costs a few evaluations.
    PER_SIDE = 2

    def __init__(self, cluster: Cluster, universe: Universe, semantics: Semantics, ip_blocks: _IPBlockPeers):
        self.cluster = cluster
        self.universe = universe
        self.semantics = semantics
        self.ip_blocks = ip_blocks
        self._pod_addresses = AddressSet.of_networks(universe.pod_cidrs)
        self.by_namespace: dict[str, list[Workload]] = {}
        for w in cluster.workloads:
            if not w.host_network:
                self.by_namespace.setdefault(w.namespace, []).append(w)
        self.namespace_labels = {name: self._namespace_labels(name) for name in sorted(cluster.namespace_names())}
        self._matching_namespaces: dict[LabelSelector, list[str]] = {}
        self._tiers: dict[tuple, tuple[ClusterPolicy, ...]] = {}
        self._clusters: dict[tuple[ClusterPolicy, ...], Cluster] = {}
        self._found: dict[tuple, list[Workload]] = {}
        self._pods: dict[str, PodEndpoint] = {}
        networks = list(universe.pod_cidrs) or [ipaddress.ip_network("10.244.0.0/16")]
        self._pod_network = next((n for n in networks if n.version == 4), networks[0])
        #: Where a pod of the other family gets its address (for a peer of that family):
        #: none when the pod CIDRs leave that family no pod.
        self._pod_networks = {
            version: next((n for n in universe.pod_cidrs if n.version == version), None)
            if universe.pod_cidrs
            else ipaddress.ip_network(default)
            for version, default in ((4, "10.244.0.0/16"), (6, "fd00:10:244::/64"))
        }
        self._external = _outside(ipaddress.ip_network("203.0.113.0/24"), universe.pod_cidrs)

    def _namespace_labels(self, name: str) -> Labels:
        declared = self.cluster.namespace(name)
        return declared.labels if declared is not None else Labels.of({NAMESPACE_NAME_LABEL: name})

    def _pod_of_family(self, w: Workload, side: str, version: int) -> PodEndpoint | None:
        """The pod of ``_pod(w, side)`` with an address of IP ``version``: the same pod,
        dual-stack (packets of one family only ever meet peers of that family)."""
        pod = self._pod(w, side)
        if pod.ip.version == version:
            return pod
        key = f"{w.key}#{side}#v{version}"
        if key not in self._pods:
            network = self._pod_networks[version]
            ips = [ip for ip in w.ips if ip.version == version]
            if ips:
                ip = ips[0]
            elif w.ips or network is None:
                return None
            else:
                ip = network.network_address + (2 * len(self._pods) + 1) % max(network.num_addresses - 2, 1) + 1
            self._pods[key] = attrs.evolve(pod, ip=ip)
        return self._pods[key]

    def _pod(self, w: Workload, side: str) -> PodEndpoint:
        key = f"{w.key}#{side}"
        if key not in self._pods:
            if w.ips:
                ip = w.ips[0] if side == "src" or len(w.ips) == 1 else w.ips[1]
            else:
                offset = 2 * len(self._pods) + (1 if side == "src" else 2)
                ip = self._pod_network.network_address + offset % max(self._pod_network.num_addresses - 2, 1) + 1
            pod_id = w.key if w.single_pod else key
            self._pods[key] = PodEndpoint(
                w.namespace, self.namespace_labels[w.namespace], w.labels, ip, w.ports, False, w.key, pod_id
            )
        return self._pods[key]

    def _namespaces(self, selector: LabelSelector) -> list[str]:
        if selector not in self._matching_namespaces:
            self._matching_namespaces[selector] = [
                name for name, labels in self.namespace_labels.items() if selector_matches(selector, labels)
            ]
        return self._matching_namespaces[selector]

    def _workloads(self, namespaces: list[str], pods: LabelSelector | None, limit: int) -> list[Workload]:
        found: list[Workload] = []
        for name in namespaces:
            for w in self.by_namespace.get(name, ()):
                if pods is None or selector_matches(pods, w.labels):
                    found.append(w)
                    if len(found) >= limit:
                        return found
        return found

    def _peer_endpoints(self, peer: Peer, namespace: str, side: str) -> list[Endpoint]:
        if peer.ip_block is not None:
            ip = _inside_block(peer.ip_block)
            return [] if ip is None else [ExternalEndpoint(ip)]
        # Many items share a peer, and a peer that matches few pods scans every namespace
        # its selector matches (thousands at 100,000 pods): once per peer.
        key = (namespace if peer.namespace_selector is None else peer.namespace_selector, peer.pod_selector)
        workloads = self._found.get(key)
        if workloads is None:
            namespaces = [namespace] if peer.namespace_selector is None else self._namespaces(peer.namespace_selector)
            workloads = self._found[key] = self._workloads(namespaces, peer.pod_selector, self.PER_SIDE)
        return [self._pod(w, side) for w in workloads]

    def _others(self, item: PolicyItem, side: str) -> list[Endpoint]:
        """Endpoints at the other end of the item's traffic."""
        rule = item.rule
        # Without its only peer a rule matches every endpoint: the change is at the others.
        widens = rule is not None and item.peer_index is not None and len(rule.peers) == 1
        if rule is not None and not widens:
            sole = self.ip_blocks.sole_part(item)
            if sole is not None:
                # Only an address no other ipBlock peer of the rule matches can show a
                # change; outside the pod CIDRs, an external host can have it.
                ip = (sole - self._pod_addresses).first() or sole.first()
                return [] if ip is None else [ExternalEndpoint(ip)]
            peers = rule.peers if item.peer_index is None else (rule.peers[item.peer_index],)
            if peers:
                found = []
                for peer in peers:
                    found += self._peer_endpoints(peer, item.policy.namespace, side)
                return found
        found = [self._pod(w, side) for w in self._workloads([item.policy.namespace], None, 1)]
        found += [self._pod(w, side) for w in self._workloads(self._other_namespaces(item.policy.namespace), None, 1)]
        if self._external is not None:
            found.append(ExternalEndpoint(self._external))
        return found

    def _other_namespaces(self, namespace: str) -> list[str]:
        """Two namespaces other than ``namespace`` that hold workloads."""
        return [name for name in itertools.islice(self.by_namespace, 3) if name != namespace][:2]

    def _ports(self, item: PolicyItem, dst: Endpoint) -> list[tuple[Protocol, int]]:
        rule = item.rule
        if rule is not None and item.port_index is not None and len(rule.ports) == 1:
            # Without its only port entry a rule matches every port: the change is elsewhere.
            return [(Protocol.TCP, 1), (Protocol.UDP, 65535), (Protocol.SCTP, 1)]
        entries: tuple[PolicyPort, ...] = ()
        if rule is not None:
            entries = rule.ports if item.port_index is None else (rule.ports[item.port_index],)
        elif item.policy.ingress or item.policy.egress:
            entries = tuple(p for r in item.policy.ingress + item.policy.egress for p in r.ports)[:2]
        if not entries:
            return [(Protocol.TCP, 80)]
        found = []
        for entry in entries:
            if isinstance(entry.port, str):
                ports = dst.ports if isinstance(dst, PodEndpoint) else ()
                number = next((p.port for p in ports if p.name == entry.port and p.protocol is entry.protocol), None)
                if number is not None:
                    found.append((entry.protocol, number))
            else:
                found.append((entry.protocol, entry.port if entry.port is not None else 80))
        return found

    def shows_change(self, item: PolicyItem, after: tuple[NetworkPolicy, ...]) -> bool:
        """Does some packet built around ``item`` get another verdict under ``after`` (its
        namespace's policies without the item)?"""
        policy = item.policy
        selected = [w for w in self.by_namespace.get(policy.namespace, ()) if selector_matches(policy.pod_selector, w.labels)]
        directions = tuple(policy.policy_types) if item.direction is None else (item.direction,)
        for direction in directions:
            own_side, other_side = ("dst", "src") if direction is Direction.INGRESS else ("src", "dst")
            for w in selected[: self.PER_SIDE]:
                for other in self._others(item if item.rule is not None else PolicyItem(policy), other_side):
                    own = self._pod_of_family(w, own_side, other.ip.version)
                    if own is None:
                        continue
                    src, dst = (other, own) if direction is Direction.INGRESS else (own, other)
                    for protocol, port in self._ports(item, dst):
                        if self.changes(Packet(src, dst, protocol, port), policy.namespace, after):
                            return True
        return False

    def changes(self, packet: Packet, namespace: str, after: tuple[NetworkPolicy, ...]) -> bool:
        """Is ``packet`` a packet of the universe whose verdict differs when ``namespace``'s
        policies are ``after``?"""
        if packet.src.ip.version != packet.dst.ip.version or packet.src.ip == packet.dst.ip:
            return False
        if universe_problem(self.cluster, packet, self.universe) is not None:
            return False
        ends = {e.namespace for e in (packet.src, packet.dst) if isinstance(e, PodEndpoint)}
        if namespace not in ends:
            return False
        # The cluster-scoped tiers decide for both ends too (without them on one side, a
        # packet an Admin Accept lets through showed a change the item does not make):
        # those whose subject can select either end, the same on both sides.
        tiers = self._tiers_for(packet)
        original = self.cluster if len(tiers) == len(self.cluster.cluster_policies) else self._with_tiers(tiers)
        # The loaded Nodes stay: they decide nodes peers at their addresses.
        changed = Cluster(
            policies=[p for ns in sorted(ends) for p in (after if ns == namespace else self.cluster.policies_in(ns))],
            cluster_policies=tiers,
            nodes=self.cluster.nodes,
        )
        nodes = self.universe.nodes
        return decide(original, packet, self.semantics, nodes=nodes).allowed != decide(changed, packet, self.semantics, nodes=nodes).allowed

    def _tiers_for(self, packet: Packet) -> tuple[ClusterPolicy, ...]:
        """The cluster-scoped policies whose subject's namespace selector matches a pod end
        of ``packet``: the only ones that can decide it (a subject selects pods only, never
        hostNetwork ones). Worked out once per pair of end namespaces (name and labels)."""
        ends = tuple(
            (e.namespace, e.namespace_labels) if isinstance(e, PodEndpoint) and not e.host_network else None
            for e in (packet.src, packet.dst)
        )
        found = self._tiers.get(ends)
        if found is None:
            found = self._tiers[ends] = tuple(
                p
                for p in self.cluster.cluster_policies
                if any(end is not None and p.subject.namespace_selector.matches(end[1]) for end in ends)
            )
        return found

    def _with_tiers(self, tiers: tuple[ClusterPolicy, ...]) -> Cluster:
        """The cluster with only ``tiers`` of its cluster-scoped policies (made once per set:
        a Cluster indexes its policies when made)."""
        found = self._clusters.get(tiers)
        if found is None:
            found = self._clusters[tiers] = attrs.evolve(self.cluster, cluster_policies=tiers)
        return found


def _inside_block(block: IPBlock) -> IPAddress | None:
    """An address of ``block`` outside its excepts (the first of a few tries), or None."""
    cidr = block.cidr
    candidates = [cidr.network_address + 1 if cidr.num_addresses > 2 else cidr.network_address]
    candidates += [e.broadcast_address + 1 for e in block.except_ if int(e.broadcast_address) + 1 <= int(cidr.broadcast_address)]
    return next((ip for ip in candidates if block.contains(ip)), None)


def _outside(network: IPNetwork, pod_cidrs) -> IPAddress | None:
    """An address of ``network`` outside the pod CIDRs, or None."""
    ip = network.network_address + 1
    return None if any(ip in c for c in pod_cidrs) else ip


def _ignored_direction(item: PolicyItem) -> str | None:
    """Why ``item`` is vacuous by its policy's types alone, or None."""
    if item.kind == "policy":
        return None if item.policy.policy_types else "its policyTypes is empty"
    assert item.direction is not None
    if item.direction not in item.policy.policy_types:
        field = "ingress" if item.direction is Direction.INGRESS else "egress"
        return f"policyTypes does not include {item.direction}, so {field} rules are ignored"
    return None


def _vacuity(checker: LocalChecker, item: PolicyItem) -> str | None:
    """Why ``item`` can never apply, or None."""
    ignored = _ignored_direction(item)
    if ignored is not None:
        return ignored
    if checker.applies(item) is Status.UNSAT:
        return "it selects no pod" if item.kind == "policy" else "it matches no packet"
    return None


def _covers(
    checker: LocalChecker,
    item: PolicyItem,
    same_namespace: tuple[NetworkPolicy, ...],
    ip_blocks: _IPBlockPeers | None = None,
) -> tuple[PolicyItem, ...]:
    """The other items of the same namespace and direction (``same_namespace``: that
    namespace's policies) that apply to some packet ``item`` applies to: what still
    allows (or isolates) its traffic once it is gone. With ``ip_blocks``, two ipBlock
    peers of one rule are compared by their addresses first (one solver call per
    covering peer is what made a rule of many peers take quadratic time)."""
    candidates: list[PolicyItem] = []
    if item.kind == "policy":
        candidates = [PolicyItem(p) for p in same_namespace if p != item.policy and p.policy_types & item.policy.policy_types]
    else:
        assert item.direction is not None and item.rule is not None
        for p in same_namespace:
            if item.direction not in p.policy_types:
                continue
            for r in range(len(p.rules(item.direction))):
                if (p, r) != (item.policy, item.rule_index):
                    candidates.append(PolicyItem(p, item.direction, r))
        rule = item.rule
        if item.peer_index is not None:
            candidates += [
                PolicyItem(item.policy, item.direction, item.rule_index, peer_index=i)
                for i in range(len(rule.peers))
                if i != item.peer_index
            ]
        if item.port_index is not None:
            candidates += [
                PolicyItem(item.policy, item.direction, item.rule_index, port_index=i)
                for i in range(len(rule.ports))
                if i != item.port_index
            ]
    sharing = ip_blocks.sharing(item) if ip_blocks is not None else None
    alone: list[Status] = []

    def applies_with(other: PolicyItem) -> bool:
        if sharing is not None and ip_blocks is not None and ip_blocks.addresses(other) is not None:
            # Peers of one rule, taken with the same ports and selected pods: they apply
            # to a common packet only at a common address, and where every address of
            # ``item`` is one of ``other``'s, to exactly the packets ``item`` applies to.
            if other.peer_index not in sharing:
                return False
            if sharing[other.peer_index]:
                if not alone:
                    alone.append(checker.applies(item))
                return alone[0] is Status.SAT
        return checker.applies(item, other) is Status.SAT

    return tuple(c for c in candidates if applies_with(c))
