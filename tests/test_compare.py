"""Equivalence and containment of policy sets: refactors proved equivalent, single
mutations found, in the right direction, with correct and widened regions.

The fixtures are realistic manifests under ``tests/data/refactor/<case>/{old,new}.yaml``,
judged against the shop in ``tests/data/refactor/context.yaml``. Every region is checked
twice, independently of the engine: its packet must lie in the region (``region_problems``)
and replay through the reference evaluator, and packets at the region's corners (port
bounds, each protocol, first and last IP of each CIDR, labels and namespaces the region
leaves free) must differ the same way (``check_difference``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import pytest

from npverify.compare import Comparison, Difference, containment, equivalence
from npverify.load import load_manifests, load_text
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Cluster,
    ContainerPort,
    Endpoint,
    ExternalEndpoint,
    Labels,
    NodeEndpoint,
    Packet,
    PodEndpoint,
    Protocol,
    Semantics,
    Universe,
)
from npverify.regions import EndpointRegion, LabelCondition, PortRange, Region
from npverify.semantics import decide, universe_problem

DATA = Path(__file__).resolve().parent / "data" / "refactor"
CONTEXT = DATA / "context.yaml"

ANY = Universe()
WORKLOADS = Universe(pods="workloads")


def load_case(case: str, name: str) -> Cluster:
    return load_manifests([DATA / case / name])


def context() -> Cluster:
    return load_manifests([CONTEXT])


def compare_case(case: str, universe: Universe = ANY, **options) -> tuple[Comparison, Cluster, Cluster]:
    """old.yaml vs new.yaml of ``case`` in the shop context; with the clusters that each
    side is judged as (context plus that side's policies), for replays."""
    ctx = context()
    old, new = load_case(case, "old.yaml"), load_case(case, "new.yaml")
    comparison = equivalence(old, new, ctx, universe=universe, **options)
    return comparison, ctx.with_policies(old.policies), ctx.with_policies(new.policies)


# --- an independent check of regions ------------------------------------------------------


def _condition_holds(condition: LabelCondition, labels: Mapping[str, str]) -> bool:
    if condition.value is not None:
        return labels.get(condition.key) == condition.value
    if condition.exists:
        return condition.key in labels and labels[condition.key] not in condition.other_than
    return condition.key not in labels


def _endpoint_problems(side: str, region: EndpointRegion, endpoint: Endpoint) -> list[str]:
    problems = []
    kinds = {"pod": PodEndpoint, "external": ExternalEndpoint, "node": NodeEndpoint}
    if not isinstance(endpoint, kinds[region.kind]):
        return [f"{side}: a {type(endpoint).__name__}, the region holds {region.kind} endpoints"]
    if region.cidr is not None and endpoint.ip not in region.cidr:
        problems.append(f"{side}: IP {endpoint.ip} outside {region.cidr}")
    if not isinstance(endpoint, PodEndpoint):
        return problems
    if region.namespace is not None and endpoint.namespace != region.namespace:
        problems.append(f"{side}: namespace {endpoint.namespace}, the region says {region.namespace}")
    for condition in region.namespace_labels:
        if not _condition_holds(condition, endpoint.namespace_labels):
            problems.append(f"{side}: namespace labels {dict(endpoint.namespace_labels)} fail {condition}")
    for condition in region.labels:
        if not _condition_holds(condition, endpoint.labels):
            problems.append(f"{side}: labels {dict(endpoint.labels)} fail {condition}")
    if region.workload is not None and endpoint.workload != region.workload:
        problems.append(f"{side}: workload {endpoint.workload}, the region says {region.workload}")
    if region.not_workloads and endpoint.workload is not None:
        problems.append(f"{side}: pod of {endpoint.workload}, the region holds pods of no workload")
    if region.host_network is not None and endpoint.host_network != region.host_network:
        problems.append(f"{side}: hostNetwork {endpoint.host_network}, the region says {region.host_network}")
    named = {p.name: p for p in endpoint.ports if p.name}
    for text in region.ports:
        if text.startswith("no port named "):
            name = text.removeprefix("no port named ")
            if name in named:
                problems.append(f"{side}: has port {name}, the region says it has none")
            continue
        name, _, rest = text.partition("=")
        number, _, protocol = rest.partition("/")
        if named.get(name) != ContainerPort(int(number), Protocol(protocol), name):
            problems.append(f"{side}: ports {endpoint.ports} lack {text}")
    return problems


def region_problems(region: Region, packet: Packet | None = None) -> list[str]:
    """Why ``packet`` (the region's own packet by default) is not in ``region``."""
    packet = region.packet if packet is None else packet
    problems = []
    if packet.protocol not in region.protocols:
        problems.append(f"protocol {packet.protocol} not in {region.protocols}")
    if not region.ports.low <= packet.port <= region.ports.high:
        problems.append(f"port {packet.port} outside {region.ports}")
    if not 1 <= region.ports.low <= region.ports.high <= 65535:
        problems.append(f"bad port range {region.ports}")
    problems += _endpoint_problems("source", region.src, packet.src)
    problems += _endpoint_problems("destination", region.dst, packet.dst)
    return problems


FREE_VALUE = "zz-unnamed-value"
FRESH_NAMESPACE = "zz-fresh-namespace"


def _mentioned_keys(clusters: tuple[Cluster, ...]) -> tuple[set[str], set[str]]:
    """Pod and namespace label keys some selector of the clusters reads."""
    pod_keys, ns_keys = set(), set()
    for cluster in clusters:
        for policy in cluster.policies:
            pod_keys |= policy.pod_selector.keys()
            for rule in policy.ingress + policy.egress:
                for peer in rule.peers:
                    if peer.pod_selector is not None:
                        pod_keys |= peer.pod_selector.keys()
                    if peer.namespace_selector is not None:
                        ns_keys |= peer.namespace_selector.keys()
    return pod_keys, ns_keys - {NAMESPACE_NAME_LABEL}


def _endpoint_variants(region: EndpointRegion, endpoint: Endpoint, pod_keys: set[str], ns_keys: set[str]) -> Iterator[Endpoint]:
    """Endpoints of ``region`` other than ``endpoint``: its CIDR's first and last address,
    labels the region leaves free removed or set to a value nobody names, a fresh namespace
    when the region names none."""
    if region.cidr is not None and endpoint.ip in region.cidr:
        for ip in (region.cidr.network_address, region.cidr.broadcast_address):
            yield attrs.evolve(endpoint, ip=ip)
    if not isinstance(endpoint, PodEndpoint):
        return
    if region.workload is not None:
        return  # the region is that workload's pods: their labels and namespace are fixed
    # Other labels or another namespace make it a pod of no loaded workload.
    endpoint = attrs.evolve(endpoint, workload=None)
    constrained = {c.key: c for c in region.labels}
    for key in sorted(pod_keys):
        condition = constrained.get(key)
        if condition is None:
            without = {k: v for k, v in endpoint.labels.items() if k != key}
            yield attrs.evolve(endpoint, labels=Labels.of(without))
        if condition is None or condition.exists:
            yield attrs.evolve(endpoint, labels=Labels.of(endpoint.labels, **{key: FREE_VALUE}))
    if region.namespace is None and not region.unnamed_namespace:
        labels = {NAMESPACE_NAME_LABEL: FRESH_NAMESPACE}
        for condition in region.namespace_labels:
            if condition.key == NAMESPACE_NAME_LABEL:
                if condition.value is None and not condition.exists:
                    return  # no namespace lacks its name label: the region is empty
                continue  # "other than some names": the fresh name is none of them
            if condition.exists:
                labels[condition.key] = FREE_VALUE
            elif condition.value is not None:
                labels[condition.key] = condition.value
        yield attrs.evolve(endpoint, namespace=FRESH_NAMESPACE, namespace_labels=Labels.of(labels))
        free = ns_keys - {c.key for c in region.namespace_labels}
        for key in sorted(free):
            yield attrs.evolve(endpoint, namespace=FRESH_NAMESPACE, namespace_labels=Labels.of(labels, **{key: FREE_VALUE}))


def region_samples(region: Region, clusters: tuple[Cluster, ...]) -> Iterator[Packet]:
    """Packets of ``region`` at its corners, each differing from the region's packet in one
    dimension (or in protocol and port together)."""
    packet = region.packet
    for protocol in region.protocols:
        for port in {region.ports.low, region.ports.high, packet.port}:
            yield attrs.evolve(packet, protocol=protocol, port=port)
    pod_keys, ns_keys = _mentioned_keys(clusters)
    for src in _endpoint_variants(region.src, packet.src, pod_keys, ns_keys):
        yield attrs.evolve(packet, src=src)
    for dst in _endpoint_variants(region.dst, packet.dst, pod_keys, ns_keys):
        yield attrs.evolve(packet, dst=dst)


def check_difference(
    diff: Difference,
    direction: str,
    left: Cluster,
    right: Cluster,
    universe: Universe,
    semantics: Semantics = Semantics(),
) -> None:
    """``diff`` is a difference that only ``direction`` ("left"/"right") allows: its packet
    lies in its region and replays so, and so do the region's corner packets that belong
    to the universe."""
    region = diff.region
    assert region_problems(region) == [], f"packet outside its own region {region}: {region_problems(region)}"
    expected = (True, False) if direction == "left" else (False, True)
    assert (diff.left.allowed, diff.right.allowed) == expected
    assert diff.left.packet == diff.right.packet == region.packet
    replayed = (decide(left, region.packet, semantics).allowed, decide(right, region.packet, semantics).allowed)
    assert replayed == expected, f"{region}: left/right allow {replayed}, expected {expected}"
    assert universe_problem(left, region.packet, universe) is None
    for sample in region_samples(region, (left, right)):
        if universe_problem(left, sample, universe) is not None:
            continue
        assert region_problems(region, sample) == [], f"test bug: sample outside {region}: {region_problems(region, sample)}"
        got = (decide(left, sample, semantics).allowed, decide(right, sample, semantics).allowed)
        assert got == expected, f"region {region} is too wide: {sample!r} gives left/right {got}, expected {expected}"


def check_all(comparison: Comparison, left: Cluster, right: Cluster, universe: Universe) -> None:
    for diff in comparison.only_left or ():
        check_difference(diff, "left", left, right, universe)
    for diff in comparison.only_right or ():
        check_difference(diff, "right", left, right, universe)


def covered(comparison_side: tuple[Difference, ...], packet: Packet) -> bool:
    return any(not region_problems(d.region, packet) for d in comparison_side)


# --- the region checker itself ---------------------------------------------------------------

_SHOP = Labels.of({NAMESPACE_NAME_LABEL: "shop", "team": "shop"})
_WEB = PodEndpoint("shop", _SHOP, Labels.of(app="web"), ipaddress.ip_address("10.0.0.1"), pod_id="a")
_API = PodEndpoint(
    "shop", _SHOP, Labels.of(app="api"), ipaddress.ip_address("10.0.0.2"), (ContainerPort(80, Protocol.TCP, "http"),), pod_id="b"
)


def test_region_checker_rejects_packets_outside_the_region() -> None:
    packet = Packet(_WEB, _API, Protocol.TCP, 81)
    region = Region(
        EndpointRegion("pod", namespace="shop", labels=(LabelCondition("app", "web"),), cidr=ipaddress.ip_network("10.0.0.0/8")),
        EndpointRegion("pod", labels=(LabelCondition("app", exists=True, other_than=("web",)),), ports=("http=80/TCP", "no port named dns")),
        (Protocol.TCP,),
        PortRange(81, 81),
        packet,
    )
    assert region_problems(region) == []
    assert region_problems(region, attrs.evolve(packet, port=82)) == ["port 82 outside 81"]
    assert region_problems(region, attrs.evolve(packet, protocol=Protocol.UDP))
    assert region_problems(region, attrs.evolve(packet, src=attrs.evolve(_WEB, ip=ipaddress.ip_address("11.0.0.1"))))
    assert region_problems(region, attrs.evolve(packet, src=attrs.evolve(_WEB, namespace="other")))
    assert region_problems(region, attrs.evolve(packet, src=attrs.evolve(_WEB, labels=Labels())))
    assert region_problems(region, attrs.evolve(packet, dst=attrs.evolve(_API, labels=Labels.of(app="web"))))
    assert region_problems(region, attrs.evolve(packet, dst=attrs.evolve(_API, labels=Labels())))
    assert region_problems(region, attrs.evolve(packet, dst=attrs.evolve(_API, ports=())))
    assert region_problems(region, attrs.evolve(packet, dst=ExternalEndpoint(ipaddress.ip_address("10.0.0.2"))))


def test_corner_check_rejects_a_region_wider_than_the_difference() -> None:
    """check_difference catches a region that claims too much, in each dimension."""
    comparison, left, right = compare_case("widen-port")
    [diff] = comparison.only_right
    region = diff.region
    check_difference(diff, "right", left, right, ANY)
    too_wide = [
        attrs.evolve(region, ports=PortRange(80, 81)),
        attrs.evolve(region, protocols=(Protocol.TCP, Protocol.UDP)),
        attrs.evolve(region, src=attrs.evolve(region.src, labels=())),
        attrs.evolve(region, dst=attrs.evolve(region.dst, namespace=None)),
    ]
    for wide in too_wide:
        with pytest.raises(AssertionError, match="too wide"):
            check_difference(attrs.evolve(diff, region=wide), "right", left, right, ANY)
    with pytest.raises(AssertionError):
        check_difference(diff, "left", left, right, ANY)


# --- 1. equivalent rewrites ----------------------------------------------------------------

EQUIVALENT_CASES = [
    "split-rules",  # one rule with two peers vs two rules
    "split-policy",  # app In [api, worker] vs one policy per app
    "match-expressions",  # matchLabels vs matchExpressions In with one value
    "port-range",  # 80-81 vs 80 and 81
    "ipblock-split",  # 10.0.0.0/8 vs 10.0.0.0/9 + 10.128.0.0/9
    "ipblock-split-except",  # the same with excepts, each moved to the half it lies in
    "rename-reorder",  # policies renamed and reordered, rules reordered
    "policy-types",  # policyTypes defaulted vs written out (egress: [] adds no Egress)
]


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
@pytest.mark.parametrize("case", EQUIVALENT_CASES)
def test_refactor_is_proved_equivalent(case: str, universe: Universe) -> None:
    comparison, _, _ = compare_case(case, universe)
    assert comparison.only_left == () and comparison.only_right == (), str(comparison)
    assert comparison.left_complete and comparison.right_complete
    assert comparison.same is True
    assert comparison.reason == ""


@pytest.mark.parametrize("case", EQUIVALENT_CASES)
def test_refactor_sides_really_differ_in_text(case: str) -> None:
    """Guard against a fixture whose two files mean the same because they are the same."""
    old, new = load_case(case, "old.yaml"), load_case(case, "new.yaml")
    assert old.policies and new.policies
    assert (DATA / case / "old.yaml").read_text() != (DATA / case / "new.yaml").read_text()
    if case != "policy-types":  # the API server's defaulting makes those two identical
        assert old.policies != new.policies


def test_equivalence_ignores_policy_names_but_not_namespaces() -> None:
    """Names do not matter; moving a policy to another namespace does."""
    old = load_case("split-rules", "old.yaml")
    moved = attrs.evolve(old.policies[0], namespace="monitoring")
    comparison = equivalence(old, Cluster(policies=(moved,)), context())
    assert comparison.same is False
    assert comparison.only_left and comparison.only_right


# --- 2. single mutations -----------------------------------------------------------------------


def test_port_widened_by_one_is_found_on_port_81_only() -> None:
    comparison, left, right = compare_case("widen-port")
    assert comparison.same is False
    assert comparison.only_left == () and comparison.left_complete
    assert comparison.right_complete
    check_all(comparison, left, right, ANY)
    [diff] = comparison.only_right
    region = diff.region
    assert Protocol.TCP in region.protocols
    assert region.protocols == (Protocol.TCP,)
    assert region.ports == PortRange(81, 81)
    assert region.src.kind == "pod" and region.src.namespace == "shop"
    assert region.src.labels == (LabelCondition("app", "web"),)
    assert region.dst.kind == "pod" and region.dst.namespace == "shop"
    assert region.dst.labels == (LabelCondition("app", "api"),)
    # widened: no IP, workload or namespace-label restriction is left over
    assert region.src.cidr is None or region.src.cidr.prefixlen == 0
    assert region.dst.cidr is None or region.dst.cidr.prefixlen == 0
    assert region.src.workload is None and region.dst.workload is None
    assert diff.right.ingress.matches and diff.right.ingress.matches[0].policy.key == "shop/api"
    assert not diff.left.ingress.matches and diff.left.ingress.isolated


def test_port_widened_by_one_in_the_workloads_universe() -> None:
    comparison, left, right = compare_case("widen-port", WORKLOADS)
    assert comparison.same is False
    check_all(comparison, left, right, WORKLOADS)
    [diff] = comparison.only_right
    assert diff.region.ports == PortRange(81, 81) and diff.region.protocols == (Protocol.TCP,)
    assert diff.region.packet.src.workload == "shop/Deployment/web"
    assert diff.region.packet.dst.workload == "shop/Deployment/api"


def test_removed_except_opens_exactly_that_cidr() -> None:
    comparison, left, right = compare_case("drop-except")
    assert comparison.same is False
    assert comparison.only_left == () and comparison.left_complete and comparison.right_complete
    check_all(comparison, left, right, ANY)
    removed = ipaddress.ip_network("10.0.0.0/8")
    kinds = set()
    for diff in comparison.only_right:
        region = diff.region
        assert region.dst.cidr is not None and region.dst.cidr.subnet_of(removed), str(region)
        assert region.dst.cidr == removed, f"not widened to the whole except: {region}"
        assert region.packet.dst.ip in removed
        assert region.protocols == (Protocol.TCP,) and region.ports == PortRange(443, 443)
        assert region.src.labels == (LabelCondition("app", "web"),) and region.src.namespace == "shop"
        kinds.add(region.dst.kind)
    # an ipBlock matches pod IPs too (the default semantics): both kinds of destination
    assert kinds == {"pod", "external"}


def test_removed_except_is_not_a_difference_when_ipblocks_skip_pods() -> None:
    """With ipBlocks matching only external hosts, only external destinations differ."""
    ctx = context()
    old, new = load_case("drop-except", "old.yaml"), load_case("drop-except", "new.yaml")
    semantics = Semantics(ip_block_matches_pods=False)
    comparison = equivalence(old, new, ctx, semantics=semantics)
    assert comparison.same is False
    assert [d.region.dst.kind for d in comparison.only_right] == ["external"]
    for diff in comparison.only_right:
        check_difference(diff, "right", ctx.with_policies(old.policies), ctx.with_policies(new.policies), ANY, semantics)


def test_changed_label_value_differs_both_ways() -> None:
    comparison, left, right = compare_case("label-value")
    assert comparison.same is False and comparison.left_complete and comparison.right_complete
    check_all(comparison, left, right, ANY)
    [only_old] = comparison.only_left
    [only_new] = comparison.only_right
    assert only_old.region.src.labels == (LabelCondition("app", "web"),)
    assert only_new.region.src.labels == (LabelCondition("app", "frontend"),)
    for diff in (only_old, only_new):
        assert diff.region.src.namespace == "shop" and diff.region.dst.namespace == "shop"
        assert diff.region.dst.labels == (LabelCondition("app", "api"),)
        assert diff.region.protocols == (Protocol.TCP,) and diff.region.ports == PortRange(80, 80)


def test_changed_label_value_in_the_workloads_universe_only_loses_web() -> None:
    """No loaded workload is labelled app=frontend: the new side allows nothing more."""
    comparison, left, right = compare_case("label-value", WORKLOADS)
    assert comparison.same is False
    assert comparison.only_right == () and comparison.right_complete
    check_all(comparison, left, right, WORKLOADS)
    [diff] = comparison.only_left
    assert diff.region.packet.src.workload == "shop/Deployment/web"
    assert diff.region.packet.dst.workload == "shop/Deployment/api"


def _db_pod(labels: dict[str, str] | None = None) -> PodEndpoint:
    return PodEndpoint("shop", _SHOP_FULL, Labels.of(labels or {"app": "db"}), ipaddress.ip_address("10.0.0.1"), pod_id="db")


_SHOP_FULL = Labels.of({NAMESPACE_NAME_LABEL: "shop", "team": "shop", "env": "prod"})


def test_dropped_policy_type_frees_egress_except_dns() -> None:
    """db loses egress isolation: everything it sends differs, except UDP 53 (allowed by
    the old egress rule already) and packets the destination's ingress denies anyway."""
    comparison, left, right = compare_case("drop-policy-type", max_diffs=200)
    assert comparison.same is False
    assert comparison.only_left == () and comparison.left_complete
    assert comparison.right_complete, "raise max_diffs in this test"
    check_all(comparison, left, right, ANY)
    for diff in comparison.only_right:
        region = diff.region
        assert region.src.kind == "pod" and region.src.namespace == "shop", str(region)
        assert LabelCondition("app", "db") in region.src.labels, str(region)
        assert not (Protocol.UDP in region.protocols and region.ports.low <= 53 <= region.ports.high), str(region)
        assert diff.left.egress.isolated and not diff.right.egress.isolated
    # complete: concrete packets that differ lie in some region
    monitoring = Labels.of({NAMESPACE_NAME_LABEL: "monitoring", "team": "ops", "env": "prod"})
    samples = [
        Packet(_db_pod(), ExternalEndpoint(ipaddress.ip_address("8.8.8.8")), Protocol.TCP, 443),
        Packet(_db_pod(), ExternalEndpoint(ipaddress.ip_address("8.8.8.8")), Protocol.UDP, 123),
        Packet(_db_pod(), ExternalEndpoint(ipaddress.ip_address("2001:db8::1")), Protocol.TCP, 53),
        Packet(_db_pod(), PodEndpoint("monitoring", monitoring, Labels.of(app="prometheus"), ipaddress.ip_address("10.0.0.9"), pod_id="p"), Protocol.TCP, 9090),
    ]
    for packet in samples:
        assert (decide(left, packet).allowed, decide(right, packet).allowed) == (False, True)
        assert covered(comparison.only_right, packet), f"no region holds {packet!r}"


def test_dropped_policy_type_in_the_workloads_universe() -> None:
    comparison, left, right = compare_case("drop-policy-type", WORKLOADS, max_diffs=200)
    assert comparison.same is False and comparison.only_left == () and comparison.right_complete
    check_all(comparison, left, right, WORKLOADS)
    assert {d.region.packet.src.workload for d in comparison.only_right} == {"shop/StatefulSet/db"}


def test_and_turned_into_or_admits_two_new_kinds_of_source() -> None:
    comparison, left, right = compare_case("and-to-or", max_diffs=50)
    assert comparison.same is False
    assert comparison.only_left == () and comparison.left_complete and comparison.right_complete
    check_all(comparison, left, right, ANY)
    team_ops = LabelCondition("team", "ops")
    saw_ops_namespace = saw_prometheus_in_shop = False
    for diff in comparison.only_right:
        region = diff.region
        assert region.protocols == (Protocol.TCP,) and region.ports == PortRange(9090, 9090)
        assert region.dst.namespace == "shop" and LabelCondition("app", "api") in region.dst.labels
        app = next((c for c in region.src.labels if c.key == "app"), None)
        if region.src.namespace == "shop":
            # the podSelector-alone peer: prometheus pods of the policy's own namespace
            assert app == LabelCondition("app", "prometheus"), str(region)
            saw_prometheus_in_shop = True
        else:
            # the namespaceSelector-alone peer: any pod but prometheus in a team=ops namespace
            in_ops = team_ops in region.src.namespace_labels or region.src.namespace == "monitoring"
            assert in_ops, str(region)
            assert app is not None and not _condition_holds(app, {"app": "prometheus"}), str(region)
            saw_ops_namespace = True
    assert saw_ops_namespace and saw_prometheus_in_shop
    # complete: one packet of each new kind of source lies in a region
    ops = Labels.of({NAMESPACE_NAME_LABEL: "tools", "team": "ops"})
    api = PodEndpoint("shop", _SHOP_FULL, Labels.of(app="api", tier="backend"), ipaddress.ip_address("10.0.0.2"), pod_id="api")
    for src in (
        PodEndpoint("tools", ops, Labels.of(app="grafana"), ipaddress.ip_address("10.0.0.3"), pod_id="g"),
        PodEndpoint("tools", ops, Labels(), ipaddress.ip_address("10.0.0.3"), pod_id="g"),
        PodEndpoint("shop", _SHOP_FULL, Labels.of(app="prometheus"), ipaddress.ip_address("10.0.0.3"), pod_id="p"),
    ):
        packet = Packet(src, api, Protocol.TCP, 9090)
        assert (decide(left, packet).allowed, decide(right, packet).allowed) == (False, True)
        assert covered(comparison.only_right, packet), f"no region holds {packet!r}"


def test_and_turned_into_or_changes_nothing_for_the_loaded_workloads() -> None:
    """Only prometheus runs in a team=ops namespace, and no prometheus runs in shop."""
    comparison, _, _ = compare_case("and-to-or", WORKLOADS)
    assert comparison.same is True


def test_region_text_of_hosts_with_any_ip() -> None:
    """A region of external hosts of any IP (either family) must not read "in None"."""
    deny_egress = load_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-egress, namespace: shop}\n"
        "spec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
    )
    comparison = equivalence(deny_egress, Cluster(), context())
    external = [d.region for d in comparison.only_right if d.region.dst.kind == "external"]
    assert external, str(comparison)
    for region in external:
        assert region.dst.cidr is None or region.dst.cidr.prefixlen == 0
        assert "None" not in str(region.dst), f"region text: {region}"
        assert "None" not in str(region), f"region text: {region}"


