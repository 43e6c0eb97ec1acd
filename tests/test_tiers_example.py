"""The worked example of docs/tiers.md: its verdicts, and explain walking the tiers."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from npverify.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "specs" / "examples" / "tiers"


def test_guardrails_are_proved_and_the_gap_refuted():
    result = CliRunner().invoke(main, ["prove", str(EXAMPLE / "invariants.yaml"), "--format", "json"])
    assert result.exit_code == 1, result.output
    import json

    verdicts = {r["name"]: r["verdict"] for r in json.loads(result.output)["results"]}
    assert verdicts == {
        "no tenant reaches kube-system beyond DNS": "proved",
        "tenants resolve names": "proved",
        "team-a cannot reach team-b": "proved",
        "monitoring scrapes only team-b's API port": "refuted",
    }


def test_explain_walks_the_tiers_in_order():
    args = ["explain", "--manifests", str(EXAMPLE / "cluster.yaml"), "--manifests", str(EXAMPLE / "policies.yaml")]
    result = CliRunner().invoke(main, args + ["--from", "monitoring/prometheus", "--to", "team-a/web", "--port", "8080"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("Admin tier (ingress)", "Ingress:", "Baseline tier (ingress)"))]
    assert [line.split(":")[0] for line in lines] == ["Admin tier (ingress)", "Ingress", "Baseline tier (ingress)"]
    assert "cnp/delegate-monitoring spec.ingress[0]" in lines[0] and "Pass" in lines[0]
    denied = CliRunner().invoke(main, args + ["--from", "team-a/web", "--to", "kube-system/coredns", "--port", "8080"])
    assert denied.exit_code == 1, denied.output
    assert 'the Admin tier rule cnp/protect-kube-system spec.ingress[1] "no-tenants" Deny' in denied.output
