"""A tiny run of benchmarks/generate.py and benchmarks/run.py, so the benchmarks cannot rot.

No timing is asserted: only that the files are written and the verdicts are the expected
ones (the rewrite is equivalent, the mutation is found, nothing is unknown).
"""

from __future__ import annotations

import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GENERATE = os.path.join(REPO, "benchmarks", "generate.py")
RUN = os.path.join(REPO, "benchmarks", "run.py")
SIZE = ["--namespaces", "2", "--pods-per-namespace", "3", "--policies-per-namespace", "6", "--seed", "7"]


def _generate(out, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, GENERATE, *SIZE, *extra, "--out", str(out)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _files(root) -> dict[str, bytes]:
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


def test_generate_is_deterministic_and_complete(tmp_path):
    _generate(tmp_path / "a")
    _generate(tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first == second
    assert "invariants.yaml" in first
    assert os.path.join("k8s", "namespaces.yaml") in first
    assert sum(name.startswith(os.path.join("k8s", "policies")) for name in first) == 2
    assert first["invariants.yaml"].count(b"- name:") == 10


def test_variants_say_what_they_did(tmp_path):
    assert _generate(tmp_path / "r", "--variant", "rewrite").startswith("rewrite: ")
    printed = _generate(tmp_path / "m", "--variant", "mutation", "--mutation-seed", "3")
    assert printed.startswith("mutation: ")
    assert printed.split(":")[1].strip() in ("port-widened", "except-removed", "label-value-changed", "policy-type-dropped", "peer-and-to-or")


def test_runner_verdicts(tmp_path):
    results = tmp_path / "RESULTS.md"
    done = subprocess.run(
        [
            sys.executable, RUN,
            "--sizes", "2x3x6", "--repeat", "1", "--max-diffs", "1", "--timeout", "300",
            "--phases", "load,prove,equiv,mutation,redundancy",
            "--workdir", str(tmp_path / "work"), "--write", "--results", str(results),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for variant in ("original", "rewrite", "mutation"):
        assert (tmp_path / "work" / "2x3x6" / variant / "k8s" / "policies").is_dir()
        assert (tmp_path / "work" / "2x3x6" / variant / "invariants.yaml").is_file()
    rows = {line.split("|")[2].strip(): line for line in done.stdout.splitlines() if line.startswith("| 2x3x6")}
    assert set(rows) == {"load", "prove", "equiv", "mutation", "redundancy"}
    assert "| equivalent |" in rows["equiv"]
    assert "| different (" in rows["mutation"]
    assert ", 0 unknown |" in rows["prove"]
    assert " items: " in rows["redundancy"] and "0 undecided" in rows["redundancy"]
    assert "UNEXPECTED" not in done.stdout
    text = results.read_text()
    assert "### Machine" in text and "nproc" in text and "z3 " in text
    assert "benchmarks/run.py --sizes 2x3x6" in text
    assert rows["equiv"] in text
