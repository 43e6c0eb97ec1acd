"""Hypothesis strategies for small, valid npverify model values.

Alphabets are tiny on purpose (three label keys, three values, three namespaces, a chain
of nested CIDRs, a handful of port numbers and port names) so that selectors, ipBlocks
and ports of independently drawn policies and packets collide often. Everything drawn is
valid the way the API server would store it: ``except`` CIDRs lie strictly inside their
``cidr``, ``endPort >= port``, container port names are unique per pod, a namespace's
labels carry ``kubernetes.io/metadata.name``.

A :class:`World` is a cluster plus the labels of the namespaces it does not declare, so
that every pod drawn in one namespace carries the same namespace labels. Packet and
endpoint strategies take the World and the Universe the packets must belong to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Action,
    Cluster,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    PodSet,
    Tier,
    ContainerPort,
    Direction,
    Endpoint,
    ExternalEndpoint,
    IPAddress,
    IPBlock,
    IPNetwork,
    LabelSelector,
    Labels,
    Namespace,
    NetworkPolicy,
    NodeEndpoint,
    Operator,
    Packet,
    Peer,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Semantics,
    Universe,
    Workload,
)
from npverify.semantics import selector_matches


def differential_settings(examples: int) -> settings:
    """Reproducible settings for the differential properties (CI runs them derandomized)."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# --- alphabets -------------------------------------------------------------------------

POD_KEYS = ("app", "tier", "env")
#: Namespace label keys selectors use; ``kubernetes.io/metadata.name`` takes namespace names.
NAMESPACE_KEYS = ("env", "team", NAMESPACE_NAME_LABEL)
VALUES = ("a", "b", "c")
#: Values labels may carry: "d" is never mentioned by a selector (the "other" class).
LABEL_VALUES = VALUES + ("d",)
#: A label key no selector mentions.
UNMENTIONED_KEY = "version"
#: Namespaces that may be declared and hold policies.
NAMESPACE_NAMES = ("ns1", "ns2", "ns3")
#: Namespaces that are never declared and hold no policy (pods may still live there).
EXTRA_NAMESPACES = ("ns4", "ns5")
ALL_NAMESPACES = NAMESPACE_NAMES + EXTRA_NAMESPACES
#: The last namespace is never named (no selector value, no workload): the encoding
#: places its pods in a "fresh" namespace.
UNNAMED_NAMESPACE = ALL_NAMESPACES[-1]
NAMED_NAMESPACES = ALL_NAMESPACES[:-1]
PORT_NAMES = ("http", "dns", "metrics")
#: Container port names: "grpc" is never named by a policy.
CONTAINER_PORT_NAMES = PORT_NAMES + ("grpc",)
PORT_NUMBERS = (1, 53, 79, 80, 81, 443, 8080, 8443, 65534, 65535)
PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)

V4_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/0",
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
        "10.1.2.0/28",
        "10.1.2.4/30",
        "10.1.2.5/32",
        "192.168.0.0/16",
        "192.168.1.0/24",
    )
)
V6_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "::/0",
        "2001:db8::/32",
        "2001:db8:1::/48",
        "2001:db8:1:2::/64",
        "2001:db8:1:2::/124",
        "2001:db8:1:2::5/128",
        "fd00::/8",
        "::ffff:0:0/96",  # IPv4-mapped: must never match an IPv4 address
    )
)
NETWORKS = {4: V4_NETWORKS, 6: V6_NETWORKS}
#: Pod CIDRs of the universe that has them.
POD_CIDRS = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


