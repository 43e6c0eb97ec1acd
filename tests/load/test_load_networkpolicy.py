"""NetworkPolicy documents: model, API-server defaulting, validation errors with locations."""

from __future__ import annotations

import ipaddress
import pathlib

import pytest

from npverify.errors import InputError
from npverify.load import load_manifests, load_text
from npverify.model import Direction, IPBlock, LabelSelector, Operator, Peer, PolicyPort, Protocol, Requirement, Rule, Severity

DATA = pathlib.Path(__file__).resolve().parent.parent / "data" / "manifests"

#: Six lines; the spec body starts on line 7.
HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  namespace: prod
spec:
"""

INGRESS = frozenset({Direction.INGRESS})
BOTH = frozenset({Direction.INGRESS, Direction.EGRESS})


def load_policy(body: str):
    """The one policy of HEAD + body, and the cluster's warnings as strings."""
    cluster = load_text(HEAD + body, "np.yaml")
    (policy,) = cluster.policies
    return policy, [str(w) for w in cluster.warnings]


def error_of(text: str, filename: str = "np.yaml") -> str:
    with pytest.raises(InputError) as info:
        load_text(text, filename)
    (diagnostic,) = info.value.diagnostics
    return str(diagnostic)


# --- model and locations -------------------------------------------------------------


def test_full_policy_model_and_locations():
    policy, warnings = load_policy(
        """\
  podSelector:
    matchLabels: {app: web}
  ingress:
  - from:
    - namespaceSelector:
        matchExpressions:
        - {key: team, operator: In, values: [a, b]}
        - {key: legacy, operator: DoesNotExist}
      podSelector: {}
    - ipBlock:
        cidr: 192.168.0.0/16
        except: [192.168.1.0/24]
    ports:
    - port: 80
    - {port: 8000, endPort: 8080, protocol: TCP}
    - {port: dns, protocol: UDP}
    - protocol: SCTP
  egress:
  - to:
    - podSelector: {matchLabels: {app: db}}
"""
    )
    assert warnings == []
    assert (policy.namespace, policy.name, policy.key) == ("prod", "np", "prod/np")
    assert policy.pod_selector == LabelSelector({"app": "web"})
    assert policy.policy_types == BOTH
    assert policy.ingress == (
        Rule(
            peers=(
                Peer(
                    pod_selector=LabelSelector(),
                    namespace_selector=LabelSelector(
                        match_expressions=(
                            Requirement("team", Operator.IN, ("a", "b")),
                            Requirement("legacy", Operator.DOES_NOT_EXIST),
                        )
                    ),
                ),
                Peer(ip_block=IPBlock(ipaddress.ip_network("192.168.0.0/16"), (ipaddress.ip_network("192.168.1.0/24"),))),
            ),
            ports=(
                PolicyPort(Protocol.TCP, 80),
                PolicyPort(Protocol.TCP, 8000, 8080),
                PolicyPort(Protocol.UDP, "dns"),
                PolicyPort(Protocol.SCTP),
            ),
        ),
    )
    assert policy.egress == (Rule(peers=(Peer(pod_selector=LabelSelector({"app": "db"})),)),)

    (rule,) = policy.ingress
    assert str(policy.location) == "np.yaml:1:1"
    assert str(rule.location) == "np.yaml:10:5"
    assert [str(p.location) for p in rule.peers] == ["np.yaml:11:7", "np.yaml:16:7"]
    assert [str(p.location) for p in rule.ports] == ["np.yaml:20:7", "np.yaml:21:7", "np.yaml:22:7", "np.yaml:23:7"]
    assert str(policy.egress[0].location) == "np.yaml:25:5"
    assert str(policy.egress[0].peers[0].location) == "np.yaml:26:7"


def test_kubectl_get_output_with_server_metadata_and_status():
    (policy,) = load_manifests([DATA / "kubectl-get.yaml"]).policies
    assert policy.pod_selector == LabelSelector({"app": "api"})
    assert policy.policy_types == INGRESS
    assert policy.ingress == ()


