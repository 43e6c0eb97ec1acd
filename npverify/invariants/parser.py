"""The invariants file: YAML in, ``InvariantsFile`` out, every problem located.

docs/invariants.md is the user reference for the format and specs/invariants.schema.json
the same contract as a JSON Schema; change all three together. Every problem raises
``InputError`` with file:line:col and the field path (``invariants[2].isolated.from.pod``);
no other exception escapes. Problems that do not stop a check (a CIDR with host bits set,
a scope no packet can match) become warnings on the result.

Invariant kinds are a table from the key that names the kind to a body parser, so a new
kind with another body (``equivalent: {to: ../k8s-old}``) is one entry and one function.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NoReturn

import attrs

from npverify.coverage import ignore_kind_problem
from npverify.errors import InputError
from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, InvariantsFile, Scope, Written
from npverify.load import fields
from npverify.load.git import looks_like_revision
from npverify.load.kubectl import is_cluster_spec
from npverify.load.limits import DEFAULT_LIMITS, InputLimits
from npverify.load.yamlnodes import Cursor, check_size, parse_documents
from npverify.model import Diagnostic, IPBlock, IPNetwork, LabelSelector, PolicyPort, Semantics, SourceLocation, Universe


@attrs.define
class _Context:
    """The state of one parse: where relative paths start, the universe, warnings so far."""

    base_dir: str
    universe: Universe = Universe()
    warnings: list[Diagnostic] = attrs.Factory(list)


# --- entry points ----------------------------------------------------------------------


def load_invariants(path: str | os.PathLike[str], *, limits: InputLimits = DEFAULT_LIMITS) -> InvariantsFile:
    """Read and parse an invariants file; ``manifests`` are resolved against its folder.

    A file over ``limits.max_bytes`` is refused before it is read whole.
    """
    name = os.fsdecode(path)
    try:
        with open(name, "rb") as stream:
            data = stream.read(limits.max_bytes + 1)
        check_size(len(data), name, limits, at_least=True)
    except OSError as exc:
        raise InputError(Diagnostic(f"cannot read invariants file {name!r}: {exc.strerror or exc}")) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise InputError(
            Diagnostic(f"not valid UTF-8: {exc.reason} (byte 0x{data[exc.start]:02x})", SourceLocation(name, line, column))
        ) from None
    return parse_invariants(text, name, os.path.dirname(name) or ".", limits=limits)


def parse_invariants(
    text: str, filename: str, base_dir: str | os.PathLike[str] = ".", *, limits: InputLimits = DEFAULT_LIMITS
) -> InvariantsFile:
    """Parse the text of an invariants file named ``filename`` (used in locations only).

    ``manifests`` entries are resolved against ``base_dir``; ``limits`` bound the input
    (docs/limits.md).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    documents = list(parse_documents(text, filename, limits))
    if len(documents) > 1:
        raise InputError(
            Diagnostic("the invariants file must be a single YAML document; remove the '---' before this one", documents[1].location)
        )
    if not documents or documents[0].value is None:
        raise InputError(
            Diagnostic("the invariants file is empty; expected a mapping with an 'invariants' list", SourceLocation(filename, 1, 1))
        )
    root = Cursor(documents[0])
    top = _mapping(root, _TOP_FIELDS, what=" with an 'invariants' list")
    context = _Context(os.fsdecode(base_dir))
    manifests, manifests_written = _parse_manifests(top["manifests"], context) if "manifests" in top else ((), ())
    if "universe" in top:
        context.universe = _parse_universe(top["universe"], context)
    semantics = _parse_semantics(top["semantics"]) if "semantics" in top else Semantics()
    ignore_kinds = _parse_ignore_kinds(top["ignoreKinds"]) if "ignoreKinds" in top else ()
    default_namespace = _parse_default_namespace(top["defaultNamespace"]) if "defaultNamespace" in top else None
    lint = _parse_lint(top["lint"]) if "lint" in top else None
    if "invariants" not in top and lint is None:
        root.fail("missing required field 'invariants'")
    invariants = _parse_invariant_list(top["invariants"], context) if "invariants" in top else ()
    return InvariantsFile(
        path=filename,
        manifests=manifests,
        manifests_written=manifests_written,
        universe=context.universe,
        semantics=semantics,
        invariants=invariants,
        warnings=tuple(context.warnings),
        ignore_kinds=ignore_kinds,
        default_namespace=default_namespace,
        lint=lint,
    )


