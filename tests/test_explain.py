"""npverify explain: endpoint and port specs, the sentences, the CLI, and agreement with the evaluator."""

from __future__ import annotations

import importlib
import ipaddress
import json
import sys
from pathlib import Path

import attrs
import jsonschema
import pytest
from click.testing import CliRunner

from npverify.cli import main
from npverify.errors import InputError, InternalError
from npverify.explain import explain
from npverify.load import load_text
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    ExternalEndpoint,
    NodeEndpoint,
    Packet,
    PodEndpoint,
    Protocol,
    Semantics,
    Universe,
)
from npverify.semantics import decide, universe_problem

sys.path.insert(0, str(Path(__file__).parent / "conformance"))
import test_upstream_netpol as upstream  # noqa: E402  (the conformance cases, reused)

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "specs" / "examples" / "shop" / "k8s"
SCHEMA = json.loads((ROOT / "specs" / "explain.schema.json").read_text())
FILE = "k8s/cluster.yaml"

# Two namespaces; web pods may only send to namespaces labelled team=data on TCP/5432 and
# anywhere on UDP/53. web/api takes http from web/client and from 203.0.113.0/24 minus its
# upper half; db/store takes pg from team=shop namespaces, except from pods labelled
# app=client. web/client and db/v6 have status IPs; web/agent is a hostNetwork pod on node
# 192.168.0.10; db/solo is a Pod without status; db/store is both a StatefulSet and a
# Deployment (ambiguous as db/store).
CLUSTER_YAML = """\
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: db, labels: {team: data}}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: web, labels: {app: client}}
spec:
  containers: [{name: c, image: x}]
status: {podIP: 10.1.0.5}
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: web, labels: {app: agent}}
spec:
  hostNetwork: true
  containers: [{name: c, image: x, ports: [{containerPort: 9100, name: metrics}]}]
status: {podIP: 192.168.0.10}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: web}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: c
          image: x
          ports: [{containerPort: 8080, name: http}, {containerPort: 53, protocol: UDP, name: dns}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: store, namespace: db}
spec:
  replicas: 1
  selector: {matchLabels: {app: store}}
  template:
    metadata: {labels: {app: store}}
    spec:
      containers: [{name: c, image: x, ports: [{containerPort: 5432, name: pg}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: store, namespace: db}
spec:
  selector: {matchLabels: {app: store-admin}}
  template:
    metadata: {labels: {app: store-admin}}
    spec:
      containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata: {name: v6, namespace: db, labels: {app: v6}}
spec:
  containers: [{name: c, image: x}]
status: {podIPs: [{ip: "fd00::7"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: db, labels: {app: solo}}
spec:
  containers: [{name: c, image: x}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: web}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {team: data}}}]
      ports: [{port: 5432}]
    - ports: [{protocol: UDP, port: 53}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: web}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
    - from:
        - podSelector: {matchLabels: {app: client}}
        - ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}
      ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: store, namespace: db}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [store]}]}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: shop}}
          podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [client]}]}
      ports: [{port: pg}]
"""

#: The module, not the function npverify exports under the same name.
explain_module = importlib.import_module("npverify.explain")


def line_of(fragment: str, after: str | None = None) -> int:
    """The 1-based line of the fixture that first contains ``fragment`` (after the line containing ``after``)."""
    lines = CLUSTER_YAML.splitlines()
    start = 0 if after is None else next(i for i, line in enumerate(lines) if after in line)
    return next(i for i, line in enumerate(lines) if i >= start and fragment in line) + 1


def at(fragment: str, column: int, after: str | None = None) -> str:
    """``k8s/cluster.yaml:LINE:COLUMN``: where a rule (column 7) or peer (column 11) of the fixture is."""
    return f"{FILE}:{line_of(fragment, after)}:{column}"


def document_at(metadata: str, after: str | None = None) -> str:
    """Where the document with this metadata line starts: its apiVersion, two lines above."""
    return f"{FILE}:{line_of(metadata, after) - 2}:1"


@pytest.fixture(scope="module")
def cluster():
    return load_text(CLUSTER_YAML, FILE)


def texts(explanation) -> list[str]:
    return [s.text for s in explanation.sentences]


def verdict(explanation) -> str:
    assert explanation.sentences[-1].topic == "verdict"
    return explanation.sentences[-1].text


