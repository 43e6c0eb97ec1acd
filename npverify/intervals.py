"""Sets of IP addresses as sorted intervals: exact arithmetic over ipBlocks, without a solver.

The redundancy scan compares a rule's ipBlock peers with these: a peer whose addresses the
rule's other ipBlock peers all match leaves its rule unchanged when removed, and one that
shares no address with another peer never applies to a packet that peer applies to.

IPv4 and IPv6 addresses share one line: an IPv6 address ``a`` sits at ``a + V6_OFFSET``,
above every IPv4 address, so an interval never spans both families.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

import attrs

from npverify.model import IPAddress, IPBlock, IPNetwork

#: Where IPv6 addresses start on the shared line (past every IPv4 address).
V6_OFFSET = 1 << 128


def _line(network: IPNetwork) -> tuple[int, int]:
    """The first and last point of ``network`` on the shared line."""
    offset = V6_OFFSET if network.version == 6 else 0
    return int(network.network_address) + offset, int(network.broadcast_address) + offset


def _merged(intervals: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Sorted, disjoint, non-adjacent intervals with the same points as ``intervals``."""
    merged: list[list[int]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return tuple((low, high) for low, high in merged)


@attrs.frozen
class AddressSet:
    """A set of IPv4 and IPv6 addresses: sorted, disjoint, non-adjacent closed intervals."""

    intervals: tuple[tuple[int, int], ...] = ()

    @staticmethod
    def of_networks(networks: Iterable[IPNetwork]) -> AddressSet:
        return AddressSet(_merged(_line(n) for n in networks))

    @staticmethod
    def of_block(block: IPBlock) -> AddressSet:
        """The addresses ``block`` contains: its cidr minus its excepts (IPBlock.contains)."""
        return AddressSet.of_networks([block.cidr]) - AddressSet.of_networks(block.except_)

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __sub__(self, other: AddressSet) -> AddressSet:
        kept: list[tuple[int, int]] = []
        holes = other.intervals
        h = 0
        for low, high in self.intervals:
            while h < len(holes) and holes[h][1] < low:
                h += 1
            k = h
            while low <= high and k < len(holes) and holes[k][0] <= high:
                hole_low, hole_high = holes[k]
                if hole_low > low:
                    kept.append((low, hole_low - 1))
                low = max(low, hole_high + 1)
                k += 1
            if low <= high:
                kept.append((low, high))
        return AddressSet(tuple(kept))

    def __and__(self, other: AddressSet) -> AddressSet:
        return self - (self - other)

    def __or__(self, other: AddressSet) -> AddressSet:
        return AddressSet(_merged(self.intervals + other.intervals))

    def __le__(self, other: AddressSet) -> bool:
        return not (self - other)

    def first(self) -> IPAddress | None:
        """The lowest address of the set, or None when it is empty."""
        return _address(self.intervals[0][0]) if self.intervals else None

    def contains(self, ip: IPAddress) -> bool:
        point = int(ip) + (V6_OFFSET if ip.version == 6 else 0)
        return any(low <= point <= high for low, high in self.intervals)


def _address(point: int) -> IPAddress:
    if point >= V6_OFFSET:
        return ipaddress.IPv6Address(point - V6_OFFSET)
    return ipaddress.IPv4Address(point)


def sole_parts(sets: Sequence[AddressSet]) -> list[AddressSet]:
    """For each of ``sets``, its addresses that no other of ``sets`` contains.

    One sweep over every interval's ends (not a union of the others per set, which
    would take time quadratic in the number of sets)."""
    events: list[tuple[int, int, int]] = []  # (point, +1 opens / -1 closes after point - 1, set)
    for index, found in enumerate(sets):
        for low, high in found.intervals:
            events.append((low, 1, index))
            events.append((high + 1, -1, index))
    events.sort()
    parts: list[list[tuple[int, int]]] = [[] for _ in sets]
    active: set[int] = set()
    e = 0
    while e < len(events):
        point = events[e][0]
        while e < len(events) and events[e][0] == point:
            _, change, index = events[e]
            if change > 0:
                active.add(index)
            else:
                active.discard(index)
            e += 1
        if len(active) == 1 and e < len(events):
            # From point up to the next event, exactly one set holds the addresses.
            (only,) = active
            parts[only].append((point, events[e][0] - 1))
    return [AddressSet(_merged(p)) for p in parts]
