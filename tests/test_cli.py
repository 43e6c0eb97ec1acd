"""The command line as a user meets it: exit codes, formats, errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from npverify.api import prove as prove_file
from npverify.cli import main
from npverify.errors import InputError

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


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def write(tmp_path: Path, invariants: str, manifests: dict[str, str] | None = None) -> Path:
    for name, text in (manifests or {"k8s/policy.yaml": POLICY}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    path = tmp_path / "invariants.yaml"
    path.write_text(invariants)
    return path


def test_bundled_example_refutes_one_invariant_and_exits_1():
    result = run("prove", str(EXAMPLE))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[-1].startswith("6 invariants: 5 proved, 1 refuted, 0 unknown")
    refuted = [line for line in lines if line.startswith("REFUTED")]
    assert refuted == [f"REFUTED  only the shop's api reaches the payment gateway  (only, {EXAMPLE}:35:5)"]
    assert "allowed by payments/gateway ingress[0].from[0]" in result.output


def test_json_output_has_the_documented_fields():
    result = run("prove", str(EXAMPLE), "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["schema_version"] == 1
    assert [r["verdict"] for r in doc["results"]] == ["proved"] * 5 + ["refuted"]
    packet = doc["results"][5]["counterexample"]
    assert packet["destination"]["workload"] == "payments/Deployment/gateway"
    assert packet["protocol"] == "TCP" and packet["port"] == 8443
    assert doc["results"][4]["witness"]["destination"]["workload"] == "shop/Deployment/api"


def test_all_proved_exits_0(tmp_path):
    path = write(
        tmp_path,
        """\
manifests: [k8s]
invariants:
  - name: nothing reaches prod
    isolated:
      to: {namespace: prod}
""",
    )
    result = run("prove", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith("1 invariant: 1 proved, 0 refuted, 0 unknown")


def test_manifests_option_replaces_the_files_and_reads_stdin(tmp_path):
    path = write(tmp_path, "manifests: [does-not-exist]\ninvariants:\n  - name: prod closed\n    isolated: {to: {namespace: prod}}\n")
    assert run("prove", str(path), "--manifests", "-", input=POLICY).exit_code == 0
    assert run("prove", str(path), "--manifests", "-", input="").exit_code == 1
    missing = run("prove", str(path))
    assert missing.exit_code == 2
    assert "does-not-exist" in missing.output


def test_missing_manifests_entry_is_located_in_the_invariants_file(tmp_path):
    """A manifests path that does not exist is reported at its line, with its field path,
    not as a bare path; stdin and git revisions are not files and pass."""
    path = write(tmp_path, "manifests:\n  - k8s\n  - k8s/nowhere\n  - HEAD:k8s\ninvariants: []\n")
    result = run("prove", str(path))
    assert result.exit_code == 2
    missing = tmp_path / "k8s" / "nowhere"
    assert result.output.strip() == f"{path}:3:5: error: manifests[1]: no such file or directory: {missing}"
    with pytest.raises(InputError) as raised:
        prove_file(str(path))
    assert str(raised.value) == result.output.strip()
    single = write(tmp_path, "manifests: nowhere\ninvariants: []\n")
    result = run("prove", str(single))
    assert result.output.strip() == f"{single}:1:12: error: manifests: no such file or directory: {tmp_path / 'nowhere'}"


def test_missing_manifests_option_names_the_option(tmp_path):
    path = write(tmp_path, "manifests: [k8s]\ninvariants: []\n")
    result = run("prove", str(path), "--manifests", "k8s/x")
    assert result.exit_code == 2
    assert result.output.strip() == "error: --manifests k8s/x: no such file or directory"


def test_resource_limit_gives_unknown_and_exit_3(tmp_path):
    path = write(tmp_path, "manifests: [k8s]\ninvariants:\n  - name: prod closed\n    isolated: {to: {namespace: prod}}\n")
    result = run("prove", str(path), "--rlimit", "1")
    assert result.exit_code == 3, result.output
    assert "UNKNOWN  prod closed" in result.output
    assert "resource limit" in result.output


def test_refuted_takes_precedence_over_unknown(tmp_path):
    path = write(
        tmp_path,
        "manifests: [k8s]\ninvariants:\n  - name: a\n    isolated: {to: {namespace: dev}}\n",
    )
    assert run("prove", str(path)).exit_code == 1


def test_bad_invariants_file_exits_2_with_location_and_no_traceback(tmp_path):
    path = write(tmp_path, "manifests: [k8s]\ninvariants:\n  - name: x\n    isolatd: {}\n")
    result = run("prove", str(path))
    assert result.exit_code == 2
    assert f"{path}:4:5: error: invariants[0].isolatd:" in result.output
    assert "did you mean 'isolated'?" in result.output
    assert "Traceback" not in result.output


def test_bad_manifest_exits_2_with_field_path(tmp_path):
    bad = POLICY + "  ingress:\n    - ports:\n        - {port: 80, endPort: 79}\n"
    path = write(tmp_path, "manifests: [k8s]\ninvariants: []\n", {"k8s/p.yaml": bad})
    result = run("prove", str(path))
    assert result.exit_code == 2
    assert "spec.ingress[0].ports[0].endPort: must be >= port (got 79)" in result.output
    assert f"{tmp_path / 'k8s' / 'p.yaml'}:9:" in result.output


def test_unknown_workload_in_invariant_exits_2(tmp_path):
    path = write(tmp_path, "manifests: [k8s]\ninvariants:\n  - name: x\n    isolated:\n      to: {workload: ghost}\n")
    result = run("prove", str(path))
    assert result.exit_code == 2
    assert "workload 'ghost' was not loaded" in result.output
    assert f"{path}:5:" in result.output


def test_internal_error_exits_3(tmp_path, monkeypatch):
    import npverify.engine

    real = npverify.engine.decide

    def lying_decide(*args, **kwargs):
        decision = real(*args, **kwargs)
        import attrs

        return attrs.evolve(decision, allowed=not decision.allowed)

    monkeypatch.setattr(npverify.engine, "decide", lying_decide)
    path = write(tmp_path, "manifests: [k8s]\ninvariants:\n  - name: x\n    isolated: {to: {namespace: dev}}\n")
    result = run("prove", str(path))
    assert result.exit_code == 3
    assert "internal error" in result.output
    assert "disagree" in result.output


def test_universe_options_override_the_file(tmp_path):
    path = write(
        tmp_path,
        "manifests: [k8s]\ninvariants:\n  - name: some pod in a fresh namespace exists\n    reachable:\n      to: {namespace: {matchLabels: {team: ghost}}}\n",
    )
    assert run("prove", str(path)).exit_code == 0
    assert run("prove", str(path), "--namespaces", "declared").exit_code == 1


def test_help_documents_exit_codes():
    result = run("prove", "--help")
    assert result.exit_code == 0
    for line in ("0  every invariant proved", "1  at least one invariant refuted", "2  bad usage or bad input", "3  at least one invariant unknown"):
        assert line in result.output


@pytest.mark.parametrize("args", [["prove"], ["prove", "x.yaml", "--format", "xml"], ["nonsense"]])
def test_bad_usage_exits_2(args):
    assert CliRunner().invoke(main, args).exit_code == 2
