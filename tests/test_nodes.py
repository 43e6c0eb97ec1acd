"""Nodes as a universe dimension: loading v1 Node objects, and ``nodes`` peers decided by the
loaded Nodes' addresses and ``universe.nodes`` alike in the evaluator and the encoding."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from npverify.cli import main
from npverify.errors import InputError
from npverify.load import load_text
from npverify.model import (
    Action,
    Cluster,
    ClusterPeer,
    ClusterPolicy,
    ClusterRule,
    ExternalEndpoint,
    Labels,
    LabelSelector,
    Node,
    Packet,
    PodEndpoint,
    PodSet,
    Protocol,
    Semantics,
    Tier,
    Universe,
)
from npverify.semantics import decide, node_warnings, possible_outcomes, universe_problem
from npverify.smt import SolverSession, mentions_of
from npverify.tiers import Resolution

NODES_YAML = """\
apiVersion: v1
kind: Node
metadata:
  name: worker-1
  labels: {role: worker}
status:
  addresses:
  - {type: InternalIP, address: 192.0.2.1}
  - {type: ExternalIP, address: "2001:db8::1"}
  - {type: Hostname, address: worker-1}
---
apiVersion: v1
kind: Node
metadata:
  name: infra-1
  labels: {role: infra}
status:
  addresses:
  - {type: InternalIP, address: 192.0.2.2}
"""


def test_load_nodes_reads_ip_addresses_only() -> None:
    cluster = load_text(NODES_YAML, "nodes.yaml")
    assert [n.name for n in cluster.nodes] == ["worker-1", "infra-1"]
    worker = cluster.nodes[0]
    assert worker.labels == Labels.of(role="worker")
    assert worker.addresses == (ipaddress.ip_address("192.0.2.1"), ipaddress.ip_address("2001:db8::1"))
    assert cluster.node_at(ipaddress.ip_address("192.0.2.2")).name == "infra-1"
    assert not cluster.skipped and not cluster.unmodelled


@pytest.mark.parametrize(
    "entry, expected",
    [
        ("{type: InternalIP, address: 192.0.2.300}", "nodes.yaml:7:33: error: status.addresses[0].address: invalid IP address '192.0.2.300' (type InternalIP)"),
        ("{type: InternalIp, address: 192.0.2.1}", "nodes.yaml:7:12: error: status.addresses[0].type: unknown address type 'InternalIp'"),
        ("{address: 192.0.2.1}", "nodes.yaml:7:5: error: status.addresses[0]: missing required field 'type'"),
        ("{type: InternalIP, adress: 192.0.2.1}", "nodes.yaml:7:"),
    ],
)
def test_bad_node_addresses_are_located_errors(entry: str, expected: str) -> None:
    text = f"apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\nstatus:\n  addresses:\n  - {entry}\n"
    with pytest.raises(InputError) as info:
        load_text(text, "nodes.yaml")
    assert str(info.value.diagnostics[0]).startswith(expected), str(info.value.diagnostics[0])


def test_duplicate_node_and_address_conflicts() -> None:
    with pytest.raises(InputError, match="Node worker-1 is already defined"):
        load_text(NODES_YAML + "---\n" + NODES_YAML.split("---\n")[0], "nodes.yaml")
    pod = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec: {containers: []}\nstatus: {podIP: 192.0.2.2}\n"
    cluster = load_text(NODES_YAML + pod, "nodes.yaml")
    assert any("192.0.2.2 is the status IP of Pod a/p" in str(w) for w in cluster.warnings)


WORKERS = LabelSelector(match_labels={"role": "worker"})
RULE = ClusterRule(Action.DENY, (ClusterPeer(nodes=WORKERS),))
ANP = ClusterPolicy("AdminNetworkPolicy", "no-workers", Tier.ADMIN, 0, PodSet(), egress=(RULE,))
SRC = PodEndpoint("a", Labels.of({"kubernetes.io/metadata.name": "a"}), Labels(), ipaddress.ip_address("10.0.0.1"), pod_id="p")


def _host(ip: str) -> PodEndpoint:
    return PodEndpoint("h", Labels.of({"kubernetes.io/metadata.name": "h"}), Labels(), ipaddress.ip_address(ip), host_network=True, pod_id="h")


def _cluster(*roles: str) -> Cluster:
    nodes = [Node(f"n{i}", Labels.of(role=r), (ipaddress.ip_address(f"192.0.2.{i + 1}"),)) for i, r in enumerate(roles)]
    return Cluster(cluster_policies=(ANP,), nodes=tuple(nodes))


# (nodes loaded, universe.nodes, destination) -> allowed values over the resolutions
CASES = [
    (("worker",), "any", ExternalEndpoint(ipaddress.ip_address("192.0.2.1")), {False}),  # a worker's address
    (("infra",), "any", ExternalEndpoint(ipaddress.ip_address("192.0.2.1")), {True}),  # another node's
    (("worker",), "any", ExternalEndpoint(ipaddress.ip_address("198.51.100.7")), {True, False}),  # maybe a node
    (("worker",), "declared", ExternalEndpoint(ipaddress.ip_address("198.51.100.7")), {True}),  # no node
    (("worker",), "declared", _host("192.0.2.1"), {False}),
    (("worker", "worker"), "declared", _host("203.0.113.9"), {False}),  # on some node: every one is a worker
    (("infra",), "declared", _host("203.0.113.9"), {True}),  # no node is a worker
    (("worker", "infra"), "declared", _host("203.0.113.9"), {True, False}),  # which node, no manifest says
    ((), "declared", _host("203.0.113.9"), {True}),  # no node at all: nodes peers match nothing
    (("worker",), "any", _host("203.0.113.9"), {True, False}),
]


@pytest.mark.parametrize("roles, nodes, dst, expected", CASES)
def test_evaluator_and_encoding_agree_on_nodes_peers(roles, nodes, dst, expected) -> None:
    cluster = _cluster(*roles)
    universe = Universe(host_network=True, nodes=nodes)
    packet = Packet(SRC, dst, Protocol.TCP, 80)
    assert universe_problem(cluster, packet, universe) is None
    outcomes = possible_outcomes(cluster, packet, Semantics(), nodes=nodes)
    assert outcomes.allowed_values == expected
    assert outcomes.determined == (len(expected) == 1)
    session = SolverSession(cluster, mentions_of(cluster.cluster_policies), universe, Semantics())
    for resolution in (Resolution(), Resolution(frozenset({RULE.peers[0]}))):
        assert session.evaluate(packet, resolution) == decide(cluster, packet, Semantics(), resolution, nodes=nodes).allowed


def test_declared_without_nodes_warns() -> None:
    assert node_warnings(Cluster(), Universe(nodes="declared"))
    assert not node_warnings(Cluster(), Universe())
    inside = node_warnings(_cluster("worker"), Universe(pod_cidrs=(ipaddress.ip_network("192.0.2.0/24"),)))
    assert inside and "inside universe.podCIDRs" in str(inside[0])


GUARD = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: no-workers}
spec:
  priority: 1
  subject: {namespaces: {}}
  egress:
  - name: deny-workers
    action: Deny
    to:
    - nodes: {matchLabels: {role: worker}}
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
"""