# --- endpoint specs --------------------------------------------------------------------


def test_pod_and_workload_names(cluster):
    e = explain(cluster, "web/client", "web/Deployment/api", "8080")
    src, dst = e.packet.src, e.packet.dst
    assert isinstance(src, PodEndpoint) and isinstance(dst, PodEndpoint)
    assert (src.workload, src.ip, dict(src.labels)) == ("web/Pod/client", ipaddress.ip_address("10.1.0.5"), {"app": "client"})
    assert dict(src.namespace_labels) == {"team": "shop", NAMESPACE_NAME_LABEL: "web"}
    assert dst.workload == "web/Deployment/api"
    assert dst.ip in ipaddress.ip_network("10.244.0.0/16")  # not in the manifests: assumed
    assert (e.packet.protocol, e.packet.port) == (Protocol.TCP, 8080)
    assert e.packet == explain(cluster, "web/client", "web/api", "8080/tcp").packet
    assert explain(cluster, "web/client", "db/statefulset/store", "5432").packet.dst.workload == "db/StatefulSet/store"


def test_labels_make_a_pod_in_a_declared_or_undeclared_namespace(cluster):
    e = explain(cluster, "web/app=worker,tier=x", "elsewhere/app.kubernetes.io/name=db", "5432")
    src, dst = e.packet.src, e.packet.dst
    assert (src.namespace, dict(src.labels), src.workload) == ("web", {"app": "worker", "tier": "x"}, None)
    assert dict(src.namespace_labels) == {"team": "shop", NAMESPACE_NAME_LABEL: "web"}
    assert dict(dst.labels) == {"app.kubernetes.io/name": "db"}
    assert dict(dst.namespace_labels) == {NAMESPACE_NAME_LABEL: "elsewhere"}
    assert src.pod_id != dst.pod_id and src.ip != dst.ip
    assert (
        "Namespace elsewhere is not declared in the manifests, so its only label is "
        "kubernetes.io/metadata.name=elsewhere." in e.sentences[1].text
    )


def test_an_ip_names_a_loaded_pod_or_an_external_host(cluster):
    e = explain(cluster, "10.1.0.5", "198.51.100.1", "443")
    assert isinstance(e.packet.src, PodEndpoint) and e.packet.src.workload == "web/Pod/client"
    assert "10.1.0.5 (--from) is the IP of web/Pod/client in the manifests." in texts(e)
    assert e.packet.dst == ExternalEndpoint(ipaddress.ip_address("198.51.100.1"))
    e = explain(cluster, "db/v6", "2001:db8::1", "443")
    assert e.packet.dst == ExternalEndpoint(ipaddress.ip_address("2001:db8::1"))
    assert "No loaded pod has IP 2001:db8::1 (--to), so it is taken as an external host." in texts(e)


def test_at_ip_chooses_the_pod_ip(cluster):
    e = explain(cluster, "web/api@10.9.0.1", "db/app=x@10.9.0.2", "80")
    assert (str(e.packet.src.ip), str(e.packet.dst.ip)) == ("10.9.0.1", "10.9.0.2")
    assert not any("assumed" in t for t in texts(e))


def test_unknown_pod_ips_are_assumed_from_the_pod_cidrs_and_said_so(cluster):
    e = explain(cluster, "web/client", "web/api", "8080", pod_cidrs=[ipaddress.ip_network("10.50.0.0/16")])
    assert e.packet.dst.ip in ipaddress.ip_network("10.50.0.0/16")
    ip = e.packet.dst.ip
    assert f"The manifests do not give the destination's IP, so {ip} is assumed; write web/api@IP to choose one." in texts(e)
    # An IPv6 peer makes the assumed IP IPv6.
    e = explain(cluster, "2001:db8::5", "web/api", "http")
    assert e.packet.dst.ip.version == 6


def test_nodes(cluster):
    e = explain(cluster, "node:192.168.0.11", "web/api", "8080")
    assert e.packet.src == NodeEndpoint(ipaddress.ip_address("192.168.0.11"), own_node=False)
    e = explain(cluster, "own-node:192.168.0.10", "web/api", "8080")
    assert e.packet.src == NodeEndpoint(ipaddress.ip_address("192.168.0.10"), own_node=True)


