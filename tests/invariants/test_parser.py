"""The invariants file parser: every field, every default, every error; and the JSON Schema."""

from __future__ import annotations

import ipaddress
import json
import os
import pathlib
import re
import textwrap

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from npverify.errors import InputError
from npverify.invariants import (
    EndpointKind,
    Invariant,
    InvariantKind,
    InvariantsFile,
    Scope,
    load_invariants,
    parse_invariants,
)
from npverify.model import (
    Diagnostic,
    IPBlock,
    LabelSelector,
    Operator,
    PolicyPort,
    Protocol,
    Requirement,
    Semantics,
    Severity,
    SourceLocation,
    Universe,
)

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "invariants"
VALID = sorted((DATA / "valid").iterdir())
INVALID = sorted((DATA / "invalid").iterdir())
SCHEMA = json.loads((ROOT / "specs" / "invariants.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FILE = "inv.yaml"


def parse(text: str, base_dir: str = ".") -> InvariantsFile:
    return parse_invariants(textwrap.dedent(text), FILE, base_dir)


def error(text: str) -> str:
    """The one diagnostic parsing ``text`` raises, as ``line:col: error: path: message``."""
    with pytest.raises(InputError) as info:
        parse(text)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.location is not None and diagnostic.location.file == FILE
    return str(diagnostic).removeprefix(FILE + ":")


def one(body: str) -> Invariant:
    """The single invariant of a file whose only entry has the given (indented) body."""
    (invariant,) = parse("invariants:\n  - name: x\n" + textwrap.indent(textwrap.dedent(body), "    ")).invariants
    return invariant


def scope(text: str) -> Scope:
    """The ``from`` scope written as a flow mapping."""
    return one(f"isolated:\n  from: {text}\n").src


def loc(line: int, column: int) -> SourceLocation:
    return SourceLocation(FILE, line, column)


# --- the whole file ----------------------------------------------------------------------


def test_minimal_file_has_every_default():
    result = parse("invariants: []\n")
    assert result == InvariantsFile(path=FILE)
    assert result.manifests == ()
    assert result.universe == Universe(namespaces="any", pods="any", pod_cidrs=(), host_network=False, node_traffic=False, self_traffic=False)
    assert result.semantics == Semantics(ip_block_matches_pods=True, self_traffic_allowed=True, own_node_traffic_allowed=True)
    assert result.invariants == ()
    assert result.warnings == ()


def test_readme_example(tmp_path):
    result = load_invariants(DATA / "valid" / "readme.yaml")
    assert result.path == str(DATA / "valid" / "readme.yaml")
    assert result.manifests == (str(DATA / "valid" / "k8s"),)
    assert result.universe == Universe()
    assert result.invariants == (
        Invariant(
            "prod is isolated from dev",
            InvariantKind.ISOLATED,
            Scope(namespace=LabelSelector({"env": "dev"})),
            Scope(namespace=LabelSelector({"env": "prod"})),
        ),
        Invariant(
            "frontend reaches the api on 8080",
            InvariantKind.ALLOWED,
            Scope(namespace="shop", workload="frontend"),
            Scope(namespace="shop", pod=LabelSelector({"app": "api"})),
            (PolicyPort(Protocol.TCP, 8080),),
        ),
        Invariant(
            "the database never talks to the internet",
            InvariantKind.ISOLATED,
            Scope(pod=LabelSelector(match_expressions=[Requirement("app", Operator.IN, ("postgres",))])),
            Scope(ip_block=IPBlock(ipaddress.ip_network("0.0.0.0/0"), (ipaddress.ip_network("10.0.0.0/8"),))),
        ),
    )
    locations = [(i.location.line, i.location.column, i.src.location.line, i.dst.location.line) for i in result.invariants]
    assert locations == [(7, 5, 9, 10), (11, 5, 13, 14), (16, 5, 18, 19)]


def test_all_fields_fixture():
    path = DATA / "valid" / "all-fields.yaml"
    result = load_invariants(path)
    base = path.parent
    assert result.manifests == (str(base / "k8s"), os.path.normpath(base / ".." / "shared" / "namespaces.yaml"))
    assert result.universe == Universe(
        namespaces="declared",
        pods="workloads",
        pod_cidrs=(ipaddress.ip_network("10.244.0.0/16"), ipaddress.ip_network("fd00:10:244::/56")),
        host_network=True,
        node_traffic=True,
        self_traffic=True,
    )
    assert result.semantics == Semantics(False, False, False)
    assert [(i.name, i.kind) for i in result.invariants] == [
        ("every scope field", InvariantKind.ALLOWED),
        ("external hosts do not reach the database", InvariantKind.ISOLATED),
        ("something reaches dns", InvariantKind.REACHABLE),
        ("only the ingress reaches the shop", InvariantKind.ONLY),
    ]
    first = result.invariants[0]
    assert first.src == Scope(
        namespace="shop",
        pod=LabelSelector(
            {"app": "web", "tier": "front"},
            [Requirement("track", Operator.NOT_IN, ("canary",)), Requirement("example.com/owner", Operator.EXISTS)],
        ),
        workload="Deployment/web",
        ip_block=IPBlock(
            ipaddress.ip_network("10.244.0.0/16"),
            (ipaddress.ip_network("10.244.1.0/24"), ipaddress.ip_network("10.244.2.0/24")),
        ),
        kind=EndpointKind.POD,
    )
    assert first.dst == Scope(namespace=LabelSelector({"env": "prod"}), kind=EndpointKind.POD)
    assert first.ports == (
        PolicyPort(Protocol.TCP, 8080),
        PolicyPort(Protocol.UDP, 5000, 5010),
        PolicyPort(Protocol.SCTP),
        PolicyPort(Protocol.TCP, "metrics"),
    )
    assert result.invariants[1].src == Scope(ip_block=IPBlock(ipaddress.ip_network("::/0")), kind=EndpointKind.EXTERNAL)
    assert result.invariants[1].dst == Scope(workload="postgres")
    assert result.invariants[2].src == Scope()
    assert result.warnings == ()


def test_nulls_mean_empty():
    result = load_invariants(DATA / "valid" / "nulls.yaml")
    assert result == InvariantsFile(
        path=str(DATA / "valid" / "nulls.yaml"),
        invariants=(
            Invariant("nothing is reachable at all", InvariantKind.ISOLATED),
            Invariant("empty scopes and lists", InvariantKind.ALLOWED),
            Invariant(
                "empty selectors",
                InvariantKind.ONLY,
                Scope(namespace=LabelSelector(), pod=LabelSelector()),
                Scope(pod=LabelSelector(), ip_block=IPBlock(ipaddress.ip_network("10.0.0.0/8"))),
            ),
        ),
    )


def test_json_file_with_a_single_manifest_string():
    path = DATA / "valid" / "single-manifest.json"
    result = load_invariants(path)
    assert result.manifests == (str(path.parent / "cluster.yaml"),)
    assert result.universe.pod_cidrs == (ipaddress.ip_network("10.244.0.0/16"),)
    assert result.invariants[0].dst == Scope(namespace="dev")
    assert result.invariants[0].ports == (PolicyPort(port=22),)


def test_invariants_null_is_an_empty_list():
    assert parse("invariants:\n").invariants == ()


def test_byte_order_mark_is_ignored():
    assert parse_invariants("\ufeffinvariants: []\n", FILE) == InvariantsFile(path=FILE)


# --- manifests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("[k8s/, policies/a.yaml]", ("base/k8s", "base/policies/a.yaml")),
        ("k8s", ("base/k8s",)),
        ("[../other/./k8s]", ("other/k8s",)),
        ("[/abs/k8s]", ("/abs/k8s",)),
        ("[]", ()),
        ("", ()),
    ],
)
def test_manifests_are_resolved_against_base_dir(value, expected):
    assert parse(f"manifests: {value}\ninvariants: []\n", base_dir="base").manifests == expected


