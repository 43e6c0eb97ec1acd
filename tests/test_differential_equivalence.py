"""Differential property: ``equivalence`` agrees with a brute force through the reference
evaluator, on random pairs of small policy sets over a small universe of single pods.

A pair is a policy set and either a rewrite of it that must mean the same (rename, reorder,
split a rule per peer or per port, split a port range or an ipBlock, split a policy per pod,
matchLabels -> matchExpressions, duplicate a rule, drop rules of a direction the policy does
not isolate), a mutation that may or may not change its meaning (widen a port by one, drop
an except, change a label value, drop a policy type, AND -> OR in a peer, drop a rule, peer,
port entry or policy), or an independently drawn set.

The universe is ``Universe(pods="workloads", namespaces="declared")`` with single pods of
fixed IPs, so these packets are all of it, up to equivalence: every pair of distinct pods,
and each pod with an external host at one address per class of IPs that no ipBlock of either
side tells apart (a pod's IP, which no external host has, is a class of its own); on every protocol; on every port where a decision can change
(``strategies.boundary_ports`` over both sides: each port and endPort with its neighbours,
each container port, 1 and 65535). The brute-force verdict is therefore exact.

Checked per example: ``same`` equals the brute-force verdict (True for rewrites); each side
of the difference is non-empty exactly when the brute force finds packets in that direction;
each region's packet replays through the evaluator as a difference in its direction, and so
do the region's corner packets that belong to the universe; and, when a direction is
complete, every differing packet of the brute force lies in one of its regions.

A second, lighter property runs some of these pairs in the open ``Universe()``, where no
brute force is exact: there, regions must still replay (packet and corners) and a proof of
equivalence must hold on the packets between the loaded workloads.

Runs are reproducible (``derandomize=True``); NPVERIFY_DIFF_EXAMPLES sets the number of
examples per kind of pair (default 10, sized for CI: about 30-60 s), e.g.
``NPVERIFY_DIFF_EXAMPLES=200 python -m pytest tests/test_differential_equivalence.py``.
"""

from __future__ import annotations

import ipaddress
import itertools
import os

import attrs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from npverify.compare import equivalence
from npverify.model import (
    Direction,
    Endpoint,
    ExternalEndpoint,
    IPBlock,
    LabelSelector,
    NetworkPolicy,
    Operator,
    Packet,
    Peer,
    PolicyPort,
    Requirement,
    Rule,
    Semantics,
    Universe,
)
from npverify.semantics import decide, universe_problem

from tests import strategies as s
from tests.test_compare import check_difference, region_problems

#: Examples per kind of pair (20 kinds); the default keeps the module near 30-60 s.
EXAMPLES = int(os.environ.get("NPVERIFY_DIFF_EXAMPLES", "10"))

SETTINGS = s.differential_settings(EXAMPLES)

UNIVERSE = Universe(pods="workloads", namespaces="declared")
SEMANTICS = (Semantics(), Semantics(ip_block_matches_pods=False))
#: Enough to enumerate every region of most of these small sets (complete is then checked).
MAX_DIFFS = 15


# --- rewrites (same meaning) and mutations (maybe not) ---------------------------------------------


def _replace(policies: list[NetworkPolicy], index: int, *new: NetworkPolicy) -> list[NetworkPolicy]:
    return policies[:index] + list(new) + policies[index + 1 :]


def _with_rules(policy: NetworkPolicy, direction: Direction, rules) -> NetworkPolicy:
    field = "ingress" if direction is Direction.INGRESS else "egress"
    return attrs.evolve(policy, **{field: tuple(rules)})


def _rule_sites(policies):
    """(policy index, direction, rule index) of every rule."""
    return [
        (i, d, r)
        for i, p in enumerate(policies)
        for d in (Direction.INGRESS, Direction.EGRESS)
        for r in range(len(p.rules(d)))
    ]


def _edit_rule(policies, site, edit) -> list[NetworkPolicy]:
    """Replace the rule at ``site`` by the rules ``edit(rule)`` returns."""
    i, d, r = site
    rules = list(policies[i].rules(d))
    rules[r : r + 1] = edit(rules[r])
    return _replace(policies, i, _with_rules(policies[i], d, rules))


