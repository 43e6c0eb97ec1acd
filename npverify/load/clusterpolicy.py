"""``policy.networking.k8s.io`` cluster-scoped policies -> ClusterPolicy, validated as the API server does.

Three kinds, lowered to one model shape (npverify.model.ClusterPolicy):

- ``v1alpha2`` ClusterNetworkPolicy: a tier (Admin or Baseline), a priority, a subject, and
  ingress/egress rules with actions Accept, Deny, Pass and ``protocols`` entries;
- ``v1alpha1`` AdminNetworkPolicy (the Admin tier; actions Allow, Deny, Pass) and
  BaselineAdminNetworkPolicy (the Baseline tier, one per cluster, named ``default``, no
  priority; actions Allow, Deny), with ``ports`` entries.

The facts come from kubernetes-sigs/network-policy-api: apis/v1alpha2/clusternetworkpolicy_types.go,
apis/v1alpha1/{adminnetworkpolicy,baselineadminnetworkpolicy,shared}_types.go and the CRDs
generated from them (experimental channel, which adds ``nodes``, ``domainNames`` and named
ports to the standard one). The CRD's schema is what the API server checks: required
fields, enums, list sizes, number ranges, the MinProperties/MaxProperties "exactly one field"
rules and the CEL rules (a port range's start below its end; no named port next to a
networks/nodes/domainNames peer; a BaselineAdminNetworkPolicy named ``default``).

Where npverify is stricter than the schema, it is so because the value could not be
enforced as written: label selectors are checked as for NetworkPolicy (an implementation
cannot turn a bad key or operator into a selector), protocols must be TCP, UDP or SCTP,
``domainNames`` peers must be in Accept (Allow) rules, as the API documents, and a port
range must run upwards.

As in the API server, a null field counts as absent (the CRD's pruning drops it first).
A peer whose only field is one this API version does not have, and that is no misspelling
of one, is the API's "unknown peer": it is read as an empty ClusterPeer, whose rule fails
closed, with a warning (docs/semantics.md, "Cluster-scoped policies").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable

import attrs

from npverify.hints import join_words
from npverify.load.fields import (
    dns_subdomain_problem,
    parse_cidr,
    parse_label_selector,
    parse_port_number,
    parse_protocol,
    port_name_problem,
)
from npverify.load.meta import ObjectMeta, parse_object_meta
from npverify.load.yamlnodes import Cursor, shorten
from npverify.model import (
    Action,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    Diagnostic,
    Direction,
    IPNetwork,
    LabelSelector,
    PodSet,
    Protocol,
    Tier,
)

GROUP = "policy.networking.k8s.io"
CLUSTER_NETWORK_POLICY_API_VERSION = f"{GROUP}/v1alpha2"
ADMIN_NETWORK_POLICY_API_VERSION = f"{GROUP}/v1alpha1"

_TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")

#: Every peer field of every kind and version, and the ones an ingress peer may have.
_ALL_PEER_FIELDS = ("namespaces", "pods", "nodes", "networks", "domainNames")
_INGRESS_PEER_FIELDS = ("namespaces", "pods")

_MAX_RULE_NAME = 100
_MAX_CIDR_CHARS = 43
_MAX_SET_ITEMS = 25

#: NetworkPolicy's peer fields, which people carry over by habit: never a "future" field.
_NETWORK_POLICY_PEER_HINTS = {
    "podSelector": "that is NetworkPolicy's; a cluster policy peer is pods: {namespaceSelector: ..., podSelector: ...} or namespaces: SELECTOR",
    "namespaceSelector": "that is NetworkPolicy's; a cluster policy peer is namespaces: SELECTOR or pods: {namespaceSelector: ..., podSelector: ...}",
    "ipBlock": "that is NetworkPolicy's; a cluster policy egress peer names CIDRs as networks: [CIDR, ...]",
}

_SUBJECT_HINTS = {
    "podSelector": "write pods: {namespaceSelector: ..., podSelector: ...} (or namespaces: SELECTOR for whole namespaces)",
    "namespaceSelector": "write namespaces: SELECTOR (or pods: {namespaceSelector: ..., podSelector: ...})",
}


@attrs.frozen
class _Dialect:
    """What one kind's schema allows, as the parser needs it."""

    kind: str
    api_version: str
    #: The actions as written, with what each does.
    actions: dict[str, Action]
    #: None: the manifest names the tier (``spec.tier``); else the kind's one tier.
    tier: Tier | None
    has_priority: bool
    max_rules: int
    max_peers: int
    max_ports: int
    #: ``protocols`` (v1alpha2) or ``ports`` (v1alpha1).
    ports_field: str
    egress_peer_fields: tuple[str, ...]
    #: v1alpha1's NamespacedPod requires namespaceSelector; v1alpha2's defaults it to {}.
    pods_namespace_selector_required: bool
    domain_name: re.Pattern
    #: The CEL message for a named port next to a networks/nodes(/domainNames) peer.
    named_port_message: str
    #: Fields of other kinds or versions, with what to write instead.
    spec_hints: dict[str, str] = attrs.field(factory=dict)
    rule_hints: dict[str, str] = attrs.field(factory=dict)
    action_hints: dict[str, str] = attrs.field(factory=dict)
    #: The one name the kind's objects may have (BaselineAdminNetworkPolicy: ``default``).
    only_name: str | None = None

    @property
    def spec_fields(self) -> tuple[str, ...]:
        return (("tier",) if self.tier is None else ()) + (("priority",) if self.has_priority else ()) + (
            "subject",
            "ingress",
            "egress",
        )

    def action_word(self, action: Action) -> str:
        """How the kind spells ``action`` (v1alpha1 says Allow for Accept)."""
        return next(word for word, value in self.actions.items() if value is action)