def test_manifests_default_base_dir_is_the_current_directory():
    assert parse("manifests: [k8s/]\ninvariants: []\n").manifests == ("k8s",)


# --- universe and semantics ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("namespaces: declared", Universe(namespaces="declared")),
        ("namespaces: any", Universe()),
        ("pods: workloads", Universe(pods="workloads")),
        ("pods: any", Universe()),
        ("podCIDRs: [10.244.0.0/16, 'fd00::/64']", Universe(pod_cidrs=(ipaddress.ip_network("10.244.0.0/16"), ipaddress.ip_network("fd00::/64")))),
        ("podCIDRs: []", Universe()),
        ("podCIDRs:", Universe()),
        ("hostNetwork: true", Universe(host_network=True)),
        ("nodeTraffic: true", Universe(node_traffic=True)),
        ("selfTraffic: true", Universe(self_traffic=True)),
        ("selfTraffic: false", Universe()),
    ],
)
def test_universe_fields(text, expected):
    assert parse(f"universe:\n  {text}\ninvariants: []\n").universe == expected


@pytest.mark.parametrize("text", ["universe:\n", "universe: {}\n", ""])
def test_universe_defaults(text):
    assert parse(text + "invariants: []\n").universe == Universe()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ipBlockMatchesPods: false", Semantics(ip_block_matches_pods=False)),
        ("selfTrafficAllowed: false", Semantics(self_traffic_allowed=False)),
        ("ownNodeTrafficAllowed: false", Semantics(own_node_traffic_allowed=False)),
        ("ownNodeTrafficAllowed: true", Semantics()),
    ],
)
def test_semantics_fields(text, expected):
    assert parse(f"semantics:\n  {text}\ninvariants: []\n").semantics == expected


@pytest.mark.parametrize("text", ["semantics:\n", "semantics: {}\n", ""])
def test_semantics_defaults(text):
    assert parse(text + "invariants: []\n").semantics == Semantics()


def test_pod_cidr_with_host_bits_warns():
    result = parse("universe:\n  podCIDRs: [10.244.1.5/16]\ninvariants: []\n")
    assert result.universe.pod_cidrs == (ipaddress.ip_network("10.244.0.0/16"),)
    assert [str(w) for w in result.warnings] == [
        "inv.yaml:2:14: warning: universe.podCIDRs[0]: CIDR '10.244.1.5/16' has host bits set; it is read as 10.244.0.0/16"
    ]


# --- invariants ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [k for k in InvariantKind if Invariant("x", k).is_flow])
def test_every_flow_kind_is_a_key(kind):
    invariant = one(f"{kind.value}: {{from: {{namespace: a}}, to: {{namespace: b}}}}\n")
    assert invariant == Invariant("x", kind, Scope(namespace="a"), Scope(namespace="b"))


@pytest.mark.parametrize("body", ["isolated:\n", "isolated: {}\n"])
def test_empty_body_is_any_packet(body):
    invariant = one(body)
    assert invariant == Invariant("x", InvariantKind.ISOLATED, Scope(), Scope(), ())
    # Absent scopes point at the body so reports have somewhere to point.
    assert invariant.src.location == invariant.dst.location == loc(3, 15 if "{}" in body else 14)


def test_name_is_kept_verbatim():
    (invariant,) = parse("invariants:\n  - name: '  Prod: isolated  '\n    isolated:\n").invariants
    assert invariant.name == "  Prod: isolated  "


def test_invariant_and_scope_locations():
    result = parse(
        """\
        invariants:
          - name: a
            allowed:
              from:
                namespace: shop
              to: {pod: {}}
              ports:
                - port: 80
        """
    )
    (invariant,) = result.invariants
    assert invariant.location == loc(2, 5)
    assert invariant.src.location == loc(5, 9)
    assert invariant.dst.location == loc(6, 11)
    assert invariant.ports[0].location == loc(8, 11)


