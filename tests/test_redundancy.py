"""Redundancy and vacuity: exact items reported, with exactly the items that cover them.

Fixtures are ``tests/data/refactor/redundancy/<case>.yaml``, loaded with the shop context
(``tests/data/refactor/context.yaml``). Each redundant finding is also checked
semantically here: removing the item alone must leave every decision unchanged on a set
of concrete packets between the shop's workloads.
"""

from __future__ import annotations

import ipaddress
import itertools
from pathlib import Path

import pytest

from npverify.load import load_manifests, load_text
from npverify.model import (
    Cluster,
    Direction,
    Packet,
    PodEndpoint,
    PolicyItem,
    Protocol,
    Universe,
    policy_items,
)
from npverify.redundancy import COVERED, UNUSABLE, RedundancyReport, find_redundancy
from npverify.semantics import decide

DATA = Path(__file__).resolve().parent / "data" / "refactor"
ANY = Universe()
WORKLOADS = Universe(pods="workloads")


def load(case: str) -> Cluster:
    return load_manifests([DATA / "context.yaml", DATA / "redundancy" / f"{case}.yaml"])


def report_for(case: str, universe: Universe = ANY) -> tuple[RedundancyReport, Cluster]:
    cluster = load(case)
    report = find_redundancy(cluster, universe)
    assert report.undecided == (), report.undecided
    return report, cluster


def redundant(report: RedundancyReport) -> dict[str, set[str]]:
    return {str(r.item): {str(c) for c in r.covered_by} for r in report.redundant}


def vacuous(report: RedundancyReport) -> dict[str, str]:
    return {str(v.item): v.reason for v in report.vacuous}


def workload_packets(cluster: Cluster) -> list[Packet]:
    """Packets between distinct pods of the loaded workloads on every protocol and a few
    ports (each port the fixtures name, its neighbours, and 1)."""
    labels = {ns.name: ns.labels for ns in cluster.namespaces}
    pods = [
        PodEndpoint(w.namespace, labels[w.namespace], w.labels, ipaddress.ip_address(f"10.0.0.{i + 1}"), w.ports, workload=w.key, pod_id=w.key)
        for i, w in enumerate(cluster.workloads)
    ]
    ports = {1, 79, 80, 81, 443, 5432, 8080, 8081, 8090, 8091, 9090}
    return [
        Packet(src, dst, protocol, port)
        for src, dst in itertools.permutations(pods, 2)
        for protocol in Protocol
        for port in sorted(ports)
    ]


def assert_removal_changes_nothing(cluster: Cluster, item: PolicyItem) -> None:
    """The reference evaluator agrees that removing ``item`` alone changes no decision
    between the loaded workloads."""
    changed = item.without()
    others = tuple(p for p in cluster.policies if p != item.policy) + ((changed,) if changed is not None else ())
    without = cluster.with_policies(others)
    for packet in workload_packets(cluster):
        assert decide(cluster, packet).allowed == decide(without, packet).allowed, f"removing {item} changes {packet!r}"


def assert_removal_changes_something(cluster: Cluster, item: PolicyItem) -> None:
    changed = item.without()
    others = tuple(p for p in cluster.policies if p != item.policy) + ((changed,) if changed is not None else ())
    without = cluster.with_policies(others)
    assert any(
        decide(cluster, packet).allowed != decide(without, packet).allowed for packet in workload_packets(cluster)
    ), f"removing {item} changes nothing between the workloads"


def item(cluster: Cluster, text: str) -> PolicyItem:
    for policy in cluster.policies:
        for candidate in policy_items(policy):
            if str(candidate) == text:
                return candidate
    raise KeyError(text)


# --- redundant ------------------------------------------------------------------------------------


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_duplicated_rule_both_copies_cover_each_other(universe: Universe) -> None:
    report, cluster = report_for("duplicate-rule", universe)
    assert redundant(report) == {
        "shop/api ingress[0]": {"shop/api ingress[1]"},
        "shop/api ingress[1]": {"shop/api ingress[0]"},
    }
    assert vacuous(report) == {}
    assert report.clean is False
    assert [r.item.kind for r in report.redundant] == ["rule", "rule"]
    for entry in report.redundant:
        assert_removal_changes_nothing(cluster, entry.item)
    # removing both is not the same as removing one: the pair is needed
    assert_removal_changes_something(cluster, item(cluster, "shop/api"))


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_rule_subsumed_by_a_broader_rule_of_another_policy(universe: Universe) -> None:
    report, cluster = report_for("subsumed-rule", universe)
    assert redundant(report) == {"shop/api ingress[1]": {"shop/backend ingress[0]"}}
    assert vacuous(report) == {}
    assert_removal_changes_nothing(cluster, item(cluster, "shop/api ingress[1]"))
    # the broader rule is not redundant: it also admits other sources and the workers
    assert_removal_changes_something(cluster, item(cluster, "shop/backend ingress[0]"))
    assert_removal_changes_something(cluster, item(cluster, "shop/api ingress[0]"))