def test_region_of_pods_with_a_label_only_exists_names() -> None:
    """A selector that reads a key only with Exists: the region of pods that carry the key
    (any value) must say so, not "!app" (pods without it, which the policy leaves alone)."""
    isolate_labelled = load_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-labelled, namespace: shop}\n"
        "spec:\n  podSelector:\n    matchExpressions:\n    - {key: app, operator: Exists}\n  policyTypes: [Egress]\n"
    )
    # no context: no workload or selector names a value of app
    comparison = equivalence(isolate_labelled, Cluster())
    assert comparison.same is False and comparison.only_left == ()
    assert comparison.only_right
    for diff in comparison.only_right:
        assert "app" in diff.region.packet.src.labels
        assert region_problems(diff.region) == [], f"{diff.region}: {region_problems(diff.region)}"
        assert "!app" not in str(diff.region.src), str(diff.region)


# --- max_diffs -----------------------------------------------------------------------------------


def test_max_diffs_one_truncates_and_says_so() -> None:
    comparison, left, right = compare_case("open-ports", max_diffs=1)
    assert comparison.same is False
    assert len(comparison.only_right) == 1
    assert comparison.right_complete is False
    assert comparison.only_left == () and comparison.left_complete is True
    check_all(comparison, left, right, ANY)
    assert "more exist" in str(comparison)


