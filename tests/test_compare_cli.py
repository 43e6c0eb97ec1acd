"""The equiv, contains and redundant commands as a user meets them: exit codes, text and
JSON output, --max-diffs, bad input, and manifests read from git revisions."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from npverify.cli import main
from tests.environment import require

DATA = Path(__file__).resolve().parent / "data" / "refactor"
CONTEXT = str(DATA / "context.yaml")

WIDEN_PORT_REGION = "TCP 81 from pods {app=web} in namespace shop to pods {app=api} in namespace shop"


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def case(name: str, side: str) -> str:
    return str(DATA / name / side)


def last_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


# --- equiv -------------------------------------------------------------------------------------


def test_equiv_of_a_refactor_exits_0() -> None:
    result = run("equiv", case("split-policy", "old.yaml"), case("split-policy", "new.yaml"), "--manifests", CONTEXT)
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout).startswith("EQUIVALENT: 0 difference regions")
    assert "only " in result.stdout and "0 regions" in result.stdout
    assert "Traceback" not in result.output


def test_equiv_of_a_mutation_exits_1_with_the_region() -> None:
    old, new = case("widen-port", "old.yaml"), case("widen-port", "new.yaml")
    result = run("equiv", old, new, "--manifests", CONTEXT)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"npverify: {old} vs {new}"
    assert f"only {old} allows: 0 regions" in lines
    assert f"only {new} allows: 1 region" in lines
    assert f"  [1] {WIDEN_PORT_REGION}" in lines
    assert f"{old} denies:" in result.stdout and f"{new} allows:" in result.stdout
    assert f"allowed by shop/api ingress[0].from[0] ports[0] ({new}:15:7)" in result.stdout
    assert last_line(result.stdout).startswith("DIFFERENT: 1 difference region ")


def test_equiv_json_has_the_documented_fields() -> None:
    old, new = case("widen-port", "old.yaml"), case("widen-port", "new.yaml")
    result = run("equiv", old, new, "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert (doc["left"], doc["right"]) == (old, new)
    assert doc["same"] is False
    assert doc["only_left"] == [] and doc["left_complete"] is True
    assert doc["right_complete"] is True and doc["reason"] is None
    [diff] = doc["only_right"]
    region = diff["region"]
    assert region["text"] == WIDEN_PORT_REGION
    assert region["protocols"] == ["TCP"] and region["ports"] == {"low": 81, "high": 81}
    assert region["source"]["labels"] == ["app=web"] and region["source"]["namespace"] == "shop"
    assert region["destination"]["labels"] == ["app=api"] and region["destination"]["kind"] == "pod"
    packet = region["packet"]
    assert packet["protocol"] == "TCP" and packet["port"] == 81
    assert packet["source"]["kind"] == "pod" and packet["source"]["labels"]["app"] == "web"
    assert packet["destination"]["namespace"] == "shop" and packet["destination"]["labels"]["app"] == "api"
    assert diff["left"]["allowed"] is False and diff["right"]["allowed"] is True
    assert diff["right"]["ingress"]["matching_rules"][0]["policy"] == "shop/api"
    assert diff["left"]["ingress"]["isolating_policies"][0]["policy"] == "shop/api"


def test_equiv_json_when_equivalent() -> None:
    result = run("equiv", case("ipblock-split-except", "old.yaml"), case("ipblock-split-except", "new.yaml"), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["same"] is True
    assert doc["only_left"] == [] and doc["only_right"] == []
    assert doc["left_complete"] is True and doc["right_complete"] is True


def test_equiv_universe_option_changes_the_verdict() -> None:
    """AND turned into OR admits new pods, but none of the loaded workloads."""
    old, new = case("and-to-or", "old.yaml"), case("and-to-or", "new.yaml")
    assert run("equiv", old, new, "--manifests", CONTEXT).exit_code == 1
    assert run("equiv", old, new, "--manifests", CONTEXT, "--pods", "workloads").exit_code == 0


def test_equiv_writes_to_output_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run("equiv", case("widen-port", "old.yaml"), case("widen-port", "new.yaml"), "--format", "json", "-o", out)
    assert result.exit_code == 1
    assert json.loads(out.read_text())["only_right"][0]["region"]["text"] == WIDEN_PORT_REGION


# --- --max-diffs ------------------------------------------------------------------------------------


def test_max_diffs_truncates_and_says_so() -> None:
    old, new = case("open-ports", "old.yaml"), case("open-ports", "new.yaml")
    result = run("equiv", old, new, "--max-diffs", "1")
    assert result.exit_code == 1, result.output
    assert f"only {new} allows: 1 region (more exist; raise --max-diffs)" in result.stdout
    assert "  [2] " not in result.stdout
    doc = json.loads(run("equiv", old, new, "--max-diffs", "1", "--format", "json").stdout)
    assert len(doc["only_right"]) == 1 and doc["right_complete"] is False and doc["same"] is False


def test_max_diffs_large_enough_lists_all() -> None:
    old, new = case("open-ports", "old.yaml"), case("open-ports", "new.yaml")
    result = run("equiv", old, new, "--max-diffs", "5", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["right_complete"] is True
    assert sorted(d["region"]["ports"]["low"] for d in doc["only_right"]) == [443, 8080, 9090]


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_diffs_must_be_positive(value: str) -> None:
    result = CliRunner().invoke(main, ["equiv", case("open-ports", "old.yaml"), case("open-ports", "new.yaml"), "--max-diffs", value])
    assert result.exit_code == 2
    assert "--max-diffs" in result.output


# --- contains -----------------------------------------------------------------------------------------


def test_contains_a_subset_exits_0() -> None:
    baseline, candidate = case("containment", "baseline.yaml"), case("containment", "subset.yaml")
    result = run("contains", baseline, candidate, "--manifests", CONTEXT)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"npverify: does {baseline} contain {candidate}"
    assert last_line(result.stdout).startswith("CONTAINED: 0 difference regions")
    assert f"only {baseline} allows" not in result.stdout


def test_contains_an_extra_port_exits_1() -> None:
    baseline, candidate = case("containment", "baseline.yaml"), case("containment", "extra-port.yaml")
    result = run("contains", baseline, candidate, "--manifests", CONTEXT)
    assert result.exit_code == 1, result.output
    assert "  [1] TCP 8443 from pods {app=web} in namespace shop to pods {app=api} in namespace shop" in result.stdout
    assert last_line(result.stdout).startswith("NOT CONTAINED: 1 difference region")
    doc = json.loads(run("contains", baseline, candidate, "--format", "json").stdout)
    assert doc["only_left"] is None and doc["same"] is False
    assert doc["only_right"][0]["region"]["ports"] == {"low": 8443, "high": 8443}


def test_contains_is_not_symmetric() -> None:
    baseline, candidate = case("containment", "baseline.yaml"), case("containment", "subset.yaml")
    assert run("contains", candidate, baseline).exit_code == 1


# --- redundant -----------------------------------------------------------------------------------------


def test_redundant_on_a_clean_set_exits_0() -> None:
    result = run("redundant", CONTEXT, DATA / "redundancy" / "clean.yaml")
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout).startswith("0 redundant, 0 vacuous, 0 undecided")


def test_redundant_lists_items_with_locations_and_covers() -> None:
    path = DATA / "redundancy" / "duplicate-rule.yaml"
    result = run("redundant", CONTEXT, path)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert f"  rule   shop/api ingress[0] ({path}:14:5)" in lines
    assert "         covered: every packet it allows is allowed anyway by shop/api ingress[1]" in lines
    assert f"  rule   shop/api ingress[1] ({path}:20:5)" in lines
    assert "         covered: every packet it allows is allowed anyway by shop/api ingress[0]" in lines
    assert last_line(result.stdout).startswith("2 redundant, 0 vacuous, 0 undecided")


def test_redundant_json_and_vacuous_items() -> None:
    path = DATA / "redundancy" / "selects-no-pod.yaml"
    assert run("redundant", CONTEXT, path).exit_code == 0
    result = run("redundant", CONTEXT, path, "--pods", "workloads", "--format", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1
    assert doc["redundant"] == [] and doc["undecided"] == []
    [entry] = doc["vacuous"]
    assert entry["reason"] == "it selects no pod"
    assert entry["item"]["text"] == "shop/legacy-cart" and entry["item"]["kind"] == "policy"
    assert entry["item"]["location"]["file"] == str(path)


def test_redundant_with_no_policy_loaded_exits_2(tmp_path: Path) -> None:
    """A path holding no NetworkPolicy (a typo in a pre-commit hook) must not pass as
    "nothing redundant"."""
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: prod}\n")
    result = run("redundant", tmp_path / "k8s", CONTEXT)
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == f"error: no NetworkPolicy found in {tmp_path / 'k8s'}, {CONTEXT}"
    assert result.stdout == ""
    assert "PATHS that hold no NetworkPolicy" in run("redundant", "--help").output


def test_redundant_unknown_policy_name_exits_2() -> None:
    result = run("redundant", CONTEXT, DATA / "redundancy" / "clean.yaml", "--policy", "shop/nope")
    assert result.exit_code == 2
    assert "--policy shop/nope: no such NetworkPolicy" in result.stderr


# --- bad input ------------------------------------------------------------------------------------------

BAD_POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api
  namespace: shop
spec:
  podSelector: {}
  ingress:
  - ports:
    - port: 81
      endPort: 80
"""