# --- scopes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{}", Scope()),
        ("", Scope()),
        ("{namespace: kube-system}", Scope(namespace="kube-system")),
        ("{namespace: {matchLabels: {env: prod}}}", Scope(namespace=LabelSelector({"env": "prod"}))),
        ("{namespace: {}}", Scope(namespace=LabelSelector())),
        ("{namespace: }", Scope(namespace=LabelSelector())),
        ("{namespace: '123'}", Scope(namespace="123")),
        ("{pod: {matchLabels: {app: api}}}", Scope(pod=LabelSelector({"app": "api"}))),
        ("{pod: {}}", Scope(pod=LabelSelector())),
        ("{pod: }", Scope(pod=LabelSelector())),
        (
            "{pod: {matchExpressions: [{key: tier, operator: DoesNotExist}]}}",
            Scope(pod=LabelSelector(match_expressions=[Requirement("tier", Operator.DOES_NOT_EXIST)])),
        ),
        ("{workload: frontend}", Scope(workload="frontend")),
        ("{workload: Deployment/frontend}", Scope(workload="Deployment/frontend")),
        ("{workload: StatefulSet/db.primary}", Scope(workload="StatefulSet/db.primary")),
        ("{workload: Rollout/web}", Scope(workload="Rollout/web")),
        ("{ipBlock: {cidr: 10.0.0.0/8}}", Scope(ip_block=IPBlock(ipaddress.ip_network("10.0.0.0/8")))),
        (
            "{ipBlock: {cidr: 'fd00::/8', except: ['fd00:1::/32']}}",
            Scope(ip_block=IPBlock(ipaddress.ip_network("fd00::/8"), (ipaddress.ip_network("fd00:1::/32"),))),
        ),
        ("{kind: pod}", Scope(kind=EndpointKind.POD)),
        ("{kind: external}", Scope(kind=EndpointKind.EXTERNAL)),
        (
            "{kind: external, ipBlock: {cidr: 0.0.0.0/0}}",
            Scope(ip_block=IPBlock(ipaddress.ip_network("0.0.0.0/0")), kind=EndpointKind.EXTERNAL),
        ),
        (
            "{kind: pod, namespace: a, pod: {}, workload: w, ipBlock: {cidr: 10.0.0.0/8}}",
            Scope("a", LabelSelector(), "w", IPBlock(ipaddress.ip_network("10.0.0.0/8")), EndpointKind.POD),
        ),
    ],
)
def test_scope_fields(text, expected):
    assert scope(text) == expected


@pytest.mark.parametrize(
    "text, pods_only",
    [("{}", False), ("{ipBlock: {cidr: 10.0.0.0/8}}", False), ("{kind: external}", False), ("{namespace: a}", True), ("{pod: {}}", True), ("{workload: w}", True), ("{kind: pod}", True)],
)
def test_namespace_pod_and_workload_imply_a_pod(text, pods_only):
    assert scope(text).pods_only is pods_only


# --- ports ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[{port: 80}]", (PolicyPort(Protocol.TCP, 80),)),
        ("[{protocol: UDP, port: 53}]", (PolicyPort(Protocol.UDP, 53),)),
        ("[{protocol: SCTP}]", (PolicyPort(Protocol.SCTP),)),
        ("[{port: http}]", (PolicyPort(Protocol.TCP, "http"),)),
        ("[{port: 8000, endPort: 8080}]", (PolicyPort(Protocol.TCP, 8000, 8080),)),
        ("[{}]", (PolicyPort(),)),
        ("[{port: 80}, {port: 443}]", (PolicyPort(port=80), PolicyPort(port=443))),
        ("[]", ()),
        ("", ()),
    ],
)
def test_ports(text, expected):
    assert one(f"allowed:\n  ports: {text}\n").ports == expected


def test_absent_ports_mean_every_port():
    assert one("allowed: {to: {pod: {}}}\n").ports == ()


# --- warnings ------------------------------------------------------------------------------


def warnings(text: str) -> list[str]:
    return [str(w).removeprefix(FILE + ":") for w in parse(text).warnings]


def test_ip_block_with_host_bits_warns():
    assert warnings("invariants:\n  - name: x\n    isolated: {to: {ipBlock: {cidr: 10.1.2.3/8, except: [10.1.0.0/16]}}}\n") == [
        "3:37: warning: invariants[0].isolated.to.ipBlock.cidr: CIDR '10.1.2.3/8' has host bits set; it is read as 10.0.0.0/8"
    ]


def test_external_ip_block_inside_pod_cidrs_warns():
    text = """\
        universe: {podCIDRs: [10.244.0.0/16]}
        invariants:
          - name: x
            isolated:
              to: {kind: external, ipBlock: {cidr: 10.244.3.0/24}}
        """
    assert warnings(text) == [
        "5:37: warning: invariants[0].isolated.to.ipBlock: no endpoint matches: 10.244.3.0/24 lies inside "
        "universe.podCIDRs, so no external host has an IP in it"
    ]


def test_pod_ip_block_outside_pod_cidrs_warns():
    text = """\
        universe: {podCIDRs: [10.244.0.0/16]}
        invariants:
          - name: x
            isolated:
              to: {namespace: a, ipBlock: {cidr: 192.168.0.0/16}}
        """
    assert warnings(text) == [
        "5:35: warning: invariants[0].isolated.to.ipBlock: no endpoint matches: 192.168.0.0/16 lies outside "
        "universe.podCIDRs, so no pod has an IP in it"
    ]


@pytest.mark.parametrize(
    "universe, to",
    [
        ("{}", "{kind: external, ipBlock: {cidr: 10.244.3.0/24}}"),  # no podCIDRs: any IP may be external
        ("{podCIDRs: [10.244.0.0/16]}", "{ipBlock: {cidr: 10.244.3.0/24}}"),  # pods match
        ("{podCIDRs: [10.244.0.0/16]}", "{ipBlock: {cidr: 192.168.0.0/16}}"),  # external hosts match
        ("{podCIDRs: [10.244.0.0/16]}", "{kind: external, ipBlock: {cidr: 10.0.0.0/8}}"),  # partly outside
        ("{podCIDRs: [10.244.0.0/16]}", "{kind: pod, ipBlock: {cidr: 10.0.0.0/8}}"),  # partly inside
        ("{podCIDRs: [10.244.0.0/16], hostNetwork: true}", "{kind: pod, ipBlock: {cidr: 192.168.0.0/16}}"),  # node IPs
        ("{podCIDRs: ['fd00::/64']}", "{kind: external, ipBlock: {cidr: 10.244.3.0/24}}"),  # other family
    ],
)
def test_no_warning_when_the_scope_can_match(universe, to):
    assert warnings(f"universe: {universe}\ninvariants:\n  - name: x\n    isolated: {{to: {to}}}\n") == []


# --- load_invariants -----------------------------------------------------------------------


def test_load_resolves_manifests_next_to_the_file(tmp_path):
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "inv.yaml"
    path.write_text("manifests: [k8s/, ../shared]\ninvariants: []\n")
    result = load_invariants(path)
    assert result.path == str(path)
    assert result.manifests == (str(tmp_path / "sub" / "k8s"), str(tmp_path / "shared"))
    assert load_invariants(str(path)) == result


def test_load_relative_path_resolves_relative_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pathlib.Path("inv.yaml").write_text("manifests: k8s\ninvariants: []\n")
    assert load_invariants("inv.yaml").manifests == ("k8s",)


def test_load_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(InputError) as info:
        load_invariants(path)
    assert info.value.diagnostics == (Diagnostic(f"cannot read invariants file {str(path)!r}: No such file or directory"),)