def _split_port(entry: PolicyPort) -> list[PolicyPort]:
    assert isinstance(entry.port, int) and entry.end_port is not None and entry.end_port > entry.port
    mid = (entry.port + entry.end_port) // 2
    first = attrs.evolve(entry, end_port=mid if mid > entry.port else None)
    second = attrs.evolve(entry, port=mid + 1, end_port=entry.end_port if entry.end_port > mid + 1 else None)
    return [first, second]


def _split_block(block: IPBlock) -> list[IPBlock]:
    """The two halves of the CIDR, each with the excepts inside it; a half that an except
    covers entirely is dropped (an except must be strictly smaller than its CIDR)."""
    halves = []
    for half in block.cidr.subnets(prefixlen_diff=1):
        excepts = tuple(e for e in block.except_ if e.subnet_of(half))
        if half in excepts:
            continue
        halves.append(IPBlock(half, tuple(e for e in excepts if e != half)))
    return halves


def _in_one_value(selector: LabelSelector) -> LabelSelector:
    """matchLabels rewritten as matchExpressions In with one value each."""
    return LabelSelector(
        {}, tuple(Requirement(k, Operator.IN, (v,)) for k, v in selector.match_labels.items()) + selector.match_expressions
    )


def _sites(policies, what) -> list:
    """(rule site, index) of every peer (``what="peers"``) or port entry of every rule."""
    return [
        (x, k)
        for x in _rule_sites(policies)
        for k, item in enumerate(getattr(policies[x[0]].rules(x[1])[x[2]], what))
    ]


def _replace_in_rule(rule: Rule, what: str, k: int, new: tuple) -> Rule:
    items = getattr(rule, what)
    return attrs.evolve(rule, **{what: items[:k] + tuple(new) + items[k + 1 :]})


# Each transformation: given a draw function and the policies (with at least one policy and
# the structure its injector added), the changed policies.


def _rename(draw, policies):
    i = draw(st.integers(0, len(policies) - 1))
    return _replace(policies, i, attrs.evolve(policies[i], name=policies[i].name + "-renamed"))


def _reverse(draw, policies):
    return [attrs.evolve(p, ingress=tuple(reversed(p.ingress)), egress=tuple(reversed(p.egress))) for p in reversed(policies)]


def _duplicate_rule(draw, policies):
    return _edit_rule(policies, draw(st.sampled_from(_rule_sites(policies))), lambda rule: [rule, rule])


def _rule_per_peer(draw, policies):
    sites = [x for x in _rule_sites(policies) if len(policies[x[0]].rules(x[1])[x[2]].peers) >= 2]
    return _edit_rule(policies, draw(st.sampled_from(sites)), lambda rule: [Rule((p,), rule.ports) for p in rule.peers])


def _rule_per_port(draw, policies):
    sites = [x for x in _rule_sites(policies) if len(policies[x[0]].rules(x[1])[x[2]].ports) >= 2]
    return _edit_rule(policies, draw(st.sampled_from(sites)), lambda rule: [Rule(rule.peers, (p,)) for p in rule.ports])


def _is_range(entry: PolicyPort) -> bool:
    return isinstance(entry.port, int) and entry.end_port is not None and entry.end_port > entry.port


def _split_range(draw, policies):
    site, k = draw(st.sampled_from([(x, k) for x, k in _sites(policies, "ports") if _is_range(_port(policies, x, k))]))
    return _edit_rule(policies, site, lambda rule: [_replace_in_rule(rule, "ports", k, _split_port(rule.ports[k]))])


def _port(policies, site, k) -> PolicyPort:
    return policies[site[0]].rules(site[1])[site[2]].ports[k]


def _peer(policies, site, k) -> Peer:
    return policies[site[0]].rules(site[1])[site[2]].peers[k]


def _splittable(peer: Peer) -> bool:
    return peer.ip_block is not None and peer.ip_block.cidr.prefixlen < peer.ip_block.cidr.max_prefixlen


def _split_ipblock(draw, policies):
    site, k = draw(st.sampled_from([(x, k) for x, k in _sites(policies, "peers") if _splittable(_peer(policies, x, k))]))

    def split(rule: Rule) -> list[Rule]:
        halves = tuple(Peer(ip_block=b) for b in _split_block(rule.peers[k].ip_block))
        new = _replace_in_rule(rule, "peers", k, halves)
        # both halves excepted away: the peer matched nothing; without it the rule must too
        return [new] if new.peers else []

    return _edit_rule(policies, site, split)


