"""The connectivity matrix (``npverify matrix``, npverify/matrix/, npverify/smt/matrix.py).

* Cells against the reference evaluator: on random small worlds, every cell's ``may`` and
  ``always`` sets equal a brute force over representative pods (one per class of IPs that
  no ipBlock or pod CIDR tells apart, one per namespace label set the namespace selectors
  tell apart) and every protocol at every port where a decision or the cell can change.
* The upstream conformance matrices (tests/conformance) come out of the matrix exactly.
* The proof: a matrix that is wrong anywhere is caught; an undecided proof is UNKNOWN.
* The renderers (goldens in tests/report/golden/matrix.*, regenerated with
  ``python -m pytest tests/test_matrix.py --update-goldens``), the JSON Schema, and the CLI.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import itertools
import json
import os
import pickle
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import attrs
import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import tests.conformance.test_upstream_netpol as conformance
from npverify.cli import main
from npverify.errors import InputError, InternalError
from npverify.load import load_manifests, load_text
from npverify.matrix import PROTOCOLS, Cell, ConnectivityMatrix, PortSet, connectivity_matrix
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    Direction,
    IPBlock,
    Labels,
    LabelSelector,
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
from npverify.report.csv import render_matrix_csv
from npverify.report.dot import render_matrix_dot
from npverify.report.html import render_matrix_html, render_matrix_page
from npverify.report.json import render_matrix_json
from npverify.report.text import render_matrix
from npverify.results import Verdict
from npverify.semantics import decide, selector_matches
from npverify.smt import Limits
from npverify.smt.matrix import MatrixClaim, prove_claim
from tests import strategies as s

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "specs" / "examples" / "shop" / "k8s"
GOLDEN = ROOT / "tests" / "report" / "golden"
SCHEMA = json.loads((ROOT / "specs" / "matrix.schema.json").read_text())
TCP, UDP, SCTP = Protocol.TCP, Protocol.UDP, Protocol.SCTP


# --- port sets ----------------------------------------------------------------------------


def test_port_set_algebra_by_hand():
    a = PortSet.of(TCP, 80, 90) | PortSet.of(TCP, 100, 100) | PortSet.of(UDP, 53, 53)
    b = PortSet.of(TCP, 85, 100)
    assert a.tcp == ((80, 90), (100, 100)) and a.udp == ((53, 53),)
    assert (a & b).tcp == ((85, 90), (100, 100)) and (a & b).udp == ()
    assert (a - b).tcp == ((80, 84),) and (a - b).udp == ((53, 53),)
    assert (PortSet.of(TCP, 1, 10) | PortSet.of(TCP, 11, 20)).tcp == ((1, 20),)  # adjacent ranges merge
    assert str(a) == "TCP 80-90,100 UDP 53"
    assert Cell(a, PortSet.of(TCP, 80, 90)).text() == "TCP 80-90,100* UDP 53*"
    full = PortSet.of(TCP) | PortSet.of(UDP) | PortSet.of(SCTP)
    assert full.is_all and Cell(full, full).text() == "all" and Cell(full, PortSet()).text() == "all*"
    assert Cell(PortSet.of(TCP), PortSet.of(TCP, 1, 79)).text() == "TCP 1-79,80-65535*"


# --- cells against the reference evaluator -------------------------------------------------

ANY_V4, ANY_V6 = ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")


def _cluster_rules(cluster: Cluster):
    return [r for cp in cluster.cluster_policies for r in cp.ingress + cp.egress]


def _networks(cluster: Cluster, universe: Universe) -> list:
    blocks = [peer.ip_block for p in cluster.policies for r in p.ingress + p.egress for peer in r.peers if peer.ip_block]
    nets = [n for b in blocks for n in (b.cidr, *b.except_)]
    nets += [n for r in _cluster_rules(cluster) for peer in r.peers for n in peer.networks]
    return nets + list(universe.pod_cidrs)


def _ip_classes(networks: list) -> list[list]:
    """Per class of addresses that no network tells apart, up to two of its addresses (two
    distinct pods may share a class, never an address)."""
    classes: dict[tuple, list] = {}
    for ip in s.boundary_addresses(networks + [ANY_V4, ANY_V6]):
        members = classes.setdefault((ip.version,) + tuple(ip in n for n in networks), [])
        if len(members) < 2:
            members.append(ip)
    return list(classes.values())


def _namespace_selectors(cluster: Cluster) -> list[LabelSelector]:
    out = [peer.namespace_selector for p in cluster.policies for r in p.ingress + p.egress for peer in r.peers if peer.namespace_selector]
    for cp in cluster.cluster_policies:
        out.append(cp.subject.namespace_selector)
        out += [peer.pods.namespace_selector for r in cp.ingress + cp.egress for peer in r.peers if peer.pods]
    return out


def _namespace_label_sets(cluster: Cluster, name: str) -> list[Labels]:
    """A declared namespace's labels; for an undeclared one, one label set per way the
    namespace selectors (of NetworkPolicy peers, subjects and pods peers) can see it."""
    declared = cluster.namespace(name)
    if declared is not None:
        return [declared.labels]
    selectors = _namespace_selectors(cluster)
    values: dict[str, set] = {}
    for sel in selectors:
        for req in sel.requirements():
            if req.key != NAMESPACE_NAME_LABEL:
                values.setdefault(req.key, {None, "unnamed-value"}).update(req.values)
    keys = sorted(values)
    seen: dict[tuple, Labels] = {}
    for combo in itertools.product(*[sorted(values[k], key=str) for k in keys]):
        labels = Labels.of({k: v for k, v in zip(keys, combo) if v is not None}, **{NAMESPACE_NAME_LABEL: name})
        seen.setdefault(tuple(selector_matches(sel, labels) for sel in selectors), labels)
    return list(seen.values())


def _representatives(cluster: Cluster, universe: Universe, w: Workload, classes: list[list]):
    policy_pod = not w.host_network
    places = [[ip] for ip in w.ips] if w.ips else classes
    if universe.pod_cidrs:
        places = [[ip for ip in p if any(ip in c for c in universe.pod_cidrs) == policy_pod] for p in places]
    places = [p for p in places if p]
    return [(labels, p) for labels in _namespace_label_sets(cluster, w.namespace) for p in places]


def _pod(w: Workload, ns_labels: Labels, ip, pod_id: str) -> PodEndpoint:
    return PodEndpoint(w.namespace, ns_labels, w.labels, ip, w.ports, w.host_network, w.key, pod_id)


def _endpoint_pairs(cluster: Cluster, universe: Universe, src: Workload, dst: Workload, classes):
    """Every kind of packet ends from a pod of ``src`` to a pod of ``dst``."""
    shared_labels = src.namespace == dst.namespace
    distinct_ips = not (src.host_network and dst.host_network)
    same = src.key == dst.key
    if not same or not src.single_pod:
        for (l1, p1), (l2, p2) in itertools.product(
            _representatives(cluster, universe, src, classes), _representatives(cluster, universe, dst, classes)
        ):
            if p1[0].version != p2[0].version or (shared_labels and l1 != l2):
                continue
            ips = next(((a, b) for a in p1 for b in p2 if a != b or not distinct_ips), None)
            if ips is not None:
                yield _pod(src, l1, ips[0], f"{src.key}#a"), _pod(dst, l2, ips[1], f"{dst.key}#b")
    if same and universe.self_traffic:
        for labels, places in _representatives(cluster, universe, src, classes):
            pod = _pod(src, labels, places[0], src.key)
            yield pod, pod


def _check_ports(cluster: Cluster, cell: Cell) -> list[int]:
    """Ports where a decision or the cell can change: the NetworkPolicies' and the
    cluster-scoped rules' port boundaries, container ports, and the cell's interval ends."""
    ports = set(s.boundary_ports(cluster))
    for rule in _cluster_rules(cluster):
        for entry in rule.ports:
            if entry.start is not None:
                for value in (entry.start, entry.end if entry.end is not None else entry.start):
                    ports.update((value - 1, value, value + 1))
    for part in (cell.may, cell.always, cell.unknown):
        for protocol in PROTOCOLS:
            for lo, hi in part.intervals(protocol):
                ports.update((lo - 1, lo, hi, hi + 1))
    return sorted(p for p in ports if 1 <= p <= 65535)



def assert_matrix_matches_evaluator(cluster: Cluster, universe: Universe, semantics: Semantics, matrix: ConnectivityMatrix) -> int:
    """Every cell of ``matrix`` (by workload) equals the brute force; returns packets decided."""
    classes = _ip_classes(_networks(cluster, universe))
    by_key = {w.key: w for w in cluster.workloads}
    decided = 0
    for i, j in itertools.product(range(len(matrix.rows)), repeat=2):
        src, dst = by_key[matrix.rows[i]], by_key[matrix.columns[j]]
        cell = matrix.cells.get((i, j), Cell(PortSet(), PortSet()))
        pairs = list(_endpoint_pairs(cluster, universe, src, dst, classes))
        assert ((i, j) in matrix.void) == (not pairs), (src.key, dst.key, "void", (i, j) in matrix.void)
        ports = _check_ports(cluster, cell)
        for protocol, port in itertools.product(PROTOCOLS, ports):
            verdicts = [decide(cluster, Packet(a, b, protocol, port), semantics).allowed for a, b in pairs]
            decided += len(verdicts)
            may, always = any(verdicts), bool(verdicts) and all(verdicts)
            where = f"{src.key} -> {dst.key} {protocol} {port}: cell {cell.text()!r}"
            assert cell.may.contains(protocol, port) == may, f"may: evaluator {may}; {where}"
            assert cell.always.contains(protocol, port) == always, f"always: evaluator {always}; {where}"
    return decided


@st.composite
def busy_worlds(draw, worlds: st.SearchStrategy[s.World]) -> s.World:
    """A world with 1-3 more policies, each selecting one of its workloads (and sometimes
    its namespace-mates), with rules that name other workloads by their labels or by
    ipBlock, so that cells are isolated, partly allowed and often allowed for some pods only."""
    world = draw(worlds)
    cluster = world.cluster
    managed = [w for w in cluster.workloads if not w.host_network]
    if not managed:
        return world
    extra = []
    for k in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(managed))
        others = draw(st.lists(st.sampled_from(cluster.workloads), min_size=1, max_size=2))
        rules = []
        for _ in range(draw(st.integers(0, 2))):
            peers = []
            for other in others:
                kind = draw(st.sampled_from(("pods", "namespace", "both", "block", "random")))
                pods = draw(s.selectors_matching(other.labels))
                namespaces = draw(s.selectors_matching(world.namespace_labels(other.namespace), s.NAMESPACE_KEYS))
                if kind == "pods" and other.namespace == target.namespace:
                    peers.append(Peer(pod_selector=pods))
                elif kind in ("namespace", "pods"):
                    peers.append(Peer(namespace_selector=namespaces))
                elif kind == "both":
                    peers.append(Peer(pod_selector=pods, namespace_selector=namespaces))
                elif kind == "block":
                    peers.append(Peer(ip_block=draw(s.ip_blocks())))
                else:
                    peers.append(draw(s.peers()))
            rules.append(Rule(peers, draw(st.lists(s.policy_ports(), max_size=2))))
        types = draw(st.sampled_from(s.DIRECTION_SETS))
        direction = draw(st.sampled_from(sorted(types, key=str)))
        extra.append(
            NetworkPolicy(
                target.namespace,
                f"extra{k}",
                draw(st.one_of(st.just(LabelSelector()), s.selectors_matching(target.labels))),
                types,
                ingress=rules if direction is Direction.INGRESS else [],
                egress=rules if direction is Direction.EGRESS else [],
            )
        )
    return attrs.evolve(world, cluster=attrs.evolve(cluster, policies=cluster.policies + tuple(extra)))


#: (universe, semantics, worlds): universes of pods with unknown IPs and undeclared
#: namespaces, of single Pods with known IPs, with hostNetwork pods and pod CIDRs.
MATRIX_CONFIGS = {
    "open": (
        Universe(),
        Semantics(),
        busy_worlds(s.worlds(single_pods=False, min_workloads=2, max_workloads=3, max_policies=2)),
    ),
    "open-no-ipblock-pods-self": (
        Universe(self_traffic=True),
        Semantics(ip_block_matches_pods=False, self_traffic_allowed=False),
        busy_worlds(s.worlds(single_pods=False, min_workloads=2, max_workloads=3, max_policies=2)),
    ),
    "single-pods-self": (
        Universe(pods="workloads", namespaces="declared", self_traffic=True),
        Semantics(self_traffic_allowed=False),
        busy_worlds(
            s.worlds(single_pods=True, declare_all=True, min_workloads=2, max_workloads=4, max_policies=2, ip_families=((4,), (4,), (4, 6), (6,)))
        ),
    ),
    "host-network-pod-cidrs": (
        Universe(host_network=True, pod_cidrs=s.POD_CIDRS),
        Semantics(),
        busy_worlds(s.worlds(single_pods=False, host_network=True, pod_cidrs=s.POD_CIDRS, min_workloads=2, max_workloads=3, max_policies=2)),
    ),
}


#: Examples per configuration; raise for a deep run, e.g.
#: ``NPVERIFY_MATRIX_EXAMPLES=500 python -m pytest tests/test_matrix.py -k reference``.
EXAMPLES = int(os.environ.get("NPVERIFY_MATRIX_EXAMPLES", "15"))


@pytest.mark.parametrize("config", sorted(MATRIX_CONFIGS))
@s.differential_settings(EXAMPLES)
@given(data=st.data())
def test_cells_equal_the_reference_evaluator(config: str, data: st.DataObject) -> None:
    universe, semantics, worlds = MATRIX_CONFIGS[config]
    world = data.draw(worlds, label="world")
    cluster = world.cluster
    matrix = connectivity_matrix(cluster, universe=universe, semantics=semantics, prove=False)
    assert_matrix_matches_evaluator(cluster, universe, semantics, matrix)


@pytest.mark.parametrize("config", sorted(MATRIX_CONFIGS))
@s.differential_settings(4)
@given(data=st.data())
def test_random_matrices_are_proved(config: str, data: st.DataObject) -> None:
    """The solver proves what the algebra computes, by workload and by namespace, and the
    witnesses of every may-only range replay through the reference evaluator."""
    universe, semantics, worlds = MATRIX_CONFIGS[config]
    world = data.draw(worlds, label="world")
    for by in ("workload", "namespace"):
        matrix = connectivity_matrix(world.cluster, by=by, universe=universe, semantics=semantics)
        assert matrix.verdict is Verdict.PROVED, matrix.reason


def test_ip_atoms_and_namespace_labels_by_hand():
    """A case worked out by hand: ipBlock peers on pod IPs and an undeclared namespace.

    db (in declared 'data') admits TCP 5432 from 10.0.0.0/8 except 10.1.0.0/16, and TCP
    6000 from namespaces labelled env=prod. web lives in namespace 'web', which is not
    declared, so its labels are arbitrary; its IP is unknown. Some web pods are in the
    block and some not, some web namespaces are prod and some not: both ports are
    allowed for some web pods only. A Pod with a known IP 10.2.0.1 is always in the block.
    """
    db_policy = NetworkPolicy(
        "data",
        "db",
        LabelSelector({"app": "db"}),
        ingress=[
            Rule([Peer(ip_block=IPBlock(ipaddress.ip_network("10.0.0.0/8"), (ipaddress.ip_network("10.1.0.0/16"),)))], [PolicyPort(TCP, 5432)]),
            Rule([Peer(namespace_selector=LabelSelector({"env": "prod"}))], [PolicyPort(TCP, 6000)]),
        ],
    )
    cluster = Cluster(
        policies=[db_policy],
        namespaces=[Namespace("data", {"env": "prod"})],
        workloads=[
            Workload("Deployment", "data", "db", {"app": "db"}),
            Workload("Deployment", "web", "web", {"app": "web"}),
            Workload("Pod", "data", "job", {"app": "job"}, replicas=1, ips=(ipaddress.ip_address("10.2.0.1"),)),
        ],
    )
    matrix = connectivity_matrix(cluster)
    assert matrix.verdict is Verdict.PROVED, matrix.reason
    web_to_db = matrix.cell("web/Deployment/web", "data/Deployment/db")
    assert web_to_db.may == PortSet.of(TCP, 5432, 5432) | PortSet.of(TCP, 6000, 6000)
    assert web_to_db.always.is_empty
    job_to_db = matrix.cell("data/Pod/job", "data/Deployment/db")
    assert job_to_db.may == job_to_db.always == PortSet.of(TCP, 5432, 5432) | PortSet.of(TCP, 6000, 6000)
    assert matrix.cell("data/Deployment/db", "web/Deployment/web").may.is_all  # nothing isolates web
    assert matrix.is_void("data/Pod/job", "data/Pod/job")  # a single Pod to itself, no self traffic
    # Two db pods: 6000 always (data is prod), 5432 only for db pods inside the block.
    db_to_db = matrix.cell("data/Deployment/db", "data/Deployment/db")
    assert db_to_db.text() == "TCP 5432*,6000"
    assert matrix.witnesses == 3  # 5432 and 6000 of web -> db, 5432 of db -> db
    assert_matrix_matches_evaluator(cluster, Universe(), Semantics(), matrix)


def test_two_pods_cannot_share_a_single_address():
    """An ipBlock /32 names one address; two distinct pods cannot both be on it, so a port
    that needs both ends there is not in the cell (the self cell may still have it)."""
    host = ipaddress.ip_network("10.9.9.9/32")
    only_there = [Peer(ip_block=IPBlock(host))]
    cluster = Cluster(
        policies=[
            NetworkPolicy("ns", "p", LabelSelector(), frozenset({Direction.INGRESS, Direction.EGRESS}),
                          ingress=[Rule(only_there, [PolicyPort(TCP, 80)])], egress=[Rule(only_there, [PolicyPort(TCP, 80)])]),
        ],
        namespaces=[Namespace("ns")],
        workloads=[Workload("Deployment", "ns", "a"), Workload("Deployment", "ns", "b")],
    )
    universe, semantics = Universe(self_traffic=True), Semantics(self_traffic_allowed=False)
    matrix = connectivity_matrix(cluster, universe=universe, semantics=semantics)
    assert matrix.verdict is Verdict.PROVED
    assert not matrix.cell("ns/Deployment/a", "ns/Deployment/b").may.contains(TCP, 80)
    # A pod of a on 10.9.9.9 talking to itself passes both ends.
    assert matrix.cell("ns/Deployment/a", "ns/Deployment/a").may == PortSet.of(TCP, 80, 80)
    assert_matrix_matches_evaluator(cluster, universe, semantics, matrix)


def test_witnesses_keep_a_pods_status_ip():
    """Regression: a witness between a Pod with a known IP and a pod whose IP range starts
    at that address moves the other pod, never the Pod, off the address."""
    cluster = Cluster(
        policies=[
            NetworkPolicy("ns1", "p", LabelSelector(match_expressions=[Requirement("app", Operator.EXISTS)]))
        ],
        workloads=[
            Workload("Pod", "ns1", "w0", {"app": "a"}, replicas=1, ips=(ipaddress.ip_address("0.0.0.0"),)),
            Workload("Deployment", "ns1", "w1"),
        ],
    )
    for by in ("workload", "namespace"):
        assert connectivity_matrix(cluster, by=by).verdict is Verdict.PROVED


# --- the upstream conformance matrices -------------------------------------------------------


@pytest.mark.parametrize("case", conformance.CASES, ids=[c.id for c in conformance.CASES])
def test_conformance_matrices(case) -> None:
    """Each upstream reachability matrix, for its protocol and port, is the matrix's
    (every cell exact: the pods have known IPs and the namespaces are declared)."""
    cluster = case.cluster()
    matrix = connectivity_matrix(cluster, universe=conformance.UNIVERSE, semantics=conformance.SEMANTICS, prove=False)
    expected = case.expected.final()
    got = {}
    for src, dst in expected:
        cell = matrix.cell(f"{src[0]}/Pod/{src[1]}", f"{dst[0]}/Pod/{dst[1]}")
        got[(src, dst)] = cell.may.contains(case.protocol, case.port)
        assert cell.always.contains(case.protocol, case.port) == got[(src, dst)], (case.id, src, dst, cell.text())
    assert got == expected, conformance.describe_mismatches(case, expected, got)


@pytest.mark.parametrize("case_id", ["ingress-named-port-81", "egress-cidr-except", "endport-egress-111"])
def test_conformance_matrices_are_proved(case_id: str) -> None:
    case = next(c for c in conformance.CASES if c.id == case_id)
    matrix = connectivity_matrix(case.cluster(), universe=conformance.UNIVERSE, semantics=conformance.SEMANTICS)
    assert matrix.verdict is Verdict.PROVED, matrix.reason


# --- the proof catches a wrong matrix ---------------------------------------------------------


def _shop():
    return load_manifests([str(SHOP)])


def _claim(matrix: ConnectivityMatrix, cluster: Cluster, cells: dict) -> MatrixClaim:
    index = {w.key: k for k, w in enumerate(cluster.workloads)}

    def part(ports: PortSet):
        return tuple(ports.intervals(p) for p in PROTOCOLS)

    return MatrixClaim(
        rows=tuple((index[key],) for key in matrix.rows),
        cells={key: (part(cell.may), part(cell.always)) for key, cell in cells.items()},
    )


def test_prove_claim_accepts_the_matrix_and_finds_what_a_wrong_one_misses():
    cluster = _shop()
    matrix = connectivity_matrix(cluster, prove=False)
    diagonal = {(i, i) for i in range(len(matrix.rows))}
    cells = {k: v for k, v in matrix.cells.items() if k not in diagonal or not v.may.is_all}
    cells.update({k: v for k, v in matrix.cells.items() if k in diagonal})
    assert prove_claim(cluster, Universe(), Semantics(), _claim(matrix, cluster, cells)).proved

    api, postgres = matrix.rows.index("shop/Deployment/api"), matrix.rows.index("shop/StatefulSet/postgres")
    missing = {k: v for k, v in cells.items() if k != (api, postgres)}
    proof = prove_claim(cluster, Universe(), Semantics(), _claim(matrix, cluster, missing))
    assert not proof.proved and proof.allowed is True
    assert (proof.packet.src.workload, proof.packet.dst.workload) == ("shop/Deployment/api", "shop/StatefulSet/postgres")
    assert (proof.packet.protocol, proof.packet.port) == (TCP, 5432)
    assert decide(cluster, proof.packet).allowed

    frontend = matrix.rows.index("shop/Deployment/frontend")
    boasting = dict(cells)
    boasting[(frontend, api)] = Cell(PortSet.of(TCP, 8080, 8081), PortSet.of(TCP, 8080, 8081))
    proof = prove_claim(cluster, Universe(), Semantics(), _claim(matrix, cluster, boasting))
    assert not proof.proved and proof.allowed is False and proof.packet.port == 8081
    assert not decide(cluster, proof.packet).allowed


def test_workers_prove_and_refute_as_one_process_does():
    """Batches of one row each, in two worker processes: the same proof, and for a wrong
    claim a contradicting packet in the same batch, for the same pair and port (the
    solver may pick other IPs or labels in another process)."""
    cluster = _shop()
    matrix = connectivity_matrix(cluster, prove=False)
    cells = dict(matrix.cells)
    right = attrs.evolve(_claim(matrix, cluster, cells), cells_per_query=1)
    one, two = (prove_claim(cluster, Universe(), Semantics(), right, jobs=jobs) for jobs in (1, 2))
    assert one.proved and two.proved and one.queries == two.queries == len(matrix.rows)

    api, postgres = matrix.rows.index("shop/Deployment/api"), matrix.rows.index("shop/StatefulSet/postgres")
    wrong = attrs.evolve(right, cells={k: v for k, v in right.cells.items() if k != (api, postgres)})
    one, two = (prove_claim(cluster, Universe(), Semantics(), wrong, jobs=jobs) for jobs in (1, 2))
    assert not one.proved and not two.proved
    for proof in (one, two):
        packet = proof.packet
        assert (packet.src.workload, packet.dst.workload) == ("shop/Deployment/api", "shop/StatefulSet/postgres")
        assert (packet.protocol, packet.port, proof.allowed) == (TCP, 5432, True)
        assert decide(cluster, packet).allowed
    assert one.queries == two.queries


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A synthetic cluster from the benchmark generator: 6 namespaces, 5 pods and 5
    policies each, with cells whose ports differ between pods (may-only ports)."""
    out = tmp_path_factory.mktemp("generated")
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
    done = subprocess.run(
        [sys.executable, str(script), "--namespaces", "6", "--pods-per-namespace", "5", "--policies-per-namespace", "5",
         "--seed", "3", "--out", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return load_manifests([str(out / "k8s")])


@pytest.mark.parametrize("by", ["workload", "namespace"])
def test_witnesses_in_workers_as_in_one_process(generated, monkeypatch, by):
    """Witnesses checked in two worker processes, chunk by chunk, count what one process
    counts; so does a pickled copy of the builder (what a spawned worker gets), whose
    identity-keyed caches are dropped."""
    from npverify.matrix import builders
    from npverify.matrix.algebra import _Algebra

    def built():
        algebra = _Algebra(generated, Universe(), Semantics(), None)
        builder = builders._WorkloadMatrix(algebra) if by == "workload" else builders._NamespaceMatrix(algebra)
        builder.build()
        return builder

    builder = built()
    units = builder.witness_units()
    assert len(units) > 4
    one = builder.confirm_witnesses(jobs=1)
    assert one >= len(units)  # every unit has a may-only range
    monkeypatch.setattr(builders, "WITNESS_UNITS_PER_WORKER", 1)
    assert built().confirm_witnesses(jobs=2) == one

    copy = pickle.loads(pickle.dumps(built()))
    copy.algebra.forget_identities()
    assert sum(copy.confirm(unit) for unit in copy.witness_units()) == one


def test_a_wrong_algebra_is_an_internal_error(monkeypatch):
    """If the set algebra dropped a port, the witnesses or the solver would say so."""
    from npverify.matrix.algebra import _Algebra

    original = _Algebra.pair

    def drop_5432(self, src, dst):
        cell = original(self, src, dst)
        if cell is None:
            return None
        gone = PortSet.of(TCP, 5432, 5432)
        return Cell(self.intern(cell.may - gone), self.intern(cell.always - gone))

    monkeypatch.setattr(_Algebra, "pair", drop_5432)
    with pytest.raises(InternalError, match="5432"):
        connectivity_matrix(_shop())


def test_an_undecided_proof_is_unknown():
    matrix = connectivity_matrix(_shop(), limits=Limits(rlimit=1))
    assert matrix.verdict is Verdict.UNKNOWN
    assert "resource limit" in matrix.reason or "undecided" in matrix.reason


def test_bad_arguments_are_input_errors():
    with pytest.raises(InputError, match="no loaded workload"):
        connectivity_matrix(_shop(), namespaces=["nope"])
    with pytest.raises(InputError, match="by must be"):
        connectivity_matrix(_shop(), by="pod")


# --- the shop example, by workload and by namespace --------------------------------------------


@pytest.fixture(scope="module")
def shop_matrices() -> dict[str, ConnectivityMatrix]:
    """The shop's matrices with fixed times, so renderings are stable."""
    # Loaded by its path from the repository's root, so the goldens' locations do not depend
    # on where the checkout is.
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        cluster = load_manifests([str(SHOP.relative_to(ROOT))])
    finally:
        os.chdir(here)
    return {
        by: attrs.evolve(connectivity_matrix(cluster, by=by, cell_rules=True), seconds=0.25, proof_seconds=0.125)
        for by in ("workload", "namespace")
    }


def test_shop_matrix_by_workload(shop_matrices):
    m = shop_matrices["workload"]
    assert m.verdict is Verdict.PROVED
    assert {(a, b): c.text() for a, b, c in m.nonempty()} == {
        ("monitoring/Deployment/prometheus", "monitoring/Deployment/prometheus"): "all",
        ("monitoring/Deployment/prometheus", "shop/Deployment/api"): "TCP 9090",
        # frontend admits http from outside 10.0.0.0/8 only: prometheus pods there cannot.
        ("monitoring/Deployment/prometheus", "shop/Deployment/frontend"): "TCP 8080*",
        ("shop/Deployment/api", "payments/Deployment/gateway"): "TCP 8443",
        ("shop/Deployment/api", "shop/StatefulSet/postgres"): "TCP 5432",
        ("shop/Deployment/frontend", "shop/Deployment/api"): "TCP 8080",
    }


def test_shop_matrix_by_namespace(shop_matrices):
    m = shop_matrices["namespace"]
    assert m.verdict is Verdict.PROVED
    assert {(a, b): c.text() for a, b, c in m.nonempty()} == {
        ("monitoring", "monitoring"): "all",
        ("monitoring", "shop"): "TCP 8080*,9090*",
        ("shop", "payments"): "TCP 8443*",
        ("shop", "shop"): "TCP 5432*,8080*",
    }


def _golden(request, name: str, actual: str) -> None:
    path = GOLDEN / name
    if request.config.getoption("--update-goldens"):
        path.write_bytes(actual.encode())  # bytes: CSV lines end in CRLF (RFC 4180)
        return
    assert path.exists(), f"missing golden file {path}; run pytest tests/test_matrix.py --update-goldens"
    assert actual == path.read_bytes().decode(), f"output differs from {path}; if intended, run pytest --update-goldens"


RENDERERS = {
    "txt": render_matrix,
    "csv": render_matrix_csv,
    "dot": render_matrix_dot,
    "json": render_matrix_json,
    "html": render_matrix_page,
}


@pytest.mark.parametrize("by", ["workload", "namespace"])
@pytest.mark.parametrize("ext", sorted(RENDERERS))
def test_renderings_match_goldens(request, shop_matrices, by: str, ext: str):
    _golden(request, f"matrix.{by}.{ext}", RENDERERS[ext](shop_matrices[by]))


def test_json_validates_against_schema(shop_matrices):
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for m in shop_matrices.values():
        doc = json.loads(render_matrix_json(m))
        jsonschema.validate(doc, SCHEMA)
        assert doc["verdict"] == "proved"
    unproved = json.loads(render_matrix_json(attrs.evolve(shop_matrices["workload"], verdict=None)))
    jsonschema.validate(unproved, SCHEMA)
    assert unproved["verdict"] == "not_proved"
    cell = next(c for c in unproved["cells"] if c["destination"] == "shop/Deployment/frontend")
    assert cell["may"] == {"TCP": [[8080, 8080]]} and cell["always"] == {}
    unproved["cells"][0]["may"]["TCP"] = [[0, 80]]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(unproved, SCHEMA)


def test_csv_reads_back_as_the_cells(shop_matrices):
    for m in shop_matrices.values():
        rows = list(csv.DictReader(io.StringIO(render_matrix_csv(m), newline="")))
        expected = []
        for src, dst, cell in m.nonempty():
            for protocol in PROTOCOLS:
                if cell.may.intervals(protocol):
                    expected.append((src, dst, protocol.value))
        assert [(r["source"], r["destination"], r["protocol"]) for r in rows] == expected
    rows = list(csv.DictReader(io.StringIO(render_matrix_csv(shop_matrices["workload"]), newline="")))
    frontend = next(r for r in rows if r["destination"] == "shop/Deployment/frontend")
    assert (frontend["ports"], frontend["always"]) == ("8080", "")


def test_csv_quotes_awkward_names():
    cell = Cell(PortSet.of(TCP, 80, 80), PortSet.of(TCP, 80, 80))
    m = ConnectivityMatrix("namespace", ('a,"b"', "c"), ('a,"b"', "c"), {(0, 1): cell})
    rows = list(csv.reader(io.StringIO(render_matrix_csv(m), newline="")))
    assert rows[1] == ['a,"b"', "c", "TCP", "80", "80"]


def _dot_structure(text: str) -> tuple[set[str], list[tuple[str, str]]]:
    """Declared node ids and edges of a DOT text (the subset render_matrix_dot writes)."""
    assert text.count("{") == text.count("}")
    depth = 0
    for ch in re.sub(r'"(?:[^"\\]|\\.)*"', '""', text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    quoted = r'"((?:[^"\\]|\\.)*)"'
    edges = re.findall(rf"^\s*{quoted} -> {quoted} \[", text, re.M)
    nodes = set(re.findall(rf"^\s*{quoted}(?: \[label=|;$)", text, re.M))
    return nodes, edges


def test_dot_declares_every_edge_end(shop_matrices):
    for m in shop_matrices.values():
        nodes, edges = _dot_structure(render_matrix_dot(m))
        assert nodes == set(m.rows)
        assert len(edges) == len(m.cells) and {a for e in edges for a in e} <= nodes


def test_dot_quotes_awkward_names():
    cell = Cell(PortSet.of(TCP, 80, 80), PortSet.of(TCP, 80, 80))
    name = 'we"ird\\ns'
    m = ConnectivityMatrix("namespace", (name, "x"), (name, "x"), {(0, 1): cell})
    nodes, edges = _dot_structure(render_matrix_dot(m))
    assert nodes == {'we\\"ird\\\\ns', "x"} and edges == [('we\\"ird\\\\ns', "x")]


class _Page(HTMLParser):
    """Checks nesting and collects resource URLs."""

    VOID = {"meta", "br", "img", "link", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.scripts += tag == "script"
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href", "action")]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href")]

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


@pytest.mark.parametrize("by", ["workload", "namespace"])
def test_html_page_is_well_formed_and_self_contained(shop_matrices, by):
    page = render_matrix_page(shop_matrices[by])
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert not [u for u in parser.urls if re.match(r"\s*(https?:)?//", u)]
    assert parser.scripts == 0 and "@import" not in page
    assert "table" in parser.tags and "svg" in parser.tags and "position:sticky" in page


def test_html_for_notebooks_lists_large_matrices():
    cell = Cell(PortSet.of(TCP, 80, 80), PortSet())
    rows = tuple(f"ns{k:03d}" for k in range(200))
    m = ConnectivityMatrix("namespace", rows, rows, {(0, 1): cell, (5, 7): cell})
    html = m._repr_html_()
    parser = _Page()
    parser.feed(html)
    assert html.count("<tr>") == 3  # a header and the two non-empty cells
    assert "TCP 80*" in html
    assert "graph left out" in render_matrix_page(attrs.evolve(m, cells={(i, j): cell for i in range(70) for j in range(70)}))


def test_html_escapes_names():
    cell = Cell(PortSet.of(TCP, 80, 80), PortSet.of(TCP, 80, 80))
    m = ConnectivityMatrix("namespace", ("<script>x", "b"), ("<script>x", "b"), {(0, 1): cell})
    assert "<script>" not in render_matrix_page(m) and "<script>" not in render_matrix_html(m)


def test_text_falls_back_to_a_list_when_wide():
    cell = Cell(PortSet.of(TCP, 80, 80), PortSet.of(TCP, 80, 80))
    rows = tuple(f"namespace-{k:03d}" for k in range(60))
    text = render_matrix(ConnectivityMatrix("namespace", rows, rows, {(0, 1): cell}))
    assert "namespace-000 -> namespace-001: TCP 80" in text


# --- the command ------------------------------------------------------------------------------


def test_cli_matrix_proved_exits_0(tmp_path):
    out = tmp_path / "m.html"
    result = CliRunner().invoke(main, ["matrix", str(SHOP), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    result = CliRunner().invoke(main, ["matrix", str(SHOP), "--by", "namespace", "--namespace", "shop"])
    assert result.exit_code == 0, result.output
    assert "1 namespace," in result.output and "PROVED" in result.output


def test_cli_no_proof_says_so():
    result = CliRunner().invoke(main, ["matrix", str(SHOP), "--no-proof", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["verdict"] == "not_proved"
    result = CliRunner().invoke(main, ["matrix", str(SHOP), "--no-proof"])
    assert "NOT PROVED" in result.output


def test_cli_exit_codes_for_bad_input_and_unknown():
    result = CliRunner().invoke(main, ["matrix", str(SHOP), "--namespace", "nope"])
    assert result.exit_code == 2 and "no loaded workload" in result.output
    result = CliRunner().invoke(main, ["matrix", "/nonexistent/dir"])
    assert result.exit_code == 2
    result = CliRunner().invoke(main, ["matrix", str(SHOP), "--rlimit", "1"])
    assert result.exit_code == 3 and "UNKNOWN" in result.output


def test_cli_help_documents_exit_codes():
    result = CliRunner().invoke(main, ["matrix", "--help"])
    assert result.exit_code == 0
    assert all(f"  {code}  " in result.output for code in (0, 2, 3))


# --- no rows: an empty matrix, not a crash ------------------------------------------------------

POLICY_ONLY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
NAMESPACE_ONLY = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
HOST_NETWORK_ONLY = """\
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: x}]
"""
NO_ROWS = {
    "policies-only": ({"p.yaml": POLICY_ONLY}, "the manifests hold no workloads (Pods, Deployments, ...), only 1 NetworkPolicy"),
    "empty-folder": ({}, "the manifests hold no workloads (Pods, Deployments, ...); there are no pods"),
    "namespace-only": ({"ns.yaml": NAMESPACE_ONLY}, "the manifests hold no workloads (Pods, Deployments, ...), only 1 Namespace"),
    "host-network-only": ({"ds.yaml": HOST_NETWORK_ONLY, "p.yaml": POLICY_ONLY}, "every loaded workload is hostNetwork, outside the universe"),
}


@pytest.mark.parametrize("by", ["workload", "namespace"])
@pytest.mark.parametrize("proof", [True, False], ids=["proof", "no-proof"])
@pytest.mark.parametrize("case", sorted(NO_ROWS))
def test_no_rows_is_an_empty_matrix_in_every_format(tmp_path, case: str, proof: bool, by: str):
    files, why = NO_ROWS[case]
    folder = tmp_path / case
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    base = ["matrix", str(folder), "--by", by] + ([] if proof else ["--no-proof"])
    outputs = {}
    for fmt in ("text", "csv", "dot", "html", "json"):
        result = CliRunner().invoke(main, [*base, "--format", fmt])
        assert result.exit_code == 0, (fmt, result.output)
        outputs[fmt] = result
    doc = json.loads(outputs["json"].stdout)
    jsonschema.validate(doc, SCHEMA)
    assert (doc["rows"], doc["columns"], doc["cells"], doc["void"]) == ([], [], [], [])
    assert doc["verdict"] == ("proved" if proof else "not_proved") and doc["reason"] == ""
    assert any(note.startswith("no rows: ") and why in note for note in doc["notes"]), doc["notes"]
    text = outputs["text"].stdout
    assert why in text and "no rows: no workload in the universe" in text
    assert "no packet between any two pods is allowed" not in text
    assert ("PROVED   trivially" in text) if proof else ("NOT PROVED" in text)
    assert outputs["csv"].stdout.splitlines() == ["source,destination,protocol,ports,always"]
    assert why in outputs["csv"].stderr
    nodes, edges = _dot_structure(outputs["dot"].stdout)
    assert (nodes, edges) == (set(), []) and why in outputs["dot"].stdout
    page = outputs["html"].stdout
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.stack == [] and why in page


def test_no_rows_in_the_library_proves_without_the_solver(monkeypatch):
    import npverify.smt.matrix as smt_matrix

    def never(*args, **kwargs):
        raise AssertionError("the solver was asked about a matrix without rows")

    monkeypatch.setattr(smt_matrix, "prove_claim", never)
    cluster = load_manifests([])
    m = connectivity_matrix(cluster)
    assert (m.rows, m.verdict) == ((), Verdict.PROVED)
    assert "nothing to prove" in " ".join(m.notes)


# --- the universe: matrix honours every switch, and an invariants file -------------------------


def test_cli_matrix_takes_the_invariants_files_universe_and_manifests(tmp_path):
    """The shop's invariants file puts pods in 10.244.0.0/16: prometheus's pods are then
    inside the 10.0.0.0/8 that frontend's rule excepts, so that cell is empty; --pod-cidr
    overrides it, and without the file the cell is may-only."""
    invariants = ROOT / "specs" / "examples" / "shop" / "invariants.yaml"

    def cell(*args: str) -> str:
        result = CliRunner().invoke(main, ["matrix", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        found = [c["text"] for c in doc["cells"] if (c["source"], c["destination"]) == ("monitoring/Deployment/prometheus", "shop/Deployment/frontend")]
        return found[0] if found else "-"

    assert cell(str(SHOP)) == "TCP 8080*"
    assert cell("--invariants", str(invariants)) == "-"
    assert cell("--invariants", str(invariants), str(SHOP)) == "-"
    assert cell("--invariants", str(invariants), "--pod-cidr", "192.168.0.0/16") == "TCP 8080"
    result = CliRunner().invoke(main, ["matrix"])
    assert result.exit_code == 2 and "no manifests" in result.output


def test_universe_switches_that_do_not_touch_pod_pairs_leave_the_matrix_alone():
    """--namespaces, --pods and --node-traffic choose which endpoints besides pods of loaded
    workloads a question ranges over; a matrix is about those pods only."""
    base = CliRunner().invoke(main, ["matrix", str(SHOP), "--format", "csv"])
    for switch in (["--namespaces", "declared"], ["--pods", "workloads"], ["--node-traffic"]):
        result = CliRunner().invoke(main, ["matrix", str(SHOP), "--format", "csv", *switch])
        assert result.exit_code == 0 and result.stdout == base.stdout, switch
    selfish = CliRunner().invoke(main, ["matrix", str(SHOP), "--format", "json", "--self-traffic"])
    assert selfish.exit_code == 0
    diagonal = {c["source"] for c in json.loads(selfish.stdout)["cells"] if c["source"] == c["destination"]}
    assert "shop/StatefulSet/postgres" in diagonal  # a pod may always send to itself


HOST_AGENT = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: c, image: x, ports: [{containerPort: 80}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: x}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: 10.244.0.0/16}}]
    ports: [{port: 80}]
"""

HOST_AGENT_INVARIANTS = """\
manifests: [k8s/]
universe:
  hostNetwork: true
  podCIDRs: [10.244.0.0/16]
semantics:
  # The agent on the api's own node always reaches it (own-node traffic), which the matrix
  # leaves out of its cells: compare the three on traffic between nodes.
  ownNodeTrafficAllowed: false
invariants:
  - name: the node agent cannot reach the api
    isolated:
      from: {namespace: shop, workload: agent}
      to:   {namespace: shop, workload: api}
"""


def test_explain_matrix_and_prove_agree_on_a_host_network_packet(tmp_path):
    """A hostNetwork pod has its node's IP, outside the pod CIDRs; explain used to give it
    an IP from --pod-cidr (10.244.0.1), inside the api's ipBlock, and said ALLOWED where
    matrix and prove, with the same universe, say no packet gets through."""
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "all.yaml").write_text(HOST_AGENT)
    invariants = tmp_path / "invariants.yaml"
    invariants.write_text(HOST_AGENT_INVARIANTS)
    universe = ["--host-network", "--pod-cidr", "10.244.0.0/16"]
    manifests = str(tmp_path / "k8s")
    packet = ["--from", "shop/agent", "--to", "shop/api", "--port", "80"]

    proved = CliRunner().invoke(main, ["prove", str(invariants), "--format", "json"])
    assert proved.exit_code == 0, proved.output
    for args in ([manifests, *universe], ["--invariants", str(invariants)]):
        result = CliRunner().invoke(main, ["matrix", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert "shop/DaemonSet/agent" in doc["rows"]
        assert not [c for c in doc["cells"] if (c["source"], c["destination"]) == ("shop/DaemonSet/agent", "shop/Deployment/api")]
    for args in (["--manifests", manifests, *universe], ["--invariants", str(invariants)]):
        result = CliRunner().invoke(main, ["explain", *args, *packet, "--format", "json"])
        assert result.exit_code == 1, result.output  # denied, as matrix and prove say
        doc = json.loads(result.stdout)
        assert doc["universe"]["inside"] is True and doc["universe"]["host_network"] is True
        source_ip = ipaddress.ip_address(doc["packet"]["source"]["ip"])
        assert source_ip not in ipaddress.ip_network("10.244.0.0/16")
    # With own-node traffic allowed (the default), the agent on the api's node gets in.
    invariants.write_text(HOST_AGENT_INVARIANTS.replace("ownNodeTrafficAllowed: false", "ownNodeTrafficAllowed: true"))
    refuted = CliRunner().invoke(main, ["prove", str(invariants), "--format", "json"])
    assert refuted.exit_code == 1, refuted.output
    source = json.loads(refuted.stdout)["results"][0]["counterexample"]["source"]
    assert source["host_network"] is True and source["own_node"] is True
    # Without --host-network the packet is not one matrix or prove look at: explain says so.
    result = CliRunner().invoke(main, ["explain", "--manifests", manifests, "--pod-cidr", "10.244.0.0/16", *packet])
    assert "outside the universe" in result.stdout and "--host-network takes such packets in" in result.stdout


# --- the rules of a cell --------------------------------------------------------------------------


def test_shop_cells_name_their_rules(shop_matrices):
    m = shop_matrices["workload"]
    assert m.reasons is not None

    def rules(src: str, dst: str) -> list[tuple[str, str, int]]:
        key = (m.rows.index(src), m.columns.index(dst))
        return [(r.policy, r.rule, r.port) for r in m.reasons[key].rules]

    assert rules("monitoring/Deployment/prometheus", "shop/Deployment/api") == [("shop/api", "ingress[1]", 9090)]
    assert rules("shop/Deployment/api", "shop/StatefulSet/postgres") == [("shop/api", "egress[0]", 5432), ("shop/postgres", "ingress[0]", 5432)]
    key = (m.rows.index("shop/Deployment/api"), m.columns.index("shop/StatefulSet/postgres"))
    assert [(p.policy, str(p.direction)) for p in m.reasons[key].isolated_by] == [
        ("shop/allow-dns", "Egress"), ("shop/api", "Egress"), ("shop/default-deny", "Egress"),
        ("shop/default-deny", "Ingress"), ("shop/postgres", "Ingress"),
    ]
    doc = json.loads(render_matrix_json(m))
    cell = next(c for c in doc["cells"] if c["destination"] == "shop/StatefulSet/postgres")
    assert cell["rules"][1] == {
        "policy": "shop/postgres",
        "direction": "Ingress",
        "rule": "ingress[0]",
        "location": cell["rules"][1]["location"],
        "example": {"protocol": "TCP", "port": 5432},
    }
    assert cell["rules"][1]["location"]["file"].endswith("shop-policies.yaml")
    # Without reasons asked for, cells keep exactly their old fields.
    plain = json.loads(render_matrix_json(attrs.evolve(m, reasons=None)))
    assert all(set(c) == {"source", "destination", "may", "always", "text"} for c in plain["cells"])


def assert_reasons_match_evaluator(cluster: Cluster, universe: Universe, semantics: Semantics, matrix: ConnectivityMatrix) -> None:
    """Every cell's rules are exactly those the reference evaluator lists for some allowed
    packet of the cell (its isolating policies: those it lists for some packet)."""
    classes = _ip_classes(_networks(cluster, universe))
    by_key = {w.key: w for w in cluster.workloads}
    assert matrix.reasons is not None and set(matrix.reasons) == set(matrix.cells)
    for (i, j), cell in matrix.cells.items():
        src, dst = by_key[matrix.rows[i]], by_key[matrix.columns[j]]
        rules, isolating = set(), set()
        for a, b in _endpoint_pairs(cluster, universe, src, dst, classes):
            for protocol, port in itertools.product(PROTOCOLS, _check_ports(cluster, cell)):
                decision = decide(cluster, Packet(a, b, protocol, port), semantics)
                isolating |= {(p.key, side.direction) for side in (decision.egress, decision.ingress) for p in side.isolating}
                if decision.allowed and not decision.override:
                    rules |= {(m.policy.key, m.direction, m.rule_index) for side in (decision.egress, decision.ingress) for m in side.matches}
        reasons = matrix.reasons[(i, j)]
        where = f"{src.key} -> {dst.key}"
        assert {(r.policy, r.direction, r.rule_index) for r in reasons.rules} == rules, where
        assert {(p.policy, p.direction) for p in reasons.isolated_by} == isolating, where
        for r in reasons.rules:
            assert cell.may.contains(r.protocol, r.port), where


@pytest.mark.parametrize("config", sorted(MATRIX_CONFIGS))
@s.differential_settings(EXAMPLES)
@given(data=st.data())
def test_cell_rules_are_the_reference_evaluators(config: str, data: st.DataObject) -> None:
    universe, semantics, worlds = MATRIX_CONFIGS[config]
    world = data.draw(worlds, label="world")
    matrix = connectivity_matrix(world.cluster, universe=universe, semantics=semantics, prove=False, cell_rules=True)
    assert_reasons_match_evaluator(world.cluster, universe, semantics, matrix)
    by_namespace = connectivity_matrix(world.cluster, by="namespace", universe=universe, semantics=semantics, prove=False, cell_rules=True)
    assert by_namespace.reasons is not None and set(by_namespace.reasons) == set(by_namespace.cells)
    for (i, j), reasons in by_namespace.reasons.items():
        # A namespace cell's rules are those of its workload cells.
        expected = {
            (r.policy, r.direction, r.rule_index)
            for (k, l), workload_reasons in matrix.reasons.items()
            if matrix.rows[k].split("/")[0] == by_namespace.rows[i] and matrix.columns[l].split("/")[0] == by_namespace.columns[j]
            for r in workload_reasons.rules
        }
        assert {(r.policy, r.direction, r.rule_index) for r in reasons.rules} == expected


def test_the_solver_proves_a_claim_with_no_rows_without_dividing_by_zero():
    # Query sizing divided by the number of cells; a claim with none is proved at once.
    for policies in (Cluster(), _shop()):
        outcome = prove_claim(policies, Universe(), Semantics(), MatrixClaim(rows=(), cells={}))
        assert outcome.proved and outcome.packet is None


def test_hostnetwork_rows_say_their_own_node_traffic_is_not_in_the_cells():
    cluster = load_text(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: ops}\nspec:\n"
        "  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n"
        "    spec: {hostNetwork: true, containers: [{name: c, image: i}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    shown = connectivity_matrix(cluster, universe=Universe(host_network=True), prove=False)
    assert any("own node" in note and "not in the cells" in note for note in shown.notes), shown.notes
    strict = connectivity_matrix(cluster, universe=Universe(host_network=True), semantics=Semantics(own_node_traffic_allowed=False), prove=False)
    assert not any("own node" in note for note in strict.notes)


def test_witnesses_put_two_hostnetwork_pods_on_distinct_addresses():
    """Two pods of a hostNetwork Deployment on one address would be one node's own traffic,
    which the cells leave out: a witness between them must use two addresses of the atom
    (this namespace matrix's may-only ports need one allowed packet between them)."""
    agent = Workload("Deployment", "ns", "agent", {}, host_network=True, replicas=None)
    web = Workload("Deployment", "ns", "web", {"app": "web"}, replicas=None)
    only_80 = NetworkPolicy("ns", "web", LabelSelector({"app": "web"}), {Direction.INGRESS}, ingress=[Rule(ports=[PolicyPort(TCP, 80)])])
    cluster = Cluster(policies=[only_80], workloads=[agent, web])
    universe = Universe(host_network=True, pod_cidrs=s.POD_CIDRS)
    matrix = connectivity_matrix(cluster, by="namespace", universe=universe)
    assert matrix.verdict is Verdict.PROVED and matrix.witnesses > 0
    assert matrix.cell("ns", "ns").text() == "TCP 1-79*,80,81-65535* UDP all* SCTP all*"
