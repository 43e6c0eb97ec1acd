"""Many "is some packet of this scope allowed?" questions answered with one solver.

Each question gets an indicator Boolean defined as its scope and ports; one check asks for
an allowed packet in any open question's scope, and every question whose indicator the
model makes true is answered at once (SAT). Those are closed and the check repeated until
it is UNSAT, which answers every question still open (UNSAT), or UNKNOWN. The cluster's
formula is asserted once for all of them, instead of once per question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import z3

from npverify.model import Packet
from npverify.smt.decode import Decoder
from npverify.smt.solve import Limits, Outcome, PacketQuery, SolverSession, Status


def allowed_each(
    session: SolverSession,
    queries: Sequence[PacketQuery],
    limits: Limits = Limits(),
    settle: Callable[[Packet, list[int]], Iterable[int]] | None = None,
) -> list[Outcome]:
    """Per query (each with ``allowed`` True): SAT when the encoding allows some packet of
    its scope and ports (under some resolution of what no manifest holds: see
    ``Encoding.unknown_vars``), UNSAT when it allows none, UNKNOWN with z3's reason.

    ``settle``, given each model's packet and the queries still open (those the model
    answers among them), returns those the caller has shown SAT by other means (say, the
    reference evaluator on this packet and packets made from it): they are closed without
    a check of their own. No packet is returned: a
    caller that needs one asks ``session.solve`` for that query.
    """
    if any(not q.allowed or q.src_negated for q in queries):
        raise ValueError("allowed_each answers queries for allowed packets from a source scope (not negated)")
    enc = session.encoding
    solver = session._solver(limits)
    solver.add(enc.allowed)
    flags = [z3.Bool(f"batch.query{i}", enc.ctx) for i in range(len(queries))]
    for flag, query in zip(flags, queries):
        inside = enc.conj(
            [enc.scope(query.src, enc.src, query.src_workload), enc.scope(query.dst, enc.dst, query.dst_workload), enc.ports(query.ports)]
        )
        solver.add(flag == inside)
    answers: list[Outcome | None] = [None] * len(queries)
    open_ = list(range(len(queries)))
    while open_:
        solver.push()
        solver.add(z3.Or([flags[i] for i in open_]))
        status, reason = session._status(solver)
        if status is Status.SAT:
            model = solver.model()
            found = {i for i in open_ if z3.is_true(model.eval(flags[i], model_completion=True))}
            if not found:
                raise AssertionError("a model of the disjunction of the open questions satisfies none of them")
            if settle is not None:
                found |= set(settle(Decoder(enc, model).packet(), open_)) & set(open_)
            for i in found:
                answers[i] = Outcome(Status.SAT)
            open_ = [i for i in open_ if i not in found]
        else:
            for i in open_:
                answers[i] = Outcome(status, reason=reason)
            open_ = []
        solver.pop()
    return [a for a in answers if a is not None]