def _drop_ignored_rule(draw, policies):
    sites = [x for x in _rule_sites(policies) if x[1] not in policies[x[0]].policy_types]
    return _edit_rule(policies, draw(st.sampled_from(sites)), lambda rule: [])


def _match_expressions(draw, policies):
    i = draw(st.integers(0, len(policies) - 1))
    policy = policies[i]

    def peer(p: Peer) -> Peer:
        return attrs.evolve(
            p,
            pod_selector=None if p.pod_selector is None else _in_one_value(p.pod_selector),
            namespace_selector=None if p.namespace_selector is None else _in_one_value(p.namespace_selector),
        )

    rules = {d: tuple(Rule(tuple(peer(p) for p in r.peers), r.ports) for r in policy.rules(d)) for d in Direction}
    new = attrs.evolve(
        policy, pod_selector=_in_one_value(policy.pod_selector), ingress=rules[Direction.INGRESS], egress=rules[Direction.EGRESS]
    )
    return _replace(policies, i, new)


def _policy_per_pod(draw, policies):
    """S  ==  (S and key In [v]) + (S and key NotIn [v])."""
    i = draw(st.integers(0, len(policies) - 1))
    policy = policies[i]
    key = draw(st.sampled_from(s.POD_KEYS))
    value = draw(st.sampled_from(s.VALUES))
    sel = policy.pod_selector

    def part(suffix: str, operator: Operator) -> NetworkPolicy:
        selector = LabelSelector(sel.match_labels, sel.match_expressions + (Requirement(key, operator, (value,)),))
        return attrs.evolve(policy, name=policy.name + suffix, pod_selector=selector)

    return _replace(policies, i, part("-a", Operator.IN), part("-b", Operator.NOT_IN))


def _widen_port(draw, policies):
    sites = [(x, k) for x, k in _sites(policies, "ports") if isinstance(_port(policies, x, k).port, int) and (_port(policies, x, k).end_port or _port(policies, x, k).port) < 65535]
    site, k = draw(st.sampled_from(sites))

    def widen(rule: Rule) -> list[Rule]:
        entry = rule.ports[k]
        return [_replace_in_rule(rule, "ports", k, (attrs.evolve(entry, end_port=(entry.end_port or entry.port) + 1),))]

    return _edit_rule(policies, site, widen)


def _drop_except(draw, policies):
    sites = [(x, k) for x, k in _sites(policies, "peers") if _peer(policies, x, k).ip_block is not None and _peer(policies, x, k).ip_block.except_]
    site, k = draw(st.sampled_from(sites))
    block = _peer(policies, site, k).ip_block
    dropped = draw(st.integers(0, len(block.except_) - 1))
    peer = Peer(ip_block=IPBlock(block.cidr, block.except_[:dropped] + block.except_[dropped + 1 :]))
    return _edit_rule(policies, site, lambda rule: [_replace_in_rule(rule, "peers", k, (peer,))])


def _label_value(draw, policies):
    sites = [(x, k) for x, k in _sites(policies, "peers") if _peer(policies, x, k).pod_selector is not None and _peer(policies, x, k).pod_selector.match_labels]
    site, k = draw(st.sampled_from(sites))
    peer = _peer(policies, site, k)
    labels = dict(peer.pod_selector.match_labels)
    key = draw(st.sampled_from(sorted(labels)))
    labels[key] = draw(st.sampled_from([v for v in s.LABEL_VALUES if v != labels[key]]))
    new = attrs.evolve(peer, pod_selector=attrs.evolve(peer.pod_selector, match_labels=labels))
    return _edit_rule(policies, site, lambda rule: [_replace_in_rule(rule, "peers", k, (new,))])


def _and_to_or(draw, policies):
    sites = [(x, k) for x, k in _sites(policies, "peers") if _peer(policies, x, k).pod_selector is not None and _peer(policies, x, k).namespace_selector is not None]
    site, k = draw(st.sampled_from(sites))
    peer = _peer(policies, site, k)
    two = (Peer(namespace_selector=peer.namespace_selector), Peer(pod_selector=peer.pod_selector))
    return _edit_rule(policies, site, lambda rule: [_replace_in_rule(rule, "peers", k, two)])


