"""The entry point: ``connectivity_matrix`` computes a matrix, then proves it.

It checks the arguments, runs the set algebra (npverify/matrix/algebra.py) through the
workload or namespace builder, and, with the proof on, confirms the may-only ports with
witness packets and hands the cells to the solver (npverify/smt/matrix.py); the result is
a ``ConnectivityMatrix``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Optional

from npverify.coverage import Coverage, unknown_reason
from npverify.errors import InputError, UnsupportedError, InternalError
from npverify.matrix.algebra import _Algebra
from npverify.matrix.builders import _Builder, _NamespaceMatrix, _WorkloadMatrix
from npverify.matrix.cells import Cell
from npverify.matrix.proof import _claim, _disagreement
from npverify.matrix.reasons import _Reasons
from npverify.matrix.result import ConnectivityMatrix
from npverify.model import Cluster, Diagnostic, Semantics, Universe
from npverify.results import Verdict
from npverify.smt import Limits


#: Workloads per worker process below which more workers for the proof cost more than
#: they save (the CLI's --jobs 0).
WORKLOADS_PER_WORKER = 200


def _no_rows_note(cluster: Cluster, chosen: Optional[frozenset[str]]) -> str:
    """Why a matrix has no rows (the algebra kept no workload), in words for the reader."""
    if not cluster.workloads:
        found = [
            f"{count} {noun if count == 1 else plural}"
            for count, noun, plural in (
                (len(cluster.policies), "NetworkPolicy", "NetworkPolicies"),
                (len(cluster.namespaces), "Namespace", "Namespaces"),
            )
            if count
        ]
        held = f", only {' and '.join(found)}" if found else ""
        return f"no rows: the manifests hold no workloads (Pods, Deployments, ...){held}; there are no pods to connect"
    where = f" of the chosen namespace(s) {', '.join(sorted(chosen))}" if chosen is not None else ""
    return (
        f"no rows: every loaded workload{where} is hostNetwork, outside the universe "
        "(--host-network includes them); there are no pods to connect"
    )


def connectivity_matrix(
    cluster: Cluster,
    *,
    by: str = "workload",
    universe: Universe = Universe(),
    semantics: Semantics = Semantics(),
    limits: Limits = Limits(),
    prove: bool = True,
    namespaces: Optional[Iterable[str]] = None,
    jobs: int = 1,
    cell_rules: bool = False,
) -> ConnectivityMatrix:
    """The connectivity matrix of the cluster's workloads (``by="workload"``) or of the
    namespaces holding them (``by="namespace"``).

    ``namespaces`` restricts rows and columns to the workloads of those namespaces.
    With ``prove`` (the default) the solver checks the whole matrix, and every may-only
    port range gets witness packets (one allowed, one denied) replayed through the
    reference evaluator; a disagreement raises InternalError, an undecided solver query
    makes the verdict UNKNOWN. ``jobs`` > 1 runs the proof's batches in that many worker
    processes. With ``cell_rules``, every non-empty cell gets its reasons (``reasons``):
    the rules that allow some of its packets, each confirmed by the reference evaluator
    on one such packet, and the policies that isolate its pods.
    """
    started = time.perf_counter()
    if cluster.tiered:
        # The port-set algebra reads NetworkPolicies only; a matrix from it would leave out
        # every Admin and Baseline rule. prove, equiv, redundant and explain read the tiers.
        raise UnsupportedError(
            "the connectivity matrix does not interpret cluster-scoped policies (ClusterNetworkPolicy, "
            "AdminNetworkPolicy, BaselineAdminNetworkPolicy) yet: ask prove or explain, which do"
        )
    if by not in ("workload", "namespace"):
        raise InputError(Diagnostic(f"by must be 'workload' or 'namespace' (got {by!r})"))
    chosen = None
    if namespaces is not None:
        chosen = frozenset(namespaces)
        known = {w.namespace for w in cluster.workloads}
        missing = sorted(chosen - known)
        if missing:
            raise InputError(Diagnostic(f"--namespace {', '.join(missing)}: no loaded workload in that namespace"))
    algebra = _Algebra(cluster, universe, semantics, chosen)
    builder: _Builder = _WorkloadMatrix(algebra) if by == "workload" else _NamespaceMatrix(algebra)
    builder.build()
    reasons = None
    if cell_rules:
        explainer = _Reasons(algebra)
        reasons = {key: explainer.cell(builder.cell_units(key)) for key in builder.cells}
    notes = list(algebra.notes)
    verdict: Optional[Verdict] = None
    reason = ""
    witnesses = 0
    proof_seconds = 0.0
    if not builder.rows:
        notes.append(_no_rows_note(cluster, chosen))
        if prove:
            # No row, no packet between pods of rows: the claim holds for every packet
            # there is, and the solver has no query to answer.
            verdict = Verdict.PROVED
            notes.append("nothing to prove: with no rows the matrix makes no claim about any packet")
    elif prove:
        proof_started = time.perf_counter()
        witnesses = builder.confirm_witnesses(jobs)
        from npverify.smt.matrix import MatrixClaim, prove_claim

        claims: dict[Cell, tuple] = {}  # one claim per distinct cell: a million cells share a few thousand

        def claim_of(cell: Cell) -> tuple:
            hit = claims.get(cell)
            if hit is None:
                hit = claims[cell] = _claim(cell)
            return hit

        claim = MatrixClaim(
            rows=builder.row_members(),
            cells={key: claim_of(cell) for key, cell in builder.pair_cells.items()},
            self_cells={key: claim_of(cell) for key, cell in builder.own_cells.items()},
            namespaces=builder.rows if by == "namespace" else None,
        )
        outcome = prove_claim(cluster, universe, semantics, claim, limits, jobs)
        proof_seconds = time.perf_counter() - proof_started
        if outcome.packet is not None:
            raise InternalError(_disagreement(algebra, builder, outcome))
        verdict = Verdict.PROVED if outcome.proved else Verdict.UNKNOWN
        reason = outcome.reason
    coverage = Coverage.of(cluster)
    notes[:0] = coverage.notes()
    if coverage.unmodelled:
        # The cells are those of the NetworkPolicies alone; any pair could differ.
        verdict = Verdict.UNKNOWN
        reason = f"not the cluster's connectivity, only its NetworkPolicies': {unknown_reason(coverage.unmodelled)}"
    return ConnectivityMatrix(
        by=by,
        rows=builder.rows,
        columns=builder.rows,
        cells=builder.cells,
        void=frozenset(builder.void),
        verdict=verdict,
        reason=reason,
        notes=tuple(notes),
        witnesses=witnesses,
        seconds=time.perf_counter() - started,
        proof_seconds=proof_seconds,
        coverage=coverage,
        reasons=reasons,
    )
