"""The connectivity matrix as CSV (RFC 4180, via the csv module): long format.

One row per non-empty cell and protocol: ``source``, ``destination``, ``protocol``,
``ports`` (the ports some packet may use, e.g. ``53 8080-8081``) and ``always`` (those
every packet may use; ports in ``ports`` but not in ``always`` are allowed for some pods
or IPs only). A header row comes first.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from npverify.matrix import ConnectivityMatrix

HEADER = ("source", "destination", "protocol", "ports", "always")


def _ranges(intervals) -> str:
    return " ".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)


def render_matrix_csv(matrix: ConnectivityMatrix) -> str:
    """The non-empty cells of ``matrix``, one row per cell and protocol."""
    from npverify.matrix import PROTOCOLS

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for source, destination, cell in matrix.nonempty():
        for protocol in PROTOCOLS:
            may = cell.may.intervals(protocol)
            if may:
                writer.writerow((source, destination, protocol.value, _ranges(may), _ranges(cell.always.intervals(protocol))))
    return out.getvalue()
