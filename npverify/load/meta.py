"""The parts every Kubernetes object shares: apiVersion/kind and ObjectMeta."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from npverify.load.fields import dns_label_problem, parse_labels
from npverify.load.yamlnodes import Cursor

#: The namespace the API server gives a namespaced object without ``metadata.namespace``.
#: (kubectl fills in the namespace of the current context; a manifest file has none, and
#: we read it as the API server would with no context: ``default``.)
DEFAULT_NAMESPACE = "default"

#: Every field of metav1.ObjectMeta, including ones only the server writes (a manifest
#: produced by ``kubectl get -o yaml`` has them) and ``clusterName`` (removed in 1.25,
#: still found in old exports).
OBJECT_META_FIELDS = (
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "finalizers",
    "ownerReferences",
    "generateName",
    "selfLink",
    "clusterName",
)


@attrs.frozen
class ObjectMeta:
    """What npverify reads from an object's metadata."""

    name: str
    #: ``default`` when absent; "" for cluster-scoped kinds.
    namespace: str
    labels: dict[str, str]
    #: The ``metadata.name`` value, to point at when the object is defined twice.
    name_cursor: Cursor


def api_group(api_version: str) -> str:
    """The API group of an apiVersion: ``networking.k8s.io/v1`` -> ``networking.k8s.io``, ``v1`` -> ""."""
    return api_version.rpartition("/")[0]


def parse_object_meta(
    doc: Cursor,
    fields: dict[str, Cursor],
    *,
    name_problem: Callable[[str], str | None],
    strict: bool,
    namespaced: bool = True,
    read_labels: bool = True,
) -> ObjectMeta:
    """``metadata`` of the document whose top-level fields are ``fields``.

    ``strict`` rejects unknown metadata fields and checks annotations are strings; without
    it only what npverify reads (name, namespace, and labels when ``read_labels``) is
    validated, so workloads with unusual metadata still load.
    """
    meta = fields.get("metadata")
    if meta is None:
        doc.fail("missing required field 'metadata'")
    if meta.value is None:
        meta.fail("missing required field 'name'")
    meta_fields = meta.mapping(OBJECT_META_FIELDS if strict else None)

    name_cursor = meta_fields.get("name")
    if name_cursor is None or name_cursor.value in (None, ""):
        hint = " (generateName alone is not enough: npverify needs a fixed name)" if "generateName" in meta_fields else ""
        (name_cursor or meta).fail(f"missing required field 'name'{hint}")
    name = name_cursor.string()
    problem = name_problem(name)
    if problem:
        name_cursor.fail(problem)

    namespace = ""
    if namespaced:
        namespace = DEFAULT_NAMESPACE
        ns_cursor = meta_fields.get("namespace")
        # An empty or null namespace is absent: Go decodes both to "".
        if ns_cursor is not None and ns_cursor.value not in (None, ""):
            namespace = ns_cursor.string()
            problem = dns_label_problem(namespace)
            if problem:
                ns_cursor.fail(problem.replace("invalid name", "invalid namespace", 1))

    labels = parse_labels(meta_fields["labels"]) if read_labels and "labels" in meta_fields else {}
    if strict and "annotations" in meta_fields:
        meta_fields["annotations"].string_map()
    return ObjectMeta(name, namespace, labels, name_cursor)
