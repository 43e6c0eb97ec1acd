"""Kubernetes manifests (files, directories, stdin, git revisions, live clusters) -> Cluster.

Reads NetworkPolicies, the cluster-scoped policies of policy.networking.k8s.io
(ClusterNetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy), Namespaces,
workloads and Services. Objects of kinds that change which packets
flow but that npverify does not model (npverify.coverage) become UnmodelledObjects, so that
every answer they could change is UNKNOWN; every other kind becomes a SkippedDocument. Errors are collected across documents (the first of each document,
List items counting as documents) and raised together, sorted by location, as one
InputError; nothing else escapes. Every document is used, kept as unmodelled, skipped (Cluster.skipped,
with its kind and location) or an error: nothing is dropped silently.

Each file is read under InputLimits (docs/limits.md): a file over ``max_bytes`` is refused
before it is read whole, so ``--manifests /dev/zero`` is an error, not a hang.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import BinaryIO, TextIO, Union

import attrs

from npverify.coverage import SECONDARY_NETWORK_NOTES, check_ignore_kinds, unmodelled_kind
from npverify.errors import InputError
from npverify.load.git import looks_like_revision, read_revision
from npverify.load.kubectl import context_of, is_cluster_spec, read_cluster
from npverify.load.clusterpolicy import (
    ADMIN_NETWORK_POLICY_API_VERSION,
    CLUSTER_NETWORK_POLICY_API_VERSION,
    parse_admin_network_policy,
    parse_baseline_admin_network_policy,
    parse_cluster_network_policy,
)
from npverify.load.clusterpolicy import GROUP as CLUSTER_POLICY_GROUP
from npverify.load.limits import DEFAULT_LIMITS, InputLimits
from npverify.load.meta import DEFAULT_NAMESPACE, ObjectMeta, api_group
from npverify.load.namespace import API_VERSION as NAMESPACE_API_VERSION
from npverify.load.namespace import parse_namespace
from npverify.load.node import API_VERSION as NODE_API_VERSION
from npverify.load.node import parse_node
from npverify.load.networkpolicy import API_VERSION as NETWORK_POLICY_API_VERSION
from npverify.load.networkpolicy import parse_network_policy
from npverify.load.service import API_VERSION as SERVICE_API_VERSION
from npverify.load.service import parse_service, target_port_findings
from npverify.load.workloads import WORKLOAD_KINDS, WorkloadKind, parse_workload
from npverify.load.yamlnodes import Cursor, check_size, parse_documents
from npverify.model import (
    Cluster,
    ClusterPolicy,
    Diagnostic,
    Namespace,
    NetworkPolicy,
    Node,
    Reach,
    Service,
    Severity,
    SkippedDocument,
    SourceLocation,
    UnmodelledObject,
    Workload,
)

#: The file name locations show for ``-``.
STDIN_NAME = "<stdin>"

#: Files a directory is searched for (recursively). Named files are read whatever their name.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_Object = Union[NetworkPolicy, ClusterPolicy, Namespace, Node, Service, Workload]
_Parser = Callable[[Cursor, list[Diagnostic]], tuple[_Object, ObjectMeta]]


@attrs.frozen
class _Kind:
    """A kind npverify reads."""

    api_version: str
    #: The API groups this kind is built into. Another version in these groups (e.g.
    #: extensions/v1beta1 NetworkPolicy) is an error; the same kind name in any other group
    #: is a different resource (Calico's projectcalico.org/v3 NetworkPolicy, Volcano's
    #: batch.volcano.sh Job) and is skipped.
    groups: frozenset[str]
    parse: _Parser


def _workload_parser(kind: WorkloadKind) -> _Parser:
    return lambda doc, warnings: parse_workload(doc, kind, warnings)


_LEGACY_GROUPS = {
    # Removed beta versions of the apps kinds lived in these groups too.
    "Deployment": ("apps", "extensions"),
    "ReplicaSet": ("apps", "extensions"),
    "DaemonSet": ("apps", "extensions"),
}

_KINDS: dict[str, _Kind] = {
    "NetworkPolicy": _Kind(
        NETWORK_POLICY_API_VERSION, frozenset({"networking.k8s.io", "extensions"}), parse_network_policy
    ),
    # Only in their own group: Antrea's crd.antrea.io ClusterNetworkPolicy is another kind
    # (unmodelled, npverify.coverage).
    "ClusterNetworkPolicy": _Kind(
        CLUSTER_NETWORK_POLICY_API_VERSION, frozenset({CLUSTER_POLICY_GROUP}), parse_cluster_network_policy
    ),
    "AdminNetworkPolicy": _Kind(ADMIN_NETWORK_POLICY_API_VERSION, frozenset({CLUSTER_POLICY_GROUP}), parse_admin_network_policy),
    "BaselineAdminNetworkPolicy": _Kind(
        ADMIN_NETWORK_POLICY_API_VERSION, frozenset({CLUSTER_POLICY_GROUP}), parse_baseline_admin_network_policy
    ),
    "Namespace": _Kind(NAMESPACE_API_VERSION, frozenset({""}), parse_namespace),
    "Node": _Kind(NODE_API_VERSION, frozenset({""}), parse_node),
    "Service": _Kind(SERVICE_API_VERSION, frozenset({""}), parse_service),
    **{
        name: _Kind(
            kind.api_version,
            frozenset(_LEGACY_GROUPS.get(name, (api_group(kind.api_version),))),
            _workload_parser(kind),
        )
        for name, kind in WORKLOAD_KINDS.items()
    },
}


def load_manifests(
    paths: Sequence[str | os.PathLike],
    *,
    stdin: TextIO | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    ignore_kinds: Sequence[str] = (),
    default_namespace: str | None = None,
) -> Cluster:
    """Load manifests from files, directories (recursively), ``-`` (``stdin``, else
    sys.stdin), git revisions (``REV:path``) and live clusters (``cluster:`` for kubectl's
    current context, ``cluster:CONTEXT``; see npverify.load.kubectl).

    Directories are searched for ``*.yaml``, ``*.yml`` and ``*.json`` in sorted order,
    skipping hidden files and directories (names starting with ``.``). A file reached
    twice (named twice, or named and inside a named directory) is read once. ``limits``
    apply to each file (and to stdin) separately.

    ``ignore_kinds`` (``Kind`` or ``Kind.group``, see npverify.coverage) moves objects of
    those unmodelled kinds to ``Cluster.ignored``. Namespaced objects without
    ``metadata.namespace`` go to ``default_namespace``; when it is not given they go to
    ``default`` (as the API server does) with a warning.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]  # one path, not a sequence of one-character paths
    loader = _Loader(limits, check_ignore_kinds(ignore_kinds), default_namespace)
    seen: set[str] = set()
    for path in paths:
        name = os.fsdecode(path)
        if name == "-":
            if name not in seen:
                seen.add(name)
                loader.load_stdin(stdin)
            continue
        if is_live_cluster(name):
            if name not in seen:
                seen.add(name)
                loader.load_cluster(name)
            continue
        if looks_like_revision(name) and name not in seen:
            seen.add(name)
            loader.load_revision(name)
            continue
        for file in loader.expand(name):
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                loader.load_file(file)
    return loader.result()