def test_realistic_policy_file():
    (web,) = load_manifests([DATA / "shop" / "policies" / "web.yml"]).policies
    assert web.policy_types == BOTH
    assert [len(r.peers) for r in web.ingress] == [1, 1]
    assert web.ingress[1].ports == (PolicyPort(Protocol.TCP, 9100, 9102),)
    assert web.egress[1].peers[0].ip_block.except_ == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("169.254.169.254/32"),
    )
    assert web.egress[2].peers == ()
    assert web.egress[2].ports == (PolicyPort(Protocol.UDP, 53), PolicyPort(Protocol.TCP, 53))


# --- defaulting ------------------------------------------------------------------------


def test_namespace_defaults_to_default_and_protocol_to_tcp():
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 443}]}]\n"
    (policy,) = load_text(text).policies
    assert policy.namespace == "default"
    assert policy.ingress[0].ports[0].protocol is Protocol.TCP


@pytest.mark.parametrize("namespace_line", ["  namespace: ''\n", "  namespace:\n"])
def test_empty_or_null_namespace_is_default(namespace_line):
    text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n" + namespace_line + "spec: {podSelector: {}}\n"
    assert load_text(text).policies[0].namespace == "default"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("  podSelector: {}\n", INGRESS),
        ("  podSelector: {}\n  ingress: [{}]\n", INGRESS),
        ("  podSelector: {}\n  egress: [{}]\n", BOTH),
        # len(spec.Egress) > 0 decides, so an empty egress list does not add Egress.
        ("  podSelector: {}\n  egress: []\n", INGRESS),
        ("  podSelector: {}\n  egress:\n", INGRESS),
        # An explicitly empty (or null) policyTypes is defaulted like an absent one.
        ("  podSelector: {}\n  policyTypes: []\n", INGRESS),
        ("  podSelector: {}\n  policyTypes: []\n  egress: [{}]\n", BOTH),
        ("  podSelector: {}\n  policyTypes:\n  egress: [{}]\n", BOTH),
        # Given policyTypes are kept as they are, whatever the rules say.
        ("  podSelector: {}\n  policyTypes: [Egress]\n  ingress: [{}]\n", frozenset({Direction.EGRESS})),
        ("  podSelector: {}\n  policyTypes: [Ingress]\n  egress: [{}]\n", INGRESS),
        ("  podSelector: {}\n  policyTypes: [Egress, Ingress]\n", BOTH),
    ],
)
def test_policy_types_defaulting(body, expected):
    policy, _ = load_policy(body)
    assert policy.policy_types == expected


def test_duplicate_policy_type_is_accepted_with_a_warning():
    policy, warnings = load_policy("  podSelector: {}\n  policyTypes: [Ingress, Ingress]\n")
    assert policy.policy_types == INGRESS
    assert warnings == ["np.yaml:8:26: warning: spec.policyTypes[1]: duplicate policy type 'Ingress'"]


def test_null_lists_read_as_empty():
    policy, warnings = load_policy(
        """\
  podSelector: {}
  ingress:
  - from:
    ports:
  egress:
"""
    )
    assert policy.ingress == (Rule(),)
    assert policy.egress == ()
    assert warnings == []


def test_null_rule_and_null_port_read_as_zero_values_with_warnings():
    policy, warnings = load_policy(
        """\
  podSelector: {}
  ingress:
  -
  - ports:
    -
"""
    )
    assert policy.ingress == (Rule(), Rule(ports=(PolicyPort(Protocol.TCP),)))
    assert str(policy.ingress[0].location) == "np.yaml:9:4"
    assert warnings == [
        "np.yaml:9:4: warning: spec.ingress[0]: null rule; read as {}, which allows all traffic",
        "np.yaml:11:6: warning: spec.ingress[1].ports[0]: null port; read as {}, which matches every TCP port",
    ]


def test_null_pod_selector_is_the_empty_selector_with_a_warning():
    policy, warnings = load_policy("  podSelector:\n")
    assert policy.pod_selector == LabelSelector()
    assert warnings == ["np.yaml:7:15: warning: spec.podSelector: null; read as {}, which selects every pod in the namespace"]


def test_null_peer_selector_is_absent_with_a_warning():
    policy, warnings = load_policy(
        """\
  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {}
      podSelector:
"""
    )
    assert policy.ingress[0].peers == (Peer(namespace_selector=LabelSelector()),)
    assert warnings == ["np.yaml:11:19: warning: spec.ingress[0].from[0].podSelector: null; read as if podSelector were absent"]