@pytest.mark.parametrize("max_diffs", [3, 100])
def test_enough_max_diffs_finds_every_disjoint_difference(max_diffs: int) -> None:
    comparison, left, right = compare_case("open-ports", max_diffs=max_diffs)
    assert comparison.same is False
    assert comparison.right_complete is True and comparison.left_complete is True
    check_all(comparison, left, right, ANY)
    ranges = sorted((d.region.ports for d in comparison.only_right), key=attrs.astuple)
    assert ranges == [PortRange(443, 443), PortRange(8080, 8080), PortRange(9090, 9090)]


def test_max_diffs_two_of_three() -> None:
    comparison, _, _ = compare_case("open-ports", max_diffs=2)
    assert len(comparison.only_right) == 2 and comparison.right_complete is False
    assert len({d.region.ports for d in comparison.only_right}) == 2


# --- 3. containment ----------------------------------------------------------------------------


def _containment(candidate: str, **options) -> tuple[Comparison, Cluster, Cluster]:
    ctx = context()
    baseline, cand = load_case("containment", "baseline.yaml"), load_case("containment", candidate)
    result = containment(baseline, cand, ctx, **options)
    return result, ctx.with_policies(baseline.policies), ctx.with_policies(cand.policies)


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_baseline_contains_a_strict_subset(universe: Universe) -> None:
    result, _, _ = _containment("subset.yaml", universe=universe)
    assert result.same is True
    assert result.only_left is None and result.only_right == ()
    assert result.right_complete
    # strict: the other way round is not contained
    ctx = context()
    reverse = containment(load_case("containment", "subset.yaml"), load_case("containment", "baseline.yaml"), ctx, universe=universe)
    assert reverse.same is False


