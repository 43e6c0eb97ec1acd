"""network-config-analyzer (NCA) on the benchmark clusters, for the side-by-side table.

Three of NCA's queries ask what one of npverify's phases asks, on the same generated files:

    connectivity  nca --connectivity -r DATA/original/k8s -o txt_no_fw_rules -f OUT   (phase matrix)
    equiv         nca --equiv -r DATA/rewrite/k8s -rb DATA/original/k8s               (phase equiv)
    redundancy    nca --scheme DATA/nca/redundancy-scheme.yaml                        (phase redundancy)

``--equiv`` is NCA 2.1.0's command-line equivalence (its ``twoWayContainment`` query);
the scheme file holds one network config (the original manifests) and one ``redundancy``
query. ``txt_no_fw_rules`` is the connectivity map without NCA's firewall-rule grouping:
one line per connected pair, the cheapest of its output formats.

``run.py --nca`` calls ``measure`` once per size and query: a fresh process of NCA's
python runs this file with ``--child``, which imports NCA, then times ``nca_main`` alone
(wall clock, CPU time, peak resident memory), as run.py times npverify's phases after
its imports. The child's stdout and stderr go to DATA/nca/QUERY.out and .err. NCA is
found as in tests/crosscheck: ``NPVERIFY_NCA`` names its python or its ``nca`` script,
else the current python is used when NCA is installed in it.

``--check`` compares NCA's answers with npverify's in NCA's universe (pods of the loaded
workloads only, declared namespaces only, ipBlocks that never match pods): the same
equivalence verdict, the same redundant policies and rules, the same ports for every
pair of distinct workloads.

The child runs in NCA's environment, so this module imports nothing but the standard
library at the top; npverify and the cross-check's parser are imported where used.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
#: NCA query -> the npverify phase that answers the same question.
QUERIES = {"connectivity": "matrix", "equiv": "equiv", "redundancy": "redundancy"}
#: The NCA release these invocations and output patterns were written for.
NCA_VERSION = "2.1.0"


# --------------------------------------------------------------------------- finding NCA


def _crosscheck():
    """tests/crosscheck/crosscheck_nca.py: how this repository finds and reads NCA."""
    folder = os.path.join(REPO, "tests", "crosscheck")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import crosscheck_nca

    return crosscheck_nca


def nca_python() -> tuple[str | None, str]:
    """The python NCA is installed in, or None and why not."""
    configured = os.environ.get("NPVERIFY_NCA")
    if not configured and importlib.util.find_spec("nca") is None:
        return None, "network-config-analyzer is not installed (pip install network-config-analyzer==2.1.0, or set NPVERIFY_NCA)"
    try:
        crosscheck = _crosscheck()
        command = crosscheck.nca_command()
    except (ImportError, FileNotFoundError) as exc:
        return None, str(exc)
    python = crosscheck.nca_python(command) if command else None
    if python is None:
        return None, f"cannot find the python of NCA's command {command}"
    return python, ""


def nca_version(python: str) -> str:
    done = subprocess.run([python, "-m", "nca", "--version"], capture_output=True, text=True, timeout=120)
    match = re.search(r"NCA version (\S+)", done.stdout + done.stderr)
    return match.group(1) if match else "unknown"


# --------------------------------------------------------------------------- the queries


def _folder(data: str) -> str:
    return os.path.join(data, "nca")


def output_path(data: str, query: str) -> str:
    return os.path.join(_folder(data), f"{query}.out")


def write_scheme(data: str) -> str:
    """The scheme file of the redundancy query (JSON is YAML), next to the outputs."""
    os.makedirs(_folder(data), exist_ok=True)
    path = os.path.join(_folder(data), "redundancy-scheme.yaml")
    scheme = {
        "networkConfigList": [{"name": "original", "resourceList": [os.path.join(data, "original", "k8s") + "/**"]}],
        "queries": [{"name": "redundancy", "redundancy": ["original"]}],
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(scheme, f, indent=2)
        f.write("\n")
    return path


def nca_argv(query: str, data: str) -> list[str]:
    """The arguments of the ``nca`` command for one query on one size's data."""
    original, rewrite = os.path.join(data, "original", "k8s"), os.path.join(data, "rewrite", "k8s")
    if query == "connectivity":
        return ["--connectivity", "-r", original, "-o", "txt_no_fw_rules", "-f", output_path(data, query)]
    if query == "equiv":
        return ["--equiv", "-r", rewrite, "-rb", original]
    if query == "redundancy":
        return ["--scheme", os.path.join(_folder(data), "redundancy-scheme.yaml")]
    raise ValueError(f"unknown NCA query {query!r}")


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def child(query: str, data: str) -> dict:
    """Run one NCA query in this (fresh) process: imports first, then ``nca_main`` timed.

    NCA prints through ``sys.stderr`` as imported at its start, so the output is caught
    at file descriptors 1 and 2 (as tests/crosscheck/nca_batch.py does).
    """
    from nca.nca_cli import nca_main

    os.makedirs(_folder(data), exist_ok=True)
    argv = nca_argv(query, data)
    out = output_path(data, query)
    if os.path.exists(out):
        os.remove(out)  # NCA appends to an existing -f file
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    # The connectivity map goes to -f OUT; the rest of what NCA prints, to QUERY.stdout.
    stdout = out if query != "connectivity" else os.path.join(_folder(data), f"{query}.stdout")
    files = {1: open(stdout, "w", encoding="utf-8"), 2: open(os.path.join(_folder(data), f"{query}.err"), "w", encoding="utf-8")}
    try:
        for fd, file in files.items():
            os.dup2(file.fileno(), fd)
        cpu_started = time.process_time()
        started = time.perf_counter()
        try:
            code = nca_main(argv)
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 2
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        for file in files.values():
            file.close()
    peak = _status_kib("VmHWM")
    return {
        "query": query,
        "returncode": code,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mib": (peak or 0) / 1024,
    }