def _drop_policy_type(draw, policies):
    i = draw(st.sampled_from([i for i, p in enumerate(policies) if len(p.policy_types) == 2]))
    kept = draw(st.sampled_from(sorted(policies[i].policy_types, key=str)))
    return _replace(policies, i, attrs.evolve(policies[i], policy_types=frozenset({kept})))


def _drop_rule(draw, policies):
    return _edit_rule(policies, draw(st.sampled_from(_rule_sites(policies))), lambda rule: [])


def _drop_peer(draw, policies):
    site, k = draw(st.sampled_from(_sites(policies, "peers")))
    return _edit_rule(policies, site, lambda rule: [_replace_in_rule(rule, "peers", k, ())])


def _drop_port(draw, policies):
    site, k = draw(st.sampled_from(_sites(policies, "ports")))
    return _edit_rule(policies, site, lambda rule: [_replace_in_rule(rule, "ports", k, ())])


def _drop_policy(draw, policies):
    i = draw(st.integers(0, len(policies) - 1))
    return policies[:i] + policies[i + 1 :]


# What each transformation needs in some rule, injected before it runs: (peers, ports).
_ANY_RULE = (st.lists(s.peers(), max_size=2), st.lists(s.policy_ports(), max_size=2))


def _with(extra_peer=None, extra_port=None, peers_min=0, ports_min=0):
    """Peers and ports of a rule: at least the minimum, and the extra peer or port first
    (with at most one more peer, so that a change to the extra one is not masked)."""
    peers = st.lists(s.peers(), min_size=peers_min, max_size=max(peers_min, 1 if extra_peer is not None else 2))
    ports = st.lists(s.policy_ports(), min_size=ports_min, max_size=max(ports_min, 2))
    if extra_peer is not None:
        peers = st.tuples(extra_peer, peers).map(lambda t: [t[0], *t[1]])
    if extra_port is not None:
        ports = st.tuples(extra_port, ports).map(lambda t: [t[0], *t[1]])
    return peers, ports


@st.composite
def _range_ports(draw) -> PolicyPort:
    port = draw(st.sampled_from(s.PORT_NUMBERS[:-1]) | st.integers(1, 65534))
    end = draw(st.integers(port + 1, min(port + 100, 65535)))
    return PolicyPort(draw(st.sampled_from(s.PROTOCOLS)), port, end)


_NUMERIC_PORTS = st.builds(PolicyPort, st.sampled_from(s.PROTOCOLS), st.sampled_from(s.PORT_NUMBERS[:-1]))
_SPLITTABLE_BLOCKS = s.ip_blocks().filter(lambda b: b.cidr.prefixlen < b.cidr.max_prefixlen).map(lambda b: Peer(ip_block=b))
_EXCEPTING_BLOCKS = s.ip_blocks().filter(lambda b: bool(b.except_)).map(lambda b: Peer(ip_block=b))
_LABELLED_PEERS = st.builds(
    Peer,
    pod_selector=st.builds(LabelSelector, st.dictionaries(st.sampled_from(s.POD_KEYS), st.sampled_from(s.VALUES), min_size=1, max_size=2)),
    namespace_selector=st.none() | s.namespace_selectors(),
)
_ANDED_PEERS = st.builds(Peer, pod_selector=s.label_selectors(), namespace_selector=s.namespace_selectors())

#: kind -> (a rewrite, so the meaning must not change?, the transformation, what the first
#: policy must hold for it: (peers, ports) strategies of its first rule, "excepting" or
#: "labelled" (a rule with such a peer, aimed at the world), "both-types" (both policy
#: types), "ignored" (a rule of a direction it does not isolate), or None (nothing)).
TRANSFORMS = {
    # rewrites: the meaning must not change
    "rename": (True, _rename, None),
    "reverse-order": (True, _reverse, None),
    "duplicate-rule": (True, _duplicate_rule, _ANY_RULE),
    "rule-per-peer": (True, _rule_per_peer, _with(peers_min=2)),
    "rule-per-port": (True, _rule_per_port, _with(ports_min=2)),
    "split-port-range": (True, _split_range, _with(extra_port=_range_ports())),
    "split-ipblock": (True, _split_ipblock, _with(extra_peer=_SPLITTABLE_BLOCKS)),
    "drop-ignored-rule": (True, _drop_ignored_rule, "ignored"),
    "match-expressions": (True, _match_expressions, None),
    "policy-per-pod": (True, _policy_per_pod, None),
    # mutations: the meaning may change
    "widen-port": (False, _widen_port, _with(extra_port=_NUMERIC_PORTS)),
    "drop-except": (False, _drop_except, "excepting"),
    "label-value": (False, _label_value, "labelled"),
    "and-to-or": (False, _and_to_or, _with(extra_peer=_ANDED_PEERS)),
    "drop-policy-type": (False, _drop_policy_type, "both-types"),
    "drop-rule": (False, _drop_rule, _ANY_RULE),
    "drop-peer": (False, _drop_peer, _with(peers_min=1)),
    "drop-port": (False, _drop_port, _with(ports_min=1)),
    "drop-policy": (False, _drop_policy, None),
}


