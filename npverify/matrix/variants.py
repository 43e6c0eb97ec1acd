"""What a pod looks like to the policies: classes of workloads and their variants.

Workloads no policy can tell apart (same namespace, same labels and named ports as the
selectors and port names see them, same hostNetwork flag and status IPs) form a class
(``_Class``). What a pod's IP and its namespace's labels do is made finite: pod IPs fall
into *atoms* (intervals no ipBlock boundary splits) and an undeclared namespace's labels
into the assignments that namespace selectors tell apart. A pod of a class is one
*variant* (IP family, atom, label assignment); a ``_Profile`` lists a class's variants, so
that a rule's peers match a set of them, a bit mask.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterable, Iterator
from typing import Optional

import attrs

from npverify.errors import InputError
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Diagnostic,
    IPAddress,
    IPNetwork,
    Labels,
    LabelSelector,
    NetworkPolicy,
    Rule,
    Workload,
)
from npverify.semantics import selector_matches

# --- variants: IP atoms and namespace label assignments --------------------------------------

_FAMILY_TOP = {4: 2**32 - 1, 6: 2**128 - 1}
#: More label assignments than this for one undeclared namespace is refused (declare it).
MAX_LABEL_ASSIGNMENTS = 4096


def _address(family: int, value: int) -> IPAddress:
    return ipaddress.IPv4Address(value) if family == 4 else ipaddress.IPv6Address(value)


@attrs.frozen
class _Atom:
    """Addresses low..high of one family that no ipBlock (or pod CIDR) boundary splits."""

    family: int
    low: int
    high: int
    in_pod_cidrs: bool


def _atoms(networks: Iterable[IPNetwork], pod_cidrs: tuple[IPNetwork, ...]) -> dict[int, list[_Atom]]:
    cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
    for net in list(networks) + list(pod_cidrs):
        cuts[net.version].add(int(net.network_address))
        end = int(net.broadcast_address) + 1
        if end <= _FAMILY_TOP[net.version]:
            cuts[net.version].add(end)
    atoms: dict[int, list[_Atom]] = {}
    for family, starts in cuts.items():
        ordered = sorted(starts)
        bounds = ordered[1:] + [_FAMILY_TOP[family] + 1]
        atoms[family] = [
            _Atom(family, lo, nxt - 1, any(_address(family, lo) in c for c in pod_cidrs if c.version == family))
            for lo, nxt in zip(ordered, bounds)
        ]
    return atoms


@attrs.frozen
class _Variant:
    """One kind of pod of a class: IP family, address range and namespace label assignment."""

    family: int
    low: int
    high: int
    #: The one address, when the variant is a single address (a /32 atom or a status IP).
    single: Optional[int]
    #: Index into the namespace's label assignments (0 for a declared namespace).
    assignment: int


class _Profile:
    """The variants of the pods of one class, with masks by coupling key."""

    def __init__(self, variants: list[_Variant], host_network: bool):
        self.variants = variants
        self.host_network = host_network
        self.full = (1 << len(variants)) - 1
        self.by_family: dict[tuple, int] = {}
        self.by_assignment: dict[tuple, int] = {}
        #: (family, address) -> the variants that are exactly that address.
        self.singles: dict[tuple[int, int], int] = {}
        for index, v in enumerate(variants):
            bit = 1 << index
            self.by_family[(v.family,)] = self.by_family.get((v.family,), 0) | bit
            key = (v.family, v.assignment)
            self.by_assignment[key] = self.by_assignment.get(key, 0) | bit
            if v.single is not None:
                self.singles[(v.family, v.single)] = self.singles.get((v.family, v.single), 0) | bit
        self.families = frozenset(v.family for v in variants)


def _bits(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def pairs_of(meets: dict[int, list]) -> Iterator[tuple[int, int]]:
    """The class pairs (source, destination) of ``meets`` (per source, collections of
    destinations), in order; each source's entry is dropped once its pairs are made."""
    for s in sorted(meets):
        destinations: set[int] = set()
        for group in meets.pop(s):
            destinations.update(group)
        for d in sorted(destinations):
            yield s, d


# --- classes ---------------------------------------------------------------------------------