def measure(query: str, data: str, python: str, timeout: float) -> dict:
    """One run of one NCA query in a fresh process of NCA's python, killed after ``timeout``."""
    if query == "redundancy":
        write_scheme(data)
    result = os.path.join(_folder(data), f"{query}.json")
    os.makedirs(_folder(data), exist_ok=True)
    if os.path.exists(result):
        os.remove(result)
    command = [python, os.path.abspath(__file__), "--child", query, "--data", data, "--json", result]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"query": query, "timeout": True, "seconds": time.perf_counter() - started}
    if done.returncode != 0 or not os.path.exists(result):
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"query": query, "error": " | ".join(tail) or f"exit {done.returncode}"}
    with open(result, encoding="utf-8") as f:
        run = json.load(f)
    run["answer"] = answer(query, data)
    if run["returncode"] == 7 and not run["answer"].startswith("error"):  # nca_main's code for an exception
        run["answer"] = "error: exit 7, see " + output_path(data, query)[: -len(".out")] + ".err"
    if run["answer"].startswith("error"):
        run["error"] = run.pop("answer")
    return run


# --------------------------------------------------------------------------- NCA's answers


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


#: An endpoint of NCA's connectivity map that is a workload: ``ns/name[Kind]``.
_WORKLOAD = re.compile(r"^(?P<ns>[^/\s]+)/(?P<name>[^\[\s]+)\[(?P<kind>[A-Za-z]+)\]$")


def connectivity_lines(text: str) -> dict[tuple[str, str], str]:
    """NCA's map, workload to workload only: (src, dst) as ``ns/Kind/name`` -> connections."""
    pairs: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        src, sep, rest = line.strip().partition(" => ")
        dst, sep2, conns = rest.partition(" : ")
        if not sep or not sep2:
            continue
        s, d = _WORKLOAD.match(src), _WORKLOAD.match(dst)
        if s and d:
            key = (f"{s['ns']}/{s['kind']}/{s['name']}", f"{d['ns']}/{d['kind']}/{d['name']}")
            pairs[key] = pairs[key] + "," + conns if key in pairs else conns
    return pairs


def redundancy_items(text: str) -> tuple[set[str], set[str]] | None:
    """NCA's redundancy report: policies (``ns/name``) and rules (``ns/name ingress[i]``,
    0-based like npverify's; NCA counts from 1). None when NCA printed neither verdict."""
    if "No redundancy found" in text:
        return set(), set()
    if "Redundancies found" not in text:
        return None
    policies: set[str] = set()
    rules: set[str] = set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Policies that are redundant") and i + 1 < len(lines):
            policies |= {p.strip() for p in lines[i + 1].split(",") if p.strip()}
        match = re.match(r"NetworkPolicy (\S+), (ingress|egress) rules indexes: ([\d, ]+)$", line.strip())
        if match:
            rules |= {f"{match[1]} {match[2]}[{int(n) - 1}]" for n in match[3].split(",") if n.strip()}
    return policies, rules


def answer(query: str, data: str) -> str:
    """NCA's answer in a few words (or ``error: ...`` when it failed)."""
    out, err = _read(output_path(data, query)), _read(output_path(data, query)[: -len(".out")] + ".err")
    if re.search(r"^(Error|Traceback)", err + out, re.M):
        lines = [line for line in (err + out).splitlines() if line.startswith("Error") or "Error" in line]
        return "error: " + (lines[-1] if lines else "see " + output_path(data, query)[: -len(".out")] + ".err")
    if query == "connectivity":
        pairs = connectivity_lines(out)
        return f"{len(pairs)} connected pairs of distinct workloads"
    if query == "equiv":
        if "semantically equivalent" in out and "not semantically equivalent" not in out and "Neither" not in out:
            return "equivalent"
        if "same network topology and the same set of policies" in out:
            return "equivalent (same policies)"
        return "different" if out.strip() else "error: no output"
    found = redundancy_items(out)
    if found is None:
        return "error: no redundancy verdict in the output"
    policies, rules = found
    return f"{len(policies)} redundant policies, {len(rules)} redundant rules"


# --------------------------------------------------------------------------- agreement


