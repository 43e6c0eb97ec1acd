"""The policy model: immutable values for policies, selectors, pods, endpoints and packets.

No I/O and no solver here. Everything is ``@attrs.frozen`` with tuple or frozenset fields,
so values hash, compare by content and can be shared freely between queries.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from typing import Union

import attrs

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

#: The label Kubernetes puts on every namespace, holding the namespace's name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@attrs.frozen(order=True)
class SourceLocation:
    """A position in an input file; line and column are 1-based."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Protocol(enum.Enum):
    """A transport protocol a NetworkPolicy port can name."""

    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"

    def __str__(self) -> str:
        return self.value


class Direction(enum.Enum):
    """A policy type: which direction of a pod's traffic a policy isolates."""

    INGRESS = "Ingress"
    EGRESS = "Egress"

    def __str__(self) -> str:
        return self.value


class Operator(enum.Enum):
    """A label selector requirement's operator."""

    IN = "In"
    NOT_IN = "NotIn"
    EXISTS = "Exists"
    DOES_NOT_EXIST = "DoesNotExist"

    def __str__(self) -> str:
        return self.value


def _freeze_labels(value: Mapping[str, str] | Labels | None) -> Labels:
    if isinstance(value, Labels):
        return value
    return Labels(tuple(sorted((value or {}).items())))


@attrs.frozen
class Labels(Mapping[str, str]):
    """An immutable, hashable label map (key -> value)."""

    items_: tuple[tuple[str, str], ...] = ()
    #: The same as a dict, for lookups (selectors read labels millions of times).
    _map: dict[str, str] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_map", dict(self.items_))

    @classmethod
    def of(cls, value: Mapping[str, str] | None = None, /, **kwargs: str) -> Labels:
        merged = dict(value or {})
        merged.update(kwargs)
        return _freeze_labels(merged)

    def __getitem__(self, key: str) -> str:
        return self._map[key]

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def get(self, key: str, default=None):
        return self._map.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self.items_)

    def __repr__(self) -> str:
        return "Labels(%r)" % dict(self.items_)


@attrs.frozen(cache_hash=True)
class Requirement:
    """One matchExpressions entry: ``key operator values``."""

    key: str
    operator: Operator
    values: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator is Operator.IN:
            return present and labels[self.key] in self.values
        if self.operator is Operator.NOT_IN:
            return not present or labels[self.key] not in self.values
        if self.operator is Operator.EXISTS:
            return present
        return not present


@attrs.frozen(cache_hash=True)
class LabelSelector:
    """A Kubernetes label selector. The empty selector matches everything."""

    match_labels: Labels = attrs.field(default=Labels(), converter=_freeze_labels)
    match_expressions: tuple[Requirement, ...] = attrs.field(default=(), converter=tuple)
    #: ``requirements()``, built once: selectors are matched millions of times.
    _requirements: tuple[Requirement, ...] = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        merged = tuple(Requirement(k, Operator.IN, (v,)) for k, v in self.match_labels.items()) + self.match_expressions
        object.__setattr__(self, "_requirements", merged)

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def requirements(self) -> tuple[Requirement, ...]:
        """All conditions of the selector as requirements (matchLabels become ``In``)."""
        return self._requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        """All requirements hold; the empty selector matches every label set."""
        return all(r.matches(labels) for r in self._requirements)

    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.requirements())


@attrs.frozen(cache_hash=True)
class IPBlock:
    """A CIDR with excepted sub-CIDRs. ``cidr`` is normalised (host bits cleared)."""

    cidr: IPNetwork
    except_: tuple[IPNetwork, ...] = attrs.field(default=(), converter=tuple)

    def contains(self, ip: IPAddress) -> bool:
        if ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in e for e in self.except_)


@attrs.frozen(cache_hash=True)
class Peer:
    """One entry of a rule's ``from``/``to`` list.

    Exactly one of: ip_block; or at least one of pod_selector / namespace_selector.
    ``pod_selector`` alone selects pods in the policy's namespace; ``namespace_selector``
    alone selects all pods in matching namespaces; both select matching pods in matching
    namespaces.
    """

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)


