"""Comparing two policy sets: equivalence, containment and the regions where they differ.

Both sides are judged over one universe and one context (namespaces and workloads).
Policies are compared by meaning, never by name: renaming or reordering changes nothing.
Every region's packet is replayed through the reference evaluator on both sides.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import attrs

from npverify.coverage import Coverage, unknown_reason
from npverify.errors import InputError, InternalError
from npverify.model import Cluster, ClusterPolicy, Diagnostic, NetworkPolicy, Packet, Semantics, Universe
from npverify.policyform import changed_namespaces
from npverify.regions import Region
from npverify.semantics import Decision, decide, possible_outcomes, universe_problem
from npverify.smt import Limits, SolverSession, mentions_of
from npverify.tiers import Resolution

#: How many regions to report per direction unless told otherwise.
DEFAULT_MAX_DIFFS = 10


@attrs.frozen
class Difference:
    """A region of packets that one side allows and the other denies."""

    region: Region
    #: The evaluator's account of the region's packet under each side's policies.
    left: Decision
    right: Decision

    @property
    def allowed_by(self) -> str:
        return "left" if self.left.allowed else "right"

    def _repr_html_(self) -> str:
        from npverify.report.html import render_difference_html

        return render_difference_html(self)


@attrs.frozen
class Comparison:
    """The outcome of comparing two policy sets (or of a containment check).

    ``only_left``: regions the left allows and the right denies; ``only_right`` the
    reverse. ``*_complete`` says whether those regions cover the whole difference in that
    direction (False when ``max_diffs`` stopped the enumeration or the solver gave up).
    A direction that was not asked (containment) is None.
    """

    left_name: str
    right_name: str
    only_left: tuple[Difference, ...] | None
    only_right: tuple[Difference, ...] | None
    left_complete: bool
    right_complete: bool
    reason: str = ""
    seconds: float = 0.0
    #: What the sides and the context held that npverify did not model: while anything is
    #: unmodelled, the comparison is undecided (a Deny could hide a difference, an allow
    #: could make one), and the differences listed are those of the NetworkPolicies alone.
    coverage: Coverage = Coverage()

    @property
    def differences(self) -> tuple[Difference, ...]:
        return (self.only_left or ()) + (self.only_right or ())

    @property
    def same(self) -> bool | None:
        """True when no difference exists (in the directions asked), False when one does,
        None when the solver could not decide or an unmodelled object could change the answer."""
        if not self.coverage.complete:
            return None
        if self.differences:
            return False
        if self.left_complete and self.right_complete:
            return True
        return None

    def __str__(self) -> str:
        from npverify.report.text import render_comparison

        return render_comparison(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_comparison_html

        return render_comparison_html(self)


def merge_context(*clusters: Cluster) -> Cluster:
    """Namespaces and workloads of several clusters, without policies.

    The same object from two sources must agree; a namespace declared with other labels
    on one side is an error (the sides must be judged over one context).
    """
    namespaces: dict[str, object] = {}
    workloads: dict[str, object] = {}
    for cluster in clusters:
        for ns in cluster.namespaces:
            _merge(namespaces, ns.name, ns, "Namespace")
        for w in cluster.workloads:
            _merge(workloads, w.key, w, w.kind)
    return Cluster(namespaces=tuple(namespaces.values()), workloads=tuple(workloads.values()))


def _merge(into: dict, key: str, value, kind: str) -> None:
    existing = into.get(key)
    if existing is None:
        into[key] = value
    elif existing != value:
        raise InputError(
            Diagnostic(
                f"{kind} {key} is defined differently at {existing.location} and here; "
                "both sides must share one context",
                value.location,
            )
        )


def compare(
    left: tuple[NetworkPolicy | ClusterPolicy, ...],
    right: tuple[NetworkPolicy | ClusterPolicy, ...],
    context: Cluster = Cluster(),
    *,
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    max_diffs: int = DEFAULT_MAX_DIFFS,
    limits: Limits = Limits(),
    directions: tuple[str, ...] = ("left", "right"),
    names: tuple[str, str] = ("left", "right"),
    progress: Callable[[int, int, str], None] | None = None,
    coverage: Coverage = Coverage(),
    shortcuts: bool = True,
) -> Comparison:
    """Where do two policy sets differ? ``directions`` picks "left" (what only the left
    allows) and/or "right" (what only the right allows). ``progress(number, total,
    what)`` is called as each direction starts (number from 1). ``coverage`` is what the
    inputs held that npverify did not model (see Comparison.coverage). ``shortcuts=False``
    sends every namespace whose policies differ as values to the solver, even when their
    normal forms (``policyform.decision_form``) show they decide alike, and asks each of
    the whole cluster's encoding: the plain path, for differential tests."""
    started = time.perf_counter()
    context = attrs.evolve(context, policies=(), cluster_policies=())
    left_cluster, right_cluster = _with(context, left), _with(context, right)
    outcome: dict[str, tuple[tuple[Difference, ...] | None, bool]] = {"left": (None, True), "right": (None, True)}
    # Namespace by namespace first: where no pod's decisions differ, nothing differs, and
    # most rewrites are proved equivalent here, by normal forms or in small queries. The
    # encoding is built only when some namespace needs the solver. With the same
    # cluster-scoped policies on both sides, a namespace's NetworkPolicies still decide only
    # for its own pods (between the tiers, which the local queries include); a change to
    # the cluster-scoped policies is searched over the whole cluster.
    tiered = left_cluster.tiered or right_cluster.tiered
    changed = changed_namespaces(left_cluster.policies, right_cluster.policies, by_form=shortcuts)

    def new_session() -> SolverSession:
        return SolverSession(left_cluster, mentions_of(left + right), universe, semantics)

    within: tuple[str, ...] | None
    if tiered and set(left_cluster.cluster_policies) != set(right_cluster.cluster_policies):
        within, search = None, True
    else:
        within = new_session().namespaces_differing(changed, limits, shortcuts) if changed else ()
        search = bool(within)
    # Regions are searched in a session of their own: z3's models follow the order its
    # terms were made in, so a session that asked some namespaces' queries first could
    # pick other packets (and so regions) than one that asked others. The shortcuts then
    # change no region and no packet.
    session = new_session() if search else None
    reasons = []
    for number, direction in enumerate(directions, start=1):
        if progress is not None:
            progress(number, len(directions), f"what only {names[0] if direction == 'left' else names[1]} allows")
        if not search:
            outcome[direction] = ((), True)
            continue
        allowing, denying = (left, right) if direction == "left" else (right, left)
        assert session is not None
        found = session.difference_regions(allowing, denying, max_diffs, limits, within=within)
        diffs = []
        complete = found.complete
        resolution_of = {id(r): res for r, res in itertools.zip_longest(found.regions, found.resolutions)}
        for region in _distinct(found.regions):
            resolution = resolution_of.get(id(region))
            diff = _replayed(region, resolution, left_cluster, right_cluster, direction, universe, semantics)
            depends = _undetermined(diff.region.packet, left_cluster, right_cluster, semantics, universe.nodes)
            if depends:
                complete = False
                reasons.append(f"whether {diff.region.packet} differs depends on {depends}, which no manifest settles")
            else:
                diffs.append(diff)
        outcome[direction] = (tuple(diffs), complete)
        if found.reason:
            reasons.append(found.reason)
    return Comparison(
        names[0],
        names[1],
        outcome["left"][0],
        outcome["right"][0],
        outcome["left"][1],
        outcome["right"][1],
        "; ".join(reasons + ([unknown_reason(coverage.unmodelled)] if coverage.unmodelled else [])),
        time.perf_counter() - started,
        coverage,
    )


