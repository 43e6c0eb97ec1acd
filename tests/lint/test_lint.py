"""npverify lint: each rule firing and not firing, annotations, configuration, the CLI."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from click.testing import CliRunner

from npverify.cli import main
from npverify.errors import InputError
from npverify.invariants.parser import parse_invariants
from npverify.lint import LintConfig, lint
from npverify.load import load_manifests, load_text
from npverify.model import Severity, Universe
from npverify.semantics import decide

DATA = os.path.join(os.path.dirname(__file__), "data")
WORKLOADS = Universe(pods="workloads", namespaces="declared")


def _load(name: str):
    return load_manifests([os.path.join(DATA, name)], cache=False)


def _rules(report) -> list[str]:
    return [f.rule for f in report.findings]


def test_dns_allowed_by_a_namespace_selector_covering_kube_system_is_no_finding_and_udp_only_is():
    report = lint(_load("dns.yaml"))
    (finding,) = report.findings
    assert finding.rule == "dns-blocked" and finding.severity is Severity.ERROR
    # shop's egress to namespaceSelector: {} on 53 covers kube-system: proved, no finding.
    assert finding.object.namespace == "batch" and finding.object.name == "worker-egress"
    # A pattern matcher sees a rule to kube-dns on port 53; the proof finds TCP/53 blocked.
    assert finding.packet.port == 53 and str(finding.packet.protocol) == "TCP"
    assert finding.location.line == 53
    assert not decide(_load("dns.yaml"), finding.packet).allowed


def test_dns_blocked_by_an_admin_deny_and_let_through_by_an_admin_accept():
    (finding,) = lint(_load("tiers.yaml")).findings
    assert finding.rule == "dns-blocked" and finding.object.kind == "AdminNetworkPolicy"
    assert "anp/dev-lockdown" in finding.message
    # A NetworkPolicy isolates dev's egress, but the Admin tier accepts DNS first.
    assert lint(_load("tiers-accept.yaml")).findings == ()


def test_dns_blocked_finds_each_culprit_once():
    text = open(os.path.join(DATA, "dns.yaml")).read().replace("name: web-egress", "name: web-egress-x").replace(
        "ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]", "ports: [{port: 54}]"
    )
    report = lint(load_text(text, "dns.yaml"))
    assert sorted(f.object.name for f in report.findings) == ["web-egress-x", "worker-egress"]


def test_mistakes_each_rule_fires_once_where_expected():
    report = lint(_load("mistakes.yaml"), WORKLOADS)
    found = {(f.rule, f.object.name) for f in report.findings}
    assert found == {
        ("selects-nothing", "typo"),
        ("ignored-rules", "web-ingress"),
        ("unusable-rule", "from-batch"),
        ("unknown-named-port", "named-port"),
    }
    messages = {f.rule: f for f in report.findings}
    assert "did you mean 'web'" in messages["selects-nothing"].details[0]
    assert "did you mean 'http'" in messages["unknown-named-port"].message
    # The unusable rule's packet is denied by the evaluator, at the source's egress.
    unusable = messages["unusable-rule"]
    assert not unusable.decision.allowed and not unusable.decision.egress.allowed
    # No DNS pods are loaded: dns-blocked says it did not run rather than passing silently.
    assert [s.rule for s in report.skipped] == ["dns-blocked"]


def test_overly_broad_fires_when_a_packet_gets_in_and_not_when_the_proof_says_none_can():
    # In the 'any' universe a pod of some other namespace reaches shop through each rule:
    # typo's rule has no 'from' at all, open's admits namespaceSelector: {}.
    report = lint(_load("mistakes.yaml"))
    broad = [f for f in report.findings if f.rule == "overly-broad"]
    assert [f.object.name for f in broad] == ["typo", "open"] and broad[0].severity is Severity.WARNING
    assert "every namespace" in broad[1].message and "every source" in broad[0].message
    for finding in broad:
        assert decide(_load("mistakes.yaml"), finding.packet).allowed
        assert finding.packet.src.namespace != "shop"
    # Declared namespaces only: the only other namespace (batch) may send nothing.
    assert "overly-broad" not in _rules(lint(_load("mistakes.yaml"), WORKLOADS))


def test_selects_nothing_and_named_ports_need_the_workloads_universe():
    report = lint(_load("mistakes.yaml"))
    assert {"selects-nothing", "unknown-named-port"} <= {s.rule for s in report.skipped}
    assert "selects-nothing" not in _rules(report) and "unknown-named-port" not in _rules(report)


def test_shadowed_and_redundant_run_when_enabled_with_redundants_wording():
    config = LintConfig(enabled=frozenset({"shadowed", "redundant"}))
    report = lint(_load("mistakes.yaml"), WORKLOADS, config=config)
    shadowed = [f for f in report.findings if f.rule == "shadowed"]
    assert shadowed and all("covered" in f.message for f in shadowed)
    assert "shadowed" not in _rules(lint(_load("mistakes.yaml"), WORKLOADS))


def test_annotation_silences_and_is_counted():
    text = open(os.path.join(DATA, "mistakes.yaml")).read().replace(
        "metadata: {name: typo, namespace: shop}", "metadata: {name: typo, namespace: shop, annotations: {npverify.io/ignore: 'selects-nothing'}}"
    )
    report = lint(load_text(text, "m.yaml"), WORKLOADS)
    assert "selects-nothing" not in _rules(report)
    assert [f.rule for f in report.silenced] == ["selects-nothing"]


def test_annotation_with_an_unknown_rule_is_an_error_with_did_you_mean():
    text = open(os.path.join(DATA, "mistakes.yaml")).read().replace(
        "metadata: {name: typo, namespace: shop}", "metadata: {name: typo, namespace: shop, annotations: {npverify.io/ignore: 'selects-nothin'}}"
    )
    with pytest.raises(InputError) as error:
        lint(load_text(text, "m.yaml"), WORKLOADS)
    message = str(error.value.diagnostics[0])
    assert "m.yaml:" in message and "did you mean 'selects-nothing'" in message


def test_lint_section_of_the_invariants_file():
    spec = parse_invariants(
        "lint:\n  enable: [shadowed]\n  disable: [overly-broad]\n  failOn: warning\n  rules:\n"
        "    dns-blocked: {severity: warning, namespace: dns, labels: {app: coredns}}\n"
        "    overly-broad: {namespaceLabels: {tier: prod}}\n",
        "inv.yaml",
    )
    config = spec.lint
    assert spec.invariants == ()
    assert config.runs("shadowed") and not config.runs("overly-broad") and not config.runs("redundant")
    assert config.fail_on is Severity.WARNING and config.severity("dns-blocked") is Severity.WARNING
    assert config.dns_namespace == "dns" and dict(config.dns_labels) == {"app": "coredns"}
    assert dict(config.production_labels) == {"tier": "prod"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("lint: {enable: [dns-blokced]}\n", "inv.yaml:1:17: error: lint.enable[0]: unknown lint rule 'dns-blokced'; did you mean 'dns-blocked'?"),
        ("lint: {rules: {overly-brod: {}}}\n", "did you mean 'overly-broad'?"),
        ("lint: {rules: {dns-blocked: {namespaceLabels: {a: b}}}}\n", "unknown field 'namespaceLabels'"),
        ("lint: {failOn: warn}\n", "did you mean 'warning'?"),
    ],
)
def test_lint_section_errors(text, expected):
    with pytest.raises(InputError) as error:
        parse_invariants(text, "inv.yaml")
    assert expected in str(error.value.diagnostics[0])


def test_a_file_without_lint_still_needs_invariants():
    with pytest.raises(InputError, match="missing required field 'invariants'"):
        parse_invariants("universe: {pods: any}\n", "inv.yaml")


def _cli(*args):
    return CliRunner().invoke(main, ["lint", *args], catch_exceptions=False)


def test_cli_exit_codes_and_fail_on():
    path = os.path.join(DATA, "mistakes.yaml")
    assert _cli(path).exit_code == 1  # ignored-rules is an error in every universe
    # Left: warnings only (overly-broad, unusable-rule), below the default --fail-on.
    assert _cli(path, "--disable", "ignored-rules").exit_code == 0
    assert _cli(path, "--disable", "ignored-rules", "--fail-on", "warning").exit_code == 1
    assert _cli(path, "--pods", "workloads", "--namespaces", "declared").exit_code == 1
    assert _cli(path, "--pods", "workloads", "--disable", "ignored-rules,unknown-named-port").exit_code == 0


def test_cli_unknown_rule_is_bad_input():
    result = _cli(os.path.join(DATA, "dns.yaml"), "--enable", "shadowd")
    assert result.exit_code == 2 and "did you mean 'shadowed'?" in result.output


def test_cli_undecided_is_exit_3(tmp_path):
    # An rlimit of 1 leaves the solver's question undecided: never a pass.
    path = tmp_path / "dns.yaml"
    path.write_text(_dns_text(("ports: [{port: 53, protocol: UDP}]\n", "ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n")))
    assert _cli(str(path)).exit_code == 0  # DNS allowed for every pod, proved
    result = _cli(str(path), "--rlimit", "1")
    assert result.exit_code == 3 and "undecided: dns-blocked" in result.output
    # The evaluator still finds worker-egress's denied packet without the solver: an
    # error, and the solver's undecided question besides (exit 1: a finding fails first).
    result = _cli(os.path.join(DATA, "dns.yaml"), "--rlimit", "1")
    assert result.exit_code == 1 and "dns-blocked: pod {app=worker}" in result.output and "undecided: dns-blocked" in result.output


def test_json_report_matches_its_schema():
    result = _cli(os.path.join(DATA, "mistakes.yaml"), "--format", "json", "--pods", "workloads", "--namespaces", "declared")
    schema = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "specs", "lint.schema.json")))
    document = json.loads(result.output)
    jsonschema.validate(document, schema)
    assert {f["rule"] for f in document["findings"]} >= {"ignored-rules", "selects-nothing"}


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "junit", "github"])
def test_golden(output_format, golden, monkeypatch):
    monkeypatch.chdir(os.path.join(DATA, ".."))
    result = _cli("data/mistakes.yaml", "--format", output_format, "--pods", "workloads", "--namespaces", "declared")
    text = result.output
    if output_format == "json":
        document = json.loads(text)
        document["seconds"] = 0
        text = json.dumps(document, indent=2) + "\n"
    import re

    text = re.sub(r"\d+\.\d+ s\)", "0.00 s)", text)
    text = re.sub(r'time="[0-9.]+"', 'time="0"', text)
    text = re.sub(r'"uri": "file://[^"]*"', '"uri": "ROOT"', text)
    golden(f"lint.{output_format}", text)


def _without_witnesses(monkeypatch):
    """Every rule asked of the solver: the witnesses only ever save questions."""
    from npverify.lint import check

    monkeypatch.setattr(check._Witnesses, "usable", lambda self, policy, direction, rule: (False, {}))
    monkeypatch.setattr(check._Witnesses, "usable_with", lambda self, entry, invariant, found: False)


def _findings(report) -> list[tuple]:
    return [(f.rule, f.message) for f in report.findings]


@pytest.mark.parametrize("name", ["mistakes.yaml", "tiers.yaml", "tiers-accept.yaml", "partner.yaml", "dns.yaml"])
@pytest.mark.parametrize("universe", [Universe(), WORKLOADS])
def test_unusable_rule_is_the_same_with_the_solver_alone(name, universe, monkeypatch):
    config = LintConfig(disabled=frozenset({"dns-blocked", "overly-broad"}))
    fast = lint(_load(name), universe, config=config)
    _without_witnesses(monkeypatch)
    slow = lint(_load(name), universe, config=config)
    assert [f.rule for f in slow.undecided] == [f.rule for f in fast.undecided]
    # The same rules are found unusable; the example packet may differ (witness or solver).
    def rules(report):
        return [(f.rule, f.message.split(", e.g. ")[0]) for f in report.findings]

    assert rules(slow) == rules(fast)


@pytest.mark.parametrize("tiers", [(), ("--cluster-policies",)], ids=["networkpolicies", "tiers"])
def test_unusable_rule_generated_cluster_the_same_with_the_solver_alone(tmp_path, monkeypatch, tiers):
    import subprocess
    import sys

    generate = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "generate.py")
    size = ["--namespaces", "4", "--pods-per-namespace", "6", "--policies-per-namespace", "10", "--seed", "3", *tiers]
    subprocess.run([sys.executable, generate, *size, "--out", str(tmp_path)], check=True, capture_output=True, timeout=60)
    cluster = load_manifests([str(tmp_path / "k8s")], cache=False)
    config = LintConfig(enabled=frozenset({"unusable-rule"}), disabled=frozenset({"dns-blocked", "overly-broad", "selects-nothing", "ignored-rules", "unknown-named-port"}))
    fast = {u: lint(cluster, u, config=config) for u in (Universe(), WORKLOADS)}
    # In the declared universe some rules admit only pods no workload has: the generator's
    # cross-namespace rules name teams of other namespaces' sizes.
    assert any(f.rule == "unusable-rule" for f in fast[WORKLOADS].findings)
    _without_witnesses(monkeypatch)
    for universe, report in fast.items():
        slow = lint(cluster, universe, config=config)
        assert [f.message.split(", e.g. ")[0] for f in slow.findings] == [f.message.split(", e.g. ")[0] for f in report.findings]
        assert not slow.undecided and not report.undecided
        for finding in report.findings:
            assert not decide(cluster, finding.packet).allowed


def test_unusable_rule_made_pod_shows_a_rule_usable_without_the_solver(monkeypatch):
    from npverify.engine import Verifier

    def no_solver(*args, **kwargs):
        raise AssertionError("the solver was asked")

    monkeypatch.setattr(Verifier, "allowed_each", no_solver)
    config = LintConfig(disabled=frozenset({"dns-blocked", "overly-broad"}))
    # A pod of a namespace labelled team: partner that no manifest holds gets through.
    assert lint(_load("partner.yaml"), config=config).findings == ()
    # Declared namespaces only: no such pod, and no packet at all: no finding (the peer
    # selects nothing, which selects-nothing reports).
    monkeypatch.undo()
    report = lint(_load("partner.yaml"), WORKLOADS, config=config)
    assert _rules(report) == ["selects-nothing"]


def test_the_invariants_schema_knows_every_rule_and_a_file_with_lint_alone():
    from npverify.lint import RULE_IDS

    root = os.path.join(os.path.dirname(__file__), "..", "..")
    schema = json.load(open(os.path.join(root, "specs", "invariants.schema.json")))
    assert tuple(schema["$defs"]["lintRuleId"]["enum"]) == RULE_IDS
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"lint": {"enable": ["shadowed"], "rules": {"overly-broad": {"namespaceLabels": {"env": "prod"}}}}}))
    assert list(validator.iter_errors({"universe": {"pods": "any"}}))  # neither invariants nor lint
    assert list(validator.iter_errors({"lint": {"rules": {"unusable-rule": {"labels": {}}}}}))


def _dns_text(*replacements) -> str:
    text = open(os.path.join(DATA, "dns.yaml")).read()
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return text


# A second workload in batch: worker-egress blocks it too.
_REPORTER = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reporter, namespace: batch}\nspec:\n  selector: {matchLabels: {app: reporter}}\n  template:\n    metadata: {labels: {app: reporter}}\n    spec: {containers: [{name: c, image: i}]}\n"


def test_dns_blocked_silenced_by_the_example_pods_workload_still_finds_the_other_pods():
    text = _dns_text(
        ("metadata: {name: worker, namespace: batch}", "metadata: {name: worker, namespace: batch, annotations: {npverify.io/ignore: dns-blocked}}")
    ) + _REPORTER
    report = lint(load_text(text, "dns.yaml"), Universe(pods="workloads"))
    # worker-egress blocks both workloads: the silenced worker does not hide reporter.
    (finding,) = report.findings
    assert finding.rule == "dns-blocked" and finding.packet.src.workload == "batch/Deployment/reporter"
    (silenced,) = report.silenced
    assert silenced.packet.src.workload == "batch/Deployment/worker" and silenced.object.name == "worker-egress"
    # Without the annotation, worker-egress is one culprit: reported once.
    plain = lint(load_text(_dns_text() + _REPORTER, "dns.yaml"), Universe(pods="workloads"))
    assert [f.object.name for f in plain.findings] == ["worker-egress"] and plain.silenced == ()


def test_dns_blocked_silenced_by_the_example_pods_namespace():
    text = _dns_text(("metadata: {name: batch}", "metadata: {name: batch, annotations: {npverify.io/ignore: dns-blocked}}"))
    report = lint(load_text(text, "dns.yaml"))
    assert report.findings == ()
    assert [f.object.name for f in report.silenced] == ["worker-egress"]
    assert {str(ref) for ref in report.silenced[0].objects} >= {"NetworkPolicy batch/worker-egress", "Namespace batch"}


def test_a_namespace_annotation_silences_its_policies_findings():
    text = open(os.path.join(DATA, "mistakes.yaml")).read().replace(
        "metadata: {name: shop, labels: {environment: production}}",
        "metadata: {name: shop, labels: {environment: production}, annotations: {npverify.io/ignore: 'ignored-rules,selects-nothing'}}",
    )
    report = lint(load_text(text, "m.yaml"), WORKLOADS)
    assert sorted(f.rule for f in report.silenced) == ["ignored-rules", "selects-nothing"]
    assert {"ignored-rules", "selects-nothing"}.isdisjoint(_rules(report))
    # A workload annotation does not silence a finding about a policy that selects it.
    text = open(os.path.join(DATA, "mistakes.yaml")).read().replace(
        "metadata: {name: web, namespace: shop}", "metadata: {name: web, namespace: shop, annotations: {npverify.io/ignore: ignored-rules}}"
    )
    assert "ignored-rules" in _rules(lint(load_text(text, "m.yaml"), WORKLOADS))


def test_annotation_on_a_workload_with_an_unknown_rule_is_an_error():
    text = _dns_text(("metadata: {name: worker, namespace: batch}", "metadata: {name: worker, namespace: batch, annotations: {npverify.io/ignore: dns-blockd}}"))
    with pytest.raises(InputError) as error:
        lint(load_text(text, "dns.yaml"))
    assert "did you mean 'dns-blocked'" in str(error.value.diagnostics[0])


def test_junit_counts_and_lists_silenced_findings():
    import xml.etree.ElementTree as ET

    from npverify.report.junit import render_lint

    text = open(os.path.join(DATA, "mistakes.yaml")).read().replace(
        "metadata: {name: typo, namespace: shop}", "metadata: {name: typo, namespace: shop, annotations: {npverify.io/ignore: 'selects-nothing'}}"
    )
    root = ET.fromstring(render_lint(lint(load_text(text, "m.yaml"), WORKLOADS)))
    (silenced,) = root.findall("testsuite/properties/property[@name='silenced']")
    assert silenced.get("value") == "1"
    (case,) = root.findall("testsuite/testcase[@name='selects-nothing']")
    assert case.find("failure") is None and "1 silenced by npverify.io/ignore" in case.find("system-out").text
    assert "shop/typo" in case.find("system-out").text
    (dns,) = root.findall("testsuite/testcase[@name='dns-blocked']")
    assert dns.find("system-out").text.startswith("did not run: no loaded pod in namespace kube-system")


def test_a_rule_of_an_ignored_direction_is_reported_once_by_ignored_rules():
    config = LintConfig(enabled=frozenset({"redundant"}))
    report = lint(_load("mistakes.yaml"), WORKLOADS, config=config)
    about_web_ingress = [f.rule for f in report.findings if f.object.name == "web-ingress"]
    assert about_web_ingress == ["ignored-rules"]
    # Without ignored-rules, redundant says it (vacuous, with redundant's wording).
    config = LintConfig(enabled=frozenset({"redundant"}), disabled=frozenset({"ignored-rules"}))
    report = lint(_load("mistakes.yaml"), WORKLOADS, config=config)
    (finding,) = [f for f in report.findings if f.object.name == "web-ingress"]
    assert finding.rule == "redundant" and "vacuous: policyTypes does not include Egress" in finding.message


def test_unknown_named_port_in_a_cluster_rule():
    report = lint(_load("cluster-ports.yaml"), WORKLOADS, config=LintConfig(disabled=frozenset({"dns-blocked"})))
    named = [f for f in report.findings if f.rule == "unknown-named-port"]
    # htps: no shop pod defines it (did you mean https); dns is defined for UDP, which a
    # cluster rule's named port matches. batch holds no pod: nothing to check there.
    assert [f.message for f in named] == [
        "anp/shop-ingress spec.ingress[0].ports[0]: no pod the rule can reach defines the port 'htps' (1 loaded workload checked); did you mean 'https'?"
    ]
    assert named[0].object.kind == "AdminNetworkPolicy" and named[0].location.line == 30


def test_annotations_on_every_kind_of_object_load_and_are_checked():
    node = "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, annotations: {npverify.io/ignore: dns-blocked}}\nstatus: {addresses: [{type: InternalIP, address: 192.168.0.9}]}\n"
    cluster = load_text(_dns_text() + node, "dns.yaml")
    assert any(a.kind == "Node" and a.namespace == "" and a.name == "n1" for a in cluster.ignore_annotations)
    assert [f.object.name for f in lint(cluster).findings] == ["worker-egress"]
    with pytest.raises(InputError, match="did you mean 'dns-blocked'"):
        lint(load_text(_dns_text() + node.replace("ignore: dns-blocked", "ignore: dns-blocke"), "dns.yaml"))


_EARLIER_DENY = """---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {environment: production}}}
  ingress:
    - name: only-own
      action: Deny
      from: [{namespaces: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [shop]}]}}]
