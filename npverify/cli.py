"""The ``npverify`` command. All printing and exit codes live here."""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import os
import shutil
import sys
import time
from typing import TYPE_CHECKING

import click

from npverify import __version__

# The library (z3 above all) is imported inside the commands that use it, not here: `npverify
# --help` and a small question should not wait for what they never call (issue 13.2);
# tests/test_startup.py keeps it so.
if TYPE_CHECKING:
    from npverify.load.limits import InputLimits
    from npverify.model import Cluster, Semantics, Universe
    from npverify.results import ProofReport
    from npverify.smt import Limits

EXIT_PROVED = 0
EXIT_REFUTED = 1
EXIT_BAD_INPUT = 2
EXIT_UNKNOWN = 3

EXIT_CODES_HELP = """\b
Exit codes:
  0  every invariant proved
  1  at least one invariant refuted (takes precedence over 3)
  2  bad usage or bad input (file:line:col: error: field.path: message)
  3  at least one invariant unknown (timeout, solver limit, or an object of a policy kind
     npverify does not model could change it: see --ignore-kind), or an internal error
"""

#: The output formats of every command that yields results: per format, the module holding
#: its renderers (RENDERER_NAMES), imported when a command renders in that format.
FORMAT_RENDERERS = {
    "text": "npverify.report.text",
    "json": "npverify.report.json",
    "sarif": "npverify.report.sarif",
    "junit": "npverify.report.junit",
    "github": "npverify.report.github",
}
#: The renderers of a proof report (prove), a comparison (equiv, contains) and a redundancy
#: report (redundant), in every module of FORMAT_RENDERERS.
RENDERER_NAMES = ("render_report", "render_comparison", "render_redundancy", "render_lint")
FORMAT_HELP = (
    "Output format: text (coloured on a terminal unless NO_COLOR is set), json (versioned; "
    "JSON Schemas in specs/), sarif (SARIF 2.1.0, for code scanning), junit (JUnit XML), "
    "github (GitHub Actions annotations)."
)


def format_option(command):
    """``--format text|json|sarif|junit|github``."""
    return click.option(
        "--format", "output_format", type=click.Choice(list(FORMAT_RENDERERS)), default="text", show_default=True, help=FORMAT_HELP
    )(command)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def use_color(stream) -> bool:
    """Colour verdicts on a terminal, unless NO_COLOR is set to anything but "" (no-color.org)."""
    return not os.environ.get("NO_COLOR") and _is_terminal(stream)


def _render(output_format: str, value, output) -> str:
    """``value`` (ProofReport, Comparison or RedundancyReport) in ``output_format``.

    The renderers are pure; what depends on where the output goes is decided here: colour
    for a terminal, and the working directory that SARIF and annotation paths are relative to.
    """
    from npverify.lint.rules import LintReport
    from npverify.results import ProofReport

    if isinstance(value, ProofReport):  # prove need not import what equiv and redundant use
        index = 0
    elif isinstance(value, LintReport):
        index = 3
    else:
        from npverify.compare import Comparison

        index = 1 if isinstance(value, Comparison) else 2
    render = getattr(importlib.import_module(FORMAT_RENDERERS[output_format]), RENDERER_NAMES[index])
    value = _whole_command(value)
    if output_format == "text":
        return render(value, color=use_color(output))
    if output_format in ("sarif", "github"):
        return render(value, root=os.getcwd())
    return render(value)


class ProgressLine:
    """A progress line on ``stream``, ``[3/10] checking NAME…``, rewritten in place with CR."""

    #: Redraw at most this often: redundant may report thousands of items a second.
    INTERVAL = 0.1

    def __init__(self, stream) -> None:
        self.stream = stream
        self.shown = False
        self._last = 0.0
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self._ellipsis = "…" if encoding == "utf8" else "..."

    def __call__(self, number: int, total: int, name: str) -> None:
        now = time.monotonic()
        if self.shown and now - self._last < self.INTERVAL and number != total:
            return
        self._last = now
        width = max(20, shutil.get_terminal_size().columns - 1)
        line = f"[{number}/{total}] checking {name}{self._ellipsis}"
        if len(line) > width:
            line = line[: width - len(self._ellipsis)] + self._ellipsis
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


@contextlib.contextmanager
def _progress():
    """A progress callback for the library when stderr is a terminal, else None (CI logs
    and redirected output stay clean); the line is cleared when the work ends or fails."""
    if not _is_terminal(sys.stderr):
        yield None
        return
    line = ProgressLine(sys.stderr)
    try:
        yield line
    finally:
        line.clear()


def _exit_code(report: ProofReport) -> int:
    from npverify.results import Verdict

    if report.count(Verdict.REFUTED):
        return EXIT_REFUTED
    if report.count(Verdict.UNKNOWN):
        return EXIT_UNKNOWN
    return EXIT_PROVED


