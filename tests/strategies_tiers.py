"""Hypothesis strategies for cluster-scoped policies (the Admin and Baseline tiers).

Self-contained beside tests/strategies.py (whose alphabets it reuses, so that subjects,
peers, networks and port names collide with the NetworkPolicies and workloads drawn
there). Everything drawn is valid the way the API server would store it, except where a
strategy says it draws what an API version does not know on purpose (an empty peer: the
rule fails closed).

Policy names are unique across kinds: the evaluator picks the first of same-priority
policies by name (``tiers.Resolution.first``), so two policies of one name and different
kinds in one group are not told apart there.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from hypothesis import strategies as st

from npverify.model import (
    Action,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    Endpoint,
    LabelSelector,
    Node,
    PodEndpoint,
    PodSet,
    Protocol,
    Tier,
    Workload,
)
from tests import strategies as s

#: Priorities are drawn from few values so that same-priority groups are common.
PRIORITIES = (0, 0, 1, 2)


@st.composite
def pod_sets(draw, workloads: Sequence[Workload] = (), world: s.World | None = None) -> PodSet:
    """A subject or ``pods`` peer: empty selectors (all pods), random ones, or ones a drawn
    workload (and, with ``world``, its namespace) satisfies."""
    form = draw(st.sampled_from(("all", "random", "targeted") if workloads else ("all", "random")))
    if form == "all":
        return PodSet()
    if form == "random":
        return PodSet(
            draw(st.one_of(st.just(LabelSelector()), s.namespace_selectors())),
            draw(st.one_of(st.just(LabelSelector()), s.label_selectors())),
        )
    target = draw(st.sampled_from(list(workloads)))
    namespaces = LabelSelector()
    if world is not None and draw(st.booleans()):
        namespaces = draw(s.selectors_matching(world.namespace_labels(target.namespace), s.NAMESPACE_KEYS))
    return PodSet(namespaces, draw(st.one_of(st.just(LabelSelector()), s.selectors_matching(target.labels))))


@st.composite
def cluster_peers(draw, workloads: Sequence[Workload] = (), world: s.World | None = None) -> ClusterPeer:
    """A peer: pods (mostly), networks, now and then nodes or domainNames (unknown from
    manifests), and rarely an empty one (a kind the API version read does not know)."""
    form = draw(st.sampled_from(("pods",) * 9 + ("networks",) * 4 + ("nodes", "domains", "empty")))
    if form == "pods":
        return ClusterPeer(pods=draw(pod_sets(workloads, world)))
    if form == "networks":
        return ClusterPeer(networks=draw(st.lists(s.networks(), min_size=1, max_size=2, unique=True)))
    if form == "nodes":
        return ClusterPeer(nodes=draw(s.label_selectors()))
    if form == "domains":
        return ClusterPeer(domain_names=draw(st.lists(st.sampled_from(("example.com", "*.example.org")), min_size=1, max_size=2, unique=True)))
    return ClusterPeer()


@st.composite
def cluster_ports(draw) -> ClusterPort:
    """A ``protocols``/``ports`` entry: every port of a protocol, a number, a range, or a
    container port name (resolved on the destination, for the protocol it declares)."""
    form = draw(st.sampled_from(("all", "number", "range", "named")))
    if form == "named":
        return ClusterPort(protocol=draw(st.sampled_from((None, Protocol.TCP))), named=draw(st.sampled_from(s.PORT_NAMES)))
    protocol = draw(st.sampled_from(s.PROTOCOLS))
    if form == "all":
        return ClusterPort(protocol)
    start = draw(s.port_numbers())
    if form == "number":
        return ClusterPort(protocol, start)
    end = draw(st.one_of(st.integers(start, min(start + 100, 65535)), st.sampled_from([p for p in s.PORT_NUMBERS if p >= start])))
    return ClusterPort(protocol, start, end)


@st.composite
def cluster_rules(draw, workloads: Sequence[Workload] = (), world: s.World | None = None) -> ClusterRule:
    """A rule: an action, one to three peers, and no ports (every port) or up to three entries."""
    return ClusterRule(
        draw(st.sampled_from((Action.ACCEPT, Action.DENY, Action.PASS))),
        draw(st.lists(cluster_peers(workloads, world), min_size=1, max_size=3)),
        draw(st.lists(cluster_ports(), max_size=3)),
    )


@st.composite
def cluster_policies(
    draw, name: str, tier: Tier | None = None, workloads: Sequence[Workload] = (), world: s.World | None = None
) -> ClusterPolicy:
    """A policy of ``tier`` (drawn if None): an AdminNetworkPolicy or ClusterNetworkPolicy in
    the Admin tier, a ClusterNetworkPolicy in the Baseline tier (a BaselineAdminNetworkPolicy,
    of which there is one, comes from ``baseline_admin_network_policies``)."""
    tier = tier if tier is not None else draw(st.sampled_from((Tier.ADMIN, Tier.BASELINE)))
    kind = draw(st.sampled_from(("AdminNetworkPolicy", "ClusterNetworkPolicy"))) if tier is Tier.ADMIN else "ClusterNetworkPolicy"
    rules = cluster_rules(workloads, world)
    return ClusterPolicy(
        kind,
        name,
        tier,
        draw(st.sampled_from(PRIORITIES)),
        draw(pod_sets(workloads, world)),
        ingress=draw(st.lists(rules, max_size=3)),
        egress=draw(st.lists(rules, max_size=3)),
    )


@st.composite
def baseline_admin_network_policies(draw, workloads: Sequence[Workload] = (), world: s.World | None = None) -> ClusterPolicy:
    """The BaselineAdminNetworkPolicy ``default`` (priority 0 in the Baseline tier)."""
    rules = cluster_rules(workloads, world)
    return ClusterPolicy(
        "BaselineAdminNetworkPolicy",
        "default",
        Tier.BASELINE,
        0,
        draw(pod_sets(workloads, world)),
        ingress=draw(st.lists(rules, max_size=3)),
        egress=draw(st.lists(rules, max_size=3)),
    )


@st.composite
def tiered_worlds(draw, worlds: st.SearchStrategy[s.World], min_policies: int = 1, max_policies: int = 4) -> s.World:
    """A world from ``worlds`` with ``min_policies``..``max_policies`` cluster-scoped policies
    (names unique across kinds; sometimes a BaselineAdminNetworkPolicy among them), whose
    subjects and peers often name the world's workloads."""
    world = draw(worlds)
    cluster = world.cluster
    count = draw(st.integers(min_policies, max_policies))
    policies = [draw(cluster_policies(f"c{k}", workloads=cluster.workloads, world=world)) for k in range(count)]
    if draw(st.integers(0, 3)) == 0:
        policies.append(draw(baseline_admin_network_policies(cluster.workloads, world)))
    return attrs.evolve(world, cluster=attrs.evolve(cluster, cluster_policies=tuple(policies)))


