"""Assertions for teams that test their NetworkPolicies in their own pytest suites.

    from npverify.testing import assert_isolated

    def test_dev_cannot_reach_prod():
        assert_isolated("k8s/", {"namespace": "dev"}, {"namespace": {"matchLabels": {"env": "prod"}}})

Each helper proves one claim for every packet of the universe. When the claim fails it
raises ``AssertionError`` whose message holds the counterexample packet and the policy
rules (file:line) that decided it, as ``npverify prove`` prints them; an undecided claim
(timeout, solver limit) fails too, saying why: unknown is never a pass. The helpers set
``__tracebackhide__`` so that pytest shows the test's own line, not npverify's frames.

Scopes (``src``, ``dst``) take the shapes of the invariants file's ``from``/``to``
(``{"namespace": "shop", "pod": {"matchLabels": {"app": "api"}}}``, see
docs/invariants.md) or ``Scope`` objects; ``ports`` the shape of its ``ports`` list
(``[{"protocol": "TCP", "port": 8080}]``) or ``PolicyPort`` objects; ``universe`` and
``semantics`` the shapes of its sections or the model's objects. Mappings are checked by
the invariants parser, so a typo is an ``InputError`` naming the field, not a silent pass.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Union

import attrs

from npverify.compare import DEFAULT_MAX_DIFFS, Comparison, equivalence
from npverify.engine import Verifier
from npverify.errors import InputError
from npverify.invariants.model import Invariant, InvariantKind, Scope
from npverify.invariants.model import describe_scope as _describe_scope
from npverify.invariants.parser import parse_invariants
from npverify.load import load_manifests
from npverify.model import Cluster, Diagnostic, PolicyPort, Semantics, Universe
from npverify.report.text import render_comparison, render_result
from npverify.results import InvariantResult, Verdict
from npverify.smt import Limits

#: Manifests: one path (file, folder or git ``REV:path``), several, or a loaded Cluster.
Manifests = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], Cluster]
ScopeLike = Union[Scope, Mapping[str, Any], None]
PortsLike = Union[Sequence[Union[PolicyPort, Mapping[str, Any]]], None]

__all__ = ["assert_allowed", "assert_equivalent", "assert_isolated", "assert_reachable"]


def assert_isolated(
    manifests: Manifests,
    src: ScopeLike,
    dst: ScopeLike,
    ports: PortsLike = None,
    *,
    name: str | None = None,
    universe: Universe | Mapping[str, Any] | None = None,
    semantics: Semantics | Mapping[str, Any] | None = None,
    timeout: float | None = None,
    rlimit: int | None = None,
) -> InvariantResult:
    """Assert that no packet from ``src`` to ``dst`` (on ``ports``) is allowed."""
    __tracebackhide__ = True
    return _assert_flow(InvariantKind.ISOLATED, manifests, src, dst, ports, name, universe, semantics, timeout, rlimit)


def assert_reachable(
    manifests: Manifests,
    src: ScopeLike,
    dst: ScopeLike,
    ports: PortsLike = None,
    *,
    name: str | None = None,
    universe: Universe | Mapping[str, Any] | None = None,
    semantics: Semantics | Mapping[str, Any] | None = None,
    timeout: float | None = None,
    rlimit: int | None = None,
) -> InvariantResult:
    """Assert that some packet from ``src`` to ``dst`` (on ``ports``) is allowed.

    The returned result's ``witness`` is such a packet.
    """
    __tracebackhide__ = True
    return _assert_flow(InvariantKind.REACHABLE, manifests, src, dst, ports, name, universe, semantics, timeout, rlimit)


def assert_allowed(
    manifests: Manifests,
    src: ScopeLike,
    dst: ScopeLike,
    ports: PortsLike = None,
    *,
    name: str | None = None,
    universe: Universe | Mapping[str, Any] | None = None,
    semantics: Semantics | Mapping[str, Any] | None = None,
    timeout: float | None = None,
    rlimit: int | None = None,
) -> InvariantResult:
    """Assert that every packet from ``src`` to ``dst`` (on ``ports``) is allowed."""
    __tracebackhide__ = True
    return _assert_flow(InvariantKind.ALLOWED, manifests, src, dst, ports, name, universe, semantics, timeout, rlimit)


def assert_equivalent(
    left: Manifests,
    right: Manifests,
    context: Manifests | None = None,
    *,
    universe: Universe | Mapping[str, Any] | None = None,
    semantics: Semantics | Mapping[str, Any] | None = None,
    timeout: float | None = None,
    rlimit: int | None = None,
    max_diffs: int = DEFAULT_MAX_DIFFS,
) -> Comparison:
    """Assert that the policies of ``left`` and ``right`` allow exactly the same packets.

    ``context`` adds namespaces and workloads shared by both sides (as ``npverify equiv
    --manifests``). On failure the message lists up to ``max_diffs`` regions per
    direction, each with a packet and the rules of both sides that decide it.
    """
    __tracebackhide__ = True
    left_cluster, right_cluster = _cluster(left), _cluster(right)
    shared = Cluster() if context is None else _cluster(context)
    settings = _settings(universe, semantics, stacklevel=3)
    comparison = equivalence(
        left_cluster,
        right_cluster,
        shared,
        universe=settings.universe,
        semantics=settings.semantics,
        max_diffs=max_diffs,
        limits=_limits(timeout, rlimit),
        names=(_name(left, "left"), _name(right, "right")),
    )
    if comparison.same is False:
        raise AssertionError("the policies are not equivalent\n" + render_comparison(comparison))
    if comparison.same is None:
        raise AssertionError(
            "equivalence undecided (unknown is not a pass): "
            + (comparison.reason or "the solver gave up")
            + "\n"
            + render_comparison(comparison)
        )
    return comparison


# --- internals (each hides its frame too: they are on the path of every failure) ----------


def _assert_flow(
    kind: InvariantKind,
    manifests: Manifests,
    src: ScopeLike,
    dst: ScopeLike,
    ports: PortsLike,
    name: str | None,
    universe: Universe | Mapping[str, Any] | None,
    semantics: Semantics | Mapping[str, Any] | None,
    timeout: float | None,
    rlimit: int | None,
) -> InvariantResult:
    __tracebackhide__ = True
    cluster = _cluster(manifests)
    settings = _settings(universe, semantics, kind, src, dst, ports)
    invariant = Invariant(
        name=name or f"from {_describe_scope(settings.src)} to {_describe_scope(settings.dst)}"
        + (f" on {_describe_ports(settings.ports)}" if settings.ports else ""),
        kind=kind,
        src=settings.src,
        dst=settings.dst,
        ports=settings.ports,
    )
    verifier = Verifier(cluster, settings.universe, settings.semantics, (invariant,), _limits(timeout, rlimit))
    try:
        result = verifier.check(invariant)
    except InputError as exc:  # e.g. a workload that was not loaded
        raise InputError([_argument_diagnostic(d, kind) for d in exc.diagnostics]) from None
    _raise_unless_proved(result)
    return result


def _raise_unless_proved(result: InvariantResult) -> None:
    __tracebackhide__ = True
    if result.verdict is Verdict.PROVED:
        return
    message = render_result(result)
    if result.verdict is Verdict.UNKNOWN:
        message += "\nundecided within the solver's limits, and unknown is never a pass; raise timeout or rlimit"
    raise AssertionError(message)


@attrs.frozen
class _Settings:
    """What the helpers' mapping arguments parse to."""

    universe: Universe
    semantics: Semantics
    src: Scope = Scope()
    dst: Scope = Scope()
    ports: tuple[PolicyPort, ...] = ()