def is_live_cluster(path: str) -> bool:
    """Does a manifests path name a live cluster (``cluster:`` or ``cluster:CONTEXT``) rather
    than a file (an existing file of that name is read as a file)?"""
    return is_cluster_spec(path) and not os.path.exists(path)


def load_text(
    text: str,
    filename: str = "<string>",
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    ignore_kinds: Sequence[str] = (),
    default_namespace: str | None = None,
) -> Cluster:
    """Load manifests from a string; ``filename`` is what locations show. Options as for
    ``load_manifests``."""
    loader = _Loader(limits, check_ignore_kinds(ignore_kinds), default_namespace)
    loader.load_text(text, filename)
    return loader.result()


def _sort_key(diagnostic: Diagnostic) -> tuple:
    loc = diagnostic.location
    return (loc is not None, loc or SourceLocation("", 0, 0), diagnostic.path, diagnostic.message)


def _decode(data: bytes, filename: str) -> str:
    """The text of a file: UTF-8 (BOM optional), or UTF-16/32 with a BOM."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise InputError(
                    Diagnostic(f"not valid {codec.upper()} (it starts with a {codec.upper()} byte-order mark): {exc.reason}", SourceLocation(filename, 1, 1))
                ) from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", "replace")) + 1
        raise InputError(
            Diagnostic(
                f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
                SourceLocation(filename, line, column),
            )
        ) from None


@attrs.define
class _Loader:
    """Accumulates objects, warnings and errors over all inputs of one load."""

    limits: InputLimits
    ignore_kinds: tuple[str, ...] = ()
    #: Where namespaced objects without ``metadata.namespace`` go; None: ``default``, with a warning.
    default_namespace: str | None = None
    policies: list[NetworkPolicy] = attrs.field(factory=list)
    cluster_policies: list[ClusterPolicy] = attrs.field(factory=list)
    namespaces: list[Namespace] = attrs.field(factory=list)
    nodes: list[Node] = attrs.field(factory=list)
    workloads: list[Workload] = attrs.field(factory=list)
    services: list[Service] = attrs.field(factory=list)
    skipped: list[SkippedDocument] = attrs.field(factory=list)
    unmodelled: list[UnmodelledObject] = attrs.field(factory=list)
    warnings: list[Diagnostic] = attrs.field(factory=list)
    #: Where the first namespaced object without ``metadata.namespace`` is, and how many there are.
    first_without_namespace: SourceLocation | None = None
    without_namespace: int = 0
    errors: list[Diagnostic] = attrs.field(factory=list)
    #: Where each object was first defined, by identity (kind and namespace/name).
    defined: dict[tuple[str, ...], SourceLocation] = attrs.field(factory=dict)

    def result(self) -> Cluster:
        if self.errors:
            raise InputError(sorted(self.errors, key=_sort_key))
        warnings = list(self.warnings) + target_port_findings(self.services, self.workloads)
        warnings += node_address_findings(self.nodes, self.workloads)
        if self.without_namespace and self.default_namespace is None:
            # Plain `helm template` output has no namespaces: kubectl would put the objects in
            # the current context's namespace, which a file does not say.
            count = "this object" if self.without_namespace == 1 else f"{self.without_namespace} objects (the first here)"
            warnings.append(
                Diagnostic(
                    f"{count} without metadata.namespace read as namespace {DEFAULT_NAMESPACE!r}, "
                    "as the API server would; kubectl would use the current context's namespace: "
                    "pass --default-namespace NS to say which",
                    self.first_without_namespace,
                    "metadata.namespace",
                    Severity.WARNING,
                )
            )
        return Cluster(
            policies=tuple(self.policies),
            namespaces=tuple(self.namespaces),
            workloads=tuple(self.workloads),
            skipped=tuple(self.skipped),
            warnings=tuple(warnings),
            unmodelled=tuple(self.unmodelled),
            services=tuple(self.services),
            cluster_policies=tuple(self.cluster_policies),
            nodes=tuple(self.nodes),
        ).ignoring(self.ignore_kinds)

    # --- inputs ----------------------------------------------------------------------

    def expand(self, path: str) -> Iterator[str]:
        """The files ``path`` names: itself, or the manifest files below a directory."""
        if not os.path.isdir(path):
            if os.path.exists(path):
                yield path
            else:
                self.errors.append(Diagnostic(f"{path}: no such file or directory"))
            return

        def walk_error(exc: OSError) -> None:
            self.errors.append(Diagnostic(f"cannot read directory {exc.filename}: {exc.strerror or exc}"))

        found = []
        for directory, dirnames, filenames in os.walk(path, onerror=walk_error):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for filename in filenames:
                if not filename.startswith(".") and filename.lower().endswith(MANIFEST_SUFFIXES):
                    full = os.path.join(directory, filename)
                    found.append((os.path.relpath(full, path).split(os.sep), full))
        if not found:
            self.warnings.append(
                Diagnostic(f"directory {path} has no .yaml, .yml or .json files", severity=Severity.WARNING)
            )
        for _, full in sorted(found):
            yield os.path.normpath(full)

    def load_file(self, path: str) -> None:
        try:
            with open(path, "rb") as file:
                data = _read_bounded(file, path, self.limits)
            text = _decode(data, path)
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
            return
        except OSError as exc:
            self.errors.append(Diagnostic(f"cannot read {path}: {exc.strerror or exc}"))
            return
        if path.lower().endswith(".json"):
            # PyYAML rejects tab indentation; in valid JSON a tab can only be whitespace
            # (tabs inside strings must be escaped), so spaces read the same.
            text = text.replace("\t", " ")
        self.load_text(text, path)

    def load_revision(self, spec: str) -> None:
        """The manifests at ``REV:path`` of the git repository around the current folder."""
        try:
            for name, data in read_revision(spec):
                text = _decode(data, name)
                self.load_text(text.replace("\t", " ") if name.lower().endswith(".json") else text, name)
        except InputError as exc:
            self.errors.extend(exc.diagnostics)

    def load_cluster(self, spec: str) -> None:
        """The objects of a live cluster, each a document named by its identity (npverify.load.kubectl)."""
        try:
            live = read_cluster(context_of(spec))
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
            return
        self.warnings.extend(live.warnings)
        for document in live.documents:
            self.load_text(document.text, document.name)

    def load_stdin(self, stdin: TextIO | None) -> None:
        stream = sys.stdin if stdin is None else stdin
        try:
            # Read the bytes under a real text stream (sys.stdin), so the encoding is
            # ours (UTF-8, or UTF-16/32 with a BOM) rather than the locale's, and a bad
            # byte is located; a StringIO has text only.
            buffer = getattr(stream, "buffer", None)
            if buffer is not None:
                text = _decode(_read_bounded(buffer, STDIN_NAME, self.limits), STDIN_NAME)
            else:
                text = stream.read(self.limits.max_bytes + 1)  # characters; parse_documents counts bytes
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
            return
        except (OSError, UnicodeError) as exc:
            self.errors.append(Diagnostic(f"cannot read standard input: {exc}"))
            return
        self.load_text(text, STDIN_NAME)

    def load_text(self, text: str, filename: str) -> None:
        try:
            for node in parse_documents(text, filename, self.limits):
                self.document(Cursor(node))
        except InputError as exc:
            # A YAML error ends the file; the documents before it were read.
            self.errors.extend(exc.diagnostics)

    # --- documents -------------------------------------------------------------------

    def document(self, doc: Cursor, inherited: tuple[str, str] | None = None) -> None:
        """One object (or List), keeping its first error and, if none, its warnings."""
        warnings: list[Diagnostic] = []
        try:
            self._object(doc, inherited, warnings)
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
        else:
            self.warnings.extend(warnings)

    def _object(self, doc: Cursor, inherited: tuple[str, str] | None, warnings: list[Diagnostic]) -> None:
        fields = doc.mapping(what=" (a Kubernetes object with apiVersion and kind)")
        kind = _type_field(doc, fields, "kind", inherited[0] if inherited else None)
        api_version = _type_field(doc, fields, "apiVersion", inherited[1] if inherited else None)

        if kind == "List" or (kind.endswith("List") and ("items" in fields or kind[: -len("List")] in _KINDS)):
            self._list(doc, kind, api_version)
            return
        known = _KINDS.get(kind)
        group = api_group(api_version)
        if known is None or group not in known.groups:
            self._not_read(doc, fields, kind, group)
            return
        if api_version != known.api_version:
            where = fields.get("apiVersion", doc)
            where.fail(f"unsupported apiVersion {api_version!r} for {kind}; npverify reads {known.api_version}")

        obj, meta = known.parse(doc, warnings)
        if meta.namespace and not _namespace_given(fields):
            self._note_without_namespace(doc)
            if self.default_namespace is not None:
                obj = attrs.evolve(obj, namespace=self.default_namespace)
        if isinstance(obj, NetworkPolicy):
            self._define(("NetworkPolicy", obj.namespace, obj.name), f"NetworkPolicy {obj.key}", meta, obj.location)
            self.policies.append(obj)
        elif isinstance(obj, ClusterPolicy):
            self._define(("ClusterPolicy", obj.kind, obj.name), f"{obj.kind} {obj.name}", meta, obj.location)
            self.cluster_policies.append(obj)
        elif isinstance(obj, Namespace):
            self._define(("Namespace", obj.name), f"Namespace {obj.name}", meta, obj.location)
            self.namespaces.append(obj)
        elif isinstance(obj, Node):
            self._define(("Node", obj.name), f"Node {obj.name}", meta, obj.location)
            self.nodes.append(obj)
        elif isinstance(obj, Service):
            self._define(("Service", obj.namespace, obj.name), f"Service {obj.key}", meta, obj.location)
            self.services.append(obj)
        else:
            self._define(("Workload", obj.kind, obj.namespace, obj.name), f"{obj.kind} {obj.namespace}/{obj.name}", meta, obj.location)
            self.workloads.append(obj)

    def _not_read(self, doc: Cursor, fields: dict[str, Cursor], kind: str, group: str) -> None:
        """A document of a kind npverify does not read: unmodelled when the kind changes which
        packets flow, else skipped (with a note when npverify knows why it changes nothing)."""
        name = _name_of(fields)
        entry = unmodelled_kind(group, kind)
        if entry is None:
            self.skipped.append(SkippedDocument(kind, name, doc.location, SECONDARY_NETWORK_NOTES.get((group, kind), "")))
            return
        namespace = ""
        if entry.reach is Reach.NAMESPACE:
            namespace = _string_field(fields, "namespace")
            if not namespace:
                self._note_without_namespace(doc)
                namespace = self.default_namespace or DEFAULT_NAMESPACE
        self.unmodelled.append(UnmodelledObject(kind, group, namespace, name, entry.reach, doc.location))

    def _note_without_namespace(self, doc: Cursor) -> None:
        self.without_namespace += 1
        if self.first_without_namespace is None:
            self.first_without_namespace = doc.location

    def _list(self, doc: Cursor, kind: str, api_version: str) -> None:
        """A ``kind: List`` or ``kind: XxxList``: each item is loaded as a document.

        Its own fields are checked, so that a misspelt ``items`` is an error rather than an
        empty list.
        """
        fields = doc.mapping(_LIST_FIELDS)
        items = fields.get("items")
        # Items of a typed list (NetworkPolicyList) may omit their kind and apiVersion, as
        # API responses do; they take them from the list.
        inherited = (kind[: -len("List")], api_version) if kind != "List" else None
        for item in [] if items is None else items.optional_sequence():
            self.document(item, inherited)

    def _define(self, key: tuple[str, ...], what: str, meta: ObjectMeta, location: SourceLocation | None) -> None:
        first = self.defined.get(key)
        if first is not None:
            meta.name_cursor.fail(f"{what} is already defined at {first}")
        self.defined[key] = location or meta.name_cursor.location


def node_address_findings(nodes: Sequence[Node], workloads: Sequence[Workload]) -> list[Diagnostic]:
    """Warnings for Node addresses that contradict other facts: an address two Nodes state
    (the first Node keeps it), or an ordinary (not hostNetwork) Pod's status IP, which is
    that pod's and no node's. Both are kept as stated; answers stay sound because a pod IP
    is never matched by a ``nodes`` peer and one address names one node."""
    findings: list[Diagnostic] = []
    owner: dict[object, Node] = {}
    pod_ips = {ip: w for w in workloads if not w.host_network for ip in w.ips}
    for node in nodes:
        for address in node.addresses:
            first = owner.setdefault(address, node)
            where = node.addresses_location or node.location
            if first is not node:
                findings.append(
                    Diagnostic(
                        f"address {address} is also Node {first.name}'s ({first.location}); it is taken as {first.name}'s",
                        where, "status.addresses", Severity.WARNING,
                    )
                )
            pod = pod_ips.get(address)
            if pod is not None:
                findings.append(
                    Diagnostic(
                        f"address {address} is the status IP of Pod {pod.namespace}/{pod.name} ({pod.location}), which does not "
                        "use hostNetwork: packets with this IP are taken as that pod's, and no nodes peer matches them",
                        where, "status.addresses", Severity.WARNING,
                    )
                )
    return findings


#: The fields of a List (metav1.List, and every typed XxxList).
_LIST_FIELDS = ("apiVersion", "kind", "metadata", "items")


def _read_bounded(stream: BinaryIO, name: str, limits: InputLimits) -> bytes:
    """The bytes of ``stream``, refusing (before reading it whole) one over ``limits.max_bytes``."""
    data = stream.read(limits.max_bytes + 1)
    check_size(len(data), name, limits, at_least=True)
    return data


def _type_field(doc: Cursor, fields: dict[str, Cursor], key: str, default: str | None) -> str:
    """``kind`` or ``apiVersion``: a required non-empty string (or taken from the enclosing list)."""
    cursor = fields.get(key)
    if cursor is None:
        if default:
            return default
        doc.fail(f"missing required field {key!r}")
    return cursor.string()


def _name_of(fields: dict[str, Cursor]) -> str:
    """``metadata.name`` of a document we do not otherwise read, or ""."""
    return _string_field(fields, "name")


def _string_field(fields: dict[str, Cursor], key: str) -> str:
    """``metadata.<key>`` of a document when it is a string, else ""."""
    meta = fields.get("metadata")
    if meta is not None and isinstance(meta.value, dict):
        value = meta.value.get(key)
        if value is not None and isinstance(value.value, str):
            return value.value
    return ""


def _namespace_given(fields: dict[str, Cursor]) -> bool:
    """Does the document set ``metadata.namespace`` (an empty one is absent, as in Go)?"""
    return bool(_string_field(fields, "namespace"))
