"""Workload and namespace matrices, built from the algebra's class cells.

``_WorkloadMatrix`` copies each pair of classes' cell to the workloads of the classes;
``_NamespaceMatrix`` unites (``may``) and intersects (``always``) the cells of every pair
of pods of two namespaces. Both keep the distinct-pod cells and the pod-to-itself cells
apart for the proof, combine them into what the matrix shows (the diagonal), find the
pairs with no packet at all (``void``), and produce the witnesses of their may-only ports.
"""

from __future__ import annotations

from array import array
from typing import Optional

from npverify.matrix.algebra import _Algebra
from npverify.matrix.cells import EMPTY, EMPTY_CELL, Cell, PortSet
from npverify.matrix.proof import _confirm_cell
from npverify.matrix.variants import _Class
from npverify.model import PodEndpoint
from npverify.workers import forked, in_workers


class _Cells:
    """Unites (may) and intersects (always) the cells of a set of units (kinds of pod pairs)."""

    __slots__ = ("algebra", "may", "always", "sure")

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        self.may = EMPTY
        self.always: Optional[PortSet] = None
        #: Units seen so far (each with a non-empty cell).
        self.sure = 0

    def add(self, cell: Cell) -> None:
        self.may = self.algebra.union(self.may, cell.may)
        self.always = cell.always if self.always is None else self.algebra.meet(self.always, cell.always)
        self.sure += 1

    def cell(self, units: int) -> Cell:
        """The combined cell, when ``units`` units exist (units not added allowed nothing)."""
        always = self.always if self.always is not None and self.sure == units else EMPTY
        return Cell(self.may, always)


class _TieredCells(_Cells):
    """``_Cells`` that also unites the units' ``unknown`` ports (with cluster-scoped
    policies; a class of its own so that the matrix without them pays nothing for it)."""

    __slots__ = ("unknown",)

    def __init__(self, algebra: _Algebra) -> None:
        super().__init__(algebra)
        self.unknown = EMPTY

    def add(self, cell: Cell) -> None:
        super().add(cell)
        self.unknown = self.algebra.union(self.unknown, cell.unknown)

    def cell(self, units: int) -> Cell:
        plain = super().cell(units)
        return Cell(plain.may, plain.always, self.unknown)


def _combine(parts: list[Cell]) -> Cell:
    may = EMPTY
    always: Optional[PortSet] = None
    unknown = EMPTY
    for part in parts:
        may = may | part.may
        always = part.always if always is None else always & part.always
        unknown = unknown | part.unknown
    return Cell(may, always if always is not None else EMPTY, unknown)


#: Witness units (cells with may-only ports) per worker process below which more
#: workers cost more than they save.
WITNESS_UNITS_PER_WORKER = 500


