"""Differential properties: the SMT encoding agrees with the reference evaluator.

Three layers:

* packet level: a concrete packet pinned in the encoding is allowed iff
  ``semantics.decide`` allows it, in several universes and under every semantic option;
* invariant level, exact: in universes of single pods with known IPs (with and without
  hostNetwork pods, node and self traffic), the Verifier's verdict equals a brute-force
  verdict over every pod pair (and, for ``only``, every class of external and node
  address), protocol and boundary port;
* invariant level, sound: in open universes, a PROVED verdict is never contradicted by
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

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from npverify.engine import Verifier
from npverify.invariants.model import Invariant, InvariantKind, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Endpoint,
    ExternalEndpoint,
    LabelSelector,
    Labels,
    Namespace,
    Operator,
    NodeEndpoint,
    Packet,
    PodEndpoint,
    Protocol,
    Requirement,
    Semantics,
    Universe,
    Workload,
)
from npverify.results import Verdict
from npverify.semantics import decide, ports_match, scope_matches, universe_problem
from npverify.smt import SolverSession, mentions_of

from tests import strategies as s

#: Examples per test; the default is sized for CI (the module runs in about a minute).
EXAMPLES = int(os.environ.get("NPVERIFY_DIFF_EXAMPLES", "40"))

DIFF_SETTINGS = s.differential_settings(EXAMPLES)
WIDE = s.WIDE
PACKET_CONFIGS = s.PACKET_CONFIGS


def _worlds_for(universe: Universe) -> st.SearchStrategy[s.World]:
    return s.worlds(
        single_pods=False,
        host_network=universe.host_network,
        pod_cidrs=universe.pod_cidrs,
        min_workloads=2 if universe.pods == "workloads" else 0,
    )


def _world_and_packets(universe: Universe) -> st.SearchStrategy[tuple[s.World, list[Packet]]]:
    return _worlds_for(universe).flatmap(
        lambda world: st.tuples(st.just(world), st.lists(s.packets(world, universe), min_size=1, max_size=10))
    )


def _event(text: str) -> None:
    """Count an outcome for --hypothesis-show-statistics (only inside a Hypothesis test)."""
    if currently_in_test_context():
        event(text)


def _describe(cluster: Cluster, packet: Packet, semantics: Semantics, smt: bool | None, reference: bool) -> str:
    decision = decide(cluster, packet, semantics)
    return (
        f"SMT says {smt}, the evaluator says {reference}\n"
        f"packet: {packet!r}\ncluster: {cluster!r}\nevaluator: {decision.describe()}"
    )


def check_packets(cluster: Cluster, packets: list[Packet], universe: Universe, semantics: Semantics) -> None:
    """Every packet of the universe gets the same answer from the encoding and the evaluator."""
    valid = [p for p in packets if universe_problem(cluster, p, universe) is None]
    _event(f"packets in the universe: {'none' if not valid else 'some' if len(valid) < len(packets) else 'all'}")
    if not valid:
        return
    session = SolverSession(cluster, mentions_of(cluster.policies), universe, semantics)
    for packet in valid:
        reference = decide(cluster, packet, semantics).allowed
        smt = session.evaluate(packet)
        _event(f"{_kind(packet.src)} -> {_kind(packet.dst)}: {'allowed' if reference else 'denied'}")
        assert smt == reference, _describe(cluster, packet, semantics, smt, reference)


def _kind(endpoint: Endpoint) -> str:
    if isinstance(endpoint, PodEndpoint):
        return "hostNetwork pod" if endpoint.host_network else "pod"
    return "node" if isinstance(endpoint, NodeEndpoint) else "external"


# --- a. packet level ----------------------------------------------------------------------


@pytest.mark.parametrize("config", sorted(PACKET_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_packet_verdicts_agree(config: str, data: st.DataObject) -> None:
    """Packets drawn for a cluster: the pinned encoding and the evaluator agree."""
    universe, semantics = PACKET_CONFIGS[config]
    world, packets = data.draw(_world_and_packets(universe), label="world and packets")
    check_packets(world.cluster, packets, universe, semantics)


_NS1 = Namespace("ns1", Labels.of({NAMESPACE_NAME_LABEL: "ns1"}))
_SINGLE = Workload("Pod", "ns1", "w0", replicas=1)  # a Pod manifest without status.podIPs
# Pods with status IPs: one outside the pod CIDRs, one hostNetwork inside them.
_PINNED = Workload("Pod", "ns1", "db", replicas=1, ips=(ipaddress.ip_address("192.168.7.7"),))
_AGENT = Workload("Pod", "ns1", "agent", host_network=True, replicas=1, ips=(ipaddress.ip_address("10.0.0.8"),))
_CLUSTER = Cluster(namespaces=[_NS1], workloads=[_SINGLE, _PINNED, _AGENT])
_CIDRS_WIDE = Universe(pod_cidrs=s.POD_CIDRS, **WIDE)


def _pod(ip: str, pod_id: str = "pod", **fields) -> PodEndpoint:
    return PodEndpoint("ns1", _NS1.labels, Labels(), ipaddress.ip_address(ip), pod_id=pod_id, **fields)


def _w0(ip: str, pod_id: str) -> PodEndpoint:
    return _pod(ip, pod_id, workload=_SINGLE.key)


def _ext(ip: str) -> ExternalEndpoint:
    return ExternalEndpoint(ipaddress.ip_address(ip))


def _node(ip: str, own_node: bool = False) -> NodeEndpoint:
    return NodeEndpoint(ipaddress.ip_address(ip), own_node)


#: Hand-made packets on the edges of the universes: (universe, packet).
UNIVERSE_EDGES = {
    "node-inside-pod-cidrs": (_CIDRS_WIDE, Packet(NodeEndpoint(ipaddress.ip_address("10.0.0.9")), _pod("10.0.0.1"), Protocol.TCP, 80)),
    "hostNetwork-inside-pod-cidrs": (
        _CIDRS_WIDE,
        Packet(_pod("10.0.0.9", "h", host_network=True), _pod("10.0.0.1"), Protocol.TCP, 80),
    ),
    "node-outside-pod-cidrs": (
        _CIDRS_WIDE,
        Packet(NodeEndpoint(ipaddress.ip_address("192.168.0.9")), _pod("10.0.0.1"), Protocol.TCP, 80),
    ),
    "hostNetwork-outside-pod-cidrs": (
        _CIDRS_WIDE,
        Packet(_pod("192.168.0.9", "h", host_network=True), _pod("10.0.0.1"), Protocol.TCP, 80),
    ),
    # A single-pod workload has one pod: it cannot be both ends as two distinct pods ...
    "single-pod-workload-as-two-pods": (
        Universe(),
        Packet(_w0("10.0.0.1", "w0-a"), _w0("10.0.0.2", "w0-b"), Protocol.TCP, 80),
    ),
    # ... and a pod sending to itself has one IP.
    "self-packet-with-two-ips": (
        Universe(self_traffic=True),
        Packet(_w0("10.0.0.1", _SINGLE.key), _w0("10.0.0.2", _SINGLE.key), Protocol.TCP, 80),
    ),
    # An external host never has a pod's IP, nor a loaded Pod's status IP ...
    "external-with-the-pods-ip": (Universe(), Packet(_ext("10.0.0.1"), _pod("10.0.0.1"), Protocol.TCP, 80)),
    "external-with-a-status-ip": (Universe(), Packet(_ext("192.168.7.7"), _pod("10.0.0.1"), Protocol.TCP, 80)),
    "external-with-a-host-network-status-ip": (Universe(**WIDE), Packet(_pod("10.0.0.1"), _ext("10.0.0.8"), Protocol.TCP, 80)),
    # ... a node has none but a hostNetwork pod's on it ...
    "node-with-the-pods-ip": (Universe(**WIDE), Packet(_node("10.0.0.1", True), _pod("10.0.0.1"), Protocol.TCP, 80)),
    "node-with-its-host-network-pods-ip": (
        _CIDRS_WIDE,
        Packet(_node("192.168.0.9", True), _pod("192.168.0.9", "h", host_network=True), Protocol.TCP, 80),
    ),
    "other-node-with-a-host-network-pods-ip": (
        _CIDRS_WIDE,
        Packet(_node("192.168.0.9", False), _pod("192.168.0.9", "h", host_network=True), Protocol.TCP, 80),
    ),
    "node-with-a-host-network-status-ip-inside-pod-cidrs": (
        _CIDRS_WIDE,
        Packet(_node("10.0.0.8"), _pod("10.0.0.1"), Protocol.TCP, 80),
    ),
    # ... and a loaded Pod keeps its status IP outside the pod CIDRs.
    "status-ip-outside-pod-cidrs": (
        _CIDRS_WIDE,
        Packet(_pod("10.0.0.1"), _pod("192.168.7.7", "db", workload=_PINNED.key), Protocol.TCP, 80),
    ),
    "arbitrary-pod-at-a-status-ip-outside-pod-cidrs": (
        _CIDRS_WIDE,
        Packet(_pod("10.0.0.1"), _pod("192.168.7.7", "other"), Protocol.TCP, 80),
    ),
    # A hostNetwork pod source may run on the destination pod's node; no other source may.
    "host-network-pod-on-the-destination-node": (
        _CIDRS_WIDE,
        Packet(_pod("192.168.0.9", "h", host_network=True, own_node=True), _pod("10.0.0.1"), Protocol.TCP, 80),
    ),
    "pod-on-the-destination-node": (
        _CIDRS_WIDE,
        Packet(_pod("10.0.0.2", "p", own_node=True), _pod("10.0.0.1"), Protocol.TCP, 80),
    ),
    "host-network-pod-to-itself-from-its-node": (
        _CIDRS_WIDE,
        Packet(_pod("192.168.0.9", "h", host_network=True, own_node=True), _pod("192.168.0.9", "h", host_network=True), Protocol.TCP, 80),
    ),
}


@pytest.mark.parametrize("edge", sorted(UNIVERSE_EDGES))
def test_universe_membership_agrees(edge: str) -> None:
    """The encoding and the evaluator agree on whether a packet is in the universe (and,
    when it is, on its verdict). A packet the evaluator admits but the encoding excludes
    would make PROVED claim more than was checked."""
    universe, packet = UNIVERSE_EDGES[edge]
    session = SolverSession(_CLUSTER, mentions_of(_CLUSTER.policies), universe, Semantics())
    problem = universe_problem(_CLUSTER, packet, universe)
    smt = session.evaluate(packet)
    assert (problem is None) == (smt is not None), (
        f"evaluator: {problem or 'in the universe'}; SMT: {'outside the universe' if smt is None else smt}"
    )
    check_packets(_CLUSTER, [packet], universe, Semantics())


# --- b. invariant level, exact, in a universe of single pods --------------------------------

#: Universes of single pods with known IPs, where a brute force over pods is complete.
EXACT_CONFIGS = {
    "single-pods": Universe(pods="workloads", namespaces="declared"),
    "single-pods-wide": Universe(pods="workloads", namespaces="declared", **WIDE),
}
SEMANTICS_CHOICES = (
    Semantics(),
    Semantics(ip_block_matches_pods=False),
    Semantics(self_traffic_allowed=False, own_node_traffic_allowed=False),
)


def _workload_key(cluster: Cluster, scope: Scope) -> str | None:
    if scope.workload is None:
        return None
    name = scope.workload.rpartition("/")[2]
    return next(w.key for w in cluster.workloads if w.name == name)


def _holds(
    inv: Invariant,
    cluster: Cluster,
    universe: Universe,
    semantics: Semantics,
    pairs,
    ports: list[int],
) -> tuple[bool, Packet | None]:
    """Does the invariant hold over the packets between ``pairs`` of endpoints on every
    protocol and one of ``ports``? Pairs outside the universe are skipped. Returns the
    verdict over exactly these packets and the packet that decided it, if one did."""
    kind = inv.kind
    src_key, dst_key = _workload_key(cluster, inv.src), _workload_key(cluster, inv.dst)
    in_scope = 0
    for src, dst in _with_own_node(pairs):
        if universe_problem(cluster, Packet(src, dst, Protocol.TCP, 1), universe) is not None:
            continue
        if not scope_matches(inv.dst, dst, dst_key):
            continue
        in_src = scope_matches(inv.src, src, src_key)
        if in_src == (kind is InvariantKind.ONLY):
            continue
        for protocol, port in itertools.product(s.PROTOCOLS, ports):
            if not ports_match(inv.ports, protocol, port, dst):
                continue
            in_scope += 1
            packet = Packet(src, dst, protocol, port)
            allowed = decide(cluster, packet, semantics).allowed
            if kind is InvariantKind.REACHABLE:
                if allowed:
                    return True, packet
            elif allowed != (kind is InvariantKind.ALLOWED):
                return False, packet  # isolated/only: allowed; allowed: denied
    _event(f"{kind}: {'no' if not in_scope else 'some'} packets in scope")
    return kind is not InvariantKind.REACHABLE, None


def _with_own_node(pairs):
    """The pairs, and for a hostNetwork pod source sending to a pod, also that source
    running on the destination pod's node (own-node traffic)."""
    for src, dst in pairs:
        yield src, dst
        if isinstance(src, PodEndpoint) and src.host_network and isinstance(dst, PodEndpoint) and not src.own_node:
            yield attrs.evolve(src, own_node=True), dst


