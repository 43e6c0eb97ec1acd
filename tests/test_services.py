"""Services: loaded, named by invariant scopes and explain, their ports mapped to target ports."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import npverify
from npverify.cli import main
from npverify.errors import InputError
from npverify.invariants import parse_invariants
from npverify.model import Protocol, ServicePort

ROOT = Path(__file__).resolve().parents[1]

#: Two Deployments behind one Service: the named targetPort "http" is 8080 on one and 9000
#: on the other (kube-proxy resolves it per pod). web may send to api only on 8080.
CLUSTER = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: i}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api, track: stable}}
  template:
    metadata: {labels: {app: api, track: stable}}
    spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api-canary, namespace: shop}
spec:
  selector: {matchLabels: {app: api, track: canary}}
  template:
    metadata: {labels: {app: api, track: canary}}
    spec: {containers: [{name: c, image: i, ports: [{name: http, containerPort: 9000}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports:
  - {name: web, port: 80, targetPort: http}
  - {name: admin, port: 81, targetPort: 7000}
---
apiVersion: v1
kind: Service
metadata: {name: outside, namespace: shop}
spec:
  type: ExternalName
  externalName: db.example.com
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 8080}]
"""


def invariants(body: str) -> str:
    return f"manifests: [k8s]\nuniverse: {{pods: workloads}}\ninvariants:\n{body}"


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "k8s").mkdir(exist_ok=True)
    (tmp_path / "k8s" / "cluster.yaml").write_text(CLUSTER)
    path = tmp_path / "invariants.yaml"
    path.write_text(invariants(body))
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_services_are_loaded_with_their_ports_and_noted_when_they_select_nothing_knowable():
    cluster = npverify.load_text(CLUSTER, "c.yaml")
    api = cluster.service("shop/api")
    assert api is not None and dict(api.selector) == {"app": "api"}
    assert api.ports == (ServicePort(80, Protocol.TCP, "web", "http"), ServicePort(81, Protocol.TCP, "admin", 7000))
    assert cluster.service("shop/outside").selector is None
    warnings = [str(w) for w in cluster.warnings]
    assert any("Service shop/outside: an ExternalName Service (to db.example.com)" in w for w in warnings)
    # port 81 -> 7000: no container port of the pods it selects defines it.
    (finding,) = [w for w in warnings if "targetPort" in w]
    assert finding.startswith("c.yaml:39:5: warning: spec.ports: Service shop/api port admin 81/TCP: targetPort is port 7000/TCP")
    assert "shop/Deployment/api" in finding and "shop/Deployment/api-canary" in finding
    assert cluster.skipped == ()


@pytest.mark.parametrize(
    "ports, message",
    [
        ("[{targetPort: 80}]", "s.yaml:4:36: error: spec.ports[0]: missing required field 'port'"),
        ("[{port: 80, targetPort: '8080'}]", "spec.ports[0].targetPort: invalid port name '8080'"),
        ("[{name: a, port: 80}, {name: a, port: 81}]", "spec.ports[1].name: duplicate port name 'a'"),
        ("[{name: a, port: 80}, {port: 81}]", "spec.ports[1]: must have a name"),
        ("[{port: 70000}]", "spec.ports[0].port: must be between 1 and 65535 (got 70000)"),
    ],
)
def test_bad_service_ports_are_located_errors(ports, message):
    text = f"apiVersion: v1\nkind: Service\nmetadata: {{name: s, namespace: a}}\nspec: {{selector: {{app: x}}, ports: {ports}}}\n"
    with pytest.raises(InputError) as error:
        npverify.load_text(text, "s.yaml")
    assert message in str(error.value)


def test_a_service_destination_checks_every_service_port_at_its_target_port_per_pod(tmp_path):
    # web -> api through port 80 (targetPort http): 8080 on api, 9000 on api-canary, which
    # web's egress does not allow; port 81 goes to 7000, also not allowed.
    path = write(tmp_path, "- name: web reaches the api service\n  allowed: {from: {namespace: shop, workload: web}, to: {service: shop/api}}\n")
    report = npverify.prove(path)
    (result,) = report.results
    assert result.verdict is npverify.Verdict.REFUTED
    assert (result.packet.dst.workload, result.packet.port) in {("shop/Deployment/api-canary", 9000), ("shop/Deployment/api", 7000), ("shop/Deployment/api-canary", 7000)}
    assert result.via.startswith("Service shop/api port ")
    assert "through Service shop/api port" in str(result)


def test_service_ports_by_number_and_by_name_are_target_ports(tmp_path):
    body = (
        "- name: web reaches stable api on 80\n"
        "  allowed: {from: {namespace: shop, workload: web}, to: {service: shop/api, pod: {matchLabels: {track: stable}}}, ports: [{port: 80}]}\n"
        "- name: by name\n"
        "  allowed: {from: {namespace: shop, workload: web}, to: {service: shop/api, pod: {matchLabels: {track: stable}}}, ports: [{port: web}]}\n"
        "- name: canary through 80 is denied\n"
        "  isolated: {from: {namespace: shop, workload: web}, to: {service: shop/api, pod: {matchLabels: {track: canary}}}, ports: [{port: 80}]}\n"
        "- name: some api pod reachable via 80\n"
        "  reachable: {from: {namespace: shop, workload: web}, to: {service: shop/api}, ports: [{port: 80}]}\n"
    )
    report = npverify.prove(write(tmp_path, body))
    assert [r.verdict for r in report.results] == [npverify.Verdict.PROVED] * 4
    witness = report.results[3]
    assert witness.packet.port == 8080 and witness.via == "Service shop/api port web 80/TCP -> pod port 8080 (targetPort http)"


