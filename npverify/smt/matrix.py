"""Proving a connectivity matrix with the solver.

The matrix (npverify/matrix/) is computed by set algebra; this module checks it against
the SMT encoding of the cluster, for every packet between pods of its rows at once. A claim
says, per pair of rows, which (protocol, port) some packet may use (``may``) and which every
packet may use (``always``), separately for packets between two distinct pods and for a
pod's packets to itself. The solver is asked, one batch of source rows at a time, for a
packet that is allowed outside its cell's ``may`` or denied inside its ``always``: unsat
for every batch proves the matrix exact in those two directions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

import attrs
import z3

from npverify.model import Cluster, Packet, Semantics, Universe
from npverify.smt.decode import Decoder
from npverify.smt.domains import mentions_of
from npverify.smt.encode import Encoding, EndpointVars, Term
from npverify.smt.solve import Limits, SolverSession, new_solver
from npverify.workers import in_workers

#: Per protocol (TCP, UDP, SCTP), inclusive port intervals.
PortClaim = tuple[tuple[tuple[int, int], ...], ...]


@attrs.frozen
class MatrixClaim:
    """What a connectivity matrix says, in terms the encoding can check.

    ``rows`` (= columns) are groups of workload indexes (into the cluster's workloads); a
    packet belongs to row ``i`` when its pod belongs to one of them (with ``namespaces``,
    rows are whole namespaces: any pod of a loaded workload there). ``cells`` maps (row,
    column) to (may, always) for packets between two distinct pods (row == column: two
    pods of the same row); ``self_cells`` maps a row to (may, always) for a pod's packets
    to itself. Missing entries allow nothing.
    """

    rows: tuple[tuple[int, ...], ...]
    cells: Mapping[tuple[int, int], tuple[PortClaim, PortClaim]]
    self_cells: Mapping[int, tuple[PortClaim, PortClaim]] = attrs.field(factory=dict)
    namespaces: Optional[tuple[str, ...]] = None
    #: About how many cells one solver query checks; None: chosen by ``_per_query``.
    cells_per_query: Optional[int] = None


@attrs.frozen
class MatrixProof:
    """The solver's answer: proved, undecided (``reason``), or a contradicting packet."""

    proved: bool
    reason: str = ""
    #: A packet the encoding decides against the claim, decoded from the model.
    packet: Optional[Packet] = None
    #: The encoding's verdict on ``packet``.
    allowed: Optional[bool] = None
    queries: int = 0


class _Terms:
    """Terms of one claim over one encoding, built once and shared by the batch queries."""

    def __init__(self, enc: Encoding, claim: MatrixClaim) -> None:
        self.enc = enc
        self.claim = claim
        self._ports: dict[PortClaim, Term] = {}
        self._rows: dict[tuple[int, int], Term] = {}
        #: The claim's distinct-pod cells by source row, so that a batch reads its own only.
        self._by_source: dict[int, list[tuple[int, tuple[PortClaim, PortClaim]]]] = {}
        for (i, j), cell in claim.cells.items():
            self._by_source.setdefault(i, []).append((j, cell))

    def ports(self, claim: PortClaim) -> Term:
        """The packet's protocol and port lie in ``claim``."""
        hit = self._ports.get(claim)
        if hit is not None:
            return hit
        enc = self.enc
        terms: list[Term] = []
        for code, intervals in enumerate(claim):
            if not intervals:
                continue
            if intervals == ((1, 65535),):
                ranges: Term = True
            else:
                ranges = enc.disj(
                    enc.port == z3.BitVecVal(lo, 16, enc.ctx)
                    if lo == hi
                    else z3.And(z3.ULE(z3.BitVecVal(lo, 16, enc.ctx), enc.port), z3.ULE(enc.port, z3.BitVecVal(hi, 16, enc.ctx)))
                    for lo, hi in intervals
                )
            terms.append(enc.conj([enc.protocol == z3.BitVecVal(code, 2, enc.ctx), ranges]))
        term = enc.disj(terms)
        self._ports[claim] = term
        return term

    def row(self, e: EndpointVars, side: int, index: int) -> Term:
        """The endpoint is a pod of row ``index``."""
        key = (side, index)
        hit = self._rows.get(key)
        if hit is not None:
            return hit
        enc = self.enc
        if self.claim.namespaces is not None:
            term = enc.in_namespace(e, self.claim.namespaces[index])
        else:
            term = enc.disj(enc.workload_term(e, w) for w in self.claim.rows[index])
        self._rows[key] = term
        return term

    def any_row(self, e: EndpointVars, side: int) -> Term:
        """The endpoint is a pod of a loaded workload in some row."""
        enc = self.enc
        workload_pod = z3.Not(enc.class_term(e, len(enc.classes)))
        return enc.conj([workload_pod, enc.disj(self.row(e, side, i) for i in range(len(self.claim.rows)))])

    def cells(self, sources: Sequence[int], part: int) -> Term:
        """The packet lies in the ``may`` (``part`` 0) or ``always`` (1) set of the
        distinct-pod cell of its rows, for sources among ``sources``."""
        enc = self.enc
        by_source: dict[int, dict[PortClaim, list[int]]] = {}
        for i in sources:
            for j, cell in self._by_source.get(i, ()):
                if any(cell[part]):
                    by_source.setdefault(i, {}).setdefault(cell[part], []).append(j)
        terms = []
        for i, groups in by_source.items():
            inner = [
                enc.conj([enc.disj(self.row(enc.dst, 1, j) for j in columns), self.ports(claim)])
                for claim, columns in groups.items()
            ]
            terms.append(enc.conj([self.row(enc.src, 0, i), enc.disj(inner)]))
        return enc.disj(terms)

    def self_cells(self, sources: Sequence[int], part: int) -> Term:
        enc = self.enc
        terms = []
        for i in sources:
            cell = self.claim.self_cells.get(i)
            if cell is not None and any(cell[part]):
                terms.append(enc.conj([self.row(enc.src, 0, i), self.ports(cell[part])]))
        return enc.disj(terms)


#: Cells per query at least, and per policy of the cluster at most (see _per_query).
MIN_CELLS_PER_QUERY = 5000
CELLS_PER_POLICY = 10


def _per_query(claim: MatrixClaim, policies: int, jobs: int) -> int:
    """How many cells one query checks.

    Each query pays a setup that grows with the cluster (the solver takes in the whole
    encoding: about 2 s at 10,000 policies), and its search grows faster than its number
    of cells; so a query holds about ten cells per policy, and the queries come in a
    multiple of ``jobs`` of about equal size. At 10,000 policies this took the solver's
    part of the proof of a 50,000-cell namespace matrix from 11 queries and 12 s to 2
    queries and 6 s.
    """
    if claim.cells_per_query is not None:
        return claim.cells_per_query
    cells = len(claim.cells) + len(claim.self_cells) + len(claim.rows)
    if cells == 0:
        return MIN_CELLS_PER_QUERY  # nothing to check (a matrix with no rows): one empty round
    cap = max(MIN_CELLS_PER_QUERY, CELLS_PER_POLICY * policies)
    rounds = -(-cells // (cap * jobs))
    return max(MIN_CELLS_PER_QUERY, -(-cells // (rounds * jobs)))


def _batches(claim: MatrixClaim, per_query: int) -> list[list[int]]:
    """Consecutive source rows, about ``per_query`` cells per batch."""
    per_row: dict[int, int] = {}
    for i, _ in claim.cells:
        per_row[i] = per_row.get(i, 0) + 1
    batches: list[list[int]] = [[]]
    size = 0
    for i in range(len(claim.rows)):
        if batches[-1] and size + per_row.get(i, 0) > per_query:
            batches.append([])
            size = 0
        batches[-1].append(i)
        size += per_row.get(i, 0) + 1
    return [b for b in batches if b]


def prove_claim(
    cluster: Cluster,
    universe: Universe,
    semantics: Semantics,
    claim: MatrixClaim,
    limits: Limits = Limits(),
    jobs: int = 1,
) -> MatrixProof:
    """Check ``claim`` against the encoding: no packet between pods of its rows is allowed
    outside its cell's may set, or denied inside its always set. ``jobs`` > 1 checks the
    batches in that many worker processes (npverify.workers)."""
    batches = _batches(claim, _per_query(claim, len(cluster.policies), max(jobs, 1)))
    if jobs > 1 and len(batches) > 1:
        start_args = (cluster, universe, semantics, claim, limits)
        answers = in_workers(min(jobs, len(batches)), _start_prover, start_args, _prove_in_worker, batches)
    else:
        prover = _Prover(cluster, universe, semantics, claim, limits)
        answers = (prover.batch(sources) for sources in batches)
    reasons: list[str] = []
    queries = 0
    for answer in answers:
        queries += 1
        if answer.packet is not None:
            return attrs.evolve(answer, queries=queries)
        if answer.reason:
            reasons.append(answer.reason)
    if reasons:
        return MatrixProof(False, reason=f"{len(reasons)} of {queries} solver queries undecided: {reasons[0]}", queries=queries)
    return MatrixProof(True, queries=queries)


class _Prover:
    """The encoding of one cluster and the terms of one claim, for checking its batches."""

    def __init__(self, cluster: Cluster, universe: Universe, semantics: Semantics, claim: MatrixClaim, limits: Limits):
        self.limits = limits
        self.enc = SolverSession(cluster, mentions_of(cluster.policies + cluster.cluster_policies), universe, semantics).encoding
        self.terms = _Terms(self.enc, claim)
        self.src_any = self.terms.any_row(self.enc.src, 0)
        self.dst_any = self.terms.any_row(self.enc.dst, 1)

    def batch(self, sources: Sequence[int]) -> MatrixProof:
        """Proved for packets from the rows ``sources``; else a contradicting packet, or why
        the solver could not decide."""
        enc, terms = self.enc, self.terms
        in_batch = enc.disj(terms.row(enc.src, 0, i) for i in sources)
        may, always = terms.cells(sources, 0), terms.cells(sources, 1)
        self_may, self_always = terms.self_cells(sources, 0), terms.self_cells(sources, 1)
        wrong_pair = enc.disj([enc.conj([enc.allowed, z3.Not(may)]), enc.conj([z3.Not(enc.allowed), always])])
        wrong_self = enc.disj([enc.conj([enc.allowed, z3.Not(self_may)]), enc.conj([z3.Not(enc.allowed), self_always])])
        solver = new_solver(enc, self.limits)
        solver.add(enc.is_pod(enc.src), enc.is_pod(enc.dst), self.src_any, self.dst_any, in_batch)
        # A hostNetwork pod's packets to a pod on its own node are that node's (always
        # allowed by default): node traffic, which the matrix leaves out (docs/matrix.md).
        solver.add(z3.Not(enc.from_own_node))
        solver.add(z3.If(enc.same_pod, wrong_self, wrong_pair))
        try:
            result = solver.check()
        except z3.Z3Exception as exc:  # interrupted or out of memory inside z3
            return MatrixProof(False, reason=f"solver error: {exc}")
        if result == z3.unsat:
            return MatrixProof(True)
        if result == z3.sat:
            model = solver.model()
            allowed = z3.is_true(model.eval(enc.allowed, model_completion=True))
            return MatrixProof(False, packet=Decoder(enc, model).packet(), allowed=allowed)
        return MatrixProof(False, reason=solver.reason_unknown() or "unknown")


#: The prover of a worker process, made once per process by _start_prover (state of that
#: process only: the parent never sets it).
_prover: _Prover | None = None


def _start_prover(cluster: Cluster, universe: Universe, semantics: Semantics, claim: MatrixClaim, limits: Limits) -> None:
    global _prover
    _prover = _Prover(cluster, universe, semantics, claim, limits)


def _prove_in_worker(sources: list[int]) -> MatrixProof:
    assert _prover is not None
    return _prover.batch(sources)
