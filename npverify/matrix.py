"""The connectivity matrix: what each workload (or namespace) may send to each other one.

Each cell is the set of (protocol, port) for which some packet from a pod of the row to a
pod of the column is allowed (``may``), with the subset for which every such packet is
allowed (``always``). Cells are computed exactly by set algebra over port intervals (no
sampling), then proved with the solver (npverify/smt/matrix.py): no allowed packet lies
outside its cell's ``may`` set and no denied packet inside its ``always`` set. docs/matrix.md
explains the cells, the self cells and the proof.

How the algebra stays exact and fast:

* Workloads no policy can tell apart (same namespace, same labels and named ports as the
  selectors and port names see them, same hostNetwork flag and status IPs) form a class;
  cells are computed per pair of classes and copied to the workloads.
* What a pod's IP and its namespace's labels do is made finite: pod IPs fall into *atoms*
  (intervals no ipBlock boundary splits) and an undeclared namespace's labels into the
  assignments that namespace selectors tell apart. A pod of a class is one *variant*
  (IP family, atom, label assignment); a rule matches a set of variants (a bit mask).
* A cell is the egress of the source intersected with the ingress of the destination,
  united (``may``) or intersected (``always``) over the variant pairs that can occur
  together: same IP family, one label set per namespace, distinct pods on distinct IPs.
* Only pairs that some pair of rules can connect are looked at: rules that name their
  peers by selectors are joined namespace by namespace; rules that match by IP or match
  everything ("wide"), and directions no policy isolates, are joined by port overlap.
"""

from __future__ import annotations

import ipaddress
import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Optional

import attrs

from npverify.errors import InputError, InternalError
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Diagnostic,
    Direction,
    IPAddress,
    IPBlock,
    IPNetwork,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Packet,
    Peer,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Rule,
    Semantics,
    Universe,
    Workload,
)
from npverify.regions import PortRange
from npverify.results import Verdict
from npverify.semantics import decide, selector_matches, universe_problem
from npverify.smt import Limits

PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)

# --- port sets ------------------------------------------------------------------------------

#: Sorted, disjoint, non-adjacent inclusive port intervals of one protocol.
Intervals = tuple[tuple[int, int], ...]
_FULL: Intervals = ((1, 65535),)


