"""Deterministic synthetic clusters for benchmarking npverify.

    python benchmarks/generate.py --namespaces 10 --pods-per-namespace 10 \
        --policies-per-namespace 5 --seed 1 --out /tmp/bench/original
    python benchmarks/generate.py ... --variant rewrite --out /tmp/bench/rewrite
    python benchmarks/generate.py ... --variant mutation --mutation-seed 3 --out /tmp/bench/mutation

The same sizes and ``--seed`` always give the same files. ``--variant rewrite`` writes a
semantically equivalent rewrite of the same cluster (split rules and policies,
matchLabels <-> matchExpressions In, port pairs <-> endPort ranges, renamed and reordered
policies); ``--variant mutation`` writes the cluster with one change of meaning, chosen
by ``--mutation-seed``, and prints which.

Layout of ``--out DIR``::

    DIR/k8s/namespaces.yaml        the app namespaces, plus kube-system and monitoring
    DIR/k8s/workloads/<ns>.yaml    P workloads per namespace (Deployments, StatefulSets, Pods)
    DIR/k8s/policies/<ns>.yaml     Q NetworkPolicies per namespace
    DIR/k8s/cluster-policies.yaml  with --cluster-policies only: the Admin and Baseline tiers
    DIR/invariants.yaml            10 invariants over DIR/k8s/ (12 or 13 with --cluster-policies)

Every workload has one replica, so P workloads are P pods. kube-system (kube-dns) and
monitoring (prometheus) are added to the N app namespaces; they hold no policies.

``--cluster-policies`` adds cluster-scoped guardrails (``add_cluster_policies``): seven
cluster-wide Admin-tier policies (v1alpha2 ClusterNetworkPolicy and v1alpha1
AdminNetworkPolicy), one more Admin-tier policy per 10 app namespaces guarding that
namespace, and the BaselineAdminNetworkPolicy ``default``; the invariants file gains the
invariants those tiers decide. The workloads and NetworkPolicies are the same documents
as without the flag (only the header comment of each file names the flag). The rewrite and the mutation keep the cluster policies as they are
(the same file): they rewrite or mutate NetworkPolicies only, so the equivalence they
pose is "does this change of the namespaces' policies change anything, under these
tiers".
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import shutil
import sys
from collections.abc import Callable

import yaml

TEAMS = ("shop", "payments", "search", "identity", "media", "ads", "analytics", "billing", "catalog", "support")
ENVS = ("prod", "staging", "dev")
NAMESPACE_TIERS = ("edge", "core", "data")
#: The tier of the j-th workload of a namespace; after these, tiers are drawn at random.
TIER_ORDER = ("web", "api", "db", "worker", "cache", "api", "web", "worker")
TIERS = ("web", "api", "db", "worker", "cache")
PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
METADATA = "169.254.169.254/32"
POD_CIDR = "10.244.0.0/16"
#: The invariants every generated file starts with; --cluster-policies appends the ones
#: the tiers decide after them (benchmarks/run.py proves these first ones on both clusters).
BASE_INVARIANTS = 10
MUTATIONS = ("port-widened", "except-removed", "label-value-changed", "policy-type-dropped", "peer-and-to-or")

Doc = dict


# --------------------------------------------------------------------------- the base cluster


class Cluster:
    """The generated objects, as plain dicts ready for YAML, grouped by namespace."""

    def __init__(self) -> None:
        self.namespaces: list[Doc] = []
        self.workloads: dict[str, list[Doc]] = {}
        self.policies: dict[str, list[Doc]] = {}
        #: Facts the invariants are written from: namespace name -> its labels, and
        #: namespace -> tier -> workload names.
        self.ns_labels: dict[str, dict[str, str]] = {}
        self.tiers: dict[str, dict[str, list[str]]] = {}
        self.app_namespaces: list[str] = []
        #: namespace -> the team whose namespaces its api admits (the cross-namespace rule).
        self.partner_team: dict[str, str] = {}
        #: Cluster-scoped policies (Admin and Baseline tiers); empty without --cluster-policies.
        self.cluster_policies: list[Doc] = []


def _namespace(name: str, labels: dict[str, str]) -> Doc:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _container_ports(tier: str, j: int) -> list[dict]:
    """Named container ports; the numbers differ between workloads so named ports matter."""
    http = {"name": "http", "containerPort": 8080 + j % 5}
    metrics = {"name": "metrics", "containerPort": 9100 + j % 7}
    if tier == "web":
        return [http, metrics]
    if tier == "api":
        return [http, {"name": "grpc", "containerPort": 9000 + j % 4}, metrics]
    if tier == "db":
        return [{"name": "db", "containerPort": 5432 if j % 2 == 0 else 3306}, {"name": "metrics", "containerPort": 9187}]
    if tier == "cache":
        return [{"name": "cache", "containerPort": 6379 + j % 3}, metrics]
    return [metrics]


def _workload(namespace: str, name: str, labels: dict[str, str], ports: list[dict], kind: str, image: str) -> Doc:
    pod_spec = {"containers": [{"name": name, "image": image, "ports": ports}]}
    if kind == "Pod":
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": pod_spec}
    spec: dict = {"replicas": 1, "selector": {"matchLabels": dict(list(labels.items())[:1])}}
    if kind == "StatefulSet":
        spec["serviceName"] = name
    spec["template"] = {"metadata": {"labels": labels}, "spec": pod_spec}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _policy(namespace: str, name: str, spec: dict) -> Doc:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def _exprs(*requirements: tuple) -> dict:
    out = []
    for key, operator, *values in requirements:
        req: dict = {"key": key, "operator": operator}
        if values:
            req["values"] = list(values[0])
        out.append(req)
    return {"matchExpressions": out}


# The policy shapes, in the order they are added to each namespace: the first Q are used.
# Between them the first five use every selector operator (In, NotIn, Exists, DoesNotExist).


def _default_deny(ctx: dict) -> Doc:
    return _policy(ctx["ns"], "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def _allow_dns(ctx: dict) -> Doc:
    return _policy(
        ctx["ns"],
        "allow-dns",
        {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
    )


def _api(ctx: dict) -> Doc:
    """Same-namespace tier rules around the api: web -> api -> db, and api -> other apis."""
    return _policy(
        ctx["ns"],
        "api",
        {
            "podSelector": _exprs(("tier", "In", ["api"])),
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"tier": "web"}}}],
                    "ports": [{"protocol": "TCP", "port": 8080, "endPort": 8081}, {"port": "http"}],
                }
            ],
            "egress": [
                {
                    "to": [{"podSelector": {"matchLabels": {"tier": "db"}}}, {"podSelector": {"matchLabels": {"tier": "cache"}}}],
                    "ports": [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 5433}, {"port": 3306}, {"port": 6379, "endPort": 6381}],
                },
                {
                    "to": [
                        {
                            "namespaceSelector": _exprs(("env", "In", ["prod", "staging"])),
                            "podSelector": {"matchLabels": {"tier": "api"}},
                        }
                    ],
                    "ports": [{"port": "grpc"}],
                },
            ],
        },
    )


def _cross_namespace(ctx: dict) -> Doc:
    """Another team's api and workers (outside dev) call this namespace's api over grpc."""
    return _policy(
        ctx["ns"],
        f"from-{ctx['partner_team']}",
        {
            "podSelector": {"matchLabels": {"tier": "api"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"team": ctx["partner_team"]},
                                **_exprs(("env", "NotIn", ["dev"]), ("tier", "Exists")),
                            },
                            "podSelector": _exprs(("tier", "In", ["api", "worker"])),
                        }
                    ],
                    "ports": [{"port": "grpc"}],
                }
            ],
        },
    )


def _egress_internet(ctx: dict) -> Doc:
    return _policy(
        ctx["ns"],
        "egress-internet",
        {
            "podSelector": _exprs(("tier", "NotIn", ["db", "cache"]), ("quarantine", "DoesNotExist")),
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE + [METADATA]}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }
            ],
        },
    )


def _web_public(ctx: dict) -> Doc:
    return _policy(
        ctx["ns"],
        "web-public",
        {
            "podSelector": {"matchLabels": {"tier": "web"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [
                {
                    "from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE)}}],
                    "ports": [{"port": "http"}, {"protocol": "TCP", "port": 8443}],
                }
            ],
            "egress": [
                {
                    "to": [{"podSelector": _exprs(("tier", "In", ["api"]))}],
                    "ports": [{"protocol": "TCP", "port": 8080}, {"protocol": "TCP", "port": 8081}],
                }
            ],
        },
    )


def _monitoring(ctx: dict) -> Doc:
    return _policy(
        ctx["ns"],
        "allow-monitoring",
        {
            "podSelector": _exprs(("tier", "Exists")),
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"tier": "platform"}},
                            "podSelector": {"matchLabels": {"app": "prometheus"}},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 9100, "endPort": 9199}, {"port": "metrics"}],
                }
            ],
        },
    )


def _db(ctx: dict) -> Doc:
    return _policy(
        ctx["ns"],
        "db",
        {
            "podSelector": {"matchLabels": {"tier": "db"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": _exprs(("tier", "In", ["api", "worker"]))}],
                    "ports": [{"port": "db"}],
                }
            ],
        },
    )


def _quarantine(ctx: dict) -> Doc:
    return _policy(
        ctx["ns"],
        "quarantine",
        {"podSelector": _exprs(("quarantine", "Exists")), "policyTypes": ["Ingress", "Egress"]},
    )


def _same_namespace(ctx: dict) -> Doc:
    peer = {"podSelector": _exprs(("restricted", "DoesNotExist"))}
    ports = [{"protocol": "TCP", "port": 8000, "endPort": 8999}]
    return _policy(
        ctx["ns"],
        "same-namespace",
        {
            "podSelector": _exprs(("restricted", "DoesNotExist")),
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [peer], "ports": ports}],
            "egress": [{"to": [copy.deepcopy(peer)], "ports": copy.deepcopy(ports)}],
        },
    )


SHAPES: tuple[Callable[[dict], Doc], ...] = (
    _default_deny,
    _allow_dns,
    _api,
    _cross_namespace,
    _egress_internet,
    _web_public,
    _monitoring,
    _db,
    _quarantine,
    _same_namespace,
)


def _app_pair(ctx: dict, k: int, rng: random.Random) -> Doc:
    """Past the catalogue: one app admits another app of its namespace on its http port."""
    apps = ctx["apps"]
    dst, src = rng.choice(apps), rng.choice(apps)
    return _policy(
        ctx["ns"],
        f"{dst}-from-{src}-{k}",
        {
            "podSelector": {"matchLabels": {"app": dst}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": src}}}], "ports": [{"port": "http"}]}],
        },
    )


def build(namespaces: int, pods: int, policies: int, seed: int) -> Cluster:
    """The base cluster; deterministic in its arguments."""
    rng = random.Random(seed)
    cluster = Cluster()
    for i in range(namespaces):
        team = TEAMS[i % len(TEAMS)] if i < len(TEAMS) else rng.choice(TEAMS)
        name = f"{team}-{i:03d}"
        labels = {"team": team, "env": ENVS[i % len(ENVS)], "tier": rng.choice(NAMESPACE_TIERS)}
        cluster.namespaces.append(_namespace(name, labels))
        cluster.ns_labels[name] = labels
        cluster.app_namespaces.append(name)
    for name, labels in (("kube-system", {}), ("monitoring", {"team": "platform", "env": "prod", "tier": "platform"})):
        cluster.namespaces.append(_namespace(name, labels) if labels else {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        cluster.ns_labels[name] = labels
    cluster.workloads["kube-system"] = [
        _workload(
            "kube-system",
            "kube-dns",
            {"k8s-app": "kube-dns"},
            [{"name": "dns", "containerPort": 53, "protocol": "UDP"}, {"name": "dns-tcp", "containerPort": 53}],
            "Deployment",
            "registry.k8s.io/coredns/coredns:v1.11.1",
        )
    ]
    cluster.workloads["monitoring"] = [
        _workload("monitoring", "prometheus", {"app": "prometheus"}, [{"name": "web", "containerPort": 9090}], "Deployment", "prom/prometheus:v2.53.0")
    ]
    for ns in cluster.app_namespaces:
        workloads, tiers = [], {}
        for j in range(pods):
            tier = TIER_ORDER[j] if j < len(TIER_ORDER) else rng.choice(TIERS)
            app = f"{tier}-{j:02d}"
            labels = {"app": app, "tier": tier, "version": rng.choice(("v1", "v2"))}
            roll = rng.random()
            if roll < 0.1:
                labels["track"] = "canary"
            elif roll < 0.15:
                labels["quarantine"] = "true"
            if tier == "db" or rng.random() < 0.1:
                labels["restricted"] = "true"
            kind = "StatefulSet" if tier in ("db", "cache") else ("Pod" if j % 7 == 6 else "Deployment")
            workloads.append(_workload(ns, app, labels, _container_ports(tier, j), kind, f"registry.example.com/{ns}/{tier}:{rng.randint(1, 40)}"))
            tiers.setdefault(tier, []).append(app)
        cluster.workloads[ns] = workloads
        cluster.tiers[ns] = tiers
    app = cluster.app_namespaces
    for i, ns in enumerate(app):
        # Another namespace (ns itself when alone): index j of the list without ns.
        j = rng.randrange(max(len(app) - 1, 1))
        partner = app[j + 1] if len(app) > 1 and j >= i else app[j]
        cluster.partner_team[ns] = cluster.ns_labels[partner]["team"]
        ctx = {
            "ns": ns,
            "partner_team": cluster.ns_labels[partner]["team"],
            "apps": [w["metadata"]["name"] for w in cluster.workloads[ns]],
        }
        docs = [shape(ctx) for shape in SHAPES[:policies]]
        for k in range(len(SHAPES), policies):
            docs.append(_app_pair(ctx, k, rng))
        cluster.policies[ns] = docs
    return cluster


# --------------------------------------------------------------------------- cluster-scoped tiers

CNP_API = "policy.networking.k8s.io/v1alpha2"
ANP_API = "policy.networking.k8s.io/v1alpha1"
#: The corporate egress proxy dev namespaces must go through, and a partner's API that
#: some namespaces' apis and workers call directly (documentation ranges, RFC 5737).
PROXY = "203.0.113.0/24"
PARTNER_API = "198.51.100.0/24"
#: The cluster-wide guardrails come first; one namespace guardrail per 10 app namespaces follows.
GUARDRAILS = 7
NAME_LABEL = "kubernetes.io/metadata.name"


def _named_ns(name: str) -> dict:
    return {"matchLabels": {NAME_LABEL: name}}


def _cnp(name: str, tier: str, priority: int, subject: dict, ingress: list | None = None, egress: list | None = None) -> Doc:
    spec: dict = {"tier": tier, "priority": priority, "subject": subject}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {"apiVersion": CNP_API, "kind": "ClusterNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def _anp(name: str, priority: int | None, subject: dict, ingress: list | None = None, egress: list | None = None) -> Doc:
    """A v1alpha1 AdminNetworkPolicy, or (priority None) the BaselineAdminNetworkPolicy."""
    spec: dict = {} if priority is None else {"priority": priority}
    spec["subject"] = subject
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    kind = "AdminNetworkPolicy" if priority is not None else "BaselineAdminNetworkPolicy"
    return {"apiVersion": ANP_API, "kind": kind, "metadata": {"name": name}, "spec": spec}


def _rule(name: str, action: str, peers_key: str, peers: list, ports_key: str | None = None, ports: list | None = None) -> dict:
    rule = {"name": name, "action": action, peers_key: peers}
    if ports:
        rule[ports_key or "ports"] = ports
    return rule


def _tcp(number: int) -> dict:
    return {"tcp": {"destinationPort": {"number": number}}}


def _guardrails() -> list[Doc]:
    """The cluster admins' policies every generated cluster gets, by priority. Between them:
    both API versions, Accept (Allow), Deny and Pass, pods/namespaces/networks peers, a port
    range, named ports the workloads define, and two policies sharing a priority whose
    subjects never overlap (staging databases, analytics workers)."""
    app_namespaces = {"matchExpressions": [{"key": "env", "operator": "Exists"}]}  # the app namespaces and monitoring
    prometheus = {"namespaceSelector": _named_ns("monitoring"), "podSelector": {"matchLabels": {"app": "prometheus"}}}
    analytics_workers = {"namespaceSelector": {"matchLabels": {"team": "analytics"}}, "podSelector": {"matchLabels": {"tier": "worker"}}}
    staging_dbs = {"namespaceSelector": {"matchLabels": {"env": "staging"}}, "podSelector": {"matchLabels": {"tier": "db"}}}
    return [
        # Every namespace may resolve names; no app namespace reaches kube-system otherwise.
        _cnp("protect-kube-system", "Admin", 10, {"namespaces": _named_ns("kube-system")}, ingress=[
            _rule("dns", "Accept", "from", [{"namespaces": {}}], "protocols", [{"udp": {"destinationPort": {"number": 53}}}, {"destinationNamedPort": "dns-tcp"}]),
            _rule("no-app-namespaces", "Deny", "from", [{"namespaces": app_namespaces}]),
        ]),
        _anp("deny-cloud-metadata", 20, {"namespaces": app_namespaces}, egress=[
            _rule("metadata", "Deny", "to", [{"networks": [METADATA]}]),
        ]),
        # dev namespaces reach the internet through the proxy only; cluster-internal
        # addresses are left to the namespaces' own policies.
        _cnp("dev-egress-lockdown", "Admin", 30, {"namespaces": {"matchLabels": {"env": "dev"}}}, egress=[
            _rule("cluster-internal", "Pass", "to", [{"networks": list(PRIVATE)}]),
            _rule("proxy", "Accept", "to", [{"networks": [PROXY]}], "protocols", [_tcp(443)]),
            _rule("no-internet", "Deny", "to", [{"networks": ["0.0.0.0/0", "::/0"]}]),
        ]),
        _anp("prod-isolation", 40, {"namespaces": {"matchLabels": {"env": "prod"}}}, ingress=[
            _rule("no-dev", "Deny", "from", [{"namespaces": {"matchLabels": {"env": "dev"}}}]),
            _rule("staging-to-namespace-policies", "Pass", "from", [{"namespaces": {"matchLabels": {"env": "staging"}}}]),
        ]),
        # The analytics team's workers read the staging databases, whatever the
        # namespaces' own policies say: both ends, at one priority.
        _cnp("analytics-reads-staging-db", "Admin", 50, {"pods": staging_dbs}, ingress=[
            _rule("analytics-workers", "Accept", "from", [{"pods": analytics_workers}], "protocols", [{"destinationNamedPort": "db"}]),
        ]),
        _anp("analytics-to-staging-db", 50, {"pods": analytics_workers}, egress=[
            _rule("staging-databases", "Allow", "to", [{"pods": staging_dbs}], "ports", [{"namedPort": "db"}]),
        ]),
        _cnp("monitoring-scrapes", "Admin", 60, {"namespaces": app_namespaces}, ingress=[
            _rule("prometheus", "Accept", "from", [{"pods": prometheus}], "protocols",
                  [{"tcp": {"destinationPort": {"range": {"start": 9100, "end": 9199}}}}, {"destinationNamedPort": "metrics"}]),
        ]),
    ]


def _namespace_guardrail(k: int, ns: str, partner_team: str, priority: int) -> Doc:
    """The k-th guardrail of one namespace: four shapes in turn, each selecting pods of
    ``ns`` only (so two of them may share a priority)."""
    def pods(selector: dict) -> dict:
        return {"pods": {"namespaceSelector": _named_ns(ns), "podSelector": selector}}

    shape = k % 4
    if shape == 0:
        return _cnp(f"{ns}-db-guard", "Admin", priority, pods({"matchLabels": {"tier": "db"}}), ingress=[
            _rule("own-namespace", "Pass", "from", [{"namespaces": _named_ns(ns)}]),
            _rule("everyone-else", "Deny", "from", [{"namespaces": {}}]),
        ])
    if shape == 1:
        return _anp(f"{ns}-partner-egress", priority, pods({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]}]}), egress=[
            _rule("partner-api", "Allow", "to", [{"networks": [PARTNER_API]}], "ports", [{"portNumber": {"protocol": "TCP", "port": 443}}]),
            _rule("no-legacy-protocols", "Deny", "to", [{"networks": ["0.0.0.0/0"]}], "ports", [{"portRange": {"protocol": "TCP", "start": 20, "end": 23}}]),
        ])
    if shape == 2:
        quarantined = pods({"matchExpressions": [{"key": "quarantine", "operator": "Exists"}]})
        return _anp(f"{ns}-quarantine", priority, quarantined,
                    ingress=[_rule("nothing-in", "Deny", "from", [{"namespaces": {}}])],
                    egress=[_rule("nothing-out", "Deny", "to", [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}])])
    return _cnp(f"{ns}-api-callers", "Admin", priority, pods({"matchLabels": {"tier": "api"}}), ingress=[
        _rule("partner-grpc", "Accept", "from", [{"pods": {
            "namespaceSelector": {"matchLabels": {"team": partner_team}, "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]},
            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]}]},
        }}], "protocols", [{"destinationNamedPort": "grpc"}]),
        _rule("own-namespace", "Pass", "from", [{"namespaces": _named_ns(ns)}]),
        _rule("no-dev", "Deny", "from", [{"namespaces": {"matchLabels": {"env": "dev"}}}]),
    ])


def _baseline() -> Doc:
    """The cluster's default for pods no NetworkPolicy isolates (here kube-system's and
    monitoring's, since every app namespace has a default-deny): platform namespaces are
    admitted, dev namespaces are not, and nothing sends mail to the internet."""
    platform = {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": ["kube-system", "monitoring"]}]}
    return _anp("default", None, {"namespaces": {}}, ingress=[
        _rule("platform", "Allow", "from", [{"namespaces": platform}]),
        _rule("no-dev", "Deny", "from", [{"namespaces": {"matchLabels": {"env": "dev"}}}]),
    ], egress=[
        _rule("no-smtp", "Deny", "to", [{"networks": ["0.0.0.0/0", "::/0"]}], "ports", [{"portNumber": {"protocol": "TCP", "port": 25}}]),
    ])


def add_cluster_policies(cluster: Cluster) -> None:
    """Admin-tier guardrails (GUARDRAILS of them, then one per 10 app namespaces) and the
    Baseline, into ``cluster.cluster_policies``; deterministic in the cluster, and drawing
    no random numbers, so the NetworkPolicies and workloads stay those of the same sizes
    and seed without --cluster-policies."""
    docs = _guardrails()
    app = cluster.app_namespaces
    priority = 100
    for k in range(len(app) // 10):
        ns = app[k * 10 + 3]
        # Every tenth one shares the previous one's priority: their subjects are pods of
        # two different namespaces, so no packet meets both and their order never matters.
        if k % 10 != 9:
            priority += 1
        docs.append(_namespace_guardrail(k, ns, cluster.partner_team[ns], priority))
    docs.append(_baseline())
    cluster.cluster_policies = docs


# --------------------------------------------------------------------------- the rewrite


def _to_expressions(selector: dict) -> dict:
    """matchLabels -> matchExpressions In with one value (same meaning)."""
    labels = selector.get("matchLabels") or {}
    exprs = [{"key": k, "operator": "In", "values": [v]} for k, v in labels.items()]
    out = {"matchExpressions": exprs + list(selector.get("matchExpressions") or [])}
    return out if out["matchExpressions"] else {}


def _to_labels(selector: dict) -> dict:
    """matchExpressions In with one value -> matchLabels (same meaning)."""
    labels = dict(selector.get("matchLabels") or {})
    rest = []
    for req in selector.get("matchExpressions") or []:
        if req["operator"] == "In" and len(req["values"]) == 1 and req["key"] not in labels:
            labels[req["key"]] = req["values"][0]
        else:
            rest.append(req)
    out: dict = {}
    if labels:
        out["matchLabels"] = labels
    if rest:
        out["matchExpressions"] = rest
    return out


def _flip_selector(selector: dict) -> dict:
    if not selector:
        return selector
    if selector.get("matchLabels"):
        return _to_expressions(selector)
    return _to_labels(selector)


def _flip_selectors_of_peer(peer: dict) -> dict:
    peer = dict(peer)
    for key in ("podSelector", "namespaceSelector"):
        if key in peer:
            peer[key] = _flip_selector(peer[key])
    return peer


def _rewrite_ports(ports: list[dict]) -> list[dict]:
    """{port: N, endPort: N+1} -> two entries; two entries N, N+1 of one protocol -> a range."""
    out: list[dict] = []
    for entry in ports:
        if isinstance(entry.get("port"), int) and entry.get("endPort") == entry["port"] + 1:
            base = {k: v for k, v in entry.items() if k != "endPort"}
            out += [base, {**base, "port": entry["port"] + 1}]
            continue
        prev = out[-1] if out else None
        if (
            prev is not None
            and isinstance(entry.get("port"), int)
            and isinstance(prev.get("port"), int)
            and "endPort" not in prev
            and "endPort" not in entry
            and prev.get("protocol", "TCP") == entry.get("protocol", "TCP")
            and entry["port"] == prev["port"] + 1
        ):
            out[-1] = {**prev, "endPort": entry["port"]}
            continue
        out.append(dict(entry))
    return out


def _split_rule(rule: dict, peers_key: str) -> list[dict]:
    """One rule per peer (peers of a rule are ORed, so this is the same rule)."""
    peers = rule.get(peers_key)
    if not peers or len(peers) < 2:
        return [rule]
    return [{**rule, peers_key: [peer]} for peer in peers]


def rewrite(cluster: Cluster, seed: int) -> tuple[Cluster, list[str]]:
    """A semantically equivalent rewrite of the cluster's policies, and what was done."""
    rng = random.Random(f"rewrite-{seed}")
    out = copy.deepcopy(cluster)
    counts = {"rules split": 0, "policies split by direction": 0, "selectors flipped": 0, "port lists rewritten": 0, "policyTypes left to defaulting": 0}
    for ns, docs in out.policies.items():
        new_docs: list[Doc] = []
        for doc in docs:
            spec = doc["spec"]
            if spec["podSelector"]:
                spec["podSelector"] = _flip_selector(spec["podSelector"])
                counts["selectors flipped"] += 1
            for direction, peers_key in (("ingress", "from"), ("egress", "to")):
                if direction not in spec:
                    continue
                rules = []
                for rule in spec[direction]:
                    rule = dict(rule)
                    if rule.get(peers_key):
                        rule[peers_key] = [_flip_selectors_of_peer(p) for p in rule[peers_key]]
                    if rule.get("ports"):
                        new_ports = _rewrite_ports(rule["ports"])
                        if new_ports != rule["ports"]:
                            counts["port lists rewritten"] += 1
                        rule["ports"] = new_ports
                    split = _split_rule(rule, peers_key)
                    counts["rules split"] += len(split) > 1
                    rules += split
                rng.shuffle(rules)
                spec[direction] = rules
            name = doc["metadata"]["name"]
            types = spec.get("policyTypes", [])
            if set(types) == {"Ingress", "Egress"} and spec.get("ingress") and spec.get("egress"):
                # Isolation is per direction and allows are a union: one policy per direction.
                ingress = copy.deepcopy(doc)
                ingress["metadata"]["name"] = f"{name}-in"
                ingress["spec"]["policyTypes"] = ["Ingress"]
                del ingress["spec"]["egress"]
                egress = copy.deepcopy(doc)
                egress["metadata"]["name"] = f"{name}-out"
                egress["spec"]["policyTypes"] = ["Egress"]
                del egress["spec"]["ingress"]
                new_docs += [ingress, egress]
                counts["policies split by direction"] += 1
                continue
            if types == ["Ingress"] and "egress" not in spec:
                # policyTypes absent defaults to [Ingress] when there are no egress rules.
                del spec["policyTypes"]
                counts["policyTypes left to defaulting"] += 1
            doc["metadata"]["name"] = f"{name}-v2"
            new_docs.append(doc)
        rng.shuffle(new_docs)
        out.policies[ns] = new_docs
    notes = [f"{v} {k}" for k, v in counts.items()] + ["policies renamed and reordered"]
    return out, notes


