"""Edges of the universe where the evaluator and the encoding once gave wrong verdicts.

Each test names the point of docs/semantics.md it holds npverify to:

1. an external host (or a node) never has an IP a pod of the packet has, nor a loaded Pod's
   status IP (a node may share a hostNetwork pod's IP: that pod runs on it);
2. a Pod whose status.podIP lies outside universe.podCIDRs stays in the universe, with a
   warning, instead of silently leaving it (which proved invariants about it vacuously);
3. ``only`` is not vacuous when ``from`` and ``to`` cannot both hold of one packet, since it
   ranges over sources outside ``from``;
4. a hostNetwork pod on the destination pod's node sends as that node: own-node traffic.
"""

from __future__ import annotations

import ipaddress

import pytest

from npverify.api import prove
from npverify.engine import Verifier
from npverify.errors import InputError
from npverify.explain import explain_packet
from npverify.invariants import parse_invariants
from npverify.load import load_text
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ExternalEndpoint,
    Labels,
    Namespace,
    NodeEndpoint,
    Packet,
    PodEndpoint,
    Protocol,
    Semantics,
    Universe,
    Workload,
)
from npverify.report.text import describe_endpoint
from npverify.results import Verdict
from npverify.semantics import decide, pod_ip_warnings, universe_problem
from npverify.smt import SolverSession, mentions_of

IP = ipaddress.ip_address
NS_A = Namespace("a")


def _pod(ip: str, pod_id: str = "pod", namespace: str = "a", **fields) -> PodEndpoint:
    labels = Labels.of({NAMESPACE_NAME_LABEL: namespace})
    return PodEndpoint(namespace, labels, Labels(), IP(ip), pod_id=pod_id, **fields)


def _verdict(cluster: Cluster, invariants_yaml: str, universe: Universe | None = None) -> tuple[Verdict, Packet | None]:
    spec = parse_invariants(invariants_yaml, "inv.yaml")
    (invariant,) = spec.invariants
    result = Verifier(cluster, universe or spec.universe, spec.semantics, spec.invariants).check(invariant)
    return result.verdict, result.packet


def _in_universe_both_ways(cluster: Cluster, packet: Packet, universe: Universe) -> tuple[bool, bool]:
    """(the evaluator admits the packet, the encoding admits it)."""
    session = SolverSession(cluster, mentions_of(cluster.policies), universe, Semantics())
    return universe_problem(cluster, packet, universe) is None, session.evaluate(packet) is not None


# --- 1. an external host does not take a pod's IP ----------------------------------------


def test_external_host_cannot_have_the_destination_pods_ip():
    verdict, packet = _verdict(
        Cluster(),
        "invariants:\n- name: t\n  isolated: {from: {ipBlock: {cidr: 10.0.0.5/32}}, to: {ipBlock: {cidr: 10.0.0.5/32}}}\n",
    )
    assert verdict is Verdict.PROVED, packet
    packet = Packet(ExternalEndpoint(IP("10.0.0.5")), _pod("10.0.0.5"), Protocol.TCP, 80)
    assert _in_universe_both_ways(Cluster(), packet, Universe()) == (False, False)
    back = Packet(_pod("10.0.0.5"), ExternalEndpoint(IP("10.0.0.5")), Protocol.TCP, 80)
    assert _in_universe_both_ways(Cluster(), back, Universe()) == (False, False)


WIDE = Universe(host_network=True, node_traffic=True)


@pytest.mark.parametrize(
    ("src", "dst", "admitted"),
    [
        # A node has no ordinary pod's IP ...
        (NodeEndpoint(IP("10.0.0.5"), own_node=True), _pod("10.0.0.5"), False),
        # ... but does have the IP of a hostNetwork pod that runs on it ...
        (NodeEndpoint(IP("10.0.0.5"), own_node=True), _pod("10.0.0.5", host_network=True), True),
        # ... which is then the node that pod runs on: another node has another IP.
        (NodeEndpoint(IP("10.0.0.5"), own_node=False), _pod("10.0.0.5", host_network=True), False),
        # Likewise two hostNetwork pods with one IP are on one node.
        (_pod("10.0.0.5", "h1", host_network=True, own_node=True), _pod("10.0.0.5", "h2", host_network=True), True),
        (_pod("10.0.0.5", "h1", host_network=True), _pod("10.0.0.5", "h2", host_network=True), False),
        # An external host has no hostNetwork pod's IP (that is a node's).
        (ExternalEndpoint(IP("10.0.0.5")), _pod("10.0.0.5", host_network=True), False),
    ],
)
def test_nodes_share_ips_only_with_their_host_network_pods(src, dst, admitted):
    packet = Packet(src, dst, Protocol.TCP, 80)
    assert _in_universe_both_ways(Cluster(), packet, WIDE) == (admitted, admitted)


