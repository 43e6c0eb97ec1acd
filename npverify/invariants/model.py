"""Invariants: what the user asks to be proved about the traffic a cluster allows."""

from __future__ import annotations

import enum

import attrs

from npverify.model import Diagnostic, IPBlock, LabelSelector, PolicyPort, Semantics, SourceLocation, Universe


class InvariantKind(enum.Enum):
    """What an invariant claims about the packets from ``src`` to ``dst`` on ``ports``."""

    #: No such packet is allowed.
    ISOLATED = "isolated"
    #: Every such packet is allowed.
    ALLOWED = "allowed"
    #: At least one such packet is allowed (proved with a witness).
    REACHABLE = "reachable"
    #: Every allowed packet into ``dst`` on ``ports`` comes from ``src``.
    ONLY = "only"
    #: The manifests' policies allow exactly what the policies at ``compare_to`` allow.
    EQUIVALENT = "equivalent"
    #: Policy ``policy`` adds nothing to the policies ``under`` (default: all others).
    REDUNDANT = "redundant"
    #: No policy, rule, peer or port entry (of ``policies``, default all) is redundant or vacuous.
    NON_REDUNDANT = "nonRedundant"

    def __str__(self) -> str:
        return self.value


class EndpointKind(enum.Enum):
    """Restricts a scope to pods or to hosts outside the pod network."""

    POD = "pod"
    EXTERNAL = "external"


@attrs.frozen
class Scope:
    """A set of endpoints; every absent field means "any". Fields are ANDed.

    ``namespace`` is a namespace name (str) or a selector over namespace labels.
    ``workload`` names a loaded workload (``name`` or ``Kind/name``); its pods carry the
    workload's labels and container ports. ``service`` (``namespace/name``) names a loaded
    Service: the pods it selects (the engine lowers it to a namespace and a pod selector, and
    a destination's ports, given as Service ports, to target ports). Any of namespace / pod /
    workload / service implies a pod.
    """

    namespace: str | LabelSelector | None = None
    pod: LabelSelector | None = None
    workload: str | None = None
    ip_block: IPBlock | None = None
    kind: EndpointKind | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)
    service: str | None = None

    @property
    def pods_only(self) -> bool:
        return (
            self.kind is EndpointKind.POD
            or self.namespace is not None
            or self.pod is not None
            or self.workload is not None
            or self.service is not None
        )


def describe_selector(selector: LabelSelector) -> str:
    """``{app=api, tier In (a, b)}``."""
    parts = [f"{k}={v}" for k, v in selector.match_labels.items()]
    parts += [f"{r.key} {r.operator}" + (f" ({', '.join(r.values)})" if r.values else "") for r in selector.match_expressions]
    return "{" + ", ".join(parts) + "}"


def describe_scope(scope: Scope) -> str:
    """A scope in words: "namespace payments, workload api", or "anywhere"."""
    parts = []
    if scope.kind is not None:
        parts.append(f"{scope.kind} endpoints")
    if isinstance(scope.namespace, str):
        parts.append(f"namespace {scope.namespace}")
    elif scope.namespace is not None:
        parts.append(f"namespaces {describe_selector(scope.namespace)}")
    if scope.service:
        parts.append(f"Service {scope.service}")
    if scope.workload:
        parts.append(f"workload {scope.workload}")
    if scope.pod is not None:
        parts.append(f"pods {describe_selector(scope.pod)}")
    if scope.ip_block is not None:
        block = scope.ip_block
        parts.append(f"ipBlock {block.cidr}" + (f" except {', '.join(str(e) for e in block.except_)}" if block.except_ else ""))
    return ", ".join(parts) if parts else "anywhere"


@attrs.frozen
class Invariant:
    """One named claim of the invariants file."""

    name: str
    kind: InvariantKind
    src: Scope = Scope()
    dst: Scope = Scope()
    #: NetworkPolicyPort entries; empty means every protocol and port.
    ports: tuple[PolicyPort, ...] = attrs.field(default=(), converter=tuple)
    #: ``equivalent``: manifests (paths or REV:path) holding the policies to compare with.
    compare_to: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: ``redundant``: the policy (namespace/name) and the policies it is redundant under
    #: (None: every other policy).
    policy: str | None = None
    under: tuple[str, ...] | None = None
    #: ``nonRedundant``: the policies to check (None: all).
    policies: tuple[str, ...] | None = None
    location: SourceLocation | None = attrs.field(default=None, eq=False)

    @property
    def is_flow(self) -> bool:
        """An invariant about packets between scopes (isolated, allowed, reachable, only)."""
        return self.kind in (InvariantKind.ISOLATED, InvariantKind.ALLOWED, InvariantKind.REACHABLE, InvariantKind.ONLY)


@attrs.frozen
class Written:
    """Where a value was written: file position and field path (``manifests[1]``), so a
    problem found later (a path that does not exist) is reported where it was written."""

    location: SourceLocation | None
    field: str


@attrs.frozen
class InvariantsFile:
    """A parsed invariants file. ``manifests`` are resolved against the file's folder."""

    path: str
    manifests: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Where each ``manifests`` entry was written, in the same order (empty when the file
    #: was built in code rather than parsed).
    manifests_written: tuple[Written, ...] = attrs.field(default=(), converter=tuple, eq=False)
    universe: Universe = Universe()
    semantics: Semantics = Semantics()
    invariants: tuple[Invariant, ...] = attrs.field(default=(), converter=tuple)
    #: Problems that do not stop the check: CIDRs with host bits set, scopes no packet can match.
    warnings: tuple[Diagnostic, ...] = attrs.field(default=(), converter=tuple, eq=False)
    #: Unmodelled policy kinds (``Kind`` or ``Kind.group``) to answer without (``ignoreKinds``).
    ignore_kinds: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    #: Where manifests without metadata.namespace go (``defaultNamespace``); None: ``default``.
    default_namespace: str | None = None
    #: The ``lint`` section (an npverify.lint.LintConfig), None when the file has none.
    lint: object = None