def test_candidate_with_one_extra_port_is_not_contained() -> None:
    result, baseline, candidate = _containment("extra-port.yaml")
    assert result.same is False
    assert result.only_left is None
    check_all(result, baseline, candidate, ANY)
    [diff] = result.only_right
    assert diff.region.protocols == (Protocol.TCP,) and diff.region.ports == PortRange(8443, 8443)
    assert diff.region.src.labels == (LabelCondition("app", "web"),)
    assert LabelCondition("app", "api") in diff.region.dst.labels
    assert "NOT CONTAINED" in str(result)


def test_containment_only_asks_one_direction() -> None:
    """A candidate allowing less is contained even though it is not equivalent."""
    result, _, _ = _containment("subset.yaml")
    ctx = context()
    both = equivalence(load_case("containment", "baseline.yaml"), load_case("containment", "subset.yaml"), ctx)
    assert result.same is True and both.same is False
    assert both.only_right == () and both.only_left


# --- regions that differ only in which unnamed namespace they hold ----------------------------

_ALLOW_FROM_ANY_NAMESPACE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {}
"""


def test_regions_in_unnamed_namespaces_are_one_region_in_every_format() -> None:
    """Sources in any namespace vs in prod only: the difference is "sources in a namespace
    no policy names", once, not once per unnamed namespace the encoding keeps."""
    from npverify.report import github, json as json_report, junit, sarif, text

    left = load_text(_ALLOW_FROM_ANY_NAMESPACE)
    right = load_text(_ALLOW_FROM_ANY_NAMESPACE.replace("namespaceSelector: {}", "podSelector: {}"))
    comparison = equivalence(left, right)
    assert comparison.only_right == ()
    [diff] = comparison.only_left
    assert diff.region.src.unnamed_namespace
    # The region holds every unnamed namespace: a source in another one differs too.
    for namespace in ("unnamed-ns-1", "unnamed-ns-2", "elsewhere"):
        packet = attrs.evolve(diff.region.packet, src=attrs.evolve(diff.region.packet.src, namespace=namespace))
        assert (decide(left, packet).allowed, decide(right, packet).allowed) == (True, False)
    check_difference(diff, "left", left, right, ANY)
    description = str(diff.region)
    assert text.render_comparison(comparison).count(description) == 1
    assert len(json_report.comparison_json(comparison)["only_left"]) == 1
    assert len(__import__("json").loads(sarif.render_comparison(comparison))["runs"][0]["results"]) == 1
    assert github.render_comparison(comparison).count(description) == 1
    assert "1 region that only left allows" in junit.render_comparison(comparison)


def test_regions_with_the_same_description_are_reported_once() -> None:
    """The guard behind the widening: whatever made two regions read alike (a solver that
    gave up widening one, say), the comparison lists the description once, first packet kept."""
    from npverify.compare import _distinct

    packet = Packet(_WEB, _API, Protocol.TCP, 80)
    other = attrs.evolve(packet, src=attrs.evolve(_WEB, namespace="unnamed-ns-2"))
    src = EndpointRegion("pod", unnamed_namespace=True)
    first = Region(src, EndpointRegion("pod", namespace="shop"), (Protocol.TCP,), PortRange(80, 80), packet)
    second = attrs.evolve(first, packet=other)
    third = attrs.evolve(first, ports=PortRange(81, 81))
    assert _distinct((first, second, third)) == (first, third)
