"""The cross-check's own parts, tested without NCA: the output parser and the generator."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from crosscheck_generate import generate
from crosscheck_nca import (
    ALL,
    IpRanges,
    PodRef,
    complement,
    difference,
    nca_python,
    parse_connections,
    parse_connectivity,
    parse_endpoint,
)
from crosscheck_npverify import port_boundaries, segments

from npverify.load import load_text


def test_parse_connections() -> None:
    assert parse_connections("All connections") == ALL
    assert parse_connections("No connections") == {}
    assert parse_connections("{protocols:TCP,dst_ports:80,90-99}") == {"TCP": ((80, 80), (90, 99))}
    assert parse_connections("{protocols:TCP, SCTP,dst_ports:53},{protocols:UDP}") == {
        "TCP": ((53, 53),),
        "SCTP": ((53, 53),),
        "UDP": ((1, 65535),),
    }
    # Other protocols are dropped; "all but" lists name what is left out.
    assert parse_connections("{protocols:ICMP, UDP}") == {"UDP": ((1, 65535),)}
    assert parse_connections("{protocols:all but TCP, ICMP}") == {"UDP": ((1, 65535),), "SCTP": ((1, 65535),)}
    assert parse_connections("All but {protocols:TCP,dst_ports:2-65535}") == {
        "TCP": ((1, 1),),
        "UDP": ((1, 65535),),
        "SCTP": ((1, 65535),),
    }
    with pytest.raises(ValueError):
        parse_connections("{protocols:TCP,src_ports:80}")
    with pytest.raises(ValueError):
        parse_connections("protocols:TCP")


def test_parse_endpoints() -> None:
    assert parse_endpoint("alpha/p0[Pod]") == PodRef("alpha", "p0")
    v4 = parse_endpoint("10.0.0.0-10.0.0.255,10.2.0.0/16")
    assert v4 == IpRanges(4, ((0x0A000000, 0x0A0000FF), (0x0A020000, 0x0A02FFFF)))
    v6 = parse_endpoint("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    assert v6 == IpRanges(6, ((0, 2**128 - 1),))
    assert str(v4).startswith("10.0.0.0-10.0.0.255,")


def test_parse_connectivity_adds_up_lines() -> None:
    text = "\n".join(
        [
            "alpha/p0[Pod] => beta/p1[Pod] : {protocols:TCP,dst_ports:80}",
            "alpha/p0[Pod] => beta/p1[Pod] : {protocols:TCP,dst_ports:81-82}",
            "0.0.0.0-255.255.255.255 => beta/p1[Pod] : All connections",
            "beta/p1[Pod] => ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : {protocols:UDP}",
        ]
    )
    nca = parse_connectivity(text)
    assert nca.pods == {(PodRef("alpha", "p0"), PodRef("beta", "p1")): {"TCP": ((80, 82),)}}
    assert nca.from_ips[PodRef("beta", "p1")] == [(IpRanges(4, ((0, 2**32 - 1),)), ALL)]
    assert nca.to_ips[PodRef("beta", "p1")][0][0].version == 6


def test_port_set_arithmetic() -> None:
    assert complement(((1, 1), (80, 90))) == ((2, 79), (91, 65535))
    assert complement(()) == ((1, 65535),)
    assert difference(ALL, {"TCP": ((1, 65535),)}) == {"UDP": ((1, 65535),), "SCTP": ((1, 65535),)}
    assert segments({5, 10, 99}, 1, 20) == [(1, 4), (5, 9), (10, 20)]


def test_nca_python_reads_the_script_interpreter(tmp_path) -> None:
    python = tmp_path / "python3"
    python.write_text("")
    script = tmp_path / "nca"
    script.write_text(f"#!{python}\nimport nca\n")
    assert nca_python([str(script)]) == str(python)
    assert nca_python(["/x/python", "-m", "nca"]) == "/x/python"
    script.write_text("#!/bin/sh\nexec something\n")
    assert nca_python([str(script)]) is None


def test_generation_is_deterministic() -> None:
    assert generate(7) == generate(7)
    assert generate(7) != generate(8)


@pytest.mark.parametrize("seed", range(40))
def test_generated_clusters_are_valid_manifests(seed: int) -> None:
    """npverify loads every generated cluster (validated as the API server would)."""
    docs = generate(seed)
    cluster = load_text(yaml.safe_dump_all(docs, sort_keys=False), f"cluster-{seed}.yaml")
    assert len(cluster.workloads) == sum(d["kind"] == "Pod" for d in docs)
    assert len(cluster.policies) == sum(d["kind"] == "NetworkPolicy" for d in docs)
    bounds = port_boundaries(cluster)
    assert all(1 in b for b in bounds.values())
    for policy in cluster.policies:
        for rule in policy.ingress + policy.egress:
            for peer in rule.peers:
                if peer.ip_block:
                    for net in peer.ip_block.except_:
                        assert net.subnet_of(peer.ip_block.cidr) and net != peer.ip_block.cidr
                        assert isinstance(net, (ipaddress.IPv4Network, ipaddress.IPv6Network))