def test_cidr_with_host_bits_is_a_warning():
    policy, warnings = load_policy("  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.1.2.3/8}\n")
    assert policy.egress[0].peers[0].ip_block.cidr == ipaddress.ip_network("10.0.0.0/8")
    assert warnings == [
        "np.yaml:10:23: warning: spec.egress[0].to[0].ipBlock.cidr: CIDR '10.1.2.3/8' has host bits set; it is read as 10.0.0.0/8"
    ]


def test_warnings_carry_severity():
    cluster = load_text(HEAD + "  podSelector:\n", "np.yaml")
    assert [w.severity for w in cluster.warnings] == [Severity.WARNING]


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, expected",
    [
        # unknown fields, with did-you-mean
        ("  podSelector: {}\n  ingres: []\n", "np.yaml:8:3: error: spec.ingres: unknown field 'ingres'; did you mean 'ingress'?"),
        (
            "  podSelector: {}\n  egress:\n  - too: []\n",
            "np.yaml:9:5: error: spec.egress[0].too: unknown field 'too'; did you mean 'to'?",
        ),
        (
            "  podSelector: {}\n  ingress:\n  - to: []\n",
            "np.yaml:9:5: error: spec.ingress[0].to: ingress rules have 'from', not 'to' ('to' is for egress rules)",
        ),
        (
            "  podSelector: {}\n  egress:\n  - from: []\n",
            "np.yaml:9:5: error: spec.egress[0].from: egress rules have 'to', not 'from' ('from' is for ingress rules)",
        ),
        (
            "  podSelector: {matchLabel: {app: a}}\n",
            "np.yaml:7:17: error: spec.podSelector.matchLabel: unknown field 'matchLabel'; did you mean 'matchLabels'?",
        ),
        # required fields
        ("  policyTypes: [Ingress]\n", "np.yaml:7:3: error: spec: missing required field 'podSelector' (write podSelector: {} to select every pod in the namespace)"),
        # wrong types
        ("  podSelector: {}\n  ingress: 3\n", "np.yaml:8:12: error: spec.ingress: must be a list, got integer 3"),
        ("  podSelector: []\n", "np.yaml:7:16: error: spec.podSelector: must be a mapping, got list"),
        ("  podSelector: {}\n  ingress:\n  - ports: {port: 80}\n", "np.yaml:9:12: error: spec.ingress[0].ports: must be a list, got mapping"),
        ("  podSelector: {}\n  ingress:\n  - ports: [{port: [80]}]\n", "np.yaml:9:20: error: spec.ingress[0].ports[0].port: must be an integer, got list"),
        # peers
        (
            "  podSelector: {}\n  ingress:\n  - from:\n    - {}\n",
            "np.yaml:10:7: error: spec.ingress[0].from[0]: must specify at least one of podSelector, namespaceSelector or ipBlock",
        ),
        (
            "  podSelector: {}\n  ingress:\n  - from:\n    -\n",
            "np.yaml:10:6: error: spec.ingress[0].from[0]: must specify at least one of podSelector, namespaceSelector or ipBlock",
        ),
        (
            "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n",
            "np.yaml:10:7: error: spec.egress[0].to[0]: ipBlock cannot be combined with podSelector or namespaceSelector",
        ),
        (
            "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/16]}\n",
            "np.yaml:10:44: error: spec.egress[0].to[0].ipBlock.except[0]: 11.0.0.0/16 is not inside the ipBlock's cidr 10.0.0.0/8",
        ),
        (
            "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/255.0.0.0}\n",
            "np.yaml:10:23: error: spec.egress[0].to[0].ipBlock.cidr: invalid CIDR '10.0.0.0/255.0.0.0': expected an address and a prefix length, e.g. 10.0.0.0/8",
        ),
        (
            "  podSelector: {}\n  egress:\n  - to:\n    - ipBlock: {except: [10.0.0.0/8]}\n",
            "np.yaml:10:16: error: spec.egress[0].to[0].ipBlock: missing required field 'cidr'",
        ),
        # ports
        ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 70000\n", "np.yaml:10:13: error: spec.ingress[0].ports[0].port: must be between 1 and 65535 (got 70000)"),
        ("  podSelector: {}\n  ingress:\n  - ports:\n    - port: 0\n", "np.yaml:10:13: error: spec.ingress[0].ports[0].port: must be between 1 and 65535 (got 0)"),
        (
            "  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 9000, endPort: 8000}\n",
            "np.yaml:10:29: error: spec.ingress[0].ports[0].endPort: must be >= port (got 8000)",
        ),
        (
            "  podSelector: {}\n  ingress:\n  - ports:\n    - {port: http, endPort: 8000}\n",
            "np.yaml:10:29: error: spec.ingress[0].ports[0].endPort: may not be used with a named port (port is 'http')",
        ),
        (
            "  podSelector: {}\n  ingress:\n  - ports:\n    - {port: 80, protocol: ICMP}\n",
            "np.yaml:10:28: error: spec.ingress[0].ports[0].protocol: unknown protocol 'ICMP'; expected TCP, UDP or SCTP",
        ),
        (
            "  podSelector: {}\n  ingress:\n  - ports:\n    - port: '80'\n",
            "np.yaml:10:13: error: spec.ingress[0].ports[0].port: invalid port name '80': must be 1-15 lowercase letters, digits and '-', "
            "with at least one letter, no '--', and not starting or ending with '-'; write a port number without quotes",
        ),
        # selectors and labels
        (
            "  podSelector:\n    matchExpressions:\n    - {key: app, operator: Equals, values: [a]}\n",
            "np.yaml:9:28: error: spec.podSelector.matchExpressions[0].operator: unknown operator 'Equals'; expected one of In, NotIn, Exists, DoesNotExist",
        ),
        (
            "  podSelector:\n    matchExpressions:\n    - {key: app, operator: Exists, values: [a]}\n",
            "np.yaml:9:44: error: spec.podSelector.matchExpressions[0].values: must be empty when operator is Exists",
        ),
        (
            "  podSelector:\n    matchExpressions:\n    - {key: app, operator: In, values: []}\n",
            "np.yaml:9:40: error: spec.podSelector.matchExpressions[0].values: must be non-empty when operator is In",
        ),
        (
            "  podSelector:\n    matchLabels: {'-app': web}\n",
            "np.yaml:8:27: error: spec.podSelector.matchLabels.-app: invalid label key '-app': the name part must be 1-63 characters of letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit",
        ),
        (
            "  podSelector:\n    matchLabels: {app: 'web server'}\n",
            "np.yaml:8:24: error: spec.podSelector.matchLabels.app: invalid label value 'web server': must be at most 63 characters of letters, "
            "digits, '-', '_' or '.', starting and ending with a letter or digit",
        ),
        (
            "  podSelector:\n    matchLabels: {enabled: yes}\n",
            "np.yaml:8:28: error: spec.podSelector.matchLabels.enabled: must be a string, got boolean true",
        ),
        # policyTypes
        (
            "  podSelector: {}\n  policyTypes: [ingress]\n",
            "np.yaml:8:17: error: spec.policyTypes[0]: unknown policy type 'ingress'; expected Ingress or Egress",
        ),
        (
            "  podSelector: {}\n  policyTypes: [Ingress, Egress, Ingress]\n",
            "np.yaml:8:16: error: spec.policyTypes: may not specify more than two policyTypes (got 3)",
        ),
    ],
)
def test_spec_errors(body, expected):
    assert error_of(HEAD + body) == expected


