"""The connectivity matrix as a Graphviz DOT digraph.

One node per workload (grouped in a ``cluster_`` subgraph per namespace) or per namespace;
one edge per non-empty cell, labelled with its ports (``*`` marks ports allowed for some
pods or IPs only; an edge whose ports are all such is dashed). Every identifier is a
quoted string with ``"`` and ``\\`` escaped, so any name is safe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from npverify.matrix import ConnectivityMatrix


def quote(text: str) -> str:
    """A DOT quoted string (ID) for ``text``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def _verdict(matrix: ConnectivityMatrix) -> str:
    if matrix.verdict is None:
        return "not proved (--no-proof)"
    return str(matrix.verdict)


def render_matrix_dot(matrix: ConnectivityMatrix) -> str:
    """``matrix`` as a DOT digraph."""
    lines = [
        "digraph connectivity {",
        f"  graph [rankdir=LR, labelloc=t, label={quote(f'connectivity matrix by {matrix.by}: {_verdict(matrix)}')}];",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    # Notes (e.g. why there are no rows) as comments: a graph has no place for prose.
    lines += [f"  // note: {' '.join(note.split())}" for note in matrix.notes]
    if matrix.by == "workload":
        by_namespace: dict[str, list[str]] = {}
        for key in matrix.rows:
            by_namespace.setdefault(key.split("/", 1)[0], []).append(key)
        for namespace, keys in by_namespace.items():
            lines.append(f"  subgraph {quote('cluster_' + namespace)} {{")
            lines.append(f"    label={quote(namespace)};")
            for key in keys:
                _, kind, name = key.split("/", 2)
                lines.append(f"    {quote(key)} [label={quote(f'{kind} {name}')}];")
            lines.append("  }")
    else:
        for namespace in matrix.rows:
            lines.append(f"  {quote(namespace)};")
    for source, destination, cell in matrix.nonempty():
        attributes = [f"label={quote(cell.text())}"]
        if cell.always.is_empty:
            attributes.append("style=dashed")
        lines.append(f"  {quote(source)} -> {quote(destination)} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
