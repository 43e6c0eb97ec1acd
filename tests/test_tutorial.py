"""docs/tutorial.md is a doctest: every example in it runs, so the tutorial cannot rot."""

from __future__ import annotations

import doctest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = ROOT / "docs" / "tutorial.md"


def test_tutorial_examples_print_what_the_tutorial_shows(monkeypatch):
    # The tutorial's paths are relative to the repository's top level, as a reader runs it.
    monkeypatch.chdir(ROOT)
    outcome = doctest.testfile(
        str(TUTORIAL),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        report=True,
        verbose=False,
    )
    assert outcome.attempted > 30, f"only {outcome.attempted} examples found in {TUTORIAL}; is the file a doctest?"
    assert outcome.failed == 0, f"{outcome.failed} of {outcome.attempted} tutorial examples failed; the diff is printed above"

