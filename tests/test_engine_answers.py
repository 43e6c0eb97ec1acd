"""What a verdict says beyond its word: the policies that deny a refuted reachable, and
answers that hold only vacuously (a scope that names nothing loaded, a destination that
nothing reaches)."""

from __future__ import annotations

import ipaddress
import json

from npverify.api import check
from npverify.invariants.model import Invariant, InvariantKind, Scope
from npverify.load import load_text
from npverify.model import IPBlock, PodEndpoint, PolicyPort, Protocol, Universe
from npverify.report import github, junit, sarif, text
from npverify.report import json as json_report
from npverify.results import ProofReport, Verdict

DENY_PAYMENTS = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: payments}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""


def test_refuted_reachable_names_the_policy_that_denies_an_example_packet() -> None:
    cluster = load_text(DENY_PAYMENTS, "k8s/payments.yaml")
    invariant = Invariant(
        "shop reaches payments",
        InvariantKind.REACHABLE,
        Scope(namespace="shop"),
        Scope(namespace="payments"),
        (PolicyPort(Protocol.TCP, 8443),),
    )
    result = check(cluster, invariant)
    assert result.verdict is Verdict.REFUTED
    example = result.denied_example
    assert example is not None and result.counterexample is None and result.witness is None
    assert isinstance(example.src, PodEndpoint) and example.src.namespace == "shop"
    assert isinstance(example.dst, PodEndpoint) and example.dst.namespace == "payments"
    assert (example.protocol, example.port) == (Protocol.TCP, 8443)
    assert result.decision is not None and not result.decision.allowed
    assert [p.key for p in result.decision.ingress.isolating] == ["payments/default-deny-ingress"]
    denial = "destination ingress: denied; isolated by payments/default-deny-ingress (k8s/payments.yaml:1:1) and no rule matches"
    rendered = text.render_result(result)
    assert "example packet of the scope (denied, as every one is): TCP port 8443" in rendered
    assert denial in rendered
    report = ProofReport((result,))
    doc = json.loads(json_report.render_report(report))
    [entry] = doc["results"]
    assert entry["counterexample"] is None and entry["example"]["port"] == 8443
    assert denial in entry["explanation"]["text"]
    [sarif_result] = json.loads(sarif.render_report(report))["runs"][0]["results"]
    assert denial in sarif_result["message"]["text"]
    assert "Every packet of the scope is denied, e.g. TCP port 8443" in junit.render_report(report)
    assert "payments/default-deny-ingress" in github.render_report(report)


def test_refuted_reachable_with_an_empty_scope_says_so() -> None:
    """A scope with no packet at all (pods whose IPs lie outside every pod CIDR) has no
    example to show; the note says why nothing is allowed."""
    cluster = load_text(DENY_PAYMENTS, "k8s/payments.yaml")
    empty = Invariant(
        "nothing",
        InvariantKind.REACHABLE,
        Scope(namespace="shop", ip_block=IPBlock(ipaddress.ip_network("203.0.113.0/24"))),
        Scope(namespace="payments"),
    )
    result = check(cluster, empty, Universe(pod_cidrs=(ipaddress.ip_network("10.0.0.0/8"),)))
    assert result.verdict is Verdict.REFUTED
    assert result.packet is None
    assert result.reason == "no packet in scope is allowed: the scope holds no packet at all"