def test_load_directory(tmp_path):
    with pytest.raises(InputError) as info:
        load_invariants(tmp_path)
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.message.startswith(f"cannot read invariants file {str(tmp_path)!r}: ")
    assert diagnostic.location is None


def test_load_not_utf8(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_bytes("invariants:\n  - name: caf\u00e9 \xff".encode("utf-8")[:-2] + b"\xff\n")
    with pytest.raises(InputError) as info:
        load_invariants(path)
    assert str(info.value) == f"{path}:2:16: error: not valid UTF-8: invalid start byte (byte 0xff)"


def test_load_byte_order_mark(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_bytes(b"\xef\xbb\xbfinvariants: []\n")
    assert load_invariants(path).invariants == ()


# --- errors --------------------------------------------------------------------------------

I = "invariants:\n  - name: x\n"  # the start of a file with one invariant; its body goes on line 3


@pytest.mark.parametrize(
    "text, expected",
    [
        # the document
        ("", "1:1: error: the invariants file is empty; expected a mapping with an 'invariants' list"),
        ("# nothing\n", "1:1: error: the invariants file is empty; expected a mapping with an 'invariants' list"),
        ("~\n", "1:1: error: the invariants file is empty; expected a mapping with an 'invariants' list"),
        ("invariants: []\n---\ninvariants: []\n", "3:1: error: the invariants file must be a single YAML document; remove the '---' before this one"),
        ("- name: x\n", "1:1: error: must be a mapping with an 'invariants' list, got a list"),
        ("invariants: [\n", "2:1: error: invalid YAML: ..."),
        ("invariants: []\ninvariants: []\n", "2:1: error: duplicate key 'invariants'"),
        # top level
        ("manifests: [k8s]\n", "1:1: error: missing required field 'invariants'"),
        ("invariant: []\n", "1:1: error: invariant: unknown field 'invariant'; did you mean 'invariants'?"),
        ("invariants: []\nchecks: []\n", "2:1: error: checks: unknown field 'checks'; known fields: manifests, universe, semantics, ignoreKinds, defaultNamespace, invariants, lint"),
        ("invariants: {name: x}\n", "1:13: error: invariants: must be a list such as [{name: ..., isolated: {from: ..., to: ...}}], got a mapping"),
        # manifests
        ("manifests: 3\ninvariants: []\n", "1:12: error: manifests: must be a path or a list of paths, got integer 3"),
        ("manifests: {a: b}\ninvariants: []\n", "1:12: error: manifests: must be a path or a list of paths, got a mapping"),
        ("manifests: ['']\ninvariants: []\n", "1:13: error: manifests[0]: must not be empty"),
        ("manifests: [a, 1]\ninvariants: []\n", "1:16: error: manifests[1]: must be a string, got integer 1"),
        ("manifests: \"a\\0b\"\ninvariants: []\n", "1:12: error: manifests: must not contain a NUL character"),
        # universe
        ("universe: [any]\ninvariants: []\n", "1:11: error: universe: must be a mapping, got a list"),
        ("universe: {podCidrs: []}\ninvariants: []\n", "1:12: error: universe.podCidrs: unknown field 'podCidrs'; did you mean 'podCIDRs'?"),
        ("universe: {namespaces: Declared}\ninvariants: []\n", "1:24: error: universe.namespaces: must be 'any' or 'declared', got 'Declared'; did you mean 'declared'?"),
        ("universe: {namespaces: all}\ninvariants: []\n", "1:24: error: universe.namespaces: must be 'any' or 'declared', got 'all'"),
        ("universe: {namespaces: }\ninvariants: []\n", "1:24: error: universe.namespaces: must be 'any' or 'declared', got null"),
        ("universe: {pods: workload}\ninvariants: []\n", "1:18: error: universe.pods: must be 'any' or 'workloads', got 'workload'; did you mean 'workloads'?"),
        ("universe: {podCIDRs: 10.0.0.0/8}\ninvariants: []\n", "1:22: error: universe.podCIDRs: must be a list such as [10.244.0.0/16], got string '10.0.0.0/8'"),
        ("universe: {podCIDRs: [10.0.0.0]}\ninvariants: []\n", "1:23: error: universe.podCIDRs[0]: invalid CIDR '10.0.0.0': expected an address and a prefix length, e.g. 10.0.0.0/8"),
        ("universe: {hostNetwork: 1}\ninvariants: []\n", "1:25: error: universe.hostNetwork: must be true or false, got integer 1"),
        ("universe: {nodeTraffic: 'true'}\ninvariants: []\n", "1:25: error: universe.nodeTraffic: must be true or false, got string 'true'"),
        ("universe: {selfTraffic: }\ninvariants: []\n", "1:25: error: universe.selfTraffic: must be true or false, got null"),
        # semantics
        ("semantics: {ipBlockMatchPods: false}\ninvariants: []\n", "1:13: error: semantics.ipBlockMatchPods: unknown field 'ipBlockMatchPods'; did you mean 'ipBlockMatchesPods'?"),
        ("semantics: {selfTrafficAllowed: no}\ninvariants: []\n", None),  # YAML 1.1: no is false
        ("semantics: {ownNodeTrafficAllowed: 0}\ninvariants: []\n", "1:36: error: semantics.ownNodeTrafficAllowed: must be true or false, got integer 0"),
        ("semantics: true\ninvariants: []\n", "1:12: error: semantics: must be a mapping, got boolean true"),
        # an invariant
        ("invariants: [prod is isolated]\n", "1:14: error: invariants[0]: must be a mapping with a 'name' and one of isolated, allowed, reachable, only, got string 'prod is isolated'"),
        ("invariants:\n  - isolated: {}\n", "2:5: error: invariants[0]: missing required field 'name'"),
        ("invariants:\n  - name: 7\n    isolated:\n", "2:11: error: invariants[0].name: must be a string, got integer 7"),
        ("invariants:\n  - name: ''\n    isolated:\n", "2:11: error: invariants[0].name: must not be empty"),
        ("invariants:\n  - name: '  '\n    isolated:\n", "2:11: error: invariants[0].name: must not be blank"),
        ("invariants:\n  - name: |\n      two\n      lines\n    isolated:\n", "2:11: error: invariants[0].name: must be a single line"),
        (
            "invariants:\n  - name: x\n    isolated:\n  - name: y\n    allowed:\n  - name: x\n    only:\n",
            "6:11: error: invariants[2].name: duplicate invariant name 'x'; first used by invariants[0] at inv.yaml:2:11",
        ),
        (I, "2:5: error: invariants[0]: missing the invariant's kind: one of isolated, allowed, reachable, only"),
        (I + "    isolated: {}\n    allowed: {}\n", "4:5: error: invariants[0].allowed: an invariant has exactly one kind, but this one has both 'isolated' and 'allowed'"),
        (I + "    isolate: {}\n", "3:5: error: invariants[0].isolate: unknown field 'isolate'; did you mean 'isolated'?"),
        (I + "    reachable: {}\n    description: y\n", "4:5: error: invariants[0].description: unknown field 'description'; known fields: name, isolated, allowed, reachable, only, equivalent, redundant, nonRedundant"),
        (
            I + "    isolated:\n    from: {namespace: a}\n",
            "4:5: error: invariants[0].from: unknown field 'from'; 'from' belongs under the invariant's kind, "
            "e.g. isolated: {from: ..., to: ..., ports: ...}; check the indentation",
        ),
        (
            I + "    kind: isolated\n",
            "3:5: error: invariants[0].kind: unknown field 'kind'; write the kind as the key, e.g. isolated: "
            "{from: ..., to: ...}; kinds: isolated, allowed, reachable, only",
        ),
        # the body
        (I + "    isolated: [from, to]\n", "3:15: error: invariants[0].isolated: must be a mapping, got a list"),
        (I + "    isolated: {port: 80}\n", "3:16: error: invariants[0].isolated.port: unknown field 'port'; did you mean 'ports'?"),
        (I + "    isolated: {src: {}}\n", "3:16: error: invariants[0].isolated.src: unknown field 'src'; did you mean 'from'?"),
        (I + "    isolated: {destination: {}}\n", "3:16: error: invariants[0].isolated.destination: unknown field 'destination'; did you mean 'to'?"),
        # scopes
        (I + "    isolated: {from: shop}\n", "3:22: error: invariants[0].isolated.from: must be a mapping, got string 'shop'"),
        (I + "    isolated: {from: {podSelector: {}}}\n", "3:23: error: invariants[0].isolated.from.podSelector: unknown field 'podSelector'; did you mean 'pod'?"),
        (I + "    isolated: {from: {namespaceSelector: {}}}\n", "3:23: error: invariants[0].isolated.from.namespaceSelector: unknown field 'namespaceSelector'; did you mean 'namespace'?"),
        (I + "    isolated: {from: {cidr: 10.0.0.0/8}}\n", "3:23: error: invariants[0].isolated.from.cidr: unknown field 'cidr'; did you mean ipBlock: {cidr: ...}?"),
        (I + "    isolated: {from: {matchLabels: {}}}\n", "3:23: error: invariants[0].isolated.from.matchLabels: unknown field 'matchLabels'; did you mean pod: {matchLabels: ...}?"),
        (I + "    isolated: {from: {ns: a}}\n", "3:23: error: invariants[0].isolated.from.ns: unknown field 'ns'; known fields: namespace, pod, workload, service, ipBlock, kind"),
        (
            I + "    isolated: {from: {namespace: Prod}}\n",
            "3:34: error: invariants[0].isolated.from.namespace: invalid name 'Prod': must be a DNS label (lowercase letters, digits and '-', at most 63 characters)",
        ),
        (I + "    isolated: {from: {namespace: ''}}\n", "3:34: error: invariants[0].isolated.from.namespace: invalid name '': must be a DNS label (lowercase letters, digits and '-', at most 63 characters)"),
        (
            I + "    isolated: {from: {namespace: [a, b]}}\n",
            "3:34: error: invariants[0].isolated.from.namespace: must be a namespace name or a label selector such as {matchLabels: {env: prod}}, got a list",
        ),
        (
            I + "    isolated: {from: {namespace: no}}\n",
            "3:34: error: invariants[0].isolated.from.namespace: must be a namespace name or a label selector such as "
            "{matchLabels: {env: prod}}, got boolean false; quote a name that YAML reads as another type",
        ),
        (I + "    isolated: {from: {namespace: {name: a}}}\n", "3:35: error: invariants[0].isolated.from.namespace.name: unknown field 'name'; known fields: matchLabels, matchExpressions"),
        (I + "    isolated: {from: {pod: app=api}}\n", "3:28: error: invariants[0].isolated.from.pod: must be a label selector such as {matchLabels: {app: api}}, got string 'app=api'"),
        (I + "    isolated: {from: {pod: [app]}}\n", "3:28: error: invariants[0].isolated.from.pod: must be a label selector such as {matchLabels: {app: api}}, got a list"),
        (I + "    isolated: {from: {pod: {matchLabel: {}}}}\n", "3:29: error: invariants[0].isolated.from.pod.matchLabel: unknown field 'matchLabel'; did you mean 'matchLabels'?"),
        (I + "    isolated: {from: {pod: {matchLabels: {app: 1}}}}\n", "3:48: error: invariants[0].isolated.from.pod.matchLabels.app: must be a string, got integer 1"),
        (
            I + "    isolated: {from: {pod: {matchExpressions: [{key: app, operator: in, values: [a]}]}}}\n",
            "3:69: error: invariants[0].isolated.from.pod.matchExpressions[0].operator: unknown operator 'in'; expected one of In, NotIn, Exists, DoesNotExist",
        ),
        (I + "    isolated: {from: {workload: 3}}\n", "3:33: error: invariants[0].isolated.from.workload: must be a string, got integer 3"),
        (I + "    isolated: {from: {workload: ''}}\n", "3:33: error: invariants[0].isolated.from.workload: must not be empty"),
        (
            I + "    isolated: {from: {workload: deployment/web}}\n",
            "3:33: error: invariants[0].isolated.from.workload: invalid workload 'deployment/web': expected name or Kind/name, e.g. frontend or Deployment/frontend; did you mean 'Deployment/web'?",
        ),
        (
            I + "    isolated: {from: {workload: sts/db}}\n",
            "3:33: error: invariants[0].isolated.from.workload: invalid workload 'sts/db': expected name or Kind/name, e.g. frontend or Deployment/frontend; did you mean 'StatefulSet/db'?",
        ),
        (
            I + "    isolated: {from: {workload: shop/Deployment/web}}\n",
            "3:33: error: invariants[0].isolated.from.workload: invalid workload 'shop/Deployment/web': expected name or Kind/name, e.g. frontend or Deployment/frontend",
        ),
        (
            I + "    isolated: {from: {workload: Deployment/Web}}\n",
            "3:33: error: invariants[0].isolated.from.workload: invalid workload 'Deployment/Web': must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)",
        ),
        (
            I + "    isolated: {from: {workload: Deployment/}}\n",
            "3:33: error: invariants[0].isolated.from.workload: invalid workload 'Deployment/': must be a DNS subdomain (lowercase letters, digits, '-' and '.', at most 253 characters)",
        ),
        (I + "    isolated: {from: {ipBlock: 10.0.0.0/8}}\n", "3:32: error: invariants[0].isolated.from.ipBlock: must be a mapping such as {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}, got string '10.0.0.0/8'"),
        (I + "    isolated: {from: {ipBlock: {}}}\n", "3:32: error: invariants[0].isolated.from.ipBlock: missing required field 'cidr'"),
        (I + "    isolated: {from: {ipBlock: {cidr: 10.0.0.0/33}}}\n", "3:39: error: invariants[0].isolated.from.ipBlock.cidr: invalid CIDR '10.0.0.0/33': '10.0.0.0/33' does not appear to be an IPv4 or IPv6 network"),
        (I + "    isolated: {from: {ipBlock: {cidr: 10.0.0.0/255.0.0.0}}}\n", "3:39: error: invariants[0].isolated.from.ipBlock.cidr: invalid CIDR '10.0.0.0/255.0.0.0': expected an address and a prefix length, e.g. 10.0.0.0/8"),
        (
            I + "    isolated:\n      from: {ipBlock: {cidr: 10.0.0.0/16, except: [10.0.1.0/24, 10.1.0.0/16]}}\n",
            "4:65: error: invariants[0].isolated.from.ipBlock.except[1]: 10.1.0.0/16 is not inside the ipBlock's cidr 10.0.0.0/16",
        ),
        (I + "    isolated: {from: {kind: Pod}}\n", "3:29: error: invariants[0].isolated.from.kind: must be 'pod' or 'external', got 'Pod'; did you mean 'pod'?"),
        (I + "    isolated: {from: {kind: node}}\n", "3:29: error: invariants[0].isolated.from.kind: must be 'pod' or 'external', got 'node'"),
        (
            I + "    isolated: {from: {kind: external, namespace: a}}\n",
            "3:29: error: invariants[0].isolated.from.kind: 'external' contradicts 'namespace': namespace, pod, workload and service match only pods; "
            "drop one, or use ipBlock alone to match pods and external hosts",
        ),
        (
            I + "    isolated: {to: {pod: {}, kind: external}}\n",
            "3:36: error: invariants[0].isolated.to.kind: 'external' contradicts 'pod': namespace, pod, workload and service match only pods; "
            "drop one, or use ipBlock alone to match pods and external hosts",
        ),
        (
            I + "    isolated: {to: {workload: w, kind: external}}\n",
            "3:40: error: invariants[0].isolated.to.kind: 'external' contradicts 'workload': namespace, pod, workload and service match only pods; "
            "drop one, or use ipBlock alone to match pods and external hosts",
        ),
        (
            I + "    isolated: {from: {kind: external}, to: {kind: external}}\n",
            "3:51: error: invariants[0].isolated.to.kind: no packet matches: 'from' and 'to' are both external hosts, but every packet has a pod at one end",
        ),
        (
            I + "    isolated: {from: {ipBlock: {cidr: 10.0.0.0/8}}, to: {ipBlock: {cidr: 'fd00::/8'}}}\n",
            "3:74: error: invariants[0].isolated.to.ipBlock.cidr: no packet matches: to.ipBlock is IPv6 but from.ipBlock is IPv4",
        ),
        # ports
        (I + "    allowed: {ports: 8080}\n", "3:22: error: invariants[0].allowed.ports: must be a list such as [{protocol: TCP, port: 8080}], got integer 8080"),
        (I + "    allowed: {ports: {port: 80}}\n", "3:22: error: invariants[0].allowed.ports: must be a list such as [{protocol: TCP, port: 8080}], got a mapping"),
        (I + "    allowed: {ports: [8080]}\n", "3:23: error: invariants[0].allowed.ports[0]: must be a mapping such as {protocol: TCP, port: 8080}, got integer 8080"),
        (I + "    allowed: {ports: [http]}\n", "3:23: error: invariants[0].allowed.ports[0]: must be a mapping such as {protocol: TCP, port: http}, got string 'http'"),
        (I + "    allowed: {ports: [{protocol: ICMP}]}\n", "3:34: error: invariants[0].allowed.ports[0].protocol: unknown protocol 'ICMP'; expected TCP, UDP or SCTP"),
        (I + "    allowed: {ports: [{ports: 80}]}\n", "3:24: error: invariants[0].allowed.ports[0].ports: unknown field 'ports'; did you mean 'port'?"),
        (I + "    allowed: {ports: [{port: 0}]}\n", "3:30: error: invariants[0].allowed.ports[0].port: must be between 1 and 65535 (got 0)"),
        (I + "    allowed: {ports: [{port: 70000}]}\n", "3:30: error: invariants[0].allowed.ports[0].port: must be between 1 and 65535 (got 70000)"),
        (I + "    allowed: {ports: [{port: '80'}]}\n", "3:30: error: invariants[0].allowed.ports[0].port: invalid port name '80': must be 1-15 lowercase letters, digits and '-', with at least one letter, no '--', and not starting or ending with '-'; write a port number without quotes"),
        (I + "    allowed: {ports: [{port: 90, endPort: 80}]}\n", "3:43: error: invariants[0].allowed.ports[0].endPort: must be >= port (got 80)"),
        (I + "    allowed: {ports: [{endPort: 80}]}\n", "3:33: error: invariants[0].allowed.ports[0].endPort: requires port to be set"),
        (I + "    allowed: {ports: [{port: http, endPort: 80}]}\n", "3:45: error: invariants[0].allowed.ports[0].endPort: may not be used with a named port (port is 'http')"),
        (
            I + "    allowed: {to: {kind: external}, ports: [{port: http}]}\n",
            "3:52: error: invariants[0].allowed.ports[0].port: the named port 'http' matches no packet: 'to' is external hosts and only pods have named ports",
        ),
    ],
)
def test_errors(text, expected):
    if expected is None:
        parse(text)
    elif expected.endswith("..."):  # the rest of the message is PyYAML's or libyaml's
        assert error(text).startswith(expected.removesuffix("..."))
    else:
        assert error(text) == expected


def test_error_in_a_later_invariant_names_its_index():
    text = """\
        invariants:
          - name: a
            isolated: {}
          - name: b
            isolated: {}
          - name: c
            isolated:
              from: {ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}
        """
    assert error(text) == "8:51: error: invariants[2].isolated.from.ipBlock.except[0]: 11.0.0.0/8 is not inside the ipBlock's cidr 10.0.0.0/8"


def test_named_port_is_fine_when_to_may_be_a_pod():
    assert one("allowed: {to: {ipBlock: {cidr: 10.0.0.0/8}}, ports: [{port: http}]}\n").ports == (PolicyPort(port="http"),)


def test_only_input_errors_escape():
    for text in ["{", "a: !!python/object:os.system {}", "- - - -", "invariants: [{name: x, isolated: {from: {pod: {matchLabels: [1]}}}}]", "\x00", "invariants: 2024-13-45"]:
        with pytest.raises(InputError):
            parse_invariants(text, FILE)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_files_raise_only_input_errors(data):
    text = (DATA / "valid" / "all-fields.yaml").read_text()
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 20)))
    insert = data.draw(st.text(alphabet=st.sampled_from(list(":-[]{}#&*!|>'\" \n\tabc0/.,") + ["\x00", "\u2028"]), max_size=5))
    try:
        parse_invariants(text[:start] + insert + text[end:], FILE)
    except InputError as exc:
        assert exc.diagnostics and all(d.message for d in exc.diagnostics)