DB = Workload("Pod", "a", "db", {"app": "db"}, replicas=1, ips=(IP("10.0.0.7"),))
AGENT = Workload("Pod", "kube-system", "agent", {"app": "agent"}, host_network=True, replicas=1, ips=(IP("192.168.0.10"),))


def test_external_host_cannot_have_a_loaded_pods_status_ip():
    cluster = Cluster(namespaces=[NS_A], workloads=[DB])
    verdict, packet = _verdict(
        cluster, "invariants:\n- name: t\n  isolated: {from: {kind: external, ipBlock: {cidr: 10.0.0.7/32}}, to: {}}\n"
    )
    assert verdict is Verdict.PROVED, packet
    packet = Packet(ExternalEndpoint(IP("10.0.0.7")), _pod("10.0.0.1"), Protocol.TCP, 80)
    assert _in_universe_both_ways(cluster, packet, Universe()) == (False, False)


def test_only_a_node_or_host_network_pod_has_a_host_network_pods_status_ip():
    cluster = Cluster(namespaces=[NS_A], workloads=[DB, AGENT])
    ext = Packet(ExternalEndpoint(IP("192.168.0.10")), _pod("10.0.0.1"), Protocol.TCP, 80)
    assert _in_universe_both_ways(cluster, ext, WIDE) == (False, False)
    node = Packet(NodeEndpoint(IP("192.168.0.10")), _pod("10.0.0.1"), Protocol.TCP, 80)
    assert _in_universe_both_ways(cluster, node, WIDE) == (True, True)
    # A node never has an ordinary Pod's status IP.
    node_as_db = Packet(NodeEndpoint(IP("10.0.0.7")), _pod("10.0.0.1"), Protocol.TCP, 80)
    assert _in_universe_both_ways(cluster, node_as_db, WIDE) == (False, False)


# --- 2. a Pod whose status IP lies outside the pod CIDRs stays ----------------------------

OUTSIDE_POD = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: a, labels: {app: db}}
spec:
  containers: [{name: c, image: x}]
status:
  podIP: 192.168.9.9
"""


def test_pod_with_status_ip_outside_the_pod_cidrs_is_kept_and_warned_about():
    cluster = load_text(OUTSIDE_POD, "k8s/db.yaml")
    invariants = (
        "universe: {podCIDRs: [10.0.0.0/8]}\n"
        "invariants:\n- name: t\n  isolated: {to: {workload: db}}\n"
    )
    verdict, packet = _verdict(cluster, invariants)
    assert verdict is Verdict.REFUTED
    assert packet.dst.workload == "a/Pod/db" and packet.dst.ip == IP("192.168.9.9")
    universe = Universe(pod_cidrs=[ipaddress.ip_network("10.0.0.0/8")])
    assert [str(w) for w in pod_ip_warnings(cluster, universe)] == [
        "k8s/db.yaml:11:10: warning: status.podIP: 192.168.9.9 lies outside universe.podCIDRs (10.0.0.0/8); "
        "the Pod is kept with this IP, since the manifest states it"
    ]
    report = prove(parse_invariants(invariants, "inv.yaml"), cluster=cluster)
    assert any("status.podIP: 192.168.9.9 lies outside universe.podCIDRs" in w for w in report.warnings)
    assert pod_ip_warnings(cluster, Universe()) == ()


def test_host_network_pod_with_status_ip_inside_the_pod_cidrs_is_kept():
    agent = Workload("DaemonSet", "kube-system", "agent", host_network=True)
    pinned = Workload("Pod", "kube-system", "probe", {"app": "probe"}, host_network=True, replicas=1, ips=(IP("10.0.0.3"),))
    cluster = Cluster(workloads=[agent, pinned])
    universe = Universe(pod_cidrs=[ipaddress.ip_network("10.0.0.0/8")], host_network=True)
    verdict, _ = _verdict(cluster, "invariants:\n- name: t\n  isolated: {from: {workload: probe}, to: {}}\n", universe)
    assert verdict is Verdict.REFUTED
    (warning,) = pod_ip_warnings(cluster, universe)
    assert "10.0.0.3 lies inside universe.podCIDRs (10.0.0.0/8), but the Pod uses hostNetwork" in str(warning)


# --- 3. only is not vacuous when from and to cannot meet -------------------------------

DENY_ALL = """\
apiVersion: v1
kind: Namespace
metadata: {name: a}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