# The DomainName patterns. v1alpha1's has ``A-z`` (a typo upstream, kept: it is what the
# API server checks) where v1alpha2's has ``A-Z``.
_DOMAIN_NAME_V1ALPHA2 = re.compile(
    r"(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?"
)
_DOMAIN_NAME_V1ALPHA1 = re.compile(
    r"(\*\.)?([a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?"
)

_NAMED_PORTS_V1ALPHA2 = (
    "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"
)
_NAMED_PORTS_BANP = "networks/nodes peer cannot be set with namedPorts since there are no namedPorts for networks/nodes"

_V1ALPHA1_RULE_HINTS = {
    "protocols": "'protocols' is ClusterNetworkPolicy's (v1alpha2); v1alpha1 rules list ports",
}

CLUSTER_NETWORK_POLICY = _Dialect(
    kind="ClusterNetworkPolicy",
    api_version=CLUSTER_NETWORK_POLICY_API_VERSION,
    actions={"Accept": Action.ACCEPT, "Deny": Action.DENY, "Pass": Action.PASS},
    tier=None,
    has_priority=True,
    max_rules=25,
    max_peers=25,
    max_ports=25,
    ports_field="protocols",
    egress_peer_fields=_ALL_PEER_FIELDS,
    pods_namespace_selector_required=False,
    domain_name=_DOMAIN_NAME_V1ALPHA2,
    named_port_message=_NAMED_PORTS_V1ALPHA2,
    spec_hints={"podSelector": "cluster policies select their pods with subject: {namespaces: ...} or subject: {pods: ...}"},
    rule_hints={"ports": "ClusterNetworkPolicy (v1alpha2) rules list ports under 'protocols' (tcp, udp, sctp or destinationNamedPort)"},
    action_hints={"Allow": "v1alpha1's Allow is Accept in ClusterNetworkPolicy"},
)

ADMIN_NETWORK_POLICY = _Dialect(
    kind="AdminNetworkPolicy",
    api_version=ADMIN_NETWORK_POLICY_API_VERSION,
    actions={"Allow": Action.ACCEPT, "Deny": Action.DENY, "Pass": Action.PASS},
    tier=Tier.ADMIN,
    has_priority=True,
    max_rules=100,
    max_peers=100,
    max_ports=100,
    ports_field="ports",
    egress_peer_fields=_ALL_PEER_FIELDS,
    pods_namespace_selector_required=True,
    domain_name=_DOMAIN_NAME_V1ALPHA1,
    named_port_message=_NAMED_PORTS_V1ALPHA2,
    spec_hints={
        "tier": "'tier' is ClusterNetworkPolicy's (v1alpha2); an AdminNetworkPolicy is always of the Admin tier",
        "podSelector": "cluster policies select their pods with subject: {namespaces: ...} or subject: {pods: ...}",
    },
    rule_hints=_V1ALPHA1_RULE_HINTS,
    action_hints={"Accept": "AdminNetworkPolicy (v1alpha1) says Allow; Accept is ClusterNetworkPolicy's word"},
)

