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
from npverify.matrix.cells import EMPTY, PROTOCOLS, PortSet
from npverify.matrix.proof import _decision, _packet, _universe_problem, _variant_pairs
from npverify.matrix.variants import _Class
from npverify import tiers
from npverify.model import Action, Direction, NetworkPolicy, Packet, Protocol, SourceLocation, Tier
from npverify.semantics import Decision

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
class CellTierRule:
    """A rule of an Admin or Baseline tier policy that decided a direction of some packet of
    a cell: the reference evaluator's trace of the packet from a pod of the row to a pod of
    the column on ``protocol``/``port`` (under its default resolution of what no manifest
    says) has it as that tier's first match for that direction. An Accept rule is listed on
    a packet the evaluator allows; a Deny rule on one it denies; a Pass rule on one it
    passed on to NetworkPolicy or the Baseline tier."""

    tier: str
    #: ``anp/NAME``, ``cnp/NAME`` or ``banp/default``.
    policy: str
    direction: Direction
    rule_index: int
    #: The rule's ``name`` ("" if none).
    name: str
    #: Its effective action: a Deny or Pass rule that fails closed denies.
    action: str
    #: ``tiers.RuleRef.describe()``, e.g. ``anp/deny-dev spec.egress[0] "no-dev" Deny (anp.yaml:12:5)``.
    description: str
    location: Optional[SourceLocation]
    protocol: Protocol
    port: int

    @property
    def rule(self) -> str:
        """The rule's field path in its object, e.g. ``spec.ingress[0]``."""
        return f"spec.{self.direction.value.lower()}[{self.rule_index}]"


@attrs.frozen
class CellReasons:
    """The rules that allow some packet of a cell, and the policies that isolate its pods;
    with cluster-scoped policies, the Admin and Baseline rules that decided its packets."""

    rules: tuple[CellRule, ...] = ()
    isolated_by: tuple[CellIsolation, ...] = ()
    tier_rules: tuple[CellTierRule, ...] = ()


#: A unit of a cell: source class, destination class, and whether it is a pod to itself.
Unit = tuple[_Class, _Class, bool]

