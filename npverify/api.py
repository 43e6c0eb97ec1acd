"""The library's front door: load manifests, prove invariants files, check one invariant."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence

from npverify.coverage import check_ignore_kinds
from npverify.engine import Verifier
from npverify.invariants import load_invariants
from npverify.invariants.model import Invariant, InvariantsFile
from npverify.invariants.parser import check_manifests_exist
from npverify.load import load_manifests
from npverify.load.limits import InputLimits
from npverify.model import Cluster, Semantics, Universe
from npverify.words import counted
from npverify.results import InvariantResult, ProofReport
from npverify.semantics import node_warnings, pod_ip_warnings
from npverify.smt import Limits


def summarize(cluster: Cluster) -> str:
    """"3 NetworkPolicies, 1 Namespace, 4 workloads (1 Deployment, 3 Pods), 1 Service", with
    the cluster-scoped policies (AdminNetworkPolicy, ...) after the NetworkPolicies when any."""
    kinds = Counter(w.kind for w in cluster.workloads)
    detail = ", ".join(counted(n, k) for k, n in sorted(kinds.items()))
    tiered = Counter(p.kind for p in cluster.cluster_policies)
    cluster_wide = ", ".join(counted(n, k, k[:-1] + "ies") for k, n in sorted(tiered.items()))
    return (
        f"{counted(len(cluster.policies), 'NetworkPolicy', 'NetworkPolicies')}, "
        + (f"{cluster_wide}, " if cluster_wide else "")
        + f"{counted(len(cluster.namespaces), 'Namespace')}, "
        f"{counted(len(cluster.workloads), 'workload')}" + (f" ({detail})" if detail else "")
        + (f", {counted(len(cluster.services), 'Service')}" if cluster.services else "")
        + (f", {counted(len(cluster.nodes), 'Node')}" if cluster.nodes else "")
    )


def check(
    cluster: Cluster,
    invariant: Invariant,
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    timeout: float | None = None,
) -> InvariantResult:
    """Prove or refute one invariant about a loaded cluster."""
    limits = Limits(timeout_ms=None if timeout is None else int(timeout * 1000))
    return Verifier(cluster, universe, semantics, (invariant,), limits).check(invariant)


def prove(
    invariants: str | os.PathLike | InvariantsFile,
    *,
    manifests: Sequence[str | os.PathLike] | None = None,
    cluster: Cluster | None = None,
    universe: Universe | None = None,
    semantics: Semantics | None = None,
    timeout: float | None = None,
    rlimit: int | None = None,
    limits: Limits | None = None,
    check_samples: int = 0,
    input_limits: InputLimits = InputLimits(),
    progress: Callable[[int, int, str], None] | None = None,
    ignore_kinds: Sequence[str] = (),
    default_namespace: str | None = None,
    cache: bool = False,
) -> ProofReport:
    """Prove every invariant of an invariants file.

    ``manifests`` replaces the file's ``manifests``; ``cluster`` skips loading altogether.
    ``universe``/``semantics`` replace the file's. ``timeout`` is seconds per invariant;
    ``rlimit`` is z3's deterministic resource limit per invariant; ``limits`` gives both.
    ``check_samples`` > 0 re-checks every proved isolated/allowed/only invariant on that
    many packets sampled from its scope with the reference evaluator (check mode); a
    disagreement raises InternalError. ``input_limits`` bounds what reading files may cost.
    ``progress(number, total, name)`` is called as each invariant starts (number from 1).
    ``ignore_kinds`` adds to the file's ``ignoreKinds``: unmodelled policy kinds to answer
    without (npverify.coverage); ``default_namespace`` replaces its ``defaultNamespace``.
    ``cache`` reads unchanged files from the load cache (docs/cache.md).
    """
    started = time.perf_counter()
    spec = invariants if isinstance(invariants, InvariantsFile) else load_invariants(invariants, limits=input_limits)
    ignore_kinds = tuple(dict.fromkeys(spec.ignore_kinds + tuple(check_ignore_kinds(ignore_kinds))))
    if cluster is None:
        if manifests is None:
            check_manifests_exist(spec)
        paths = list(manifests) if manifests is not None else list(spec.manifests)
        cluster = load_manifests(
            paths,
            limits=input_limits,
            ignore_kinds=ignore_kinds,
            default_namespace=default_namespace or spec.default_namespace,
            cache=cache,
        )
    else:
        cluster = cluster.ignoring(ignore_kinds)
    if limits is None:
        limits = Limits(timeout_ms=None if timeout is None else max(1, int(timeout * 1000)), rlimit=rlimit)
    universe = universe or spec.universe
    verifier = Verifier(
        cluster, universe, semantics or spec.semantics, spec.invariants, limits,
        check_samples=check_samples, input_limits=input_limits, ignore_kinds=ignore_kinds,
    )
    results = verifier.check_all(spec.invariants, progress)
    skipped = tuple(str(s) for s in cluster.skipped)
    warnings = tuple(str(w) for w in cluster.warnings) + tuple(str(w) for w in getattr(spec, "warnings", ()))
    warnings += tuple(str(w) for w in verifier.scope_warnings(spec.invariants))
    warnings += tuple(str(w) for w in verifier.tier_warnings())
    warnings += tuple(str(w) for w in pod_ip_warnings(cluster, universe))
    warnings += tuple(str(w) for w in node_warnings(cluster, universe))
    return ProofReport(
        results,
        source=spec.path,
        cluster_summary=summarize(cluster),
        skipped=skipped,
        warnings=warnings,
        seconds=time.perf_counter() - started,
        coverage=verifier.coverage,
    )


__all__ = ["check", "prove", "summarize"]
