"""Fail closed on policy kinds npverify does not model (docs/semantics.md).

A Cilium, Calico or Antrea policy changes which packets flow; until
npverify models its kind, every answer it could change is UNKNOWN (exit 3) and names it,
unless the user ignores the kind, which every report then states.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import npverify
from npverify.cli import main
from npverify.coverage import UNMODELLED_KINDS, Coverage
from npverify.errors import InputError
from npverify.model import Reach

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"

NAMESPACES = """\
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {env: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: dev}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: prod}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: i, ports: [{containerPort: 5432}]}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: prod}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-in, namespace: dev}
spec:
  podSelector: {}
  ingress: [{}]
"""

#: Denies dev -> prod, which the NetworkPolicies (there are none) allow; of cluster reach.
CLUSTERWIDE_DENY = """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: dev-not-to-prod}
spec:
  endpointSelector: {matchLabels: {"k8s:io.kubernetes.pod.namespace": prod}}
  ingressDeny:
  - fromEndpoints: [{matchLabels: {"k8s:io.kubernetes.pod.namespace": dev}}]
"""

#: Namespaced: can change only packets with a pod of shop at one end.
CILIUM_IN_SHOP = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: shop-lockdown, namespace: shop}
spec:
  endpointSelector: {}
  ingressDeny: [{fromEntities: [all]}]
"""

