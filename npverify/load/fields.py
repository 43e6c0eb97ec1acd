"""Parsers for the pieces NetworkPolicies and invariants share: selectors, ipBlocks, ports.

Each takes a Cursor and returns model values, validating as the Kubernetes API server
does and raising located InputErrors otherwise.
"""

from __future__ import annotations

import ipaddress
import re

from npverify.load.yamlnodes import Cursor
from npverify.model import (
    Diagnostic,
    IPBlock,
    IPNetwork,
    LabelSelector,
    Operator,
    PolicyPort,
    Protocol,
    Requirement,
)

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def label_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid label key (prefix/name), or None."""
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix):
            return f"invalid label key {key!r}: the prefix must be a DNS subdomain"
    if not name or len(name) > 63 or not _QUALIFIED_NAME.fullmatch(name):
        return (
            f"invalid label key {key!r}: the name part must be 1-63 characters of letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a valid label value, or None."""
    if len(value) > 63 or not _LABEL_VALUE.fullmatch(value):
        return (
            f"invalid label value {value!r}: must be at most 63 characters of letters, digits, "
            "'-', '_' or '.', starting and ending with a letter or digit"
        )
    return None


def dns_label_problem(name: str) -> str | None:
    if len(name) > 63 or not _DNS_LABEL.fullmatch(name):
        return f"invalid name {name!r}: must be a DNS label (lowercase letters, digits and '-', at most 63 characters)"
    return None


def dns_subdomain_problem(name: str) -> str | None:
    if len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        return f"invalid name {name!r}: must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)"
    return None