# --------------------------------------------------------------------------- the mutation


def _policy_named(cluster: Cluster, ns: str, name: str) -> Doc | None:
    return next((d for d in cluster.policies[ns] if d["metadata"]["name"] == name), None)


def mutate(cluster: Cluster, mutation_seed: int) -> tuple[Cluster, str]:
    """The cluster with one change of meaning, and a sentence saying which.

    Each site is chosen so the change is visible over npverify's default universe (no
    other rule of the generated shapes covers the packets it adds or removes).
    """
    rng = random.Random(f"mutation-{mutation_seed}")
    out = copy.deepcopy(cluster)
    # Every (kind, namespace, policy name, how) site that exists at these sizes.
    sites = []
    for ns in out.app_namespaces:
        names = {d["metadata"]["name"] for d in out.policies[ns]}
        for name in names:
            if name == "web-public":
                sites += [("port-widened", ns, name), ("except-removed", ns, name), ("label-value-changed", ns, name), ("policy-type-dropped", ns, name)]
            elif name == "egress-internet":
                sites += [("port-widened", ns, name), ("except-removed", ns, name)]
            elif name == "api":
                sites += [("policy-type-dropped", ns, name), ("peer-and-to-or", ns, name)]
            elif name == "allow-dns":
                sites += [("peer-and-to-or", ns, name)]
            elif name.startswith("from-"):
                sites += [("label-value-changed", ns, name), ("peer-and-to-or", ns, name)]
            elif name == "allow-monitoring":
                sites += [("port-widened", ns, name), ("peer-and-to-or", ns, name), ("label-value-changed", ns, name)]
    sites.sort()
    if not sites:
        raise SystemExit("generate.py: no mutation site at this size; use --policies-per-namespace 2 or more")
    kinds = sorted({s[0] for s in sites})
    assert set(kinds) <= set(MUTATIONS)
    kind = kinds[rng.randrange(len(kinds))]
    _, ns, name = rng.choice([s for s in sites if s[0] == kind])
    spec = _policy_named(out, ns, name)["spec"]
    where = f"{ns}/{name}"
    if kind == "port-widened":
        if name == "allow-monitoring":
            entry = spec["ingress"][0]["ports"][0]
            entry["endPort"] += 1
            what = f"{where} ingress[0].ports[0]: endPort {entry['endPort'] - 1} -> {entry['endPort']}"
        else:
            direction = "ingress" if name == "web-public" else "egress"
            entry = next(p for p in spec[direction][0]["ports"] if isinstance(p.get("port"), int))
            entry["endPort"] = entry["port"] + 1
            what = f"{where} {direction}[0]: port {entry['port']} -> {entry['port']}-{entry['endPort']}"
    elif kind == "except-removed":
        direction, peers = ("ingress", "from") if name == "web-public" else ("egress", "to")
        block = spec[direction][0][peers][0]["ipBlock"]
        removed = block["except"].pop(rng.randrange(len(block["except"])))
        what = f"{where} {direction}[0].{peers}[0].ipBlock: except {removed} removed"
    elif kind == "label-value-changed":
        if name == "web-public":
            spec["podSelector"]["matchLabels"]["tier"] = "frontend"
            what = f"{where} spec.podSelector: tier=web -> tier=frontend"
        elif name == "allow-monitoring":
            spec["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app"] = "prometheus-operator"
            what = f"{where} ingress[0].from[0].podSelector: app=prometheus -> app=prometheus-operator"
        else:
            labels = spec["ingress"][0]["from"][0]["namespaceSelector"]["matchLabels"]
            old = labels["team"]
            labels["team"] = next(t for t in TEAMS[1:] + TEAMS[:1] if t != old)
            what = f"{where} ingress[0].from[0].namespaceSelector: team={old} -> team={labels['team']}"
    elif kind == "policy-type-dropped":
        dropped = "Ingress" if name == "web-public" else "Egress"
        spec["policyTypes"].remove(dropped)
        what = f"{where} spec.policyTypes: {dropped} dropped"
    else:
        direction, peers = ("egress", "to") if name in ("api", "allow-dns") else ("ingress", "from")
        index = 1 if name == "api" else 0
        rule = spec[direction][index]
        peer = rule[peers][0]
        rule[peers] = [{"namespaceSelector": peer["namespaceSelector"]}, {"podSelector": peer["podSelector"]}] + rule[peers][1:]
        what = f"{where} {direction}[{index}].{peers}[0]: namespaceSelector AND podSelector -> two peers (OR)"
    return out, f"{kind}: {what}"


