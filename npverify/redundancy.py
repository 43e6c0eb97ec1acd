"""Redundancy and vacuity: policies, rules, peers and port entries that change nothing.

An item is redundant when removing it (alone) leaves the allowed traffic unchanged over
the universe. Items that can never apply (a policy selecting no pod, a rule matching no
packet, rules of a direction the policy does not isolate) are vacuous: reported in their
own category, and not again as redundant. A redundant item is listed with the items that
cover it: the others of its namespace and direction that apply to some of its packets.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from npverify.model import Cluster, Direction, PolicyItem, Semantics, Universe, policy_items
from npverify.smt import ChangeChecker, Limits, SolverSession, Status, mentions_of


@attrs.frozen
class RedundantItem:
    item: PolicyItem
    covered_by: tuple[PolicyItem, ...] = ()


@attrs.frozen
class VacuousItem:
    item: PolicyItem
    reason: str


@attrs.frozen
class UndecidedItem:
    item: PolicyItem
    reason: str


@attrs.frozen
class RedundancyReport:
    redundant: tuple[RedundantItem, ...]
    vacuous: tuple[VacuousItem, ...]
    undecided: tuple[UndecidedItem, ...]
    items_checked: int
    seconds: float = 0.0

    @property
    def clean(self) -> bool | None:
        """True when nothing is redundant or vacuous, None when some item was undecided."""
        if self.redundant or self.vacuous:
            return False
        return None if self.undecided else True

    def __str__(self) -> str:
        from npverify.report.text import render_redundancy

        return render_redundancy(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_redundancy_html

        return render_redundancy_html(self)


def _descends(item: PolicyItem, ancestor: PolicyItem) -> bool:
    """Is ``item`` part of ``ancestor`` (a rule of a policy, a peer of a rule)?"""
    if item.policy != ancestor.policy or item == ancestor:
        return False
    if ancestor.rule_index is None:
        return True
    return (
        ancestor.peer_index is None
        and ancestor.port_index is None
        and (item.direction, item.rule_index) == (ancestor.direction, ancestor.rule_index)
    )


def find_redundancy(
    cluster: Cluster,
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    limits: Limits = Limits(),
    policies: tuple[str, ...] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> RedundancyReport:
    """Every redundant or vacuous item of the cluster's policies (or of those named
    ``namespace/name`` in ``policies``). ``progress(number, total, item)`` is called as
    each item comes up (number from 1; items inside a settled one are skipped but counted)."""
    started = time.perf_counter()
    session = SolverSession(cluster, mentions_of(cluster.policies), universe, semantics)
    all_policies = cluster.policies
    checker = session.change_checker(all_policies, limits)
    redundant: list[RedundantItem] = []
    vacuous: list[VacuousItem] = []
    undecided: list[UndecidedItem] = []
    checked = 0
    selected = [(i, p) for i, p in enumerate(all_policies) if policies is None or p.key in policies]
    total = sum(len(policy_items(p)) for _, p in selected) if progress is not None else 0
    number = 0
    for index, policy in selected:
        settled: list[PolicyItem] = []
        for item in policy_items(policy):
            number += 1
            if progress is not None:
                progress(number, total, str(item))
            if any(_descends(item, s) for s in settled):
                continue
            checked += 1
            why_vacuous = _vacuity(checker, item)
            if why_vacuous:
                vacuous.append(VacuousItem(item, why_vacuous))
                settled.append(item)
                continue
            changed = item.without()
            namespace_policies = tuple(
                (changed if i == index else p)
                for i, p in enumerate(all_policies)
                if p.namespace == policy.namespace and (i != index or changed is not None)
            )
            outcome = checker.differs(policy.namespace, namespace_policies)
            if outcome.status is Status.UNSAT:
                redundant.append(RedundantItem(item, _covers(checker, item, all_policies)))
                settled.append(item)
            elif outcome.status is Status.UNKNOWN:
                undecided.append(UndecidedItem(item, outcome.reason))
    return RedundancyReport(
        tuple(redundant), tuple(vacuous), tuple(undecided), checked, time.perf_counter() - started
    )


def _vacuity(checker: ChangeChecker, item: PolicyItem) -> str | None:
    """Why ``item`` can never apply, or None."""
    if item.kind == "policy":
        if not item.policy.policy_types:
            return "its policyTypes is empty"
        if checker.applies(item) is Status.UNSAT:
            return "it selects no pod"
        return None
    assert item.direction is not None
    if item.direction not in item.policy.policy_types:
        field = "ingress" if item.direction is Direction.INGRESS else "egress"
        return f"policyTypes does not include {item.direction}, so {field} rules are ignored"
    if checker.applies(item) is Status.UNSAT:
        return "it matches no packet"
    return None


def _covers(checker: ChangeChecker, item: PolicyItem, policies) -> tuple[PolicyItem, ...]:
    """The other items of the same namespace and direction that apply to some packet
    ``item`` applies to: what still allows (or isolates) its traffic once it is gone."""
    candidates: list[PolicyItem] = []
    same_namespace = [p for p in policies if p.namespace == item.policy.namespace]
    if item.kind == "policy":
        candidates = [PolicyItem(p) for p in same_namespace if p != item.policy and p.policy_types & item.policy.policy_types]
    else:
        assert item.direction is not None and item.rule is not None
        for p in same_namespace:
            if item.direction not in p.policy_types:
                continue
            for r in range(len(p.rules(item.direction))):
                if (p, r) != (item.policy, item.rule_index):
                    candidates.append(PolicyItem(p, item.direction, r))
        rule = item.rule
        if item.peer_index is not None:
            candidates += [
                PolicyItem(item.policy, item.direction, item.rule_index, peer_index=i)
                for i in range(len(rule.peers))
                if i != item.peer_index
            ]
        if item.port_index is not None:
            candidates += [
                PolicyItem(item.policy, item.direction, item.rule_index, port_index=i)
                for i in range(len(rule.ports))
                if i != item.port_index
            ]
    return tuple(c for c in candidates if checker.applies(item, c) is Status.SAT)
