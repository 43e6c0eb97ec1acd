"""Nothing is dropped silently: every document is used, skipped (with kind and location) or an error.

And a NetworkPolicy field npverify does not understand is an error at every nesting level.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from npverify.errors import InputError
from npverify.load import load_text
from tests.fuzz.hostile import FUZZ, yaml_text

#: A NetworkPolicy with every field npverify reads, each sub-object at least once.
KITCHEN_SINK = yaml.safe_load(
    """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  namespace: prod
  labels: {app: x}
  annotations: {owner: me}
spec:
  podSelector:
    matchLabels: {app: web}
    matchExpressions:
    - {key: tier, operator: In, values: [a]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {matchLabels: {a: b}, matchExpressions: [{key: k, operator: Exists}]}
      namespaceSelector: {matchLabels: {a: b}, matchExpressions: [{key: k, operator: DoesNotExist}]}
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    ports:
    - {protocol: TCP, port: 80, endPort: 90}
  egress:
  - to:
    - namespaceSelector: {}
    ports:
    - {port: dns, protocol: UDP}
"""
)

#: Mappings whose keys are data (label keys), not fields.
DATA_MAPPINGS = ("matchLabels", "labels", "annotations")


def object_paths(value, prefix=()):
    """The path of every mapping inside ``value`` whose keys are field names."""
    paths = []
    if isinstance(value, dict):
        if not prefix or prefix[-1] not in DATA_MAPPINGS:
            paths.append(prefix)
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    else:
        return paths
    for key, child in children:
        paths += object_paths(child, (*prefix, key))
    return paths


def field_path(path) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}" if text else step
    return text


def errors_of(text: str) -> list:
    with pytest.raises(InputError) as info:
        load_text(text, "d.yaml")
    return list(info.value.diagnostics)


# --- used ------------------------------------------------------------------------------------


def test_used_documents():
    text = yaml_text([KITCHEN_SINK]) + textwrap.dedent(
        """\
        ---
        {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
        ---
        {apiVersion: v1, kind: Pod, metadata: {name: p}}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: d}
        spec: {template: {metadata: {labels: {app: web}}}}
        """
    )
    cluster = load_text(text, "u.yaml")
    assert [p.key for p in cluster.policies] == ["prod/np"]
    assert [n.name for n in cluster.namespaces] == ["prod"]
    assert [w.key for w in cluster.workloads] == ["default/Pod/p", "default/Deployment/d"]
    assert cluster.skipped == ()


# --- skipped ---------------------------------------------------------------------------------


def test_unknown_kinds_are_skipped_with_kind_name_and_location():
    text = textwrap.dedent(
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        ---
        apiVersion: projectcalico.org/v3
        kind: NetworkPolicy
        metadata: {name: calico}
        ---
        apiVersion: example.com/v1
        kind: AllowList
        metadata: {name: no-items}
        """
    )
    cluster = load_text(text, "s.yaml")
    assert [(s.kind, s.name, str(s.location)) for s in cluster.skipped] == [
        ("ConfigMap", "settings", "s.yaml:1:1"),
        ("AllowList", "no-items", "s.yaml:9:1"),
    ]
    # Calico's NetworkPolicy changes which packets flow: kept, never skipped (docs/semantics.md).
    assert [(o.qualified_kind, o.name, str(o.location)) for o in cluster.unmodelled] == [
        ("NetworkPolicy.projectcalico.org", "calico", "s.yaml:5:1"),
    ]
    assert cluster.policies == ()


def test_unmodelled_kinds_inside_lists_are_kept_at_the_item():
    text = textwrap.dedent(
        """\
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicyList
        items:
        - {metadata: {name: a, namespace: shop}, spec: {}}
        - apiVersion: crd.antrea.io/v1beta1
          kind: ClusterNetworkPolicy
          metadata: {name: b}
        """
    )
    cluster = load_text(text, "l.yaml")
    assert [(o.qualified_kind, o.namespace, o.name, str(o.location)) for o in cluster.unmodelled] == [
        ("CiliumNetworkPolicy.cilium.io", "shop", "a", "l.yaml:4:3"),
        ("ClusterNetworkPolicy.crd.antrea.io", "", "b", "l.yaml:5:3"),
    ]


