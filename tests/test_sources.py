"""Where manifests come from besides files: standard input (``-``) and live clusters read
through kubectl (``--cluster``, ``--kube-context NAME``, ``cluster:`` sides).

The clusters are a stand-in ``kubectl`` (tests/data/kubectl/replay.py) that replays
recorded ``-o json`` output per context: ``prod`` (the current one: Namespaces, a typed
NetworkPolicyList, a Deployment whose ReplicaSet's pods carry owner references, a bare Pod,
an ended Pod, a Service), ``staging`` (the same plus a CiliumNetworkPolicy), ``locked``
(listing NetworkPolicies is forbidden) and ``down`` (the server does not answer).
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from npverify.cli import main
from npverify.errors import InputError
from npverify.load import load_manifests
from npverify.load.git import looks_like_revision
from npverify.load.kubectl import resource_name, wanted_resources

ROOT = Path(__file__).resolve().parent
RECORDINGS = ROOT / "data" / "kubectl"

DENY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""

ALLOW = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-from-frontend, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {app: frontend}}}]
      ports: [{protocol: TCP, port: 8080}]
"""

INVARIANTS = """\
manifests: [k8s/]
invariants:
  - name: frontend reaches the api on 8080
    allowed:
      from: {namespace: shop, workload: frontend}
      to:   {namespace: shop, workload: api}
      ports: [{protocol: TCP, port: 8080}]
  - name: the api reaches no frontend
    isolated:
      from: {namespace: shop, workload: api}
      to:   {namespace: shop, workload: frontend}
"""


STDIN_INVARIANTS = """\
manifests: [-]
invariants:
  - name: nothing reaches shop
    isolated:
      to: {namespace: shop}
"""