_ORDER = {Direction.EGRESS: 0, Direction.INGRESS: 1}
_TIER_ORDER = {Tier.ADMIN.value: 0, Tier.BASELINE.value: 1}


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
        tier_rules: dict[tuple, CellTierRule] = {}
        for src, dst, own in units:
            unit_rules, unit_isolated, unit_tier_rules = self._unit(src, dst, own)
            for key, rule in unit_rules.items():
                rules.setdefault(key, rule)
            for key, isolation in unit_isolated.items():
                isolated.setdefault(key, isolation)
            for key, tier_rule in unit_tier_rules.items():
                tier_rules.setdefault(key, tier_rule)
        return CellReasons(
            rules=tuple(rules[k] for k in sorted(rules, key=lambda k: (_ORDER[k[1]], k[0], k[2]))),
            isolated_by=tuple(isolated[k] for k in sorted(isolated, key=lambda k: (_ORDER[k[1]], k[0]))),
            tier_rules=tuple(tier_rules[k] for k in sorted(tier_rules, key=lambda k: (_TIER_ORDER[k[0]], _ORDER[k[2]], k[1], k[3]))),
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
        tier_rules: dict[tuple, CellTierRule] = {}
        if own and a.semantics.self_traffic_allowed:
            return rules, isolated, tier_rules  # a pod may always send to itself: no rule is needed
        if a.tiers is not None:
            return self._tiered(src, dst, own, candidates), isolated, self._tier_rules(src, dst, own)
        for policy, direction, index in candidates:
            found = self._confirmed(src, dst, own, policy, direction, index)
            if found is not None:
                rules[(policy.key, direction, index)] = found
        return rules, isolated, tier_rules

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

    # --- with cluster-scoped policies ------------------------------------------------------------

    def _pairs(self, src: _Class, dst: _Class, own: bool):
        """The unit's variant pairs that occur together, with their egress and ingress outcomes."""
        a = self.algebra
        assert a.tiers is not None
        for u, v in _variant_pairs(a, src, dst, own):
            yield u, v, *a.tiers.outcomes_at(src, dst, u, v)

    def _check(self, packet: Packet, claim: str, holds) -> Decision:
        """The evaluator's decision on ``packet``, which must bear out the algebra's ``claim``."""
        decision = _decision(self.algebra, packet)
        problem = _universe_problem(self.algebra, packet)
        if problem or not holds(decision):
            raise InternalError(
                f"connectivity matrix: the set algebra says {claim} on {packet!r}; the reference evaluator "
                f"says {'allowed' if decision.allowed else 'denied'}: {' | '.join(decision.describe())}"
                f"{f' (outside the universe: {problem})' if problem else ''}"
            )
        return decision

    def _tiered(self, src: _Class, dst: _Class, own: bool, candidates) -> dict[tuple, CellRule]:
        """The NetworkPolicy rules that allow some packet of the unit when cluster-scoped
        policies take part: the rule matches, NetworkPolicy decides its direction (the
        Admin tier passed or did not match), and the packet is allowed."""
        a = self.algebra
        rules: dict[tuple, CellRule] = {}
        pairs = list(self._pairs(src, dst, own))
        for policy, direction, index in candidates:
            compiled = a._compile([(policy.namespace, policy.rules(direction)[index])])
            assert compiled is not None
            peers, entries_id, entries = compiled[0]
            other = dst if direction is Direction.EGRESS else src
            mask = a._peers_mask(peers, other)
            if not mask:
                continue
            ports = a._ports(entries_id, entries, dst)
            for u, v, e, i in pairs:
                if not mask >> (v if direction is Direction.EGRESS else u) & 1:
                    continue
                side = e if direction is Direction.EGRESS else i
                by_policy = next((p for tier, _, _, p in side.decided if tier == tiers.NETWORK_POLICY_TIER), EMPTY)
                first = _first_port(ports & by_policy & e.default & i.default)
                if first is None:
                    continue
                packet = _packet(a, src, dst, u, v, first[0], first[1], own)

                def listed(decision: Decision) -> bool:
                    side = decision.egress if direction is Direction.EGRESS else decision.ingress
                    return (
                        decision.allowed
                        and side.decided_by == tiers.NETWORK_POLICY_TIER
                        and any(m.policy.key == policy.key and m.rule_index == index for m in side.matches)
                    )

                self._check(packet, f"{policy.key} {direction}[{index}] allows", listed)
                rule = policy.rules(direction)[index]
                rules[(policy.key, direction, index)] = CellRule(
                    policy.key, direction, index, rule.location or policy.location, first[0], first[1]
                )
                break
        return rules

    def _tier_rules(self, src: _Class, dst: _Class, own: bool) -> dict[tuple, CellTierRule]:
        """The Admin and Baseline rules that decide a direction of some packet of the unit
        (under the evaluator's default resolution), each confirmed on one such packet."""
        a = self.algebra
        found: dict[tuple, CellTierRule] = {}
        for u, v, e, i in self._pairs(src, dst, own):
            allowed = e.default & i.default
            for direction, side in ((Direction.EGRESS, e), (Direction.INGRESS, i)):
                for tier, ref, action, ports in side.decided:
                    if ref is None:
                        continue  # NetworkPolicy's: see _tiered
                    key = (tier, ref.policy.key, direction, ref.index)
                    if key in found:
                        continue
                    if action is Action.ACCEPT:
                        ports = ports & allowed
                    first = _first_port(ports)
                    if first is None:
                        continue
                    packet = _packet(a, src, dst, u, v, first[0], first[1], own)

                    def decided(decision: Decision, tier=tier, ref=ref, action=action, direction=direction) -> bool:
                        side = decision.egress if direction is Direction.EGRESS else decision.ingress
                        outcome = side.admin if tier == Tier.ADMIN.value else side.baseline
                        if outcome is None or outcome.rule != ref:
                            return False
                        if action is Action.PASS:
                            return side.decided_by != tier
                        return side.decided_by == tier and decision.allowed == (action is Action.ACCEPT)

                    self._check(packet, f"{tier} tier rule {ref.describe()} decides {direction}", decided)
                    found[key] = CellTierRule(
                        tier, ref.policy.key, direction, ref.index, ref.rule.name, str(action), ref.describe(),
                        ref.location, first[0], first[1],
                    )
        return found
