"""Solver limits: a query the solver cannot decide within --timeout or --rlimit is UNKNOWN,
exits 3 and is never reported as a pass, for prove, equiv and redundant alike.

The rlimit tests are deterministic (z3's resource count does not depend on the machine).
The timeout tests use clusters from benchmarks/generate.py and satisfiable queries that
take hundreds of milliseconds, against a 1 ms budget. The margin has to be wide: z3's timer
is a thread, and on a loaded machine it fires late (2-25 ms after a 1 ms timeout was
measured on a shared 2-CPU machine), so a query of 60-90 ms was sometimes decided in time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from npverify.api import prove
from npverify.cli import main
from npverify.results import Verdict

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "specs" / "examples" / "shop" / "invariants.yaml"
GENERATE = ROOT / "benchmarks" / "generate.py"
SIZE = ["--namespaces", "10", "--pods-per-namespace", "10", "--policies-per-namespace", "5", "--seed", "1"]
#: 250 pods, 250 policies: the HARD invariant takes about 0.5 s to refute.
LARGE = ["--namespaces", "25", "--pods-per-namespace", "10", "--policies-per-namespace", "10", "--seed", "1"]
#: An invariant of the generated clusters whose query is satisfiable and needs a model.
HARD = "staging namespaces never reach prod"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _generate(out: Path, size: list[str], variant: str = "original") -> None:
    done = subprocess.run(
        [sys.executable, str(GENERATE), *size, "--variant", variant, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated cluster (100 pods, 50 policies): original, an equivalent rewrite and a
    mutation (one namespace changed in meaning)."""
    root = tmp_path_factory.mktemp("limits")
    for variant in ("original", "rewrite", "mutation"):
        _generate(root / variant, SIZE, variant)
    return root


@pytest.fixture(scope="module")
def hard(tmp_path_factory) -> Path:
    """An invariants file with the HARD invariant of a larger generated cluster."""
    root = tmp_path_factory.mktemp("limits-large")
    _generate(root, LARGE)
    spec = yaml.safe_load((root / "invariants.yaml").read_text())
    spec["invariants"] = [i for i in spec["invariants"] if i["name"].startswith(HARD)]
    assert len(spec["invariants"]) == 1
    path = root / "hard.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


# --- rlimit: deterministic ----------------------------------------------------------------


def test_rlimit_makes_every_invariant_unknown_in_the_api():
    report = prove(EXAMPLE, rlimit=1)
    assert [r.verdict for r in report.results] == [Verdict.UNKNOWN] * 6
    assert all("resource limit" in r.reason for r in report.results)


def test_prove_with_rlimit_exits_3_and_never_passes():
    result = run("prove", str(EXAMPLE), "--rlimit", "1")
    assert result.exit_code == 3, result.output
    assert "PROVED" not in result.output and "REFUTED" not in result.output
    assert result.output.count("UNKNOWN") == 6
    assert "6 invariants: 0 proved, 0 refuted, 6 unknown" in result.output


def test_prove_json_with_rlimit_says_unknown():
    result = run("prove", str(EXAMPLE), "--rlimit", "1", "--format", "json")
    assert result.exit_code == 3
    assert '"verdict": "unknown"' in result.output and '"verdict": "proved"' not in result.output


def test_equiv_with_rlimit_exits_3_undecided(generated):
    # The mutated namespace's policies differ in normal form, so its question goes to
    # the solver, which cannot decide it within the limit.
    result = run("equiv", str(generated / "original" / "k8s"), str(generated / "mutation" / "k8s"), "--rlimit", "1")
    assert result.exit_code == 3, result.output
    assert "UNKNOWN" in result.output and "undecided" in result.output
    assert "resource limit" in result.output


def test_equiv_of_a_rewrite_needs_no_solver(generated):
    """Every namespace of the rewrite has the same normal form on both sides: proved
    without a solver query, so a resource limit cannot leave it undecided."""
    result = run("equiv", str(generated / "original" / "k8s"), str(generated / "rewrite" / "k8s"), "--rlimit", "1")
    assert result.exit_code == 0, result.output
    assert "EQUIVALENT" in result.output


def test_redundant_with_rlimit_exits_3_every_item_undecided(generated):
    policies = generated / "original" / "k8s" / "policies" / "support-009.yaml"
    assert "2 redundant, 0 vacuous, 0 undecided" in run("redundant", str(policies)).output
    result = run("redundant", str(policies), "--rlimit", "1")
    assert result.exit_code == 3, result.output
    assert "0 redundant, 0 vacuous, 29 undecided" in result.output
    assert "resource limit" in result.output


# --- timeout: a 1 ms budget against queries that take tens of ms -------------------------


def test_prove_with_a_1ms_timeout_is_unknown_and_exits_3(hard):
    result = run("prove", str(hard), "--timeout", "0.001")
    assert result.exit_code == 3, result.output
    assert "1 invariant: 0 proved, 0 refuted, 1 unknown" in result.output
    assert "UNKNOWN  staging namespaces never reach prod" in result.output
    assert "timeout" in result.output


def test_the_same_invariant_is_decided_without_the_timeout(hard):
    result = run("prove", str(hard))
    assert "1 invariant: 0 proved, 1 refuted, 0 unknown" in result.output, result.output
    assert result.exit_code == 1


def test_equiv_with_a_1ms_timeout_exits_3_undecided(generated):
    result = run("equiv", str(generated / "original" / "k8s"), str(generated / "mutation" / "k8s"), "--timeout", "0.001")
    assert result.exit_code == 3, result.output
    assert "UNKNOWN" in result.output and "timeout" in result.output


def _blocked_ingress(cluster_root: Path) -> Path:
    """A policy admitting TCP/7777 into one generated namespace from five others, whose
    default-deny egress blocks it: locally a change, globally redundant, so every item
    needs the whole-cluster query (tens of ms on the LARGE cluster)."""
    namespaces = sorted(p.stem for p in (cluster_root / "k8s" / "policies").glob("*.yaml"))
    target, sources = namespaces[0], namespaces[1:6]
    rules = [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": source}}}],
            "ports": [{"protocol": "TCP", "port": 7777}],
        }
        for source in sources
    ]
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "from-neighbours", "namespace": target},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": rules},
    }
    path = cluster_root / "from-neighbours.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path


def test_redundant_with_a_1ms_timeout_reports_undecided_items(hard):
    root = hard.parent
    extra = _blocked_ingress(root)
    policy = f"{yaml.safe_load(extra.read_text())['metadata']['namespace']}/from-neighbours"
    decided = run("redundant", str(root / "k8s"), str(extra), "--policy", policy)
    assert "1 redundant, 0 vacuous, 0 undecided" in decided.output, decided.output
    result = run("redundant", str(root / "k8s"), str(extra), "--policy", policy, "--timeout", "0.001")
    # Items the solver settles in time are reported as usual; the rest are undecided, and
    # with nothing redundant found the answer is UNKNOWN (exit 3), never clean (exit 0).
    assert "timeout" in result.output, result.output
    assert result.exit_code in (1, 3)
    if result.exit_code == 3:
        assert "0 redundant, 0 vacuous" in result.output and " 0 undecided" not in result.output