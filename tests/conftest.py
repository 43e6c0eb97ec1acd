"""Shared test fixtures: golden files (regenerate with ``pytest --update-goldens``)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden files from the current output")


@pytest.fixture
def golden(request):
    """Compare text with a golden file next to the test module (in ``golden/``)."""
    update = request.config.getoption("--update-goldens")

    def check(name: str, actual: str) -> None:
        path = Path(request.fspath).parent / "golden" / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual)
            return
        assert path.exists(), f"missing golden file {path}; run pytest --update-goldens"
        assert actual == path.read_text(), f"output differs from {path}; if intended, run pytest --update-goldens"

    return check
