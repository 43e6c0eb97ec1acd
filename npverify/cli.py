"""The ``npverify`` command. All printing and exit codes live here."""

from __future__ import annotations

import contextlib
import os
import sys

import attrs
import click

from npverify import __version__
from npverify.errors import InputError, InternalError
from npverify.invariants import load_invariants
from npverify.load import load_manifests
from npverify.load.fields import parse_cidr
from npverify.load.limits import InputLimits
from npverify.load.yamlnodes import Cursor, Node
from npverify.model import Cluster, Diagnostic, Semantics, SourceLocation, Universe
from npverify.report import json as json_report
from npverify.report import text as text_report
from npverify.results import ProofReport, Verdict
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
  3  at least one invariant unknown (timeout, solver limit), or an internal error
"""

RENDERERS = {"text": text_report.render_report, "json": json_report.render_report}


def _exit_code(report: ProofReport) -> int:
    if report.count(Verdict.REFUTED):
        return EXIT_REFUTED
    if report.count(Verdict.UNKNOWN):
        return EXIT_UNKNOWN
    return EXIT_PROVED


def _parse_cidrs(values: tuple[str, ...]):
    cidrs = []
    for value in values:
        cursor = Cursor(Node(value, SourceLocation("--pod-cidr", 1, 1)), "")
        cidrs.append(parse_cidr(cursor, []))
    return tuple(cidrs)


def universe_options(command):
    """The universe and semantics switches every question takes."""
    options = [
        click.option("--namespaces", type=click.Choice(["any", "declared"]), default=None, help="Override universe.namespaces."),
        click.option("--pods", type=click.Choice(["any", "workloads"]), default=None, help="Override universe.pods."),
        click.option("--pod-cidr", "pod_cidrs", multiple=True, metavar="CIDR", help="Override universe.podCIDRs; repeatable."),
        click.option("--host-network/--no-host-network", default=None, help="Include hostNetwork pods in the universe."),
        click.option("--node-traffic/--no-node-traffic", default=None, help="Include packets that originate on nodes."),
        click.option("--self-traffic/--no-self-traffic", default=None, help="Include a pod's packets to itself in scopes."),
        click.option("--ipblock-matches-pods/--no-ipblock-matches-pods", default=None, help="Whether ipBlock peers match pod IPs (default: yes, as the upstream conformance tests expect)."),
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _input_limits(options: dict) -> InputLimits:
    given = {
        "max_bytes": options.pop("max_input_bytes"),
        "max_nodes": options.pop("max_yaml_nodes"),
        "max_depth": options.pop("max_nesting_depth"),
    }
    return attrs.evolve(InputLimits(), **{k: v for k, v in given.items() if v is not None})


def _universe(base: Universe, options: dict) -> Universe:
    overrides = {
        "namespaces": options.pop("namespaces"),
        "pods": options.pop("pods"),
        "pod_cidrs": _parse_cidrs(options.pop("pod_cidrs")) or None,
        "host_network": options.pop("host_network"),
        "node_traffic": options.pop("node_traffic"),
        "self_traffic": options.pop("self_traffic"),
    }
    return attrs.evolve(base, **{k: v for k, v in overrides.items() if v is not None})


def _semantics(base: Semantics, options: dict) -> Semantics:
    matches = options.pop("ipblock_matches_pods")
    return base if matches is None else attrs.evolve(base, ip_block_matches_pods=matches)


def _limits(options: dict) -> Limits:
    timeout, rlimit = options.pop("timeout"), options.pop("rlimit")
    return Limits(timeout_ms=None if timeout is None else max(1, int(timeout * 1000)), rlimit=rlimit)


@contextlib.contextmanager
def _failures_to_exit_codes():
    """Bad input exits 2 with located messages; internal errors exit 3; never a traceback."""
    try:
        yield
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="npverify")
def main() -> None:
    """Formally verify Kubernetes NetworkPolicies with the Z3 SMT solver."""


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("invariants_file", type=click.Path(dir_okay=False, allow_dash=False))
@click.option("--format", "output_format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format.")
@click.option("--manifests", "manifests", multiple=True, metavar="PATH", help="Manifest file, directory or REV:path ('-' for stdin); repeatable; replaces the file's 'manifests'.")
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

    with _failures_to_exit_codes():
        input_limits = _input_limits(options)
        spec = load_invariants(invariants_file, limits=input_limits)
        universe = _universe(spec.universe, options)
        semantics = _semantics(spec.semantics, options)
        limits = _limits(options)
        paths = list(manifests) if manifests else list(spec.manifests)
        cluster = load_manifests(paths, stdin=sys.stdin, limits=input_limits)
        report = prove_file(
            spec,
            cluster=cluster,
            universe=universe,
            semantics=semantics,
            limits=limits,
            check_samples=check_samples if check_mode else 0,
            input_limits=input_limits,
        )
    output.write(RENDERERS[output_format](report))
    output.flush()
    sys.exit(_exit_code(report))


COMPARE_EXIT_HELP = """\b
Exit codes:
  0  equivalent (contains: the baseline allows everything the candidate allows)
  1  they differ: the regions of packets that differ are listed
  2  bad usage or bad input
  3  unknown (timeout, solver limit), or an internal error