def test_peer_subsumed_by_another_peer_of_the_same_rule() -> None:
    report, cluster = report_for("subsumed-peer")
    assert redundant(report) == {"shop/api ingress[0].from[0]": {"shop/api ingress[0].from[1]"}}
    assert vacuous(report) == {}
    [entry] = report.redundant
    assert entry.item.kind == "peer"
    assert entry.item.location is not None
    assert (entry.item.location.line, entry.item.location.column) == (13, 7)
    assert entry.item.location.file.endswith("subsumed-peer.yaml")


def test_peers_redundant_each_way_when_no_admin_pod_is_loaded() -> None:
    """Among the loaded workloads app In [web, admin] and app=web select the same pods,
    so either peer alone can go."""
    report, cluster = report_for("subsumed-peer", WORKLOADS)
    assert redundant(report) == {
        "shop/api ingress[0].from[0]": {"shop/api ingress[0].from[1]"},
        "shop/api ingress[0].from[1]": {"shop/api ingress[0].from[0]"},
    }


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_port_inside_another_entrys_range(universe: Universe) -> None:
    report, cluster = report_for("subsumed-port", universe)
    assert redundant(report) == {"shop/api ingress[0].ports[1]": {"shop/api ingress[0].ports[0]"}}
    assert vacuous(report) == {}
    assert report.redundant[0].item.kind == "port"
    assert_removal_changes_nothing(cluster, item(cluster, "shop/api ingress[0].ports[1]"))
    assert_removal_changes_something(cluster, item(cluster, "shop/api ingress[0].ports[0]"))


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_duplicated_policy_both_copies_cover_each_other(universe: Universe) -> None:
    report, cluster = report_for("duplicate-policy", universe)
    assert redundant(report) == {"shop/db": {"shop/db-copy"}, "shop/db-copy": {"shop/db"}}
    assert vacuous(report) == {}
    assert [r.item.kind for r in report.redundant] == ["policy", "policy"]
    # a redundant policy settles its parts: none of its rules, peers or ports is listed
    assert report.items_checked == 2


# --- vacuous ---------------------------------------------------------------------------------------


def test_policy_selecting_no_loaded_pod_is_vacuous_among_workloads() -> None:
    report, cluster = report_for("selects-no-pod", WORKLOADS)
    assert vacuous(report) == {"shop/legacy-cart": "it selects no pod"}
    assert redundant(report) == {}
    assert report.clean is False
    [entry] = report.vacuous
    assert entry.item.kind == "policy" and entry.item.policy.name == "legacy-cart"


def test_policy_selecting_no_loaded_pod_still_counts_when_any_pod_may_come() -> None:
    report, _ = report_for("selects-no-pod", ANY)
    assert vacuous(report) == {} and redundant(report) == {}
    assert report.clean is True


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_egress_rules_of_an_ingress_only_policy_are_vacuous(universe: Universe) -> None:
    report, cluster = report_for("ignored-egress", universe)
    assert vacuous(report) == {"shop/api egress[0]": "policyTypes does not include Egress, so egress rules are ignored"}
    assert redundant(report) == {}
    [entry] = report.vacuous
    assert entry.item.direction is Direction.EGRESS and entry.item.kind == "rule"


def test_named_port_no_pod_defines_never_matches_among_workloads() -> None:
    report, cluster = report_for("unused-named-port", WORKLOADS)
    assert vacuous(report) == {
        "shop/api ingress[1]": "it matches no packet",
        "shop/api ingress[2].ports[1]": "it matches no packet",
    }
    assert redundant(report) == {}, "a vacuous item must not be reported again as redundant"


def test_named_port_counts_when_any_pod_may_define_it() -> None:
    report, _ = report_for("unused-named-port", ANY)
    assert report.clean is True, str(report)


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_self_contradicting_selectors_are_vacuous_in_any_universe(universe: Universe) -> None:
    report, cluster = report_for("never-matches", universe)
    assert vacuous(report) == {
        "shop/never": "it selects no pod",
        "shop/api ingress[0].from[0]": "it matches no packet",
    }
    assert redundant(report) == {}


