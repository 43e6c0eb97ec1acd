"""npverify: formal verification of Kubernetes NetworkPolicies with the Z3 SMT solver.

>>> import npverify
>>> report = npverify.prove("specs/examples/shop/invariants.yaml")   # doctest: +SKIP
>>> print(report)                                                     # doctest: +SKIP

The public names are loaded on first use (PEP 562), not on ``import npverify``: a command
that needs no solver (``npverify --help``) then does not pay for importing z3 and the
whole library (issue 13.2). ``from npverify import X`` works for every name of ``__all__``.
"""

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING

__version__ = "0.1.0"

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time ``__getattr__`` imports them
    from npverify.api import check, prove, summarize
    from npverify.compare import Comparison, Difference, compare, containment, equivalence
    from npverify.engine import Verifier
    from npverify.errors import InputError, InternalError
    from npverify.explain import Explanation, explain, explain_packet
    from npverify.invariants import (
        EndpointKind,
        Invariant,
        InvariantKind,
        InvariantsFile,
        Scope,
        load_invariants,
        parse_invariants,
    )
    from npverify.load import load_manifests, load_text
    from npverify.matrix import Cell, ConnectivityMatrix, PortSet, connectivity_matrix
    from npverify.model import (
        Cluster,
        ContainerPort,
        Direction,
        ExternalEndpoint,
        IPBlock,
        Labels,
        LabelSelector,
        Namespace,
        NetworkPolicy,
        NodeEndpoint,
        Operator,
        Packet,
        Peer,
        PodEndpoint,
        PolicyPort,
        Protocol,
        Requirement,
        Rule,
        Semantics,
        Universe,
        Workload,
    )
    from npverify.redundancy import RedundancyReport, find_redundancy
    from npverify.regions import EndpointRegion, PortRange, Region
    from npverify.results import InvariantResult, ProofReport, Verdict
    from npverify.semantics import Decision, decide

#: The module of every public name, loaded when the name is first asked for.
_PUBLIC_MODULES = {
    "npverify.api": ("check", "prove", "summarize"),
    "npverify.compare": ("Comparison", "Difference", "compare", "containment", "equivalence"),
    "npverify.engine": ("Verifier",),
    "npverify.errors": ("InputError", "InternalError"),
    "npverify.explain": ("Explanation", "explain", "explain_packet"),
    "npverify.invariants": ("EndpointKind", "Invariant", "InvariantKind", "InvariantsFile", "Scope", "load_invariants", "parse_invariants"),
    "npverify.load": ("load_manifests", "load_text"),
    "npverify.matrix": ("Cell", "ConnectivityMatrix", "PortSet", "connectivity_matrix"),
    "npverify.model": ("Cluster", "ContainerPort", "Direction", "ExternalEndpoint", "IPBlock", "Labels", "LabelSelector", "Namespace", "NetworkPolicy", "NodeEndpoint", "Operator", "Packet", "Peer", "PodEndpoint", "PolicyPort", "Protocol", "Requirement", "Rule", "Semantics", "Universe", "Workload"),
    "npverify.redundancy": ("RedundancyReport", "find_redundancy"),
    "npverify.regions": ("EndpointRegion", "PortRange", "Region"),
    "npverify.results": ("InvariantResult", "ProofReport", "Verdict"),
    "npverify.semantics": ("Decision", "decide"),
}
_MODULE_OF = {name: module for module, names in _PUBLIC_MODULES.items() for name in names}

__all__ = [
    "Cell",
    "Cluster",
    "Comparison",
    "ConnectivityMatrix",
    "ContainerPort",
    "Decision",
    "Difference",
    "Direction",
    "EndpointRegion",
    "EndpointKind",
    "Explanation",
    "ExternalEndpoint",
    "IPBlock",
    "InputError",
    "InternalError",
    "Invariant",
    "InvariantKind",
    "InvariantResult",
    "InvariantsFile",
    "LabelSelector",
    "Labels",
    "Namespace",
    "NetworkPolicy",
    "NodeEndpoint",
    "Operator",
    "Packet",
    "Peer",
    "PodEndpoint",
    "PolicyPort",
    "PortRange",
    "PortSet",
    "ProofReport",
    "Protocol",
    "RedundancyReport",
    "Region",
    "Requirement",
    "Rule",
    "Scope",
    "Semantics",
    "Universe",
    "Verdict",
    "Verifier",
    "Workload",
    "check",
    "compare",
    "connectivity_matrix",
    "containment",
    "decide",
    "equivalence",
    "explain",
    "explain_packet",
    "find_redundancy",
    "load_invariants",
    "load_manifests",
    "load_text",
    "parse_invariants",
    "prove",
    "summarize",
]


def __getattr__(name: str):
    """Import a public name's module on first use (PEP 562), and a submodule as before."""
    module = _MODULE_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value  # later look-ups find it without calling __getattr__
        return value
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")  # npverify.engine after a bare import npverify
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _Package(types.ModuleType):
    """npverify itself. ``npverify.compare`` and ``npverify.explain`` are functions that share
    their name with a submodule; importing the submodule makes Python set the package's
    attribute to the submodule, which eager imports used to undo. Here the function keeps
    the name: the submodule stays reachable through ``sys.modules`` and ``import``."""

    def __setattr__(self, name: str, value) -> None:
        if name in _MODULE_OF and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
