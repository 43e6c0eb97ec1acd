"""The SMT package: the only part of npverify that imports z3."""

from npverify.smt.domains import Mentions, mentions_of
from npverify.smt.solve import Limits, Outcome, PacketQuery, SolverSession, Status

__all__ = ["Limits", "Mentions", "Outcome", "PacketQuery", "SolverSession", "Status", "mentions_of"]
