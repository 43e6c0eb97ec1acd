"""The connectivity matrix with cluster-scoped policies (the Admin and Baseline tiers).

* Cells against the reference evaluator: every cell's ``may``, ``always`` and ``unknown``
  sets equal a brute force over representative pods (one per class of IPs that no ipBlock,
  ``networks`` peer or pod CIDR tells apart; one per namespace label set the namespace
  selectors, subjects' included, tell apart) at every port where a decision or the cell
  can change, each packet decided by ``possible_outcomes`` (every resolution of what no
  manifest says): ``may`` = allowed under some resolution for some pair of pods, ``always``
  = under every resolution for every pair, ``unknown`` = the verdict of some pair depends
  on the resolution. By hand (named ports, Pass to NetworkPolicy and to Baseline,
  priorities, same-priority ties, networks peers, rules that fail closed) and on random
  small tiered clusters (tests/strategies_tiers.py).
* Witnesses, reasons (the deciding Admin/Baseline rules) and the proof step on tiered clusters.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os

import attrs
import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from npverify.matrix import PROTOCOLS, Cell, ConnectivityMatrix, PortSet, connectivity_matrix
from npverify.model import (
    Action,
    Cluster,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    ContainerPort,
    Direction,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Packet,
    PodSet,
    PolicyPort,
    Protocol,
    Rule,
    Semantics,
    Tier,
    Universe,
    Workload,
)
from npverify.report.json import render_matrix_json
from npverify.report.text import render_matrix
from npverify.results import Verdict
from npverify.semantics import possible_outcomes
from tests import strategies as s
from tests import strategies_tiers as t
from tests.test_matrix import SCHEMA, _check_ports, _endpoint_pairs, _ip_classes, _networks, busy_worlds

TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP
ANY_V4, ANY_V6 = ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")


# --- the brute force -------------------------------------------------------------------------


def verdicts(cluster: Cluster, packet: Packet, semantics: Semantics) -> frozenset[bool]:
    """The verdicts ``packet`` can get over what no manifest says."""
    outcomes = possible_outcomes(cluster, packet, semantics)
    assert "more resolutions than npverify tries" not in outcomes.depends_on, "test cluster too large for the oracle"
    return outcomes.allowed_values


def assert_tiered_matrix_matches_evaluator(cluster: Cluster, universe: Universe, semantics: Semantics, matrix: ConnectivityMatrix) -> int:
    """Every cell of ``matrix`` (by workload) equals the brute force; returns packets decided."""
    classes = _ip_classes(_networks(cluster, universe))
    by_key = {w.key: w for w in cluster.workloads}
    decided = 0
    for i, j in itertools.product(range(len(matrix.rows)), repeat=2):
        src, dst = by_key[matrix.rows[i]], by_key[matrix.columns[j]]
        cell = matrix.cells.get((i, j), Cell(PortSet(), PortSet()))
        pairs = list(_endpoint_pairs(cluster, universe, src, dst, classes))
        assert ((i, j) in matrix.void) == (not pairs), (src.key, dst.key, "void")
        for protocol, port in itertools.product(PROTOCOLS, _check_ports(cluster, cell)):
            found = [verdicts(cluster, Packet(a, b, protocol, port), semantics) for a, b in pairs]
            decided += len(found)
            may = any(True in v for v in found)
            always = bool(found) and all(v == {True} for v in found)
            unknown = any(len(v) > 1 for v in found)
            where = f"{src.key} -> {dst.key} {protocol} {port}: cell {cell.text()!r}"
            assert cell.may.contains(protocol, port) == may, f"may: evaluator {may}; {where}"
            assert cell.always.contains(protocol, port) == always, f"always: evaluator {always}; {where}"
            assert cell.unknown.contains(protocol, port) == unknown, f"unknown: evaluator {unknown}; {where}"
    return decided


def _checked(cluster: Cluster, universe: Universe = Universe(), semantics: Semantics = Semantics()) -> ConnectivityMatrix:
    """The workload matrix, checked against the brute force, with its witnesses replayed
    (the proof's witness step, which raises on any disagreement with the evaluator)."""
    matrix = connectivity_matrix(cluster, universe=universe, semantics=semantics, prove=False)
    assert_tiered_matrix_matches_evaluator(cluster, universe, semantics, matrix)
    proved = connectivity_matrix(cluster, universe=universe, semantics=semantics, cell_rules=True)
    assert proved.cells == matrix.cells
    return proved


# --- by hand ---------------------------------------------------------------------------------


def test_cell_text_marks_unknown_ports():
    cell = Cell(PortSet.of(TCP, 1, 100), PortSet.of(TCP, 50, 60), PortSet.of(TCP, 10, 20) | PortSet.of(TCP, 90, 100))
    assert cell.text() == "TCP 1-9*,10-20?,21-49*,50-60,61-89*,90-100?"
    every = PortSet.of(TCP) | PortSet.of(UDP) | PortSet.of(SCTP)
    assert Cell(every, PortSet(), every).text() == "all?"
    assert Cell(every, PortSet(), PortSet.of(UDP)).text() == "TCP all* UDP all? SCTP all*"
    assert Cell(PortSet.of(TCP, 1, 100), PortSet.of(TCP, 50, 60)).text() == "TCP 1-49*,50-60,61-100*"

NAMESPACES = (Namespace("a", {"team": "x"}), Namespace("b", {"team": "y"}))
WEB = Workload("Deployment", "a", "web", {"app": "web"}, (ContainerPort(80, TCP, "http"),), replicas=2)
DB = Workload("Deployment", "b", "db", {"app": "db"}, (ContainerPort(5432, TCP, "pg"), ContainerPort(53, UDP, "dns")), replicas=2)
TEAM_X = PodSet(LabelSelector({"team": "x"}))
TEAM_Y = PodSet(LabelSelector({"team": "y"}))
ALL_PODS = ClusterPeer(pods=PodSet())


def _anp(name: str, priority: int, subject: PodSet, ingress=(), egress=(), kind: str = "AdminNetworkPolicy") -> ClusterPolicy:
    return ClusterPolicy(kind, name, Tier.ADMIN, priority, subject, ingress=ingress, egress=egress)


def _banp(subject: PodSet, ingress=(), egress=()) -> ClusterPolicy:
    return ClusterPolicy("BaselineAdminNetworkPolicy", "default", Tier.BASELINE, 0, subject, ingress=ingress, egress=egress)


def _cluster(*cluster_policies, policies=(), workloads=(WEB, DB)) -> Cluster:
    return Cluster(policies=policies, namespaces=NAMESPACES, workloads=workloads, cluster_policies=cluster_policies)


def test_admin_accept_then_deny_with_a_named_port():
    """The first matching rule decides; a named port resolves on the destination for the
    protocol its container port declares (protocol None), and is nothing on a pod without it."""
    deny_db = _anp(
        "db",
        10,
        TEAM_Y,
        ingress=[
            ClusterRule(Action.ACCEPT, [ClusterPeer(pods=TEAM_X)], [ClusterPort(None, named="pg"), ClusterPort(None, named="dns")]),
            ClusterRule(Action.DENY, [ALL_PODS]),
        ],
    )
    matrix = _checked(_cluster(deny_db))
    cell = matrix.cell("a/Deployment/web", "b/Deployment/db")
    assert cell.text() == "TCP 5432 UDP 53"
    assert matrix.cell("b/Deployment/db", "b/Deployment/db").may.is_empty
    assert matrix.cell("b/Deployment/db", "a/Deployment/web").text() == "all"
    reasons = matrix.reasons[(matrix.rows.index("a/Deployment/web"), matrix.columns.index("b/Deployment/db"))]
    assert [(r.tier, r.policy, r.direction, r.rule, r.action) for r in reasons.tier_rules] == [
        ("Admin", "anp/db", Direction.INGRESS, "spec.ingress[0]", "Accept"),
        ("Admin", "anp/db", Direction.INGRESS, "spec.ingress[1]", "Deny"),
    ]
    assert reasons.tier_rules[0].description == "anp/db spec.ingress[0] Accept"


def test_named_port_is_not_resolved_on_the_wrong_protocol():
    """A named port matches the container port's own protocol only, whatever the entry says."""
    policy = _anp("db", 1, TEAM_Y, ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(UDP, named="pg")])])
    matrix = _checked(_cluster(policy))
    # pg is TCP 5432: the entry denies that, not UDP 5432.
    cell = matrix.cell("a/Deployment/web", "b/Deployment/db")
    assert not cell.may.contains(TCP, 5432) and cell.always.contains(UDP, 5432)


