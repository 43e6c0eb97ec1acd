"""README.md and docs/output.md cannot rot: every npverify command line in the README is
accepted by the real command-line interface, every ``npverify.<name>`` its Python example
uses exists, and the outputs both files show are what npverify prints for the shop example
(timings aside)."""

from __future__ import annotations

import ast
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from docs_commands import check_command_line, fenced_blocks, shell_command_lines

import npverify
from npverify.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
OUTPUT_DOC = ROOT / "docs" / "output.md"
EXAMPLE = "specs/examples/shop/invariants.yaml"
INLINE_CODE = re.compile(r"`([^`\n]+)`")
TIMING = re.compile(r"\(\d+\.\d+ s\)")


def _readme_command_lines() -> list[list[str]]:
    """The npverify command lines of the README's code blocks and of its commands table.

    Inline code elsewhere names commands in prose (`npverify explain`), not whole command lines.
    """
    text = README.read_text()
    commands = [argv for lang, body in fenced_blocks(text) if lang != "python" for argv in shell_command_lines(body)]
    table_rows = [line for line in text.splitlines() if line.startswith("| `npverify ")]
    commands += [argv for row in table_rows for argv in shell_command_lines(INLINE_CODE.findall(row)[0])]
    return commands


def _run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _untimed(text: str) -> str:
    return TIMING.sub("(… s)", text)


# --- README: commands and Python names exist ------------------------------------------------


def test_every_npverify_command_line_in_the_readme_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = _readme_command_lines()
    lines = [" ".join(argv) for argv in commands]
    # The quick start's prove (after `pip install . &&`), the commands table and the explain example.
    assert f"npverify prove {EXAMPLE}" in lines, lines
    assert {argv[1] for argv in commands} >= {"prove", "equiv", "contains", "redundant", "explain"}, lines
    assert sum(argv[1] == "explain" for argv in commands) == 2, lines  # the table's and the example's
    for argv in commands:
        check_command_line(argv, "README.md")


def test_the_readme_checker_finds_commands_after_shell_operators_and_prompts():
    found = shell_command_lines("python3 -m venv .venv && pip install . && npverify prove x.yaml\n$ npverify explain --from a/b > out.txt")
    assert found == [["npverify", "prove", "x.yaml"], ["npverify", "explain", "--from", "a/b"]]
    with pytest.raises(pytest.fail.Exception, match=r"README.md: No such option.*--colour"):
        check_command_line(["npverify", "prove", "x.yaml", "--colour"], "README.md")


def test_the_readme_python_example_uses_only_public_names():
    (block,) = [body for lang, body in fenced_blocks(README.read_text(), "python")]
    tree = ast.parse(block)
    used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "npverify"}
    assert {"prove", "check", "explain", "load_manifests", "equivalence"} <= used, used
    missing = sorted(name for name in used if name not in npverify.__all__ or not hasattr(npverify, name))
    assert not missing, f"README's Python example uses npverify.{missing}, not in npverify.__all__"


def test_the_package_exports_explain():
    assert npverify.explain.__module__ == "npverify.explain"
    assert {"explain", "explain_packet", "Explanation"} <= set(npverify.__all__)


# --- the outputs shown are the outputs printed -------------------------------------------------


@pytest.fixture(scope="module")
def shop_outputs() -> dict[str, str]:
    """`npverify prove` of the shop example in each format, run from the top level as the docs are."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        outputs = {}
        for output_format in ("text", "sarif", "junit", "github"):
            result = _run("prove", EXAMPLE, "--format", output_format)
            assert result.exit_code == 1, result.output
            outputs[output_format] = result.stdout
    return outputs


def _block_after(text: str, heading: str, language: str) -> str:
    """The body of the first ``language`` block after ``heading``."""
    start = text.index(heading)
    return next(body for lang, body in fenced_blocks(text[start:]) if lang == language)


def test_readme_and_output_doc_show_the_refuted_invariant_as_printed(shop_outputs):
    printed = _untimed(shop_outputs["text"])
    readme = _block_after(README.read_text(), "## What it says", "")
    assert readme.startswith("REFUTED  only the shop's api reaches the payment gateway")
    assert printed.endswith(_untimed(readme)), f"README's example is not the end of what `npverify prove` prints:\n{printed}"
    shown = _block_after(OUTPUT_DOC.read_text(), "## Text", "")
    # The doc elides the middle with "..."; each part is printed as shown.
    for part in _untimed(shown).split("...\n"):
        assert part in printed, f"docs/output.md's text example differs from the output:\n{part}"


def test_readme_explain_example_is_printed_as_shown(monkeypatch):
    monkeypatch.chdir(ROOT)
    block = next(body for lang, body in fenced_blocks(README.read_text()) if body.startswith("$ npverify explain"))
    command, *shown = block.splitlines()
    (argv,) = shell_command_lines(command)
    result = _run(*argv[1:])
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    assert shown[0] == printed[0]
    for line in shown[1:]:
        assert line == "..." or line in printed, f"README's explain example shows a line npverify does not print: {line}"


def test_output_doc_sarif_example_is_the_real_result(shop_outputs):
    shown = json.loads(_block_after(OUTPUT_DOC.read_text(), "## SARIF", "json"))
    (result,) = json.loads(shop_outputs["sarif"])["runs"][0]["results"]
    assert shown == result


def test_output_doc_junit_example_is_the_real_test_case(shop_outputs):
    shown = ET.fromstring(_block_after(OUTPUT_DOC.read_text(), "## JUnit XML", "xml"))
    cases = ET.fromstring(shop_outputs["junit"]).iter("testcase")
    real = next(case for case in cases if case.get("name") == shown.get("name"))
    for case in (shown, real):
        case.attrib.pop("time")
    assert shown.attrib == real.attrib
    assert shown.find("failure").attrib == real.find("failure").attrib
    assert shown.find("failure").text == real.find("failure").text


def test_output_doc_github_example_is_the_real_annotations(shop_outputs):
    shown = _block_after(OUTPUT_DOC.read_text(), "## GitHub annotations", "")
    assert _untimed(shown) == _untimed(shop_outputs["github"])
