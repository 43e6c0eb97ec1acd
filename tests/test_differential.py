"""Differential properties: the SMT encoding agrees with the reference evaluator.

Three layers:

* packet level: a concrete packet pinned in the encoding is allowed iff
  ``semantics.decide`` allows it, in several universes and under every semantic option;
* invariant level, exact: in a universe of single pods with known IPs, the Verifier's
  verdict equals a brute-force verdict over every pod pair, protocol and boundary port;
* invariant level, sound: in the open universe, a PROVED verdict is never contradicted by
  a packet built from drawn endpoints (and every witness or counterexample replays, which
  the Verifier itself enforces by raising InternalError).

Runs are reproducible (``derandomize=True``). NPVERIFY_DIFF_EXAMPLES sets the number of
examples per test (default: the CI size); raise it for a deep run, e.g.
``NPVERIFY_DIFF_EXAMPLES=2000 python -m pytest tests/test_differential.py``.
"""

from __future__ import annotations

import ipaddress
import itertools
import os

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from npverify.engine import Verifier
from npverify.invariants.model import Invariant, InvariantKind, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Endpoint,
    ExternalEndpoint,
    Labels,
    Namespace,
    NodeEndpoint,
    Packet,
    PodEndpoint,
    Protocol,
    Semantics,
    Universe,
)
from npverify.results import Verdict
from npverify.semantics import decide, ports_match, scope_matches, universe_problem
from npverify.smt import SolverSession, mentions_of

from tests import strategies as s

#: Examples per test; the default is sized for CI (the module runs in about a minute).
EXAMPLES = int(os.environ.get("NPVERIFY_DIFF_EXAMPLES", "40"))

DIFF_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

WIDE = dict(host_network=True, node_traffic=True, self_traffic=True)

#: (universe, semantics) pairs the packet-level property runs in.
PACKET_CONFIGS = {
    "default": (Universe(), Semantics()),
    "ipblock-not-pods": (Universe(), Semantics(ip_block_matches_pods=False)),
    "wide": (Universe(**WIDE), Semantics()),
    "wide-all-flipped": (
        Universe(**WIDE),
        Semantics(ip_block_matches_pods=False, self_traffic_allowed=False, own_node_traffic_allowed=False),
    ),
    "pod-cidrs": (Universe(pod_cidrs=s.POD_CIDRS), Semantics()),
    "pod-cidrs-wide": (Universe(pod_cidrs=s.POD_CIDRS, **WIDE), Semantics(ip_block_matches_pods=False)),
    "declared": (Universe(namespaces="declared", self_traffic=True), Semantics(self_traffic_allowed=False)),
    "workloads": (Universe(pods="workloads", namespaces="declared", host_network=True, self_traffic=True), Semantics()),
}


def _worlds_for(universe: Universe) -> st.SearchStrategy[s.World]:
    return s.worlds(single_pods=False, host_network=universe.host_network, pod_cidrs=universe.pod_cidrs)


def _world_and_packets(universe: Universe) -> st.SearchStrategy[tuple[s.World, list[Packet]]]:
    return _worlds_for(universe).flatmap(
        lambda world: st.tuples(st.just(world), st.lists(s.packets(world, universe), min_size=1, max_size=10))
    )


def _describe(cluster: Cluster, packet: Packet, semantics: Semantics, smt: bool | None, reference: bool) -> str:
    decision = decide(cluster, packet, semantics)
    return (
        f"SMT says {smt}, the evaluator says {reference}\n"
        f"packet: {packet!r}\ncluster: {cluster!r}\nevaluator: {decision.describe()}"
    )


def check_packets(cluster: Cluster, packets: list[Packet], universe: Universe, semantics: Semantics) -> None:
    """Every packet of the universe gets the same answer from the encoding and the evaluator."""
    valid = [p for p in packets if universe_problem(cluster, p, universe) is None]
    event(f"packets in the universe: {'none' if not valid else 'some' if len(valid) < len(packets) else 'all'}")
    if not valid:
        return
    session = SolverSession(cluster, mentions_of(cluster.policies), universe, semantics)
    for packet in valid:
        reference = decide(cluster, packet, semantics).allowed
        smt = session.evaluate(packet)
        event(f"{_kind(packet.src)} -> {_kind(packet.dst)}: {'allowed' if reference else 'denied'}")
        assert smt == reference, _describe(cluster, packet, semantics, smt, reference)


