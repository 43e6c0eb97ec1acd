"""Cross-check: npverify's connectivity matrix against netpol-analyzer's ``list`` outputs.

The inputs and expected outputs are the peer's own test data (Apache-2.0), copied to
tests/data/netpol_analyzer/ (SOURCE.md there says what was copied, what was left out and
why). For every entry this file:

* loads the entry's folder with npverify's loader and computes ``connectivity_matrix``
  (the Python side of ``npverify matrix --by workload``) in the universe that matches the
  peer's model: only the loaded workloads' pods, declared namespaces, ipBlocks not
  matching pod IPs (``--pods workloads --namespaces declared --no-ipblock-matches-pods``);
* compares every pair of workloads with the peer's line for it, port by port and
  protocol by protocol (a pair the peer does not list has no connections);
* compares every pair of a workload and the external IPv4 space with the peer's external
  lines, by proving with the solver (``Verifier``) that packets from/to each group of the
  peer's IP ranges are allowed on exactly the ports the peer lists.

Naming: npverify's rows are loaded objects (``ns/Kind/name``); the peer names a Pod with
an owner reference by its owner (``ns/owner[Kind]``; owners of kind Node do not count,
an owner reference without a kind is shown as ``[Pod]``) and a workload as
``ns/name[Kind]``. Several npverify rows can map to one peer name: each of them must agree
with the peer's line.

Not compared, by design (SOURCE.md gives the reasons):

* a workload with itself, or two pods of one owner with each other: the peer lists no
  such pair;
* pairs with a hostNetwork pod at one end: npverify follows the API (policies neither
  select nor isolate hostNetwork pods, which live in their node's network namespace), the
  peer treats them as ordinary pods;
* external IPv6 hosts: the peer's output has no IPv6 ranges;
* the entries and external pairs listed in EXCLUDED and EXTERNAL_NOT_COMPARED.

Entries the peer accepts but the API server would reject are in REFUSED: npverify must
refuse them with a located error.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from npverify.errors import InputError
from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, Scope
from npverify.load import load_manifests
from npverify.matrix import connectivity_matrix
from npverify.model import Cluster, IPBlock, PolicyPort, Protocol, Semantics, Universe
from npverify.results import Verdict

DATA = Path(__file__).resolve().parents[1] / "data" / "netpol_analyzer"
INPUTS = DATA / "tests"
EXPECTED = DATA / "expected"

#: The universe and semantics of the peer's model (docs: SOURCE.md, "Options").
UNIVERSE = Universe(namespaces="declared", pods="workloads")
#: Entries whose AdminNetworkPolicies name ``networks``: the API lets those match pod IPs
#: too, and the pods there state no IP, so a pod might be 8.8.8.8. The peer takes pods to be
#: pods of the cluster network; npverify says so with a pod CIDR holding no listed network.
POD_NETWORK = Universe(namespaces="declared", pods="workloads", pod_cidrs=(ipaddress.ip_network("10.244.0.0/16"),))
NETWORKS_ENTRIES = frozenset(
    {"anp_and_banp_using_networks_test", "anp_and_banp_using_networks_and_nodes_test", "anp_and_banp_using_networks_with_ipv6_test"}
)


def universe_for(entry: str) -> Universe:
    return POD_NETWORK if entry in NETWORKS_ENTRIES else UNIVERSE
SEMANTICS = Semantics(ip_block_matches_pods=False)

PROTOCOL_NAMES = ("TCP", "UDP", "SCTP")
ALL_PORTS = ((1, 65535),)
IPV4_ALL = ipaddress.ip_network("0.0.0.0/0")

#: Entries not compared at all: the peer made a choice npverify does not make, and no
#: universe option makes them agree. Keep SOURCE.md in step.
EXCLUDED: dict[str, str] = {
    # Every pod of these entries is hostNetwork (see the module docstring): nothing is
    # left to compare.
    **{
        f"semanticDiff-same-topologies-{name}": "every pod is hostNetwork"
        for name in ("old1", "old2", "old3", "new1", "new1a", "new2", "new3")
    },
}

#: Entries whose inputs the API server would reject; the peer reads them anyway, npverify
#: refuses them with the located error given here (a fragment of the message).
REFUSED: dict[str, str] = {
    # Go's JSON decoding matches field names case-insensitively; the API server's strict
    # decoding (and npverify) rejects the unknown field.
    "netpol_named_port_test": "containers[0].ports[1].containerport: unknown field 'containerport'",
    "netpol_named_port_test_2": "containers[0].ports[1].containerport: unknown field 'containerport'",
    # A NetworkPolicy name must be a DNS subdomain: no underscores.
    "example_pods_w_same_owner_and_labels_gap_with_policy_selector_not_in_gap": (
        "metadata.name: invalid name 'use_common_labels_same_values'"
    ),
    "example_pods_w_same_owner_and_labels_gap_with_good_match_expression": (
        "metadata.name: invalid name 'use_common_labels_same_values'"
    ),
    "example_pods_w_same_owner_and_labels_gap_with_good_match_expression2": (
        "metadata.name: invalid name 'use_match_exp_with_all_gap_values_of_app'"
    ),
    # v1alpha1 `pods` (NamespacedPod): namespaceSelector and podSelector are both required
    # (the package's default +kubebuilder:validation:Required; neither is optional); the
    # peer reads an absent one as empty.
    "anp_demo": "anp_gryffindor_gress.yaml:75:9: error: spec.ingress[0].from[0].pods: missing required field 'podSelector'",
    "anp_test_10": "anp.yaml:18:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_10_swapping_rules": "anp.yaml:19:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_11": "anp.yaml:18:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_11_swapping_rules": "anp.yaml:19:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_12": "anp.yaml:18:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_12_swapping_rules": "anp.yaml:19:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_3_pass_traffic": "policies.yaml:17:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'",
    "anp_test_8": "anp.yaml:46:9: error: spec.ingress[4].from[0].pods: missing required field 'podSelector'",
    "anp_test_8_swapping_rules": "anp.yaml:37:9: error: spec.ingress[3].from[0].pods: missing required field 'podSelector'",
    "anp_test_9": "anp.yaml:98:9: error: spec.ingress[0].from[0].pods: missing required field 'podSelector'",
    "anp_test_9_swapping_rules": "anp.yaml:99:9: error: spec.ingress[0].from[0].pods: missing required field 'podSelector'",
    "anp_test_combining_test_6_and_test_10": (
        "egress_anp.yaml:16:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'"
    ),
    "anp_test_multiple_anps": (
        "anp_from_anp_test_10.yaml:16:9: error: spec.egress[0].to[0].pods: missing required field 'podSelector'"
    ),
    "example_pods_w_same_owner_and_labels_gap_anp_good": (
        "anp.yaml:9:7: error: spec.subject.pods: missing required field 'namespaceSelector'"
    ),
    "example_pods_w_same_owner_and_labels_gap_banp_good": (
        "banp.yaml:8:7: error: spec.subject.pods: missing required field 'namespaceSelector'"
    ),
    # The API's validation: a rule with networks/nodes peers cannot use named ports.
    "anp_test_named_ports_multiple_peers": (
        "policies.yaml:30:7: error: spec.egress[0].ports[2]: networks/nodes/domainNames peer cannot be set with namedPorts"
    ),
}

#: Entries whose workload pairs are compared but whose external pairs are not.
EXTERNAL_NOT_COMPARED: dict[str, str] = {
    # The peer ignores `nodes` peers (with a warning). Which external IPs are nodes is
    # unknown from manifests, so npverify answers UNKNOWN wherever a nodes peer could
    # decide an external packet (docs/semantics.md); nodes peers never match pods, so the
    # workload pairs are exact and compared.
    "anp_and_banp_using_networks_and_nodes_test": "nodes peers: external verdicts depend on which IPs are nodes",
    "anp_banp_test_multiple_warnings": "nodes peers: external verdicts depend on which IPs are nodes",
}

ENTRIES = sorted(p.name for p in INPUTS.iterdir() if p.is_dir())

#: The peer's bad-path inputs (its ``badPathTests``) for NetworkPolicy, AdminNetworkPolicy
#: and BaselineAdminNetworkPolicy: the peer reports an error for each.
BAD_PATH = DATA / "bad_path"
BAD_ENTRIES = sorted(p.name for p in BAD_PATH.iterdir() if p.is_dir())
#: Bad-path entries npverify accepts on purpose.
BAD_PATH_ACCEPTED: dict[str, str] = {
    # Two AdminNetworkPolicies with the same priority: the API accepts them and leaves their
    # order to the implementation; npverify loads them and answers UNKNOWN where the order
    # decides (Semantics.same_priority). The peer rejects the input.
    "anp_bad_path_test_1": "same priority",
}
COMPARED = [e for e in ENTRIES if e not in EXCLUDED and e not in REFUSED]


# --- the peer's output -------------------------------------------------------------------

Ports = dict[str, tuple[tuple[int, int], ...]]


def parse_connections(text: str) -> Ports:
    """``All Connections``, ``No Connections``, ``TCP 1-8079,8081-65535``,
    ``SCTP 9003,TCP 80,UDP 53`` -> per protocol, sorted inclusive intervals."""
    text = text.strip()
    if text == "All Connections":
        return {p: ALL_PORTS for p in PROTOCOL_NAMES}
    if text == "No Connections":
        return {}
    result: Ports = {}
    for part in re.split(r",(?=[A-Z])", text):
        protocol, _, ranges = part.partition(" ")
        assert protocol in PROTOCOL_NAMES, f"unknown protocol in {text!r}"
        intervals = []
        for piece in ranges.split(","):
            low, _, high = piece.partition("-")
            intervals.append((int(low), int(high or low)))
        result[protocol] = tuple(sorted(intervals))
    return result


@lru_cache(maxsize=None)
def expected_lines(entry: str) -> dict[tuple[str, str], Ports]:
    """The peer's lines of ``entry``: (source, destination) -> connections. Shared: do not mutate."""
    lines = {}
    for line in (EXPECTED / f"{entry}_connlist_output.txt").read_text().splitlines():
        if not line.strip():
            continue
        pair, _, connections = line.rpartition(" : ")
        src, _, dst = pair.partition(" => ")
        assert src and dst, f"{entry}: unexpected line {line!r}"
        key = (src.strip(), dst.strip())
        assert key not in lines, f"{entry}: two lines for {key}"
        lines[key] = parse_connections(connections)
    return lines