def test_pass_goes_to_networkpolicy_which_is_final():
    """Admin Pass hands the ports it matches to NetworkPolicy (final where it isolates);
    other ports are decided by Admin; ports NetworkPolicy does not isolate go on to Baseline."""
    isolate_db = NetworkPolicy("b", "only-80", LabelSelector(), {Direction.INGRESS}, ingress=[Rule(ports=[PolicyPort(TCP, 8000, 8100)])])
    admin = _anp(
        "pass",
        5,
        TEAM_Y,
        ingress=[
            ClusterRule(Action.PASS, [ClusterPeer(pods=TEAM_X)], [ClusterPort(TCP, 8000, 9000)]),
            ClusterRule(Action.ACCEPT, [ClusterPeer(pods=TEAM_X)], [ClusterPort(TCP, 7000, 7100)]),
        ],
    )
    # The Baseline tier would deny everything: it is never reached for the isolated db.
    baseline = _banp(PodSet(), ingress=[ClusterRule(Action.DENY, [ALL_PODS])])
    matrix = _checked(_cluster(admin, baseline, policies=[isolate_db]))
    assert matrix.cell("a/Deployment/web", "b/Deployment/db").text() == "TCP 7000-7100,8000-8100"
    # web is not isolated: the Baseline tier decides its ingress, and denies.
    assert matrix.cell("b/Deployment/db", "a/Deployment/web").may.is_empty


