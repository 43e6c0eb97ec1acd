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


# --- vacuous answers ----------------------------------------------------------------------------

PROD = """\
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {team: shop}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: prod}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {}}], ports: [{port: 80}]}]
"""

INVARIANTS = """\
manifests: [k8s]
invariants:
  - name: typo in to
    isolated:
      from: {namespace: prod}
      to: {namespace: prodd}
  - name: typos in selectors
    isolated:
      from: {namespace: {matchLabels: {team: shp}}, pod: {matchLabels: {ap: web}}}
      to: {namespace: prod}
  - name: only prod reaches db
    only:
      from: {namespace: prod}
      to: {namespace: prod, pod: {matchLabels: {app: db}}}
  - name: only prod reaches web
    only:
      from: {namespace: prod}
      to: {namespace: prod, pod: {matchLabels: {app: web}}}
  - name: nothing reaches db
    isolated:
      to: {namespace: prod, pod: {matchLabels: {app: db}}}
      ports: [{port: 5432}]
  - name: web from elsewhere
    isolated:
      from: {namespace: {matchLabels: {team: shop}}}
      to: {namespace: prod, pod: {matchLabels: {app: web}}}
      ports: [{port: 81}]
"""


def _prove(tmp_path):
    from npverify.api import prove

    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "prod.yaml").write_text(PROD)
    (tmp_path / "inv.yaml").write_text(INVARIANTS)
    return prove(str(tmp_path / "inv.yaml"))


def test_scope_names_that_appear_nowhere_are_warned_with_did_you_mean(tmp_path) -> None:
    report = _prove(tmp_path)
    inv = tmp_path / "inv.yaml"
    assert report.warnings == (
        f"{inv}:6:11: warning: isolated.to.namespace: namespace 'prodd' appears nowhere in the manifests; did you mean 'prod'?",
        f"{inv}:9:13: warning: isolated.from.namespace: namespace label team=shp appears nowhere in the manifests; did you mean 'shop'?",
        f"{inv}:9:13: warning: isolated.from.pod: pod label key 'ap' appears nowhere in the manifests; did you mean 'app'?",
        f"{inv}:14:11: warning: only.to.pod: pod label app=db appears nowhere in the manifests",
        f"{inv}:21:11: warning: isolated.to.pod: pod label app=db appears nowhere in the manifests",
    )
    for render in (text.render_report, json_report.render_report, sarif.render_report, junit.render_report, github.render_report):
        assert "did you mean 'prod'?" in render(report), render


def test_isolated_and_only_that_hold_because_nothing_reaches_the_destination_say_so(tmp_path) -> None:
    report = _prove(tmp_path)
    notes = {r.invariant.name: (r.verdict, r.note) for r in report.results}
    assert notes == {
        "typo in to": (Verdict.REFUTED, ""),
        "typos in selectors": (Verdict.PROVED, ""),
        "only prod reaches db": (Verdict.PROVED, "holds vacuously: nothing reaches namespace prod, pods {app=db}"),
        "only prod reaches web": (Verdict.PROVED, ""),
        "nothing reaches db": (Verdict.PROVED, "holds vacuously: nothing reaches namespace prod, pods {app=db} on the given ports"),
        # nothing reaches web on 81 either, from anywhere: the proof is vacuous too
        "web from elsewhere": (Verdict.PROVED, "holds vacuously: nothing reaches namespace prod, pods {app=web} on the given ports"),
    }
    note = "holds vacuously: nothing reaches namespace prod, pods {app=db}"
    assert f"         note: {note}\n" in text.render_report(report)
    [db] = [r for r in json.loads(json_report.render_report(report))["results"] if r["name"] == "only prod reaches db"]
    assert db["note"] == note
    notifications = json.loads(sarif.render_report(report))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert {"level": "note", "message": {"text": f"only prod reaches db: {note}"}} in [
        {"level": n["level"], "message": {"text": n["message"]["text"].replace("{{", "{").replace("}}", "}")}} for n in notifications
    ]
    assert f"<system-out>note: {note}</system-out>" in junit.render_report(report)
    assert f"::notice title=Proved%3A only prod reaches db (only)::{note}" in github.render_report(report)
