"""Conformance: the upstream AdminNetworkPolicy / BaselineAdminNetworkPolicy /
ClusterNetworkPolicy conformance tests (kubernetes-sigs/network-policy-api).

The data is in tests/conformance/adminpolicy/ (SOURCE.md says where each file comes from):
the pods upstream runs (base/pods.yaml), upstream's policy manifests under their upstream
paths, and expectations.yaml: per upstream ConformanceTest, its subtests in order, each with
the policy changes it makes (cumulative, as upstream's) and its probes (source pod,
destination, protocol, port, allowed or denied).

For every probe this file builds the concrete packet and checks it

* with the reference evaluator: ``possible_outcomes`` must be determined and give
  upstream's verdict, and ``decide`` gives it too;
* with the SMT encoding: ``SolverSession.evaluate_many`` on the same packets, and one
  ALLOWED or ISOLATED invariant per probe through ``Verifier`` (PROVED), plus the opposite
  invariant for the first probe of each step (REFUTED, with a packet the evaluator agrees
  with).

Node probes (destination ``node:HOUSE/POD``): upstream pokes a hostNetwork pod's IP, its
node's. Which IPs are nodes is no manifest's fact, so npverify treats a ``nodes`` peer as
undecidable for a host outside the pod network. For those probes the destination is that
IP as an external host; the evaluator, with a resolution taking every ``nodes`` peer as
matching, must give upstream's verdict; and where taking them as not matching changes the
verdict, ``possible_outcomes`` must say the verdict depends on the nodes peer, and the
solver must prove neither verdict (UNKNOWN).

``test_node_probes_as_host_network_pods`` sends the node probes as upstream does, to the
hostNetwork pod: its IP is its node's, so a ``nodes`` peer may match it, and upstream's
verdict must be among npverify's possible outcomes.
"""

from __future__ import annotations

import copy
import ipaddress
from functools import lru_cache
from pathlib import Path

import attrs
import pytest
import yaml

from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, Scope
from npverify.load import load_text
from npverify.model import (
    Cluster,
    ExternalEndpoint,
    IPBlock,
    Packet,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Semantics,
    Universe,
)
from npverify.results import Verdict
from npverify.semantics import decide, possible_outcomes
from npverify.tiers import DEFAULT_RESOLUTION

DATA = Path(__file__).resolve().parent / "adminpolicy"
BASE = ("base/pods.yaml",)
NAMESPACE_PREFIX = "network-policy-conformance-"
NODE = "node:"

SEMANTICS = Semantics()
UNIVERSE = Universe(pods="workloads", namespaces="declared")


@attrs.frozen
class Probe:
    src: str
    dst: str
    protocol: Protocol
    port: int
    allowed: bool

    @property
    def to_node(self) -> bool:
        return self.dst.startswith(NODE)

    def __str__(self) -> str:
        return f"{self.src} -> {self.dst} {self.protocol}/{self.port}: {'allowed' if self.allowed else 'denied'}"


@attrs.frozen(eq=False)
class Step:
    test: str
    index: int
    title: str
    source: str
    manifests: tuple[str, ...]
    #: The changes of this step and of the steps before it, in order.
    changes: tuple
    probes: tuple[Probe, ...]

    @property
    def id(self) -> str:
        return f"{self.test}[{self.index}]"


def _probe(row: list) -> Probe:
    src, dst, protocol, port, verdict = row
    assert verdict in ("allowed", "denied"), row
    return Probe(src, dst, Protocol(protocol), int(port), verdict == "allowed")


def load_steps() -> list[Step]:
    doc = yaml.safe_load((DATA / "expectations.yaml").read_text())
    steps = []
    for test in doc["tests"]:
        changes: list = []
        for index, step in enumerate(test["steps"]):
            changes += step.get("changes") or []
            steps.append(
                Step(
                    test=test["name"],
                    index=index,
                    title=step["title"],
                    source=test["source"],
                    manifests=tuple(test["manifests"]),
                    changes=tuple(copy.deepcopy(changes)),
                    probes=tuple(_probe(row) for row in step["probes"]),
                )
            )
    return steps


STEPS = load_steps()
IDS = [s.id for s in STEPS]


# --- the cluster of a step ----------------------------------------------------------------


def _key(doc: dict) -> str:
    meta = doc.get("metadata") or {}
    if doc["kind"] == "NetworkPolicy":
        return f"NetworkPolicy/{meta['namespace']}/{meta['name']}"
    return f"{doc['kind']}/{meta['name']}"