INVARIANTS = """\
manifests: [k8s]
invariants:
  - name: dev reaches prod
    reachable: {from: {namespace: dev}, to: {namespace: prod}}
  - name: dev reaches dev
    reachable: {from: {namespace: dev}, to: {namespace: dev}}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def tree(tmp_path: Path, *extra: str, invariants: str = INVARIANTS) -> Path:
    k8s = tmp_path / "k8s"
    k8s.mkdir()
    (k8s / "cluster.yaml").write_text(NAMESPACES)
    for number, text in enumerate(extra):
        (k8s / f"extra-{number}.yaml").write_text(text)
    path = tmp_path / "invariants.yaml"
    path.write_text(invariants)
    return path


def test_an_admin_deny_makes_a_proof_it_breaks_unknown_naming_the_object(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, CLUSTERWIDE_DENY)
    result = run("prove", "invariants.yaml")
    assert result.exit_code == 3, result.output
    assert "PROVED" not in result.output
    assert result.output.count("UNKNOWN  ") == 2  # cluster reach: even dev -> dev could change
    assert "CiliumClusterwideNetworkPolicy.cilium.io dev-not-to-prod (k8s/extra-0.yaml:1:1)" in result.output
    assert "with NetworkPolicies alone: proved" in result.output
    assert "--ignore-kind CiliumClusterwideNetworkPolicy" in result.output


def test_ignore_kind_answers_without_the_object_and_the_report_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, CLUSTERWIDE_DENY)
    for args in (["--ignore-kind", "CiliumClusterwideNetworkPolicy"], ["--ignore-kind", "CiliumClusterwideNetworkPolicy.cilium.io"]):
        result = run("prove", "invariants.yaml", *args)
        assert result.exit_code == 0, result.output
        assert "ignored (--ignore-kind): 1 object" in result.output
        assert "CiliumClusterwideNetworkPolicy.cilium.io dev-not-to-prod (k8s/extra-0.yaml:1:1)" in result.output
    # The same from the invariants file.
    (tmp_path / "invariants.yaml").write_text(INVARIANTS.replace("invariants:\n", "ignoreKinds: [CiliumClusterwideNetworkPolicy]\ninvariants:\n", 1))
    result = run("prove", "invariants.yaml", "--format", "json")
    assert result.exit_code == 0, result.output
    ignored = json.loads(result.output)["coverage"]["ignored"]
    assert [(o["kind"], o["name"], o["location"]["line"]) for o in ignored] == [("CiliumClusterwideNetworkPolicy", "dev-not-to-prod", 1)]


def test_a_namespaced_kind_makes_unknown_only_what_touches_its_namespace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    invariants = INVARIANTS + (
        "  - name: dev reaches shop\n    reachable: {from: {namespace: dev}, to: {namespace: shop}}\n"
        "  - name: only dev reaches prod\n    only: {from: {namespace: dev}, to: {namespace: prod}}\n"
        "  - name: web reaches db\n    reachable: {from: {workload: web}, to: {workload: db}}\n"
    )
    tree(tmp_path, CILIUM_IN_SHOP, invariants=invariants)
    report = npverify.prove("invariants.yaml")
    verdicts = {r.invariant.name: r.verdict for r in report.results}
    assert verdicts == {
        "dev reaches prod": npverify.Verdict.PROVED,
        "dev reaches dev": npverify.Verdict.PROVED,
        "dev reaches shop": npverify.Verdict.UNKNOWN,
        # only ranges over every source, shop's pods included
        "only dev reaches prod": npverify.Verdict.UNKNOWN,
        "web reaches db": npverify.Verdict.PROVED,
    }
    assert "CiliumNetworkPolicy.cilium.io shop/shop-lockdown" in report.results[2].reason


def test_equiv_contains_redundant_matrix_and_explain_fail_closed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, CLUSTERWIDE_DENY)
    other = tmp_path / "other"
    other.mkdir()
    (other / "cluster.yaml").write_text(NAMESPACES)
    where = "k8s/extra-0.yaml:1:1"
    for args in (
        ["equiv", "k8s", "other"],
        ["contains", "other", "k8s"],
        ["redundant", "k8s"],
        ["matrix", "k8s"],
        ["matrix", "k8s", "--no-proof"],
        ["explain", "--manifests", "k8s", "--from", "dev/web", "--to", "prod/db", "--port", "5432"],
    ):
        result = run(*args)
        assert result.exit_code == 3, (args, result.output)
        assert where in result.output, (args, result.output)
        assert "UNKNOWN" in result.output, (args, result.output)
        ignored = run(*args, "--ignore-kind", "CiliumClusterwideNetworkPolicy")
        assert ignored.exit_code in (0, 1), (args, ignored.output)
        assert "ignored (--ignore-kind)" in ignored.output, (args, ignored.output)


def test_explain_of_a_packet_a_namespaced_object_cannot_touch_is_decided(tmp_path):
    tree(tmp_path, CILIUM_IN_SHOP)
    cluster = npverify.load_manifests([tmp_path / "k8s"])
    clear = npverify.explain(cluster, "dev/web", "prod/db", "5432")
    assert clear.known and clear.allowed
    touched = npverify.explain(cluster, "dev/web", "shop/app=x", "80")
    assert not touched.known
    assert [o.name for o in touched.undecided_by] == ["shop-lockdown"]
    assert str(touched).splitlines()[0].endswith("UNKNOWN (NetworkPolicies alone: ALLOWED)")


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "junit", "github"])
def test_every_format_of_every_command_states_unmodelled_and_ignored_objects(tmp_path, monkeypatch, output_format):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, CLUSTERWIDE_DENY, CILIUM_IN_SHOP)
    for args in (["prove", "invariants.yaml"], ["equiv", "k8s", "k8s"], ["redundant", "k8s"]):
        result = run(*args, "--format", output_format)
        assert result.exit_code == 3, (args, result.output)
        assert "dev-not-to-prod" in result.output and "shop-lockdown" in result.output, (args, output_format, result.output)
        ignored = run(*args, "--format", output_format, "--ignore-kind", "CiliumNetworkPolicy")
        assert "shop-lockdown" in ignored.output and "ignored" in ignored.output, (args, output_format, ignored.output)


@pytest.mark.parametrize(
    "args, schema",
    [
        (["prove", "invariants.yaml", "--format", "json"], "report"),
        (["equiv", "k8s", "k8s", "--format", "json"], "comparison"),
        (["redundant", "k8s", "--format", "json"], "redundancy"),
        (["matrix", "k8s", "--format", "json"], "matrix"),
        (["explain", "--manifests", "k8s", "--from", "dev/web", "--to", "prod/db", "--port", "5432", "--format", "json"], "explain"),
    ],
)
def test_json_carries_the_coverage_and_validates(tmp_path, monkeypatch, args, schema):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, CLUSTERWIDE_DENY)
    result = run(*args)
    assert result.exit_code == 3, result.output
    document = json.loads(result.output)
    jsonschema.validate(document, json.loads((SPECS / f"{schema}.schema.json").read_text()))
    coverage = document["coverage"]
    assert [o["name"] for o in coverage["unmodelled"]] == ["dev-not-to-prod"]
    assert [d["kind"] for d in coverage["skipped"]] == ["ConfigMap"]
    if schema == "explain":
        assert document["verdict"] == "unknown" and document["allowed"] is True


def test_a_misspelt_kind_is_an_error_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, CLUSTERWIDE_DENY)
    result = run("prove", "invariants.yaml", "--ignore-kind", "CiliumClusterwideNetworkPolicies")
    assert result.exit_code == 2
    assert "did you mean 'CiliumClusterwideNetworkPolicy'" in result.output
    assert "Traceback" not in result.output
    (tmp_path / "invariants.yaml").write_text(INVARIANTS.replace("invariants:\n", "ignoreKinds: [ConfigMap]\ninvariants:\n", 1))
    result = run("prove", "invariants.yaml")
    assert result.exit_code == 2
    assert re.search(r"invariants\.yaml:2:15: error: ignoreKinds\[0\]: 'ConfigMap' is not a policy kind", result.output), result.output


def test_multinetworkpolicy_is_skipped_with_its_note_and_changes_no_answer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path, "apiVersion: k8s.cni.cncf.io/v1beta1\nkind: MultiNetworkPolicy\nmetadata: {name: m, namespace: prod}\n")
    result = run("prove", "invariants.yaml")
    assert result.exit_code == 0, result.output
    assert "MultiNetworkPolicy m (k8s/extra-0.yaml:1:1): applies to secondary networks (Multus) only" in result.output


def test_other_kinds_are_listed_as_skipped_by_every_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree(tmp_path)
    for args in (
        ["equiv", "k8s", "k8s"],
        ["redundant", "k8s"],
        ["matrix", "k8s"],
        ["explain", "--manifests", "k8s", "--from", "dev/web", "--to", "prod/db", "--port", "5432"],
    ):
        result = run(*args)
        assert result.exit_code in (0, 1), (args, result.output)
        assert "skipped 1 document of kinds npverify does not use" in result.output, (args, result.output)


def test_library_calls_fail_closed_too(tmp_path):
    tree(tmp_path, CLUSTERWIDE_DENY)
    cluster = npverify.load_manifests([tmp_path / "k8s"])
    invariant = npverify.Invariant(
        "dev reaches prod", npverify.InvariantKind.REACHABLE, npverify.Scope(namespace="dev"), npverify.Scope(namespace="prod")
    )
    assert npverify.check(cluster, invariant).verdict is npverify.Verdict.UNKNOWN
    assert npverify.check(cluster.ignoring(["CiliumClusterwideNetworkPolicy"]), invariant).verdict is npverify.Verdict.PROVED
    assert npverify.equivalence(cluster, cluster).same is None
    assert npverify.equivalence(cluster.ignoring(["CiliumClusterwideNetworkPolicy"]), cluster.ignoring(["CiliumClusterwideNetworkPolicy"])).same is True
    assert npverify.find_redundancy(cluster).clean is None
    assert npverify.connectivity_matrix(cluster).verdict is npverify.Verdict.UNKNOWN
    with pytest.raises(InputError, match="did you mean"):
        npverify.load_manifests([tmp_path / "k8s"], ignore_kinds=["CiliumNetworkPolicys"])


ADMIN_ALLOW_OVER_DENY = """\
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: prod}
spec: {podSelector: {}}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: dev-to-prod}
spec:
  priority: 10
  subject: {namespaces: {matchLabels: {env: prod}}}
  ingress:
  - {action: Allow, from: [{namespaces: {matchLabels: {env: dev}}}]}
