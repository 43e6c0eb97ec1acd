"""The tiered policy model around NetworkPolicy: the Admin and Baseline first-match tiers.

For each direction a packet meets, in order: the Admin tier (policies by priority, lower
first; rules in order; the first match decides: Accept and Deny are final, Pass skips the
rest of the tier), then NetworkPolicy for pods it isolates (final either way), then the
Baseline tier, then the default (allow). Both the source's egress and the destination's
ingress must allow. docs/semantics.md states this with the points left open.

This module is the plain-Python meaning of the cluster-scoped tiers, shared by the
reference evaluator (npverify.semantics) and explain. The SMT encoding (npverify.smt) and
the matrix algebra interpret the same model values and are tested against it.

Two things no manifest settles: which IPs a ``domainNames`` peer matches (and a ``nodes``
peer, beyond the loaded Nodes' addresses and what Universe.nodes says), and
which of two policies of one tier with the same priority an implementation applies first.
A ``Resolution`` fixes them for one packet; ``possible_outcomes`` in npverify.semantics
tries every resolution that matters, and a verdict that depends on one is UNKNOWN.
"""

from __future__ import annotations

import attrs

from npverify.model import (
    Action,
    Cluster,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    Direction,
    Endpoint,
    ExternalEndpoint,
    LabelSelector,
    NodeEndpoint,
    PodEndpoint,
    PodSet,
    Protocol,
    SourceLocation,
    Tier,
)

#: The tiers in the order a direction meets them; NETWORK_POLICY and DEFAULT are not
#: first-match tiers, but steps of a trace name them too.
NETWORK_POLICY_TIER = "NetworkPolicy"
DEFAULT_TIER = "default"


def pod_set_matches(pods: PodSet, endpoint: Endpoint) -> bool:
    """Is ``endpoint`` a pod (never a hostNetwork one) of ``pods``?"""
    if not isinstance(endpoint, PodEndpoint) or endpoint.host_network:
        return False
    return pods.namespace_selector.matches(endpoint.namespace_labels) and pods.pod_selector.matches(endpoint.labels)


def peer_decidable_match(
    peer: ClusterPeer, endpoint: Endpoint, cluster: Cluster | None = None, nodes: str = "any"
) -> bool | None:
    """Does ``peer`` match ``endpoint``? None when no manifest can tell.

    ``networks`` match any IP in them, pods' included (the API says cluster traffic is
    checked against them too). ``nodes`` peers: see ``nodes_peer_match`` (``cluster`` gives
    the loaded Nodes, ``nodes`` is Universe.nodes). ``domainNames`` may match an external
    host only, which no manifest can tell. An ordinary pod is matched only through pod
    peers or its IP.
    """
    if peer.pods is not None:
        return pod_set_matches(peer.pods, endpoint)
    if peer.networks:
        ip = endpoint.ip
        return any(ip.version == n.version and ip in n for n in peer.networks)
    if peer.nodes is not None:
        return nodes_peer_match(peer.nodes, endpoint, cluster, nodes)
    if peer.domain_names:
        return None if isinstance(endpoint, ExternalEndpoint) else False
    return False


def carries_node_address(endpoint: Endpoint) -> bool:
    """Is ``endpoint`` a node's address (a node, or a hostNetwork pod, which has its node's)?"""
    return isinstance(endpoint, NodeEndpoint) or (isinstance(endpoint, PodEndpoint) and endpoint.host_network)


def nodes_peer_match(selector: LabelSelector, endpoint: Endpoint, cluster: Cluster | None, nodes: str = "any") -> bool | None:
    """Does a ``nodes`` peer with ``selector`` match ``endpoint``? None: no manifest says.

    An IP that is a loaded Node's address is that node: the selector decides on its labels.
    An ordinary pod is no node. Otherwise, with ``nodes == "any"`` (nodes no manifest
    declares may exist) an external host, a node or a hostNetwork pod may be a node the
    selector picks: unknown. With ``"declared"`` (the loaded Nodes are all the nodes) an
    external host is no node; a node or hostNetwork pod is one of the loaded Nodes, which
    one no manifest says: matched if the selector picks every loaded Node, not if it picks
    none (also when none is loaded), unknown otherwise.
    """
    if not (isinstance(endpoint, ExternalEndpoint) or carries_node_address(endpoint)):
        return False
    node = cluster.node_at(endpoint.ip) if cluster is not None else None
    if node is not None:
        return selector.matches(node.labels)
    if nodes != "declared":
        return None
    if isinstance(endpoint, ExternalEndpoint) or cluster is None:
        return False
    return selects_all_or_none(selector, cluster)