class _Builder:
    """Builds one kind of matrix from the algebra.

    ``pair_cells``: (row, column) -> cell of packets between two distinct pods (row ==
    column: two pods of the row); ``own_cells``: row -> cell of a pod's packets to itself;
    ``cells``: what the matrix shows, both combined; ``void``: pairs with no packet at all.
    """

    rows: tuple[str, ...]
    cells: dict[tuple[int, int], Cell]
    pair_cells: dict[tuple[int, int], Cell]
    own_cells: dict[int, Cell]
    void: set[tuple[int, int]]

    def build(self) -> None:
        raise NotImplementedError

    def row_members(self) -> tuple[tuple[int, ...], ...]:
        raise NotImplementedError

    def row_of(self, endpoint) -> Optional[int]:
        raise NotImplementedError

    def cell_units(self, key: tuple[int, int]) -> list[tuple[_Class, _Class, bool]]:
        """The units of a cell with a non-empty cell of their own: (source class,
        destination class, a pod to itself)."""
        raise NotImplementedError

    def witness_units(self) -> list:
        """The cells with may-only ports, whose witnesses ``confirm`` checks."""
        raise NotImplementedError

    def confirm(self, unit) -> int:
        """Witnesses for one of ``witness_units``: a packet the reference evaluator allows
        and one it denies at the start of every may-only range; their number."""
        raise NotImplementedError

    def confirm_witnesses(self, jobs: int = 1) -> int:
        """``confirm`` for every witness unit, in ``jobs`` worker processes when that pays."""
        units = self.witness_units()
        if jobs > 1 and len(units) >= 2 * WITNESS_UNITS_PER_WORKER:
            size = -(-len(units) // (4 * jobs))  # a few chunks per worker evens out their cost
            chunks = [units[i : i + size] for i in range(0, len(units), size)]
            return sum(in_workers(jobs, _start_witnesses, (self,), _confirm_in_worker, chunks))
        return sum(self.confirm(unit) for unit in units)



class _WorkloadMatrix(_Builder):
    """Rows and columns are workloads; a cell is copied from its pair of classes."""

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        cluster = algebra.cluster
        self.order = sorted(
            algebra.workloads,
            key=lambda i: (cluster.workloads[i].namespace, cluster.workloads[i].kind, cluster.workloads[i].name),
        )
        self.row_index = {w: r for r, w in enumerate(self.order)}
        self.by_key = {cluster.workloads[w].key: r for r, w in enumerate(self.order)}
        self.rows = tuple(cluster.workloads[i].key for i in self.order)

    def build(self) -> None:
        a = self.algebra
        cluster = a.cluster
        #: Class pair -> cell, for the witnesses.
        self.class_cells: dict[tuple[int, int], Cell] = {}
        self.class_self: dict[int, Cell] = {}
        for src, dst, cell in a.pair_cells():
            self.class_cells[(src.index, dst.index)] = cell
        pair_cells: dict[tuple[int, int], Cell] = {}
        for (s, d), cell in self.class_cells.items():
            for ws in a.classes[s].workloads:
                i = self.row_index[ws]
                for wd in a.classes[d].workloads:
                    if ws != wd or not cluster.workloads[ws].single_pod:
                        pair_cells[(i, self.row_index[wd])] = cell
        own_cells: dict[int, Cell] = {}
        void: set[tuple[int, int]] = set()
        for cls, own in a.self_cells():
            self.class_self[cls.index] = own
            for w in cls.workloads:
                own_cells[self.row_index[w]] = own
        cells = dict(pair_cells)
        # The diagonal: other pods of the workload, and the pod itself with self traffic.
        for ws in self.order:
            cls = a.classes[a.class_of[ws]]
            i = self.row_index[ws]
            parts = []
            if not cluster.workloads[ws].single_pod and a._keys(cls, cls):
                parts.append(pair_cells.get((i, i), EMPTY_CELL))
            if a.universe.self_traffic and cls.profile.variants:
                parts.append(own_cells.get(i, EMPTY_CELL))
            cells.pop((i, i), None)
            if not parts:
                void.add((i, i))
                continue
            cell = _combine(parts)
            if not cell.may.is_empty:
                cells[(i, i)] = cell
        void |= self._void_pairs()
        self.cells, self.pair_cells, self.own_cells, self.void = cells, pair_cells, own_cells, void

    def _void_pairs(self) -> set[tuple[int, int]]:
        """Distinct workloads whose pods have no IP family in common (or no pods at all)."""
        a = self.algebra
        by_families: dict[frozenset, list[int]] = {}
        for ws in self.order:
            by_families.setdefault(a.classes[a.class_of[ws]].profile.families, []).append(self.row_index[ws])
        void = set()
        for f1, rows1 in by_families.items():
            for f2, rows2 in by_families.items():
                if not (f1 & f2):
                    void.update((i, j) for i in rows1 for j in rows2 if i != j)
        return void

    def row_members(self) -> tuple[tuple[int, ...], ...]:
        return tuple((w,) for w in self.order)

    def row_of(self, endpoint) -> Optional[int]:
        if isinstance(endpoint, PodEndpoint) and endpoint.workload is not None:
            return self.by_key.get(endpoint.workload)
        return None

    def cell_units(self, key: tuple[int, int]) -> list[tuple[_Class, _Class, bool]]:
        a = self.algebra
        i, j = key
        src, dst = (a.classes[a.class_of[self.order[r]]] for r in key)
        units = [(src, dst, False)] if key in self.pair_cells else []
        own = self.own_cells.get(i) if i == j else None
        if own is not None and not own.may.is_empty:
            units.append((src, src, True))
        return units

    def witness_units(self) -> list[tuple[int, int, bool]]:
        """Class pairs (source, destination, False) and classes (c, c, True: a pod to
        itself) whose cell has may-only ports."""
        # Only cells with may-only ports need witnesses: most of a large matrix has none,
        # and sorting every pair (a million at 1,000 workloads) would cost seconds.
        pairs = sorted((s, d, False) for (s, d), cell in self.class_cells.items() if cell.may != cell.always)
        return pairs + sorted((c, c, True) for c, cell in self.class_self.items() if cell.may != cell.always)

    def confirm(self, unit: tuple[int, int, bool]) -> int:
        a = self.algebra
        s, d, own = unit
        cell = self.class_self[s] if own else self.class_cells[(s, d)]
        src_key = a.cluster.workloads[a.classes[s].workloads[0]].key
        dst_key = "itself" if own else a.cluster.workloads[a.classes[d].workloads[0]].key
        return _confirm_cell(a, [(a.classes[s], a.classes[d], own, cell)], tuple, cell, f"{src_key} -> {dst_key}")


class _NamespaceMatrix(_Builder):
    """Rows and columns are namespaces; a cell unites (may) and intersects (always) the cells
    of every pair of pods of the two namespaces."""

    def __init__(self, algebra: _Algebra) -> None:
        self.algebra = algebra
        self.rows = tuple(sorted(algebra.classes_by_namespace))
        self.row_index = {ns: r for r, ns in enumerate(self.rows)}
        self._signatures: dict[str, tuple] = {}

    def build(self) -> None:
        a = self.algebra
        n = len(a.classes)
        pairs: dict[tuple[int, int], _Cells] = {}
        owns: dict[int, _Cells] = {}
        cells_of = _Cells if a.tiers is None else _TieredCells
        #: Per namespace pair, its class pairs (coded source * n + destination) and their
        #: cells, for the witnesses: two flat sequences, since a tuple per class pair
        #: would take gigabytes at 100,000 pods.
        self._pairs: dict[tuple[int, int], tuple[array, list[Cell]]] = {}
        self._owns: dict[int, list[tuple[_Class, Cell]]] = {}
        for src, dst, cell in a.pair_cells():
            key = (self.row_index[src.namespace], self.row_index[dst.namespace])
            acc = pairs.get(key)
            if acc is None:
                acc = pairs[key] = cells_of(a)
                self._pairs[key] = (array("q"), [])
            acc.add(cell)
            codes, cells = self._pairs[key]
            codes.append(src.index * n + dst.index)
            cells.append(cell)
        for cls, own in a.self_cells():
            r = self.row_index[cls.namespace]
            owns.setdefault(r, cells_of(a)).add(own)
            self._owns.setdefault(r, []).append((cls, own))
        self.pair_cells = {key: acc.cell(self._pair_units(key)) for key, acc in pairs.items()}
        self.own_cells = {r: acc.cell(self._own_units(r)) for r, acc in owns.items()}
        cells: dict[tuple[int, int], Cell] = {}
        for key in set(self.pair_cells) | {(r, r) for r in self.own_cells}:
            parts = []
            if self._pair_units(key):
                parts.append(self.pair_cells.get(key, EMPTY_CELL))
            if key[0] == key[1] and self._own_units(key[0]):
                parts.append(self.own_cells.get(key[0], EMPTY_CELL))
            cell = _combine(parts)
            if not cell.may.is_empty:
                cells[key] = cell
        self.cells = cells
        self.void = self._void()

    def _signature(self, ns: str) -> tuple:
        """How many classes of the namespace have pods of each set of IP families."""
        hit = self._signatures.get(ns)
        if hit is not None:
            return hit
        a = self.algebra
        counts: dict[frozenset, int] = {}
        for c in a.classes_by_namespace[ns]:
            counts[c.profile.families] = counts.get(c.profile.families, 0) + 1
        hit = self._signatures[ns] = tuple(sorted(counts.items(), key=lambda kv: sorted(kv[0])))
        return hit

    def _pair_units(self, key: tuple[int, int]) -> int:
        """How many kinds of distinct-pod pairs (class pairs) the namespace pair holds."""
        a = self.algebra
        ns1, ns2 = self.rows[key[0]], self.rows[key[1]]
        total = sum(
            n1 * n2
            for f1, n1 in self._signature(ns1)
            for f2, n2 in self._signature(ns2)
            if f1 & f2
        )
        if ns1 == ns2:
            classes = a.classes_by_namespace[ns1]
            total -= sum(1 for c in classes if c.profile.families and not c.many_pods)
        return total

    def _own_units(self, row: int) -> int:
        a = self.algebra
        if not a.universe.self_traffic:
            return 0
        return sum(1 for c in a.classes_by_namespace[self.rows[row]] if c.profile.variants)

    def _void(self) -> set[tuple[int, int]]:
        """Namespace pairs with no packet between pods of their workloads."""
        groups: dict[tuple, list[int]] = {}
        for r, ns in enumerate(self.rows):
            groups.setdefault(self._signature(ns), []).append(r)
        void = set()
        for sig1, rows1 in groups.items():
            for sig2, rows2 in groups.items():
                if any(f1 & f2 for f1, _ in sig1 for f2, _ in sig2):
                    continue
                void.update((i, j) for i in rows1 for j in rows2 if i != j)
        for r in range(len(self.rows)):
            if not self._pair_units((r, r)) and not self._own_units(r):
                void.add((r, r))
        return void

    def row_members(self) -> tuple[tuple[int, ...], ...]:
        a = self.algebra
        members: dict[str, list[int]] = {ns: [] for ns in self.rows}
        for w in a.workloads:
            members[a.cluster.workloads[w].namespace].append(w)
        return tuple(tuple(members[ns]) for ns in self.rows)

    def row_of(self, endpoint) -> Optional[int]:
        if isinstance(endpoint, PodEndpoint):
            return self.row_index.get(endpoint.namespace)
        return None

    def _parts(self, key: tuple[int, int]) -> list[tuple[_Class, _Class, bool, Cell]]:
        """The units of a namespace pair with a non-empty cell: (source class, destination
        class, a pod to itself, cell)."""
        classes = self.algebra.classes
        n = len(classes)
        codes, cells = self._pairs.get(key, ((), []))
        parts = [(classes[code // n], classes[code % n], False, cell) for code, cell in zip(codes, cells)]
        if key[0] == key[1]:
            parts += [(cls, cls, True, own) for cls, own in self._owns.get(key[0], ())]
        return parts

    def cell_units(self, key: tuple[int, int]) -> list[tuple[_Class, _Class, bool]]:
        return [(src, dst, own) for src, dst, own, _ in self._parts(key)]

    def witness_units(self) -> list[tuple[int, int]]:
        """Namespace pairs whose cell has may-only ports."""
        return sorted(key for key, cell in self.cells.items() if not cell.may_only.is_empty)

    def confirm(self, key: tuple[int, int]) -> int:
        """A pair of pods of the two namespaces that the reference evaluator allows, and one
        it denies, at the start of every may-only range of their cell."""
        a = self.algebra
        parts = self._parts(key)
        ns1, ns2 = self.rows[key[0]], self.rows[key[1]]

        def empty_units():
            """Units (pairs of classes, a class's pods to themselves) with an empty cell."""
            present = {(src.index, dst.index, own) for src, dst, own, _ in parts}
            for src in a.classes_by_namespace[ns1]:
                for dst in a.classes_by_namespace[ns2]:
                    if (src.index, dst.index, False) not in present and (src is not dst or src.many_pods):
                        yield src, dst, False, None
            if ns1 == ns2 and a.universe.self_traffic:
                for c in a.classes_by_namespace[ns1]:
                    if (c.index, c.index, True) not in present:
                        yield c, c, True, None

        return _confirm_cell(a, parts, empty_units, self.cells[key], f"{ns1} -> {ns2}")


#: The builder of a worker process checking witnesses, set once per process by
#: _start_witnesses (state of that process only: the parent never sets it).
_builder: Optional[_Builder] = None


def _start_witnesses(builder: _Builder) -> None:
    global _builder
    _builder = builder
    if not forked():
        # A builder sent to a spawned process is a copy: the algebra's caches keyed by
        # object identity would name other objects there.
        builder.algebra.forget_identities()


def _confirm_in_worker(units: list) -> int:
    assert _builder is not None
    return sum(_builder.confirm(unit) for unit in units)
