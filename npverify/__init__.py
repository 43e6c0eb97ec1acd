"""npverify: formal verification of Kubernetes NetworkPolicies with the Z3 SMT solver.

>>> import npverify
>>> report = npverify.prove("specs/examples/shop/invariants.yaml")   # doctest: +SKIP
>>> print(report)                                                     # doctest: +SKIP
"""

__version__ = "0.1.0"

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
