"""Random Kubernetes clusters for the cross-check against network-config-analyzer (NCA).

A cluster is a list of manifest documents (plain dicts, written as YAML): Namespaces with
labels, Pods with labels and named container ports, and NetworkPolicies that use every
field of ``networking.k8s.io/v1``: podSelector, namespaceSelector, both, ipBlock (IPv4 and
IPv6) with and without except, ports by number, by name and as endPort ranges, every
protocol, policyTypes absent, null, empty and set, lists absent, null, empty and full, and
every selector operator. Generation is a pure function of the seed, so a failing cluster
is reproduced by its seed alone.

Pools are small on purpose (few label keys and values, port numbers, addresses), so that
selectors, port ranges and CIDRs overlap. Half of all selectors are aimed at an existing
pod or namespace (built from its labels, so they select it and perhaps others): random
selectors alone mostly select nothing, and a cluster where no policy selects a pod
compares nothing.

Constructs where NCA deviates from the Kubernetes API are not generated; each exclusion
names its section of docs/crosscheck.md.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

Doc = dict[str, Any]

#: ``default`` is where objects without metadata.namespace go.
NAMESPACE_NAMES = ("alpha", "beta", "gamma", "default")
#: Label keys of pods and namespaces; selectors also ask for ``absent`` (on nobody).
LABEL_KEYS = ("app", "tier", "example.com/team")
SELECTOR_ONLY_KEYS = ("absent",)
#: The empty string is a valid label value.
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
CIDR6_ADDRESSES = ("::", "fd00::", "fd00::1:0", "fd00::1:5", "2001:db8::")
CIDR6_PREFIXES = (0, 8, 64, 112, 120, 127, 128)

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
#: Operators of a podSelector next to a namespaceSelector. Not Exists/DoesNotExist: NCA
#: looks for such pods in the policy's own namespace only, whatever the namespaceSelector
#: says (docs/crosscheck.md, "Exists and DoesNotExist next to a namespaceSelector").
OPERATORS_NEXT_TO_NAMESPACE_SELECTOR = ("In", "NotIn")


class ClusterGenerator:
    """Draws one cluster from a seeded ``random.Random``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        #: Labels of every namespace, as the API server keeps them (with the name label).
        self.namespace_labels: dict[str, dict[str, str]] = {}
        #: Namespace and labels of every pod.
        self.pod_labels: list[tuple[str, dict[str, str]]] = []
        #: The namespace of the policy being drawn.
        self.policy_namespace = ""

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- cluster --------------------------------------------------------------------

    def cluster(self) -> list[Doc]:
        rng = self.rng
        namespaces = sorted(rng.sample(NAMESPACE_NAMES, rng.randint(2, 3)))
        # Sometimes a namespace holds objects but has no Namespace document: both tools
        # then give it only its kubernetes.io/metadata.name label.
        undeclared = rng.choice(namespaces) if self.chance(0.15) else None
        docs: list[Doc] = []
        for ns in namespaces:
            self.namespace_labels[ns] = {NAMESPACE_NAME_LABEL: ns}
            if ns != undeclared:
                docs.append(self.namespace(ns))
        pods = [self.pod(f"p{i}", rng.choice(namespaces)) for i in range(rng.randint(2, 6))]
        docs += pods
        # Policies mostly live where pods are, so that they select some.
        homes = sorted({p["metadata"].get("namespace", "default") for p in pods})
        docs += [
            self.policy(f"np{i}", rng.choice(homes if self.chance(0.85) else namespaces))
            for i in range(rng.randint(1, 4))
        ]
        return docs

    def labels(self, max_count: int) -> dict[str, str]:
        keys = self.rng.sample(LABEL_KEYS, self.rng.randint(0, max_count))
        return {k: self.rng.choice(LABEL_VALUES) for k in sorted(keys)}

    def namespace(self, name: str) -> Doc:
        doc: Doc = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        labels = self.labels(2)
        self.namespace_labels[name].update(labels)
        # Never a kubernetes.io/metadata.name label with another value than the name: the
        # API server replaces it, NCA keeps it (docs/crosscheck.md, "The namespace name
        # label"). The label with the right value is fine.
        if self.chance(0.1):
            labels[NAMESPACE_NAME_LABEL] = name
        if labels or self.chance(0.5):
            doc["metadata"]["labels"] = labels
        return doc

    def metadata(self, name: str, namespace: str) -> Doc:
        """Objects in ``default`` often leave metadata.namespace out."""
        if namespace == "default" and self.chance(0.5):
            return {"name": name}
        return {"name": name, "namespace": namespace}

    def pod(self, name: str, namespace: str) -> Doc:
        rng = self.rng
        metadata = self.metadata(name, namespace)
        labels = self.labels(3)
        self.pod_labels.append((namespace, labels))
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
        self.policy_namespace = namespace
        spec: Doc = {"podSelector": self.selector("pod", local=True)}
        # Not ["Egress", "Ingress"]: NCA rejects that order (docs/crosscheck.md,
        # "policyTypes in another order").
        types = rng.choice(["absent", None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"], ["Ingress", "Egress"]])
        if types != "absent":
            spec["policyTypes"] = types
        types = types if isinstance(types, list) else []
        for direction, policy_type in (("ingress", "Ingress"), ("egress", "Egress")):
            shape = rng.choice(["absent", "empty", "null", "rules", "rules", "rules", "rules"])
            if types and policy_type not in types:
                # NCA rejects rules (even an empty list) for a direction policyTypes leaves
                # out: docs/crosscheck.md, "Rules for a direction not in policyTypes".
                shape = "absent"
            if not types and direction == "egress" and shape in ("empty", "null"):
                # NCA reads a bare `egress: []` as adding Egress to defaulted policyTypes:
                # docs/crosscheck.md, "Defaulted policyTypes and an empty egress list".
                shape = rng.choice(["absent", "rules"])
            if shape == "empty":
                spec[direction] = []
            elif shape == "null":
                spec[direction] = None
            elif shape == "rules":
                peers_key = "from" if direction == "ingress" else "to"
                spec[direction] = [self.rule(peers_key) for _ in range(rng.randint(1, 3))]
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": self.metadata(name, namespace),
            "spec": spec,
        }

    def rule(self, peers_key: str) -> Doc:
        rule: Doc = {}
        shape = self.rng.choice(["absent", "empty", "null", "list", "list", "list", "list", "list"])
        if shape == "empty":
            rule[peers_key] = []
        elif shape == "null":
            rule[peers_key] = None
        elif shape == "list":
            rule[peers_key] = [self.peer() for _ in range(self.rng.randint(1, 3))]
        shape = self.rng.choice(["absent", "empty", "null", "list", "list", "list", "list", "list"])
        if shape == "empty":
            rule["ports"] = []
        elif shape == "null":
            rule["ports"] = None
        elif shape == "list":
            rule["ports"] = [self.port() for _ in range(self.rng.randint(1, 3))]
        return rule

    def peer(self) -> Doc:
        kind = self.rng.choice(["pod", "namespace", "both", "both", "ipBlock"])
        if kind == "ipBlock":
            return {"ipBlock": self.ip_block()}
        if kind == "pod":
            return {"podSelector": self.selector("pod", local=True)}
        if kind == "namespace":
            return {"namespaceSelector": self.selector("namespace")}
        return {
            "podSelector": self.selector("pod", OPERATORS_NEXT_TO_NAMESPACE_SELECTOR),
            "namespaceSelector": self.selector("namespace"),
        }

    # --- selectors ------------------------------------------------------------------

    def selector(self, of: str, operators: tuple[str, ...] = OPERATORS, local: bool = False) -> Doc:
        """A label selector over pods or namespaces (``of``); every operator, empty parts.

        ``local``: a pod selector read in the policy's namespace, so aimed at pods there.
        """
        rng = self.rng
        shape = rng.choice(["empty", "labels", "expressions", "both", "both", "empty-parts"])
        if shape == "empty":
            return {}
        if shape == "empty-parts":
            return rng.choice([{"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": {}, "matchExpressions": []}])
        if of == "namespace":
            targets = list(self.namespace_labels.values())
        else:
            targets = [labels for ns, labels in self.pod_labels if ns == self.policy_namespace or not local]
        # Aimed at a target: each condition holds for it, except now and then.
        target = rng.choice(targets) if targets and self.chance(0.75 if local else 0.5) else None
        selector: Doc = {}
        if shape in ("labels", "both"):
            match_labels = {}
            for _ in range(rng.randint(1, 2)):
                key, value = self.match_label(of, target)
                match_labels[key] = value
            selector["matchLabels"] = match_labels
        if shape in ("expressions", "both"):
            selector["matchExpressions"] = [self.requirement(of, operators, target) for _ in range(rng.randint(1, 2))]
        return selector

    def keys(self, of: str) -> list[str]:
        keys = list(LABEL_KEYS + SELECTOR_ONLY_KEYS)
        if of == "namespace":
            keys.append(NAMESPACE_NAME_LABEL)
        return keys

    def values(self, of: str, key: str) -> list[str]:
        """Values a selector may ask for."""
        if key == NAMESPACE_NAME_LABEL:
            return sorted(self.namespace_labels) + ["other"]
        if of == "namespace":
            # Not "": NCA reads a namespace without the key as having the value "":
            # docs/crosscheck.md, "Empty label values in namespace selectors". Namespaces
            # themselves still carry "" values.
            return [v for v in LABEL_VALUES if v]
        return list(LABEL_VALUES)

    def match_label(self, of: str, target: dict[str, str] | None) -> tuple[str, str]:
        if target is not None and self.chance(0.9):
            usable = [(k, v) for k, v in target.items() if v in self.values(of, k)]
            if usable:
                return self.rng.choice(usable)
        key = self.rng.choice(self.keys(of))
        return key, self.rng.choice(self.values(of, key))

    def requirement(self, of: str, operators: tuple[str, ...], target: dict[str, str] | None) -> Doc:
        rng = self.rng
        key = rng.choice(sorted(set(self.keys(of)) | set(target or ())))
        choices = list(operators)
        if target is not None and self.chance(0.9):
            # Only the operators that can hold for the target.
            value = target.get(key)
            holds = {
                "In": value is not None and value in self.values(of, key),
                "NotIn": value is None or len(self.values(of, key)) > 1,
                "Exists": value is not None,
                "DoesNotExist": value is None,
            }
            choices = [op for op in operators if holds[op]] or choices
        operator = rng.choice(choices)
        requirement: Doc = {"key": key, "operator": operator}
        if operator in ("In", "NotIn"):
            pool = self.values(of, key)
            wanted = set(rng.sample(pool, rng.randint(1, min(2, len(pool)))))
            if target is not None and key in target:
                if operator == "In" and target[key] in pool:
                    wanted.add(target[key])
                elif operator == "NotIn":
                    wanted.discard(target[key])
                    wanted = wanted or {rng.choice([v for v in pool if v != target[key]])}
            requirement["values"] = sorted(wanted)
        elif self.chance(0.3):
            requirement["values"] = []
        return requirement

    # --- ipBlocks and ports ---------------------------------------------------------

    def ip_block(self) -> Doc:
        rng = self.rng
        if self.chance(0.2):
            cidr = self.network(rng.choice(CIDR6_ADDRESSES), rng.choice(CIDR6_PREFIXES))
        else:
            cidr = self.network(rng.choice(CIDR_ADDRESSES), rng.choice(CIDR_PREFIXES))
        block: Doc = {"cidr": str(cidr)}
        excepts = []
        if cidr.prefixlen < cidr.max_prefixlen:
            for _ in range(rng.choice([0, 0, 1, 1, 2])):
                # A strict subset of cidr (the API server rejects anything else).
                prefix = rng.randint(cidr.prefixlen + 1, min(cidr.max_prefixlen, cidr.prefixlen + 12))
                inside = int(cidr.network_address) + rng.randrange(cidr.num_addresses)
                address = ipaddress.IPv6Address(inside) if cidr.version == 6 else ipaddress.IPv4Address(inside)
                excepts.append(str(self.network(str(address), prefix)))
        if excepts:
            block["except"] = excepts
        elif self.chance(0.3):
            block["except"] = []
        return block

    @staticmethod
    def network(address: str, prefix: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(f"{address}/{prefix}", strict=False)

    def port(self) -> Doc:
        rng = self.rng
        kind = rng.choice(["all", "number", "number", "named", "named", "range", "range"])
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
