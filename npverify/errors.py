"""Exceptions the library raises; the CLI turns each into a documented exit code."""

from __future__ import annotations

from collections.abc import Iterable

from npverify.model import Diagnostic


class InputError(Exception):
    """Bad input: unreadable files, invalid manifests or invariants (CLI exit 2)."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class InternalError(Exception):
    """npverify contradicted itself, e.g. the solver and the reference evaluator disagree (exit 3)."""


class UnsupportedError(Exception):
    """A question npverify cannot answer soundly for this input yet (CLI exit 3, like
    UNKNOWN): it says so rather than answer from part of the model."""