@attrs.frozen(cache_hash=True)
class PolicyPort:
    """One entry of a rule's ``ports`` list.

    ``port`` is None (all ports of the protocol), a number, or a named port (str), which
    is resolved on the destination pod. ``end_port`` makes ``port``..``end_port`` a range.
    """

    protocol: Protocol = Protocol.TCP
    port: int | str | None = None
    end_port: int | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)


@attrs.frozen(cache_hash=True)
class Rule:
    """An ingress or egress rule. An empty ``peers`` or ``ports`` tuple means "all"."""

    peers: tuple[Peer, ...] = attrs.field(default=(), converter=tuple)
    ports: tuple[PolicyPort, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)


@attrs.frozen(cache_hash=True)
class NetworkPolicy:
    """A ``networking.k8s.io/v1`` NetworkPolicy after API-server defaulting."""

    namespace: str
    name: str
    pod_selector: LabelSelector = LabelSelector()
    policy_types: frozenset[Direction] = attrs.field(
        default=frozenset({Direction.INGRESS}), converter=frozenset
    )
    ingress: tuple[Rule, ...] = attrs.field(default=(), converter=tuple)
    egress: tuple[Rule, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: Direction) -> tuple[Rule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


# --- cluster-scoped tiers: ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy


class Tier(enum.Enum):
    """A first-match tier of cluster-scoped policies; NetworkPolicy decides between the two.

    Order for each direction: ADMIN, then NetworkPolicy (for pods it isolates), then
    BASELINE, then the default (allow).
    """

    ADMIN = "Admin"
    BASELINE = "Baseline"

    def __str__(self) -> str:
        return self.value


class Action(enum.Enum):
    """What a first-match rule does with the packets it matches.

    v1alpha1's ``Allow`` is ACCEPT. Accept and Deny are final for their direction; Pass
    skips the rest of its tier.
    """

    ACCEPT = "Accept"
    DENY = "Deny"
    PASS = "Pass"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(cache_hash=True)
class PodSet:
    """Pods (never hostNetwork ones) in namespaces matching ``namespace_selector`` whose
    labels match ``pod_selector``: a subject, or a ``namespaces``/``pods`` peer."""

    namespace_selector: LabelSelector = LabelSelector()
    pod_selector: LabelSelector = LabelSelector()


@attrs.frozen(cache_hash=True)
class ClusterPeer:
    """One entry of a cluster-scoped rule's ``from``/``to`` list; at most one field is set.

    ``nodes`` and ``domain_names`` cannot be decided from manifests: answers they could
    change are UNKNOWN (docs/semantics.md). A peer with none set is one the API version
    read did not know; the rule it is in fails closed (see ClusterRule.fails_closed).
    """

    pods: PodSet | None = None
    networks: tuple[IPNetwork, ...] = attrs.field(default=(), converter=tuple)
    nodes: LabelSelector | None = None
    domain_names: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def empty(self) -> bool:
        return self.pods is None and not self.networks and self.nodes is None and not self.domain_names

    @property
    def undecidable(self) -> bool:
        """Whether it matches depends on facts no manifest holds (node IPs, DNS)."""
        return self.nodes is not None or bool(self.domain_names)


@attrs.frozen(cache_hash=True)
class ClusterPort:
    """One entry of ``protocols`` (v1alpha2) or ``ports`` (v1alpha1).

    ``start``/``end`` bound the destination port (both None: every port of the protocol);
    ``named`` is a container port name resolved on the destination pod, for any protocol.
    """

    protocol: Protocol | None = Protocol.TCP
    start: int | None = None
    end: int | None = None
    named: str | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)


@attrs.frozen(cache_hash=True)
class ClusterRule:
    """An ingress or egress rule of a cluster-scoped policy. Empty ``ports``: every port."""

    action: Action
    peers: tuple[ClusterPeer, ...] = attrs.field(default=(), converter=tuple)
    ports: tuple[ClusterPort, ...] = attrs.field(default=(), converter=tuple)
    name: str = ""
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def fails_closed(self) -> bool:
        """A peer the API version read did not know: an Accept rule then matches nothing,
        a Deny or Pass rule denies everything (the API's "fail closed")."""
        return any(p.empty for p in self.peers)


