"""The reference evaluator: NetworkPolicy semantics for one concrete packet, in plain Python.

This is the executable form of docs/semantics.md. It is deliberately direct, with no
cleverness, so it can be read against the Kubernetes API reference. The SMT encoding is
tested against it, and every counterexample the solver finds is replayed through it.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from npverify import tiers
from npverify.invariants.model import EndpointKind, Scope
from npverify.model import (
    Action,
    Cluster,
    ClusterPeer,
    Diagnostic,
    Direction,
    Endpoint,
    ExternalEndpoint,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    NodeEndpoint,
    Packet,
    Peer,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Semantics,
    Severity,
    Tier,
    Universe,
    NAMESPACE_NAME_LABEL,
)


def requirement_matches(req: Requirement, labels: Mapping[str, str]) -> bool:
    return req.matches(labels)


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """All requirements hold; the empty selector matches every label set."""
    return selector.matches(labels)


def ip_block_contains(block: IPBlock, endpoint: Endpoint) -> bool:
    return block.contains(endpoint.ip)


def is_policy_pod(endpoint: Endpoint) -> bool:
    """A pod that policies select and that pod/namespace selectors can match.

    hostNetwork pods share their node's network namespace: policies neither isolate them
    nor match them by labels; peers see only their (node) IP.
    """
    return isinstance(endpoint, PodEndpoint) and not endpoint.host_network


def peer_matches(peer: Peer, policy_namespace: str, endpoint: Endpoint, semantics: Semantics) -> bool:
    """Does a from/to entry of a policy in ``policy_namespace`` match ``endpoint``?"""
    if peer.ip_block is not None:
        if is_policy_pod(endpoint) and not semantics.ip_block_matches_pods:
            return False
        return ip_block_contains(peer.ip_block, endpoint)
    if not is_policy_pod(endpoint):
        return False
    assert isinstance(endpoint, PodEndpoint)
    if peer.namespace_selector is None:
        namespace_ok = endpoint.namespace == policy_namespace
    else:
        namespace_ok = selector_matches(peer.namespace_selector, endpoint.namespace_labels)
    pod_ok = peer.pod_selector is None or selector_matches(peer.pod_selector, endpoint.labels)
    return namespace_ok and pod_ok


def port_matches(entry: PolicyPort, protocol: Protocol, port: int, dst: Endpoint) -> bool:
    """Does a ports entry match the packet? Named ports resolve on the destination pod."""
    if entry.protocol is not protocol:
        return False
    if entry.port is None:
        return True
    if isinstance(entry.port, int):
        end = entry.end_port if entry.end_port is not None else entry.port
        return entry.port <= port <= end
    if not is_policy_pod(dst):
        return False
    assert isinstance(dst, PodEndpoint)
    return any(
        cp.name == entry.port and cp.protocol is protocol and cp.port == port for cp in dst.ports
    )


def ports_match(ports: tuple[PolicyPort, ...], protocol: Protocol, port: int, dst: Endpoint) -> bool:
    """An empty ports list matches every packet."""
    return not ports or any(port_matches(p, protocol, port, dst) for p in ports)


@attrs.frozen
class RuleMatch:
    """A rule that matched: the policy, direction, rule index and the peer and port that matched.

    ``peer_index``/``port_index`` are None when the rule has no peers/ports (matches all).
    """

    policy: NetworkPolicy
    direction: Direction
    rule_index: int
    peer_index: int | None
    port_index: int | None

    @property
    def rule(self) -> Rule:
        return self.policy.rules(self.direction)[self.rule_index]

    def describe(self) -> str:
        """E.g. ``shop/api ingress[1].from[0] ports[0] (k8s/shop.yaml:49:7)``."""
        field, peers = ("ingress", "from") if self.direction is Direction.INGRESS else ("egress", "to")
        text = f"{self.policy.key} {field}[{self.rule_index}]"
        where = self.rule.location or self.policy.location
        if self.peer_index is not None:
            text += f".{peers}[{self.peer_index}]"
            where = self.rule.peers[self.peer_index].location or where
        if self.port_index is not None:
            text += f" ports[{self.port_index}]"
        return f"{text} ({where})" if where else text


@attrs.frozen
class Step:
    """One step of a direction's trace: a tier, what in it applied, and the outcome.

    ``tier`` is "Admin", "NetworkPolicy", "Baseline" or "default"; ``rule`` says what in
    the tier applied ("" when nothing did); ``action`` is "Accept", "Deny", "Pass" or "none"
    (the tier does not decide; the next one does).
    """

    tier: str
    action: str
    rule: str = ""
    location: object = None


@attrs.frozen
class DirectionDecision:
    """How one direction (the source's egress or the destination's ingress) decided."""

    direction: Direction
    #: NetworkPolicies that select the endpoint for this direction (isolated iff non-empty).
    isolating: tuple[NetworkPolicy, ...]
    #: Rules of those policies that match the packet.
    matches: tuple[RuleMatch, ...]
    #: Why the endpoint is outside policy control, if it is ("external host", ...).
    unmanaged: str | None = None
    #: The Admin and Baseline tiers' first matches (None: no cluster-scoped policies).
    admin: tiers.TierOutcome | None = None
    baseline: tiers.TierOutcome | None = None

    @property
    def isolated(self) -> bool:
        return bool(self.isolating)

    @property
    def decided_by(self) -> str:
        """The tier that decided: "unmanaged", "Admin", "NetworkPolicy", "Baseline", "default"."""
        if self.unmanaged:
            return "unmanaged"
        if self.admin is not None and self.admin.action in (Action.ACCEPT, Action.DENY):
            return Tier.ADMIN.value
        if self.isolating:
            return tiers.NETWORK_POLICY_TIER
        if self.baseline is not None and self.baseline.action in (Action.ACCEPT, Action.DENY):
            return Tier.BASELINE.value
        return tiers.DEFAULT_TIER

    @property
    def allowed(self) -> bool:
        by = self.decided_by
        if by == Tier.ADMIN.value:
            return self.admin.action is Action.ACCEPT
        if by == tiers.NETWORK_POLICY_TIER:
            return bool(self.matches)
        if by == Tier.BASELINE.value:
            return self.baseline.action is Action.ACCEPT
        return True

    @property
    def steps(self) -> tuple[Step, ...]:
        """The tiers this direction met, in order, up to the one that decided."""
        if self.unmanaged:
            return (Step("unmanaged", "Accept", self.unmanaged),)
        steps = [] if self.admin is None else [_tier_step(self.admin)]
        by = self.decided_by
        if by == Tier.ADMIN.value:
            return tuple(steps)
        if self.isolating:
            if self.matches:
                m = self.matches[0]
                steps.append(Step(tiers.NETWORK_POLICY_TIER, "Accept", m.describe(), m.rule.location or m.policy.location))
            else:
                names = ", ".join(p.key for p in self.isolating)
                steps.append(Step(tiers.NETWORK_POLICY_TIER, "Deny", f"isolated by {names}; no rule matches", self.isolating[0].location))
            return tuple(steps)
        steps.append(Step(tiers.NETWORK_POLICY_TIER, "none", "no NetworkPolicy selects the pod"))
        if self.baseline is not None:
            steps.append(_tier_step(self.baseline))
        if by == tiers.DEFAULT_TIER:
            steps.append(Step(tiers.DEFAULT_TIER, "Accept", "no tier decided; Kubernetes allows by default"))
        return tuple(steps)

    def describe(self) -> str:
        side = "source egress" if self.direction is Direction.EGRESS else "destination ingress"
        if self.unmanaged:
            return f"{side}: not subject to policy ({self.unmanaged})"
        by = self.decided_by
        if by in (Tier.ADMIN.value, Tier.BASELINE.value):
            outcome = self.admin if by == Tier.ADMIN.value else self.baseline
            verb = "allowed" if outcome.action is Action.ACCEPT else "denied"
            return f"{side}: {verb} by {by} tier rule {outcome.rule.describe()}"
        if not self.isolating:
            passed = self._passed()
            return f"{side}: allowed, no policy selects the pod for {self.direction}{passed}"
        names = ", ".join(_policy_ref(p) for p in self.isolating)
        passed = self._passed()
        if self.matches:
            return f"{side}: allowed by " + "; ".join(m.describe() for m in self.matches) + passed
        return f"{side}: denied; isolated by {names} and no rule matches{passed}"

    def _passed(self) -> str:
        if self.admin is not None and self.admin.action is Action.PASS:
            return f" (the Admin tier passed: {self.admin.rule.describe()})"
        return ""


def _tier_step(outcome: tiers.TierOutcome) -> Step:
    if outcome.rule is None:
        return Step(outcome.tier.value, "none", "no rule matches")
    return Step(outcome.tier.value, outcome.rule.action.value, outcome.rule.describe(), outcome.rule.location)


def _policy_ref(policy: NetworkPolicy) -> str:
    return f"{policy.key} ({policy.location})" if policy.location else policy.key


@attrs.frozen
class Decision:
    """Whether a packet is allowed, and the policies and rules that decided it."""

    packet: Packet
    allowed: bool
    egress: DirectionDecision
    ingress: DirectionDecision
    #: Set when a rule outside the policies decided (pod to itself, own node).
    override: str | None = None

    def describe(self) -> list[str]:
        if self.override:
            return [f"allowed: {self.override}"]
        return [self.egress.describe(), self.ingress.describe()]


def decide_direction(
    cluster: Cluster,
    packet: Packet,
    direction: Direction,
    semantics: Semantics,
    resolution: tiers.Resolution = tiers.DEFAULT_RESOLUTION,
    nodes: str = "any",
) -> DirectionDecision:
    """Decide the source's egress (EGRESS) or the destination's ingress (INGRESS).
    ``nodes`` is Universe.nodes (tiers.nodes_peer_match)."""
    endpoint, other = (packet.src, packet.dst) if direction is Direction.EGRESS else (packet.dst, packet.src)
    if isinstance(endpoint, ExternalEndpoint):
        return DirectionDecision(direction, (), (), "external host")
    if isinstance(endpoint, NodeEndpoint):
        return DirectionDecision(direction, (), (), "node")
    assert isinstance(endpoint, PodEndpoint)
    if endpoint.host_network:
        return DirectionDecision(direction, (), (), "hostNetwork pod")
    isolating = []
    matches = []
    for policy in cluster.policies_in(endpoint.namespace):
        if direction not in policy.policy_types or not selector_matches(policy.pod_selector, endpoint.labels):
            continue
        isolating.append(policy)
        for rule_index, rule in enumerate(policy.rules(direction)):
            peer_index = _first_index(
                rule.peers, lambda peer: peer_matches(peer, policy.namespace, other, semantics)
            )
            if rule.peers and peer_index is None:
                continue
            port_index = _first_index(
                rule.ports, lambda entry: port_matches(entry, packet.protocol, packet.port, packet.dst)
            )
            if rule.ports and port_index is None:
                continue
            matches.append(RuleMatch(policy, direction, rule_index, peer_index, port_index))
    admin = baseline = None
    if cluster.tiered:
        by_name = semantics.same_priority == "name"
        admin = tiers.first_match(
            cluster, Tier.ADMIN, direction, endpoint, other, packet.protocol, packet.port, packet.dst, resolution, by_name, nodes
        )
        baseline = tiers.first_match(
            cluster, Tier.BASELINE, direction, endpoint, other, packet.protocol, packet.port, packet.dst, resolution, by_name, nodes
        )
    return DirectionDecision(direction, tuple(isolating), tuple(matches), None, admin, baseline)


def _first_index(items, predicate) -> int | None:
    for index, item in enumerate(items):
        if predicate(item):
            return index
    return None


def decide(
    cluster: Cluster,
    packet: Packet,
    semantics: Semantics = Semantics(),
    resolution: tiers.Resolution = tiers.DEFAULT_RESOLUTION,
    *,
    nodes: str = "any",
) -> Decision:
    """Is ``packet`` allowed by the cluster's policies? With the deciding rules.

    ``resolution`` fixes what no manifest says (``nodes``/``domainNames`` peers, the order of
    same-priority policies); ``possible_outcomes`` tries each that matters. ``nodes`` is
    Universe.nodes: whether nodes no manifest declares may exist (tiers.nodes_peer_match).
    """
    egress = decide_direction(cluster, packet, Direction.EGRESS, semantics, resolution, nodes)
    ingress = decide_direction(cluster, packet, Direction.INGRESS, semantics, resolution, nodes)
    if packet.is_self and semantics.self_traffic_allowed:
        return Decision(packet, True, egress, ingress, "a pod may always send to itself")
    if from_own_node(packet.src) and isinstance(packet.dst, PodEndpoint) and semantics.own_node_traffic_allowed:
        return Decision(packet, True, egress, ingress, "traffic from the pod's own node is always allowed")
    return Decision(packet, egress.allowed and ingress.allowed, egress, ingress)


#: More resolutions than this for one packet: the packet's verdict counts as undetermined.
MAX_RESOLUTIONS = 256


@attrs.frozen
class Outcomes:
    """Every verdict a packet can get over the facts no manifest holds, and those facts."""

    decisions: tuple[Decision, ...]
    #: What the verdict depends on, in words (empty when it is determined).
    depends_on: tuple[str, ...] = ()

    @property
    def allowed_values(self) -> frozenset[bool]:
        return frozenset(d.allowed for d in self.decisions)

    @property
    def determined(self) -> bool:
        return len(self.allowed_values) == 1 and not self.depends_on


def unknown_peer_text(peer: ClusterPeer) -> str:
    if peer.domain_names:
        return "whether the destination is " + " or ".join(peer.domain_names) + " (domainNames)"
    return "whether the destination is a node matching nodes selector " + _selector_words(peer.nodes)


def _selector_words(selector: LabelSelector) -> str:
    parts = [f"{k}={v}" for k, v in selector.match_labels.items()]
    parts += [f"{r.key} {r.operator.value} ({', '.join(r.values)})" for r in selector.match_expressions]
    return " and ".join(parts) or "{}"


def possible_outcomes(cluster: Cluster, packet: Packet, semantics: Semantics = Semantics(), *, nodes: str = "any") -> Outcomes:
    """The packet's decisions under every resolution of what no manifest holds that its
    verdict consults: a proof or counterexample must hold under each of them. ``nodes`` is
    Universe.nodes."""
    first = decide(cluster, packet, semantics, nodes=nodes)
    if not cluster.tiered:
        return Outcomes((first,))
    seen = {tiers.DEFAULT_RESOLUTION}
    queue = [tiers.DEFAULT_RESOLUTION]
    decisions = []
    facts: dict[str, None] = {}
    while queue:
        resolution = queue.pop()
        decision = first if resolution == tiers.DEFAULT_RESOLUTION else decide(cluster, packet, semantics, resolution, nodes=nodes)
        decisions.append(decision)
        alternatives = []
        for side in (decision.egress, decision.ingress):
            for outcome in (side.admin, side.baseline):
                if outcome is None:
                    continue
                for peer in outcome.consulted_peers:
                    alternatives.append(resolution.with_peer(peer, peer not in resolution.matching_peers))
                    facts[unknown_peer_text(peer)] = None
                for group, hits in outcome.ambiguous:
                    names = ", ".join(h.policy.key for h in hits)
                    facts[f"which of {names} (tier {group.tier}, priority {group.priority}) applies first"] = None
                    alternatives += [resolution.with_first(group, h.policy.key) for h in hits]
        for alt in alternatives:
            if alt not in seen:
                seen.add(alt)
                queue.append(alt)
        if len(seen) > MAX_RESOLUTIONS:
            return Outcomes(tuple(decisions), tuple(facts) + ("more resolutions than npverify tries",))
    result = Outcomes(tuple(decisions))
    if len(result.allowed_values) > 1:
        return Outcomes(tuple(decisions), tuple(facts))
    return result


def from_own_node(src: Endpoint) -> bool:
    """Is the source the destination pod's node: the node itself, or a hostNetwork pod on it?

    A hostNetwork pod shares its node's network namespace, so what it sends is the node's.
    """
    if isinstance(src, NodeEndpoint):
        return src.own_node
    return isinstance(src, PodEndpoint) and src.host_network and src.own_node


def _ip_stated(cluster: Cluster, endpoint: Endpoint) -> bool:
    """Does a loaded Pod state this IP for an endpoint of this kind (an ordinary pod's IP for
    an ordinary pod; a hostNetwork pod's, that is its node's, for a node or hostNetwork pod)?"""
    if not is_policy_pod(endpoint) and cluster.node_at(endpoint.ip) is not None:
        return True  # a loaded Node's address: that node (as a destination, an external host)
    if isinstance(endpoint, ExternalEndpoint):
        return False
    return endpoint.ip in cluster.status_ips(host_network=not is_policy_pod(endpoint))


def _ip_problem(cluster: Cluster, packet: Packet) -> str | None:
    """Why the packet's IPs cannot be, or None: an IP belongs to one kind of endpoint.

    A pod IP is no external host's or node's; a node's IP is no external host's, though a
    hostNetwork pod on that node has it too. Loaded Pods' status IPs are such facts as well.
    """
    src, dst = packet.src, packet.dst
    for e in (src, dst):
        host_ip = e.ip in cluster.status_ips(True) and cluster.node_at(e.ip) is None
        if isinstance(e, ExternalEndpoint) and (e.ip in cluster.status_ips(False) or host_ip):
            # A hostNetwork Pod's IP is its node's: a host only when a loaded Node states it.
            return f"external host IP {e.ip} is the status IP of a loaded Pod"
        if isinstance(e, NodeEndpoint) and e.ip in cluster.status_ips(False):
            return f"node IP {e.ip} is the status IP of a loaded (not hostNetwork) Pod"
    if packet.is_self or src.ip != dst.ip:
        return None
    if isinstance(src, ExternalEndpoint) or isinstance(dst, ExternalEndpoint):
        return f"an external host has the IP {src.ip} of a pod"
    if is_policy_pod(src) or is_policy_pod(dst):
        if isinstance(src, PodEndpoint) and isinstance(dst, PodEndpoint):
            return f"two distinct pods share the IP {src.ip}"
        return f"a node has the IP {src.ip} of a pod"
    if isinstance(dst, PodEndpoint) and not from_own_node(src):
        return f"the destination runs on the node with IP {dst.ip}, yet the source is not on the destination pod's node"
    return None


def pod_ip_warnings(cluster: Cluster, universe: Universe) -> tuple[Diagnostic, ...]:
    """Loaded Pods whose status IPs contradict ``universe.podCIDRs``.

    The IP is a fact (the Pod exists with it), so the Pod stays in the universe with it
    (see universe_problem); dropping it would prove invariants about it vacuously.
    """
    if not universe.pod_cidrs:
        return ()
    cidrs = ", ".join(str(c) for c in universe.pod_cidrs)
    warnings = []
    for w in cluster.workloads:
        for ip in w.ips:
            inside = any(ip in c for c in universe.pod_cidrs)
            if w.host_network and inside:
                problem = f"{ip} lies inside universe.podCIDRs ({cidrs}), but the Pod uses hostNetwork, whose IP is its node's"
            elif not w.host_network and not inside:
                problem = f"{ip} lies outside universe.podCIDRs ({cidrs})"
            else:
                continue
            message = f"{problem}; the Pod is kept with this IP, since the manifest states it"
            warnings.append(Diagnostic(message, w.ips_location or w.location, "status.podIP", Severity.WARNING))
    return tuple(warnings)


def node_warnings(cluster: Cluster, universe: Universe) -> tuple[Diagnostic, ...]:
    """What the universe's nodes make of the loaded Nodes: none loaded while
    ``universe.nodes`` is "declared" (then there is no node: ``nodes`` peers match nothing),
    and Node addresses inside ``universe.podCIDRs`` (kept as the Node's, since the manifest
    states them, as pod_ip_warnings keeps Pods' IPs)."""
    warnings = []
    if universe.nodes == "declared" and not cluster.nodes:
        warnings.append(
            Diagnostic(
                "universe.nodes is 'declared' but no Node is loaded: the universe has no node, so nodes peers match "
                "nothing; load the Node objects (kubectl get nodes -o yaml) or use nodes: any",
                severity=Severity.WARNING,
            )
        )
    if universe.pod_cidrs:
        cidrs = ", ".join(str(c) for c in universe.pod_cidrs)
        for node in cluster.nodes:
            for ip in node.addresses:
                if any(ip in c for c in universe.pod_cidrs):
                    message = f"address {ip} of Node {node.name} lies inside universe.podCIDRs ({cidrs}); it is kept as the node's, since the manifest states it"
                    warnings.append(Diagnostic(message, node.addresses_location or node.location, "status.addresses", Severity.WARNING))
    return tuple(warnings)


def universe_problem(cluster: Cluster, packet: Packet, universe: Universe) -> str | None:
    """Why ``packet`` lies outside ``universe``, or None when it belongs to it.

    Used to check that every decoded counterexample is a packet the question is about.
    """
    endpoints = (packet.src, packet.dst)
    if not any(isinstance(e, PodEndpoint) for e in endpoints):
        return "neither end is a pod"
    if isinstance(packet.dst, NodeEndpoint):
        return "node traffic must originate on the node"
    if not 1 <= packet.port <= 65535:
        return f"port {packet.port} out of range"
    if packet.src.ip.version != packet.dst.ip.version:
        return "source and destination IP families differ"
    for e in endpoints:
        if isinstance(e, NodeEndpoint) and not universe.node_traffic:
            return "node traffic is outside the universe"
        in_pod_cidrs = any(e.ip in c for c in universe.pod_cidrs)
        if universe.pod_cidrs and in_pod_cidrs != is_policy_pod(e) and not _ip_stated(cluster, e):
            where = "inside" if in_pod_cidrs else "outside"
            return f"{type(e).__name__} IP {e.ip} lies {where} the pod CIDRs"
        if not isinstance(e, PodEndpoint):
            continue
        if e.host_network and not universe.host_network:
            return "hostNetwork pods are outside the universe"
        if universe.namespaces == "declared" and e.namespace not in cluster.namespace_names():
            return f"namespace {e.namespace!r} is not declared"
        declared = cluster.namespace(e.namespace)
        if declared is not None and e.namespace_labels != declared.labels:
            return f"namespace {e.namespace!r} has other labels than its declaration"
        if e.namespace_labels.get(NAMESPACE_NAME_LABEL) != e.namespace:
            return f"namespace {e.namespace!r} lacks its kubernetes.io/metadata.name label"
        if universe.pods == "workloads" and cluster.workload(e.workload) is None:
            return "pod is not of a loaded workload"
        if e.workload is not None:
            w = cluster.workload(e.workload)
            if w is None:
                return f"no loaded workload {e.workload}"
            if (e.namespace, e.labels, frozenset(e.ports), e.host_network) != (w.namespace, w.labels, frozenset(w.ports), w.host_network):
                return f"pod does not look like the pods of {w.key}"
            if w.ips and e.ip not in w.ips:
                return f"pod IP {e.ip} is not one of {w.key}'s IPs"
    if isinstance(packet.dst, PodEndpoint) and packet.dst.own_node:
        return "own_node describes a source, not the destination"
    if isinstance(packet.src, PodEndpoint) and packet.src.own_node:
        if not packet.src.host_network:
            return "only a hostNetwork pod runs on the destination pod's node as that node"
        if not isinstance(packet.dst, PodEndpoint):
            return "the source runs on the destination pod's node, but the destination is not a pod"
        if packet.is_self:
            return "a pod sending to itself is not its node sending to it"
    problem = _ip_problem(cluster, packet)
    if problem:
        return problem
    if packet.is_self:
        if not universe.self_traffic:
            return "a pod's traffic to itself is outside the scope"
        src, dst = packet.src, packet.dst
        if (src.ip, src.labels, src.namespace_labels, src.host_network, src.workload) != (
            dst.ip, dst.labels, dst.namespace_labels, dst.host_network, dst.workload
        ):
            return "a pod sending to itself is one pod: one IP, one set of labels"
    elif isinstance(packet.src, PodEndpoint) and isinstance(packet.dst, PodEndpoint):
        if (
            packet.src.workload is not None
            and packet.src.workload == packet.dst.workload
            and cluster.workload(packet.src.workload) is not None
            and cluster.workload(packet.src.workload).single_pod
        ):
            return f"{packet.src.workload} has a single pod, which cannot be two pods"
    return None



def scope_matches(scope: Scope, endpoint: Endpoint, workload_key: str | None = None) -> bool:
    """Is ``endpoint`` in an invariant's scope? ``workload_key`` resolves ``scope.workload``."""
    if scope.kind is EndpointKind.EXTERNAL and not isinstance(endpoint, ExternalEndpoint):
        return False
    if scope.pods_only and not isinstance(endpoint, PodEndpoint):
        return False
    if isinstance(endpoint, PodEndpoint):
        if isinstance(scope.namespace, str) and endpoint.namespace != scope.namespace:
            return False
        if isinstance(scope.namespace, LabelSelector) and not selector_matches(scope.namespace, endpoint.namespace_labels):
            return False
        if scope.pod is not None and not selector_matches(scope.pod, endpoint.labels):
            return False
        if workload_key is not None and endpoint.workload != workload_key:
            return False
    if scope.ip_block is not None and not scope.ip_block.contains(endpoint.ip):
        return False
    return True