@pytest.fixture
def kubectl(tmp_path, monkeypatch):
    """Put the stand-in kubectl first on PATH; returns the file its calls are logged to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "kubectl"
    script.write_text(
        f"#!{sys.executable}\n"
        "import runpy, sys\n"
        f"runpy.run_path({str(RECORDINGS / 'replay.py')!r}, run_name='__main__')\n"
    )
    script.chmod(0o755)
    log = tmp_path / "kubectl.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_KUBECTL_LOG", str(log))
    monkeypatch.setenv("FAKE_KUBECTL_CONTEXT", "prod")
    return log


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def repository(tmp_path: Path, *policies: str) -> Path:
    folder = tmp_path / "k8s"
    folder.mkdir()
    for number, text in enumerate(policies):
        (folder / f"policy-{number}.yaml").write_text(text)
    return folder


# --- standard input --------------------------------------------------------------------


def test_dash_in_an_invariants_file_in_another_folder_reads_stdin(tmp_path):
    """``manifests: [-]`` is stdin wherever the file is, not a file named - next to it."""
    folder = tmp_path / "checks"
    folder.mkdir()
    (folder / "inv.yaml").write_text(STDIN_INVARIANTS)
    result = run("prove", str(folder / "inv.yaml"), input=DENY)
    assert result.exit_code == 0, result.output
    assert run("prove", str(folder / "inv.yaml"), input="").exit_code == 1


def test_errors_on_stdin_point_at_stdin_line_and_column(tmp_path):
    (tmp_path / "inv.yaml").write_text(STDIN_INVARIANTS)
    bad = DENY.replace("policyTypes", "policyTypez")
    for args in (["prove", str(tmp_path / "inv.yaml")], ["matrix", "-"], ["redundant", "-"], ["equiv", "-", str(tmp_path)]):
        result = run(*args, input=bad)
        assert result.exit_code == 2, (args, result.output)
        assert "<stdin>:6:3: error: spec.policyTypez: unknown field" in result.output, args
        assert "Traceback" not in result.output


def test_stdin_as_an_equiv_side(tmp_path):
    k8s = repository(tmp_path, DENY, ALLOW)
    assert run("equiv", "-", str(k8s), input=DENY + "---\n" + ALLOW).exit_code == 0
    assert run("equiv", "-", str(k8s), input=DENY).exit_code == 1


# --- reading a cluster -----------------------------------------------------------------


def test_a_cluster_is_read_with_identities_and_owners_counted_once(kubectl):
    cluster = load_manifests(["cluster:"])
    assert sorted(p.key for p in cluster.policies) == ["shop/api-from-frontend", "shop/default-deny"]
    assert sorted(n.name for n in cluster.namespaces) == ["default", "kube-system", "shop"]
    # The ReplicaSet and its two pods count as the Deployment; the old ReplicaSet, scaled to
    # zero, and the ended pod are gone; the bare pod keeps its IP.
    assert sorted(f"{w.kind} {w.namespace}/{w.name}" for w in cluster.workloads) == ["Deployment shop/api", "Pod shop/frontend"]
    frontend = next(w for w in cluster.workloads if w.kind == "Pod")
    assert [str(ip) for ip in frontend.ips] == ["10.244.2.7"]
    policy = next(p for p in cluster.policies if p.name == "api-from-frontend")
    assert str(policy.location) == "cluster:prod/NetworkPolicy/shop/api-from-frontend:1:1"
    namespace = next(n for n in cluster.namespaces if n.name == "shop")
    assert str(namespace.location) == "cluster:prod/Namespace/shop:1:1"
    assert cluster.skipped == ()
    assert [(s.key, str(s.location)) for s in cluster.services] == [
        (s.key, f"cluster:prod/Service/{s.key}:1:1") for s in cluster.services
    ] and cluster.services


def test_a_location_is_the_line_of_kubectl_get_for_that_object(kubectl):
    """Lines count in the object as ``kubectl get networkpolicy -n shop NAME -o json`` prints it."""
    cluster = load_manifests(["cluster:"])
    policy = next(p for p in cluster.policies if p.name == "api-from-frontend")
    listed = json.loads((RECORDINGS / "common" / "networkpolicies.networking.k8s.io.json").read_text())
    item = dict(next(i for i in listed["items"] if i["metadata"]["name"] == "api-from-frontend"))
    item.update(apiVersion="networking.k8s.io/v1", kind="NetworkPolicy")
    del item["metadata"]["managedFields"]  # kubectl get hides them
    printed = json.dumps(item, indent=4, sort_keys=True).splitlines()
    line = policy.ingress[0].location.line  # the rule: the mapping that follows "ingress": [
    assert printed[line - 2].strip() == '"ingress": [' and printed[line - 1].strip() == "{"


def test_a_replica_set_that_differs_from_its_deployment_counts_as_itself(kubectl, tmp_path, monkeypatch):
    """During a rollout the old ReplicaSet's pods run with the old labels: they stay."""
    folder = tmp_path / "rollout"
    folder.mkdir()
    for name in os.listdir(RECORDINGS / "common"):
        (folder / name).write_bytes((RECORDINGS / "common" / name).read_bytes())
    deployments = json.loads((folder / "deployments.apps.json").read_text())
    deployments["items"][0]["spec"]["template"]["metadata"]["labels"]["version"] = "2"
    (folder / "deployments.apps.json").write_text(json.dumps(deployments))
    monkeypatch.setenv("FAKE_KUBECTL_DATA", str(tmp_path))
    (tmp_path / "common").symlink_to(folder)
    cluster = load_manifests(["cluster:prod"])
    kept = sorted(f"{w.kind} {w.name}" for w in cluster.workloads)
    # The pods still match their ReplicaSet, which no longer matches the Deployment.
    assert kept == ["Deployment api", "Pod frontend", "ReplicaSet api-7d9f8"]


def test_kube_context_selects_the_context_and_kubectl_is_asked_per_type(kubectl):
    load_manifests(["cluster:staging"])
    calls = kubectl.read_text().splitlines()
    assert calls[0] == "--context staging api-resources --verbs=list -o name"
    assert "--context staging get networkpolicies.networking.k8s.io --all-namespaces -o json" in calls
    assert "--context staging get ciliumnetworkpolicies.cilium.io --all-namespaces -o json" in calls
    # A kind whose CRD is not installed is not asked for.
    assert not any("calico" in call or "adminnetworkpolicies" in call for call in calls)
    assert all(call.startswith("--context staging ") for call in calls)


def test_the_current_context_names_the_objects(kubectl, monkeypatch):
    monkeypatch.setenv("FAKE_KUBECTL_CONTEXT", "staging")
    cluster = load_manifests(["cluster:"])
    assert str(cluster.unmodelled[0].location) == "cluster:staging/CiliumNetworkPolicy/shop/l7-api:1:1"
    calls = kubectl.read_text().splitlines()
    assert calls[0] == "config current-context" and "--context" not in " ".join(calls)


