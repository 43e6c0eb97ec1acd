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
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from npverify.load.cache import LoadCache
from npverify.load.yamlnodes import Cursor, check_size, located, parse_documents
from npverify.model import (
    Cluster,
    ClusterPolicy,
    Diagnostic,
    IGNORE_ANNOTATION,
    IgnoreAnnotation,
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
    cache: LoadCache | bool | None = None,
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

    ``cache`` keeps the documents of files (and git revisions' files) read before
    (npverify.load.cache; docs/cache.md): True for the default cache (unless
    ``$NPVERIFY_NO_CACHE`` is set), a LoadCache, or None/False for none. Answers are the
    same either way.
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]  # one path, not a sequence of one-character paths
    if cache is True:
        cache = LoadCache.default()
    loader = _Loader(limits, check_ignore_kinds(ignore_kinds), default_namespace, cache or None)
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
    #: Where the documents of files read before are kept (None: read every file).
    cache: LoadCache | None = None
    policies: list[NetworkPolicy] = attrs.field(factory=list)
    cluster_policies: list[ClusterPolicy] = attrs.field(factory=list)
    namespaces: list[Namespace] = attrs.field(factory=list)
    nodes: list[Node] = attrs.field(factory=list)
    workloads: list[Workload] = attrs.field(factory=list)
    services: list[Service] = attrs.field(factory=list)
    skipped: list[SkippedDocument] = attrs.field(factory=list)
    unmodelled: list[UnmodelledObject] = attrs.field(factory=list)
    warnings: list[Diagnostic] = attrs.field(factory=list)
    ignore_annotations: list[IgnoreAnnotation] = attrs.field(factory=list)
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
        if self.cache is not None and self.cache.unusable:
            warnings.append(Diagnostic(f"load cache not used: {self.cache.unusable}", severity=Severity.WARNING))
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
            ignore_annotations=tuple(self.ignore_annotations),
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
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
            return
        except OSError as exc:
            self.errors.append(Diagnostic(f"cannot read {path}: {exc.strerror or exc}"))
            return
        self.load_data(data, path)

    def load_data(self, data: bytes, name: str) -> None:
        """The documents of a file's bytes: from the cache when it holds them."""
        key = None
        if self.cache is not None:
            # What the documents depend on: the name (locations show it), the bytes and
            # the options that change what is read from them.
            key = self.cache.key(name, data, (self.limits, self.default_namespace))
            cached = self.cache.get(key)
            if cached is not None:
                self.add(cached)
                return
        try:
            text = _decode(data, name)
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
            return
        if name.lower().endswith(".json"):
            # PyYAML rejects tab indentation; in valid JSON a tab can only be whitespace
            # (tabs inside strings must be escaped), so spaces read the same.
            text = text.replace("\t", " ")
        documents = self.load_text(text, name)
        if key is not None and documents is not None:
            self.cache.put(key, documents)  # type: ignore[union-attr]

    def load_revision(self, spec: str) -> None:
        """The manifests at ``REV:path`` of the git repository around the current folder."""
        try:
            for name, data in read_revision(spec):
                self.load_data(data, name)
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

    def load_text(self, text: str, filename: str) -> tuple[Document, ...] | None:
        """Read and add the documents of one file; they are returned (to be cached) when
        the file has no error."""
        documents: list[Document] = []
        clean = True
        try:
            for node in parse_documents(text, filename, self.limits):
                clean = self.document(Cursor(node), documents) and clean
        except InputError as exc:
            # A YAML error ends the file; the documents before it were read.
            self.errors.extend(exc.diagnostics)
            clean = False
        self.add(documents)
        return tuple(documents) if clean else None

    # --- documents -------------------------------------------------------------------

    def document(self, doc: Cursor, out: list[Document], inherited: tuple[str, str] | None = None) -> bool:
        """Read one object (or List) into ``out``; False (and its first error kept) when it
        has an error."""
        try:
            self._object(doc, inherited, out)
        except InputError as exc:
            self.errors.extend(exc.diagnostics)
            return False
        return True

    def _object(self, doc: Cursor, inherited: tuple[str, str] | None, out: list[Document]) -> None:
        fields = doc.mapping(what=" (a Kubernetes object with apiVersion and kind)")
        kind = _type_field(doc, fields, "kind", inherited[0] if inherited else None)
        api_version = _type_field(doc, fields, "apiVersion", inherited[1] if inherited else None)

        if kind == "List" or (kind.endswith("List") and ("items" in fields or kind[: -len("List")] in _KINDS)):
            self._list(doc, kind, api_version, out)
            return
        known = _KINDS.get(kind)
        group = api_group(api_version)
        if known is None or group not in known.groups:
            out.append(self._not_read(doc, fields, kind, group))
            return
        if api_version != known.api_version:
            where = fields.get("apiVersion", doc)
            where.fail(f"unsupported apiVersion {api_version!r} for {kind}; npverify reads {known.api_version}")

        warnings: list[Diagnostic] = []
        obj, meta = known.parse(doc, warnings)
        without_namespace = None
        if meta.namespace and not _namespace_given(fields):
            without_namespace = doc.location
            if self.default_namespace is not None:
                obj = attrs.evolve(obj, namespace=self.default_namespace)
        identity, what = _identity(obj)
        name = meta.name_cursor
        ignore = _ignore_annotation(fields, obj)
        out.append(Document(obj, identity, what, (name.location, name.path), tuple(warnings), None, without_namespace, ignore))

    def _not_read(self, doc: Cursor, fields: dict[str, Cursor], kind: str, group: str) -> Document:
        """A document of a kind npverify does not read: unmodelled when the kind changes which
        packets flow, else skipped (with a note when npverify knows why it changes nothing)."""
        name = _name_of(fields)
        entry = unmodelled_kind(group, kind)
        if entry is None:
            return Document(not_read=SkippedDocument(kind, name, doc.location, SECONDARY_NETWORK_NOTES.get((group, kind), "")))
        namespace = ""
        without_namespace = None
        if entry.reach is Reach.NAMESPACE:
            namespace = _string_field(fields, "namespace")
            if not namespace:
                without_namespace = doc.location
                namespace = self.default_namespace or DEFAULT_NAMESPACE
        return Document(
            not_read=UnmodelledObject(kind, group, namespace, name, entry.reach, doc.location), without_namespace=without_namespace
        )

    def _list(self, doc: Cursor, kind: str, api_version: str, out: list[Document]) -> None:
        """A ``kind: List`` or ``kind: XxxList``: each item is read as a document.

        Its own fields are checked, so that a misspelt ``items`` is an error rather than an
        empty list.
        """
        fields = doc.mapping(_LIST_FIELDS)
        items = fields.get("items")
        # Items of a typed list (NetworkPolicyList) may omit their kind and apiVersion, as
        # API responses do; they take them from the list.
        inherited = (kind[: -len("List")], api_version) if kind != "List" else None
        for item in [] if items is None else items.optional_sequence():
            self.document(item, out, inherited)

    def add(self, documents: Iterable[Document]) -> None:
        """Add documents read from one file, with the checks across files: an object
        defined twice is an error at its second ``metadata.name`` (and that document adds
        nothing else)."""
        for document in documents:
            if document.without_namespace is not None:
                self.without_namespace += 1
                if self.first_without_namespace is None:
                    self.first_without_namespace = document.without_namespace
            if isinstance(document.not_read, SkippedDocument):
                self.skipped.append(document.not_read)
                continue
            if isinstance(document.not_read, UnmodelledObject):
                self.unmodelled.append(document.not_read)
                continue
            obj = document.obj
            location, path = document.name_at  # type: ignore[misc]
            first = self.defined.get(document.identity)
            if first is not None:
                self.errors.append(located(f"{document.what} is already defined at {first}", location, path))
                continue
            self.defined[document.identity] = obj.location or location  # type: ignore[union-attr]
            self.warnings.extend(document.warnings)
            self._collection(obj).append(obj)
            if document.ignore is not None:
                self.ignore_annotations.append(document.ignore)

    def _collection(self, obj: _Object) -> list:
        if isinstance(obj, NetworkPolicy):
            return self.policies
        if isinstance(obj, ClusterPolicy):
            return self.cluster_policies
        if isinstance(obj, Namespace):
            return self.namespaces
        if isinstance(obj, Node):
            return self.nodes
        if isinstance(obj, Service):
            return self.services
        return self.workloads


def _identity(obj: _Object) -> tuple[tuple[str, ...], str]:
    """What makes an object the same object twice (kind, namespace and name), and how to name it."""
    if isinstance(obj, NetworkPolicy):
        return ("NetworkPolicy", obj.namespace, obj.name), f"NetworkPolicy {obj.key}"
    if isinstance(obj, ClusterPolicy):
        return ("ClusterPolicy", obj.kind, obj.name), f"{obj.kind} {obj.name}"
    if isinstance(obj, Namespace):
        return ("Namespace", obj.name), f"Namespace {obj.name}"
    if isinstance(obj, Node):
        return ("Node", obj.name), f"Node {obj.name}"
    if isinstance(obj, Service):
        return ("Service", obj.namespace, obj.name), f"Service {obj.key}"
    return ("Workload", obj.kind, obj.namespace, obj.name), f"{obj.kind} {obj.namespace}/{obj.name}"


@attrs.frozen
class Document:
    """What one document (or List item) read without error adds to a load. The check across
    documents (an object defined twice) is made when it is added (``_Loader.add``), so the
    documents of a file can be kept in the load cache and added again in another load."""

    obj: _Object | None = None
    identity: tuple[str, ...] = ()
    what: str = ""
    #: Where ``metadata.name`` is, and its field path: what "defined twice" points at.
    name_at: tuple[SourceLocation, str] | None = None
    warnings: tuple[Diagnostic, ...] = ()
    #: A document of a kind npverify does not read.
    not_read: SkippedDocument | UnmodelledObject | None = None
    #: Where the document is, when it is namespaced but says no namespace.
    without_namespace: SourceLocation | None = None
    #: Its ``npverify.io/ignore`` annotation, if it has one.
    ignore: IgnoreAnnotation | None = None


def _ignore_annotation(fields: dict[str, Cursor], obj: _Object) -> IgnoreAnnotation | None:
    """The object's ``npverify.io/ignore`` annotation (``rule-id,rule-id``), as written."""
    meta = fields.get("metadata")
    annotations = meta.value.get("annotations") if meta is not None and isinstance(meta.value, dict) else None
    if annotations is None or not isinstance(annotations.value, dict):
        return None
    node = annotations.value.get(IGNORE_ANNOTATION)
    if node is None or not isinstance(node.value, str):
        return None
    rules = tuple(part.strip() for part in node.value.split(","))
    kinds = ((NetworkPolicy, "NetworkPolicy"), (Namespace, "Namespace"), (Node, "Node"), (Service, "Service"))
    kind = next((name for cls, name in kinds if isinstance(obj, cls)), None) or obj.kind
    namespace = "" if isinstance(obj, (ClusterPolicy, Namespace, Node)) else obj.namespace
    return IgnoreAnnotation(kind, namespace, obj.name, rules, node.location)


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