# --- clean -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("universe", [ANY, WORKLOADS], ids=["any-pods", "workload-pods"])
def test_clean_policy_set_reports_nothing(universe: Universe) -> None:
    report, cluster = report_for("clean", universe)
    assert report.redundant == () and report.vacuous == () and report.undecided == (), str(report)
    assert report.clean is True
    every = [i for p in cluster.policies for i in policy_items(p)]
    assert report.items_checked == len(every)
    # and each of its items really matters, by the reference evaluator
    for candidate in every:
        assert_removal_changes_something(cluster, candidate)


def test_only_named_policies_are_checked() -> None:
    cluster = load("duplicate-policy")
    report = find_redundancy(cluster, ANY, policies=("shop/db-copy",))
    assert redundant(report) == {"shop/db-copy": {"shop/db"}}
    assert report.items_checked == 1


def test_port_entries_covered_from_the_other_end() -> None:
    """web may send to api only on 80 and api admits web only on 80: each port entry
    alone is redundant, because the other end's rule already restricts the port."""
    text = (DATA / "redundancy" / "clean.yaml").read_text()
    mirrored = text + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web-egress
  namespace: shop
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes:
  - Egress
  egress:
  - to:
    - podSelector:
        matchLabels:
          app: api
    ports:
    - port: 80
"""
    cluster = load("clean").with_policies(load_text(mirrored, "mirrored.yaml").policies)
    report = find_redundancy(cluster, ANY)
    assert report.undecided == ()
    assert set(redundant(report)) == {"shop/web-egress egress[0].ports[0]", "shop/api ingress[0].ports[0]"}
    assert vacuous(report) == {}
    for entry in report.redundant:
        assert_removal_changes_nothing(cluster, entry.item)


@pytest.mark.parametrize("case", ["duplicate-policy", "subsumed-port"])
def test_workers_report_what_one_process_reports(case: str) -> None:
    """``jobs`` splits the policies between worker processes; the findings, their order
    and the count of checked items stay the same."""
    cluster = load(case)
    one = find_redundancy(cluster, ANY, jobs=1)
    two = find_redundancy(cluster, ANY, jobs=2)
    assert one.redundant, "the case must have findings for the comparison to mean something"
    assert (two.redundant, two.vacuous, two.undecided, two.items_checked) == (
        one.redundant,
        one.vacuous,
        one.undecided,
        one.items_checked,
    )


# --- why an item changes nothing --------------------------------------------------------------


def reasons(report: RedundancyReport) -> dict[str, tuple[str, str]]:
    return {str(r.item): (r.why, r.reason) for r in report.redundant}


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "whole-cluster"])
def test_covered_rule_says_which_rule_allows_its_packets_anyway(shortcuts: bool) -> None:
    report = find_redundancy(load("duplicate-rule"), ANY, shortcuts=shortcuts)
    assert reasons(report) == {
        "shop/api ingress[0]": (COVERED, "covered: every packet it allows is allowed anyway by shop/api ingress[1]"),
        "shop/api ingress[1]": (COVERED, "covered: every packet it allows is allowed anyway by shop/api ingress[0]"),
    }
    assert all(r.example is None for r in report.redundant)


def test_covered_policy_says_the_others_decide_its_pods_the_same() -> None:
    report = find_redundancy(load("duplicate-policy"), ANY, policies=("shop/db-copy",))
    [entry] = report.redundant
    assert entry.why == COVERED
    assert entry.reason == "covered: without it, the pods it selects allow and deny exactly the same Ingress traffic, by shop/db"


ALLOW_ALL_ALONE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress: [{}]
"""


def test_covered_policy_that_allows_everything_it_isolates() -> None:
    """No other policy selects its pods: it is redundant because it allows all their
    traffic, as no policy would; saying "covered by" nothing would not explain that."""
    cluster = load_manifests([DATA / "context.yaml"]).with_policies(load_text(ALLOW_ALL_ALONE).policies)
    report = find_redundancy(cluster, ANY)
    [entry] = report.redundant
    assert (str(entry.item), entry.why, entry.covered_by) == ("shop/allow-all", COVERED, ())
    assert entry.reason == "covered: it allows all the Ingress traffic of the pods it selects, as no policy at all would"
    assert_removal_changes_nothing(cluster, entry.item)