#: The short names invariants and reports use for each cluster-scoped kind.
CLUSTER_POLICY_SHORT_NAMES = {
    "ClusterNetworkPolicy": "cnp",
    "AdminNetworkPolicy": "anp",
    "BaselineAdminNetworkPolicy": "banp",
}


@attrs.frozen(cache_hash=True)
class ClusterPolicy:
    """A ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy or BaselineAdminNetworkPolicy
    (v1alpha1), lowered to one shape: a tier, a priority, a subject and ordered rules.

    A BaselineAdminNetworkPolicy has priority 0 (it is the only one of its tier in v1alpha1).
    """

    kind: str
    name: str
    tier: Tier
    priority: int
    subject: PodSet
    ingress: tuple[ClusterRule, ...] = attrs.field(default=(), converter=tuple)
    egress: tuple[ClusterRule, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def key(self) -> str:
        """``cnp/NAME``, ``anp/NAME`` or ``banp/default``: how invariants name it."""
        return f"{CLUSTER_POLICY_SHORT_NAMES.get(self.kind, self.kind.lower())}/{self.name}"

    def rules(self, direction: Direction) -> tuple[ClusterRule, ...]:
        return self.ingress if direction is Direction.INGRESS else self.egress


@attrs.frozen
class Namespace:
    """A declared Namespace object. ``labels`` includes ``kubernetes.io/metadata.name``."""

    name: str
    labels: Labels = attrs.field(default=Labels(), converter=_freeze_labels)
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        # The API server always sets this label to the name, whatever the manifest says.
        if self.labels.get(NAMESPACE_NAME_LABEL) != self.name:
            object.__setattr__(self, "labels", Labels.of(self.labels, **{NAMESPACE_NAME_LABEL: self.name}))


@attrs.frozen(order=True)
class ContainerPort:
    """A container port of a pod; ``name`` is None for an unnamed port."""

    port: int
    protocol: Protocol = attrs.field(default=Protocol.TCP, order=lambda p: p.value)
    name: str | None = attrs.field(default=None, order=lambda n: n or "")


@attrs.frozen
class Workload:
    """The pods of one workload object (Pod, Deployment, StatefulSet, ...).

    All pods of a workload share namespace, labels and container ports. ``replicas`` is
    how many pods it has at most when known (a Pod has exactly one); None means unknown
    (a DaemonSet, a Job with parallelism, a Deployment with an autoscaler), treated as
    "possibly many". ``ips`` are the pods' IPs when known (``status.podIPs`` of a Pod).
    """

    kind: str
    namespace: str
    name: str
    labels: Labels = attrs.field(default=Labels(), converter=_freeze_labels)
    ports: tuple[ContainerPort, ...] = attrs.field(default=(), converter=tuple)
    host_network: bool = False
    replicas: int | None = None
    ips: tuple[IPAddress, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)
    #: Where ``ips`` are stated (``status.podIP``), for messages about them.
    ips_location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"

    @property
    def single_pod(self) -> bool:
        """True when the workload has at most one pod, so it cannot talk to a sibling."""
        return self.replicas is not None and self.replicas <= 1


@attrs.frozen
class ServicePort:
    """One port of a Service: clients use ``port``; kube-proxy sends to ``target_port`` of the
    selected pods (a number, or a container port's name resolved on each pod)."""

    port: int
    protocol: Protocol = Protocol.TCP
    name: str | None = None
    #: None when absent: the same number as ``port``.
    target_port: int | str | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def target(self) -> int | str:
        return self.port if self.target_port is None else self.target_port

    def __str__(self) -> str:
        name = f"{self.name} " if self.name else ""
        return f"{name}{self.port}/{self.protocol}"


@attrs.frozen
class Node:
    """A ``v1`` Node: its labels (what ``nodes`` peers select) and its IP addresses
    (``status.addresses`` of type InternalIP or ExternalIP), by which those peers match it."""

    name: str
    labels: Labels = attrs.field(default=Labels(), converter=_freeze_labels)
    addresses: tuple[IPAddress, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)
    #: Where ``addresses`` are stated, for messages about them.
    addresses_location: SourceLocation | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Service:
    """A ``v1`` Service: the pods it selects and its ports.

    ``selector`` is None for a Service without one (its endpoints are managed elsewhere) and
    for an ExternalName Service: npverify cannot know their pods and never guesses them.
    """

    namespace: str
    name: str
    selector: Labels | None = attrs.field(default=None, converter=attrs.converters.optional(_freeze_labels))
    ports: tuple[ServicePort, ...] = attrs.field(default=(), converter=tuple)
    external_name: str | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@attrs.frozen
class SkippedDocument:
    """An input document that was read but is not a kind npverify uses.

    ``note`` says why it cannot change an answer, when npverify knows the kind (e.g. a
    MultiNetworkPolicy applies to secondary networks only); "" for kinds it does not know.
    """

    kind: str
    name: str
    location: SourceLocation | None = attrs.field(default=None, eq=False)
    note: str = ""

    def __str__(self) -> str:
        text = f"{self.kind} {self.name}" + (f" ({self.location})" if self.location else "")
        return text + (f": {self.note}" if self.note else "")


class Reach(enum.Enum):
    """Which packets an object of a policy kind can change."""

    #: Only packets with a pod of the object's own namespace at one end.
    NAMESPACE = "namespace"
    #: Any packet of the cluster.
    CLUSTER = "cluster"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class UnmodelledObject:
    """An object of a kind that changes which packets flow, which npverify does not model yet.

    While one is in force (not ignored with ``--ignore-kind``), every answer it could change
    is UNKNOWN: see npverify/coverage.py and docs/semantics.md.
    """

    kind: str
    api_group: str
    #: "" for a cluster-scoped object.
    namespace: str
    name: str
    reach: Reach
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def qualified_kind(self) -> str:
        """``Kind.group``, as kubectl names a resource: ``CiliumNetworkPolicy.cilium.io``."""
        return f"{self.kind}.{self.api_group}" if self.api_group else self.kind

    def __str__(self) -> str:
        name = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.qualified_kind} {name}" + (f" ({self.location})" if self.location else "")