BASELINE_ADMIN_NETWORK_POLICY = _Dialect(
    kind="BaselineAdminNetworkPolicy",
    api_version=ADMIN_NETWORK_POLICY_API_VERSION,
    actions={"Allow": Action.ACCEPT, "Deny": Action.DENY},
    tier=Tier.BASELINE,
    has_priority=False,
    max_rules=100,
    max_peers=100,
    max_ports=100,
    ports_field="ports",
    egress_peer_fields=("namespaces", "pods", "nodes", "networks"),
    pods_namespace_selector_required=True,
    domain_name=_DOMAIN_NAME_V1ALPHA1,
    named_port_message=_NAMED_PORTS_BANP,
    spec_hints={
        "priority": "a BaselineAdminNetworkPolicy has no priority: a cluster has one, named default",
        "tier": "'tier' is ClusterNetworkPolicy's (v1alpha2); a BaselineAdminNetworkPolicy is always of the Baseline tier",
        "podSelector": "cluster policies select their pods with subject: {namespaces: ...} or subject: {pods: ...}",
    },
    rule_hints=_V1ALPHA1_RULE_HINTS,
    action_hints={
        "Pass": "a BaselineAdminNetworkPolicy rule cannot pass: no tier follows the Baseline tier",
        "Accept": "BaselineAdminNetworkPolicy (v1alpha1) says Allow; Accept is ClusterNetworkPolicy's word",
    },
    only_name="default",
)


def _parser(dialect: _Dialect) -> Callable[[Cursor, list[Diagnostic]], tuple[ClusterPolicy, ObjectMeta]]:
    return lambda doc, warnings: parse_cluster_policy(doc, dialect, warnings)


parse_cluster_network_policy = _parser(CLUSTER_NETWORK_POLICY)
parse_admin_network_policy = _parser(ADMIN_NETWORK_POLICY)
parse_baseline_admin_network_policy = _parser(BASELINE_ADMIN_NETWORK_POLICY)


def parse_cluster_policy(doc: Cursor, dialect: _Dialect, warnings: list[Diagnostic]) -> tuple[ClusterPolicy, ObjectMeta]:
    """One document of ``dialect``'s kind (its apiVersion already checked)."""
    fields = doc.mapping(_TOP_FIELDS)
    meta = parse_object_meta(doc, fields, name_problem=dns_subdomain_problem, strict=True, namespaced=False)
    if dialect.only_name is not None and meta.name != dialect.only_name:
        meta.name_cursor.fail(
            f"must be {dialect.only_name!r} (got {shorten(meta.name)!r}): only one baseline admin network policy "
            'with metadata.name="default" can be created in the cluster'
        )
    namespace = fields["metadata"].mapping().get("namespace")
    if namespace is not None and namespace.value not in (None, ""):
        namespace.string()
        # The API server clears the namespace of a cluster-scoped object; one written here
        # suggests the author expected it to scope the policy, which it does not.
        warnings.append(
            namespace.warning(
                f"ignored: {dialect.kind} is cluster-scoped, so the API server drops metadata.namespace; "
                "the policy applies to the pods its subject selects in every namespace"
            )
        )

    spec = fields.get("spec")
    if spec is None or spec.value is None:
        (spec or doc).fail("missing required field 'spec'")
    spec_fields = _fields(spec, dialect.spec_fields, dialect.spec_hints)

    tier = dialect.tier if dialect.tier is not None else _parse_tier(_required(spec, spec_fields, "tier"))
    priority = _parse_priority(_required(spec, spec_fields, "priority")) if dialect.has_priority else 0
    subject = _parse_subject(_required(spec, spec_fields, "subject"), dialect)
    rules = {}
    for direction, key in ((Direction.INGRESS, "ingress"), (Direction.EGRESS, "egress")):
        items = _items(spec_fields[key], 0, dialect.max_rules) if key in spec_fields else []
        rules[direction] = tuple(_parse_rule(item, direction, dialect, warnings) for item in items)
    policy = ClusterPolicy(
        kind=dialect.kind,
        name=meta.name,
        tier=tier,
        priority=priority,
        subject=subject,
        ingress=rules[Direction.INGRESS],
        egress=rules[Direction.EGRESS],
        location=doc.location,
    )
    return policy, meta


# --- the pieces of a mapping --------------------------------------------------------------