def _apply(docs: list[dict], change: dict) -> list[dict]:
    """One change of expectations.yaml, as upstream makes it through the API."""
    (verb, args), = change.items()
    if verb == "delete":
        remaining = [d for d in docs if _key(d) != args]
        assert len(remaining) == len(docs) - 1, f"no object {args} to delete"
        return remaining
    target = next((d for d in docs if _key(d) == args[0]), None)
    assert target is not None, f"no object {args[0]} to change"
    spec = target["spec"]
    if verb == "swap":
        _, direction, i, j = args
        rules = spec[direction]
        rules[i], rules[j] = rules[j], rules[i]
    elif verb == "set_action":
        _, direction, i, action = args
        spec[direction][i]["action"] = action
    elif verb == "set_ports":
        _, direction, i, ports = args
        spec[direction][i]["ports"] = ports
    elif verb == "set_priority":
        spec["priority"] = args[1]
    elif verb == "insert_rule":
        _, direction, i, rule = args
        spec[direction].insert(i, rule)
    else:
        raise AssertionError(f"unknown change {verb!r}")
    return docs


def manifests_text(step: Step, extra: tuple[str, ...] = ()) -> str:
    docs = []
    for name in BASE + extra + step.manifests:
        docs += [d for d in yaml.safe_load_all((DATA / name).read_text()) if d]
    for change in step.changes:
        docs = _apply(docs, copy.deepcopy(change))
    return yaml.safe_dump_all(docs, sort_keys=False)


@lru_cache(maxsize=None)
def cluster_of(step: Step, extra: tuple[str, ...] = ()) -> Cluster:
    cluster = load_text(manifests_text(step, extra), f"{step.test}-step{step.index}.yaml")
    assert not cluster.unmodelled, f"{step.id}: objects npverify does not model: {cluster.unmodelled}"
    assert cluster.cluster_policies, f"{step.id}: no cluster-scoped policy was loaded"
    return cluster


def _pod_key(text: str) -> str:
    house, name = text.split("/")
    return f"{NAMESPACE_PREFIX}{house}/Pod/{name}"


def pod_endpoint(cluster: Cluster, text: str) -> PodEndpoint:
    workload = cluster.workload(_pod_key(text))
    assert workload is not None, f"no pod {text}"
    namespace = cluster.namespace(workload.namespace)
    assert namespace is not None
    return PodEndpoint(
        namespace=workload.namespace,
        namespace_labels=namespace.labels,
        labels=workload.labels,
        ip=workload.ips[0],
        ports=workload.ports,
        host_network=workload.host_network,
        workload=workload.key,
        pod_id=workload.key,
    )


@lru_cache(maxsize=None)
def node_ips() -> dict[str, ipaddress.IPv4Address]:
    """``HOUSE/POD`` -> the IP of the node a hostNetwork pod runs on (its own IP)."""
    ips = {}
    for doc in yaml.safe_load_all((DATA / "base" / "hostnetwork-pods.yaml").read_text()):
        if doc and doc["kind"] == "Pod":
            assert doc["spec"]["hostNetwork"] is True
            house = doc["metadata"]["namespace"].removeprefix(NAMESPACE_PREFIX)
            ips[f"{house}/{doc['metadata']['name']}"] = ipaddress.ip_address(doc["status"]["podIP"])
    return ips


def packet_of(cluster: Cluster, probe: Probe) -> Packet:
    src = pod_endpoint(cluster, probe.src)
    if probe.to_node:
        dst = ExternalEndpoint(node_ips()[probe.dst.removeprefix(NODE)])
    else:
        dst = pod_endpoint(cluster, probe.dst)
    return Packet(src, dst, probe.protocol, probe.port)


def node_peers(cluster: Cluster) -> list:
    return [
        peer
        for policy in cluster.cluster_policies
        for rules in (policy.ingress, policy.egress)
        for rule in rules
        for peer in rule.peers
        if peer.nodes is not None
    ]