def test_unknown_kinds_inside_lists_are_skipped_at_the_item():
    text = textwrap.dedent(
        """\
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Namespace, metadata: {name: a}}
        - {apiVersion: v1, kind: Secret, metadata: {name: s}}
        - apiVersion: v1
          kind: ConfigMapList
          items:
          - {metadata: {name: c}}
        """
    )
    cluster = load_text(text, "l.yaml")
    assert [n.name for n in cluster.namespaces] == ["a"]
    assert [(s.kind, s.name, str(s.location)) for s in cluster.skipped] == [
        ("Secret", "s", "l.yaml:5:3"),
        ("ConfigMap", "c", "l.yaml:9:5"),
    ]


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", object_paths(KITCHEN_SINK), ids=lambda p: field_path(p) or "top")
def test_unknown_field_in_every_network_policy_object_is_an_error(path):
    document = yaml.safe_load(yaml_text([KITCHEN_SINK]))
    target = document
    for step in path:
        target = target[step]
    target["bogusField"] = 1
    text = yaml_text([document])
    (error,) = errors_of(text)
    expected = f"{field_path(path)}.bogusField" if path else "bogusField"
    assert error.path == expected
    assert error.message.startswith("unknown field 'bogusField'")
    # Located at the key itself.
    line = text.splitlines()[error.location.line - 1]
    assert line[error.location.column - 1 :].startswith("bogusField"), (str(error), line)


def test_every_network_policy_object_was_tried():
    tried = {field_path(p).replace("[0]", "[]").replace("[1]", "[]") for p in object_paths(KITCHEN_SINK)}
    assert {
        "",
        "metadata",
        "spec",
        "spec.podSelector",
        "spec.podSelector.matchExpressions[]",
        "spec.ingress[]",
        "spec.ingress[].from[]",
        "spec.ingress[].from[].podSelector",
        "spec.ingress[].from[].namespaceSelector.matchExpressions[]",
        "spec.ingress[].from[].ipBlock",
        "spec.ingress[].ports[]",
        "spec.egress[]",
        "spec.egress[].to[]",
        "spec.egress[].to[].namespaceSelector",
        "spec.egress[].ports[]",
    } <= tried


def test_the_tombstoned_status_field_of_a_network_policy_is_accepted_and_ignored():
    document = dict(KITCHEN_SINK, status={"conditions": [{"type": "x"}]})
    assert len(load_text(yaml_text([document])).policies) == 1


def test_namespace_with_unknown_metadata_fields_is_an_error():
    (error,) = errors_of("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n  lables: {x: y}\n")
    assert str(error) == "d.yaml:5:3: error: metadata.lables: unknown field 'lables'; did you mean 'labels'?"
    (error,) = errors_of("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\nspecs: {}\n")
    assert str(error) == "d.yaml:4:1: error: specs: unknown field 'specs'; did you mean 'spec'?"


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "apiVersion: v1\nkind: List\nitemz:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\n",
            "d.yaml:3:1: error: itemz: unknown field 'itemz'; did you mean 'items'?",
        ),
        (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicyList\nitem: []\n",
            "d.yaml:3:1: error: item: unknown field 'item'; did you mean 'items'?",
        ),
        (
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: a}, bogus: 1}\n",
            "d.yaml:4:58: error: items[0].bogus: unknown field 'bogus'; known fields: apiVersion, kind, metadata, spec, status",
        ),
        (
            "apiVersion: networking.k8s.io/v1beta1\nkind: NetworkPolicy\nmetadata: {name: a}\nspec: {podSelector: {}}\n",
            "d.yaml:1:13: error: apiVersion: unsupported apiVersion 'networking.k8s.io/v1beta1' for NetworkPolicy; npverify reads networking.k8s.io/v1",
        ),
    ],
    ids=["list-itemz", "typed-list-item", "list-item-unknown-field", "old-version"],
)
def test_list_and_version_errors(text, expected):
    (error,) = errors_of(text)
    assert str(error) == expected


# --- every document accounted for ------------------------------------------------------------

_USED = "{apiVersion: v1, kind: Namespace, metadata: {name: n%d}}"
_SKIPPED = "{apiVersion: v1, kind: ConfigMap, metadata: {name: c%d}}"
_BROKEN = "{apiVersion: v1, kind: Namespace, metadata: {name: b%d, bogus: 1}}"


@FUZZ
@given(st.lists(st.sampled_from(["used", "skipped", "broken", "list"]), max_size=12), st.lists(st.sampled_from(["used", "skipped", "broken"]), max_size=4))
def test_every_document_is_used_skipped_or_one_error(kinds, list_kinds):
    """Documents (and List items) each count once: as a loaded object, a skip, or one error."""
    pool = {"used": _USED, "skipped": _SKIPPED, "broken": _BROKEN}
    counter = iter(range(1000))
    documents, expected = [], {"used": 0, "skipped": 0, "broken": 0}
    for kind in kinds:
        if kind == "list":
            items = [pool[k] % next(counter) for k in list_kinds]
            documents.append("apiVersion: v1\nkind: List\nitems: [" + ", ".join(items) + "]")
            for k in list_kinds:
                expected[k] += 1
        else:
            documents.append(pool[kind] % next(counter))
            expected[kind] += 1
    text = "\n---\n".join(documents) + "\n"
    if expected["broken"]:
        assert len(errors_of(text)) == expected["broken"]
    else:
        cluster = load_text(text, "d.yaml")
        assert (len(cluster.namespaces), len(cluster.skipped)) == (expected["used"], expected["skipped"])