def _with(context: Cluster, policies: tuple[NetworkPolicy | ClusterPolicy, ...]) -> Cluster:
    """``context`` holding ``policies``, of either scope."""
    return attrs.evolve(
        context,
        policies=tuple(p for p in policies if isinstance(p, NetworkPolicy)),
        cluster_policies=tuple(p for p in policies if isinstance(p, ClusterPolicy)),
    )


def _distinct(regions: tuple[Region, ...]) -> tuple[Region, ...]:
    """One region per description, the first one's packet kept as the example: regions
    that differ only in which unnamed namespace they hold read the same, and listing (and
    counting) them twice says there are two differences where a reader sees one."""
    seen: set[str] = set()
    out = []
    for region in regions:
        text = str(region)
        if text not in seen:
            seen.add(text)
            out.append(region)
    return tuple(out)


def _replayed(
    region: Region,
    resolution: Resolution | None,
    left: Cluster,
    right: Cluster,
    direction: str,
    universe: Universe,
    semantics: Semantics,
) -> Difference:
    packet = region.packet
    resolution = resolution or Resolution()
    left_decision = decide(left, packet, semantics, resolution, nodes=universe.nodes)
    right_decision = decide(right, packet, semantics, resolution, nodes=universe.nodes)
    problem = universe_problem(left, packet, universe)
    expected = (True, False) if direction == "left" else (False, True)
    if problem or (left_decision.allowed, right_decision.allowed) != expected:
        raise InternalError(
            f"the SMT encoding and the reference evaluator disagree on a difference packet {packet!r}: "
            f"solver says only the {direction} allows it; evaluator says left "
            f"{'allows' if left_decision.allowed else 'denies'}, right {'allows' if right_decision.allowed else 'denies'}"
            + (f"; outside the universe: {problem}" if problem else "")
        )
    return Difference(region, left_decision, right_decision)


def _undetermined(packet: Packet, left: Cluster, right: Cluster, semantics: Semantics, nodes: str = "any") -> str:
    """What either side's verdict on ``packet`` depends on that no manifest settles."""
    found = []
    for side in (left, right):
        outcomes = possible_outcomes(side, packet, semantics, nodes=nodes)
        if not outcomes.determined:
            found += [d for d in outcomes.depends_on if d not in found]
    return "; ".join(found)


def equivalence(left: Cluster, right: Cluster, context: Cluster = Cluster(), **options) -> Comparison:
    """Do the policies of ``left`` and ``right`` allow exactly the same packets?

    The context is ``context`` plus the namespaces and workloads of both sides.
    """
    ctx = merge_context(context, left, right)
    return compare(
        left.policies + left.cluster_policies,
        right.policies + right.cluster_policies,
        ctx,
        coverage=Coverage.of(context, left, right),
        **options,
    )


def containment(baseline: Cluster, candidate: Cluster, context: Cluster = Cluster(), **options) -> Comparison:
    """Does ``baseline`` allow everything ``candidate`` allows? Differences are what only
    the candidate allows."""
    ctx = merge_context(context, baseline, candidate)
    return compare(
        baseline.policies + baseline.cluster_policies,
        candidate.policies + candidate.cluster_policies,
        ctx,
        directions=("right",),
        coverage=Coverage.of(context, baseline, candidate),
        **options,
    )