def selects_all_or_none(selector: LabelSelector, cluster: Cluster) -> bool | None:
    """True if ``selector`` picks every loaded Node, False if it picks none (or none is
    loaded), None if it picks some."""
    picked = sum(1 for n in cluster.nodes if selector.matches(n.labels))
    if picked == 0:
        return False
    return True if picked == len(cluster.nodes) else None


def port_matches(entry: ClusterPort, protocol: Protocol, port: int, dst: Endpoint) -> bool:
    """Does a ``protocols``/``ports`` entry match the packet? Named ports resolve on the
    destination pod, for the protocol the container port declares."""
    if entry.named is not None:
        if not isinstance(dst, PodEndpoint) or dst.host_network:
            return False
        return any(cp.name == entry.named and cp.protocol is protocol and cp.port == port for cp in dst.ports)
    if entry.protocol is not protocol:
        return False
    if entry.start is None:
        return True
    return entry.start <= port <= (entry.end if entry.end is not None else entry.start)


def ports_match(entries: tuple[ClusterPort, ...], protocol: Protocol, port: int, dst: Endpoint) -> bool:
    return not entries or any(port_matches(e, protocol, port, dst) for e in entries)


def effective_action(rule: ClusterRule) -> Action:
    """The action the rule takes: a Deny or Pass rule that fails closed denies."""
    return Action.DENY if rule.fails_closed and rule.action is not Action.ACCEPT else rule.action


@attrs.frozen
class RuleRef:
    """One rule of a cluster-scoped policy, with where it is written."""

    policy: ClusterPolicy
    direction: Direction
    index: int

    @property
    def rule(self) -> ClusterRule:
        return self.policy.rules(self.direction)[self.index]

    @property
    def path(self) -> str:
        """``spec.ingress[2]``: the rule's field path in its object."""
        return f"spec.{'ingress' if self.direction is Direction.INGRESS else 'egress'}[{self.index}]"

    @property
    def location(self) -> SourceLocation | None:
        return self.rule.location or self.policy.location

    @property
    def action(self) -> Action:
        return effective_action(self.rule)

    def describe(self) -> str:
        """``anp/deny-dev spec.egress[0] "no-dev" Deny (policies/anp.yaml:12:5)``."""
        name = f' "{self.rule.name}"' if self.rule.name else ""
        where = f" ({self.location})" if self.location else ""
        closed = " (fails closed: a peer of a kind this API version does not know)" if self.rule.fails_closed else ""
        return f"{self.policy.key} {self.path}{name} {self.action}{closed}{where}"


@attrs.frozen(order=True)
class GroupKey:
    """Policies of one tier and priority, for one direction: their order is the
    implementation's to choose when their rules overlap."""

    tier: str
    priority: int
    direction: str


@attrs.frozen
class Resolution:
    """How the facts no manifest holds are taken for one packet.

    ``matching_peers``: the ``nodes``/``domainNames`` peers taken to match the packet's
    other end (by content, so the same peer in two policy sets is one fact).
    ``first``: per group of same-priority policies, the key (``anp/NAME``) of the policy an
    implementation applies first when several match; a group not named applies its
    policies by name.
    """

    matching_peers: frozenset[ClusterPeer] = frozenset()
    first: frozenset[tuple[GroupKey, str]] = frozenset()

    def first_of(self, group: GroupKey) -> str | None:
        return next((key for g, key in self.first if g == group), None)

    def with_peer(self, peer: ClusterPeer, matches: bool) -> Resolution:
        peers = self.matching_peers | {peer} if matches else self.matching_peers - {peer}
        return attrs.evolve(self, matching_peers=frozenset(peers))

    def with_first(self, group: GroupKey, policy_key: str) -> Resolution:
        first = frozenset((g, k) for g, k in self.first if g != group) | {(group, policy_key)}
        return attrs.evolve(self, first=first)


