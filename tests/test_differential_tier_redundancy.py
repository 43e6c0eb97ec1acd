"""Differential property: with the Admin and Baseline tiers, the redundancy scan's shortcuts
change no answer, item by item, against the plain whole-encoding query.

The scan asks cluster-scoped items of one solver that holds the NetworkPolicy tier once
(``TierChangeChecker``, restricted to the packets the item reaches), and namespace-local
queries carry tier chains pruned to the policies that can select a pod of the namespace
(``Encoding.tiers_selecting_in``). The reference here is neither: for every item the scan
looked at, ``SolverSession.differ`` over the whole cluster's encoding, with and without the
item. The item is redundant or vacuous in the report exactly when that query is UNSAT.

NPVERIFY_DIFF_EXAMPLES sets the examples per universe (default 12).
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from npverify.model import ClusterItem, ClusterPolicy, Direction, NetworkPolicy, cluster_items, policy_items
from npverify.redundancy import _descends, find_redundancy
from npverify.smt import SolverSession, Status, mentions_of

from tests import strategies as s
from tests.test_differential_redundancy import EXAMPLES
from tests.test_differential_tiers import _tiered_worlds

CONFIGS = ("default", "wide-all-flipped", "pod-cidrs", "declared", "workloads")


def _doubled(draw, policy, name: str):
    """``policy`` with one rule repeated, or a copy under ``name``: redundancy to find."""
    if draw(st.booleans()):
        return None, attrs.evolve(policy, name=name)
    direction = draw(st.sampled_from((Direction.INGRESS, Direction.EGRESS)))
    rules = policy.rules(direction)
    if not rules:
        return None, attrs.evolve(policy, name=name)
    field = "ingress" if direction is Direction.INGRESS else "egress"
    return attrs.evolve(policy, **{field: rules + (draw(st.sampled_from(rules)),)}), None


@st.composite
def _clusters(draw, universe):
    world = draw(_tiered_worlds(universe))
    cluster = world.cluster
    policies, tiered = list(cluster.policies), list(cluster.cluster_policies)
    for pool, suffix in ((policies, "-copy"), (tiered, "copy")):
        if pool and draw(st.booleans()):
            index = draw(st.integers(0, len(pool) - 1))
            replaced, added = _doubled(draw, pool[index], pool[index].name + suffix)
            if replaced is not None:
                pool[index] = replaced
            if added is not None and not (isinstance(added, ClusterPolicy) and added.kind == "BaselineAdminNetworkPolicy"):
                pool.append(added)
    return attrs.evolve(cluster, policies=tuple(policies), cluster_policies=tuple(tiered))


def _without(everything: tuple, item) -> tuple:
    changed = item.without()
    return tuple(changed if p is item.policy else p for p in everything if p is not item.policy or changed is not None)


@pytest.mark.parametrize("config", CONFIGS)
def test_tiered_redundancy_agrees_with_the_whole_encoding(config):
    universe, semantics = s.PACKET_CONFIGS[config]

    @s.differential_settings(EXAMPLES)
    @given(_clusters(universe))
    def check(cluster):
        report = find_redundancy(cluster, universe, semantics)
        assert not report.undecided
        found = {r.item for r in report.redundant} | {v.item for v in report.vacuous}
        everything = cluster.policies + cluster.cluster_policies
        session = SolverSession(cluster, mentions_of(everything), universe, semantics)
        items: list = [i for p in cluster.policies for i in policy_items(p)] + [
            i for p in cluster.cluster_policies for i in cluster_items(p)
        ]
        settled = [i for i in found if i.kind in ("policy", "rule")]
        for item in items:
            if isinstance(item, ClusterItem):
                skipped = any(s_.kind == "policy" and s_.policy is item.policy and s_ != item for s_ in settled)
            else:
                skipped = any(not isinstance(s_, ClusterItem) and _descends(item, s_) for s_ in settled)
            if skipped:
                continue
            outcome = session.differ(everything, _without(everything, item))
            assert outcome.status is not Status.UNKNOWN
            assert (outcome.status is Status.UNSAT) == (item in found), (
                f"{item}: the whole encoding says {'no' if outcome.status is Status.UNSAT else 'a'} verdict changes "
                f"without it, the scan {'reports' if item in found else 'does not report'} it\ncluster: {cluster!r}"
            )
        event(f"redundant cluster-scoped items: {min(sum(isinstance(i, ClusterItem) for i in found), 3)}")

    check()


def test_tier_chains_are_pruned_to_the_namespace():
    """A namespace-local term leaves out the cluster-scoped policies whose subject cannot
    select a pod there (a declared namespace's labels fail its selector), and keeps those a
    namespace of open labels may satisfy."""
    from npverify.model import Cluster, LabelSelector, Labels, Namespace, PodSet, Tier, Universe, Semantics
    from npverify.model import Action, ClusterPeer, ClusterRule

    def admin(name: str, selector: dict) -> ClusterPolicy:
        peer = ClusterPeer(pods=PodSet(LabelSelector(), LabelSelector()))
        return ClusterPolicy(
            "ClusterNetworkPolicy",
            name,
            Tier.ADMIN,
            10,
            PodSet(LabelSelector(Labels.of(selector)), LabelSelector()),
            ingress=(ClusterRule(Action.DENY, (peer,)),),
        )

    prod, dev = admin("prod", {"env": "prod"}), admin("dev", {"env": "dev"})
    cluster = Cluster(
        policies=(NetworkPolicy("a", "deny"),),
        namespaces=(Namespace("a", Labels.of({"env": "prod"})),),
        cluster_policies=(prod, dev),
    )
    session = SolverSession(cluster, mentions_of(cluster.policies + cluster.cluster_policies), Universe(), Semantics())
    enc = session.encoding
    assert enc.tiers_selecting_in("a") == (prod,)
    undeclared = next(n for n in enc.domains.namespaces if n not in ("a",) and n in enc.namespace_labels)
    assert enc.tiers_selecting_in(undeclared) == (prod, dev)


def test_a_witness_packet_is_decided_with_the_tiers_on_both_sides():
    """An Admin Accept lets every pod reach namespace ``a``, so the NetworkPolicy rule that
    allows the same pods there is redundant. The concrete packet the scan tries first (a pod
    of ``b`` to ``a``) is allowed with the rule and, by the Admin tier, without it: it must
    not count as a change (it did while the side without the item left the tiers out)."""
    from npverify.model import (
        Action,
        Cluster,
        ClusterPeer,
        ClusterRule,
        LabelSelector,
        Labels,
        Namespace,
        Peer,
        PodSet,
        Rule,
        Tier,
        Workload,
    )

    everyone = ClusterPeer(pods=PodSet(LabelSelector(), LabelSelector()))
    to_a = PodSet(LabelSelector(Labels.of({"kubernetes.io/metadata.name": "a"})), LabelSelector())
    accept = ClusterPolicy("ClusterNetworkPolicy", "open-a", Tier.ADMIN, 10, to_a, ingress=(ClusterRule(Action.ACCEPT, (everyone,)),))
    allow = NetworkPolicy("a", "allow", LabelSelector(), frozenset({Direction.INGRESS}), ingress=(Rule(peers=(Peer(namespace_selector=LabelSelector()),)),))
    workloads = [
        Workload(kind="Deployment", namespace="a", name="x", labels=Labels.of({"app": "x"})),
        Workload(kind="Deployment", namespace="b", name="y", labels=Labels.of({"app": "y"})),
    ]
    cluster = Cluster(
        policies=(allow,),
        namespaces=(Namespace("a", Labels.of({})), Namespace("b", Labels.of({}))),
        workloads=workloads,
        cluster_policies=(accept,),
    )
    expected = {"a/allow ingress[0]", "cnp/open-a (tier Admin, priority 10)"}
    for shortcuts in (True, False):
        assert {str(r.item) for r in find_redundancy(cluster, shortcuts=shortcuts).redundant} == expected
    # With worker processes, the cluster-scoped items are a batch of their own beside the
    # namespaced ones: the same findings, in the same order, and the same count.
    cluster = cluster.with_policies((allow, attrs.evolve(allow, namespace="b")))
    one, two = find_redundancy(cluster, jobs=1), find_redundancy(cluster, jobs=2)
    assert any(isinstance(r.item, ClusterItem) for r in one.redundant)
    assert (two.redundant, two.vacuous, two.undecided, two.items_checked) == (one.redundant, one.vacuous, one.undecided, one.items_checked)