EXTERNAL = re.compile(r"^(\d+\.\d+\.\d+\.\d+)-(\d+\.\d+\.\d+\.\d+)\[External\]$")


def external_range(name: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address] | None:
    match = EXTERNAL.match(name)
    if match is None:
        assert "[External]" not in name, f"unexpected external name {name!r}"
        return None
    return ipaddress.IPv4Address(match[1]), ipaddress.IPv4Address(match[2])


# --- naming: npverify rows -> the peer's names ------------------------------------------


def _documents(entry: str) -> Iterator[dict]:
    """The entry's objects, List items included (an item of a ``PodList`` is a Pod)."""
    for path in sorted((INPUTS / entry).rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict):
                continue
            kind = doc.get("kind") or ""
            if kind.endswith("List"):
                for item in doc.get("items") or []:
                    if isinstance(item, dict):
                        yield item if "kind" in item or kind == "List" else dict(item, kind=kind[: -len("List")])
            else:
                yield doc


@lru_cache(maxsize=None)
def pod_owners(entry: str) -> dict[str, str]:
    """``ns/Pod/name`` -> the peer's name for the pod's owner, for Pods the peer groups."""
    owners = {}
    for doc in _documents(entry):
        if doc.get("kind") != "Pod":
            continue
        meta = doc.get("metadata") or {}
        refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
        if not refs:
            continue
        ref = next((r for r in refs if r.get("controller")), refs[0])
        kind = ref.get("kind") or "Pod"
        if kind == "Node":  # a static pod's mirror: the peer shows the pod itself
            continue
        namespace = meta.get("namespace") or "default"
        owners[f"{namespace}/Pod/{meta['name']}"] = f"{namespace}/{ref['name']}[{kind}]"
    return owners