def _union(a: Intervals, b: Intervals) -> Intervals:
    if not a or a == b:
        return b
    if not b:
        return a
    merged: list[list[int]] = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _intersection(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return ()
    if a == b or b == _FULL:
        return a
    if a == _FULL:
        return b
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _difference(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return a
    out = []
    for lo, hi in a:
        for blo, bhi in b:
            if bhi < lo or blo > hi:
                continue
            if blo > lo:
                out.append((lo, blo - 1))
            lo = bhi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)


@attrs.frozen(cache_hash=True)
class PortSet:
    """A set of (protocol, port): per protocol, inclusive port intervals within 1..65535."""

    tcp: Intervals = ()
    udp: Intervals = ()
    sctp: Intervals = ()

    @classmethod
    def of(cls, protocol: Protocol, low: int = 1, high: int = 65535) -> PortSet:
        """The ports ``low``..``high`` of one protocol."""
        intervals = ((low, high),)
        if protocol is Protocol.TCP:
            return cls(intervals, (), ())
        if protocol is Protocol.UDP:
            return cls((), intervals, ())
        return cls((), (), intervals)

    def intervals(self, protocol: Protocol) -> Intervals:
        if protocol is Protocol.TCP:
            return self.tcp
        if protocol is Protocol.UDP:
            return self.udp
        return self.sctp

    def ranges(self, protocol: Protocol) -> tuple[PortRange, ...]:
        return tuple(PortRange(lo, hi) for lo, hi in self.intervals(protocol))

    def contains(self, protocol: Protocol, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.intervals(protocol))

    @property
    def is_empty(self) -> bool:
        return not (self.tcp or self.udp or self.sctp)

    @property
    def is_all(self) -> bool:
        return self.tcp == _FULL and self.udp == _FULL and self.sctp == _FULL

    def __or__(self, other: PortSet) -> PortSet:
        if other is self or other.is_empty:
            return self
        if self.is_empty:
            return other
        return PortSet(_union(self.tcp, other.tcp), _union(self.udp, other.udp), _union(self.sctp, other.sctp))

    def __and__(self, other: PortSet) -> PortSet:
        if other is self:
            return self
        if self.is_empty or other.is_empty:
            return EMPTY
        return PortSet(
            _intersection(self.tcp, other.tcp), _intersection(self.udp, other.udp), _intersection(self.sctp, other.sctp)
        )

    def __sub__(self, other: PortSet) -> PortSet:
        if other.is_empty or self.is_empty:
            return self
        return PortSet(_difference(self.tcp, other.tcp), _difference(self.udp, other.udp), _difference(self.sctp, other.sctp))

    def __str__(self) -> str:
        if self.is_all:
            return "all"
        parts = []
        for protocol in PROTOCOLS:
            intervals = self.intervals(protocol)
            if intervals:
                parts.append(f"{protocol} " + ",".join(_interval_text(lo, hi) for lo, hi in intervals))
        return " ".join(parts) if parts else "none"


def _interval_text(lo: int, hi: int) -> str:
    if (lo, hi) == (1, 65535):
        return "all"
    return str(lo) if lo == hi else f"{lo}-{hi}"


EMPTY = PortSet()
ALL = PortSet(_FULL, _FULL, _FULL)


# --- the matrix -------------------------------------------------------------------------------


@attrs.frozen
class Cell:
    """One cell: ports some packet may use (``may``), and those every packet may use (``always``)."""

    may: PortSet
    always: PortSet

    @property
    def may_only(self) -> PortSet:
        """Ports allowed for some pods (or IPs, or workload pairs) only."""
        return self.may - self.always

    def text(self) -> str:
        """E.g. ``TCP 53,8080* UDP 53``: the ``may`` ports, a trailing ``*`` on those outside ``always``."""
        return cell_text(self.may, self.always)


def cell_text(may: PortSet, always: PortSet) -> str:
    if may.is_all:
        if always.is_all:
            return "all"
        if always.is_empty:
            return "all*"
    parts = []
    for protocol in PROTOCOLS:
        pieces = []
        sure = always.intervals(protocol)
        for lo, hi in may.intervals(protocol):
            inside = _intersection(((lo, hi),), sure)
            # Walk the interval left to right, alternating always / may-only stretches.
            at = lo
            for ilo, ihi in inside:
                if at < ilo:
                    pieces.append(_interval_text(at, ilo - 1) + "*")
                pieces.append(_interval_text(ilo, ihi))
                at = ihi + 1
            if at <= hi:
                pieces.append(_interval_text(at, hi) + "*")
        if pieces:
            parts.append(f"{protocol} " + ",".join(pieces))
    return " ".join(parts) if parts else "none"


EMPTY_CELL = Cell(EMPTY, EMPTY)


def _frozen_mapping(value: Mapping) -> Mapping:
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


@attrs.frozen
class ConnectivityMatrix:
    """The connectivity matrix of the loaded workloads, or of their namespaces.

    ``rows`` and ``columns`` are workload keys (``namespace/Kind/name``) or namespace names;
    ``cells`` maps (row index, column index) to the non-empty cells; a pair absent from
    ``cells`` allows nothing, unless it is in ``void``: pairs with no packet in the
    universe at all (a single Pod to itself without self traffic; workloads with no common
    IP family). ``verdict`` is the solver's verdict on the whole matrix (None when the
    proof was skipped); UNKNOWN says why in ``reason``.
    """

    by: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[int, int], Cell] = attrs.field(converter=_frozen_mapping, hash=False)
    void: frozenset[tuple[int, int]] = frozenset()
    verdict: Optional[Verdict] = None
    reason: str = ""
    #: Things the reader should know: workloads left out, the proof skipped, ...
    notes: tuple[str, ...] = ()
    #: How many may-only port ranges were confirmed by witness packets.
    witnesses: int = 0
    seconds: float = 0.0
    proof_seconds: float = 0.0

    def cell(self, source: str, destination: str) -> Cell:
        """The cell from row ``source`` to column ``destination`` (empty if absent)."""
        try:
            i, j = self.rows.index(source), self.columns.index(destination)
        except ValueError:
            raise KeyError((source, destination)) from None
        return self.cells.get((i, j), EMPTY_CELL)

    def nonempty(self) -> Iterator[tuple[str, str, Cell]]:
        """The non-empty cells as (source, destination, cell), row by row."""
        for (i, j) in sorted(self.cells):
            yield self.rows[i], self.columns[j], self.cells[(i, j)]

    def is_void(self, source: str, destination: str) -> bool:
        return (self.rows.index(source), self.columns.index(destination)) in self.void

    def __str__(self) -> str:
        from npverify.report.text import render_matrix

        return render_matrix(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_matrix_html

        return render_matrix_html(self)


# --- variants: IP atoms and namespace label assignments --------------------------------------

_FAMILY_TOP = {4: 2**32 - 1, 6: 2**128 - 1}
#: More label assignments than this for one undeclared namespace is refused (declare it).
MAX_LABEL_ASSIGNMENTS = 4096


def _address(family: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


@attrs.frozen
class _Atom:
    """Addresses low..high of one family that no ipBlock (or pod CIDR) boundary splits."""

    family: int
    low: int
    high: int
    in_pod_cidrs: bool


def _atoms(networks: Iterable[IPNetwork], pod_cidrs: tuple[IPNetwork, ...]) -> dict[int, list[_Atom]]:
    cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
    for net in list(networks) + list(pod_cidrs):
        cuts[net.version].add(int(net.network_address))
        end = int(net.broadcast_address) + 1
        if end <= _FAMILY_TOP[net.version]:
            cuts[net.version].add(end)
    atoms: dict[int, list[_Atom]] = {}
    for family, starts in cuts.items():
        ordered = sorted(starts)
        bounds = ordered[1:] + [_FAMILY_TOP[family] + 1]
        atoms[family] = [
            _Atom(family, lo, nxt - 1, any(_address(family, lo) in c for c in pod_cidrs if c.version == family))
            for lo, nxt in zip(ordered, bounds)
        ]
    return atoms


@attrs.frozen
class _Variant:
    """One kind of pod of a class: IP family, address range and namespace label assignment."""

    family: int
    low: int
    high: int
    #: The one address, when the variant is a single address (a /32 atom or a status IP).
    single: Optional[int]
    #: Index into the namespace's label assignments (0 for a declared namespace).
    assignment: int


class _Profile:
    """The variants of the pods of one class, with masks by coupling key."""

    def __init__(self, variants: list[_Variant], host_network: bool):
        self.variants = variants
        self.host_network = host_network
        self.full = (1 << len(variants)) - 1
        self.by_family: dict[tuple, int] = {}
        self.by_assignment: dict[tuple, int] = {}
        #: (family, address) -> the variants that are exactly that address.
        self.singles: dict[tuple[int, int], int] = {}
        for index, v in enumerate(variants):
            bit = 1 << index
            self.by_family[(v.family,)] = self.by_family.get((v.family,), 0) | bit
            key = (v.family, v.assignment)
            self.by_assignment[key] = self.by_assignment.get(key, 0) | bit
            if v.single is not None:
                self.singles[(v.family, v.single)] = self.singles.get((v.family, v.single), 0) | bit
        self.families = frozenset(v.family for v in variants)


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


# --- classes ---------------------------------------------------------------------------------


class _Class:
    """Workloads no policy tells apart: one row/column of the algebra."""

    __slots__ = (
        "index", "namespace", "labels", "ports", "portkey", "host_network", "ips", "workloads",
        "profile", "in_rules", "out_rules", "many_pods", "label_id", "port_id", "in_prog", "out_prog",
    )

    def __init__(self, index: int, w: Workload, portkey: tuple) -> None:
        self.index = index
        self.namespace = w.namespace
        self.labels = w.labels
        self.ports = w.ports
        self.portkey = portkey
        self.host_network = w.host_network
        self.ips = w.ips
        self.workloads: list[int] = []
        self.profile: _Profile
        #: (policy namespace, rule) of the policies that select the class; None: not isolated.
        self.in_rules: Optional[list[tuple[str, Rule]]] = None
        self.out_rules: Optional[list[tuple[str, Rule]]] = None
        #: Two distinct pods of the class exist (two workloads, or one with several pods).
        self.many_pods = False
        #: Small integers naming the labels and the named ports as the policies see them.
        self.label_id = 0
        self.port_id = 0
        #: ``in_rules``/``out_rules`` compiled for the hot loop (see _Algebra._compile).
        self.in_prog: Optional[tuple] = None
        self.out_prog: Optional[tuple] = None


_OTHER = object()


class _Mentions:
    """Label keys and values selectors read, and port names rules use."""

    def __init__(self, policies: Iterable[NetworkPolicy]) -> None:
        self.pod: dict[str, set[str]] = {}
        self.namespace: dict[str, set[str]] = {}
        self.port_names: set[str] = set()
        self.namespace_selectors: dict[LabelSelector, None] = {}
        self.networks: dict[IPNetwork, None] = {}
        for policy in policies:
            self._selector(self.pod, policy.pod_selector)
            for rule in policy.ingress + policy.egress:
                self.port_names.update(p.port for p in rule.ports if isinstance(p.port, str))
                for peer in rule.peers:
                    self._selector(self.pod, peer.pod_selector)
                    if peer.namespace_selector is not None:
                        self._selector(self.namespace, peer.namespace_selector)
                        self.namespace_selectors[peer.namespace_selector] = None
                    if peer.ip_block is not None:
                        for net in (peer.ip_block.cidr, *peer.ip_block.except_):
                            self.networks[net] = None

    @staticmethod
    def _selector(target: dict[str, set[str]], selector: Optional[LabelSelector]) -> None:
        if selector is None:
            return
        for req in selector.requirements():
            target.setdefault(req.key, set()).update(req.values)

    def label_key(self, labels: Labels) -> tuple:
        """The labels as selectors see them: mentioned keys, unmentioned values alike."""
        out = []
        for key, value in labels.items():
            values = self.pod.get(key)
            if values is not None:
                out.append((key, value if value in values else _OTHER))
        return tuple(sorted(out, key=lambda kv: kv[0]))

    def port_key(self, w: Workload) -> tuple:
        if w.host_network:
            return ()
        return tuple(sorted((p.name, p.port, p.protocol.value) for p in w.ports if p.name in self.port_names))


# --- the algebra -----------------------------------------------------------------------------


def _namespace_assignments(
    name: str, mentions: _Mentions, limit: int = MAX_LABEL_ASSIGNMENTS
) -> list[Labels]:
    """The label sets of an undeclared namespace that namespace selectors tell apart."""
    keys = sorted(k for k in mentions.namespace if k != NAMESPACE_NAME_LABEL)
    choices: list[list[Optional[str]]] = []
    total = 1
    for key in keys:
        values = sorted(mentions.namespace[key])
        other = "other"
        while other in values:
            other += "-"
        choices.append([None, *values, other])
        total *= len(choices[-1])
    if total > limit:
        raise InputError(
            Diagnostic(
                f"namespace {name!r} holds workloads but is not declared, and namespace selectors tell "
                f"{total} of its possible label sets apart (more than {limit}); declare it with a "
                "Namespace object so its labels are known"
            )
        )
    selectors = list(mentions.namespace_selectors)
    seen: dict[tuple[bool, ...], Labels] = {}
    for combo in itertools.product(*choices):
        labels = {k: v for k, v in zip(keys, combo) if v is not None}
        labels[NAMESPACE_NAME_LABEL] = name
        frozen = Labels.of(labels)
        vector = tuple(selector_matches(s, frozen) for s in selectors)
        seen.setdefault(vector, frozen)
    return list(seen.values())


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
                f"{len(left_out)} hostNetwork workload(s) left out (outside the universe; --host-network includes them)"
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
            if not cls.host_network:
                cls.in_rules = self._rules(cls, Direction.INGRESS)
                cls.out_rules = self._rules(cls, Direction.EGRESS)
                # Equal programs are one object, so results can be cached by identity.
                in_prog, out_prog = self._compile(cls.in_rules), self._compile(cls.out_rules)
                cls.in_prog = self._programs.setdefault(in_prog, in_prog)
                cls.out_prog = self._programs.setdefault(out_prog, out_prog)

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
                key = (ns_id, cls.namespace, id(profile))
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
            return ALL, ()
        key = (0, id(src.out_prog), dst.index)
        hit = self._directions.get(key)
        if hit is None:
            hit = self._directions[key] = self._direction(src.out_prog, dst, dst)
        return hit

    def ingress(self, dst: _Class, src: _Class) -> tuple[PortSet, tuple[tuple[int, PortSet], ...]]:
        """What the destination's ingress allows from ``src``'s pods (masks over ``src``'s variants)."""
        if dst.in_prog is None:
            return ALL, ()
        # What the source's pods look like to peers: labels, namespace, variants (not ports).
        key = (1, id(dst.in_prog), dst.port_id, src.label_id, src.namespace, id(src.profile))
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
        if not partial:
            return base, ()
        return base, tuple((m, p) for m, p in partial.items() if self.minus(p, base) is not EMPTY)

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
        e_base, e_partial = self.egress(src, dst)
        i_base, i_partial = self.ingress(dst, src)
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

    # --- which pairs to look at --------------------------------------------------------------

    def _wide(self, rules: Optional[list[tuple[str, Rule]]]) -> bool:
        if rules is None:
            return True
        return any(not r.peers or any(p.ip_block is not None for p in r.peers) for _, r in rules)

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
        """Class pairs (source, destination) whose cell may be non-empty.

        A non-empty cell needs an egress rule of the source (or no egress isolation) and an
        ingress rule of the destination (or none) that match and share a port. Rules that
        name peers by selector are joined through the namespaces they reach; the others
        ("wide": ipBlock peers, empty peer lists, no isolation) through port overlap.
        """
        classes = self.classes
        n = len(classes)
        # Pairs are coded s * n + d: a million pairs as ints take half the memory of tuples.
        pairs: set[int] = set()
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
                        ds = [d for d in selected if meet(self.ports(rule.ports, classes[d]), ports) is not EMPTY]
                        pairs.update(s * n + d for s in group for d in ds)
        for policy in self.cluster.policies:
            selected = sel_out.get(id(policy))
            if not selected:
                continue
            selected_set = set(selected)
            for rule in policy.egress:
                for ns, members in self._specific_targets(rule, policy.namespace).items():
                    # Specific egress meets wide ingress (or none) at the destination.
                    for d in members & wide_in:
                        if meet(self.ports(rule.ports, classes[d]), wide_in_ports[d]) is not EMPTY:
                            pairs.update(s * n + d for s in selected)
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
                        pairs.update(s * n + d for s in ss for d in ds)
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
                    pairs.update(s * n + d for s in sources for d in destinations)
        for code in sorted(pairs):
            yield divmod(code, n)

    def _wide_ports(self, rules: Optional[list[tuple[str, Rule]]], dst: Optional[_Class]) -> PortSet:
        """Ports the wide rules allow: on ``dst``'s pods, or (None) on any destination."""
        if rules is None:
            return ALL
        out = EMPTY
        for _, rule in rules:
            if not rule.peers or any(p.ip_block is not None for p in rule.peers):
                out = self.union(out, self.ports(rule.ports, dst) if dst is not None else self.any_ports(rule.ports))
        return out

    # --- witnesses ---------------------------------------------------------------------------------

    def _members(self, src: _Class, dst: _Class, self_packets: bool) -> tuple[int, int]:
        """Workloads (cluster indexes) for a source and a destination pod of the classes."""
        ws = src.workloads[0]
        if self_packets:
            return ws, ws
        if src is dst:
            return ws, src.workloads[1] if len(src.workloads) > 1 else ws
        return ws, dst.workloads[0]

    def endpoint(self, cls: _Class, workload: int, variant: int, pod_id: str, address: int) -> PodEndpoint:
        """A concrete pod of ``workload`` (of ``cls``) of one variant, on ``address``."""
        v = cls.profile.variants[variant]
        w = self.cluster.workloads[workload]
        return PodEndpoint(
            namespace=cls.namespace,
            namespace_labels=self._namespace_labels(cls.namespace)[v.assignment],
            labels=w.labels,
            ip=_address(v.family, address),
            ports=w.ports,
            host_network=w.host_network,
            workload=w.key,
            pod_id=pod_id,
        )

    def variant_pairs(self, src: _Class, dst: _Class, self_packets: bool) -> Iterator[tuple[int, int]]:
        """The variant pairs (source, destination) that occur together."""
        if self_packets:
            for v in range(len(src.profile.variants)):
                yield v, v
            return
        distinct_ips = not (src.host_network and dst.host_network)
        for s_mask, d_mask, _ in self._keys(src, dst):
            for u in _bits(s_mask):
                for v in _bits(d_mask):
                    su, dv = src.profile.variants[u].single, dst.profile.variants[v].single
                    if distinct_ips and su is not None and su == dv:
                        continue
                    yield u, v

    def witness(
        self, src: _Class, dst: _Class, protocol: Protocol, port: int, allowed: bool, self_packets: bool
    ) -> Optional[Packet]:
        """A packet between pods of ``src`` and ``dst`` (one pod to itself with
        ``self_packets``) that the algebra allows (or denies) on ``protocol``/``port``,
        replayed through the reference evaluator, which must agree."""
        ws, wd = self._members(src, dst, self_packets)
        src_key = self.cluster.workloads[ws].key
        dst_key = self.cluster.workloads[wd].key
        e_base, e_partial = self.egress(src, dst)
        i_base, i_partial = self.ingress(dst, src)
        for u, v in self.variant_pairs(src, dst, self_packets):
            predicted = self.union(e_base, self._over(e_partial, 1 << v)).contains(protocol, port) and self.union(
                i_base, self._over(i_partial, 1 << u)
            ).contains(protocol, port)
            if self_packets and self.semantics.self_traffic_allowed:
                predicted = True
            if predicted is not allowed:
                continue
            sv, dv = src.profile.variants[u], dst.profile.variants[v]
            if self_packets:
                s = d = self.endpoint(src, ws, u, src_key, sv.low)
            else:
                # Distinct pods, distinct addresses (unless both are hostNetwork): a side
                # fixed to one address keeps it, the other moves off it within its range.
                s_at, d_at = sv.low, dv.low
                if s_at == d_at and not (src.host_network and dst.host_network):
                    if dv.single is None:
                        d_at += 1
                    else:
                        s_at += 1
                s = self.endpoint(src, ws, u, f"{src_key}#src", s_at)
                d = self.endpoint(dst, wd, v, f"{dst_key}#dst", d_at)
            packet = Packet(s, d, protocol, port)
            if self.decide(packet) is not allowed:
                raise InternalError(
                    f"connectivity matrix: the set algebra says {'allowed' if allowed else 'denied'}, the "
                    f"reference evaluator says {'denied' if allowed else 'allowed'}: {packet!r}"
                )
            return packet
        return None

    def decide(self, packet: Packet) -> bool:
        """The reference evaluator's verdict on a packet between two pods."""
        # Only the policies of the two ends' namespaces can decide it.
        names = {packet.src.namespace, packet.dst.namespace}  # type: ignore[union-attr]
        local = Cluster(policies=[p for n in sorted(names) for p in self.policies_by_namespace.get(n, [])])
        return decide(local, packet, self.semantics).allowed

    def universe_problem(self, packet: Packet) -> Optional[str]:
        """Why a witness packet lies outside the universe (None: it does not)."""
        names = {packet.src.namespace, packet.dst.namespace}  # type: ignore[union-attr]
        keys = {packet.src.workload, packet.dst.workload}  # type: ignore[union-attr]
        local = Cluster(
            namespaces=[self.declared[n] for n in sorted(names) if n in self.declared],
            workloads=[self.by_key[k] for k in sorted(keys) if k in self.by_key],  # type: ignore[type-var]
        )
        return universe_problem(local, packet, self.universe)

    def confirm(self, src: _Class, dst: _Class, protocol: Protocol, port: int, allowed: bool, self_packets: bool) -> Optional[Packet]:
        """``witness``, checked to lie in the universe."""
        packet = self.witness(src, dst, protocol, port, allowed, self_packets)
        if packet is not None:
            problem = self.universe_problem(packet)
            if problem:
                raise InternalError(f"connectivity matrix: a witness packet lies outside the universe ({problem}): {packet!r}")
        return packet


# --- the public entry point ---------------------------------------------------------------------


def connectivity_matrix(
    cluster: Cluster,
    *,
    by: str = "workload",
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    limits: Limits = Limits(),
    prove: bool = True,
    namespaces: Optional[Iterable[str]] = None,
) -> ConnectivityMatrix:
    """The connectivity matrix of the cluster's workloads (``by="workload"``) or of the
    namespaces holding them (``by="namespace"``).

    ``namespaces`` restricts rows and columns to the workloads of those namespaces.
    With ``prove`` (the default) the solver checks the whole matrix, and every may-only
    port range gets witness packets (one allowed, one denied) replayed through the
    reference evaluator; a disagreement raises InternalError, an undecided solver query
    makes the verdict UNKNOWN.
    """
    started = time.perf_counter()
    if by not in ("workload", "namespace"):
        raise InputError(Diagnostic(f"by must be 'workload' or 'namespace' (got {by!r})"))
    chosen = None
    if namespaces is not None:
        chosen = frozenset(namespaces)
        known = {w.namespace for w in cluster.workloads}
        missing = sorted(chosen - known)
        if missing:
            raise InputError(Diagnostic(f"--namespace {', '.join(missing)}: no loaded workload in that namespace"))
    algebra = _Algebra(cluster, universe, semantics, chosen)
    builder: _Builder = _WorkloadMatrix(algebra) if by == "workload" else _NamespaceMatrix(algebra)
    builder.build()
    notes = list(algebra.notes)
    verdict: Optional[Verdict] = None
    reason = ""
    witnesses = 0
    proof_seconds = 0.0
    if prove:
        proof_started = time.perf_counter()
        witnesses = builder.confirm_witnesses()
        from npverify.smt.matrix import MatrixClaim, prove_claim

        claim = MatrixClaim(
            rows=builder.row_members(),
            cells={key: _claim(cell) for key, cell in builder.pair_cells.items()},
            self_cells={key: _claim(cell) for key, cell in builder.own_cells.items()},
            namespaces=builder.rows if by == "namespace" else None,
        )
        outcome = prove_claim(cluster, universe, semantics, claim, limits)
        proof_seconds = time.perf_counter() - proof_started
        if outcome.packet is not None:
            raise InternalError(_disagreement(algebra, builder, outcome))
        verdict = Verdict.PROVED if outcome.proved else Verdict.UNKNOWN
        reason = outcome.reason
    return ConnectivityMatrix(
        by=by,
        rows=builder.rows,
        columns=builder.rows,
        cells=builder.cells,
        void=frozenset(builder.void),
        verdict=verdict,
        reason=reason,
        notes=tuple(notes),
        witnesses=witnesses,
        seconds=time.perf_counter() - started,
        proof_seconds=proof_seconds,
    )


def _claim(cell: Cell) -> tuple[tuple[Intervals, ...], tuple[Intervals, ...]]:
    return (
        tuple(cell.may.intervals(p) for p in PROTOCOLS),
        tuple(cell.always.intervals(p) for p in PROTOCOLS),
    )


def _disagreement(algebra: _Algebra, builder: _Builder, outcome) -> str:
    """Why the solver's packet contradicts the matrix, replayed through the reference evaluator."""
    packet = outcome.packet
    i, j = builder.row_of(packet.src), builder.row_of(packet.dst)
    if packet.is_self and i is not None:
        cell = builder.own_cells.get(i, EMPTY_CELL)
        kind = "a pod to itself"
    else:
        cell = builder.pair_cells.get((i, j), EMPTY_CELL) if i is not None and j is not None else EMPTY_CELL
        kind = "two distinct pods"
    evaluator = decide(algebra.cluster, packet, algebra.semantics).allowed
    in_may = cell.may.contains(packet.protocol, packet.port)
    in_always = cell.always.contains(packet.protocol, packet.port)
    where = f"{builder.rows[i] if i is not None else '?'} -> {builder.rows[j] if j is not None else '?'}"
    if evaluator != outcome.allowed:
        culprit = "the SMT encoding and the reference evaluator disagree on this packet"
    elif evaluator and not in_may:
        culprit = "the matrix misses a port the reference evaluator allows"
    elif not evaluator and in_always:
        culprit = "the matrix says always allowed, the reference evaluator denies"
    else:
        culprit = "the solver's packet does not contradict the cell"
    return (
        f"connectivity matrix {where} ({kind}), {packet.protocol} {packet.port}: {culprit} "
        f"(solver: {'allowed' if outcome.allowed else 'denied'}, reference evaluator: "
        f"{'allowed' if evaluator else 'denied'}, cell: {cell.text()}); packet {packet!r}"
    )


# --- workload and namespace matrices -----------------------------------------------------------


class _Cells:
    """Unites (may) and intersects (always) the cells of a set of units (kinds of pod pairs)."""

    __slots__ = ("algebra", "may", "always", "sure")

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        self.may = EMPTY
        self.always: Optional[PortSet] = None
        #: Units seen so far (each with a non-empty cell).
        self.sure = 0

    def add(self, cell: Cell) -> None:
        self.may = self.algebra.union(self.may, cell.may)
        self.always = cell.always if self.always is None else self.algebra.meet(self.always, cell.always)
        self.sure += 1

    def cell(self, units: int) -> Cell:
        """The combined cell, when ``units`` units exist (units not added allowed nothing)."""
        always = self.always if self.always is not None and self.sure == units else EMPTY
        return Cell(self.may, always)


def _combine(parts: list[Cell]) -> Cell:
    may = EMPTY
    always: Optional[PortSet] = None
    for part in parts:
        may = may | part.may
        always = part.always if always is None else always & part.always
    return Cell(may, always if always is not None else EMPTY)


class _Builder:
    """Builds one kind of matrix from the algebra.

    ``pair_cells``: (row, column) -> cell of packets between two distinct pods (row ==
    column: two pods of the row); ``own_cells``: row -> cell of a pod's packets to itself;
    ``cells``: what the matrix shows, both combined; ``void``: pairs with no packet at all.
    """

    rows: tuple[str, ...]
    cells: dict[tuple[int, int], Cell]
    pair_cells: dict[tuple[int, int], Cell]
    own_cells: dict[int, Cell]
    void: set[tuple[int, int]]

    def build(self) -> None:
        raise NotImplementedError

    def row_members(self) -> tuple[tuple[int, ...], ...]:
        raise NotImplementedError

    def row_of(self, endpoint) -> Optional[int]:
        raise NotImplementedError

    def confirm_witnesses(self) -> int:
        raise NotImplementedError


def _may_only_ports(cell: Cell) -> Iterator[tuple[Protocol, int]]:
    """The first port of every may-only interval of a cell."""
    for protocol in PROTOCOLS:
        for lo, _ in cell.may_only.intervals(protocol):
            yield protocol, lo


class _WorkloadMatrix(_Builder):
    """Rows and columns are workloads; a cell is copied from its pair of classes."""

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        cluster = algebra.cluster
        self.order = sorted(
            algebra.workloads,
            key=lambda i: (cluster.workloads[i].namespace, cluster.workloads[i].kind, cluster.workloads[i].name),
        )
        self.row_index = {w: r for r, w in enumerate(self.order)}
        self.by_key = {cluster.workloads[w].key: r for r, w in enumerate(self.order)}
        self.rows = tuple(cluster.workloads[i].key for i in self.order)

    def build(self) -> None:
        a = self.algebra
        cluster = a.cluster
        #: Class pair -> cell, for the witnesses.
        self.class_cells: dict[tuple[int, int], Cell] = {}
        self.class_self: dict[int, Cell] = {}
        for s, d in a.candidates():
            if s == d and not a.classes[s].many_pods:
                continue
            cell = a.pair(a.classes[s], a.classes[d])
            if cell is not None and not cell.may.is_empty:
                self.class_cells[(s, d)] = cell
        pair_cells: dict[tuple[int, int], Cell] = {}
        for (s, d), cell in self.class_cells.items():
            for ws in a.classes[s].workloads:
                i = self.row_index[ws]
                for wd in a.classes[d].workloads:
                    if ws != wd or not cluster.workloads[ws].single_pod:
                        pair_cells[(i, self.row_index[wd])] = cell
        own_cells: dict[int, Cell] = {}
        void: set[tuple[int, int]] = set()
        if a.universe.self_traffic:
            for cls in a.classes:
                own = a.self_cell(cls)
                if own is not None and not own.may.is_empty:
                    self.class_self[cls.index] = own
                    for w in cls.workloads:
                        own_cells[self.row_index[w]] = own
        cells = dict(pair_cells)
        # The diagonal: other pods of the workload, and the pod itself with self traffic.
        for ws in self.order:
            cls = a.classes[a.class_of[ws]]
            i = self.row_index[ws]
            parts = []
            if not cluster.workloads[ws].single_pod and a._keys(cls, cls):
                parts.append(pair_cells.get((i, i), EMPTY_CELL))
            if a.universe.self_traffic and cls.profile.variants:
                parts.append(own_cells.get(i, EMPTY_CELL))
            cells.pop((i, i), None)
            if not parts:
                void.add((i, i))
                continue
            cell = _combine(parts)
            if not cell.may.is_empty:
                cells[(i, i)] = cell
        void |= self._void_pairs()
        self.cells, self.pair_cells, self.own_cells, self.void = cells, pair_cells, own_cells, void

    def _void_pairs(self) -> set[tuple[int, int]]:
        """Distinct workloads whose pods have no IP family in common (or no pods at all)."""
        a = self.algebra
        by_families: dict[frozenset, list[int]] = {}
        for ws in self.order:
            by_families.setdefault(a.classes[a.class_of[ws]].profile.families, []).append(self.row_index[ws])
        void = set()
        for f1, rows1 in by_families.items():
            for f2, rows2 in by_families.items():
                if not (f1 & f2):
                    void.update((i, j) for i in rows1 for j in rows2 if i != j)
        return void

    def row_members(self) -> tuple[tuple[int, ...], ...]:
        return tuple((w,) for w in self.order)

    def row_of(self, endpoint) -> Optional[int]:
        if isinstance(endpoint, PodEndpoint) and endpoint.workload is not None:
            return self.by_key.get(endpoint.workload)
        return None

    def confirm_witnesses(self) -> int:
        """For the start of every may-only range of every class cell: a packet the
        reference evaluator allows and one it denies."""
        a = self.algebra
        count = 0
        for (s, d), cell in sorted(self.class_cells.items()):
            count += _confirm_cell(a, [(a.classes[s], a.classes[d], False, cell)], tuple, cell, f"{a.cluster.workloads[a.classes[s].workloads[0]].key} -> {a.cluster.workloads[a.classes[d].workloads[0]].key}")
        for c, cell in sorted(self.class_self.items()):
            key = a.cluster.workloads[a.classes[c].workloads[0]].key
            count += _confirm_cell(a, [(a.classes[c], a.classes[c], True, cell)], tuple, cell, f"{key} -> itself")
        return count


def _confirm_cell(a: _Algebra, parts, empty_units: Callable[[], Iterable], cell: Cell, where: str) -> int:
    """Witnesses for the may-only ports of ``cell``, whose units are ``parts`` (src class,
    dst class, self packets, cell) and ``empty_units()`` (units whose cell is empty)."""
    count = 0
    for protocol, port in _may_only_ports(cell):
        allowed = next(
            (
                packet
                for src, dst, own, part in parts
                if part.may.contains(protocol, port)
                for packet in [a.confirm(src, dst, protocol, port, True, own)]
                if packet is not None
            ),
            None,
        )
        denied = next(
            (
                packet
                for src, dst, own, part in itertools.chain(parts, empty_units())
                if part is None or not part.always.contains(protocol, port)
                for packet in [a.confirm(src, dst, protocol, port, False, own)]
                if packet is not None
            ),
            None,
        )
        if allowed is None or denied is None:
            missing = "allowed" if allowed is None else "denied"
            raise InternalError(
                f"connectivity matrix {where}: the cell says {cell.text()}, but no packet on {protocol} {port} "
                f"is {missing} by the reference evaluator"
            )
        count += 1
    return count


class _NamespaceMatrix(_Builder):
    """Rows and columns are namespaces; a cell unites (may) and intersects (always) the cells
    of every pair of pods of the two namespaces."""

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        self.rows = tuple(sorted(algebra.classes_by_namespace))
        self.row_index = {ns: r for r, ns in enumerate(self.rows)}
        self._signatures: dict[str, tuple] = {}

    def build(self) -> None:
        a = self.algebra
        pairs: dict[tuple[int, int], _Cells] = {}
        owns: dict[int, _Cells] = {}
        self.parts: dict[tuple[int, int], list[tuple[_Class, _Class, bool, Cell]]] = {}
        for s, d in a.candidates():
            src, dst = a.classes[s], a.classes[d]
            if s == d and not src.many_pods:
                continue
            cell = a.pair(src, dst)
            if cell is None or cell.may.is_empty:
                continue
            key = (self.row_index[src.namespace], self.row_index[dst.namespace])
            pairs.setdefault(key, _Cells(a)).add(cell)
            self.parts.setdefault(key, []).append((src, dst, False, cell))
        if a.universe.self_traffic:
            for cls in a.classes:
                own = a.self_cell(cls)
                if own is not None and not own.may.is_empty:
                    r = self.row_index[cls.namespace]
                    owns.setdefault(r, _Cells(a)).add(own)
                    self.parts.setdefault((r, r), []).append((cls, cls, True, own))
        self.pair_cells = {key: acc.cell(self._pair_units(key)) for key, acc in pairs.items()}
        self.own_cells = {r: acc.cell(self._own_units(r)) for r, acc in owns.items()}
        cells: dict[tuple[int, int], Cell] = {}
        for key in set(self.pair_cells) | {(r, r) for r in self.own_cells}:
            parts = []
            if self._pair_units(key):
                parts.append(self.pair_cells.get(key, EMPTY_CELL))
            if key[0] == key[1] and self._own_units(key[0]):
                parts.append(self.own_cells.get(key[0], EMPTY_CELL))
            cell = _combine(parts)
            if not cell.may.is_empty:
                cells[key] = cell
        self.cells = cells
        self.void = self._void()

    def _signature(self, ns: str) -> tuple:
        """How many classes of the namespace have pods of each set of IP families."""
        hit = self._signatures.get(ns)
        if hit is not None:
            return hit
        a = self.algebra
        counts: dict[frozenset, int] = {}
        for c in a.classes_by_namespace[ns]:
            counts[c.profile.families] = counts.get(c.profile.families, 0) + 1
        hit = self._signatures[ns] = tuple(sorted(counts.items(), key=lambda kv: sorted(kv[0])))
        return hit

    def _pair_units(self, key: tuple[int, int]) -> int:
        """How many kinds of distinct-pod pairs (class pairs) the namespace pair holds."""
        a = self.algebra
        ns1, ns2 = self.rows[key[0]], self.rows[key[1]]
        total = sum(
            n1 * n2
            for f1, n1 in self._signature(ns1)
            for f2, n2 in self._signature(ns2)
            if f1 & f2
        )
        if ns1 == ns2:
            classes = a.classes_by_namespace[ns1]
            total -= sum(1 for c in classes if c.profile.families and not c.many_pods)
        return total

    def _own_units(self, row: int) -> int:
        a = self.algebra
        if not a.universe.self_traffic:
            return 0
        return sum(1 for c in a.classes_by_namespace[self.rows[row]] if c.profile.variants)

    def _void(self) -> set[tuple[int, int]]:
        """Namespace pairs with no packet between pods of their workloads."""
        groups: dict[tuple, list[int]] = {}
        for r, ns in enumerate(self.rows):
            groups.setdefault(self._signature(ns), []).append(r)
        void = set()
        for sig1, rows1 in groups.items():
            for sig2, rows2 in groups.items():
                if any(f1 & f2 for f1, _ in sig1 for f2, _ in sig2):
                    continue
                void.update((i, j) for i in rows1 for j in rows2 if i != j)
        for r in range(len(self.rows)):
            if not self._pair_units((r, r)) and not self._own_units(r):
                void.add((r, r))
        return void

    def row_members(self) -> tuple[tuple[int, ...], ...]:
        a = self.algebra
        members: dict[str, list[int]] = {ns: [] for ns in self.rows}
        for w in a.workloads:
            members[a.cluster.workloads[w].namespace].append(w)
        return tuple(tuple(members[ns]) for ns in self.rows)

    def row_of(self, endpoint) -> Optional[int]:
        if isinstance(endpoint, PodEndpoint):
            return self.row_index.get(endpoint.namespace)
        return None

    def confirm_witnesses(self) -> int:
        """For the start of every may-only range of every namespace cell: a pair of pods
        the reference evaluator allows and one it denies."""
        a = self.algebra
        count = 0
        for key, cell in sorted(self.cells.items()):
            if cell.may_only.is_empty:
                continue
            parts = self.parts.get(key, [])
            ns1, ns2 = self.rows[key[0]], self.rows[key[1]]

            def empty_units(parts=parts, ns1=ns1, ns2=ns2):
                """Units (pairs of classes, a class's pods to themselves) with an empty cell."""
                present = {(src.index, dst.index, own) for src, dst, own, _ in parts}
                for src in a.classes_by_namespace[ns1]:
                    for dst in a.classes_by_namespace[ns2]:
                        if (src.index, dst.index, False) not in present and (src is not dst or src.many_pods):
                            yield src, dst, False, None
                if ns1 == ns2 and a.universe.self_traffic:
                    for c in a.classes_by_namespace[ns1]:
                        if (c.index, c.index, True) not in present:
                            yield c, c, True, None

            count += _confirm_cell(a, parts, empty_units, cell, f"{ns1} -> {ns2}")
        return count