def port_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid named port (IANA_SVC_NAME), or None."""
    if len(name) > 15 or not _PORT_NAME.fullmatch(name) or "--" in name or not re.search("[a-z]", name):
        return (
            f"invalid port name {name!r}: must be 1-15 lowercase letters, digits and '-', "
            "with at least one letter, no '--', and not starting or ending with '-'"
        )
    return None


def parse_labels(cursor: Cursor) -> dict[str, str]:
    """A label map, with every key and value validated."""
    labels = cursor.string_map()
    children = cursor.mapping() if labels else {}
    for key, value in labels.items():
        problem = label_key_problem(key) or label_value_problem(value)
        if problem:
            children[key].fail(problem)
    return labels


_SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
_REQUIREMENT_FIELDS = ("key", "operator", "values")


def parse_label_selector(cursor: Cursor) -> LabelSelector:
    """A metav1.LabelSelector; null or {} is the empty selector (matches everything)."""
    if cursor.value is None:
        return LabelSelector()
    fields = cursor.mapping(_SELECTOR_FIELDS)
    match_labels = parse_labels(fields["matchLabels"]) if "matchLabels" in fields else {}
    requirements = []
    for item in fields["matchExpressions"].optional_sequence() if "matchExpressions" in fields else []:
        requirements.append(parse_requirement(item))
    return LabelSelector(match_labels, tuple(requirements))


def parse_requirement(cursor: Cursor) -> Requirement:
    fields = cursor.mapping(_REQUIREMENT_FIELDS)
    for required in ("key", "operator"):
        if required not in fields:
            cursor.fail(f"missing required field {required!r}")
    key = fields["key"].string()
    problem = label_key_problem(key)
    if problem:
        fields["key"].fail(problem)
    op_text = fields["operator"].string()
    try:
        operator = Operator(op_text)
    except ValueError:
        fields["operator"].fail(
            f"unknown operator {op_text!r}; expected one of In, NotIn, Exists, DoesNotExist"
        )
    values_cursor = fields.get("values")
    values = []
    if values_cursor is not None:
        for item in values_cursor.optional_sequence():
            value = item.string(allow_empty=True)
            problem = label_value_problem(value)
            if problem:
                item.fail(problem)
            values.append(value)
    if operator in (Operator.IN, Operator.NOT_IN) and not values:
        if values_cursor is None:
            cursor.fail(f"missing required field 'values' (must be non-empty when operator is {operator.value})")
        values_cursor.fail(f"must be non-empty when operator is {operator.value}")
    if operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and values:
        values_cursor.fail(f"must be empty when operator is {operator.value}")
    return Requirement(key, operator, tuple(values))


def parse_cidr(cursor: Cursor, warnings: list[Diagnostic]) -> IPNetwork:
    """A CIDR; host bits set are accepted (as the API server does) with a warning."""
    text = cursor.string()
    address, slash, prefix = text.partition("/")
    if not slash or not prefix.isascii() or not prefix.isdigit() or "%" in address:
        # Python also takes netmasks (10.0.0.0/255.0.0.0) and IPv6 zones; Go's ParseCIDR does not.
        cursor.fail(f"invalid CIDR {text!r}: expected an address and a prefix length, e.g. 10.0.0.0/8")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as exc:
        cursor.fail(f"invalid CIDR {text!r}: {exc}")
    if ipaddress.ip_interface(text).ip != network.network_address:
        warnings.append(cursor.warning(f"CIDR {text!r} has host bits set; it is read as {network}"))
    return network


_IP_BLOCK_FIELDS = ("cidr", "except")


def parse_ip_block(cursor: Cursor, warnings: list[Diagnostic]) -> IPBlock:
    fields = cursor.mapping(_IP_BLOCK_FIELDS)
    if "cidr" not in fields:
        cursor.fail("missing required field 'cidr'")
    cidr = parse_cidr(fields["cidr"], warnings)
    excepts = []
    for item in fields["except"].optional_sequence() if "except" in fields else []:
        excepted = parse_cidr(item, warnings)
        if excepted.version != cidr.version or not excepted.subnet_of(cidr):
            item.fail(f"{excepted} is not inside the ipBlock's cidr {cidr}")
        if excepted.prefixlen == cidr.prefixlen:
            item.fail(f"{excepted} must be strictly smaller than the ipBlock's cidr {cidr}")
        excepts.append(excepted)
    return IPBlock(cidr, tuple(excepts))


_PORT_FIELDS = ("protocol", "port", "endPort")


def parse_protocol(cursor: Cursor) -> Protocol:
    text = cursor.string()
    try:
        return Protocol(text)
    except ValueError:
        cursor.fail(f"unknown protocol {text!r}; expected TCP, UDP or SCTP")


def parse_port_number(cursor: Cursor) -> int:
    number = cursor.integer()
    if not 1 <= number <= 65535:
        cursor.fail(f"must be between 1 and 65535 (got {number})")
    return number


def parse_policy_port(cursor: Cursor) -> PolicyPort:
    """A NetworkPolicyPort: protocol (default TCP), port (number or name), endPort."""
    fields = cursor.mapping(_PORT_FIELDS)
    protocol = parse_protocol(fields["protocol"]) if "protocol" in fields and fields["protocol"].value is not None else Protocol.TCP
    port: int | str | None = None
    port_cursor = fields.get("port")
    if port_cursor is not None and port_cursor.value is not None:
        if isinstance(port_cursor.value, str):
            port = port_cursor.string()
            problem = port_name_problem(port)
            if problem:
                if port.isdigit():
                    problem += "; write a port number without quotes"
                port_cursor.fail(problem)
        else:
            port = parse_port_number(port_cursor)
    end_port = None
    end_cursor = fields.get("endPort")
    if end_cursor is not None and end_cursor.value is not None:
        end_port = parse_port_number(end_cursor)
        if port is None:
            end_cursor.fail("requires port to be set")
        if isinstance(port, str):
            end_cursor.fail(f"may not be used with a named port (port is {port!r})")
        if end_port < port:
            end_cursor.fail(f"must be >= port (got {end_port})")
    return PolicyPort(protocol, port, end_port, cursor.location)
