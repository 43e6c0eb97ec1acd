"""Optional tools that some tests need.

Where a tool is missing the test is skipped, so the README's test command runs on any
machine; but a run that promises the tool (``.ci/run`` lists what it installs in
``NPVERIFY_CI_PROMISES``) fails instead, so a broken install cannot pass as a skip.
"""

from __future__ import annotations

import os

import pytest

PROMISES = "NPVERIFY_CI_PROMISES"


def require(available: bool, tool: str, why: str) -> None:
    """Skip the test (or module) unless ``available``; fail if this run promises ``tool``."""
    if available:
        return
    if tool in os.environ.get(PROMISES, "").split(","):
        pytest.fail(f"{why}, but this run promises {tool} ({PROMISES})", pytrace=False)
    pytest.skip(why, allow_module_level=True)
