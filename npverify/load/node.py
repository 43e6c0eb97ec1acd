"""``v1`` Node documents -> Node.

A Node matters to ``nodes`` peers of cluster-scoped policies: its labels say which
selectors pick it, and its IP addresses (``status.addresses`` of type InternalIP or
ExternalIP) are the packets' addresses those peers match. Other address types (Hostname,
InternalDNS, ExternalDNS) are names, not addresses a packet carries: they are not read.
"""

from __future__ import annotations

import ipaddress

from npverify.load.fields import dns_subdomain_problem
from npverify.load.meta import ObjectMeta, parse_object_meta
from npverify.load.yamlnodes import Cursor
from npverify.model import Diagnostic, IPAddress, Node, SourceLocation

API_VERSION = "v1"

#: The address types whose value is an IP a packet carries.
IP_ADDRESS_TYPES = ("InternalIP", "ExternalIP")

#: Address types the API defines that name the node rather than give an IP.
NAME_ADDRESS_TYPES = ("Hostname", "InternalDNS", "ExternalDNS")

_ADDRESS_FIELDS = ("type", "address")


def parse_node(doc: Cursor, warnings: list[Diagnostic]) -> tuple[Node, ObjectMeta]:
    """One Node document: name, labels and IP addresses; the spec and the rest of the
    status (capacity, conditions, images) are not read."""
    fields = doc.mapping()
    meta = parse_object_meta(doc, fields, name_problem=dns_subdomain_problem, strict=False, namespaced=False)
    addresses, where = _parse_addresses(fields.get("status"))
    return Node(meta.name, meta.labels, addresses, doc.location, where), meta


def _parse_addresses(status: Cursor | None) -> tuple[tuple[IPAddress, ...], SourceLocation | None]:
    if status is None or status.value is None:
        return (), None
    entries = status.mapping().get("addresses")
    if entries is None:
        return (), None
    addresses: list[IPAddress] = []
    location = None
    for entry in entries.optional_sequence():
        entry_fields = entry.mapping(_ADDRESS_FIELDS)
        for required in _ADDRESS_FIELDS:
            if required not in entry_fields:
                entry.fail(f"missing required field {required!r}")
        kind = entry_fields["type"].string()
        if kind not in IP_ADDRESS_TYPES:
            if kind not in NAME_ADDRESS_TYPES:
                known = ", ".join(IP_ADDRESS_TYPES + NAME_ADDRESS_TYPES)
                entry_fields["type"].fail(f"unknown address type {kind!r} (one of {known})")
            continue
        cursor = entry_fields["address"]
        text = cursor.string()
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            cursor.fail(f"invalid IP address {text!r} (type {kind})")
        location = location or cursor.location
        if ip not in addresses:
            addresses.append(ip)
    return tuple(addresses), location
