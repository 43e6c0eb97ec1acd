"""docs/ci.md and .pre-commit-hooks.yaml cannot rot: their YAML parses, and every npverify
command line in them is accepted by the real command-line interface (commands, options
and option values such as ``--format sarif``)."""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
import yaml
from docs_commands import FENCE, check_command_line, shell_command_lines

import npverify.testing

ROOT = Path(__file__).resolve().parent.parent
CI_DOC = ROOT / "docs" / "ci.md"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
#: Keys whose string values are shell commands: GitHub Actions, GitLab CI, pre-commit.
COMMAND_KEYS = ("run", "script", "before_script", "after_script")
#: The keys pre-commit documents for a hook of .pre-commit-hooks.yaml (https://pre-commit.com/#new-hooks).
HOOK_REQUIRED = {"id", "name", "entry", "language"}
HOOK_OPTIONAL = {
    "files", "exclude", "types", "types_or", "exclude_types", "always_run", "fail_fast", "verbose",
    "pass_filenames", "require_serial", "description", "language_version", "minimum_pre_commit_version",
    "args", "stages",
}


def _blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(CI_DOC.read_text()) if lang == language]


def _commands(node, key: str | None = None) -> list[list[str]]:
    """The npverify command lines (as argv) in a parsed YAML document."""
    found: list[list[str]] = []
    if isinstance(node, dict):
        if isinstance(node.get("entry"), str) and node["entry"].split()[:1] == ["npverify"]:
            found.append(shlex.split(node["entry"]) + [str(a) for a in node.get("args", [])])
        for child_key, value in node.items():
            if child_key != "entry":
                found += _commands(value, str(child_key))
    elif isinstance(node, list):
        for item in node:
            found += _commands(item, key)
    elif isinstance(node, str) and key in COMMAND_KEYS:
        found += shell_command_lines(node)
    return found


def _check_command_line(argv: list[str]) -> None:
    check_command_line(argv, "docs/ci.md or .pre-commit-hooks.yaml")


def test_the_yaml_blocks_parse():
    blocks = _blocks("yaml")
    assert len(blocks) >= 5, f"expected the GitHub, GitLab and pre-commit YAML blocks in {CI_DOC}, found {len(blocks)}"
    for block in blocks:
        assert yaml.safe_load(block) is not None, block


def test_every_npverify_command_line_in_the_doc_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = [argv for block in _blocks("yaml") for argv in _commands(yaml.safe_load(block))]
    # Each block is where it should be: prove with SARIF, GitHub annotations, JUnit, equiv, pre-commit.
    assert len(commands) >= 6, commands
    for argv in commands:
        _check_command_line(argv)
    lines = [shlex.join(argv) for argv in commands]
    for expected in ("--format sarif -o npverify.sarif", "--format github", "--format junit -o junit.xml", "npverify equiv origin/main:k8s/ k8s/"):
        assert any(expected in line for line in lines), f"no command line with {expected!r} in {CI_DOC}: {lines}"


def test_the_checker_names_an_unknown_option():
    """The check above fails clearly, naming what the CLI does not know."""
    with pytest.raises(pytest.fail.Exception, match="No such option.*--no-such-option"):
        _check_command_line(["npverify", "prove", "x.yaml", "--no-such-option"])
    with pytest.raises(pytest.fail.Exception, match="'xml' is not one of"):
        _check_command_line(["npverify", "prove", "x.yaml", "--format", "xml"])
    with pytest.raises(pytest.fail.Exception, match="no such command 'verify'"):
        _check_command_line(["npverify", "verify", "x.yaml"])