def _fields(cursor: Cursor, allowed: tuple[str, ...], hints: dict[str, str] | None = None) -> dict[str, Cursor]:
    """The mapping's fields but the null ones (the API server prunes nulls before it
    validates); an unknown field is an error, with ``hints`` for fields of other kinds."""
    if isinstance(cursor.value, dict):
        for key in cursor.value:
            if key not in allowed and hints and key in hints:
                cursor.fail_at_key(key, f"unknown field {shorten(key)!r}: {hints[key]}")
    return {key: child for key, child in cursor.mapping(allowed).items() if child.value is not None}


def _required(parent: Cursor, fields: dict[str, Cursor], key: str) -> Cursor:
    """``fields[key]``; an error when absent, or null (which the API server drops)."""
    if key in fields:
        return fields[key]
    if isinstance(parent.value, dict) and key in parent.value:
        parent.mapping()[key].fail("missing required value (null counts as absent)")
    parent.fail(f"missing required field {key!r}")


def _exactly_one(cursor: Cursor, fields: dict[str, Cursor], names: tuple[str, ...]) -> str:
    """The one field of ``names`` set (MinProperties=1, MaxProperties=1 in the schema)."""
    present = [key for key in fields if key in names]
    if len(present) == 1:
        return present[0]
    choices = join_words(list(names), "or")
    if present:
        cursor.fail(f"must set exactly one of {choices}, not {join_words(present)}")
    nulls = [key for key in cursor.value if cursor.value[key].value is None] if isinstance(cursor.value, dict) else []
    null_note = f" ({join_words(nulls)} {'is' if len(nulls) == 1 else 'are'} null, which counts as absent)" if nulls else ""
    cursor.fail(f"must set exactly one of {choices}{null_note}")


def _items(cursor: Cursor, minimum: int, maximum: int, empty_hint: str = "") -> list[Cursor]:
    """A list field of ``minimum``..``maximum`` items (the schema's MinItems/MaxItems)."""
    items = cursor.sequence()
    if len(items) < minimum:
        cursor.fail(f"must have at least {minimum} item{'s' if minimum > 1 else ''}{empty_hint}")
    if len(items) > maximum:
        cursor.fail(f"must have at most {maximum} items (got {len(items)})")
    return items


def _unique(items: list[Cursor], values: list[str]) -> None:
    """A ``listType=set`` list: each value once."""
    first: dict[str, Cursor] = {}
    for item, value in zip(items, values):
        if value in first:
            where = first[value].location
            item.fail(f"duplicate value {shorten(value)!r} (also at line {where.line}, column {where.column})")
        first[value] = item


# --- spec ---------------------------------------------------------------------------------


def _parse_tier(cursor: Cursor) -> Tier:
    text = cursor.string()
    try:
        return Tier(text)
    except ValueError:
        cursor.fail(f"unknown tier {shorten(text)!r}; expected Admin or Baseline")


def _parse_priority(cursor: Cursor) -> int:
    priority = cursor.integer()
    if not 0 <= priority <= 1000:
        cursor.fail(f"must be between 0 and 1000 (got {priority})")
    return priority


def _parse_subject(cursor: Cursor, dialect: _Dialect) -> PodSet:
    fields = _fields(cursor, ("namespaces", "pods"), _SUBJECT_HINTS)
    key = _exactly_one(cursor, fields, ("namespaces", "pods"))
    if key == "namespaces":
        return PodSet(namespace_selector=parse_label_selector(fields[key]))
    return _parse_namespaced_pods(fields[key], dialect)


def _parse_namespaced_pods(cursor: Cursor, dialect: _Dialect) -> PodSet:
    """A NamespacedPod: pods matching podSelector in namespaces matching namespaceSelector."""
    fields = _fields(cursor, ("namespaceSelector", "podSelector"))
    pod_selector = parse_label_selector(_required(cursor, fields, "podSelector"))
    if "namespaceSelector" in fields:
        namespace_selector = parse_label_selector(fields["namespaceSelector"])
    elif dialect.pods_namespace_selector_required:
        _required(cursor, fields, "namespaceSelector")
    else:
        namespace_selector = LabelSelector()  # v1alpha2: an absent selector is {}, every namespace
    return PodSet(namespace_selector=namespace_selector, pod_selector=pod_selector)


# --- rules --------------------------------------------------------------------------------