@pytest.mark.parametrize(
    "port, destination, expected",
    [
        ("53/udp", "web/api", (Protocol.UDP, 53)),
        ("80", "web/api", (Protocol.TCP, 80)),
        ("9000/SCTP", "web/api", (Protocol.SCTP, 9000)),
        ("http", "web/api", (Protocol.TCP, 8080)),
        ("http/TCP", "web/api", (Protocol.TCP, 8080)),
        ("dns", "web/api", (Protocol.UDP, 53)),  # a named port brings its own protocol
    ],
)
def test_port_specs(cluster, port, destination, expected):
    e = explain(cluster, "web/client", destination, port)
    assert (e.packet.protocol, e.packet.port) == expected


BAD_SPECS = [
    # (from, to, port, option, part of the message)
    ("", "web/api", "80", "--from", "empty; give NAMESPACE/POD"),
    ("wbe/client", "web/api", "80", "--from", "no pod or workload in namespace 'wbe'; did you mean 'web'?"),
    ("web/clinet", "web/api", "80", "--from", "no pod or workload named 'clinet' in namespace web; did you mean 'client'?"),
    ("db/store", "web/api", "80", "--from", "'db/store' is ambiguous: it could be db/StatefulSet/store or db/Deployment/store"),
    ("web/Widget/api", "web/api", "80", "--from", "unknown workload kind 'Widget'"),
    ("web/job/api", "web/api", "80", "--from", "no Job named 'api' in namespace web; but there is web/Deployment/api"),
    ("web/Deployment/apo", "web/api", "80", "--from", "no Deployment named 'apo' in namespace web; did you mean 'Deployment/api'?"),
    ("web/", "web/api", "80", "--from", "give a pod or workload name after web/"),
    ("web/app=x,tier", "web/api", "80", "--from", "'tier' is not key=value"),
    ("web/app=x,app=y", "web/api", "80", "--from", "label 'app' given twice"),
    ("web/-app=x", "web/api", "80", "--from", "invalid label key '-app'"),
    ("web/app=x y", "web/api", "80", "--from", "invalid label value 'x y'"),
    ("Web/app=x", "web/api", "80", "--from", "namespace invalid name 'Web'"),
    ("10.0.0.0/8", "web/api", "80", "--from", "'10.0.0.0/8' is a CIDR; give one IP address"),
    ("web/client@10.9.9.9", "web/api", "80", "--from", "web/Pod/client has IP 10.1.0.5 in the manifests, not 10.9.9.9"),
    ("web/api@10.1.999.1", "web/api", "80", "--from", "'10.1.999.1' is not an IP address"),
    ("nonsense", "web/api", "80", "--from", "'nonsense' is neither an IP address nor NAMESPACE/NAME"),
    ("node:host-1", "web/api", "80", "--from", "'host-1' is not an IP address"),
    ("web/client", "wbe/client", "80", "--to", "did you mean 'web'?"),
    ("1.2.3.4", "5.6.7.8", "80", "--to", "neither '1.2.3.4' nor '5.6.7.8' is a pod"),
    ("web/api", "own-node:10.0.0.1", "80", "--to", "it can only be the source"),
    ("own-node:10.0.0.1", "1.2.3.4", "80", "--from", "'1.2.3.4' is not a pod"),
    ("web/client", "fd00::1", "80", "--to", "'fd00::1' is IPv6 but 'web/client' (--from) is IPv4"),
    ("web/api@10.9.0.1", "db/app=x@10.9.0.1", "80", "--to", "two different pods have different IPs"),
    ("db/solo@10.9.0.1", "db/solo@10.9.0.2", "80", "--to", "one pod, which cannot have two IPs"),
    ("web/client", "web/api", "0", "--port", "port must be between 1 and 65535 (got 0)"),
    ("web/client", "web/api", "70000", "--port", "port must be between 1 and 65535 (got 70000)"),
    ("web/client", "web/api", "80/icmp", "--port", "unknown protocol 'icmp'; expected TCP, UDP or SCTP"),
    ("web/client", "web/api", "/TCP", "--port", "give a port number or name"),
    ("web/client", "web/api", "Bad_Name", "--port", "neither a port number nor a valid port name"),
    ("web/client", "web/api", "htp", "--port", "its named ports are http, dns; did you mean 'http'?"),
    ("web/client", "web/api", "http/UDP", "--port", "the destination's port http is 8080/TCP, not UDP"),
    ("web/client", "203.0.113.7", "http", "--port", "a named port needs a pod destination"),
    ("web/client", "web/app=x", "http", "--port", "a pod given by labels has no container ports"),
    ("web/api", "web/client", "http", "--port", "it has no named ports"),
]


