"""The Admin and Baseline tiers in the set algebra: what a direction allows when
cluster-scoped policies take part (``Cluster.tiered``).

Without them a direction is NetworkPolicy's allow-list, a union of rules' ports, and
npverify/matrix/algebra.py keeps it as masks over the other end's variants. The tiers are
first-match, so here a direction is walked as npverify/tiers.py ``first_match`` walks it,
with port sets for packets: for the direction's own pod (its labels and namespace labels
pick the subjects) and one kind of pod at the other end (which peers match it), a
"reaching" port set starts as every port; each group of one priority takes the ports its
policies' rules match (a policy's first matching rule decides a port), with their actions;
the rest go on to the next group. What the Admin tier accepts or denies is final, what it
passes or leaves goes to NetworkPolicy if a policy isolates the pod (allowed iff a rule
matches), else to the Baseline tier (Accept/Deny final), else to the default (allow).

What no manifest says: two policies of one group matching one port with different
actions (``Semantics.same_priority == "any"``): the implementation picks one; and whether
a ``nodes`` peer matches a hostNetwork pod (its address is its node's, and which nodes a
selector picks no manifest says; ``domainNames`` match external hosts only, never a
row). Each direction keeps three port sets: ``possible`` (allowed under some resolution),
``sure`` (under every one) and ``default`` (under the evaluator's default resolution:
same-priority policies by name, no ``nodes`` peer matching; the reasons and witnesses
replay it). A ``nodes`` peer is one fact wherever it is written (tiers.Resolution), so the
walk is repeated for each assignment of the ``nodes`` peers a direction meets; only a
direction whose other end is a hostNetwork pod meets any, and of a packet's two
directions at most one is such (a hostNetwork pod's own direction is no policy's).

A cell is then ``may`` = possible for some pair of pods, ``always`` = sure for every pair,
and ``unknown`` = ports possible but not sure for some pair (npverify/matrix/cells.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from ipaddress import ip_network
from typing import TYPE_CHECKING, Optional

from npverify import tiers
from npverify.errors import UnsupportedError
from npverify.matrix.cells import ALL, EMPTY, Cell, PortSet
from npverify.matrix.variants import _address, _bits, _Class, _Mentions, _Profile, pairs_of
from npverify.model import Action, ClusterPeer, ClusterPolicy, ClusterRule, Direction, LabelSelector, Node, Peer, Protocol, Rule, Tier

#: Entries above which the direction cache keyed by the ends starts over (as the algebra's).
CACHE_ENTRIES = 1_000_000

#: More distinct ``nodes`` peers than this in one direction towards a hostNetwork pod: the
#: walk would be repeated 2**n times; npverify says it cannot answer rather than guess.
MAX_NODES_PEERS = 10

if TYPE_CHECKING:
    from npverify.matrix.algebra import _Algebra


def mention_cluster_policies(mentions: _Mentions, policies: tuple[ClusterPolicy, ...], nodes: tuple[Node, ...] = ()) -> None:
    """Add what cluster-scoped policies read to ``mentions``: label keys and values of their
    subjects and pod peers, their namespace selectors, ``networks`` and port names, and the
    addresses of the loaded ``nodes`` when a ``nodes`` peer reads them. Classes, IP atoms and
    namespace label assignments then tell apart what these policies do."""
    if any(peer.nodes is not None for policy in policies for r in policy.ingress + policy.egress for peer in r.peers):
        for node in nodes:
            for address in node.addresses:
                mentions.networks[ip_network(address)] = None
    for policy in policies:
        pod_sets = [policy.subject] + [peer.pods for r in policy.ingress + policy.egress for peer in r.peers if peer.pods]
        for pods in pod_sets:
            mentions._selector(mentions.pod, pods.pod_selector)
            mentions._selector(mentions.namespace, pods.namespace_selector)
            mentions.namespace_selectors[pods.namespace_selector] = None
        for rule in policy.ingress + policy.egress:
            mentions.port_names.update(p.named for p in rule.ports if p.named is not None)
            for peer in rule.peers:
                for net in peer.networks:
                    mentions.networks[net] = None


class _Outcome:
    """What one direction allows between one kind of own pod and one kind of pod at the other end."""

    __slots__ = ("possible", "sure", "default", "decided", "facts")

    def __init__(self, possible: PortSet, sure: PortSet, default: PortSet, decided: tuple, facts: tuple) -> None:
        #: Allowed under some resolution of what no manifest says; under every one; under
        #: the evaluator's default resolution (same-priority policies by name).
        self.possible = possible
        self.sure = sure
        self.default = default
        #: Under the default resolution, who decided which ports: (tier, RuleRef or None
        #: for NetworkPolicy, action or None for NetworkPolicy, ports). An Admin Pass rule is
        #: listed for the ports it passed on.
        self.decided = decided
        #: (ports, fact): same-priority groups whose pick changes the verdict on these ports.
        self.facts = facts


_OPPOSITE = {Direction.EGRESS: Direction.INGRESS, Direction.INGRESS: Direction.EGRESS}

#: A direction no policy can touch (a hostNetwork pod's own direction): every port, surely.
_UNMANAGED = _Outcome(ALL, ALL, ALL, (), ())


class _TierWalk:
    """One tier walked for one direction and one kind of packet ends (see the module doc)."""

    __slots__ = ("accept", "deny", "cont", "d_accept", "d_cont", "decided", "ambiguous")

    def __init__(self, accept, deny, cont, d_accept, d_cont, decided, ambiguous) -> None:
        self.accept, self.deny, self.cont = accept, deny, cont  # possible outcomes
        self.d_accept, self.d_cont = d_accept, d_cont  # the default resolution's
        self.decided = decided
        self.ambiguous = ambiguous


#: The subject-matching policies of one tier for one direction: per priority group (lower
#: first), (policy, ((rule index, rule, effective action), ...)) by name.
Groups = tuple[tuple[int, tuple[tuple[ClusterPolicy, tuple[tuple[int, ClusterRule, Action], ...]], ...]], ...]

#: One direction towards the pods of one class: its distinct outcomes, per variant of the
#: other end the index of its outcome, and per outcome the mask of those variants.
DirectionResult = tuple[tuple[_Outcome, ...], tuple[int, ...], tuple[int, ...]]


class _View:
    """What the tiers' rules see of the pods at the other end of one direction, for one
    own end's groups: the parts of the other end's variants that no rule's peers tell
    apart, each with its signature (a bit per rule whose peers match it) and whether its
    address is a loaded Node's (where no nodes peer is unknown). Independent of
    NetworkPolicy, so that one view serves every pair whose own end has those groups."""

    __slots__ = ("direction", "admin", "baseline", "rules", "dst", "parts", "variants", "walk_key")

    def __init__(self, direction, admin, baseline, rules, dst, host_network, parts, variants, key) -> None:
        self.direction, self.admin, self.baseline, self.rules, self.dst = direction, admin, baseline, rules, dst
        self.parts = parts
        self.variants = variants
        #: What an outcome depends on besides the signature and NetworkPolicy: the groups,
        #: the destination's named ports (when some rule names one) and the nodes peers.
        self.walk_key = (direction, id(admin), id(baseline), key[-1], host_network)


class _Tiers:
    """The tiered side of one matrix computation: directions and cells with cluster-scoped
    policies, over the classes and variants of ``algebra``."""

    def __init__(self, algebra: _Algebra) -> None:
        self.a = algebra
        self.by_name = algebra.semantics.same_priority == "name"
        self.nodes_declared = algebra.universe.nodes == "declared"
        self._node_masks: dict[int, int] = {}
        self._groups: dict[tuple, Groups] = {}
        self._masks: dict[tuple, int] = {}
        self._ports: dict[tuple, PortSet] = {}
        self._directions: dict[tuple, DirectionResult] = {}
        self._own: dict[tuple, tuple[Groups, Groups]] = {}
        self._both: dict[tuple, tuple[Groups, Groups]] = {}
        self._by_ends: dict[tuple, DirectionResult] = {}
        self._group_values: dict[tuple, Groups] = {}
        self._named_ports: dict[tuple, int] = {}
        self._resolutions: dict[tuple, int] = {}
        self._views: dict[tuple, _View] = {}
        self._rule_sets: dict[tuple, tuple] = {}
        #: Outcomes and direction results, one object per value, kept for the whole run.
        self._outcomes: dict[tuple, _Outcome] = {}
        self._results: dict[tuple, DirectionResult] = {}
        self._walks: dict[tuple, tuple[_TierWalk, _TierWalk]] = {}
        self._alpha_masks: dict[int, tuple[tuple[int, int], ...]] = {}
        self._composed: dict[tuple, _Outcome] = {}
        self._pairs: dict[tuple, tuple[Cell, tuple[str, ...]]] = {}
        self._cells: dict[tuple[int, int, int], Cell] = {}
        #: Per unit (source class, destination class, a pod to itself) with unknown ports:
        #: the facts they depend on, in words.
        self.facts: dict[tuple[int, int, bool], tuple[str, ...]] = {}
        #: Per class, a small integer naming its labels and its namespace's labels as the
        #: cluster-scoped policies' selectors see them (the algebra's label_id and ns_view
        #: tell apart what NetworkPolicies' selectors read too: nearly every class).
        #: An undeclared namespace is a look of its own (its variants are its label
        #: assignments, which every selector reads).
        tier_mentions = _Mentions(())
        mention_cluster_policies(tier_mentions, algebra.cluster.cluster_policies, algebra.cluster.nodes)
        looks: dict[tuple, int] = {}
        self._look: list[int] = []
        for c in algebra.classes:
            ns = algebra.declared.get(c.namespace)
            ns_key = ("declared", tier_mentions.namespace_label_key(ns.labels)) if ns is not None else ("undeclared", c.namespace)
            self._look.append(looks.setdefault((tier_mentions.label_key(c.labels), ns_key), len(looks)))
        #: For the candidates: per direction, class -> its Admin Accept bounds (``_bound``).
        self._bounds: Optional[dict[Direction, dict[int, list]]] = None
        self._np_bounds: dict[tuple, list] = {}
        self._peer_classes: dict[tuple, frozenset[int]] = {}
        self._any: dict[tuple, PortSet] = {}
        self._profiles: Optional[dict[int, list[_Class]]] = None
        self._look_groups: Optional[list[list[_Class]]] = None

    def forget_identities(self) -> None:
        """Drop the caches keyed by object identity (see _Algebra.forget_identities)."""
        caches = (
            self._directions, self._cells, self._masks, self._rule_sets, self._outcomes, self._results, self._pairs,
            self._walks, self._composed, self._alpha_masks, self._np_bounds, self._views, self._own, self._group_values,
            self._both, self._by_ends, self._named_ports, self._resolutions, self._groups, self._node_masks,
        )
        for cache in caches:
            cache.clear()

    # --- rules against classes ----------------------------------------------------------------

    def groups(self, own: _Class, assignment: int, tier: Tier, direction: Direction) -> Groups:
        """The policies of ``tier`` whose subject holds ``own``'s pods (in namespace label
        assignment ``assignment``), with their rules for ``direction``."""
        a = self.a
        # Classes alike to the cluster-scoped policies' selectors (see _look), with the
        # assignment for an undeclared namespace, have the same groups.
        key = (tier is Tier.ADMIN, direction is Direction.EGRESS, self._look[own.index], assignment)
        hit = self._groups.get(key)
        if hit is not None:
            return hit
        namespace_labels = a._namespace_labels(own.namespace)[assignment]
        out = []
        for priority, policies in a.cluster.tier_groups(tier):
            chosen = tuple(
                (p, tuple((i, r, tiers.effective_action(r)) for i, r in enumerate(p.rules(direction))))
                for p in policies
                if p.rules(direction)
                and a._selects(p.subject.namespace_selector, namespace_labels)
                and a._selects(p.subject.pod_selector, own.labels)
            )
            if chosen:
                out.append((priority, chosen))
        # Equal groups are one object (most pods' labels pick the same policies), so that
        # what is cached by the groups' identity is shared.
        value = tuple((priority, tuple(id(p) for p, _ in chosen)) for priority, chosen in out)
        hit = self._groups[key] = self._group_values.setdefault((tier, direction, value), tuple(out))
        return hit

    def peer_mask(self, rule: ClusterRule, other: _Class) -> int:
        """The variants of ``other``'s pods that some peer of ``rule`` matches (as
        tiers.peer_decidable_match: pods peers never match hostNetwork pods; ``networks``
        match any IP; ``domainNames`` never match a pod; ``nodes`` match a hostNetwork pod at a
        loaded Node's address by its labels, elsewhere as tiers.nodes_peer_match says when it
        says: the rest is unknown, see ``_rules_of``)."""
        profile = other.profile
        # Rules are kept by the cluster: their identities are cheaper keys than their
        # values (equal rules of different policies compare field by field).
        key = (id(rule), self._look[other.index], id(profile))
        hit = self._masks.get(key)
        if hit is not None:
            return hit
        a = self.a
        mask = 0
        for peer in rule.peers:
            if peer.pods is not None:
                if other.host_network or not a._selects(peer.pods.pod_selector, other.labels):
                    continue
                labels = a._namespace_labels(other.namespace)
                for index, v in enumerate(profile.variants):
                    if a._selects(peer.pods.namespace_selector, labels[v.assignment]):
                        mask |= 1 << index
            elif peer.networks:
                for index, v in enumerate(profile.variants):
                    # Atoms lie wholly inside or outside every mentioned network: test the low end.
                    ip = _address(v.family, v.low)
                    if any(n.version == v.family and ip in n for n in peer.networks):
                        mask |= 1 << index
            elif peer.nodes is not None and other.host_network:
                for index, v in enumerate(profile.variants):
                    node = a.cluster.node_at(_address(v.family, v.low)) if v.single is not None else None
                    if node is not None:
                        decided = peer.nodes.matches(node.labels)
                    else:
                        decided = self.nodes_declared and tiers.selects_all_or_none(peer.nodes, a.cluster) is True
                    if decided:
                        mask |= 1 << index
        self._masks[key] = mask
        return mask

    def node_mask(self, other: _Class) -> int:
        """The variants of a hostNetwork class whose address is a loaded Node's: there every
        ``nodes`` peer is decided (``peer_mask``), elsewhere some may be unknown."""
        profile = other.profile
        hit = self._node_masks.get(id(profile))
        if hit is None:
            cluster = self.a.cluster
            hit = sum(
                1 << index
                for index, v in enumerate(profile.variants)
                if v.single is not None and cluster.node_at(_address(v.family, v.low)) is not None
            )
            self._node_masks[id(profile)] = hit
        return hit

    def rule_ports(self, rule: ClusterRule, dst: _Class) -> PortSet:
        """The ports ``rule``'s ``ports``/``protocols`` match on packets to ``dst``'s pods
        (tiers.port_matches: a named port is the number of the container port of that
        name, for the protocol the container port declares)."""
        if not rule.ports:
            return ALL
        key = (rule.ports, dst.port_id)
        hit = self._ports.get(key)
        if hit is not None:
            return hit
        out = EMPTY
        for entry in rule.ports:
            if entry.named is not None:
                for name, number, protocol in dst.portkey:
                    if name == entry.named:
                        out = out | PortSet.of(Protocol(protocol), number, number)
            elif entry.protocol is None:
                continue  # matches no packet: tiers.port_matches compares the protocol
            elif entry.start is None:
                out = out | PortSet.of(entry.protocol)
            else:
                low, high = max(entry.start, 1), min(entry.end if entry.end is not None else entry.start, 65535)
                if low <= high:
                    out = out | PortSet.of(entry.protocol, low, high)
        hit = self._ports[key] = self.a.intern(out)
        return hit

    # --- one direction --------------------------------------------------------------------------

    def _walk(self, tier: Tier, groups: Groups, direction: Direction, matched: Callable[[ClusterRule], PortSet]) -> _TierWalk:
        """``first_match`` over port sets: ``matched(rule)`` is what the rule matches."""
        reach = ALL
        by_action = {Action.ACCEPT: EMPTY, Action.DENY: EMPTY, Action.PASS: EMPTY}
        default = {Action.ACCEPT: EMPTY, Action.DENY: EMPTY, Action.PASS: EMPTY}
        decided = []
        ambiguous = []
        for priority, policies in groups:
            if reach.is_empty:
                break
            here = {Action.ACCEPT: EMPTY, Action.DENY: EMPTY, Action.PASS: EMPTY}
            claimed = EMPTY  # the group's hits so far: by name, the first hit decides
            hitters = []
            for policy, rules in policies:
                covered = EMPTY  # within a policy, the first matching rule decides
                for index, rule, action in rules:
                    new = (matched(rule) - covered) & reach
                    if new.is_empty:
                        continue
                    covered = covered | new
                    here[action] = here[action] | new
                    mine = new - claimed
                    if not mine.is_empty:
                        decided.append((tier.value, tiers.RuleRef(policy, direction, index), action, mine))
                        default[action] = default[action] | mine
                if not covered.is_empty:
                    hitters.append((policy, covered))
                    claimed = claimed | covered
            clash = (
                (here[Action.ACCEPT] & here[Action.DENY])
                | (here[Action.ACCEPT] & here[Action.PASS])
                | (here[Action.DENY] & here[Action.PASS])
            )
            if not clash.is_empty and not self.by_name:
                names = ", ".join(p.key for p, hit in hitters if not (hit & clash).is_empty)
                ambiguous.append((clash, f"which of {names} (tier {tier.value}, priority {priority}) applies first"))
            for action in by_action:
                by_action[action] = by_action[action] | here[action]
            reach = reach - claimed
        if self.by_name:
            by_action = default
        # Interned, so that _compose can use the algebra's memoized operations.
        intern = self.a.intern
        return _TierWalk(
            intern(by_action[Action.ACCEPT]),
            intern(by_action[Action.DENY]),
            intern(by_action[Action.PASS] | reach),
            intern(default[Action.ACCEPT]),
            intern(default[Action.PASS] | reach),
            tuple(decided),
            tuple(ambiguous),
        )

    def _compose(self, admin: _TierWalk, baseline: _TierWalk, isolated: bool, np_allowed: PortSet) -> _Outcome:
        """Admin, then NetworkPolicy (if it isolates the pod), then Baseline, then allow."""
        union, meet, minus = self.a.union, self.a.meet, self.a.minus
        if isolated:
            later_may, later_deny, later_default = np_allowed, minus(ALL, np_allowed), np_allowed
        else:
            later_may = union(baseline.accept, baseline.cont)
            later_deny = baseline.deny
            later_default = union(baseline.d_accept, baseline.d_cont)
        possible = union(admin.accept, meet(admin.cont, later_may))
        sure = minus(ALL, union(admin.deny, meet(admin.cont, later_deny)))
        default = union(admin.d_accept, meet(admin.d_cont, later_default))
        decided = list(admin.decided)
        if isolated:
            if not admin.d_cont.is_empty:
                decided.append((tiers.NETWORK_POLICY_TIER, None, None, admin.d_cont))
        else:
            for tier, ref, action, ports in baseline.decided:
                reached = ports & admin.d_cont
                if not reached.is_empty:
                    decided.append((tier, ref, action, reached))
        open_ = minus(possible, sure)
        facts = []
        if not open_.is_empty:
            facts += [(ports & open_, text) for ports, text in admin.ambiguous if not (ports & open_).is_empty]
            if not isolated:
                reached = admin.cont & open_
                facts += [(ports & reached, text) for ports, text in baseline.ambiguous if not (ports & reached).is_empty]
        return _Outcome(possible, sure, default, tuple(decided), tuple(facts))

    def _rules_of(self, admin: Groups, baseline: Groups, host_network: bool) -> tuple[dict[ClusterRule, int], tuple[ClusterPeer, ...], dict[ClusterRule, int], bool]:
        """The rules of two tiers' groups, numbered; towards a hostNetwork pod, the distinct
        ``nodes`` peers among them (one fact each, wherever written) and per rule the bits of
        those it holds; and whether some rule names a container port."""
        key = (id(admin), id(baseline), host_network)
        hit = self._rule_sets.get(key)
        if hit is not None:
            return hit
        rules: dict[ClusterRule, int] = {}
        for groups in (admin, baseline):
            for _, policies in groups:
                for _, policy_rules in policies:
                    for _, rule, _ in policy_rules:
                        rules.setdefault(rule, len(rules))
        nodes_peers: dict[ClusterPeer, int] = {}
        unknown: dict[ClusterRule, int] = {}
        if host_network:
            # A nodes peer may match a hostNetwork pod whose address is no loaded Node's:
            # unknown, unless every node is declared and the selector picks all or none.
            for rule in rules:
                if rule.fails_closed:
                    continue  # its peers are not consulted (tiers.rule_matches)
                for peer in rule.peers:
                    if peer.nodes is not None and (
                        not self.nodes_declared or tiers.selects_all_or_none(peer.nodes, self.a.cluster) is None
                    ):
                        unknown[rule] = unknown.get(rule, 0) | 1 << nodes_peers.setdefault(peer, len(nodes_peers))
            if len(nodes_peers) > MAX_NODES_PEERS:
                raise UnsupportedError(
                    f"the connectivity matrix: {len(nodes_peers)} distinct nodes peers meet hostNetwork pods in one "
                    f"direction (more than {MAX_NODES_PEERS}), too many ways for them to match"
                )
        # Only named ports make a rule's ports depend on the destination's container ports.
        named = any(entry.named is not None for rule in rules for entry in rule.ports)
        hit = self._rule_sets[key] = (rules, tuple(nodes_peers), unknown, named)
        return hit

    def direction(self, own: _Class, assignment: int, other: _Class, direction: Direction) -> DirectionResult:
        """``own``'s ``direction`` (its egress to ``other``'s pods, or its ingress from them),
        for its pods in namespace label assignment ``assignment``: distinct outcomes, and
        per variant of ``other`` the index of its outcome. Equal results are one object."""
        if own.host_network:
            return self._interned_result((_UNMANAGED,), (0,) * len(other.profile.variants))
        # Enum members hash in Python: keys on the hot path hold a bool instead.
        egress = direction is Direction.EGRESS
        own_key = (own.index, assignment, egress)
        both = self._own.get(own_key)
        if both is None:
            admin = self.groups(own, assignment, Tier.ADMIN, direction)
            baseline = self.groups(own, assignment, Tier.BASELINE, direction)
            both = self._own[own_key] = self._both.setdefault((egress, id(admin), id(baseline)), (admin, baseline))
        prog, dst = (own.out_prog, other) if egress else (own.in_prog, own)
        # The groups (one object per direction and value), the own end's NetworkPolicy
        # program, what the other end's pods look like to the rules and to NetworkPolicy's
        # peers (labels, namespace, namespace labels, variants) and the destination's ports:
        # the direction depends on nothing else (the program and these are the key of
        # NetworkPolicy's result, _Algebra.egress and ingress). Groups, programs and
        # profiles are kept for the whole run, so their identities name them.
        key = (id(both), id(prog), other.label_id, other.namespace == own.namespace, other.ns_view, id(other.profile), dst.port_id)
        hit = self._by_ends.get(key)
        if hit is None:
            a = self.a
            np = None if prog is None else a.egress(own, other) if egress else a.ingress(own, other)
            view = self._view(direction, both, other, dst)
            # Views are fewer: they leave out NetworkPolicy and the ports no rule names.
            vkey = (id(view), id(np))
            hit = self._directions.get(vkey)
            if hit is None:
                hit = self._directions[vkey] = self._direction(view, np)
            if len(self._by_ends) > CACHE_ENTRIES:
                # Pairs come source by source: few entries are met again (see
                # _Algebra.pair_cells); results stay interned, so identities stay valid.
                self._by_ends.clear()
            self._by_ends[key] = hit
        return hit

    def _view(self, direction: Direction, both: tuple[Groups, Groups], other: _Class, dst: _Class) -> _View:
        """What the tiers' rules see of ``other``'s variants for one own end's groups (see _View)."""
        admin, baseline = both
        rules = self._rules_of(admin, baseline, other.host_network)
        key = (direction, id(admin), id(baseline), self._look[other.index], id(other.profile), self._named_key(rules, dst))
        hit = self._views.get(key)
        if hit is None:
            masks = [self.peer_mask(rule, other) for rule in rules[0]]
            # At a loaded Node's address no nodes peer is unknown: such variants part from the rest.
            at_nodes = self.node_mask(other) if rules[1] else 0
            # The variants no rule's peers tell apart get one walk: split the variants by
            # every mask, then give each part the rules whose peers match it.
            parts = [other.profile.full] if other.profile.variants else []
            for mask in masks + ([at_nodes] if at_nodes else []):
                split = []
                for part in parts:
                    inside, outside = part & mask, part & ~mask
                    split += [x for x in (inside, outside) if x]
                parts = split
            signed = []
            for part in parts:
                bit = part & -part
                signed.append((part, sum(1 << k for k, mask in enumerate(masks) if mask & bit), bool(part & at_nodes)))
            hit = self._views[key] = _View(
                direction, admin, baseline, rules, dst, other.host_network, tuple(signed), len(other.profile.variants), key
            )
        return hit

    def _named_key(self, rules: tuple, dst: _Class) -> int:
        """A small integer naming what the named ports of ``rules`` resolve to on ``dst``'s
        pods (-1: no rule names a port, so no rule's ports depend on the destination):
        destinations with other container ports but the same resolution share walks."""
        if not rules[3]:
            return -1
        key = (id(rules), dst.port_id)
        hit = self._named_ports.get(key)
        if hit is None:
            value = (id(rules),) + tuple(
                id(self.rule_ports(rule, dst)) for rule in rules[0] if any(e.named is not None for e in rule.ports)
            )
            hit = self._named_ports[key] = self._resolutions.setdefault(value, len(self._resolutions))
        return hit

    def _direction(self, view: _View, np: Optional[tuple]) -> DirectionResult:
        """The direction of ``view`` where NetworkPolicy allows ``np`` (None: no policy isolates the pod)."""
        a = self.a
        isolated = np is not None
        parts = view.parts
        if np is not None and np[1]:
            # NetworkPolicy's peers tell variants apart too: split the parts by their masks.
            for mask, _ in np[1]:
                split = []
                for part, signature, at_node in parts:
                    inside, outside = part & mask, part & ~mask
                    split += [(x, signature, at_node) for x in (inside, outside) if x]
                parts = split
        rules, nodes_peers, unknown, named = view.rules
        outcomes: list[_Outcome] = []
        seen: dict[int, int] = {}
        index = [0] * view.variants
        for part, signature, at_node in parts:
            np_allowed = (a.union(np[0], a._over(np[1], part & -part)) if np[1] else np[0]) if np is not None else EMPTY
            # The outcome depends on the groups, which rules' peers match, what NetworkPolicy
            # allows (if it isolates), the destination's named ports and the nodes peers.
            okey = (view.walk_key, signature, id(np_allowed), isolated, at_node)
            outcome = self._outcomes.get(okey)
            if outcome is None:
                open_peers, open_rules = ((), {}) if at_node else (nodes_peers, unknown)
                outcome = self._outcomes[okey] = self._outcome(
                    view.admin, view.baseline, view.direction, view.dst, signature, rules, isolated, np_allowed, open_peers, open_rules,
                    view.walk_key[3],
                )
            at = seen.get(id(outcome))
            if at is None:
                at = seen[id(outcome)] = len(outcomes)
                outcomes.append(outcome)
            for v in _bits(part):
                index[v] = at
        return self._interned_result(tuple(outcomes), tuple(index))

    def _interned_result(self, outcomes: tuple[_Outcome, ...], index: tuple[int, ...]) -> DirectionResult:
        """One object per direction result (outcomes are one object per value already), so
        that cells can be memoized by the identities of their directions: the outcomes, the
        index of each variant's, and the variants of each (masks)."""
        key = (tuple(id(o) for o in outcomes), index)
        hit = self._results.get(key)
        if hit is None:
            masks = [0] * len(outcomes)
            for v, at in enumerate(index):
                masks[at] |= 1 << v
            hit = self._results[key] = (outcomes, index, tuple(masks))
        return hit

    def _outcome(self, admin, baseline, direction, dst, signature, rules, isolated, np_allowed, nodes_peers, unknown, named) -> _Outcome:
        """The outcome for one kind of other end: ``signature`` has a bit per rule whose
        peers match it; ``unknown`` per rule the ``nodes_peers`` (bits) that may; ``named``:
        what the rules' named ports resolve to on the destination's pods (_named_key)."""

        def walked(matching: int) -> _Outcome:
            """The outcome when the nodes peers in ``matching`` (bits) match."""
            # The two tiers' walks do not depend on NetworkPolicy: many outcomes share them.
            wkey = (direction, id(admin), id(baseline), signature, named, matching)
            walks = self._walks.get(wkey)
            if walks is None:

                def matched(rule: ClusterRule) -> PortSet:
                    if rule.fails_closed:
                        # tiers.rule_matches: an Accept rule then matches nothing, Deny or Pass all.
                        return EMPTY if rule.action is Action.ACCEPT else ALL
                    if not signature >> rules[rule] & 1 and not unknown.get(rule, 0) & matching:
                        return EMPTY
                    return self.rule_ports(rule, dst)

                walks = self._walks[wkey] = (
                    self._walk(Tier.ADMIN, admin, direction, matched),
                    self._walk(Tier.BASELINE, baseline, direction, matched),
                )
            ckey = (id(walks), isolated, id(np_allowed))
            outcome = self._composed.get(ckey)
            if outcome is None:
                outcome = self._composed[ckey] = self._compose(walks[0], walks[1], isolated, np_allowed)
            return outcome

        if not nodes_peers:
            return walked(0)
        each = [walked(matching) for matching in range(1 << len(nodes_peers))]
        possible, sure = EMPTY, ALL
        facts: dict[str, PortSet] = {}
        for matching, outcome in enumerate(each):
            possible, sure = possible | outcome.possible, sure & outcome.sure
            for ports, text in outcome.facts:
                facts[text] = facts.get(text, EMPTY) | ports
            for k, peer in enumerate(nodes_peers):
                if matching >> k & 1:
                    continue
                flipped = each[matching | 1 << k]
                changed = _differ(outcome.possible, flipped.possible) | _differ(outcome.sure, flipped.sure)
                if not changed.is_empty:
                    text = _nodes_peer_text(peer)
                    facts[text] = facts.get(text, EMPTY) | changed
        intern = self.a.intern
        # The evaluator's default resolution: no nodes peer matches.
        default = each[0]
        return _Outcome(
            intern(possible), intern(sure), default.default, default.decided, tuple((ports, text) for text, ports in facts.items())
        )

    def outcomes_at(self, src: _Class, dst: _Class, u: int, v: int) -> tuple[_Outcome, _Outcome]:
        """The egress and ingress outcomes of a packet from a pod of ``src`` in variant ``u``
        to a pod of ``dst`` in variant ``v``."""
        e_outcomes, e_index, _ = self.direction(src, src.profile.variants[u].assignment, dst, Direction.EGRESS)
        i_outcomes, i_index, _ = self.direction(dst, dst.profile.variants[v].assignment, src, Direction.INGRESS)
        return e_outcomes[e_index[v]], i_outcomes[i_index[u]]

    # --- cells ------------------------------------------------------------------------------------

    def _cell(self, acc: _Accumulator) -> Cell:
        a = self.a
        may, always, unknown = a.intern(acc.may), a.intern(acc.always if acc.always is not None else EMPTY), a.intern(acc.unknown)
        key = (id(may), id(always), id(unknown))
        hit = self._cells.get(key)
        if hit is None:
            hit = self._cells[key] = Cell(may, always, unknown)
        return hit

    def _sides(self, src: _Class, dst: _Class) -> tuple[tuple, tuple]:
        """The source's egress results towards ``dst`` and the destination's ingress results
        from ``src``, per namespace label assignment of the end whose direction it is."""
        egress = tuple(self.direction(src, alpha, dst, Direction.EGRESS) for alpha in self._assignments(src))
        ingress = tuple(self.direction(dst, alpha, src, Direction.INGRESS) for alpha in self._assignments(dst))
        return egress, ingress

    def block_pairs(self, src: _Class, dst: _Class, sides: Optional[tuple[tuple, tuple]] = None) -> Iterator[tuple[int, int, _Outcome, _Outcome]]:
        """The pairs of variants of two distinct pods that occur together, in blocks with one
        egress and one ingress outcome: (source variants, destination variants (masks),
        egress, ingress)."""
        a = self.a
        sp, dp = src.profile, dst.profile
        distinct_ips = not (sp.host_network and dp.host_network)
        egress, ingress = sides if sides is not None else self._sides(src, dst)
        s_alphas, d_alphas = self._assignment_masks(sp), self._assignment_masks(dp)
        for s_mask, d_mask, _ in a._keys(src, dst):
            # A destination variant's egress outcome depends on the source's assignment,
            # and a source variant's ingress outcome on the destination's.
            for s_alpha, s_alpha_mask in s_alphas:
                s_part = s_mask & s_alpha_mask
                if not s_part:
                    continue
                e_outcomes, _, e_masks = egress[s_alpha]
                for d_alpha, d_alpha_mask in d_alphas:
                    d_part = d_mask & d_alpha_mask
                    if not d_part:
                        continue
                    i_outcomes, _, i_masks = ingress[d_alpha]
                    for e, e_mask in zip(e_outcomes, e_masks):
                        bv = e_mask & d_part
                        if not bv:
                            continue
                        for i, i_mask in zip(i_outcomes, i_masks):
                            bu = i_mask & s_part
                            if bu and (not distinct_ips or _apart(sp, bu, dp, bv)):
                                yield bu, bv, e, i

    def _assignment_masks(self, profile: _Profile) -> tuple[tuple[int, int], ...]:
        """Per namespace label assignment, the mask of the profile's variants with it."""
        hit = self._alpha_masks.get(id(profile))
        if hit is None:
            masks: dict[int, int] = {}
            for index, v in enumerate(profile.variants):
                masks[v.assignment] = masks.get(v.assignment, 0) | 1 << index
            hit = self._alpha_masks[id(profile)] = tuple(sorted(masks.items()))
        return hit

    def pair(self, src: _Class, dst: _Class) -> Optional[Cell]:
        """The cell between two distinct pods of ``src`` and ``dst`` (None: no such pair)."""
        a = self.a
        keys = a._keys(src, dst)
        if not keys:
            return None
        # The cell depends on the variant pairs (keys) and the two ends' direction results
        # (one object per value, kept for the run): pairs that share them share the cell.
        if src.namespace in a.declared and dst.namespace in a.declared:  # one assignment each
            e, i = self.direction(src, 0, dst, Direction.EGRESS), self.direction(dst, 0, src, Direction.INGRESS)
            sides = ((e,), (i,))
            memo_key: tuple = (id(keys), id(e), id(i))
        else:
            sides = self._sides(src, dst)
            memo_key = (id(keys), tuple(map(id, sides[0])), tuple(map(id, sides[1])))
        hit = self._pairs.get(memo_key)
        if hit is None:
            acc = _Accumulator(self.a)
            for _, _, e, i in self.block_pairs(src, dst, sides):
                acc.add(e, i)
            hit = self._pairs[memo_key] = (self._cell(acc), tuple(acc.facts))
        cell, facts = hit
        if facts:
            self.facts[(src.index, dst.index, False)] = facts
        return cell

    def _assignments(self, cls: _Class) -> range:
        """The namespace label assignments of ``cls``'s variants (0 only when declared)."""
        return range(len(self.a._namespace_labels(cls.namespace)))

    def self_cell(self, cls: _Class) -> Optional[Cell]:
        """The cell of a pod of ``cls`` sending to itself (None: no such pod)."""
        variants = len(cls.profile.variants)
        if not variants:
            return None
        if self.a.semantics.self_traffic_allowed:
            return self.a.cell(ALL, ALL)
        acc = _Accumulator(self.a)
        for v in range(variants):
            acc.add(*self.outcomes_at(cls, cls, v, v))
        if acc.facts:
            self.facts[(cls.index, cls.index, True)] = tuple(acc.facts)
        return self._cell(acc)

    def candidates(self) -> Iterator[tuple[int, int]]:
        """Class pairs (source, destination) whose cell may be non-empty.

        A direction allows at most what the Admin tier's Accept rules match, plus what
        NetworkPolicy allows where it isolates the pod (the Admin tier may pass to it) or
        every port where it does not (the Baseline tier and the default decide). So a
        non-empty cell needs the two directions' bounds to meet: both NetworkPolicy
        bounds, which the NetworkPolicy candidates cover (a direction no policy isolates
        is "wide" there), or an Admin Accept rule of one direction and the other
        direction's bound (``_bound``: its NetworkPolicy rules' peers, or every class
        where no policy isolates it, and the Admin Accept rules whose subject may hold
        its pod), on some common port. An Accept rule meets the other end's bound class
        set by class set: looking at every pair an Accept rule names would cost as much
        as every pair of classes (a ``networks`` peer matches every pod of unknown IP)."""
        a = self.a
        classes = a.classes
        meets = a._meets()
        # An egress Accept rule gives a destination many sources: gathered per source.
        destinations: dict[int, set[int]] = {}
        accepts = self._accepts()
        self._bounds = self._admin_bounds(accepts)
        for direction in (Direction.EGRESS, Direction.INGRESS):
            for rule, subjects, others in accepts[direction]:
                for o in others:
                    other = classes[o]
                    # Egress: ``other`` is the destination, whose ports the rule names; ingress:
                    # the destination is a subject, any of them.
                    ports = self.rule_ports(rule, other) if direction is Direction.EGRESS else self._any_ports(rule)
                    for members, allowed in self._bound(other, _OPPOSITE[direction]):
                        if a.meet(allowed, ports) is EMPTY:
                            continue
                        ends = subjects if members is None else subjects & members
                        if direction is Direction.EGRESS:
                            for s in ends:
                                destinations.setdefault(s, set()).add(o)
                        elif ends:
                            meets.setdefault(o, []).append(ends)
                        if members is None:
                            break
        for s, ds in destinations.items():
            meets.setdefault(s, []).append(ds)
        return pairs_of(meets)

    def _accepts(self) -> dict[Direction, list[tuple[ClusterRule, frozenset[int], frozenset[int]]]]:
        """Per direction, the Admin Accept rules that can accept something: (rule, the
        classes its subject may hold, the classes its peers may match)."""
        a = self.a
        out: dict[Direction, list[tuple[ClusterRule, frozenset[int], frozenset[int]]]] = {Direction.EGRESS: [], Direction.INGRESS: []}
        for policy in a.cluster.cluster_policies:
            if policy.tier is not Tier.ADMIN:
                continue
            subjects: Optional[frozenset[int]] = None
            for direction in (Direction.EGRESS, Direction.INGRESS):
                for rule in policy.rules(direction):
                    if rule.fails_closed or rule.action is not Action.ACCEPT:
                        continue  # such a rule accepts nothing (tiers.effective_action)
                    if subjects is None:
                        subjects = frozenset(c.index for look in self._looks() if self._may_hold(policy, look[0]) for c in look)
                    if not subjects:
                        break
                    nodes = any(peer.nodes is not None for peer in rule.peers)
                    others = frozenset(
                        c.index
                        for look in self._looks()
                        if self.peer_mask(rule, look[0]) or (nodes and look[0].host_network)
                        for c in look
                    )
                    if others:
                        out[direction].append((rule, subjects, others))
        return out

    def _bound(self, own: _Class, direction: Direction) -> list[tuple[Optional[frozenset[int]], PortSet]]:
        """What ``own``'s ``direction`` may allow at most, as (classes at the other end,
        None for every class; ports): its NetworkPolicy rules' peers where a policy
        isolates it (every class and port where none does, or for a hostNetwork pod,
        whose own direction is no policy's), and the Admin Accept rules whose subject may
        hold it. Egress ports are those on any destination (named ports resolve there)."""
        assert self._bounds is not None
        return self._np_bound(own, direction) + self._bounds[direction].get(own.index, [])

    def _admin_bounds(self, accepts: dict) -> dict[Direction, dict[int, list[tuple[frozenset[int], PortSet]]]]:
        """Per direction and class, the Admin Accept rules whose subject may hold it: (the
        classes their peers may match, their ports). Ingress ports are on the subject."""
        out: dict[Direction, dict[int, list[tuple[frozenset[int], PortSet]]]] = {}
        for direction, entries in accepts.items():
            table = out[direction] = {}
            for rule, subjects, others in entries:
                for c in subjects:
                    ports = self.rule_ports(rule, self.a.classes[c]) if direction is Direction.INGRESS else self._any_ports(rule)
                    table.setdefault(c, []).append((others, ports))
        return out

    def _np_bound(self, own: _Class, direction: Direction) -> list[tuple[Optional[frozenset[int]], PortSet]]:
        """The NetworkPolicy part of ``_bound``."""
        a = self.a
        rules = own.in_rules if direction is Direction.INGRESS else own.out_rules
        if own.host_network or rules is None:
            return [(None, ALL)]
        prog = own.in_prog if direction is Direction.INGRESS else own.out_prog
        key = (direction, id(prog), own.port_id if direction is Direction.INGRESS else -1)
        hit = self._np_bounds.get(key)
        if hit is not None:
            return hit
        out: list[tuple[Optional[frozenset[int]], PortSet]] = []
        for namespace, rule in rules:
            ports = a.ports(rule.ports, own) if direction is Direction.INGRESS else a.any_ports(rule.ports)
            if ports is EMPTY:
                continue
            if not rule.peers:
                out.append((None, ports))
                continue
            for peer in rule.peers:
                members = self._np_peer_classes(peer, namespace)
                if members:
                    out.append((members, ports))
        self._np_bounds[key] = out
        return out

    def _np_peer_classes(self, peer: Peer, namespace: str) -> frozenset[int]:
        """The classes some variant of which a NetworkPolicy peer (of a policy in ``namespace``) matches."""
        a = self.a
        # Only a selector peer without namespaceSelector reads the policy's namespace.
        key = (peer, namespace if peer.ip_block is None and peer.namespace_selector is None else None)
        hit = self._peer_classes.get(key)
        if hit is None:
            if peer.ip_block is not None:
                compiled = a._compile([(namespace, Rule(peers=(peer,)))])
                assert compiled is not None
                # An ipBlock sees a pod's addresses alone: classes of one profile are alike.
                hit = frozenset(
                    c.index
                    for members in self._by_profile().values()
                    if a._peers_mask(compiled[0][0], members[0])
                    for c in members
                )
            else:
                hit = frozenset(c.index for members in a._peer_classes(peer, namespace).values() for c in members)
            self._peer_classes[key] = hit
        return hit

    def _looks(self) -> list[list[_Class]]:
        """The classes grouped by how they look to subjects and peers: labels and namespace
        labels as selectors see them, and variants (hostNetwork flag included)."""
        if self._look_groups is None:
            groups: dict[tuple, list[_Class]] = {}
            for c in self.a.classes:
                groups.setdefault((self._look[c.index], id(c.profile)), []).append(c)
            self._look_groups = list(groups.values())
        return self._look_groups

    def _by_profile(self) -> dict[int, list[_Class]]:
        """The classes by profile (the same variants, hostNetwork flag included)."""
        if self._profiles is None:
            self._profiles = {}
            for c in self.a.classes:
                self._profiles.setdefault(id(c.profile), []).append(c)
        return self._profiles

    def _any_ports(self, rule: ClusterRule) -> PortSet:
        """The ports ``rule`` may match on a packet to any pod of the matrix (named ports
        resolve on the destination)."""
        if not rule.ports:
            return ALL
        hit = self._any.get(rule.ports)
        if hit is None:
            seen: set[int] = set()
            hit = EMPTY
            for cls in self.a.classes:
                if cls.port_id not in seen:
                    seen.add(cls.port_id)
                    hit = self.a.union(hit, self.rule_ports(rule, cls))
            self._any[rule.ports] = hit
        return hit

    def _may_hold(self, policy: ClusterPolicy, cls: _Class) -> bool:
        """Whether ``policy``'s subject holds the pods of ``cls`` in some namespace label assignment."""
        a = self.a
        if cls.host_network or not a._selects(policy.subject.pod_selector, cls.labels):
            return False
        return any(a._selects(policy.subject.namespace_selector, labels) for labels in a._namespace_labels(cls.namespace))


