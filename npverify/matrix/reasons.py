"""Why a cell allows what it allows: the rules that allow its packets, and the policies
that isolate its pods.

For each unit of a cell (a pair of classes, or a class's pods to themselves) the algebra
says which variant pairs and ports a rule takes part in allowing; each such rule is then
confirmed by one concrete packet of the cell that the reference evaluator
(npverify/semantics.py) allows with that rule among its matches. So a rule listed for a
cell allows some packet of that cell, by the evaluator's own account; an algebra that
disagrees is an internal error, as for the witness packets (npverify/matrix/proof.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Optional

import attrs

from npverify.errors import InternalError
from npverify.matrix.cells import PROTOCOLS, PortSet
from npverify.matrix.proof import _decision, _packet, _universe_problem, _variant_pairs
from npverify.matrix.variants import _Class
from npverify.model import Direction, NetworkPolicy, Protocol, SourceLocation

if TYPE_CHECKING:
    from npverify.matrix.algebra import _Algebra


@attrs.frozen
class CellRule:
    """A rule that allows some packet of a cell: the reference evaluator allows the packet
    from a pod of the row to a pod of the column on ``protocol``/``port`` and lists this
    rule among the ones that let it out (egress) or in (ingress)."""

    policy: str
    direction: Direction
    rule_index: int
    location: Optional[SourceLocation]
    protocol: Protocol
    port: int

    @property
    def rule(self) -> str:
        """The rule's path in its policy, e.g. ``ingress[0]``."""
        return f"{self.direction.value.lower()}[{self.rule_index}]"


@attrs.frozen
class CellIsolation:
    """A policy that isolates some source pod of a cell for egress, or some destination
    pod for ingress: packets of the cell get through that direction only by its rules
    (and those of the other policies isolating the pod)."""

    policy: str
    direction: Direction
    location: Optional[SourceLocation]


@attrs.frozen
class CellReasons:
    """The rules that allow some packet of a cell, and the policies that isolate its pods."""

    rules: tuple[CellRule, ...] = ()
    isolated_by: tuple[CellIsolation, ...] = ()


#: A unit of a cell: source class, destination class, and whether it is a pod to itself.
Unit = tuple[_Class, _Class, bool]

_ORDER = {Direction.EGRESS: 0, Direction.INGRESS: 1}


def _isolating(a: _Algebra, cls: _Class, direction: Direction) -> list[NetworkPolicy]:
    """The policies that select ``cls``'s pods for ``direction`` (none for hostNetwork pods)."""
    if cls.host_network:
        return []
    return [
        p
        for p in a.policies_by_namespace.get(cls.namespace, ())
        if direction in p.policy_types and a._selects(p.pod_selector, cls.labels)
    ]


def _first_port(ports: PortSet) -> Optional[tuple[Protocol, int]]:
    for protocol in PROTOCOLS:
        for lo, _ in ports.intervals(protocol):
            return protocol, lo
    return None


class _Reasons:
    """The reasons of the units of one matrix, each unit computed once."""

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        self._units: dict[tuple[int, int, bool], tuple[dict[tuple, CellRule], dict[tuple, CellIsolation]]] = {}

    def cell(self, units: Iterable[Unit]) -> CellReasons:
        """The reasons of a cell made of ``units`` (those with a non-empty cell)."""
        rules: dict[tuple, CellRule] = {}
        isolated: dict[tuple, CellIsolation] = {}
        for src, dst, own in units:
            unit_rules, unit_isolated = self._unit(src, dst, own)
            for key, rule in unit_rules.items():
                rules.setdefault(key, rule)
            for key, isolation in unit_isolated.items():
                isolated.setdefault(key, isolation)
        return CellReasons(
            rules=tuple(rules[k] for k in sorted(rules, key=lambda k: (_ORDER[k[1]], k[0], k[2]))),
            isolated_by=tuple(isolated[k] for k in sorted(isolated, key=lambda k: (_ORDER[k[1]], k[0]))),
        )

    def _unit(self, src: _Class, dst: _Class, own: bool):
        key = (src.index, dst.index, own)
        hit = self._units.get(key)
        if hit is None:
            hit = self._units[key] = self._compute(src, dst, own)
        return hit

    def _compute(self, src: _Class, dst: _Class, own: bool):
        a = self.algebra
        isolated: dict[tuple, CellIsolation] = {}
        candidates: list[tuple[NetworkPolicy, Direction, int]] = []
        for cls, direction in ((src, Direction.EGRESS), (dst, Direction.INGRESS)):
            for policy in _isolating(a, cls, direction):
                isolated[(policy.key, direction)] = CellIsolation(policy.key, direction, policy.location)
                candidates += [(policy, direction, i) for i in range(len(policy.rules(direction)))]
        rules: dict[tuple, CellRule] = {}
        if own and a.semantics.self_traffic_allowed:
            return rules, isolated  # a pod may always send to itself: no rule is needed
        for policy, direction, index in candidates:
            found = self._confirmed(src, dst, own, policy, direction, index)
            if found is not None:
                rules[(policy.key, direction, index)] = found
        return rules, isolated

    def _allowed(self, src: _Class, dst: _Class, own: bool) -> Iterator[tuple[int, int, PortSet]]:
        """Variant pairs that occur together, with the ports allowed between them."""
        a = self.algebra
        e_base, e_partial = a.egress(src, dst)
        i_base, i_partial = a.ingress(dst, src)
        for u, v in _variant_pairs(a, src, dst, own):
            out = a.union(e_base, a._over(e_partial, 1 << v))
            into = a.union(i_base, a._over(i_partial, 1 << u))
            yield u, v, a.meet(out, into)

    def _confirmed(self, src: _Class, dst: _Class, own: bool, policy: NetworkPolicy, direction: Direction, index: int) -> Optional[CellRule]:
        """The rule, with a packet of the unit that it allows, confirmed by the reference
        evaluator; None when the algebra says it allows none."""
        a = self.algebra
        compiled = a._compile([(policy.namespace, policy.rules(direction)[index])])
        assert compiled is not None
        peers, entries_id, entries = compiled[0]
        other = dst if direction is Direction.EGRESS else src
        mask = a._peers_mask(peers, other)
        if not mask:
            return None
        ports = a._ports(entries_id, entries, dst)
        for u, v, allowed in self._allowed(src, dst, own):
            if not mask >> (v if direction is Direction.EGRESS else u) & 1:
                continue
            first = _first_port(a.meet(ports, allowed))
            if first is None:
                continue
            packet = _packet(a, src, dst, u, v, first[0], first[1], own)
            decision = _decision(a, packet)
            side = decision.egress if direction is Direction.EGRESS else decision.ingress
            listed = any(m.policy.key == policy.key and m.rule_index == index for m in side.matches)
            problem = _universe_problem(a, packet)
            if not decision.allowed or not listed or problem:
                raise InternalError(
                    f"connectivity matrix: the set algebra says {policy.key} {direction}[{index}] allows {packet!r}; "
                    f"the reference evaluator says {'allowed' if decision.allowed else 'denied'}"
                    f"{'' if listed else ', without that rule'}{f' (outside the universe: {problem})' if problem else ''}"
                )
            rule = policy.rules(direction)[index]
            return CellRule(policy.key, direction, index, rule.location or policy.location, first[0], first[1])
        return None