def _address(family: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


def boundary_addresses(networks: Iterable[IPNetwork]) -> list[IPAddress]:
    """Every address where membership in one of ``networks`` can change, and its neighbours.

    Membership in a CIDR is an interval, so the set {0, each first address, each last
    address + 1} hits every class of addresses that no combination of the networks tells
    apart; the other neighbours are there for good measure.
    """
    out: set[IPAddress] = set()
    for net in networks:
        top = 2**net.max_prefixlen - 1
        low, high = int(net.network_address), int(net.broadcast_address)
        for value in (0, top, low - 1, low, low + 1, high - 1, high, high + 1):
            if 0 <= value <= top:
                out.add(_address(net.version, value))
    return sorted(out, key=lambda ip: (ip.version, int(ip)))


BOUNDARY_IPS = {family: tuple(a for a in boundary_addresses(NETWORKS[family])) for family in (4, 6)}


# --- labels and selectors --------------------------------------------------------------


def values_for(key: str) -> tuple[str, ...]:
    """Selector values for a key: namespace names for kubernetes.io/metadata.name (except
    UNNAMED_NAMESPACE)."""
    return NAMED_NAMESPACES if key == NAMESPACE_NAME_LABEL else VALUES


def requirements(keys: Sequence[str]) -> st.SearchStrategy[Requirement]:
    def for_key(key: str) -> st.SearchStrategy[Requirement]:
        with_values = st.builds(
            Requirement,
            st.just(key),
            st.sampled_from((Operator.IN, Operator.NOT_IN)),
            st.lists(st.sampled_from(values_for(key)), min_size=1, max_size=2, unique=True).map(tuple),
        )
        without_values = st.builds(
            Requirement, st.just(key), st.sampled_from((Operator.EXISTS, Operator.DOES_NOT_EXIST)), st.just(())
        )
        return st.one_of(with_values, without_values)

    return st.sampled_from(keys).flatmap(for_key)


@st.composite
def label_selectors(draw, keys: Sequence[str] = POD_KEYS) -> LabelSelector:
    """matchLabels and matchExpressions over ``keys``; often empty, which matches all."""
    match_labels = draw(
        st.lists(st.sampled_from(keys), max_size=2, unique=True).flatmap(
            lambda ks: st.tuples(*[st.sampled_from(values_for(k)) for k in ks]).map(lambda vs: dict(zip(ks, vs)))
        )
    )
    expressions = draw(st.lists(requirements(keys), max_size=2))
    return LabelSelector(match_labels, expressions)


@st.composite
def selectors_matching(draw, labels: Labels, keys: Sequence[str] = POD_KEYS) -> LabelSelector:
    """A selector that ``labels`` satisfy (so scopes drawn from a world are rarely empty)."""
    usable = [(k, v) for k, v in labels.items() if k in keys and v in values_for(k)]
    match = draw(st.lists(st.sampled_from(usable), max_size=2, unique=True)) if usable else []
    expressions = []
    if draw(st.booleans()):
        key = draw(st.sampled_from(keys))
        expressions.append(Requirement(key, Operator.EXISTS if key in labels else Operator.DOES_NOT_EXIST))
    return LabelSelector(dict(match), expressions)


def namespace_selectors() -> st.SearchStrategy[LabelSelector]:
    return label_selectors(NAMESPACE_KEYS)


def pod_labels() -> st.SearchStrategy[Labels]:
    keys = POD_KEYS + (UNMENTIONED_KEY,)
    return st.dictionaries(st.sampled_from(keys), st.sampled_from(LABEL_VALUES), max_size=4).map(Labels.of)


def namespace_labels(name: str) -> st.SearchStrategy[Labels]:
    """Labels of namespace ``name``: always its kubernetes.io/metadata.name label."""
    return st.dictionaries(st.sampled_from(("env", "team")), st.sampled_from(LABEL_VALUES), max_size=2).map(
        lambda labels: Labels.of(labels, **{NAMESPACE_NAME_LABEL: name})
    )


# --- addresses and ipBlocks ------------------------------------------------------------


def networks(family: int | None = None) -> st.SearchStrategy[IPNetwork]:
    if family is None:
        return st.sampled_from(V4_NETWORKS + V6_NETWORKS)
    return st.sampled_from(NETWORKS[family])


def ip_addresses(family: int) -> st.SearchStrategy[IPAddress]:
    """Addresses of one family, mostly on CIDR boundaries, sometimes anywhere in a CIDR."""
    inside = networks(family).flatmap(
        lambda net: st.integers(int(net.network_address), int(net.broadcast_address)).map(
            lambda value: _address(family, value)
        )
    )
    return st.one_of(st.sampled_from(BOUNDARY_IPS[family]), inside)


@st.composite
def ip_blocks(draw, family: int | None = None) -> IPBlock:
    cidr = draw(networks(family))
    inner = [n for n in NETWORKS[cidr.version] if n != cidr and n.subnet_of(cidr)]
    excepts = draw(st.lists(st.sampled_from(inner), max_size=2, unique=True)) if inner else []
    return IPBlock(cidr, tuple(excepts))


# --- ports -------------------------------------------------------------------------------


def port_numbers() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(PORT_NUMBERS), st.integers(1, 65535))


@st.composite
def policy_ports(draw) -> PolicyPort:
    protocol = draw(st.sampled_from(PROTOCOLS))
    form = draw(st.sampled_from(("all", "number", "range", "named")))
    if form == "all":
        return PolicyPort(protocol)
    if form == "named":
        return PolicyPort(protocol, draw(st.sampled_from(PORT_NAMES)))
    port = draw(port_numbers())
    if form == "number":
        return PolicyPort(protocol, port)
    end = draw(
        st.one_of(
            st.integers(port, min(port + 100, 65535)),
            st.sampled_from([p for p in PORT_NUMBERS if p >= port]),  # holds 65535
        )
    )
    return PolicyPort(protocol, port, end)


def container_ports() -> st.SearchStrategy[tuple[ContainerPort, ...]]:
    """A pod's container ports; names are unique, some are unnamed."""
    port = st.builds(
        ContainerPort,
        st.sampled_from(PORT_NUMBERS),
        st.sampled_from(PROTOCOLS),
        st.one_of(st.none(), st.sampled_from(CONTAINER_PORT_NAMES)),
    )
    return st.lists(port, max_size=3, unique_by=lambda p: p.name or object()).map(lambda ps: tuple(sorted(ps)))


# --- peers, rules, policies ------------------------------------------------------------


def peers() -> st.SearchStrategy[Peer]:
    return st.one_of(
        st.builds(Peer, pod_selector=label_selectors()),
        st.builds(Peer, namespace_selector=namespace_selectors()),
        st.builds(Peer, pod_selector=label_selectors(), namespace_selector=namespace_selectors()),
        st.builds(Peer, ip_block=ip_blocks()),
    )


def rules() -> st.SearchStrategy[Rule]:
    """Rules, including ones with empty peers (all sources) or empty ports (all ports)."""
    return st.builds(Rule, st.lists(peers(), max_size=3), st.lists(policy_ports(), max_size=3))


# --- cluster-scoped policies (Admin and Baseline tiers) --------------------------------------

#: Priorities from a tiny set, so that same-priority policies (whose order is the
#: implementation's) are drawn often.
PRIORITIES = (0, 1, 2)
DOMAIN_NAMES = (("api.example.com",), ("*.example.com", "example.org"))


