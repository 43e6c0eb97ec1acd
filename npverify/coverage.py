"""What the manifests hold that npverify does not model, and which answers that makes UNKNOWN.

A verifier that skips a Cilium or Calico policy and then says PROVED is worse than none. So the
kinds that change which packets flow are listed here, each with how far its objects reach;
the loader keeps their objects (Cluster.unmodelled), and every question asks ``affecting``
whether one of them could change its answer. docs/semantics.md ("Policy kinds npverify does
not model") is the user's copy of this list; change both together.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from npverify.errors import InputError
from npverify.hints import did_you_mean
from npverify.model import Cluster, Diagnostic, Reach, SkippedDocument, UnmodelledObject
from npverify.words import counted


@attrs.frozen
class PolicyKind:
    """A kind, outside ``networking.k8s.io``, whose objects decide which packets flow."""

    api_group: str
    kind: str
    reach: Reach

    @property
    def qualified(self) -> str:
        return f"{self.kind}.{self.api_group}"


_CALICO_GROUPS = ("projectcalico.org", "crd.projectcalico.org")

#: Every kind npverify knows to change which packets flow but does not model yet.
#: NAMESPACE reach: the kind selects only pods of its own namespace (Cilium's endpointSelector,
#: Calico's and Antrea's namespaced policies), so it changes only packets with a pod of that
#: namespace at one end. Everything else may select any pod, or is referenced by such policies.
UNMODELLED_KINDS: tuple[PolicyKind, ...] = (
    PolicyKind("cilium.io", "CiliumNetworkPolicy", Reach.NAMESPACE),
    PolicyKind("cilium.io", "CiliumClusterwideNetworkPolicy", Reach.CLUSTER),
    PolicyKind("cilium.io", "CiliumCIDRGroup", Reach.CLUSTER),
    *(
        PolicyKind(group, kind, reach)
        for group in _CALICO_GROUPS
        for kind, reach in (
            ("NetworkPolicy", Reach.NAMESPACE),
            ("GlobalNetworkPolicy", Reach.CLUSTER),
            ("StagedNetworkPolicy", Reach.NAMESPACE),
            ("StagedGlobalNetworkPolicy", Reach.CLUSTER),
            ("StagedKubernetesNetworkPolicy", Reach.NAMESPACE),
            ("NetworkSet", Reach.NAMESPACE),
            ("GlobalNetworkSet", Reach.CLUSTER),
            ("Tier", Reach.CLUSTER),
        )
    ),
    PolicyKind("crd.antrea.io", "ClusterNetworkPolicy", Reach.CLUSTER),
    PolicyKind("crd.antrea.io", "NetworkPolicy", Reach.NAMESPACE),
    PolicyKind("crd.antrea.io", "Tier", Reach.CLUSTER),
    PolicyKind("crd.antrea.io", "ClusterGroup", Reach.CLUSTER),
    PolicyKind("crd.antrea.io", "Group", Reach.NAMESPACE),
)

_BY_GROUP_AND_KIND = {(k.api_group, k.kind): k for k in UNMODELLED_KINDS}

#: Policy kinds known to leave the pod network alone: skipped, with this note.
SECONDARY_NETWORK_NOTES = {
    ("k8s.cni.cncf.io", "MultiNetworkPolicy"): (
        "applies to secondary networks (Multus) only; npverify models the pod network, which it does not change"
    ),
}


#: Policy kinds of other groups that npverify models (npverify.load reads them): ignoring one
#: would drop policies every answer takes into account, so ``--ignore-kind`` refuses them.
#: ``ClusterNetworkPolicy`` alone names Antrea's kind, which is not modelled.
MODELLED_KINDS = frozenset(
    {
        "AdminNetworkPolicy",
        "BaselineAdminNetworkPolicy",
        "AdminNetworkPolicy.policy.networking.k8s.io",
        "BaselineAdminNetworkPolicy.policy.networking.k8s.io",
        "ClusterNetworkPolicy.policy.networking.k8s.io",
    }
)


def unmodelled_kind(api_group: str, kind: str) -> PolicyKind | None:
    """The catalogue entry of a kind npverify does not model, or None."""
    return _BY_GROUP_AND_KIND.get((api_group, kind))


def _ignorable_names() -> dict[str, str]:
    """Every spelling ``--ignore-kind`` accepts, with what it stands for."""
    names = {}
    for entry in UNMODELLED_KINDS:
        names[entry.kind] = entry.kind
        names[entry.qualified] = entry.qualified
    return names


def ignore_kind_problem(kind: str) -> str | None:
    """Why ``kind`` cannot be ignored (it names no kind of UNMODELLED_KINDS), or None.

    A typo must not silently ignore nothing, so the message has a did-you-mean.
    """
    names = _ignorable_names()
    if kind in names:
        return None
    if kind in MODELLED_KINDS:
        return f"{kind!r} is modelled: npverify reads its objects and every answer takes them into account, so it cannot be ignored"
    hint = did_you_mean(kind, list(names))
    known = ", ".join(sorted({k.kind for k in UNMODELLED_KINDS}))
    return f"{kind!r} is not a policy kind npverify knows but does not model{hint} (known: {known}; write Kind or Kind.group)"


def check_ignore_kinds(kinds: Iterable[str], option: str = "--ignore-kind") -> tuple[str, ...]:
    """``kinds``, given with ``option``, if each names a kind npverify can ignore; else InputError."""
    kinds = tuple(kinds)
    problems = [Diagnostic(f"{option}: {p}") for p in map(ignore_kind_problem, kinds) if p]
    if problems:
        raise InputError(problems)
    return kinds


@attrs.frozen
class Coverage:
    """What a question's input held that npverify did not model, used or check.

    Every result carries one, and every report states it: the objects in force (answers
    they could change are UNKNOWN), those ignored by the user, and the skipped documents.
    """

    unmodelled: tuple[UnmodelledObject, ...] = ()
    ignored: tuple[UnmodelledObject, ...] = ()
    skipped: tuple[SkippedDocument, ...] = ()

    @classmethod
    def of(cls, *clusters: Cluster) -> Coverage:
        """The coverage of the clusters one question reads (each object once)."""
        return cls(
            _each_once(o for c in clusters for o in c.unmodelled),
            _each_once(o for c in clusters for o in c.ignored),
            _each_once(d for c in clusters for d in c.skipped),
        )

    @property
    def complete(self) -> bool:
        """True when nothing in force is left unmodelled."""
        return not self.unmodelled

    def affecting(self, namespaces: Iterable[str] | None) -> tuple[UnmodelledObject, ...]:
        """The unmodelled objects that could change a packet with a pod of ``namespaces`` at
        one end (None: any namespace, or endpoints not known to be outside every one)."""
        if namespaces is None:
            return self.unmodelled
        within = frozenset(namespaces)
        return tuple(o for o in self.unmodelled if o.reach is Reach.CLUSTER or o.namespace in within)

    def groups(self, *, unmodelled: bool = True, ignored: bool = True, skipped: bool = True) -> tuple[tuple[str, tuple], ...]:
        """(headline, objects) for each non-empty group asked for: in force, ignored, skipped."""
        found = []
        if unmodelled and self.unmodelled:
            found.append((
                f"not modelled: {counted(len(self.unmodelled), 'object')} of kinds that change which packets flow "
                f"({_kinds(self.unmodelled)}); answers they could change are UNKNOWN (--ignore-kind KIND to answer without them)",
                self.unmodelled,
            ))
        if ignored and self.ignored:
            found.append((
                f"ignored (--ignore-kind): {counted(len(self.ignored), 'object')} of kinds that change which packets flow "
                f"({_kinds(self.ignored)}); answers assume they do not exist",
                self.ignored,
            ))
        if skipped and self.skipped:
            found.append((f"skipped {counted(len(self.skipped), 'document')} of kinds npverify does not use", self.skipped))
        return tuple(found)

    def notes(self, **groups: bool) -> tuple[str, ...]:
        """One line per group (``groups`` as for ``groups``), for reports that list no objects."""
        return tuple(headline for headline, _ in self.groups(**groups))

    def details(self, **groups: bool) -> tuple[str, ...]:
        """Each group's headline followed by its objects, indented."""
        lines = []
        for headline, objects in self.groups(**groups):
            lines.append(headline + ":")
            lines += [f"  {o}" for o in objects]
        return tuple(lines)


