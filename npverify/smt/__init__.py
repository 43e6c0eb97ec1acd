"""The SMT package: the only part of npverify that imports z3."""

from npverify.smt.domains import Mentions, mentions_of
from npverify.smt.solve import ChangeChecker, Limits, LocalChecker, Outcome, PacketQuery, RegionsOutcome, SolverSession, Status, TierChangeChecker

__all__ = ["ChangeChecker", "Limits", "LocalChecker", "RegionsOutcome", "Mentions", "Outcome", "PacketQuery", "SolverSession", "Status", "TierChangeChecker", "mentions_of"]
