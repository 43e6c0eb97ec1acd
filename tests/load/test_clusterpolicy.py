"""Cluster-scoped policies of policy.networking.k8s.io: ClusterNetworkPolicy (v1alpha2),
AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1) -> model values, validated as
the API server does, with errors located at file:line:col and field path."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

from npverify.coverage import check_ignore_kinds
from npverify.errors import InputError
from npverify.load import load_text
from npverify.load.kubectl import wanted_resources
from npverify.model import (
    Action,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    LabelSelector,
    Operator,
    PodSet,
    Protocol,
    Requirement,
    Tier,
)
from tests.fuzz.hostile import yaml_text

#: Five lines each; the spec body starts on line 6.
CNP = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata:\n  name: cnp\nspec:\n"
ANP = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata:\n  name: anp\nspec:\n"
BANP = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata:\n  name: default\nspec:\n"

#: The required spec fields, three lines (the rules start on line 9, or 8 for ANP, 7 for BANP).
CNP_SPEC = "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}}\n"
ANP_SPEC = "  priority: 1\n  subject: {namespaces: {}}\n"
BANP_SPEC = "  subject: {namespaces: {}}\n"

EVERYWHERE = PodSet()


def load_one(text: str):
    """The one cluster policy of ``text`` and the warnings, as strings."""
    cluster = load_text(text, "p.yaml")
    (policy,) = cluster.cluster_policies
    assert cluster.policies == () and cluster.unmodelled == ()
    return policy, [str(w) for w in cluster.warnings]


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        load_text(text, "p.yaml")
    (diagnostic,) = info.value.diagnostics
    return str(diagnostic)


def selector(**labels: str) -> LabelSelector:
    return LabelSelector(labels)


# --- model and locations -------------------------------------------------------------------


def test_cluster_network_policy_model_and_locations():
    policy, warnings = load_one(
        CNP
        + """\
  tier: Baseline
  priority: 20
  subject:
    pods:
      namespaceSelector: {matchLabels: {env: prod}}
      podSelector: {matchLabels: {app: web}}
  ingress:
  - name: from-monitoring
    action: Accept
    from:
    - namespaces: {matchLabels: {team: monitoring}}
    - pods:
        podSelector: {matchExpressions: [{key: role, operator: In, values: [scraper]}]}
    protocols:
    - tcp: {destinationPort: {number: 9090}}
    - udp: {destinationPort: {range: {start: 5000, end: 5010}}}
    - sctp: {destinationPort: {number: 7}}
    - destinationNamedPort: metrics
  egress:
  - action: Pass
    to:
    - networks: [10.0.0.0/8, "fd00::/8"]
    - nodes: {matchLabels: {node-role.kubernetes.io/control-plane: ""}}
  - name: api
    action: Accept
    to:
    - domainNames: [api.example.com, "*.example.org"]
"""
    )
    assert warnings == []
    assert policy == ClusterPolicy(
        kind="ClusterNetworkPolicy",
        name="cnp",
        tier=Tier.BASELINE,
        priority=20,
        subject=PodSet(selector(env="prod"), selector(app="web")),
        ingress=(
            ClusterRule(
                Action.ACCEPT,
                peers=(
                    ClusterPeer(pods=PodSet(namespace_selector=selector(team="monitoring"))),
                    # v1alpha2: an absent namespaceSelector is {}, every namespace.
                    ClusterPeer(
                        pods=PodSet(LabelSelector(), LabelSelector(match_expressions=(Requirement("role", Operator.IN, ("scraper",)),)))
                    ),
                ),
                ports=(
                    ClusterPort(Protocol.TCP, 9090, 9090),
                    ClusterPort(Protocol.UDP, 5000, 5010),
                    ClusterPort(Protocol.SCTP, 7, 7),
                    ClusterPort(protocol=None, named="metrics"),
                ),
                name="from-monitoring",
            ),
        ),
        egress=(
            ClusterRule(
                Action.PASS,
                peers=(
                    ClusterPeer(networks=(ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))),
                    ClusterPeer(nodes=LabelSelector({"node-role.kubernetes.io/control-plane": ""})),
                ),
            ),
            ClusterRule(Action.ACCEPT, peers=(ClusterPeer(domain_names=("api.example.com", "*.example.org")),), name="api"),
        ),
    )
    assert policy.key == "cnp/cnp"
    assert str(policy.location) == "p.yaml:1:1"
    rule = policy.ingress[0]
    assert str(rule.location) == "p.yaml:13:5"
    assert [str(p.location) for p in rule.peers] == ["p.yaml:16:7", "p.yaml:17:7"]
    assert [str(p.location) for p in rule.ports] == ["p.yaml:20:7", "p.yaml:21:7", "p.yaml:22:7", "p.yaml:23:7"]
    assert [str(r.location) for r in policy.egress] == ["p.yaml:25:5", "p.yaml:29:5"]
    assert str(policy.egress[1].peers[0].location) == "p.yaml:32:7"


def test_admin_network_policy_model():
    policy, warnings = load_one(
        ANP
        + """\
  priority: 0
  subject: {namespaces: {matchLabels: {env: prod}}}
  ingress:
  - action: Allow
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: lb}}}}]
    ports:
    - portNumber: {port: 443}
    - portNumber: {protocol: UDP, port: 53}
    - portRange: {protocol: SCTP, start: 100, end: 200}
    - portRange: {start: 8000, end: 8080}
    - namedPort: web
  egress:
  - name: no-metadata-service
    action: Deny
    to: [{networks: [169.254.169.254/32]}]
  - action: Pass
    to: [{namespaces: {}}, {nodes: {}}]
  - action: Allow
    to: [{domainNames: [kubernetes.io]}]
