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


@pytest.fixture(autouse=True, scope="session")
def _private_load_cache(tmp_path_factory):
    """Commands run by the tests keep their load cache in a directory of this run, never
    in the user's: so every run starts cold, and the warm reads of later tests go through
    the cache as users' runs do."""
    import os

    from npverify.load.cache import DIRECTORY_VARIABLE

    before = os.environ.get(DIRECTORY_VARIABLE)
    os.environ[DIRECTORY_VARIABLE] = str(tmp_path_factory.mktemp("load-cache"))
    yield
    if before is None:
        del os.environ[DIRECTORY_VARIABLE]
    else:
        os.environ[DIRECTORY_VARIABLE] = before