#: The annotation that silences lint rules for the object it is on:
#: ``npverify.io/ignore: dns-blocked,overly-broad``.
IGNORE_ANNOTATION = "npverify.io/ignore"


@attrs.frozen
class IgnoreAnnotation:
    """An object's ``npverify.io/ignore`` annotation: the lint rules it silences for that
    object, as written (npverify.lint checks the ids, so a typo is an error, not a no-op)."""

    #: The object's kind (NetworkPolicy, AdminNetworkPolicy, Deployment, ...), namespace
    #: ("" when cluster-scoped) and name.
    kind: str
    namespace: str
    name: str
    rules: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    location: SourceLocation | None = attrs.field(default=None, eq=False)


@attrs.frozen
class Cluster:
    """Everything loaded from manifests: policies, declared namespaces and workloads."""

    policies: tuple[NetworkPolicy, ...] = attrs.field(default=(), converter=tuple)
    namespaces: tuple[Namespace, ...] = attrs.field(default=(), converter=tuple)
    workloads: tuple[Workload, ...] = attrs.field(default=(), converter=tuple)
    skipped: tuple[SkippedDocument, ...] = attrs.field(default=(), converter=tuple, eq=False)
    warnings: tuple[Diagnostic, ...] = attrs.field(default=(), converter=tuple, eq=False)
    #: Objects of kinds that change which packets flow but that npverify does not model:
    #: answers they could change are UNKNOWN (npverify/coverage.py).
    unmodelled: tuple[UnmodelledObject, ...] = attrs.field(default=(), converter=tuple, eq=False)
    #: Unmodelled objects the user chose to ignore (``--ignore-kind``); every report says so.
    ignored: tuple[UnmodelledObject, ...] = attrs.field(default=(), converter=tuple, eq=False)
    #: Services: they name pods and ports for invariants and explain; they allow nothing.
    services: tuple[Service, ...] = attrs.field(default=(), converter=tuple, eq=False)
    #: Cluster-scoped policies of the Admin and Baseline tiers, in load order.
    cluster_policies: tuple[ClusterPolicy, ...] = attrs.field(default=(), converter=tuple)
    #: ``npverify.io/ignore`` annotations of the loaded objects (for ``npverify lint``).
    ignore_annotations: tuple[IgnoreAnnotation, ...] = attrs.field(default=(), converter=tuple, eq=False)
    #: Declared Nodes: their addresses are theirs, so ``nodes`` peers decide on them
    #: (Universe.nodes says whether other nodes may exist).
    nodes: tuple[Node, ...] = attrs.field(default=(), converter=tuple)
    #: Policies by namespace, in order, and declared namespaces by name: built once, since
    #: the evaluator asks for them per packet.
    _policies_by_namespace: dict[str, tuple[NetworkPolicy, ...]] = attrs.field(init=False, eq=False, repr=False)
    _namespaces_by_name: dict[str, Namespace] = attrs.field(init=False, eq=False, repr=False)
    _workloads_by_key: dict[str, Workload] = attrs.field(init=False, eq=False, repr=False)
    _namespace_names: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _status_ips: dict[bool, frozenset[IPAddress]] = attrs.field(init=False, eq=False, repr=False)
    _tier_groups: dict[Tier, tuple[tuple[int, tuple[ClusterPolicy, ...]], ...]] = attrs.field(
        init=False, eq=False, repr=False
    )
    _nodes_by_address: dict[IPAddress, Node] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        tiers: dict[Tier, dict[int, list[ClusterPolicy]]] = {tier: {} for tier in Tier}
        for cp in self.cluster_policies:
            tiers[cp.tier].setdefault(cp.priority, []).append(cp)
        object.__setattr__(
            self,
            "_tier_groups",
            {
                tier: tuple((p, tuple(sorted(g, key=lambda c: (c.name, c.kind)))) for p, g in sorted(groups.items()))
                for tier, groups in tiers.items()
            },
        )
        grouped: dict[str, list[NetworkPolicy]] = {}
        for policy in self.policies:
            grouped.setdefault(policy.namespace, []).append(policy)
        object.__setattr__(self, "_policies_by_namespace", {k: tuple(v) for k, v in grouped.items()})
        object.__setattr__(self, "_namespaces_by_name", {ns.name: ns for ns in reversed(self.namespaces)})
        object.__setattr__(self, "_workloads_by_key", {w.key: w for w in reversed(self.workloads)})
        object.__setattr__(
            self,
            "_namespace_names",
            frozenset([n.name for n in self.namespaces] + list(grouped) + [w.namespace for w in self.workloads]),
        )
        status_ips: dict[bool, set[IPAddress]] = {False: set(), True: set()}
        for w in self.workloads:
            status_ips[w.host_network].update(w.ips)
        object.__setattr__(self, "_status_ips", {k: frozenset(v) for k, v in status_ips.items()})
        by_address: dict[IPAddress, Node] = {}
        for node in self.nodes:
            for address in node.addresses:
                by_address.setdefault(address, node)  # a second claim is a load warning
        object.__setattr__(self, "_nodes_by_address", by_address)

    def node_at(self, ip: IPAddress) -> Node | None:
        """The loaded Node with address ``ip``, or None."""
        return self._nodes_by_address.get(ip)

    def node_addresses(self) -> frozenset[IPAddress]:
        """Every address of a loaded Node."""
        return frozenset(self._nodes_by_address)

    def tier_groups(self, tier: Tier) -> tuple[tuple[int, tuple[ClusterPolicy, ...]], ...]:
        """The tier's policies grouped by priority (lower first), each group by name."""
        return self._tier_groups[tier]

    @property
    def tiered(self) -> bool:
        """Whether cluster-scoped policies take part: then no namespace decides alone."""
        return bool(self.cluster_policies)

    def status_ips(self, host_network: bool) -> frozenset[IPAddress]:
        """The IPs loaded Pods state (``status.podIPs``) of ordinary pods, or of hostNetwork
        pods (their nodes' IPs): facts that fix which endpoints may have these IPs."""
        return self._status_ips[host_network]

    def workload(self, key: str | None) -> Workload | None:
        """The workload ``namespace/Kind/name``, or None."""
        return None if key is None else self._workloads_by_key.get(key)

    def policies_in(self, namespace: str) -> tuple[NetworkPolicy, ...]:
        """The policies of ``namespace``, in load order."""
        return self._policies_by_namespace.get(namespace, ())

    def namespace(self, name: str) -> Namespace | None:
        return self._namespaces_by_name.get(name)

    def service(self, key: str) -> Service | None:
        """The Service ``namespace/name``, or None."""
        return next((s for s in self.services if s.key == key), None)

    def namespace_names(self) -> frozenset[str]:
        """Every namespace the manifests mention: declared, or holding a policy or workload."""
        return self._namespace_names

    def with_policies(self, policies: tuple[NetworkPolicy, ...]) -> Cluster:
        return attrs.evolve(self, policies=policies)

    def ignoring(self, kinds: Iterable[str]) -> Cluster:
        """This cluster with the unmodelled objects of ``kinds`` (``Kind`` or ``Kind.group``)
        moved to ``ignored``. Kinds are not checked here: npverify.coverage does that."""
        wanted = frozenset(kinds)
        if not wanted:
            return self
        named = [o.kind in wanted or o.qualified_kind in wanted for o in self.unmodelled]
        ignore = tuple(o for o, n in zip(self.unmodelled, named) if n)
        keep = tuple(o for o, n in zip(self.unmodelled, named) if not n)
        return attrs.evolve(self, unmodelled=keep, ignored=self.ignored + ignore)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@attrs.frozen