# --- small helpers ---------------------------------------------------------------------


def _got(value: Any) -> str:
    """``value`` described for an error message: its YAML type, and the value if short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"integer {value}"
    if isinstance(value, float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value}"


def _fail_key(cursor: Cursor, key: str, message: str) -> NoReturn:
    """Raise an error located at the key ``key`` of the mapping under ``cursor``."""
    child = cursor.mapping()[key]
    location = cursor.node.key_locations.get(key, cursor.location)
    raise InputError(Diagnostic(message, location, child.path))


def _mapping(
    cursor: Cursor, allowed: tuple[str, ...], hints: Mapping[str, str] = MappingProxyType({}), what: str = ""
) -> dict[str, Cursor]:
    """``cursor.mapping(allowed)``, with better hints for keys users commonly get wrong.

    A key that differs from a field only in case gets that field as did-you-mean, and the
    keys in ``hints`` get their own advice; ``Cursor.mapping`` handles the rest.
    """
    if not isinstance(cursor.value, dict):
        cursor.fail(f"must be a mapping{what}, got {_got(cursor.value)}")
    by_case = {key.lower(): key for key in allowed}
    for key in cursor.value:
        if key in allowed:
            continue
        if key in hints:
            _fail_key(cursor, key, f"unknown field {key!r}; {hints[key]}")
        if key.lower() in by_case:
            _fail_key(cursor, key, f"unknown field {key!r}; did you mean {by_case[key.lower()]!r}?")
    return cursor.mapping(allowed)


def _choice(cursor: Cursor, options: tuple[str, ...]) -> str:
    """A string that must be one of ``options``."""
    expected = " or ".join(repr(o) for o in options)
    if not isinstance(cursor.value, str):
        cursor.fail(f"must be {expected}, got {_got(cursor.value)}")
    if cursor.value not in options:
        close = difflib.get_close_matches(cursor.value.lower(), options, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        cursor.fail(f"must be {expected}, got {cursor.value!r}{hint}")
    return cursor.value


def _list(cursor: Cursor, example: str) -> list[Cursor]:
    """A list, where null counts as empty; the error shows an example of the expected list."""
    if cursor.value is not None and not isinstance(cursor.value, list):
        cursor.fail(f"must be a list such as {example}, got {_got(cursor.value)}")
    return cursor.optional_sequence()


# --- top level -------------------------------------------------------------------------

_TOP_FIELDS = ("manifests", "universe", "semantics", "ignoreKinds", "defaultNamespace", "invariants", "lint")


def _parse_ignore_kinds(cursor: Cursor) -> tuple[str, ...]:
    """``ignoreKinds``: unmodelled policy kinds to answer without (npverify.coverage)."""
    kinds = []
    for item in cursor.optional_sequence():
        problem = ignore_kind_problem(item.string())
        if problem:
            item.fail(problem)
        kinds.append(item.value)
    return tuple(kinds)


def _parse_default_namespace(cursor: Cursor) -> str:
    """``defaultNamespace``: where manifests without metadata.namespace go."""
    name = cursor.string()
    problem = fields.dns_label_problem(name)
    if problem:
        cursor.fail(problem.replace("invalid name", "invalid namespace", 1))
    return name


def _parse_manifests(cursor: Cursor, context: _Context) -> tuple[tuple[str, ...], tuple[Written, ...]]:
    """The resolved paths, and where each was written."""
    if isinstance(cursor.value, str):
        items = [cursor]
    elif cursor.value is None or isinstance(cursor.value, list):
        items = cursor.optional_sequence()
    else:
        cursor.fail(f"must be a path or a list of paths, got {_got(cursor.value)}")
    paths = tuple(_resolve_path(item, context) for item in items)
    return paths, tuple(Written(item.location, item.path) for item in items)


def names_no_input(path: str) -> bool:
    """Does a manifests path name nothing to read? Not ``-`` (stdin), not a git
    ``REV:path``, not a live cluster (``cluster:CONTEXT``), and no such file or directory."""
    return path != "-" and not os.path.exists(path) and not looks_like_revision(path) and not is_cluster_spec(path)


def check_manifests_exist(spec: InvariantsFile) -> None:
    """Raise InputError, located at the entries, if ``spec``'s manifests name paths that do
    not exist: loading would say so too, but without saying which line of which file."""
    problems = [
        Diagnostic(f"no such file or directory: {path}", written.location, written.field)
        for path, written in zip(spec.manifests, spec.manifests_written)
        if names_no_input(path)
    ]
    if problems:
        raise InputError(problems)


def _resolve_path(item: Cursor, context: _Context) -> str:
    """A manifest path relative to the invariants file, or ``-`` (stdin), a git
    ``REV:path`` or a live ``cluster:CONTEXT`` as written."""
    text = item.string()
    if "\0" in text:
        item.fail("must not contain a NUL character")
    if text == "-":
        return text
    resolved = os.path.normpath(os.path.join(context.base_dir, text))
    if not os.path.exists(resolved) and (looks_like_revision(text) or is_cluster_spec(text)):
        return text
    return resolved


_UNIVERSE_FIELDS = ("namespaces", "pods", "podCIDRs", "hostNetwork", "nodeTraffic", "selfTraffic", "nodes")
_UNIVERSE_FLAGS = (("hostNetwork", "host_network"), ("nodeTraffic", "node_traffic"), ("selfTraffic", "self_traffic"))


def _parse_universe(cursor: Cursor, context: _Context) -> Universe:
    if cursor.value is None:
        return Universe()
    found = _mapping(cursor, _UNIVERSE_FIELDS)
    options: dict[str, Any] = {}
    if "namespaces" in found:
        options["namespaces"] = _choice(found["namespaces"], ("any", "declared"))
    if "pods" in found:
        options["pods"] = _choice(found["pods"], ("any", "workloads"))
    if "nodes" in found:
        options["nodes"] = _choice(found["nodes"], ("any", "declared"))
    if "podCIDRs" in found:
        options["pod_cidrs"] = tuple(
            fields.parse_cidr(item, context.warnings) for item in _list(found["podCIDRs"], "[10.244.0.0/16]")
        )
    for key, attribute in _UNIVERSE_FLAGS:
        if key in found:
            options[attribute] = found[key].boolean()
    return Universe(**options)


_SEMANTICS_FLAGS = (
    ("ipBlockMatchesPods", "ip_block_matches_pods"),
    ("selfTrafficAllowed", "self_traffic_allowed"),
    ("ownNodeTrafficAllowed", "own_node_traffic_allowed"),
)


#: ``samePriority``: how policies of one tier and priority that match one packet are ordered.
_SAME_PRIORITY_CHOICES = ("any", "name")


def _parse_semantics(cursor: Cursor) -> Semantics:
    if cursor.value is None:
        return Semantics()
    found = _mapping(cursor, tuple(key for key, _ in _SEMANTICS_FLAGS) + ("samePriority",))
    options: dict[str, Any] = {attribute: found[key].boolean() for key, attribute in _SEMANTICS_FLAGS if key in found}
    if "samePriority" in found:
        value = found["samePriority"].value
        if value not in _SAME_PRIORITY_CHOICES:
            found["samePriority"].fail(f"must be one of {', '.join(_SAME_PRIORITY_CHOICES)} (got {value!r})")
        options["same_priority"] = value
    return Semantics(**options)


# --- lint ------------------------------------------------------------------------------

_LINT_FIELDS = ("enable", "disable", "failOn", "rules")
#: The options each lint rule takes under ``lint.rules.RULE`` besides ``severity``.
_LINT_RULE_OPTIONS = {"dns-blocked": ("namespace", "labels"), "overly-broad": ("namespaceLabels",)}


def _lint_rule_id(cursor: Cursor, name: str | None = None) -> str:
    from npverify.lint.rules import unknown_rule_problem

    name = cursor.string() if name is None else name
    problem = unknown_rule_problem(name)
    if problem:
        cursor.fail(problem)
    return name


def _parse_lint(cursor: Cursor):
    """The ``lint`` section: which rules run (``enable``/``disable``), ``failOn`` and
    per-rule options (npverify.lint.LintConfig; docs/lint.md)."""
    from npverify.lint.rules import LintConfig
    from npverify.model import Labels, Severity

    if cursor.value is None:
        return LintConfig()
    found = _mapping(cursor, _LINT_FIELDS)
    chosen: dict[str, frozenset[str]] = {}
    for key in ("enable", "disable"):
        items = _list(found[key], "[dns-blocked, overly-broad]") if key in found else []
        chosen[key] = frozenset(_lint_rule_id(item) for item in items)
    both = chosen["enable"] & chosen["disable"]
    if both:
        found["disable"].fail(f"{', '.join(sorted(both))} both enabled and disabled")
    options: dict[str, Any] = {"enabled": chosen["enable"], "disabled": chosen["disable"]}
    if "failOn" in found:
        options["fail_on"] = Severity(_choice(found["failOn"], ("error", "warning")))
    severities = []
    if "rules" in found and found["rules"].value is not None:
        rules = _mapping(found["rules"], tuple(found["rules"].value) if isinstance(found["rules"].value, dict) else ())
        for name, body in rules.items():
            location = found["rules"].node.key_locations.get(name, body.location)
            from npverify.lint.rules import unknown_rule_problem

            problem = unknown_rule_problem(name)
            if problem:
                raise InputError(Diagnostic(problem, location, body.path))
            if body.value is None:
                continue
            fields_ = _mapping(body, ("severity", *_LINT_RULE_OPTIONS.get(name, ())))
            if "severity" in fields_:
                severities.append((name, Severity(_choice(fields_["severity"], ("error", "warning")))))
            if "namespace" in fields_:
                options["dns_namespace"] = fields_["namespace"].string()
                problem = fields.dns_label_problem(options["dns_namespace"])
                if problem:
                    fields_["namespace"].fail(problem)
            if "labels" in fields_:
                options["dns_labels"] = Labels.of(fields.parse_labels(fields_["labels"]))
            if "namespaceLabels" in fields_:
                options["production_labels"] = Labels.of(fields.parse_labels(fields_["namespaceLabels"]))
    options["severities"] = tuple(severities)
    return LintConfig(**options)


# --- invariants ------------------------------------------------------------------------

#: A body parser turns the value under an invariant's kind key into ``Invariant`` fields.
_BodyParser = Callable[[Cursor, _Context], dict[str, Any]]

_KIND_LIST = "isolated, allowed, reachable, only"

_INVARIANT_HINTS = MappingProxyType(
    {
        **{
            key: f"{key!r} belongs under the invariant's kind, e.g. isolated: {{from: ..., to: ..., ports: ...}}; check the indentation"
            for key in ("from", "to", "ports")
        },
        "kind": f"write the kind as the key, e.g. isolated: {{from: ..., to: ...}}; kinds: {_KIND_LIST}",
    }
)


def _parse_invariant_list(cursor: Cursor, context: _Context) -> tuple[Invariant, ...]:
    names: dict[str, Cursor] = {}
    invariants = []
    for item in _list(cursor, "[{name: ..., isolated: {from: ..., to: ...}}]"):
        invariants.append(_parse_invariant(item, context, names))
    return tuple(invariants)


def _parse_invariant(cursor: Cursor, context: _Context, names: dict[str, Cursor]) -> Invariant:
    found = _mapping(cursor, _INVARIANT_FIELDS, _INVARIANT_HINTS, what=f" with a 'name' and one of {_KIND_LIST}")
    if "name" not in found:
        cursor.fail("missing required field 'name'")
    name = _parse_name(found["name"])
    if name in names:
        first = names[name]
        found["name"].fail(f"duplicate invariant name {name!r}; first used by {first.path.rpartition('.')[0]} at {first.location}")
    names[name] = found["name"]
    kinds = [key for key in found if key in _KINDS]
    if not kinds:
        cursor.fail(f"missing the invariant's kind: one of {_KIND_LIST}")
    if len(kinds) > 1:
        _fail_key(cursor, kinds[1], f"an invariant has exactly one kind, but this one has both {kinds[0]!r} and {kinds[1]!r}")
    kind, parse_body = _KINDS[kinds[0]]
    return Invariant(name=name, kind=kind, location=cursor.location, **parse_body(found[kinds[0]], context))


def _parse_name(cursor: Cursor) -> str:
    name = cursor.string()
    if not name.strip():
        cursor.fail("must not be blank")
    if "\n" in name or "\r" in name:
        cursor.fail("must be a single line")
    return name


_FLOW_FIELDS = ("from", "to", "ports")
_FLOW_HINTS = MappingProxyType(
    {
        "src": "did you mean 'from'?",
        "source": "did you mean 'from'?",
        "dst": "did you mean 'to'?",
        "destination": "did you mean 'to'?",
    }
)


def _parse_only(cursor: Cursor, context: _Context) -> dict[str, Any]:
    """The body of ``only``: as the other flows, but never "no packet matches", since it
    ranges over sources outside ``from``: ``from`` and ``to`` need not meet."""
    return _parse_flow(cursor, context, scopes_must_meet=False)


def _parse_flow(cursor: Cursor, context: _Context, scopes_must_meet: bool = True) -> dict[str, Any]:
    """The body of isolated / allowed / reachable / only: ``from``, ``to`` and ``ports``."""
    found = {} if cursor.value is None else _mapping(cursor, _FLOW_FIELDS, _FLOW_HINTS)
    src = _parse_scope(found["from"], context) if "from" in found else Scope(location=cursor.location)
    dst = _parse_scope(found["to"], context) if "to" in found else Scope(location=cursor.location)
    ports = _parse_ports(found["ports"], dst) if "ports" in found else ()
    if scopes_must_meet and src.kind is EndpointKind.EXTERNAL and dst.kind is EndpointKind.EXTERNAL:
        found["to"].mapping()["kind"].fail(
            "no packet matches: 'from' and 'to' are both external hosts, but every packet has a pod at one end"
        )
    if scopes_must_meet and src.ip_block and dst.ip_block and src.ip_block.cidr.version != dst.ip_block.cidr.version:
        found["to"].mapping()["ipBlock"].mapping()["cidr"].fail(
            f"no packet matches: to.ipBlock is IPv{dst.ip_block.cidr.version} "
            f"but from.ipBlock is IPv{src.ip_block.cidr.version}"
        )
    return {"src": src, "dst": dst, "ports": ports}


_EQUIVALENT_FIELDS = ("to",)


def _parse_equivalent(cursor: Cursor, context: _Context) -> dict[str, Any]:
    """``equivalent: {to: PATH or [PATHS]}``: the policies to compare the manifests' with."""
    found = _mapping(cursor, _EQUIVALENT_FIELDS)
    if "to" not in found:
        cursor.fail("missing required field 'to' (the manifests to compare with, e.g. to: ../k8s-old)")
    target = found["to"]
    items = [target] if isinstance(target.value, str) else _list(target, "[../k8s-old]")
    if not items:
        target.fail("must name at least one file, folder or REV:path")
    return {"compare_to": tuple(_resolve_path(item, context) for item in items)}