@pytest.mark.parametrize("source, destination, port, option, message", BAD_SPECS, ids=[f"{s}>{d}:{p}" for s, d, p, _, _ in BAD_SPECS])
def test_bad_specs_name_the_option_and_the_problem(cluster, source, destination, port, option, message):
    with pytest.raises(InputError) as raised:
        explain(cluster, source, destination, port)
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.path == option
    assert message in diagnostic.message, diagnostic.message


def test_a_misspelt_namespace_in_a_labels_spec_is_a_note_not_an_error(cluster):
    # A pod given by labels may live in a namespace the manifests never mention.
    e = explain(cluster, "wbe/app=x", "db/v6", "80")
    assert "Namespace wbe (--from) appears nowhere in the manifests (did you mean web?)." in texts(e)


# --- the sentences ---------------------------------------------------------------------


def test_denied_by_egress_with_near_misses_and_allowed_by_ingress(cluster):
    e = explain(cluster, "web/client", "web/api", "8080")
    assert not e.allowed
    sentences = texts(e)
    assert (
        f"Egress: policy web/deny-egress ({document_at('metadata: {name: deny-egress, namespace: web}')}) selects the source pod web/client for egress, "
        "so it is isolated for egress, and none of its egress rules matches this packet:"
    ) in sentences
    assert (
        f"web/deny-egress egress[0] ({at('- to: [{namespaceSelector', 7)}) does not match the destination: "
        "to[0] (namespaceSelector team=data) fails because the destination's namespace web has team=shop, not data. "
        "Its ports also allow only TCP/5432, not TCP/8080."
    ) in sentences
    assert (
        f"web/deny-egress egress[1] ({at('- ports: [{protocol: UDP', 7)}): it matches any destination, "
        "but its ports allow only UDP/53, not TCP/8080."
    ) in sentences
    assert (
        f"web/api ingress[0].from[0] ({at('- podSelector: {matchLabels: {app: client}}', 11)}) matches the source "
        "(podSelector app=client in namespace web), on ports[0] TCP/http (port 8080 on the destination)."
    ) in sentences
    assert verdict(e) == "Verdict: DENIED, because no egress rule of the source's policies allows it."
    details = [s for s in e.sentences if s.detail]
    assert all(s.topic in ("egress", "ingress") for s in details)


def test_denied_by_ingress_names_the_failing_requirement(cluster):
    e = explain(cluster, "web/client", "db/StatefulSet/store", "5432")
    assert (
        f"db/store ingress[0] ({at('    - from:', 7, after='operator: In, values: [store]')}) "
        "does not match the source: from[0] (namespaceSelector team=shop and podSelector app notin (client)) fails "
        "because the source has app=client, which app notin (client) excludes. "
        "Its ports[0] TCP/pg (port 5432 on the destination) would allow TCP/5432."
    ) in texts(e)
    assert verdict(e) == "Verdict: DENIED, because no ingress rule of the destination's policies allows it."


def test_allowed_both_ways_says_by_which_rules(cluster):
    e = explain(cluster, "web/app=worker", "db/StatefulSet/store", "pg")
    assert e.allowed
    assert "Port pg is 5432/TCP on the destination." in texts(e)
    assert verdict(e) == "Verdict: ALLOWED, because web/deny-egress egress[0] lets it out and db/store ingress[0] lets it in."
    assert [(r.policy.key, r.rule_index, r.matched) for r in e.rules] == [
        ("web/deny-egress", 0, True),
        ("web/deny-egress", 1, False),
        ("db/store", 0, True),
    ]


def test_unisolated_directions_and_policies_that_almost_select(cluster):
    e = explain(cluster, "db/app=x", "db/v6", "80")
    assert e.allowed
    sentences = texts(e)
    assert "Egress: no policy selects the source pod {app=x} in namespace db for egress, so egress is allowed." in sentences
    assert "Ingress: no policy selects the destination pod db/v6 for ingress, so ingress is allowed." in sentences
    assert (
        f"db/store ({document_at('metadata: {name: store, namespace: db}', after='kind: NetworkPolicy')}) applies to ingress but not to the destination: its podSelector "
        "app=store does not match (the destination has app=v6, not store)."
    ) in sentences
    assert verdict(e) == "Verdict: ALLOWED, because nothing isolates the source for egress and nothing isolates the destination for ingress."