def test_pass_goes_to_baseline_and_the_default_allows():
    admin = _anp("pass-dns", 1, PodSet(), egress=[ClusterRule(Action.PASS, [ALL_PODS], [ClusterPort(UDP, 53)])])
    baseline = _banp(
        PodSet(),
        egress=[
            ClusterRule(Action.ACCEPT, [ClusterPeer(pods=TEAM_Y)], [ClusterPort(UDP, 53)]),
            ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(UDP)]),
            ClusterRule(Action.PASS, [ALL_PODS], [ClusterPort(TCP, 80)]),
        ],
    )
    matrix = _checked(_cluster(admin, baseline))
    assert matrix.cell("a/Deployment/web", "b/Deployment/db").text() == "TCP all UDP 53 SCTP all"
    assert matrix.cell("b/Deployment/db", "a/Deployment/web").text() == "TCP all SCTP all"
    reasons = matrix.reasons[(matrix.rows.index("a/Deployment/web"), matrix.columns.index("b/Deployment/db"))]
    listed = {(r.tier, r.rule, r.action) for r in reasons.tier_rules}
    assert ("Admin", "spec.egress[0]", "Pass") in listed
    assert ("Baseline", "spec.egress[0]", "Accept") in listed
    assert ("Baseline", "spec.egress[1]", "Deny") in listed
    assert ("Baseline", "spec.egress[2]", "Pass") in listed


def test_admin_accept_connects_pods_networkpolicy_isolates():
    """Under default deny (NetworkPolicy isolates every pod both ways and allows nothing),
    only the Admin tier's Accept rules connect pods: the pairs they name must be looked at
    although no NetworkPolicy rule could connect them."""
    deny_all = [
        NetworkPolicy(ns.name, "deny-all", LabelSelector(), {Direction.INGRESS, Direction.EGRESS}) for ns in NAMESPACES
    ]
    out = _anp("out", 0, TEAM_X, egress=[ClusterRule(Action.ACCEPT, [ClusterPeer(pods=TEAM_Y)], [ClusterPort(TCP, 5432)])])
    into = _anp("in", 0, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [ClusterPeer(networks=[ANY_V4, ANY_V6])], [ClusterPort(TCP, 5000, 6000)])])
    matrix = _checked(_cluster(out, into, policies=deny_all))
    assert matrix.cell("a/Deployment/web", "b/Deployment/db").text() == "TCP 5432"
    assert [(s, d) for s, d, _ in matrix.nonempty()] == [("a/Deployment/web", "b/Deployment/db")]


def test_lower_priority_number_comes_first():
    allow = _anp("z-allow", 1, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [ALL_PODS], [ClusterPort(TCP, 5432)])])
    deny = _anp("a-deny", 2, TEAM_Y, ingress=[ClusterRule(Action.DENY, [ALL_PODS])])
    matrix = _checked(_cluster(allow, deny))
    assert matrix.cell("a/Deployment/web", "b/Deployment/db").text() == "TCP 5432"


