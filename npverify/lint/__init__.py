"""``npverify lint``: the mistakes people make in NetworkPolicies, each proved and located.

``lint(cluster, universe, semantics, config)`` returns a LintReport; docs/lint.md lists
the rules. The rules' ids and configuration (npverify.lint.rules) import no solver.
"""

from __future__ import annotations

from npverify.lint.rules import (
    RULE_IDS,
    RULES,
    RULES_BY_ID,
    LintConfig,
    LintFinding,
    LintReport,
    ObjectRef,
    Rule,
    SkippedRule,
    UndecidedRule,
    check_rule_ids,
    unknown_rule_problem,
)


def lint(cluster, universe=None, semantics=None, config=None, limits=None, jobs: int = 1) -> LintReport:
    """Run the rules ``config`` selects (default: LintConfig()) over ``cluster``."""
    from npverify.lint.check import lint as run
    from npverify.model import Semantics, Universe
    from npverify.smt import Limits

    return run(cluster, universe or Universe(), semantics or Semantics(), config or LintConfig(), limits or Limits(), jobs)


__all__ = [
    "RULE_IDS",
    "RULES",
    "RULES_BY_ID",
    "LintConfig",
    "LintFinding",
    "LintReport",
    "ObjectRef",
    "Rule",
    "SkippedRule",
    "UndecidedRule",
    "check_rule_ids",
    "lint",
    "unknown_rule_problem",
]