WIDENING_PORT = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: TCP}]
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{protocol: UDP}, {protocol: SCTP}]
"""


def test_covered_last_port_entry_says_what_its_removal_would_add() -> None:
    """Removing a rule's only port entry widens the rule to every port: what that adds
    (UDP and SCTP) is allowed anyway, which is not "its packets are allowed anyway"."""
    cluster = load_manifests([DATA / "context.yaml"]).with_policies(load_text(WIDENING_PORT).policies)
    report = find_redundancy(cluster, ANY)
    assert reasons(report) == {
        "shop/api ingress[0].ports[0]": (
            COVERED,
            "covered: without it its rule would match every port, and every packet that adds is allowed anyway",
        )
    }


UNUSABLE_RULE = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: monitoring}
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}
    ports: [{port: 9090}]
  - from:
    - podSelector: {matchLabels: {app: web}}
"""


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "whole-cluster"])
def test_unusable_rule_names_the_policy_that_denies_at_the_other_end(shortcuts: bool) -> None:
    """Every source the rule admits is denied egress by monitoring/deny-all: not "covered"
    (nothing else admits them), and deleting the rule breaks the day that policy goes."""
    cluster = load_manifests([DATA / "context.yaml"]).with_policies(load_text(UNUSABLE_RULE, "unusable.yaml").policies)
    report = find_redundancy(cluster, ANY, shortcuts=shortcuts)
    assert reasons(report) == {
        "shop/api ingress[0]": (UNUSABLE, "unusable: every packet it alone allows is denied egress by its source anyway")
    }
    [entry] = report.redundant
    assert entry.covered_by == ()
    example = entry.example
    assert example is not None and not example.allowed
    assert [p.key for p in example.egress.isolating] == ["monitoring/deny-all"] and not example.egress.matches
    assert [str(m.rule_index) for m in example.ingress.matches] == ["0"]
    assert example.packet.src.namespace == "monitoring" and example.packet.port == 9090
    # without monitoring/deny-all the rule matters
    alone = cluster.with_policies(tuple(p for p in cluster.policies if p.name != "deny-all"))
    assert_removal_changes_something(alone, item(alone, "shop/api ingress[0]"))


def test_unusable_last_port_entries_from_the_other_end() -> None:
    """web sends to api only on 80 and api admits web only on 80: without either port
    entry its rule would match every port, and the other end denies what that adds."""
    text = (DATA / "redundancy" / "clean.yaml").read_text() + (
        "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web-egress, namespace: shop}\n"
        "spec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n"
        "  egress:\n  - to: [{podSelector: {matchLabels: {app: api}}}]\n    ports: [{port: 80}]\n"
    )
    cluster = load("clean").with_policies(load_text(text, "mirrored.yaml").policies)
    report = find_redundancy(cluster, ANY)
    assert reasons(report) == {
        "shop/web-egress egress[0].ports[0]": (
            UNUSABLE,
            "unusable: every packet its rule would add without it is denied ingress by its destination anyway",
        ),
        "shop/api ingress[0].ports[0]": (
            UNUSABLE,
            "unusable: every packet its rule would add without it is denied egress by its source anyway",
        ),
    }
    for entry in report.redundant:
        assert entry.example is not None and not entry.example.allowed


def test_unusable_reason_and_example_in_every_format() -> None:
    """The reason and the denying policy of the example reach every format."""
    import json

    import jsonschema

    from npverify.report import github, html, junit, sarif, text
    from npverify.report import json as json_report

    cluster = load_manifests([DATA / "context.yaml"]).with_policies(load_text(UNUSABLE_RULE, "unusable.yaml").policies)
    report = find_redundancy(cluster, ANY)
    reason = "unusable: every packet it alone allows is denied egress by its source anyway"
    denial = "source egress: denied; isolated by monitoring/deny-all (unusable.yaml:1:1) and no rule matches"
    rendered = text.render_redundancy(report)
    assert f"         {reason}\n" in rendered and denial in rendered and "e.g. TCP port 9090" in rendered
    doc = json.loads(json_report.render_redundancy(report))
    schema = json.loads((Path(__file__).parents[1] / "specs" / "redundancy.schema.json").read_text())
    jsonschema.validate(doc, schema)
    [entry] = doc["redundant"]
    assert (entry["why"], entry["reason"], entry["covered_by"]) == ("unusable", reason, [])
    assert entry["example"]["packet"]["port"] == 9090 and denial in entry["example"]["decision"]["text"]
    [result] = json.loads(sarif.render_redundancy(report))["runs"][0]["results"]
    assert reason in result["message"]["text"] and denial in result["message"]["text"]
    assert any("monitoring/deny-all" in r["message"]["text"] for r in result["relatedLocations"])
    assert reason in junit.render_redundancy(report) and "monitoring/deny-all" in junit.render_redundancy(report)
    assert reason in github.render_redundancy(report).replace("%0A", "\n")
    assert reason in html.render_redundancy_html(report)