class Diagnostic:
    """A message about the input, located at a file position and a field path."""

    message: str
    location: SourceLocation | None = None
    path: str = ""
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        field = f"{self.path}: " if self.path else ""
        return f"{where}{self.severity.value}: {field}{self.message}"


# --- endpoints and packets -------------------------------------------------------------


@attrs.frozen
class PodEndpoint:
    """A concrete pod: where it is, its labels, IP and container ports.

    ``pod_id`` tells pods apart: two endpoints with the same ``pod_id`` are the same pod.
    ``host_network`` pods use their node's network namespace (see docs/semantics.md).
    ``own_node``, for a hostNetwork pod as source only: it runs on the node the destination
    pod runs on, so its packets are that node's (as ``NodeEndpoint.own_node``).
    """

    namespace: str
    namespace_labels: Labels = attrs.field(converter=_freeze_labels)
    labels: Labels = attrs.field(converter=_freeze_labels)
    ip: IPAddress
    ports: tuple[ContainerPort, ...] = attrs.field(default=(), converter=tuple)
    host_network: bool = False
    workload: str | None = None
    pod_id: str = ""
    own_node: bool = False


@attrs.frozen
class ExternalEndpoint:
    """A host outside the cluster's pod network, known only by its IP."""

    ip: IPAddress