def check(data: str, queries: list[str]) -> dict[str, str]:
    """Compare NCA's saved answers with npverify's in NCA's universe: query -> verdict."""
    import npverify
    from npverify.model import Direction, Semantics, Universe
    from npverify.redundancy import find_redundancy

    universe, semantics = Universe(pods="workloads", namespaces="declared"), Semantics(ip_block_matches_pods=False)
    original = npverify.load_manifests([os.path.join(data, "original", "k8s")])
    verdicts: dict[str, str] = {}
    for query in queries:
        out = _read(output_path(data, query))
        said = answer(query, data)
        if said.startswith("error"):
            verdicts[query] = f"not compared (NCA {said})"
            continue
        if query == "equiv":
            rewrite = npverify.load_manifests([os.path.join(data, "rewrite", "k8s")])
            same = npverify.equivalence(original, rewrite, universe=universe, semantics=semantics, max_diffs=1).same
            theirs = said.startswith("equivalent")
            verdicts[query] = ("agree" if same is theirs else "DISAGREE") + f": npverify {'equivalent' if same else 'different' if same is False else 'unknown'}, NCA {said}"
        elif query == "redundancy":
            report = find_redundancy(original, universe, semantics)
            found = redundancy_items(out)
            assert found is not None
            theirs_policies, theirs_rules = found
            mine = [r.item for r in report.redundant] + [v.item for v in report.vacuous]
            policies = {str(i) for i in mine if i.kind == "policy"}
            rules = {f"{i.policy.key} {'ingress' if i.direction is Direction.INGRESS else 'egress'}[{i.rule_index}]" for i in mine if i.kind == "rule"}
            if (policies, rules) == (theirs_policies, theirs_rules):
                verdicts[query] = (
                    f"agree: {len(policies)} policies and {len(rules)} rules redundant (npverify also lists "
                    f"{len(mine) - len(policies) - len(rules)} peers and port entries, which NCA does not check)"
                )
            else:
                diffs = [
                    f"{what} only {who}: {', '.join(sorted(items))}"
                    for what, who, items in (
                        ("policies", "npverify", policies - theirs_policies),
                        ("policies", "NCA", theirs_policies - policies),
                        ("rules", "npverify", rules - theirs_rules),
                        ("rules", "NCA", theirs_rules - rules),
                    )
                    if items
                ]
                verdicts[query] = "DISAGREE: " + "; ".join(diffs)
        elif query == "connectivity":
            verdicts[query] = _check_connectivity(original, out, universe, semantics)
    return verdicts


def _check_connectivity(cluster, out: str, universe, semantics) -> str:
    from npverify.matrix import connectivity_matrix
    from npverify.model import Protocol

    crosscheck = _crosscheck()
    matrix = connectivity_matrix(cluster, by="workload", universe=universe, semantics=semantics, prove=False)
    theirs = {key: crosscheck.parse_connections(text) for key, text in connectivity_lines(out).items()}
    mine = {}
    for src, dst, cell in matrix.nonempty():
        if src == dst:
            continue  # NCA's map leaves a workload's traffic to itself out
        mine[(src, dst)] = {p.name: tuple(cell.may.intervals(p)) for p in (Protocol.TCP, Protocol.UDP, Protocol.SCTP) if cell.may.intervals(p)}
    differ = sorted(key for key in set(mine) | set(theirs) if mine.get(key, {}) != theirs.get(key, {}))
    if not differ:
        return f"agree: the same ports for all {len(mine)} connected pairs of distinct workloads"
    src, dst = differ[0]
    return (
        f"DISAGREE on {len(differ)} pairs, e.g. {src} -> {dst}: npverify {mine.get((src, dst), {})}, "
        f"NCA {theirs.get((src, dst), {})}"
    )


# --------------------------------------------------------------------------- results files


def summarize(runs: list[dict]) -> dict:
    """The median of the finished runs, or why none finished."""
    finished = [r for r in runs if "returncode" in r and "error" not in r]
    row: dict = {"runs": len(finished)}
    timed_out = [r for r in runs if r.get("timeout")]
    if timed_out:
        row["timeout"] = max(r["seconds"] for r in timed_out)
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        row["error"] = errors[0]
    if finished:
        row.update(
            median=statistics.median(r["seconds"] for r in finished),
            cpu=statistics.median(r["cpu_seconds"] for r in finished),
            peak=statistics.median(r["peak_rss_mib"] for r in finished),
            answer="; ".join(sorted({r["answer"] for r in finished})),
        )
    return row


def load_results(path: str) -> dict:
    if not os.path.exists(path):
        return {"sizes": {}}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_results(path: str, results: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=sorted(QUERIES), help="run one NCA query, timed (in NCA's python)")
    parser.add_argument("--check", help="comma-separated queries whose saved answers to compare with npverify's")
    parser.add_argument("--data", required=True, help="one size's folder (original/, rewrite/, nca/)")
    parser.add_argument("--json", help="where --child writes its measurement")
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child, args.data)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(result, f)
        return 0
    if args.check:
        print(json.dumps(check(args.data, [q for q in args.check.split(",") if q])))
        return 0
    parser.error("--child or --check")
    return 2


if __name__ == "__main__":
    sys.exit(main())