# --------------------------------------------------------------------------- invariants


def invariants(cluster: Cluster) -> dict:
    """Ten invariants across the cluster's namespaces, of the kinds isolated, allowed,
    reachable and only."""
    app = cluster.app_namespaces
    by_env = {env: [n for n in app if cluster.ns_labels[n]["env"] == env] for env in ENVS}
    prod = by_env["prod"][0] if by_env["prod"] else app[0]
    other_prod = by_env["prod"][1] if len(by_env["prod"]) > 1 else app[-1]
    dev = by_env["dev"][0] if by_env["dev"] else app[-1]
    staging = by_env["staging"][0] if by_env["staging"] else app[-1]
    db_ns = next((n for n in app if "db" in cluster.tiers[n]), app[0])
    # A named database when there is one (its pods have its ports), else any db-tier pod.
    db_scope = {"namespace": db_ns, "workload": cluster.tiers[db_ns]["db"][0]} if "db" in cluster.tiers[db_ns] else {"namespace": db_ns, "pod": {"matchLabels": {"tier": "db"}}}
    partners = [n for n in app if cluster.ns_labels[n]["team"] == cluster.partner_team.get(prod) and cluster.ns_labels[n]["env"] != "dev"]
    caller = next((n for n in partners if n != prod), partners[0] if partners else staging)
    web = {"matchLabels": {"tier": "web"}}
    internet = {"cidr": "0.0.0.0/0", "except": list(PRIVATE)}
    items = [
        {"name": f"dev namespace {dev} cannot reach prod namespace {prod}",
         "isolated": {"from": {"namespace": dev}, "to": {"namespace": prod}}},
        {"name": f"{prod} resolves names through kube-dns",
         "reachable": {"from": {"namespace": prod}, "to": {"namespace": "kube-system", "workload": "kube-dns"}, "ports": [{"protocol": "UDP", "port": 53}]}},
        {"name": f"the internet reaches the web tier of {prod} on 8443",
         "allowed": {"from": {"ipBlock": internet, "kind": "external"}, "to": {"namespace": prod, "pod": web}, "ports": [{"protocol": "TCP", "port": 8443}]}},
        {"name": f"the databases of {db_ns} never talk to the internet",
         "isolated": {"from": {"namespace": db_ns, "pod": {"matchLabels": {"tier": "db"}}}, "to": {"ipBlock": {"cidr": "0.0.0.0/0"}, "kind": "external"}}},
        {"name": f"only api and worker pods of {db_ns} reach its database {db_scope.get('workload', '')} on 5432".replace("  ", " "),
         "only": {"from": {"namespace": db_ns, "pod": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["api", "worker"]}]}},
                  "to": db_scope, "ports": [{"protocol": "TCP", "port": 5432}]}},
        {"name": f"no pod of {other_prod} reaches the cloud metadata service",
         "isolated": {"from": {"namespace": other_prod}, "to": {"ipBlock": {"cidr": METADATA}, "kind": "external"}}},
        {"name": f"prometheus scrapes the api of {staging}",
         "reachable": {"from": {"namespace": "monitoring", "workload": "prometheus"}, "to": {"namespace": staging, "pod": {"matchLabels": {"tier": "api"}}}, "ports": [{"port": "metrics"}]}},
        {"name": f"the api of {caller} reaches the api of {prod} over grpc",
         "reachable": {"from": {"namespace": caller, "pod": {"matchLabels": {"tier": "api"}}}, "to": {"namespace": prod, "pod": {"matchLabels": {"tier": "api"}}}, "ports": [{"port": "grpc"}]}},
        {"name": f"staging namespaces never reach prod namespace {prod}",
         "isolated": {"from": {"namespace": {"matchLabels": {"env": "staging"}}}, "to": {"namespace": prod}}},
        {"name": f"only pods reach the workers of {prod}",
         "only": {"from": {"kind": "pod"}, "to": {"namespace": prod, "pod": {"matchLabels": {"tier": "worker"}}}}},
    ]
    assert len(items) == BASE_INVARIANTS
    if cluster.cluster_policies:
        items += tier_invariants(cluster)
    return {"manifests": ["k8s/"], "universe": {"podCIDRs": [POD_CIDR]}, "invariants": items}


