"""Turn a z3 model into a concrete, solver-neutral Packet.

Label codes become concrete values: a mentioned value, or a fresh value nobody mentioned
for the "other" code. Fresh namespaces get names nobody mentioned.
"""

from __future__ import annotations

import ipaddress

import z3

from npverify.model import (
    NAMESPACE_NAME_LABEL,
    ContainerPort,
    Endpoint,
    ExternalEndpoint,
    Labels,
    NodeEndpoint,
    Packet,
    PodEndpoint,
)
from npverify.smt.domains import LabelDomain
from npverify.smt.encode import EXTERNAL, NODE, PROTOCOLS, Encoding, EndpointVars


def _fresh(taken: set[str] | tuple[str, ...], stem: str) -> str:
    candidate, n = stem, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


class Decoder:
    """Reads one model of an Encoding."""

    def __init__(self, encoding: Encoding, model: z3.ModelRef):
        self.enc = encoding
        self.model = model
        #: The workload the source was decoded as (see _member).
        self._taken: int | None = None

    def _int(self, term) -> int:
        if isinstance(term, int):
            return term
        return self.model.eval(term, model_completion=True).as_long()

    def _bool(self, term) -> bool:
        return z3.is_true(self.model.eval(term, model_completion=True))

    def _label_value(self, dom: LabelDomain, code: int) -> str | None:
        if code == 0:
            return None
        if code <= len(dom.values):
            return dom.values[code - 1]
        return _fresh(set(dom.values), "other")

    def _labels(self, domains: tuple[LabelDomain, ...], codes: dict) -> dict[str, str]:
        out = {}
        for dom in domains:
            value = self._label_value(dom, self._int(codes[dom.key]))
            if value is not None:
                out[dom.key] = value
        return out

    def _namespace_name(self, code: int) -> str:
        domains = self.enc.domains
        name = domains.namespaces[code]
        fresh_from = len(domains.namespaces) - domains.fresh
        if code < fresh_from:
            return name
        taken = set(domains.namespaces)
        for dom in domains.namespace_keys:
            if dom.key == NAMESPACE_NAME_LABEL:
                taken.update(dom.values)
        return _fresh(taken, f"unnamed-ns-{code - fresh_from + 1}")

    def _ip(self, e: EndpointVars):
        value = self._int(e.ip)
        if self._bool(self.enc.v6):
            return ipaddress.IPv6Address(value)
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)

    def _member(self, class_index: int, namespace: str, same_pod: bool) -> int:
        """A workload of the class in the namespace: the first, except that a second pod
        distinct from an already decoded single Pod is another workload."""
        workloads = self.enc.workloads
        members = [i for i in self.enc.classes[class_index].members if workloads[i].namespace == namespace]
        taken = self._taken
        if not same_pod and taken is not None and taken in members and workloads[taken].single_pod:
            others = [i for i in members if i != taken]
            if others:
                self._taken = None
                return others[0]
        self._taken = members[0]
        return members[0]

    def endpoint(self, e: EndpointVars, side: str) -> Endpoint:
        enc = self.enc
        kind = self._int(e.kind)
        ip = self._ip(e)
        if kind == EXTERNAL:
            return ExternalEndpoint(ip)
        if kind == NODE:
            return NodeEndpoint(ip, self._bool(enc.own_node))
        ns_code = self._int(e.namespace)
        raw_name = enc.domains.namespaces[ns_code]
        namespace = self._namespace_name(ns_code)
        declared = enc.declared.get(raw_name)
        if declared is not None:
            ns_labels = dict(declared.labels)
        else:
            ns_labels = self._labels(enc.domains.namespace_keys, enc.namespace_labels[raw_name])
        ns_labels[NAMESPACE_NAME_LABEL] = namespace
        class_index = self._int(e.workload_class)
        host_network = self._bool(e.host_network)
        same_pod = self._bool(enc.same_pod)
        if class_index < len(enc.classes):
            w = enc.workloads[self._member(class_index, raw_name, same_pod)]
            labels = dict(w.labels)
            ports = w.ports
            name = w.key
            pod_id = w.key if (w.single_pod or same_pod) else f"{w.key}#{side}"
        else:
            labels = self._labels(enc.domains.pod_keys, e.labels)
            ports = tuple(
                ContainerPort(self._int(number), PROTOCOLS[self._int(proto)], port_name)
                for port_name, (defined, number, proto) in sorted(e.ports.items())
                if self._bool(defined)
            )
            name = None
            pod_id = "pod" if same_pod else f"{side}-pod"
        return PodEndpoint(
            namespace=namespace,
            namespace_labels=Labels.of(ns_labels),
            labels=Labels.of(labels),
            ip=ip,
            ports=ports,
            host_network=host_network,
            workload=name,
            pod_id=pod_id,
            own_node=side == "src" and host_network and self._bool(enc.from_own_node),
        )

    def packet(self) -> Packet:
        enc = self.enc
        src = self.endpoint(enc.src, "src")
        dst = self.endpoint(enc.dst, "dst")
        if self._bool(enc.same_pod) and isinstance(src, PodEndpoint) and isinstance(dst, PodEndpoint):
            # The source never carries named ports; the destination's are the pod's.
            src = dst
        return Packet(src, dst, PROTOCOLS[self._int(enc.protocol)], self._int(enc.port))