@pytest.mark.parametrize("same_priority", ["any", "name"])
def test_same_priority_tie(same_priority: str):
    """Two same-priority policies that both match with different actions: with "any" the
    ports they disagree on are unknown (in may, not in always, marked ?), and a note names
    the policies; with "name" the first by name decides."""
    deny = _anp("a-deny", 3, TEAM_Y, ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(TCP, 1, 1000)])])
    allow = _anp("b-allow", 3, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [ALL_PODS], [ClusterPort(TCP, 500, 2000)])])
    same = _anp("c-deny-too", 3, TEAM_Y, ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(TCP, 1, 10)])])
    baseline = _banp(TEAM_Y, ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(TCP)])])
    semantics = Semantics(same_priority=same_priority)
    matrix = _checked(_cluster(deny, allow, same, baseline), semantics=semantics)
    cell = matrix.cell("a/Deployment/web", "b/Deployment/db")
    if same_priority == "any":
        assert cell.text() == "TCP 500-1000?,1001-2000 UDP all SCTP all"
        assert cell.unknown == PortSet.of(TCP, 500, 1000)
        assert any("anp/a-deny, anp/b-allow (tier Admin, priority 3)" in note for note in matrix.notes), matrix.notes
        assert "ports marked ? are allowed or denied" in render_matrix(matrix)
        doc = json.loads(render_matrix_json(matrix))
        jsonschema.validate(doc, SCHEMA)
        cells = {(c["source"], c["destination"]): c for c in doc["cells"]}
        assert cells[("a/Deployment/web", "b/Deployment/db")]["unknown"] == {"TCP": [[500, 1000]]}
    else:
        assert cell.text() == "TCP 1001-2000 UDP all SCTP all" and cell.unknown.is_empty
        assert not any("?" in note for note in matrix.notes)


def test_a_tie_that_cannot_change_the_verdict_is_no_unknown():
    """Accept against Pass where what comes after the Pass allows anyway: every order allows."""
    accept = _anp("a", 0, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [ALL_PODS], [ClusterPort(TCP, 80)])])
    passing = _anp("b", 0, TEAM_Y, ingress=[ClusterRule(Action.PASS, [ALL_PODS], [ClusterPort(TCP, 80, 81)])])
    matrix = _checked(_cluster(accept, passing))
    cell = matrix.cell("a/Deployment/web", "b/Deployment/db")
    assert cell.text() == "all" and cell.unknown.is_empty


def test_networks_peers_match_pod_ips_and_hostnetwork_pods():
    """``networks`` match pods by IP (whatever ipBlockMatchesPods says), split a workload of
    unknown IPs into may-only ports, and are what matches a hostNetwork pod (pods peers
    never do)."""
    pod_a = Workload("Pod", "a", "pod-a", {"app": "a"}, replicas=1, ips=(ipaddress.ip_address("10.1.2.5"),))
    pod_b = Workload("Pod", "a", "pod-b", {"app": "b"}, replicas=1, ips=(ipaddress.ip_address("10.9.0.1"),))
    host = Workload("DaemonSet", "b", "agent", {"app": "agent"}, host_network=True)
    policy = _anp(
        "nets",
        0,
        TEAM_Y,
        ingress=[
            ClusterRule(Action.ACCEPT, [ClusterPeer(networks=[ipaddress.ip_network("10.1.0.0/16")])], [ClusterPort(TCP, 443)]),
            ClusterRule(Action.DENY, [ClusterPeer(pods=PodSet())], [ClusterPort(TCP, 443)]),
        ],
    )
    egress = _anp(
        "to-host",
        1,
        PodSet(),
        egress=[
            ClusterRule(Action.DENY, [ClusterPeer(pods=PodSet())], [ClusterPort(TCP, 22)]),
            ClusterRule(Action.DENY, [ClusterPeer(networks=[ipaddress.ip_network("192.168.0.0/16")])], [ClusterPort(TCP, 23)]),
        ],
    )
    cluster = _cluster(policy, egress, workloads=(WEB, DB, pod_a, pod_b, host))
    for semantics in (Semantics(), Semantics(ip_block_matches_pods=False)):
        matrix = _checked(cluster, Universe(host_network=True), semantics)
        assert matrix.cell("a/Pod/pod-a", "b/Deployment/db").always.contains(TCP, 443)
        assert not matrix.cell("a/Pod/pod-b", "b/Deployment/db").may.contains(TCP, 443)
        web_db = matrix.cell("a/Deployment/web", "b/Deployment/db")
        assert web_db.may.contains(TCP, 443) and not web_db.always.contains(TCP, 443) and web_db.unknown.is_empty
        # The pods peer never matches the hostNetwork agent: port 22 is open to it; port
        # 23 is denied to agents whose node IP lies in 192.168.0.0/16 only.
        to_agent = matrix.cell("a/Deployment/web", "b/DaemonSet/agent")
        assert to_agent.always.contains(TCP, 22)
        assert to_agent.may.contains(TCP, 23) and not to_agent.always.contains(TCP, 23)


