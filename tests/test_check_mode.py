"""Check mode (``prove --check``): proved invariants are re-checked on sampled packets by the
reference evaluator, so a wrong proof surfaces as an internal error instead of a pass."""

from __future__ import annotations

from pathlib import Path

import attrs
from click.testing import CliRunner

import npverify.engine
from npverify.api import prove
from npverify.cli import main
from npverify.engine import Verifier
from npverify.invariants import load_invariants
from npverify.invariants.model import InvariantKind, Scope
from npverify.load import load_manifests
from npverify.model import Protocol
from npverify.results import Verdict
from npverify.semantics import decide, ports_match, scope_matches, universe_problem
from npverify.smt import PacketQuery

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "specs" / "examples" / "shop" / "invariants.yaml"

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: prod}
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""

PROVED_ONLY = """\
manifests: [k8s]
invariants:
  - name: nothing reaches prod
    isolated:
      to: {namespace: prod}
"""


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def proved_only_file(tmp_path: Path) -> Path:
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "policy.yaml").write_text(POLICY)
    path = tmp_path / "invariants.yaml"
    path.write_text(PROVED_ONLY)
    return path


def test_check_mode_on_the_bundled_example_samples_and_agrees():
    plain = prove(EXAMPLE)
    checked = prove(EXAMPLE, check_samples=20)
    assert [r.verdict for r in checked.results] == [r.verdict for r in plain.results]
    for result in checked.results:
        universal = result.invariant.kind in (InvariantKind.ISOLATED, InvariantKind.ALLOWED, InvariantKind.ONLY)
        if universal and result.verdict is Verdict.PROVED:
            assert result.reason == "check: 20 sampled packets agree with the reference evaluator"
        else:
            assert not result.reason.startswith("check:")
    assert all(not r.reason for r in plain.results if r.verdict is Verdict.PROVED)


def test_cli_check_keeps_the_verdicts_and_exit_code():
    result = run("prove", str(EXAMPLE), "--check", "--check-samples", "5")
    assert result.exit_code == 1, result.output
    assert result.output.count("check: 5 sampled packets agree with the reference evaluator") == 4
    assert "5 proved, 1 refuted, 0 unknown" in result.output


def test_samples_are_distinct_in_scope_and_reach_corners():
    spec = load_invariants(EXAMPLE)
    cluster = load_manifests(list(spec.manifests))
    verifier = Verifier(cluster, spec.universe, spec.semantics, spec.invariants)
    invariant = spec.invariants[0]  # dev cannot reach prod
    query = PacketQuery(src=invariant.src, dst=invariant.dst, ports=invariant.ports, allowed=False)
    packets = verifier._session_for(invariant).sample(query, 30)
    assert len(packets) == len(set(packets)) == 30
    for packet in packets:
        assert universe_problem(cluster, packet, spec.universe) is None
        assert scope_matches(invariant.src, packet.src) and scope_matches(invariant.dst, packet.dst)
        assert ports_match(invariant.ports, packet.protocol, packet.port, packet.dst)
    assert {p.protocol for p in packets} == set(Protocol)
    assert {1, 65535} & {p.port for p in packets}


def test_a_lying_evaluator_turns_a_proof_into_an_internal_error(tmp_path, monkeypatch):
    path = proved_only_file(tmp_path)
    assert run("prove", str(path), "--check").exit_code == 0

    def lying_decide(cluster, packet, semantics=npverify.engine.Semantics(), **options):
        truth = decide(cluster, packet, semantics, **options)
        return attrs.evolve(truth, allowed=not truth.allowed)

    monkeypatch.setattr(npverify.engine, "decide", lying_decide)
    # Without --check the proof is UNSAT: no packet is replayed, the lie goes unseen.
    assert run("prove", str(path)).exit_code == 0
    result = run("prove", str(path), "--check")
    assert result.exit_code == 3, result.output
    assert "internal error: check mode: the proof of 'nothing reaches prod'" in result.output
    assert "the reference evaluator allows the packet" in result.output


def test_evaluate_many_answers_as_evaluate_does():
    """The deep differential run (benchmarks/deep_differential.py) uses evaluate_many."""
    spec = load_invariants(EXAMPLE)
    cluster = load_manifests(list(spec.manifests))
    verifier = Verifier(cluster, spec.universe, spec.semantics, spec.invariants)
    session = verifier._session_for(spec.invariants[0])
    packets = session.sample(PacketQuery(src=Scope(), dst=Scope(), ports=(), allowed=False), 15)
    answers = session.evaluate_many(packets)
    assert answers == [session.evaluate(p) for p in packets]
    assert answers == [decide(cluster, p, spec.semantics).allowed for p in packets]
    assert True in answers and False in answers