"""
    )
    assert warnings == []
    assert policy == ClusterPolicy(
        kind="AdminNetworkPolicy",
        name="anp",
        tier=Tier.ADMIN,
        priority=0,
        subject=PodSet(namespace_selector=selector(env="prod")),
        ingress=(
            ClusterRule(
                Action.ACCEPT,
                peers=(ClusterPeer(pods=PodSet(LabelSelector(), selector(app="lb"))),),
                ports=(
                    ClusterPort(Protocol.TCP, 443, 443),  # protocol defaults to TCP
                    ClusterPort(Protocol.UDP, 53, 53),
                    ClusterPort(Protocol.SCTP, 100, 200),
                    ClusterPort(Protocol.TCP, 8000, 8080),
                    ClusterPort(protocol=None, named="web"),
                ),
            ),
        ),
        egress=(
            ClusterRule(
                Action.DENY, peers=(ClusterPeer(networks=(ipaddress.ip_network("169.254.169.254/32"),)),), name="no-metadata-service"
            ),
            ClusterRule(Action.PASS, peers=(ClusterPeer(pods=EVERYWHERE), ClusterPeer(nodes=LabelSelector()))),
            ClusterRule(Action.ACCEPT, peers=(ClusterPeer(domain_names=("kubernetes.io",)),)),
        ),
    )
    assert policy.key == "anp/anp"


def test_baseline_admin_network_policy_model():
    policy, warnings = load_one(
        BANP
        + """\
  subject: {pods: {namespaceSelector: {}, podSelector: {}}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
  egress:
  - action: Allow
    to: [{networks: ["2001:db8::/32"]}]
    ports: [{portNumber: {protocol: TCP, port: 80}}]
"""
    )
    assert warnings == []
    assert policy == ClusterPolicy(
        kind="BaselineAdminNetworkPolicy",
        name="default",
        tier=Tier.BASELINE,
        priority=0,
        subject=EVERYWHERE,
        ingress=(ClusterRule(Action.DENY, peers=(ClusterPeer(pods=EVERYWHERE),)),),
        egress=(
            ClusterRule(
                Action.ACCEPT,
                peers=(ClusterPeer(networks=(ipaddress.ip_network("2001:db8::/32"),)),),
                ports=(ClusterPort(Protocol.TCP, 80, 80),),
            ),
        ),
    )
    assert policy.key == "banp/default"


def test_null_fields_count_as_absent_as_the_api_server_prunes_them():
    policy, _ = load_one(
        CNP
        + CNP_SPEC
        + "  egress: null\n  ingress:\n  - name: null\n    action: Deny\n    from: [{pods: {namespaceSelector: null, podSelector: {}}}]\n    protocols: null\n"
    )
    assert policy.egress == ()
    assert policy.ingress == (ClusterRule(Action.DENY, peers=(ClusterPeer(pods=EVERYWHERE),)),)


def test_lists_of_cluster_policies_and_the_antrea_kind_of_the_same_name():
    cluster = load_text(
        """\
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicyList
items:
- metadata: {name: a}
  spec: {tier: Baseline, priority: 3, subject: {namespaces: {}}}
- apiVersion: crd.antrea.io/v1beta1
  kind: ClusterNetworkPolicy
  metadata: {name: antrea}
  spec: {}
---
apiVersion: v1
kind: List
items:
- apiVersion: policy.networking.k8s.io/v1alpha1
  kind: AdminNetworkPolicy
  metadata: {name: a}
  spec: {priority: 0, subject: {namespaces: {}}}
- apiVersion: policy.networking.k8s.io/v1alpha1
  kind: BaselineAdminNetworkPolicyList
  items:
  - metadata: {name: default}
    spec: {subject: {namespaces: {}}}
---
apiVersion: crd.antrea.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: antrea-too}
""",
        "l.yaml",
    )
    assert [(p.key, p.tier, p.priority, str(p.location)) for p in cluster.cluster_policies] == [
        ("cnp/a", Tier.BASELINE, 3, "l.yaml:4:3"),
        ("anp/a", Tier.ADMIN, 0, "l.yaml:14:3"),
        ("banp/default", Tier.BASELINE, 0, "l.yaml:21:5"),
    ]
    # Antrea's ClusterNetworkPolicy is another kind: kept as unmodelled, answers it could
    # change UNKNOWN, whether in a list of the other group's kind or on its own.
    assert [(o.qualified_kind, o.name, str(o.location)) for o in cluster.unmodelled] == [
        ("ClusterNetworkPolicy.crd.antrea.io", "antrea", "l.yaml:6:3"),
        ("ClusterNetworkPolicy.crd.antrea.io", "antrea-too", "l.yaml:24:1"),
    ]


def test_an_unknown_peer_fails_closed_with_a_warning():
    policy, warnings = load_one(
        CNP
        + CNP_SPEC
        + """\
  ingress:
  - action: Accept
    from: [{namespaces: {}}, {serviceAccounts: {name: x}}]
  egress:
  - action: Pass
    to: [{externalNetworkSets: {}}]