def test_github_workflow_uploads_sarif_even_when_the_check_fails():
    workflow = next(yaml.safe_load(b) for b in _blocks("yaml") if "upload-sarif" in b)
    steps = workflow["jobs"]["prove"]["steps"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["uses"].endswith("@v3")
    assert upload["if"] == "always()"
    proving = next(s for s in steps if "npverify prove" in s.get("run", ""))
    assert upload["with"]["sarif_file"] in proving["run"].split()
    assert workflow["jobs"]["prove"]["permissions"]["security-events"] == "write"


def test_gitlab_job_reports_junit_even_when_the_check_fails():
    pipeline = next(yaml.safe_load(b) for b in _blocks("yaml") if "reports:" in b)
    job = pipeline["npverify"]
    assert job["artifacts"]["when"] == "always"
    report = job["artifacts"]["reports"]["junit"]
    assert any(f"-o {report}" in line for line in job["script"])


def test_the_python_example_imports_what_npverify_testing_exports():
    (block,) = _blocks("python")
    tree = ast.parse(block)
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "npverify.testing" for alias in node.names]
    assert imported and all(name in npverify.testing.__all__ for name in imported), imported


# --- .pre-commit-hooks.yaml ---------------------------------------------------------------------


def _project() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs tomllib (Python 3.11+)")
    with open(ROOT / "pyproject.toml", "rb") as stream:
        return tomllib.load(stream)["project"]


def _console_scripts() -> dict[str, str]:
    return _project()["scripts"]


def test_pre_commit_hooks_use_only_documented_keys_and_a_declared_console_script(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hooks = yaml.safe_load(HOOKS.read_text())
    assert isinstance(hooks, list) and hooks
    assert [h["id"] for h in hooks][:1] == ["npverify-prove"]
    scripts = _console_scripts()
    for hook in hooks:
        missing = HOOK_REQUIRED - hook.keys()
        unknown = hook.keys() - HOOK_REQUIRED - HOOK_OPTIONAL
        assert not missing and not unknown, f"hook {hook.get('id')}: missing {missing}, unknown {unknown}"
        assert hook["language"] == "python"
        # The hooks look at the whole policy set: file names would be read as extra arguments.
        assert hook["pass_filenames"] is False
        assert isinstance(hook["args"], list) and hook["args"], "the args show users what to set"
        executable = hook["entry"].split()[0]
        assert executable in scripts, f"entry {hook['entry']!r}: {executable!r} is not a console script of pyproject.toml"
        _check_command_line(shlex.split(hook["entry"]) + hook["args"])


# --- installing npverify -------------------------------------------------------------------------


def _pip_installs(node) -> list[tuple[str, list]]:
    """Every ``pip install`` line of a parsed YAML document, with the steps of its job (if a list)."""
    found: list[tuple[str, list]] = []
    if isinstance(node, dict):
        steps = node.get("steps") if isinstance(node.get("steps"), list) else None
        for value in node.values():
            for line, job_steps in _pip_installs(value):
                found.append((line, job_steps or steps or []))
    elif isinstance(node, list):
        for item in node:
            found += _pip_installs(item)
    elif isinstance(node, str):
        found += [(line.strip(), []) for line in node.splitlines() if line.strip().startswith("pip install")]
    return found


def test_ci_jobs_install_npverify_from_its_repository_not_from_an_index():
    """npverify is not on PyPI: ``pip install npverify`` would fail in every job that used it."""
    project = _project()["name"]
    installs = [found for block in _blocks("yaml") for found in _pip_installs(yaml.safe_load(block))]
    assert len(installs) >= 4, installs
    for line, steps in installs:
        argv = shlex.split(line, comments=True)[2:]
        assert argv and argv != [project], f"{line!r} installs from a package index, where npverify is not"
        (target,) = argv
        if target.startswith(("./", "../")):
            # A folder: a checkout step of this job put npverify's repository there.
            checkouts = [s.get("with", {}) for s in steps if str(s.get("uses", "")).startswith("actions/checkout@")]
            assert any(c.get("path") == target.removeprefix("./") and c.get("repository", "").endswith("/npverify") and c.get("ref") for c in checkouts), (line, checkouts)
        else:
            name, _, url = target.partition(" @ ")
            assert name == project and url.startswith("git+https://") and "@" in url.removeprefix("git+https://"), line
