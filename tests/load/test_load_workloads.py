"""Namespaces and workloads (Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob)."""

from __future__ import annotations

import ipaddress
import pathlib

import pytest

from npverify.errors import InputError
from npverify.load import load_manifests, load_text
from npverify.model import NAMESPACE_NAME_LABEL, ContainerPort, Protocol

DATA = pathlib.Path(__file__).resolve().parent.parent / "data" / "manifests"

#: A Deployment whose pod spec (indented 6) starts on line 10.
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata: {labels: {app: web}}
    spec:
"""


def error_of(text: str, filename: str = "w.yaml") -> str:
    with pytest.raises(InputError) as info:
        load_text(text, filename)
    (diagnostic,) = info.value.diagnostics
    return str(diagnostic)


def tcp(port: int, name: str | None = None) -> ContainerPort:
    return ContainerPort(port, Protocol.TCP, name)


# --- namespaces ----------------------------------------------------------------------


def test_namespace_gets_its_name_label():
    cluster = load_manifests([DATA / "shop" / "namespaces.yaml"])
    assert [dict(n.labels) for n in cluster.namespaces] == [
        {"team": "shop", "env": "prod", NAMESPACE_NAME_LABEL: "shop"},
        {NAMESPACE_NAME_LABEL: "monitoring"},
    ]
    assert cluster.warnings == ()


def test_namespace_name_label_overrides_the_manifest_with_a_warning():
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  labels: {kubernetes.io/metadata.name: b}\nspec: {finalizers: [kubernetes]}\nstatus: {phase: Active}\n"
    cluster = load_text(text, "n.yaml")
    assert cluster.namespaces[0].labels[NAMESPACE_NAME_LABEL] == "a"
    assert [str(w) for w in cluster.warnings] == [
        "n.yaml:5:41: warning: metadata.labels.kubernetes.io/metadata.name: "
        "the API server sets this label to the namespace's name, 'a'; 'b' is ignored"
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: team.a}\n",
            "w.yaml:3:18: error: metadata.name: invalid name 'team.a': must be a DNS label "
            "(lowercase letters, digits and '-', at most 63 characters)",
        ),
        (
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a, labels: {'team/': x}}\n",
            "w.yaml:3:39: error: metadata.labels.team/: invalid label key 'team/': the name part must be 1-63 characters "
            "of letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ),
        (
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nspecs: {}\n",
            "w.yaml:4:1: error: specs: unknown field 'specs'; did you mean 'spec'?",
        ),
        (
            "apiVersion: v2\nkind: Namespace\nmetadata: {name: a}\n",
            "w.yaml:1:13: error: apiVersion: unsupported apiVersion 'v2' for Namespace; npverify reads v1",
        ),
        (
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
            "w.yaml:7:18: error: metadata.name: Namespace a is already defined at w.yaml:1:1",
        ),
    ],
)
def test_namespace_errors(text, expected):
    assert error_of(text) == expected


# --- workloads -------------------------------------------------------------------------


def test_every_workload_kind():
    workloads = load_manifests([DATA / "all-workloads.yaml"]).workloads
    summary = [(w.kind, w.namespace, w.name, dict(w.labels), w.ports, w.host_network, w.replicas, w.location.line) for w in workloads]
    assert summary == [
        ("Pod", "default", "debug", {}, (), True, 1, 1),
        ("Deployment", "payments", "api", {"app": "api"}, (tcp(8443, "https"), tcp(15090, "envoy-prom")), False, None, 11),
        ("ReplicaSet", "payments", "legacy", {"app": "legacy"}, (tcp(80),), False, None, 32),
        ("DaemonSet", "monitoring", "node-exporter", {"app": "node-exporter"}, (tcp(9100, "metrics"),), True, None, 41),
        ("Job", "payments", "migrate", {"job": "migrate"}, (), False, None, 51),
        ("CronJob", "payments", "report", {"job": "report"}, (ContainerPort(5353, Protocol.UDP, "dns"),), False, None, 61),
    ]
    assert all(w.ips == () for w in workloads)
    assert [w.single_pod for w in workloads] == [True, False, False, False, False, False]


def test_pod_from_kubectl_get_has_its_ips():
    (pod,) = load_manifests([DATA / "kubectl-get.yaml"]).workloads
    assert (pod.kind, pod.key, pod.replicas) == ("Pod", "payments/Pod/api-7d9f8b6c5-x2x8z", 1)
    assert dict(pod.labels) == {"app": "api", "pod-template-hash": "7d9f8b6c5"}
    assert pod.ips == (ipaddress.ip_address("10.244.1.17"), ipaddress.ip_address("fd00:10:244:1::11"))
    assert pod.ports == (tcp(8443, "https"), tcp(9090, "metrics"))


def test_statefulset_with_many_unread_fields():
    (db,) = load_manifests([DATA / "shop" / "workloads" / "db" / "postgres.yaml"]).workloads
    assert (db.kind, db.key, dict(db.labels), db.ports) == ("StatefulSet", "shop/StatefulSet/postgres", {"app": "db"}, (tcp(5432, "pg"),))


def test_init_container_ports_count_and_equal_ports_are_merged():
    text = DEPLOYMENT + """\
      initContainers:
      - {name: sidecar, restartPolicy: Always, ports: [{containerPort: 15000, name: admin}]}
      containers:
      - {name: a, ports: [{containerPort: 80}, {containerPort: 80, protocol: TCP}]}
      - {name: b, ports: [{containerPort: 80, protocol: UDP}]}