def test_non_redundant_invariant_says_why_each_item_changes_nothing() -> None:
    from npverify.api import check
    from npverify.invariants.model import Invariant, InvariantKind
    from npverify.results import Verdict

    cluster = load_manifests([DATA / "context.yaml"]).with_policies(load_text(UNUSABLE_RULE, "unusable.yaml").policies)
    result = check(cluster, Invariant("lean", InvariantKind.NON_REDUNDANT))
    assert result.verdict is Verdict.REFUTED
    assert result.reason == (
        "redundant rule shop/api ingress[0] (unusable: every packet it alone allows is denied egress by its source anyway)"
    )


def test_redundant_item_whose_why_the_solver_could_not_settle_says_so(monkeypatch) -> None:
    """Redundant by the whole-cluster check, but the local check that tells covered from
    unusable gave up: no claim either way."""
    from npverify.redundancy import UNEXPLAINED
    from npverify.smt import LocalChecker, Outcome, Status

    monkeypatch.setattr(LocalChecker, "differs", lambda self, *args, **kwargs: Outcome(Status.UNKNOWN, reason="canceled"))
    report = find_redundancy(load("duplicate-rule"), ANY, shortcuts=False)
    assert {str(r.item): r.why for r in report.redundant} == {"shop/api ingress[0]": UNEXPLAINED, "shop/api ingress[1]": UNEXPLAINED}
    assert all(r.covered_by == () and r.example is None and "could not tell" in r.reason for r in report.redundant)


# --- many ipBlock peers in one rule (issue 13.6) ----------------------------------------------


def _allow_list(peers: int) -> Cluster:
    """shop/api admits ``peers`` ipBlock peers: /24s nested in 10.0.0.0/16 (the first peer,
    with a hole at 10.0.7.0/24), then disjoint /24s of 172.16.0.0/12."""
    from npverify.model import IPBlock, LabelSelector, NetworkPolicy, Peer, Rule

    wide = Peer(ip_block=IPBlock(ipaddress.ip_network("10.0.0.0/16"), (ipaddress.ip_network("10.0.7.0/24"),)))
    nested = [Peer(ip_block=IPBlock(ipaddress.ip_network(f"10.0.{i}.0/24"))) for i in range(1, peers // 2)]
    disjoint = [Peer(ip_block=IPBlock(ipaddress.ip_network(f"172.16.{i}.0/24"))) for i in range(peers - 1 - len(nested))]
    policy = NetworkPolicy("shop", "allow-list", LabelSelector({"app": "api"}), ingress=[Rule([wide, *nested, *disjoint])])
    return Cluster(policies=[policy])


def test_ip_block_peers_covered_by_a_wider_peer_take_no_solver_call_per_pair(monkeypatch) -> None:
    """A /24 inside the wider peer is covered by it alone; one in its except hole is not
    redundant. The solver is asked a bounded number of times per item: comparing each
    redundant peer with every other peer by the solver made a rule of 160 peers take 23 s."""
    from npverify.smt import LocalChecker

    calls = []
    applies = LocalChecker.applies
    monkeypatch.setattr(LocalChecker, "applies", lambda self, *items: calls.append(items) or applies(self, *items))
    report = find_redundancy(_allow_list(40), ANY)
    covered = {f"shop/allow-list ingress[0].from[{i}]" for i in range(1, 20) if i != 7}
    assert {str(r.item) for r in report.redundant} == covered
    wide = "shop/allow-list ingress[0].from[0]"
    assert all(r.why == COVERED and [str(c) for c in r.covered_by] == [wide] for r in report.redundant)
    assert all(r.reason == f"covered: every packet it allows is allowed anyway by {wide}" for r in report.redundant)
    assert len(calls) <= 3 * len(policy_items(_allow_list(40).policies[0]))
    reference = find_redundancy(_allow_list(40), ANY, shortcuts=False)
    assert [(r.item, r.covered_by, r.why, r.reason) for r in reference.redundant] == [
        (r.item, r.covered_by, r.why, r.reason) for r in report.redundant
    ]