@attrs.frozen
class NodeEndpoint:
    """A cluster node as the origin of traffic (kubelet probes, node-local agents).

    ``own_node`` says whether it is the node the destination pod runs on.
    """

    ip: IPAddress
    own_node: bool = False


Endpoint = Union[PodEndpoint, ExternalEndpoint, NodeEndpoint]


def _endpoint_text(endpoint: Endpoint) -> str:
    if isinstance(endpoint, ExternalEndpoint):
        return f"external host {endpoint.ip}"
    if isinstance(endpoint, NodeEndpoint):
        return f"node {endpoint.ip}"
    labels = "{" + ", ".join(f"{k}={v}" for k, v in endpoint.labels.items()) + "}"
    kind = "hostNetwork pod" if endpoint.host_network else "pod"
    return f"{kind} {labels} in namespace {endpoint.namespace}"


@attrs.frozen
class Packet:
    """One packet: source, destination, protocol and destination port."""

    src: Endpoint
    dst: Endpoint
    protocol: Protocol
    port: int

    def __str__(self) -> str:
        """``TCP/8080 from pod {app=web} in namespace shop to external host 1.2.3.4``."""
        return f"{self.protocol}/{self.port} from {_endpoint_text(self.src)} to {_endpoint_text(self.dst)}"

    @property
    def is_self(self) -> bool:
        """True when a pod sends to itself."""
        return (
            isinstance(self.src, PodEndpoint)
            and isinstance(self.dst, PodEndpoint)
            and self.src.pod_id == self.dst.pod_id
            and self.src.namespace == self.dst.namespace
        )

    def _repr_html_(self) -> str:
        # Imported here: the model stays free of rendering (and report imports the model).
        from npverify.report.html import render_packet_html

        return render_packet_html(self)