def test_nodes_and_domain_names_peers_never_match_an_ordinary_pod():
    """domainNames match external hosts only, nodes hosts with a node's address: neither
    an ordinary pod, so without hostNetwork rows they change no cell."""
    policy = _anp(
        "outside",
        0,
        PodSet(),
        egress=[
            ClusterRule(Action.DENY, [ClusterPeer(nodes=LabelSelector())]),
            ClusterRule(Action.DENY, [ClusterPeer(domain_names=("example.com",))]),
        ],
    )
    matrix = _checked(_cluster(policy))
    assert all(cell.text() == "all" for _, _, cell in matrix.nonempty())


def test_nodes_peers_may_match_hostnetwork_pods():
    """A hostNetwork pod has its node's address, and whether that node matches a nodes
    selector no manifest says: the ports such a rule decides towards (or from) it are
    unknown, one fact per peer wherever it is written (the same selector in two rules
    matches in both or in neither)."""
    host = Workload("DaemonSet", "b", "agent", {"app": "agent"}, host_network=True)
    workers = ClusterPeer(nodes=LabelSelector({"role": "worker"}))
    egress = _anp(
        "to-nodes",
        0,
        TEAM_X,
        egress=[
            ClusterRule(Action.DENY, [workers], [ClusterPort(TCP, 10250)]),
            ClusterRule(Action.ACCEPT, [ClusterPeer(nodes=LabelSelector({"role": "worker"}))], [ClusterPort(TCP, 10250, 10260)]),
            ClusterRule(Action.DENY, [ClusterPeer(networks=[ANY_V4, ANY_V6])], [ClusterPort(TCP, 10250, 10260)]),
        ],
    )
    ingress = _anp("from-nodes", 0, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [workers], [ClusterPort(UDP, 53)]), ClusterRule(Action.DENY, [ALL_PODS, ClusterPeer(networks=[ANY_V4, ANY_V6])], [ClusterPort(UDP)])])
    matrix = _checked(_cluster(egress, ingress, workloads=(WEB, DB, host)), Universe(host_network=True))
    to_agent = matrix.cell("a/Deployment/web", "b/DaemonSet/agent")
    # 10250: denied whether or not the peer matches; 10251-10260: the same peer accepts
    # or (not matching) the networks rule denies; elsewhere nothing applies.
    assert to_agent.text() == "TCP 1-10249,10251-10260?,10261-65535 UDP all SCTP all"
    from_agent = matrix.cell("b/DaemonSet/agent", "b/Deployment/db")
    assert from_agent.unknown == PortSet.of(UDP, 53, 53) and not from_agent.may.contains(UDP, 54)
    assert any("whether the node of a hostNetwork pod matches nodes selector role=worker" in n for n in matrix.notes), matrix.notes
    # Between ordinary pods the nodes peers match nothing.
    assert matrix.cell("a/Deployment/web", "b/Deployment/db").unknown.is_empty