#: Field paths of the synthetic invariants document, and the argument each one was.
_ARGUMENT_PATHS = (
    ("invariants[0].{kind}.from", "src"),
    ("invariants[0].{kind}.to", "dst"),
    ("invariants[0].{kind}.ports", "ports"),
    ("{kind}.from", "src"),
    ("{kind}.to", "dst"),
    ("universe", "universe"),
    ("semantics", "semantics"),
)


def _settings(
    universe: Universe | Mapping[str, Any] | None,
    semantics: Semantics | Mapping[str, Any] | None,
    kind: InvariantKind = InvariantKind.ISOLATED,
    src: ScopeLike = None,
    dst: ScopeLike = None,
    ports: PortsLike = None,
    stacklevel: int = 4,
) -> _Settings:
    """Parse the mapping arguments with the invariants parser, so they mean exactly what
    they mean in an invariants file; objects pass through unchanged."""
    __tracebackhide__ = True
    _check_type("src", src, (Scope, Mapping))
    _check_type("dst", dst, (Scope, Mapping))
    _check_type("universe", universe, (Universe, Mapping))
    _check_type("semantics", semantics, (Semantics, Mapping))
    if ports is not None and (isinstance(ports, (str, bytes, Mapping)) or not isinstance(ports, Sequence)):
        raise InputError(Diagnostic(f"must be a list of ports such as [{{'protocol': 'TCP', 'port': 8080}}], got {ports!r}", path="ports"))
    body: dict[str, Any] = {}
    if isinstance(src, Mapping):
        body["from"] = dict(src)
    if isinstance(dst, Mapping):
        body["to"] = dict(dst)
    port_mappings = [p for p in ports or () if not isinstance(p, PolicyPort)]
    if port_mappings:
        body["ports"] = port_mappings
    document: dict[str, Any] = {"invariants": [{"name": "assertion", str(kind): body or None}]}
    if isinstance(universe, Mapping):
        document["universe"] = dict(universe)
    if isinstance(semantics, Mapping):
        document["semantics"] = dict(semantics)
    try:
        # JSON is YAML: the parser reads it with its usual checks and messages.
        text = json.dumps(document, default=_unserializable)
        parsed = parse_invariants(text, "<arguments>")
    except InputError as exc:
        raise InputError([_argument_diagnostic(d, kind) for d in exc.diagnostics]) from None
    for warning in parsed.warnings:
        # Such as a scope no endpoint can match, which would make isolation hold vacuously.
        warnings.warn(str(_argument_diagnostic(warning, kind)), UserWarning, stacklevel=stacklevel)
    (invariant,) = parsed.invariants
    parsed_ports = iter(invariant.ports)
    return _Settings(
        universe=universe if isinstance(universe, Universe) else parsed.universe,
        semantics=semantics if isinstance(semantics, Semantics) else parsed.semantics,
        src=src if isinstance(src, Scope) else attrs.evolve(invariant.src, location=None) if src is not None else Scope(),
        dst=dst if isinstance(dst, Scope) else attrs.evolve(invariant.dst, location=None) if dst is not None else Scope(),
        ports=tuple(p if isinstance(p, PolicyPort) else attrs.evolve(next(parsed_ports), location=None) for p in ports or ()),
    )