def _parse_rule(cursor: Cursor, direction: Direction, dialect: _Dialect, warnings: list[Diagnostic]) -> ClusterRule:
    peers_key, other_key = ("from", "to") if direction is Direction.INGRESS else ("to", "from")
    if isinstance(cursor.value, dict) and other_key in cursor.value:
        this, that = ("ingress", "egress") if direction is Direction.INGRESS else ("egress", "ingress")
        cursor.fail_at_key(other_key, f"{this} rules have {peers_key!r}, not {other_key!r} ({other_key!r} is for {that} rules)")
    fields = _fields(cursor, ("name", "action", peers_key, dialect.ports_field), dialect.rule_hints)

    name = ""
    if "name" in fields:
        name = fields["name"].string(allow_empty=True)
        if len(name) > _MAX_RULE_NAME:
            fields["name"].fail(f"must be at most {_MAX_RULE_NAME} characters (got {len(name)})")
    action_cursor = _required(cursor, fields, "action")
    action = _parse_action(action_cursor, dialect)

    peer_cursors = _items(_required(cursor, fields, peers_key), 1, dialect.max_peers)
    peers = []
    unknown_fields: list[tuple[Cursor, str]] = []
    for peer_cursor in peer_cursors:
        peer, unknown = _parse_peer(peer_cursor, direction, dialect, warnings)
        if peer.domain_names and action is not Action.ACCEPT:
            word = dialect.action_word(Action.ACCEPT)
            peer_cursor.fail_at_key(
                "domainNames",
                f"domainNames peers are only supported in {word} rules (this rule's action is {action_cursor.value}): "
                "an implementation cannot know every address a name resolves to, so it cannot deny by name",
            )
        if unknown is not None:
            unknown_fields.append((peer_cursor, unknown))
        peers.append(peer)

    ports: list[ClusterPort] = []
    port_cursors: list[Cursor] = []
    if dialect.ports_field in fields:
        port_cursors = _items(
            fields[dialect.ports_field], 1, dialect.max_ports, f" (leave {dialect.ports_field} out to match every port)"
        )
        parse = _parse_protocol_entry if dialect.ports_field == "protocols" else _parse_v1alpha1_port
        ports = [parse(item, warnings) for item in port_cursors]

    # The schema's CEL rule: a named port is a container port's name, which nothing outside
    # the pod network (networks, nodes, domain names) has.
    if any(p.networks or p.nodes is not None or p.domain_names for p in peers):
        for port, item in zip(ports, port_cursors):
            if port.named is not None:
                item.fail(dialect.named_port_message)

    for peer_cursor, key in unknown_fields:
        warnings.append(_fails_closed_warning(peer_cursor, key, direction, action, action_cursor.value, dialect))
    return ClusterRule(action=action, peers=tuple(peers), ports=tuple(ports), name=name, location=cursor.location)


def _parse_action(cursor: Cursor, dialect: _Dialect) -> Action:
    text = cursor.string()
    if text in dialect.actions:
        return dialect.actions[text]
    hint = f" ({dialect.action_hints[text]})" if text in dialect.action_hints else ""
    cursor.fail(f"unknown action {shorten(text)!r}; expected {join_words(list(dialect.actions), 'or')}{hint}")


def _fails_closed_warning(
    peer: Cursor, key: str, direction: Direction, action: Action, written: str, dialect: _Dialect
) -> Diagnostic:
    if action is Action.ACCEPT:
        effect = f"this {written} rule matches no traffic"
    else:
        towards = "ingress into" if direction is Direction.INGRESS else "egress from"
        effect = f"this {written} rule denies all {towards} the pods of the subject, on every port"
    return peer.mapping()[key].warning(
        f"{shorten(key)!r} is not a peer of {dialect.kind} {dialect.api_version.rpartition('/')[2]} as npverify knows it; "
        "the API has an implementation that does not know a peer's field fail closed, and npverify reads the peer so: "
        f"{effect} (an implementation that knows the field may match otherwise)"
    )


# --- peers --------------------------------------------------------------------------------