def test_rules_that_fail_closed():
    """A peer of a kind the API version read does not know: an Accept rule matches nothing,
    a Deny or Pass rule denies every port, whatever its peers and ports."""
    unknown_peer = ClusterPeer()
    accept = _anp("a-accept", 0, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [unknown_peer, ALL_PODS])])
    passing = _anp("b-pass", 1, TEAM_X, ingress=[ClusterRule(Action.PASS, [unknown_peer], [ClusterPort(TCP, 80)])])
    baseline = _banp(PodSet(), ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(UDP)])])
    matrix = _checked(_cluster(accept, passing, baseline))
    assert matrix.cell("a/Deployment/web", "b/Deployment/db").text() == "TCP all SCTP all"
    assert matrix.cell("b/Deployment/db", "a/Deployment/web").may.is_empty
    reasons = matrix.reasons[(matrix.rows.index("a/Deployment/web"), matrix.columns.index("b/Deployment/db"))]
    assert [(r.policy, r.action) for r in reasons.tier_rules] == [("banp/default", "Deny")]


def test_egress_accept_leaves_ingress_to_decide():
    egress = _anp("out", 0, TEAM_X, egress=[ClusterRule(Action.ACCEPT, [ALL_PODS])])
    ingress = _anp("in", 0, TEAM_Y, ingress=[ClusterRule(Action.DENY, [ClusterPeer(pods=TEAM_X)], [ClusterPort(TCP, 5432)])])
    matrix = _checked(_cluster(egress, ingress))
    cell = matrix.cell("a/Deployment/web", "b/Deployment/db")
    assert not cell.may.contains(TCP, 5432) and cell.always.contains(TCP, 5431)


def test_subjects_read_undeclared_namespace_labels():
    """A subject's namespace selector on an undeclared namespace: some label sets match,
    some do not, so the cell's ports are may-only (not unknown: pods' labels are a fact
    of each pod, not something implementations choose)."""
    free = Workload("Deployment", "c", "free", {"app": "free"}, replicas=2)
    policy = _anp("envs", 0, PodSet(LabelSelector({"env": "prod"})), ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(TCP, 80)])])
    matrix = _checked(_cluster(policy, workloads=(WEB, free)))
    cell = matrix.cell("a/Deployment/web", "c/Deployment/free")
    assert cell.may.contains(TCP, 80) and not cell.always.contains(TCP, 80) and cell.unknown.is_empty


def test_self_traffic_through_the_tiers():
    policy = _anp("self", 0, TEAM_X, egress=[ClusterRule(Action.DENY, [ClusterPeer(pods=TEAM_X)], [ClusterPort(TCP, 80)])])
    single = Workload("Pod", "a", "one", {"app": "one"}, replicas=1, ips=(ipaddress.ip_address("10.0.0.7"),))
    cluster = _cluster(policy, workloads=(WEB, single))
    for semantics in (Semantics(), Semantics(self_traffic_allowed=False)):
        matrix = _checked(cluster, Universe(self_traffic=True), semantics)
        own = matrix.cell("a/Pod/one", "a/Pod/one")
        assert own.may.contains(TCP, 80) == semantics.self_traffic_allowed


def test_namespace_matrix_unites_unknowns():
    deny = _anp("a-deny", 3, TEAM_Y, ingress=[ClusterRule(Action.DENY, [ALL_PODS], [ClusterPort(TCP, 1, 1000)])])
    allow = _anp("b-allow", 3, TEAM_Y, ingress=[ClusterRule(Action.ACCEPT, [ALL_PODS], [ClusterPort(TCP, 500, 2000)])])
    cluster = _cluster(deny, allow)
    by_ns = connectivity_matrix(cluster, by="namespace")
    by_workload = connectivity_matrix(cluster, prove=False)
    assert by_ns.cell("a", "b") == by_workload.cell("a/Deployment/web", "b/Deployment/db")
    assert by_ns.cell("a", "b").unknown == PortSet.of(TCP, 500, 1000)


def test_the_proof_step_on_tiered_clusters():
    """The solver's matrix proof reads the tiers: a tiered matrix is PROVED, witnesses replayed."""
    some_ips = ClusterPeer(networks=[ipaddress.ip_network("10.0.0.0/8")])
    matrix = connectivity_matrix(_cluster(_anp("x", 0, TEAM_Y, ingress=[ClusterRule(Action.DENY, [some_ips], [ClusterPort(TCP, 1, 10)])])))
    assert matrix.verdict is Verdict.PROVED, matrix.reason
    assert matrix.witnesses > 0
    untiered = connectivity_matrix(_cluster())
    assert untiered.verdict is Verdict.PROVED