class _Class:
    """Workloads no policy tells apart: one row/column of the algebra."""

    __slots__ = (
        "index", "namespace", "labels", "ports", "portkey", "host_network", "ips", "workloads",
        "profile", "in_rules", "out_rules", "many_pods", "label_id", "port_id", "in_prog", "out_prog", "ns_view",
    )

    def __init__(self, index: int, w: Workload, portkey: tuple) -> None:
        self.index = index
        self.namespace = w.namespace
        self.labels = w.labels
        self.ports = w.ports
        self.portkey = portkey
        self.host_network = w.host_network
        self.ips = w.ips
        self.workloads: list[int] = []
        self.profile: _Profile
        #: (policy namespace, rule) of the policies that select the class; None: not isolated.
        self.in_rules: Optional[list[tuple[str, Rule]]] = None
        self.out_rules: Optional[list[tuple[str, Rule]]] = None
        #: Two distinct pods of the class exist (two workloads, or one with several pods).
        self.many_pods = False
        #: Small integers naming the labels and the named ports as the policies see them.
        self.label_id = 0
        self.port_id = 0
        #: ``in_rules``/``out_rules`` compiled for the hot loop (see _Algebra._compile).
        self.in_prog: Optional[tuple] = None
        self.out_prog: Optional[tuple] = None
        #: A small integer naming the namespace's labels as namespace selectors see them
        #: (see _Algebra._ns_view).
        self.ns_view = 0


_OTHER = object()


class _Mentions:
    """Label keys and values selectors read, and port names rules use."""

    def __init__(self, policies: Iterable[NetworkPolicy]) -> None:
        self.pod: dict[str, set[str]] = {}
        self.namespace: dict[str, set[str]] = {}
        self.port_names: set[str] = set()
        self.namespace_selectors: dict[LabelSelector, None] = {}
        self.networks: dict[IPNetwork, None] = {}
        for policy in policies:
            self._selector(self.pod, policy.pod_selector)
            for rule in policy.ingress + policy.egress:
                self.port_names.update(p.port for p in rule.ports if isinstance(p.port, str))
                for peer in rule.peers:
                    self._selector(self.pod, peer.pod_selector)
                    if peer.namespace_selector is not None:
                        self._selector(self.namespace, peer.namespace_selector)
                        self.namespace_selectors[peer.namespace_selector] = None
                    if peer.ip_block is not None:
                        for net in (peer.ip_block.cidr, *peer.ip_block.except_):
                            self.networks[net] = None

    @staticmethod
    def _selector(target: dict[str, set[str]], selector: Optional[LabelSelector]) -> None:
        if selector is None:
            return
        for req in selector.requirements():
            target.setdefault(req.key, set()).update(req.values)

    def label_key(self, labels: Labels) -> tuple:
        """A pod's labels as pod selectors see them: mentioned keys, unmentioned values alike."""
        return _seen(labels, self.pod)

    def namespace_label_key(self, labels: Labels) -> tuple:
        """A namespace's labels as namespace selectors see them."""
        return _seen(labels, self.namespace)

    def port_key(self, w: Workload) -> tuple:
        if w.host_network:
            return ()
        return tuple(sorted((p.name, p.port, p.protocol.value) for p in w.ports if p.name in self.port_names))



def _seen(labels: Labels, mentioned: dict[str, set[str]]) -> tuple:
    """``labels`` on the ``mentioned`` keys, each value not mentioned for its key as one."""
    out = []
    for key, value in labels.items():
        values = mentioned.get(key)
        if values is not None:
            out.append((key, value if value in values else _OTHER))
    return tuple(sorted(out, key=lambda kv: kv[0]))


def _namespace_assignments(
    name: str, mentions: _Mentions, limit: int = MAX_LABEL_ASSIGNMENTS
) -> list[Labels]:
    """The label sets of an undeclared namespace that namespace selectors tell apart."""
    keys = sorted(k for k in mentions.namespace if k != NAMESPACE_NAME_LABEL)
    choices: list[list[Optional[str]]] = []
    total = 1
    for key in keys:
        values = sorted(mentions.namespace[key])
        other = "other"
        while other in values:
            other += "-"
        choices.append([None, *values, other])
        total *= len(choices[-1])
    if total > limit:
        raise InputError(
            Diagnostic(
                f"namespace {name!r} holds workloads but is not declared, and namespace selectors tell "
                f"{total} of its possible label sets apart (more than {limit}); declare it with a "
                "Namespace object so its labels are known"
            )
        )
    selectors = list(mentions.namespace_selectors)
    seen: dict[tuple[bool, ...], Labels] = {}
    for combo in itertools.product(*choices):
        labels = {k: v for k, v in zip(keys, combo) if v is not None}
        labels[NAMESPACE_NAME_LABEL] = name
        frozen = Labels.of(labels)
        vector = tuple(selector_matches(s, frozen) for s in selectors)
        seen.setdefault(vector, frozen)
    return list(seen.values())
