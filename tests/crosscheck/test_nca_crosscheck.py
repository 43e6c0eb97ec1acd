"""Cross-check: npverify and IBM's network-config-analyzer (NCA) compute the same connectivity.

NCA is an independent implementation of NetworkPolicy semantics. For each of many random
clusters (crosscheck_generate.py: Namespaces, Pods with named container ports, and
NetworkPolicies using every field), both tools compute the full connectivity map:

* for every ordered pair of distinct Pods, the allowed destination ports per protocol
  (TCP, UDP, SCTP), compared exactly as sets of port ranges;
* for every Pod, the same towards every IP address range, IPv4 and IPv6 (egress), and from
  it (ingress).

NCA's side is its ``--connectivity`` query (crosscheck_nca.py). npverify's side is the
reference evaluator ``decide()`` evaluated at every port and address where a decision can
change (crosscheck_npverify.py), and the SMT engine (``Verifier`` in the universe of the
loaded Pods and declared namespaces) then proves, for each pair of Pods, that exactly those
ports are allowed and all others denied.

Where NCA deviates from the Kubernetes API the construct is not generated; docs/crosscheck.md
lists each deviation with the API text that settles it. Every other disagreement fails with
the cluster's seed, its manifests and a per-pair diff. A pod's traffic to itself is not
compared: NCA never reports it (docs/crosscheck.md, "A pod to itself").

Environment: ``NPVERIFY_NCA`` names NCA's python or ``nca`` script (else ``python -m nca``
here); ``NPVERIFY_CROSSCHECK_CLUSTERS`` sets how many clusters (default 200),
``NPVERIFY_CROSSCHECK_FIRST_SEED`` the first seed (default 0).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor

import attrs
import pytest
import yaml

from tests.environment import require
from crosscheck_generate import generate
from crosscheck_nca import (
    NCA_VERSION,
    PROTOCOLS,
    Connectivity,
    NcaRun,
    PortSets,
    complement,
    contains,
    format_ranges,
    intersect,
    ip,
    nca_command,
    nca_version,
    parse_connectivity,
    run_nca_batch,
    union,
)
from crosscheck_npverify import (
    MAX_IP,
    SEMANTICS,
    allowed_ports,
    external,
    ip_boundaries,
    pod_endpoints,
    port_boundaries,
    segments,
)

NCA = nca_command()
require(NCA is not None, "network-config-analyzer", "network-config-analyzer not installed: pip install '.[crosscheck]'")

from npverify.engine import Verifier  # noqa: E402
from npverify.invariants.model import Invariant, InvariantKind, Scope  # noqa: E402
from npverify.load import load_manifests  # noqa: E402
from npverify.model import Cluster, Namespace, PolicyPort, Protocol, Universe  # noqa: E402
from npverify.results import Verdict  # noqa: E402

CLUSTERS = int(os.environ.get("NPVERIFY_CROSSCHECK_CLUSTERS", "200"))
FIRST_SEED = int(os.environ.get("NPVERIFY_CROSSCHECK_FIRST_SEED", "0"))
SEEDS = range(FIRST_SEED, FIRST_SEED + CLUSTERS)
UNIVERSE = Universe(pods="workloads", namespaces="declared")


#: Clusters per NCA process: small enough that the first tests start soon, large enough
#: that NCA's slow start-up is paid rarely.
BATCH = 8


@attrs.frozen
class Case:
    seed: int
    path: str
    text: str
    batch: Future
    index: int

    def nca(self) -> NcaRun:
        return self.batch.result()[self.index]


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    """Every cluster written out, with NCA already running on them in the background."""
    version = nca_version(NCA)
    if version != NCA_VERSION:
        pytest.fail(f"{' '.join(NCA)} is NCA {version}; this cross-check reads the output of NCA {NCA_VERSION}")
    root = tmp_path_factory.mktemp("crosscheck")
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    result = {}
    seeds = list(SEEDS)
    for first in range(0, len(seeds), BATCH):
        jobs, batch_cases = [], []
        for index, seed in enumerate(seeds[first : first + BATCH]):
            text = yaml.safe_dump_all(generate(seed), sort_keys=False)
            path = root / f"cluster-{seed}.yaml"
            path.write_text(text)
            jobs.append((str(path), str(root / f"nca-{seed}.txt")))
            batch_cases.append((seed, str(path), text, index))
        future = pool.submit(run_nca_batch, NCA, jobs, str(root))
        for seed, path, text, index in batch_cases:
            result[seed] = Case(seed, path, text, future, index)
    yield result
    pool.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("seed", SEEDS)
def test_same_connectivity_as_nca(seed: int, cases: dict[int, Case]) -> None:
    case = cases[seed]
    cluster = load_manifests([case.path])
    run = case.nca()
    assert run.error is None, failure(case, [f"NCA failed on the cluster: {run.error}"])
    nca = parse_connectivity(run.output)

    comparison = Comparison(cluster)
    problems = comparison.compare_pods(nca) + comparison.compare_ips(nca)
    assert not problems, failure(case, problems)

    problems = comparison.check_engine()
    assert not problems, failure(case, ["the SMT engine disagrees with the reference evaluator:", *problems])


def failure(case: Case, problems: list[str]) -> str:
    return "\n".join(
        [
            f"cluster seed {case.seed} (NPVERIFY_CROSSCHECK_FIRST_SEED={case.seed} NPVERIFY_CROSSCHECK_CLUSTERS=1):",
            *("  " + p for p in problems),
            "manifests:",
            case.text,
        ]
    )


class Comparison:
    """npverify's connectivity map of one cluster, compared with NCA's piece by piece."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.pods = pod_endpoints(cluster)
        self.port_bounds = port_boundaries(cluster)
        self.ip_bounds = ip_boundaries(cluster)
        #: (src, dst) -> ports npverify allows, filled by compare_pods.
        self.pair_ports: dict[tuple[str, str], PortSets] = {}

    def bounds_with(self, theirs: PortSets) -> dict[str, set[int]]:
        """The port boundaries plus those of NCA's answer, so both are exact on one partition."""
        bounds = {p: set(b) for p, b in self.port_bounds.items()}
        for proto, ranges in theirs.items():
            for a, b in ranges:
                bounds[proto] |= {a, b + 1}
        return bounds

    def compare_pods(self, nca: Connectivity) -> list[str]:
        problems = []
        nca_pairs = {(str(s), str(d)): ports for (s, d), ports in nca.pods.items()}
        unknown = sorted({p for pair in nca_pairs for p in pair} - set(self.pods))
        if unknown:
            problems.append(f"NCA reports pods npverify did not load: {unknown}")
        for src, src_ep in self.pods.items():
            for dst, dst_ep in self.pods.items():
                if src == dst:
                    continue  # a pod to itself: docs/crosscheck.md, "A pod to itself"
                theirs = nca_pairs.get((src, dst), {})
                ours = allowed_ports(self.cluster, src_ep, dst_ep, self.bounds_with(theirs))
                self.pair_ports[(src, dst)] = ours
                problems += diff(f"{src} -> {dst}", ours, theirs)
        return problems

    def compare_ips(self, nca: Connectivity) -> list[str]:
        problems = []
        to_ips = {str(pod): entries for pod, entries in nca.to_ips.items()}
        from_ips = {str(pod): entries for pod, entries in nca.from_ips.items()}
        for name, pod in self.pods.items():
            for direction, entries in (("egress", to_ips.get(name, [])), ("ingress", from_ips.get(name, []))):
                for version in (4, 6):
                    family = [(r.ranges, ports) for r, ports in entries if r.version == version]
                    problems += self.compare_addresses(name, pod, direction, version, family)
        return problems

    def compare_addresses(self, name, pod, direction, version, entries) -> list[str]:
        """One pod's traffic to (egress) or from (ingress) every address of one IP version."""
        bounds = set(self.ip_bounds[version])
        for ranges, _ in entries:
            for a, b in ranges:
                bounds |= {a, b + 1}
        problems = []
        previous: tuple | None = None
        for start, end in segments(bounds, 0, MAX_IP[version]):
            theirs: PortSets = {}
            for ranges, ports in entries:
                if contains(ranges, start):
                    theirs = union(theirs, ports)
            address = external(version, start)
            src, dst = (pod, address) if direction == "egress" else (address, pod)
            ours = allowed_ports(self.cluster, src, dst, self.bounds_with(theirs))
            # Adjacent address ranges with the same answers are reported once.
            if previous and previous[2:] == (ours, theirs):
                previous = (previous[0], end, ours, theirs)
                continue
            if previous:
                problems += self.ip_diff(name, direction, version, *previous)
            previous = (start, end, ours, theirs)
        if previous:
            problems += self.ip_diff(name, direction, version, *previous)
        return problems

    @staticmethod
    def ip_diff(pod: str, direction: str, version: int, start: int, end: int, ours: PortSets, theirs: PortSets) -> list[str]:
        addresses = f"{ip(version, start)}-{ip(version, end)}"
        what = f"{pod} -> {addresses}" if direction == "egress" else f"{addresses} -> {pod}"
        return diff(what, ours, theirs)

    def check_engine(self) -> list[str]:
        """The Verifier proves each pair's allowed ports allowed and all other ports isolated."""
        # A namespace holding Pods but without a Namespace object has arbitrary labels in
        # npverify's universe (nobody knows them), while decide() above and NCA give it just
        # its name label. Declare it with that label so that all three ask the same question.
        declared = {ns.name for ns in self.cluster.namespaces}
        missing = sorted({w.namespace for w in self.cluster.workloads} - declared)
        cluster = attrs.evolve(self.cluster, namespaces=self.cluster.namespaces + tuple(Namespace(ns) for ns in missing))
        verifier = Verifier(cluster, universe=UNIVERSE, semantics=SEMANTICS)
        problems = []
        for (src, dst), ours in self.pair_ports.items():
            allowed = [(p, r) for p in PROTOCOLS for r in ours.get(p, ())]
            denied = [(p, r) for p in PROTOCOLS for r in complement(ours.get(p, ()))]
            for kind, entries in ((InvariantKind.ALLOWED, allowed), (InvariantKind.ISOLATED, denied)):
                if not entries:
                    continue
                invariant = Invariant(
                    name=f"{src}->{dst}",
                    kind=kind,
                    src=scope(src),
                    dst=scope(dst),
                    ports=tuple(PolicyPort(Protocol(p), a, b if b != a else None) for p, (a, b) in entries),
                )
                result = verifier.check(invariant)
                if result.verdict is not Verdict.PROVED:
                    problems.append(
                        f"{src} -> {dst}: {kind} on {format_entries(entries)} is {result.verdict}"
                        f" (packet {result.packet}, reason {result.reason!r})"
                    )
        return problems


def scope(pod: str) -> Scope:
    namespace, name = pod.split("/")
    return Scope(namespace=namespace, workload=f"Pod/{name}")


def format_entries(entries) -> str:
    return "; ".join(f"{p} {format_ranges((r,))}" for p, r in entries)


def diff(what: str, ours: PortSets, theirs: PortSets) -> list[str]:
    """One line per protocol on which the two answers differ."""
    lines = []
    for proto in PROTOCOLS:
        a, b = ours.get(proto, ()), theirs.get(proto, ())
        if a == b:
            continue
        lines.append(
            f"{what} {proto}: npverify allows {format_ranges(a)}; NCA allows {format_ranges(b)}"
            f" (only npverify: {format_ranges(intersect(a, complement(b)))};"
            f" only NCA: {format_ranges(intersect(b, complement(a)))})"
        )
    return lines