# --- the JSON Schema -----------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def _objects(schema):
    if isinstance(schema, dict):
        if "properties" in schema or schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _objects(value)


def test_schema_closes_every_object():
    closed = [obj for obj in _objects(SCHEMA) if obj.get("type") == "object" and "properties" in obj]
    # the file, universe, semantics, invariant, flow body, equivalent and redundant bodies,
    # scope, selector, requirement, ipBlock, port
    assert len(closed) == 12
    for obj in closed:
        assert obj.get("additionalProperties") is False, obj


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_fixtures_pass_schema_and_parser(path):
    load_invariants(path)
    VALIDATOR.validate(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_fixtures_fail_schema_and_parser(path):
    with pytest.raises(InputError):
        load_invariants(path)
    assert not VALIDATOR.is_valid(yaml.safe_load(path.read_text()))


def test_docs_mention_every_schema_field():
    docs = (ROOT / "docs" / "invariants.md").read_text()
    names = set()
    for obj in _objects(SCHEMA):
        names.update(obj.get("properties", {}))
    missing = sorted(n for n in names if f"`{n}" not in docs)
    assert not missing


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=6), st.integers(0, 128), st.booleans())
def test_schema_ipv6_pattern_accepts_what_the_parser_accepts(address, prefix, exploded):
    text = f"{address.exploded if exploded else address.compressed}/{prefix}"
    assert re.search(SCHEMA["$defs"]["ipv6Cidr"]["pattern"], text)
    assert not re.search(SCHEMA["$defs"]["ipv4Cidr"]["pattern"], text)