def _policy_name(cursor: Cursor) -> str:
    text = cursor.string()
    namespace, slash, name = text.partition("/")
    if not slash or fields.dns_label_problem(namespace) or fields.dns_subdomain_problem(name):
        cursor.fail(f"must name a NetworkPolicy as namespace/name, got {text!r}")
    return text


_REDUNDANT_FIELDS = ("policy", "under")


def _parse_redundant(cursor: Cursor, context: _Context) -> dict[str, Any]:
    """``redundant: {policy: ns/name, under: [ns/other, ...]}``."""
    found = _mapping(cursor, _REDUNDANT_FIELDS)
    if "policy" not in found:
        cursor.fail("missing required field 'policy' (namespace/name)")
    under = tuple(_policy_name(item) for item in _list(found["under"], "[payments/allow-a]")) if "under" in found else None
    return {"policy": _policy_name(found["policy"]), "under": under}


_NON_REDUNDANT_FIELDS = ("policies",)


def _parse_non_redundant(cursor: Cursor, context: _Context) -> dict[str, Any]:
    """``nonRedundant: {}`` or ``nonRedundant: {policies: [ns/name, ...]}``."""
    found = {} if cursor.value is None else _mapping(cursor, _NON_REDUNDANT_FIELDS)
    policies = tuple(_policy_name(item) for item in _list(found["policies"], "[shop/api]")) if "policies" in found else None
    return {"policies": policies}