# --- semantic options ----------------------------------------------------------------


@attrs.frozen
class Semantics:
    """Choices for the points the Kubernetes API leaves to the network plugin.

    Defaults follow the upstream conformance tests; docs/semantics.md explains each.
    """

    #: Does an ipBlock peer match the IPs of (non-hostNetwork) pods?
    ip_block_matches_pods: bool = True
    #: Is a pod's traffic to itself always allowed, whatever the policies say?
    self_traffic_allowed: bool = True
    #: Is traffic from the node a pod runs on always allowed into that pod?
    own_node_traffic_allowed: bool = True
    #: Policies of one tier with the same priority whose rules match one packet: "any"
    #: (the API leaves the order to the implementation: a verdict that depends on it is
    #: UNKNOWN) or "name" (apply them by name, a documented tie-break).
    same_priority: str = "any"


@attrs.frozen
class Universe:
    """Which endpoints a question ranges over."""

    #: "any": namespaces that are not declared yet count too; "declared": only those
    #: declared by a Namespace object or holding a loaded policy or workload.
    namespaces: str = "any"
    #: "any": any pod with any labels; "workloads": only pods of loaded workloads.
    pods: str = "any"
    #: Pod IPs lie inside these (external IPs outside); empty: pod IPs unconstrained.
    pod_cidrs: tuple[IPNetwork, ...] = attrs.field(default=(), converter=tuple)
    #: Include hostNetwork pods (of workloads, or arbitrary ones in the "any" universe).
    host_network: bool = False
    #: Include packets originating on nodes (kubelet probes and node agents).
    node_traffic: bool = False
    #: Include a pod's packets to itself in invariant scopes.
    self_traffic: bool = False
    #: "any": nodes may exist that no manifest declares; "declared": the loaded Nodes are
    #: all the nodes (docs/semantics.md, "Nodes"). Either way a loaded Node's address is that node.
    nodes: str = "any"


# --- parts of policies -----------------------------------------------------------------


