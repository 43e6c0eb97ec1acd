"""Pods and pod controllers (Deployment, StatefulSet, Job, ...) -> Workload.

Workload specs have hundreds of fields; we read a handful (name, namespace, the pod
template's labels, hostNetwork, container ports, a Pod's IPs) and validate exactly those,
strictly, leaving everything else alone.
"""

from __future__ import annotations

import ipaddress

import attrs

from npverify.load.fields import (
    dns_subdomain_problem,
    parse_labels,
    parse_port_number,
    parse_protocol,
    port_name_problem,
)
from npverify.load.meta import ObjectMeta, parse_object_meta
from npverify.load.yamlnodes import Cursor
from npverify.model import ContainerPort, Diagnostic, IPAddress, Protocol, SourceLocation, Workload


@attrs.frozen
class WorkloadKind:
    """A kind whose objects make pods, and where its pod template lives."""

    kind: str
    api_version: str
    #: Field names from the document to the pod template; empty for a Pod (the document
    #: itself is the pod: metadata plus spec).
    template_path: tuple[str, ...]


WORKLOAD_KINDS: dict[str, WorkloadKind] = {
    k.kind: k
    for k in (
        WorkloadKind("Pod", "v1", ()),
        WorkloadKind("Deployment", "apps/v1", ("spec", "template")),
        WorkloadKind("ReplicaSet", "apps/v1", ("spec", "template")),
        WorkloadKind("StatefulSet", "apps/v1", ("spec", "template")),
        WorkloadKind("DaemonSet", "apps/v1", ("spec", "template")),
        WorkloadKind("Job", "batch/v1", ("spec", "template")),
        WorkloadKind("CronJob", "batch/v1", ("spec", "jobTemplate", "spec", "template")),
    )
}

_CONTAINER_PORT_FIELDS = ("containerPort", "hostIP", "hostPort", "name", "protocol")


def parse_workload(doc: Cursor, kind: WorkloadKind, warnings: list[Diagnostic]) -> tuple[Workload, ObjectMeta]:
    """One workload document (its apiVersion already checked)."""
    fields = doc.mapping()
    is_pod = not kind.template_path
    meta = parse_object_meta(doc, fields, name_problem=dns_subdomain_problem, strict=False, read_labels=is_pod)
    if is_pod:
        labels = meta.labels
        spec = fields.get("spec")
        ips, ips_location = _parse_pod_ips(fields.get("status"))
        # A Pod is exactly one pod.
        replicas: int | None = 1
    else:
        template = _descend(doc, fields, kind.template_path)
        template_fields = template.mapping()
        labels = {}
        template_meta = template_fields.get("metadata")
        if template_meta is not None and template_meta.value is not None:
            template_meta_fields = template_meta.mapping()
            if "labels" in template_meta_fields:
                labels = parse_labels(template_meta_fields["labels"])
        spec = template_fields.get("spec")
        ips, ips_location = (), None
        # Unknown for every controller, whatever spec.replicas says: a rolling update runs
        # old and new pods side by side (maxSurge), an autoscaler can change the count, a
        # DaemonSet has one pod per node and a Job's parallelism or a CronJob's overlapping
        # runs give several pods. None means "possibly many".
        replicas = None
    host_network, ports = _parse_pod_spec(spec)
    workload = Workload(
        kind=kind.kind,
        namespace=meta.namespace,
        name=meta.name,
        labels=labels,
        ports=ports,
        host_network=host_network,
        replicas=replicas,
        ips=ips,
        location=doc.location,
        ips_location=ips_location,
    )
    return workload, meta


def _descend(doc: Cursor, fields: dict[str, Cursor], path: tuple[str, ...]) -> Cursor:
    """The cursor at ``path`` below ``doc``; each step is a required mapping."""
    parent = doc
    for step in path:
        child = fields.get(step)
        if child is None:
            parent.fail(f"missing required field {step!r}")
        fields = child.mapping()
        parent = child
    return parent


def _parse_pod_spec(spec: Cursor | None) -> tuple[bool, tuple[ContainerPort, ...]]:
    """hostNetwork and the container ports of a PodSpec (absent or null: none)."""
    if spec is None or spec.value is None:
        return False, ()
    fields = spec.mapping()
    host_network = False
    if "hostNetwork" in fields and fields["hostNetwork"].value is not None:
        host_network = fields["hostNetwork"].boolean()
    ports: list[ContainerPort] = []
    # The API only rejects a port name used twice in one container; we reject it anywhere
    # in the pod, since a NetworkPolicy naming it could mean either port.
    names: dict[str, SourceLocation] = {}
    for key in ("containers", "initContainers"):
        containers = fields.get(key)
        for container in [] if containers is None else containers.optional_sequence():
            container_fields = container.mapping()
            container_ports = container_fields.get("ports")
            for port in [] if container_ports is None else container_ports.optional_sequence():
                parsed = _parse_container_port(port, names)
                if parsed not in ports:
                    ports.append(parsed)
    return host_network, tuple(ports)


def _parse_container_port(cursor: Cursor, names: dict[str, SourceLocation]) -> ContainerPort:
    fields = cursor.mapping(_CONTAINER_PORT_FIELDS)
    number_cursor = fields.get("containerPort")
    if number_cursor is None or number_cursor.value is None:
        cursor.fail("missing required field 'containerPort'")
    number = parse_port_number(number_cursor)
    protocol = Protocol.TCP
    if "protocol" in fields and fields["protocol"].value is not None:
        protocol = parse_protocol(fields["protocol"])
    name = None
    name_cursor = fields.get("name")
    # Go reads "" and null as no name.
    if name_cursor is not None and name_cursor.value not in (None, ""):
        name = name_cursor.string()
        problem = port_name_problem(name)
        if problem:
            name_cursor.fail(problem)
        if name in names:
            name_cursor.fail(f"duplicate port name {name!r} in this pod (first used at {names[name]})")
        names[name] = name_cursor.location
    return ContainerPort(number, protocol, name)


def _parse_pod_ips(status: Cursor | None) -> tuple[tuple[IPAddress, ...], SourceLocation | None]:
    """``status.podIP`` and ``status.podIPs[].ip``, as ``kubectl get -o yaml`` prints them,
    and where the first of them is written."""
    if status is None or status.value is None:
        return (), None
    fields = status.mapping()
    ips: list[IPAddress] = []
    location = None
    if "podIP" in fields and fields["podIP"].value not in (None, ""):
        ips.append(_parse_ip(fields["podIP"]))
        location = fields["podIP"].location
    pod_ips = fields.get("podIPs")
    for entry in [] if pod_ips is None else pod_ips.optional_sequence():
        entry_fields = entry.mapping()
        if "ip" not in entry_fields:
            entry.fail("missing required field 'ip'")
        ip = _parse_ip(entry_fields["ip"])
        location = location or entry_fields["ip"].location
        if ip not in ips:
            ips.append(ip)
    return tuple(ips), location


def _parse_ip(cursor: Cursor) -> IPAddress:
    text = cursor.string()
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        cursor.fail(f"invalid IP address {text!r}")
