"""Small helpers for the English of messages and reports, shared by values and renderers."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 region``, ``2 regions``: a count with its noun in the right number (``plural``
    where adding an s is wrong: ``NetworkPolicies``)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