"""
    )
    accept, = policy.ingress
    assert accept.peers == (ClusterPeer(pods=EVERYWHERE), ClusterPeer())
    assert accept.peers[1].empty and accept.fails_closed
    assert str(accept.peers[1].location) == "p.yaml:11:30"
    passing, = policy.egress
    assert passing.peers == (ClusterPeer(),) and passing.fails_closed
    assert warnings == [
        "p.yaml:11:48: warning: spec.ingress[0].from[1].serviceAccounts: 'serviceAccounts' is not a peer of "
        "ClusterNetworkPolicy v1alpha2 as npverify knows it; the API has an implementation that does not know a "
        "peer's field fail closed, and npverify reads the peer so: this Accept rule matches no traffic "
        "(an implementation that knows the field may match otherwise)",
        "p.yaml:14:32: warning: spec.egress[0].to[0].externalNetworkSets: 'externalNetworkSets' is not a peer of "
        "ClusterNetworkPolicy v1alpha2 as npverify knows it; the API has an implementation that does not know a "
        "peer's field fail closed, and npverify reads the peer so: this Pass rule denies all egress from the pods "
        "of the subject, on every port (an implementation that knows the field may match otherwise)",
    ]


def test_an_unknown_peer_in_a_v1alpha1_allow_rule_uses_its_words():
    policy, warnings = load_one(ANP + ANP_SPEC + "  ingress:\n  - action: Allow\n    from: [{serviceAccounts: {}}]\n")
    assert policy.ingress[0].fails_closed
    (warning,) = warnings
    assert warning.startswith("p.yaml:10:30: warning: spec.ingress[0].from[0].serviceAccounts: 'serviceAccounts' is not a peer of AdminNetworkPolicy v1alpha1")
    assert "this Allow rule matches no traffic" in warning


def test_warnings_for_what_the_api_server_accepts_but_means_less_than_it_says():
    policy, warnings = load_one(
        ANP.replace("  name: anp\n", "  name: anp\n  namespace: prod\n")
        + ANP_SPEC
        + "  egress:\n  - action: Deny\n    to: [{networks: [10.1.2.3/8]}]\n"
    )
    assert policy.egress[0].peers[0].networks == (ipaddress.ip_network("10.0.0.0/8"),)
    assert warnings[0] == (
        "p.yaml:5:14: warning: metadata.namespace: ignored: AdminNetworkPolicy is cluster-scoped, so the API server "
        "drops metadata.namespace; the policy applies to the pods its subject selects in every namespace"
    )
    assert warnings[1] == "p.yaml:11:22: warning: spec.egress[0].to[0].networks[0]: CIDR '10.1.2.3/8' has host bits set; it is read as 10.0.0.0/8"


def test_a_named_port_no_container_port_can_have_matches_nothing_with_a_warning():
    policy, warnings = load_one(ANP + ANP_SPEC + "  ingress:\n  - action: Deny\n    from: [{namespaces: {}}]\n    ports: [{namedPort: HTTP}]\n")
    assert policy.ingress[0].ports == (ClusterPort(protocol=None, named="HTTP"),)
    assert warnings == [
        "p.yaml:11:25: warning: spec.ingress[0].ports[0].namedPort: invalid port name 'HTTP': must be 1-15 lowercase "
        "letters, digits and '-', with at least one letter, no '--', and not starting or ending with '-'; no container "
        "port can have this name, so this entry matches nothing"
    ]


def test_the_same_name_twice_is_an_error_per_kind():
    anp = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 0, subject: {namespaces: {}}}\n"
    assert error_of(anp + "---\n" + anp) == "p.yaml:8:18: error: metadata.name: AdminNetworkPolicy a is already defined at p.yaml:1:1"
    cnp = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: a}\nspec: {tier: Admin, priority: 0, subject: {namespaces: {}}}\n"
    cluster = load_text(anp + "---\n" + cnp, "p.yaml")
    assert [p.key for p in cluster.cluster_policies] == ["anp/a", "cnp/a"]


def test_live_clusters_are_asked_for_the_cluster_policy_kinds():
    resources = wanted_resources()
    for resource in (
        "clusternetworkpolicies.policy.networking.k8s.io",
        "adminnetworkpolicies.policy.networking.k8s.io",
        "baselineadminnetworkpolicies.policy.networking.k8s.io",
        "clusternetworkpolicies.crd.antrea.io",  # still asked for, as unmodelled
    ):
        assert resource in resources


def test_modelled_kinds_cannot_be_ignored():
    for kind in ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy.policy.networking.k8s.io", "ClusterNetworkPolicy.policy.networking.k8s.io"):
        with pytest.raises(InputError) as info:
            check_ignore_kinds([kind])
        (diagnostic,) = info.value.diagnostics
        assert str(diagnostic) == (
            f"error: --ignore-kind: {kind!r} is modelled: npverify reads its objects and every answer takes them "
            "into account, so it cannot be ignored"
        )
    # Antrea's kind of that name is not modelled, so it can be.
    assert check_ignore_kinds(["ClusterNetworkPolicy", "ClusterNetworkPolicy.crd.antrea.io"])


# --- errors ----------------------------------------------------------------------------------

_LONG_NAME = "x" * 101
_26_RULES = ", ".join(["{action: Deny, from: [{namespaces: {}}]}"] * 26)
_101_RULES = ", ".join(["{action: Deny, from: [{namespaces: {}}]}"] * 101)
_26_PEERS = ", ".join(["{namespaces: {}}"] * 26)


def _accept_from_all(protocols: str) -> str:
    return "  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n    protocols: " + protocols + "\n"


def _allow_from_all(ports: str) -> str:
    return "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    ports: " + ports + "\n"


@pytest.mark.parametrize(
    "text, expected",
    [
        # spec
        (CNP, "p.yaml:5:6: error: spec: missing required field 'spec'"),
        (CNP + "  priority: 1\n  subject: {namespaces: {}}\n", "p.yaml:6:3: error: spec: missing required field 'tier'"),
        (CNP + "  tier: admin\n  priority: 1\n  subject: {namespaces: {}}\n", "p.yaml:6:9: error: spec.tier: unknown tier 'admin'; expected Admin or Baseline"),
        (CNP + "  tier: Admin\n  subject: {namespaces: {}}\n", "p.yaml:6:3: error: spec: missing required field 'priority'"),
        (CNP + "  tier: Admin\n  priority: 1001\n  subject: {namespaces: {}}\n", "p.yaml:7:13: error: spec.priority: must be between 0 and 1000 (got 1001)"),
        (CNP + "  tier: Admin\n  priority: -1\n  subject: {namespaces: {}}\n", "p.yaml:7:13: error: spec.priority: must be between 0 and 1000 (got -1)"),
        (CNP + "  tier: Admin\n  priority: '1'\n  subject: {namespaces: {}}\n", "p.yaml:7:13: error: spec.priority: must be an integer, got string '1'"),
        (CNP + "  tier: Admin\n  priority: 1\n", "p.yaml:6:3: error: spec: missing required field 'subject'"),
        (
            CNP + CNP_SPEC + "  podSelector: {}\n",
            "p.yaml:9:3: error: spec.podSelector: unknown field 'podSelector': cluster policies select their pods with "
            "subject: {namespaces: ...} or subject: {pods: ...}",
        ),
        (CNP + CNP_SPEC + "  ingres: []\n", "p.yaml:9:3: error: spec.ingres: unknown field 'ingres'; did you mean 'ingress'?"),
        (CNP + CNP_SPEC + f"  ingress: [{_26_RULES}]\n", "p.yaml:9:12: error: spec.ingress: must have at most 25 items (got 26)"),
        (ANP + ANP_SPEC + f"  ingress: [{_101_RULES}]\n", "p.yaml:8:12: error: spec.ingress: must have at most 100 items (got 101)"),
        (
            ANP + ANP_SPEC + "  tier: Admin\n",
            "p.yaml:8:3: error: spec.tier: unknown field 'tier': 'tier' is ClusterNetworkPolicy's (v1alpha2); an "
            "AdminNetworkPolicy is always of the Admin tier",
        ),
        (
            BANP + BANP_SPEC + "  priority: 3\n",
            "p.yaml:7:3: error: spec.priority: unknown field 'priority': a BaselineAdminNetworkPolicy has no priority: "
            "a cluster has one, named default",
        ),
        (
            BANP.replace("name: default", "name: baseline") + BANP_SPEC,
            "p.yaml:4:9: error: metadata.name: must be 'default' (got 'baseline'): only one baseline admin network "
            'policy with metadata.name="default" can be created in the cluster',
        ),
        (
            CNP.replace("name: cnp", "name: Deny_All") + CNP_SPEC,
            "p.yaml:4:9: error: metadata.name: invalid name 'Deny_All': must be a DNS subdomain (lowercase letters, "
            "digits, '-' and '.', at most 253 characters)",
        ),
        # subject
        (CNP + "  tier: Admin\n  priority: 1\n  subject: {}\n", "p.yaml:8:12: error: spec.subject: must set exactly one of namespaces or pods"),
        (
            CNP + "  tier: Admin\n  priority: 1\n  subject: {namespaces: null}\n",
            "p.yaml:8:12: error: spec.subject: must set exactly one of namespaces or pods (namespaces is null, which counts as absent)",
        ),
        (
            CNP + "  tier: Admin\n  priority: 1\n  subject: {namespaces: {}, pods: {podSelector: {}}}\n",
            "p.yaml:8:12: error: spec.subject: must set exactly one of namespaces or pods, not namespaces and pods",
        ),
        (
            CNP + "  tier: Admin\n  priority: 1\n  subject: {podSelector: {}}\n",
            "p.yaml:8:13: error: spec.subject.podSelector: unknown field 'podSelector': write pods: {namespaceSelector: ..., "
            "podSelector: ...} (or namespaces: SELECTOR for whole namespaces)",
        ),
        (CNP + "  tier: Admin\n  priority: 1\n  subject: {pods: {namespaceSelector: {}}}\n", "p.yaml:8:19: error: spec.subject.pods: missing required field 'podSelector'"),
        (
            CNP + "  tier: Admin\n  priority: 1\n  subject: {pods: {podSelector: null}}\n",
            "p.yaml:8:33: error: spec.subject.pods.podSelector: missing required value (null counts as absent)",
        ),
        (
            ANP + "  priority: 1\n  subject: {pods: {podSelector: {}}}\n",
            "p.yaml:7:19: error: spec.subject.pods: missing required field 'namespaceSelector'",
        ),
        (
            CNP + "  tier: Admin\n  priority: 1\n  subject: {namespaces: {matchExpressions: [{key: a, operator: Has}]}}\n",
            "p.yaml:8:64: error: spec.subject.namespaces.matchExpressions[0].operator: unknown operator 'Has'; expected one of In, NotIn, Exists, DoesNotExist",
        ),
        # rules
        (CNP + CNP_SPEC + "  ingress:\n  - from: [{namespaces: {}}]\n", "p.yaml:10:5: error: spec.ingress[0]: missing required field 'action'"),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n",
            "p.yaml:10:13: error: spec.ingress[0].action: unknown action 'Allow'; expected Accept, Deny or Pass "
            "(v1alpha1's Allow is Accept in ClusterNetworkPolicy)",
        ),
        (
            ANP + ANP_SPEC + "  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n",
            "p.yaml:9:13: error: spec.ingress[0].action: unknown action 'Accept'; expected Allow, Deny or Pass "
            "(AdminNetworkPolicy (v1alpha1) says Allow; Accept is ClusterNetworkPolicy's word)",
        ),
        (
            BANP + BANP_SPEC + "  ingress:\n  - action: Pass\n    from: [{namespaces: {}}]\n",
            "p.yaml:8:13: error: spec.ingress[0].action: unknown action 'Pass'; expected Allow or Deny "
            "(a BaselineAdminNetworkPolicy rule cannot pass: no tier follows the Baseline tier)",
        ),
        (
            CNP + CNP_SPEC + f"  ingress:\n  - name: {_LONG_NAME}\n    action: Accept\n    from: [{{namespaces: {{}}}}]\n",
            "p.yaml:10:11: error: spec.ingress[0].name: must be at most 100 characters (got 101)",
        ),
        (CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n", "p.yaml:10:5: error: spec.ingress[0]: missing required field 'from'"),
        (CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: []\n", "p.yaml:11:11: error: spec.ingress[0].from: must have at least 1 item"),
        (
            CNP + CNP_SPEC + f"  egress:\n  - action: Accept\n    to: [{_26_PEERS}]\n",
            "p.yaml:11:9: error: spec.egress[0].to: must have at most 25 items (got 26)",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    to: [{namespaces: {}}]\n",
            "p.yaml:11:5: error: spec.ingress[0].to: ingress rules have 'from', not 'to' ('to' is for egress rules)",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    from: [{namespaces: {}}]\n",
            "p.yaml:11:5: error: spec.egress[0].from: egress rules have 'to', not 'from' ('from' is for ingress rules)",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{namespaces: {}}]\n    ports: [{port: 80}]\n",
            "p.yaml:12:5: error: spec.ingress[0].ports: unknown field 'ports': ClusterNetworkPolicy (v1alpha2) rules list "
            "ports under 'protocols' (tcp, udp, sctp or destinationNamedPort)",
        ),
        (
            ANP + ANP_SPEC + "  ingress:\n  - action: Allow\n    from: [{namespaces: {}}]\n    protocols: [{tcp: {}}]\n",
            "p.yaml:11:5: error: spec.ingress[0].protocols: unknown field 'protocols': 'protocols' is ClusterNetworkPolicy's "
            "(v1alpha2); v1alpha1 rules list ports",
        ),
        # peers
        (CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{}]\n", "p.yaml:11:12: error: spec.ingress[0].from[0]: must set exactly one of namespaces or pods"),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{namespaces: null}]\n",
            "p.yaml:11:12: error: spec.ingress[0].from[0]: must set exactly one of namespaces or pods (namespaces is null, which counts as absent)",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [null]\n",
            "p.yaml:11:12: error: spec.ingress[0].from[0]: must be a mapping, got null",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{namespaces: {}, pods: {podSelector: {}}}]\n",
            "p.yaml:11:12: error: spec.ingress[0].from[0]: must set exactly one of namespaces or pods, not namespaces and pods",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{networks: [10.0.0.0/8]}]\n",
            "p.yaml:11:13: error: spec.ingress[0].from[0].networks: unknown field 'networks': ingress peers ('from') are "
            "namespaces or pods; networks peers are egress ('to') only",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{namespace: {}}]\n",
            "p.yaml:11:13: error: spec.ingress[0].from[0].namespace: unknown field 'namespace'; did you mean 'namespaces'?",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{domainName: [a.io]}]\n",
            "p.yaml:11:11: error: spec.egress[0].to[0].domainName: unknown field 'domainName'; did you mean 'domainNames'?",
        ),
        (
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{podSelector: {}}]\n",
            "p.yaml:11:13: error: spec.ingress[0].from[0].podSelector: unknown field 'podSelector': that is NetworkPolicy's; "
            "a cluster policy peer is pods: {namespaceSelector: ..., podSelector: ...} or namespaces: SELECTOR",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{ipBlock: {cidr: 10.0.0.0/8}}]\n",
            "p.yaml:11:11: error: spec.egress[0].to[0].ipBlock: unknown field 'ipBlock': that is NetworkPolicy's; a cluster "
            "policy egress peer names CIDRs as networks: [CIDR, ...]",
        ),
        (
            # Next to a known field, an unknown one is no later version's peer: a peer has one field.
            CNP + CNP_SPEC + "  ingress:\n  - action: Accept\n    from: [{namespaces: {}, serviceAccounts: {}}]\n",
            "p.yaml:11:29: error: spec.ingress[0].from[0].serviceAccounts: unknown field 'serviceAccounts'; known fields: namespaces, pods",
        ),
        (
            BANP + BANP_SPEC + "  egress:\n  - action: Allow\n    to: [{domainNames: [example.com]}]\n",
            "p.yaml:9:11: error: spec.egress[0].to[0].domainNames: unknown field 'domainNames': BaselineAdminNetworkPolicy "
            "egress peers are namespaces, pods, nodes or networks",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Deny\n    to: [{domainNames: [example.com]}]\n",
            "p.yaml:11:11: error: spec.egress[0].to[0].domainNames: domainNames peers are only supported in Accept rules "
            "(this rule's action is Deny): an implementation cannot know every address a name resolves to, so it cannot deny by name",
        ),
        (
            ANP + ANP_SPEC + "  egress:\n  - action: Pass\n    to: [{domainNames: ['*.example.com']}]\n",
            "p.yaml:10:11: error: spec.egress[0].to[0].domainNames: domainNames peers are only supported in Allow rules "
            "(this rule's action is Pass): an implementation cannot know every address a name resolves to, so it cannot deny by name",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{domainNames: [example]}]\n",
            "p.yaml:11:25: error: spec.egress[0].to[0].domainNames[0]: invalid domain name 'example': must be a DNS name of at "
            "least two labels, optionally starting with '*.' (a wildcard for one or more labels), e.g. *.example.com",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{domainNames: ['www.*.example.com']}]\n",
            "p.yaml:11:25: error: spec.egress[0].to[0].domainNames[0]: invalid domain name 'www.*.example.com': must be a DNS name of at "
            "least two labels, optionally starting with '*.' (a wildcard for one or more labels), e.g. *.example.com",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{domainNames: [a.io, a.io]}]\n",
            "p.yaml:11:31: error: spec.egress[0].to[0].domainNames[1]: duplicate value 'a.io' (also at line 11, column 25)",
        ),
        (CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{networks: []}]\n", "p.yaml:11:21: error: spec.egress[0].to[0].networks: must have at least 1 item"),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]\n",
            "p.yaml:11:34: error: spec.egress[0].to[0].networks[1]: duplicate value '10.0.0.0/8' (also at line 11, column 22)",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{networks: [10.0.0.0]}]\n",
            "p.yaml:11:22: error: spec.egress[0].to[0].networks[0]: invalid CIDR '10.0.0.0': expected an address and a prefix length, e.g. 10.0.0.0/8",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{networks: ['::ffff:10.0.0.0/104']}]\n",
            "p.yaml:11:22: error: spec.egress[0].to[0].networks[0]: invalid CIDR '::ffff:10.0.0.0/104': an IPv4-mapped IPv6 "
            "address is not allowed; write the IPv4 CIDR",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{networks: ['0000:0000:0000:0000:0000:0000:0000:0000/0128']}]\n",
            "p.yaml:11:22: error: spec.egress[0].to[0].networks[0]: must be at most 43 characters (got 44)",
        ),
        # protocols (v1alpha2)
        (CNP + CNP_SPEC + _accept_from_all("[]"), "p.yaml:12:16: error: spec.ingress[0].protocols: must have at least 1 item (leave protocols out to match every port)"),
        (
            CNP + CNP_SPEC + _accept_from_all("[{tcp: {}}]"),
            "p.yaml:12:23: error: spec.ingress[0].protocols[0].tcp: must set destinationPort (leave the protocols entry out to match every port)",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{tcp: null}]"),
            "p.yaml:12:17: error: spec.ingress[0].protocols[0]: must set exactly one of tcp, udp, sctp or destinationNamedPort "
            "(tcp is null, which counts as absent)",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{tcp: {destinationPort: {number: 0}}}]"),
            "p.yaml:12:50: error: spec.ingress[0].protocols[0].tcp.destinationPort.number: must be between 1 and 65535 (got 0)",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{udp: {destinationPort: {range: {start: 90, end: 80}}}}]"),
            "p.yaml:12:66: error: spec.ingress[0].protocols[0].udp.destinationPort.range.end: must be greater than start "
            "(got 80, start 90); write a single port as a number",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{tcp: {destinationPort: {range: {start: 90}}}}]"),
            "p.yaml:12:49: error: spec.ingress[0].protocols[0].tcp.destinationPort.range: missing required field 'end'",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{tcp: {destinationPort: {number: 80, range: {start: 1, end: 2}}}}]"),
            "p.yaml:12:41: error: spec.ingress[0].protocols[0].tcp.destinationPort: must set exactly one of number or range, not number and range",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{tcp: {destinationPort: {number: 80}}, udp: {destinationPort: {number: 80}}}]"),
            "p.yaml:12:17: error: spec.ingress[0].protocols[0]: must set exactly one of tcp, udp, sctp or destinationNamedPort, not tcp and udp",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{protocol: TCP, port: 80}]"),
            "p.yaml:12:18: error: spec.ingress[0].protocols[0].protocol: unknown field 'protocol': ClusterNetworkPolicy "
            "(v1alpha2) names the protocol as the key: tcp, udp or sctp",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{icmp: {}}]"),
            "p.yaml:12:18: error: spec.ingress[0].protocols[0].icmp: unknown field 'icmp'; known fields: tcp, udp, sctp, destinationNamedPort",
        ),
        (
            CNP + CNP_SPEC + _accept_from_all("[{destinationNamedPort: ''}]"),
            "p.yaml:12:40: error: spec.ingress[0].protocols[0].destinationNamedPort: must not be empty",
        ),
        (
            CNP + CNP_SPEC + "  egress:\n  - action: Accept\n    to: [{nodes: {}}]\n    protocols: [{tcp: {destinationPort: {number: 80}}}, {destinationNamedPort: http}]\n",
            "p.yaml:12:57: error: spec.egress[0].protocols[1]: networks/nodes/domainNames peer cannot be set with namedPorts "
            "since there are no namedPorts for networks/nodes/domainNames",
        ),
        # ports (v1alpha1)
        (ANP + ANP_SPEC + _allow_from_all("[]"), "p.yaml:11:12: error: spec.ingress[0].ports: must have at least 1 item (leave ports out to match every port)"),
        (ANP + ANP_SPEC + _allow_from_all("[{portNumber: {protocol: TCP}}]"), "p.yaml:11:26: error: spec.ingress[0].ports[0].portNumber: missing required field 'port'"),
        (
            ANP + ANP_SPEC + _allow_from_all("[{portNumber: {protocol: ICMP, port: 1}}]"),
            "p.yaml:11:37: error: spec.ingress[0].ports[0].portNumber.protocol: unknown protocol 'ICMP'; expected TCP, UDP or SCTP",
        ),
        (
            ANP + ANP_SPEC + _allow_from_all("[{portNumber: {port: 65536}}]"),
            "p.yaml:11:33: error: spec.ingress[0].ports[0].portNumber.port: must be between 1 and 65535 (got 65536)",
        ),
        (
            ANP + ANP_SPEC + _allow_from_all("[{portRange: {start: 80, end: 80}}]"),
            "p.yaml:11:42: error: spec.ingress[0].ports[0].portRange.end: must be greater than start (got 80, start 80); write a single port as a number",
        ),
        (
            ANP + ANP_SPEC + _allow_from_all("[{portNumber: {port: 80}, namedPort: http}]"),
            "p.yaml:11:13: error: spec.ingress[0].ports[0]: must set exactly one of portNumber, portRange or namedPort, not portNumber and namedPort",
        ),
        (
            ANP + ANP_SPEC + _allow_from_all("[{port: 80}]"),
            "p.yaml:11:14: error: spec.ingress[0].ports[0].port: unknown field 'port': AdminNetworkPolicy (v1alpha1) writes portNumber: {protocol: TCP, port: N}",
        ),
        (
            ANP + ANP_SPEC + "  egress:\n  - action: Allow\n    to: [{networks: [10.0.0.0/8]}]\n    ports: [{namedPort: http}]\n",
            "p.yaml:11:13: error: spec.egress[0].ports[0]: networks/nodes/domainNames peer cannot be set with namedPorts "
            "since there are no namedPorts for networks/nodes/domainNames",
        ),
        (
            BANP + BANP_SPEC + "  egress:\n  - action: Allow\n    to: [{nodes: {}}]\n    ports: [{namedPort: http}]\n",
            "p.yaml:10:13: error: spec.egress[0].ports[0]: networks/nodes peer cannot be set with namedPorts since there are "
            "no namedPorts for networks/nodes",
        ),
        # versions
        (
            CNP.replace("v1alpha2", "v1alpha1") + CNP_SPEC,
            "p.yaml:1:13: error: apiVersion: unsupported apiVersion 'policy.networking.k8s.io/v1alpha1' for "
            "ClusterNetworkPolicy; npverify reads policy.networking.k8s.io/v1alpha2",
        ),
        (
            ANP.replace("v1alpha1", "v1alpha2") + ANP_SPEC,
            "p.yaml:1:13: error: apiVersion: unsupported apiVersion 'policy.networking.k8s.io/v1alpha2' for "
            "AdminNetworkPolicy; npverify reads policy.networking.k8s.io/v1alpha1",
        ),
    ],
)
def test_errors(text, expected):
    assert error_of(text) == expected


# --- no field is dropped silently ----------------------------------------------------------------

KITCHEN_SINKS = [
    yaml.safe_load(CNP + CNP_SPEC.replace("{namespaces: {}}", "{pods: {namespaceSelector: {}, podSelector: {}}}") + """\
  ingress:
  - name: a
    action: Accept
    from: [{namespaces: {}}, {pods: {namespaceSelector: {}, podSelector: {matchExpressions: [{key: k, operator: Exists}]}}}]
    protocols:
    - tcp: {destinationPort: {number: 80}}
    - udp: {destinationPort: {range: {start: 1, end: 2}}}
    - sctp: {destinationPort: {number: 3}}
    - destinationNamedPort: http
  egress:
  - action: Deny
    to: [{networks: [10.0.0.0/8]}, {nodes: {}}, {pods: {podSelector: {}}}]
  - action: Accept
    to: [{domainNames: [a.io]}]