def test_every_unmodelled_kind_is_asked_for_by_its_resource_name():
    assert resource_name("cilium.io", "CiliumNetworkPolicy") == "ciliumnetworkpolicies.cilium.io"
    assert resource_name("policy.networking.k8s.io", "AdminNetworkPolicy") == "adminnetworkpolicies.policy.networking.k8s.io"
    assert resource_name("crd.antrea.io", "Tier") == "tiers.crd.antrea.io"
    assert "networksets.crd.projectcalico.org" in wanted_resources()
    assert "networkpolicies.projectcalico.org" in wanted_resources()


def test_cluster_is_not_a_git_revision(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not looks_like_revision("cluster:")
    assert not looks_like_revision("cluster:prod")
    assert looks_like_revision("heads/cluster:k8s/")


# --- the commands ----------------------------------------------------------------------


def test_matrix_of_the_current_cluster(kubectl):
    result = run("matrix", "--cluster", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "shop/Pod/frontend,shop/Deployment/api,TCP,8080" in result.output.replace('"', "")


def test_explain_against_a_cluster(kubectl):
    result = run("explain", "--cluster", "--from", "shop/frontend", "--to", "shop/api", "--port", "8080")
    assert result.exit_code == 0, result.output
    assert "cluster:prod/NetworkPolicy/shop/api-from-frontend:" in result.output
    denied = run("explain", "--kube-context", "prod", "--from", "shop/api", "--to", "shop/frontend", "--port", "80")
    assert denied.exit_code == 1, denied.output


def test_prove_with_cluster_replaces_the_files_manifests(kubectl, tmp_path):
    (tmp_path / "inv.yaml").write_text(INVARIANTS.replace("[k8s/]", "[does-not-exist/]"))
    result = run("prove", str(tmp_path / "inv.yaml"), "--cluster")
    assert result.exit_code == 0, result.output
    assert "no such file" not in result.output


def test_prove_with_cluster_and_manifests_reads_both(kubectl, tmp_path):
    """--manifests adds files to the live objects: what if this policy were applied?"""
    (tmp_path / "inv.yaml").write_text(INVARIANTS)
    extra = tmp_path / "extra.yaml"
    extra.write_text(
        "apiVersion: networking.k8s.io/v1\n"
        "kind: NetworkPolicy\n"
        "metadata: {name: frontend-from-api, namespace: shop}\n"
        "spec:\n"
        "  podSelector: {matchLabels: {app: frontend}}\n"
        "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n"
    )
    result = run("prove", str(tmp_path / "inv.yaml"), "--cluster", "--manifests", str(extra))
    assert result.exit_code == 1, result.output
    assert "the api reaches no frontend" in result.output


def test_redundant_with_only_a_cluster(kubectl):
    result = run("redundant", "--cluster")
    assert result.exit_code == 0, result.output
    assert "5 policy items checked" in result.output


def test_redundant_without_paths_or_cluster_is_a_usage_error():
    result = run("redundant")
    assert result.exit_code == 2
    assert "--cluster" in result.output


def test_equiv_cluster_against_the_repository(kubectl, tmp_path):
    same = repository(tmp_path, DENY, ALLOW)
    result = run("equiv", "cluster:", str(same))
    assert result.exit_code == 0, result.output
    (same / "policy-1.yaml").unlink()
    result = run("equiv", "cluster:", str(same))
    assert result.exit_code == 1, result.output
    assert run("contains", str(same), "cluster:prod").exit_code == 1


def test_equiv_between_two_contexts(kubectl):
    result = run("equiv", "cluster:prod", "cluster:staging")
    # The NetworkPolicies agree, but staging's CiliumNetworkPolicy could change the answer.
    assert result.exit_code == 3, result.output
    assert "CiliumNetworkPolicy" in result.output


def test_compare_takes_its_shared_context_from_the_cluster(kubectl, tmp_path):
    old = repository(tmp_path, DENY, ALLOW)
    new = tmp_path / "new"
    new.mkdir()
    (new / "p.yaml").write_text(DENY + "---\n" + ALLOW.replace("port: 8080", "port: http"))
    # With the live Deployment, the only pods, port name http is 8080: the same packets.
    assert run("equiv", str(old), str(new), "--cluster", "--pods", "workloads").exit_code == 0
    # Any pod: one with the labels of the api could name another port http.
    assert run("equiv", str(old), str(new), "--cluster").exit_code == 1


def test_an_unmodelled_kind_read_live_makes_answers_unknown(kubectl, tmp_path):
    (tmp_path / "inv.yaml").write_text(INVARIANTS)
    result = run("prove", str(tmp_path / "inv.yaml"), "--kube-context", "staging")
    assert result.exit_code == 3, result.output
    assert "cluster:staging/CiliumNetworkPolicy/shop/l7-api" in result.output
    ignored = run("prove", str(tmp_path / "inv.yaml"), "--kube-context", "staging", "--ignore-kind", "CiliumNetworkPolicy")
    assert ignored.exit_code == 0, ignored.output
    assert run("matrix", "--kube-context", "staging").exit_code == 3


def test_an_invariants_file_may_name_a_cluster(kubectl, tmp_path):
    (tmp_path / "inv.yaml").write_text(INVARIANTS.replace("[k8s/]", "['cluster:prod']"))
    result = run("prove", str(tmp_path / "inv.yaml"))
    assert result.exit_code == 0, result.output


# --- failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["matrix"],
        ["explain", "--from", "shop/frontend", "--to", "shop/api", "--port", "8080"],
        ["redundant"],
        ["equiv", "-", "-"],
    ],
)
def test_a_forbidden_kind_is_bad_input_with_kubectls_message(kubectl, args):
    result = run(*args, "--kube-context", "locked", input="")
    assert result.exit_code == 2, result.output
    assert 'Error from server (Forbidden): networkpolicies.networking.k8s.io is forbidden: User "dev@example.com"' in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_cluster_is_bad_input_with_kubectls_message(kubectl):
    result = run("equiv", "cluster:down", "cluster:prod")
    assert result.exit_code == 2, result.output
    assert "Unable to connect to the server: dial tcp 10.0.0.1:6443: connect: connection refused" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_context_is_bad_input(kubectl):
    result = run("matrix", "--kube-context", "nowhere")
    assert result.exit_code == 2
    assert 'error: context "nowhere" does not exist' in result.output


