"""Port sets and cells: the values a connectivity matrix holds.

A ``PortSet`` is a set of (protocol, port), kept per protocol as sorted, disjoint inclusive
intervals within 1..65535, with union, intersection and difference. A ``Cell`` pairs the
ports some packet of a pair of rows may use (``may``) with those every such packet may use
(``always``), and writes itself as ``TCP 53,8080*``: the ``may`` ports, starred outside
``always``. With Admin/Baseline tiers a cell also has ``unknown`` ports, whose verdict for
some packet depends on what no manifest says; they lie in ``may`` outside ``always`` and
are written with ``?`` instead of ``*``. Nothing here knows about policies or pods.
"""

from __future__ import annotations

import attrs

from npverify.model import Protocol
from npverify.regions import PortRange

PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)

# --- port sets ------------------------------------------------------------------------------

#: Sorted, disjoint, non-adjacent inclusive port intervals of one protocol.
Intervals = tuple[tuple[int, int], ...]
_FULL: Intervals = ((1, 65535),)


def _union(a: Intervals, b: Intervals) -> Intervals:
    if not a or a == b:
        return b
    if not b:
        return a
    merged: list[list[int]] = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def _intersection(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return ()
    if a == b or b == _FULL:
        return a
    if a == _FULL:
        return b
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _difference(a: Intervals, b: Intervals) -> Intervals:
    if not a or not b:
        return a
    out = []
    for lo, hi in a:
        for blo, bhi in b:
            if bhi < lo or blo > hi:
                continue
            if blo > lo:
                out.append((lo, blo - 1))
            lo = bhi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)


@attrs.frozen(cache_hash=True)
class PortSet:
    """A set of (protocol, port): per protocol, inclusive port intervals within 1..65535."""

    tcp: Intervals = ()
    udp: Intervals = ()
    sctp: Intervals = ()

    @classmethod
    def of(cls, protocol: Protocol, low: int = 1, high: int = 65535) -> PortSet:
        """The ports ``low``..``high`` of one protocol."""
        intervals = ((low, high),)
        if protocol is Protocol.TCP:
            return cls(intervals, (), ())
        if protocol is Protocol.UDP:
            return cls((), intervals, ())
        return cls((), (), intervals)

    def intervals(self, protocol: Protocol) -> Intervals:
        if protocol is Protocol.TCP:
            return self.tcp
        if protocol is Protocol.UDP:
            return self.udp
        return self.sctp

    def ranges(self, protocol: Protocol) -> tuple[PortRange, ...]:
        return tuple(PortRange(lo, hi) for lo, hi in self.intervals(protocol))

    def contains(self, protocol: Protocol, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.intervals(protocol))

    @property
    def is_empty(self) -> bool:
        return not (self.tcp or self.udp or self.sctp)

    @property
    def is_all(self) -> bool:
        return self.tcp == _FULL and self.udp == _FULL and self.sctp == _FULL

    def __or__(self, other: PortSet) -> PortSet:
        if other is self or other.is_empty:
            return self
        if self.is_empty:
            return other
        return PortSet(_union(self.tcp, other.tcp), _union(self.udp, other.udp), _union(self.sctp, other.sctp))

    def __and__(self, other: PortSet) -> PortSet:
        if other is self:
            return self
        if self.is_empty or other.is_empty:
            return EMPTY
        return PortSet(
            _intersection(self.tcp, other.tcp), _intersection(self.udp, other.udp), _intersection(self.sctp, other.sctp)
        )

    def __sub__(self, other: PortSet) -> PortSet:
        if other.is_empty or self.is_empty:
            return self
        return PortSet(_difference(self.tcp, other.tcp), _difference(self.udp, other.udp), _difference(self.sctp, other.sctp))

    def __str__(self) -> str:
        # As a cell whose every port is always allowed: nothing starred.
        return cell_text(self, self)


def _interval_text(lo: int, hi: int) -> str:
    if (lo, hi) == (1, 65535):
        return "all"
    return str(lo) if lo == hi else f"{lo}-{hi}"


EMPTY = PortSet()
ALL = PortSet(_FULL, _FULL, _FULL)


@attrs.frozen
class Cell:
    """One cell: ports some packet may use (``may``), and those every packet may use (``always``).

    ``unknown``: ports on which some packet is allowed or denied depending on facts no
    manifest holds (which of two same-priority Admin or Baseline policies applies first).
    Such a packet counts as possibly allowed and possibly denied, so these ports lie in
    ``may`` and outside ``always``; empty without cluster-scoped policies.
    """

    may: PortSet
    always: PortSet
    unknown: PortSet = EMPTY

    @property
    def may_only(self) -> PortSet:
        """Ports allowed for some pods (or IPs, or workload pairs) only."""
        return self.may - self.always

    def text(self) -> str:
        """E.g. ``TCP 53,8080* UDP 53``: the ``may`` ports, a trailing ``*`` on those outside
        ``always`` (``?`` on those that are ``unknown``)."""
        return cell_text(self.may, self.always, self.unknown)


def cell_text(may: PortSet, always: PortSet, unknown: PortSet = EMPTY) -> str:
    """The ``may`` ports: a trailing ``*`` on those outside ``always``, ``?`` on ``unknown``."""
    if may.is_all:
        if unknown.is_all:
            return "all?"
        if unknown.is_empty and always.is_all:
            return "all"
        if unknown.is_empty and always.is_empty:
            return "all*"
    parts = []
    for protocol in PROTOCOLS:
        pieces = []
        sure, open_ = always.intervals(protocol), unknown.intervals(protocol)
        for lo, hi in may.intervals(protocol):
            # Walk the interval left to right: always, may-only and unknown stretches.
            marks = [(ilo, ihi, "") for ilo, ihi in _intersection(((lo, hi),), sure)]
            marks += [(ilo, ihi, "?") for ilo, ihi in _intersection(((lo, hi),), open_)]
            at = lo
            for ilo, ihi, mark in sorted(marks):
                if at < ilo:
                    pieces.append(_interval_text(at, ilo - 1) + "*")
                pieces.append(_interval_text(ilo, ihi) + mark)
                at = ihi + 1
            if at <= hi:
                pieces.append(_interval_text(at, hi) + "*")
        if pieces:
            parts.append(f"{protocol} " + ",".join(pieces))
    return " ".join(parts) if parts else "none"


EMPTY_CELL = Cell(EMPTY, EMPTY)
