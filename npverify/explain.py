"""Why one packet is allowed or denied, in plain sentences with file:line.

The reference evaluator (``npverify.semantics.decide``) decides; this module reports. It
reads the policies' selectors, peers and ports itself to say *why* each rule matched or
missed (which selector requirement failed, which port entry did not apply), then checks
that its account agrees with the evaluator's decision, so the words can never contradict
the verdict. Endpoint and port specs from the command line (``ns/pod``,
``ns/key=value``, an IP, ``8080/TCP``) are parsed here too; docs/explain.md documents them.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Mapping, Sequence

import attrs

from npverify.coverage import Coverage, unknown_reason
from npverify.errors import InputError, InternalError
from npverify.hints import did_you_mean as _did_you_mean
from npverify.load.service import selected_workloads
from npverify.hints import join_words as _join
from npverify.load.fields import dns_label_problem, label_key_problem, label_value_problem, port_name_problem
from npverify.load.workloads import WORKLOAD_KINDS
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Diagnostic,
    Direction,
    Endpoint,
    ExternalEndpoint,
    IPAddress,
    IPNetwork,
    LabelSelector,
    Labels,
    NetworkPolicy,
    Node,
    NodeEndpoint,
    Operator,
    Packet,
    Peer,
    PodEndpoint,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Semantics,
    Service,
    SourceLocation,
    UnmodelledObject,
    Universe,
    Workload,
)
from npverify.semantics import Decision, decide, possible_outcomes, universe_problem

FROM_OPTION, TO_OPTION, PORT_OPTION = "--from", "--to", "--port"

#: Where pod IPs come from when the manifests do not say (a Deployment's pods have no
#: status) and the universe leaves pod IPs unconstrained (no ``--pod-cidr``): kubeadm's and
#: flannel's default pod network. With pod CIDRs, assumed pod IPs come from those.
DEFAULT_POD_CIDRS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("10.244.0.0/16"),
    ipaddress.ip_network("fd00:10:244::/64"),
)

#: Where a hostNetwork pod's IP (its node's) comes from when the manifests do not say: the
#: first of these outside the universe's pod CIDRs, since the universe puts node IPs there.
NODE_NETWORKS: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("fd00:192:168::/64"),
    ipaddress.ip_network("fc00::/7"),
)

#: Prefixes of node specs: ``node:IP`` (any node) and ``own-node:IP`` (the destination's).
NODE_PREFIX, OWN_NODE_PREFIX = "node:", "own-node:"


# --- results ---------------------------------------------------------------------------


@attrs.frozen
class Sentence:
    """One sentence of an explanation.

    ``topic`` is ``source``, ``destination``, ``note``, ``egress``, ``ingress`` or
    ``verdict``; ``detail`` marks a per-policy or per-rule sentence under its direction's
    summary sentence.
    """

    topic: str
    text: str
    detail: bool = False
    location: SourceLocation | None = None

    def __str__(self) -> str:
        return self.text


@attrs.frozen
class RuleOutcome:
    """How one rule of a policy that isolates an end fared against the packet.

    ``peer_index`` and ``port_index`` are the first peer and port entry that match (None
    when the rule has no such list, or none matches).
    """

    policy: NetworkPolicy
    direction: Direction
    rule_index: int
    matched: bool
    peer_index: int | None
    port_index: int | None
    text: str

    @property
    def rule(self) -> Rule:
        return self.policy.rules(self.direction)[self.rule_index]

    @property
    def location(self) -> SourceLocation | None:
        return self.rule.location or self.policy.location

    @property
    def name(self) -> str:
        """E.g. ``shop/api ingress[0]``."""
        return f"{self.policy.key} {_field(self.direction)}[{self.rule_index}]"


@attrs.frozen
class Explanation:
    """A packet, the evaluator's decision on it, and why, in sentences."""

    packet: Packet
    decision: Decision
    sentences: tuple[Sentence, ...] = attrs.field(converter=tuple)
    #: Every rule of every policy that isolates the source (egress) or destination (ingress).
    rules: tuple[RuleOutcome, ...] = attrs.field(default=(), converter=tuple)
    semantics: Semantics = Semantics()
    #: The universe the packet was checked against (None: not checked), and why the packet
    #: lies outside it (None: inside): prove and matrix range over that universe only.
    universe: Universe | None = None
    outside_universe: str | None = None
    #: What the manifests held that npverify did not model or use.
    coverage: Coverage = Coverage()
    #: The unmodelled objects that could change this packet's verdict: while there are
    #: any, the verdict is unknown and ``allowed`` is what the NetworkPolicies alone say.
    undecided_by: tuple[UnmodelledObject, ...] = attrs.field(default=(), converter=tuple)

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def known(self) -> bool:
        """False when an object npverify does not model could change the verdict."""
        return not self.undecided_by

    def __str__(self) -> str:
        from npverify.report.text import render_explanation

        return render_explanation(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_explanation_html

        return render_explanation_html(self)


# --- words for model values ------------------------------------------------------------


def _field(direction: Direction) -> str:
    return "ingress" if direction is Direction.INGRESS else "egress"


def _peers_field(direction: Direction) -> str:
    return "from" if direction is Direction.INGRESS else "to"


def _at(location: SourceLocation | None) -> str:
    return f" ({location})" if location else ""


def _labels_text(labels: Mapping[str, str], hide: tuple[str, ...] = ()) -> str:
    shown = [f"{k}={v}" for k, v in labels.items() if k not in hide]
    return "{" + ", ".join(shown) + "}"


def requirement_text(requirement: Requirement) -> str:
    key, op, values = requirement.key, requirement.operator, requirement.values
    if op is Operator.IN:
        return f"{key}={values[0]}" if len(values) == 1 else f"{key} in ({', '.join(values)})"
    if op is Operator.NOT_IN:
        return f"{key} notin ({', '.join(values)})"
    return f"{key} exists" if op is Operator.EXISTS else f"{key} does not exist"


def selector_text(selector: LabelSelector) -> str:
    """``app=web and tier in (a, b)``; ``{}`` for the empty selector (everything)."""
    if selector.is_empty:
        return "{}"
    parts = [f"{k}={v}" for k, v in selector.match_labels.items()]
    parts += [requirement_text(r) for r in selector.match_expressions]
    return " and ".join(parts)


def peer_text(peer: Peer, policy_namespace: str) -> str:
    """E.g. ``namespaceSelector team=shop and podSelector app=web``."""
    if peer.ip_block is not None:
        block = peer.ip_block
        excepts = f" except {', '.join(str(e) for e in block.except_)}" if block.except_ else ""
        return f"ipBlock {block.cidr}{excepts}"
    if peer.namespace_selector is None:
        assert peer.pod_selector is not None
        return f"podSelector {selector_text(peer.pod_selector)} in namespace {policy_namespace}"
    text = f"namespaceSelector {selector_text(peer.namespace_selector)}"
    if peer.pod_selector is not None:
        text += f" and podSelector {selector_text(peer.pod_selector)}"
    return text


def port_entry_text(entry: PolicyPort, dst: Endpoint | None = None) -> str:
    """E.g. ``TCP/8080``, ``TCP/8000-8080``, ``any UDP port``, ``TCP/http (8080 on the destination)``."""
    if entry.port is None:
        return f"any {entry.protocol} port"
    if isinstance(entry.port, int):
        if entry.end_port is not None and entry.end_port != entry.port:
            return f"{entry.protocol}/{entry.port}-{entry.end_port}"
        return f"{entry.protocol}/{entry.port}"
    text = f"{entry.protocol}/{entry.port}"
    if dst is None:
        return text
    if not _is_policy_pod(dst):
        return f"{text} (a named port resolves only on a pod destination)"
    assert isinstance(dst, PodEndpoint)
    named = [cp for cp in dst.ports if cp.name == entry.port]
    same = [cp for cp in named if cp.protocol is entry.protocol]
    if same:
        return f"{text} (port {same[0].port} on the destination)"
    if named:
        return f"{text} (the destination's port {entry.port} is {named[0].port}/{named[0].protocol})"
    return f"{text} (the destination has no port named {entry.port})"


def endpoint_name(endpoint: Endpoint) -> str:
    """A short name: ``pod x/a``, ``pod of Deployment shop/api``, ``external host 1.2.3.4``."""
    if isinstance(endpoint, ExternalEndpoint):
        return f"external host {endpoint.ip}"
    if isinstance(endpoint, NodeEndpoint):
        return f"node {endpoint.ip}"
    assert isinstance(endpoint, PodEndpoint)
    if endpoint.workload:
        namespace, kind, name = endpoint.workload.split("/", 2)
        return f"pod {namespace}/{name}" if kind == "Pod" else f"pod of {kind} {namespace}/{name}"
    if endpoint.labels:
        return f"pod {_labels_text(endpoint.labels)} in namespace {endpoint.namespace}"
    return f"pod without labels in namespace {endpoint.namespace}"


# --- matching, from the model ----------------------------------------------------------
#
# These re-read selectors, peers and ports to say why something failed. The evaluator in
# npverify.semantics decides; _check_agreement makes sure both say the same.


def _is_policy_pod(endpoint: Endpoint) -> bool:
    return isinstance(endpoint, PodEndpoint) and not endpoint.host_network


def _requirement_problem(requirement: Requirement, labels: Mapping[str, str], subject: str) -> str | None:
    """Why ``labels`` fail ``requirement``, as ``<subject> has app=web, not api``; None if they pass."""
    key, op, values = requirement.key, requirement.operator, requirement.values
    present = key in labels
    if op is Operator.IN:
        if not present:
            return f"{subject} has no label {key}"
        if labels[key] in values:
            return None
        wanted = values[0] if len(values) == 1 else f"one of {', '.join(values)}"
        return f"{subject} has {key}={labels[key]}, not {wanted}"
    if op is Operator.NOT_IN:
        if present and labels[key] in values:
            return f"{subject} has {key}={labels[key]}, which {key} notin ({', '.join(values)}) excludes"
        return None
    if op is Operator.EXISTS:
        return None if present else f"{subject} has no label {key}"
    return f"{subject} has {key}={labels[key]}, but {key} must not exist" if present else None


def selector_problems(selector: LabelSelector, labels: Mapping[str, str], subject: str) -> list[str]:
    """Every requirement of ``selector`` that ``labels`` fail, in words; empty when it matches."""
    problems = (_requirement_problem(r, labels, subject) for r in selector.requirements())
    return [p for p in problems if p is not None]


def _peer_problem(
    peer: Peer, policy_namespace: str, other: Endpoint, role: str, semantics: Semantics, assumed: str
) -> str | None:
    """Why ``peer`` does not match ``other`` (the ``role``, "source" or "destination"); None if it does."""
    if peer.ip_block is not None:
        block = peer.ip_block
        if _is_policy_pod(other) and not semantics.ip_block_matches_pods:
            return "ipBlock peers do not match pod IPs under these semantics (--no-ipblock-matches-pods)"
        ip = other.ip
        if ip.version != block.cidr.version:
            return f"{block.cidr} is IPv{block.cidr.version} and the {role}'s IP {ip} is IPv{ip.version}"
        if ip not in block.cidr:
            return f"the {role}'s IP {ip}{assumed} is outside {block.cidr}"
        excepted = [e for e in block.except_ if ip in e]
        if excepted:
            return f"the {role}'s IP {ip}{assumed} is in the excepted {excepted[0]}"
        return None
    if isinstance(other, ExternalEndpoint):
        return f"the {role} is an external host, which only ipBlock peers match"
    if isinstance(other, NodeEndpoint):
        return f"the {role} is a node, which only ipBlock peers match"
    assert isinstance(other, PodEndpoint)
    if other.host_network:
        return f"the {role} is a hostNetwork pod, which only ipBlock peers match (by its node's IP)"
    problems = []
    if peer.namespace_selector is None:
        if other.namespace != policy_namespace:
            problems.append(f"the {role} is in namespace {other.namespace}, not {policy_namespace}")
    else:
        problems += selector_problems(peer.namespace_selector, other.namespace_labels, f"the {role}'s namespace {other.namespace}")
    if peer.pod_selector is not None:
        problems += selector_problems(peer.pod_selector, other.labels, f"the {role}")
    return ", and ".join(problems) or None


def _port_entry_matches(entry: PolicyPort, protocol: Protocol, port: int, dst: Endpoint) -> bool:
    if entry.protocol is not protocol:
        return False
    if entry.port is None:
        return True
    if isinstance(entry.port, int):
        return entry.port <= port <= (entry.end_port if entry.end_port is not None else entry.port)
    return _is_policy_pod(dst) and any(
        cp.name == entry.port and cp.protocol is protocol and cp.port == port for cp in dst.ports  # type: ignore[union-attr]
    )


def _first(flags: Sequence[bool]) -> int | None:
    return next((i for i, flag in enumerate(flags) if flag), None)


def _rule_outcome(
    policy: NetworkPolicy, direction: Direction, rule_index: int, packet: Packet, semantics: Semantics, assumed: Mapping[str, str]
) -> RuleOutcome:
    """Whether one rule matches the packet, with the sentence that says why (or why not).

    A match names the first peer and port entry that match, as the evaluator does; a miss
    names every peer's failing requirement, or the ports the rule allows instead.
    """
    rule = policy.rules(direction)[rule_index]
    other, role = (packet.dst, "destination") if direction is Direction.EGRESS else (packet.src, "source")
    peers_field = _peers_field(direction)
    problems = [_peer_problem(p, policy.namespace, other, role, semantics, assumed.get(role, "")) for p in rule.peers]
    peer_index = _first([p is None for p in problems])
    port_index = _first([_port_entry_matches(e, packet.protocol, packet.port, packet.dst) for e in rule.ports])
    peers_ok = not rule.peers or peer_index is not None
    ports_ok = not rule.ports or port_index is not None
    name = f"{policy.key} {_field(direction)}[{rule_index}]"
    this = f"{packet.protocol}/{packet.port}"

    if peers_ok and ports_ok:
        if peer_index is not None:
            peer = rule.peers[peer_index]
            where = peer.location or rule.location or policy.location
            how = ""
            if peer.ip_block is not None:
                how = f"; its IP {other.ip}{assumed.get(role, '')} is in {peer.ip_block.cidr}"
                how += " and outside the excepted ranges" if peer.ip_block.except_ else ""
            text = f"{name}.{peers_field}[{peer_index}]{_at(where)} matches the {role} ({peer_text(peer, policy.namespace)}{how})"
        else:
            text = f"{name}{_at(rule.location or policy.location)} has no '{peers_field}' list, so it matches any {role}"
        if port_index is not None:
            text += f", on ports[{port_index}] {port_entry_text(rule.ports[port_index], packet.dst)}."
        else:
            text += ", on any port (no 'ports' list)."
        return RuleOutcome(policy, direction, rule_index, True, peer_index, port_index, text)

    text = f"{name}{_at(rule.location or policy.location)}"
    if not peers_ok:
        described = [
            f"{peers_field}[{i}] ({peer_text(p, policy.namespace)}) fails because {problem}"
            for i, (p, problem) in enumerate(zip(rule.peers, problems))
        ]
        intro = f" does not match the {role}: " if len(described) == 1 else f": no peer matches the {role}: "
        text += intro + "; ".join(described) + "."
        if not ports_ok:
            text += f" Its ports also allow only {_join([port_entry_text(e, packet.dst) for e in rule.ports])}, not {this}."
        elif port_index is not None:
            text += f" Its ports[{port_index}] {port_entry_text(rule.ports[port_index], packet.dst)} would allow {this}."
    else:
        matches = f"{peers_field}[{peer_index}] matches the {role}" if peer_index is not None else f"it matches any {role}"
        allowed = _join([port_entry_text(e, packet.dst) for e in rule.ports])
        text += f": {matches}, but its ports allow only {allowed}, not {this}."
    return RuleOutcome(policy, direction, rule_index, False, peer_index, port_index, text)


# --- the explanation -------------------------------------------------------------------


def _endpoint_sentence(cluster: Cluster, endpoint: Endpoint, role: str, assumed: str, to_pod: bool = False) -> Sentence:
    """``to_pod``: the packet goes to a pod, whose node a node or hostNetwork source may be."""
    title = role.capitalize()
    node = cluster.node_at(endpoint.ip) if not (isinstance(endpoint, PodEndpoint) and not endpoint.host_network) else None
    if isinstance(endpoint, ExternalEndpoint):
        if node is not None:
            return Sentence(role, f"{title}: {_node_text(node, endpoint.ip)}, outside the cluster's pods.", location=node.location)
        return Sentence(role, f"{title}: external host {endpoint.ip}, outside the cluster's pods.")
    if isinstance(endpoint, NodeEndpoint):
        which = "the node the destination pod runs on" if endpoint.own_node else "a node other than the destination pod's"
        if node is not None:
            return Sentence(role, f"{title}: {_node_text(node, endpoint.ip)}, {which}.", location=node.location)
        return Sentence(role, f"{title}: node {endpoint.ip}, {which}.")
    assert isinstance(endpoint, PodEndpoint)
    workload = next((w for w in cluster.workloads if w.key == endpoint.workload), None)
    if workload is not None:
        text = f"{title}: {endpoint_name(endpoint)}{_at(workload.location)}, labels {_labels_text(endpoint.labels)}"
        location = workload.location
    else:
        text = f"{title}: a pod with labels {_labels_text(endpoint.labels)} (not a loaded workload)"
        location = None
    text += f", IP {endpoint.ip}{assumed}"
    if endpoint.ports:
        text += ", ports " + ", ".join(f"{p.name or '-'}={p.port}/{p.protocol}" for p in endpoint.ports)
    if endpoint.host_network and role == "source" and to_pod:
        # Its packets are its node's: from the destination pod's own node, or another node's.
        which = "the node the destination pod runs on" if endpoint.own_node else "a node other than the destination pod's"
        text += f", on the host network of {which} (hostNetwork: true)"
    elif endpoint.host_network:
        text += ", on the host network (hostNetwork: true)"
    if node is not None:
        text += f", so on {_node_text(node, endpoint.ip)}"
    namespace = cluster.namespace(endpoint.namespace)
    ns_labels = _labels_text(endpoint.namespace_labels, hide=(NAMESPACE_NAME_LABEL,))
    if namespace is not None:
        text += f". Namespace {endpoint.namespace} is declared{_at(namespace.location)} with labels {ns_labels}."
    elif dict(endpoint.namespace_labels) == {NAMESPACE_NAME_LABEL: endpoint.namespace}:
        text += (
            f". Namespace {endpoint.namespace} is not declared in the manifests, so its only label is "
            f"{NAMESPACE_NAME_LABEL}={endpoint.namespace}."
        )
    else:
        text += f". Namespace {endpoint.namespace} is not declared; it is taken to have labels {ns_labels}."
    return Sentence(role, text, location=location)


def _node_text(node: Node, ip) -> str:
    """``Node worker-1 (nodes.yaml:3:1) with labels {role=worker}, address 10.0.0.5``."""
    return f"Node {node.name}{_at(node.location)} with labels {_labels_text(node.labels)}, address {ip}"


def _policies_phrase(policies: Sequence[NetworkPolicy]) -> str:
    refs = [f"{p.key}{_at(p.location)}" for p in policies]
    return ("policy " if len(refs) == 1 else "policies ") + _join(refs)


def _direction_sentences(
    cluster: Cluster, packet: Packet, direction: Direction, semantics: Semantics, assumed: Mapping[str, str]
) -> tuple[list[Sentence], list[RuleOutcome], list[NetworkPolicy], str]:
    """The sentences for one direction, its rule outcomes, the isolating policies and a short reason."""
    topic, dir_word = _field(direction), _field(direction)
    title = dir_word.capitalize()
    endpoint, role = (packet.src, "source") if direction is Direction.EGRESS else (packet.dst, "destination")
    name = endpoint_name(endpoint)
    if isinstance(endpoint, (ExternalEndpoint, NodeEndpoint)):
        what = "an external host" if isinstance(endpoint, ExternalEndpoint) else "a node"
        text = f"{title}: the {role} is {what}; NetworkPolicies only restrict pods, so its {dir_word} is not restricted."
        return [Sentence(topic, text)], [], [], f"the {role} is {what}"
    assert isinstance(endpoint, PodEndpoint)
    if endpoint.host_network:
        text = (
            f"{title}: the {role} {name} uses the host network; NetworkPolicies do not select hostNetwork pods, "
            f"so its {dir_word} is not restricted."
        )
        return [Sentence(topic, text)], [], [], f"the {role} uses the host network"

    local = [p for p in cluster.policies if p.namespace == endpoint.namespace]
    isolating = [
        p for p in local if direction in p.policy_types and not selector_problems(p.pod_selector, endpoint.labels, "")
    ]
    if not isolating:
        sentences = [Sentence(topic, f"{title}: no policy selects the {role} {name} for {dir_word}, so {dir_word} is allowed.")]
        for p in local:
            problems = selector_problems(p.pod_selector, endpoint.labels, f"the {role}")
            if problems:
                if direction in p.policy_types:
                    text = (
                        f"{p.key}{_at(p.location)} applies to {dir_word} but not to the {role}: its podSelector "
                        f"{selector_text(p.pod_selector)} does not match ({'; '.join(problems)})."
                    )
                    sentences.append(Sentence(topic, text, detail=True, location=p.location))
            else:
                types = _join(sorted(str(t) for t in p.policy_types)) or "no direction"
                text = f"{p.key}{_at(p.location)} selects the {role}, but only for {types}."
                sentences.append(Sentence(topic, text, detail=True, location=p.location))
        return sentences, [], [], f"nothing isolates the {role} for {dir_word}"

    outcomes = [
        _rule_outcome(p, direction, i, packet, semantics, assumed) for p in isolating for i in range(len(p.rules(direction)))
    ]
    matched = [o for o in outcomes if o.matched]
    verb = "selects" if len(isolating) == 1 else "select"
    head = f"{title}: {_policies_phrase(isolating)} {verb} the {role} {name} for {dir_word}, so it is isolated for {dir_word}"
    if matched:
        way = "out" if direction is Direction.EGRESS else "in"
        sentences = [Sentence(topic, f"{head}; the packet is let {way} by:")]
        sentences += [Sentence(topic, o.text, detail=True, location=o.location) for o in matched]
        reason = f"{matched[0].name} lets it {way}"
        return sentences, outcomes, isolating, reason
    whose = "its" if len(isolating) == 1 else "their"
    sentences = [Sentence(topic, f"{head}, and none of {whose} {dir_word} rules matches this packet:")]
    for p in isolating:
        if not p.rules(direction):
            text = f"{p.key}{_at(p.location)} has no {dir_word} rules: it only isolates the {role}."
            sentences.append(Sentence(topic, text, detail=True, location=p.location))
    sentences += [Sentence(topic, o.text, detail=True, location=o.location) for o in outcomes]
    return sentences, outcomes, isolating, f"no {dir_word} rule of the {role}'s policies allows it"


def _check_agreement(decision: Decision, direction: Direction, isolating: list[NetworkPolicy], outcomes: list[RuleOutcome]) -> None:
    """The explanation's reading of the policies must be the evaluator's; else npverify is wrong."""
    decided = decision.egress if direction is Direction.EGRESS else decision.ingress
    mine = [(o.policy, o.rule_index, o.peer_index, o.port_index) for o in outcomes if o.matched]
    theirs = [(m.policy, m.rule_index, m.peer_index, m.port_index) for m in decided.matches]
    if list(decided.isolating) != isolating or mine != theirs:
        raise InternalError(
            f"explain and the reference evaluator disagree on {direction}: "
            f"isolating {[p.key for p in isolating]} vs {[p.key for p in decided.isolating]}, "
            f"matches {[(p.key, r, i, j) for p, r, i, j in mine]} vs {[(p.key, r, i, j) for p, r, i, j in theirs]}"
        )


def explain_packet(
    cluster: Cluster,
    packet: Packet,
    semantics: Semantics = Semantics(),
    *,
    notes: Sequence[str] = (),
    assumed_ip: Sequence[str] = (),
    universe: Universe | None = None,
) -> Explanation:
    """Explain the reference evaluator's decision on ``packet`` in sentences.

    ``notes`` are added after the endpoint sentences (how the command line was read);
    ``assumed_ip`` names the ends ("source", "destination") whose IPs were made up, so
    that sentences relying on them say so. With ``universe``, a packet outside it is said
    to be so (prove and matrix, asked about that universe, never consider it).
    """
    nodes = universe.nodes if universe is not None else "any"
    decision = decide(cluster, packet, semantics, nodes=nodes)
    outside = universe_problem(cluster, packet, universe) if universe is not None else None
    assumed = {role: " (assumed)" for role in assumed_ip}
    sentences = [
        _endpoint_sentence(cluster, packet.src, "source", assumed.get("source", ""), isinstance(packet.dst, PodEndpoint)),
        _endpoint_sentence(cluster, packet.dst, "destination", assumed.get("destination", "")),
    ]
    sentences += [Sentence("note", note) for note in notes]
    if packet.is_self:
        if semantics.self_traffic_allowed:
            sentences.append(Sentence("note", "The source and destination are the same pod, and a pod may always send to itself."))
        else:
            sentences.append(Sentence("note", "The source and destination are the same pod; these semantics do not exempt a pod's traffic to itself, so policies decide."))
    rules: list[RuleOutcome] = []
    reasons = {}
    for direction in (Direction.EGRESS, Direction.INGRESS):
        direction_sentences, outcomes, isolating, reasons[direction] = _direction_sentences(
            cluster, packet, direction, semantics, assumed
        )
        _check_agreement(decision, direction, isolating, outcomes)
        if cluster.tiered:
            side = decision.egress if direction is Direction.EGRESS else decision.ingress
            direction_sentences, reasons[direction] = _tiered_sentences(side, direction_sentences, reasons[direction])
        sentences += direction_sentences
        rules += outcomes
    egress, ingress = decision.egress.allowed, decision.ingress.allowed
    if decision.override:
        verdict = f"Verdict: ALLOWED, because {decision.override}; the policies do not decide this packet."
    elif egress and ingress:
        verdict = f"Verdict: ALLOWED, because {reasons[Direction.EGRESS]} and {reasons[Direction.INGRESS]}."
    elif not egress and not ingress:
        verdict = (
            "Verdict: DENIED, because no egress rule of the source's policies and no ingress rule "
            "of the destination's policies allows it."
        )
    else:
        verdict = f"Verdict: DENIED, because {reasons[Direction.EGRESS if not egress else Direction.INGRESS]}."
    if outside is not None:
        assert universe is not None
        sentences.append(Sentence("universe", _outside_sentence(outside, universe)))
    coverage = Coverage.of(cluster)
    undecided_by = coverage.affecting(
        frozenset(e.namespace for e in (packet.src, packet.dst) if isinstance(e, PodEndpoint) and not e.host_network)
    )
    outcomes_ = possible_outcomes(cluster, packet, semantics, nodes=nodes)
    if not outcomes_.determined:
        verdict = (
            f"Verdict: UNKNOWN. Taking what no manifest holds as above, it is {'ALLOWED' if decision.allowed else 'DENIED'} "
            f"({verdict[len('Verdict: '):].rstrip('.')}); but the verdict depends on {'; '.join(outcomes_.depends_on)}."
        )
    if undecided_by:
        verdict = (
            f"Verdict: UNKNOWN. The NetworkPolicies alone {'allow' if decision.allowed else 'deny'} it "
            f"({verdict[len('Verdict: '):].rstrip('.')}), but {unknown_reason(undecided_by)}."
        )
    sentences.append(Sentence("verdict", verdict))
    return Explanation(packet, decision, tuple(sentences), tuple(rules), semantics, universe, outside, coverage, undecided_by)


def _tier_rule_sentence(outcome, direction: Direction) -> str:
    """What a first-match tier did for one direction, in words."""
    field = _field(direction)
    tier = outcome.tier.value
    if outcome.rule is None:
        return f"{tier} tier ({field}): no rule of the {tier} tier's policies that select this pod matches, so the tier does not decide."
    action = outcome.rule.action.value
    effect = {
        "Accept": "accepts it: final for this direction",
        "Deny": "denies it: final for this direction",
        "Pass": "passes it: the rest of the tier is skipped and the next tier decides",
    }[action]
    if outcome.tier.value == "Baseline" and action == "Pass":
        effect = "passes it: no tier decides, so Kubernetes allows it"
    text = f"{tier} tier ({field}): the first matching rule is {outcome.rule.describe()}, which {effect}."
    for group, hits in outcome.ambiguous:
        names = ", ".join(h.policy.key for h in hits)
        text += f" Policies {names} share priority {group.priority} and all match: which applies first is the implementation's choice (shown: by name)."
    return text


def _tiered_sentences(side, np_sentences: list[Sentence], np_reason: str) -> tuple[list[Sentence], str]:
    """A direction's sentences walking the tiers in order: Admin, NetworkPolicy (when
    reached), Baseline (when reached); and the reason the verdict gives for it."""
    direction = side.direction
    field = _field(direction)
    if side.unmanaged:
        return np_sentences, np_reason
    out = [Sentence(field, _tier_rule_sentence(side.admin, direction))]
    by = side.decided_by
    verb = "accepts" if (side.admin.action is not None and side.admin.action.value == "Accept") else "denies"
    if by == "Admin":
        return out, f"the Admin tier rule {side.admin.rule.describe()} {verb} it for {field}"
    if not side.isolating:
        undecided = ", so the NetworkPolicy tier does not decide."
        np_sentences = [
            attrs.evolve(t, text=t.text.replace(f", so {field} is allowed.", undecided)) if not t.detail else t for t in np_sentences
        ]
    out += np_sentences
    if by == "NetworkPolicy":
        return out, np_reason
    out.append(Sentence(field, _tier_rule_sentence(side.baseline, direction)))
    if by == "Baseline":
        verb = "accepts" if side.baseline.action.value == "Accept" else "denies"
        return out, f"the Baseline tier rule {side.baseline.rule.describe()} {verb} it for {field}"
    return out, f"no tier decides {field} (no Admin rule decides, no NetworkPolicy isolates the pod, no Baseline rule decides), so Kubernetes allows it"


#: Universe switches that take in a packet, by a word of universe_problem's reason.
_UNIVERSE_SWITCHES = (
    ("hostNetwork", "--host-network"),
    ("node traffic", "--node-traffic"),
    ("to itself", "--self-traffic"),
    ("pod CIDRs", "--pod-cidr"),
    ("not declared", "--namespaces any"),
    ("loaded workload", "--pods any"),
)


def _outside_sentence(problem: str, universe: Universe) -> str:
    """Says the packet lies outside the universe, why, and which switch takes it in."""
    switch = next((s for word, s in _UNIVERSE_SWITCHES if word in problem), None)
    hint = f"; {switch} takes such packets in" if switch and switch != "--pod-cidr" else ""
    if switch == "--pod-cidr":
        cidrs = ", ".join(str(c) for c in universe.pod_cidrs)
        hint = f"; pods have IPs inside the pod CIDRs ({cidrs}) and other endpoints outside them"
    return (
        f"Outside the universe: {problem}{hint}. The verdict below is the reference evaluator's on this one "
        "packet; prove and matrix, asked with the same universe, do not range over it."
    )


# --- endpoint and port specs -----------------------------------------------------------


def _fail(option: str, message: str) -> InputError:
    return InputError(Diagnostic(message, path=option))


@attrs.frozen
class _Wanted:
    """An endpoint as the command line names it, before IPs are chosen."""

    option: str
    spec: str
    kind: str  # "pod", "external" or "node"
    ip: IPAddress | None = None
    own_node: bool = False
    workload: Workload | None = None
    namespace: str = ""
    labels: Labels = Labels()
    #: The IPs it may have: the one given, or a workload's known IPs; empty when unknown.
    ips: tuple[IPAddress, ...] = ()
    #: The IP was written on the command line (``@IP`` or a bare IP).
    ip_given: bool = False
    notes: tuple[str, ...] = ()


def _parse_ip(text: str, option: str, spec: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise _fail(option, f"{spec!r}: {text!r} is not an IP address") from None


def _namespace_labels(cluster: Cluster, namespace: str) -> Labels:
    declared = cluster.namespace(namespace)
    return declared.labels if declared is not None else Labels.of({NAMESPACE_NAME_LABEL: namespace})


def _parse_endpoint(cluster: Cluster, spec: str, option: str) -> _Wanted:
    text = spec.strip()
    if not text:
        raise _fail(option, "empty; give NAMESPACE/POD, NAMESPACE/KIND/NAME, NAMESPACE/key=value,..., an IP, or node:IP")
    for prefix, own in ((OWN_NODE_PREFIX, True), (NODE_PREFIX, False)):
        if text.startswith(prefix):
            return _Wanted(option, spec, "node", ip=_parse_ip(text[len(prefix):], option, spec), own_node=own)
    if "/" not in text:
        ip = _parse_ip_or_explain(text, option, spec)
        return _resolve_ip(cluster, ip, option, spec)
    namespace, _, rest = text.partition("/")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        network = None
    if network is not None:
        raise _fail(option, f"{spec!r} is a CIDR; give one IP address (a packet has one source and one destination)")
    given_ip = None
    if "@" in rest:  # never part of a name or label
        rest, _, ip_text = rest.rpartition("@")
        given_ip = _parse_ip(ip_text.strip(), option, spec)
    if "=" in rest:
        return _labelled_pod(cluster, namespace, rest, given_ip, option, spec)
    return _workload_pod(cluster, namespace, rest, given_ip, option, spec)


#: How --from and --to name a Service: ``svc/NAMESPACE/NAME`` (optionally ``@IP``).
SERVICE_PREFIX = "svc/"


def _through_service(cluster: Cluster, spec: str, option: str) -> tuple[str, Service | None, str]:
    """A ``svc/NS/NAME[@IP]`` spec as the spec of one pod the Service selects (a loaded
    workload's when one matches, else a pod with the selector's labels), the Service, and a
    sentence saying so; any other spec unchanged, with no Service."""
    text = spec.strip()
    if not text.startswith(SERVICE_PREFIX):
        return spec, None, ""
    key, at, ip = text[len(SERVICE_PREFIX):].partition("@")
    service = cluster.service(key)
    if service is None:
        hint = _did_you_mean(key, [s.key for s in cluster.services])
        raise _fail(option, f"{spec!r}: no Service {key} was loaded{hint} (write svc/NAMESPACE/NAME)")
    if service.selector is None:
        raise _fail(option, f"{spec!r}: Service {key} has no selector (or is an ExternalName Service): npverify cannot know its pods")
    backing = selected_workloads(service, cluster.workloads)
    if backing:
        backing = sorted(backing, key=lambda w: w.key)
        chosen = backing[0]
        pod = f"{chosen.namespace}/{chosen.kind}/{chosen.name}"
        which = f"they are the pods of {chosen.key}"
        if len(backing) > 1:
            which = f"they are the pods of {_join([w.key for w in backing])}; the packet goes to one of {chosen.key}"
    else:
        pod = f"{service.namespace}/" + ",".join(f"{k}={v}" for k, v in service.selector.items())
        which = "no loaded workload matches its selector, so the packet goes to a pod with the selector's labels"
    note = f"Service {key} ({service.location}) selects the pods {{{', '.join(f'{k}={v}' for k, v in service.selector.items())}}} in namespace {service.namespace}; {which}."
    return pod + (at + ip if at else ""), service, note


def _target_port(service: Service, port: str) -> tuple[str, str]:
    """A ``--port`` given as a Service port (``80``, ``80/TCP``, or its name) as the target
    port kube-proxy sends to, with a sentence saying so."""
    text, protocol = _split_port(port, PORT_OPTION)
    matches = [
        p
        for p in service.ports
        if (str(p.port) == text or p.name == text) and (protocol is None or p.protocol is protocol)
    ]
    if not matches:
        listed = ", ".join(str(p) for p in service.ports) or "none"
        raise _fail(PORT_OPTION, f"{port!r}: Service {service.key} has no such port (its ports: {listed}); give a port of the Service")
    chosen = matches[0]
    target = chosen.target
    note = f"Service {service.key} port {chosen} goes to {'the pod port named ' + repr(target) if isinstance(target, str) else 'pod port ' + str(target)} (targetPort)."
    return f"{target}/{chosen.protocol}", note


def _parse_ip_or_explain(text: str, option: str, spec: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise _fail(
            option,
            f"{spec!r} is neither an IP address nor NAMESPACE/NAME, NAMESPACE/KIND/NAME or NAMESPACE/key=value "
            "(use node:IP for a node)",
        ) from None


def _resolve_ip(cluster: Cluster, ip: IPAddress, option: str, spec: str) -> _Wanted:
    owners = [w for w in cluster.workloads if ip in w.ips]
    if len(owners) > 1:
        names = _join([f"{w.namespace}/{w.kind}/{w.name}" for w in owners])
        raise _fail(option, f"{spec!r}: several loaded pods have IP {ip} ({names}); name one as NAMESPACE/KIND/NAME")
    if owners:
        workload = owners[0]
        note = f"{ip} ({option}) is the IP of {workload.namespace}/{workload.kind}/{workload.name} in the manifests."
        return _Wanted(
            option, spec, "pod", workload=workload, namespace=workload.namespace, labels=workload.labels, ips=(ip,), ip_given=True, notes=(note,)
        )
    return _Wanted(option, spec, "external", ip=ip, notes=(f"No loaded pod has IP {ip} ({option}), so it is taken as an external host.",))


def _labelled_pod(cluster: Cluster, namespace: str, rest: str, given_ip: IPAddress | None, option: str, spec: str) -> _Wanted:
    problem = dns_label_problem(namespace)
    if problem:
        raise _fail(option, f"{spec!r}: namespace {problem}")
    labels: dict[str, str] = {}
    for item in rest.split(","):
        key, eq, value = item.strip().partition("=")
        if not eq:
            raise _fail(option, f"{spec!r}: {item.strip()!r} is not key=value (labels are key=value,key2=value2)")
        problem = label_key_problem(key) or label_value_problem(value)
        if problem:
            raise _fail(option, f"{spec!r}: {problem}")
        if key in labels:
            raise _fail(option, f"{spec!r}: label {key!r} given twice")
        labels[key] = value
    notes: tuple[str, ...] = ()
    if namespace not in cluster.namespace_names():
        close = difflib.get_close_matches(namespace, sorted(cluster.namespace_names()), n=3, cutoff=0.6)
        hint = f" (did you mean {_join(close, 'or')}?)" if close else ""
        notes = (f"Namespace {namespace} ({option}) appears nowhere in the manifests{hint}.",)
    ips = () if given_ip is None else (given_ip,)
    return _Wanted(option, spec, "pod", namespace=namespace, labels=Labels.of(labels), ips=ips, ip_given=given_ip is not None, notes=notes)


def _workload_pod(cluster: Cluster, namespace: str, rest: str, given_ip: IPAddress | None, option: str, spec: str) -> _Wanted:
    kind_text, slash, name = rest.rpartition("/")
    if not name:
        raise _fail(option, f"{spec!r}: give a pod or workload name after {namespace}/ (or labels key=value)")
    in_namespace = [w for w in cluster.workloads if w.namespace == namespace]
    if not in_namespace:
        known = sorted({w.namespace for w in cluster.workloads})
        hint = _did_you_mean(namespace, known) or (f"; namespaces with pods: {', '.join(known)}" if known else "; the manifests hold no pods or workloads")
        raise _fail(option, f"{spec!r}: no pod or workload in namespace {namespace!r}{hint}")
    if slash:
        kinds = {k.lower(): k for k in WORKLOAD_KINDS}
        kind = kinds.get(kind_text.lower())
        if kind is None:
            raise _fail(option, f"{spec!r}: unknown workload kind {kind_text!r}; expected one of {', '.join(WORKLOAD_KINDS)}")
        candidates = [w for w in in_namespace if w.kind == kind and w.name == name]
    else:
        candidates = [w for w in in_namespace if w.name == name]
    if not candidates:
        other_kinds = [f"{namespace}/{w.kind}/{w.name}" for w in in_namespace if w.name == name]
        if other_kinds:
            hint = f"; but there is {_join(other_kinds)}"
        else:
            names = [f"{w.kind}/{w.name}" if slash else w.name for w in in_namespace]
            hint = _did_you_mean(rest if slash else name, names) or f"; it has {_join(sorted(f'{w.kind}/{w.name}' for w in in_namespace))}"
        what = f"{kind} " if slash else "pod or workload "
        raise _fail(option, f"{spec!r}: no {what}named {name!r} in namespace {namespace}{hint}")
    if len(candidates) > 1:
        names = _join([f"{namespace}/{w.kind}/{w.name}" for w in candidates], "or")
        raise _fail(option, f"{spec!r} is ambiguous: it could be {names}; write NAMESPACE/KIND/NAME")
    workload = candidates[0]
    ips = workload.ips
    if given_ip is not None:
        if workload.ips and given_ip not in workload.ips:
            known = ", ".join(str(ip) for ip in workload.ips)
            raise _fail(option, f"{spec!r}: {workload.key} has IP {known} in the manifests, not {given_ip}")
        ips = (given_ip,)
    return _Wanted(option, spec, "pod", workload=workload, namespace=namespace, labels=workload.labels, ips=ips, ip_given=given_ip is not None)


def _families(wanted: _Wanted) -> set[int]:
    if wanted.ip is not None:
        return {wanted.ip.version}
    return {ip.version for ip in wanted.ips} or {4, 6}


def _assume_ip(family: int, host_network: bool, pod_cidrs: Sequence[IPNetwork], taken: set[IPAddress]) -> IPAddress:
    """An IP for a pod the manifests give none, in the universe: inside the pod CIDRs for a
    pod (default DEFAULT_POD_CIDRS), outside them for a hostNetwork pod (its node's IP)."""
    if host_network:
        avoid = [p for p in pod_cidrs if p.version == family]
        candidates = [c for c in NODE_NETWORKS if c.version == family]
        networks = [c for c in candidates if not any(c.subnet_of(p) for p in avoid)] or candidates
    else:
        networks = [c for c in pod_cidrs if c.version == family] or [c for c in DEFAULT_POD_CIDRS if c.version == family]
        avoid = []
    for network in networks:
        for offset in range(1, 1 << min(16, network.max_prefixlen - network.prefixlen)):
            ip = network.network_address + offset
            if ip not in taken and not any(ip in c for c in avoid):
                return ip
    # A /31 or /32 "pod CIDR", or pod CIDRs that cover every node network: nothing better
    # to choose; the universe check says when the packet lies outside.
    return networks[0].network_address


def _same_pod(src: _Wanted, dst: _Wanted) -> bool:
    """Do both specs name one pod, so that it sends to itself?

    Yes for a workload with a single pod, and for any workload named with the same @IP on
    both sides; two pods of a many-pod workload otherwise, and pods given by labels are
    always two pods.
    """
    if src.workload is None or src.workload is not dst.workload:
        return False
    if src.workload.single_pod:
        if src.ip_given and dst.ip_given and src.ips != dst.ips:
            raise _fail(TO_OPTION, f"{src.spec!r} and {dst.spec!r} are one pod, which cannot have two IPs")
        return True
    return src.ip_given and dst.ip_given and src.ips == dst.ips


def _pod_endpoint(cluster: Cluster, wanted: _Wanted, ip: IPAddress, pod_id: str) -> PodEndpoint:
    workload = wanted.workload
    if workload is None:
        return PodEndpoint(wanted.namespace, _namespace_labels(cluster, wanted.namespace), wanted.labels, ip, pod_id=pod_id)
    return PodEndpoint(
        namespace=workload.namespace,
        namespace_labels=_namespace_labels(cluster, workload.namespace),
        labels=workload.labels,
        ip=ip,
        ports=workload.ports,
        host_network=workload.host_network,
        workload=workload.key,
        pod_id=pod_id,
    )


def _place(
    cluster: Cluster, src: _Wanted, dst: _Wanted, pod_cidrs: Sequence[IPNetwork]
) -> tuple[Endpoint, Endpoint, list[str], list[str]]:
    """Choose IPs (one family for both ends, in the universe's pod CIDRs when it has
    some) and build the endpoints.

    Returns them with notes on what was assumed and the ends whose IPs are made up.
    """
    common = _families(src) & _families(dst)
    if not common:
        raise _fail(
            TO_OPTION,
            f"{dst.spec!r} is IPv{_families(dst).pop()} but {src.spec!r} ({FROM_OPTION}) is IPv{_families(src).pop()}; "
            "a packet's source and destination have one IP family",
        )
    # Pods live in the pod CIDRs' families: a family without one has no pod in the universe.
    with_pods = common & {c.version for c in pod_cidrs}
    if with_pods:
        common = with_pods
    family = 4 if 4 in common else 6
    same = _same_pod(src, dst)
    taken = {ip for w in cluster.workloads for ip in w.ips} | {ip for w in (src, dst) for ip in w.ips}
    taken |= {w.ip for w in (src, dst) if w.ip is not None}
    notes: list[str] = []
    assumed: list[str] = []
    endpoints: list[Endpoint] = []
    for role, wanted in (("source", src), ("destination", dst)):
        if wanted.kind == "external":
            endpoints.append(ExternalEndpoint(wanted.ip))
        elif wanted.kind == "node":
            endpoints.append(NodeEndpoint(wanted.ip, wanted.own_node))
        elif same and role == "destination":
            endpoints.append(endpoints[0])
        else:
            used = {e.ip for e in endpoints}
            known = [ip for ip in wanted.ips if ip.version == family]
            if known:
                # Two pods of one workload with known IPs get two of them when there are two.
                ip = next((ip for ip in known if ip not in used), known[0])
            else:
                ip = _assume_ip(family, wanted.workload is not None and wanted.workload.host_network, pod_cidrs, taken)
                taken.add(ip)
                assumed.append(role)
                base = wanted.spec.strip()
                notes.append(
                    f"The manifests do not give the {role}'s IP, so {ip} is assumed; write {base}@IP to choose one."
                )
            workload = wanted.workload
            if workload is None:
                pod_id = f"labels#{role}"
            else:
                pod_id = workload.key if (workload.single_pod or same) else f"{workload.key}#{role}"
            endpoints.append(_pod_endpoint(cluster, wanted, ip, pod_id))
    source, destination = endpoints
    if src.workload is not None and src.workload is dst.workload and not same:
        count = "may have several pods" if src.workload.replicas is None else f"has {src.workload.replicas} pods"
        notes.append(
            f"{FROM_OPTION} and {TO_OPTION} name the same workload, which {count}: this is one of its pods "
            f"sending to another (name the same pod IP on both sides, {src.spec.split('@')[0].strip()}@IP, for a pod sending to itself)."
        )
    if (
        isinstance(source, PodEndpoint)
        and isinstance(destination, PodEndpoint)
        and source.pod_id != destination.pod_id
        and source.ip == destination.ip
        and not (source.host_network and destination.host_network)
    ):
        raise _fail(TO_OPTION, f"{dst.spec!r} has the IP {destination.ip} of {src.spec!r} ({FROM_OPTION}); two different pods have different IPs")
    return source, destination, notes, assumed


def _split_port(text: str, option: str) -> tuple[str, Protocol | None]:
    """``8080/TCP`` -> ("8080", TCP); ``http`` -> ("http", None)."""
    value, slash, protocol_text = text.strip().partition("/")
    protocol = None
    if slash:
        try:
            protocol = Protocol(protocol_text.strip().upper())
        except ValueError:
            raise _fail(option, f"{text!r}: unknown protocol {protocol_text!r}; expected TCP, UDP or SCTP") from None
    return value.strip(), protocol


def parse_port(text: str, destination: Endpoint, option: str = PORT_OPTION) -> tuple[Protocol, int, str | None]:
    """``8080/TCP``, ``53/udp``, ``8080`` (TCP) or a named port (``http``, ``http/TCP``) of the destination pod.

    Returns the protocol, the number and a note saying how a named port was resolved.
    """
    value, protocol = _split_port(text, option)
    if not value:
        raise _fail(option, f"{text!r}: give a port number or name, e.g. 8080/TCP")
    if value.isascii() and value.isdigit():
        number = int(value)
        if not 1 <= number <= 65535:
            raise _fail(option, f"{text!r}: port must be between 1 and 65535 (got {number})")
        return protocol or Protocol.TCP, number, None
    problem = port_name_problem(value)
    if problem:
        raise _fail(option, f"{text!r}: neither a port number nor a valid port name ({problem})")
    if not _is_policy_pod(destination):
        raise _fail(option, f"{text!r}: a named port needs a pod destination to resolve on; give a number")
    assert isinstance(destination, PodEndpoint)
    named = [cp for cp in destination.ports if cp.name == value]
    if protocol is not None:
        fitting = [cp for cp in named if cp.protocol is protocol]
        if named and not fitting:
            other = ", ".join(f"{cp.port}/{cp.protocol}" for cp in named)
            raise _fail(option, f"{text!r}: the destination's port {value} is {other}, not {protocol}")
        named = fitting
    if not named:
        known = [cp.name for cp in destination.ports if cp.name]
        if not destination.ports and destination.workload is None:
            why = "a pod given by labels has no container ports; give a number"
        elif known:
            why = f"its named ports are {', '.join(known)}{_did_you_mean(value, known)}"
        else:
            why = "it has no named ports; give a number"
        raise _fail(option, f"{text!r}: the destination has no port named {value!r}: {why}")
    port: ContainerPort = named[0]
    return port.protocol, port.port, f"Port {value} is {port.port}/{port.protocol} on the destination."


def explain(
    cluster: Cluster,
    source: str,
    destination: str,
    port: str,
    *,
    semantics: Semantics = Semantics(),
    universe: Universe = Universe(),
    pod_cidrs: Sequence[IPNetwork] | None = None,
) -> Explanation:
    """Explain whether one packet, named as on the command line, is allowed and why.

    ``source``/``destination``: ``NS/POD``, ``NS/KIND/NAME`` (either optionally ``@IP``),
    ``NS/key=value,...`` (a pod with those labels), an IP (a loaded pod's, else an external
    host), ``node:IP`` or ``own-node:IP`` (source only: the destination pod's node).
    ``port``: ``8080/TCP``, ``53/udp``, ``8080`` (TCP) or a port name of the destination.
    ``universe`` is the one prove and matrix take: pod IPs the manifests do not give are
    taken from its pod CIDRs (default ``DEFAULT_POD_CIDRS``; a hostNetwork pod's from
    ``NODE_NETWORKS`` outside them), and the explanation says so; a packet outside the
    universe is said to be. ``pod_cidrs``, when given, replaces ``universe.pod_cidrs``.
    Bad specs raise InputError.
    """
    if pod_cidrs is not None:
        universe = attrs.evolve(universe, pod_cidrs=tuple(pod_cidrs))
    pod_cidrs = universe.pod_cidrs
    service_notes = []
    source, _, note = _through_service(cluster, source, FROM_OPTION)
    service_notes += [note] if note else []
    destination, service, note = _through_service(cluster, destination, TO_OPTION)
    service_notes += [note] if note else []
    if service is not None:
        port, note = _target_port(service, port)
        service_notes.append(note)
    src = _parse_endpoint(cluster, source, FROM_OPTION)
    dst = _parse_endpoint(cluster, destination, TO_OPTION)
    if dst.kind == "node" and dst.own_node:
        raise _fail(TO_OPTION, f"{destination!r}: own-node: names the destination pod's node, so it can only be the source (use node:IP)")
    if src.kind == "node" and src.own_node and dst.kind != "pod":
        raise _fail(FROM_OPTION, f"{source!r}: own-node: is the node of the destination pod, but {destination!r} is not a pod")
    if src.kind != "pod" and dst.kind != "pod":
        raise _fail(
            TO_OPTION,
            f"neither {source!r} nor {destination!r} is a pod: NetworkPolicies only govern traffic to and from pods",
        )
    packet_src, packet_dst, notes, assumed = _place(cluster, src, dst, pod_cidrs)
    protocol, number, port_note = parse_port(port, packet_dst)
    notes = service_notes + list(src.notes + dst.notes) + notes + ([port_note] if port_note else [])
    if isinstance(packet_src, PodEndpoint) and packet_src.host_network and _is_policy_pod(packet_dst) and semantics.own_node_traffic_allowed:
        notes.append(
            f"A hostNetwork pod sends as its node: on the destination pod's node it would be always allowed in "
            f"(explain that case with {FROM_OPTION} {OWN_NODE_PREFIX}{packet_src.ip})."
        )
    for wanted, endpoint in ((src, packet_src), (dst, packet_dst)):
        if wanted.kind == "external" and any(endpoint.ip in c for c in pod_cidrs):
            notes.append(
                f"{endpoint.ip} lies in the pod CIDRs, but no loaded pod has it; it is treated as an external host "
                f"(name the pod, e.g. NAMESPACE/key=value@{endpoint.ip}, to ask about a pod with this IP)."
            )
    packet = Packet(packet_src, packet_dst, protocol, number)
    return explain_packet(cluster, packet, semantics, notes=notes, assumed_ip=assumed, universe=universe)