def _kind(endpoint: Endpoint) -> str:
    if isinstance(endpoint, PodEndpoint):
        return "hostNetwork pod" if endpoint.host_network else "pod"
    return "node" if isinstance(endpoint, NodeEndpoint) else "external"


# --- a. packet level ----------------------------------------------------------------------

_NS1 = Namespace("ns1", Labels.of({NAMESPACE_NAME_LABEL: "ns1"}))
_POD = PodEndpoint("ns1", _NS1.labels, Labels(), ipaddress.ip_address("10.0.0.1"), pod_id="pod")


def _example(src: Endpoint) -> tuple[s.World, list[Packet]]:
    world = s.World(Cluster(namespaces=[_NS1]), (("ns1", _NS1.labels),))
    return world, [Packet(src, _POD, Protocol.TCP, 80)]


@pytest.mark.parametrize("config", sorted(PACKET_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_packet_verdicts_agree(config: str, data: st.DataObject) -> None:
    universe, semantics = PACKET_CONFIGS[config]
    world, packets = data.draw(_world_and_packets(universe), label="world and packets")
    check_packets(world.cluster, packets, universe, semantics)


@pytest.mark.parametrize(
    "src",
    [
        NodeEndpoint(ipaddress.ip_address("10.0.0.9"), own_node=False),
        PodEndpoint("ns1", _NS1.labels, Labels(), ipaddress.ip_address("10.0.0.9"), host_network=True, pod_id="h"),
    ],
    ids=["node", "hostNetwork-pod"],
)
def test_node_addresses_inside_pod_cidrs(src: Endpoint) -> None:
    """A node or hostNetwork pod whose IP lies inside the pod CIDRs: the evaluator's
    universe admits it, so the encoding must decide it too (minimal pod-cidrs-wide case)."""
    world, packets = _example(src)
    check_packets(world.cluster, packets, Universe(pod_cidrs=s.POD_CIDRS, **WIDE), Semantics())


# --- b. invariant level, exact, in a universe of single pods --------------------------------

EXACT_UNIVERSE = Universe(pods="workloads", namespaces="declared")


def _workload_key(cluster: Cluster, scope: Scope) -> str | None:
    if scope.workload is None:
        return None
    name = scope.workload.rpartition("/")[2]
    return next(w.key for w in cluster.workloads if w.name == name)


def _in_scope(inv: Invariant, cluster: Cluster, packet: Packet) -> tuple[bool, bool, bool]:
    """(source in ``from``, destination in ``to``, port in ``ports``)."""
    return (
        scope_matches(inv.src, packet.src, _workload_key(cluster, inv.src)),
        scope_matches(inv.dst, packet.dst, _workload_key(cluster, inv.dst)),
        ports_match(inv.ports, packet.protocol, packet.port, packet.dst),
    )


def _holds(inv: Invariant, cluster: Cluster, packets, semantics: Semantics) -> tuple[bool, Packet | None]:
    """Does the invariant hold over ``packets`` (an iterable of packets of the universe)?
    Returns the verdict of a check over exactly these packets and the deciding packet."""
    kind = inv.kind
    for packet in packets:
        in_src, in_dst, in_ports = _in_scope(inv, cluster, packet)
        if not (in_dst and in_ports):
            continue
        if kind is InvariantKind.ONLY:
            if not in_src and decide(cluster, packet, semantics).allowed:
                return False, packet
            continue
        if not in_src:
            continue
        allowed = decide(cluster, packet, semantics).allowed
        if kind is InvariantKind.ALLOWED and not allowed:
            return False, packet
        if kind is InvariantKind.ISOLATED and allowed:
            return False, packet
        if kind is InvariantKind.REACHABLE and allowed:
            return True, packet
    return kind is not InvariantKind.REACHABLE, None


def exact_packets(world: s.World, inv: Invariant):
    """Every packet of EXACT_UNIVERSE that can decide ``inv``, up to equivalence.

    Pods: each single-pod workload at each of its IPs. Sources for ``only`` include
    external hosts at every CIDR boundary (all ipBlocks come from strategies.NETWORKS).
    Ports: strategies.boundary_ports, between which no decision changes.
    """
    cluster = world.cluster
    pods = [s.workload_pod(world, w, ip, w.key) for w in cluster.workloads for ip in w.ips]
    ports = s.boundary_ports(cluster, extra=inv.ports)
    for dst in pods:
        sources: list[Endpoint] = [p for p in pods if p.workload != dst.workload]
        if inv.kind is InvariantKind.ONLY:
            sources += [ExternalEndpoint(ip) for ip in s.BOUNDARY_IPS[dst.ip.version]]
        for src in sources:
            if src.ip.version != dst.ip.version:
                continue
            for protocol, port in itertools.product(s.PROTOCOLS, ports):
                yield Packet(src, dst, protocol, port)


def _exact_cases():
    worlds = s.worlds(single_pods=True, declare_all=True, max_workloads=4)
    return worlds.flatmap(
        lambda world: st.tuples(
            st.just(world),
            st.lists(s.invariants(world, s.pod_scopes), min_size=1, max_size=4),
            st.sampled_from((Semantics(), Semantics(ip_block_matches_pods=False))),
        )
    )


@DIFF_SETTINGS
@given(case=_exact_cases())
def test_verdicts_equal_brute_force_over_single_pods(case) -> None:
    world, invs, semantics = case
    cluster = world.cluster
    verifier = Verifier(cluster, EXACT_UNIVERSE, semantics)
    for inv in invs:
        packets = list(exact_packets(world, inv))
        assert all(universe_problem(cluster, p, EXACT_UNIVERSE) is None for p in packets)
        holds, deciding = _holds(inv, cluster, packets, semantics)
        expected = Verdict.PROVED if holds else Verdict.REFUTED
        result = verifier.check(inv)
        event(f"{inv.kind}: {expected}")
        assert result.verdict is expected, (
            f"Verifier says {result.verdict} (packet {result.packet!r}), brute force says {expected} "
            f"(deciding packet {deciding!r})\ninvariant: {inv!r}\ncluster: {cluster!r}"
        )


# --- c. invariant level, soundness in open universes ------------------------------------------

SOUND_CONFIGS = {
    "default": (Universe(), Semantics()),
    "wide": (Universe(**WIDE), Semantics(ip_block_matches_pods=False)),
}


@st.composite
def _sample_endpoints(draw, world: s.World, universe: Universe) -> list[Endpoint]:
    family = draw(s.families())
    count = draw(st.integers(2, 6))
    return [draw(s.endpoints(world, universe, family, f"pod-{i}")) for i in range(count)]


def sample_packets(world: s.World, universe: Universe, inv: Invariant, endpoints: list[Endpoint]):
    """Every packet between two of ``endpoints`` (a pod to itself too) on every protocol
    and boundary port that lies in the universe."""
    ports = s.boundary_ports(world.cluster, extra=inv.ports, endpoints=endpoints)
    for src, dst in itertools.product(endpoints, repeat=2):
        for protocol, port in itertools.product(s.PROTOCOLS, ports):
            packet = Packet(src, dst, protocol, port)
            if universe_problem(world.cluster, packet, universe) is None:
                yield packet


def _sound_cases(universe: Universe):
    return s.worlds(single_pods=False, host_network=universe.host_network).flatmap(
        lambda world: st.tuples(
            st.just(world),
            st.lists(s.invariants(world, s.any_scopes), min_size=1, max_size=4),
            _sample_endpoints(world, universe),
        )
    )


@pytest.mark.parametrize("config", sorted(SOUND_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_proved_is_never_contradicted(config: str, data: st.DataObject) -> None:
    universe, semantics = SOUND_CONFIGS[config]
    world, invs, endpoints = data.draw(_sound_cases(universe), label="world, invariants, endpoints")
    cluster = world.cluster
    verifier = Verifier(cluster, universe, semantics)
    for inv in invs:
        result = verifier.check(inv)  # raises InternalError when a packet does not replay
        assert result.verdict is not Verdict.UNKNOWN, result.reason
        event(f"{inv.kind}: {result.verdict}")
        holds, deciding = _holds(inv, cluster, sample_packets(world, universe, inv, endpoints), semantics)
        if inv.kind is InvariantKind.REACHABLE:
            # A witness in the sample proves reachability: the Verifier must find one too.
            assert holds is False or result.verdict is Verdict.PROVED, (
                f"Verifier says unreachable, yet {deciding!r} is allowed\ninvariant: {inv!r}\ncluster: {cluster!r}"
            )
        elif result.verdict is Verdict.PROVED:
            assert holds, f"PROVED, yet {deciding!r} violates it\ninvariant: {inv!r}\ncluster: {cluster!r}"