def test_wrong_api_version_names_the_supported_one():
    text = HEAD.replace("networking.k8s.io/v1", "extensions/v1beta1") + "  podSelector: {}\n"
    assert error_of(text) == (
        "np.yaml:1:13: error: apiVersion: unsupported apiVersion 'extensions/v1beta1' for NetworkPolicy; "
        "npverify reads networking.k8s.io/v1"
    )
    text = HEAD.replace("networking.k8s.io/v1", "networking.k8s.io/v1beta1") + "  podSelector: {}\n"
    assert "unsupported apiVersion 'networking.k8s.io/v1beta1'" in error_of(text)


def test_policy_kinds_of_other_api_groups_are_kept_as_unmodelled_and_other_kinds_skipped():
    # Calico's NetworkPolicy is not networking.k8s.io's; it and the Cilium kinds change
    # which packets flow, so they are kept (answers they could change are UNKNOWN), never
    # silently skipped. Volcano's Job is not a workload.
    cluster = load_manifests([DATA / "other-kinds.yaml"])
    assert cluster.policies == ()
    assert [(s.kind, s.name, s.location.line) for s in cluster.skipped] == [
        ("ConfigMap", "settings", 1),
        ("Job", "training", 23),
    ]
    assert [(o.qualified_kind, o.namespace, o.name, o.reach.value, o.location.line) for o in cluster.unmodelled] == [
        ("CiliumClusterwideNetworkPolicy.cilium.io", "", "cluster-wide", "cluster", 6),
        ("NetworkPolicy.projectcalico.org", "payments", "calico-allow", "namespace", 13),
        ("CiliumNetworkPolicy.cilium.io", "default", "l7", "namespace", 19),
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\n",
            "np.yaml:1:1: error: missing required field 'spec'",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nspec: {podSelector: {}}\n",
            "np.yaml:1:1: error: missing required field 'metadata'",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: a}\nspec: {podSelector: {}}\n",
            "np.yaml:3:11: error: metadata: missing required field 'name'",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {generateName: a-}\nspec: {podSelector: {}}\n",
            "np.yaml:3:11: error: metadata: missing required field 'name' (generateName alone is not enough: npverify needs a fixed name)",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Allow_All}\nspec: {podSelector: {}}\n",
            "np.yaml:3:18: error: metadata.name: invalid name 'Allow_All': must be a DNS subdomain "
            "(lowercase letters, digits, '-' and '.', at most 253 characters)",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namespace: team.a}\nspec: {podSelector: {}}\n",
            "np.yaml:3:32: error: metadata.namespace: invalid namespace 'team.a': must be a DNS label "
            "(lowercase letters, digits and '-', at most 63 characters)",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, annotations: {replicas: 3}}\nspec: {podSelector: {}}\n",
            "np.yaml:3:45: error: metadata.annotations.replicas: must be a string, got integer 3",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, labels: [x]}\nspec: {podSelector: {}}\n",
            "np.yaml:3:29: error: metadata.labels: must be a mapping, got list",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a, namspace: b}\nspec: {podSelector: {}}\n",
            "np.yaml:3:21: error: metadata.namspace: unknown field 'namspace'; did you mean 'namespace'?",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a}\nspecs: {podSelector: {}}\n",
            "np.yaml:4:1: error: specs: unknown field 'specs'; did you mean 'spec'?",
        ),
    ],
)
def test_document_and_metadata_errors(text, expected):
    assert error_of(text) == expected