def pod_sets() -> st.SearchStrategy[PodSet]:
    """Pods of selected namespaces; empty selectors often, so that subjects and peers of
    independently drawn policies overlap."""
    empty = st.just(LabelSelector())
    return st.builds(PodSet, st.one_of(empty, namespace_selectors()), st.one_of(empty, label_selectors()))


def cluster_peers(direction: Direction) -> st.SearchStrategy[ClusterPeer]:
    """Ingress peers are pods (namespaces or pods); egress peers may also be networks,
    nodes or domain names, and rarely a peer of a kind the API version did not know."""
    pods = st.builds(ClusterPeer, pods=pod_sets())
    if direction is Direction.INGRESS:
        return pods
    return _weighted(
        (4, pods),
        (3, st.builds(ClusterPeer, networks=st.lists(networks(), min_size=1, max_size=2))),
        (1, st.builds(ClusterPeer, nodes=label_selectors())),
        (1, st.builds(ClusterPeer, domain_names=st.sampled_from(DOMAIN_NAMES))),
        (1, st.just(ClusterPeer())),
    )


@st.composite
def cluster_ports(draw) -> ClusterPort:
    form = draw(st.sampled_from(("all", "number", "range", "named")))
    if form == "named":
        return ClusterPort(None, named=draw(st.sampled_from(PORT_NAMES)))
    protocol = draw(st.sampled_from(PROTOCOLS))
    if form == "all":
        return ClusterPort(protocol)
    port = draw(port_numbers())
    if form == "number":
        return ClusterPort(protocol, port)
    return ClusterPort(protocol, port, draw(st.sampled_from([p for p in PORT_NUMBERS if p >= port] + [min(port + 1, 65535)])))


@st.composite
def cluster_rules(draw, direction: Direction) -> ClusterRule:
    return ClusterRule(
        draw(st.sampled_from(tuple(Action))),
        draw(st.lists(cluster_peers(direction), min_size=1, max_size=2)),
        draw(st.lists(cluster_ports(), max_size=2)),
    )


@st.composite
def cluster_policies(draw, name: str = "c") -> ClusterPolicy:
    """An Admin or Baseline tier policy with up to three rules per direction."""
    tier = draw(st.sampled_from(tuple(Tier)))
    kind = "ClusterNetworkPolicy" if draw(st.booleans()) else ("AdminNetworkPolicy" if tier is Tier.ADMIN else "BaselineAdminNetworkPolicy")
    return ClusterPolicy(
        kind,
        name,
        tier,
        draw(st.sampled_from(PRIORITIES)),
        draw(pod_sets()),
        draw(st.lists(cluster_rules(Direction.INGRESS), max_size=3)),
        draw(st.lists(cluster_rules(Direction.EGRESS), max_size=3)),
    )


DIRECTION_SETS = (
    frozenset({Direction.INGRESS}),
    frozenset({Direction.EGRESS}),
    frozenset({Direction.INGRESS, Direction.EGRESS}),
)


@st.composite
def network_policies(draw, name: str = "p", namespaces: Sequence[str] = NAMESPACE_NAMES) -> NetworkPolicy:
    """A policy after defaulting: explicit policy types, rules for those types (and now
    and then rules for a type the policy does not have, which must be ignored)."""
    types = draw(st.sampled_from(DIRECTION_SETS))
    ingress = draw(st.lists(rules(), max_size=3)) if Direction.INGRESS in types or draw(st.integers(0, 9)) == 0 else []
    egress = draw(st.lists(rules(), max_size=3)) if Direction.EGRESS in types or draw(st.integers(0, 9)) == 0 else []
    return NetworkPolicy(
        namespace=draw(st.sampled_from(namespaces)),
        name=name,
        pod_selector=draw(label_selectors()),
        policy_types=types,
        ingress=ingress,
        egress=egress,
    )


# --- clusters and worlds -----------------------------------------------------------------


@attrs.frozen
class World:
    """A cluster and the labels of every namespace pods may live in.

    For a declared namespace the labels are the Namespace object's; for the others they
    are drawn once, so two pods of one namespace carry the same namespace labels.
    """

    cluster: Cluster
    namespace_labels_: tuple[tuple[str, Labels], ...]

    def namespace_labels(self, name: str) -> Labels:
        return dict(self.namespace_labels_)[name]

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.namespace_labels_)


@st.composite
def workloads(
    draw,
    name: str,
    namespaces: Sequence[str] = NAMED_NAMESPACES,
    *,
    single_pods: bool = True,
    host_network: bool = False,
    pod_cidrs: Sequence[IPNetwork] = (),
    ip_families: Sequence[tuple[int, ...]] = ((4,), (4,), (6,), (4, 6)),
) -> Workload:
    """A workload. Single pods (kind Pod, replicas 1) have one IP or two (dual stack);
    with ``single_pods=False`` a Deployment with unknown pods and IPs may come out too.
    ``host_network`` allows hostNetwork workloads. Pod IPs lie in ``pod_cidrs`` if given;
    ``ip_families`` are the choices of IP families a single pod has."""
    namespace = draw(st.sampled_from(namespaces))
    labels = draw(pod_labels())
    ports = draw(container_ports())
    hostnet = host_network and draw(st.integers(0, 3)) == 0
    if not single_pods and draw(st.booleans()):
        replicas = draw(st.sampled_from((None, 2, 3)))
        return Workload("Deployment", namespace, name, labels, ports, hostnet, replicas, ())
    families = draw(st.sampled_from(ip_families))
    ip_strategy = external_ip_addresses if hostnet else pod_ip_addresses  # hostNetwork: node IPs
    ips = tuple(draw(ip_strategy(f, pod_cidrs)) for f in families)
    return Workload("Pod", namespace, name, labels, ports, hostnet, 1, ips)