"""


def test_a_loaded_admin_policy_never_lets_a_proof_through():
    # The AdminNetworkPolicy allows dev -> prod, which the NetworkPolicy alone denies.
    cluster = npverify.load_text(ADMIN_ALLOW_OVER_DENY)
    assert [p.key for p in cluster.cluster_policies] == ["anp/dev-to-prod"]
    invariant = npverify.Invariant(
        "dev isolated from prod", npverify.InvariantKind.ISOLATED, npverify.Scope(namespace="dev"), npverify.Scope(namespace="prod")
    )
    assert npverify.check(cluster, invariant).verdict is npverify.Verdict.REFUTED


def test_coverage_reach():
    coverage = Coverage.of(npverify.load_text(CLUSTERWIDE_DENY + "---\n" + CILIUM_IN_SHOP))
    assert [o.name for o in coverage.affecting({"dev"})] == ["dev-not-to-prod"]
    assert [o.name for o in coverage.affecting({"shop"})] == ["dev-not-to-prod", "shop-lockdown"]
    assert len(coverage.affecting(None)) == 2


def test_default_namespace_warns_once_and_the_option_moves_objects(tmp_path):
    text = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: b}\nspec: {podSelector: {}}\n---\n"
        + CILIUM_IN_SHOP.replace("namespace: shop", "labels: {}")
    )
    cluster = npverify.load_text(text, "helm.yaml")
    assert [p.namespace for p in cluster.policies] == ["default", "default"]
    assert [o.namespace for o in cluster.unmodelled] == ["default"]
    (warning,) = [str(w) for w in cluster.warnings]
    assert warning.startswith("helm.yaml:1:1: warning: metadata.namespace: 3 objects (the first here) without metadata.namespace")
    assert "--default-namespace" in warning
    moved = npverify.load_text(text, "helm.yaml", default_namespace="shop")
    assert [p.namespace for p in moved.policies] == ["shop", "shop"]
    assert [o.namespace for o in moved.unmodelled] == ["shop"]
    assert moved.warnings == ()
    (tmp_path / "helm.yaml").write_text(text)
    result = run("redundant", str(tmp_path / "helm.yaml"), "--default-namespace", "shop", "--ignore-kind", "CiliumNetworkPolicy")
    assert "shop/a" in result.output and "default/" not in result.output, result.output
    assert run("redundant", str(tmp_path / "helm.yaml"), "--default-namespace", "Not_A_Name").exit_code == 2


def test_the_documented_table_lists_every_kind_with_its_reach():
    text = (ROOT / "docs" / "semantics.md").read_text()
    section = text[text.index("## Policy kinds npverify does not model"):]
    rows = re.findall(r"^\| ([^|]+) \| ([^|]+) \| (namespace|cluster) \|$", section, re.M)
    documented = {
        (group.strip(" `"), kind.strip(), Reach(reach))
        for groups, kinds, reach in rows
        for group in groups.split(",")
        for kind in kinds.split(",")
    }
    assert documented == {(k.api_group, k.kind, k.reach) for k in UNMODELLED_KINDS}


def test_every_command_shows_the_manifests_warnings(tmp_path):
    (tmp_path / "helm.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: {containers: [{name: c, image: i}]}\n"
    )
    path = str(tmp_path / "helm.yaml")
    for args in (
        ["equiv", path, path],
        ["redundant", path],
        ["matrix", path],
        ["explain", "--manifests", path, "--from", "default/web", "--to", "default/web", "--port", "80"],
    ):
        result = run(*args)
        assert "warning: metadata.namespace: 2 objects (the first here) without metadata.namespace" in result.stderr, (args, result.stderr)
        assert "--default-namespace" in result.stderr
