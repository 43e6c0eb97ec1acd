"""Regions of packets: boxes over source, destination, protocol and port.

A difference between two policy sets is reported as regions, each widened as far as it
stays inside the difference, with one concrete packet from it. Solver-neutral values.
"""

from __future__ import annotations

import attrs

from npverify.model import IPNetwork, Packet, Protocol


@attrs.frozen
class LabelCondition:
    """A condition on one label: absent, equal to a value, or present with any value
    except some (``exists``)."""

    key: str
    #: The value the label must have; None: see ``exists``.
    value: str | None = None
    #: With ``value`` None: True for "present with any value not in ``other_than``",
    #: False for "absent".
    exists: bool = False
    other_than: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.value is not None:
            return f"{self.key}={self.value}"
        if not self.exists:
            return f"!{self.key}"
        if self.other_than:
            return f"{self.key} exists, not in ({', '.join(self.other_than)})"
        return f"{self.key} exists"


#: Workloads named in a region's description before "and N more".
_SHOWN_WORKLOADS = 5


def _workload_name(key: str) -> str:
    namespace, kind, name = key.split("/", 2)
    return f"{kind} {namespace}/{name}"


@attrs.frozen
class EndpointRegion:
    """A set of endpoints. Every condition left out is free ("any")."""

    #: "pod", "external" or "node".
    kind: str
    #: The namespace's name; None for any namespace meeting ``namespace_labels``.
    namespace: str | None = None
    #: The namespace is one that no policy or invariant names (and ``namespace`` is None).
    unnamed_namespace: bool = False
    namespace_labels: tuple[LabelCondition, ...] = ()
    labels: tuple[LabelCondition, ...] = ()
    #: "namespace/Kind/name" of a loaded workload, when the region is its pods.
    workload: str | None = None
    #: The region is the pods of any of these loaded workloads (which no policy tells apart).
    workloads: tuple[str, ...] = ()
    #: The pods belong to no loaded workload.
    not_workloads: bool = False
    #: IPs in this network (a /0 for any IP of its family).
    cidr: IPNetwork | None = None
    host_network: bool | None = None
    #: Named container ports the (destination) pod must have: "name=port/PROTO" or "no name".
    ports: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind != "pod":
            text = "external hosts" if self.kind == "external" else "nodes"
            return f"{text} in {self.cidr}" if self.cidr is not None else f"{text} with any IP"
        if self.workload:
            namespace, kind, name = self.workload.split("/", 2)
            text = f"pods of {kind} {namespace}/{name}"
        elif self.workloads:
            shown = [_workload_name(key) for key in self.workloads[:_SHOWN_WORKLOADS]]
            more = len(self.workloads) - len(shown)
            text = "pods of " + ", ".join(shown) + (f" and {more} more workloads alike" if more else "")
        else:
            text = "pods of no loaded workload" if self.not_workloads else "pods"
            if self.labels:
                text += " {" + ", ".join(str(c) for c in self.labels) + "}"
            if self.namespace:
                text += f" in namespace {self.namespace}"
            elif self.unnamed_namespace:
                text += " in a namespace no policy names"
            else:
                text += " in any namespace"
            if self.namespace_labels:
                text += " {" + ", ".join(str(c) for c in self.namespace_labels) + "}"
        if self.cidr is not None and self.cidr.prefixlen:
            text += f" with IP in {self.cidr}"
        if self.host_network is not None:
            text += " (hostNetwork)" if self.host_network else ""
        if self.ports:
            text += ", ports " + ", ".join(self.ports)
        return text


@attrs.frozen
class PortRange:
    low: int
    high: int

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}-{self.high}"


@attrs.frozen
class Region:
    """Every packet from ``src`` to ``dst`` on one of ``protocols`` and a port in ``ports``."""

    src: EndpointRegion
    dst: EndpointRegion
    protocols: tuple[Protocol, ...]
    ports: PortRange
    #: One concrete packet of the region.
    packet: Packet

    def __str__(self) -> str:
        protocols = "/".join(str(p) for p in self.protocols)
        return f"{protocols} {self.ports} from {self.src} to {self.dst}"