"""
    (web,) = load_text(text).workloads
    assert web.ports == (tcp(80), ContainerPort(80, Protocol.UDP), tcp(15000, "admin"))


def test_unread_fields_are_not_validated():
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {'not a valid label': x}, whatever: 1}
spec:
  replicas: many
  strategy: {rollingUpdate: {maxSurge: 200%}}
  template:
    metadata: {labels: {app: web}, annotations: {n: 1}}
    spec:
      containers:
      - {name: web, image: 42, resources: {limits: {cpu: 2}}, ports: [{containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0}]}
      volumes: 7
"""
    (web,) = load_text(text).workloads
    assert web.ports == (tcp(80),)


def test_yaml_boolean_host_network():
    text = DEPLOYMENT + "      hostNetwork: yes\n"
    assert load_text(text).workloads[0].host_network is True


def test_pod_without_spec_and_null_lists():
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {a: b}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers:\n  - name: c\n    ports:\n  initContainers:\nstatus: {phase: Pending, podIP: ''}\n"
    workloads = load_text(text).workloads
    assert [(w.name, dict(w.labels), w.ports, w.ips) for w in workloads] == [("p", {"a": "b"}, (), ()), ("q", {}, (), ())]


def test_same_name_for_different_kinds_is_fine():
    text = DEPLOYMENT + "---\n" + DEPLOYMENT.replace("Deployment", "StatefulSet")
    assert [w.key for w in load_text(text).workloads] == ["shop/Deployment/web", "shop/StatefulSet/web"]