def test_ip_blocks_except_and_ip_families(cluster):
    allowed = explain(cluster, "203.0.113.7", "web/api", "http")
    assert allowed.allowed
    assert "matches the source (ipBlock 203.0.113.0/24 except 203.0.113.128/25; its IP 203.0.113.7 is in 203.0.113.0/24 and outside the excepted ranges), on ports[0]" in " ".join(texts(allowed))
    assert "Egress: the source is an external host; NetworkPolicies only restrict pods, so its egress is not restricted." in texts(allowed)
    excepted = explain(cluster, "203.0.113.200", "web/api", "http")
    assert not excepted.allowed
    assert "fails because the source's IP 203.0.113.200 is in the excepted 203.0.113.128/25" in " ".join(texts(excepted))
    v6 = explain(cluster, "2001:db8::5", "web/api", "http")
    assert "fails because 203.0.113.0/24 is IPv4 and the source's IP 2001:db8::5 is IPv6" in " ".join(texts(v6))


def test_ipblock_matching_pods_is_a_semantic_choice(cluster):
    spec = ("db/app=x@203.0.113.9", "web/api", "http")
    assert explain(cluster, *spec).allowed
    strict = explain(cluster, *spec, semantics=Semantics(ip_block_matches_pods=False))
    assert not strict.allowed
    assert "fails because ipBlock peers do not match pod IPs under these semantics (--no-ipblock-matches-pods)" in " ".join(texts(strict))


def test_assumed_ips_are_flagged_where_an_ip_block_reads_them(cluster):
    e = explain(cluster, "web/api", "web/api", "8080")
    ip = e.packet.src.ip
    assert f"the source's IP {ip} (assumed) is outside 203.0.113.0/24" in " ".join(texts(e))


def test_a_pod_to_itself(cluster):
    e = explain(cluster, "web/client", "10.1.0.5", "1")
    assert e.packet.is_self and e.allowed
    assert "The source and destination are the same pod, and a pod may always send to itself." in texts(e)
    assert verdict(e) == "Verdict: ALLOWED, because a pod may always send to itself; the policies do not decide this packet."
    solo = explain(cluster, "db/solo", "db/solo", "80")  # a Pod is one pod, even without a known IP
    assert solo.packet.is_self and solo.packet.src == solo.packet.dst
    strict = explain(cluster, "web/client", "web/client", "1", semantics=Semantics(self_traffic_allowed=False))
    assert not strict.allowed  # web pods may send only to team=data namespaces and UDP/53
    assert any("do not exempt a pod's traffic to itself" in t for t in texts(strict))


def test_two_pods_of_one_workload_unless_the_same_ip_is_named(cluster):
    e = explain(cluster, "web/api", "web/api", "8080")
    assert not e.packet.is_self and not e.allowed
    assert any("name the same workload, which may have several pods" in t for t in texts(e))
    same = explain(cluster, "web/api@10.9.0.1", "web/api@10.9.0.1", "8080")
    assert same.packet.is_self and same.allowed


def test_host_network_pods_and_nodes(cluster):
    e = explain(cluster, "web/agent", "db/StatefulSet/store", "pg")
    assert not e.allowed
    assert (
        "Egress: the source pod web/agent uses the host network; NetworkPolicies do not select hostNetwork pods, "
        "so its egress is not restricted."
    ) in texts(e)
    assert "fails because the source is a hostNetwork pod, which only ipBlock peers match" in " ".join(texts(e))
    other = explain(cluster, "node:192.168.0.11", "web/api", "8080")
    assert not other.allowed
    assert "fails because the source is a node, which only ipBlock peers match" in " ".join(texts(other))
    own = explain(cluster, "own-node:192.168.0.10", "web/api", "8080")
    assert own.allowed
    assert verdict(own) == "Verdict: ALLOWED, because traffic from the pod's own node is always allowed; the policies do not decide this packet."


