"""Every output format from every command that yields results, colour and progress, as a
user meets them on the command line."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

import npverify.cli
from npverify.api import prove
from npverify.cli import ProgressLine, main, use_color
from npverify.compare import compare
from npverify.load import load_manifests
from npverify.model import Universe, policy_items
from npverify.redundancy import find_redundancy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "specs" / "examples" / "shop" / "invariants.yaml"
DATA = Path(__file__).resolve().parent / "data"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())

COMMANDS = {
    "prove": ["prove", str(EXAMPLE)],
    "equiv": ["equiv", str(DATA / "old.yaml"), str(DATA / "new.yaml"), "--manifests", str(DATA / "context.yaml"), "--pods", "workloads"],
    "contains": ["contains", str(DATA / "old.yaml"), str(DATA / "new.yaml"), "--manifests", str(DATA / "context.yaml"), "--pods", "workloads"],
    "redundant": ["redundant", str(DATA / "context.yaml"), str(DATA / "redundancy.yaml"), "--pods", "workloads"],
}
JSON_SCHEMAS = {"prove": "report", "equiv": "comparison", "contains": "comparison", "redundant": "redundancy"}


def run(args, env=None):
    return CliRunner(env=env).invoke(main, args, catch_exceptions=False)


def check_format(command: str, output_format: str, output: str) -> None:
    """The output is a well-formed document of its format (and valid against its schema)."""
    if output_format == "json":
        schema = json.loads((ROOT / "specs" / f"{JSON_SCHEMAS[command]}.schema.json").read_text())
        jsonschema.validate(json.loads(output), schema, cls=jsonschema.Draft202012Validator)
    elif output_format == "sarif":
        doc = json.loads(output)
        jsonschema.validate(doc, SARIF_SCHEMA, cls=jsonschema.Draft4Validator)
        assert doc["runs"][0]["results"], "each command here has something to report"
    elif output_format == "junit":
        root = ET.fromstring(output)
        assert int(root.get("failures")) >= 1
    elif output_format == "github":
        lines = output.splitlines()
        assert lines[0].startswith("::error ") and lines[-1].startswith("::notice title=npverify::")
    else:
        assert "\x1b[" not in output  # not a terminal: no colour


@pytest.mark.parametrize("output_format", ["text", "json", "sarif", "junit", "github"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_takes_every_format_and_keeps_its_exit_code(command, output_format):
    # Each fixture has something to report: a refuted invariant, a difference, a redundant rule.
    result = run([*COMMANDS[command], "--format", output_format])
    assert result.exit_code == 1, result.output
    check_format(command, output_format, result.stdout)
    assert result.stderr == ""  # no progress line off a terminal


def test_output_option_writes_the_format_to_a_file(tmp_path):
    target = tmp_path / "npverify.sarif"
    result = run([*COMMANDS["redundant"], "--format", "sarif", "-o", str(target)])
    assert result.exit_code == 1 and result.stdout == ""
    check_format("redundant", "sarif", target.read_text())


def test_sarif_paths_are_relative_to_the_working_directory(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = run(["prove", "specs/examples/shop/invariants.yaml", "--format", "sarif"])
    run_ = json.loads(result.stdout)["runs"][0]
    [refuted] = run_["results"]
    assert refuted["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "specs/examples/shop/invariants.yaml"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"
    assert {r["physicalLocation"]["artifactLocation"]["uri"] for r in refuted["relatedLocations"]} == {
        "specs/examples/shop/k8s/payments-policies.yaml"
    }


def test_help_lists_every_format():
    for command in COMMANDS:
        assert "[text|json|sarif|junit|github]" in run([command, "--help"]).stdout


# --- colour ------------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(_Tty()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(_Tty()) is False
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value disables
    assert use_color(_Tty()) is True


def test_cli_colours_verdicts_on_a_terminal_unless_no_color(monkeypatch):
    monkeypatch.setattr(npverify.cli, "_is_terminal", lambda stream: True)
    coloured = run(["prove", str(EXAMPLE)], env={"NO_COLOR": None})
    assert coloured.exit_code == 1
    assert "\x1b[31mREFUTED\x1b[0m" in coloured.stdout and "\x1b[32mPROVED\x1b[0m" in coloured.stdout
    plain = run(["prove", str(EXAMPLE)], env={"NO_COLOR": "1"})
    assert plain.exit_code == 1 and "\x1b[3" not in plain.stdout
    assert "REFUTED  only the shop's api reaches the payment gateway" in plain.stdout


# --- progress ------------------------------------------------------------------------------


def test_progress_line_is_rewritten_in_place_and_cleared(monkeypatch):
    monkeypatch.setattr(ProgressLine, "INTERVAL", 3600.0)
    stream = io.StringIO()
    line = ProgressLine(stream)
    line(1, 3, "dev cannot reach prod")
    line(2, 3, "too soon: skipped")  # within the redraw interval
    line(3, 3, "the last one")  # always drawn
    line.clear()
    assert stream.getvalue() == (
        "\r\x1b[K[1/3] checking dev cannot reach prod..."
        "\r\x1b[K[3/3] checking the last one..."
        "\r\x1b[K"
    )


def test_cli_shows_progress_on_a_terminal_stderr_and_clears_it(monkeypatch):
    monkeypatch.setattr(npverify.cli, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(ProgressLine, "INTERVAL", 0.0)
    result = run(["prove", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 1
    assert "[1/6] checking dev cannot reach prod" in result.stderr
    assert "[6/6] checking only the shop's api reaches the payment gateway" in result.stderr
    assert result.stderr.endswith("\r\x1b[K")
    json.loads(result.stdout)  # progress never reaches stdout


def test_library_reports_progress_through_the_callback():
    calls = []
    prove(EXAMPLE, progress=lambda *args: calls.append(args))
    assert [c[:2] for c in calls] == [(n, 6) for n in range(1, 7)]
    assert calls[0][2] == "dev cannot reach prod"

    context = load_manifests([DATA / "context.yaml"])
    old, new = load_manifests([DATA / "old.yaml"]), load_manifests([DATA / "new.yaml"])
    calls.clear()
    compare(old.policies, new.policies, context, universe=Universe(pods="workloads"), names=("old", "new"), progress=lambda *a: calls.append(a))
    assert calls == [(1, 2, "what only old allows"), (2, 2, "what only new allows")]

    cluster = load_manifests([DATA / "context.yaml", DATA / "redundancy.yaml"])
    calls.clear()
    find_redundancy(cluster, Universe(pods="workloads"), progress=lambda *a: calls.append(a))
    total = sum(len(policy_items(p)) for p in cluster.policies)
    assert [c[:2] for c in calls] == [(n, total) for n in range(1, total + 1)]
    assert calls[0][2] == "shop/api"