def verdict_text(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


# --- the tests ----------------------------------------------------------------------------


def test_expectations_shape() -> None:
    """The table covers each kind of upstream test, and every probe names known endpoints."""
    tests = {s.test for s in STEPS}
    assert len(tests) >= 9
    assert sum(len(s.probes) for s in STEPS) >= 150
    assert any(p.to_node for s in STEPS for p in s.probes)
    assert {p.protocol for s in STEPS for p in s.probes} == set(Protocol)
    assert {p.allowed for s in STEPS for p in s.probes} == {True, False}
    pods = {
        f"{d['metadata']['namespace'].removeprefix(NAMESPACE_PREFIX)}/{d['metadata']['name']}"
        for d in yaml.safe_load_all((DATA / "base" / "pods.yaml").read_text())
        if d and d["kind"] == "Pod"
    }
    for step in STEPS:
        for probe in step.probes:
            assert probe.src in pods, (step.id, probe)
            assert probe.dst in pods or probe.dst.removeprefix(NODE) in node_ips(), (step.id, probe)
        for name in step.manifests:
            assert (DATA / name).is_file(), name


def test_changes_apply_like_upstream() -> None:
    """The change machinery itself: a swap, then another swap, are cumulative."""
    step = next(s for s in STEPS if s.test == "AdminNetworkPolicyEgressTCP" and s.index == 4)
    docs = [d for d in yaml.safe_load_all(manifests_text(step)) if d and d["kind"] == "AdminNetworkPolicy"]
    names = [r["name"] for r in docs[0]["spec"]["egress"][:3]]
    # swap(0, 1) then swap(0, 2): pass, allow, deny
    assert names == ["pass-to-ravenclaw-everything", "allow-to-ravenclaw-everything", "deny-to-ravenclaw-everything"]


@pytest.mark.parametrize("step", STEPS, ids=IDS)
def test_reference_evaluator(step: Step) -> None:
    cluster = cluster_of(step)
    problems = []
    for probe in step.probes:
        packet = packet_of(cluster, probe)
        if probe.to_node:
            problems += _node_probe_problems(cluster, packet, probe)
            continue
        outcomes = possible_outcomes(cluster, packet, SEMANTICS)
        decision = decide(cluster, packet, SEMANTICS)
        if not outcomes.determined or outcomes.allowed_values != {probe.allowed}:
            problems.append(
                f"{probe}: possible outcomes {sorted(map(verdict_text, outcomes.allowed_values))}, "
                f"depends on {list(outcomes.depends_on)}"
            )
        elif decision.allowed is not probe.allowed:
            problems.append(f"{probe}: decide says {verdict_text(decision.allowed)}: {decision.describe()}")
    assert not problems, f"{step.id} {step.title!r} ({step.source}):\n" + "\n".join(problems)


def _node_probe_problems(cluster: Cluster, packet: Packet, probe: Probe) -> list[str]:
    peers = node_peers(cluster)
    assert peers, f"{probe}: a node probe needs a nodes peer"
    matching = DEFAULT_RESOLUTION
    for peer in peers:
        matching = matching.with_peer(peer, True)
    problems = []
    as_nodes = decide(cluster, packet, SEMANTICS, matching)
    if as_nodes.allowed is not probe.allowed:
        problems.append(f"{probe}: with the nodes peers matching, decide says {verdict_text(as_nodes.allowed)}")
    not_nodes = decide(cluster, packet, SEMANTICS, DEFAULT_RESOLUTION)
    outcomes = possible_outcomes(cluster, packet, SEMANTICS)
    if not_nodes.allowed is probe.allowed:
        # The nodes peer does not change this verdict: it must be determined.
        if not outcomes.determined or outcomes.allowed_values != {probe.allowed}:
            problems.append(f"{probe}: the verdict does not depend on the nodes peer, yet {outcomes}")
    elif outcomes.determined or not any("nodes" in fact for fact in outcomes.depends_on):
        problems.append(
            f"{probe}: the verdict depends on the nodes peer, but possible_outcomes gives "
            f"{sorted(map(verdict_text, outcomes.allowed_values))} depending on {list(outcomes.depends_on)}"
        )
    return problems


def node_probe_depends_on_peer(cluster: Cluster, probe: Probe) -> bool:
    return decide(cluster, packet_of(cluster, probe), SEMANTICS).allowed is not probe.allowed


def _invariant(probe: Probe, allowed: bool) -> Invariant:
    src_house, src_pod = probe.src.split("/")
    src = Scope(namespace=NAMESPACE_PREFIX + src_house, workload=f"Pod/{src_pod}")
    if probe.to_node:
        ip = node_ips()[probe.dst.removeprefix(NODE)]
        dst = Scope(ip_block=IPBlock(ipaddress.ip_network(f"{ip}/32")), kind=EndpointKind.EXTERNAL)
    else:
        dst_house, dst_pod = probe.dst.split("/")
        dst = Scope(namespace=NAMESPACE_PREFIX + dst_house, workload=f"Pod/{dst_pod}")
    return Invariant(
        name=str(probe),
        kind=InvariantKind.ALLOWED if allowed else InvariantKind.ISOLATED,
        src=src,
        dst=dst,
        ports=(PolicyPort(probe.protocol, probe.port),),
    )


@pytest.mark.parametrize("step", STEPS, ids=IDS)
def test_smt(step: Step) -> None:
    from npverify.engine import Verifier

    cluster = cluster_of(step)
    verifier = Verifier(cluster, universe=UNIVERSE, semantics=SEMANTICS)
    problems = []

    # The encoding on the concrete packets (pod probes: nodes peers never match a pod).
    pod_probes = [p for p in step.probes if not p.to_node]
    if pod_probes:
        # The session the engine builds for this cluster: it knows every label the
        # policies mention, cluster-scoped ones included.
        session = verifier._session_for(_invariant(pod_probes[0], True))
        answers = session.evaluate_many([packet_of(cluster, p) for p in pod_probes])
        for probe, answer in zip(pod_probes, answers):
            if answer is not probe.allowed:
                problems.append(f"{probe}: evaluate_many says {answer}")

    # One invariant per probe; a node probe whose verdict the nodes peer decides is UNKNOWN.
    for probe in step.probes:
        undecidable = probe.to_node and node_probe_depends_on_peer(cluster, probe)
        for claimed in (True, False):
            result = verifier.check(_invariant(probe, claimed))
            if undecidable:
                if result.verdict is not Verdict.UNKNOWN:
                    problems.append(f"{probe}: claiming {verdict_text(claimed)} gave {result.verdict}, expected unknown")
            elif claimed is probe.allowed and result.verdict is not Verdict.PROVED:
                problems.append(f"{probe}: not proved: {result.verdict} {result.packet} {result.reason}")
            elif claimed is not probe.allowed:
                if result.verdict is not Verdict.REFUTED or result.packet is None:
                    problems.append(f"{probe}: the opposite claim was not refuted: {result.verdict} {result.reason}")
                elif decide(cluster, result.packet, SEMANTICS).allowed is not probe.allowed:
                    problems.append(f"{probe}: the counterexample {result.packet} is decided the other way")
    assert not problems, f"{step.id} {step.title!r} ({step.source}):\n" + "\n".join(problems)


NODE_STEPS = [s for s in STEPS if any(p.to_node for p in s.probes)]


def test_node_probes_as_host_network_pods() -> None:
    """Upstream's node probes as upstream sends them: to the hostNetwork pod itself. Its
    IP is a node's, so a ``nodes`` peer may match it: upstream's verdict must be one of the
    possible outcomes."""
    assert NODE_STEPS
    problems = []
    for step in NODE_STEPS:
        cluster = cluster_of(step, ("base/hostnetwork-pods.yaml",))
        for probe in step.probes:
            assert probe.to_node
            dst = pod_endpoint(cluster, probe.dst.removeprefix(NODE))
            assert dst.host_network
            packet = attrs.evolve(packet_of(cluster, probe), dst=dst)
            outcomes = possible_outcomes(cluster, packet, SEMANTICS)
            if probe.allowed not in outcomes.allowed_values:
                problems.append(f"{probe}: possible outcomes {sorted(map(verdict_text, outcomes.allowed_values))}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("nodes", ["any", "declared"])
def test_node_probes_with_nodes_loaded(nodes: str) -> None:
    """With the cluster's Node objects loaded (base/nodes.yaml: the nodes the hostNetwork
    pods run on, labelled as kind labels them), a node probe's address is a loaded Node's:
    the nodes peers decide on its labels, in either universe.nodes mode. The evaluator and
    the solver then give upstream's verdict, determined, for the node as a destination host
    and for the hostNetwork pod on it."""
    from npverify.engine import Verifier

    universe = attrs.evolve(UNIVERSE, nodes=nodes, host_network=True)
    problems = []
    for step in NODE_STEPS:
        cluster = cluster_of(step, ("base/nodes.yaml", "base/hostnetwork-pods.yaml"))
        assert len(cluster.nodes) == 2
        verifier = Verifier(cluster, universe=universe, semantics=SEMANTICS)
        for probe in step.probes:
            host = pod_endpoint(cluster, probe.dst.removeprefix(NODE))
            for packet in (packet_of(cluster, probe), attrs.evolve(packet_of(cluster, probe), dst=host)):
                outcomes = possible_outcomes(cluster, packet, SEMANTICS, nodes=nodes)
                if not outcomes.determined or outcomes.allowed_values != {probe.allowed}:
                    problems.append(f"{probe} to {packet.dst}: {sorted(map(verdict_text, outcomes.allowed_values))} {outcomes.depends_on}")
            for claimed in (True, False):
                result = verifier.check(_invariant(probe, claimed))
                if claimed is probe.allowed and result.verdict is not Verdict.PROVED:
                    problems.append(f"{probe}: not proved: {result.verdict} {result.packet} {result.reason}")
                elif claimed is not probe.allowed:
                    if result.verdict is not Verdict.REFUTED or result.packet is None:
                        problems.append(f"{probe}: the opposite claim was not refuted: {result.verdict} {result.reason}")
                    elif decide(cluster, result.packet, SEMANTICS, nodes=nodes).allowed is not probe.allowed:
                        problems.append(f"{probe}: the counterexample {result.packet} is decided the other way")
    assert not problems, "\n".join(problems)
