"""Random Kubernetes clusters for the cross-check against network-config-analyzer (NCA).

A cluster is a list of manifest documents (plain dicts, written as YAML): Namespaces with
labels, Pods with labels and named container ports, and NetworkPolicies that use every
field of ``networking.k8s.io/v1``. Generation is a pure function of the seed, so a failing
cluster is reproduced by its seed alone.

Pools are small on purpose: few label keys and values, few port numbers and addresses, so
that selectors, port ranges and CIDRs overlap and interact instead of missing each other.

Constructs where NCA deviates from the Kubernetes API are not generated; each exclusion
names its section of docs/crosscheck.md.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

Doc = dict[str, Any]

NAMESPACE_NAMES = ("alpha", "beta", "gamma")
#: Label keys of pods and namespaces; selectors also ask for ``absent`` (on nobody).
LABEL_KEYS = ("app", "tier", "example.com/team")
SELECTOR_ONLY_KEYS = ("absent",)
#: The empty string is a valid label value (see docs/crosscheck.md, "Empty label values").
LABEL_VALUES = ("a", "b", "")
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

PROTOCOLS = ("TCP", "UDP", "SCTP")
PORT_NAMES = ("http", "dns", "metrics", "web")
#: ``nosuch`` is a named port no pod has.
POLICY_PORT_NAMES = PORT_NAMES + ("nosuch",)
CONTAINER_PORT_NUMBERS = (53, 80, 81, 443, 8080)
POLICY_PORT_NUMBERS = (1, 53, 79, 80, 81, 443, 1000, 8080, 65535)
END_PORT_OFFSETS = (0, 1, 2, 400, 70000)  # capped at 65535

#: Addresses CIDRs are cut from; nearby on purpose so that blocks nest and overlap.
CIDR_ADDRESSES = ("10.0.0.0", "10.1.0.0", "10.1.2.0", "10.1.2.3", "10.1.128.7", "192.168.0.0", "0.0.0.0")
CIDR_PREFIXES = (0, 8, 9, 16, 17, 24, 31, 32)

SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


class ClusterGenerator:
    """Draws one cluster from a seeded ``random.Random``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- cluster --------------------------------------------------------------------

    def cluster(self) -> list[Doc]:
        rng = self.rng
        namespaces = sorted(rng.sample(NAMESPACE_NAMES, rng.randint(2, 3)))
        # Sometimes a namespace holds pods but has no Namespace object: both tools then
        # give it only its kubernetes.io/metadata.name label.
        undeclared = rng.choice(namespaces) if self.chance(0.15) else None
        self.namespaces = namespaces
        docs: list[Doc] = [self.namespace(ns) for ns in namespaces if ns != undeclared]
        pod_count = rng.randint(2, 6)
        docs += [self.pod(f"p{i}", rng.choice(namespaces)) for i in range(pod_count)]
        docs += [self.policy(f"np{i}", rng.choice(namespaces)) for i in range(rng.randint(1, 4))]
        return docs

    def labels(self, max_count: int) -> dict[str, str]:
        keys = self.rng.sample(LABEL_KEYS, self.rng.randint(0, max_count))
        return {k: self.rng.choice(LABEL_VALUES) for k in sorted(keys)}

    def namespace(self, name: str) -> Doc:
        doc: Doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        labels = self.labels(2)
        if labels or self.chance(0.5):
            doc["metadata"]["labels"] = labels
        return doc

    def pod(self, name: str, namespace: str) -> Doc:
        rng = self.rng
        metadata: Doc = {"name": name, "namespace": namespace}
        labels = self.labels(3)
        if labels or self.chance(0.5):
            metadata["labels"] = labels
        # Container port names are unique within a pod, and so is (number, protocol).
        names = list(rng.sample(PORT_NAMES, len(PORT_NAMES)))
        used: set[tuple[int, str]] = set()
        containers = []
        for c in range(rng.randint(1, 2)):
            ports = []
            for _ in range(rng.randint(0, 3)):
                number, protocol = rng.choice(CONTAINER_PORT_NUMBERS), rng.choice(PROTOCOLS)
                if (number, protocol) in used:
                    continue
                used.add((number, protocol))
                port: Doc = {"containerPort": number}
                if names and self.chance(0.8):
                    port["name"] = names.pop()
                if protocol != "TCP" or self.chance(0.5):
                    port["protocol"] = protocol
                ports.append(port)
            container: Doc = {"name": f"c{c}", "image": "example"}
            if ports:
                container["ports"] = ports
            containers.append(container)
        return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": {"containers": containers}}

    # --- policies -------------------------------------------------------------------

    def policy(self, name: str, namespace: str) -> Doc:
        rng = self.rng
        spec: Doc = {"podSelector": self.selector(namespace_selector=False)}
        # Not ["Egress", "Ingress"]: NCA rejects that order (docs/crosscheck.md,
        # "policyTypes in another order").
        types = rng.choice([None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"]])
        if types is not None:
            spec["policyTypes"] = types
        for direction, policy_type in (("ingress", "Ingress"), ("egress", "Egress")):
            shape = rng.choice(["absent", "empty", "rules", "rules", "rules"])
            if types and policy_type not in types:
                # NCA rejects rules (even an empty list) for a direction policyTypes leaves
                # out: docs/crosscheck.md, "Rules for a direction not in policyTypes".
                shape = "absent"
            if not types and direction == "egress" and shape == "empty":
                # NCA reads a bare `egress: []` as adding Egress to defaulted policyTypes:
                # docs/crosscheck.md, "Defaulted policyTypes and an empty egress list".
                shape = rng.choice(["absent", "rules"])
            if shape == "empty":
                spec[direction] = []
            elif shape == "rules":
                spec[direction] = [self.rule("from" if direction == "ingress" else "to") for _ in range(rng.randint(1, 3))]
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace},
            "spec": spec,
        }

    def rule(self, peers_key: str) -> Doc:
        rng = self.rng
        rule: Doc = {}
        shape = rng.choice(["absent", "empty", "list", "list", "list"])
        if shape == "empty":
            rule[peers_key] = []
        elif shape == "list":
            rule[peers_key] = [self.peer() for _ in range(rng.randint(1, 3))]
        shape = rng.choice(["absent", "empty", "list", "list"])
        if shape == "empty":
            rule["ports"] = []
        elif shape == "list":
            rule["ports"] = [self.port() for _ in range(rng.randint(1, 3))]
        return rule

    def peer(self) -> Doc:
        kind = self.rng.choice(["pod", "namespace", "both", "both", "ipBlock"])
        if kind == "ipBlock":
            return {"ipBlock": self.ip_block()}
        peer: Doc = {}
        if kind in ("pod", "both"):
            peer["podSelector"] = self.selector(namespace_selector=False)
        if kind in ("namespace", "both"):
            peer["namespaceSelector"] = self.selector(namespace_selector=True)
        return peer

    def selector(self, namespace_selector: bool) -> Doc:
        """A label selector; every operator, empty and absent parts."""
        rng = self.rng
        shape = rng.choice(["empty", "labels", "expressions", "both", "both", "empty-parts"])
        if shape == "empty":
            return {}
        if shape == "empty-parts":
            return rng.choice([{"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": {}, "matchExpressions": []}])
        selector: Doc = {}
        if shape in ("labels", "both"):
            keys = rng.sample(self.selector_keys(namespace_selector), rng.randint(1, 2))
            selector["matchLabels"] = {k: self.selector_value(k, namespace_selector) for k in keys}
        if shape in ("expressions", "both"):
            selector["matchExpressions"] = [self.requirement(namespace_selector) for _ in range(rng.randint(1, 2))]
        return selector

    def selector_keys(self, namespace_selector: bool) -> list[str]:
        keys = list(LABEL_KEYS + SELECTOR_ONLY_KEYS)
        if namespace_selector:
            keys.append(NAMESPACE_NAME_LABEL)
        return keys

    def selector_value(self, key: str, namespace_selector: bool) -> str:
        if key == NAMESPACE_NAME_LABEL:
            return self.rng.choice(self.namespaces + ["other"])
        return self.rng.choice(LABEL_VALUES)

    def requirement(self, namespace_selector: bool) -> Doc:
        rng = self.rng
        key = rng.choice(self.selector_keys(namespace_selector))
        operator = rng.choice(SELECTOR_OPERATORS)
        requirement: Doc = {"key": key, "operator": operator}
        if operator in ("In", "NotIn"):
            count = rng.randint(1, 2)
            requirement["values"] = sorted({self.selector_value(key, namespace_selector) for _ in range(count)})
        elif self.chance(0.3):
            requirement["values"] = []
        return requirement

    def ip_block(self) -> Doc:
        rng = self.rng
        cidr = self.network(rng.choice(CIDR_ADDRESSES), rng.choice(CIDR_PREFIXES))
        block: Doc = {"cidr": str(cidr)}
        excepts = []
        if cidr.prefixlen < 32:
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                # A strict subset of cidr (the API server rejects anything else).
                prefix = rng.randint(cidr.prefixlen + 1, min(32, cidr.prefixlen + 12))
                inside = int(cidr.network_address) + rng.randrange(cidr.num_addresses)
                excepts.append(str(self.network(str(ipaddress.IPv4Address(inside)), prefix)))
        if excepts:
            block["except"] = excepts
        elif self.chance(0.3):
            block["except"] = []
        return block

    @staticmethod
    def network(address: str, prefix: int) -> ipaddress.IPv4Network:
        return ipaddress.ip_network(f"{address}/{prefix}", strict=False)

    def port(self) -> Doc:
        rng = self.rng
        kind = rng.choice(["all", "number", "number", "named", "range", "range"])
        port: Doc = {}
        if kind == "number":
            port["port"] = rng.choice(POLICY_PORT_NUMBERS)
        elif kind == "named":
            port["port"] = rng.choice(POLICY_PORT_NAMES)
        elif kind == "range":
            start = rng.choice(POLICY_PORT_NUMBERS)
            port["port"] = start
            port["endPort"] = min(65535, start + rng.choice(END_PORT_OFFSETS))
        protocol = rng.choice(PROTOCOLS)
        if protocol != "TCP" or self.chance(0.5):
            port["protocol"] = protocol
        return port


def generate(seed: int) -> list[Doc]:
    """The manifest documents of cluster number ``seed``."""
    return ClusterGenerator(seed).cluster()
