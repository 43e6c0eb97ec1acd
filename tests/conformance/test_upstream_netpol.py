"""Conformance: the reachability matrices of the upstream Kubernetes NetworkPolicy e2e tests.

Source of the expectations (facts only; no upstream code is reproduced here):
kubernetes/kubernetes ``test/e2e/network/netpol/network_policy.go`` with its helpers
``model.go`` (the pod/namespace model), ``reachability.go`` (how expectations are set),
``policies.go`` (how policies are generated) and ``truthtable.go``. Versions read: the
current one (ginkgo v2, ``feature.NetworkPolicy``), the 9-pod one at commit 9db638c0 and
the Kubernetes 1.21-era one (namespace label ``ns``, an extra "allow DNS" egress rule in
the egress tests). The endPort matrices come from the e2e cases proposed in
kubernetes/kubernetes PR #100291 ("should enforce policy to allow ingress/egress traffic
using port range"), which was closed unmerged; they are marked as such below.

Facts used:

* Namespaces x, y, z. Labels: ``ns: <name>`` (1.21-era model) and the API server's
  ``kubernetes.io/metadata.name: <name>`` (what current upstream selects on); both are set.
* Pods a, b, c in each namespace, labelled ``pod: <name>``. Every pod has one container
  port per (port, protocol) with the upstream name ``serve-<port>-<protocol lowercase>``:
  serve-80-tcp, serve-80-udp, serve-80-sctp, serve-81-tcp, serve-81-udp, serve-81-sctp.
  (Upstream only creates the containers a test probes; the extra ones change nothing,
  because a named port resolves to a number *and* protocol on the destination pod.)
* Pod IPs (upstream reads the real ones; ours are fixed): x/a 10.0.1.1, x/b 10.0.1.2,
  x/c 10.0.1.3, y/a 10.0.2.1, ..., z/c 10.0.3.3. ipBlock peers are built as upstream does:
  ``<pod IP>/32`` for a single pod, ``<x/a IP>/4`` (= 0.0.0.0/4) for the "large" CIDR.
* Upstream generates policies with ``policyTypes`` set explicitly (Ingress when an ingress
  list is set, Egress when an egress list is set); older helpers omit ``policyTypes``, and
  the API server then defaults it to [Ingress] plus Egress iff ``egress`` is non-empty.
  ``policy(..., types=DEFAULTED)`` applies that defaulting.
* Expectations start all-allowed and are then overridden in order, exactly like upstream's
  Expect / ExpectAllIngress / ExpectAllEgress / ExpectPeer. Upstream ignores the diagonal
  (a pod to itself, "loopback") when comparing; npverify's semantics always allow it, so
  the diagonal is expected allowed in every matrix.
* Tests with several steps (policy updated, added, deleted, labels changed) become one
  case per step, with the policies and labels of that step.

Each case checks the full 9x9 matrix for its port and protocol, (1) through the reference
evaluator ``npverify.semantics.decide`` and (2) through the SMT engine
``npverify.engine.Verifier`` with one ALLOWED/ISOLATED invariant per (source, destination),
plus two deliberately wrong invariants per case that must be REFUTED with a packet.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable, Iterable

import attrs
import pytest

from npverify.invariants.model import Invariant, InvariantKind, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Direction,
    IPBlock,
    LabelSelector,
    Labels,
    Namespace,
    NetworkPolicy,
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
from npverify.results import Verdict
from npverify.semantics import decide

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
INGRESS, EGRESS = Direction.INGRESS, Direction.EGRESS

NAMESPACES = ("x", "y", "z")
POD_NAMES = ("a", "b", "c")
#: All 9 pods as (namespace, pod), in upstream's matrix order x/a, x/b, ..., z/c.
PODS = tuple(itertools.product(NAMESPACES, POD_NAMES))

IPS = {
    (ns, pod): ipaddress.ip_address(f"10.0.{i + 1}.{j + 1}")
    for i, ns in enumerate(NAMESPACES)
    for j, pod in enumerate(POD_NAMES)
}

CONTAINER_PORTS = tuple(
    ContainerPort(port, proto, f"serve-{port}-{proto.value.lower()}")
    for port in (80, 81)
    for proto in (TCP, UDP, SCTP)
)

SEMANTICS = Semantics()
UNIVERSE = Universe(pods="workloads", namespaces="declared", self_traffic=True)

#: Upstream's namespace label key in current versions.
NS_KEY = NAMESPACE_NAME_LABEL


def pod_str(pod: tuple[str, str]) -> str:
    return f"{pod[0]}/{pod[1]}"


# --- the cluster ------------------------------------------------------------------------


def build_cluster(
    policies: Iterable[NetworkPolicy],
    ns_labels: dict[str, dict[str, str]] | None = None,
    pod_labels: dict[str, dict[str, str]] | None = None,
) -> Cluster:
    """The 3x3 upstream model with ``policies``; extra labels per namespace or "ns/pod"."""
    ns_labels = ns_labels or {}
    pod_labels = pod_labels or {}
    namespaces = tuple(
        Namespace(ns, Labels.of({"ns": ns, NAMESPACE_NAME_LABEL: ns}, **ns_labels.get(ns, {})))
        for ns in NAMESPACES
    )
    workloads = tuple(
        Workload(
            kind="Pod",
            namespace=ns,
            name=pod,
            labels=Labels.of({"pod": pod}, **pod_labels.get(f"{ns}/{pod}", {})),
            ports=CONTAINER_PORTS,
            replicas=1,
            ips=(IPS[(ns, pod)],),
        )
        for ns, pod in PODS
    )
    return Cluster(policies=tuple(policies), namespaces=namespaces, workloads=workloads)


def endpoint(cluster: Cluster, pod: tuple[str, str]) -> PodEndpoint:
    ns, name = pod
    workload = next(w for w in cluster.workloads if w.namespace == ns and w.name == name)
    namespace = cluster.namespace(ns)
    assert namespace is not None
    return PodEndpoint(
        namespace=ns,
        namespace_labels=namespace.labels,
        labels=workload.labels,
        ip=workload.ips[0],
        ports=workload.ports,
        workload=workload.key,
        pod_id=workload.key,
    )


# --- policy builders --------------------------------------------------------------------

#: ``types`` value asking for the API server's defaulting of an omitted policyTypes.
DEFAULTED = "defaulted"
#: ``types`` value for upstream's generator: Ingress iff an ingress list is set, Egress iff
#: an egress list is set (even an empty one).
GENERATED = "generated"


def policy(
    namespace: str,
    name: str,
    pod_selector: LabelSelector = LabelSelector(),
    *,
    ingress: list[Rule] | None = None,
    egress: list[Rule] | None = None,
    types: str | Iterable[Direction] = GENERATED,
) -> NetworkPolicy:
    if types == GENERATED:
        policy_types = {d for d, rules in ((INGRESS, ingress), (EGRESS, egress)) if rules is not None}
    elif types == DEFAULTED:
        policy_types = {INGRESS} | ({EGRESS} if egress else set())
    else:
        policy_types = set(types)
    return NetworkPolicy(
        namespace=namespace,
        name=name,
        pod_selector=pod_selector,
        policy_types=frozenset(policy_types),
        ingress=tuple(ingress or ()),
        egress=tuple(egress or ()),
    )


def sel(**match_labels: str) -> LabelSelector:
    return LabelSelector(match_labels=match_labels)


def ns_sel(name: str) -> LabelSelector:
    return LabelSelector(match_labels={NS_KEY: name})


def expr(key: str, op: Operator, *values: str) -> LabelSelector:
    return LabelSelector(match_expressions=(Requirement(key, op, values),))


def peer(pods: LabelSelector | None = None, namespaces: LabelSelector | None = None) -> Peer:
    return Peer(pod_selector=pods, namespace_selector=namespaces)


def cidr(block: str, *excepts: str) -> Peer:
    return Peer(
        ip_block=IPBlock(
            ipaddress.ip_network(block, strict=False),
            tuple(ipaddress.ip_network(e, strict=False) for e in excepts),
        )
    )


def host(pod: str) -> str:
    ns, name = pod.split("/")
    return f"{IPS[(ns, name)]}/32"


def port(value: int | str | None = None, protocol: Protocol = TCP, end: int | None = None) -> PolicyPort:
    return PolicyPort(protocol, value, end)


def rule(peers: Iterable[Peer] = (), ports: Iterable[PolicyPort] = ()) -> Rule:
    return Rule(peers=tuple(peers), ports=tuple(ports))


#: The egress rule the 1.21-era tests add so that pods can still resolve names.
DNS_RULE = rule(ports=[port(53, UDP)])


def with_dns(rules: list[Rule], dns: bool) -> list[Rule]:
    return rules + [DNS_RULE] if dns else rules


# --- expectations -----------------------------------------------------------------------


class Reachability:
    """An expected 9x9 matrix, all allowed to start with; later settings override."""

    def __init__(self) -> None:
        self.matrix = {(src, dst): True for src in PODS for dst in PODS}

    @staticmethod
    def _pod(text: str) -> tuple[str, str]:
        ns, name = text.split("/")
        return ns, name

    def expect(self, src: str, dst: str, allowed: bool) -> Reachability:
        self.matrix[(self._pod(src), self._pod(dst))] = allowed
        return self

    def all_ingress(self, dst: str, allowed: bool) -> Reachability:
        for src in PODS:
            self.matrix[(src, self._pod(dst))] = allowed
        return self

    def all_egress(self, src: str, allowed: bool) -> Reachability:
        for dst in PODS:
            self.matrix[(self._pod(src), dst)] = allowed
        return self

    def peer(self, src: str, dst: str, allowed: bool) -> Reachability:
        """``src``/``dst`` are "", "ns" or "ns/pod": an empty part matches anything."""

        def matches(pattern: str, pod: tuple[str, str]) -> bool:
            ns, _, name = pattern.partition("/")
            return (not ns or ns == pod[0]) and (not name or name == pod[1])

        for s, d in self.matrix:
            if matches(src, s) and matches(dst, d):
                self.matrix[(s, d)] = allowed
        return self

    def final(self) -> dict[tuple[tuple[str, str], tuple[str, str]], bool]:
        """The matrix with the diagonal allowed (a pod may always send to itself)."""
        return {(s, d): (True if s == d else v) for (s, d), v in self.matrix.items()}


def all_allowed() -> Reachability:
    return Reachability()


# --- the cases --------------------------------------------------------------------------


@attrs.frozen
class Case:
    id: str
    #: The upstream ``It(...)`` title (and step) this matrix comes from.
    title: str
    policies: tuple[NetworkPolicy, ...]
    protocol: Protocol
    port: int
    expected: Reachability = attrs.field(eq=False)
    ns_labels: dict = attrs.field(factory=dict, eq=False)
    pod_labels: dict = attrs.field(factory=dict, eq=False)

    def cluster(self) -> Cluster:
        return build_cluster(self.policies, self.ns_labels, self.pod_labels)


CASES: list[Case] = []


def case(
    id: str,
    title: str,
    policies: Iterable[NetworkPolicy],
    protocol: Protocol,
    port: int,
    expected: Reachability,
    **labels: dict,
) -> None:
    assert all(c.id != id for c in CASES), id
    CASES.append(Case(id, title, tuple(policies), protocol, port, expected, **labels))


def deny_ingress(ns: str = "x", name: str = "deny-ingress") -> NetworkPolicy:
    return policy(ns, name, LabelSelector(), ingress=[])


def deny_all(ns: str = "x", name: str = "deny-all", dns: bool = False) -> NetworkPolicy:
    return policy(ns, name, LabelSelector(), ingress=[], egress=with_dns([], dns))


# "NetworkPolicy between server and client" (TCP) ------------------------------------------

case(
    "default-deny-ingress",
    "should support a 'default-deny-ingress' policy",
    [deny_ingress()],
    TCP, 80,
    all_allowed().peer("", "x", False),
)

for dns in (False, True):
    case(
        "default-deny-all" + ("-allow-dns" if dns else ""),
        "should support a 'default-deny-all' policy"
        + (" (1.21: deny-all-tcp-allow-dns, egress UDP 53 allowed)" if dns else ""),
        [deny_all(name="deny-all-tcp-allow-dns" if dns else "deny-all", dns=dns)],
        TCP, 80,
        all_allowed().peer("", "x", False).peer("x", "", False),
    )

case(
    "podselector-within-server-namespace",
    "should enforce policy to allow traffic from pods within server namespace based on PodSelector",
    [policy("x", "x-a-allows-x-b", sel(pod="a"), ingress=[rule([peer(pods=sel(pod="b"))])])],
    TCP, 80,
    all_allowed().all_ingress("x/a", False).expect("x/b", "x/a", True),
)

case(
    "ingress-for-a-target",
    "should enforce policy to allow ingress traffic for a target",
    [
        policy("x", "deny-all", LabelSelector(), ingress=[]),
        policy(
            "x", "allow-all-to-a", sel(pod="a"),
            ingress=[rule([peer(pods=LabelSelector(), namespaces=LabelSelector())])],
        ),
    ],
    TCP, 80,
    all_allowed().all_ingress("x/a", True).all_ingress("x/b", False).all_ingress("x/c", False),
)

case(
    "ingress-from-all-namespaces",
    "should enforce policy to allow ingress traffic from pods in all namespaces",
    [policy("x", "allow-from-another-ns", sel(pod="a"), ingress=[rule([peer(namespaces=LabelSelector())])])],
    TCP, 80,
    all_allowed(),
)

for variant, ns_selector in (("", ns_sel("y")), ("-ns-label", sel(ns="y"))):
    case(
        "namespaceselector-different-namespace" + variant,
        "should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector"
        + (" (1.21: label ns=y)" if variant else ""),
        [policy("x", "allow-client-a-via-ns-selector", sel(pod="a"), ingress=[rule([peer(namespaces=ns_selector)])])],
        TCP, 80,
        all_allowed().peer("x", "x/a", False).peer("z", "x/a", False),
    )

case(
    "podselector-matchexpressions",
    "should enforce policy based on PodSelector with MatchExpressions",
    [policy("x", "x-a-allows-x-b", sel(pod="a"), ingress=[rule([peer(pods=expr("pod", Operator.IN, "b"))])])],
    TCP, 80,
    all_allowed().all_ingress("x/a", False).expect("x/b", "x/a", True),
)

case(
    "namespaceselector-matchexpressions",
    "should enforce policy based on NamespaceSelector with MatchExpressions",
    [
        policy(
            "x", "allow-ns-y-match-selector", sel(pod="a"),
            ingress=[rule([peer(namespaces=expr(NS_KEY, Operator.IN, "y"))])],
        )
    ],
    TCP, 80,
    all_allowed().peer("x", "x/a", False).peer("z", "x/a", False),
)

case(
    "podselector-or-namespaceselector",
    "should enforce policy based on PodSelector or NamespaceSelector",
    [
        policy(
            "x", "allow-ns-y-match-selector", sel(pod="a"),
            ingress=[rule([peer(namespaces=expr(NS_KEY, Operator.NOT_IN, "x")), peer(pods=sel(pod="b"))])],
        )
    ],
    TCP, 80,
    all_allowed().expect("x/a", "x/a", False).expect("x/c", "x/a", False),
)

case(
    "podselector-and-namespaceselector",
    "should enforce policy based on PodSelector and NamespaceSelector",
    [
        policy(
            "x", "allow-ns-y-podselector-and-nsselector", sel(pod="a"),
            ingress=[rule([peer(pods=sel(pod="b"), namespaces=expr(NS_KEY, Operator.NOT_IN, "x"))])],
        )
    ],
    TCP, 80,
    all_allowed().all_ingress("x/a", False).expect("y/b", "x/a", True).expect("z/b", "x/a", True),
)

case(
    "multiple-podselectors-and-namespaceselectors",
    "should enforce policy based on Multiple PodSelectors and NamespaceSelectors",
    [
        policy(
            "x", "allow-ns-y-z-pod-b-c", sel(pod="a"),
            ingress=[
                rule([peer(pods=expr("pod", Operator.IN, "b", "c"), namespaces=expr(NS_KEY, Operator.NOT_IN, "x"))])
            ],
        )
    ],
    TCP, 80,
    all_allowed().peer("x", "x/a", False).expect("y/a", "x/a", False).expect("z/a", "x/a", False),
)

case(
    "any-podselectors",
    "should enforce policy based on any PodSelectors",
    [
        policy(
            "x", "allow-ns-x-pod-b-c", sel(pod="a"),
            ingress=[rule([peer(pods=sel(pod="b")), peer(pods=sel(pod="c"))])],
        )
    ],
    TCP, 80,
    all_allowed().all_ingress("x/a", False).expect("x/b", "x/a", True).expect("x/c", "x/a", True),
)


def pod_in_other_namespace() -> list[NetworkPolicy]:
    return [
        policy(
            "x", "allow-ns-y-pod-a-via-namespace-pod-selector", sel(pod="a"),
            ingress=[rule([peer(pods=sel(pod="a"), namespaces=ns_sel("y"))])],
        )
    ]


case(
    "pod-in-different-namespace",
    "should enforce policy to allow traffic only from a pod in a different namespace based on "
    "PodSelector and NamespaceSelector",
    pod_in_other_namespace(),
    TCP, 80,
    all_allowed().all_ingress("x/a", False).expect("y/a", "x/a", True),
)


def port_81_from_y(protocol: Protocol, name: str) -> NetworkPolicy:
    return policy(
        "x", name, sel(pod="a"),
        ingress=[rule([peer(namespaces=ns_sel("y"))], [port(81, protocol)])],
    )


PORT_81_ALLOW = all_allowed().peer("x", "x/a", False).peer("y", "x/a", True).peer("z", "x/a", False)

case(
    "ports",
    "should enforce policy based on Ports",
    [port_81_from_y(TCP, "allow-client-a-via-ns-selector")],
    TCP, 81,
    PORT_81_ALLOW,
)

stacked_81 = port_81_from_y(TCP, "allow-client-a-via-ns-selector")
stacked_80 = policy(
    "x", "allow-client-a-via-ns-selector-80", sel(pod="a"),
    ingress=[rule([peer(namespaces=ns_sel("y"))], [port(80, TCP)])],
)
STACKED = "should enforce multiple, stacked policies with overlapping podSelectors"
case("stacked-port-81", STACKED + " (port 81)", [stacked_81], TCP, 81, PORT_81_ALLOW)
case(
    "stacked-port-80-denied", STACKED + " (port 80, before the port-80 policy)",
    [stacked_81], TCP, 80, all_allowed().all_ingress("x/a", False),
)
case(
    "stacked-port-80-unblocked", STACKED + " (port 80, after adding the port-80 policy)",
    [stacked_81, stacked_80], TCP, 80, PORT_81_ALLOW,
)

allow_all = policy("x", "allow-all", sel(), ingress=[rule()])
for p in (80, 81):
    case(f"allow-all-{p}", f"should support allow-all policy (port {p})", [allow_all], TCP, p, all_allowed())

named_81 = policy("x", "allow-all", sel(), ingress=[rule(ports=[port("serve-81-tcp")])])
case(
    "ingress-named-port-81", "should allow ingress access on one named port (port 81)",
    [named_81], TCP, 81, all_allowed(),
)
case(
    "ingress-named-port-80-blocked", "should allow ingress access on one named port (port 80)",
    [named_81], TCP, 80, all_allowed().peer("", "x", False),
)

ns_named_80 = policy(
    "x", "allow-client-a-via-ns-selector-80", sel(pod="a"),
    ingress=[rule([peer(namespaces=ns_sel("y"))], [port("serve-80-tcp", TCP)])],
)
NS_NAMED = "should allow ingress access from namespace on one named port"
case(
    "ingress-ns-named-port-80", NS_NAMED + " (port 80)", [ns_named_80], TCP, 80,
    all_allowed().peer("x", "x/a", False).peer("z", "x/a", False),
)
case(
    "ingress-ns-named-port-81", NS_NAMED + " (port 81)", [ns_named_80], TCP, 81,
    all_allowed().all_ingress("x/a", False),
)

for dns in (False, True):
    # 1.21: the DNS port is another entry of the same rule's ports list.
    egress_named = policy(
        "x", "allow-egress", sel(), egress=[rule(ports=[port("serve-80-tcp")] + ([port(53, UDP)] if dns else []))]
    )
    suffix = "-allow-dns" if dns else ""
    note = " (1.21: plus UDP 53)" if dns else ""
    case(
        "egress-named-port-80" + suffix, "should allow egress access on one named port (port 80)" + note,
        [egress_named], TCP, 80, all_allowed(),
    )
    case(
        "egress-named-port-81" + suffix, "should allow egress access on one named port (port 81)" + note,
        [egress_named], TCP, 81, all_allowed().peer("x", "", False),
    )

UPDATED = "should enforce updated policy"
case(
    "updated-policy-allow-all", UPDATED + " (allow all)",
    [policy("x", "allow-all-mutate-to-deny-all", sel(), ingress=[rule()])], TCP, 81, all_allowed(),
)
case(
    "updated-policy-deny-all", UPDATED + " (after update to deny all)",
    [policy("x", "allow-all-mutate-to-deny-all", sel(), ingress=[])], TCP, 81,
    all_allowed().peer("", "x", False),
)

from_ns2 = policy(
    "x", "allow-client-a-via-ns-selector", sel(pod="a"), ingress=[rule([peer(namespaces=sel(ns2="updated"))])]
)
UPDATED_NS = "should allow ingress access from updated namespace"
case(
    "updated-namespace-before", UPDATED_NS + " (before the label)", [from_ns2], TCP, 80,
    all_allowed().all_ingress("x/a", False),
)
case(
    "updated-namespace-after", UPDATED_NS + " (y labelled ns2=updated)", [from_ns2], TCP, 80,
    all_allowed().all_ingress("x/a", False).peer("y", "", True),
    ns_labels={"y": {"ns2": "updated"}},
)

from_pod2 = policy(
    "x", "allow-client-a-via-pod-selector", sel(pod="a"), ingress=[rule([peer(pods=sel(pod="b", pod2="updated"))])]
)
UPDATED_POD = "should allow ingress access from updated pod"
case(
    "updated-pod-before", UPDATED_POD + " (before the label)", [from_pod2], TCP, 80,
    all_allowed().all_ingress("x/a", False),
)
case(
    "updated-pod-after", UPDATED_POD + " (x/b labelled pod2=updated)", [from_pod2], TCP, 80,
    all_allowed().all_ingress("x/a", False).expect("x/b", "x/a", True),
    pod_labels={"x/b": {"pod2": "updated"}},
)

case(
    "deny-ingress-other-namespaces",
    "should deny ingress from pods on other namespaces",
    [policy("x", "deny-empty-policy", LabelSelector(), ingress=[rule([peer(pods=sel())])])],
    TCP, 80,
    all_allowed().peer("y", "x", False).peer("z", "x", False),
)

isolate_target = policy("x", "deny-ingress-via-label-selector", sel(target="isolated"), ingress=[])
DENY_UPDATED = "should deny ingress access to updated pod"
case("deny-updated-pod-before", DENY_UPDATED + " (before the label)", [isolate_target], TCP, 80, all_allowed())
case(
    "deny-updated-pod-after", DENY_UPDATED + " (x/a labelled target=isolated)", [isolate_target], TCP, 80,
    all_allowed().all_ingress("x/a", False),
    pod_labels={"x/a": {"target": "isolated"}},
)

case(
    "deny-egress-podselector",
    "should deny egress from pods based on PodSelector",
    [policy("x", "deny-egress-pod-a", sel(pod="a"), egress=[])],
    TCP, 80,
    all_allowed().all_egress("x/a", False),
)

case(
    "deny-egress-namespace",
    "should deny egress from all pods in a namespace",
    [policy("x", "deny-egress-ns-x", LabelSelector(), egress=[])],
    TCP, 80,
    all_allowed().peer("x", "", False),
)

for dns in (False, True):
    egress_ports = [port(80)] + ([port(53, UDP)] if dns else [])
    together = policy(
        "x", "allow-client-a-via-pod-selector", sel(pod="a"),
        ingress=[rule([peer(pods=sel(pod="b"))])],
        egress=[rule(ports=egress_ports)],
        types=[EGRESS, INGRESS],
    )
    suffix = "-allow-dns" if dns else ""
    note = " (1.21: plus UDP 53)" if dns else ""
    TOGETHER = "should work with Ingress, Egress specified together"
    case(
        "ingress-egress-together-80" + suffix, TOGETHER + " (port 80)" + note, [together], TCP, 80,
        all_allowed().all_ingress("x/a", False).expect("x/b", "x/a", True),
    )
    case(
        "ingress-egress-together-81" + suffix, TOGETHER + " (port 81)" + note, [together], TCP, 81,
        all_allowed().all_ingress("x/a", False).all_egress("x/a", False).expect("x/b", "x/a", True),
    )

for dns in (False, True):
    xa_peer = peer(pods=sel(pod="a"), namespaces=ns_sel("x"))
    case(
        "client-side-egress-denial" + ("-allow-dns" if dns else ""),
        "should support denying of egress traffic on the client side (even if the server explicitly "
        "allows this traffic)" + (" (1.21: plus UDP 53)" if dns else ""),
        [
            policy(
                "x", "allow-to-ns-y-pod-a", sel(pod="a"),
                egress=with_dns([rule([peer(pods=sel(pod="a"), namespaces=ns_sel("y"))])], dns),
            ),
            policy("y", "allow-from-xa-on-ya-match-selector", sel(pod="a"), ingress=[rule([xa_peer])]),
            policy("y", "allow-from-xa-on-yb-match-selector", sel(pod="b"), ingress=[rule([xa_peer])]),
        ],
        TCP, 80,
        all_allowed()
        .peer("x/a", "", False)
        .peer("", "y/a", False)
        .peer("x/a", "y/a", True)
        .peer("", "y/b", False),
    )

    case(
        "egress-podselector-and-namespaceselector" + ("-allow-dns" if dns else ""),
        "should enforce egress policy allowing traffic to a server in a different namespace based on "
        "PodSelector and NamespaceSelector" + (" (1.21: plus UDP 53)" if dns else ""),
        [
            policy(
                "x", "allow-to-ns-y-pod-a", sel(pod="a"),
                egress=with_dns([rule([peer(pods=sel(pod="a"), namespaces=ns_sel("y"))])], dns),
            )
        ],
        TCP, 80,
        all_allowed().all_egress("x/a", False).expect("x/a", "y/a", True),
    )

by_proto = policy("x", "allow-ingress-by-proto", sel(pod="a"), ingress=[rule(ports=[port(None, TCP)])])
BY_PROTO = "should enforce ingress policy allowing any port traffic to a server on a specific protocol"
case("any-port-by-protocol-tcp", BY_PROTO + " (TCP)", [by_proto], TCP, 80, all_allowed())
case(
    "any-port-by-protocol-udp", BY_PROTO + " (UDP)", [by_proto], UDP, 80,
    all_allowed().peer("", "x/a", False),
)

ingress_80 = policy("x", "allow-ingress-port-80", sel(), ingress=[rule(ports=[port(80)])])
MULTI_IN = "should enforce multiple ingress policies with ingress allow-all policy taking precedence"
case(
    "multiple-ingress-port-80-only", MULTI_IN + " (port-80 policy only)", [ingress_80], TCP, 81,
    all_allowed().peer("", "x", False),
)
case(
    "multiple-ingress-allow-all", MULTI_IN + " (plus allow-all)",
    [ingress_80, policy("x", "allow-ingress", sel(), ingress=[rule()])], TCP, 81, all_allowed(),
)

for dns in (False, True):
    egress_80 = policy(
        "x", "allow-egress-port-80", sel(), egress=[rule(ports=[port(80)] + ([port(53, UDP)] if dns else []))]
    )
    suffix = "-allow-dns" if dns else ""
    note = " (1.21: plus UDP 53)" if dns else ""
    MULTI_OUT = "should enforce multiple egress policies with egress allow-all policy taking precedence"
    case(
        "multiple-egress-port-80-only" + suffix, MULTI_OUT + " (port-80 policy only)" + note,
        [egress_80], TCP, 81, all_allowed().peer("x", "", False),
    )
    case(
        "multiple-egress-allow-all" + suffix, MULTI_OUT + " (plus allow-all)" + note,
        [egress_80, policy("x", "allow-egress", sel(), egress=[rule()])], TCP, 81, all_allowed(),
    )

DELETED = "should stop enforcing policies after they are deleted"
case(
    "deleted-policies-before", DELETED + " (deny-all present)", [deny_all()], TCP, 80,
    all_allowed().peer("x", "", False).peer("", "x", False),
)
case("deleted-policies-after", DELETED + " (policies deleted)", [], TCP, 80, all_allowed())

for dns in (False, True):
    suffix = "-allow-dns" if dns else ""
    note = " (1.21: plus a UDP 53 rule)" if dns else ""
    case(
        "egress-cidr-block" + suffix,
        "should allow egress access to server in CIDR block" + note,
        [
            policy(
                "x", "allow-client-a-via-cidr-egress-rule", sel(pod="a"),
                egress=with_dns([rule([cidr(host("y/b"))])], dns),
            )
        ],
        TCP, 80,
        all_allowed().all_egress("x/a", False).expect("x/a", "y/b", True),
    )

    large_except_b = policy(
        "x", "allow-client-a-via-cidr-egress-rule", sel(pod="a"),
        egress=with_dns([rule([cidr(f"{IPS[('x', 'a')]}/4", host("x/b"))])], dns),
    )
    case(
        "egress-cidr-except" + suffix,
        "should enforce except clause while egress access to server in CIDR block" + note,
        [large_except_b], TCP, 80,
        all_allowed().expect("x/a", "x/b", False),
    )
    OVERLAP = "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed"
    case(
        "egress-cidr-overlap-before" + suffix, OVERLAP + " (CIDR with except)" + note,
        [large_except_b], TCP, 80,
        all_allowed().expect("x/a", "x/b", False),
    )
    case(
        "egress-cidr-overlap-after" + suffix, OVERLAP + " (policy updated to x/b's /32)" + note,
        [
            policy(
                "x", "allow-client-a-via-cidr-egress-rule", sel(pod="a"),
                egress=with_dns([rule([cidr(host("x/b"))])], dns),
            )
        ],
        TCP, 80,
        all_allowed().all_egress("x/a", False).expect("x/a", "x/b", True),
    )

allow_egress_a = policy("x", "allow-egress-for-target", sel(pod="a"), egress=[rule()])
INDEPENDENT = (
    "should enforce policies to check ingress and egress policies can be controlled independently "
    "based on PodSelector"
)
case("independent-egress-only", INDEPENDENT + " (egress allowed)", [allow_egress_a], TCP, 80, all_allowed())
case(
    "independent-plus-deny-ingress", INDEPENDENT + " (plus deny ingress)",
    [allow_egress_a, policy("x", "deny-ingress-via-label-selector", sel(pod="a"), ingress=[])], TCP, 80,
    all_allowed().all_ingress("x/a", False),
)

case(
    "sctp-not-tcp",
    "should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin doesn't support SCTP",
    [
        deny_ingress(),
        policy("x", "allow-only-sctp-ingress-on-port-81", sel(pod="a"), ingress=[rule(ports=[port(81, SCTP)])]),
    ],
    TCP, 81,
    all_allowed().peer("", "x", False),
)

case(
    "sctp-policy-isolates",
    "should properly isolate pods that are selected by a policy allowing SCTP, even if the plugin doesn't "
    "support SCTP",
    [policy("x", "allow-only-sctp-ingress-on-port-80", sel(pod="a"), ingress=[rule(ports=[port(80, SCTP)])])],
    TCP, 81,
    all_allowed().all_ingress("x/a", False),
)

for proto in (UDP, SCTP):
    case(
        f"tcp-not-allowed-by-{proto.value.lower()}-policy",
        f"should not allow access by TCP when a policy specifies only {proto.value}",
        [
            policy(
                "x", f"allow-only-{proto.value.lower()}-ingress-on-port-81", sel(pod="a"),
                ingress=[rule(ports=[port(81, proto)])],
            )
        ],
        TCP, 81,
        all_allowed().all_ingress("x/a", False),
    )

case(
    "default-ns-label-matchlabels",
    "should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
    [
        policy(
            "x", "allow-client-a-via-ns-selector-for-immutable-ns-label", sel(pod="a"),
            ingress=[rule([peer(namespaces=ns_sel("y"))])],
        )
    ],
    TCP, 80,
    all_allowed().peer("x", "x/a", False).peer("z", "x/a", False),
)

case(
    "default-ns-label-matchexpressions-egress",
    "should enforce policy based on NamespaceSelector with MatchExpressions using default ns label",
    [
        policy(
            "x", "allow-ns-y-match-selector-for-immutable-ns-label", sel(pod="a"),
            egress=[rule([peer(namespaces=expr(NS_KEY, Operator.NOT_IN, "y"))])],
        )
    ],
    TCP, 80,
    all_allowed().peer("x/a", "y", False),
)

# "NetworkPolicy between server and client using UDP" / "... using SCTP" -------------------

for proto in (UDP, SCTP):
    p = proto.value.lower()
    case(
        f"{p}-default-deny-ingress",
        f"[{proto.value}] should support a 'default-deny-ingress' policy",
        [deny_ingress(name="deny-all")],
        proto, 80,
        all_allowed().peer("", "x", False),
    )
    case(
        f"{p}-ports",
        f"[{proto.value}] should enforce policy based on Ports",
        [port_81_from_y(proto, "allow-ingress-on-port-81-ns-x")],
        proto, 81,
        all_allowed().peer("x", "x/a", False).peer("z", "x/a", False),
    )
    case(
        f"{p}-pod-in-different-namespace",
        f"[{proto.value}] should enforce policy to allow traffic only from a pod in a different namespace "
        "based on PodSelector and NamespaceSelector",
        pod_in_other_namespace(),
        proto, 80,
        all_allowed().all_ingress("x/a", False).expect("y/a", "x/a", True),
    )
    # The policy names a TCP port only, so the other protocol is isolated on that port.
    case(
        f"{p}-probe-of-tcp-ports-policy",
        f"[{proto.value}] should enforce policy based on Ports (TCP port-81 policy probed over {proto.value}; "
        "derived from the TCP case: a TCP-only rule must not admit other protocols)",
        [port_81_from_y(TCP, "allow-client-a-via-ns-selector")],
        proto, 81,
        all_allowed().all_ingress("x/a", False),
    )

# endPort: the e2e cases proposed in kubernetes/kubernetes PR #100291 (closed unmerged) ------

PR_100291 = " [endPort; from kubernetes/kubernetes PR #100291, not merged]"
ingress_range = policy("x", "allow-ingress-use-port-range", sel(pod="a"), ingress=[rule(ports=[port(111, end=115)])])
egress_range = policy("x", "allow-egress-use-port-range", sel(pod="a"), egress=[rule(ports=[port(111, end=115)])])
for p in (111, 112, 113, 114, 115):
    case(
        f"endport-ingress-{p}", f"should enforce policy to allow ingress traffic using port range (port {p})" + PR_100291,
        [ingress_range], TCP, p, all_allowed().all_ingress("x/a", True),
    )
    case(
        f"endport-egress-{p}", f"should enforce policy to allow egress traffic using port range (port {p})" + PR_100291,
        [egress_range], TCP, p, all_allowed().all_egress("x/a", True),
    )
case(
    "endport-ingress-116", "should enforce policy to allow ingress traffic using port range (port 116)" + PR_100291,
    [ingress_range], TCP, 116, all_allowed().all_ingress("x/a", False),
)
case(
    "endport-egress-116", "should enforce policy to allow egress traffic using port range (port 116)" + PR_100291,
    [egress_range], TCP, 116, all_allowed().all_egress("x/a", False),
)

# endPort in the 80/81 model: the "Ports" case with the single port written as a range.
for p, first, last, open_ in ((80, 80, 81, True), (81, 80, 81, True), (80, 81, 82, False), (81, 81, 82, True)):
    case(
        f"endport-ports-{first}-{last}-probe-{p}",
        f"should enforce policy based on Ports, with port {first} endPort {last}, probed on {p} "
        "[endPort; derived from the Ports case]",
        [
            policy(
                "x", "allow-client-a-via-ns-selector", sel(pod="a"),
                ingress=[rule([peer(namespaces=ns_sel("y"))], [port(first, TCP, end=last)])],
            )
        ],
        TCP, p,
        PORT_81_ALLOW if open_ else all_allowed().all_ingress("x/a", False),
    )

# Policies without policyTypes (the API server's defaulting; the 1.20-era helpers) --------

case(
    "defaulted-types-allow-ingress-by-port",
    "should enforce multiple ingress policies with ingress allow-all policy taking precedence "
    "(1.20 helper without policyTypes: defaulted to [Ingress])",
    [policy("x", "allow-ingress-port-80", sel(), ingress=[rule(ports=[port(80)])], types=DEFAULTED)],
    TCP, 81,
    all_allowed().peer("", "x", False),
)
case(
    "defaulted-types-egress-rule-adds-egress",
    "should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector "
    "and NamespaceSelector, written without policyTypes: the non-empty egress list defaults it to "
    "[Ingress, Egress], so x/a is also isolated for ingress [derived]",
    [
        policy(
            "x", "allow-to-ns-y-pod-a", sel(pod="a"),
            egress=[rule([peer(pods=sel(pod="a"), namespaces=ns_sel("y"))])], types=DEFAULTED,
        )
    ],
    TCP, 80,
    all_allowed().all_ingress("x/a", False).all_egress("x/a", False).expect("x/a", "y/a", True),
)


# --- the tests --------------------------------------------------------------------------


def render(matrix: Callable[[tuple[str, str], tuple[str, str]], str]) -> str:
    header = "      " + " ".join(f"{pod_str(d):>4}" for d in PODS)
    rows = [f"{pod_str(s):>5} " + " ".join(f"{matrix(s, d):>4}" for d in PODS) for s in PODS]
    return "\n".join([header, *rows])


def describe_mismatches(case: Case, expected: dict, got: dict) -> str:
    def cell(s, d):
        mark = "." if got[(s, d)] else "X"
        return mark if got[(s, d)] == expected[(s, d)] else f"*{mark}*"

    return (
        f"{case.id}: {case.title} ({case.protocol} {case.port})\n"
        "rows are sources, columns destinations; '.' allowed, 'X' denied, *..* differs from upstream\n"
        + render(cell)
    )


def test_case_count() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


def test_diagonal_always_expected_allowed() -> None:
    for c in CASES:
        final = c.expected.final()
        assert all(final[(p, p)] for p in PODS), c.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reference_evaluator(case: Case) -> None:
    cluster = case.cluster()
    expected = case.expected.final()
    endpoints = {pod: endpoint(cluster, pod) for pod in PODS}
    got = {
        (s, d): decide(cluster, Packet(endpoints[s], endpoints[d], case.protocol, case.port), SEMANTICS).allowed
        for s in PODS
        for d in PODS
    }
    assert got == expected, describe_mismatches(case, expected, got)


def short(packet: Packet | None) -> str:
    if packet is None:
        return "none"

    def end(e) -> str:
        if isinstance(e, PodEndpoint):
            return f"{e.namespace}/{e.labels.get('pod', '?')}({e.ip})"
        return f"{type(e).__name__}({e.ip})"

    return f"{end(packet.src)} -> {end(packet.dst)} {packet.protocol}/{packet.port}"


def invariant(src: tuple[str, str], dst: tuple[str, str], allowed: bool, case: Case) -> Invariant:
    return Invariant(
        name=f"{pod_str(src)}->{pod_str(dst)}",
        kind=InvariantKind.ALLOWED if allowed else InvariantKind.ISOLATED,
        src=Scope(namespace=src[0], workload=src[1]),
        dst=Scope(namespace=dst[0], workload=dst[1]),
        ports=(PolicyPort(case.protocol, case.port),),
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_smt_engine(case: Case) -> None:
    from npverify.engine import Verifier

    cluster = case.cluster()
    expected = case.expected.final()
    verifier = Verifier(cluster, universe=UNIVERSE, semantics=SEMANTICS)

    problems = []
    got = {}
    for (s, d), allowed in expected.items():
        result = verifier.check(invariant(s, d, allowed, case))
        if result.verdict is Verdict.PROVED:
            got[(s, d)] = allowed
        else:
            got[(s, d)] = not allowed if result.verdict is Verdict.REFUTED else None
            problems.append(
                f"{pod_str(s)} -> {pod_str(d)}: expected {'allowed' if allowed else 'denied'}, "
                f"engine {result.verdict}: packet {short(result.packet)} reason={result.reason!r}"
            )
    assert not problems, "\n".join([describe_mismatches(case, expected, got), *problems])

    # A wrong expectation must be refuted, with a counterexample packet between the right
    # pods, on the probed port, that the reference evaluator decides the other way.
    off_diagonal = [(k, v) for k, v in expected.items() if k[0] != k[1]]
    samples = [next(((k, v) for k, v in off_diagonal if v is want), None) for want in (True, False)]
    for sample in filter(None, samples):
        (s, d), allowed = sample
        result = verifier.check(invariant(s, d, not allowed, case))
        assert result.verdict is Verdict.REFUTED, (case.id, s, d, result)
        packet = result.packet
        assert packet is not None, (case.id, s, d, result)
        assert isinstance(packet.src, PodEndpoint) and isinstance(packet.dst, PodEndpoint), packet
        assert (packet.src.namespace, packet.src.labels["pod"]) == s, packet
        assert (packet.dst.namespace, packet.dst.labels["pod"]) == d, packet
        assert (packet.protocol, packet.port) == (case.protocol, case.port), packet
        assert decide(cluster, packet, SEMANTICS).allowed is allowed, packet