def test_the_verdict_is_the_evaluators(cluster):
    e = explain(cluster, "web/client", "web/api", "8080")
    assert e.decision == decide(cluster, e.packet, Semantics())
    assert e.allowed is e.decision.allowed


def test_a_disagreement_with_the_evaluator_is_an_internal_error(cluster, monkeypatch):
    real = explain_module.decide

    def forgetful(cluster, packet, semantics, *args, **kwargs):
        decision = real(cluster, packet, semantics, *args, **kwargs)
        return attrs.evolve(decision, ingress=attrs.evolve(decision.ingress, matches=()))

    monkeypatch.setattr(explain_module, "decide", forgetful)
    with pytest.raises(InternalError, match="disagree on Ingress"):
        explain(cluster, "web/client", "web/api", "8080")


def test_str_and_html(cluster):
    from npverify.report.text import render_explanation

    e = explain(cluster, "web/client", "web/api", "8080")
    assert str(e) == render_explanation(e)
    assert str(e).splitlines()[0] == "TCP/8080 from pod web/client to pod of Deployment web/api: DENIED"
    html = e._repr_html_()
    assert html.count("<tr>") == len(e.sentences) + 1
    assert "DENIED" in html
    assert "has no &#x27;to&#x27; list" not in html  # sentences are escaped, not raw
    assert html.count("padding-left") == sum(1 for s in e.sentences if s.detail)


# --- the command line ------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(main, ["explain", "--manifests", str(SHOP), *args], catch_exceptions=False)


def test_cli_exit_codes_allowed_denied_bad_input():
    allowed = run("--from", "shop/frontend", "--to", "shop/api", "--port", "8080/TCP")
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stdout.splitlines()[0] == "TCP/8080 from pod of Deployment shop/frontend to pod of Deployment shop/api: ALLOWED"
    denied = run("--from", "shop/api", "--to", "shop/frontend", "--port", "8080")
    assert denied.exit_code == 1, denied.output
    assert denied.stdout.rstrip().splitlines()[-1].startswith("Verdict: DENIED")
    bad = run("--from", "shop/frontnd", "--to", "shop/api", "--port", "8080")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "error: --from: 'shop/frontnd': no pod or workload named 'frontnd' in namespace shop; did you mean 'frontend'?"
    assert "Traceback" not in bad.output


def test_cli_bad_manifests_and_missing_options_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["explain", "--manifests", str(tmp_path / "missing.yaml"), "--from", "a/b", "--to", "c/d", "--port", "80"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["explain", "--from", "a/b", "--to", "c/d", "--port", "80"])
    assert result.exit_code == 2 and "--manifests" in result.output


def test_cli_internal_error_exits_3(monkeypatch):
    def broken(*args, **kwargs):
        raise InternalError("explain and the reference evaluator disagree")

    monkeypatch.setattr(explain_module, "explain", broken)
    result = run("--from", "shop/frontend", "--to", "shop/api", "--port", "8080")
    assert result.exit_code == 3
    assert "internal error" in result.stderr


def test_cli_help_documents_exit_codes_and_specs():
    result = CliRunner().invoke(main, ["explain", "--help"])
    assert result.exit_code == 0
    for text in ("0  the packet is allowed", "1  the packet is denied", "2  bad usage or bad input", "3  unknown: an object of a policy kind npverify does not model", "own-node:IP", "NS/key=value"):
        assert text in result.output


def test_cli_json_validates_and_carries_the_verdict():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for args, code in (
        (("--from", "shop/frontend", "--to", "shop/api", "--port", "http"), 0),
        (("--from", "dev/app=x", "--to", "203.0.113.9", "--port", "443/TCP"), 0),
        (("--from", "own-node:10.0.0.9", "--to", "shop/postgres", "--port", "pg"), 0),
        (("--from", "shop/api", "--to", "shop/frontend", "--port", "8080", "--no-ipblock-matches-pods"), 1),
    ):
        result = run(*args, "--format", "json")
        assert result.exit_code == code, result.output
        doc = json.loads(result.stdout)
        jsonschema.validate(doc, SCHEMA)
        assert doc["allowed"] is (code == 0) and doc["decision"]["allowed"] is (code == 0)
        assert doc["sentences"][-1]["topic"] == "verdict"


