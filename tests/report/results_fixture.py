"""Fixed results shared by the renderer golden tests: a proof report (no solver involved),
and a comparison and a redundancy report from small real runs."""

from __future__ import annotations

import contextlib
import functools
import ipaddress
from pathlib import Path

import attrs

from npverify.compare import containment as containment_of
from npverify.compare import equivalence
from npverify.load import load_manifests
from npverify.redundancy import find_redundancy
from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Direction,
    ExternalEndpoint,
    IPBlock,
    LabelSelector,
    Namespace,
    NetworkPolicy,
    Packet,
    Peer,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Rule,
    SourceLocation,
    Universe,
)
from npverify.results import InvariantResult, ProofReport, Verdict
from npverify.semantics import decide


def _loc(line: int, column: int = 1) -> SourceLocation:
    return SourceLocation("k8s/policies.yaml", line, column)


def fixed_report() -> ProofReport:
    api_policy = NetworkPolicy(
        "shop",
        "api",
        LabelSelector({"app": "api"}),
        {Direction.INGRESS},
        ingress=(
            Rule(
                (Peer(namespace_selector=LabelSelector({"team": "shop"}), location=_loc(12, 11)),),
                (PolicyPort(Protocol.TCP, "http", location=_loc(14, 11)),),
                location=_loc(10, 7),
            ),
        ),
        location=_loc(1),
    )
    cluster = Cluster(
        policies=(api_policy,),
        namespaces=(
            Namespace("shop", {"team": "shop", NAMESPACE_NAME_LABEL: "shop"}),
            Namespace("staging", {"team": "shop", NAMESPACE_NAME_LABEL: "staging"}),
        ),
    )
    src = PodEndpoint("staging", {"team": "shop", NAMESPACE_NAME_LABEL: "staging"}, {}, ipaddress.ip_address("10.244.0.1"), pod_id="a")
    dst = PodEndpoint(
        "shop",
        {"team": "shop", NAMESPACE_NAME_LABEL: "shop"},
        {"app": "api"},
        ipaddress.ip_address("10.244.0.2"),
        (ContainerPort(8080, Protocol.TCP, "http"),),
        workload="shop/Deployment/api",
        pod_id="b",
    )
    refuting = Packet(src, dst, Protocol.TCP, 8080)
    external = Packet(ExternalEndpoint(ipaddress.ip_address("203.0.113.7")), dst, Protocol.TCP, 8080)
    where = SourceLocation("invariants.yaml", 5, 5)
    only_shop = Invariant(
        "only shop reaches the api",
        InvariantKind.ONLY,
        Scope(namespace="shop"),
        Scope(namespace="shop", workload="api"),
        location=where,
    )
    internet = Invariant(
        "the internet reaches the api",
        InvariantKind.REACHABLE,
        Scope(ip_block=IPBlock(ipaddress.ip_network("0.0.0.0/0")), kind=EndpointKind.EXTERNAL),
        Scope(namespace="shop", workload="api"),
        location=SourceLocation("invariants.yaml", 10, 5),
    )
    isolated = Invariant("dev is isolated", InvariantKind.ISOLATED, location=SourceLocation("invariants.yaml", 15, 5))
    slow = Invariant("a slow one", InvariantKind.ALLOWED, location=SourceLocation("invariants.yaml", 20, 5))
    results = (
        InvariantResult(only_shop, Verdict.REFUTED, refuting, decide(cluster, refuting), seconds=0.012),
        InvariantResult(internet, Verdict.REFUTED, external, decide(cluster, external), reason="every packet from 'from' to 'to' on the given ports is denied", seconds=0.004),
        InvariantResult(isolated, Verdict.PROVED, seconds=0.001),
        InvariantResult(slow, Verdict.UNKNOWN, reason="timeout", seconds=1.5),
    )
    report = ProofReport(
        results,
        source="invariants.yaml",
        cluster_summary="1 NetworkPolicy, 2 Namespaces, 0 workloads",
        skipped=("Service api (k8s/service.yaml:1:1)",),
        warnings=("k8s/policies.yaml:3:9: warning: spec.ingress[0].from[0].ipBlock.cidr: CIDR '10.0.0.1/8' has host bits set; it is read as 10.0.0.0/8",),
        seconds=1.517,
    )
    return report, external, cluster


# --- comparisons and redundancy: small real runs over tests/report/data/ -------------------

HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def fixed_comparison(containment: bool = False):
    """``equiv data/old.yaml data/new.yaml`` (or ``contains``), one region each way.

    Loaded from this folder with relative paths, so locations read ``data/old.yaml:14:7``
    wherever the tests run; the time is fixed so golden files stay put.
    """
    with contextlib.chdir(HERE):
        context = load_manifests(["data/context.yaml"])
        old, new = load_manifests(["data/old.yaml"]), load_manifests(["data/new.yaml"])
        check = containment_of if containment else equivalence
        comparison = check(old, new, context, universe=Universe(pods="workloads"), names=("data/old.yaml", "data/new.yaml"))
    return attrs.evolve(comparison, seconds=0.25)


@functools.lru_cache(maxsize=None)
def fixed_redundancy():
    """``redundant data/context.yaml data/redundancy.yaml``: a rule pasted twice (each
    covers the other) and an egress rule under policyTypes [Ingress] (vacuous)."""
    with contextlib.chdir(HERE):
        cluster = load_manifests(["data/context.yaml", "data/redundancy.yaml"])
        report = find_redundancy(cluster, Universe(pods="workloads"))
    return attrs.evolve(report, seconds=0.125)