def tier_invariants(cluster: Cluster) -> list[dict]:
    """Invariants the Admin and Baseline tiers decide. Each holds on the generated
    cluster with its cluster policies (PROVED) and, where the NetworkPolicies alone decide
    otherwise, fails without them: the comments say which, and at which sizes."""
    app = cluster.app_namespaces
    items = [
        # PROVED (dev-egress-lockdown, Admin). Without the tiers REFUTED whenever there is a
        # dev namespace (3 namespaces or more) and its egress-internet policy (5 policies
        # per namespace or more) admits TCP 443 to the whole internet.
        {"name": "dev namespaces reach the internet only through the egress proxy",
         "isolated": {"from": {"namespace": {"matchLabels": {"env": "dev"}}},
                      "to": {"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE + [PROXY]}, "kind": "external"}}},
        # PROVED (the Baseline's no-smtp: monitoring has no NetworkPolicy, so no tier above
        # decides its egress). Without the tiers REFUTED: nothing isolates prometheus.
        {"name": "prometheus never sends mail to the internet",
         "isolated": {"from": {"namespace": "monitoring", "workload": "prometheus"},
                      "to": {"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE)}, "kind": "external"},
                      "ports": [{"protocol": "TCP", "port": 25}]}},
    ]
    # The analytics exception, where the cluster has both ends: an analytics namespace
    # outside dev (dev's egress lockdown passes cluster addresses to the namespace's own
    # policies) with a worker, and a staging namespace with a database.
    analytics = next((n for n in app if cluster.ns_labels[n]["team"] == "analytics" and cluster.ns_labels[n]["env"] != "dev"
                      and "worker" in cluster.tiers[n]), None)
    staging_db = next((n for n in app if cluster.ns_labels[n]["env"] == "staging" and "db" in cluster.tiers[n]), None)
    if analytics and staging_db:
        # PROVED (analytics-reads-staging-db and analytics-to-staging-db, Admin, both at
        # priority 50). Without the tiers REFUTED: default-deny isolates both ends and no
        # NetworkPolicy admits another namespace's workers to a database.
        items.append(
            {"name": f"the workers of {analytics} read the database of {staging_db}",
             "reachable": {"from": {"namespace": analytics, "workload": cluster.tiers[analytics]["worker"][0]},
                           "to": {"namespace": staging_db, "workload": cluster.tiers[staging_db]["db"][0]},
                           "ports": [{"port": "db"}]}}
        )
    return items


# --------------------------------------------------------------------------- writing


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes shared objects out in full instead of as YAML anchors and aliases.

    libyaml's emitter when PyYAML has it (several times faster at 100,000 pods; the
    same bytes as the pure-Python one for these documents).
    """

    def ignore_aliases(self, data) -> bool:
        return True


def _dump(path: str, docs: list[Doc], header: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"# {header}\n")
        f.write(yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=120))


def write(cluster: Cluster, out: str, header: str) -> None:
    """Write the manifests under ``out/k8s/`` and the invariants to ``out/invariants.yaml``."""
    k8s = os.path.join(out, "k8s")
    if os.path.isdir(k8s):
        for folder, _, names in os.walk(k8s):
            for name in names:
                with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
                    if not f.readline().startswith("# generated by benchmarks/generate.py"):
                        raise SystemExit(f"generate.py: {k8s} holds files this script did not write ({name}); choose another --out")
        shutil.rmtree(k8s)
    _dump(os.path.join(k8s, "namespaces.yaml"), cluster.namespaces, header)
    for ns, docs in cluster.workloads.items():
        _dump(os.path.join(k8s, "workloads", f"{ns}.yaml"), docs, header)
    for ns, docs in cluster.policies.items():
        _dump(os.path.join(k8s, "policies", f"{ns}.yaml"), docs, header)
    if cluster.cluster_policies:
        _dump(os.path.join(k8s, "cluster-policies.yaml"), cluster.cluster_policies, header)
    with open(os.path.join(out, "invariants.yaml"), "w", encoding="utf-8") as f:
        f.write(f"# {header}\n")
        f.write(yaml.dump(invariants(cluster), Dumper=_Dumper, sort_keys=False, default_flow_style=None, width=200))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--namespaces", type=int, required=True, help="app namespaces (kube-system and monitoring are added)")
    parser.add_argument("--pods-per-namespace", type=int, required=True, help="workloads per namespace, one pod each")
    parser.add_argument("--policies-per-namespace", type=int, required=True, help="NetworkPolicies per namespace")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variant", choices=("original", "rewrite", "mutation"), default="original")
    parser.add_argument("--mutation-seed", type=int, default=1, help=f"picks one of {', '.join(MUTATIONS)} and its site")
    parser.add_argument(
        "--cluster-policies", action="store_true",
        help=f"also write k8s/cluster-policies.yaml: {GUARDRAILS} Admin-tier guardrails, one more per 10 namespaces, and a Baseline; "
        "the invariants file gains the ones the tiers decide",
    )
    parser.add_argument("--out", required=True, help="output folder (its k8s/ is replaced)")
    args = parser.parse_args(argv)
    if args.namespaces < 1 or args.pods_per_namespace < 1 or args.policies_per_namespace < 1:
        parser.error("--namespaces, --pods-per-namespace and --policies-per-namespace must be at least 1")
    cluster = build(args.namespaces, args.pods_per_namespace, args.policies_per_namespace, args.seed)
    if args.cluster_policies:
        add_cluster_policies(cluster)
    sizes = f"--namespaces {args.namespaces} --pods-per-namespace {args.pods_per_namespace} --policies-per-namespace {args.policies_per_namespace} --seed {args.seed}"
    if args.cluster_policies:
        sizes += " --cluster-policies"
    header = f"generated by benchmarks/generate.py {sizes} --variant {args.variant}"
    if args.variant == "rewrite":
        cluster, notes = rewrite(cluster, args.seed)
        print("rewrite: " + "; ".join(notes))
    elif args.variant == "mutation":
        header += f" --mutation-seed {args.mutation_seed}"
        cluster, what = mutate(cluster, args.mutation_seed)
        header += f"\n# mutation: {what}"
        print(f"mutation: {what}")
    write(cluster, args.out, header)
    n_policies = sum(len(d) for d in cluster.policies.values())
    n_pods = sum(len(d) for d in cluster.workloads.values())
    n_invariants = len(invariants(cluster)["invariants"])
    tiered = ""
    if cluster.cluster_policies:
        admin = sum(1 for d in cluster.cluster_policies if d["kind"] != "BaselineAdminNetworkPolicy" and d["spec"].get("tier", "Admin") == "Admin")
        tiered = f", {admin} Admin-tier and {len(cluster.cluster_policies) - admin} Baseline-tier policies"
    print(f"wrote {args.out}: {len(cluster.namespaces)} namespaces, {n_pods} workloads, {n_policies} NetworkPolicies{tiered}, {n_invariants} invariants", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
