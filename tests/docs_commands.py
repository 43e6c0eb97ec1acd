"""Helpers for the tests that keep the docs' npverify command lines honest.

A documented command line is checked by parsing it with npverify's own click commands,
so a renamed option, a dropped command or a format that does not exist fails a test
instead of a reader. Parsing runs no command; ``-o FILE`` is opened lazily, so nothing is
written (callers run in a tmp folder all the same).
"""

from __future__ import annotations

import re
import shlex

import click
import pytest

from npverify.cli import main

#: A fenced code block: its language (possibly empty) and its body.
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&"}
NPVERIFY_WORD = re.compile(r"(^|[\s;&|(])npverify(\s|$)")


def fenced_blocks(markdown: str, language: str | None = None) -> list[tuple[str, str]]:
    """The ``(language, body)`` of each fenced block, only those of ``language`` if given."""
    return [(lang, body) for lang, body in FENCE.findall(markdown) if language is None or lang == language]


def shell_command_lines(text: str) -> list[list[str]]:
    """The npverify commands (as argv) in shell text, one per command of a pipeline or list.

    Backslash continuations are joined, comments dropped and a leading ``$ `` prompt is
    removed; each command between shell operators (``&&``, ``|``, ``;``, ...) that starts
    with ``npverify`` is returned up to any redirection. Lines without the word npverify
    are skipped unparsed, so output shown next to a command does not need to be shell.
    """
    found: list[list[str]] = []
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not NPVERIFY_WORD.search(line):
            continue
        if line.startswith("$ "):
            line = line[2:]
        argv = shlex.split(line, comments=True)
        command: list[str] = []
        for word in [*argv, ";"]:
            if word in SHELL_OPERATORS:
                if command[:1] == ["npverify"]:
                    found.append(command)
                # What follows a redirection is a file name, not a command.
                command = ["<redirect>"] if word in {">", ">>", "2>"} else []
            else:
                command.append(word)
    return found


def check_command_line(argv: list[str], where: str) -> None:
    """Parse ``argv`` with npverify's click commands; fail naming what is unknown and ``where`` it is written."""
    line = shlex.join(argv)
    assert argv[0] == "npverify" and len(argv) > 1, f"not an npverify command: {line}"
    name = argv[1]
    if name not in main.commands:
        pytest.fail(f"`{line}` in {where}: no such command {name!r}; npverify has {sorted(main.commands)}")
    command = main.commands[name]
    try:
        command.make_context(f"npverify {name}", list(argv[2:]))
    except click.exceptions.Exit:
        pass
    except click.UsageError as exc:
        pytest.fail(f"`{line}` in {where}: {exc.format_message()}")
