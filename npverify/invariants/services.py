"""Service scopes, lowered to what the questions already know: namespaces, pod selectors, ports.

A ``service: shop/api`` scope is the pods the Service selects: its namespace and its
selector (ANDed with the scope's own ``pod``). For a destination Service, the invariant's
ports are Service ports (a number, a range, a Service port's name, or none: all of them),
and each becomes the target port kube-proxy sends to: a number, or a container port's
name, which the questions resolve on each destination pod as kube-proxy does. Plain values,
no solver.
"""

from __future__ import annotations

import attrs

from npverify.errors import InputError
from npverify.hints import did_you_mean
from npverify.invariants.model import Invariant, Scope
from npverify.model import Cluster, Diagnostic, LabelSelector, Packet, PodEndpoint, PolicyPort, Service, ServicePort


def lower_services(invariant: Invariant, cluster: Cluster) -> Invariant:
    """``invariant`` with its Service scopes and Service ports replaced; itself when it has none."""
    if not invariant.is_flow or (invariant.src.service is None and invariant.dst.service is None):
        return invariant
    src = _lower_scope(invariant.src, cluster, f"{invariant.kind}.from.service", invariant)
    dst = _lower_scope(invariant.dst, cluster, f"{invariant.kind}.to.service", invariant)
    ports = invariant.ports
    if invariant.dst.service is not None:
        service = _service(invariant.dst, cluster, f"{invariant.kind}.to.service", invariant)
        ports = tuple(
            dict.fromkeys(
                PolicyPort(p.protocol, p.target, None, entry.location if entry is not None else invariant.location)
                for entry, p in service_ports(service, invariant)
            )
        )
    return attrs.evolve(invariant, src=src, dst=dst, ports=ports)


def service_ports(service: Service, invariant: Invariant) -> list[tuple[PolicyPort | None, ServicePort]]:
    """The Service ports an invariant's ``ports`` name, each with the entry naming it (None
    when ``ports`` is empty: then every port of the Service). An entry that names none of
    them is an InputError at the entry."""
    if not invariant.ports:
        if not service.ports:
            raise InputError(
                Diagnostic(f"Service {service.key} has no ports, so no packet goes to it", invariant.dst.location, f"{invariant.kind}.to.service")
            )
        return [(None, p) for p in service.ports]
    chosen = []
    for index, entry in enumerate(invariant.ports):
        matched = [p for p in service.ports if _names(entry, p)]
        if not matched:
            raise InputError(Diagnostic(_no_such_port(service, entry), entry.location, f"{invariant.kind}.ports[{index}]"))
        chosen += [(entry, p) for p in matched]
    return chosen


def _names(entry: PolicyPort, port: ServicePort) -> bool:
    """Does a ``ports`` entry, read as Service ports, name ``port``?"""
    if entry.protocol is not port.protocol:
        return False
    if entry.port is None:
        return True
    if isinstance(entry.port, str):
        return entry.port == port.name
    return entry.port <= port.port <= (entry.end_port or entry.port)


def _no_such_port(service: Service, entry: PolicyPort) -> str:
    listed = ", ".join(str(p) for p in service.ports) or "none"
    if isinstance(entry.port, str):
        other = [p for p in service.ports if p.name == entry.port]
        if other:
            return f"Service {service.key} port {entry.port!r} is {other[0].protocol}; write protocol: {other[0].protocol}"
        wanted = f"no port named {entry.port!r}" + did_you_mean(entry.port, [p.name for p in service.ports if p.name])
    else:
        span = f"{entry.port}-{entry.end_port}" if entry.end_port else f"{entry.port}" if entry.port else "any port"
        wanted = f"no {entry.protocol} port {span}"
    return f"Service {service.key} has {wanted} (its ports: {listed}); give ports as the Service's ports"


def _service(scope: Scope, cluster: Cluster, path: str, invariant: Invariant) -> Service:
    assert scope.service is not None
    service = cluster.service(scope.service)
    if service is None:
        hint = did_you_mean(scope.service, [s.key for s in cluster.services])
        raise InputError(Diagnostic(f"Service {scope.service} was not loaded{hint}", scope.location or invariant.location, path))
    if service.selector is None:
        raise InputError(
            Diagnostic(
                f"Service {service.key} has no selector (or is an ExternalName Service): npverify cannot know its pods",
                scope.location or invariant.location,
                path,
            )
        )
    return service


def _lower_scope(scope: Scope, cluster: Cluster, path: str, invariant: Invariant) -> Scope:
    if scope.service is None:
        return scope
    service = _service(scope, cluster, path, invariant)
    assert service.selector is not None
    selector = LabelSelector(service.selector)
    if scope.pod is not None:
        selector = LabelSelector(match_expressions=selector.requirements() + scope.pod.requirements())
    return attrs.evolve(scope, service=None, namespace=service.namespace, pod=selector)


def service_route(invariant: Invariant, cluster: Cluster, packet: Packet) -> str:
    """How a packet to a destination Service's pod came through the Service, e.g.
    "Service shop/api port 80/TCP -> pod port 8080 (targetPort http)"; "" when the
    invariant has no destination Service."""
    if invariant.dst.service is None or not isinstance(packet.dst, PodEndpoint):
        return ""
    service = cluster.service(invariant.dst.service)
    if service is None:
        return ""
    for _, port in service_ports(service, invariant):
        if port.protocol is not packet.protocol:
            continue
        target = port.target
        if isinstance(target, str):
            if any(c.name == target and c.protocol is packet.protocol and c.port == packet.port for c in packet.dst.ports):
                return f"Service {service.key} port {port} -> pod port {packet.port} (targetPort {target})"
        elif target == packet.port:
            return f"Service {service.key} port {port} -> pod port {packet.port}"
    return ""
