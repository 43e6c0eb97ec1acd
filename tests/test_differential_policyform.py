"""Differential property: the normal-form shortcut of equivalence changes no answer.

``compare`` skips the solver for a namespace whose policies have the same
``policyform.decision_form`` on both sides (and builds no encoding when every namespace
is skipped), and with no context in the open universe asks each remaining namespace's
query of an encoding of its policies alone; ``shortcuts=False`` sends every namespace
whose policies differ as values to the whole cluster's encoding instead. On random pairs (the rewrites and mutations of
test_differential_equivalence, plus rewrites aimed at the form: policies split per
direction, port entries merged into ranges, requirements restated; and mutations that
come close to them), checked:

- per namespace: the solver finds no differing decision in a namespace whose forms are
  equal (the shortcut's claim itself, asked of ``LocalChecker`` directly), and a
  namespace's query has the same answer alone as in the whole cluster;
- per comparison: the verdict, completeness, reason and every region (its text and its
  packet) are those of the plain path, in three settings: the declared universe with the
  workloads as context, the open universe with them, and the open universe with no
  context at all (policies only, every namespace undeclared: issue 13.1's shape).

Runs are reproducible; NPVERIFY_DIFF_EXAMPLES sets the examples per kind (default 10).
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from npverify.compare import Comparison, compare
from npverify.model import Cluster, Direction, LabelSelector, NetworkPolicy, Operator, Peer, PolicyPort, Requirement, Rule, Universe
from npverify.policyform import changed_namespaces, decision_form
from npverify.smt import SolverSession, mentions_of

from tests import strategies as s
from tests.test_differential_equivalence import (
    EXAMPLES,
    SEMANTICS,
    TRANSFORMS,
    _NUMERIC_PORTS,
    UNIVERSE,
    _aimed,
    _edit_rule,
    _prepared,
    _replace,
    _rule_sites,
    _with,
)

SETTINGS = s.differential_settings(EXAMPLES)


# --- rewrites aimed at the normal form, and mutations close to them ------------------------------


def _split_by_direction(draw, policies):
    """A policy of both types becomes an Ingress and an Egress policy."""
    i = draw(st.sampled_from([i for i, p in enumerate(policies) if len(p.policy_types) == 2]))
    p = policies[i]
    ingress = attrs.evolve(p, name=p.name + "-in", policy_types=frozenset({Direction.INGRESS}), egress=())
    egress = attrs.evolve(p, name=p.name + "-out", policy_types=frozenset({Direction.EGRESS}), ingress=())
    return _replace(policies, i, egress, ingress)


def _merged_ranges(entries: tuple[PolicyPort, ...]) -> tuple[PolicyPort, ...]:
    """Numeric entries of one protocol that overlap or touch, merged into one range."""
    numeric = sorted((e for e in entries if isinstance(e.port, int)), key=lambda e: (e.protocol.value, e.port))
    merged: list[PolicyPort] = []
    for e in numeric:
        end = e.end_port or e.port
        last = merged[-1] if merged else None
        if last is not None and last.protocol is e.protocol and e.port <= (last.end_port or last.port) + 1:
            high = max(end, last.end_port or last.port)
            merged[-1] = attrs.evolve(last, end_port=high if high > last.port else None)
        else:
            merged.append(attrs.evolve(e, end_port=end if end > e.port else None))
    return tuple(e for e in entries if not isinstance(e.port, int)) + tuple(merged)


def _merge_ranges(draw, policies):
    sites = [x for x in _rule_sites(policies) if policies[x[0]].rules(x[1])[x[2]].ports]
    return _edit_rule(policies, draw(st.sampled_from(sites)), lambda rule: [Rule(rule.peers, _merged_ranges(rule.ports))])


def _restated(selector: LabelSelector) -> LabelSelector:
    """Requirements reversed, In/NotIn values reversed and one requirement repeated."""
    reqs = tuple(
        Requirement(r.key, r.operator, tuple(reversed(r.values))) for r in reversed(selector.requirements())
    )
    return LabelSelector({}, reqs + reqs[:1])


def _restate_selectors(draw, policies):
    i = draw(st.integers(0, len(policies) - 1))
    p = policies[i]
    rules = {
        d: tuple(
            Rule(tuple(attrs.evolve(peer, pod_selector=None if peer.pod_selector is None else _restated(peer.pod_selector)) for peer in r.peers), r.ports)
            for r in p.rules(d)
        )
        for d in Direction
    }
    return _replace(policies, i, attrs.evolve(p, pod_selector=_restated(p.pod_selector), ingress=rules[Direction.INGRESS], egress=rules[Direction.EGRESS]))


def _merge_rules(draw, policies):
    """Two rules of a direction become one with both peers and both ports (may widen)."""
    sites = [(i, d) for i, p in enumerate(policies) for d in Direction if len(p.rules(d)) >= 2]
    i, d = draw(st.sampled_from(sites))
    first, second, *rest = policies[i].rules(d)
    ports = () if not first.ports or not second.ports else first.ports + second.ports
    merged = Rule(first.peers + second.peers if first.peers and second.peers else (), ports)
    field = "ingress" if d is Direction.INGRESS else "egress"
    return _replace(policies, i, attrs.evolve(policies[i], **{field: (merged, *rest)}))


def _all_ports_of_protocol(draw, policies):
    """A numeric entry becomes every port of its protocol (may widen)."""
    sites = [x for x in _rule_sites(policies) if any(isinstance(e.port, int) for e in policies[x[0]].rules(x[1])[x[2]].ports)]

    def widen(rule: Rule) -> list[Rule]:
        k = next(k for k, e in enumerate(rule.ports) if isinstance(e.port, int))
        return [Rule(rule.peers, rule.ports[:k] + (PolicyPort(rule.ports[k].protocol),) + rule.ports[k + 1 :])]

    return _edit_rule(policies, draw(st.sampled_from(sites)), widen)


EXTRA = {
    "split-by-direction": (True, _split_by_direction, "both-types"),
    "merge-ranges": (True, _merge_ranges, _with(ports_min=2)),
    "restate-selectors": (True, _restate_selectors, None),
    "merge-rules": (False, _merge_rules, "two-rules"),
    "all-ports-of-protocol": (False, _all_ports_of_protocol, _with(extra_port=_NUMERIC_PORTS)),
}
KINDS = {**{k: (rewrite, fn, inject) for k, (rewrite, fn, inject) in TRANSFORMS.items()}, **EXTRA}


@st.composite
def pairs(draw, kind: str):
    """A world of single pods, a policy set over it, the set after ``kind`` and semantics."""
    world = draw(s.worlds(max_policies=0, single_pods=True, declare_all=True, min_workloads=2, max_workloads=4))
    namespaces = sorted({w.namespace for w in world.cluster.workloads})
    left = [draw(_aimed(world, draw(s.network_policies(f"p{i}", namespaces)))) for i in range(draw(st.integers(1, 3)))]
    if kind == "independent":
        return world, left, [draw(s.network_policies(f"q{i}", namespaces)) for i in range(draw(st.integers(0, 3)))], draw(st.sampled_from(SEMANTICS))
    _, transform, inject = KINDS[kind]
    if inject == "two-rules":
        target = draw(s.network_policies("target", namespaces))
        direction = draw(st.sampled_from(sorted(target.policy_types, key=str)))
        field = "ingress" if direction is Direction.INGRESS else "egress"
        rules = tuple(draw(st.lists(s.rules(), min_size=2, max_size=3)))
        left = [attrs.evolve(target, **{field: rules}), *left]
    else:
        left = draw(_prepared(world, left, inject))
    return world, left, transform(draw, left), draw(st.sampled_from(SEMANTICS))


# --- the properties --------------------------------------------------------------------------------


def _same_answer(shortcut: Comparison, plain: Comparison) -> list[str]:
    """How the two comparisons differ in anything but their run time."""
    problems = []
    for field in ("same", "left_complete", "right_complete", "reason"):
        if getattr(shortcut, field) != getattr(plain, field):
            problems.append(f"{field}: {getattr(shortcut, field)!r} != {getattr(plain, field)!r}")
    for side in ("only_left", "only_right"):
        a, b = getattr(shortcut, side), getattr(plain, side)
        described = [[(str(d.region), d.region.packet) for d in diffs] for diffs in (a or (), b or ())]
        if described[0] != described[1] or (a is None) != (b is None):
            problems.append(f"{side}: {described[0]!r} != {described[1]!r}")
    return problems


CONTEXTS = {
    "declared": (UNIVERSE, True),
    "open": (Universe(), True),
    "policies-only": (Universe(), False),
}


@pytest.mark.parametrize("kind", [*KINDS, "independent"])
@SETTINGS
@given(data=st.data())
def test_equal_forms_decide_alike(kind: str, data: st.DataObject) -> None:
    """The solver finds no differing decision in a namespace whose forms are equal, in
    the open universe with no context (where every namespace's labels are free)."""
    world, left, right, semantics = data.draw(pairs(kind), label="world, left, right, semantics")
    left, right = tuple(left), tuple(right)
    if KINDS.get(kind, (False,))[0]:
        assert decision_form(left) == decision_form(right) or kind in ("split-ipblock", "policy-per-pod"), (
            f"a rewrite the form should see through changed it:\nleft: {left!r}\nright: {right!r}"
        )
    session = SolverSession(Cluster(policies=left), mentions_of(left + right), Universe(), semantics)
    skipped = set(changed_namespaces(left, right, by_form=False)) - set(changed_namespaces(left, right))
    event(f"namespaces skipped by form: {min(len(skipped), 2)}")
    checker = session.local_checker()
    for ns, before, after in skipped:
        outcome = checker.differs(ns, (Direction.EGRESS, Direction.INGRESS), before, after, steer=False)
        assert outcome.status.value == "unsat", (
            f"equal forms, yet {ns}'s decisions differ ({outcome.status.value}, {outcome.packet!r})"
            f"\nleft: {before!r}\nright: {after!r}\nsemantics: {semantics!r}"
        )


@pytest.mark.parametrize("kind", [*KINDS, "independent"])
@SETTINGS
@given(data=st.data())
def test_a_namespace_alone_answers_as_the_whole_cluster(kind: str, data: st.DataObject) -> None:
    """With no context in the open universe, each namespace's query asked of an encoding
    of its policies alone has the answer of the whole cluster's encoding (every changed
    namespace, forms equal or not)."""
    world, left, right, semantics = data.draw(pairs(kind), label="world, left, right, semantics")
    left, right = tuple(left), tuple(right)
    # Policies of other namespaces too, so that the whole cluster has namespaces the
    # changed one's policies do not mention.
    others = tuple(data.draw(st.lists(s.network_policies("other", s.ALL_NAMESPACES), max_size=2), label="others"))
    left, right = left + others, right + others
    session = SolverSession(Cluster(policies=left), mentions_of(left + right), Universe(), semantics)
    changed = changed_namespaces(left, right, by_form=False)
    assert session._alone_is_exact()
    alone = session.namespaces_differing(changed)
    whole = session.namespaces_differing(changed, shortcuts=False)
    event(f"differing: {min(len(whole), 2)}")
    assert alone == whole, f"alone: {alone}, whole: {whole}\nleft: {left!r}\nright: {right!r}\nsemantics: {semantics!r}"


@pytest.mark.parametrize("kind", [*KINDS, "independent"])
@SETTINGS
@given(data=st.data())
def test_shortcut_gives_the_plain_answer(kind: str, data: st.DataObject) -> None:
    world, left, right, semantics = data.draw(pairs(kind), label="world, left, right, semantics")
    setting = data.draw(st.sampled_from(sorted(CONTEXTS)), label="setting")
    event(setting)
    universe, with_context = CONTEXTS[setting]
    context = world.cluster.with_policies(()) if with_context else Cluster()
    options = dict(universe=universe, semantics=semantics, max_diffs=5)
    shortcut = compare(tuple(left), tuple(right), context, **options)
    plain = compare(tuple(left), tuple(right), context, shortcuts=False, **options)
    event("same" if plain.same else "different")
    problems = _same_answer(shortcut, plain)
    assert not problems, "\n".join(problems) + f"\nkind: {kind}\nleft: {left!r}\nright: {right!r}\nshortcut:\n{shortcut}\nplain:\n{plain}"


# --- the form itself, as plain examples -------------------------------------------------------------


def _policy(*, selector=LabelSelector(), types=(Direction.INGRESS,), ingress=(), egress=(), name="p") -> NetworkPolicy:
    return NetworkPolicy("ns1", name, selector, frozenset(types), ingress, egress)


def test_form_sees_through_splits_merges_and_restatements() -> None:
    web = LabelSelector({"app": "web"})
    web_expr = LabelSelector({}, (Requirement("app", Operator.IN, ("web",)),))
    from_api = Peer(pod_selector=LabelSelector({"app": "api"}))
    from_db = Peer(pod_selector=LabelSelector({"app": "db"}))
    original = (
        _policy(
            selector=web,
            types=(Direction.INGRESS, Direction.EGRESS),
            ingress=(Rule((from_api, from_db), (PolicyPort(port=80, end_port=81), PolicyPort(port=82))),),
            egress=(Rule(),),
        ),
    )
    rewritten = (
        _policy(name="out", selector=web_expr, types=(Direction.EGRESS,), egress=(Rule(),)),
        _policy(
            name="in",
            selector=web_expr,
            ingress=(Rule((from_db,), (PolicyPort(port=80), PolicyPort(port=81, end_port=82))), Rule((from_api,), (PolicyPort(port=80, end_port=82),))),
        ),
    )
    assert decision_form(original) == decision_form(rewritten)
    assert changed_namespaces(original, rewritten) == ()
    assert [ns for ns, _, _ in changed_namespaces(original, rewritten, by_form=False)] == ["ns1"]


@pytest.mark.parametrize(
    "changed",
    [
        PolicyPort(port=80, end_port=83),  # one port more
        PolicyPort(),  # every TCP port
        PolicyPort(s.PROTOCOLS[1], 80, 82),  # another protocol
    ],
)
def test_form_tells_wider_ports_apart(changed: PolicyPort) -> None:
    peer = Peer(pod_selector=LabelSelector({"app": "api"}))
    before = (_policy(ingress=(Rule((peer,), (PolicyPort(port=80, end_port=82),)),)),)
    after = (_policy(ingress=(Rule((peer,), (changed,)),)),)
    assert decision_form(before) != decision_form(after)


def test_form_tells_an_and_from_an_or_apart() -> None:
    both = Peer(pod_selector=LabelSelector({"app": "api"}), namespace_selector=LabelSelector({"env": "a"}))
    apart = (Peer(pod_selector=LabelSelector({"app": "api"})), Peer(namespace_selector=LabelSelector({"env": "a"})))
    assert decision_form((_policy(ingress=(Rule((both,)),)),)) != decision_form((_policy(ingress=(Rule(apart),)),))