@settings(max_examples=300, deadline=None)
@given(st.ip_addresses(v=4), st.integers(0, 32))
def test_schema_ipv4_pattern_accepts_what_the_parser_accepts(address, prefix):
    assert re.search(SCHEMA["$defs"]["ipv4Cidr"]["pattern"], f"{address}/{prefix}")


@pytest.mark.parametrize(
    "text",
    ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/033", "256.0.0.0/8", "010.0.0.0/8", "10.0.0.0/255.0.0.0", "fe80::1%eth0/64",
     "::/129", "1::2::3/64", "1:2:3:4:5:6:7:8:9/64", "::ffff:1.2.3/96", ":::/1", "g::/8"],
)
def test_schema_and_parser_reject_bad_cidrs(text):
    doc = {"invariants": [{"name": "x", "isolated": {"to": {"ipBlock": {"cidr": text}}}}]}
    assert not VALIDATOR.is_valid(doc)
    with pytest.raises(InputError):
        parse_invariants(json.dumps(doc), FILE)


@pytest.mark.parametrize("text", ["10.0.0.0/08", "fd00::/008", "0.0.0.0/0", "::/0", "::ffff:10.0.0.0/104", "10.0.0.1/8"])
def test_schema_and_parser_accept_cidrs_as_go_parses_them(text):
    doc = {"invariants": [{"name": "x", "isolated": {"to": {"ipBlock": {"cidr": text}}}}]}
    assert VALIDATOR.is_valid(doc)
    parse_invariants(json.dumps(doc), FILE)