#: The resolution the evaluator uses when none is given: unknown peers match nothing,
#: same-priority policies apply by name.
DEFAULT_RESOLUTION = Resolution()


@attrs.frozen
class TierOutcome:
    """How one first-match tier decided one direction: the rule that matched first (None:
    none matched), and the unknowns its answer depended on."""

    tier: Tier
    rule: RuleRef | None
    #: ``nodes``/``domainNames`` peers whose match the answer used.
    consulted_peers: tuple[ClusterPeer, ...] = ()
    #: Groups where policies with different actions matched: the order decided.
    ambiguous: tuple[tuple[GroupKey, tuple[RuleRef, ...]], ...] = ()

    @property
    def action(self) -> Action | None:
        return None if self.rule is None else self.rule.action


def rule_matches(
    rule: ClusterRule,
    other: Endpoint,
    protocol: Protocol,
    port: int,
    dst: Endpoint,
    resolution: Resolution,
    consulted: list[ClusterPeer],
    cluster: Cluster | None = None,
    nodes: str = "any",
) -> bool:
    """Does ``rule`` match a packet whose other end is ``other``? Unknown peer matches come
    from ``resolution`` and are recorded in ``consulted``; ``cluster`` and ``nodes``
    (Universe.nodes) decide ``nodes`` peers where the loaded Nodes do."""
    if rule.fails_closed:
        return rule.action is not Action.ACCEPT
    if not ports_match(rule.ports, protocol, port, dst):
        return False
    for peer in rule.peers:
        known = peer_decidable_match(peer, other, cluster, nodes)
        if known is None:
            consulted.append(peer)
            known = peer in resolution.matching_peers
        if known:
            return True
    return False


def first_match(
    cluster: Cluster,
    tier: Tier,
    direction: Direction,
    endpoint: Endpoint,
    other: Endpoint,
    protocol: Protocol,
    port: int,
    dst: Endpoint,
    resolution: Resolution = DEFAULT_RESOLUTION,
    by_name: bool = False,
    nodes: str = "any",
) -> TierOutcome:
    """The first rule of ``tier`` matching the packet for ``endpoint``'s ``direction``.

    ``by_name``: same-priority policies apply by name (the documented tie-break), so their
    order is no unknown. ``nodes``: Universe.nodes (see ``nodes_peer_match``).
    """
    consulted: list[ClusterPeer] = []
    ambiguous: list[tuple[GroupKey, tuple[RuleRef, ...]]] = []
    for priority, policies in cluster.tier_groups(tier):
        hits: list[RuleRef] = []
        for policy in policies:
            if not pod_set_matches(policy.subject, endpoint):
                continue
            for index, rule in enumerate(policy.rules(direction)):
                if rule_matches(rule, other, protocol, port, dst, resolution, consulted, cluster, nodes):
                    hits.append(RuleRef(policy, direction, index))
                    break
        if not hits:
            continue
        chosen = hits[0]
        if len(hits) > 1 and not by_name:
            group = GroupKey(tier.value, priority, direction.value)
            wanted = resolution.first_of(group)
            chosen = next((h for h in hits if h.policy.key == wanted), hits[0])
            if len({h.action for h in hits}) > 1:
                ambiguous.append((group, tuple(hits)))
        return TierOutcome(tier, chosen, tuple(consulted), tuple(ambiguous))
    return TierOutcome(tier, None, tuple(consulted), tuple(ambiguous))


def overlapping_priorities(cluster: Cluster) -> list[tuple[Tier, int, tuple[ClusterPolicy, ...]]]:
    """Groups of two or more policies with one tier and priority (whether their rules can
    overlap on a packet is the solver's question: npverify.engine reports it)."""
    return [
        (tier, priority, policies)
        for tier in Tier
        for priority, policies in cluster.tier_groups(tier)
        if len(policies) > 1
    ]
