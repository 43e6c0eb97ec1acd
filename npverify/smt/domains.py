"""Finite domains for the encoding: the label keys, values, namespaces and port names that matter.

Selectors only ask whether a key is present and whether its value is one of finitely many
strings, so a label key's domain is {absent, each mentioned value, "other"}: every value
nobody mentions behaves alike. Likewise for namespace names (declared and mentioned ones
plus fresh ones) and named ports.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from npverify.invariants.model import Invariant, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ClusterPolicy,
    LabelSelector,
    NetworkPolicy,
    PolicyPort,
    Universe,
)

#: Fresh namespaces: two endpoints need at most two namespaces nobody named.
FRESH_NAMESPACES = 2


@attrs.frozen
class Mentions:
    """What selectors and ports of policies and invariants mention."""

    pod_values: dict[str, frozenset[str]] = attrs.field(factory=dict)
    namespace_values: dict[str, frozenset[str]] = attrs.field(factory=dict)
    namespace_names: frozenset[str] = frozenset()
    port_names: frozenset[str] = frozenset()
    #: Keys (``ns/Kind/name``) of workloads a question names: each gets an encoding class
    #: of its own, so "a pod of this workload" is exact (see Encoding's workload classes).
    workloads: frozenset[str] = frozenset()

    def covers(self, other: Mentions) -> bool:
        # A key counts even with no values (Exists/DoesNotExist): it needs a variable.
        return (
            all(k in self.pod_values and v <= self.pod_values[k] for k, v in other.pod_values.items())
            and all(k in self.namespace_values and v <= self.namespace_values[k] for k, v in other.namespace_values.items())
            and other.namespace_names <= self.namespace_names
            and other.port_names <= self.port_names
            and other.workloads <= self.workloads
        )

    def union(self, other: Mentions) -> Mentions:
        def merge(a: dict[str, frozenset[str]], b: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
            out = dict(a)
            for k, v in b.items():
                out[k] = out.get(k, frozenset()) | v
            return out

        return Mentions(
            merge(self.pod_values, other.pod_values),
            merge(self.namespace_values, other.namespace_values),
            self.namespace_names | other.namespace_names,
            self.port_names | other.port_names,
            self.workloads | other.workloads,
        )


class _Collector:
    def __init__(self) -> None:
        self.pod: dict[str, set[str]] = {}
        self.ns: dict[str, set[str]] = {}
        self.names: set[str] = set()
        self.ports: set[str] = set()

    def selector(self, target: dict[str, set[str]], selector: LabelSelector | None) -> None:
        if selector is None:
            return
        for req in selector.requirements():
            target.setdefault(req.key, set()).update(req.values)
            if target is self.ns and req.key == NAMESPACE_NAME_LABEL:
                self.names.update(req.values)

    def port_entries(self, ports: Iterable[PolicyPort]) -> None:
        self.ports.update(p.port for p in ports if isinstance(p.port, str))

    def policy(self, policy: NetworkPolicy | ClusterPolicy) -> None:
        if isinstance(policy, ClusterPolicy):
            self.cluster_policy(policy)
            return
        self.names.add(policy.namespace)
        self.selector(self.pod, policy.pod_selector)
        for rule in policy.ingress + policy.egress:
            self.port_entries(rule.ports)
            for peer in rule.peers:
                self.selector(self.pod, peer.pod_selector)
                self.selector(self.ns, peer.namespace_selector)

    def cluster_policy(self, policy: ClusterPolicy) -> None:
        pod_sets = [policy.subject]
        for rule in policy.ingress + policy.egress:
            self.ports.update(p.named for p in rule.ports if p.named is not None)
            pod_sets += [peer.pods for peer in rule.peers if peer.pods is not None]
        for pods in pod_sets:
            self.selector(self.ns, pods.namespace_selector)
            self.selector(self.pod, pods.pod_selector)

    def scope(self, scope: Scope) -> None:
        if isinstance(scope.namespace, str):
            self.names.add(scope.namespace)
        else:
            self.selector(self.ns, scope.namespace)
        self.selector(self.pod, scope.pod)

    def invariant(self, invariant: Invariant) -> None:
        self.scope(invariant.src)
        self.scope(invariant.dst)
        self.port_entries(invariant.ports)

    def result(self) -> Mentions:
        return Mentions(
            {k: frozenset(v) for k, v in self.pod.items()},
            {k: frozenset(v) for k, v in self.ns.items()},
            frozenset(self.names),
            frozenset(self.ports),
        )


def mentions_of(policies: Iterable[NetworkPolicy | ClusterPolicy] = (), invariants: Iterable[Invariant] = ()) -> Mentions:
    collector = _Collector()
    for policy in policies:
        collector.policy(policy)
    for invariant in invariants:
        collector.invariant(invariant)
    return collector.result()


@attrs.frozen
class LabelDomain:
    """Codes for one label key: 0 = absent, 1..n = ``values``, n+1 = any other value."""

    key: str
    values: tuple[str, ...]

    @property
    def other(self) -> int:
        return len(self.values) + 1

    def code(self, labels: dict[str, str] | object) -> int:
        if self.key not in labels:  # type: ignore[operator]
            return 0
        value = labels[self.key]  # type: ignore[index]
        try:
            return self.values.index(value) + 1
        except ValueError:
            return self.other


@attrs.frozen
class Domains:
    """Everything the encoding needs to know about the finite parts of the universe."""

    pod_keys: tuple[LabelDomain, ...]
    namespace_keys: tuple[LabelDomain, ...]
    #: Namespace names by code; the last ``fresh`` are names nobody mentioned.
    namespaces: tuple[str, ...]
    fresh: int
    port_names: tuple[str, ...]
    #: Code by namespace name.
    namespace_codes: dict[str, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "namespace_codes", {name: code for code, name in enumerate(self.namespaces)})

    def namespace_code(self, name: str) -> int:
        return self.namespace_codes[name]


def build_domains(cluster: Cluster, mentions: Mentions, universe: Universe) -> Domains:
    """Domains from what is mentioned, widened by the values loaded objects carry."""
    pod_values = {k: set(v) for k, v in mentions.pod_values.items()}
    for workload in cluster.workloads:
        for key in pod_values:
            if key in workload.labels:
                pod_values[key].add(workload.labels[key])
    ns_values = {k: set(v) for k, v in mentions.namespace_values.items()}
    for ns in cluster.namespaces:
        for key in ns_values:
            if key in ns.labels:
                ns_values[key].add(ns.labels[key])
    known = cluster.namespace_names()
    # Namespaces in order of the labels selectors read, then of name: namespaces that no
    # selector tells apart get neighbouring codes, so a selector over thousands of
    # namespaces is a few ranges of codes (Encoding.namespace_code_in), not one per namespace.
    label_keys = sorted(k for k in ns_values if k != NAMESPACE_NAME_LABEL)

    def by_labels(name: str) -> tuple:
        declared = cluster.namespace(name)
        labels = declared.labels if declared is not None else {}
        return tuple((key in labels, labels.get(key, "")) for key in label_keys), name

    if universe.namespaces == "declared":
        names = sorted(known, key=by_labels)
        fresh_names: list[str] = []
    else:
        names = sorted(known | mentions.namespace_names, key=by_labels)
        fresh_names = [f"<fresh-{i + 1}>" for i in range(FRESH_NAMESPACES)]
    if NAMESPACE_NAME_LABEL in ns_values:
        ns_values[NAMESPACE_NAME_LABEL].update(names)
    return Domains(
        tuple(LabelDomain(k, tuple(sorted(v))) for k, v in sorted(pod_values.items())),
        tuple(LabelDomain(k, tuple(sorted(v))) for k, v in sorted(ns_values.items())),
        tuple(names + fresh_names),
        len(fresh_names),
        tuple(sorted(mentions.port_names)),
    )