# --- nodes ----------------------------------------------------------------------------------


@st.composite
def with_nodes(draw, world: s.World, endpoints: Sequence[Endpoint] = ()) -> s.World:
    """The world with 0..3 Nodes (labels drawn as pods' are, which ``nodes`` selectors read),
    each holding some of the addresses of ``endpoints`` that may be a node's (external hosts,
    nodes, hostNetwork pods) and now and then another; and one more Admin
    policy (three times in four) with an egress rule to a ``nodes`` peer, so that such peers meet these addresses."""
    candidates = sorted(
        {e.ip for e in endpoints if not (isinstance(e, PodEndpoint) and not e.host_network)}, key=lambda ip: (ip.version, int(ip))
    )
    count = draw(st.sampled_from((0, 1, 1, 2, 2, 3)))
    owned: list[list] = [[] for _ in range(count)]
    if count:
        for ip in candidates:
            if draw(st.integers(0, 3)):
                owned[draw(st.integers(0, count - 1))].append(ip)
        for addresses in owned:
            if draw(st.integers(0, 3)) == 0:
                addresses.append(draw(s.external_ip_addresses(draw(s.families()))))
    taken: set = set()
    nodes = []
    for i, addresses in enumerate(owned):
        mine = tuple(ip for ip in dict.fromkeys(addresses) if ip not in taken)  # one address, one node
        taken.update(mine)
        nodes.append(Node(f"node-{i}", draw(s.pod_labels()), mine))
    tiered = world.cluster.cluster_policies
    if draw(st.integers(0, 3)):
        rule = ClusterRule(
            draw(st.sampled_from(tuple(Action))),
            # The empty selector picks every node: the case universe.nodes=declared decides.
            (ClusterPeer(nodes=draw(st.one_of(st.just(LabelSelector()), s.label_selectors()))),),
            draw(st.lists(cluster_ports(), max_size=1)),
        )
        tiered += (ClusterPolicy("AdminNetworkPolicy", "to-nodes", Tier.ADMIN, draw(st.sampled_from(PRIORITIES)), PodSet(), egress=(rule,)),)
    return attrs.evolve(world, cluster=attrs.evolve(world.cluster, nodes=tuple(nodes), cluster_policies=tiered))
