"""Words for messages about names the user wrote: "did you mean", lists joined in prose.

Shared by every place that meets a name that matches nothing (explain's endpoint specs,
invariant scopes), so the hints read the same wherever they appear.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def join_words(items: Sequence[str], word: str = "and") -> str:
    """"a", "a and b", "a, b and c" (or another final ``word``)."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """"; did you mean 'a' or 'b'?" for the candidates close to ``word``, else ""."""
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)
    return f"; did you mean {join_words([repr(c) for c in close], 'or')}?" if close else ""
