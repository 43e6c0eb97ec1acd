"""Measure npverify on synthetic clusters: time per phase (load, encode, solve, report) and peak memory.

    python benchmarks/run.py --sizes small,medium --repeat 3 --write

For each size, benchmarks/generate.py writes the cluster, its equivalent rewrite and a
one-change mutation; then each phase runs ``--repeat`` times, every run in a fresh Python
process (so the memory peak belongs to that run alone), under ``--timeout`` seconds:

    load         npverify.load_manifests(original/k8s)
    prove        npverify.prove of the ten invariants of original/invariants.yaml
    equiv        npverify.compare.equivalence(original, rewrite): expected equivalent
    mutation     npverify.compare.equivalence(original, mutation): expected different;
                 up to --max-diffs regions per direction, as the CLI reports them
    mutation-first  the same with max_diffs=1: detecting the change, one region
    redundancy   npverify.redundancy.find_redundancy(original)
    redundancy-1ns  the same for the policies of one namespace only (against all of them):
                 the per-namespace cost, for when the full scan does not finish
    matrix       npverify.matrix.connectivity_matrix(original, by="workload"), proved
    matrix-ns    the same by namespace
    matrix-unproved, matrix-ns-unproved  the same without the proof (--no-proof): the set
                 algebra alone, what network-config-analyzer's connectivity map computes
    parse        PyYAML's C loader merely parsing original/k8s: the yardstick of the next
    load-cached  load with every file in the load cache (a CI re-run on unchanged files;
                 the cache is filled before the timed span, in a folder of its own)
    parse-no-context  the baseline of the next two: PyYAML's C loader merely parsing
                 original/k8s/policies and rewrite/k8s/policies (issue 13.1's yardstick)
    equiv-no-context  equivalence of original/k8s/policies and rewrite/k8s/policies
                 alone: no Namespaces, no workloads, so every namespace is undeclared
                 and its labels arbitrary (a CI check of a pull request touching policies)
    mutation-no-context  the same against mutation/k8s/policies: expected different

Each run is split into sub-phases, timed with ``time.perf_counter`` inside the process
after its imports: *load* reads the phase's inputs (manifests of every side, the
invariants file); *encode* is the time spent building ``SolverSession`` objects (the SMT
encoding of the cluster); *solve* is the rest of the library call (the solver's queries,
the matrix's set algebra, replaying packets); *report* renders the result as the CLI's
text. The total is their sum, i.e. what the CLI command costs minus interpreter start and
imports; CPU is the CPU time of the process and of its worker processes over the same
span, which a busy machine disturbs less than wall time. Peak RSS is the process's resident-set high-water mark (VmHWM),
z3's native memory, the interpreter and the imports included.

With two sizes or more, a second table gives each phase's growth from one size to the
next larger one (pods ×, wall time ×, CPU time ×).

``--whole-process`` also times CLI commands as whole processes, from the start of the
interpreter to its exit (``python -m npverify.cli prove ...``, ``equiv``, ``equiv
--manifests``), beside the seconds they print, and beside the time PyYAML's C loader
(``yaml.CSafeLoader``) takes to parse the files the command reads: the floor for any
tool that reads YAML in Python.

``--cluster-policies`` also measures each phase on the same size with the Admin and
Baseline tiers (benchmarks/generate.py --cluster-policies, into WORKDIR/SIZE+tiers): rows
``PHASE +tiers`` beside ``PHASE``, run in turn so both see the same machine load, and a
table of the ratio tiered / NetworkPolicy-only per phase against issue 12's target (1.5×).
The no-context phases then read each variant's k8s/cluster-policies.yaml beside its
policies folder. A question npverify answers as unsupported (the connectivity matrix of
a tiered cluster, until the matrix reads the tiers) is shown as such and does not fail
the run. ``--skip SIZE:PHASE+tiers`` leaves out the tiered run of one phase only.

``--nca`` also runs network-config-analyzer's connectivity map, equivalence and
redundancy queries on the same files (benchmarks/nca_runner.py), and prints a comparison
table; ``--nca-results FILE`` keeps those measurements, so that later runs (without
``--nca``) put the saved table beside new npverify figures.

The tables go to stdout; ``--write`` also puts them, with the machine and the commands,
into benchmarks/RESULTS.md between the generated-section markers (text outside them is
kept). A run that exceeds its timeout is killed and reported as not finished; the phase
is not repeated.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import json
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
GENERATE = os.path.join(HERE, "generate.py")
RESULTS = os.path.join(HERE, "RESULTS.md")
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import nca_runner  # noqa: E402  (benchmarks/ is not a package)
from nca_runner import _status_kib  # noqa: E402  (one reader of /proc/self/status for both)

#: name -> (namespaces, pods per namespace, policies per namespace)
SIZES = {
    "tiny": (2, 3, 10),
    "small": (10, 10, 5),
    "medium": (50, 20, 10),
    "large": (100, 30, 10),
    "xl": (1000, 20, 10),
    "xxl": (5000, 20, 10),
}
PHASES = (
    "load", "prove", "equiv", "mutation", "mutation-first", "redundancy", "redundancy-1ns", "lint",
    "matrix", "matrix-ns", "matrix-unproved", "matrix-ns-unproved",
    "parse-no-context", "equiv-no-context", "mutation-no-context", "parse", "load-cached",
)
#: Phases that compare the policy folders alone (no Namespaces, no workloads: every
#: namespace undeclared), as a CI check of a pull request touching only policies does.
NO_CONTEXT_PHASES = ("equiv-no-context", "mutation-no-context")
#: Phases that only read their inputs (no encoding, no solving).
READING_PHASES = ("load", "load-cached", "parse", "parse-no-context")
MATRIX_PHASES = ("matrix", "matrix-ns", "matrix-unproved", "matrix-ns-unproved")
#: npverify phases compared with an NCA query besides the one nca_runner.QUERIES names.
ALSO_BESIDE_NCA = {"connectivity": ("matrix-unproved",)}
#: Sub-phases of a run, in order: the columns of the table.
PARTS = ("load", "encode", "solve", "report")
#: The CLI command each phase corresponds to ({d} is the size's data folder, {u} the universe flags).
CLI = {
    "load": "part of every command",
    "parse": "yaml.load_all(f, Loader=yaml.CSafeLoader) over every file of {d}/original/k8s",
    "load-cached": "part of every command, run again on unchanged files",
    "prove": "npverify prove {d}/original/invariants.yaml",
    "equiv": "npverify equiv{u} {d}/original/k8s {d}/rewrite/k8s",
    "mutation": "npverify equiv{u} {d}/original/k8s {d}/mutation/k8s",
    "mutation-first": "npverify equiv{u} --max-diffs 1 {d}/original/k8s {d}/mutation/k8s",
    "redundancy": "npverify redundant{u} {d}/original/k8s",
    "redundancy-1ns": "npverify redundant{u} {d}/original/k8s --policy NS/NAME ... (one --policy per policy of the first namespace)",
    "lint": "npverify lint{u} {d}/original/k8s",
    "matrix": "npverify matrix{u} {d}/original/k8s",
    "matrix-ns": "npverify matrix{u} --by namespace {d}/original/k8s",
    "matrix-unproved": "npverify matrix{u} --no-proof {d}/original/k8s",
    "matrix-ns-unproved": "npverify matrix{u} --by namespace --no-proof {d}/original/k8s",
    "parse-no-context": "yaml.load_all(f, Loader=yaml.CSafeLoader) over every file of {d}/original/k8s/policies and {d}/rewrite/k8s/policies",
    "equiv-no-context": "npverify equiv{u} {d}/original/k8s/policies {d}/rewrite/k8s/policies",
    "mutation-no-context": "npverify equiv{u} {d}/original/k8s/policies {d}/mutation/k8s/policies",
}
#: --whole-process: CLI commands timed as whole processes ({d} is the size's data folder),
#: and the manifests each one reads, which the C-loader baseline parses.
WHOLE_PROCESS = {
    "prove": (["prove", "{d}/original/invariants.yaml"], ["{d}/original/k8s"]),
    "equiv": (["equiv", "{d}/original/k8s", "{d}/rewrite/k8s"], ["{d}/original/k8s", "{d}/rewrite/k8s"]),
    "equiv --manifests": (
        ["equiv", "--manifests", "{d}/original/k8s/namespaces.yaml", "--manifests", "{d}/original/k8s/workloads",
         "{d}/original/k8s/policies", "{d}/rewrite/k8s/policies"],
        ["{d}/original/k8s/namespaces.yaml", "{d}/original/k8s/workloads", "{d}/original/k8s/policies", "{d}/rewrite/k8s/policies"],
    ),
}
#: What benchmarks/generate.py --cluster-policies adds under DATA/VARIANT/k8s/.
CLUSTER_POLICIES_FILE = "cluster-policies.yaml"
#: How the rows of the tiered clusters are labelled (after the phase), and the target of
#: issue 12: each phase on the tiered cluster within this factor of its NetworkPolicy-only time.
TIERED = " +tiers"
TIERED_TARGET = 1.5
#: The phases without context read the cluster policies beside the policy folder.
CLI_TIERED = {
    "parse-no-context": "the same, with {d}/original/k8s/cluster-policies.yaml and {d}/rewrite/k8s/cluster-policies.yaml",
    "equiv-no-context": "npverify.compare.equivalence of load_manifests([{d}/original/k8s/policies, {d}/original/k8s/cluster-policies.yaml]) "
    "and the same of {d}/rewrite (the CLI takes one path per side: both files in one folder)",
    "mutation-no-context": "the same against {d}/mutation",
}
#: The seconds at the end of the text report's last line: "... (13.26 s)".
PRINTED_SECONDS = re.compile(r"\(([0-9.]+) s\)\s*$")

#: --universe: "any" is npverify's default (any pod, any namespace); "nca" is the question
#: network-config-analyzer answers (pods of the loaded workloads, declared namespaces, and
#: ipBlocks that never match pods). The invariants file of ``prove`` keeps its own universe.
UNIVERSES = {
    "any": "",
    "nca": " --pods workloads --namespaces declared --no-ipblock-matches-pods",
}
BEGIN = "<!-- BEGIN GENERATED by benchmarks/run.py --write: this section is replaced on every run -->"
END = "<!-- END GENERATED -->"
TIERS_BEGIN = "<!-- BEGIN GENERATED by benchmarks/run.py --cluster-policies --write: this section is replaced on every such run -->"
TIERS_END = "<!-- END GENERATED (tiers) -->"
TIERS_HEADING = "## Admin and Baseline tiers"
TIERS_NOTE = (
    "Each phase on a cluster with cluster-scoped policies (`generate.py --cluster-policies`: seven cluster-wide "
    "Admin-tier guardrails, one more Admin-tier policy per 10 namespaces, the BaselineAdminNetworkPolicy `default`; "
    "the rewrite and the mutation change NetworkPolicies only) beside the same phase on the same cluster without "
    f"them. The target of issue 12: each phase within {TIERED_TARGET:g}× of its NetworkPolicy-only time (wall). "
    "The load average (1, 5, 15 minutes) is the machine's when the first run of each began."
)


# --------------------------------------------------------------------------- one run (child)


def _peak_rss_mib() -> float:
    peak = _status_kib("VmHWM")
    if peak is None:  # no /proc
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if sys.platform == "darwin":  # bytes there, KiB on Linux
            peak //= 1024
    return peak / 1024


def _workers_peak_mib() -> float:
    """The peak resident memory of the largest finished child process."""
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _time_encodings(spent: list[float]) -> bool:
    """Time every ``SolverSession`` built from now on, appending seconds to ``spent``.

    The class is replaced, in every loaded npverify module that refers to it, by a
    subclass whose constructor is timed; modules imported later get it from
    npverify.smt.solve. False when there is no such class to time (encode is then
    reported as part of solve).
    """
    try:
        from npverify.smt import solve
    except ImportError:
        return False
    original = getattr(solve, "SolverSession", None)
    if not isinstance(original, type):
        return False

    class TimedSolverSession(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                super().__init__(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - started)

    TimedSolverSession.__name__ = TimedSolverSession.__qualname__ = original.__name__
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] == "npverify" and getattr(module, "SolverSession", None) is original:
            setattr(module, "SolverSession", TimedSolverSession)
    return True


def _universe(name: str) -> dict:
    from npverify.model import Semantics, Universe

    if name == "nca":
        return {"universe": Universe(pods="workloads", namespaces="declared"), "semantics": Semantics(ip_block_matches_pods=False)}
    return {}


def child(phase: str, data: str, max_diffs: int, universe_name: str = "any", jobs: int = 0) -> dict:
    """Run one phase once in this (fresh) process; return the measurement."""
    import npverify
    from npverify.compare import DEFAULT_MAX_DIFFS, equivalence
    from npverify.redundancy import POLICIES_PER_WORKER, find_redundancy
    from npverify.matrix import connectivity_matrix
    from npverify.workers import workers_for
    from npverify.results import Verdict

    import attrs

    from generate import BASE_INVARIANTS

    original = os.path.join(data, "original")
    manifests = [os.path.join(original, "k8s")]
    if phase in NO_CONTEXT_PHASES or phase == "parse-no-context":
        manifests = _policy_files(original)
    options = _universe(universe_name)
    encodings: list[float] = []
    timed = _time_encodings(encodings)
    base_rss = _status_kib("VmRSS") or 0
    load_average = _loadavg()

    cache = None
    if phase == "load-cached":
        import tempfile

        from npverify.load import cache as load_cache

        cache = load_cache.LoadCache(tempfile.mkdtemp(prefix="npverify-bench-cache-"))
        atexit.register(shutil.rmtree, cache.directory, True)
        npverify.load_manifests(manifests, cache=cache)
        load_cache._code_fingerprint = None  # computed again inside the span, as a new process does
        cache.hits = cache.misses = 0

    cpu_started = time.process_time()
    started = time.perf_counter()
    if phase == "parse-no-context":
        documents = _parse_with_libyaml(manifests + _policy_files(os.path.join(data, "rewrite")))
    elif phase == "parse":
        documents = _parse_with_libyaml(manifests)
    else:
        cluster = npverify.load_manifests(manifests, cache=cache)
    spec = other = None
    if phase == "prove":
        spec = npverify.load_invariants(os.path.join(original, "invariants.yaml"))
    if phase in ("equiv", "mutation", "mutation-first") + NO_CONTEXT_PHASES:
        variant = os.path.join(data, "rewrite" if phase.startswith("equiv") else "mutation")
        other = npverify.load_manifests(_policy_files(variant) if phase in NO_CONTEXT_PHASES else [os.path.join(variant, "k8s")])
    loaded = time.perf_counter()

    detail = ""
    result = None
    proof = None  # the matrix's solver proof, part of solve
    unsupported = False
    if phase == "load":
        verdict, ok = npverify.summarize(cluster), True
    elif phase == "load-cached":
        verdict, ok = f"{cache.hits} files from the cache, {cache.misses} read", cache.misses == 0
    elif phase in ("parse", "parse-no-context"):
        verdict, ok = f"{documents} documents parsed", True
    elif phase == "prove":
        # Like for like: the invariants the NetworkPolicy-only file has, on either cluster.
        # Those the tiers decide follow them in a tiered cluster's file, proved after the
        # timed span; the detail gives their verdicts and time.
        base, decided_by_tiers = spec.invariants[:BASE_INVARIANTS], spec.invariants[BASE_INVARIANTS:]
        result = npverify.prove(attrs.evolve(spec, invariants=base), cluster=cluster)
        counts = {v: result.count(v) for v in Verdict}
        verdict = f"{counts[Verdict.PROVED]} proved, {counts[Verdict.REFUTED]} refuted, {counts[Verdict.UNKNOWN]} unknown"
        ok = counts[Verdict.UNKNOWN] == 0
    elif phase in ("equiv", "mutation", "mutation-first") + NO_CONTEXT_PHASES:
        diffs = 1 if phase == "mutation-first" else max_diffs or DEFAULT_MAX_DIFFS
        result = equivalence(cluster, other, max_diffs=diffs, **options)
        same = result.same
        regions = len(result.differences)
        more = "" if result.left_complete and result.right_complete else "+"
        verdict = {True: "equivalent", False: f"different ({regions}{more} regions)", None: f"unknown ({result.reason})"}[same]
        ok = same is phase.startswith("equiv")
    elif phase in ("redundancy", "redundancy-1ns"):
        names = None
        if phase == "redundancy-1ns":
            first = cluster.policies[0].namespace
            names = tuple(p.key for p in cluster.policies if p.namespace == first)
        workers = workers_for(jobs, len(cluster.policies), POLICIES_PER_WORKER)
        result = find_redundancy(cluster, policies=names, jobs=workers, **options)
        verdict = ("" if names is None else f"namespace {first}, {len(names)} policies, ") + (
            f"{result.items_checked} items: {len(result.redundant)} redundant, "
            f"{len(result.vacuous)} vacuous, {len(result.undecided)} undecided"
        )
        ok = not result.undecided
    elif phase == "lint":
        from npverify.lint import lint

        result = lint(cluster, options.get("universe"), options.get("semantics"), jobs=workers_for(jobs, len(cluster.policies), POLICIES_PER_WORKER))
        verdict = f"{len(result.rules)} rules: {len(result.findings)} findings, {len(result.undecided)} undecided"
        ok = not result.undecided
    elif phase in MATRIX_PHASES:
        from npverify.errors import UnsupportedError
        from npverify.matrix.compute import WORKLOADS_PER_WORKER

        proved = not phase.endswith("-unproved")
        workers = workers_for(jobs, len(cluster.workloads), WORKLOADS_PER_WORKER) if proved else 1
        by = "namespace" if phase.startswith("matrix-ns") else "workload"
        try:
            result = connectivity_matrix(cluster, by=by, prove=proved, jobs=workers, **options)
        except UnsupportedError as error:
            # A question npverify says it cannot answer yet (the CLI's exit 3): the row
            # says so, with the time it took to say it, rather than the run failing.
            result, verdict, ok, unsupported = None, f"unknown: {error}", False, True
        else:
            cells = sum(1 for _ in result.nonempty())
            verdict = f"{len(result.rows)} rows, {cells} non-empty cells, {result.verdict.name.lower() if result.verdict else 'not proved'}"
            ok = result.verdict is (Verdict.PROVED if proved else None)
            proof = getattr(result, "proof_seconds", None) if proved else None
    else:
        raise SystemExit(f"unknown phase {phase!r}")
    solved = time.perf_counter()

    report_seconds = None
    if result is not None:
        try:
            str(result)  # the CLI's text report
            report_seconds = time.perf_counter() - solved
        except ImportError:  # a renderer not written yet
            detail = (detail + "; " if detail else "") + "no text renderer yet"
    finished = time.perf_counter()
    # Worker processes (redundancy, matrix) count too: they have ended by now, and this
    # fresh process had no children before the phase started.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = time.process_time() - cpu_started + children.ru_utime + children.ru_stime
    encode = sum(encodings) if timed and encodings else None
    peak_rss = _peak_rss_mib() + _workers_peak_mib() * (workers if phase.startswith(("redundancy", "matrix")) else 0)

    # Outside every figure above: the invariants only the tiered cluster's file has.
    aside_seconds = None
    if phase == "prove" and decided_by_tiers:
        extra = npverify.prove(attrs.evolve(spec, invariants=decided_by_tiers), cluster=cluster)
        aside_seconds = time.perf_counter() - finished
        shown = ", ".join(f"{extra.count(v)} {v.name.lower()}" for v in Verdict if extra.count(v))
        detail = (detail + "; " if detail else "") + f"the {len(decided_by_tiers)} invariants the tiers decide: {shown}"
        ok = ok and extra.count(Verdict.PROVED) == len(decided_by_tiers)
    if proof is not None and encode is not None:
        proof = max(proof - encode, 0.0)  # the matrix's proof builds its encoding first: counted as encode
    call = solved - loaded
    return {
        "phase": phase,
        "load_seconds": loaded - started,
        "encode_seconds": None if phase in READING_PHASES else encode,
        "solve_seconds": None if phase in READING_PHASES else call - (encode or 0.0),
        "report_seconds": report_seconds,
        "seconds": finished - started,
        "cpu_seconds": cpu_seconds,
        "base_rss_mib": base_rss / 1024,
        # Worker processes (redundancy with jobs > 1): the largest one's peak, counted once
        # per worker, so the total is an upper bound of what all processes held at once.
        "peak_rss_mib": peak_rss,
        "proof_seconds": proof,
        "verdict": verdict,
        "detail": detail,
        "ok": ok,
        "unsupported": unsupported,
        "load_average": load_average,
        "aside_seconds": aside_seconds,
    }


def _policy_files(variant: str) -> list[str]:
    """What the no-context phases read of one variant folder: its NetworkPolicies, and its
    cluster-scoped policies when it has them (they decide too; a CI check of a pull request
    touching policies reads both)."""
    files = [os.path.join(variant, "k8s", "policies")]
    tiers = os.path.join(variant, "k8s", CLUSTER_POLICIES_FILE)
    return files + [tiers] if os.path.exists(tiers) else files


def c_parse(paths: list[str]) -> dict:
    """Parse the YAML files under ``paths`` with PyYAML's C loader, in this (fresh)
    process: the baseline of the whole-process table."""
    import yaml

    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(root, f) for root, _, names in os.walk(path) for f in names if f.endswith((".yaml", ".yml")))
        else:
            files.append(path)
    started = time.perf_counter()
    documents = 0
    for file in files:
        with open(file, encoding="utf-8") as f:
            documents += sum(1 for _ in yaml.load_all(f, Loader=yaml.CSafeLoader))
    return {"seconds": time.perf_counter() - started, "files": len(files), "documents": documents}


def measure_process(command: list[str], timeout: float) -> dict:
    """Run ``command`` as a process: wall time from its start to its exit, its CPU time
    and peak RSS (its own, from wait4), exit code and the last line it printed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        lines = [line for line in out.read().splitlines() if line.strip()]
        err.seek(0)
        errors = err.read().strip()
    if process.returncode < 0:
        return {"timeout": True, "seconds": wall}
    last = lines[-1] if lines else ""
    printed = PRINTED_SECONDS.search(last)
    return {
        "seconds": wall,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "exit": process.returncode,
        "printed_seconds": float(printed.group(1)) if printed else None,
        "verdict": PRINTED_SECONDS.sub("", last).strip() or (errors.splitlines() or [""])[-1],
    }


