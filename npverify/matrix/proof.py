"""Checking a matrix: witness packets for may-only ports, and the glue to the solver's proof.

Every may-only port range of every cell gets two concrete packets at its first port, built
from the variants the algebra says allow it and deny it, replayed through the reference
evaluator (npverify/semantics.py) and checked to lie in the universe. The solver's proof
(npverify/smt/matrix.py) takes the cells as a claim (``_claim``); a packet it finds
against the claim is explained, cell and culprit, by ``_disagreement``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Optional

from npverify import tiers
from npverify.errors import InternalError
from npverify.matrix.cells import EMPTY_CELL, PROTOCOLS, Cell, Intervals
from npverify.matrix.variants import _address, _bits, _Class
from npverify.model import Cluster, Packet, PodEndpoint, Protocol
from npverify.semantics import Decision, decide, possible_outcomes, universe_problem

if TYPE_CHECKING:
    from npverify.matrix.algebra import _Algebra
    from npverify.matrix.builders import _Builder

# --- witnesses ---------------------------------------------------------------------------------


def _members(src: _Class, dst: _Class, self_packets: bool) -> tuple[int, int]:
    """Workloads (cluster indexes) for a source and a destination pod of the classes."""
    ws = src.workloads[0]
    if self_packets:
        return ws, ws
    if src is dst:
        return ws, src.workloads[1] if len(src.workloads) > 1 else ws
    return ws, dst.workloads[0]


def _endpoint(a: _Algebra, cls: _Class, workload: int, variant: int, pod_id: str, address: int) -> PodEndpoint:
    """A concrete pod of ``workload`` (of ``cls``) of one variant, on ``address``."""
    v = cls.profile.variants[variant]
    w = a.cluster.workloads[workload]
    return PodEndpoint(
        namespace=cls.namespace,
        namespace_labels=a._namespace_labels(cls.namespace)[v.assignment],
        labels=w.labels,
        ip=_address(v.family, address),
        ports=w.ports,
        host_network=w.host_network,
        workload=w.key,
        pod_id=pod_id,
    )


def _variant_pairs(a: _Algebra, src: _Class, dst: _Class, self_packets: bool) -> Iterator[tuple[int, int]]:
    """The variant pairs (source, destination) that occur together."""
    if self_packets:
        for v in range(len(src.profile.variants)):
            yield v, v
        return
    distinct_ips = not (src.host_network and dst.host_network)
    for s_mask, d_mask, _ in a._keys(src, dst):
        for u in _bits(s_mask):
            for v in _bits(d_mask):
                su, dv = src.profile.variants[u].single, dst.profile.variants[v].single
                if distinct_ips and su is not None and su == dv:
                    continue
                yield u, v


def _witness(
    a: _Algebra, src: _Class, dst: _Class, protocol: Protocol, port: int, allowed: bool, self_packets: bool
) -> Optional[Packet]:
    """A packet between pods of ``src`` and ``dst`` (one pod to itself with
    ``self_packets``) that the algebra allows (or denies) on ``protocol``/``port``,
    replayed through the reference evaluator, which must agree."""
    if a.tiers is not None:
        return _tiered_witness(a, src, dst, protocol, port, allowed, self_packets)
    e_base, e_partial = a.egress(src, dst)
    i_base, i_partial = a.ingress(dst, src)
    for u, v in _variant_pairs(a, src, dst, self_packets):
        predicted = a.union(e_base, a._over(e_partial, 1 << v)).contains(protocol, port) and a.union(
            i_base, a._over(i_partial, 1 << u)
        ).contains(protocol, port)
        if self_packets and a.semantics.self_traffic_allowed:
            predicted = True
        if predicted is not allowed:
            continue
        packet = _packet(a, src, dst, u, v, protocol, port, self_packets)
        if _decide(a, packet) is not allowed:
            raise InternalError(
                f"connectivity matrix: the set algebra says {'allowed' if allowed else 'denied'}, the "
                f"reference evaluator says {'denied' if allowed else 'allowed'}: {packet!r}"
            )
        return packet
    return None


def _predicted(a: _Algebra, src: _Class, dst: _Class, u: int, v: int, protocol: Protocol, port: int, self_packets: bool) -> frozenset[bool]:
    """With cluster-scoped policies: the verdicts the algebra says a packet from variant
    ``u`` to variant ``v`` can get, over what no manifest says (one verdict when known)."""
    if self_packets and a.semantics.self_traffic_allowed:
        return frozenset({True})
    assert a.tiers is not None
    e, i = a.tiers.outcomes_at(src, dst, u, v)
    if e.sure.contains(protocol, port) and i.sure.contains(protocol, port):
        return frozenset({True})
    if e.possible.contains(protocol, port) and i.possible.contains(protocol, port):
        return frozenset({True, False})
    return frozenset({False})


def _tiered_witness(
    a: _Algebra, src: _Class, dst: _Class, protocol: Protocol, port: int, allowed: bool, self_packets: bool
) -> Optional[Packet]:
    """``_witness`` with cluster-scoped policies: a packet the algebra says may get the
    verdict ``allowed``; the evaluator, over every resolution of what no manifest says
    (``possible_outcomes``), must give it exactly the verdicts the algebra predicts."""
    for u, v in _variant_pairs(a, src, dst, self_packets):
        predicted = _predicted(a, src, dst, u, v, protocol, port, self_packets)
        if allowed not in predicted:
            continue
        packet = _packet(a, src, dst, u, v, protocol, port, self_packets)
        outcomes = possible_outcomes(_local(a, packet), packet, a.semantics, nodes=a.universe.nodes)
        verdicts = outcomes.allowed_values
        # Past MAX_RESOLUTIONS the evaluator stops trying (and says so last): what it
        # found must then be predicted.
        complete = not outcomes.depends_on or outcomes.depends_on[-1] != _GAVE_UP
        if verdicts != predicted if complete else not verdicts <= predicted:
            raise InternalError(
                f"connectivity matrix: the set algebra says {_verdicts_text(predicted)}, the reference "
                f"evaluator says {_verdicts_text(verdicts)}: {packet!r}"
            )
        return packet
    return None


#: The last of ``Outcomes.depends_on`` when possible_outcomes stopped at MAX_RESOLUTIONS.
_GAVE_UP = "more resolutions than npverify tries"


def _verdicts_text(verdicts: frozenset[bool]) -> str:
    if len(verdicts) > 1:
        return "allowed or denied, depending on what no manifest says"
    return "allowed" if True in verdicts else "denied"


def _packet(a: _Algebra, src: _Class, dst: _Class, u: int, v: int, protocol: Protocol, port: int, self_packets: bool) -> Packet:
    """A concrete packet from a pod of ``src`` in variant ``u`` to a pod of ``dst`` in
    variant ``v`` (one pod to itself with ``self_packets``)."""
    ws, wd = _members(src, dst, self_packets)
    src_key = a.cluster.workloads[ws].key
    dst_key = a.cluster.workloads[wd].key
    sv, dv = src.profile.variants[u], dst.profile.variants[v]
    if self_packets:
        s = d = _endpoint(a, src, ws, u, src_key, sv.low)
    else:
        # Distinct pods, distinct addresses: a side fixed to one address keeps it, the
        # other moves off it within its range. Two hostNetwork pods may share their node's
        # address, but then the source is the destination's own node, whose traffic the
        # cells leave out: they share it only when both are fixed to it.
        s_at, d_at = sv.low, dv.low
        if s_at == d_at:
            if dv.single is None:
                d_at += 1
            elif sv.single is None:
                s_at += 1
        s = _endpoint(a, src, ws, u, f"{src_key}#src", s_at)
        d = _endpoint(a, dst, wd, v, f"{dst_key}#dst", d_at)
    return Packet(s, d, protocol, port)


def _local(a: _Algebra, packet: Packet) -> Cluster:
    """The policies that can decide a packet between two pods: the NetworkPolicies of the
    two ends' namespaces, and the cluster-scoped policies whose subject holds one of the
    two pods (tiers.pod_set_matches: the evaluator passes over the others, in every tier
    and group, before anything else; at 20,000 pods there are a hundred of them)."""
    names = tuple(sorted({packet.src.namespace, packet.dst.namespace}))  # type: ignore[union-attr]
    everyone = a.cluster.cluster_policies
    held = _subject_of(a, packet.src) | _subject_of(a, packet.dst)
    # None holding either pod: keep them all, so that the cluster stays tiered (a trace
    # then still walks the tiers) at the old cost.
    kept = tuple(p for i, p in enumerate(everyone) if i in held) if held else everyone
    key = (names, held)
    # One per pair of namespaces and subjects: every witness between them needs the same
    # (building a cluster sorts the cluster-scoped policies into tier groups).
    hit = _local_clusters(a).get(key)
    if hit is None:
        hit = _local_clusters(a)[key] = Cluster(
            policies=[p for n in names for p in a.policies_by_namespace.get(n, [])],
            cluster_policies=kept,
            nodes=a.cluster.nodes,
        )
    return hit


def _subject_of(a: _Algebra, endpoint) -> frozenset[int]:
    """The indexes of the cluster-scoped policies whose subject holds ``endpoint``."""
    if not a.cluster.cluster_policies:
        return frozenset()
    key = ("subject", endpoint.labels, endpoint.namespace_labels, endpoint.host_network)
    hit = _local_clusters(a).get(key)
    if hit is None:
        hit = _local_clusters(a)[key] = frozenset(
            i for i, p in enumerate(a.cluster.cluster_policies) if tiers.pod_set_matches(p.subject, endpoint)
        )
    return hit


#: Local clusters kept per algebra above which the cache starts over (at 20,000 pods a
#: million pairs of namespaces can hold witnesses; the witnesses come cell by cell).
LOCAL_CLUSTERS = 10_000


def _local_clusters(a: _Algebra) -> dict[tuple, Cluster]:
    """The algebra's cache of ``_local`` and ``_universe_problem`` clusters."""
    cache = a.local_clusters
    if len(cache) > LOCAL_CLUSTERS:
        cache.clear()
    return cache