def _check_type(argument: str, value: Any, types: tuple[type, ...]) -> None:
    __tracebackhide__ = True
    if value is not None and not isinstance(value, types):
        expected = " or ".join(t.__name__ for t in types)
        raise InputError(Diagnostic(f"must be a {expected} (or None), got {type(value).__name__} {value!r}", path=argument))


def _unserializable(value: Any) -> Any:
    __tracebackhide__ = True
    raise InputError(Diagnostic(f"cannot read {type(value).__name__} {value!r}: use strings, numbers, lists and mappings"))


def _argument_diagnostic(diagnostic: Diagnostic, kind: InvariantKind) -> Diagnostic:
    """A parser diagnostic about the synthetic document, restated in terms of the arguments."""
    path = diagnostic.path
    for prefix, argument in _ARGUMENT_PATHS:
        prefix = prefix.format(kind=kind)
        if path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "["):
            path = argument + path[len(prefix) :]
            break
    # The synthetic document's lines mean nothing to the caller: drop the location.
    return attrs.evolve(diagnostic, location=None, path=path)


def _cluster(manifests: Manifests) -> Cluster:
    __tracebackhide__ = True
    if isinstance(manifests, Cluster):
        return manifests
    if isinstance(manifests, (str, os.PathLike)):
        return load_manifests([manifests])
    if isinstance(manifests, Sequence) and all(isinstance(m, (str, os.PathLike)) for m in manifests):
        return load_manifests(list(manifests))
    raise InputError(
        Diagnostic(f"manifests must be a path, a list of paths or a Cluster, got {type(manifests).__name__} {manifests!r}")
    )


def _name(manifests: Manifests, default: str) -> str:
    """What a side is called in messages: its path(s), or ``default`` for a Cluster."""
    if isinstance(manifests, (str, os.PathLike)):
        return os.fsdecode(manifests)
    if isinstance(manifests, Sequence):
        return ", ".join(os.fsdecode(m) for m in manifests)
    return default


def _limits(timeout: float | None, rlimit: int | None) -> Limits:
    return Limits(timeout_ms=None if timeout is None else max(1, int(timeout * 1000)), rlimit=rlimit)


def _describe_ports(ports: tuple[PolicyPort, ...]) -> str:
    shown = []
    for port in ports:
        number = "any port" if port.port is None else str(port.port) + (f"-{port.end_port}" if port.end_port else "")
        shown.append(f"{number}/{port.protocol}")
    return ", ".join(shown)