def pod_ip_addresses(family: int, pod_cidrs: Sequence[IPNetwork] = ()) -> st.SearchStrategy[IPAddress]:
    """Addresses of (non-hostNetwork) pods: inside ``pod_cidrs`` when there are any."""
    inside = [c for c in pod_cidrs if c.version == family]
    if pod_cidrs and not inside:
        raise ValueError(f"no pod CIDR of IPv{family}")
    if not inside:
        return ip_addresses(family)
    return st.one_of(
        st.sampled_from([a for a in BOUNDARY_IPS[family] if any(a in c for c in inside)]),
        st.sampled_from(inside).flatmap(
            lambda net: st.integers(int(net.network_address), int(net.broadcast_address)).map(
                lambda value: _address(family, value)
            )
        ),
    )


def external_ip_addresses(family: int, pod_cidrs: Sequence[IPNetwork] = ()) -> st.SearchStrategy[IPAddress]:
    """Addresses of hosts outside the pod network (external hosts, nodes, hostNetwork pods)."""
    strategy = ip_addresses(family)
    if pod_cidrs:
        strategy = st.sampled_from(
            [a for a in BOUNDARY_IPS[family] if not any(a in c for c in pod_cidrs)]
        )
    return strategy


@st.composite
def worlds(
    draw,
    *,
    max_policies: int = 6,
    min_workloads: int = 0,
    max_workloads: int = 4,
    single_pods: bool = True,
    host_network: bool = False,
    declare_all: bool = False,
    pod_cidrs: Sequence[IPNetwork] = (),
    ip_families: Sequence[tuple[int, ...]] = ((4,), (4,), (6,), (4, 6)),
    max_cluster_policies: int = 0,
) -> World:
    """A cluster of 0..max_policies policies in ns1..ns3, some of ns1..ns3 declared
    (all namespaces holding policies or workloads with ``declare_all``), and workloads
    with unique names and distinct IPs."""
    count = draw(st.integers(min_workloads, max_workloads))
    wls: list[Workload] = []
    pod_ips: set[IPAddress] = set()
    node_ips: set[IPAddress] = set()
    for i in range(count):
        w = draw(
            workloads(
                f"w{i}", single_pods=single_pods, host_network=host_network, pod_cidrs=pod_cidrs, ip_families=ip_families
            )
        )
        # Distinct pods have distinct IPs; hostNetwork pods share their node's IP, which
        # two of them may have in common, but no ordinary pod has.
        if pod_ips & set(w.ips) or (not w.host_network and node_ips & set(w.ips)):
            continue
        (node_ips if w.host_network else pod_ips).update(w.ips)
        wls.append(w)
    policies = [draw(network_policies(f"p{i}")) for i in range(draw(st.integers(0, max_policies)))]
    used = {p.namespace for p in policies} | {w.namespace for w in wls}
    if declare_all:
        declared_names = sorted(used | set(draw(st.lists(st.sampled_from(NAMESPACE_NAMES), unique=True))))
    else:
        declared_names = draw(st.lists(st.sampled_from(NAMESPACE_NAMES), unique=True))
    labels = {name: draw(namespace_labels(name)) for name in ALL_NAMESPACES}
    declared = tuple(Namespace(name, labels[name]) for name in sorted(declared_names))
    tiered = [draw(cluster_policies(f"c{i}")) for i in range(draw(st.integers(0, max_cluster_policies)))]
    cluster = Cluster(policies=policies, namespaces=declared, workloads=wls, cluster_policies=tiered)
    return World(cluster, tuple(sorted(labels.items())))


# --- endpoints and packets ---------------------------------------------------------------


def boundary_ports(cluster: Cluster, extra: Iterable[PolicyPort] = (), endpoints: Iterable[Endpoint] = ()) -> list[int]:
    """Ports at which a decision can change: every numeric port and endPort of the policies
    (and ``extra`` entries) with their neighbours, every container port, 1 and 65535.

    Every decision is constant between two consecutive members, so a check over these
    ports (and one port nobody names) covers every port.
    """
    out = {1, 65535}
    entries = list(extra)
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            entries += rule.ports
    for entry in entries:
        if isinstance(entry.port, int):
            for value in (entry.port, entry.end_port or entry.port):
                out.update((value - 1, value, value + 1))
    container = [cp for w in cluster.workloads for cp in w.ports]
    container += [cp for e in endpoints if isinstance(e, PodEndpoint) for cp in e.ports]
    out.update(cp.port for cp in container)
    unused = 12345
    while unused in out:
        unused += 1
    out.add(unused)
    return sorted(p for p in out if 1 <= p <= 65535)


def workload_pod(world: World, w: Workload, ip: IPAddress, pod_id: str) -> PodEndpoint:
    """A pod of workload ``w`` with ``ip``; a single-pod workload's pod id is its key."""
    return PodEndpoint(
        namespace=w.namespace,
        namespace_labels=world.namespace_labels(w.namespace),
        labels=w.labels,
        ip=ip,
        ports=w.ports,
        host_network=w.host_network,
        workload=w.key,
        pod_id=w.key if w.single_pod else pod_id,
    )


def _workload_candidates(world: World, universe: Universe, family: int) -> list[Workload]:
    return [
        w
        for w in world.cluster.workloads
        if (universe.host_network or not w.host_network)
        and (not w.ips or any(ip.version == family for ip in w.ips))
    ]