def test_a_missing_kubectl_is_bad_input(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run("matrix", "--cluster")
    assert result.exit_code == 2
    assert "error: reading the cluster of kubectl's current context needs the kubectl command, which is not on PATH" in result.output
    with pytest.raises(InputError):
        load_manifests(["cluster:prod"])


def test_discovery_failing_for_a_group_npverify_does_not_read_is_a_warning(kubectl, tmp_path, monkeypatch):
    """metrics.k8s.io often fails discovery; NetworkPolicies can still be read in full."""
    replay = tmp_path / "partial.py"
    replay.write_text(
        "import sys\n"
        "if sys.argv[1:3] == ['--context', 'partial'] and sys.argv[3] == 'api-resources':\n"
        f"    sys.stdout.write(open({str(RECORDINGS / 'common' / 'api-resources.txt')!r}).read())\n"
        "    sys.stderr.write('error: unable to retrieve the complete list of server APIs: GROUP/v1beta1: the server is currently unable to handle the request\\n')\n"
        "    sys.exit(1)\n"
        "sys.argv[1:3] = ['--context', 'prod']\n"
        f"import runpy; runpy.run_path({str(RECORDINGS / 'replay.py')!r}, run_name='__main__')\n"
    )
    script = tmp_path / "bin" / "kubectl"
    script.write_text(f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(replay)!r}, run_name='__main__')\n")
    replay.write_text(replay.read_text().replace("GROUP", "metrics.k8s.io"))
    cluster = load_manifests(["cluster:partial"])
    assert len(cluster.policies) == 2
    assert any("metrics.k8s.io" in w.message for w in cluster.warnings)
    replay.write_text(replay.read_text().replace("metrics.k8s.io", "cilium.io"))
    with pytest.raises(InputError, match="cilium.io/v1beta1"):
        load_manifests(["cluster:partial"])


def test_stdin_and_cluster_mix(kubectl):
    cluster = load_manifests(["-", "cluster:"], stdin=io.StringIO(DENY.replace("default-deny", "extra")))
    assert sorted(p.name for p in cluster.policies) == ["api-from-frontend", "default-deny", "extra"]


# --- the documentation -----------------------------------------------------------------