def test_cli_pod_cidr_and_semantics_switch():
    result = run("--from", "dev/app=x", "--to", "shop/frontend", "--port", "8080", "--pod-cidr", "172.16.0.0/12")
    # frontend takes ingress from 0.0.0.0/0 except 10.0.0.0/8: a pod IP from 172.16/12 gets in.
    assert result.exit_code == 0, result.output
    assert "so 172.16.0.1 is assumed" in result.stdout
    result = run("--from", "dev/app=x", "--to", "shop/frontend", "--port", "8080", "--pod-cidr", "172.16.0.0/12", "--no-ipblock-matches-pods")
    assert result.exit_code == 1, result.output


# --- agreement with the reference evaluator on the conformance suite --------------------


@pytest.mark.parametrize("case", upstream.CASES, ids=[c.id for c in upstream.CASES])
def test_agrees_with_the_evaluator_and_upstream_on_the_conformance_suite(case):
    """Every pod pair of every upstream matrix, by ``ns/pod`` specs, on the case's port and
    protocol (against upstream's expectation) and on ports 80 and 81 (against the evaluator)."""
    cluster = case.cluster()
    expected = case.expected.final()
    endpoints = {pod: upstream.endpoint(cluster, pod) for pod in upstream.PODS}
    probes = {(case.protocol, case.port)} | {(protocol, port) for protocol in (Protocol.TCP, case.protocol) for port in (80, 81)}
    problems = []
    for protocol, port in sorted(probes, key=lambda p: (p[0].value, p[1])):
        for s in upstream.PODS:
            for d in upstream.PODS:
                e = explain(cluster, upstream.pod_str(s), upstream.pod_str(d), f"{port}/{protocol}", semantics=upstream.SEMANTICS)
                packet = Packet(endpoints[s], endpoints[d], protocol, port)
                assert e.packet == packet, (s, d)
                reference = decide(cluster, packet, upstream.SEMANTICS).allowed
                want = expected[(s, d)] if (protocol, port) == (case.protocol, case.port) else reference
                if e.allowed != want or e.allowed != reference:
                    problems.append(f"{upstream.pod_str(s)} -> {upstream.pod_str(d)} {protocol}/{port}: explain {e.allowed}, upstream {want}, evaluator {reference}")
                assert verdict(e).startswith("Verdict: ALLOWED" if e.allowed else "Verdict: DENIED")
    assert not problems, "\n".join(problems)


# --- the documentation's examples are real output ----------------------------------------


def doc_examples() -> list[tuple[str, str, int]]:
    """(command, output, exit code) of every ``$ npverify explain`` block in docs/explain.md."""
    import re

    text = (ROOT / "docs" / "explain.md").read_text()
    blocks = re.findall(r"```\n\$ npverify explain ([^\n]*)\n(.*?)\$ echo \$\?\n(\d+)\n```", text, re.S)
    return [(command, output, int(code)) for command, output, code in blocks]


def test_docs_show_real_output(monkeypatch):
    import shlex

    examples = doc_examples()
    assert len(examples) >= 5
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository
    for command, output, code in examples:
        result = CliRunner().invoke(main, ["explain", *shlex.split(command)])
        assert (result.output, result.exit_code) == (output, code), command


# --- the universe: prove's and matrix's --------------------------------------------------


@pytest.mark.parametrize(
    "source, destination, port, universe, problem, switch",
    [
        ("node:192.168.0.11", "web/api", "8080", Universe(), "node traffic is outside the universe", "--node-traffic"),
        ("web/agent", "db/StatefulSet/store", "pg", Universe(), "hostNetwork pods are outside the universe", "--host-network"),
        ("web/client", "web/client", "80", Universe(), "a pod's traffic to itself is outside the scope", "--self-traffic"),
        ("web/app=x", "web/api", "8080", Universe(pods="workloads"), "pod is not of a loaded workload", "--pods any"),
        ("elsewhere/app=x", "web/api", "8080", Universe(namespaces="declared"), "namespace 'elsewhere' is not declared", "--namespaces any"),
        # An IP given on the command line, not a Pod's status IP (which is a fact, and kept).
        ("web/app=x@10.1.0.9", "web/api", "8080", Universe(pod_cidrs=[ipaddress.ip_network("10.244.0.0/16")]), "PodEndpoint IP 10.1.0.9 lies outside the pod CIDRs", "10.244.0.0/16"),
        ("10.244.7.7", "web/api", "8080", Universe(pod_cidrs=[ipaddress.ip_network("10.244.0.0/16")]), "ExternalEndpoint IP 10.244.7.7 lies inside the pod CIDRs", "10.244.0.0/16"),
    ],
)
def test_a_packet_outside_the_universe_is_said_to_be(cluster, source, destination, port, universe, problem, switch):
    """prove and matrix never consider such a packet: explain must not pass it off as one of theirs."""
    e = explain(cluster, source, destination, port, universe=universe)
    assert e.outside_universe == problem == universe_problem(cluster, e.packet, universe)
    sentence = next(s for s in e.sentences if s.topic == "universe")
    assert sentence.text.startswith(f"Outside the universe: {problem}") and switch in sentence.text
    assert e.sentences[-1].topic == "verdict"
    assert "(a packet outside the universe; see below)" in str(e).splitlines()[0]


