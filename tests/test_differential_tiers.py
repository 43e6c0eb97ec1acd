"""Differential properties with the Admin and Baseline tiers: the SMT encoding agrees with
the reference evaluator on clusters mixing ClusterNetworkPolicy, AdminNetworkPolicy and
BaselineAdminNetworkPolicy with NetworkPolicy.

* packet level: a concrete packet, with what no manifest holds (``nodes``/``domainNames``
  peers, the order of same-priority policies) fixed by a drawn resolution, is allowed by the
  pinned encoding iff ``semantics.decide`` allows it under that resolution;
* invariant level: a PROVED verdict holds for every sampled packet under every resolution,
  a REFUTED one never stands on a packet whose verdict depends on a resolution, and an
  allowed-under-every-resolution packet in a ``reachable`` scope means no REFUTED.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from npverify.engine import Verifier
from npverify.invariants.model import InvariantKind
from npverify.model import Packet, Semantics, Universe
from npverify.results import Verdict
from npverify.semantics import decide, ports_match, possible_outcomes, scope_matches, universe_problem
from npverify.smt import SolverSession, mentions_of
from npverify.tiers import GroupKey, Resolution

from tests import strategies as s
from tests.test_differential import EXAMPLES, _sample_endpoints, _with_own_node, _workload_key

DIFF_SETTINGS = s.differential_settings(EXAMPLES)

PACKET_CONFIGS = dict(s.PACKET_CONFIGS)
PACKET_CONFIGS["same-priority-by-name"] = (Universe(), Semantics(same_priority="name"))


def _tiered_worlds(universe: Universe) -> st.SearchStrategy[s.World]:
    return s.worlds(
        max_policies=3,
        max_cluster_policies=4,
        single_pods=False,
        host_network=universe.host_network,
        pod_cidrs=universe.pod_cidrs,
        min_workloads=2 if universe.pods == "workloads" else 0,
    )


@st.composite
def _resolutions(draw, world: s.World) -> Resolution:
    """Some of the cluster's nodes/domainNames peers taken to match, and for each group of
    same-priority policies one drawn to go first."""
    cluster = world.cluster
    unknown = sorted(
        {p for c in cluster.cluster_policies for r in c.egress for p in r.peers if p.undecidable}, key=repr
    )
    matching = frozenset(p for p in unknown if draw(st.booleans()))
    first = set()
    for tier in {c.tier for c in cluster.cluster_policies}:
        for priority, members in cluster.tier_groups(tier):
            if len(members) < 2:
                continue
            for direction in ("Ingress", "Egress"):
                first.add((GroupKey(tier.value, priority, direction), draw(st.sampled_from(members)).key))
    return Resolution(matching, frozenset(first))


@pytest.mark.parametrize("config", sorted(PACKET_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_packet_verdicts_agree_under_every_resolution(config: str, data: st.DataObject) -> None:
    universe, semantics = PACKET_CONFIGS[config]
    world = data.draw(_tiered_worlds(universe), label="world")
    cluster = world.cluster
    packets = data.draw(st.lists(s.packets(world, universe), min_size=1, max_size=8), label="packets")
    valid = [p for p in packets if universe_problem(cluster, p, universe) is None]
    if not valid:
        return
    session = SolverSession(cluster, mentions_of(cluster.policies + cluster.cluster_policies), universe, semantics)
    for packet in valid:
        resolution = data.draw(_resolutions(world), label="resolution")
        reference = decide(cluster, packet, semantics, resolution)
        smt = session.evaluate(packet, resolution)
        assert smt == reference.allowed, (
            f"SMT says {smt}, the evaluator says {reference.allowed}\npacket: {packet!r}\n"
            f"resolution: {resolution!r}\ncluster: {cluster!r}\nevaluator: {reference.describe()}"
        )


SOUND_CONFIGS = {
    "default": (Universe(), Semantics()),
    "wide": (Universe(**s.WIDE), Semantics(ip_block_matches_pods=False)),
    "by-name": (Universe(), Semantics(same_priority="name")),
}


@st.composite
def _sound_cases(draw, universe: Universe):
    world = draw(_tiered_worlds(universe))
    endpoints = draw(_sample_endpoints(world, universe))

    def scopes(world: s.World) -> st.SearchStrategy:
        around = st.sampled_from(endpoints).flatmap(lambda e: s.scopes_containing(world, e))
        return st.one_of(s.any_scopes(world), around, around)

    invs = draw(st.lists(s.invariants(world, scopes), min_size=1, max_size=3))
    return world, invs, endpoints


@pytest.mark.parametrize("config", sorted(SOUND_CONFIGS))
@DIFF_SETTINGS
@given(data=st.data())
def test_verdicts_hold_under_every_resolution(config: str, data: st.DataObject) -> None:
    universe, semantics = SOUND_CONFIGS[config]
    world, invs, endpoints = data.draw(_sound_cases(universe), label="world, invariants, endpoints")
    cluster = world.cluster
    verifier = Verifier(cluster, universe, semantics, invariants=invs)
    for inv in invs:
        result = verifier.check(inv)  # raises InternalError when a packet does not replay
        if result.verdict is Verdict.REFUTED and result.packet is not None:
            values = possible_outcomes(cluster, result.packet, semantics).allowed_values
            assert len(values) == 1, f"REFUTED on a packet whose verdict depends on a resolution: {result.packet!r}"
        src_key, dst_key = _workload_key(cluster, inv.src), _workload_key(cluster, inv.dst)
        ports = s.boundary_ports(cluster, extra=inv.ports, endpoints=endpoints)
        for src, dst in _with_own_node(itertools.product(endpoints, repeat=2)):
            if universe_problem(cluster, Packet(src, dst, s.PROTOCOLS[0], 1), universe) is not None:
                continue
            if not scope_matches(inv.dst, dst, dst_key):
                continue
            in_src = scope_matches(inv.src, src, src_key)
            if in_src == (inv.kind is InvariantKind.ONLY):
                continue
            for protocol, port in itertools.product(s.PROTOCOLS, ports):
                if not ports_match(inv.ports, protocol, port, dst):
                    continue
                packet = Packet(src, dst, protocol, port)
                values = possible_outcomes(cluster, packet, semantics).allowed_values
                if inv.kind is InvariantKind.REACHABLE:
                    assert values != {True} or result.verdict is not Verdict.REFUTED, (
                        f"REFUTED, yet {packet!r} is allowed under every resolution\ninvariant: {inv!r}\ncluster: {cluster!r}"
                    )
                elif result.verdict is Verdict.PROVED:
                    bad = False in values if inv.kind is InvariantKind.ALLOWED else True in values
                    assert not bad, f"PROVED, yet {packet!r} can violate it\ninvariant: {inv!r}\ncluster: {cluster!r}"


# --- equivalence and redundancy over the tiers -------------------------------------------------


def _sample_packets(world: s.World, universe: Universe, data: st.DataObject) -> list[Packet]:
    packets = data.draw(st.lists(s.packets(world, universe), min_size=4, max_size=12), label="packets")
    return [p for p in packets if universe_problem(world.cluster, p, universe) is None]


def _mutated(draw, world: s.World):
    """The world's policies with one cluster-scoped policy changed, dropped or added, or a
    NetworkPolicy dropped: a second side that may or may not mean the same."""
    import attrs

    cluster = world.cluster
    choice = draw(st.sampled_from(("drop-tiered", "add-tiered", "flip-action", "drop-np", "priority")))
    tiered, policies = list(cluster.cluster_policies), list(cluster.policies)
    if choice == "drop-tiered" and tiered:
        tiered.pop(draw(st.integers(0, len(tiered) - 1)))
    elif choice == "flip-action" and any(c.ingress or c.egress for c in tiered):
        index = draw(st.sampled_from([i for i, c in enumerate(tiered) if c.ingress or c.egress]))
        c = tiered[index]
        field = "ingress" if c.ingress and (not c.egress or draw(st.booleans())) else "egress"
        rules = list(getattr(c, field))
        r = draw(st.integers(0, len(rules) - 1))
        rules[r] = attrs.evolve(rules[r], action=draw(st.sampled_from(tuple(a for a in type(rules[r].action) if a is not rules[r].action))))
        tiered[index] = attrs.evolve(c, **{field: tuple(rules)})
    elif choice == "drop-np" and policies:
        policies.pop(draw(st.integers(0, len(policies) - 1)))
    elif choice == "priority" and tiered:
        index = draw(st.integers(0, len(tiered) - 1))
        tiered[index] = attrs.evolve(tiered[index], priority=draw(st.sampled_from(s.PRIORITIES)))
    else:
        tiered.append(draw(s.cluster_policies("added")))
    return attrs.evolve(cluster, policies=tuple(policies), cluster_policies=tuple(tiered))


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "plain"])
@DIFF_SETTINGS
@given(data=st.data())
def test_equivalence_over_the_tiers(shortcuts: bool, data: st.DataObject) -> None:
    """Every reported difference replays (compare raises otherwise); a proof of equivalence
    holds on sampled packets under sampled resolutions; the shortcuts change no answer."""
    from npverify.compare import equivalence

    universe, semantics = Universe(), Semantics()
    world = data.draw(_tiered_worlds(universe), label="world")
    left = world.cluster
    right = data.draw(st.builds(lambda: None).flatmap(lambda _: st.composite(lambda draw: _mutated(draw, world))()), label="right")
    result = equivalence(left, right, universe=universe, semantics=semantics, shortcuts=shortcuts)
    plain = equivalence(left, right, universe=universe, semantics=semantics, shortcuts=not shortcuts)
    assert result.same == plain.same, (result.same, plain.same, result.reason, plain.reason)
    if result.same:
        for packet in _sample_packets(world, universe, data):
            resolution = data.draw(_resolutions(world), label="resolution")
            a, b = decide(left, packet, semantics, resolution), decide(right, packet, semantics, resolution)
            assert a.allowed == b.allowed, f"proved equivalent, yet {packet!r} differs under {resolution!r}"


@DIFF_SETTINGS
@given(data=st.data())
def test_redundant_items_change_no_verdict(data: st.DataObject) -> None:
    """Removing an item reported redundant changes no sampled packet's verdict under any
    sampled resolution; the scan with shortcuts and the plain scan report the same items."""
    import attrs

    from npverify.model import ClusterItem
    from npverify.redundancy import find_redundancy

    universe, semantics = Universe(), Semantics()
    world = data.draw(_tiered_worlds(universe), label="world")
    cluster = world.cluster
    report = find_redundancy(cluster, universe, semantics)
    plain = find_redundancy(cluster, universe, semantics, shortcuts=False)
    assert {str(r.item) for r in report.redundant} == {str(r.item) for r in plain.redundant}
    packets = _sample_packets(world, universe, data)
    for found in report.redundant:
        item = found.item
        changed = item.without()
        if isinstance(item, ClusterItem):
            tiered = tuple(changed if p is item.policy else p for p in cluster.cluster_policies if p is not item.policy or changed is not None)
            after = attrs.evolve(cluster, cluster_policies=tiered)
        else:
            after = cluster.with_policies(tuple(changed if p is item.policy else p for p in cluster.policies if p is not item.policy or changed is not None))
        for packet in packets:
            resolution = data.draw(_resolutions(world), label="resolution")
            assert decide(cluster, packet, semantics, resolution).allowed == decide(after, packet, semantics, resolution).allowed, (
                f"{item} reported redundant, yet {packet!r} changes without it"
            )


# --- nodes: loaded Node objects and universe.nodes ----------------------------------------------

NODE_UNIVERSES = {
    "nodes-any": Universe(host_network=True, node_traffic=True),
    "nodes-declared": Universe(host_network=True, node_traffic=True, nodes="declared"),
}


@pytest.mark.parametrize("config", sorted(NODE_UNIVERSES))
@DIFF_SETTINGS
@given(data=st.data())
def test_packet_verdicts_agree_with_nodes(config: str, data: st.DataObject) -> None:
    """With Nodes holding some of the packets' addresses, the pinned encoding and the
    evaluator agree under every drawn resolution, in both universe.nodes modes; and where
    the evaluator consults no nodes peer, neither does the verdict depend on it."""
    from tests.strategies_tiers import with_nodes

    universe, semantics = NODE_UNIVERSES[config], Semantics()
    world = data.draw(_tiered_worlds(universe), label="world")
    packets = data.draw(st.lists(s.packets(world, universe), min_size=1, max_size=8), label="packets")
    world = data.draw(with_nodes(world, [e for p in packets for e in (p.src, p.dst)]), label="nodes")
    cluster = world.cluster
    valid = [p for p in packets if universe_problem(cluster, p, universe) is None]
    if not valid:
        return
    session = SolverSession(cluster, mentions_of(cluster.policies + cluster.cluster_policies), universe, semantics)
    for packet in valid:
        resolution = data.draw(_resolutions(world), label="resolution")
        reference = decide(cluster, packet, semantics, resolution, nodes=universe.nodes)
        smt = session.evaluate(packet, resolution)
        assert smt == reference.allowed, (
            f"SMT says {smt}, the evaluator says {reference.allowed}\npacket: {packet!r}\n"
            f"resolution: {resolution!r}\ncluster: {cluster!r}\nevaluator: {reference.describe()}"
        )


@pytest.mark.parametrize("config", sorted(NODE_UNIVERSES))
@DIFF_SETTINGS
@given(data=st.data())
def test_verdicts_hold_with_nodes(config: str, data: st.DataObject) -> None:
    """With Nodes at some sampled endpoints' addresses: every counterexample replays (the
    engine raises otherwise) on a packet whose verdict no resolution changes, and a PROVED
    invariant holds on every sampled packet under every resolution."""
    from tests.strategies_tiers import with_nodes

    universe, semantics = NODE_UNIVERSES[config], Semantics()
    world, invs, endpoints = data.draw(_sound_cases(universe), label="world, invariants, endpoints")
    world = data.draw(with_nodes(world, endpoints), label="nodes")
    cluster = world.cluster
    verifier = Verifier(cluster, universe, semantics, invariants=invs)
    for inv in invs:
        result = verifier.check(inv)
        if result.verdict is Verdict.REFUTED and result.packet is not None:
            values = possible_outcomes(cluster, result.packet, semantics, nodes=universe.nodes).allowed_values
            assert len(values) == 1, f"REFUTED on a packet whose verdict depends on a resolution: {result.packet!r}"
        if result.verdict is not Verdict.PROVED or inv.kind not in (InvariantKind.ALLOWED, InvariantKind.ISOLATED):
            continue
        src_key, dst_key = _workload_key(cluster, inv.src), _workload_key(cluster, inv.dst)
        ports = s.boundary_ports(cluster, extra=inv.ports, endpoints=endpoints)
        for src, dst in _with_own_node(itertools.product(endpoints, repeat=2)):
            if universe_problem(cluster, Packet(src, dst, s.PROTOCOLS[0], 1), universe) is not None:
                continue
            if not (scope_matches(inv.src, src, src_key) and scope_matches(inv.dst, dst, dst_key)):
                continue
            for protocol, port in itertools.product(s.PROTOCOLS, ports):
                if not ports_match(inv.ports, protocol, port, dst):
                    continue
                packet = Packet(src, dst, protocol, port)
                values = possible_outcomes(cluster, packet, semantics, nodes=universe.nodes).allowed_values
                bad = False in values if inv.kind is InvariantKind.ALLOWED else True in values
                assert not bad, f"PROVED, yet {packet!r} can violate it\ninvariant: {inv!r}\ncluster: {cluster!r}"