@attrs.frozen
class PolicyItem:
    """A NetworkPolicy, or one of its rules, peers or port entries (for redundancy and coverage).

    ``direction`` and ``rule_index`` are None for a whole policy; ``peer_index`` or
    ``port_index`` is set for a peer or port entry of that rule.
    """

    policy: NetworkPolicy
    direction: Direction | None = None
    rule_index: int | None = None
    peer_index: int | None = None
    port_index: int | None = None

    #: The tier its policy belongs to (ClusterItem's is Admin or Baseline).
    tier = "NetworkPolicy"

    @property
    def kind(self) -> str:
        if self.rule_index is None:
            return "policy"
        if self.peer_index is not None:
            return "peer"
        if self.port_index is not None:
            return "port"
        return "rule"

    @property
    def rule(self) -> Rule | None:
        if self.direction is None or self.rule_index is None:
            return None
        return self.policy.rules(self.direction)[self.rule_index]

    @property
    def location(self) -> SourceLocation | None:
        rule = self.rule
        if rule is None:
            return self.policy.location
        if self.peer_index is not None:
            return rule.peers[self.peer_index].location or rule.location
        if self.port_index is not None:
            return rule.ports[self.port_index].location or rule.location
        return rule.location or self.policy.location

    def __str__(self) -> str:
        text = self.policy.key
        if self.direction is not None and self.rule_index is not None:
            field, peers = ("ingress", "from") if self.direction is Direction.INGRESS else ("egress", "to")
            text += f" {field}[{self.rule_index}]"
            if self.peer_index is not None:
                text += f".{peers}[{self.peer_index}]"
            if self.port_index is not None:
                text += f".ports[{self.port_index}]"
        return text

    def without(self) -> NetworkPolicy | None:
        """The policy with this item removed; None when the item is the whole policy.

        Removing the last peer or port entry of a rule leaves an empty list, which
        matches everything: that is what such a rule would then mean.
        """
        if self.direction is None or self.rule_index is None:
            return None
        rules = list(self.policy.rules(self.direction))
        rule = rules[self.rule_index]
        if self.peer_index is not None:
            rules[self.rule_index] = attrs.evolve(rule, peers=rule.peers[: self.peer_index] + rule.peers[self.peer_index + 1 :])
        elif self.port_index is not None:
            rules[self.rule_index] = attrs.evolve(rule, ports=rule.ports[: self.port_index] + rule.ports[self.port_index + 1 :])
        else:
            del rules[self.rule_index]
        field = "ingress" if self.direction is Direction.INGRESS else "egress"
        return attrs.evolve(self.policy, **{field: tuple(rules)})


@attrs.frozen
class ClusterItem:
    """A cluster-scoped policy, or one of its rules (for redundancy): PolicyItem's shape,
    so reports read both alike. Peers and protocol entries are not items of their own."""

    policy: ClusterPolicy
    direction: Direction | None = None
    rule_index: int | None = None
    peer_index: None = None
    port_index: None = None

    @property
    def kind(self) -> str:
        return "policy" if self.rule_index is None else "rule"

    @property
    def tier(self) -> str:
        return self.policy.tier.value

    @property
    def location(self) -> SourceLocation | None:
        if self.direction is None or self.rule_index is None:
            return self.policy.location
        return self.policy.rules(self.direction)[self.rule_index].location or self.policy.location

    def __str__(self) -> str:
        text = self.policy.key
        if self.direction is not None and self.rule_index is not None:
            text += f" spec.{'ingress' if self.direction is Direction.INGRESS else 'egress'}[{self.rule_index}]"
        return f"{text} (tier {self.tier}, priority {self.policy.priority})"

    def without(self) -> ClusterPolicy | None:
        """The policy without this rule; None when the item is the whole policy."""
        if self.direction is None or self.rule_index is None:
            return None
        rules = self.policy.rules(self.direction)
        kept = rules[: self.rule_index] + rules[self.rule_index + 1 :]
        return attrs.evolve(self.policy, **{"ingress" if self.direction is Direction.INGRESS else "egress": kept})


def cluster_items(policy: ClusterPolicy) -> list[ClusterItem]:
    """The policy, then each of its rules."""
    items = [ClusterItem(policy)]
    for direction in (Direction.INGRESS, Direction.EGRESS):
        items += [ClusterItem(policy, direction, r) for r in range(len(policy.rules(direction)))]
    return items


def policy_items(policy: NetworkPolicy) -> list[PolicyItem]:
    """The policy, then each rule, then each rule's peers and port entries."""
    items = [PolicyItem(policy)]
    for direction in (Direction.INGRESS, Direction.EGRESS):
        for r, rule in enumerate(policy.rules(direction)):
            items.append(PolicyItem(policy, direction, r))
            items += [PolicyItem(policy, direction, r, peer_index=i) for i in range(len(rule.peers))]
            items += [PolicyItem(policy, direction, r, port_index=i) for i in range(len(rule.ports))]
    return items
