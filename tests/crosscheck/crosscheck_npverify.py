"""npverify's connectivity map of a loaded cluster, in the shape NCA reports it.

For every ordered pair of distinct Pods, and for every Pod and IP address range (IPv4 and
IPv6) in either direction, the allowed destination ports per protocol, as exact ranges. They are exact
because the reference evaluator ``decide()`` is piecewise constant in the port: it can only
change value at a policy port, one past a policy port or endPort, or at (one past) a
container port number, since named ports resolve to those. Evaluating at each such
boundary, together with every boundary of NCA's own answer, gives both sides on one common
partition of 1..65535. IP addresses are treated the same way, with the boundaries of every
ipBlock cidr and except.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from crosscheck_nca import MAX_PORT, PROTOCOLS, PortSets, Range, ip, normalize

from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ExternalEndpoint,
    Labels,
    Packet,
    PodEndpoint,
    Protocol,
    Semantics,
)
from npverify.semantics import decide

#: NCA's model has no pod IPs: an ipBlock never matches a pod (docs/crosscheck.md,
#: "ipBlocks and pod IPs"). npverify's option for that reading; the rest is the default.
SEMANTICS = Semantics(ip_block_matches_pods=False)
MAX_IP = {4: 2**32 - 1, 6: 2**128 - 1}


def pod_endpoints(cluster: Cluster) -> dict[str, PodEndpoint]:
    """Every Pod of the cluster as an endpoint, keyed ``namespace/name``."""
    endpoints = {}
    for i, w in enumerate(cluster.workloads):
        declared = cluster.namespace(w.namespace)
        ns_labels = declared.labels if declared else Labels.of({NAMESPACE_NAME_LABEL: w.namespace})
        endpoints[f"{w.namespace}/{w.name}"] = PodEndpoint(
            namespace=w.namespace,
            namespace_labels=ns_labels,
            labels=w.labels,
            # Never read: no ipBlock matches a pod under SEMANTICS. Distinct all the same.
            ip=ipaddress.IPv4Address(0x64400000 + i),
            ports=w.ports,
            workload=w.key,
            pod_id=w.key,
        )
    return endpoints


def port_boundaries(cluster: Cluster) -> dict[str, set[int]]:
    """Per protocol, the ports where a decision may change (see the module docstring)."""
    bounds = {p: {1} for p in PROTOCOLS}
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for entry in rule.ports:
                if isinstance(entry.port, int):
                    end = entry.end_port if entry.end_port is not None else entry.port
                    bounds[entry.protocol.value] |= {entry.port, end + 1}
    for w in cluster.workloads:
        for cp in w.ports:
            bounds[cp.protocol.value] |= {cp.port, cp.port + 1}
    return bounds


def ip_boundaries(cluster: Cluster) -> dict[int, set[int]]:
    """Per IP version, the addresses where a decision may change: edges of cidrs and excepts."""
    bounds: dict[int, set[int]] = {4: {0}, 6: {0}}
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.ip_block is None:
                    continue
                for net in (peer.ip_block.cidr, *peer.ip_block.except_):
                    bounds[net.version] |= {int(net.network_address), int(net.broadcast_address) + 1}
    return bounds


def segments(bounds: Iterable[int], lo: int, hi: int) -> list[Range]:
    """The partition of lo..hi that starts a new segment at each bound."""
    starts = sorted({b for b in bounds if lo <= b <= hi} | {lo})
    return [(s, (starts[i + 1] - 1) if i + 1 < len(starts) else hi) for i, s in enumerate(starts)]


def allowed_ports(cluster: Cluster, src, dst, bounds: dict[str, Iterable[int]]) -> PortSets:
    """The ports per protocol decide() allows from src to dst, exact on the given bounds."""
    result: PortSets = {}
    for proto in PROTOCOLS:
        protocol = Protocol(proto)
        ranges = [
            (a, b)
            for a, b in segments(bounds[proto], 1, MAX_PORT)
            if decide(cluster, Packet(src, dst, protocol, a), SEMANTICS).allowed
        ]
        if ranges:
            result[proto] = normalize(ranges)
    return result


def external(version: int, address: int) -> ExternalEndpoint:
    return ExternalEndpoint(ip(version, address))