def unknown_reason(objects: Iterable[UnmodelledObject], shown: int = 3) -> str:
    """Why an answer is UNKNOWN: the objects (file:line) that could change it."""
    objects = tuple(objects)
    listed = "; ".join(str(o) for o in objects[:shown])
    more = f"; and {len(objects) - shown} more" if len(objects) > shown else ""
    kinds = sorted({o.kind for o in objects})
    return (
        f"npverify does not model {listed}{more}, which could change this answer "
        f"(--ignore-kind {' --ignore-kind '.join(kinds)} to answer as if {'it were' if len(objects) == 1 else 'they were'} absent)"
    )


def _each_once(objects: Iterable) -> tuple:
    """``objects`` without repeats: the same object read at the same place counts once (the
    sides of a comparison often share files)."""
    return tuple({(o, o.location): o for o in objects}.values())


def _kinds(objects: Iterable[UnmodelledObject]) -> str:
    counts: dict[str, int] = {}
    for obj in objects:
        counts[obj.qualified_kind] = counts.get(obj.qualified_kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


__all__ = [
    "Coverage",
    "PolicyKind",
    "SECONDARY_NETWORK_NOTES",
    "UNMODELLED_KINDS",
    "check_ignore_kinds",
    "ignore_kind_problem",
    "unknown_reason",
    "unmodelled_kind",
]