def test_a_service_scope_means_its_namespace_and_selector(tmp_path):
    """Lowering is exact: the same invariant written with namespace, pod and target ports."""
    as_service = (
        "- name: s\n  only: {from: {namespace: shop, workload: web}, to: {service: shop/api}, ports: [{port: 80}, {port: 81}]}\n"
    )
    written_out = (
        "- name: s\n  only: {from: {namespace: shop, workload: web}, to: {namespace: shop, pod: {matchLabels: {app: api}}}, "
        "ports: [{port: http}, {port: 7000}]}\n"
    )
    for universe in ("{pods: workloads}", "{}"):
        verdicts = []
        for body in (as_service, written_out):
            path = write(tmp_path, body)
            path.write_text(path.read_text().replace("{pods: workloads}", universe))
            verdicts.append([(r.verdict, r.packet) for r in npverify.prove(path).results])
        assert verdicts[0] == verdicts[1]


@pytest.mark.parametrize(
    "scope, ports, message",
    [
        ("{service: shop/apx}", "", "Service shop/apx was not loaded; did you mean 'shop/api'?"),
        ("{service: shop/outside}", "", "Service shop/outside has no selector"),
        ("{service: shop/api}", ", ports: [{port: 82}]", "isolated.ports[0]: Service shop/api has no TCP port 82 (its ports: web 80/TCP, admin 81/TCP)"),
        ("{service: shop/api}", ", ports: [{port: webb}]", "no port named 'webb'; did you mean 'web'?"),
        ("{service: shop/api}", ", ports: [{protocol: UDP, port: web}]", "Service shop/api port 'web' is TCP; write protocol: TCP"),
    ],
)
def test_service_scopes_naming_nothing_are_located_errors(tmp_path, scope, ports, message):
    path = write(tmp_path, f"- name: x\n  isolated: {{from: {{namespace: shop}}, to: {scope}{ports}}}\n")
    result = run("prove", str(path))
    assert result.exit_code == 2, result.output
    assert message in result.output and "invariants.yaml:" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "scope, message",
    [
        ("{service: shop/api, namespace: shop}", "'namespace' does not go with 'service'"),
        ("{service: shop/api, workload: api}", "'workload' does not go with 'service'"),
        ("{service: api}", "invalid service 'api': expected namespace/name"),
        ("{service: shop/api, kind: external}", "'external' contradicts 'service'"),
    ],
)
def test_service_scope_syntax(scope, message):
    text = invariants(f"- name: x\n  isolated: {{from: {{namespace: shop}}, to: {scope}}}\n")
    with pytest.raises(InputError) as error:
        parse_invariants(text, "inv.yaml")
    assert message in str(error.value)


def test_the_invariants_schema_covers_service():
    schema = json.loads((ROOT / "specs" / "invariants.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    good = {"invariants": [{"name": "x", "allowed": {"to": {"service": "shop/api"}, "ports": [{"port": 80}]}}]}
    assert not list(validator.iter_errors(good))
    for bad in ({"service": "api"}, {"service": "shop/api", "namespace": "shop"}, {"service": "shop/api", "kind": "external"}):
        doc = {"invariants": [{"name": "x", "allowed": {"to": bad}}]}
        assert list(validator.iter_errors(doc)), bad


def test_json_carries_via(tmp_path):
    body = "- name: r\n  reachable: {from: {namespace: shop, workload: web}, to: {service: shop/api}, ports: [{port: web}]}\n"
    result = run("prove", str(write(tmp_path, body)), "--format", "json")
    document = json.loads(result.output)
    jsonschema.validate(document, json.loads((ROOT / "specs" / "report.schema.json").read_text()))
    assert document["results"][0]["via"] == "Service shop/api port web 80/TCP -> pod port 8080 (targetPort http)"


def test_explain_through_a_service(tmp_path):
    (tmp_path / "cluster.yaml").write_text(CLUSTER)
    manifests = ["--manifests", str(tmp_path / "cluster.yaml")]
    allowed = run("explain", *manifests, "--from", "shop/web", "--to", "svc/shop/api", "--port", "80")
    assert allowed.exit_code == 0, allowed.output
    assert "to pod of Deployment shop/api: ALLOWED" in allowed.stdout.splitlines()[0]
    assert "Service shop/api port web 80/TCP goes to the pod port named 'http' (targetPort)." in allowed.output
    assert "Port http is 8080/TCP on the destination." in allowed.output
    by_name = run("explain", *manifests, "--from", "shop/web", "--to", "svc/shop/api", "--port", "admin")
    assert by_name.exit_code == 1 and "TCP/7000" in by_name.stdout.splitlines()[0]
    missing = run("explain", *manifests, "--from", "shop/web", "--to", "svc/shop/api", "--port", "82")
    assert missing.exit_code == 2 and "Service shop/api has no such port (its ports: web 80/TCP, admin 81/TCP)" in missing.output
    unknown = run("explain", *manifests, "--from", "shop/web", "--to", "svc/shop/ap", "--port", "80")
    assert unknown.exit_code == 2 and "did you mean 'shop/api'?" in unknown.output


def test_pytest_helpers_take_service_scopes():
    from npverify.testing import assert_isolated, assert_reachable

    cluster = npverify.load_manifests([ROOT / "specs" / "examples" / "shop" / "k8s"])
    workloads = {"pods": "workloads"}
    assert_reachable(cluster, {"namespace": "shop", "workload": "frontend"}, {"service": "shop/api"}, ports=[{"port": 80}], universe=workloads)
    with pytest.raises(AssertionError) as failure:
        assert_isolated(cluster, {"namespace": "shop", "workload": "frontend"}, {"service": "shop/api"}, universe=workloads)
    assert "through Service shop/api port 80/TCP -> pod port 8080 (targetPort http)" in str(failure.value)
