"""What questions return: verdicts and per-invariant results. Plain values, no solver."""

from __future__ import annotations

import enum

import attrs

from npverify.coverage import Coverage
from npverify.invariants.model import Invariant, InvariantKind
from npverify.model import Packet
from npverify.semantics import Decision


class Verdict(enum.Enum):
    """The answer to one invariant."""

    #: Holds for every packet of the universe (for ``reachable``: a witness exists).
    PROVED = "proved"
    #: Fails; ``packet`` is a counterexample (for ``reachable``: no packet is allowed).
    REFUTED = "refuted"
    #: Not decided (timeout, resource limit). Never counts as a pass.
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class InvariantResult:
    """The verdict on one invariant, with the packet that shows it and why it was decided.

    ``packet`` is the counterexample of a refuted isolated/allowed/only invariant, the
    witness of a proved ``reachable`` one, or for a refuted ``reachable`` one an example
    packet of its scope (denied, as every one is); ``decision`` is the reference
    evaluator's account of that packet (the policies and rules that decided it).
    """

    invariant: Invariant
    verdict: Verdict
    packet: Packet | None = None
    decision: Decision | None = None
    #: Why the verdict is UNKNOWN, or a note on a packet-less verdict.
    reason: str = ""
    #: Wall time spent on this invariant (encode, solve, decode, replay).
    seconds: float = 0.0
    #: How the packet went through a destination Service: "Service shop/api port 80/TCP ->
    #: pod port 8080 (targetPort http)"; "" when the invariant names none.
    via: str = ""
    #: A proved isolated/only invariant that holds only because no packet reaches its
    #: destination at all: "holds vacuously: nothing reaches namespace payments".
    note: str = ""

    @property
    def counterexample(self) -> Packet | None:
        if self.verdict is Verdict.REFUTED and self.invariant.kind is not InvariantKind.REACHABLE:
            return self.packet
        return None

    @property
    def denied_example(self) -> Packet | None:
        """A refuted ``reachable``: one packet of the scope, denied like every other (no
        single packet refutes "some packet is allowed"; this one shows what denies)."""
        if self.verdict is Verdict.REFUTED and self.invariant.kind is InvariantKind.REACHABLE:
            return self.packet
        return None

    @property
    def witness(self) -> Packet | None:
        if self.verdict is Verdict.PROVED and self.invariant.kind is InvariantKind.REACHABLE:
            return self.packet
        return None

    def __str__(self) -> str:
        from npverify.report.text import render_result

        return render_result(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_result_html

        return render_result_html(self)


@attrs.frozen
class ProofReport:
    """The results of proving an invariants file, in file order."""

    results: tuple[InvariantResult, ...]
    #: The invariants file, or None when invariants were given directly.
    source: str | None = None
    cluster_summary: str = ""
    #: Kinds read from the manifests but not used, as "Kind name (file:line:col)".
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    #: What the manifests held that npverify did not model, and what the user ignored.
    coverage: Coverage = Coverage()

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def all_proved(self) -> bool:
        return all(r.verdict is Verdict.PROVED for r in self.results)

    def __str__(self) -> str:
        from npverify.report.text import render_report

        return render_report(self)

    def _repr_html_(self) -> str:
        from npverify.report.html import render_report_html

        return render_report_html(self)