def test_every_npverify_command_line_in_the_sources_doc_exists(tmp_path, monkeypatch):
    from docs_commands import check_command_line, fenced_blocks, shell_command_lines

    monkeypatch.chdir(tmp_path)
    text = (ROOT.parent / "docs" / "sources.md").read_text()
    commands = [argv for _, body in fenced_blocks(text, "sh") for argv in shell_command_lines(body)]
    lines = [" ".join(argv) for argv in commands]
    for expected in ("npverify matrix -", "npverify prove inv.yaml --manifests -", "npverify equiv cluster: k8s/", "npverify matrix --cluster --by namespace"):
        assert expected in lines, lines
    for argv in commands:
        check_command_line(argv, "docs/sources.md")
    assert "helm template" in text and "kustomize build" in text
    assert "[docs/sources.md](docs/sources.md)" in (ROOT.parent / "README.md").read_text()


# --- counting pods once ----------------------------------------------------------------


def _object(kind, name, labels, owner=None, **fields):
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main"}]}}
    obj = {"kind": kind, "metadata": {"name": name, "namespace": "shop"}}
    if kind == "Pod":
        obj["metadata"]["labels"] = labels
        obj["spec"] = template["spec"]
    else:
        obj["spec"] = {"template": template}
    if owner:
        obj["metadata"]["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "controller": True}]
    obj.update(fields)
    return obj


def _names(objects):
    from npverify.load.kubectl import _count_once

    return [f"{o['kind']} {o['metadata']['name']}" for o in _count_once(objects)]


def test_a_statefulset_pod_carries_its_own_name_and_counts_as_itself():
    """Policies may select one StatefulSet pod by statefulset.kubernetes.io/pod-name."""
    objects = [
        _object("StatefulSet", "db", {"app": "db"}),
        _object("Pod", "db-0", {"app": "db", "controller-revision-hash": "db-1", "statefulset.kubernetes.io/pod-name": "db-0"}, ("StatefulSet", "db")),
    ]
    assert _names(objects) == ["StatefulSet db", "Pod db-0"]


def test_daemonset_and_job_pods_count_as_their_controller():
    objects = [
        _object("DaemonSet", "agent", {"app": "agent"}),
        _object("Pod", "agent-x", {"app": "agent", "controller-revision-hash": "1", "pod-template-generation": "1"}, ("DaemonSet", "agent")),
        _object("CronJob", "nightly", {}, spec={"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "n"}}, "spec": {"containers": [{"name": "main"}]}}}}}),
        _object("Job", "nightly-1", {"app": "n", "job-name": "nightly-1", "controller-uid": "u"}, ("CronJob", "nightly")),
        _object("Pod", "nightly-1-q", {"app": "n", "job-name": "nightly-1", "controller-uid": "u"}, ("Job", "nightly-1")),
    ]
    assert _names(objects) == ["DaemonSet agent", "CronJob nightly"]


def test_a_pod_whose_ports_differ_from_its_controller_counts_as_itself():
    pod = _object("Pod", "api-x", {"app": "api"}, ("ReplicaSet", "api-1"))
    pod["spec"] = {"containers": [{"name": "main", "ports": [{"containerPort": 9090}]}]}
    assert _names([_object("ReplicaSet", "api-1", {"app": "api"}), pod]) == ["ReplicaSet api-1", "Pod api-x"]


def test_a_pod_of_a_replica_set_scaled_to_zero_counts_as_itself():
    """The ReplicaSet holds no pods; a pod still naming it (terminating) is not lost."""
    objects = [
        _object("Deployment", "api", {"app": "api"}),
        _object("ReplicaSet", "api-old", {"app": "api", "v": "1"}, ("Deployment", "api")),
        _object("Pod", "api-old-x", {"app": "api", "v": "1"}, ("ReplicaSet", "api-old")),
    ]
    objects[1]["spec"]["replicas"] = 0
    assert _names(objects) == ["Deployment api", "Pod api-old-x"]


def test_an_owner_of_another_uid_is_another_object():
    """A controller deleted and made again under the same name is not the pod's owner."""
    rs = _object("ReplicaSet", "api-1", {"app": "api"})
    rs["metadata"]["uid"] = "new"
    pod = _object("Pod", "api-x", {"app": "api"}, ("ReplicaSet", "api-1"))
    pod["metadata"]["ownerReferences"][0]["uid"] = "old"
    assert _names([rs, pod]) == ["ReplicaSet api-1", "Pod api-x"]