#: The table of kinds: key in the file -> (kind, parser of the value under that key).
_KINDS: Mapping[str, tuple[InvariantKind, _BodyParser]] = MappingProxyType(
    {
        "isolated": (InvariantKind.ISOLATED, _parse_flow),
        "allowed": (InvariantKind.ALLOWED, _parse_flow),
        "reachable": (InvariantKind.REACHABLE, _parse_flow),
        "only": (InvariantKind.ONLY, _parse_only),
        "equivalent": (InvariantKind.EQUIVALENT, _parse_equivalent),
        "redundant": (InvariantKind.REDUNDANT, _parse_redundant),
        "nonRedundant": (InvariantKind.NON_REDUNDANT, _parse_non_redundant),
    }
)
_INVARIANT_FIELDS = ("name", *_KINDS)


def _parse_ports(cursor: Cursor, dst: Scope) -> tuple[PolicyPort, ...]:
    ports = []
    for item in _list(cursor, "[{protocol: TCP, port: 8080}]"):
        if isinstance(item.value, (int, str)) and not isinstance(item.value, bool):
            item.fail(f"must be a mapping such as {{protocol: TCP, port: {item.value}}}, got {_got(item.value)}")
        port = fields.parse_policy_port(item)
        if isinstance(port.port, str) and dst.kind is EndpointKind.EXTERNAL:
            item.mapping()["port"].fail(f"the named port {port.port!r} matches no packet: 'to' is external hosts and only pods have named ports")
        ports.append(port)
    return tuple(ports)