def _decision(a: _Algebra, packet: Packet) -> Decision:
    """The reference evaluator's decision on a packet between two pods (for unknowns of
    cluster-scoped policies, under its default resolution)."""
    return decide(_local(a, packet), packet, a.semantics, nodes=a.universe.nodes)


def _decide(a: _Algebra, packet: Packet) -> bool:
    """The reference evaluator's verdict on a packet between two pods."""
    return _decision(a, packet).allowed


def _universe_problem(a: _Algebra, packet: Packet) -> Optional[str]:
    """Why a witness packet lies outside the universe (None: it does not)."""
    names = tuple(sorted({packet.src.namespace, packet.dst.namespace}))  # type: ignore[union-attr]
    keys = tuple(sorted({packet.src.workload, packet.dst.workload}))  # type: ignore[union-attr,type-var]
    local = _local_clusters(a).get((names, keys))
    if local is None:
        local = _local_clusters(a)[(names, keys)] = Cluster(
            namespaces=[a.declared[n] for n in names if n in a.declared],
            workloads=[a.by_key[k] for k in keys if k in a.by_key],  # type: ignore[index]
        )
    return universe_problem(local, packet, a.universe)


def _confirm(a: _Algebra, src: _Class, dst: _Class, protocol: Protocol, port: int, allowed: bool, self_packets: bool) -> Optional[Packet]:
    """``_witness``, checked to lie in the universe."""
    packet = _witness(a, src, dst, protocol, port, allowed, self_packets)
    if packet is not None:
        problem = _universe_problem(a, packet)
        if problem:
            raise InternalError(f"connectivity matrix: a witness packet lies outside the universe ({problem}): {packet!r}")
    return packet



def _may_only_ports(cell: Cell) -> Iterator[tuple[Protocol, int]]:
    """The first port of every may-only interval of a cell."""
    for protocol in PROTOCOLS:
        for lo, _ in cell.may_only.intervals(protocol):
            yield protocol, lo



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
                for packet in [_confirm(a, src, dst, protocol, port, True, own)]
                if packet is not None
            ),
            None,
        )
        denied = next(
            (
                packet
                for src, dst, own, part in itertools.chain(parts, empty_units())
                if part is None or not part.always.contains(protocol, port)
                for packet in [_confirm(a, src, dst, protocol, port, False, own)]
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


# --- the solver's proof ------------------------------------------------------------------------


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
    evaluator = decide(algebra.cluster, packet, algebra.semantics, nodes=algebra.universe.nodes).allowed
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