def whole_process(data: str, repeat: int, timeout: float) -> list[tuple[str, dict]]:
    """The WHOLE_PROCESS commands on one size, each ``repeat`` times, with the C-loader
    parse of their files; per command the medians."""
    rows = []
    for name, (args, reads) in WHOLE_PROCESS.items():
        command = [sys.executable, "-m", "npverify.cli", *(a.format(d=data) for a in args)]
        parse = [sys.executable, os.path.abspath(__file__), "--child", "c-parse", "--data", json.dumps([r.format(d=data) for r in reads])]
        runs, parses = [], []
        for i in range(repeat):
            run = measure_process(command, timeout)
            runs.append(run)
            done = subprocess.run(parse, capture_output=True, text=True, timeout=timeout, check=True)
            parses.append(json.loads(done.stdout)["seconds"])
            shown = "TIMEOUT" if run.get("timeout") else f"{run['seconds']:.2f} s, printed {run['printed_seconds']}, C-loader parse {parses[-1]:.2f} s"
            print(f"[whole process] {name} run {i + 1}/{repeat}: {shown}", file=sys.stderr, flush=True)
            if run.get("timeout"):
                break
        finished = [r for r in runs if not r.get("timeout")]
        row = {"command": _shown(command).replace(data, "DATA"), "runs": len(finished), "parse": statistics.median(parses)}
        if finished:
            row.update(
                wall=statistics.median(r["seconds"] for r in finished),
                printed=_median(finished, "printed_seconds"),
                cpu=_median(finished, "cpu_seconds"),
                peak=_median(finished, "peak_rss_mib"),
                verdict="; ".join(sorted({f"{r['verdict']} (exit {r['exit']})" for r in finished})),
            )
        rows.append((name, row))
    return rows