def _parse_cidrs(values: tuple[str, ...]):
    from npverify.load.fields import parse_cidr
    from npverify.load.yamlnodes import Cursor, Node
    from npverify.model import SourceLocation

    cidrs = []
    for value in values:
        cursor = Cursor(Node(value, SourceLocation("--pod-cidr", 1, 1)), "")
        cidrs.append(parse_cidr(cursor, []))
    return tuple(cidrs)


#: ``--jobs``, for the commands whose parts are independent (redundant, matrix).
jobs_option = click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=True, metavar="N", help="Worker processes; 0: one per available CPU (one for small inputs). Results do not depend on it.")


def universe_switches(command):
    """The universe and semantics switches: every question, and explain, take them."""
    options = [
        click.option("--namespaces", type=click.Choice(["any", "declared"]), default=None, help="Override universe.namespaces."),
        click.option("--pods", type=click.Choice(["any", "workloads"]), default=None, help="Override universe.pods."),
        click.option("--pod-cidr", "pod_cidrs", multiple=True, metavar="CIDR", help="Override universe.podCIDRs; repeatable."),
        click.option("--host-network/--no-host-network", default=None, help="Include hostNetwork pods in the universe."),
        click.option("--node-traffic/--no-node-traffic", default=None, help="Include packets that originate on nodes."),
        click.option(
            "--nodes",
            type=click.Choice(["any", "declared"]),
            default=None,
            help="Override universe.nodes: 'any' (default) lets nodes exist that no manifest declares; "
            "'declared' makes the loaded Node objects all the nodes (nodes peers then decide everywhere they can).",
        ),
        click.option("--self-traffic/--no-self-traffic", default=None, help="Include a pod's packets to itself in scopes."),
        click.option("--ipblock-matches-pods/--no-ipblock-matches-pods", default=None, help="Whether ipBlock peers match pod IPs (default: yes, as the upstream conformance tests expect)."),
        click.option(
            "--same-priority",
            type=click.Choice(["any", "name"]),
            default=None,
            help="Cluster-scoped policies of one tier and priority that match one packet: 'any' (default) lets either go first, "
            "a verdict that depends on it is UNKNOWN; 'name' applies them by name.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def universe_options(command):
    """The universe and semantics switches every question takes, and the solver's limits."""
    options = [
        universe_switches,
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds per solver query; undecided in time means UNKNOWN."),
        click.option("--rlimit", type=click.IntRange(min=1), default=None, help="Z3 resource limit per solver query (deterministic across machines); hitting it gives UNKNOWN."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def input_limit_options(command):
    """Limits on input files, so hostile or broken input is refused before it costs much."""
    options = [
        click.option("--max-input-bytes", type=click.IntRange(min=1), default=None, help="Refuse an input file larger than this many bytes (default 64 MiB)."),
        click.option("--max-yaml-nodes", type=click.IntRange(min=1), default=None, help="Refuse a file with more YAML nodes, aliases expanded (default 2,000,000)."),
        click.option("--max-nesting-depth", type=click.IntRange(min=1), default=None, help="Refuse mappings and lists nested deeper (default 200)."),
        click.option("--ignore-kind", "ignore_kinds", multiple=True, metavar="KIND", help="Answer as if the objects of this policy kind, which npverify does not model yet (Kind or Kind.group, e.g. CiliumNetworkPolicy), did not exist; every report says so. Repeatable. Without it, answers they could change are UNKNOWN (exit 3)."),
        click.option("--default-namespace", metavar="NS", default=None, help="Namespace of manifests without metadata.namespace (default: 'default', with a warning)."),
        click.option("--cluster", "live_cluster", is_flag=True, default=False, help="Also read the cluster of kubectl's current context (through kubectl get; see docs/sources.md); like paths given here, it replaces an invariants file's manifests."),
        click.option("--kube-context", "kube_context", metavar="NAME", default=None, help="Read the cluster of this kubectl context (implies --cluster)."),
        click.option("--no-cache", "no_cache", is_flag=True, default=False, help="Read every file afresh: do not use or fill the load cache (also: NPVERIFY_NO_CACHE=1; see docs/cache.md)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _live_sources(options: dict) -> list[str]:
    """The live clusters ``--cluster`` / ``--kube-context NAME`` name, as manifests paths
    (``cluster:``, ``cluster:NAME``), taken out of ``options``."""
    from npverify.errors import InputError
    from npverify.load.kubectl import CLUSTER_PREFIX
    from npverify.model import Diagnostic

    everywhere, context = options.pop("live_cluster"), options.pop("kube_context")
    if context is not None and not context:
        raise InputError(Diagnostic("--kube-context: give the name of a kubectl context"))
    return [CLUSTER_PREFIX + context] if context else [CLUSTER_PREFIX] if everywhere else []


def _reading(options: dict) -> dict:
    """The keyword arguments of load_manifests from ``options`` (taken out of it)."""
    from npverify.coverage import check_ignore_kinds
    from npverify.errors import InputError
    from npverify.load.fields import dns_label_problem
    from npverify.model import Diagnostic

    ignore_kinds = check_ignore_kinds(options.pop("ignore_kinds"))
    default_namespace = options.pop("default_namespace")
    if default_namespace is not None and dns_label_problem(default_namespace):
        raise InputError(Diagnostic(f"--default-namespace {default_namespace}: {dns_label_problem(default_namespace)}"))
    return {
        "limits": _input_limits(options),
        "ignore_kinds": ignore_kinds,
        "default_namespace": default_namespace,
        "cache": not options.pop("no_cache"),
    }


def _input_limits(options: dict) -> InputLimits:
    import attrs

    from npverify.load.limits import InputLimits

    given = {
        "max_bytes": options.pop("max_input_bytes"),
        "max_nodes": options.pop("max_yaml_nodes"),
        "max_depth": options.pop("max_nesting_depth"),
    }
    return attrs.evolve(InputLimits(), **{k: v for k, v in given.items() if v is not None})


def _universe(base: Universe, options: dict) -> Universe:
    import attrs

    overrides = {
        "namespaces": options.pop("namespaces"),
        "pods": options.pop("pods"),
        "pod_cidrs": _parse_cidrs(options.pop("pod_cidrs")) or None,
        "host_network": options.pop("host_network"),
        "node_traffic": options.pop("node_traffic"),
        "nodes": options.pop("nodes"),
        "self_traffic": options.pop("self_traffic"),
    }
    return attrs.evolve(base, **{k: v for k, v in overrides.items() if v is not None})


def _semantics(base: Semantics, options: dict) -> Semantics:
    import attrs

    matches = options.pop("ipblock_matches_pods")
    same_priority = options.pop("same_priority")
    if matches is not None:
        base = attrs.evolve(base, ip_block_matches_pods=matches)
    return base if same_priority is None else attrs.evolve(base, same_priority=same_priority)


def _question_options(options: dict) -> tuple[dict, Universe, Semantics, Limits]:
    """How to read the manifests (load_manifests' keyword arguments), the universe,
    semantics and solver limits of a command that reads manifests only (no invariants
    file), taken out of ``options``."""
    from npverify.model import Semantics, Universe

    return _reading(options), _universe(Universe(), options), _semantics(Semantics(), options), _limits(options)


def _limits(options: dict) -> Limits:
    from npverify.smt import Limits

    timeout, rlimit = options.pop("timeout"), options.pop("rlimit")
    return Limits(timeout_ms=None if timeout is None else max(1, int(timeout * 1000)), rlimit=rlimit)


#: ``--invariants FILE`` for matrix and explain: the universe and semantics prove would use.
invariants_option = click.option(
    "--invariants",
    "invariants_file",
    type=click.Path(dir_okay=False, allow_dash=False),
    default=None,
    metavar="FILE",
    help="Take the universe and semantics of this invariants file (the switches override them), and its manifests when none are given; so the answer is about the packets prove ranges over.",
)


def _invariants_question(invariants_file, paths: tuple[str, ...], options: dict) -> tuple[dict, Universe, Semantics, list[str]]:
    """How to read the manifests (load_manifests' keyword arguments), the universe,
    semantics and manifest paths of matrix and explain: an invariants file's universe,
    semantics, ignoreKinds, defaultNamespace and manifests (when ``paths`` is empty) are the
    defaults, the switches in ``options`` override them (taken out of ``options``)."""
    from npverify.invariants import load_invariants
    from npverify.model import Semantics, Universe

    reading = _reading(options)
    given = [*paths, *_live_sources(options)]
    universe, semantics, manifests = Universe(), Semantics(), ()
    if invariants_file is not None:
        spec = load_invariants(invariants_file, limits=reading["limits"])
        universe, semantics, manifests = spec.universe, spec.semantics, spec.manifests
        _read_as_the_file_says(reading, spec)
    return reading, _universe(universe, options), _semantics(semantics, options), list(given or manifests)


def _read_as_the_file_says(reading: dict, spec) -> None:
    """The command line adds to the invariants file's ignoreKinds and overrides its defaultNamespace."""
    reading["ignore_kinds"] = tuple(dict.fromkeys(spec.ignore_kinds + reading["ignore_kinds"]))
    reading["default_namespace"] = reading["default_namespace"] or spec.default_namespace


def _echo_warnings(*clusters: Cluster) -> None:
    """The manifests' warnings on stderr, for the commands whose reports have no place for
    them (prove's report lists them)."""
    seen = set()
    for cluster in clusters:
        for warning in map(str, cluster.warnings):
            if warning not in seen:
                seen.add(warning)
                click.echo(warning, err=True)


@contextlib.contextmanager
def _failures_to_exit_codes():
    """Bad input exits 2 with located messages; internal errors exit 3; never a traceback."""
    from npverify.errors import InputError, InternalError, UnsupportedError

    try:
        yield
    except UnsupportedError as exc:
        click.echo(f"npverify: unknown: {exc}", err=True)
        sys.exit(EXIT_UNKNOWN)
    except InputError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except InternalError as exc:
        click.echo(f"npverify: internal error: {exc}", err=True)
        sys.exit(EXIT_UNKNOWN)
    except (KeyboardInterrupt, click.exceptions.Exit, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must still exit with the documented code
        if os.environ.get("NPVERIFY_DEBUG"):
            raise
        click.echo(f"npverify: internal error: {type(exc).__name__}: {exc} (set NPVERIFY_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_UNKNOWN)


#: Where the command's start time is kept, in the click context's ``meta``.
_STARTED = "npverify.started"

#: The youngest generation's collection threshold for the npverify process. Loading and
#: encoding allocate millions of objects that live until the end; at the default (700) the
#: collector went over all of them again and again (at 20,000 pods, 8 to 11 full
#: collections: 1.5 s of prove's 12 s, 3.9 s of equiv's 23 s; none at this threshold:
#: benchmarks/RESULTS.md, "Whole-process time"). Cyclic garbage is rare here.
GC_YOUNG_THRESHOLD = 100_000


def _whole_command(value):
    """``value`` (a report with ``seconds``) timed from the command's start, loading the
    manifests included, rather than from the start of the library call alone."""
    import attrs

    context = click.get_current_context(silent=True)
    started = context.meta.get(_STARTED) if context is not None else None
    return value if started is None else attrs.evolve(value, seconds=time.perf_counter() - started)


class _Npverify(click.Group):
    """The ``npverify`` group; called (console script, ``python -m``) it is the process."""

    def __call__(self, *args, **kwargs):
        """Run the command as the whole process: fewer garbage collections, and once the
        output is written, flushed and closed (click closes ``-o`` files before exiting),
        end without freeing the objects loading and encoding made one by one.

        CliRunner and library callers use ``main()`` and are not affected.
        """
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        try:
            return self.main(*args, **kwargs)
        except SystemExit as exc:
            _end_process(exc)


def _end_process(ending: SystemExit) -> None:
    """Exit as ``ending`` says, skipping the interpreter's teardown: stdout and stderr are
    flushed and the exit functions run (worker pools, z3's files) first. If flushing fails
    (a closed pipe), or the exit carries a message, the ordinary exit deals with it."""
    code = ending.code
    if code is not None and not isinstance(code, int):
        raise ending
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except BaseException:  # noqa: BLE001 - whatever it is, the ordinary exit reports it
        raise ending from None
    atexit._run_exitfuncs()
    os._exit(code or 0)


@click.group(cls=_Npverify, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="npverify")
@click.pass_context
def main(context: click.Context) -> None:
    """Formally verify Kubernetes NetworkPolicies with the Z3 SMT solver."""
    context.meta[_STARTED] = time.perf_counter()


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("invariants_file", type=click.Path(dir_okay=False, allow_dash=False))
@format_option
@click.option("--manifests", "manifests", multiple=True, metavar="PATH", help="Manifest file, directory, REV:path, '-' (stdin) or cluster:[CONTEXT]; repeatable; replaces the file's 'manifests'.")
@universe_options
@input_limit_options
@click.option("--check", "check_mode", is_flag=True, default=False, help="Check mode: replay packets sampled from the scope of every proved isolated/allowed/only invariant through the reference evaluator; a disagreement is an internal error (exit 3).")
@click.option("--check-samples", type=click.IntRange(min=1), default=20, show_default=True, metavar="N", help="Packets to sample per proved invariant with --check.")
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the report here instead of stdout.")
def prove(invariants_file: str, output_format: str, manifests: tuple[str, ...], output, check_mode: bool, check_samples: int, **options) -> None:
    """Prove the invariants of INVARIANTS_FILE against the manifests it names.

    Each invariant is PROVED for every packet of the universe, or REFUTED with a concrete
    packet and the policies and rules that decided it, or UNKNOWN.
    """
    from npverify.api import prove as prove_file
    from npverify.errors import InputError
    from npverify.invariants import load_invariants
    from npverify.invariants.parser import check_manifests_exist, names_no_input
    from npverify.load import load_manifests
    from npverify.model import Diagnostic

    with _failures_to_exit_codes():
        reading = _reading(options)
        live = _live_sources(options)
        input_limits = reading["limits"]
        spec = load_invariants(invariants_file, limits=input_limits)
        _read_as_the_file_says(reading, spec)
        universe = _universe(spec.universe, options)
        semantics = _semantics(spec.semantics, options)
        limits = _limits(options)
        if manifests:
            missing = [Diagnostic("no such file or directory", path=f"--manifests {p}") for p in manifests if names_no_input(p)]
            if missing:
                raise InputError(missing)
        elif not live:
            check_manifests_exist(spec)
        paths = [*manifests, *live] if manifests or live else list(spec.manifests)
        cluster = load_manifests(paths, stdin=sys.stdin, **reading)
        with _progress() as progress:
            report = prove_file(
                spec,
                cluster=cluster,
                universe=universe,
                semantics=semantics,
                limits=limits,
                check_samples=check_samples if check_mode else 0,
                input_limits=input_limits,
                progress=progress,
                ignore_kinds=reading["ignore_kinds"],
            )
    output.write(_render(output_format, report, output))
    output.flush()
    sys.exit(_exit_code(report))


COMPARE_EXIT_HELP = """\b
Exit codes:
  0  equivalent (contains: the baseline allows everything the candidate allows)
  1  they differ: the regions of packets that differ are listed
  2  bad usage or bad input
  3  unknown (timeout, solver limit, or an object of a policy kind npverify does not
     model: see --ignore-kind), or an internal error

\b
LEFT, RIGHT, BASELINE and CANDIDATE are files, folders, git revisions (REV:path, e.g.
main:k8s/, read without a checkout; path from the repository's top level), '-' (stdin)
or a live cluster through kubectl (cluster: for the current context, cluster:NAME for
another). See docs/sources.md.
"""


def _without(policies: tuple) -> tuple:
    """``policies`` with repeats (one object loaded twice) dropped, in order."""
    return tuple(dict.fromkeys(policies))


def _compare_command(left: str, right: str, manifests, output_format, max_diffs, output, options, containment: bool) -> None:
    from npverify.compare import compare, merge_context
    from npverify.coverage import Coverage
    from npverify.load import load_manifests
    from npverify.model import Cluster

    with _failures_to_exit_codes():
        live = _live_sources(options)
        reading, universe, semantics, limits = _question_options(options)
        left_cluster = load_manifests([left], stdin=sys.stdin, **reading)
        right_cluster = load_manifests([right], stdin=sys.stdin, **reading)
        shared = load_manifests([*manifests, *live], stdin=sys.stdin, **reading) if manifests or live else Cluster()
        _echo_warnings(left_cluster, right_cluster, shared)
        context = merge_context(shared, left_cluster, right_cluster)
        with _progress() as progress:
            # Cluster-scoped policies among the shared manifests hold on both sides: a
            # rewrite of NetworkPolicies is judged under the cluster's admin tiers.
            above = shared.cluster_policies
            comparison = compare(
                left_cluster.policies + _without(left_cluster.cluster_policies + above),
                right_cluster.policies + _without(right_cluster.cluster_policies + above),
                context,
                universe=universe,
                semantics=semantics,
                max_diffs=max_diffs,
                limits=limits,
                directions=("right",) if containment else ("left", "right"),
                names=(left, right),
                progress=progress,
                coverage=Coverage.of(shared, left_cluster, right_cluster),
            )
    output.write(_render(output_format, comparison, output))
    output.flush()
    sys.exit({True: EXIT_PROVED, False: EXIT_REFUTED, None: EXIT_UNKNOWN}[comparison.same])


def compare_options(command):
    for option in reversed(
        [
            click.option("--manifests", "manifests", multiple=True, metavar="PATH", help="Context shared by both sides (Namespaces, workloads); repeatable; --cluster adds a live cluster's."),
            format_option,
            click.option("--max-diffs", type=click.IntRange(min=1), default=10, show_default=True, help="Regions to report per direction before stopping."),
            universe_options,
            input_limit_options,
            click.option("-o", "--output", type=click.File("w"), default="-", help="Write the report here instead of stdout."),
        ]
    ):
        command = option(command)
    return command


@main.command(epilog=COMPARE_EXIT_HELP)
@click.argument("left")
@click.argument("right")
@compare_options
def equiv(left: str, right: str, manifests, output_format, max_diffs, output, **options) -> None:
    """Do LEFT and RIGHT allow exactly the same packets?

    Policies are compared by meaning, never by name. Differences are reported in both
    directions as regions (sources, destinations, protocols, port range), each with a
    concrete packet and the rules on each side that decide it.
    """
    _compare_command(left, right, manifests, output_format, max_diffs, output, options, containment=False)


@main.command(epilog=COMPARE_EXIT_HELP)
@click.argument("baseline")
@click.argument("candidate")
@compare_options
def contains(baseline: str, candidate: str, manifests, output_format, max_diffs, output, **options) -> None:
    """Does BASELINE allow everything CANDIDATE allows?

    Lists the regions of packets that only CANDIDATE allows.
    """
    _compare_command(baseline, candidate, manifests, output_format, max_diffs, output, options, containment=True)


REDUNDANT_EXIT_HELP = """\b
Exit codes:
  0  nothing redundant or vacuous
  1  some policy, rule, peer or port entry is redundant or vacuous
  2  bad usage or bad input, including PATHS that hold no NetworkPolicy
  3  some item undecided (timeout, solver limit), an object of a policy kind npverify
     does not model (see --ignore-kind), or an internal error
"""


@main.command(epilog=REDUNDANT_EXIT_HELP)
@click.argument("paths", nargs=-1)
@format_option
@click.option("--policy", "policies", multiple=True, metavar="NAMESPACE/NAME", help="Check only these policies (against all); repeatable.")
@universe_options
@input_limit_options
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the report here instead of stdout.")
@jobs_option
def redundant(paths: tuple[str, ...], output_format: str, policies: tuple[str, ...], output, jobs: int, **options) -> None:
    """List the policies, rules, peers and port entries of PATHS that change nothing.

    An item is redundant when removing it alone leaves every allowed packet unchanged; it
    is listed with why: covered (other items, named, do what it does) or unusable (the other
    end denies all its packets anyway; an example packet names the policy). Items that can
    never apply (a policy that selects no pod, a rule that matches no packet) are listed as
    vacuous.
    """
    from npverify.errors import InputError
    from npverify.load import load_manifests
    from npverify.model import Diagnostic
    from npverify.redundancy import POLICIES_PER_WORKER, find_redundancy
    from npverify.workers import workers_for

    with _failures_to_exit_codes():
        paths = (*paths, *_live_sources(options))
        if not paths:
            raise InputError(Diagnostic("no manifests: give PATHS, or --cluster", path="PATHS"))
        reading, universe, semantics, limits = _question_options(options)
        cluster = load_manifests(list(paths), stdin=sys.stdin, **reading)
        _echo_warnings(cluster)
        if not cluster.policies and not cluster.cluster_policies and not cluster.unmodelled:
            # Nothing to check is not "nothing redundant": a wrong path must not pass a hook.
            # (Policies of kinds npverify does not model make the answer unknown instead.)
            raise InputError(Diagnostic(f"no NetworkPolicy found in {', '.join(paths)}"))
        known = {p.key for p in cluster.policies + cluster.cluster_policies}
        for name in policies:
            if name not in known:
                raise InputError(
                    Diagnostic(f"--policy {name}: no such NetworkPolicy or cluster-scoped policy in the manifests (write namespace/name, or cnp/, anp/ or banp/NAME)")
                )
        with _progress() as progress:
            report = find_redundancy(
                cluster, universe, semantics, limits, policies or None, progress, jobs=workers_for(jobs, len(cluster.policies), POLICIES_PER_WORKER)
            )
    output.write(_render(output_format, report, output))
    output.flush()
    clean = report.clean
    sys.exit({True: EXIT_PROVED, False: EXIT_REFUTED, None: EXIT_UNKNOWN}[clean])


LINT_EXIT_HELP = """\b
Exit codes:
  0  no finding at or above --fail-on (findings below it are still reported)
  1  a finding at or above --fail-on (default: error)
  2  bad usage or bad input, including an unknown rule id (in --enable, --disable, the
     invariants file's lint section or an npverify.io/ignore annotation)
  3  a rule could not be decided (timeout, solver limit, or an object of a policy kind
     npverify does not model: see --ignore-kind), or an internal error

\b
Rules (docs/lint.md): dns-blocked, selects-nothing, ignored-rules, unusable-rule,
unknown-named-port, overly-broad; shadowed and redundant when enabled. An object's
annotation npverify.io/ignore: RULE,RULE silences those rules for it (the report counts them).
"""


def _rule_list(values: tuple[str, ...], option: str) -> frozenset[str]:
    """Rule ids of repeated, comma-separated ``--enable``/``--disable`` values."""
    from npverify.lint.rules import check_rule_ids

    names = [part.strip() for value in values for part in value.split(",")]
    return frozenset(check_rule_ids(names, option))


@main.command("lint", epilog=LINT_EXIT_HELP)
@click.argument("paths", nargs=-1)
@format_option
@click.option("--enable", "enable", multiple=True, metavar="RULE[,RULE]", help="Also run these rules (e.g. shadowed,redundant); repeatable.")
@click.option("--disable", "disable", multiple=True, metavar="RULE[,RULE]", help="Do not run these rules; repeatable.")
@click.option("--fail-on", "fail_on", type=click.Choice(["error", "warning"]), default=None, help="Exit 1 when a finding of at least this severity exists (default: error, or the invariants file's lint.failOn).")
@invariants_option
@universe_options
@input_limit_options
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the report here instead of stdout.")
@jobs_option
def lint_command(paths: tuple[str, ...], output_format: str, enable, disable, fail_on, invariants_file, output, jobs: int, **options) -> None:
    """Find the usual NetworkPolicy mistakes in PATHS, each proved over the universe.

    Each finding has a rule id, a severity, file:line:col, a message and, where it helps, a
    packet or pod as evidence, confirmed by the reference evaluator. Rules and their options
    come from the --invariants file's lint section, then --enable/--disable; PATHS default to
    its manifests, and the universe and semantics are prove's.
    """
    import attrs

    from npverify.errors import InputError
    from npverify.lint import LintConfig, lint
    from npverify.load import load_manifests
    from npverify.model import Diagnostic, Severity
    from npverify.redundancy import POLICIES_PER_WORKER
    from npverify.workers import workers_for

    with _failures_to_exit_codes():
        enabled, disabled = _rule_list(enable, "--enable"), _rule_list(disable, "--disable")
        both = enabled & disabled
        if both:
            raise InputError(Diagnostic(f"{', '.join(sorted(both))} both enabled and disabled", path="--disable"))
        config = LintConfig()
        if invariants_file is not None:
            from npverify.invariants import load_invariants

            config = load_invariants(invariants_file).lint or config
        config = attrs.evolve(
            config,
            enabled=(config.enabled - disabled) | enabled,
            disabled=(config.disabled - enabled) | disabled,
            fail_on=Severity(fail_on) if fail_on else config.fail_on,
        )
        reading, universe, semantics, manifests = _invariants_question(invariants_file, paths, options)
        limits = _limits(options)
        if not manifests:
            raise InputError(Diagnostic("no manifests: give PATHS, or --invariants FILE with a 'manifests' list", path="PATHS"))
        cluster = load_manifests(manifests, stdin=sys.stdin, **reading)
        _echo_warnings(cluster)
        if not cluster.policies and not cluster.cluster_policies and not cluster.unmodelled:
            # Nothing to lint is not "no finding": a wrong path must not pass a hook.
            raise InputError(Diagnostic(f"no NetworkPolicy found in {', '.join(manifests)}"))
        report = lint(cluster, universe, semantics, config, limits, jobs=workers_for(jobs, len(cluster.policies), POLICIES_PER_WORKER))
    output.write(_render(output_format, report, output))
    output.flush()
    if report.failed:
        sys.exit(EXIT_REFUTED)
    sys.exit(EXIT_UNKNOWN if report.undecided or not report.coverage.complete else EXIT_PROVED)


EXPLAIN_EXIT_HELP = """\b
Exit codes:
  0  the packet is allowed
  1  the packet is denied
  2  bad usage or bad input (a manifest, or a --from/--to/--port spec)
  3  unknown: an object of a policy kind npverify does not model could change the verdict
     (see --ignore-kind), or an internal error

\b
--from and --to take:
  NS/POD or NS/KIND/NAME   a loaded pod or workload (e.g. shop/api, shop/Deployment/api),
                           optionally @IP (shop/api@10.244.1.7)
  NS/key=value,...         a pod with these labels in namespace NS (optionally @IP)
  svc/NS/NAME              a pod the Service selects (optionally @IP); with --to, --port
                           is a port of the Service (80, 80/TCP or its name), sent on to
                           its targetPort as kube-proxy does
  IP                       a loaded pod with that IP, else an external host
  node:IP, own-node:IP     a node; own-node: is the destination pod's own node (--from only)
--port takes 8080/TCP, 53/udp, 8080 (TCP) or a port name of the destination (http, http/TCP).
See docs/explain.md.
"""


@main.command(epilog=EXPLAIN_EXIT_HELP)
@click.option("--manifests", "manifests", multiple=True, metavar="PATH", help="Manifest file, directory, REV:path, '-' (stdin) or cluster:[CONTEXT]; repeatable; replaces the --invariants file's 'manifests'.")
@click.option("--from", "source", required=True, metavar="SPEC", help="The packet's source (see below).")
@click.option("--to", "destination", required=True, metavar="SPEC", help="The packet's destination (see below).")
@click.option("--port", "port", required=True, metavar="PORT[/PROTOCOL]", help="Destination port: 8080/TCP, 53/udp, 8080 (TCP) or a named port of the destination.")
@click.option("--format", "output_format", type=click.Choice(["json", "text"]), default="text", show_default=True, help="Output format.")
@invariants_option
@universe_switches
@input_limit_options
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the explanation here instead of stdout.")
def explain(manifests: tuple[str, ...], source: str, destination: str, port: str, output_format: str, invariants_file, output, **options) -> None:
    """Say whether one packet is allowed, and why.

    Names the policies that select the source for egress and the destination for
    ingress, the rule and peer that matched (with file:line), or for each rule why it
    did not match. The verdict is the reference evaluator's. The universe is prove's
    (same switches and defaults, or the --invariants file's): pod IPs the manifests do
    not give are taken from --pod-cidr (default 10.244.0.0/16, fd00:10:244::/64 when the
    universe leaves pod IPs free), and a packet outside the universe is said to be.
    """
    from npverify.errors import InputError
    from npverify.explain import explain as explain_packet_spec
    from npverify.load import load_manifests
    from npverify.model import Diagnostic
    from npverify.report.text import render_explanation as render_text
    from npverify.report.json import render_explanation as render_json

    with _failures_to_exit_codes():
        reading, universe, semantics, paths = _invariants_question(invariants_file, manifests, options)
        if not paths:
            raise InputError(Diagnostic("no manifests: give --manifests PATH, or --invariants FILE with a 'manifests' list", path="--manifests"))
        cluster = load_manifests(paths, stdin=sys.stdin, **reading)
        _echo_warnings(cluster)
        explanation = explain_packet_spec(cluster, source, destination, port, semantics=semantics, universe=universe)
        rendered = (render_json if output_format == "json" else render_text)(explanation)
    output.write(rendered)
    output.flush()
    sys.exit(EXIT_UNKNOWN if not explanation.known else EXIT_PROVED if explanation.allowed else EXIT_REFUTED)


MATRIX_EXIT_HELP = """\b
Exit codes:
  0  the matrix was computed and proved exact by the solver (or computed, with --no-proof)
  2  bad usage or bad input
  3  the proof is unknown (timeout, solver limit, or an object of a policy kind npverify
     does not model: see --ignore-kind), or an internal error (the solver, the set
     algebra and the reference evaluator disagree)

\b
A cell lists the protocols and ports on which some packet from a pod of the row to a pod
of the column is allowed; a trailing * marks ports allowed for some pods or IPs only (for
namespaces: for some pairs of workloads). 'n/a': no such pair of pods in the universe.
See docs/matrix.md.
"""

MATRIX_FORMATS = ("text", "csv", "dot", "html", "json")


@main.command(epilog=MATRIX_EXIT_HELP)
@click.argument("paths", nargs=-1)
@click.option("--by", type=click.Choice(["workload", "namespace"]), default="workload", show_default=True, help="Rows and columns: loaded workloads, or the namespaces holding them.")
@click.option("--format", "output_format", type=click.Choice(MATRIX_FORMATS), default="text", show_default=True, help="Output format: text table, CSV (long format), Graphviz DOT, a self-contained HTML page, or JSON (specs/matrix.schema.json).")
@click.option("--namespace", "only_namespaces", multiple=True, metavar="NS", help="Only workloads of this namespace as rows and columns; repeatable.")
@click.option("--no-proof", "no_proof", is_flag=True, default=False, help="Skip the solver's proof (and the witness packets); the output says the matrix is not proved.")
@invariants_option
@universe_options
@input_limit_options
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the matrix here instead of stdout.")
@jobs_option
def matrix(paths: tuple[str, ...], by: str, output_format: str, only_namespaces: tuple[str, ...], no_proof: bool, invariants_file, output, jobs: int, **options) -> None:
    """The connectivity matrix of the workloads of PATHS (or of their namespaces).

    PATHS default to the --invariants file's manifests; the universe and semantics are
    prove's (same switches and defaults, or the --invariants file's).

    Each cell is computed exactly by set algebra over the policies, then the solver proves
    that no packet between pods of the two is allowed outside the cell, or denied inside its
    always-allowed ports.
    """
    from npverify.errors import InputError
    from npverify.load import load_manifests
    from npverify.matrix import connectivity_matrix
    from npverify.matrix.compute import WORKLOADS_PER_WORKER
    from npverify.report.csv import render_matrix_csv
    from npverify.report.dot import render_matrix_dot
    from npverify.report.html import render_matrix_page
    from npverify.report.json import render_matrix_json
    from npverify.report.text import render_matrix
    from npverify.model import Diagnostic
    from npverify.results import Verdict
    from npverify.workers import workers_for

    renderers = {
        "text": render_matrix,
        "csv": render_matrix_csv,
        "dot": render_matrix_dot,
        "html": render_matrix_page,
        "json": render_matrix_json,
    }
    with _failures_to_exit_codes():
        reading, universe, semantics, manifests = _invariants_question(invariants_file, paths, options)
        limits = _limits(options)
        if not manifests:
            raise InputError(Diagnostic("no manifests: give PATHS, or --invariants FILE with a 'manifests' list", path="PATHS"))
        cluster = load_manifests(manifests, stdin=sys.stdin, **reading)
        _echo_warnings(cluster)
        result = connectivity_matrix(
            cluster,
            by=by,
            universe=universe,
            semantics=semantics,
            limits=limits,
            prove=not no_proof,
            namespaces=only_namespaces or None,
            jobs=workers_for(jobs, len(cluster.workloads), WORKLOADS_PER_WORKER),
            cell_rules=output_format == "json",
        )
        rendered = renderers[output_format](_whole_command(result))
    if output_format == "csv":
        for note in result.notes:  # CSV rows have no place for them
            click.echo(f"npverify: note: {note}", err=True)
    output.write(rendered)
    output.flush()
    sys.exit(EXIT_UNKNOWN if result.verdict is Verdict.UNKNOWN else EXIT_PROVED)


@main.command("cache")
@click.option("--clear", is_flag=True, default=False, help="Remove every entry.")
def cache_command(clear: bool) -> None:
    """Show where the load cache is and what it holds (or --clear it).

    The load cache keeps the documents of manifest files read before, keyed by their
    content and npverify's own code, so unchanged files are not parsed again; answers are
    the same with or without it. Its directory: $NPVERIFY_CACHE_DIR, else the user cache
    directory ($XDG_CACHE_HOME/npverify, ~/.cache/npverify). Turn it off with --no-cache or
    NPVERIFY_NO_CACHE=1.
    """
    from npverify.load.cache import LoadCache, default_directory, disabled_by_environment

    cache = LoadCache(default_directory())
    if clear:
        click.echo(f"removed {cache.clear()} entries from {cache.directory}")
        return
    count, size = cache.size()
    state = "off (NPVERIFY_NO_CACHE is set)" if disabled_by_environment() else "on"
    click.echo(f"load cache: {cache.directory}\nstate: {state}\nentries: {count} ({size / 1024 / 1024:.1f} MiB)")


if __name__ == "__main__":  # pragma: no cover
    main()
