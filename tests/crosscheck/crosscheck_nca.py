"""Running IBM's network-config-analyzer (NCA) and reading its connectivity map.

NCA is called through its command line only, so it may live in another virtual
environment: ``NPVERIFY_NCA`` names its python (run as ``python -m nca``) or its ``nca``
script; without it, ``python -m nca`` in the current environment is used when the
package is installed there.

The query is ``nca --connectivity -r <manifests> -o txt_no_fw_rules --print_ipv6``: one
line per (source, destination) and connection set, pods written ``ns/name[Pod]`` and IP
ranges ``first-last``, e.g.::

    alpha/p0[Pod] => beta/p1[Pod] : {protocols:TCP,dst_ports:80,8080-8090}
    0.0.0.0-9.255.255.255 => beta/p1[Pod] : All but {protocols:UDP,dst_ports:53}

A pair may have several lines (their connections add up); a pair with no line has no
connection. Connections are read here into exact per-protocol port sets for TCP, UDP and
SCTP, the protocols a NetworkPolicy can name; NCA's other protocols (ICMP, ...) are dropped.

NCA takes most of a second to start, so ``run_nca_batch`` runs many clusters in one process
through nca_batch.py when it can find NCA's python.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict

import attrs

#: The NCA version whose output format this module reads (the extra pins it).
NCA_VERSION = "2.1.0"
PROTOCOLS = ("TCP", "UDP", "SCTP")
MAX_PORT = 65535

#: An inclusive range of ports (or of IP addresses as integers).
Range = tuple[int, int]


def nca_command() -> list[str] | None:
    """The command that runs NCA, or None when it is not installed."""
    configured = os.environ.get("NPVERIFY_NCA")
    if configured:
        path = shutil.which(configured) or configured
        if not os.path.isfile(path):
            raise FileNotFoundError(f"NPVERIFY_NCA={configured!r} is not a file")
        if os.path.basename(path).startswith("python"):
            return [path, "-m", "nca"]
        return [path]
    if importlib.util.find_spec("nca") is not None and importlib.util.find_spec("nca.nca_cli") is not None:
        return [sys.executable, "-m", "nca"]
    return None


def nca_version(command: list[str]) -> str:
    out = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=120)
    match = re.search(r"NCA version (\S+)", out.stdout + out.stderr)
    return match.group(1) if match else f"unknown ({(out.stdout + out.stderr).strip()!r})"


@attrs.frozen
class NcaRun:
    """NCA's answer for one manifest file: its connectivity map, or why it failed."""

    returncode: int
    output: str
    stderr: str

    @property
    def error(self) -> str | None:
        """NCA rejected the input or crashed (its exit code is 0 for a connectivity map)."""
        if self.returncode != 0 or re.search(r"^(Error|Traceback)", self.stderr, re.M):
            return f"exit {self.returncode}: {self.stderr.strip()}"
        return None


def connectivity_argv(manifests: str, output: str) -> list[str]:
    # --print_ipv6: report IPv6 peers too, not only when a policy names an IPv6 block.
    return ["--connectivity", "-r", manifests, "-o", "txt_no_fw_rules", "--print_ipv6", "-f", output]


def _read_output(output: str) -> str:
    if not os.path.exists(output):
        return ""
    with open(output, encoding="utf-8") as f:
        return f.read()


def run_nca(command: list[str], manifests: str, output: str) -> NcaRun:
    """The connectivity map of the manifests in ``manifests`` (a file), via ``output``."""
    if os.path.exists(output):
        os.remove(output)  # NCA appends to an existing output file
    proc = subprocess.run(
        [*command, *connectivity_argv(manifests, output)], capture_output=True, text=True, timeout=600
    )
    return NcaRun(proc.returncode, _read_output(output), proc.stderr)