WHOLE_PROCESS_NOTE = (
    "CLI commands run as whole processes (median of the runs): wall time from the interpreter's start to its exit, "
    "beside the seconds the command prints (the last line of its text report) and the time PyYAML's C loader "
    "(`yaml.CSafeLoader`, in a fresh process) takes to parse the manifests the command reads; CPU and peak RSS "
    "are the process's own. The commands, DATA being the size's folder:"
)


def whole_process_table(rows: list[tuple[str, tuple[int, int, int], str, dict]]) -> str:
    lines = [
        "| size | command | printed s | whole process wall s | not in the printed span s | CPU s | peak RSS MiB | C-loader parse s | wall ÷ parse | runs | result |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for size, dims, name, row in rows:
        label = size_label(size, dims)
        if "wall" not in row:
            lines.append(f"| {label} | {name} | — | — | — | — | — | {row['parse']:.2f} | — | 0 | did not finish |")
            continue
        outside = None if row["printed"] is None else row["wall"] - row["printed"]
        lines.append(
            f"| {label} | {name} | {_seconds(row['printed'])} | {row['wall']:.2f} | {_seconds(outside)} | {_seconds(row['cpu'])} | "
            f"{row['peak']:.0f} | {row['parse']:.2f} | {row['wall'] / row['parse'] if row['parse'] else float('inf'):.1f} | {row['runs']} | {row['verdict']} |"
        )
    return "\n".join(lines)


def _parse_with_libyaml(folders: list[str]) -> int:
    """Parse every YAML file under ``folders`` with PyYAML's C loader, as the baseline of
    the no-context phases (what merely parsing the same files costs); the documents read."""
    return c_parse(folders)["documents"]


# --------------------------------------------------------------------------- the driver


def parse_size(text: str) -> tuple[str, tuple[int, int, int]]:
    """``small`` or ``NxPxQ`` (namespaces x pods per namespace x policies per namespace)."""
    if text in SIZES:
        return text, SIZES[text]
    match = re.fullmatch(r"(\d+)x(\d+)x(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"unknown size {text!r}: one of {', '.join(SIZES)} or NxPxQ, e.g. 20x10x5")
    return text, tuple(int(g) for g in match.groups())  # type: ignore[return-value]


def generate_commands(dims: tuple[int, int, int], seed: int, mutation_seed: int, data: str, cluster_policies: bool = False) -> list[list[str]]:
    n, p, q = dims
    base = [sys.executable, GENERATE, "--namespaces", str(n), "--pods-per-namespace", str(p), "--policies-per-namespace", str(q), "--seed", str(seed)]
    if cluster_policies:
        base.append("--cluster-policies")
    return [
        base + ["--out", os.path.join(data, "original")],
        base + ["--variant", "rewrite", "--out", os.path.join(data, "rewrite")],
        base + ["--variant", "mutation", "--mutation-seed", str(mutation_seed), "--out", os.path.join(data, "mutation")],
    ]


def generate(dims, seed: int, mutation_seed: int, data: str, cluster_policies: bool = False) -> dict[str, str]:
    """Write the three variants; return what generate.py printed about each."""
    printed = {}
    for variant, command in zip(("original", "rewrite", "mutation"), generate_commands(dims, seed, mutation_seed, data, cluster_policies)):
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        printed[variant] = (done.stdout + done.stderr).strip()
    return printed


def measure(phase: str, data: str, timeout: float, max_diffs: int, universe: str, jobs: int = 0) -> dict:
    """One run of one phase in a fresh process."""
    command = [sys.executable, os.path.abspath(__file__), "--child", phase, "--data", data, "--max-diffs", str(max_diffs), "--universe", universe, "--jobs", str(jobs)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"phase": phase, "timeout": True, "seconds": time.perf_counter() - started}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"phase": phase, "error": " | ".join(tail) or f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarize_runs(runs: list[dict], timeout: float) -> dict:
    finished = [r for r in runs if "verdict" in r]
    row: dict = {"runs": len(finished)}
    if any(r.get("timeout") for r in runs):
        row["note"] = f"did not finish within {timeout:g} s"
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        row["note"] = f"error: {errors[0]}"
    if finished:
        seconds = [r["seconds"] for r in finished]
        row.update(
            median=statistics.median(seconds),
            low=min(seconds),
            high=max(seconds),
            cpu=_median(finished, "cpu_seconds"),
            peak=_median(finished, "peak_rss_mib"),
            verdict="; ".join(sorted({r["verdict"] for r in finished})),
            detail="; ".join(sorted({r["detail"] for r in finished if r.get("detail")})),
            ok=all(r["ok"] for r in finished),
            unsupported=any(r.get("unsupported") for r in finished),
            aside=_median(finished, "aside_seconds"),
            load_average=finished[0].get("load_average", "?"),
            proof=_median(finished, "proof_seconds"),
            **{part: _median(finished, f"{part}_seconds") for part in PARTS},
        )
    return row


def size_label(size: str, dims: tuple[int, int, int]) -> str:
    n, p, q = dims
    return f"{size}: {n * p:,} pods, {n * q:,} policies"


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(rows: list[tuple[str, tuple[int, int, int], str, dict]]) -> str:
    lines = [
        "| size | phase | load s | encode s | solve s | report s | total wall s | CPU s | peak RSS MiB | runs (total min–max s) | result |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for size, dims, phase, row in rows:
        label = size_label(size, dims)
        if "median" in row:
            result = row["verdict"] + ("" if row["ok"] else " — not supported yet" if row.get("unsupported") else " — UNEXPECTED")
            proof = f"solver proof {row['proof']:.2f} s of solve" if row.get("proof") is not None else ""
            detail = row.get("detail")
            if detail and row.get("aside") is not None:
                detail += f" in {row['aside']:.2f} s more, not in the total"
            extra = "; ".join(x for x in (proof, detail, row.get("note")) if x)
            if extra:
                result += f" ({extra})"
            parts = " | ".join(_seconds(row[part]) for part in PARTS)
            lines.append(
                f"| {label} | {phase} | {parts} | {row['median']:.2f} | {_seconds(row['cpu'])} | "
                f"{row['peak']:.0f} | {row['runs']} ({row['low']:.2f}–{row['high']:.2f}) | {result} |"
            )
        else:
            why = row.get("note", "not run")
            lines.append(f"| {label} | {phase} | — | — | — | — | — | — | — | 0 | {why} |")
    return "\n".join(lines)


def tiers_table(rows: list[tuple[str, tuple[int, int, int], str, dict]]) -> str:
    """Each phase on the tiered cluster beside the same phase on the NetworkPolicy-only
    one: the times, their ratio, and whether it meets TIERED_TARGET."""
    by_label = {(size, phase): row for size, _, phase, row in rows}
    lines = [
        f"| size | phase | NP-only s | +tiers s | +tiers ÷ NP-only | within {TIERED_TARGET:g}× | CPU NP-only s | CPU +tiers s | CPU ratio "
        "| load average (NP-only; +tiers) | +tiers result |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for size, dims, phase, plain in rows:
        if phase.endswith(TIERED) or (size, phase + TIERED) not in by_label:
            continue
        tiered = by_label[(size, phase + TIERED)]
        label = size_label(size, dims)
        load = f"{plain.get('load_average', '—')}; {tiered.get('load_average', '—')}"
        if "median" not in plain or "median" not in tiered:
            why = "; ".join(f"{name}: {row.get('note', 'not run')}" for name, row in (("NP-only", plain), ("+tiers", tiered)) if "median" not in row)
            lines.append(f"| {label} | {phase} | {_seconds(plain.get('median'))} | {_seconds(tiered.get('median'))} | — | no ({why}) | "
                         f"{_seconds(plain.get('cpu'))} | {_seconds(tiered.get('cpu'))} | — | {load} | {tiered.get('verdict', '—')} |")
            continue
        ratio = tiered["median"] / plain["median"] if plain["median"] else float("inf")
        cpu = tiered["cpu"] / plain["cpu"] if plain.get("cpu") and tiered.get("cpu") else None
        if tiered.get("unsupported"):
            within = "no answer (not supported yet)"
        elif not tiered["ok"]:
            within = "no answer (UNEXPECTED)"
        else:
            within = "yes" if ratio <= TIERED_TARGET else "**no**"
        lines.append(
            f"| {label} | {phase} | {plain['median']:.2f} | {tiered['median']:.2f} | {ratio:.2f}× | {within} | {_seconds(plain['cpu'])} | "
            f"{_seconds(tiered['cpu'])} | {'—' if cpu is None else f'{cpu:.2f}×'} | {load} | {tiered['verdict']} |"
        )
    return "\n".join(lines) if len(lines) > 2 else ""


def scaling_table(rows: list[tuple[str, tuple[int, int, int], str, dict]]) -> str:
    """How each phase's time grows from one measured size to the next larger one."""
    by_phase: dict[str, list[tuple[int, str, dict]]] = {}
    for size, (n, p, _), phase, row in rows:
        if "median" in row:
            by_phase.setdefault(phase, []).append((n * p, size, row))
    lines = [
        "| phase | from → to | pods × | total wall × | CPU × |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for phase, measured in by_phase.items():
        measured.sort(key=lambda m: m[0])
        for (small_pods, small, a), (large_pods, large, b) in zip(measured, measured[1:]):
            if small_pods == large_pods or not a["median"] or not a["cpu"]:
                continue
            lines.append(
                f"| {phase} | {small} → {large} | {large_pods / small_pods:g} | "
                f"{b['median'] / a['median']:.1f} | {b['cpu'] / a['cpu']:.1f} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def _ratio(value: float) -> str:
    return f"{value:.1f}×" if value < 10 else f"{value:,.0f}×"


def comparison_table(nca: dict, rows: list[tuple[str, tuple[int, int, int], str, dict]], seed: int) -> str:
    """npverify beside NCA, per size and shared query; npverify's figures from this run
    (``seed``: the generator seed of this run, to flag NCA figures of other files)."""
    ours = {(size, phase): row for size, _, phase, row in rows}
    lines = [
        "| size | query | npverify s | NCA s | NCA / npverify | CPU: NCA / npverify | answers |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for size, entry in nca.get("sizes", {}).items():
        dims = tuple(entry["dims"])
        compared = [(q, p, q) for q, p in nca_runner.QUERIES.items()]
        compared += [(q, p, f"{q}, {p}") for q, phases in ALSO_BESIDE_NCA.items() for p in phases if (size, p) in ours]
        for query, phase, label in compared:
            if query not in entry.get("queries", {}):
                continue
            theirs = entry["queries"][query]["summary"]
            mine = ours.get((size, phase), {})
            mine_s = mine.get("median")
            mine_cpu = mine.get("cpu")
            cpu_ratio = "—"
            if "median" in theirs:
                nca_text = f"{theirs['median']:.2f}"
                ratio = _ratio(theirs["median"] / mine_s) if mine_s else "—"
                cpu_ratio = _ratio(theirs["cpu"] / mine_cpu) if mine_cpu and theirs.get("cpu") else "—"
            elif "timeout" in theirs:
                nca_text = f"> {theirs['timeout']:.0f}, did not finish"
                ratio = "> " + _ratio(theirs["timeout"] / mine_s) if mine_s else "—"
            else:
                nca_text, ratio = f"failed: {theirs.get('error', 'no run')}", "—"
            answers = [f"npverify ({phase}): {mine['verdict']}" if "verdict" in mine else f"npverify ({phase}): not measured in this run"]
            if entry.get("seed", seed) != seed:
                answers.append(f"NCA ran on the files of --seed {entry['seed']}, not {seed}")
            if "answer" in theirs:
                answers.append(f"NCA: {theirs['answer']}")
            if entry["queries"][query].get("check"):
                answers.append(f"check: {entry['queries'][query]['check']}")
            lines.append(f"| {size_label(size, dims)} | {label} | {_seconds(mine_s)} | {nca_text} | {ratio} | {cpu_ratio} | {'; '.join(answers)} |")
    return "\n".join(lines)


def machine() -> list[str]:
    import z3

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = "unknown"
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--", "npverify"], capture_output=True, text=True).stdout.strip()
    from npverify import __version__

    return [
        f"- CPU: {cpu}; nproc {nproc}",
        f"- memory: {memory}",
        f"- OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), z3 {z3.get_version_string()}",
        f"- npverify {__version__} at commit {commit or 'unknown'}" + (" with uncommitted changes in npverify/" if dirty else ""),
    ]


def _loadavg() -> str:
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def _shown(command: list[str]) -> str:
    """A command as people type it: python, paths relative to the repository."""
    parts = ["python" if c == sys.executable else os.path.relpath(c, REPO) if c.startswith(REPO + os.sep) else c for c in command]
    return shlex.join(parts)


def write_results(text: str, path: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the generated section of ``path`` between ``begin`` and ``end`` (or add it at
    the end, or create the file) with ``text``."""
    block = f"{begin}\n{text}\n{end}"
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            old = f.read()
        if begin in old and end in old[old.find(begin):]:
            start = old.index(begin)
            new = old[:start] + block + old[old.index(end, start) + len(end) :]
        else:
            new = old.rstrip("\n") + "\n\n" + block + "\n"
    else:
        new = f"# Benchmark results\n\n{block}\n"
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def run_nca(size: str, dims, data: str, args, python: str, entry: dict, invoked: str) -> None:
    """NCA's queries on one size, each ``--nca-repeat`` times; results into ``entry``,
    each query with when, under what load and by which command it was measured (a later
    run may re-measure some queries only)."""
    entry.update(dims=list(dims), seed=args.seed)
    queries = entry.setdefault("queries", {})
    for query in args.nca_queries:
        started = datetime.datetime.now(datetime.timezone.utc)
        load_before = _loadavg()
        runs = []
        for i in range(args.nca_repeat):
            run = nca_runner.measure(query, data, python, args.nca_timeout)
            runs.append(run)
            shown = (
                f"{run['seconds']:.2f} s, peak {run['peak_rss_mib']:.0f} MiB, {run['answer']}" if "answer" in run
                else f"did not finish within {args.nca_timeout:g} s" if run.get("timeout") else f"error: {run.get('error')}"
            )
            print(f"[{size}] NCA {query} run {i + 1}/{args.nca_repeat}: {shown}", file=sys.stderr, flush=True)
            if "answer" not in run:
                break
        queries[query] = {
            "command": "nca " + shlex.join(nca_runner.nca_argv(query, "DATA")),
            "runs": runs,
            "summary": nca_runner.summarize(runs),
            "measured": f"{started:%Y-%m-%d %H:%M} UTC",
            "load_average_before": load_before,
            "load_average_after": _loadavg(),
            "by": invoked,
        }
    if args.nca_check:
        answered = [q for q in args.nca_queries if "answer" in queries[q]["summary"]]
        if answered:
            command = [sys.executable, nca_runner.__file__, "--check", ",".join(answered), "--data", data]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout)
                verdicts = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else {
                    q: "check failed: " + " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:]) for q in answered
                }
            except subprocess.TimeoutExpired:
                verdicts = {q: f"check did not finish within {args.timeout:g} s" for q in answered}
            for query, verdict in verdicts.items():
                queries[query]["check"] = verdict
                print(f"[{size}] NCA {query} check: {verdict}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small", help=f"comma-separated: {', '.join(f'{k}={n}x{p}x{q}' for k, (n, p, q) in SIZES.items())}, or NxPxQ")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}, or none")
    parser.add_argument("--repeat", type=int, default=3, help="runs per phase; the table shows the median")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run before it is killed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mutation-seed", type=int, default=1)
    parser.add_argument("--max-diffs", type=int, default=10, help="regions per direction for equiv/mutation (the CLI default is 10)")
    parser.add_argument("--repeat-at", default="", metavar="SIZE:N,...", help="runs per phase at these sizes instead of --repeat, e.g. xxl:1")
    parser.add_argument("--skip", default="", metavar="SIZE:PHASE,...", help="leave out these phases at these sizes, e.g. xxl:matrix (the workload matrix of 100,000 pods)")
    parser.add_argument("--once-above", type=float, default=300.0, metavar="SECONDS", help="run a phase once, not --repeat times, when its first run took longer than this (default 300)")
    parser.add_argument("--jobs", type=int, default=0, help="worker processes for the redundancy scan, as npverify redundant --jobs (0: one per CPU, fewer for small inputs)")
    parser.add_argument("--universe", choices=sorted(UNIVERSES), default="any", help="any: npverify's default universe; nca: the one network-config-analyzer reasons about (not for prove)")
    parser.add_argument("--workdir", help="where the generated clusters go (default: a new temporary folder)")
    parser.add_argument(
        "--cluster-policies", action="store_true",
        help="also measure every phase on each size with the Admin and Baseline tiers (generate.py --cluster-policies), "
        f"beside the NetworkPolicy-only cluster, with the ratio per phase; --write puts them in their own section ({TIERS_HEADING.lstrip('# ')})",
    )
    parser.add_argument("--whole-process", action="store_true", help="also time prove, equiv and equiv --manifests as whole CLI processes, beside the seconds they print and the C loader's parse of their files")
    parser.add_argument("--write", action="store_true", help="also write the results into benchmarks/RESULTS.md")
    parser.add_argument("--results", default=RESULTS, help=argparse.SUPPRESS)
    nca = parser.add_argument_group("network-config-analyzer (NCA) side by side")
    nca.add_argument("--nca", action="store_true", help="also run NCA's queries on each size (needs network-config-analyzer, or NPVERIFY_NCA)")
    nca.add_argument("--nca-queries", default=",".join(nca_runner.QUERIES), help=f"comma-separated subset of {','.join(nca_runner.QUERIES)}")
    nca.add_argument("--nca-timeout", type=float, default=600.0, help="seconds per NCA run before it is killed")
    nca.add_argument("--nca-repeat", type=int, default=1, help="runs per NCA query")
    nca.add_argument("--nca-check", action="store_true", help="compare NCA's answers with npverify's in NCA's universe")
    nca.add_argument("--nca-results", help="JSON file: with --nca, NCA's measurements are merged into it; without, they are read from it")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "c-parse":
        print(json.dumps(c_parse(json.loads(args.data))))
        return 0
    if args.child:
        print(json.dumps(child(args.child, args.data, args.max_diffs, args.universe, args.jobs)))
        return 0

    sizes = [parse_size(s.strip()) for s in args.sizes.split(",") if s.strip()]
    skipped = {s.strip() for s in args.skip.split(",") if s.strip()}
    repeats = {size: int(n) for size, _, n in (s.strip().rpartition(":") for s in args.repeat_at.split(",") if s.strip())}
    phases = [] if args.phases.strip() == "none" else [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}: choose from {', '.join(PHASES)}, or none")
    args.nca_queries = [q.strip() for q in args.nca_queries.split(",") if q.strip()]
    unknown = [q for q in args.nca_queries if q not in nca_runner.QUERIES]
    if unknown:
        parser.error(f"unknown NCA queries {', '.join(unknown)}: choose from {', '.join(nca_runner.QUERIES)}")
    if args.repeat < 1 or args.nca_repeat < 1:
        parser.error("--repeat and --nca-repeat must be at least 1")
    if (args.nca_check or args.nca_queries != list(nca_runner.QUERIES)) and not args.nca:
        parser.error("--nca-check and --nca-queries go with --nca")
    python = None
    nca_results: dict = nca_runner.load_results(args.nca_results) if args.nca_results else {"sizes": {}}
    if args.nca:
        python, why = nca_runner.nca_python()
        if python is None:
            parser.error(f"--nca: {why}")
        if args.nca_results is None:
            nca_results = {"sizes": {}}
    elif args.nca_results and not os.path.exists(args.nca_results):
        parser.error(f"--nca-results {args.nca_results}: no such file (run with --nca to make it)")
    workdir = os.path.abspath(args.workdir or tempfile.mkdtemp(prefix="npverify-bench-"))
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = _loadavg()
    described = machine()  # before the runs: the commit measured is the one at the start
    invoked = _shown([sys.executable, os.path.abspath(__file__)] + (argv if argv is not None else sys.argv[1:]))
    if args.nca:
        # Queries saved by an older run keep the description of that run.
        for entry in nca_results.get("sizes", {}).values():
            for saved in entry.get("queries", {}).values():
                for field, old in (("measured", "measured"), ("load_average_before", "load_average_before"),
                                   ("load_average_after", "load_average_after"), ("by", "command")):
                    saved.setdefault(field, nca_results.get(old, "?"))
        nca_results.update(
            nca_version=nca_runner.nca_version(python),
            measured=f"{started:%Y-%m-%d %H:%M} UTC",
            load_average_before=load_before,
            machine=described,
            command=invoked,
            workdir=workdir,
            timeout=args.nca_timeout,
            repeat=args.nca_repeat,
        )
    rows, notes, commands, whole_rows = [], [], [], []
    # With --cluster-policies, each size is measured twice: its NetworkPolicy-only cluster
    # (DATA = WORKDIR/SIZE) and the same cluster with the Admin and Baseline tiers
    # (WORKDIR/SIZE+tiers), each phase on both in turn, so both see the same machine load.
    variants = [("", False)] + ([(TIERED, True)] if args.cluster_policies else [])
    for size, dims in sizes:
        folders = {}
        for suffix, tiered in variants:
            data = folders[suffix] = os.path.join(workdir, size + suffix.replace(" ", ""))
            print(f"[{size}{suffix}] generating into {data}", file=sys.stderr, flush=True)
            printed = generate(dims, args.seed, args.mutation_seed, data, tiered)
            commands += [_shown(c) for c in generate_commands(dims, args.seed, args.mutation_seed, data, tiered)]
            if not tiered:
                notes.append(f"- {size}: {printed['mutation'].splitlines()[0].removeprefix('mutation: ')}")
            else:
                notes.append(f"- {size}{suffix}: the same mutation; {printed['original'].splitlines()[-1].split(': ', 1)[-1]}")
        for phase in phases:
            if f"{size}:{phase}" in skipped:
                continue
            for suffix, _ in variants:
                if f"{size}:{phase}{suffix.strip()}" in skipped:
                    continue
                label = phase + suffix
                runs = []
                repeat = repeats.get(size, args.repeat)
                for i in range(repeat):
                    run = measure(phase, folders[suffix], args.timeout, args.max_diffs, args.universe, args.jobs)
                    runs.append(run)
                    if "verdict" in run:
                        shown = f"{run['seconds']:.2f} s (load {run['load_seconds']:.2f}), peak {run['peak_rss_mib']:.0f} MiB, {run['verdict']}"
                    else:
                        shown = "TIMEOUT" if run.get("timeout") else run.get("error")
                    print(f"[{size}] {label} run {i + 1}/{repeat}: {shown} (load average {run.get('load_average', _loadavg())})", file=sys.stderr, flush=True)
                    if "verdict" not in run:
                        break  # a timeout or an error would only repeat itself
                    if run["seconds"] > args.once_above:
                        break  # a long phase is measured once; the runs column says so
                rows.append((size, dims, label, summarize_runs(runs, args.timeout)))
        data = folders[""]
        if args.whole_process:
            whole_rows += [(size, dims, name, row) for name, row in whole_process(data, repeats.get(size, args.repeat), args.timeout)]
        if args.nca:
            run_nca(size, dims, data, args, python, nca_results["sizes"].setdefault(size, {}), invoked)
            if args.nca_results:
                nca_results["load_average_after"] = _loadavg()
                nca_runner.save_results(args.nca_results, nca_results)  # after each size: a long run keeps what it has
    out = table(rows) if rows else ""
    scaling = scaling_table(rows)
    compared = comparison_table(nca_results, rows, args.seed) if nca_results.get("sizes") else ""
    whole = whole_process_table(whole_rows) if whole_rows else ""
    beside = tiers_table(rows) if args.cluster_policies and rows else ""
    print("\n\n".join(x for x in (beside, out, scaling, whole, compared) if x))
    if args.write:
        text = "\n".join(
            [
                *([TIERS_HEADING, "", TIERS_NOTE, "", beside, ""] if beside else []),
                f"Measured {started:%Y-%m-%d %H:%M} UTC; load average {load_before} before, {_loadavg()} after.",
                "",
                "### Machine",
                "",
                *described,
                *([] if machine()[-1] == described[-1] else [f"- while it ran, the checkout changed to: {machine()[-1].removeprefix('- ')}"]),
                "",
                "### Commands",
                "",
                "```sh",
                invoked,
                "```",
                "",
                f"which generated (into `{workdir}`; `--workdir` picks the folder):",
                "",
                "```sh",
                *commands,
                "```",
                "",
                "The mutation of each size:",
                "",
                *notes,
                "",
                f"Each phase corresponds to a CLI command (which also loads the manifests and renders the report; DATA is `{workdir}/SIZE`"
                + (f", `{workdir}/SIZE{TIERED.strip()}` for the rows marked `{TIERED.strip()}`" if args.cluster_policies else "") + "):",
                "",
                *[f"- {phase}: " + (CLI[phase] if phase == "load" else f"`{CLI[phase].format(d='DATA', u='' if phase == 'prove' else UNIVERSES[args.universe])}`") for phase in phases],
                *([f"- {phase}{TIERED}: " + CLI_TIERED[phase].format(d="DATA") for phase in phases if phase in CLI_TIERED] if args.cluster_policies else []),
                "",
                f"Universe: {'npverify’s default (any pod, any namespace)' if args.universe == 'any' else 'network-config-analyzer’s (' + UNIVERSES['nca'].strip() + ')'}"
                + ("; `prove` uses its invariants file’s (any pod, pod IPs in 10.244.0.0/16)." if "prove" in phases else "."),
                "",
                f"Every run is a fresh process, one at a time; figures are the median of {args.repeat} run{'s' if args.repeat > 1 else ''}"
                + "".join(f"; at {size}, of {n}" for size, n in repeats.items())
                + f" (a phase whose first run takes over {args.once_above:.0f} s runs once: the runs column says how many). "
                "load, encode (building the SMT encoding), solve (the rest of the library call) and report (rendering the text) "
                "are timed inside the process after its imports; total wall is their sum, what the CLI command costs minus "
                "interpreter start-up and imports; CPU is the CPU time of the process and of its worker processes over the "
                "same span; peak RSS is the process's "
                "peak resident memory (z3, the interpreter and the imports included); with worker processes (redundancy, "
                "matrix; `--jobs`, by default one per CPU) it adds the largest worker's peak once per worker, an upper bound, "
                "since forked workers share the loaded cluster's pages with the parent.",
                "",
                "### Results",
                "",
                out or "(no npverify phase was run)",
                *(["", "How the time grows with the size (ratios of the medians above):", "", scaling] if scaling else []),
                *(["", "### Whole process", "", WHOLE_PROCESS_NOTE, "", "```sh", *sorted({r['command'] for *_, r in whole_rows}), "```", "", whole] if whole else []),
                *(["", *_nca_section(nca_results, compared)] if compared else []),
            ]
        )
        # The tiered run has a section of its own: it leaves the main benchmark's in place.
        write_results(text, args.results, *((TIERS_BEGIN, TIERS_END) if args.cluster_policies else (BEGIN, END)))
        print(f"wrote {os.path.relpath(args.results)}", file=sys.stderr)
    # An answer npverify says it cannot give yet (the matrix of a tiered cluster) is shown
    # as such, not counted as a wrong answer; any other unexpected verdict fails the run.
    failed = [r for *_, r in rows if not r.get("ok", False) and not r.get("unsupported")]
    return 1 if failed else 0


def _nca_section(nca: dict, compared: str) -> list[str]:
    """The comparison with network-config-analyzer, for RESULTS.md."""
    sizes = nca.get("sizes", {})
    return [
        "### Beside network-config-analyzer",
        "",
        f"network-config-analyzer {nca.get('nca_version', '?')}, each run in a fresh process, killed after "
        f"{nca.get('timeout', 600):g} s; the figure is the median of the runs. Its time is `nca_main` alone "
        "(parsing, query, output), after NCA's imports, as npverify's total is after its imports. "
        "When and how each query was measured:",
        "",
        *[
            f"- {size} {query}: {len(q.get('runs', []))} run{'s' if len(q.get('runs', [])) != 1 else ''}, "
            f"{q.get('measured', nca.get('measured', '?'))}, load average {q.get('load_average_before', nca.get('load_average_before', '?'))} "
            f"before and {q.get('load_average_after', nca.get('load_average_after', '?'))} after, by `{q.get('by', nca.get('command', '?'))}`"
            for size, e in sizes.items()
            for query, q in e.get("queries", {}).items()
        ],
        "",
        f"The commands, DATA being the size's folder (`{nca.get('workdir', '?')}/SIZE`):",
        "",
        "```sh",
        *sorted({q["command"] for e in sizes.values() for q in e.get("queries", {}).values()}),
        "```",
        "",
        "The redundancy scheme file is DATA/nca/redundancy-scheme.yaml: one network config with "
        "`resourceList: [DATA/original/k8s/**]`, one query `redundancy: [original]`. "
        "The generated files use none of the constructs NCA reads differently from the Kubernetes API "
        "(docs/crosscheck.md). NCA answers over the pods of the loaded workloads and the declared namespaces, "
        "and its ipBlocks never match pods; npverify's figures are in the universe named above, "
        "and `check` compares the answers in NCA's universe.",
        "",
        compared,
    ]


if __name__ == "__main__":
    sys.exit(main())