def peer_name(entry: str, workload_key: str) -> str:
    owner = pod_owners(entry).get(workload_key)
    if owner is not None:
        return owner
    namespace, kind, name = workload_key.split("/", 2)
    return f"{namespace}/{name}[{kind}]"


# --- npverify's side ---------------------------------------------------------------------


@lru_cache(maxsize=None)
def cluster_of(entry: str) -> Cluster:
    return load_manifests([INPUTS / entry], default_namespace="default")


def ports_of(portset) -> Ports:
    return {p.value: portset.intervals(p) for p in (Protocol.TCP, Protocol.UDP, Protocol.SCTP) if portset.intervals(p)}


def describe(ports: Ports) -> str:
    if not ports:
        return "No Connections"
    if all(ports.get(p) == ALL_PORTS for p in PROTOCOL_NAMES):
        return "All Connections"
    return ",".join(
        f"{p} " + ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ports[p]) for p in sorted(ports)
    )


def host_network_names(entry: str, cluster: Cluster) -> set[str]:
    return {peer_name(entry, w.key) for w in cluster.workloads if w.host_network}


# --- the tests ---------------------------------------------------------------------------


def test_data_complete() -> None:
    """Every copied entry has its expected output, and every named exception exists."""
    assert len(ENTRIES) >= 80
    for entry in ENTRIES:
        assert (EXPECTED / f"{entry}_connlist_output.txt").is_file(), entry
    for table in (EXCLUDED, REFUSED, EXTERNAL_NOT_COMPARED):
        assert set(table) <= set(ENTRIES), set(table) - set(ENTRIES)
    assert not set(EXCLUDED) & set(REFUSED)
    assert len(BAD_ENTRIES) >= 30 and set(BAD_PATH_ACCEPTED) <= set(BAD_ENTRIES)
    assert sorted(p.name for p in EXPECTED.iterdir()) == sorted(f"{e}_connlist_output.txt" for e in ENTRIES)