@st.composite
def _excepting_peer(draw, world: s.World) -> Peer:
    """An ipBlock with an except around a workload's IP when one lies in a nested pair of
    the strategies' networks (so dropping the except can matter), else any with excepts."""
    ips = [ip for w in world.cluster.workloads for ip in w.ips]
    choices = [
        (outer, inner)
        for ip in ips
        for outer in s.NETWORKS[ip.version]
        for inner in s.NETWORKS[ip.version]
        if ip in inner and inner != outer and inner.subnet_of(outer)
    ]
    if not choices or draw(st.integers(0, 3)) == 3:  # (Hypothesis favours small draws)
        return draw(_EXCEPTING_BLOCKS)
    outer, inner = draw(st.sampled_from(choices))
    return Peer(ip_block=IPBlock(outer, (inner,)))


@st.composite
def _labelled_peer(draw, world: s.World) -> Peer:
    """A peer whose matchLabels some workload meets (so changing a value can matter)."""
    pairs = sorted({(k, v) for w in world.cluster.workloads for k, v in w.labels.items() if k in s.POD_KEYS and v in s.VALUES})
    if not pairs or draw(st.integers(0, 3)) == 3:
        return draw(_LABELLED_PEERS)
    key, value = draw(st.sampled_from(pairs))
    return Peer(pod_selector=LabelSelector({key: value}), namespace_selector=draw(st.none() | s.namespace_selectors()))


@st.composite
def _prepared(draw, world: s.World, policies: list[NetworkPolicy], inject) -> list[NetworkPolicy]:
    """``policies`` after a policy holding what the transformation needs: it comes first,
    most often selects some workload, and has the needed rule first, so that the
    transformation (which draws sites in order) often changes just that."""
    if inject is None:
        return policies
    namespaces = sorted({w.namespace for w in world.cluster.workloads})
    target = draw(s.network_policies("target", namespaces))
    if draw(st.integers(0, 3)) != 3:
        target = draw(_aimed(world, target, always=True))
    if inject == "both-types":
        return [attrs.evolve(target, policy_types=frozenset(Direction)), *policies]
    if inject == "ignored":
        kept = draw(st.sampled_from(sorted(Direction, key=str)))
        other = Direction.EGRESS if kept is Direction.INGRESS else Direction.INGRESS
        rule = Rule(*draw(st.tuples(*_ANY_RULE)))
        target = attrs.evolve(target, policy_types=frozenset({kept}))
        return [_with_rules(target, other, (rule,) + target.rules(other)), *policies]
    if inject == "excepting":
        peers, ports = _with(extra_peer=_excepting_peer(world))
    elif inject == "labelled":
        peers, ports = _with(extra_peer=_labelled_peer(world))
    else:
        peers, ports = inject
    rule = Rule(draw(peers), draw(ports))
    direction = draw(st.sampled_from(sorted(target.policy_types, key=str)))
    kept = target.rules(direction) if draw(st.booleans()) else ()
    return [_with_rules(target, direction, (rule, *kept)), *policies]


@st.composite
def _aimed(draw, world: s.World, policy: NetworkPolicy, always: bool = False) -> NetworkPolicy:
    """Now and then ``policy`` with a pod selector that some workload of its namespace
    meets, so that changes to it show (a policy selecting no pod changes nothing)."""
    here = [w for w in world.cluster.workloads if w.namespace == policy.namespace]
    if not here or (not always and draw(st.booleans())):
        return policy
    target = draw(st.sampled_from(here))
    return attrs.evolve(policy, pod_selector=draw(s.selectors_matching(target.labels)))