# --- scopes ----------------------------------------------------------------------------

_SCOPE_FIELDS = ("namespace", "pod", "workload", "service", "ipBlock", "kind")
_SCOPE_HINTS = MappingProxyType(
    {
        "podSelector": "did you mean 'pod'?",
        "namespaceSelector": "did you mean 'namespace'?",
        "cidr": "did you mean ipBlock: {cidr: ...}?",
        "matchLabels": "did you mean pod: {matchLabels: ...}?",
        "matchExpressions": "did you mean pod: {matchExpressions: ...}?",
    }
)
_POD_IMPLYING = ("namespace", "pod", "workload", "service")


def _parse_scope(cursor: Cursor, context: _Context) -> Scope:
    """A ``from`` or ``to`` scope; null or {} is any endpoint."""
    if cursor.value is None:
        return Scope(location=cursor.location)
    found = _mapping(cursor, _SCOPE_FIELDS, _SCOPE_HINTS)
    namespace = _parse_namespace(found["namespace"]) if "namespace" in found else None
    pod = _parse_selector(found["pod"]) if "pod" in found else None
    workload = _parse_workload(found["workload"]) if "workload" in found else None
    ip_block = _parse_ip_block(found["ipBlock"], context) if "ipBlock" in found else None
    kind = EndpointKind(_choice(found["kind"], tuple(k.value for k in EndpointKind))) if "kind" in found else None
    service = _parse_service(found["service"]) if "service" in found else None
    if service is not None:
        for key in ("namespace", "workload"):
            if key in found:
                found[key].fail(f"{key!r} does not go with 'service': the Service {service} names its namespace and selects its pods")
    if kind is EndpointKind.EXTERNAL:
        for key in _POD_IMPLYING:
            if key in found:
                found["kind"].fail(
                    f"'external' contradicts {key!r}: namespace, pod, workload and service match only pods; "
                    "drop one, or use ipBlock alone to match pods and external hosts"
                )
    scope = Scope(namespace, pod, workload, ip_block, kind, cursor.location, service)
    if ip_block is not None:
        problem = _pod_cidr_problem(scope, ip_block.cidr, context.universe)
        if problem:
            context.warnings.append(found["ipBlock"].warning(problem))
    return scope