def _pod_namespaces(world: World, universe: Universe) -> list[str]:
    if universe.namespaces == "any":
        return list(world.namespaces)
    return sorted(world.cluster.namespace_names())


def pods_possible(world: World, universe: Universe, family: int) -> bool:
    """Does the universe hold a pod with an IP of ``family`` that we can draw?"""
    if _workload_candidates(world, universe, family):
        return True
    return universe.pods == "any" and bool(_pod_namespaces(world, universe))


@st.composite
def pod_endpoints(draw, world: World, universe: Universe, family: int, pod_id: str) -> PodEndpoint:
    """A pod of the universe with an IP of ``family``: of a loaded workload, or (when the
    universe has any pods) an arbitrary one. hostNetwork only if the universe has them.
    Requires ``pods_possible(world, universe, family)``."""
    candidates = _workload_candidates(world, universe, family)
    arbitrary_ok = universe.pods == "any" and bool(_pod_namespaces(world, universe))
    if candidates and (not arbitrary_ok or draw(st.booleans())):
        w = draw(st.sampled_from(candidates))
        if w.ips:
            ip = draw(st.sampled_from([ip for ip in w.ips if ip.version == family]))
        elif w.host_network:
            ip = draw(external_ip_addresses(family, universe.pod_cidrs))
        else:
            ip = draw(pod_ip_addresses(family, universe.pod_cidrs))
        return workload_pod(world, w, ip, pod_id)
    namespace = draw(st.sampled_from(_pod_namespaces(world, universe)))
    host_network = universe.host_network and draw(st.integers(0, 3)) == 0
    ip_strategy = external_ip_addresses if host_network else pod_ip_addresses  # hostNetwork: node IPs
    ip = draw(ip_strategy(family, universe.pod_cidrs))
    return PodEndpoint(
        namespace=namespace,
        namespace_labels=world.namespace_labels(namespace),
        labels=draw(pod_labels()),
        ip=ip,
        ports=draw(container_ports()),
        host_network=host_network,
        workload=None,
        pod_id=pod_id,
    )


@st.composite
def endpoints(draw, world: World, universe: Universe, family: int, pod_id: str, kinds=("pod", "external", "node")) -> Endpoint:
    """A pod, an external host or (if the universe has node traffic) a node."""
    allowed = [k for k in kinds if k != "node" or universe.node_traffic]
    kind = draw(st.sampled_from(allowed))
    if kind == "pod":
        if pods_possible(world, universe, family):
            return draw(pod_endpoints(world, universe, family, pod_id))
        kind = "external"
    if kind == "node":
        return NodeEndpoint(draw(external_ip_addresses(family, universe.pod_cidrs)), draw(st.booleans()))
    return ExternalEndpoint(draw(external_ip_addresses(family, universe.pod_cidrs)))


def families() -> st.SearchStrategy[int]:
    return st.sampled_from((4, 4, 6))


@st.composite
def random_packets(draw, world: World, universe: Universe = Universe()) -> Packet:
    """A packet of (usually) the universe: same IP family at both ends, a pod at one end at
    least, a self packet (src is dst) now and then when the universe has them, and ports
    on the boundaries of the policies' ports. Callers still filter with universe_problem
    (two pods may happen to share an IP)."""
    family = draw(families())
    src = draw(endpoints(world, universe, family, "src-pod"))
    if isinstance(src, PodEndpoint) and universe.self_traffic and draw(st.integers(0, 3)) == 0:
        dst: Endpoint = src
    elif isinstance(src, PodEndpoint):
        dst = draw(endpoints(world, universe, family, "dst-pod", kinds=("pod", "pod", "external")))
    else:
        dst = draw(endpoints(world, universe, family, "dst-pod", kinds=("pod",)))
    src = _maybe_on_destination_node(draw, src, dst)
    ports = boundary_ports(world.cluster, endpoints=(src, dst))
    port = draw(st.one_of(st.sampled_from(ports), st.integers(1, 65535)))
    return Packet(src, dst, draw(st.sampled_from(PROTOCOLS)), port)


def _maybe_on_destination_node(draw, src: Endpoint, dst: Endpoint) -> Endpoint:
    """A hostNetwork pod source sending to another pod runs, now and then, on that pod's
    node (its traffic is then own-node traffic)."""
    if isinstance(src, PodEndpoint) and src.host_network and isinstance(dst, PodEndpoint) and src is not dst:
        return attrs.evolve(src, own_node=draw(st.booleans()))
    return src


def packets(world: World, universe: Universe = Universe()) -> st.SearchStrategy[Packet]:
    """Packets of (usually) the universe: half drawn at random (random_packets), half aimed
    at one rule of one policy (targeted_packets), so that rules decide often."""
    if world.cluster.cluster_policies:
        return st.one_of(random_packets(world, universe), targeted_packets(world, universe), tier_targeted_packets(world, universe))
    return st.one_of(random_packets(world, universe), targeted_packets(world, universe))


# --- packets aimed at a rule ----------------------------------------------------------------


@st.composite
def labels_for(draw, selector: LabelSelector, base: Labels, values: Sequence[str] = LABEL_VALUES) -> Labels:
    """``base`` changed so that it (usually) satisfies ``selector``; now and then one
    requirement is left to chance, to land just outside the selector."""
    labels = dict(base)
    for req in selector.requirements():
        if draw(st.integers(0, 7)) == 0:
            continue
        if req.operator is Operator.IN:
            labels[req.key] = draw(st.sampled_from(req.values))
        elif req.operator is Operator.NOT_IN:
            if labels.get(req.key) in req.values:
                others = [v for v in values if v not in req.values]
                if others and draw(st.booleans()):
                    labels[req.key] = draw(st.sampled_from(others))
                else:
                    del labels[req.key]
        elif req.operator is Operator.EXISTS:
            labels.setdefault(req.key, draw(st.sampled_from(values)))
        else:
            labels.pop(req.key, None)
    return Labels.of(labels)


