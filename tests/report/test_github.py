"""GitHub Actions annotations: golden files, escaping, levels and locations."""

from __future__ import annotations

import attrs
import pytest
from results_fixture import fixed_comparison, fixed_redundancy, fixed_report

from npverify.model import SourceLocation
from npverify.redundancy import UndecidedItem
from npverify.report import github


@pytest.mark.parametrize(
    "name, render",
    [
        ("report.github.txt", lambda: github.render_report(fixed_report()[0])),
        ("equiv.github.txt", lambda: github.render_comparison(fixed_comparison())),
        ("contains.github.txt", lambda: github.render_comparison(fixed_comparison(containment=True))),
        ("redundancy.github.txt", lambda: github.render_redundancy(fixed_redundancy())),
    ],
)
def test_github_matches_golden(golden, name, render):
    golden(name, render())


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command back into (command, properties, message), undoing the escapes."""
    assert line.startswith("::")
    head, _, message = line[2:].partition("::")
    name, _, given = head.partition(" ")

    def unescape(value: str) -> str:
        for code, char in (("%3A", ":"), ("%2C", ","), ("%0A", "\n"), ("%0D", "\r"), ("%25", "%")):
            value = value.replace(code, char)
        return value

    properties = {}
    for pair in given.split(",") if given else []:
        key, _, value = pair.partition("=")
        properties[key] = unescape(value)
    return name, properties, unescape(message)


def test_escaping_follows_the_runner_rules():
    assert github.escape_data("50% a\r\nb: c, d") == "50%25 a%0D%0Ab: c, d"
    assert github.escape_property("50% a\r\nb: c, d") == "50%25 a%0D%0Ab%3A c%2C d"
    # %25 first: an escape in the input is not read as one.
    assert github.escape_data("%0A") == "%250A"


def test_refuted_is_an_error_at_the_invariant_and_unknown_a_warning():
    lines = github.render_report(fixed_report()[0]).splitlines()
    assert len(lines) == 5  # only, reachable, the unknown one, the report's warning, the summary; proved: nothing
    name, props, message = parse(lines[0])
    assert name == "error"
    assert props == {"file": "invariants.yaml", "line": "5", "col": "5", "title": "Refuted: only shop reaches the api (only)"}
    assert message.splitlines()[0] == "counterexample: TCP port 8080"
    assert "destination ingress: allowed by shop/api ingress[0].from[0] ports[0] (k8s/policies.yaml:12:11)" in message
    name, props, message = parse(lines[2])
    assert name == "warning" and props["line"] == "20" and "not a pass" in props["title"]
    assert message == "timeout"
    assert parse(lines[3]) == ("warning", {"title": "npverify"}, fixed_report()[0].warnings[0])
    assert parse(lines[4]) == ("notice", {"title": "npverify"}, "4 invariants: 1 proved, 2 refuted, 1 unknown (1.52 s)")


def test_every_line_is_one_command():
    for text in (github.render_report(fixed_report()[0]), github.render_comparison(fixed_comparison())):
        for line in text.splitlines():
            assert line.startswith(("::error ", "::warning ", "::notice ")), line


def _relocated(file: str):
    report, _, _ = fixed_report()
    first = report.results[0]
    invariant = attrs.evolve(first.invariant, location=SourceLocation(file, 5, 5))
    return attrs.evolve(report, results=(attrs.evolve(first, invariant=invariant),))


def test_absolute_paths_become_relative_to_the_root_and_revisions_are_not_files(tmp_path):
    _, props, _ = parse(github.render_report(_relocated(str(tmp_path / "ci" / "inv,1.yaml")), root=str(tmp_path)).splitlines()[0])
    assert props["file"] == "ci/inv,1.yaml"
    _, props, message = parse(github.render_report(_relocated("main:ci/inv.yaml")).splitlines()[0])
    assert "file" not in props and "line" not in props
    assert "at main:ci/inv.yaml:5:5" in message


def test_comparison_annotations_sit_at_the_allowing_rule():
    lines = github.render_comparison(fixed_comparison()).splitlines()
    located = [(parse(line)[0], parse(line)[1].get("file"), parse(line)[1].get("line")) for line in lines]
    assert located == [("error", "data/old.yaml", "14"), ("error", "data/new.yaml", "10"), ("notice", None, None)]
    assert parse(lines[2])[2] == "DIFFERENT: 2 difference regions (0.25 s)"


def test_redundancy_errors_at_items_and_undecided_warns():
    report = fixed_redundancy()
    undecided = attrs.evolve(report, undecided=(UndecidedItem(report.vacuous[0].item, "canceled"),))
    commands = [parse(line) for line in github.render_redundancy(undecided).splitlines()]
    assert [(c[0], c[1].get("line")) for c in commands] == [
        ("error", "9"), ("error", "13"), ("error", "18"), ("warning", "18"), ("notice", None),
    ]
    assert commands[0][2] == (
        "covered: every packet it allows is allowed anyway by shop/api ingress[1]\n"
        "covered by shop/api ingress[1] (data/redundancy.yaml:13:5)"
    )