@pytest.mark.parametrize("command", ["equiv", "contains"])
def test_bad_manifest_exits_2_with_location(tmp_path: Path, command: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_POLICY)
    result = run(command, case("widen-port", "old.yaml"), bad)
    assert result.exit_code == 2, result.output
    assert f"{bad}:11:" in result.stderr
    assert "error: spec.ingress[0].ports[0].endPort: must be >= port (got 80)" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_bad_manifest_for_redundant_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_POLICY)
    result = run("redundant", bad)
    assert result.exit_code == 2
    assert f"{bad}:11:" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("equiv", tmp_path / "nope.yaml", case("widen-port", "old.yaml"))
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr


def test_conflicting_context_exits_2(tmp_path: Path) -> None:
    """Both sides are judged over one context: a namespace declared differently is an error."""
    other = tmp_path / "ns.yaml"
    other.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {team: other}\n")
    result = run("equiv", case("widen-port", "old.yaml"), other, "--manifests", CONTEXT)
    assert result.exit_code == 2, result.output
    assert "Namespace shop is defined differently" in result.stderr


# --- git revisions ---------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=npverify tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository whose HEAD holds k8s/ with the shop and the old api policy, and whose
    working tree has the port widened; the current folder is its top level."""
    require(shutil.which("git") is not None, "git", "git is not installed")
    top = tmp_path / "repo"
    (top / "k8s").mkdir(parents=True)
    shutil.copy(DATA / "context.yaml", top / "k8s" / "shop.yaml")
    shutil.copy(DATA / "widen-port" / "old.yaml", top / "k8s" / "api-policy.yaml")
    (top / "README.md").write_text("not a manifest\n")
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, "commit", "-q", "-m", "shop policies")
    shutil.copy(DATA / "widen-port" / "new.yaml", top / "k8s" / "api-policy.yaml")
    monkeypatch.chdir(top)
    return top


def test_equiv_head_against_working_tree_finds_the_change(repo: Path) -> None:
    result = run("equiv", "HEAD:k8s", "k8s")
    assert result.exit_code == 1, result.output
    assert result.stdout.splitlines()[0] == "npverify: HEAD:k8s vs k8s"
    assert "only HEAD:k8s allows: 0 regions" in result.stdout
    assert "only k8s allows: 1 region" in result.stdout
    assert f"  [1] {WIDEN_PORT_REGION}" in result.stdout
    # locations of the old side name the revision
    assert "HEAD:k8s/api-policy.yaml:1:1" in result.stdout


def test_equiv_head_against_itself_exits_0(repo: Path) -> None:
    result = run("equiv", "HEAD:k8s", "HEAD:k8s")
    assert result.exit_code == 0, result.output
    assert last_line(result.stdout).startswith("EQUIVALENT")


def test_equiv_revision_json(repo: Path) -> None:
    result = run("equiv", "HEAD:k8s/", "k8s", "--format", "json", "--pods", "workloads")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    [diff] = doc["only_right"]
    assert diff["region"]["ports"] == {"low": 81, "high": 81}
    assert diff["region"]["packet"]["source"]["workload"] == "shop/Deployment/web"


def test_contains_revision_against_working_tree(repo: Path) -> None:
    assert run("contains", "k8s", "HEAD:k8s").exit_code == 0
    assert run("contains", "HEAD:k8s", "k8s").exit_code == 1


@pytest.mark.parametrize("spec", ["no-such-rev:k8s", "HEAD:no-such-dir", "HEAD~5:k8s"])
def test_bad_revision_exits_2(repo: Path, spec: str) -> None:
    result = run("equiv", spec, "k8s")
    assert result.exit_code == 2, result.output
    assert spec in result.stderr
    assert "not a file or folder of a git revision" in result.stderr
    assert "Traceback" not in result.output


def test_revision_outside_a_repository_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require(shutil.which("git") is not None, "git", "git is not installed")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = run("equiv", "HEAD:k8s", "HEAD:k8s")
    assert result.exit_code == 2, result.output
    assert "HEAD:k8s" in result.stderr