class _Accumulator:
    """``may``, ``always`` and ``unknown`` of a cell over the kinds of packets it holds."""

    __slots__ = ("a", "may", "always", "unknown", "facts")

    def __init__(self, algebra: _Algebra) -> None:
        #: Outcomes' port sets are interned: the algebra's memoized operations apply.
        self.a = algebra
        self.may = EMPTY
        self.always: Optional[PortSet] = None
        self.unknown = EMPTY
        self.facts: dict[str, None] = {}

    def add(self, e: _Outcome, i: _Outcome) -> None:
        union, meet, minus = self.a.union, self.a.meet, self.a.minus
        possible, sure = meet(e.possible, i.possible), meet(e.sure, i.sure)
        self.may = union(self.may, possible)
        self.always = sure if self.always is None else meet(self.always, sure)
        open_ = minus(possible, sure)
        if open_ is not EMPTY:
            self.unknown = union(self.unknown, open_)
            for side, other in ((e, i), (i, e)):
                for ports, text in side.facts:
                    if not (ports & other.possible & open_).is_empty:
                        self.facts[text] = None


def _apart(sp: _Profile, us: int, dp: _Profile, vs: int) -> bool:
    """Whether two distinct pods can be of some variants in ``us`` and ``vs`` (masks, each
    of one namespace label assignment): not both on one and the same single address. Two
    variants of one assignment are two places, so with two on a side one is elsewhere."""
    if us & (us - 1) or vs & (vs - 1):
        return True
    su = sp.variants[us.bit_length() - 1].single
    return su is None or dp.variants[vs.bit_length() - 1].single != su


def _differ(a: PortSet, b: PortSet) -> PortSet:
    """The ports in one of ``a`` and ``b`` only."""
    return (a - b) | (b - a)


def _nodes_peer_text(peer: ClusterPeer) -> str:
    selector = peer.nodes or LabelSelector()
    parts = [f"{k}={v}" for k, v in selector.match_labels.items()]
    parts += [f"{r.key} {r.operator.value} ({', '.join(r.values)})" for r in selector.match_expressions]
    return f"whether the node of a hostNetwork pod matches nodes selector {' and '.join(parts) or '{}'}"
