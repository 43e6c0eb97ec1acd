"""The SMT encoding of one symbolic packet and of NetworkPolicy semantics over it.

docs/semantics.md states the semantics; docs/encoding.md explains this encoding. In short:
each endpoint is a handful of small bit-vectors (kind, namespace code, one code per label
key that matters, workload code) plus a 128-bit IP; the packet adds protocol, port and an
IP-family flag. Terms are built once per (cluster, universe, domains) and shared by every
query; each query adds its scope to a fresh solver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Union

import attrs
import z3
from z3 import z3core

from npverify.invariants.model import EndpointKind, Scope
from npverify.model import (
    NAMESPACE_NAME_LABEL,
    Action,
    Cluster,
    ClusterPeer,
    ClusterPolicy,
    ClusterPort,
    ClusterRule,
    PodSet,
    Tier,
    ContainerPort,
    Direction,
    IPBlock,
    IPNetwork,
    LabelSelector,
    ExternalEndpoint,
    NetworkPolicy,
    NodeEndpoint,
    Operator,
    Packet,
    Peer,
    PodEndpoint,
    PolicyItem,
    PolicyPort,
    Protocol,
    Requirement,
    Rule,
    Semantics,
    Universe,
    Workload,
)
from npverify.smt.domains import Domains, LabelDomain
from npverify.tiers import GroupKey, Resolution, effective_action, selects_all_or_none

Term = Union[z3.BoolRef, bool]

POD, EXTERNAL, NODE = 0, 1, 2
PROTOCOLS = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)


def _bits(count: int) -> int:
    """Bit-vector width that holds the codes 0..count-1."""
    return max(1, (max(count, 1) - 1).bit_length())


@attrs.define
class EndpointVars:
    """The variables of one endpoint."""

    kind: z3.BitVecRef
    host_network: z3.BoolRef
    namespace: z3.BitVecRef
    labels: dict[str, z3.BitVecRef]
    ip: z3.BitVecRef
    #: Index into the encoding's workload classes; ``len(classes)`` is "a pod of no loaded workload".
    workload_class: z3.BitVecRef
    #: Named ports of the pod: name -> (has it, number, protocol code). Destination only.
    ports: dict[str, tuple[z3.BoolRef, z3.BitVecRef, z3.BitVecRef]]


@attrs.frozen
class WorkloadClass:
    """Loaded workloads that no policy can tell apart, apart from their namespace.

    Their pods agree on every label code, named port, hostNetwork and status IP the
    domains see, so the encoding needs one set of constraints per class, not per
    workload (20,000 workloads typically make a few hundred classes); the namespace is
    the endpoint's own variable. Workloads a question names get classes of their own.
    """

    label_codes: tuple[int, ...]
    #: Per name in ``Domains.port_names``: the container port of that name, or None.
    named_ports: tuple[ContainerPort | None, ...]
    host_network: bool
    ips: tuple
    #: Indexes into the cluster's workloads, in order.
    members: tuple[int, ...]
    #: The namespaces with a pod of this class, sorted.
    namespaces: tuple[str, ...]
    #: Namespaces where the class's only workload is a single Pod: two distinct pods of
    #: the class cannot both be there.
    lone_pods: tuple[str, ...]


def workload_classes(
    workloads: Sequence[Workload], domains: Domains, distinguish: frozenset[str] = frozenset()
) -> tuple[tuple[WorkloadClass, ...], tuple[int, ...]]:
    """The classes of ``workloads`` and, per workload, the index of its class."""
    groups: dict[tuple, list[int]] = {}
    for index, w in enumerate(workloads):
        ports = {p.name: p for p in w.ports if p.name}
        key = (
            tuple(dom.code(w.labels) for dom in domains.pod_keys),
            tuple(ports.get(name) for name in domains.port_names),
            w.host_network,
            w.ips,
            w.key if w.key in distinguish else None,
        )
        groups.setdefault(key, []).append(index)
    classes = []
    class_of = [0] * len(workloads)
    for code, ((labels, ports, host_network, ips, _), members) in enumerate(groups.items()):
        by_namespace: dict[str, list[int]] = {}
        for index in members:
            class_of[index] = code
            by_namespace.setdefault(workloads[index].namespace, []).append(index)
        lone = tuple(
            sorted(ns for ns, ms in by_namespace.items() if len(ms) == 1 and workloads[ms[0]].single_pod)
        )
        classes.append(WorkloadClass(labels, ports, host_network, ips, tuple(members), tuple(sorted(by_namespace)), lone))
    return tuple(classes), tuple(class_of)


class Encoding:
    """Variables and terms for one symbolic packet in one cluster and universe."""

    def __init__(
        self,
        cluster: Cluster,
        domains: Domains,
        universe: Universe,
        semantics: Semantics,
        distinguish: frozenset[str] = frozenset(),
    ) -> None:
        """``distinguish``: keys of workloads that get a class of their own (see WorkloadClass)."""
        self.ctx = z3.Context()
        self.cluster = cluster
        self.domains = domains
        self.universe = universe
        self.semantics = semantics
        self.workloads: tuple[Workload, ...] = cluster.workloads
        self.declared = {ns.name: ns for ns in cluster.namespaces}
        self._true = z3.BoolVal(True, self.ctx)
        self._false = z3.BoolVal(False, self.ctx)
        self._cache: dict[tuple, z3.BoolRef] = {}
        self._constants: dict[tuple[int, int], z3.BitVecRef] = {}
        #: Variables for what no manifest holds, made as the tiers' terms are built.
        self.unknown_peers: dict[ClusterPeer, z3.BoolRef] = {}
        self.choices: dict[GroupKey, z3.BitVecRef] = {}
        self.choice_codes: dict[GroupKey, dict[str, int]] = {}

        self.classes, self.class_of = workload_classes(cluster.workloads, domains, distinguish)
        self.ns_bits = _bits(len(domains.namespaces))
        self.wl_bits = _bits(len(self.classes) + 1)
        self.v6 = z3.Bool("v6", self.ctx)
        self.protocol = z3.BitVec("protocol", 2, self.ctx)
        self.port = z3.BitVec("port", 16, self.ctx)
        self.same_pod = z3.Bool("same_pod", self.ctx) if universe.self_traffic else self._false
        # The source is the destination pod's node, or a hostNetwork pod running on it.
        own_node_possible = universe.node_traffic or universe.host_network
        self.own_node = z3.Bool("own_node", self.ctx) if own_node_possible else self._false
        self.namespace_labels = self._namespace_label_table()
        self.src = self._endpoint("src", with_ports=False)
        self.dst = self._endpoint("dst", with_ports=True)
        #: ``own_node`` where it means something: a node or hostNetwork pod source.
        self.from_own_node = self.conj(
            [self.own_node, self.disj([self.src.kind == self._bv(NODE, 2), self.conj([self.is_pod(self.src), self.src.host_network])])]
        )
        self.constraints: list[z3.BoolRef] = self._universe_constraints()

    @property
    def allowed(self) -> z3.BoolRef:
        """The packet is allowed by the cluster's policies (built when first asked for)."""
        if ("allowed",) not in self._cache:
            self._cache[("allowed",)] = self.allowed_by(self.cluster.policies + self.cluster.cluster_policies)
        return self._cache[("allowed",)]

    # --- helpers -------------------------------------------------------------------------

    def _bv(self, value: int, bits: int) -> z3.BitVecRef:
        """The constant ``value`` of ``bits`` bits, made once: the universe and the selectors
        compare variables with the same few constants thousands of times."""
        key = (value, bits)
        constant = self._constants.get(key)
        if constant is None:
            constant = self._constants[key] = z3.BitVecVal(value, bits, self.ctx)
        return constant

    def _eq(self, a: z3.BitVecRef, b: z3.BitVecRef) -> z3.BoolRef:
        """``a == b`` for bit-vectors of one sort, without z3's coercion (see ``_apply``);
        z3 itself still refuses bit-vectors of different sizes. The term is the one ``==``
        builds, so the solver sees what it saw before: Python lets a subclass's reflected
        ``__eq__`` go first, and ``variable == constant`` gives ``(= constant variable)``."""
        if type(b) is not type(a) and isinstance(b, type(a)):
            a, b = b, a
        return z3.BoolRef(z3core.Z3_mk_eq(self.ctx.ref(), a.as_ast(), b.as_ast()), self.ctx)

    def conj(self, terms: Iterable[Term]) -> z3.BoolRef:
        items = []
        for t in terms:
            if t is False:
                return self._false
            if t is True:
                continue
            items.append(t)
        if not items:
            return self._true
        return items[0] if len(items) == 1 else self._apply(z3core.Z3_mk_and, items)

    def disj(self, terms: Iterable[Term]) -> z3.BoolRef:
        items = []
        for t in terms:
            if t is True:
                return self._true
            if t is False:
                continue
            items.append(t)
        if not items:
            return self._false
        return items[0] if len(items) == 1 else self._apply(z3core.Z3_mk_or, items)

    def _apply(self, make, items: list[z3.BoolRef]) -> z3.BoolRef:
        """``And``/``Or`` of Boolean terms of this context, without z3's per-argument
        coercion and sort checks, which cost more than building the term (the encoding
        makes hundreds of thousands of them)."""
        args = (z3.Ast * len(items))()
        for i, item in enumerate(items):
            args[i] = item.as_ast()
        return z3.BoolRef(make(self.ctx.ref(), len(items), args), self.ctx)

    def new_solver(self) -> z3.Solver:
        """An empty QF_BV solver of this context. ``z3.SolverFor`` makes the logic's name in
        z3's global context, creating that whole context (8 ms) in every process that asks."""
        logic = z3core.Z3_mk_string_symbol(self.ctx.ref(), "QF_BV")
        return z3.Solver(z3core.Z3_mk_solver_for_logic(self.ctx.ref(), logic), self.ctx)

    def assert_all(self, solver: z3.Solver, terms: Iterable[Term]) -> None:
        """``solver.add(*terms)``, in order, without z3's per-term coercion and sort check
        for the Boolean terms of this context (the universe is asserted into every fresh
        solver: a few hundred terms each time)."""
        ctx_ref = self.ctx.ref()
        for term in terms:
            if type(term) is z3.BoolRef and term.ctx is self.ctx:
                z3core.Z3_solver_assert(ctx_ref, solver.solver, term.as_ast())
            else:
                solver.add(term)

    # --- variables -----------------------------------------------------------------------

    def _namespace_label_table(self) -> dict[str, dict[str, Union[int, z3.BitVecRef]]]:
        """Label code per namespace name and key: a constant for declared namespaces, a
        variable shared by both endpoints for the others (so one namespace has one label set).
        """
        table: dict[str, dict[str, Union[int, z3.BitVecRef]]] = {}
        fresh_from = len(self.domains.namespaces) - self.domains.fresh
        for code, name in enumerate(self.domains.namespaces):
            row: dict[str, Union[int, z3.BitVecRef]] = {}
            declared = self.declared.get(name)
            for dom in self.domains.namespace_keys:
                if dom.key == NAMESPACE_NAME_LABEL:
                    row[dom.key] = dom.other if code >= fresh_from else dom.code({dom.key: name})
                elif declared is not None:
                    row[dom.key] = dom.code(declared.labels)
                else:
                    var = z3.BitVec(f"nslabel[{name}][{dom.key}]", _bits(dom.other + 1), self.ctx)
                    row[dom.key] = var
            table[name] = row
        return table

    def _endpoint(self, side: str, with_ports: bool) -> EndpointVars:
        ctx = self.ctx
        host_network = z3.Bool(f"{side}.hostNetwork", ctx) if self.universe.host_network else self._false
        labels = {
            dom.key: z3.BitVec(f"{side}.label[{dom.key}]", _bits(dom.other + 1), ctx)
            for dom in self.domains.pod_keys
        }
        ports = {}
        if with_ports:
            for name in self.domains.port_names:
                ports[name] = (
                    z3.Bool(f"{side}.port[{name}].defined", ctx),
                    z3.BitVec(f"{side}.port[{name}].number", 16, ctx),
                    z3.BitVec(f"{side}.port[{name}].protocol", 2, ctx),
                )
        return EndpointVars(
            kind=z3.BitVec(f"{side}.kind", 2, ctx),
            host_network=host_network,
            namespace=z3.BitVec(f"{side}.namespace", self.ns_bits, ctx),
            labels=labels,
            ip=z3.BitVec(f"{side}.ip", 128, ctx),
            workload_class=z3.BitVec(f"{side}.workload_class", self.wl_bits, ctx),
            ports=ports,
        )

    # --- atoms ---------------------------------------------------------------------------

    def is_pod(self, e: EndpointVars) -> z3.BoolRef:
        key = ("pod", id(e))
        if key not in self._cache:
            self._cache[key] = self._eq(e.kind, self._bv(POD, 2))
        return self._cache[key]

    def is_policy_pod(self, e: EndpointVars) -> z3.BoolRef:
        """A pod that policies select and that label selectors see (not hostNetwork)."""
        key = ("policy-pod", id(e))
        if key not in self._cache:
            self._cache[key] = self.conj([self.is_pod(e), self.negate(e.host_network)])
        return self._cache[key]

    def negate(self, term: z3.BoolRef) -> z3.BoolRef:
        """``Not(term)``, without z3's argument checks (see ``_apply``)."""
        return z3.BoolRef(z3core.Z3_mk_not(self.ctx.ref(), term.as_ast()), self.ctx)

    def in_namespace(self, e: EndpointVars, name: str) -> Term:
        key = ("ns", id(e), name)
        if key not in self._cache:
            code = self.domains.namespace_codes.get(name)
            self._cache[key] = False if code is None else self._eq(e.namespace, self._bv(code, self.ns_bits))
        return self._cache[key]

    def in_network(self, e: EndpointVars, network: IPNetwork) -> z3.BoolRef:
        key = ("net", id(e), network)
        if key not in self._cache:
            low = int(network.network_address)
            high = int(network.broadcast_address)
            family = self.v6 if network.version == 6 else z3.Not(self.v6)
            range_terms: list[Term] = [family]
            if network.prefixlen:
                range_terms.append(z3.ULE(self._bv(low, 128), e.ip))
                range_terms.append(z3.ULE(e.ip, self._bv(high, 128)))
            self._cache[key] = self.conj(range_terms)
        return self._cache[key]

    def in_ip_block(self, e: EndpointVars, block: IPBlock) -> z3.BoolRef:
        return self.conj([self.in_network(e, block.cidr)] + [self.negate(self.in_network(e, x)) for x in block.except_])

    @staticmethod
    def _requirement(req: Requirement, dom: LabelDomain, code, wanted: Sequence[int] | None = None):
        """A requirement over a label code; ``code`` is a z3 term or a known int.
        ``wanted``: the codes of its values in ``dom``, when the caller has them already."""
        if wanted is None:
            wanted = [dom.values.index(v) + 1 for v in req.values]
        if isinstance(code, int):
            if req.operator is Operator.IN:
                return code in wanted
            if req.operator is Operator.NOT_IN:
                return code not in wanted
            if req.operator is Operator.EXISTS:
                return code != 0
            return code == 0
        bits = code.size()
        if req.operator is Operator.IN:
            return z3.Or([code == z3.BitVecVal(w, bits, code.ctx) for w in wanted]) if len(wanted) > 1 else code == z3.BitVecVal(wanted[0], bits, code.ctx)
        if req.operator is Operator.NOT_IN:
            return z3.And([code != z3.BitVecVal(w, bits, code.ctx) for w in wanted]) if len(wanted) > 1 else code != z3.BitVecVal(wanted[0], bits, code.ctx)
        if req.operator is Operator.EXISTS:
            return code != z3.BitVecVal(0, bits, code.ctx)
        return code == z3.BitVecVal(0, bits, code.ctx)

    def pod_selector(self, e: EndpointVars, selector: LabelSelector) -> z3.BoolRef:
        key = ("podsel", id(e), selector)
        if key not in self._cache:
            domains = {d.key: d for d in self.domains.pod_keys}
            self._cache[key] = self.conj(
                self._requirement(r, domains[r.key], e.labels[r.key]) for r in selector.requirements()
            )
        return self._cache[key]

    def namespace_selector(self, e: EndpointVars, selector: LabelSelector) -> z3.BoolRef:
        """The endpoint's namespace carries labels matching ``selector``."""
        key = ("nssel", id(e), selector)
        if key not in self._cache:
            codes, open_matches = self._namespaces_matching(selector)
            cases = [self.conj([self.in_namespace(e, name), match]) for name, match in open_matches]
            self._cache[key] = self.disj(self.namespace_code_in(e, codes) + cases)
        return self._cache[key]

    def _namespaces_matching(self, selector: LabelSelector) -> tuple[list[int], list[tuple[str, z3.BoolRef]]]:
        """The codes of the namespaces whose labels match ``selector``, and the namespaces
        whose labels may or may not (variables) with the condition they must meet: once
        per selector, for both endpoints."""
        key = ("nssel-split", selector)
        if key not in self._cache:
            domains = {d.key: d for d in self.domains.namespace_keys}
            # Each requirement's value codes once, not once per namespace.
            tests = [(r, domains[r.key], [domains[r.key].values.index(v) + 1 for v in r.values]) for r in selector.requirements()]
            codes = []
            open_matches = []
            for name, row in self.namespace_labels.items():
                match = self.conj(self._requirement(r, dom, row[r.key], wanted) for r, dom, wanted in tests)
                # conj gives back its own constants when the labels are known: testing
                # them by identity spares z3 a call per namespace and selector.
                if match is self._true:
                    codes.append(self.domains.namespace_code(name))
                elif match is not self._false:
                    open_matches.append((name, match))
            self._cache[key] = (codes, open_matches)  # type: ignore[assignment]
        return self._cache[key]  # type: ignore[return-value]

    def namespace_code_in(self, e: EndpointVars, codes: list[int]) -> list[z3.BoolRef]:
        """Terms whose disjunction says the endpoint's namespace code is one of ``codes``:
        one range per run of consecutive codes (namespaces of one team or environment are
        often neighbours by name, so a selector over 1,000 namespaces is a few ranges)."""
        terms = []
        runs: list[list[int]] = []
        for code in sorted(codes):
            if runs and code == runs[-1][1] + 1:
                runs[-1][1] = code
            else:
                runs.append([code, code])
        for low, high in runs:
            if low == high:
                terms.append(self._eq(e.namespace, self._bv(low, self.ns_bits)))
            else:
                terms.append(self.conj([z3.ULE(self._bv(low, self.ns_bits), e.namespace), z3.ULE(e.namespace, self._bv(high, self.ns_bits))]))
        return terms

    def namespace_label_is(self, e: EndpointVars, key: str, code: int) -> Term:
        """The endpoint's namespace has label code ``code`` for ``key``.

        Namespace code ranges for the namespaces whose label is known, and the label
        variable of each of the others: not an if-then-else over every namespace, which
        at thousands of namespaces costs the solver more than the rest of a query."""
        cache_key = ("nslabel-is", id(e), key, code)
        if cache_key not in self._cache:
            known, unknown = self._namespace_label_codes(key)
            cases = [
                self.conj([self.in_namespace(e, name), self._eq(var, self._bv(code, var.size()))]) for name, var in unknown
            ]
            self._cache[cache_key] = self.disj(self.namespace_code_in(e, known.get(code, [])) + cases)
        return self._cache[cache_key]

    def _namespace_label_codes(self, key: str) -> tuple[dict[int, list[int]], list[tuple[str, z3.BitVecRef]]]:
        """For label ``key``: the namespace codes per known label code, and the namespaces
        whose label is a variable."""
        cache_key = ("nslabel-codes", key)
        if cache_key not in self._cache:
            known: dict[int, list[int]] = {}
            unknown: list[tuple[str, z3.BitVecRef]] = []
            for name, row in self.namespace_labels.items():
                value = row[key]
                if isinstance(value, int):
                    known.setdefault(value, []).append(self.domains.namespace_code(name))
                else:
                    unknown.append((name, value))
            self._cache[cache_key] = (known, unknown)  # type: ignore[assignment]
        return self._cache[cache_key]  # type: ignore[return-value]

    def namespace_label_value(self, model: z3.ModelRef, e: EndpointVars, key: str) -> int:
        """The label code for ``key`` of the endpoint's namespace in ``model``."""
        code = model.eval(e.namespace, model_completion=True).as_long()
        value = self.namespace_labels[self.domains.namespaces[code]][key]
        return value if isinstance(value, int) else model.eval(value, model_completion=True).as_long()

    # --- policy semantics ----------------------------------------------------------------

    def peer(self, peer: Peer, policy_namespace: str, e: EndpointVars) -> z3.BoolRef:
        key = ("peer", id(e), peer, policy_namespace)
        if key not in self._cache:
            if peer.ip_block is not None:
                term = self.in_ip_block(e, peer.ip_block)
                if not self.semantics.ip_block_matches_pods:
                    term = self.conj([term, self.negate(self.is_policy_pod(e))])
            else:
                ns = (
                    self.in_namespace(e, policy_namespace)
                    if peer.namespace_selector is None
                    else self.namespace_selector(e, peer.namespace_selector)
                )
                pods = True if peer.pod_selector is None else self.pod_selector(e, peer.pod_selector)
                term = self.conj([self.is_policy_pod(e), ns, pods])
            self._cache[key] = term
        return self._cache[key]

    def port_entry(self, entry: PolicyPort) -> z3.BoolRef:
        """A ports entry matches the packet; named ports resolve on the destination pod."""
        key = ("port", entry)
        if key not in self._cache:
            protocol = self._bv(PROTOCOLS.index(entry.protocol), 2)
            terms: list[Term] = [self.protocol == protocol]
            if isinstance(entry.port, int):
                if entry.end_port is None or entry.end_port == entry.port:
                    terms.append(self._eq(self.port, self._bv(entry.port, 16)))
                else:
                    terms.append(z3.ULE(self._bv(entry.port, 16), self.port))
                    terms.append(z3.ULE(self.port, self._bv(entry.end_port, 16)))
            elif isinstance(entry.port, str):
                defined, number, proto = self.dst.ports[entry.port]
                terms += [self.is_policy_pod(self.dst), defined, proto == protocol, self.port == number]
            self._cache[key] = self.conj(terms)
        return self._cache[key]

    def ports(self, entries: Sequence[PolicyPort]) -> z3.BoolRef:
        """An empty ports list matches every packet."""
        if not entries:
            return self._true
        return self.disj(self.port_entry(p) for p in entries)

    def rule(self, rule: Rule, policy: NetworkPolicy, other: EndpointVars) -> z3.BoolRef:
        peers = self.disj(self.peer(p, policy.namespace, other) for p in rule.peers) if rule.peers else True
        return self.conj([peers, self.ports(rule.ports)])

    def selects(self, policy: NetworkPolicy, e: EndpointVars) -> z3.BoolRef:
        return self.conj([self.in_namespace(e, policy.namespace), self.pod_selector(e, policy.pod_selector)])

    def _namespace_denies(
        self, direction: Direction, e: EndpointVars, other: EndpointVars, namespace: str, policies: tuple[NetworkPolicy, ...]
    ) -> z3.BoolRef:
        """Within one namespace: some of ``policies`` isolates ``e`` and none of their rules allows."""
        key = ("denies", direction, id(e), namespace, policies)
        if key not in self._cache:
            isolated = self.disj(self.pod_selector(e, p.pod_selector) for p in policies)
            allows = self.disj(
                self.conj([self.pod_selector(e, p.pod_selector), self.disj(self.rule(r, p, other) for r in p.rules(direction))])
                for p in policies
            )
            self._cache[key] = self.conj([isolated, self.negate(allows)])
        return self._cache[key]

    def namespace_denies(
        self, direction: Direction, e: EndpointVars, other: EndpointVars, namespace: str, policies: tuple[NetworkPolicy, ...]
    ) -> Term:
        """``direction`` is denied for an endpoint in ``namespace`` whose NetworkPolicies (of
        that direction) are ``policies``, the cluster's Admin and Baseline tiers included.
        Meaningful only where ``e`` is in ``namespace`` (every caller says so beside it):
        the tiers are pruned to the policies that can select a pod there.

        Without cluster-scoped policies this is ``_namespace_denies``: the namespace's
        policies decide alone. With them the namespace's policies still decide only for its
        own pods, through the NetworkPolicy tier between the two cluster-wide ones, so the
        namespace-local shortcuts (LocalChecker, ChangeChecker) stay exact with this term.
        """
        np_denied: Term = self._namespace_denies(direction, e, other, namespace, policies) if policies else False
        if not self.cluster.tiered:
            return np_denied
        key = ("tiered-denies", direction, id(e), namespace, policies)
        if key not in self._cache:
            tiered = self.tiers_selecting_in(namespace)
            isolated = self.disj(self.pod_selector(e, p.pod_selector) for p in policies)
            admin_accept, admin_deny = self.tier_decides(Tier.ADMIN, direction, e, other, tiered)
            _, baseline_deny = self.tier_decides(Tier.BASELINE, direction, e, other, tiered)
            below_admin = self.conj(
                [
                    self.negate(admin_deny),
                    self.negate(np_denied) if np_denied is not False else True,
                    self.negate(self.conj([self.negate(isolated), baseline_deny])),
                ]
            )
            self._cache[key] = self.negate(self.disj([admin_accept, below_admin]))
        return self._cache[key]

    def tiers_selecting_in(self, namespace: str) -> tuple[ClusterPolicy, ...]:
        """The cluster's Admin and Baseline policies whose subject can select a pod of
        ``namespace``: the others never match for an endpoint there, so its tier chains
        decide alike without them (in a same-priority group, a choice of a policy that does
        not match falls back to the name order of those that do). A namespace whose labels
        the universe leaves open keeps every policy whose selector those labels may satisfy.

        Why: each namespace-local query carries the tier chains; most cluster policies
        select few namespaces, and every one of them left out is terms the solver skips.
        Namespaces with the same pruned chain share its terms (``tier_decides`` is cached
        by the policies)."""
        key = ("tiers-in", namespace)
        if key not in self._cache:
            tiered = self.cluster.cluster_policies
            row = self.namespace_labels.get(namespace)
            if row is not None:
                domains = {d.key: d for d in self.domains.namespace_keys}
                kept = []
                for p in tiered:
                    requirements = p.subject.namespace_selector.requirements()
                    # The test namespace_selector makes for this namespace: False only
                    # when its known labels fail the selector.
                    match = self.conj(self._requirement(r, domains[r.key], row[r.key]) for r in requirements)
                    if match is not self._false:
                        kept.append(p)
                tiered = tuple(kept)
            self._cache[key] = tiered  # type: ignore[assignment]
        return self._cache[key]  # type: ignore[return-value]

    def direction_allows(
        self, direction: Direction, e: EndpointVars, other: EndpointVars, policies: Sequence[NetworkPolicy | ClusterPolicy]
    ) -> z3.BoolRef:
        """The endpoint's policies allow the packet in ``direction``.

        NetworkPolicies alone: they do not isolate the endpoint, or a rule allows. Built per
        namespace, so two policy sets that differ in one namespace share every other
        namespace's term (equivalence and redundancy rely on this). With cluster-scoped
        policies: the Admin tier's first match, then NetworkPolicy where it isolates, then
        the Baseline tier's, then allow (npverify.tiers).
        """
        tiered = tuple(p for p in policies if isinstance(p, ClusterPolicy))
        network_policies = tuple(p for p in policies if not isinstance(p, ClusterPolicy))
        denied, isolated = self.network_policy_parts(direction, e, other, network_policies, tiered=bool(tiered))
        if not tiered:
            return self.disj([self.negate(self.is_policy_pod(e)), self.negate(denied)])
        admin_accept, admin_deny = self.tier_decides(Tier.ADMIN, direction, e, other, tiered)
        _, baseline_deny = self.tier_decides(Tier.BASELINE, direction, e, other, tiered)
        return self.tiered_allows(e, denied, isolated, admin_accept, admin_deny, baseline_deny)

    def network_policy_parts(
        self,
        direction: Direction,
        e: EndpointVars,
        other: EndpointVars,
        policies: Sequence[NetworkPolicy],
        tiered: bool = True,
    ) -> tuple[z3.BoolRef, z3.BoolRef]:
        """The NetworkPolicy tier of ``direction`` for the endpoint: whether its namespace's
        ``policies`` deny the packet (they isolate it and no rule allows), and whether they
        isolate it (only with ``tiered``: the Baseline tier decides for pods they do not
        isolate; else ``False``)."""
        by_namespace: dict[str, list[NetworkPolicy]] = {}
        for p in policies:
            if direction in p.policy_types:
                by_namespace.setdefault(p.namespace, []).append(p)
        denied = self.disj(
            self.conj([self.in_namespace(e, ns), self._namespace_denies(direction, e, other, ns, tuple(ps))])
            for ns, ps in sorted(by_namespace.items())
        )
        if not tiered:
            return denied, self._false
        isolated = self.disj(
            self.conj([self.in_namespace(e, ns), self.disj(self.pod_selector(e, p.pod_selector) for p in ps)])
            for ns, ps in sorted(by_namespace.items())
        )
        return denied, isolated

    def tiered_allows(
        self, e: EndpointVars, denied: Term, isolated: Term, admin_accept: Term, admin_deny: Term, baseline_deny: Term
    ) -> z3.BoolRef:
        """One direction's verdict from its tiers' parts (``network_policy_parts``,
        ``tier_decides``): the Admin tier's Accept, else no Admin Deny, no NetworkPolicy
        denial, and no Baseline Deny for a pod NetworkPolicy does not isolate."""
        below_admin = self.conj(
            [self.negate(admin_deny), self.negate(denied), self.negate(self.conj([self.negate(isolated), baseline_deny]))]
        )
        return self.disj([self.negate(self.is_policy_pod(e)), admin_accept, below_admin])

    def allowed_by(self, policies: Sequence[NetworkPolicy | ClusterPolicy]) -> z3.BoolRef:
        """The packet is allowed under ``policies`` (in this encoding's universe)."""
        policies = tuple(policies)
        return self.combine(
            self.direction_allows(Direction.EGRESS, self.src, self.dst, policies),
            self.direction_allows(Direction.INGRESS, self.dst, self.src, policies),
        )

    # --- cluster-scoped tiers (Admin, Baseline) --------------------------------------------

    def pod_set(self, pods: PodSet, e: EndpointVars) -> z3.BoolRef:
        """The endpoint is a (non-hostNetwork) pod of ``pods``."""
        key = ("podset", id(e), pods)
        if key not in self._cache:
            self._cache[key] = self.conj(
                [self.is_policy_pod(e), self.namespace_selector(e, pods.namespace_selector), self.pod_selector(e, pods.pod_selector)]
            )
        return self._cache[key]

    def unknown_peer(self, peer: ClusterPeer) -> z3.BoolRef:
        """Whether the packet's other end is what a ``nodes``/``domainNames`` peer names: a
        free variable per peer content, which no manifest fixes (see ``unknowns``)."""
        key = ("unknown-peer", peer)
        if key not in self._cache:
            index = len(self.unknown_peers)
            self.unknown_peers[peer] = z3.Bool(f"unknown_peer[{index}]", self.ctx)
            self._cache[key] = self.unknown_peers[peer]
        return self._cache[key]

    def cluster_peer(self, peer: ClusterPeer, other: EndpointVars) -> z3.BoolRef:
        key = ("cpeer", id(other), peer)
        if key not in self._cache:
            if peer.pods is not None:
                term = self.pod_set(peer.pods, other)
            elif peer.networks:
                term = self.disj(self.in_network(other, n) for n in peer.networks)
            elif peer.nodes is not None:
                term = self.nodes_peer(peer, other)
            elif peer.domain_names:
                term = self.conj([self._eq(other.kind, self._bv(EXTERNAL, 2)), self.unknown_peer(peer)])
            else:
                term = self._false
            self._cache[key] = term
        return self._cache[key]

    def nodes_peer(self, peer: ClusterPeer, other: EndpointVars) -> z3.BoolRef:
        """A ``nodes`` peer matches ``other`` (tiers.nodes_peer_match): a loaded Node's
        address by that Node's labels; another address of an external host, node or
        hostNetwork pod as Universe.nodes says, the free variable where it is unknown."""
        assert peer.nodes is not None
        external = self._eq(other.kind, self._bv(EXTERNAL, 2))
        host = self.disj([self._eq(other.kind, self._bv(NODE, 2)), self.conj([self.is_pod(other), other.host_network])])
        loaded = self.cluster.node_addresses()
        picked = frozenset(ip for ip in loaded if peer.nodes.matches(self.cluster.node_at(ip).labels))
        unloaded: Term = self.negate(self.ip_in(other, loaded)) if loaded else True
        if self.universe.nodes != "declared":
            elsewhere: Term = self.conj([self.disj([external, host]), unloaded, self.unknown_peer(peer)])
        else:
            # An external host is no node; a node or hostNetwork pod is one of the loaded Nodes.
            each = selects_all_or_none(peer.nodes, self.cluster)
            on_one: Term = self.unknown_peer(peer) if each is None else self._true if each else self._false
            elsewhere = self.conj([host, unloaded, on_one])
        return self.disj([self.conj([self.disj([external, host]), self.ip_in(other, picked)]), elsewhere])

    def cluster_port(self, entry: ClusterPort) -> z3.BoolRef:
        key = ("cport", entry)
        if key not in self._cache:
            if entry.named is not None:
                slot = self.dst.ports.get(entry.named)
                if slot is None:
                    term = self._false
                else:
                    defined, number, proto = slot
                    term = self.conj([self.is_policy_pod(self.dst), defined, proto == self.protocol, self.port == number])
            else:
                terms: list[Term] = [self.protocol == self._bv(PROTOCOLS.index(entry.protocol), 2)]
                if entry.start is not None:
                    end = entry.end if entry.end is not None else entry.start
                    if end == entry.start:
                        terms.append(self._eq(self.port, self._bv(entry.start, 16)))
                    else:
                        terms += [z3.ULE(self._bv(entry.start, 16), self.port), z3.ULE(self.port, self._bv(end, 16))]
                term = self.conj(terms)
            self._cache[key] = term
        return self._cache[key]

    def cluster_rule(self, rule: ClusterRule, other: EndpointVars) -> z3.BoolRef:
        """The rule matches the packet (its subject aside). A rule that fails closed matches
        everything if it denies and nothing if it accepts."""
        if rule.fails_closed:
            return self._false if rule.action is Action.ACCEPT else self._true
        ports = self.disj(self.cluster_port(p) for p in rule.ports) if rule.ports else True
        return self.conj([ports, self.disj(self.cluster_peer(p, other) for p in rule.peers)])

    def _policy_first_match(
        self, policy: ClusterPolicy, direction: Direction, e: EndpointVars, other: EndpointVars
    ) -> tuple[z3.BoolRef, dict[Action, z3.BoolRef]]:
        """Whether some rule of ``policy`` matches for ``e``, and per action whether the first
        matching rule has it."""
        key = ("policy-first", policy, direction, id(e))
        if key not in self._cache:
            subject = self.pod_set(policy.subject, e)
            none_before: Term = True
            fires: dict[Action, list[Term]] = {a: [] for a in Action}
            for rule in policy.rules(direction):
                match = self.cluster_rule(rule, other)
                action = effective_action(rule)
                fires[action].append(self.conj([none_before, match]))
                none_before = self.conj([none_before, self.negate(match)])
            matched = self.conj([subject, self.negate(none_before) if none_before is not True else self._false])
            by_action = {a: self.conj([subject, self.disj(ts)]) for a, ts in fires.items()}
            self._cache[key] = (matched, by_action)  # type: ignore[assignment]
        return self._cache[key]  # type: ignore[return-value]

    #: Bits of a choice variable: codes for policy names of one group, across every policy
    #: set this encoding compares (a name keeps its code, so both sides read one choice alike).
    CHOICE_BITS = 16

    def _group_choice(self, group: GroupKey) -> z3.BitVecRef:
        """Which of a group's same-priority policies applies first: a free choice, whose
        value is the code of a policy name (``_choice_code``)."""
        if group not in self.choices:
            self.choices[group] = z3.BitVec(f"first[{group.tier},{group.priority},{group.direction}]", self.CHOICE_BITS, self.ctx)
            self.choice_codes[group] = {}
        return self.choices[group]

    def _choice_code(self, group: GroupKey, name: str) -> int:
        codes = self.choice_codes[group]
        if name not in codes:
            codes[name] = len(codes) + 1  # 0 names no policy: the name order decides
        return codes[name]

    def tier_decides(
        self, tier: Tier, direction: Direction, e: EndpointVars, other: EndpointVars, policies: tuple[ClusterPolicy, ...]
    ) -> tuple[z3.BoolRef, z3.BoolRef]:
        """Whether ``tier``'s first match accepts, and whether it denies, the packet for
        ``e``'s ``direction`` (Pass and no match: neither)."""
        key = ("tier", tier, direction, id(e), policies)
        if key not in self._cache:
            groups: dict[int, list[ClusterPolicy]] = {}
            for p in policies:
                if p.tier is tier and p.rules(direction):
                    groups.setdefault(p.priority, []).append(p)
            none_before: Term = True
            accept: list[Term] = []
            deny: list[Term] = []
            for priority, members in sorted(groups.items()):
                members.sort(key=lambda c: (c.name, c.kind))
                group_matches, decided = self._group_decides(tier, priority, direction, e, other, tuple(members))
                accept.append(self.conj([none_before, decided[Action.ACCEPT]]))
                deny.append(self.conj([none_before, decided[Action.DENY]]))
                none_before = self.conj([none_before, self.negate(group_matches)])
            self._cache[key] = (self.disj(accept), self.disj(deny))  # type: ignore[assignment]
        return self._cache[key]  # type: ignore[return-value]

    def _group_decides(
        self, tier: Tier, priority: int, direction: Direction, e: EndpointVars, other: EndpointVars, members: tuple[ClusterPolicy, ...]
    ) -> tuple[Term, dict[Action, Term]]:
        """Whether some policy of one priority group (``members``, in name order) matches,
        and per action whether the group decides it. Cached per group: a chain rebuilt with
        one policy changed (redundancy asks hundreds) rebuilds only that policy's group."""
        key = ("tier-group", tier, priority, direction, id(e), members)
        if key not in self._cache:
            firsts = [self._policy_first_match(p, direction, e, other) for p in members]
            # By name: the first matching policy in name order decides.
            by_name: dict[Action, list[Term]] = {a: [] for a in Action}
            earlier: Term = True
            for matched, by_action in firsts:
                for a in Action:
                    by_name[a].append(self.conj([earlier, by_action[a]]))
                earlier = self.conj([earlier, self.negate(matched)])
            group_matches = self.negate(earlier) if earlier is not True else self._false
            decided = {a: self.disj(ts) for a, ts in by_name.items()}
            if len(members) > 1 and self.semantics.same_priority != "name":
                # The implementation may apply any matching policy first: the choice
                # variable names it; a choice of a policy that does not match falls
                # back to name order, so every value of it is a possible order.
                group = GroupKey(tier.value, priority, direction.value)
                choice = self._group_choice(group)
                picks = [self._eq(choice, self._bv(self._choice_code(group, p.key), self.CHOICE_BITS)) for p in members]
                chosen_matches = self.disj(self.conj([pick, m]) for pick, (m, _) in zip(picks, firsts))
                for a in (Action.ACCEPT, Action.DENY):
                    picked = self.disj(self.conj([pick, by_action[a]]) for pick, (_, by_action) in zip(picks, firsts))
                    decided[a] = self.disj([picked, self.conj([self.negate(chosen_matches), decided[a]])])
            self._cache[key] = (group_matches, decided)  # type: ignore[assignment]
        return self._cache[key]  # type: ignore[return-value]

    def pin_resolution(self, resolution: Resolution) -> list[Term]:
        """Fix the unknowns made so far (``nodes``/``domainNames`` peers, same-priority
        choices) as ``resolution`` says: for replaying one resolution exactly."""
        terms: list[Term] = [var if peer in resolution.matching_peers else self.negate(var) for peer, var in self.unknown_peers.items()]
        for group, var in self.choices.items():
            wanted = resolution.first_of(group)
            code = self.choice_codes[group].get(wanted, 0) if wanted is not None else 0
            terms.append(self._eq(var, self._bv(code, self.CHOICE_BITS)))
        return terms

    def resolution_of(self, model: z3.ModelRef) -> Resolution:
        """The resolution of the unknowns a model chose."""
        peers = frozenset(p for p, var in self.unknown_peers.items() if z3.is_true(model.eval(var, model_completion=True)))
        first = set()
        for group, var in self.choices.items():
            code = model.eval(var, model_completion=True).as_long()
            name = next((n for n, c in self.choice_codes[group].items() if c == code), None)
            if name is not None:
                first.add((group, name))
        return Resolution(peers, frozenset(first))

    @property
    def unknown_vars(self) -> list[z3.ExprRef]:
        return list(self.unknown_peers.values()) + list(self.choices.values())

    def combine(self, egress_allows: Term, ingress_allows: Term) -> z3.BoolRef:
        """Allowed: the source's egress and the destination's ingress allow, or an
        override (a pod to itself, a pod's own node) applies."""
        overrides: list[Term] = []
        if self.semantics.self_traffic_allowed:
            overrides.append(self.same_pod)
        if self.semantics.own_node_traffic_allowed:
            overrides.append(self.conj([self.from_own_node, self.is_pod(self.dst)]))
        return self.disj(overrides + [self.conj([egress_allows, ingress_allows])])

    def with_namespace_changed(
        self, direction: Direction, allows: Term, namespace: str, policies: tuple[NetworkPolicy, ...]
    ) -> z3.BoolRef:
        """``allows`` (a direction's term for all namespaces) with ``namespace``'s
        policies replaced by ``policies``: only endpoints in that namespace see the change.
        """
        e, other = (self.src, self.dst) if direction is Direction.EGRESS else (self.dst, self.src)
        inside = self.in_namespace(e, namespace)
        if inside is False:
            return allows
        local = tuple(p for p in policies if direction in p.policy_types)
        denies = self.namespace_denies(direction, e, other, namespace, local)
        changed = self.disj([z3.Not(self.is_policy_pod(e)), z3.Not(self._false if denies is False else denies)])
        return z3.If(inside, changed, allows)

    def item_match(self, item: PolicyItem) -> z3.BoolRef:
        """Packets that ``item`` (a policy, rule, peer or port entry) applies to.

        For a policy: pods it selects, in either of its directions. For a rule, peer or
        port entry: packets to or from a selected pod that it matches, where a peer is
        taken with its rule's ports and a port entry with its rule's peers.
        """
        policy = item.policy
        if item.rule is None:
            return self.disj(
                self.conj([self.is_policy_pod(e), self.selects(policy, e)])
                for d, e in ((Direction.INGRESS, self.dst), (Direction.EGRESS, self.src))
                if d in policy.policy_types
            )
        assert item.direction is not None
        rule = item.rule
        e, other = (self.dst, self.src) if item.direction is Direction.INGRESS else (self.src, self.dst)
        terms: list[Term] = [self.is_policy_pod(e), self.selects(policy, e)]
        if item.peer_index is not None:
            terms += [self.peer(rule.peers[item.peer_index], policy.namespace, other), self.ports(rule.ports)]
        elif item.port_index is not None:
            terms += [self.rule(Rule(rule.peers), policy, other), self.port_entry(rule.ports[item.port_index])]
        else:
            terms.append(self.rule(rule, policy, other))
        return self.conj(terms)

    def item_reach(self, item: PolicyItem) -> z3.BoolRef:
        """Packets outside which removing a NetworkPolicy item changes no decision: those
        ``item_match`` gives, and where removing a rule's last peer or port entry widens
        the rule (it then matches every peer, or every port), the rule's packets without it.

        Why exact: a pod's decision is "not isolated, or some rule matches"; removing an item
        changes isolation only for the pods its policy selects, and a rule's match only
        where the rule matched before or matches after."""
        rule = item.rule
        if rule is not None and item.peer_index is not None and len(rule.peers) == 1:
            e, other = (self.dst, self.src) if item.direction is Direction.INGRESS else (self.src, self.dst)
            return self.conj([self.is_policy_pod(e), self.selects(item.policy, e), self.ports(rule.ports)])
        if rule is not None and item.port_index is not None and len(rule.ports) == 1:
            e, other = (self.dst, self.src) if item.direction is Direction.INGRESS else (self.src, self.dst)
            return self.conj([self.is_policy_pod(e), self.selects(item.policy, e), self.rule(Rule(rule.peers), item.policy, other)])
        return self.item_match(item)

    def cluster_item_reach(self, policy: ClusterPolicy, direction: Direction | None = None, rule_index: int | None = None) -> z3.BoolRef:
        """Packets outside which removing a cluster-scoped policy (or its rule ``rule_index``
        of ``direction``) changes no tier's decision: those to or from a pod its subject
        selects, in a direction it has rules for (and that the rule matches).

        Why exact: a first-match chain decides a packet that a rule does not match as if
        the rule were not there, and a policy that matches nothing as if it were absent
        (a same-priority choice of it falls back to the name order of the others)."""
        terms = []
        for d, e, other in ((Direction.INGRESS, self.dst, self.src), (Direction.EGRESS, self.src, self.dst)):
            rules = policy.rules(d)
            if not rules or direction not in (None, d):
                continue
            subject = self.pod_set(policy.subject, e)
            terms.append(subject if rule_index is None else self.conj([subject, self.cluster_rule(rules[rule_index], other)]))
        return self.disj(terms)

    # --- the universe --------------------------------------------------------------------

    def _class_is(self, e: EndpointVars, cls: WorkloadClass) -> z3.BoolRef:
        """The properties every pod of ``cls`` has, and the namespaces it has pods in."""
        terms: list[Term] = [self.disj(self.in_namespace(e, ns) for ns in cls.namespaces)]
        terms.append(e.host_network if cls.host_network else self.negate(e.host_network))
        for dom, code in zip(self.domains.pod_keys, cls.label_codes):
            terms.append(self._eq(e.labels[dom.key], self._bv(code, _bits(dom.other + 1))))  # the variable's width
        for name, cp in zip(self.domains.port_names, cls.named_ports):
            defined, number, proto = e.ports.get(name, (None, None, None))
            if defined is None:
                continue
            if cp is None:
                terms.append(self.negate(defined))
            else:
                terms += [defined, self._eq(number, self._bv(cp.port, 16)), self._eq(proto, self._bv(PROTOCOLS.index(cp.protocol), 2))]
        if cls.ips:
            terms.append(
                self.disj(
                    self.conj([self.v6 if ip.version == 6 else z3.Not(self.v6), self._eq(e.ip, self._bv(int(ip), 128))])
                    for ip in cls.ips
                )
            )
        return self.conj(terms)

    def class_term(self, e: EndpointVars, index: int) -> z3.BoolRef:
        """The endpoint is a pod of workload class ``index`` (``len(classes)``: of no workload)."""
        key = ("class", id(e), index)
        if key not in self._cache:
            self._cache[key] = self._eq(e.workload_class, self._bv(index, self.wl_bits))
        return self._cache[key]

    def workload_term(self, e: EndpointVars, index: int) -> z3.BoolRef:
        """The endpoint is a pod of workload ``index``, or of a workload no policy can tell
        apart from it (same namespace and class); workloads named in ``distinguish`` are exact."""
        w = self.workloads[index]
        return self.conj([self.in_namespace(e, w.namespace), self.class_term(e, self.class_of[index])])

    def _endpoint_constraints(self, e: EndpointVars, may_be_node: bool, classes: bool = True) -> list[Term]:
        u = self.universe
        arbitrary = len(self.classes)
        terms: list[Term] = [
            z3.ULE(e.kind, self._bv(NODE if may_be_node else EXTERNAL, 2)),
            z3.ULE(e.namespace, self._bv(max(len(self.domains.namespaces) - 1, 0), self.ns_bits)),
            z3.ULE(e.workload_class, self._bv(arbitrary if u.pods == "any" else max(arbitrary - 1, 0), self.wl_bits))
            if classes
            else self.class_term(e, arbitrary),
            z3.Implies(z3.Not(self.v6), z3.Extract(127, 32, e.ip) == z3.BitVecVal(0, 96, self.ctx)),
        ]
        if (u.pods == "workloads" and not self.workloads) or not self.domains.namespaces:
            terms.append(z3.Not(self.is_pod(e)))
        for dom in self.domains.pod_keys:
            var = e.labels[dom.key]
            terms.append(z3.ULE(var, self._bv(dom.other, var.size())))
        for defined, number, proto in e.ports.values():
            terms += [number != self._bv(0, 16), z3.ULE(proto, self._bv(2, 2))]
        for index, cls in enumerate(self.classes if classes else ()):
            terms.append(z3.Implies(self.conj([self.is_pod(e), self.class_term(e, index)]), self._class_is(e, cls)))
        # Loaded Pods' status IPs are facts: an ordinary pod's IP is no external host's or
        # node's; a hostNetwork pod's (its node's) is no external host's.
        pod_ips, node_ips = self.cluster.status_ips(False), self.cluster.status_ips(True)
        # A loaded Node's address is that node, also as a destination host (semantics._ip_problem).
        host_only = node_ips - self.cluster.node_addresses()
        if pod_ips or host_only:
            terms.append(z3.Implies(e.kind == self._bv(EXTERNAL, 2), self.negate(self.ip_in(e, pod_ips | host_only))))
        if may_be_node and pod_ips:
            terms.append(z3.Implies(e.kind == self._bv(NODE, 2), self.negate(self.ip_in(e, pod_ips))))
        if u.pod_cidrs:
            inside = self.disj(self.in_network(e, c) for c in u.pod_cidrs)
            # A status IP on the wrong side of the pod CIDRs stays a fact (semantics.pod_ip_warnings).
            stated_outside = self.ip_in(e, frozenset(ip for ip in pod_ips if not any(ip in c for c in u.pod_cidrs)))
            stated_inside = self.ip_in(e, frozenset(ip for ip in node_ips if any(ip in c for c in u.pod_cidrs)))
            terms.append(z3.Implies(self.is_policy_pod(e), self.disj([inside, stated_outside])))
            host_stated = self.conj([e.kind != self._bv(EXTERNAL, 2), stated_inside])
            # A loaded Node's address inside them stays the node's (semantics.node_warnings).
            node_inside = self.ip_in(e, frozenset(ip for ip in self.cluster.node_addresses() if any(ip in c for c in u.pod_cidrs)))
            terms.append(z3.Implies(z3.Not(self.is_policy_pod(e)), self.disj([z3.Not(inside), host_stated, node_inside])))
        return terms

    def ip_in(self, e: EndpointVars, ips: frozenset) -> Term:
        """The endpoint's IP is one of ``ips``: one range per run of consecutive addresses."""
        terms: list[Term] = []
        for version in (4, 6):
            values = sorted(int(ip) for ip in ips if ip.version == version)
            runs: list[list[int]] = []
            for value in values:
                if runs and value == runs[-1][1] + 1:
                    runs[-1][1] = value
                else:
                    runs.append([value, value])
            family = self.v6 if version == 6 else self.negate(self.v6)
            for low, high in runs:
                if low == high:
                    terms.append(self.conj([family, e.ip == self._bv(low, 128)]))
                else:
                    terms.append(self.conj([family, z3.ULE(self._bv(low, 128), e.ip), z3.ULE(e.ip, self._bv(high, 128))]))
        return self.disj(terms)

    def _namespace_label_constraints(self) -> list[Term]:
        terms: list[Term] = []
        for row in self.namespace_labels.values():
            for dom in self.domains.namespace_keys:
                code = row[dom.key]
                if not isinstance(code, int):
                    terms.append(z3.ULE(code, self._bv(dom.other, code.size())))
        return terms

    def arbitrary_pod_constraints(self) -> list[z3.BoolRef]:
        """The universe, with every pod one of no loaded workload.

        With ``pods: any`` this loses no packet's verdict: a pod of a workload is decided
        exactly as an arbitrary pod with its namespace, labels, named ports and IP, which
        the universe also holds. Questions that need no workload by name (a namespace's own
        decisions, see LocalChecker) then skip every workload class.
        """
        assert self.universe.pods == "any"
        key = ("arbitrary-universe",)
        if key not in self._cache:
            self._cache[key] = self._universe_constraints(classes=False)  # type: ignore[assignment]
        return self._cache[key]  # type: ignore[return-value]

    def _universe_constraints(self, classes: bool = True) -> list[z3.BoolRef]:
        src, dst = self.src, self.dst
        terms: list[Term] = self._endpoint_constraints(src, self.universe.node_traffic, classes)
        terms += self._endpoint_constraints(dst, False, classes)
        terms += self._namespace_label_constraints()
        terms += [
            z3.ULE(self.protocol, self._bv(2, 2)),
            self.port != self._bv(0, 16),
            self.disj([self.is_pod(src), self.is_pod(dst)]),
        ]
        both_pods = self.conj([self.is_pod(src), self.is_pod(dst)])
        if self.universe.self_traffic:
            same = [src.namespace == dst.namespace, src.ip == dst.ip, src.workload_class == dst.workload_class, src.host_network == dst.host_network]
            same += [src.labels[k] == dst.labels[k] for k in src.labels]
            terms.append(z3.Implies(self.same_pod, self.conj([both_pods] + same)))
        # Only the destination pod's node, or a hostNetwork pod on it, shares a (hostNetwork)
        # destination's IP: a pod's IP is its own, and two nodes have two IPs.
        shared_ip = self.conj([self.is_pod(dst), dst.host_network, self.from_own_node])
        terms.append(z3.Implies(self.conj([z3.Not(self.same_pod), src.ip == dst.ip]), shared_ip))
        if not z3.is_false(self.own_node):
            terms.append(z3.Implies(self.own_node, self.conj([self.from_own_node, self.is_pod(dst), z3.Not(self.same_pod)])))
        distinct: list[Term] = []
        # Two distinct pods of one class in one namespace need two pods there: not possible
        # where the class's only workload in that namespace is a single Pod.
        for index, cls in enumerate(self.classes if classes else ()):
            if cls.lone_pods:
                distinct.append(
                    z3.Not(
                        self.conj(
                            [self.class_term(src, index), self.class_term(dst, index), src.namespace == dst.namespace]
                            + [self.disj(self.in_namespace(src, ns) for ns in cls.lone_pods)]
                        )
                    )
                )
        if distinct:
            terms.append(z3.Implies(self.conj([both_pods, z3.Not(self.same_pod)]), self.conj(distinct)))
        return [t for t in terms if t is not True]

    # --- invariant scopes ----------------------------------------------------------------

    def scope(self, scope: Scope, e: EndpointVars, workload_index: int | None) -> z3.BoolRef:
        """The endpoint lies in ``scope``; ``workload_index`` is the resolved ``scope.workload``."""
        terms: list[Term] = []
        if scope.kind is EndpointKind.EXTERNAL:
            terms.append(e.kind == self._bv(EXTERNAL, 2))
        if scope.pods_only:
            terms.append(self.is_pod(e))
        if isinstance(scope.namespace, str):
            terms.append(self.in_namespace(e, scope.namespace))
        elif scope.namespace is not None:
            terms.append(self.namespace_selector(e, scope.namespace))
        if scope.pod is not None:
            terms.append(self.pod_selector(e, scope.pod))
        if workload_index is not None:
            terms.append(self.workload_term(e, workload_index))
        if scope.ip_block is not None:
            terms.append(self.in_ip_block(e, scope.ip_block))
        return self.conj(terms)

    # --- concrete packets ----------------------------------------------------------------

    def pin(self, packet: Packet, resolution: Resolution = Resolution()) -> list[Term]:
        """Constraints that fix every variable to ``packet``'s values (for differential tests),
        and the unknowns made so far to ``resolution``.

        A pod in a namespace the domains do not name is placed in a fresh namespace.
        """
        fresh = list(self.domains.namespaces[len(self.domains.namespaces) - self.domains.fresh :])
        placed: dict[str, str] = {}
        terms: list[Term] = [
            self.v6 == (packet.src.ip.version == 6),
            self.protocol == self._bv(PROTOCOLS.index(packet.protocol), 2),
            self.port == self._bv(packet.port, 16),
            self.same_pod == packet.is_self,
            self.own_node == (isinstance(packet.src, (NodeEndpoint, PodEndpoint)) and packet.src.own_node),
        ]
        if isinstance(packet.dst, PodEndpoint) and packet.dst.own_node:
            return [False]  # own_node describes a source
        for endpoint, e in ((packet.src, self.src), (packet.dst, self.dst)):
            terms.append(e.ip == self._bv(int(endpoint.ip), 128))
            if isinstance(endpoint, ExternalEndpoint):
                terms.append(e.kind == self._bv(EXTERNAL, 2))
                continue
            if isinstance(endpoint, NodeEndpoint):
                terms.append(e.kind == self._bv(NODE, 2))
                continue
            terms += [self.is_pod(e), e.host_network == endpoint.host_network]
            name = endpoint.namespace
            if name not in self.domains.namespaces or self.domains.namespaces.index(name) >= len(self.domains.namespaces) - self.domains.fresh:
                if name not in placed:
                    if not fresh:
                        return [False]
                    placed[name] = fresh.pop(0)
                name = placed[name]
            terms.append(self.in_namespace(e, name))
            for dom in self.domains.namespace_keys:
                code = self.namespace_labels[name][dom.key]
                if not isinstance(code, int):
                    terms.append(code == self._bv(dom.code(endpoint.namespace_labels), code.size()))
            for dom in self.domains.pod_keys:
                terms.append(e.labels[dom.key] == self._bv(dom.code(endpoint.labels), e.labels[dom.key].size()))
            index = next((i for i, w in enumerate(self.workloads) if w.key == endpoint.workload), None)
            terms.append(self.class_term(e, len(self.classes)) if index is None else self.workload_term(e, index))
            for port_name, (defined, number, proto) in e.ports.items():
                cp = next((p for p in endpoint.ports if p.name == port_name), None)
                if cp is None:
                    terms.append(z3.Not(defined))
                else:
                    terms += [defined, number == self._bv(cp.port, 16), proto == self._bv(PROTOCOLS.index(cp.protocol), 2)]
        return terms + self.pin_resolution(resolution)
