"""``v1`` Service documents -> Service, and the findings about their target ports.

Only what npverify uses is read and validated (the selector, the ports, the type and
externalName); the rest of the spec (clusterIP, sessionAffinity, ...) is left alone.
"""

from __future__ import annotations

from collections.abc import Iterable

from npverify.load.fields import dns_label_problem, parse_labels, parse_port_number, parse_protocol, port_name_problem
from npverify.load.meta import ObjectMeta, parse_object_meta
from npverify.load.yamlnodes import Cursor
from npverify.model import Diagnostic, LabelSelector, Protocol, Service, ServicePort, Severity, Workload

API_VERSION = "v1"

_PORT_FIELDS = ("name", "port", "targetPort", "protocol", "nodePort", "appProtocol")


def parse_service(doc: Cursor, warnings: list[Diagnostic]) -> tuple[Service, ObjectMeta]:
    """One Service document (its apiVersion already checked)."""
    fields = doc.mapping()
    meta = parse_object_meta(doc, fields, name_problem=dns_label_problem, strict=False, read_labels=False)
    spec = fields.get("spec")
    spec_fields = {} if spec is None or spec.value is None else spec.mapping()
    kind = spec_fields["type"].string() if "type" in spec_fields and spec_fields["type"].value is not None else "ClusterIP"
    external_name = spec_fields["externalName"].string() if kind == "ExternalName" and "externalName" in spec_fields else None
    selector = None
    cursor = spec_fields.get("selector")
    if cursor is not None and cursor.value is not None and kind != "ExternalName":
        selector = parse_labels(cursor) or None  # an empty selector selects no pods, as the API says
    ports = tuple(_parse_port(item) for item in spec_fields["ports"].optional_sequence()) if "ports" in spec_fields else ()
    _check_unique(ports, spec_fields.get("ports"))
    service = Service(meta.namespace, meta.name, selector, ports, external_name, doc.location)
    if selector is None:
        why = f"an ExternalName Service (to {external_name})" if kind == "ExternalName" else "it has no selector"
        warnings.append(
            Diagnostic(
                f"Service {service.key}: {why}, so its endpoints are managed outside the manifests; "
                "npverify does not guess its pods, and a service: scope cannot name it",
                doc.location,
                "spec.selector",
                Severity.WARNING,
            )
        )
    return service, meta


def _parse_port(cursor: Cursor) -> ServicePort:
    fields = cursor.mapping(_PORT_FIELDS)
    if "port" not in fields:
        cursor.fail("missing required field 'port'")
    port = parse_port_number(fields["port"])
    protocol = parse_protocol(fields["protocol"]) if "protocol" in fields and fields["protocol"].value is not None else Protocol.TCP
    name = None
    if "name" in fields and fields["name"].value not in (None, ""):
        name = fields["name"].string()
        problem = port_name_problem(name)
        if problem:
            fields["name"].fail(problem)
    target: int | str | None = None
    target_cursor = fields.get("targetPort")
    if target_cursor is not None and target_cursor.value not in (None, 0, ""):
        if isinstance(target_cursor.value, str):
            target = target_cursor.string()
            problem = port_name_problem(target)
            if problem:
                target_cursor.fail(problem + ("; write a port number without quotes" if target.isdigit() else ""))
        else:
            target = parse_port_number(target_cursor)
    return ServicePort(port, protocol, name, target, cursor.location)


def _check_unique(ports: tuple[ServicePort, ...], cursor: Cursor | None) -> None:
    """Two ports of one Service may not share a name, nor a port number and protocol (the API server's rules)."""
    if cursor is None:
        return
    items = cursor.optional_sequence()
    names: set[str] = set()
    numbers: set[tuple[int, Protocol]] = set()
    for port, item in zip(ports, items):
        if port.name is not None:
            if port.name in names:
                item.mapping()["name"].fail(f"duplicate port name {port.name!r}")
            names.add(port.name)
        if (port.port, port.protocol) in numbers:
            item.mapping()["port"].fail(f"duplicate port {port.port}/{port.protocol}")
        numbers.add((port.port, port.protocol))
    if len(ports) > 1 and any(p.name is None for p in ports):
        index = next(i for i, p in enumerate(ports) if p.name is None)
        items[index].fail("must have a name: a Service with several ports names each of them")


def selected_workloads(service: Service, workloads: Iterable[Workload]) -> list[Workload]:
    """The loaded workloads of the Service's namespace whose pods its selector selects."""
    # Imported here: npverify.semantics imports the invariants, which import the loader.
    from npverify.semantics import selector_matches

    if service.selector is None:
        return []
    selector = LabelSelector(service.selector)
    return [w for w in workloads if w.namespace == service.namespace and selector_matches(selector, w.labels)]


def target_port_findings(services: Iterable[Service], workloads: Iterable[Workload]) -> list[Diagnostic]:
    """A warning for each Service port whose target port no container port of the loaded
    workloads it selects defines (when it selects some): traffic to it finds no listener
    that the manifests declare."""
    workloads = tuple(workloads)
    found = []
    for service in services:
        backing = selected_workloads(service, workloads)
        if not backing:
            continue
        for port in service.ports:
            target = port.target
            if any(_defines(w, target, port.protocol) for w in backing):
                continue
            what = f"named port {target!r}" if isinstance(target, str) else f"port {target}/{port.protocol}"
            pods = ", ".join(w.key for w in backing[:3]) + (f" and {len(backing) - 3} more" if len(backing) > 3 else "")
            found.append(
                Diagnostic(
                    f"Service {service.key} port {port}: targetPort is {what}, which no container port of the pods it "
                    f"selects defines ({pods})",
                    port.location or service.location,
                    "spec.ports",
                    Severity.WARNING,
                )
            )
    return found


def _defines(workload: Workload, target: int | str, protocol: Protocol) -> bool:
    if isinstance(target, str):
        return any(p.name == target and p.protocol is protocol for p in workload.ports)
    return any(p.port == target and p.protocol is protocol for p in workload.ports)