# Values for the agreement property: each pool mixes valid and invalid shapes. The parser
# checks some things a schema cannot (endPort >= port, except inside cidr, unique names,
# both ends external, IP families of from and to), so the pools avoid breaking those.
_SELECTORS = [
    None, {}, {"matchLabels": {"app": "api"}}, {"matchLabels": None}, {"matchLabels": {"bad key!": "x"}},
    {"matchLabels": {"app": 1}}, {"matchLabels": {"app": "-x"}}, {"matchExpressions": None},
    {"matchExpressions": [{"key": "a", "operator": "In", "values": ["x"]}]},
    {"matchExpressions": [{"key": "a", "operator": "Exists"}]},
    {"matchExpressions": [{"key": "a", "operator": "Exists", "values": None}]},
    {"matchExpressions": [{"key": "a", "operator": "In"}]},
    {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
    {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
    {"matchExpressions": [{"key": "a", "operator": "Foo"}]},
    {"matchExpressions": [{"operator": "Exists"}]},
    {"matchExpressions": [{"key": "a", "operator": "Exists", "extra": 1}]},
    {"matchLabel": {}}, "app=api", [],
]
_SCOPE_VALUES = {
    "namespace": ["shop", "kube-system", "Shop", "-x", "a" * 64, 5, True, *_SELECTORS],
    "pod": _SELECTORS,
    "workload": ["frontend", "Deployment/frontend", "deployment/frontend", "Front", "", 3, "a/b/c", "Deployment/", "db.primary"],
    "ipBlock": [
        {"cidr": "10.0.0.0/8"}, {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}, {"cidr": "10.0.0.0/8", "except": None},
        {"cidr": "10.0.0.0/33"}, {"cidr": 10}, {}, {"cidr": "10.0.0.0/8", "extra": 1}, {"cidr": "10.0.0.0/8", "except": "10.1.0.0/16"}, "10.0.0.0/8",
    ],
    "kind": ["pod", "external", "Pod", 1, None],
    "podSelector": [{}],
}
_PORTS = [
    {"port": 80}, {"protocol": "UDP"}, {"port": "http"}, {"port": 80, "endPort": 90}, {"port": 80, "endPort": None},
    {"port": 0}, {"port": "HTTP"}, {"endPort": 90}, {"port": "http", "endPort": 90}, {"port": None, "endPort": 90},
    {"protocol": "ICMP"}, {"protocol": None}, {"protocol": "tcp"}, {"port": 80, "extra": 1}, 8080, {"port": True},
]


def _scopes(kinds):
    values = dict(_SCOPE_VALUES, kind=kinds)
    fields = st.dictionaries(st.sampled_from(sorted(values)), st.none(), max_size=3).flatmap(
        lambda keys: st.fixed_dictionaries({k: st.sampled_from(values[k]) for k in keys})
    )
    return st.one_of(st.none(), fields, st.sampled_from(["shop", [], 1]))


_FLOWS = st.one_of(
    st.none(),
    st.sampled_from([[], "x"]),
    st.fixed_dictionaries(
        {},
        optional={
            # "to" never is external, so both ends are never external and no named port goes to one.
            "from": _scopes(["pod", "external", "Pod", 1, None]),
            "to": _scopes(["pod", "Pod", 1, None]),
            "ports": st.one_of(st.none(), st.sampled_from([8080, "x"]), st.lists(st.sampled_from(_PORTS), max_size=2)),
            "src": st.just({}),
        },
    ),
)
_KIND_KEYS = ["isolated", "allowed", "reachable", "only"]


@st.composite
def _invariant(draw, index):
    entry = {}
    if draw(st.integers(0, 9)):
        entry["name"] = draw(st.sampled_from([f"invariant {index}"] * 6 + ["", " ", "a\nb", 5, None]))
    count = draw(st.sampled_from([1] * 8 + [0, 2]))
    kinds = draw(st.lists(st.sampled_from(_KIND_KEYS), min_size=count, max_size=count, unique=True))
    for kind in kinds:
        entry[kind] = draw(_FLOWS)
    if draw(st.integers(0, 19)) == 0:
        entry["from"] = {}
    return entry if draw(st.integers(0, 29)) else "not a mapping"


@st.composite
def _documents(draw):
    doc = {}
    if draw(st.booleans()):
        doc["manifests"] = draw(st.sampled_from(["k8s", ["a", "b/c.yaml"], [], None, "", 3, ["a", 1], {"a": 1}]))
    if draw(st.booleans()):
        doc["universe"] = draw(
            st.one_of(
                st.none(),
                st.sampled_from([[], "any"]),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "namespaces": st.sampled_from(["any", "declared", "all", None]),
                        "pods": st.sampled_from(["any", "workloads", "Any"]),
                        "podCIDRs": st.sampled_from([[], None, ["10.244.0.0/16", "fd00::/64"], ["10.244.1.0/16"], "10.0.0.0/8", ["10.0.0.0"], [1]]),
                        "hostNetwork": st.sampled_from([True, False, 1, "true", None]),
                        "nodeTraffic": st.booleans(),
                        "selfTraffic": st.sampled_from([True, "yes"]),
                        "podCidrs": st.just([]),
                    },
                ),
            )
        )
    if draw(st.booleans()):
        doc["semantics"] = draw(
            st.one_of(
                st.none(),
                st.fixed_dictionaries(
                    {},
                    optional={
                        "ipBlockMatchesPods": st.sampled_from([True, False, 0]),
                        "selfTrafficAllowed": st.booleans(),
                        "ownNodeTrafficAllowed": st.sampled_from([False, "no"]),
                        "extra": st.just(True),
                    },
                ),
            )
        )
    if draw(st.integers(0, 9)):
        count = draw(st.integers(0, 3))
        doc["invariants"] = draw(st.one_of(st.just(None), st.tuples(*[_invariant(i) for i in range(count)]).map(list))) if count else draw(st.sampled_from([[], None, {}]))
    if draw(st.integers(0, 19)) == 0:
        doc["checks"] = []
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_documents())
def test_schema_accepts_exactly_what_the_parser_accepts(doc):
    text = yaml.safe_dump(doc, sort_keys=False)
    try:
        parse_invariants(text, FILE)
        parsed = True
    except InputError as exc:
        parsed, reason = False, str(exc)
    errors = [e.message for e in VALIDATOR.iter_errors(doc)]
    assert parsed == (not errors), (text, errors if errors else reason)