def nca_python(command: list[str]) -> str | None:
    """The python NCA is installed in, read from the command (or an ``nca`` script's #! line)."""
    if command[1:] == ["-m", "nca"]:
        return command[0]
    try:
        with open(command[0], encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except OSError:
        return None
    interpreter = first[2:].strip().split(" ")[0] if first.startswith("#!") else ""
    if os.path.basename(interpreter).startswith("python") and os.path.isfile(interpreter):
        return interpreter
    return None


BATCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nca_batch.py")


def run_nca_batch(command: list[str], jobs: list[tuple[str, str]], workdir: str) -> list[NcaRun]:
    """``run_nca`` for each (manifests, output) job, in one NCA process when possible."""
    python = nca_python(command)
    if python is None:
        return [run_nca(command, manifests, output) for manifests, output in jobs]
    for _, output in jobs:
        if os.path.exists(output):
            os.remove(output)  # NCA appends to an existing output file
    fd, jobs_file = tempfile.mkstemp(suffix=".json", dir=workdir)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump([connectivity_argv(manifests, output) for manifests, output in jobs], f)
    results_file = jobs_file[: -len(".json")] + "-results.json"
    proc = subprocess.run(
        [python, BATCH_SCRIPT, jobs_file, results_file], capture_output=True, text=True, timeout=1800
    )
    if proc.returncode != 0 or not os.path.exists(results_file):
        raise RuntimeError(f"{python} {BATCH_SCRIPT} failed (exit {proc.returncode}):\n{proc.stderr}")
    with open(results_file, encoding="utf-8") as f:
        results = json.load(f)
    return [
        NcaRun(r["returncode"], _read_output(output), r["stderr"] + proc.stderr)
        for r, (_, output) in zip(results, jobs)
    ]


# --- the connectivity map ----------------------------------------------------------------

#: Per protocol, the allowed destination ports as sorted disjoint ranges.
PortSets = dict[str, tuple[Range, ...]]


@attrs.frozen
class PodRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@attrs.frozen
class IpRanges:
    """A set of IP addresses of one family (4 or 6), as sorted disjoint integer ranges."""

    version: int
    ranges: tuple[Range, ...]

    def __str__(self) -> str:
        return ",".join(f"{ip(self.version, a)}-{ip(self.version, b)}" for a, b in self.ranges)


def ip(version: int, value: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value)


Endpoint = PodRef | IpRanges


@attrs.frozen
class Connectivity:
    """NCA's connectivity map: for each (source, destination) the allowed ports per protocol.

    ``pods`` is keyed by (source pod, destination pod); ``to_ips``/``from_ips`` by pod and
    hold a list of (IP ranges, ports) for the pod's egress to / ingress from IP addresses.
    """

    pods: dict[tuple[PodRef, PodRef], PortSets]
    to_ips: dict[PodRef, list[tuple[IpRanges, PortSets]]]
    from_ips: dict[PodRef, list[tuple[IpRanges, PortSets]]]


def parse_connectivity(text: str) -> Connectivity:
    pods: dict[tuple[PodRef, PodRef], PortSets] = {}
    to_ips: dict[PodRef, list[tuple[IpRanges, PortSets]]] = defaultdict(list)
    from_ips: dict[PodRef, list[tuple[IpRanges, PortSets]]] = defaultdict(list)
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        src_text, sep, rest = line.partition(" => ")
        dst_text, sep2, conn_text = rest.partition(" : ")
        if not sep or not sep2:
            raise ValueError(f"unexpected NCA output line: {line!r}")
        src, dst, conns = parse_endpoint(src_text), parse_endpoint(dst_text), parse_connections(conn_text)
        if isinstance(src, PodRef) and isinstance(dst, PodRef):
            pods[(src, dst)] = union(pods.get((src, dst), {}), conns)
        elif isinstance(src, PodRef) and isinstance(dst, IpRanges):
            to_ips[src].append((dst, conns))
        elif isinstance(src, IpRanges) and isinstance(dst, PodRef):
            from_ips[dst].append((src, conns))
        else:
            raise ValueError(f"NCA output line between two IP ranges: {line!r}")
    return Connectivity(pods, dict(to_ips), dict(from_ips))


_POD = re.compile(r"^(?P<ns>[^/\s]+)/(?P<name>[^\[\s]+)\[Pod\]$")


def parse_endpoint(text: str) -> Endpoint:
    match = _POD.match(text)
    if match:
        return PodRef(match["ns"], match["name"])
    ranges, versions = [], set()
    for part in text.split(","):
        if "-" in part:
            first, last = (ipaddress.ip_address(a) for a in part.split("-"))
        else:
            network = ipaddress.ip_network(part)
            first, last = network.network_address, network.broadcast_address
        versions |= {first.version, last.version}
        ranges.append((int(first), int(last)))
    if len(versions) != 1:
        raise ValueError(f"unexpected NCA endpoint: {text!r}")
    return IpRanges(versions.pop(), tuple(sorted(ranges)))


ALL_PORTS: tuple[Range, ...] = ((1, MAX_PORT),)
ALL: PortSets = {p: ALL_PORTS for p in PROTOCOLS}


def parse_connections(text: str) -> PortSets:
    """``All connections``, ``All but <cubes>`` or ``<cubes>`` -> ports per protocol."""
    text = text.strip()
    if text == "All connections":
        return dict(ALL)
    if text == "No connections":
        return {}
    if text.startswith("All but "):
        return difference(ALL, parse_cubes(text[len("All but "):]))
    return parse_cubes(text)


_CUBE = re.compile(r"\{([^{}]*)\}")


def parse_cubes(text: str) -> PortSets:
    """``{protocols:TCP, UDP,dst_ports:80,90-99},{...}``: a union of cubes."""
    cubes = _CUBE.findall(text)
    if not cubes or _CUBE.sub("", text).strip(", ") != "":
        raise ValueError(f"unexpected NCA connection set: {text!r}")
    result: PortSets = {}
    for body in cubes:
        fields = {}
        for item in re.split(r",(?=[a-z_]+:)", body):
            key, _, value = item.partition(":")
            fields[key.strip()] = value.strip()
        unknown = set(fields) - {"protocols", "dst_ports"}
        if unknown:
            raise ValueError(f"unexpected NCA connection dimensions {sorted(unknown)} in {text!r}")
        protocols = parse_protocols(fields.get("protocols", "*"))
        ports = parse_ports(fields["dst_ports"]) if "dst_ports" in fields else ALL_PORTS
        result = union(result, {p: ports for p in protocols})
    return result


def parse_protocols(text: str) -> tuple[str, ...]:
    """``*``, ``TCP, UDP`` or ``all but TCP, ICMP`` -> the ones of TCP/UDP/SCTP included."""
    if text == "*":
        return PROTOCOLS
    if text.startswith("all but "):
        excluded = {p.strip() for p in text[len("all but "):].split(",")}
        return tuple(p for p in PROTOCOLS if p not in excluded)
    named = {p.strip() for p in text.split(",")}
    return tuple(p for p in PROTOCOLS if p in named)


def parse_ports(text: str) -> tuple[Range, ...]:
    ranges = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        ranges.append((int(first), int(last or first)))
    return normalize(ranges)


# --- port set arithmetic -----------------------------------------------------------------


def normalize(ranges) -> tuple[Range, ...]:
    """Sorted, disjoint, non-adjacent ranges within 1..65535."""
    out: list[list[int]] = []
    for a, b in sorted((max(a, 1), min(b, MAX_PORT)) for a, b in ranges):
        if a > b:
            continue
        if out and a <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return tuple((a, b) for a, b in out)


def union(x: PortSets, y: PortSets) -> PortSets:
    out = {p: normalize(x.get(p, ()) + y.get(p, ())) for p in PROTOCOLS}
    return {p: r for p, r in out.items() if r}


def complement(ranges: tuple[Range, ...]) -> tuple[Range, ...]:
    out, start = [], 1
    for a, b in normalize(ranges):
        if a > start:
            out.append((start, a - 1))
        start = b + 1
    if start <= MAX_PORT:
        out.append((start, MAX_PORT))
    return tuple(out)


def intersect(x: tuple[Range, ...], y: tuple[Range, ...]) -> tuple[Range, ...]:
    return complement(complement(x) + complement(y))


def difference(x: PortSets, y: PortSets) -> PortSets:
    out = {p: intersect(x.get(p, ()), complement(y.get(p, ()))) for p in PROTOCOLS}
    return {p: r for p, r in out.items() if r}


def contains(ranges: tuple[Range, ...], value: int) -> bool:
    return any(a <= value <= b for a, b in ranges)


def format_ranges(ranges: tuple[Range, ...]) -> str:
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges) or "none"