def _parse_peer(
    cursor: Cursor, direction: Direction, dialect: _Dialect, warnings: list[Diagnostic]
) -> tuple[ClusterPeer, str | None]:
    """A peer, and the field that made it an unknown peer (None for a known one)."""
    known = _INGRESS_PEER_FIELDS if direction is Direction.INGRESS else dialect.egress_peer_fields
    if not isinstance(cursor.value, dict):
        cursor.mapping()  # the error: a peer is a mapping
    unknown = [key for key in cursor.value if key not in known]
    for key in unknown:
        problem = _peer_field_problem(key, known, direction, dialect)
        if problem:
            cursor.fail_at_key(key, problem)
    fields = {key: child for key, child in cursor.mapping().items() if child.value is not None}
    future = [key for key in fields if key not in known]
    if future:
        if len(fields) > 1:
            cursor.fail_at_key(future[0], f"unknown field {shorten(future[0])!r}; known fields: {', '.join(known)}")
        # The API's unknown peer (a field of a later version): the rule fails closed.
        return ClusterPeer(location=cursor.location), future[0]
    key = _exactly_one(cursor, fields, known)
    value = fields[key]
    if key == "namespaces":
        return ClusterPeer(pods=PodSet(namespace_selector=parse_label_selector(value)), location=cursor.location), None
    if key == "pods":
        return ClusterPeer(pods=_parse_namespaced_pods(value, dialect), location=cursor.location), None
    if key == "nodes":
        return ClusterPeer(nodes=parse_label_selector(value), location=cursor.location), None
    if key == "networks":
        return ClusterPeer(networks=_parse_networks(value, warnings), location=cursor.location), None
    return ClusterPeer(domain_names=_parse_domain_names(value, dialect), location=cursor.location), None


def _peer_field_problem(key: str, known: tuple[str, ...], direction: Direction, dialect: _Dialect) -> str | None:
    """Why ``key`` in a peer is a mistake, or None when it may be a later version's peer."""
    if key in _ALL_PEER_FIELDS:
        if direction is Direction.INGRESS:
            return f"unknown field {key!r}: ingress peers ('from') are namespaces or pods; {key} peers are egress ('to') only"
        return f"unknown field {key!r}: {dialect.kind} egress peers are {join_words(list(known), 'or')}"
    if key in _NETWORK_POLICY_PEER_HINTS:
        return f"unknown field {key!r}: {_NETWORK_POLICY_PEER_HINTS[key]}"
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown field {shorten(key)!r}; did you mean {close[0]!r}?"
    return None


def _parse_networks(cursor: Cursor, warnings: list[Diagnostic]) -> tuple[IPNetwork, ...]:
    items = _items(cursor, 1, _MAX_SET_ITEMS)
    networks = []
    for item in items:
        text = item.string()
        if len(text) > _MAX_CIDR_CHARS:
            item.fail(f"must be at most {_MAX_CIDR_CHARS} characters (got {len(text)})")
        network = parse_cidr(item, warnings)
        if network.version == 6 and network.network_address.ipv4_mapped is not None:
            # The API server's isCIDR() refuses these: "::ffff:10.0.0.0/104" would be an
            # IPv4 network spelt as IPv6, which implementations read differently.
            item.fail(f"invalid CIDR {shorten(text)!r}: an IPv4-mapped IPv6 address is not allowed; write the IPv4 CIDR")
        networks.append(network)
    _unique(items, [item.value for item in items])
    return tuple(networks)


def _parse_domain_names(cursor: Cursor, dialect: _Dialect) -> tuple[str, ...]:
    items = _items(cursor, 1, _MAX_SET_ITEMS)
    names = []
    for item in items:
        name = item.string()
        if not dialect.domain_name.fullmatch(name):
            item.fail(
                f"invalid domain name {shorten(name)!r}: must be a DNS name of at least two labels, "
                "optionally starting with '*.' (a wildcard for one or more labels), e.g. *.example.com"
            )
        names.append(name)
    _unique(items, names)
    return tuple(names)


# --- ports --------------------------------------------------------------------------------

