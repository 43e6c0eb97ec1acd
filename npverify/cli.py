"""The ``npverify`` command. All printing and exit codes live here."""

from __future__ import annotations

import os
import sys

import attrs
import click

from npverify import __version__
from npverify.errors import InputError, InternalError
from npverify.invariants import load_invariants
from npverify.load import load_manifests
from npverify.load.fields import parse_cidr
from npverify.load.yamlnodes import Cursor, Node
from npverify.model import SourceLocation
from npverify.report import json as json_report
from npverify.report import text as text_report
from npverify.results import ProofReport, Verdict

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="npverify")
def main() -> None:
    """Formally verify Kubernetes NetworkPolicies with the Z3 SMT solver."""


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("invariants_file", type=click.Path(dir_okay=False, allow_dash=False))
@click.option("--format", "output_format", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Output format.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, help="Seconds per invariant; an invariant not decided in time is UNKNOWN.")
@click.option("--rlimit", type=click.IntRange(min=1), default=None, help="Z3 resource limit per invariant (deterministic across machines); hitting it gives UNKNOWN.")
@click.option("--manifests", "manifests", multiple=True, metavar="PATH", help="Manifest file or directory ('-' for stdin); repeatable; replaces the file's 'manifests'.")
@click.option("--namespaces", type=click.Choice(["any", "declared"]), default=None, help="Override universe.namespaces.")
@click.option("--pods", type=click.Choice(["any", "workloads"]), default=None, help="Override universe.pods.")
@click.option("--pod-cidr", "pod_cidrs", multiple=True, metavar="CIDR", help="Override universe.podCIDRs; repeatable.")
@click.option("--host-network/--no-host-network", default=None, help="Include hostNetwork pods in the universe.")
@click.option("--node-traffic/--no-node-traffic", default=None, help="Include packets that originate on nodes.")
@click.option("--self-traffic/--no-self-traffic", default=None, help="Include a pod's packets to itself in scopes.")
@click.option("--ipblock-matches-pods/--no-ipblock-matches-pods", default=None, help="Whether ipBlock peers match pod IPs (default: yes, as the upstream conformance tests expect).")
@click.option("-o", "--output", type=click.File("w"), default="-", help="Write the report here instead of stdout.")
def prove(
    invariants_file: str,
    output_format: str,
    timeout: float | None,
    rlimit: int | None,
    manifests: tuple[str, ...],
    namespaces: str | None,
    pods: str | None,
    pod_cidrs: tuple[str, ...],
    host_network: bool | None,
    node_traffic: bool | None,
    self_traffic: bool | None,
    ipblock_matches_pods: bool | None,
    output,
) -> None:
    """Prove the invariants of INVARIANTS_FILE against the manifests it names.

    Each invariant is PROVED for every packet of the universe, or REFUTED with a concrete
    packet and the policies and rules that decided it, or UNKNOWN.
    """
    from npverify.api import prove as prove_file

    try:
        spec = load_invariants(invariants_file)
        universe = spec.universe
        overrides = {
            "namespaces": namespaces,
            "pods": pods,
            "pod_cidrs": _parse_cidrs(pod_cidrs) if pod_cidrs else None,
            "host_network": host_network,
            "node_traffic": node_traffic,
            "self_traffic": self_traffic,
        }
        universe = attrs.evolve(universe, **{k: v for k, v in overrides.items() if v is not None})
        semantics = spec.semantics
        if ipblock_matches_pods is not None:
            semantics = attrs.evolve(semantics, ip_block_matches_pods=ipblock_matches_pods)
        cluster = load_manifests(list(manifests) if manifests else list(spec.manifests), stdin=sys.stdin)
        report = prove_file(spec, cluster=cluster, universe=universe, semantics=semantics, timeout=timeout, rlimit=rlimit)
    except InputError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(EXIT_BAD_INPUT)
    except InternalError as exc:
        click.echo(f"npverify: internal error: {exc}", err=True)
        sys.exit(EXIT_UNKNOWN)
    except (KeyboardInterrupt, click.exceptions.Exit):
        raise
    except Exception as exc:  # noqa: BLE001 - a bug must still exit with the documented code
        if os.environ.get("NPVERIFY_DEBUG"):
            raise
        click.echo(f"npverify: internal error: {type(exc).__name__}: {exc} (set NPVERIFY_DEBUG=1 for a traceback)", err=True)
        sys.exit(EXIT_UNKNOWN)
    output.write(RENDERERS[output_format](report))
    output.flush()
    sys.exit(_exit_code(report))


if __name__ == "__main__":  # pragma: no cover
    main()