@st.composite
def pods_matching(
    draw,
    world: World,
    universe: Universe,
    family: int,
    pod_id: str,
    namespaces: Sequence[str],
    selector: LabelSelector | None,
) -> Endpoint:
    """A pod of the universe in one of ``namespaces`` whose labels (usually) satisfy
    ``selector``: a loaded workload's pod that does, or an arbitrary pod made to."""
    selector = selector or LabelSelector()
    candidates = [
        w for w in _workload_candidates(world, universe, family) if w.namespace in namespaces and not w.host_network
    ]
    fitting = [w for w in candidates if selector_matches(selector, w.labels)]
    allowed_namespaces = [n for n in namespaces if n in _pod_namespaces(world, universe)]
    if universe.pods == "workloads" or not allowed_namespaces:
        pool = fitting or candidates
        if not pool:
            return draw(endpoints(world, universe, family, pod_id))
        w = draw(st.sampled_from(pool))
        ips = [ip for ip in w.ips if ip.version == family]
        ip = draw(st.sampled_from(ips)) if ips else draw(pod_ip_addresses(family, universe.pod_cidrs))
        return workload_pod(world, w, ip, pod_id)
    if fitting and draw(st.booleans()):
        w = draw(st.sampled_from(fitting))
        ips = [ip for ip in w.ips if ip.version == family]
        if ips or not w.ips:
            ip = draw(st.sampled_from(ips)) if ips else draw(pod_ip_addresses(family, universe.pod_cidrs))
            return workload_pod(world, w, ip, pod_id)
    namespace = draw(st.sampled_from(allowed_namespaces))
    return PodEndpoint(
        namespace=namespace,
        namespace_labels=world.namespace_labels(namespace),
        labels=draw(labels_for(selector, draw(pod_labels()))),
        ip=draw(pod_ip_addresses(family, universe.pod_cidrs)),
        ports=draw(container_ports()),
        workload=None,
        pod_id=pod_id,
    )


@st.composite
def peer_endpoints(draw, world: World, universe: Universe, family: int, pod_id: str, peer: Peer | None, policy_namespace: str) -> Endpoint:
    """An endpoint that (usually) matches ``peer`` of a policy in ``policy_namespace``:
    for an ipBlock, a host or pod at an address on one of its CIDR boundaries; for pod and
    namespace selectors, a pod made to fit them. Any endpoint when ``peer`` is None."""
    if peer is None:
        return draw(endpoints(world, universe, family, pod_id))
    if peer.ip_block is not None:
        block = peer.ip_block
        candidates = [a for a in boundary_addresses((block.cidr, *block.except_)) if a.version == family]
        ip = draw(st.sampled_from(candidates))
        kind = draw(st.sampled_from(("external", "external", "pod") + (("node",) if universe.node_traffic else ())))
        if kind == "external" or (kind == "pod" and universe.pods != "any"):
            return ExternalEndpoint(ip)
        if kind == "node":
            return NodeEndpoint(ip, draw(st.booleans()))
        pod = draw(pod_endpoints(world, universe, family, pod_id))
        return attrs.evolve(pod, ip=ip) if pod.workload is None else pod
    if peer.namespace_selector is None:
        names = [policy_namespace]
    else:
        names = [n for n in _pod_namespaces(world, universe) if selector_matches(peer.namespace_selector, world.namespace_labels(n))]
        names = names or _pod_namespaces(world, universe)
    return draw(pods_matching(world, universe, family, pod_id, names, peer.pod_selector))


def _entry_ports(entry: PolicyPort, dst: Endpoint) -> list[int]:
    if isinstance(entry.port, int):
        end = entry.end_port or entry.port
        return [p for p in {entry.port - 1, entry.port, entry.port + 1, end - 1, end, end + 1} if 1 <= p <= 65535]
    if isinstance(entry.port, str) and isinstance(dst, PodEndpoint):
        return [cp.port for cp in dst.ports if cp.name == entry.port] or [1]
    return [1]