"""


def test_overly_broad_admin_allow_into_a_production_namespace():
    report = lint(_load("cluster-broad.yaml"), config=LintConfig(disabled=frozenset({"dns-blocked"})))
    (finding,) = [f for f in report.findings if f.rule == "overly-broad"]
    assert finding.object.kind == "AdminNetworkPolicy" and finding.location.line == 19
    assert finding.message.startswith("anp/open-production spec.ingress[0] (from-anywhere) admits every namespace (from[0]) into production namespace shop")
    assert decide(_load("cluster-broad.yaml"), finding.packet).allowed and finding.packet.src.namespace != "shop"
    assert finding.packet.port == 8080
    # An earlier Admin rule denies every other namespace: the Allow never decides a packet
    # from outside, so no finding (the solver's packet would be denied anyway).
    text = open(os.path.join(DATA, "cluster-broad.yaml")).read() + _EARLIER_DENY
    report = lint(load_text(text, "c.yaml"), config=LintConfig(disabled=frozenset({"dns-blocked"})))
    assert "overly-broad" not in _rules(report) and not report.undecided


def test_dns_blocked_by_two_rules_of_one_admin_policy_reports_each_rule():
    # A second Deny rule of the same policy also blocks DNS: once the first is fixed (made to
    # match nothing, in a copy), the second is the next culprit, not the first again.
    text = open(os.path.join(DATA, "tiers.yaml")).read() + (
        "    - name: no-dns\n      action: Deny\n      to: [{namespaces: {}}]\n      ports: [{portNumber: {protocol: UDP, port: 53}}, {portNumber: {protocol: TCP, port: 53}}]\n"
    )
    report = lint(load_text(text, "tiers.yaml"))
    assert [f.object.name for f in report.findings] == ["dev-lockdown", "dev-lockdown"]
    assert sorted(f.location.line for f in report.findings) == [17, 20]
    assert all(not decide(load_text(text, "tiers.yaml"), f.packet).allowed for f in report.findings)


def test_json_lists_what_a_silenced_finding_is_about(tmp_path):
    path = tmp_path / "dns.yaml"
    path.write_text(_dns_text(("metadata: {name: batch}", "metadata: {name: batch, annotations: {npverify.io/ignore: dns-blocked}}")))
    document = json.loads(_cli(str(path), "--format", "json").output)
    schema = json.load(open(os.path.join(os.path.dirname(__file__), "..", "..", "specs", "lint.schema.json")))
    jsonschema.validate(document, schema)
    (silenced,) = document["silenced"]
    assert {"kind": "Namespace", "namespace": "", "name": "batch"} in silenced["about"]


def test_a_policy_selecting_nothing_is_reported_once_by_selects_nothing():
    config = LintConfig(enabled=frozenset({"redundant"}))
    report = lint(_load("mistakes.yaml"), WORKLOADS, config=config)
    assert [f.rule for f in report.findings if f.object.name == "typo"] == ["selects-nothing"]
    # Without selects-nothing, redundant says it is vacuous.
    config = LintConfig(enabled=frozenset({"redundant"}), disabled=frozenset({"selects-nothing"}))
    report = lint(_load("mistakes.yaml"), WORKLOADS, config=config)
    assert [f.message for f in report.findings if f.object.name == "typo"] == ["policy shop/typo is vacuous: it selects no pod"]