INVARIANTS = """\
manifests: [m.yaml]
universe: {{nodes: {mode}, podCIDRs: [10.0.0.0/8]}}
invariants:
- name: nothing reaches outside
  isolated:
    from: {{namespace: a}}
    to: {{ipBlock: {{cidr: 198.51.100.0/24}}}}
"""


@pytest.mark.parametrize("mode, verdict, code", [("any", "UNKNOWN", 3), ("declared", "REFUTED", 1)])
def test_prove_with_universe_nodes(tmp_path, mode: str, verdict: str, code: int) -> None:
    """Outside hosts may be worker nodes (unknown) unless the loaded Nodes are all of them:
    then they are no nodes, and the Deny does not stop them."""
    (tmp_path / "m.yaml").write_text(GUARD + "---\n" + NODES_YAML)
    (tmp_path / "inv.yaml").write_text(INVARIANTS.format(mode=mode))
    result = CliRunner().invoke(main, ["prove", str(tmp_path / "inv.yaml"), "--format", "json"])
    assert result.exit_code == code, result.output
    report = json.loads(result.output)
    assert [r["verdict"] for r in report["results"]] == [verdict.lower()]


def test_nodes_switch_overrides_the_file_and_rejects_typos(tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(GUARD + "---\n" + NODES_YAML)
    (tmp_path / "inv.yaml").write_text(INVARIANTS.format(mode="any"))
    result = CliRunner().invoke(main, ["prove", str(tmp_path / "inv.yaml"), "--nodes", "declared", "--format", "json"])
    assert result.exit_code == 1, result.output
    bad = CliRunner().invoke(main, ["prove", str(tmp_path / "inv.yaml"), "--nodes", "some"])
    assert bad.exit_code == 2 and "'some' is not one of 'any', 'declared'" in bad.output
    (tmp_path / "inv.yaml").write_text(INVARIANTS.format(mode="declard"))
    typo = CliRunner().invoke(main, ["prove", str(tmp_path / "inv.yaml")])
    assert typo.exit_code == 2, typo.output
    assert "universe.nodes" in typo.output and "declard" in typo.output


MATRIX = Path(__file__).resolve().parent / "data" / "nodes-matrix.yaml"


@pytest.mark.parametrize("with_nodes, cell", [(False, "all?"), (True, "-")])
def test_matrix_decides_nodes_peers_at_loaded_nodes(tmp_path, with_nodes: bool, cell: str) -> None:
    """A hostNetwork pod at a worker Node's address: the Admin Deny to worker nodes is `?`
    while no Node is loaded, and decided (nothing allowed) with the Node; the solver's proof
    of the matrix agrees either way."""
    text = MATRIX.read_text() + ("---\n" + NODES_YAML if with_nodes else "")
    (tmp_path / "m.yaml").write_text(text)
    result = CliRunner().invoke(main, ["matrix", str(tmp_path / "m.yaml"), "--host-network", "--pod-cidr", "10.0.0.0/8"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "a/Pod/client" in line)
    assert row.split()[-1] == cell, result.output
    assert "PROVED" in result.output


def test_explain_names_the_node(tmp_path) -> None:
    (tmp_path / "m.yaml").write_text(MATRIX.read_text() + "---\n" + NODES_YAML)
    result = CliRunner().invoke(main, ["explain", "--manifests", str(tmp_path / "m.yaml"), "--from", "a/client", "--to", "192.0.2.1", "--port", "80"])
    assert "Node worker-1" in result.output and "labels {role=worker}" in result.output, result.output
    assert "DENIED" in result.output, result.output


def _hostnetwork_accept_cluster():
    """web's egress is isolated by a NetworkPolicy that allows nothing; an Admin Accept
    lets it reach every node (``nodes: {}``). The hostNetwork agent's address is no loaded
    Node's, so only ``universe.nodes`` decides whether the peer matches it."""
    text = NODES_YAML + """\
---
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Namespace
metadata: {name: agents}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: agents, labels: {app: agent}}
spec: {hostNetwork: true, containers: [{name: c, image: x}]}
status: {podIP: 192.0.2.9}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: no-egress, namespace: app}
spec: {podSelector: {}, policyTypes: [Egress]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: to-nodes}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: app}}}
  egress:
    - {name: nodes, action: Allow, to: [{nodes: {}}]}
"""
    cluster = load_text(text, "c.yaml")
    web = next(w for w in cluster.workloads if w.name == "web")
    agent = next(w for w in cluster.workloads if w.name == "agent")
    src = PodEndpoint("app", Labels.of({"kubernetes.io/metadata.name": "app"}), web.labels, ipaddress.ip_address("10.0.0.5"), pod_id="web")
    dst = PodEndpoint(
        "agents", Labels.of({"kubernetes.io/metadata.name": "agents"}), agent.labels, ipaddress.ip_address("192.0.2.9"),
        host_network=True, pod_id="agent",
    )
    return cluster, Packet(src, dst, Protocol.TCP, 80)


def test_lint_evaluator_pass_decides_nodes_peers_with_the_universes_nodes():
    """lint's evaluator pass must read nodes peers as the solver does: with nodes
    'declared' the Accept surely matches the hostNetwork pod (it is on one of the loaded
    Nodes, and the selector picks them all); with 'any' it may not."""
    from npverify.lint.check import _Run, _Witnesses
    from npverify.lint.rules import LintConfig
    from npverify.smt.solve import Limits

    cluster, packet = _hostnetwork_accept_cluster()
    allowed = {}
    for nodes in ("any", "declared"):
        universe = Universe(host_network=True, nodes=nodes)
        assert possible_outcomes(cluster, packet, nodes=nodes).determined is (nodes == "declared")
        run = _Run(cluster, universe, Semantics(), LintConfig(), Limits(), 1)
        allowed[nodes] = _Witnesses(run)._allowed(packet)
    assert allowed == {"any": False, "declared": True}


def test_redundancy_witnesses_decide_nodes_peers_with_the_universes_nodes():
    """Removing the NetworkPolicy changes the packet's verdict only where the Admin Accept
    may not match the agent: with nodes 'any' (unknown, read as no match by the default
    resolution), not with 'declared' (it matches)."""
    from npverify.redundancy import _IPBlockPeers, _Witnesses

    cluster, packet = _hostnetwork_accept_cluster()
    changes = {}
    for nodes in ("any", "declared"):
        universe = Universe(host_network=True, nodes=nodes)
        witnesses = _Witnesses(cluster, universe, Semantics(), _IPBlockPeers())
        changes[nodes] = witnesses.changes(packet, "app", ())
    assert changes == {"any": True, "declared": False}