def _pod_cidr_problem(scope: Scope, cidr: IPNetwork, universe: Universe) -> str | None:
    """Why no endpoint of ``scope`` can have an IP in ``cidr`` given the podCIDRs, or None."""
    if not universe.pod_cidrs:
        return None
    same_family = [c for c in universe.pod_cidrs if c.version == cidr.version]
    if scope.kind is EndpointKind.EXTERNAL and any(cidr.subnet_of(c) for c in same_family):
        return f"no endpoint matches: {cidr} lies inside universe.podCIDRs, so no external host has an IP in it"
    if scope.pods_only and not universe.host_network and not any(cidr.overlaps(c) for c in same_family):
        return f"no endpoint matches: {cidr} lies outside universe.podCIDRs, so no pod has an IP in it"
    return None


def _parse_selector(cursor: Cursor) -> LabelSelector:
    if cursor.value is not None and not isinstance(cursor.value, dict):
        cursor.fail(f"must be a label selector such as {{matchLabels: {{app: api}}}}, got {_got(cursor.value)}")
    return fields.parse_label_selector(cursor)


def _parse_ip_block(cursor: Cursor, context: _Context) -> IPBlock:
    if not isinstance(cursor.value, dict):
        cursor.fail(f"must be a mapping such as {{cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}, got {_got(cursor.value)}")
    return fields.parse_ip_block(cursor, context.warnings)