@st.composite
def cases(draw, kind: str):
    """A world of single pods, two policy sets over it and semantics. The first set has
    one to three policies in the workloads' namespaces; the second is made by ``kind``."""
    world = draw(
        s.worlds(
            max_policies=0,
            single_pods=True,
            declare_all=True,
            min_workloads=2,
            max_workloads=4,
            ip_families=((4,), (4,), (4,), (4, 6), (6,)),
        )
    )
    namespaces = sorted({w.namespace for w in world.cluster.workloads})
    count = draw(st.integers(1, 3))
    left = [draw(_aimed(world, draw(s.network_policies(f"p{i}", namespaces)))) for i in range(count)]
    if kind == "independent":
        right = [draw(s.network_policies(f"q{i}", namespaces)) for i in range(draw(st.integers(0, 3)))]
    else:
        _, transform, inject = TRANSFORMS[kind]
        left = draw(_prepared(world, left, inject))
        right = transform(draw, left)
    return world, left, right, draw(st.sampled_from(SEMANTICS))


# --- the brute force -------------------------------------------------------------------------------


def _networks(*policy_sets):
    return [
        n
        for policies in policy_sets
        for p in policies
        for r in p.ingress + p.egress
        for peer in r.peers
        if peer.ip_block is not None
        for n in (peer.ip_block.cidr, *peer.ip_block.except_)
    ]


def endpoint_pairs(world: s.World, left, right):
    """Every (source, destination) of the universe up to equivalence (see the module doc)."""
    cluster = world.cluster
    pods = [s.workload_pod(world, w, ip, w.key) for w in cluster.workloads for ip in w.ips]
    # Each pod's IP is a class of its own: no external host has it, so it must not stand
    # for the addresses around it that external hosts may have.
    networks = _networks(left, right) + [ipaddress.ip_network(ip) for w in cluster.workloads for ip in w.ips]
    classes: dict[tuple, Endpoint] = {}
    anywhere = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
    for ip in s.boundary_addresses(networks + anywhere):
        classes.setdefault((ip.version,) + tuple(ip in n for n in networks), ExternalEndpoint(ip))
    hosts = list(classes.values())
    for src, dst in itertools.chain(
        itertools.permutations(pods, 2),
        itertools.product(pods, hosts),
        itertools.product(hosts, pods),
    ):
        if src.ip.version == dst.ip.version:
            yield src, dst


def brute_force(world: s.World, left, right, semantics: Semantics) -> tuple[list[Packet], list[Packet], int]:
    """The packets only ``left`` allows and those only ``right`` allows; and how many
    packets of the universe were tried."""
    context = world.cluster.with_policies(())
    left_cluster, right_cluster = context.with_policies(tuple(left)), context.with_policies(tuple(right))
    ports = s.boundary_ports(world.cluster.with_policies(tuple(left) + tuple(right)))
    only_left, only_right, tried = [], [], 0
    for src, dst in endpoint_pairs(world, left, right):
        if universe_problem(left_cluster, Packet(src, dst, s.PROTOCOLS[0], 1), UNIVERSE) is not None:
            continue
        for protocol, port in itertools.product(s.PROTOCOLS, ports):
            packet = Packet(src, dst, protocol, port)
            tried += 1
            a = decide(left_cluster, packet, semantics).allowed
            b = decide(right_cluster, packet, semantics).allowed
            if a and not b:
                only_left.append(packet)
            elif b and not a:
                only_right.append(packet)
    return only_left, only_right, tried