\b
LEFT, RIGHT, BASELINE and CANDIDATE are files, folders or git revisions (REV:path, e.g.
main:k8s/, read without a checkout; path from the repository's top level).
"""


def _compare_command(left: str, right: str, manifests, output_format, max_diffs, output, options, containment: bool) -> None:
    from npverify.compare import compare, merge_context

    with _failures_to_exit_codes():
        input_limits = _input_limits(options)
        universe = _universe(Universe(), options)
        semantics = _semantics(Semantics(), options)
        limits = _limits(options)
        left_cluster = load_manifests([left], stdin=sys.stdin, limits=input_limits)
        right_cluster = load_manifests([right], stdin=sys.stdin, limits=input_limits)
        shared = load_manifests(list(manifests), stdin=sys.stdin, limits=input_limits) if manifests else Cluster()
        context = merge_context(shared, left_cluster, right_cluster)
        comparison = compare(
            left_cluster.policies,
            right_cluster.policies,
            context,
            universe=universe,
            semantics=semantics,
            max_diffs=max_diffs,
            limits=limits,
            directions=("right",) if containment else ("left", "right"),
            names=(left, right),
        )
    render = json_report.render_comparison if output_format == "json" else text_report.render_comparison
    output.write(render(comparison))
    output.flush()
    sys.exit({True: EXIT_PROVED, False: EXIT_REFUTED, None: EXIT_UNKNOWN}[comparison.same])


def compare_options(command):
    for option in reversed(
        [
            click.option("--manifests", "manifests", multiple=True, metavar="PATH", help="Context shared by both sides (Namespaces, workloads); repeatable."),
            click.option("--format", "output_format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format."),
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
  2  bad usage or bad input
  3  some item undecided (timeout, solver limit), or an internal error
"""


@main.command(epilog=REDUNDANT_EXIT_HELP)
@click.argument("paths", nargs=-1, required=True)
@click.option("--format", "output_format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format.")
@click.option("--policy", "policies", multiple=True, metavar="NAMESPACE/NAME", help="Check only these policies (against all); repeatable.")
@universe_options
@input_limit_options
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the report here instead of stdout.")
def redundant(paths: tuple[str, ...], output_format: str, policies: tuple[str, ...], output, **options) -> None:
    """List the policies, rules, peers and port entries of PATHS that change nothing.

    An item is redundant when removing it alone leaves every allowed packet unchanged; it
    is listed with the items that cover it. Items that can never apply (a policy that
    selects no pod, a rule that matches no packet) are listed as vacuous.
    """
    from npverify.redundancy import find_redundancy

    with _failures_to_exit_codes():
        input_limits = _input_limits(options)
        universe = _universe(Universe(), options)
        semantics = _semantics(Semantics(), options)
        limits = _limits(options)
        cluster = load_manifests(list(paths), stdin=sys.stdin, limits=input_limits)
        known = {p.key for p in cluster.policies}
        for name in policies:
            if name not in known:
                raise InputError(Diagnostic(f"--policy {name}: no such NetworkPolicy in the manifests (write namespace/name)"))
        report = find_redundancy(cluster, universe, semantics, limits, policies or None)
    render = json_report.render_redundancy if output_format == "json" else text_report.render_redundancy
    output.write(render(report))
    output.flush()
    clean = report.clean
    sys.exit({True: EXIT_PROVED, False: EXIT_REFUTED, None: EXIT_UNKNOWN}[clean])


if __name__ == "__main__":  # pragma: no cover
    main()
