"""``v1`` Namespace documents -> Namespace."""

from __future__ import annotations

from npverify.load.fields import dns_label_problem
from npverify.load.meta import ObjectMeta, parse_object_meta
from npverify.load.yamlnodes import Cursor
from npverify.model import NAMESPACE_NAME_LABEL, Diagnostic, Namespace

API_VERSION = "v1"

_TOP_FIELDS = ("apiVersion", "kind", "metadata", "spec", "status")


def parse_namespace(doc: Cursor, warnings: list[Diagnostic]) -> tuple[Namespace, ObjectMeta]:
    """One Namespace document; spec and status (finalizers, phase) are not read."""
    fields = doc.mapping(_TOP_FIELDS)
    meta = parse_object_meta(doc, fields, name_problem=dns_label_problem, strict=True, namespaced=False)
    labels = dict(meta.labels)
    # The API server always sets this label to the namespace's name, replacing any value
    # the manifest gives (the NamespaceDefaultLabelName feature, GA in 1.22).
    given = labels.get(NAMESPACE_NAME_LABEL)
    if given is not None and given != meta.name:
        label = doc.mapping()["metadata"].mapping()["labels"].mapping()[NAMESPACE_NAME_LABEL]
        warnings.append(label.warning(f"the API server sets this label to the namespace's name, {meta.name!r}; {given!r} is ignored"))
    labels[NAMESPACE_NAME_LABEL] = meta.name
    return Namespace(meta.name, labels, doc.location), meta