def test_peer_output_parser() -> None:
    assert parse_connections("All Connections") == {p: ALL_PORTS for p in PROTOCOL_NAMES}
    assert parse_connections("No Connections") == {}
    assert parse_connections("TCP 1-8079,8081-65535") == {"TCP": ((1, 8079), (8081, 65535))}
    assert parse_connections("SCTP 9003,TCP 80,UDP 53,5353") == {
        "SCTP": ((9003, 9003),),
        "TCP": ((80, 80),),
        "UDP": ((53, 53), (5353, 5353)),
    }
    assert external_range("0.0.0.0-9.255.255.255[External]") == (
        ipaddress.IPv4Address("0.0.0.0"),
        ipaddress.IPv4Address("9.255.255.255"),
    )
    assert external_range("ns/a[Deployment]") is None


@pytest.mark.parametrize("entry", sorted(REFUSED))
def test_refused_like_the_api_server(entry: str) -> None:
    with pytest.raises(InputError) as caught:
        load_manifests([INPUTS / entry], default_namespace="default")
    message = str(caught.value)
    assert REFUSED[entry] in message, message
    assert re.search(r"\.ya?ml:\d+:\d+: error:", message), message


@pytest.mark.parametrize("entry", BAD_ENTRIES)
def test_bad_path_refused(entry: str) -> None:
    """Where the peer errors, npverify errors too, at a file position in the entry."""
    if entry in BAD_PATH_ACCEPTED:
        from npverify.tiers import overlapping_priorities

        cluster = load_manifests([BAD_PATH / entry], default_namespace="default")
        assert overlapping_priorities(cluster), entry
        return
    with pytest.raises(InputError) as caught:
        load_manifests([BAD_PATH / entry], default_namespace="default")
    message = str(caught.value)
    assert re.search(rf"{re.escape(entry)}/[^:]+\.ya?ml:\d+:\d+: error: ", message), message


@pytest.mark.parametrize("entry", COMPARED)
def test_workload_pairs(entry: str) -> None:
    cluster = cluster_of(entry)
    expected = expected_lines(entry)
    matrix = connectivity_matrix(cluster, by="workload", universe=universe_for(entry), semantics=SEMANTICS)
    assert matrix.verdict is Verdict.PROVED, (matrix.verdict, matrix.reason, matrix.notes)

    host_network = host_network_names(entry, cluster)
    names = {peer_name(entry, row) for row in matrix.rows}
    listed = {n for pair in expected for n in pair if external_range(n) is None}
    unknown = listed - names - host_network
    assert not unknown, f"{entry}: the peer lists workloads npverify did not load: {sorted(unknown)}"

    problems = []
    compared = 0
    for src in matrix.rows:
        for dst in matrix.columns:
            src_name, dst_name = peer_name(entry, src), peer_name(entry, dst)
            if src_name == dst_name or src_name in host_network or dst_name in host_network:
                continue
            cell = matrix.cell(src, dst)
            got = ports_of(cell.may)
            want = expected.get((src_name, dst_name), {})
            compared += 1
            if cell.may != cell.always:
                problems.append(f"{src} => {dst}: npverify's cell is not exact: {cell.text()}")
            elif got != want:
                problems.append(
                    f"{src_name} => {dst_name} (npverify {src} => {dst}): "
                    f"peer {describe(want)}; npverify {describe(got)}"
                )
    assert compared or len(names - host_network) < 2, f"{entry}: no pair compared"
    assert not problems, f"{entry}: {len(problems)} of {compared} pairs differ:\n" + "\n".join(problems)