def _ip_networks(cluster: Cluster, inv: Invariant):
    """Every CIDR the policies' ipBlocks and the invariant's scopes name, and every loaded
    Pod's status IP as a one-address network (no external host has a pod's IP, so the
    brute force must not take a pod's IP for its class of addresses)."""
    blocks = [peer.ip_block for p in cluster.policies for r in p.ingress + p.egress for peer in r.peers]
    blocks += [inv.src.ip_block, inv.dst.ip_block]
    networks = [n for b in blocks if b is not None for n in (b.cidr, *b.except_)]
    return networks + [ipaddress.ip_network(ip) for w in cluster.workloads for ip in w.ips]


def exact_pairs(world: s.World, inv: Invariant, universe: Universe):
    """Every (source, destination) pair of the universe that can decide ``inv``, up to
    equivalence: each single-pod workload at each of its IPs; for ``only`` also external
    hosts and nodes at every boundary of the CIDRs in play (membership in an ipBlock only
    changes there, see strategies.boundary_addresses)."""
    cluster = world.cluster
    pods = [s.workload_pod(world, w, ip, w.key) for w in cluster.workloads for ip in w.ips]
    networks = _ip_networks(cluster, inv)
    classes: dict[tuple, ipaddress.IPv4Address | ipaddress.IPv6Address] = {}
    for ip in s.boundary_addresses(networks + [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]):
        classes.setdefault((ip.version,) + tuple(ip in n for n in networks), ip)
    hosts = list(classes.values())  # one address per class no ipBlock tells apart
    for dst in pods:
        sources: list[Endpoint] = list(pods)
        if inv.kind is InvariantKind.ONLY:
            sources += [ExternalEndpoint(ip) for ip in hosts]
            if universe.node_traffic:
                sources += [NodeEndpoint(ip, own) for ip in hosts for own in (False, True)]
        for src in sources:
            if src.ip.version == dst.ip.version:
                yield src, dst