def test_untiered_matrices_have_no_unknowns_and_no_tier_side():
    from npverify.matrix.algebra import _Algebra

    cluster = _cluster()
    assert _Algebra(cluster, Universe(), Semantics(), None).tiers is None
    matrix = connectivity_matrix(cluster, prove=False, cell_rules=True)
    assert all(cell.unknown.is_empty for _, _, cell in matrix.nonempty())
    assert all(not r.tier_rules for r in matrix.reasons.values())
    assert all("unknown" not in c and "tier_rules" not in c for c in json.loads(render_matrix_json(matrix))["cells"])


# --- random tiered clusters ------------------------------------------------------------------

#: (universe, semantics, worlds), as test_matrix.MATRIX_CONFIGS, with cluster-scoped policies.
TIER_CONFIGS = {
    "open": (
        Universe(),
        Semantics(),
        t.tiered_worlds(busy_worlds(s.worlds(single_pods=False, min_workloads=2, max_workloads=3, max_policies=1))),
    ),
    "by-name-self": (
        Universe(self_traffic=True),
        Semantics(same_priority="name", self_traffic_allowed=False, ip_block_matches_pods=False),
        t.tiered_worlds(busy_worlds(s.worlds(single_pods=False, min_workloads=2, max_workloads=3, max_policies=1))),
    ),
    "single-pods": (
        Universe(pods="workloads", namespaces="declared", self_traffic=True),
        Semantics(self_traffic_allowed=False),
        t.tiered_worlds(
            s.worlds(single_pods=True, declare_all=True, min_workloads=2, max_workloads=3, max_policies=1, ip_families=((4,), (4,), (4, 6), (6,)))
        ),
    ),
    "host-network-pod-cidrs": (
        Universe(host_network=True, pod_cidrs=s.POD_CIDRS),
        Semantics(),
        t.tiered_worlds(s.worlds(single_pods=False, host_network=True, pod_cidrs=s.POD_CIDRS, min_workloads=2, max_workloads=3, max_policies=1)),
    ),
}

#: Examples per configuration; raise for a deep run, e.g.
#: ``NPVERIFY_MATRIX_EXAMPLES=300 python -m pytest tests/test_matrix_tiers.py -k random``.
EXAMPLES = int(os.environ.get("NPVERIFY_MATRIX_EXAMPLES", "10"))


@pytest.mark.parametrize("config", sorted(TIER_CONFIGS))
@s.differential_settings(EXAMPLES)
@given(data=st.data())
def test_random_tiered_cells_equal_the_reference_evaluator(config: str, data: st.DataObject) -> None:
    universe, semantics, worlds = TIER_CONFIGS[config]
    world = data.draw(worlds, label="world")
    matrix = connectivity_matrix(world.cluster, universe=universe, semantics=semantics, prove=False)
    assert_tiered_matrix_matches_evaluator(world.cluster, universe, semantics, matrix)