@pytest.mark.parametrize(
    "spec, expected",
    [
        (
            "      containers: [{name: c, ports: [{containerPort: 0}]}]\n",
            "w.yaml:10:54: error: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and 65535 (got 0)",
        ),
        (
            "      containers: [{name: c, ports: [{containerPort: 65536}]}]\n",
            "w.yaml:10:54: error: spec.template.spec.containers[0].ports[0].containerPort: must be between 1 and 65535 (got 65536)",
        ),
        (
            "      containers: [{name: c, ports: [{containerPort: '80'}]}]\n",
            "w.yaml:10:54: error: spec.template.spec.containers[0].ports[0].containerPort: must be an integer, got string '80'",
        ),
        (
            "      containers: [{name: c, ports: [{name: http}]}]\n",
            "w.yaml:10:38: error: spec.template.spec.containers[0].ports[0]: missing required field 'containerPort'",
        ),
        (
            "      containers: [{name: c, ports: [{containerport: 80}]}]\n",
            "w.yaml:10:39: error: spec.template.spec.containers[0].ports[0].containerport: unknown field 'containerport'; did you mean 'containerPort'?",
        ),
        (
            "      containers: [{name: c, ports: [{containerPort: 80, protocol: tcp}]}]\n",
            "w.yaml:10:68: error: spec.template.spec.containers[0].ports[0].protocol: unknown protocol 'tcp'; expected TCP, UDP or SCTP",
        ),
        (
            "      containers: [{name: c, ports: [{containerPort: 80, name: HTTP}]}]\n",
            "w.yaml:10:64: error: spec.template.spec.containers[0].ports[0].name: invalid port name 'HTTP': must be 1-15 lowercase letters, "
            "digits and '-', with at least one letter, no '--', and not starting or ending with '-'",
        ),
        (
            "      containers:\n      - name: a\n        ports:\n        - {containerPort: 80, name: http}\n"
            "      initContainers:\n      - name: b\n        ports:\n        - {containerPort: 81, name: http}\n",
            "w.yaml:17:37: error: spec.template.spec.initContainers[0].ports[0].name: duplicate port name 'http' in this pod (first used at w.yaml:13:37)",
        ),
        (
            "      containers:\n      - name: a\n        ports:\n        - {containerPort: 80, name: http}\n        - {containerPort: 81, name: http}\n",
            "w.yaml:14:37: error: spec.template.spec.containers[0].ports[1].name: duplicate port name 'http' in this pod (first used at w.yaml:13:37)",
        ),
        ("      hostNetwork: 'true'\n", "w.yaml:10:20: error: spec.template.spec.hostNetwork: must be true or false, got string 'true'"),
        ("      containers: {name: c}\n", "w.yaml:10:19: error: spec.template.spec.containers: must be a list, got mapping"),
        ("      containers: [c]\n", "w.yaml:10:20: error: spec.template.spec.containers[0]: must be a mapping, got string 'c'"),
    ],
)
def test_pod_spec_errors(spec, expected):
    assert error_of(DEPLOYMENT + spec) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web server}}\n",
            "w.yaml:6:30: error: spec.template.metadata.labels.app: invalid label value 'web server': must be at most 63 characters "
            "of letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n",
            "w.yaml:4:7: error: spec: missing required field 'template'",
        ),
        (
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "w.yaml:1:1: error: missing required field 'spec'",
        ),
        (
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec: {}\n",
            "w.yaml:6:11: error: spec.jobTemplate.spec: missing required field 'template'",
        ),
        (
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\nspec:\n  template:\n",
            "w.yaml:5:12: error: spec.template: must be a mapping, got null",
        ),
        (
            "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: web}\nspec: {template: {}}\n",
            "w.yaml:1:13: error: apiVersion: unsupported apiVersion 'extensions/v1beta1' for Deployment; npverify reads apps/v1",
        ),
        (
            "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: c}\n",
            "w.yaml:1:13: error: apiVersion: unsupported apiVersion 'batch/v1beta1' for CronJob; npverify reads batch/v1",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: My_Pod}\n",
            "w.yaml:3:18: error: metadata.name: invalid name 'My_Pod': must be a DNS subdomain "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: Prod}\n",
            "w.yaml:3:32: error: metadata.namespace: invalid namespace 'Prod': must be a DNS label "
            "(lowercase letters, digits and '-', at most 63 characters)",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: 1.0}}\n",
            "w.yaml:3:35: error: metadata.labels.app: must be a string, got number 1.0",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIP: 10.0.0.256\n",
            "w.yaml:5:10: error: status.podIP: invalid IP address '10.0.0.256'",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus:\n  podIPs: [{ip: 10.0.0.1}, {address: 10.0.0.2}]\n",
            "w.yaml:5:28: error: status.podIPs[1]: missing required field 'ip'",
        ),
        (
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\n",
            "w.yaml:7:18: error: metadata.name: Pod default/p is already defined at w.yaml:1:1",
        ),
    ],
)
def test_workload_errors(text, expected):
    assert error_of(text) == expected