@st.composite
def targeted_packets(draw, world: World, universe: Universe = Universe()) -> Packet:
    """A packet aimed at one rule: the policy's own end is a pod it selects (usually), the
    other end matches one of the rule's peers (usually), the protocol and port sit on a
    boundary of one of the rule's ports. Falls back to random_packets without policies."""
    policies = world.cluster.policies
    if not policies:
        return draw(random_packets(world, universe))
    policy = draw(st.sampled_from(policies))
    direction = draw(st.sampled_from([d for d in (Direction.INGRESS, Direction.EGRESS) if d in policy.policy_types]))
    rules_ = policy.rules(direction)
    rule = draw(st.sampled_from(rules_)) if rules_ else None
    peer = draw(st.sampled_from(rule.peers)) if rule is not None and rule.peers else None
    family = peer.ip_block.cidr.version if peer is not None and peer.ip_block is not None else draw(families())
    own_id, other_id = ("dst-pod", "src-pod") if direction is Direction.INGRESS else ("src-pod", "dst-pod")
    own = draw(pods_matching(world, universe, family, own_id, [policy.namespace], policy.pod_selector))
    other = draw(peer_endpoints(world, universe, family, other_id, peer, policy.namespace))
    src, dst = (other, own) if direction is Direction.INGRESS else (own, other)
    src = _maybe_on_destination_node(draw, src, dst)
    entry = draw(st.sampled_from(rule.ports)) if rule is not None and rule.ports else None
    if entry is None:
        protocol = draw(st.sampled_from(PROTOCOLS))
        port = draw(st.sampled_from(boundary_ports(world.cluster, endpoints=(src, dst))))
        return Packet(src, dst, protocol, port)
    if isinstance(entry.port, str) and isinstance(dst, PodEndpoint) and dst.workload is None:
        if not any(cp.name == entry.port for cp in dst.ports) and draw(st.integers(0, 3)) > 0:
            named = ContainerPort(draw(st.sampled_from(PORT_NUMBERS)), draw(st.sampled_from((entry.protocol, *PROTOCOLS))), entry.port)
            dst = attrs.evolve(dst, ports=tuple(sorted([cp for cp in dst.ports if cp.name != entry.port] + [named])))
    protocol = entry.protocol if draw(st.integers(0, 4)) else draw(st.sampled_from(PROTOCOLS))
    port = draw(st.sampled_from(_entry_ports(entry, dst)))
    return Packet(src, dst, protocol, port)


@st.composite
def tier_targeted_packets(draw, world: World, universe: Universe = Universe()) -> Packet:
    """A packet aimed at one rule of a cluster-scoped policy, as targeted_packets aims at a
    NetworkPolicy's: its own end (usually) in the subject, the other end (usually) matching a
    peer, the port on a boundary of one of the rule's ports."""
    policy = draw(st.sampled_from(world.cluster.cluster_policies))
    directions = [d for d in (Direction.INGRESS, Direction.EGRESS) if policy.rules(d)] or [Direction.INGRESS]
    direction = draw(st.sampled_from(directions))
    rule = draw(st.sampled_from(policy.rules(direction))) if policy.rules(direction) else None
    peer = draw(st.sampled_from(rule.peers)) if rule is not None and rule.peers else None
    family = draw(families())
    if peer is not None and peer.networks:
        network = draw(st.sampled_from(peer.networks))
        family = network.version
        as_peer: Peer | None = Peer(ip_block=IPBlock(network))
    elif peer is not None and peer.pods is not None:
        as_peer = Peer(pod_selector=peer.pods.pod_selector, namespace_selector=peer.pods.namespace_selector)
    else:
        as_peer = None
    own_id, other_id = ("dst-pod", "src-pod") if direction is Direction.INGRESS else ("src-pod", "dst-pod")
    subject = policy.subject
    names = [n for n in _pod_namespaces(world, universe) if selector_matches(subject.namespace_selector, world.namespace_labels(n))]
    own = draw(pods_matching(world, universe, family, own_id, names or _pod_namespaces(world, universe), subject.pod_selector))
    if as_peer is None and peer is not None and peer.undecidable and draw(st.booleans()):
        other: Endpoint = ExternalEndpoint(draw(external_ip_addresses(family, universe.pod_cidrs)))
    else:
        other = draw(peer_endpoints(world, universe, family, other_id, as_peer, "ns1"))
    src, dst = (other, own) if direction is Direction.INGRESS else (own, other)
    src = _maybe_on_destination_node(draw, src, dst)
    entry = draw(st.sampled_from(rule.ports)) if rule is not None and rule.ports else None
    if entry is None or (entry.named is None and entry.start is None):
        protocol = entry.protocol if entry is not None and draw(st.integers(0, 3)) else draw(st.sampled_from(PROTOCOLS))
        return Packet(src, dst, protocol, draw(st.sampled_from(boundary_ports(world.cluster, endpoints=(src, dst)))))
    if entry.named is not None:
        as_entry = PolicyPort(draw(st.sampled_from(PROTOCOLS)), entry.named)
        if isinstance(dst, PodEndpoint) and dst.workload is None and draw(st.integers(0, 3)) > 0:
            named = ContainerPort(draw(st.sampled_from(PORT_NUMBERS)), as_entry.protocol, entry.named)
            dst = attrs.evolve(dst, ports=tuple(sorted([cp for cp in dst.ports if cp.name != entry.named] + [named])))
        protocol = next((cp.protocol for cp in getattr(dst, "ports", ()) if cp.name == entry.named), as_entry.protocol)
    else:
        as_entry = PolicyPort(entry.protocol, entry.start, entry.end)
        protocol = entry.protocol if draw(st.integers(0, 4)) else draw(st.sampled_from(PROTOCOLS))
    return Packet(src, dst, protocol, draw(st.sampled_from(_entry_ports(as_entry, dst))))


def _weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, picked with the given integer weights."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda i: pool[i])


# --- invariants ---------------------------------------------------------------------------