def _cidrs(ranges) -> list[ipaddress.IPv4Network]:
    return [net for low, high in ranges for net in ipaddress.summarize_address_range(low, high)]


def _complement(ranges) -> list[tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]]:
    """The IPv4 space outside ``ranges`` (sorted, disjoint), as ranges."""
    out = []
    start = 0
    for low, high in sorted(ranges):
        if int(low) > start:
            out.append((ipaddress.IPv4Address(start), ipaddress.IPv4Address(int(low) - 1)))
        start = max(start, int(high) + 1)
    if start <= int(ipaddress.IPv4Address("255.255.255.255")):
        out.append((ipaddress.IPv4Address(start), ipaddress.IPv4Address("255.255.255.255")))
    return out


def _policy_ports(ports: Ports) -> list[PolicyPort]:
    return [
        PolicyPort(Protocol(p), lo, None if lo == hi else hi)
        for p in PROTOCOL_NAMES
        for lo, hi in ports.get(p, ())
    ]


def _complement_ports(ports: Ports) -> Ports:
    out: Ports = {}
    for p in PROTOCOL_NAMES:
        gaps, start = [], 1
        for lo, hi in ports.get(p, ()):
            if lo > start:
                gaps.append((start, lo - 1))
            start = hi + 1
        if start <= 65535:
            gaps.append((start, 65535))
        if gaps:
            out[p] = tuple(gaps)
    return out


def external_groups(entry: str, name: str, egress: bool) -> list[tuple[IPBlock, Ports]]:
    """The peer's external lines for workload ``name`` (as source when ``egress``),
    grouped by connections, each group as one ipBlock (0.0.0.0/0 except the others);
    the IPv4 space no line covers has no connections."""
    by_ports: dict[str, tuple[Ports, list]] = {}
    covered = []
    for (src, dst), ports in expected_lines(entry).items():
        other, this = (dst, src) if egress else (src, dst)
        if this != name:
            continue
        ip_range = external_range(other)
        if ip_range is None:
            continue
        covered.append(ip_range)
        by_ports.setdefault(describe(ports), (ports, []))[1].append(ip_range)
    rest = _complement(covered)
    if rest:
        by_ports.setdefault(describe({}), ({}, []))[1].extend(rest)
    groups = []
    for key, (ports, ranges) in by_ports.items():
        others = [r for k, (_, rs) in by_ports.items() if k != key for r in rs]
        groups.append((IPBlock(IPV4_ALL, tuple(_cidrs(others))), ports))
    return groups


@pytest.mark.parametrize("entry", [e for e in COMPARED if e not in EXTERNAL_NOT_COMPARED])
def test_external_pairs(entry: str) -> None:
    from npverify.engine import Verifier

    cluster = cluster_of(entry)
    verifier = Verifier(cluster, universe=UNIVERSE, semantics=SEMANTICS)
    problems = []
    checks = 0
    for workload in cluster.workloads:
        if workload.host_network:
            continue
        name = peer_name(entry, workload.key)
        pod = Scope(namespace=workload.namespace, workload=f"{workload.kind}/{workload.name}")
        for egress in (False, True):
            for block, ports in external_groups(entry, name, egress):
                external = Scope(ip_block=block, kind=EndpointKind.EXTERNAL)
                src, dst = (pod, external) if egress else (external, pod)
                for kind, claimed in ((InvariantKind.ALLOWED, ports), (InvariantKind.ISOLATED, _complement_ports(ports))):
                    if not claimed:
                        continue
                    checks += 1
                    invariant = Invariant(name=f"{name} {'egress' if egress else 'ingress'}", kind=kind, src=src, dst=dst, ports=tuple(_policy_ports(claimed)))
                    result = verifier.check(invariant)
                    if result.verdict is not Verdict.PROVED:
                        arrow = f"{name} => external" if egress else f"external => {name}"
                        excepts = ", ".join(str(e) for e in block.except_) or "none"
                        problems.append(
                            f"{arrow} (IPv4 except {excepts}): peer {describe(ports)}; npverify does not prove "
                            f"{kind} on {describe(claimed)}: {result.verdict} {result.packet} {result.reason}"
                        )
    assert checks, entry
    assert not problems, f"{entry}: {len(problems)} of {checks} checks fail:\n" + "\n".join(problems)
