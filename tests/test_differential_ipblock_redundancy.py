"""Differential property: the ipBlock shortcuts of the redundancy scan change no answer.

A rule of many ipBlock peers is settled by interval arithmetic before the solver (a peer
whose addresses the rule's other ipBlock peers all match is covered; peers sharing no
address never cover each other; a witness packet comes from the addresses only one peer
matches). ``shortcuts=False`` asks the whole-cluster solver for every item instead. On
random rules of up to 14 ipBlock peers (IPv4 and IPv6, nested, duplicated, with excepts,
now and then beside a selector peer), in universes with and without pod CIDRs and with
ipBlocks matching pods or not, both must report the same items, with the same why, the
same covering items and the same reason.

NPVERIFY_DIFF_EXAMPLES sets the examples per universe (default 12).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import strategies as s
from npverify.model import Direction, NetworkPolicy, Peer, Rule
from npverify.redundancy import find_redundancy

EXAMPLES = int(os.environ.get("NPVERIFY_DIFF_EXAMPLES", "12"))
CONFIGS = ("default", "pod-cidrs", "pod-cidrs-wide", "wide-all-flipped")


@st.composite
def _ip_block_rules(draw) -> Rule:
    """A rule of many ipBlock peers, some of them copies of others."""
    blocks = draw(st.lists(s.ip_blocks(), min_size=2, max_size=10))
    blocks += draw(st.lists(st.sampled_from(blocks), max_size=4))
    peers = [Peer(ip_block=b) for b in draw(st.permutations(blocks))]
    if draw(st.integers(0, 3)) == 0:
        peers.insert(draw(st.integers(0, len(peers))), draw(s.peers()))
    ports = draw(st.lists(s.policy_ports(), max_size=2))
    return Rule(peers, ports)


@st.composite
def _clusters(draw, universe):
    world = draw(
        s.worlds(max_policies=2, min_workloads=2, host_network=universe.host_network, pod_cidrs=universe.pod_cidrs)
    )
    direction = draw(st.sampled_from((Direction.INGRESS, Direction.EGRESS)))
    rules = [draw(_ip_block_rules()) for _ in range(draw(st.integers(1, 2)))]
    field = "ingress" if direction is Direction.INGRESS else "egress"
    policy = NetworkPolicy(
        namespace=draw(st.sampled_from(s.NAMESPACE_NAMES)),
        name="allow-list",
        pod_selector=draw(s.label_selectors()),
        policy_types=frozenset({direction}),
        **{field: tuple(rules)},
    )
    return world.cluster.with_policies(world.cluster.policies + (policy,))


def _answers(report):
    return (
        {(str(r.item), r.why, tuple(str(c) for c in r.covered_by), r.reason) for r in report.redundant},
        {(str(v.item), v.reason) for v in report.vacuous},
        {str(u.item) for u in report.undecided},
    )


@pytest.mark.parametrize("config", CONFIGS)
def test_ip_block_shortcuts_agree_with_the_whole_cluster_solver(config):
    universe, semantics = s.PACKET_CONFIGS[config]

    @s.differential_settings(EXAMPLES)
    @given(_clusters(universe))
    def check(cluster):
        fast = find_redundancy(cluster, universe, semantics)
        reference = find_redundancy(cluster, universe, semantics, shortcuts=False)
        assert _answers(fast) == _answers(reference)
        peers = sum(1 for r in reference.redundant if r.item.kind == "peer")
        event(f"redundant peers: {min(peers, 5)}")

    check()
