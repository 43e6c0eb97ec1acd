"""The set algebra: each pair of classes' cell, computed exactly over port intervals.

``_Algebra`` holds one computation's indexes and caches over one cluster, universe and
semantics: the classes and their variants, each class's ingress and egress rules compiled
to variant masks and port sets, the cell of a pair of distinct pods and of a pod to itself
(egress of the source intersected with ingress of the destination, united for ``may`` and
intersected for ``always`` over the variant pairs that can occur together), and the class
pairs worth looking at: rules that name their peers by selectors are joined namespace by
namespace, rules that match by IP or match everything ("wide") by port overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Optional

from npverify.matrix.cells import ALL, EMPTY, Cell, PortSet
from npverify.matrix.tiered import _Tiers, mention_cluster_policies
from npverify.matrix.variants import (
    _address,
    _atoms,
    _bits,
    _Class,
    _Mentions,
    _namespace_assignments,
    pairs_of,
    _Profile,
    _Variant,
)
from npverify.model import (
    Cluster,
    Direction,
    IPBlock,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Peer,
    PolicyPort,
    Rule,
    Semantics,
    Universe,
)
from npverify.semantics import selector_matches
from npverify.words import counted


#: A direction no policy isolates: every port to every variant (one object, see _Algebra.pair).
_UNISOLATED: tuple[PortSet, tuple] = (ALL, ())

#: Entries above which the per-direction caches are emptied between source classes.
CACHE_ENTRIES = 1_000_000


def _is_wide(rule: Rule) -> bool:
    """Whether a rule matches by IP or matches every endpoint, rather than naming its peers by selector."""
    return not rule.peers or any(p.ip_block is not None for p in rule.peers)


class _Algebra:
    """One matrix computation: indexes and caches over one cluster, universe and semantics.

    Port sets are interned (one object per value) so that unions and intersections can be
    memoized by object identity: the same few sets recur in almost every cell.
    """

    def __init__(self, cluster: Cluster, universe: Universe, semantics: Semantics, namespaces: Optional[frozenset[str]]):
        self.cluster = cluster
        self.universe = universe
        self.semantics = semantics
        self.mentions = _Mentions(cluster.policies)
        if cluster.tiered:
            mention_cluster_policies(self.mentions, cluster.cluster_policies, cluster.nodes)
        self.declared = {ns.name: ns for ns in cluster.namespaces}
        self.by_key = {w.key: w for w in cluster.workloads}
        self.notes: list[str] = []
        self._interned: dict[PortSet, PortSet] = {EMPTY: EMPTY, ALL: ALL}
        self._memo: dict[tuple[int, int, int], PortSet] = {}
        self._ports_cache: dict[object, PortSet] = {}
        self._selector_cache: dict[tuple, bool] = {}
        self._mask_cache: dict[tuple, int] = {}
        self._partial_cache: dict[tuple, PortSet] = {}
        self._keys_cache: dict[tuple, list] = {}
        self._cells: dict[tuple[int, int], Cell] = {}
        self._entries: dict[tuple[PolicyPort, ...], int] = {}
        self._ids: dict[object, int] = {}
        self._programs: dict[Optional[tuple], Optional[tuple]] = {}
        self._directions: dict[tuple, tuple[PortSet, tuple[tuple[int, PortSet], ...]]] = {}
        self._peer_classes_cache: dict[tuple, dict[str, list[_Class]]] = {}
        #: Direction results, one object per value, so that pairs can be memoized by the
        #: identity of their two directions (``_pair_memo``); kept for the whole run.
        self._results: dict[tuple, tuple] = {}
        self._pair_memo: dict[tuple[int, int, int], Optional[Cell]] = {}
        self._ns_views: dict[str, int] = {}
        #: The witnesses' small clusters (npverify/matrix/proof.py), by namespaces and workloads.
        self.local_clusters: dict[tuple, Cluster] = {}
        self._view_ids: dict[tuple, int] = {}
        self.atoms = _atoms(self.mentions.networks, universe.pod_cidrs)
        self.policies_by_namespace: dict[str, list[NetworkPolicy]] = {}
        for p in cluster.policies:
            self.policies_by_namespace.setdefault(p.namespace, []).append(p)

        # The workloads of the matrix: every loaded workload in the universe.
        self.workloads: list[int] = []
        left_out = []
        for index, w in enumerate(cluster.workloads):
            if w.host_network and not universe.host_network:
                left_out.append(w.key)
                continue
            if namespaces is not None and w.namespace not in namespaces:
                continue
            self.workloads.append(index)
        if left_out:
            self.notes.append(
                f"{counted(len(left_out), 'hostNetwork workload')} left out (outside the universe; --host-network includes them)"
            )
        host_rows = sum(1 for i in self.workloads if cluster.workloads[i].host_network)
        if host_rows and semantics.own_node_traffic_allowed:
            # The cells leave out node traffic (docs/matrix.md); say what that hides here.
            self.notes.append(
                f"{counted(host_rows, 'hostNetwork workload')} as rows: a hostNetwork pod's packets to a pod on its own "
                "node are that node's traffic, always allowed (semantics.ownNodeTrafficAllowed), and not in the cells"
            )
        # Only the chosen workloads become classes: a cell depends on its two ends alone.
        self.classes: list[_Class] = []
        self.class_of: dict[int, int] = {}
        groups: dict[tuple, _Class] = {}
        label_ids: dict[tuple, int] = {}
        port_ids: dict[tuple, int] = {}
        for index in self.workloads:
            w = cluster.workloads[index]
            portkey = self.mentions.port_key(w)
            label_key = self.mentions.label_key(w.labels)
            key = (w.namespace, label_key, portkey, w.host_network, w.ips)
            cls = groups.get(key)
            if cls is None:
                cls = _Class(len(self.classes), w, portkey)
                cls.label_id = label_ids.setdefault(label_key, len(label_ids))
                cls.port_id = port_ids.setdefault(portkey, len(port_ids))
                groups[key] = cls
                self.classes.append(cls)
            cls.workloads.append(index)
            self.class_of[index] = cls.index
        self._port_kinds = max(len(port_ids), 1)
        self.assignments: dict[str, list[Labels]] = {}
        self._profiles: dict[tuple, _Profile] = {}
        self.classes_by_namespace: dict[str, list[_Class]] = {}
        for cls in self.classes:
            self.classes_by_namespace.setdefault(cls.namespace, []).append(cls)
            members = [cluster.workloads[i] for i in cls.workloads]
            cls.many_pods = len(members) > 1 or not members[0].single_pod
            cls.profile = self._profile(cls)
            cls.ns_view = self._ns_view(cls.namespace)
            if not cls.host_network:
                cls.in_rules = self._rules(cls, Direction.INGRESS)
                cls.out_rules = self._rules(cls, Direction.EGRESS)
                # Equal programs are one object, so results can be cached by identity.
                in_prog, out_prog = self._compile(cls.in_rules), self._compile(cls.out_rules)
                cls.in_prog = self._programs.setdefault(in_prog, in_prog)
                cls.out_prog = self._programs.setdefault(out_prog, out_prog)
        #: With cluster-scoped policies, the tiered side (npverify/matrix/tiered.py) takes
        #: over cells and pairs; without, nothing here changes (not even a test per pair).
        self.tiers: Optional[_Tiers] = None
        if cluster.tiered:
            self.tiers = _Tiers(self)
            self.pair = self.tiers.pair  # type: ignore[method-assign]
            self.self_cell = self.tiers.self_cell  # type: ignore[method-assign]
            self.candidates = self.tiers.candidates  # type: ignore[method-assign]

    def forget_identities(self) -> None:
        """Drop the caches keyed by object identity (for a copy of the algebra made by
        pickling, where those identities name other objects)."""
        caches = (self._memo, self._cells, self._directions, self._keys_cache, self._mask_cache, self._partial_cache, self._pair_memo)
        for cache in caches:
            cache.clear()
        if self.tiers is not None:
            self.tiers.forget_identities()

    # --- interned port sets ----------------------------------------------------------------

    def intern(self, ports: PortSet) -> PortSet:
        return self._interned.setdefault(ports, ports)

    # Memoized by identity: arguments must be interned (results are), so that an id in a
    # memo key always names a live object.

    def union(self, a: PortSet, b: PortSet) -> PortSet:
        if a is b or b is EMPTY:
            return a
        if a is EMPTY:
            return b
        key = (0, id(a), id(b))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self.intern(a | b)
        return hit

    def meet(self, a: PortSet, b: PortSet) -> PortSet:
        if a is b or b is ALL:
            return a
        if a is ALL:
            return b
        if a is EMPTY or b is EMPTY:
            return EMPTY
        key = (1, id(a), id(b))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self.intern(a & b)
        return hit

    def minus(self, a: PortSet, b: PortSet) -> PortSet:
        if b is EMPTY or a is EMPTY:
            return a
        key = (2, id(a), id(b))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self.intern(a - b)
        return hit

    def cell(self, may: PortSet, always: PortSet) -> Cell:
        key = (id(may), id(always))
        hit = self._cells.get(key)
        if hit is None:
            hit = self._cells[key] = Cell(may, always)
        return hit

    # --- variants ----------------------------------------------------------------------------

    def _namespace_labels(self, namespace: str) -> list[Labels]:
        if namespace in self.declared:
            return [self.declared[namespace].labels]
        if namespace not in self.assignments:
            self.assignments[namespace] = _namespace_assignments(namespace, self.mentions)
        return self.assignments[namespace]

    def _ns_view(self, namespace: str) -> int:
        """A small integer naming the namespace's labels as namespace selectors see them:
        declared namespaces with equal views are alike to every peer. An undeclared
        namespace is a view of its own (its variants are its own label assignments)."""
        hit = self._ns_views.get(namespace)
        if hit is None:
            ns = self.declared.get(namespace)
            key = ("declared", self.mentions.namespace_label_key(ns.labels)) if ns is not None else ("undeclared", namespace)
            hit = self._ns_views[namespace] = self._view_ids.setdefault(key, len(self._view_ids))
        return hit

    def _profile(self, cls: _Class) -> _Profile:
        undeclared = cls.namespace not in self.declared
        key = (cls.namespace if undeclared else None, cls.host_network, cls.ips)
        if key in self._profiles:
            return self._profiles[key]
        count = len(self._namespace_labels(cls.namespace))
        policy_pod = not cls.host_network
        places: list[tuple[int, int, int, Optional[int]]] = []
        if cls.ips:
            for ip in cls.ips:
                inside = any(ip in c for c in self.universe.pod_cidrs)
                if self.universe.pod_cidrs and inside != policy_pod:
                    continue  # a status IP the universe rules out: no pod of this kind
                places.append((ip.version, int(ip), int(ip), int(ip)))
        else:
            for family in (4, 6):
                for atom in self.atoms[family]:
                    if self.universe.pod_cidrs and atom.in_pod_cidrs != policy_pod:
                        continue
                    single = atom.low if atom.low == atom.high else None
                    places.append((family, atom.low, atom.high, single))
        variants = [
            _Variant(family, low, high, single, assignment)
            for family, low, high, single in places
            for assignment in range(count)
        ]
        profile = _Profile(variants, host_network=cls.host_network)
        self._profiles[key] = profile
        return profile

    # --- policies, peers and ports -------------------------------------------------------

    def _selects(self, selector: LabelSelector, labels: Labels) -> bool:
        key = (selector, labels)
        hit = self._selector_cache.get(key)
        if hit is None:
            hit = self._selector_cache[key] = selector_matches(selector, labels)
        return hit

    def _rules(self, cls: _Class, direction: Direction) -> Optional[list[tuple[str, Rule]]]:
        selecting = [
            p
            for p in self.policies_by_namespace.get(cls.namespace, ())
            if direction in p.policy_types and self._selects(p.pod_selector, cls.labels)
        ]
        if not selecting:
            return None
        return [(p.namespace, rule) for p in selecting for rule in p.rules(direction)]

    def _compile(self, rules: Optional[list[tuple[str, Rule]]]) -> Optional[tuple]:
        """Rules as (peers, ports id, port entries) for the hot loop. Peers are None for
        "every endpoint", else tuples (block id, block) or (pod selector id, pod selector,
        namespace selector id, namespace selector, policy namespace); the ids make cache
        keys cheap (equal selectors of different policies are one id)."""
        if rules is None:
            return None
        ids = self._ids
        out = []
        for namespace, rule in rules:
            peers = None
            if rule.peers:
                specs = []
                for p in rule.peers:
                    if p.ip_block is not None:
                        specs.append((ids.setdefault(p.ip_block, len(ids)), p.ip_block))
                    else:
                        pod_id = -1 if p.pod_selector is None else ids.setdefault(p.pod_selector, len(ids))
                        ns_id = -1 if p.namespace_selector is None else ids.setdefault(p.namespace_selector, len(ids))
                        specs.append((pod_id, p.pod_selector, ns_id, p.namespace_selector, namespace))
                peers = tuple(specs)
            entries_id = self._entries.setdefault(rule.ports, len(self._entries))
            out.append((peers, entries_id, rule.ports))
        return tuple(out)

    def _peers_mask(self, peers: Optional[tuple], cls: _Class) -> int:
        """The variants of ``cls``'s pods that some of ``peers`` matches."""
        profile = cls.profile
        if peers is None:
            return profile.full
        mask = 0
        cache = self._mask_cache
        for peer in peers:
            if len(peer) == 2:
                if not cls.host_network and not self.semantics.ip_block_matches_pods:
                    continue
                key = (peer[0], id(profile))
                hit = cache.get(key)
                if hit is None:
                    hit = cache[key] = self._block_mask(peer[1], profile)
                mask |= hit
            elif cls.host_network:
                continue
            else:
                pod_id, pod_selector, ns_id, namespace_selector, namespace = peer
                if pod_selector is not None:
                    key = (pod_id, cls.label_id)
                    hit = cache.get(key)
                    if hit is None:
                        hit = cache[key] = int(selector_matches(pod_selector, cls.labels))
                    if not hit:
                        continue
                if namespace_selector is None:
                    if cls.namespace == namespace:
                        return profile.full
                    continue
                key = (ns_id, cls.ns_view, id(profile))
                hit = cache.get(key)
                if hit is None:
                    hit = cache[key] = self._namespace_mask(namespace_selector, cls)
                mask |= hit
            if mask == profile.full:
                break
        return mask

    def _namespace_mask(self, selector: LabelSelector, cls: _Class) -> int:
        labels = self._namespace_labels(cls.namespace)
        mask = 0
        for index, v in enumerate(cls.profile.variants):
            if self._selects(selector, labels[v.assignment]):
                mask |= 1 << index
        return mask

    def _block_mask(self, block: IPBlock, profile: _Profile) -> int:
        mask = 0
        for index, v in enumerate(profile.variants):
            # Atoms lie wholly inside or outside every mentioned network: test the low end.
            if v.family == block.cidr.version and block.contains(_address(v.family, v.low)):
                mask |= 1 << index
        return mask

    def peer_mask(self, peer: Peer, policy_namespace: str, cls: _Class) -> int:
        """The variants of ``cls``'s pods that ``peer`` (of a policy in ``policy_namespace``) matches."""
        compiled = self._compile([(policy_namespace, Rule(peers=(peer,)))])
        assert compiled is not None
        return self._peers_mask(compiled[0][0], cls)

    def ports(self, entries: tuple[PolicyPort, ...], dst: _Class) -> PortSet:
        """The ports ``entries`` match on packets to pods of ``dst`` (named ports resolved there)."""
        if not entries:
            return ALL
        entries_id = self._entries.setdefault(entries, len(self._entries))
        return self._ports(entries_id, entries, dst)

    def _ports(self, entries_id: int, entries: tuple[PolicyPort, ...], dst: _Class) -> PortSet:
        if not entries:
            return ALL
        key = entries_id * self._port_kinds + dst.port_id
        hit = self._ports_cache.get(key)
        if hit is not None:
            return hit
        result = EMPTY
        for entry in entries:
            if entry.port is None:
                result = result | PortSet.of(entry.protocol)
            elif isinstance(entry.port, int):
                end = entry.end_port if entry.end_port is not None else entry.port
                result = result | PortSet.of(entry.protocol, entry.port, end)
            else:
                for name, number, protocol in dst.portkey:
                    if name == entry.port and protocol == entry.protocol.value:
                        result = result | PortSet.of(entry.protocol, number, number)
        result = self._ports_cache[key] = self.intern(result)
        return result

    def any_ports(self, entries: tuple[PolicyPort, ...]) -> PortSet:
        """The ports ``entries`` can match on packets to any destination of the matrix."""
        if not entries:
            return ALL
        key = ("any", entries)
        hit = self._ports_cache.get(key)
        if hit is None:
            hit = EMPTY
            for entry in entries:
                targets = self.classes if isinstance(entry.port, str) else self.classes[:1]
                for cls in targets:
                    hit = hit | self.ports((entry,), cls)
            hit = self._ports_cache[key] = self.intern(hit)
        return hit

    # --- one direction, one pair -----------------------------------------------------------

    def egress(self, src: _Class, dst: _Class) -> tuple[PortSet, tuple[tuple[int, PortSet], ...]]:
        """What the source's egress allows towards ``dst``'s pods: ports allowed to every
        variant of ``dst``, and (variant mask, ports) pairs for the others."""
        if src.out_prog is None:
            return _UNISOLATED
        # What the destination's pods look like to the source's peers (policies in the
        # source's namespace) and ports: labels, namespace, variants, named ports.
        key = (0, id(src.out_prog), dst.label_id, dst.namespace == src.namespace, dst.ns_view, id(dst.profile), dst.port_id)
        hit = self._directions.get(key)
        if hit is None:
            hit = self._directions[key] = self._direction(src.out_prog, dst, dst)
        return hit

    def ingress(self, dst: _Class, src: _Class) -> tuple[PortSet, tuple[tuple[int, PortSet], ...]]:
        """What the destination's ingress allows from ``src``'s pods (masks over ``src``'s variants)."""
        if dst.in_prog is None:
            return _UNISOLATED
        # What the source's pods look like to the destination's peers (policies in the
        # destination's namespace): labels, namespace, variants (not ports).
        key = (1, id(dst.in_prog), dst.port_id, src.label_id, src.namespace == dst.namespace, src.ns_view, id(src.profile))
        hit = self._directions.get(key)
        if hit is None:
            hit = self._directions[key] = self._direction(dst.in_prog, src, dst)
        return hit

    def _direction(self, prog: tuple, other: _Class, dst: _Class) -> tuple[PortSet, tuple[tuple[int, PortSet], ...]]:
        full = other.profile.full
        base = EMPTY
        partial: dict[int, PortSet] = {}
        for peers, entries_id, entries in prog:
            mask = self._peers_mask(peers, other)
            if not mask:
                continue
            ports = self._ports(entries_id, entries, dst)
            if mask == full:
                base = self.union(base, ports)
            else:
                partial[mask] = self.union(partial.get(mask, EMPTY), ports)
        result = (base, tuple((m, p) for m, p in partial.items() if self.minus(p, base) is not EMPTY) if partial else ())
        return self._results.setdefault(result, result)

    def _over(self, partial: tuple[tuple[int, PortSet], ...], mask: int) -> PortSet:
        """The union, over the variants in ``mask``, of the ports ``partial`` gives them."""
        if not partial:
            return EMPTY
        key = (0, partial, mask)
        hit = self._partial_cache.get(key)
        if hit is None:
            hit = EMPTY
            for m, ports in partial:
                if m & mask:
                    hit = self.union(hit, ports)
            self._partial_cache[key] = hit
        return hit

    def _every(self, partial: tuple[tuple[int, PortSet], ...], mask: int) -> PortSet:
        """The intersection, over the variants in ``mask``, of the ports ``partial`` gives them."""
        if not partial:
            return EMPTY
        key = (1, partial, mask)
        hit = self._partial_cache.get(key)
        if hit is None:
            out: Optional[PortSet] = None
            for v in _bits(mask):
                bit = 1 << v
                acc = EMPTY
                for m, ports in partial:
                    if m & bit:
                        acc = self.union(acc, ports)
                out = acc if out is None else self.meet(out, acc)
                if out is EMPTY:
                    break
            hit = self._partial_cache[key] = out if out is not None else EMPTY
        return hit

    def _keys(self, src: _Class, dst: _Class) -> list[tuple[int, int, tuple]]:
        """Per coupling key (IP family; and label assignment when both ends share an
        undeclared namespace): the variant masks of source and destination that occur
        together, and the single addresses both may be on (distinct pods cannot be)."""
        coupled = src.namespace == dst.namespace and len(self._namespace_labels(src.namespace)) > 1
        sp, dp = src.profile, dst.profile
        cache_key = (id(sp), id(dp), coupled)
        hit = self._keys_cache.get(cache_key)
        if hit is not None:
            return hit
        distinct_ips = not (sp.host_network and dp.host_network)
        s_keys = sp.by_assignment if coupled else sp.by_family
        d_keys = dp.by_assignment if coupled else dp.by_family
        out = []
        for key, s_mask in s_keys.items():
            d_mask = d_keys.get(key)
            if not d_mask:
                continue
            shared: tuple = ()
            if distinct_ips:
                s_mask, d_mask = self._distinct(sp, s_mask, dp, d_mask)
                if not s_mask or not d_mask:
                    continue
                shared = tuple(
                    (sp.singles[x] & s_mask, dp.singles[x] & d_mask)
                    for x in sp.singles
                    if x in dp.singles and sp.singles[x] & s_mask and dp.singles[x] & d_mask
                )
            out.append((s_mask, d_mask, shared))
        self._keys_cache[cache_key] = out
        return out

    def pair(self, src: _Class, dst: _Class) -> Optional[Cell]:
        """The cell between two distinct pods of ``src`` and ``dst``; None when no such pair
        of pods exists in the universe."""
        keys = self._keys(src, dst)
        if not keys:
            return None
        e, i = self.egress(src, dst), self.ingress(dst, src)
        # A pair's cell depends on its two directions and its keys alone, and these are
        # kept alive (interned or cached), so their identities name them for the run.
        memo_key = (id(e), id(i), id(keys))
        if memo_key in self._pair_memo:
            return self._pair_memo[memo_key]
        cell = self._pair_memo[memo_key] = self._pair(keys, e, i)
        return cell

    def _pair(self, keys, e, i) -> Cell:
        (e_base, e_partial), (i_base, i_partial) = e, i
        if not e_partial and not i_partial:
            both = self.meet(e_base, i_base)
            return self.cell(both, both)
        union, meet = self.union, self.meet
        may = EMPTY
        always: Optional[PortSet] = None
        for s_mask, d_mask, shared in keys:
            some = meet(union(e_base, self._over(e_partial, d_mask)), union(i_base, self._over(i_partial, s_mask)))
            if shared and e_partial and i_partial and some is not EMPTY:
                some = self.minus(some, self._lost(shared, s_mask, d_mask, e_base, e_partial, i_base, i_partial))
            may = union(may, some)
            every = meet(union(e_base, self._every(e_partial, d_mask)), union(i_base, self._every(i_partial, s_mask)))
            always = every if always is None else meet(always, every)
        return self.cell(may, always if always is not None else EMPTY)

    @staticmethod
    def _distinct(sp: _Profile, s_mask: int, dp: _Profile, d_mask: int) -> tuple[int, int]:
        """Drop variants that could only meet the other end on its one address."""
        if s_mask & (s_mask - 1) == 0 and s_mask:
            v = sp.variants[s_mask.bit_length() - 1]
            if v.single is not None:
                d_mask &= ~dp.singles.get((v.family, v.single), 0)
        if d_mask & (d_mask - 1) == 0 and d_mask:
            v = dp.variants[d_mask.bit_length() - 1]
            if v.single is not None:
                s_mask &= ~sp.singles.get((v.family, v.single), 0)
        return s_mask, d_mask

    def _lost(self, shared, s_mask, d_mask, e_base, e_partial, i_base, i_partial) -> PortSet:
        """Ports only a source and a destination on one and the same address would allow:
        distinct pods never are, so these ports are not in ``may``."""
        lost = EMPTY
        for s_x, d_x in shared:
            e_only = self.minus(
                self.union(e_base, self._over(e_partial, d_x)), self.union(e_base, self._over(e_partial, d_mask & ~d_x))
            )
            i_only = self.minus(
                self.union(i_base, self._over(i_partial, s_x)), self.union(i_base, self._over(i_partial, s_mask & ~s_x))
            )
            lost = self.union(lost, self.meet(e_only, i_only))
        return lost

    def self_cell(self, cls: _Class) -> Optional[Cell]:
        """The cell of a pod of ``cls`` sending to itself (None: no such pod)."""
        profile = cls.profile
        if not profile.variants:
            return None
        if self.semantics.self_traffic_allowed:
            return self.cell(ALL, ALL)
        e_base, e_partial = self.egress(cls, cls)
        i_base, i_partial = self.ingress(cls, cls)
        may = EMPTY
        always: Optional[PortSet] = None
        for v in range(len(profile.variants)):
            bit = 1 << v
            ports = self.meet(self.union(e_base, self._over(e_partial, bit)), self.union(i_base, self._over(i_partial, bit)))
            may = self.union(may, ports)
            always = ports if always is None else self.meet(always, ports)
        return self.cell(may, always if always is not None else EMPTY)

    def pair_cells(self) -> Iterator[tuple[_Class, _Class, Cell]]:
        """The non-empty cells between two distinct pods, for the class pairs ``candidates`` gives."""
        last = -1
        for s, d in self.candidates():
            if s != last:
                last = s
                # Pairs come source by source, and a direction's key names one class of
                # each pair, so few entries are met again: bound the caches (at 100,000
                # pods they would hold tens of millions).
                for cache in (self._directions, self._partial_cache, self._pair_memo):
                    if len(cache) > CACHE_ENTRIES:
                        cache.clear()
            src, dst = self.classes[s], self.classes[d]
            if s == d and not src.many_pods:
                continue
            cell = self.pair(src, dst)
            if cell is not None and not cell.may.is_empty:
                yield src, dst, cell

    def self_cells(self) -> Iterator[tuple[_Class, Cell]]:
        """With self traffic in the universe, the non-empty cells of a class's pods to themselves."""
        if not self.universe.self_traffic:
            return
        for cls in self.classes:
            own = self.self_cell(cls)
            if own is not None and not own.may.is_empty:
                yield cls, own

    # --- which pairs to look at --------------------------------------------------------------

    def _wide(self, rules: Optional[list[tuple[str, Rule]]]) -> bool:
        if rules is None:
            return True
        return any(_is_wide(r) for _, r in rules)

    def _peer_classes(self, peer: Peer, policy_namespace: str) -> dict[str, list[_Class]]:
        """The classes a selector peer matches (some variant), by namespace."""
        own = peer.namespace_selector is None
        key = (peer.pod_selector, peer.namespace_selector, policy_namespace if own else None)
        hit = self._peer_classes_cache.get(key)
        if hit is not None:
            return hit
        out: dict[str, list[_Class]] = {}
        if own:
            candidates = self.classes_by_namespace.get(policy_namespace, [])
            namespaces: Iterable[str] = [policy_namespace]
        else:
            namespaces = self.classes_by_namespace
        for ns in namespaces:
            if not own:
                labels = self._namespace_labels(ns)
                if not any(self._selects(peer.namespace_selector, l) for l in labels):
                    continue
            candidates = self.classes_by_namespace.get(ns, [])
            matched = [c for c in candidates if self.peer_mask(peer, policy_namespace, c)]
            if matched:
                out[ns] = matched
        self._peer_classes_cache[key] = out
        return out

    def _specific_targets(self, rule: Rule, policy_namespace: str) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for peer in rule.peers:
            if peer.ip_block is not None:
                continue
            for ns, classes in self._peer_classes(peer, policy_namespace).items():
                out.setdefault(ns, set()).update(c.index for c in classes)
        return out

    def candidates(self) -> Iterator[tuple[int, int]]:
        """Class pairs (source, destination) whose cell may be non-empty, in order (see
        ``_meets``)."""
        return pairs_of(self._meets())

    def _meets(self) -> dict[int, list]:
        """Per source class, lists of destination classes whose cell with it may be non-empty.

        A non-empty cell needs an egress rule of the source (or no egress isolation) and an
        ingress rule of the destination (or none) that match and share a port. Rules that
        name peers by selector are joined through the namespaces they reach; the others
        ("wide": ipBlock peers, empty peer lists, no isolation) through port overlap.
        """
        classes = self.classes
        # Per source, the lists of destinations it meets: a product of sources and
        # destinations is kept as one shared list, not as its pairs (at 100,000 pods the
        # pairs, tens of millions, took gigabytes); a source's pairs are made when it is
        # its turn.
        meets: dict[int, list[list[int]]] = {}

        def add(sources: Iterable[int], destinations: list[int]) -> None:
            if destinations:
                for s in sources:
                    meets.setdefault(s, []).append(destinations)

        sel_in: dict[int, list[int]] = {}
        sel_out: dict[int, list[int]] = {}
        for policy in self.cluster.policies:
            for direction, table in ((Direction.INGRESS, sel_in), (Direction.EGRESS, sel_out)):
                if direction in policy.policy_types:
                    table[id(policy)] = [
                        c.index
                        for c in self.classes_by_namespace.get(policy.namespace, [])
                        if not c.host_network and self._selects(policy.pod_selector, c.labels)
                    ]
        wide_in = {c.index for c in classes if self._wide(c.in_rules)}
        wide_out = {c.index for c in classes if self._wide(c.out_rules)}
        wide_in_ports = {d: self._wide_ports(classes[d].in_rules, classes[d]) for d in wide_in}
        wide_out_ports = {s: self._wide_ports(classes[s].out_rules, None) for s in wide_out}
        meet = self.meet

        # Specific ingress rules, indexed by (source namespace, destination namespace).
        ingress_index: dict[tuple[str, str], list[tuple[Rule, set[int], list[int]]]] = {}
        for policy in self.cluster.policies:
            selected = sel_in.get(id(policy))
            if not selected:
                continue
            for rule in policy.ingress:
                for ns, members in self._specific_targets(rule, policy.namespace).items():
                    ingress_index.setdefault((ns, policy.namespace), []).append((rule, members, selected))
                    # Wide egress (or none) at the source meets this specific ingress rule.
                    by_ports: dict[int, tuple[PortSet, list[int]]] = {}
                    for s in members & wide_out:
                        ports = wide_out_ports[s]
                        by_ports.setdefault(id(ports), (ports, []))[1].append(s)
                    for ports, group in by_ports.values():
                        add(group, [d for d in selected if meet(self.ports(rule.ports, classes[d]), ports) is not EMPTY])
        for policy in self.cluster.policies:
            selected = sel_out.get(id(policy))
            if not selected:
                continue
            selected_set = set(selected)
            for rule in policy.egress:
                for ns, members in self._specific_targets(rule, policy.namespace).items():
                    # Specific egress meets wide ingress (or none) at the destination.
                    add(selected, [d for d in members & wide_in if meet(self.ports(rule.ports, classes[d]), wide_in_ports[d]) is not EMPTY])
                    # Specific egress meets specific ingress.
                    for in_rule, sources, in_selected in ingress_index.get((policy.namespace, ns), ()):
                        ss = selected_set & sources
                        if not ss:
                            continue
                        ds = [
                            d
                            for d in in_selected
                            if d in members
                            and meet(self.ports(rule.ports, classes[d]), self.ports(in_rule.ports, classes[d])) is not EMPTY
                        ]
                        add(ss, ds)
        # Wide meets wide.
        by_out: dict[int, tuple[PortSet, list[int]]] = {}
        for s in wide_out:
            by_out.setdefault(id(wide_out_ports[s]), (wide_out_ports[s], []))[1].append(s)
        by_in: dict[int, tuple[PortSet, list[int]]] = {}
        for d in wide_in:
            by_in.setdefault(id(wide_in_ports[d]), (wide_in_ports[d], []))[1].append(d)
        for out_ports, sources in by_out.values():
            for in_ports, destinations in by_in.values():
                if meet(out_ports, in_ports) is not EMPTY:
                    add(sources, destinations)
        return meets

    def _wide_ports(self, rules: Optional[list[tuple[str, Rule]]], dst: Optional[_Class]) -> PortSet:
        """Ports the wide rules allow: on ``dst``'s pods, or (None) on any destination."""
        if rules is None:
            return ALL
        out = EMPTY
        for _, rule in rules:
            if _is_wide(rule):
                out = self.union(out, self.ports(rule.ports, dst) if dst is not None else self.any_ports(rule.ports))
        return out