@pytest.mark.parametrize(
    "flow",
    [
        "{from: {kind: external}, to: {kind: external}}",
        "{from: {ipBlock: {cidr: 10.0.0.0/8}}, to: {ipBlock: {cidr: 'fd00::/8'}}}",
    ],
)
def test_only_between_scopes_no_packet_joins_is_checked(flow):
    invariants = f"invariants:\n- name: t\n  only: {flow}\n"
    # Pods may send anywhere: something other than 'from' reaches 'to'.
    verdict, packet = _verdict(Cluster(), invariants)
    assert verdict is Verdict.REFUTED and packet is not None
    # Every pod denies everything: nothing reaches 'to' at all.
    declared = parse_invariants("universe: {namespaces: declared}\n" + invariants, "inv.yaml").universe
    verdict, packet = _verdict(load_text(DENY_ALL, "k8s/a.yaml"), invariants, declared)
    assert verdict is Verdict.PROVED, packet


def test_isolated_between_scopes_no_packet_joins_is_still_an_error():
    with pytest.raises(InputError, match="no packet matches"):
        parse_invariants("invariants:\n- name: t\n  isolated: {from: {kind: external}, to: {kind: external}}\n", "inv.yaml")


# --- 4. a hostNetwork pod on the destination's node sends as that node ------------------

DAEMONSET = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: a}
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: x}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: x}]
"""


@pytest.mark.parametrize("node_traffic", [True, False])
def test_host_network_daemonset_reaches_pods_on_its_node(node_traffic):
    cluster = load_text(DENY_ALL + "---\n" + DAEMONSET, "k8s/all.yaml")
    universe = Universe(host_network=True, node_traffic=node_traffic)
    verdict, packet = _verdict(cluster, "invariants:\n- name: t\n  isolated: {from: {workload: agent}, to: {workload: web}}\n", universe)
    assert verdict is Verdict.REFUTED
    assert packet.src.host_network and packet.src.own_node
    decision = decide(cluster, packet)
    assert decision.allowed and "own node" in decision.override
    # Without the own-node exemption the policies decide, and deny.
    flipped = Semantics(own_node_traffic_allowed=False)
    assert not decide(cluster, packet, flipped).allowed
    result = Verifier(cluster, universe, flipped).check(parse_invariants(
        "invariants:\n- name: t\n  isolated: {from: {workload: agent}, to: {workload: web}}\n", "inv.yaml").invariants[0])
    assert result.verdict is Verdict.PROVED


def test_own_node_is_only_for_a_host_network_source():
    ordinary = Packet(_pod("10.0.0.1", "p1", own_node=True), _pod("10.0.0.2", "p2"), Protocol.TCP, 80)
    assert _in_universe_both_ways(Cluster(), ordinary, WIDE) == (False, False)
    to_external = Packet(_pod("10.0.0.1", "h", host_network=True, own_node=True), ExternalEndpoint(IP("8.8.8.8")), Protocol.TCP, 80)
    assert _in_universe_both_ways(Cluster(), to_external, WIDE) == (False, False)
    on_node = Packet(_pod("192.168.0.1", "h", host_network=True, own_node=True), _pod("10.0.0.2", "p2"), Protocol.TCP, 80)
    assert _in_universe_both_ways(Cluster(), on_node, WIDE) == (True, True)


def test_explain_words_host_network_own_node_traffic():
    cluster = load_text(DENY_ALL + "---\n" + DAEMONSET, "k8s/all.yaml")
    packet = Packet(_pod("192.168.0.1", "h", namespace="kube-system", host_network=True, own_node=True), _pod("10.0.0.2", "p2"), Protocol.TCP, 80)
    e = explain_packet(cluster, packet)
    text = " ".join(s.text for s in e.sentences)
    assert "on the host network of the node the destination pod runs on" in text
    assert "Verdict: ALLOWED, because traffic from the pod's own node is always allowed" in text
    assert "on the destination pod's node" in describe_endpoint(packet.src)
    elsewhere = explain_packet(cluster, Packet(_pod("192.168.0.1", "h", namespace="kube-system", host_network=True), packet.dst, Protocol.TCP, 80))
    assert "of a node other than the destination pod's" in " ".join(s.text for s in elsewhere.sentences)