@st.composite
def pod_scopes(draw, world: World, ip_blocks_too: bool = True) -> Scope:
    """A pod scope: kind POD plus an optional namespace (name or selector), pod selector,
    workload (``name`` or ``Kind/name``, with a namespace name that agrees) and ipBlock.

    Mostly anchored on one workload, every part chosen so that its pods are in the scope
    (scopes that hold nothing make vacuous invariants); otherwise parts drawn freely.
    """
    wls = world.cluster.workloads
    anchor = draw(st.sampled_from(wls)) if wls and draw(st.integers(0, 9)) < 7 else None
    if anchor is not None:
        ns_labels = world.namespace_labels(anchor.namespace)
        namespace = draw(
            _weighted(
                (3, st.none()),
                (1, st.just(anchor.namespace)),
                (1, selectors_matching(ns_labels, NAMESPACE_KEYS)),
            )
        )
        pod = draw(st.one_of(st.none(), selectors_matching(anchor.labels)))
        workload = None
        if draw(st.integers(0, 2)) == 0:
            workload = draw(st.sampled_from((anchor.name, f"{anchor.kind}/{anchor.name}")))
        ip_block = None
        if ip_blocks_too and anchor.ips and draw(st.integers(0, 3)) == 0:
            ip = draw(st.sampled_from(anchor.ips))
            cidr = draw(st.sampled_from([n for n in NETWORKS[ip.version] if ip in n]))
            excepts = [n for n in NETWORKS[ip.version] if n != cidr and n.subnet_of(cidr) and ip not in n]
            ip_block = IPBlock(cidr, draw(st.lists(st.sampled_from(excepts), max_size=1)) if excepts else ())
        return Scope(namespace=namespace, pod=pod, workload=workload, ip_block=ip_block, kind=EndpointKind.POD)
    namespace = draw(st.one_of(st.none(), st.sampled_from(NAMED_NAMESPACES), namespace_selectors()))
    workload = None
    if wls and draw(st.integers(0, 2)) == 0:
        w = draw(st.sampled_from(wls))
        workload = draw(st.sampled_from((w.name, f"{w.kind}/{w.name}")))
        if isinstance(namespace, str):
            namespace = w.namespace
    pod = draw(st.one_of(st.none(), label_selectors()))
    ip_block = draw(ip_blocks()) if ip_blocks_too and draw(st.integers(0, 4)) == 0 else None
    return Scope(namespace=namespace, pod=pod, workload=workload, ip_block=ip_block, kind=EndpointKind.POD)


@st.composite
def any_scopes(draw, world: World) -> Scope:
    """Any scope: everything, pods (see pod_scopes), or external hosts in an ipBlock."""
    form = draw(st.sampled_from(("any", "pod", "pod", "external")))
    if form == "pod":
        scope = draw(pod_scopes(world))
        return scope if draw(st.booleans()) else attrs.evolve(scope, kind=None)
    block = draw(st.one_of(st.none(), ip_blocks()))
    return Scope(ip_block=block, kind=EndpointKind.EXTERNAL if form == "external" else None)


@st.composite
def scopes_containing(draw, world: World, endpoint: Endpoint) -> Scope:
    """A scope that holds ``endpoint``: its namespace (by name or selector), a selector its
    labels satisfy, its workload, a CIDR around its IP; any of them, all optional."""
    ip_block = None
    if draw(st.integers(0, 3)) == 0:
        ip_block = IPBlock(draw(st.sampled_from([n for n in NETWORKS[endpoint.ip.version] if endpoint.ip in n])))
    if not isinstance(endpoint, PodEndpoint):
        external = isinstance(endpoint, ExternalEndpoint) and draw(st.booleans())
        return Scope(ip_block=ip_block, kind=EndpointKind.EXTERNAL if external else None)
    namespace = draw(
        st.one_of(
            st.none(), st.just(endpoint.namespace), selectors_matching(endpoint.namespace_labels, NAMESPACE_KEYS)
        )
    )
    pod = draw(st.one_of(st.none(), selectors_matching(endpoint.labels)))
    workload = None
    owner = next((w for w in world.cluster.workloads if w.key == endpoint.workload), None)
    if owner is not None and draw(st.booleans()):
        workload = f"{owner.kind}/{owner.name}"
    kind = draw(st.sampled_from((None, EndpointKind.POD)))
    return Scope(namespace=namespace, pod=pod, workload=workload, ip_block=ip_block, kind=kind)


#: Invariant kinds about packets between two scopes.
FLOW_KINDS = (InvariantKind.ISOLATED, InvariantKind.ALLOWED, InvariantKind.REACHABLE, InvariantKind.ONLY)


@st.composite
def invariants(draw, world: World, scopes=pod_scopes) -> Invariant:
    """A flow invariant (isolated, allowed, reachable, only) between two drawn scopes."""
    kind = draw(st.sampled_from(FLOW_KINDS))
    return Invariant(
        name="inv",
        kind=kind,
        src=draw(scopes(world)),
        dst=draw(scopes(world)),
        ports=tuple(draw(st.one_of(st.just([]), st.lists(policy_ports(), min_size=1, max_size=2)))),
    )


# --- the universes and semantics the packet-level comparison runs in -------------------

WIDE = dict(host_network=True, node_traffic=True, self_traffic=True)

#: (universe, semantics) pairs: every semantic option flipped, every universe option on.
PACKET_CONFIGS = {
    "default": (Universe(), Semantics()),
    "ipblock-not-pods": (Universe(), Semantics(ip_block_matches_pods=False)),
    "wide": (Universe(**WIDE), Semantics()),
    "wide-all-flipped": (
        Universe(**WIDE),
        Semantics(ip_block_matches_pods=False, self_traffic_allowed=False, own_node_traffic_allowed=False),
    ),
    "pod-cidrs": (Universe(pod_cidrs=POD_CIDRS), Semantics()),
    "pod-cidrs-wide": (Universe(pod_cidrs=POD_CIDRS, **WIDE), Semantics(ip_block_matches_pods=False)),
    "declared": (Universe(namespaces="declared", self_traffic=True), Semantics(self_traffic_allowed=False)),
    "workloads": (Universe(pods="workloads", namespaces="declared", host_network=True, self_traffic=True), Semantics()),
}
