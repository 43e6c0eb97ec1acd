"""A normal form of one namespace's NetworkPolicies: equal forms decide every packet alike.

Why: comparing two policy sets starts namespace by namespace (see
``SolverSession.namespaces_differing``), one solver query per namespace whose policies
differ. Most refactors (rules split per peer, policies split per direction,
``matchLabels`` restated as ``matchExpressions``, port ranges split or merged, renames,
reorders) leave this form unchanged, and comparing forms costs microseconds where a query
costs up to a second at a thousand namespaces nobody declared.

A namespace's policies decide, per direction, for each pod of the namespace: whether it is
isolated (some policy of that direction selects it) and, if so, whether some rule of a
selecting policy matches the other end and the port. So the form holds, per direction:

- the set of selectors of the policies of that direction (isolation is "any of them");
- per (policy selector, peer), the union of the ports of every rule with that peer, where
  a rule without peers has the peer "any" and a rule without ports allows every port.

Selectors are sets of requirements (``matchLabels`` are ``In`` one value), values as sets;
ports are merged intervals per protocol, named ports as (protocol, name), "all ports of a
protocol" absorbing both. Each step replaces a term by an equal one under every universe
and semantics, so equal forms imply equal decisions; unequal forms prove nothing, and the
solver decides those namespaces.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from npverify.model import Direction, LabelSelector, NetworkPolicy, Operator, Peer, PolicyPort, Rule

#: The peer of a rule without peers (every source or destination).
ANY_PEER = ("any",)
#: The ports of a rule without ports (every packet).
ALL_PORTS = None


def selector_form(selector: LabelSelector) -> frozenset:
    """The selector's requirements as a set (a conjunction's order does not matter)."""
    return frozenset(
        (r.key, r.operator, frozenset(r.values) if r.operator in (Operator.IN, Operator.NOT_IN) else frozenset())
        for r in selector.requirements()
    )


def peer_form(peer: Peer) -> Hashable:
    """An ipBlock with its excepts as a set; or the namespace ("own" without a selector)
    and pod selectors, where no pod selector is the empty one (both match every pod)."""
    if peer.ip_block is not None:
        return ("ip", peer.ip_block.cidr, frozenset(peer.ip_block.except_))
    namespaces = "own" if peer.namespace_selector is None else selector_form(peer.namespace_selector)
    pods = selector_form(peer.pod_selector) if peer.pod_selector is not None else frozenset()
    return ("pods", namespaces, pods)


def ports_form(entries: Iterable[PolicyPort] | None) -> Hashable:
    """The union of ``entries``, or ALL_PORTS when given None (a rule without ports)."""
    if entries is None:
        return ALL_PORTS
    whole: set = set()
    ranges: dict = {}
    named: set = set()
    for entry in entries:
        if entry.port is None:
            whole.add(entry.protocol)
        elif isinstance(entry.port, int):
            end = entry.end_port if entry.end_port is not None else entry.port
            if entry.port <= end:
                ranges.setdefault(entry.protocol, []).append((entry.port, end))
        else:
            named.add((entry.protocol, entry.port))
    form: set = {("all", protocol) for protocol in whole}
    for protocol, spans in ranges.items():
        if protocol in whole:
            continue
        merged: list[list[int]] = []
        for low, high in sorted(spans):
            if merged and low <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], high)
            else:
                merged.append([low, high])
        form.update(("range", protocol, low, high) for low, high in merged)
    form.update(("named", protocol, name) for protocol, name in named if protocol not in whole)
    return frozenset(form)


def _direction_form(policies: Iterable[NetworkPolicy], direction: Direction) -> Hashable:
    isolating: set = set()
    # Per (policy selector, peer): the port entries of its rules, or None once a rule
    # without ports allows every port.
    allowing: dict[tuple, list[PolicyPort] | None] = {}
    for policy in policies:
        if direction not in policy.policy_types:
            continue
        selected = selector_form(policy.pod_selector)
        isolating.add(selected)
        for rule in policy.rules(direction):
            for peer in _peer_forms(rule):
                key = (selected, peer)
                if not rule.ports:
                    allowing[key] = None
                elif key not in allowing:
                    allowing[key] = list(rule.ports)
                elif allowing[key] is not None:
                    allowing[key].extend(rule.ports)  # type: ignore[union-attr]
    return frozenset(isolating), frozenset((key, ports_form(entries)) for key, entries in allowing.items())


def _peer_forms(rule: Rule) -> Iterable[Hashable]:
    return [peer_form(p) for p in rule.peers] if rule.peers else [ANY_PEER]


def decision_form(policies: Iterable[NetworkPolicy]) -> Hashable:
    """The form of one namespace's policies: equal forms make equal egress and ingress
    decisions for every pod of the namespace, with any other end, on any port."""
    policies = tuple(policies)
    return tuple(_direction_form(policies, d) for d in (Direction.INGRESS, Direction.EGRESS))


def changed_namespaces(
    left: Iterable[NetworkPolicy], right: Iterable[NetworkPolicy], by_form: bool = True
) -> tuple[tuple[str, tuple[NetworkPolicy, ...], tuple[NetworkPolicy, ...]], ...]:
    """The namespaces whose policies differ between the sides, sorted, each with its
    policies on the left and on the right: differ as values, and with ``by_form`` also in
    ``decision_form`` (the others decide alike and need no solver)."""
    by_side: list[dict[str, list[NetworkPolicy]]] = [{}, {}]
    for side, policies in zip(by_side, (left, right)):
        for p in policies:
            side.setdefault(p.namespace, []).append(p)
    changed = []
    for ns in sorted(set(by_side[0]) | set(by_side[1])):
        before, after = (tuple(side.get(ns, ())) for side in by_side)
        if before == after:
            continue
        if by_form and decision_form(before) == decision_form(after):
            continue
        changed.append((ns, before, after))
    return tuple(changed)