def test_equivalent_paths_are_relative_to_the_file_and_revisions_stay_as_written(tmp_path):
    (tmp_path / "old").mkdir()
    text = "invariants:\n  - name: x\n    equivalent: {to: old}\n  - name: y\n    equivalent: {to: [main:k8s/, old]}\n"
    spec = parse_invariants(text, "inv.yaml", tmp_path)
    assert spec.invariants[0].kind is InvariantKind.EQUIVALENT
    assert spec.invariants[0].compare_to == (str(tmp_path / "old"),)
    assert spec.invariants[1].compare_to == ("main:k8s/", str(tmp_path / "old"))


def test_redundant_and_non_redundant_bodies():
    spec = parse_invariants(
        "invariants:\n"
        "  - name: b adds nothing\n    redundant: {policy: payments/allow-b, under: [payments/allow-a]}\n"
        "  - name: b adds nothing to the rest\n    redundant: {policy: payments/allow-b}\n"
        "  - name: lean\n    nonRedundant: {}\n"
        "  - name: lean payments\n    nonRedundant: {policies: [payments/allow-a]}\n",
        "inv.yaml",
    )
    first, second, third, fourth = spec.invariants
    assert (first.policy, first.under) == ("payments/allow-b", ("payments/allow-a",))
    assert (second.policy, second.under) == ("payments/allow-b", None)
    assert (third.kind, third.policies) == (InvariantKind.NON_REDUNDANT, None)
    assert fourth.policies == ("payments/allow-a",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("equivalent: {}\n", "3:17: error: invariants[0].equivalent: missing required field 'to'"),
        ("equivalent: {to: []}\n", "3:22: error: invariants[0].equivalent.to: must name at least one file, folder or REV:path"),
        ("redundant: {under: [a/b]}\n", "3:16: error: invariants[0].redundant: missing required field 'policy'"),
        ("redundant: {policy: allow-b}\n", "3:25: error: invariants[0].redundant.policy: must name a NetworkPolicy as namespace/name, got 'allow-b'"),
        ("nonRedundant: {policy: [a/b]}\n", "did you mean 'policies'?"),
    ],
)
def test_comparison_kind_errors(body, message):
    with pytest.raises(InputError) as caught:
        parse_invariants("invariants:\n  - name: x\n    " + body, "inv.yaml")
    assert message in str(caught.value)