def _parse_namespace(cursor: Cursor) -> str | LabelSelector:
    """A namespace name, or a selector over namespace labels."""
    value = cursor.value
    if isinstance(value, str):
        problem = fields.dns_label_problem(value)
        if problem:
            cursor.fail(problem)
        return value
    if value is None or isinstance(value, dict):
        return fields.parse_label_selector(cursor)
    cursor.fail(
        f"must be a namespace name or a label selector such as {{matchLabels: {{env: prod}}}}, got {_got(value)}"
        + ("; quote a name that YAML reads as another type" if isinstance(value, (bool, int, float)) else "")
    )


_WORKLOAD_KIND = re.compile(r"[A-Z][A-Za-z0-9]*")
#: Spellings of workload kinds users may type, for did-you-mean (any capitalised kind is accepted).
_KIND_SPELLINGS = MappingProxyType(
    {
        **{kind.lower(): kind for kind in ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob")},
        **{"po": "Pod", "deploy": "Deployment", "sts": "StatefulSet", "ds": "DaemonSet", "rs": "ReplicaSet", "rc": "ReplicationController", "cj": "CronJob"},
    }
)


def _parse_service(cursor: Cursor) -> str:
    """A Service reference: ``namespace/name``."""
    text = cursor.string()
    namespace, slash, name = text.partition("/")
    if not slash or fields.dns_label_problem(namespace) or fields.dns_label_problem(name):
        cursor.fail(f"invalid service {text!r}: expected namespace/name, e.g. shop/api")
    return text


def _parse_workload(cursor: Cursor) -> str:
    """A workload reference: ``name`` or ``Kind/name``."""
    text = cursor.string()
    kind, slash, name = text.rpartition("/")
    if slash and not _WORKLOAD_KIND.fullmatch(kind):
        proper = _KIND_SPELLINGS.get(kind.lower())
        hint = f"; did you mean {proper + '/' + name!r}?" if proper else ""
        cursor.fail(f"invalid workload {text!r}: expected name or Kind/name, e.g. frontend or Deployment/frontend{hint}")
    problem = fields.dns_subdomain_problem(name)
    if problem:
        cursor.fail(f"invalid workload {text!r}: {problem.removeprefix('invalid name ' + repr(name) + ': ')}")
    return text
