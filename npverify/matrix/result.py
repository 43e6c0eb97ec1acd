"""The connectivity matrix as returned to callers: ``ConnectivityMatrix``.

A frozen value: the rows and columns (workload keys or namespace names), the non-empty
cells by (row, column) index, the pairs with no packet at all (``void``), and the proof's
verdict, notes and timings. It renders itself as text (``str``) and, in notebooks, as HTML
(``_repr_html_``) through the renderers of npverify/report/.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Optional

import attrs

from npverify.coverage import Coverage
from npverify.matrix.cells import EMPTY_CELL, Cell
from npverify.matrix.reasons import CellReasons
from npverify.results import Verdict


def _frozen_mapping(value: Mapping) -> Mapping:
    return value if isinstance(value, MappingProxyType) else MappingProxyType(dict(value))


@attrs.frozen
class ConnectivityMatrix:
    """The connectivity matrix of the loaded workloads, or of their namespaces.

    ``rows`` and ``columns`` are workload keys (``namespace/Kind/name``) or namespace names;
    ``cells`` maps (row index, column index) to the non-empty cells; a pair absent from
    ``cells`` allows nothing, unless it is in ``void``: pairs with no packet in the
    universe at all (a single Pod to itself without self traffic; workloads with no common
    IP family). ``verdict`` is the solver's verdict on the whole matrix (None when the
    proof was skipped); UNKNOWN says why in ``reason``.
    """

    by: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[tuple[int, int], Cell] = attrs.field(converter=_frozen_mapping, hash=False)
    void: frozenset[tuple[int, int]] = frozenset()
    verdict: Optional[Verdict] = None
    reason: str = ""
    #: Things the reader should know: workloads left out, the proof skipped, ...
    notes: tuple[str, ...] = ()
    #: How many may-only port ranges were confirmed by witness packets.
    witnesses: int = 0
    seconds: float = 0.0
    proof_seconds: float = 0.0
    #: What the manifests held that npverify did not model or use; anything unmodelled
    #: makes the verdict UNKNOWN (the cells are then those of the NetworkPolicies alone).
    coverage: Coverage = Coverage()
    #: Per non-empty cell, the rules that allow some of its packets and the policies that
    #: isolate its pods (npverify/matrix/reasons.py); None when not asked for.
    reasons: Optional[Mapping[tuple[int, int], CellReasons]] = attrs.field(
        default=None, converter=attrs.converters.optional(_frozen_mapping), hash=False
    )

    def cell(self, source: str, destination: str) -> Cell:
        """The cell from row ``source`` to column ``destination`` (empty if absent)."""
        try:
            i, j = self.rows.index(source), self.columns.index(destination)
        except ValueError:
            raise KeyError((source, destination)) from None
        return self.cells.get((i, j), EMPTY_CELL)

    def nonempty(self) -> Iterator[tuple[str, str, Cell]]:
        """The non-empty cells as (source, destination, cell), row by row."""
        for (i, j) in sorted(self.cells):
            yield self.rows[i], self.columns[j], self.cells[(i, j)]

    def is_void(self, source: str, destination: str) -> bool:
        return (self.rows.index(source), self.columns.index(destination)) in self.void

    def __str__(self) -> str:
        from npverify.report.text import render_matrix

        return render_matrix(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_matrix_html

        return render_matrix_html(self)