# --- the property --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [*TRANSFORMS, "independent"])
@SETTINGS
@given(data=st.data())
def test_equivalence_equals_brute_force(kind: str, data: st.DataObject) -> None:
    world, left, right, semantics = data.draw(cases(kind), label="world, left, right, semantics")
    rewrite = kind in TRANSFORMS and TRANSFORMS[kind][0]
    context = world.cluster.with_policies(())
    left_cluster, right_cluster = context.with_policies(tuple(left)), context.with_policies(tuple(right))
    comparison = equivalence(
        left_cluster, right_cluster, universe=UNIVERSE, semantics=semantics, max_diffs=MAX_DIFFS
    )
    only_left, only_right, tried = brute_force(world, left, right, semantics)
    expected_same = not only_left and not only_right
    event("same" if expected_same else "different")
    detail = (
        f"\nkind: {kind}\nsemantics: {semantics!r}\nleft: {left!r}\nright: {right!r}\n"
        f"workloads: {world.cluster.workloads!r}\nnamespaces: {world.cluster.namespaces!r}\n"
        f"brute force: {len(only_left)} only-left, {len(only_right)} only-right of {tried} packets; "
        f"e.g. {(only_left or only_right or [None])[0]!r}\nengine:\n{comparison}"
    )
    assert comparison.reason == "", detail
    assert comparison.same is expected_same, detail
    if rewrite:
        assert expected_same, f"test bug: the rewrite changed the meaning" + detail
    for name, diffs, brute, complete in (
        ("left", comparison.only_left, only_left, comparison.left_complete),
        ("right", comparison.only_right, only_right, comparison.right_complete),
    ):
        assert bool(diffs) == bool(brute), f"only-{name}: engine has {len(diffs)} regions, brute force {len(brute)} packets" + detail
        assert complete or len(diffs) == MAX_DIFFS, detail
        for diff in diffs:
            check_difference(diff, name, left_cluster, right_cluster, UNIVERSE, semantics)
        if complete:
            for packet in brute:
                assert any(not region_problems(d.region, packet) for d in diffs), (
                    f"only-{name} packet {packet!r} lies in no region:\n" + "\n".join(str(d.region) for d in diffs) + detail
                )


# --- the open universe: regions are sound ----------------------------------------------------------

#: Kinds of pairs the open-universe property runs on, and its examples per kind.
OPEN_KINDS = ("widen-port", "drop-policy-type", "and-to-or", "label-value", "independent")
OPEN_SETTINGS = settings(SETTINGS, max_examples=max(1, EXAMPLES // 2))


@pytest.mark.parametrize("kind", OPEN_KINDS)
@OPEN_SETTINGS
@given(data=st.data())
def test_regions_are_sound_in_the_open_universe(kind: str, data: st.DataObject) -> None:
    """In ``Universe()`` (any pods, any namespaces) the brute force is not exact, but it is
    sound: every region's packet and corner packets must differ as the region says, and a
    proof of equivalence must survive the packets between the loaded workloads."""
    world, left, right, semantics = data.draw(cases(kind), label="world, left, right, semantics")
    universe = Universe()
    context = world.cluster.with_policies(())
    left_cluster, right_cluster = context.with_policies(tuple(left)), context.with_policies(tuple(right))
    comparison = equivalence(left_cluster, right_cluster, universe=universe, semantics=semantics, max_diffs=5)
    detail = f"\nkind: {kind}\nsemantics: {semantics!r}\nleft: {left!r}\nright: {right!r}\nengine:\n{comparison}"
    assert comparison.reason == "" and comparison.same is not None, detail
    event("same" if comparison.same else "different")
    for diff in comparison.only_left:
        check_difference(diff, "left", left_cluster, right_cluster, universe, semantics)
    for diff in comparison.only_right:
        check_difference(diff, "right", left_cluster, right_cluster, universe, semantics)
    if comparison.same:
        only_left, only_right, _ = brute_force(world, left, right, semantics)
        assert not only_left and not only_right, f"proved equivalent, yet {(only_left + only_right)[0]!r} differs" + detail


# --- the rewrites themselves, as plain examples ------------------------------------------------------------


def test_split_block_keeps_every_address() -> None:
    block = IPBlock(ipaddress.ip_network("10.0.0.0/8"), (ipaddress.ip_network("10.1.0.0/16"), ipaddress.ip_network("10.128.0.0/9")))
    halves = _split_block(block)
    assert halves == [IPBlock(ipaddress.ip_network("10.0.0.0/9"), (ipaddress.ip_network("10.1.0.0/16"),))]
    for ip in ("10.0.0.1", "10.1.0.1", "10.127.255.255", "10.128.0.0", "11.0.0.0"):
        address = ipaddress.ip_address(ip)
        assert block.contains(address) == any(h.contains(address) for h in halves)


@pytest.mark.parametrize("low,high", [(80, 81), (80, 82), (1, 65535)])
def test_split_port_keeps_every_port(low: int, high: int) -> None:
    parts = _split_port(PolicyPort(port=low, end_port=high))
    covered = [p for p in range(max(1, low - 2), min(65535, high + 2) + 1) if any(e.port <= p <= (e.end_port or e.port) for e in parts)]
    assert covered == list(range(low, high + 1))
    assert all(e.end_port is None or e.end_port > e.port for e in parts)