_PROTOCOL_KEYS = {"tcp": Protocol.TCP, "udp": Protocol.UDP, "sctp": Protocol.SCTP}
_PROTOCOL_ENTRY_FIELDS = ("tcp", "udp", "sctp", "destinationNamedPort")
_PROTOCOL_ENTRY_HINTS = {
    "port": "ClusterNetworkPolicy (v1alpha2) writes tcp: {destinationPort: {number: N}} (or udp, sctp)",
    "protocol": "ClusterNetworkPolicy (v1alpha2) names the protocol as the key: tcp, udp or sctp",
    "portNumber": "that is v1alpha1's; ClusterNetworkPolicy writes tcp: {destinationPort: {number: N}}",
    "portRange": "that is v1alpha1's; ClusterNetworkPolicy writes tcp: {destinationPort: {range: {start: A, end: B}}}",
    "namedPort": "that is v1alpha1's; ClusterNetworkPolicy writes destinationNamedPort: NAME",
}
_V1ALPHA1_PORT_FIELDS = ("portNumber", "portRange", "namedPort")
_V1ALPHA1_PORT_HINTS = {
    "port": "AdminNetworkPolicy (v1alpha1) writes portNumber: {protocol: TCP, port: N}",
    "protocol": "AdminNetworkPolicy (v1alpha1) writes the protocol inside portNumber or portRange",
    "tcp": "that is ClusterNetworkPolicy's (v1alpha2); v1alpha1 writes portNumber: {protocol: TCP, port: N}",
    "udp": "that is ClusterNetworkPolicy's (v1alpha2); v1alpha1 writes portNumber: {protocol: UDP, port: N}",
    "sctp": "that is ClusterNetworkPolicy's (v1alpha2); v1alpha1 writes portNumber: {protocol: SCTP, port: N}",
    "destinationNamedPort": "that is ClusterNetworkPolicy's (v1alpha2); v1alpha1 writes namedPort: NAME",
}


def _parse_protocol_entry(cursor: Cursor, warnings: list[Diagnostic]) -> ClusterPort:
    """A v1alpha2 ``protocols`` entry: tcp/udp/sctp with a destinationPort, or destinationNamedPort."""
    fields = _fields(cursor, _PROTOCOL_ENTRY_FIELDS, _PROTOCOL_ENTRY_HINTS)
    key = _exactly_one(cursor, fields, _PROTOCOL_ENTRY_FIELDS)
    if key == "destinationNamedPort":
        return _named_port(fields[key], cursor, warnings)
    protocol_fields = _fields(fields[key], ("destinationPort",))
    if not protocol_fields:
        fields[key].fail("must set destinationPort (leave the protocols entry out to match every port)")
    destination = protocol_fields["destinationPort"]
    port_fields = _fields(destination, ("number", "range"))
    if _exactly_one(destination, port_fields, ("number", "range")) == "number":
        number = parse_port_number(port_fields["number"])
        return ClusterPort(_PROTOCOL_KEYS[key], number, number, location=cursor.location)
    start, end = _parse_range(port_fields["range"], ("start", "end"))
    return ClusterPort(_PROTOCOL_KEYS[key], start, end, location=cursor.location)


def _parse_v1alpha1_port(cursor: Cursor, warnings: list[Diagnostic]) -> ClusterPort:
    """A v1alpha1 ``ports`` entry: portNumber, portRange or namedPort."""
    fields = _fields(cursor, _V1ALPHA1_PORT_FIELDS, _V1ALPHA1_PORT_HINTS)
    key = _exactly_one(cursor, fields, _V1ALPHA1_PORT_FIELDS)
    if key == "namedPort":
        return _named_port(fields[key], cursor, warnings)
    if key == "portNumber":
        number_fields = _fields(fields[key], ("protocol", "port"))
        protocol = parse_protocol(number_fields["protocol"]) if "protocol" in number_fields else Protocol.TCP
        number = parse_port_number(_required(fields[key], number_fields, "port"))
        return ClusterPort(protocol, number, number, location=cursor.location)
    range_fields = _fields(fields[key], ("protocol", "start", "end"))
    protocol = parse_protocol(range_fields["protocol"]) if "protocol" in range_fields else Protocol.TCP
    start, end = _parse_range(fields[key], ("protocol", "start", "end"))
    return ClusterPort(protocol, start, end, location=cursor.location)


def _parse_range(cursor: Cursor, allowed: tuple[str, ...]) -> tuple[int, int]:
    """``start`` and ``end`` of a port range, both required, start below end."""
    fields = _fields(cursor, allowed)
    start = parse_port_number(_required(cursor, fields, "start"))
    end = parse_port_number(_required(cursor, fields, "end"))
    if start >= end:
        fields["end"].fail(f"must be greater than start (got {end}, start {start}); write a single port as a number")
    return start, end


def _named_port(value: Cursor, entry: Cursor, warnings: list[Diagnostic]) -> ClusterPort:
    """A named port: the destination pod's container port of that name, any protocol."""
    name = value.string()
    problem = port_name_problem(name)
    if problem:
        # The schema takes any string, but no container port can have this name.
        warnings.append(value.warning(f"{problem}; no container port can have this name, so this entry matches nothing"))
    return ClusterPort(protocol=None, named=name, location=entry.location)