def test_a_packet_inside_the_universe_says_nothing_of_it(cluster):
    # web/client's status IP 10.1.0.5 lies outside 10.244.0.0/16, but a Pod's IP is a fact:
    # the Pod stays in the universe (docs/semantics.md).
    outside_cidrs = Universe(pod_cidrs=[ipaddress.ip_network("10.244.0.0/16")])
    for universe in (Universe(), Universe(node_traffic=True), Universe(pod_cidrs=[ipaddress.ip_network("10.0.0.0/8")]), outside_cidrs):
        e = explain(cluster, "web/client", "web/api", "8080", universe=universe)
        assert e.outside_universe is None and not [s for s in e.sentences if s.topic == "universe"]
    e = explain(cluster, "node:192.168.0.11", "web/api", "8080", universe=Universe(node_traffic=True))
    assert e.outside_universe is None


def test_assumed_ips_lie_in_the_universe(cluster):
    """Pods get IPs inside the pod CIDRs (of a family that has one), hostNetwork pods
    outside them: the packet explain makes up is one prove and matrix range over."""
    v6_only = Universe(pod_cidrs=[ipaddress.ip_network("fd00:1::/64")], host_network=True)
    e = explain(cluster, "web/app=x", "web/api", "8080", universe=v6_only)
    assert e.packet.src.ip in v6_only.pod_cidrs[0] and e.packet.dst.ip in v6_only.pod_cidrs[0]
    assert e.outside_universe is None
    wide = Universe(pod_cidrs=[ipaddress.ip_network("192.168.0.0/16"), ipaddress.ip_network("10.0.0.0/8")], host_network=True)
    hostile = load_text(CLUSTER_YAML.replace("status: {podIP: 192.168.0.10}", ""), "c.yaml")
    e = explain(hostile, "web/agent", "web/api", "8080", universe=wide)
    assert not any(e.packet.src.ip in c for c in wide.pod_cidrs)
    assert e.outside_universe is None


def test_cli_universe_switches_and_invariants_file(tmp_path):
    invariants = ROOT / "specs" / "examples" / "shop" / "invariants.yaml"  # podCIDRs: [10.244.0.0/16]
    packet = ["--from", "203.0.113.9", "--to", "shop/frontend", "--port", "http"]
    inside = CliRunner().invoke(main, ["explain", "--invariants", str(invariants), *packet, "--format", "json"])
    assert inside.exit_code == 0, inside.output
    doc = json.loads(inside.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["universe"]["pod_cidrs"] == ["10.244.0.0/16"] and doc["universe"]["inside"] is True
    # The switches override the file; --manifests replaces its manifests.
    result = CliRunner().invoke(main, ["explain", "--invariants", str(invariants), "--manifests", str(SHOP), "--pod-cidr", "203.0.113.0/24", *packet, "--format", "json"])
    doc = json.loads(result.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert doc["universe"]["inside"] is False and "lies inside the pod CIDRs" in doc["universe"]["problem"]
    assert any(s["topic"] == "universe" for s in doc["sentences"])
    result = run("--from", "node:10.0.0.9", "--to", "shop/api", "--port", "8080", "--node-traffic", "--format", "json")
    assert json.loads(result.stdout)["universe"]["inside"] is True
    result = CliRunner().invoke(main, ["explain", "--from", "a/b", "--to", "c/d", "--port", "80", "--invariants", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
