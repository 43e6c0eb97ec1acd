"""The tiered matrix's shortcuts against the plain per-pair walk.

The tiered matrix (npverify/matrix/tiered.py) looks only at the class pairs its
``candidates`` name, shares walks, outcomes and direction results between pairs whose
ends look alike to the rules (caches keyed by what a direction depends on), and replays
its witnesses on a cluster cut down to the cluster-scoped policies whose subject holds
one of the packet's two pods (npverify/matrix/proof.py ``_local``). Each shortcut is
checked here against the walk without it, on random tiered clusters:

- every class pair, each computed by an algebra of its own (no cache shared with any
  other pair), has the cell, and the unknown facts, that one algebra computing every
  pair in turn gives; a pair the candidates leave out has no packet allowed;
- the evaluator gives a packet the same outcomes on the cut-down cluster as on the
  two namespaces' policies with every cluster-scoped policy.
"""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

import pytest

from npverify.matrix.algebra import _Algebra
from npverify.matrix.proof import _local, _packet
from npverify.model import Cluster, Protocol, Semantics, Universe
from npverify.semantics import possible_outcomes
from tests import strategies as s
from tests import strategies_tiers as t
from tests.test_matrix import busy_worlds
from tests.test_matrix_tiers import EXAMPLES, TIER_CONFIGS

#: TIER_CONFIGS, and worlds with more cluster-scoped policies, where more pairs meet an
#: Admin Accept rule and more groups, views and named-port resolutions repeat.
CONFIGS = dict(TIER_CONFIGS)
CONFIGS["many-policies"] = (
    Universe(),
    Semantics(),
    t.tiered_worlds(
        busy_worlds(s.worlds(single_pods=False, min_workloads=3, max_workloads=4, max_policies=2)), min_policies=3, max_policies=6
    ),
)
CONFIGS["many-policies-host-network"] = (
    Universe(host_network=True),
    Semantics(same_priority="any"),
    t.tiered_worlds(
        s.worlds(single_pods=False, host_network=True, min_workloads=3, max_workloads=4, max_policies=2), min_policies=3, max_policies=6
    ),
)


def _unit(a: _Algebra, s_index: int, d_index: int) -> tuple:
    """The cell of a pair of classes and the unknown facts it records, as values."""
    src, dst = a.classes[s_index], a.classes[d_index]
    cell = a.pair(src, dst)
    assert a.tiers is not None
    facts = a.tiers.facts.get((s_index, d_index, False), ())
    return (None if cell is None else (cell.may, cell.always, cell.unknown)), facts


@pytest.mark.parametrize("config", sorted(CONFIGS))
@s.differential_settings(EXAMPLES)
@given(data=st.data())
def test_shared_caches_and_candidates_equal_the_plain_per_pair_walk(config: str, data: st.DataObject) -> None:
    universe, semantics, worlds = CONFIGS[config]
    world = data.draw(worlds, label="world")
    shared = _Algebra(world.cluster, universe, semantics, None)
    assert shared.tiers is not None
    n = len(shared.classes)
    candidates = set(shared.candidates())
    # One algebra for every pair, in the candidates' order and then the rest, so that
    # later pairs meet what earlier ones left in the caches.
    order = sorted(candidates) + sorted(set(itertools.product(range(n), repeat=2)) - candidates)
    together = {pair: _unit(shared, *pair) for pair in order}
    for pair in itertools.product(range(n), repeat=2):
        alone = _Algebra(world.cluster, universe, semantics, None)
        plain = _unit(alone, *pair)
        assert together[pair] == plain, pair
        cell = plain[0]
        if pair not in candidates and cell is not None:
            assert cell[0].is_empty, (pair, "left out by the candidates, yet allows packets")


@pytest.mark.parametrize("config", sorted(CONFIGS))
@s.differential_settings(EXAMPLES)
@given(data=st.data())
def test_witness_cluster_cut_to_subjects_decides_as_every_policy_does(config: str, data: st.DataObject) -> None:
    universe, semantics, worlds = CONFIGS[config]
    world = data.draw(worlds, label="world")
    a = _Algebra(world.cluster, universe, semantics, None)
    protocol = data.draw(st.sampled_from(list(Protocol)), label="protocol")
    port = data.draw(st.sampled_from((1, 53, 80, 443, 8080, 65535)), label="port")
    for src, dst in itertools.product(a.classes, repeat=2):
        for u, v in itertools.product(_spread(len(src.profile.variants)), _spread(len(dst.profile.variants))):
            packet = _packet(a, src, dst, u, v, protocol, port, False)
            names = sorted({packet.src.namespace, packet.dst.namespace})  # type: ignore[union-attr]
            whole = Cluster(
                policies=[p for n in names for p in a.policies_by_namespace.get(n, [])],
                cluster_policies=world.cluster.cluster_policies,
                nodes=world.cluster.nodes,
            )
            cut = possible_outcomes(_local(a, packet), packet, semantics, nodes=universe.nodes)
            assert cut == possible_outcomes(whole, packet, semantics, nodes=universe.nodes), packet


def _spread(count: int) -> range:
    """About four variant indexes spread over ``count`` (atoms low to high)."""
    return range(0, count, max(1, count // 4))