def _exact_cases(universe: Universe):
    worlds = s.worlds(
        single_pods=True,
        declare_all=True,
        min_workloads=2,
        max_workloads=4,
        ip_families=((4,), (4,), (4,), (4, 6), (6,)),
        host_network=universe.host_network,
    )
    return worlds.flatmap(
        lambda world: st.tuples(
            st.just(world),
            st.lists(s.invariants(world, s.pod_scopes), min_size=1, max_size=4),
            st.sampled_from(SEMANTICS_CHOICES),
        )
    )


@pytest.mark.parametrize("session", ["preloaded", "incremental"])
@pytest.mark.parametrize("config", sorted(EXACT_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_verdicts_equal_brute_force_over_single_pods(config: str, session: str, data: st.DataObject) -> None:
    """``preloaded``: the Verifier knows every invariant up front (as when checking a file);
    ``incremental``: it learns them one by one and must widen its encoding as it goes."""
    universe = EXACT_CONFIGS[config]
    world, invs, semantics = data.draw(_exact_cases(universe), label="world, invariants, semantics")
    cluster = world.cluster
    preload = invs if session == "preloaded" else ()
    verifier = Verifier(cluster, universe, semantics, invariants=preload)
    for inv in invs:
        ports = s.boundary_ports(cluster, extra=inv.ports)
        holds, deciding = _holds(inv, cluster, universe, semantics, exact_pairs(world, inv, universe), ports)
        expected = Verdict.PROVED if holds else Verdict.REFUTED
        result = verifier.check(inv)
        _event(f"{inv.kind}: {expected}")
        assert result.verdict is expected, (
            f"Verifier says {result.verdict} (packet {result.packet!r}), brute force says {expected} "
            f"(deciding packet {deciding!r})\ninvariant: {inv!r}\ncluster: {cluster!r}\nsemantics: {semantics!r}"
        )


def test_verifier_widens_its_encoding_for_keys_without_values() -> None:
    """A later invariant that mentions a label key only with Exists/DoesNotExist (no
    values) must still get an encoding that knows the key (minimal incremental case)."""
    verifier = Verifier(Cluster(namespaces=[_NS1]))
    assert verifier.check(Invariant("first", InvariantKind.ISOLATED)).verdict is Verdict.REFUTED
    exists = LabelSelector(match_expressions=[Requirement("app", Operator.EXISTS)])
    result = verifier.check(Invariant("second", InvariantKind.ISOLATED, dst=Scope(pod=exists)))
    assert result.verdict is Verdict.REFUTED


# --- c. invariant level, soundness in open universes ------------------------------------------

SOUND_CONFIGS = {
    "default": (Universe(), Semantics()),
    "wide": (Universe(**WIDE), Semantics(ip_block_matches_pods=False)),
}


@st.composite
def _sample_endpoints(draw, world: s.World, universe: Universe) -> list[Endpoint]:
    """2..6 endpoints of one IP family: drawn at random, or the two ends of a packet aimed
    at a rule (so that policies decide between them). Every pod gets its own id."""
    family = draw(s.families())
    found: list[Endpoint] = []
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            packet = draw(s.targeted_packets(world, universe))
            found += [e for e in (packet.src, packet.dst) if e.ip.version == family]
        else:
            found += [draw(s.endpoints(world, universe, family, "pod")) for _ in range(2)]
    while len(found) < 2:  # targeted packets of the other family add nothing
        found.append(draw(s.endpoints(world, universe, family, "pod")))
    out = []
    for i, e in enumerate(found[:6]):
        single = isinstance(e, PodEndpoint) and e.workload is not None and e.pod_id == e.workload
        out.append(attrs.evolve(e, pod_id=f"pod-{i}") if isinstance(e, PodEndpoint) and not single else e)
    return out


@st.composite
def _sound_cases(draw, universe: Universe):
    """A world, sample endpoints, and invariants whose scopes are drawn freely or around
    one of the endpoints (so the sample has packets in scope)."""
    world = draw(s.worlds(single_pods=False, host_network=universe.host_network))
    endpoints = draw(_sample_endpoints(world, universe))

    def scopes(world: s.World) -> st.SearchStrategy[Scope]:
        around = st.sampled_from(endpoints).flatmap(lambda e: s.scopes_containing(world, e))
        return st.one_of(s.any_scopes(world), around, around)

    invs = draw(st.lists(s.invariants(world, scopes), min_size=1, max_size=4))
    return world, invs, endpoints


@pytest.mark.parametrize("config", sorted(SOUND_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_proved_is_never_contradicted(config: str, data: st.DataObject) -> None:
    """Over every packet between drawn endpoints (a pod to itself too), on every protocol
    and boundary port: nothing contradicts a PROVED verdict, and an allowed packet in a
    ``reachable`` scope means the Verifier found a witness too."""
    universe, semantics = SOUND_CONFIGS[config]
    world, invs, endpoints = data.draw(_sound_cases(universe), label="world, invariants, endpoints")
    cluster = world.cluster
    verifier = Verifier(cluster, universe, semantics, invariants=invs)
    for inv in invs:
        result = verifier.check(inv)  # raises InternalError when a packet does not replay
        assert result.verdict is not Verdict.UNKNOWN, result.reason
        _event(f"{inv.kind}: {result.verdict}")
        ports = s.boundary_ports(cluster, extra=inv.ports, endpoints=endpoints)
        pairs = itertools.product(endpoints, repeat=2)
        holds, deciding = _holds(inv, cluster, universe, semantics, pairs, ports)
        if inv.kind is InvariantKind.REACHABLE:
            assert holds is False or result.verdict is Verdict.PROVED, (
                f"Verifier says unreachable, yet {deciding!r} is allowed\ninvariant: {inv!r}\ncluster: {cluster!r}"
            )
        elif result.verdict is Verdict.PROVED:
            assert holds, f"PROVED, yet {deciding!r} violates it\ninvariant: {inv!r}\ncluster: {cluster!r}"
