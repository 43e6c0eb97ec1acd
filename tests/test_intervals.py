"""Address sets as intervals (npverify.intervals) against IPBlock.contains, address by address.

The blocks are drawn from a tiny alphabet of nested CIDRs (tests/strategies.py), and each
set is compared with the blocks' own membership test on every address where membership
can change (boundary_addresses), in both families.
"""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

import strategies as s
from npverify.intervals import AddressSet, sole_parts
from npverify.model import IPBlock

ADDRESSES = s.boundary_addresses(s.V4_NETWORKS + s.V6_NETWORKS)


@s.differential_settings(200)
@given(st.lists(s.ip_blocks(), min_size=1, max_size=6))
def test_sets_and_their_arithmetic_hold_exactly_the_blocks_addresses(blocks):
    sets = [AddressSet.of_block(b) for b in blocks]
    first, rest = sets[0], sets[1:]
    union = AddressSet()
    for found in rest:
        union = union | found
    for ip in ADDRESSES:
        in_first = blocks[0].contains(ip)
        in_rest = any(b.contains(ip) for b in blocks[1:])
        assert sets[0].contains(ip) == in_first, ip
        assert union.contains(ip) == in_rest, ip
        assert (first - union).contains(ip) == (in_first and not in_rest), ip
        assert (first & union).contains(ip) == (in_first and in_rest), ip
    # Subset and emptiness as the addresses say (the boundary addresses hit every interval).
    assert (first <= union) == all(union.contains(ip) for ip in ADDRESSES if first.contains(ip))
    assert bool(first) == any(first.contains(ip) for ip in ADDRESSES)


@s.differential_settings(200)
@given(st.lists(s.ip_blocks(), min_size=1, max_size=8))
def test_sole_parts_are_what_no_other_set_holds(blocks):
    sets = [AddressSet.of_block(b) for b in blocks]
    parts = sole_parts(sets)
    for i, part in enumerate(parts):
        for ip in ADDRESSES:
            alone = blocks[i].contains(ip) and not any(b.contains(ip) for j, b in enumerate(blocks) if j != i)
            assert part.contains(ip) == alone, (i, ip)
        others = AddressSet()
        for j, found in enumerate(sets):
            if j != i:
                others = others | found
        assert part == sets[i] - others


def test_families_never_mix():
    """An IPv4 block never holds an IPv6 address (not even an IPv4-mapped one), and the
    lowest address of a set keeps its family."""
    v4 = AddressSet.of_block(IPBlock(ipaddress.ip_network("0.0.0.0/0")))
    v6 = AddressSet.of_block(IPBlock(ipaddress.ip_network("::/0")))
    assert not v4 & v6
    assert not v4.contains(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert v6.contains(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert v4.first() == ipaddress.ip_address("0.0.0.0")
    assert v6.first() == ipaddress.ip_address("::")
    holed = AddressSet.of_block(IPBlock(ipaddress.ip_network("10.0.0.0/30"), (ipaddress.ip_network("10.0.0.0/31"),)))
    assert holed.first() == ipaddress.ip_address("10.0.0.2")
    assert AddressSet().first() is None
