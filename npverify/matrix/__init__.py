"""The connectivity matrix: what each workload (or namespace) may send to each other one.

Each cell is the set of (protocol, port) for which some packet from a pod of the row to a
pod of the column is allowed (``may``), with the subset for which every such packet is
allowed (``always``). Cells are computed exactly by set algebra over port intervals (no
sampling), then proved with the solver (npverify/smt/matrix.py): no allowed packet lies
outside its cell's ``may`` set and no denied packet inside its ``always`` set. docs/matrix.md
explains the cells, the self cells and the proof.

The modules, in the order data flows through them:

* ``cells``: port sets and cells, the values a matrix holds;
* ``variants``: classes of workloads no policy tells apart, and their variants (IP atom,
  namespace label assignment);
* ``algebra``: the cell of each pair of classes, and which pairs to look at;
* ``tiered``: with cluster-scoped policies (Admin and Baseline tiers), directions and cells
  by the tiers' first-match walk over port sets, with the ports whose verdict depends on
  what no manifest says (``Cell.unknown``);
* ``builders``: workload and namespace matrices from the class cells;
* ``proof``: witness packets for may-only ports, and the glue to the solver's proof;
* ``reasons``: per cell, the rules that allow its packets (each confirmed by the reference
  evaluator on one packet) and the policies that isolate its pods;
* ``result``: ``ConnectivityMatrix``, what callers get;
* ``compute``: ``connectivity_matrix``, the entry point.

This package re-exports the public names; the modules' underscored names are internal.
"""

from npverify.matrix.cells import ALL, EMPTY, EMPTY_CELL, PROTOCOLS, Cell, Intervals, PortSet, cell_text
from npverify.matrix.compute import connectivity_matrix
from npverify.matrix.reasons import CellIsolation, CellReasons, CellRule, CellTierRule
from npverify.matrix.result import ConnectivityMatrix
from npverify.matrix.variants import MAX_LABEL_ASSIGNMENTS

__all__ = [
    "ALL",
    "EMPTY",
    "EMPTY_CELL",
    "MAX_LABEL_ASSIGNMENTS",
    "PROTOCOLS",
    "Cell",
    "CellIsolation",
    "CellReasons",
    "CellRule",
    "CellTierRule",
    "ConnectivityMatrix",
    "Intervals",
    "PortSet",
    "cell_text",
    "connectivity_matrix",
]
