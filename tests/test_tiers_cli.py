"""The Admin and Baseline tiers through the command line: the same-priority finding and its
tie-break, cluster-scoped policies shared by both sides of equiv, and invariants that name
cluster-scoped policies."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from npverify.cli import main

DATA = Path(__file__).resolve().parent / "data" / "tiers"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def invariants(tmp_path: Path, manifest: str, body: str, semantics: str = "") -> Path:
    path = tmp_path / "invariants.yaml"
    path.write_text(f"manifests: [{DATA / manifest}]\n{semantics}invariants:\n{body}")
    return path


TEAM_X_TO_PROD = """\
- name: team x cannot reach prod
  isolated: {from: {namespace: {matchLabels: {team: x}}}, to: {namespace: {matchLabels: {env: prod}}}}
"""


def test_overlapping_same_priority_policies_are_a_finding_and_make_the_answer_unknown(tmp_path):
    result = run("prove", invariants(tmp_path, "same-priority.yaml", TEAM_X_TO_PROD))
    assert result.exit_code == 3, result.output
    assert "cnp/a-allow and cnp/b-deny share tier Admin and priority 5" in result.output
    assert "UNKNOWN  team x cannot reach prod" in result.output
    assert "which of cnp/a-allow, cnp/b-deny (tier Admin, priority 5) applies first" in result.output


def test_the_by_name_tie_break_decides(tmp_path):
    path = invariants(tmp_path, "same-priority.yaml", TEAM_X_TO_PROD)
    # By name, cnp/a-allow goes first: team x reaches prod.
    by_flag = run("prove", path, "--same-priority", "name")
    assert by_flag.exit_code == 1, by_flag.output
    assert "REFUTED  team x cannot reach prod" in by_flag.output
    by_file = run("prove", invariants(tmp_path, "same-priority.yaml", TEAM_X_TO_PROD, "semantics: {samePriority: name}\n"))
    assert by_file.exit_code == 1, by_file.output


def test_same_priority_setting_is_checked(tmp_path):
    result = run("prove", invariants(tmp_path, "same-priority.yaml", TEAM_X_TO_PROD, "semantics: {samePriority: first}\n"))
    assert result.exit_code == 2
    assert "semantics.samePriority: must be one of any, name (got 'first')" in result.output


def test_cluster_scoped_policies_of_the_shared_manifests_hold_on_both_sides():
    left, right = DATA / "admin-over-deny.yaml", DATA / "prod-allows-dev.yaml"
    # The guardrails decide dev -> prod: under them, the two NetworkPolicy sets allow alike.
    shared = run("equiv", left, right, "--manifests", DATA / "guardrails-only.yaml")
    assert shared.exit_code == 0, shared.output
    assert "EQUIVALENT" in shared.output
    wider = run("equiv", left, DATA / "prod-allows-all.yaml", "--manifests", DATA / "guardrails-only.yaml")
    assert wider.exit_code == 1, wider.output


def test_redundant_invariants_name_cluster_scoped_policies(tmp_path):
    body = """\
- name: the admin policy adds something
  redundant: {policy: anp/dev-to-prod}
- name: no such policy
  redundant: {policy: anp/nope}
"""
    result = run("prove", invariants(tmp_path, "admin-over-deny.yaml", body.split("- name: no such")[0]))
    assert result.exit_code == 1, result.output
    assert "with anp/dev-to-prod the packet is allowed, without it denied" in result.output
    missing = run("prove", invariants(tmp_path, "admin-over-deny.yaml", "- name: no such policy\n" + body.split("- name: no such policy\n")[1]))
    assert missing.exit_code == 2
    assert "no NetworkPolicy anp/nope in the manifests (cluster-scoped policies are cnp/, anp/ or banp/NAME)" in missing.output
