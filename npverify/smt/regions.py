"""Widen one packet of a set (a difference between policy sets) into a region of that set.

Start from the packet with every variable pinned to its value, then drop or relax one pin
at a time, keeping a change only if the solver proves the widened region still lies
entirely inside the set (region ∧ universe ∧ ¬inside is unsatisfiable). The result is a box
that is inside the set by construction, whatever order the pins are relaxed in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import z3

from npverify.model import NAMESPACE_NAME_LABEL
from npverify.regions import EndpointRegion, LabelCondition, PortRange, Region
from npverify.smt.decode import Decoder
from npverify.smt.domains import LabelDomain
from npverify.smt.encode import EXTERNAL, POD, PROTOCOLS, Encoding, EndpointVars


class RegionFinder:
    """Widens models of ``inside`` into regions; ``inside`` is a term of ``encoding``."""

    def __init__(self, encoding: Encoding, inside: z3.BoolRef, timeout_ms: int | None = None):
        self.enc = encoding
        self.checker = encoding.new_solver()
        if timeout_ms is not None:
            self.checker.set("timeout", int(timeout_ms))
        encoding.assert_all(self.checker, encoding.constraints)
        self.checker.add(z3.Not(inside))
        #: Pin term id -> (assumption literal, the term, kept so that its id stays its own).
        self._literals: dict[int, tuple[z3.BoolRef, z3.BoolRef]] = {}
        #: Literals of what ``widen`` holds fixed besides the region (see ``widen``).
        self._fixed: list[z3.BoolRef] = []

    def _literal(self, pin: z3.BoolRef) -> z3.BoolRef:
        """A literal that implies ``pin``, made once per distinct pin: checking under
        assumptions keeps what the solver learnt, where push and pop would undo it (and
        cost a tenth of a second each at 100,000 pods)."""
        hit = self._literals.get(pin.get_id())
        if hit is None:
            literal = z3.Bool(f"pin!{len(self._literals)}", self.enc.ctx)
            self.checker.add(z3.Implies(literal, pin))
            hit = self._literals[pin.get_id()] = (literal, pin)
        return hit[0]

    def _inside(self, pins: dict[str, z3.BoolRef]) -> bool:
        """Is every packet meeting ``pins`` inside the set? Unknown counts as no."""
        return self.checker.check(*self._fixed, *[self._literal(pin) for pin in pins.values()]) == z3.unsat

    def _try(self, pins: dict[str, z3.BoolRef], key: str, replacement: z3.BoolRef | None = None) -> bool:
        """Drop (or replace) one pin if the region stays inside; say whether it did."""
        trial = dict(pins)
        if replacement is None:
            del trial[key]
        else:
            trial[key] = replacement
        if self._inside(trial):
            pins.clear()
            pins.update(trial)
            return True
        return False

    def _search(self, low: int, high: int, fits: Callable[[int], bool]) -> int:
        """The smallest value in [low, high] that fits, given that ``high`` fits and
        fitting is monotone (if v fits, every larger value fits)."""
        while low < high:
            mid = (low + high) // 2
            if fits(mid):
                high = mid
            else:
                low = mid + 1
        return high

    def widen(self, model: z3.ModelRef, fixed: list[z3.ExprRef] = ()) -> tuple[Region, z3.BoolRef]:
        """The region around ``model``'s packet, and a term that holds exactly inside it.

        ``fixed``: variables besides the packet's (what no manifest holds) taken at their
        value in ``model`` while widening: the region lies inside the set under that
        resolution, as if ``inside`` had those values substituted, with one solver for
        every resolution (a fresh one per region rebuilt the whole cluster each time)."""
        enc = self.enc
        self._fixed = [self._literal(v == model.eval(v, model_completion=True)) for v in fixed]
        value = lambda term: model.eval(term, model_completion=True)  # noqa: E731
        number = lambda term: value(term).as_long()  # noqa: E731
        pins: dict[str, z3.BoolRef] = {
            "protocol": enc.protocol == value(enc.protocol),
            "port": enc.port == value(enc.port),
            "v6": enc.v6 == value(enc.v6),
        }
        if not z3.is_false(enc.same_pod):
            pins["same_pod"] = enc.same_pod == value(enc.same_pod)
        if not z3.is_false(enc.own_node):
            pins["own_node"] = enc.own_node == value(enc.own_node)
        sides = (("src", enc.src), ("dst", enc.dst))
        for side, e in sides:
            pins[f"{side}.kind"] = e.kind == value(e.kind)
            pins[f"{side}.ip"] = e.ip == value(e.ip)
            if number(e.kind) != POD:
                continue
            pins[f"{side}.workload"] = e.workload_class == value(e.workload_class)
            pins[f"{side}.namespace"] = e.namespace == value(e.namespace)
            for dom in enc.domains.namespace_keys:
                label = enc.namespace_label_value(model, e, dom.key)
                pins[f"{side}.nslabel.{dom.key}"] = enc.namespace_label_is(e, dom.key, label)
            for key, var in e.labels.items():
                pins[f"{side}.label.{key}"] = var == value(var)
            if not z3.is_false(e.host_network):
                pins[f"{side}.hostNetwork"] = e.host_network == value(e.host_network)
            for name, (defined, port_number, proto) in e.ports.items():
                pins[f"{side}.port.{name}"] = z3.And(
                    defined == value(defined),
                    z3.Implies(defined, z3.And(port_number == value(port_number), proto == value(proto))),
                )
        packet = Decoder(enc, model).packet()
        if not self._inside(pins):
            # Cannot even prove the single packet inside (e.g. a timeout): report the point.
            return self._describe(model, pins, packet, port_range=None, prefixes={}), z3.And(*pins.values())

        protocol = number(enc.protocol)
        if not self._try(pins, "protocol"):
            others = [p for p in range(3) if p != protocol]
            for other in others:
                self._try(pins, "protocol", z3.Or(enc.protocol == protocol, enc.protocol == other))
        port = number(enc.port)
        low = self._search(1, port, lambda lo: self._fits_ports(pins, lo, port))
        high = 65535 - self._search(0, 65535 - port, lambda d: self._fits_ports(pins, low, 65535 - d))
        pins["port"] = z3.And(z3.ULE(low, enc.port), z3.ULE(enc.port, high))
        prefixes: dict[str, int] = {}
        for side, e in sides:
            if f"{side}.workload" in pins:
                self._try(pins, f"{side}.workload")
            if f"{side}.namespace" in pins and not self._try(pins, f"{side}.namespace"):
                self._try_any_unnamed(pins, side, e, number(e.namespace))
            for key in [k for k in pins if k.startswith(f"{side}.nslabel.") or k.startswith(f"{side}.label.")]:
                self._try(pins, key)
            if f"{side}.hostNetwork" in pins:
                self._try(pins, f"{side}.hostNetwork")
            for key in [k for k in pins if k.startswith(f"{side}.port.")]:
                self._try(pins, key)
            prefixes[side] = self._widen_ip(pins, side, e, model)
        if prefixes.get("src") == 0 and prefixes.get("dst") == 0:
            trial = {k: v for k, v in pins.items() if k not in ("v6", "src.ip", "dst.ip")}
            if self._inside(trial):
                pins.clear()
                pins.update(trial)
                prefixes = {"src": -1, "dst": -1}
        for key in ("same_pod", "own_node"):
            if key in pins:
                self._try(pins, key)
        region = self._describe(model, pins, packet, PortRange(low, high), prefixes)
        return region, z3.And(*pins.values())

    def _try_any_unnamed(self, pins: dict[str, z3.BoolRef], side: str, e: EndpointVars, code: int) -> None:
        """Widen a pin on one unnamed namespace to every unnamed namespace, if that stays
        inside: the description cannot tell them apart ("a namespace no policy names"), so
        without this the next region would be the same text for the next unnamed one."""
        domains = self.enc.domains
        fresh_from = len(domains.namespaces) - domains.fresh
        if code < fresh_from or domains.fresh < 2:
            return
        codes = list(range(fresh_from, len(domains.namespaces)))
        self._try(pins, f"{side}.namespace", self.enc.disj(self.enc.namespace_code_in(e, codes)))

    def _fits_ports(self, pins: dict[str, z3.BoolRef], low: int, high: int) -> bool:
        trial = dict(pins)
        trial["port"] = z3.And(z3.ULE(low, self.enc.port), z3.ULE(self.enc.port, high))
        return self._inside(trial)

    def _prefix_pin(self, e: EndpointVars, address: int, v6: bool, length: int) -> z3.BoolRef:
        bits = 128 if v6 else 32
        family = self.enc.v6 if v6 else z3.Not(self.enc.v6)
        if length == 0:
            return family
        shift = bits - length
        return z3.And(
            family,
            z3.Extract(bits - 1, shift, e.ip) == z3.BitVecVal(address >> shift, length, self.enc.ctx),
        )

    def _widen_ip(self, pins: dict[str, z3.BoolRef], side: str, e: EndpointVars, model: z3.ModelRef) -> int:
        """Replace the IP pin by the widest CIDR around it that stays inside; its length."""
        v6 = z3.is_true(model.eval(self.enc.v6, model_completion=True))
        address = model.eval(e.ip, model_completion=True).as_long()
        bits = 128 if v6 else 32
        key = f"{side}.ip"

        def fits(length: int) -> bool:
            trial = dict(pins)
            trial[key] = self._prefix_pin(e, address, v6, length)
            return self._inside(trial)

        length = self._search(0, bits, fits)
        pins[key] = self._prefix_pin(e, address, v6, length)
        return length

    # --- description ---------------------------------------------------------------------

    def _condition(self, dom: LabelDomain, code: int) -> LabelCondition:
        if code == 0:
            return LabelCondition(dom.key)
        if code <= len(dom.values):
            return LabelCondition(dom.key, dom.values[code - 1])
        return LabelCondition(dom.key, exists=True, other_than=dom.values)

    def _describe(
        self,
        model: z3.ModelRef,
        pins: dict[str, z3.BoolRef],
        packet,
        port_range: PortRange | None,
        prefixes: dict[str, int],
    ) -> Region:
        enc = self.enc
        number = lambda term: model.eval(term, model_completion=True).as_long()  # noqa: E731
        v6 = z3.is_true(model.eval(enc.v6, model_completion=True))
        endpoints = []
        for side, e in (("src", enc.src), ("dst", enc.dst)):
            kind = number(e.kind)
            length = prefixes.get(side, 128 if v6 else 32)
            address = number(e.ip)
            ip = ipaddress.IPv6Address(address) if v6 else ipaddress.IPv4Address(address & 0xFFFFFFFF)
            # -1: any IP of either family.
            cidr = ipaddress.ip_network((ip, length), strict=False) if length >= 0 else None
            if kind != POD:
                endpoints.append(EndpointRegion("external" if kind == EXTERNAL else "node", cidr=cidr))
                continue
            namespace = None
            unnamed = False
            if f"{side}.namespace" in pins:
                code = number(e.namespace)
                unnamed = code >= len(enc.domains.namespaces) - enc.domains.fresh
                namespace = None if unnamed else enc.domains.namespaces[code]
            # A pinned declared namespace fixes its labels: no need to repeat them.
            namespace_labels = () if namespace in enc.declared else tuple(
                self._condition(dom, enc.namespace_label_value(model, e, dom.key))
                for dom in enc.domains.namespace_keys
                if f"{side}.nslabel.{dom.key}" in pins
            )
            # kubernetes.io/metadata.name=X is the namespace X.
            named = [c for c in namespace_labels if c.key == NAMESPACE_NAME_LABEL and c.value is not None]
            if named and namespace is None:
                namespace = named[0].value
                namespace_labels = () if namespace in enc.declared else tuple(c for c in namespace_labels if c.key != NAMESPACE_NAME_LABEL)
            labels = tuple(
                self._condition(dom, number(e.labels[dom.key]))
                for dom in enc.domains.pod_keys
                if f"{side}.label.{dom.key}" in pins
            )
            workload = None
            workloads: tuple[str, ...] = ()
            not_workloads = False
            if f"{side}.workload" in pins:
                index = number(e.workload_class)
                if index < len(enc.classes):
                    members = [enc.workloads[i] for i in enc.classes[index].members]
                    if f"{side}.namespace" in pins:
                        members = [w for w in members if w.namespace == enc.domains.namespaces[number(e.namespace)]]
                    if len(members) == 1:
                        workload = members[0].key
                    else:
                        workloads = tuple(w.key for w in members)
                else:
                    not_workloads = True
            host_network = None
            if f"{side}.hostNetwork" in pins:
                host_network = z3.is_true(model.eval(e.host_network, model_completion=True))
            ports = []
            for name, (defined, port_number, proto) in sorted(e.ports.items()):
                if f"{side}.port.{name}" not in pins:
                    continue
                if z3.is_true(model.eval(defined, model_completion=True)):
                    ports.append(f"{name}={number(port_number)}/{PROTOCOLS[number(proto)]}")
                else:
                    ports.append(f"no port named {name}")
            endpoints.append(
                EndpointRegion(
                    "pod",
                    namespace=namespace,
                    unnamed_namespace=unnamed,
                    namespace_labels=namespace_labels,
                    labels=labels,
                    workload=workload,
                    workloads=workloads,
                    not_workloads=not_workloads,
                    cidr=cidr,
                    host_network=host_network,
                    ports=tuple(ports),
                )
            )
        protocols = tuple(
            p for i, p in enumerate(PROTOCOLS)
            if "protocol" not in pins or z3.is_true(model.eval(z3.substitute(pins["protocol"], (enc.protocol, z3.BitVecVal(i, 2, enc.ctx))), model_completion=True))
        )
        if port_range is None:
            port_range = PortRange(packet.port, packet.port)
        return Region(endpoints[0], endpoints[1], protocols, port_range, packet)
