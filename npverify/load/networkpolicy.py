"""``networking.k8s.io/v1`` NetworkPolicy documents -> model, validated and defaulted as the API server does.

References: k8s.io/api/networking/v1/types.go (fields), pkg/apis/networking/v1/defaults.go
(defaulting) and pkg/apis/networking/validation/validation.go (validation).
"""

from __future__ import annotations

from npverify.load.fields import (
    dns_subdomain_problem,
    parse_ip_block,
    parse_label_selector,
    parse_policy_port,
)
from npverify.load.meta import ObjectMeta, parse_object_meta
from npverify.load.yamlnodes import Cursor
from npverify.model import Diagnostic, Direction, NetworkPolicy, Peer, PolicyPort, Protocol, Rule

API_VERSION = "networking.k8s.io/v1"

#: ``status`` existed (alpha, 1.24-1.26) and is now tombstoned; old ``kubectl get -o yaml``
#: output still has it. We accept and ignore it.
_TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")
_SPEC_FIELDS = ("podSelector", "policyTypes", "ingress", "egress")
_INGRESS_RULE_FIELDS = ("ports", "from")
_EGRESS_RULE_FIELDS = ("ports", "to")
_PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")


def parse_network_policy(doc: Cursor, warnings: list[Diagnostic]) -> tuple[NetworkPolicy, ObjectMeta]:
    """One NetworkPolicy document (its apiVersion already checked)."""
    fields = doc.mapping(_TOP_FIELDS)
    meta = parse_object_meta(doc, fields, name_problem=dns_subdomain_problem, strict=True)

    spec = fields.get("spec")
    if spec is None or spec.value is None:
        (spec or doc).fail("missing required field 'spec'")
    spec_fields = spec.mapping(_SPEC_FIELDS)

    # The OpenAPI schema long marked podSelector required (so kubectl's client-side
    # validation rejected a policy without it); the API server itself has always read an
    # absent podSelector as {} (select every pod), and kubernetes/kubernetes#131354 (2025)
    # made the schema say so. We keep rejecting it: a forgotten podSelector silently
    # selecting the whole namespace is more likely a mistake than an intention.
    selector = spec_fields.get("podSelector")
    if selector is None:
        spec.fail("missing required field 'podSelector' (write podSelector: {} to select every pod in the namespace)")
    if selector.value is None:
        warnings.append(selector.warning("null; read as {}, which selects every pod in the namespace"))
    pod_selector = parse_label_selector(selector)

    ingress = tuple(
        _parse_rule(rule, "from", _INGRESS_RULE_FIELDS, warnings)
        for rule in _optional_list(spec_fields, "ingress")
    )
    egress = tuple(
        _parse_rule(rule, "to", _EGRESS_RULE_FIELDS, warnings)
        for rule in _optional_list(spec_fields, "egress")
    )
    policy_types = _parse_policy_types(spec_fields.get("policyTypes"), egress, warnings)
    policy = NetworkPolicy(
        namespace=meta.namespace,
        name=meta.name,
        pod_selector=pod_selector,
        policy_types=policy_types,
        ingress=ingress,
        egress=egress,
        location=doc.location,
    )
    return policy, meta


def _optional_list(fields: dict[str, Cursor], key: str) -> list[Cursor]:
    """A list field; absent and null both read as empty (Go decodes null to a nil slice)."""
    cursor = fields.get(key)
    return [] if cursor is None else cursor.optional_sequence()


def _parse_policy_types(
    cursor: Cursor | None, egress: tuple[Rule, ...], warnings: list[Diagnostic]
) -> frozenset[Direction]:
    """``spec.policyTypes``, defaulted when absent or empty.

    What the API server does (checked against kubernetes/kubernetes master):
    - defaults.go: ``if len(PolicyTypes) == 0`` then [Ingress], plus Egress ``if
      len(Egress) != 0``. So an explicitly empty list is defaulted exactly like an absent
      one, and ``egress: []`` does not add Egress.
    - validation.go: more than two entries is an error ("may not specify more than two
      policyTypes"); each entry must be Ingress or Egress. Duplicates are NOT rejected
      (``[Ingress, Ingress]`` passes), so we accept them with a warning.
    """
    items = [] if cursor is None else cursor.optional_sequence()
    if not items:
        return frozenset({Direction.INGRESS, Direction.EGRESS} if egress else {Direction.INGRESS})
    if len(items) > 2:
        cursor.fail(f"may not specify more than two policyTypes (got {len(items)})")
    types: set[Direction] = set()
    for item in items:
        text = item.string()
        try:
            direction = Direction(text)
        except ValueError:
            item.fail(f"unknown policy type {text!r}; expected Ingress or Egress")
        if direction in types:
            warnings.append(item.warning(f"duplicate policy type {text!r}"))
        types.add(direction)
    return frozenset(types)


def _parse_rule(
    cursor: Cursor, peers_key: str, allowed: tuple[str, ...], warnings: list[Diagnostic]
) -> Rule:
    """An ingress or egress rule; ``peers_key`` is ``from`` or ``to``."""
    if cursor.value is None:
        # Go decodes a null list element into the zero rule, which allows everything.
        warnings.append(cursor.warning("null rule; read as {}, which allows all traffic"))
        return Rule(location=cursor.location)
    if isinstance(cursor.value, dict):
        other = "to" if peers_key == "from" else "from"
        if other in cursor.value:
            direction, this = ("ingress", "egress") if peers_key == "from" else ("egress", "ingress")
            cursor.fail_at_key(other, f"{direction} rules have {peers_key!r}, not {other!r} ({other!r} is for {this} rules)")
    fields = cursor.mapping(allowed)
    peers = tuple(_parse_peer(peer, warnings) for peer in _optional_list(fields, peers_key))
    ports = tuple(_parse_port(port, warnings) for port in _optional_list(fields, "ports"))
    return Rule(peers, ports, cursor.location)


def _parse_peer(cursor: Cursor, warnings: list[Diagnostic]) -> Peer:
    """A NetworkPolicyPeer: exactly an ipBlock, or a podSelector and/or namespaceSelector."""
    fields = {} if cursor.value is None else cursor.mapping(_PEER_FIELDS)
    present = {}
    for key, child in fields.items():
        if child.value is None:
            # A null selector is an unset (nil) pointer in Go, not an empty selector.
            warnings.append(child.warning(f"null; read as if {key} were absent"))
        else:
            present[key] = child
    if not present:
        cursor.fail("must specify at least one of podSelector, namespaceSelector or ipBlock")
    if "ipBlock" in present and len(present) > 1:
        cursor.fail("ipBlock cannot be combined with podSelector or namespaceSelector")
    if "ipBlock" in present:
        return Peer(ip_block=parse_ip_block(present["ipBlock"], warnings), location=cursor.location)
    pod = parse_label_selector(present["podSelector"]) if "podSelector" in present else None
    namespace = parse_label_selector(present["namespaceSelector"]) if "namespaceSelector" in present else None
    return Peer(pod_selector=pod, namespace_selector=namespace, location=cursor.location)


def _parse_port(cursor: Cursor, warnings: list[Diagnostic]) -> PolicyPort:
    if cursor.value is None:
        # The zero NetworkPolicyPort, defaulted: protocol TCP, every port.
        warnings.append(cursor.warning("null port; read as {}, which matches every TCP port"))
        return PolicyPort(Protocol.TCP, None, None, cursor.location)
    return parse_policy_port(cursor)