@pytest.mark.parametrize("config", sorted(TIER_CONFIGS))
@s.differential_settings(max(EXAMPLES // 3, 3))
@given(data=st.data())
def test_random_tiered_witnesses_and_reasons_replay(config: str, data: st.DataObject) -> None:
    """By workload and by namespace: every may-only range's witnesses and every listed rule
    replay through the reference evaluator (a disagreement raises InternalError), and the
    JSON validates."""
    universe, semantics, worlds = TIER_CONFIGS[config]
    world = data.draw(worlds, label="world")
    matrices = {}
    for by in ("workload", "namespace"):
        matrix = matrices[by] = connectivity_matrix(world.cluster, by=by, universe=universe, semantics=semantics, cell_rules=True)
        assert matrix.verdict is Verdict.PROVED, matrix.reason
        jsonschema.validate(json.loads(render_matrix_json(matrix)), SCHEMA)
        for cell in matrix.cells.values():
            assert (cell.always - cell.may).is_empty
            assert (cell.unknown & cell.always).is_empty and (cell.unknown - cell.may).is_empty
    assert_namespace_cells_combine_workload_cells(matrices["workload"], matrices["namespace"])


def assert_namespace_cells_combine_workload_cells(by_workload: ConnectivityMatrix, by_namespace: ConnectivityMatrix) -> None:
    """A namespace cell unites (may, unknown) and intersects (always) the cells of the pairs
    of workloads of its two namespaces that have packets at all."""
    for ns1, ns2 in itertools.product(by_namespace.rows, repeat=2):
        pairs = [
            (w1, w2)
            for w1, w2 in itertools.product(by_workload.rows, repeat=2)
            if w1.split("/")[0] == ns1 and w2.split("/")[0] == ns2 and not by_workload.is_void(w1, w2)
        ]
        cells = [by_workload.cell(w1, w2) for w1, w2 in pairs]
        expected = Cell(PortSet(), PortSet())
        if cells:
            may, always, unknown = PortSet(), cells[0].always, PortSet()
            for cell in cells:
                may, always, unknown = may | cell.may, always & cell.always, unknown | cell.unknown
            expected = Cell(may, always, unknown)
        assert by_namespace.is_void(ns1, ns2) == (not pairs), (ns1, ns2)
        assert by_namespace.cell(ns1, ns2) == expected, (ns1, ns2, by_namespace.cell(ns1, ns2).text(), expected.text())


# --- upstream's conformance tests (tests/conformance/adminpolicy) ------------------------------

import tests.conformance.test_admin_policy_conformance as upstream  # noqa: E402

CONFORMANCE_UNIVERSE = upstream.UNIVERSE


@pytest.mark.parametrize("step", upstream.STEPS, ids=upstream.IDS)
def test_conformance_probes_read_off_the_matrix(step) -> None:
    """Every pod-to-pod probe of upstream's ANP/BANP/CNP conformance tests is read off the
    matrix: the pods are single Pods with known IPs in declared namespaces, so each cell is
    exact (nothing may-only, nothing unknown) and holds the probe's port iff upstream
    allows it."""
    cluster = upstream.cluster_of(step)
    matrix = connectivity_matrix(cluster, universe=CONFORMANCE_UNIVERSE, semantics=upstream.SEMANTICS, prove=False)
    problems = []
    for probe in step.probes:
        if probe.to_node:
            continue
        cell = matrix.cell(upstream._pod_key(probe.src), upstream._pod_key(probe.dst))
        if cell.may != cell.always or not cell.unknown.is_empty:
            problems.append(f"{probe}: cell {cell.text()} is not exact")
        elif cell.may.contains(probe.protocol, probe.port) is not probe.allowed:
            problems.append(f"{probe}: cell {cell.text()}")
    assert not problems, f"{step.id} {step.title!r} ({step.source}):\n" + "\n".join(problems)


def test_conformance_node_probes_to_host_network_pods() -> None:
    """Upstream's node probes, sent to the hostNetwork pods themselves (their IPs are their
    nodes'): upstream's verdict must be possible in the cell (in may if allowed, outside
    always if denied), and each such cell equals the brute force."""
    universe = attrs.evolve(CONFORMANCE_UNIVERSE, host_network=True)
    problems = []
    unknowns = 0
    for step in upstream.NODE_STEPS:
        cluster = upstream.cluster_of(step, ("base/hostnetwork-pods.yaml",))
        matrix = connectivity_matrix(cluster, universe=universe, semantics=upstream.SEMANTICS, prove=False)
        assert_tiered_matrix_matches_evaluator(cluster, universe, upstream.SEMANTICS, matrix)
        unknowns += sum(1 for _, _, cell in matrix.nonempty() if not cell.unknown.is_empty)
        for probe in step.probes:
            cell = matrix.cell(upstream._pod_key(probe.src), upstream._pod_key(probe.dst.removeprefix(upstream.NODE)))
            possible = cell.may.contains(probe.protocol, probe.port) if probe.allowed else not cell.always.contains(probe.protocol, probe.port)
            if not possible:
                problems.append(f"{step.id} {probe}: cell {cell.text()}")
    assert not problems, "\n".join(problems)
    assert unknowns, "the nodes peers make no cell unknown"


@pytest.mark.parametrize("step", [s for s in upstream.STEPS if s.index == 0], ids=lambda s: s.id)
def test_conformance_matrices_equal_the_reference_evaluator(step) -> None:
    """The first step of each upstream test: every cell against the brute force."""
    cluster = upstream.cluster_of(step)
    matrix = connectivity_matrix(cluster, universe=CONFORMANCE_UNIVERSE, semantics=upstream.SEMANTICS, prove=False)
    assert_tiered_matrix_matches_evaluator(cluster, CONFORMANCE_UNIVERSE, upstream.SEMANTICS, matrix)