def test_all_object_meta_fields_are_accepted():
    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: a
  namespace: b
  labels: {app: a}
  annotations: {note: x}
  uid: 0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0
  resourceVersion: "1"
  generation: 2
  creationTimestamp: "2024-01-01T00:00:00Z"
  deletionTimestamp: 2024-01-02T00:00:00Z
  deletionGracePeriodSeconds: 30
  managedFields: [{manager: kubectl}]
  finalizers: [example.com/keep]
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: x}]
  generateName: a-
  selfLink: /apis/networking.k8s.io/v1/namespaces/b/networkpolicies/a
spec:
  podSelector: {}
status: {conditions: []}
"""
    assert load_text(text).policies[0].key == "b/a"


def test_policy_defined_twice_points_at_the_second(tmp_path):
    (tmp_path / "a.yaml").write_text(HEAD + "  podSelector: {}\n")
    (tmp_path / "b.yaml").write_text("# again\n" + HEAD + "  podSelector: {}\n")
    with pytest.raises(InputError) as info:
        load_manifests([tmp_path])
    assert [str(d) for d in info.value.diagnostics] == [
        f"{tmp_path / 'b.yaml'}:5:9: error: metadata.name: NetworkPolicy prod/np is already defined at {tmp_path / 'a.yaml'}:1:1"
    ]


def test_same_name_in_another_namespace_is_a_different_policy():
    text = HEAD + "  podSelector: {}\n---\n" + HEAD.replace("namespace: prod", "namespace: dev") + "  podSelector: {}\n"
    assert [p.key for p in load_text(text).policies] == ["prod/np", "dev/np"]
