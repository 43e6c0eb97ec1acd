"""The CLI as a process: the seconds it prints cover the whole command, and ending the
process early (without the interpreter's teardown) loses no output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from npverify.cli import main
from npverify.load import manifests as manifests_module

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "specs" / "examples" / "shop" / "invariants.yaml"
SHOP = ROOT / "specs" / "examples" / "shop" / "k8s"
REWRITE = ROOT / "docs" / "tutorial" / "payments-rewrite.yaml"
PAYMENTS = SHOP / "payments-policies.yaml"
GENERATE = ROOT / "benchmarks" / "generate.py"

#: How long each manifest file takes to read in the slow-loading tests.
SLOW_FILE = 0.2


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def run_process(*args: str, code: str | None = None) -> subprocess.CompletedProcess:
    """``npverify ARGS`` as its own process (``python -m npverify.cli``), or ``code``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-c", code] if code is not None else [sys.executable, "-m", "npverify.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


@pytest.fixture
def slow_loading(monkeypatch):
    """Every manifest file takes SLOW_FILE seconds longer to read."""
    load_file = manifests_module._Loader.load_file

    def slow_load_file(self, path):
        time.sleep(SLOW_FILE)
        return load_file(self, path)

    monkeypatch.setattr(manifests_module._Loader, "load_file", slow_load_file)


def test_prove_seconds_include_loading_the_manifests(slow_loading):
    result = run("prove", str(EXAMPLE), "--format", "json")
    assert result.exit_code == 1, result.output
    files = len(list(SHOP.glob("*.yaml")))
    assert json.loads(result.output)["summary"]["seconds"] >= files * SLOW_FILE


def test_prove_text_prints_the_whole_command_seconds(slow_loading):
    result = run("prove", str(EXAMPLE))
    seconds = float(result.output.splitlines()[-1].rsplit("(", 1)[1].removesuffix(" s)"))
    assert seconds >= len(list(SHOP.glob("*.yaml"))) * SLOW_FILE


@pytest.mark.parametrize("command", ["equiv", "contains"])
def test_comparison_seconds_include_loading_both_sides_and_the_context(slow_loading, command):
    result = run(command, "--format", "json", "--manifests", str(SHOP / "namespaces.yaml"), "--manifests", str(SHOP / "workloads.yaml"), str(PAYMENTS), str(REWRITE))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["seconds"] >= 4 * SLOW_FILE


def test_redundancy_seconds_include_loading(slow_loading):
    result = run("redundant", "--format", "json", "--jobs", "1", str(SHOP))
    assert result.exit_code in (0, 1), result.output
    assert json.loads(result.output)["seconds"] >= len(list(SHOP.glob("*.yaml"))) * SLOW_FILE


def test_matrix_seconds_include_loading(slow_loading):
    result = run("matrix", "--format", "json", "--jobs", "1", str(SHOP))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["seconds"] >= len(list(SHOP.glob("*.yaml"))) * SLOW_FILE
    assert doc["proof_seconds"] < doc["seconds"]


def test_library_seconds_are_the_library_calls(slow_loading):
    """Only the CLI times the whole command; prove() with a loaded cluster times itself."""
    from npverify.api import prove
    from npverify.load import load_manifests

    cluster = load_manifests([SHOP])
    assert prove(EXAMPLE, cluster=cluster).seconds < len(list(SHOP.glob("*.yaml"))) * SLOW_FILE


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k not in ("seconds", "proof_seconds")}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def test_process_writes_the_whole_report_to_a_pipe_and_keeps_the_exit_code():
    done = run_process("prove", str(EXAMPLE))
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    in_process = run("prove", str(EXAMPLE)).output
    assert done.stdout.splitlines()[:-1] == in_process.splitlines()[:-1]
    assert done.stdout.splitlines()[-1].startswith("6 invariants: 5 proved, 1 refuted, 0 unknown (")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated cluster whose JSON matrix is far larger than a pipe's buffer."""
    out = tmp_path_factory.mktemp("generated") / "original"
    size = ["--namespaces", "4", "--pods-per-namespace", "20", "--policies-per-namespace", "10", "--seed", "1"]
    subprocess.run([sys.executable, str(GENERATE), *size, "--out", str(out)], check=True, capture_output=True, timeout=60)
    return out / "k8s"


def test_a_large_report_reaches_a_pipe_and_a_file_whole(generated, tmp_path):
    args = ("matrix", "--no-proof", "--format", "json", "--jobs", "1", str(generated))
    expected = _without_seconds(json.loads(run(*args).output))
    piped = run_process(*args)
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout) > 1 << 20
    assert _without_seconds(json.loads(piped.stdout)) == expected
    written = tmp_path / "matrix.json"
    to_file = run_process(*args, "-o", str(written))
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout == ""
    assert _without_seconds(json.loads(written.read_text())) == expected


def test_errors_and_usage_reach_stderr_with_their_exit_codes(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("invariants: 3\n")
    done = run_process("prove", str(bad))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"{bad}:1:")
    usage = run_process("prove", "--no-such-option", str(EXAMPLE))
    assert usage.returncode == 2 and "No such option" in usage.stderr
    version = run_process("--version")
    assert version.returncode == 0 and version.stdout.startswith("npverify, version ")


def test_process_ends_without_tearing_down_its_objects_but_runs_the_exit_functions():
    """After the report, the process skips freeing its objects one by one (seconds at
    20,000 pods) but still runs the exit functions (worker pools, z3's files)."""
    code = f"""
import atexit, sys

class TornDown:
    def __del__(self):
        sys.stderr.write("torn down\\n")

kept = TornDown()
atexit.register(lambda: sys.stderr.write("exit functions ran\\n"))
from npverify.cli import main
main(["prove", {str(EXAMPLE)!r}])
"""
    done = run_process(code=code)
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[-1].startswith("6 invariants: 5 proved, 1 refuted, 0 unknown (")
    assert done.stderr == "exit functions ran\n"


def test_in_process_calls_leave_the_garbage_collector_alone():
    """CliRunner (and so any caller of main.main) keeps the interpreter's own gc thresholds
    and its process: only the real process changes them."""
    import gc

    before = gc.get_threshold()
    assert run("prove", str(EXAMPLE)).exit_code == 1
    assert gc.get_threshold() == before
