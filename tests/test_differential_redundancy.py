"""Differential property: the redundancy scan's shortcuts change no answer.

``find_redundancy`` settles most items by a concrete packet replayed through the reference
evaluator, or by the solver on the item's namespace alone, before it would ask the solver
about the whole cluster; ``shortcuts=False`` asks the whole-cluster solver for every item.
On random small clusters (some with a policy or rule duplicated, so that redundancy
occurs), in several universes, both must report the same redundant, vacuous and
undecided items.

NPVERIFY_DIFF_EXAMPLES sets the examples per universe (default 12).
"""

from __future__ import annotations

import os

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import strategies as s
from npverify.model import Direction
from npverify.redundancy import find_redundancy

EXAMPLES = int(os.environ.get("NPVERIFY_DIFF_EXAMPLES", "12"))
CONFIGS = ("default", "wide-all-flipped", "pod-cidrs", "workloads")


@st.composite
def _clusters(draw, universe):
    world = draw(s.worlds(max_policies=4, min_workloads=2, host_network=universe.host_network))
    cluster = world.cluster
    policies = list(cluster.policies)
    if policies and draw(st.booleans()):
        source = draw(st.sampled_from(policies))
        if draw(st.booleans()):
            policies.append(attrs.evolve(source, name=source.name + "-copy"))
        else:
            direction = draw(st.sampled_from((Direction.INGRESS, Direction.EGRESS)))
            rules = source.rules(direction)
            if rules:
                field = "ingress" if direction is Direction.INGRESS else "egress"
                doubled = attrs.evolve(source, **{field: rules + (draw(st.sampled_from(rules)),)})
                policies[policies.index(source)] = doubled
    return cluster.with_policies(tuple(policies))


def _answers(report):
    return (
        {str(r.item) for r in report.redundant},
        {(str(v.item), v.reason) for v in report.vacuous},
        {str(u.item) for u in report.undecided},
    )


@pytest.mark.parametrize("config", CONFIGS)
def test_shortcuts_agree_with_the_whole_cluster_solver(config):
    universe, semantics = s.PACKET_CONFIGS[config]

    @s.differential_settings(EXAMPLES)
    @given(_clusters(universe))
    def check(cluster):
        fast = find_redundancy(cluster, universe, semantics)
        reference = find_redundancy(cluster, universe, semantics, shortcuts=False)
        assert _answers(fast) == _answers(reference)
        event(f"redundant items: {min(len(reference.redundant), 3)}")

    check()
