"""How much input npverify reads before refusing it, so hostile files cannot exhaust memory or time.

docs/limits.md is the user reference; change both together.
"""

from __future__ import annotations

from typing import Any

import attrs

#: The CLI option that raises each limit (cli.py wires them; messages name them).
OPTIONS = {
    "max_bytes": "--max-input-bytes",
    "max_nodes": "--max-yaml-nodes",
    "max_depth": "--max-nesting-depth",
}

#: Integer literals longer than this many characters are refused. Not configurable: YAML 1.1
#: sexagesimal integers (``1:2:3``) cost quadratic time to convert, and a hexadecimal literal
#: of a few thousand digits is an int Python refuses to print (sys.get_int_max_str_digits).
MAX_INTEGER_CHARS = 1000


def _positive(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"InputLimits.{attribute.name} must be a positive integer, got {value!r}")


@attrs.frozen
class InputLimits:
    """Limits on each input file: a manifest file, standard input, a string, an invariants file.

    Each is checked before the work it bounds is done: the size before a file is read whole,
    the nesting depth while the YAML is parsed, the node count before aliases are expanded.
    So a "billion laughs" document costs what its text costs, not what it expands to.
    """

    #: Bytes of one file (for text given as a string, its length in UTF-8).
    max_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=_positive)
    #: YAML nodes (keys, values, list items) of one file, counting each time an alias or a
    #: merge key (``<<``) repeats a node.
    max_nodes: int = attrs.field(default=2_000_000, validator=_positive)
    #: Mappings and lists nested inside each other, aliases expanded.
    max_depth: int = attrs.field(default=200, validator=_positive)

    def explain(self, name: str, unit: str) -> str:
        """``the limit is 200 levels (...; raise it with ...)``, for the message of an exceeded limit."""
        value = getattr(self, name)
        shown = f"{value:,} {unit}"
        if unit == "bytes" and value >= 1024 * 1024 and value % (1024 * 1024) == 0:
            shown += f" ({value // (1024 * 1024)} MiB)"
        return f"the limit is {shown}; raise it with {OPTIONS[name]} (InputLimits.{name})"


#: The limits used when a caller gives none.
DEFAULT_LIMITS = InputLimits()
