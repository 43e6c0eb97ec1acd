"""The invariants file: what to prove about a cluster's traffic (docs/invariants.md)."""

from npverify.invariants.model import EndpointKind, Invariant, InvariantKind, InvariantsFile, Scope
from npverify.invariants.parser import load_invariants, parse_invariants

__all__ = [
    "EndpointKind",
    "Invariant",
    "InvariantKind",
    "InvariantsFile",
    "Scope",
    "load_invariants",
    "parse_invariants",
]