"""),
    yaml.safe_load(ANP + ANP_SPEC + """\
  ingress:
  - action: Allow
    from: [{pods: {namespaceSelector: {}, podSelector: {}}}]
    ports: [{portNumber: {protocol: TCP, port: 80}}, {portRange: {protocol: UDP, start: 1, end: 2}}, {namedPort: x}]
  egress:
  - action: Pass
    to: [{networks: [10.0.0.0/8]}, {nodes: {}}, {namespaces: {}}]
"""),
]

#: Mappings whose keys are data (label keys), not fields.
_DATA_MAPPINGS = ("matchLabels",)


def _object_paths(value, prefix=()):
    paths = []
    if isinstance(value, dict):
        if not prefix or prefix[-1] not in _DATA_MAPPINGS:
            paths.append(prefix)
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return paths
    for key, child in children:
        paths += _object_paths(child, (*prefix, key))
    return paths


def _field_path(path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


@pytest.mark.parametrize(
    "sink, path",
    [(n, p) for n, sink in enumerate(KITCHEN_SINKS) for p in _object_paths(sink)],
    ids=lambda v: _field_path(v) if isinstance(v, tuple) else str(v),
)
def test_an_unknown_field_in_every_object_is_an_error_at_the_key(sink, path):
    document = yaml.safe_load(yaml_text([KITCHEN_SINKS[sink]]))
    assert len(load_text(yaml_text([document])).cluster_policies) == 1
    target = document
    for step in path:
        target = target[step]
    target["bogusField"] = 1
    text = yaml_text([document])
    with pytest.raises(InputError) as info:
        load_text(text, "d.yaml")
    (error,) = info.value.diagnostics
    assert error.path == (f"{_field_path(path)}.bogusField" if path else "bogusField")
    assert error.message.startswith("unknown field 'bogusField'")
    line = text.splitlines()[error.location.line - 1]
    assert line[error.location.column - 1 :].startswith("bogusField"), (str(error), line)


def test_the_summary_counts_cluster_policies_by_kind():
    from npverify.api import summarize

    cnp = "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: %s}\nspec: {tier: Admin, priority: 0, subject: {namespaces: {}}}\n"
    cluster = load_text("---\n".join([cnp % "a", cnp % "b", BANP + BANP_SPEC]))
    assert summarize(cluster) == "0 NetworkPolicies, 1 BaselineAdminNetworkPolicy, 2 ClusterNetworkPolicies, 0 Namespaces, 0 workloads"
