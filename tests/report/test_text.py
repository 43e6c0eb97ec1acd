import ipaddress
import re

import attrs
import pytest
from results_fixture import fixed_comparison, fixed_redundancy, fixed_report

from npverify.api import summarize
from npverify.model import Cluster, ContainerPort, Namespace, NetworkPolicy, PodEndpoint, Protocol, Workload
from npverify.report.text import describe_endpoint, render_comparison, render_redundancy, render_report
from npverify.words import counted

ANSI = re.compile("\x1b\\[[0-9;]*m")


def test_text_report_matches_golden(golden):
    report, _, _ = fixed_report()
    golden("report.txt", render_report(report))


def test_str_of_report_is_the_text_rendering():
    report, _, _ = fixed_report()
    assert str(report) == render_report(report)
    assert str(report.results[0]).startswith("REFUTED  only shop reaches the api  (only, invariants.yaml:5:5)")


def test_summary_counts_every_verdict():
    report, _, _ = fixed_report()
    assert render_report(report).rstrip().splitlines()[-1] == "4 invariants: 1 proved, 2 refuted, 1 unknown (1.52 s)"


# --- comparisons and redundancy; colour ----------------------------------------------------

@pytest.mark.parametrize(
    "name, render",
    [
        ("equiv.txt", lambda color=False: render_comparison(fixed_comparison(), color=color)),
        ("contains.txt", lambda color=False: render_comparison(fixed_comparison(containment=True), color=color)),
        ("redundancy.txt", lambda color=False: render_redundancy(fixed_redundancy(), color=color)),
    ],
)
def test_text_matches_golden_and_colour_only_adds_escape_codes(golden, name, render):
    plain = render()
    golden(name, plain)
    coloured = render(color=True)
    assert ANSI.search(coloured) and not ANSI.search(plain)
    assert ANSI.sub("", coloured) == plain


def test_verdict_words_are_coloured_only_when_asked():
    report, _, _ = fixed_report()
    plain, coloured = render_report(report), render_report(report, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31mREFUTED\x1b[0m  only shop reaches the api" in coloured
    assert "\x1b[32mPROVED\x1b[0m   dev is isolated" in coloured
    assert "\x1b[33mUNKNOWN\x1b[0m  a slow one" in coloured
    assert ANSI.sub("", coloured) == plain
    assert render_comparison(fixed_comparison(), color=True).rstrip().splitlines()[-1].startswith("\x1b[31mDIFFERENT\x1b[0m: ")


def test_container_ports_show_names_only_where_they_have_one():
    pod = PodEndpoint(
        "shop", {}, {"app": "api"}, ipaddress.ip_address("10.0.0.7"),
        ports=(ContainerPort(8443, Protocol.TCP, "https"), ContainerPort(8080), ContainerPort(53, Protocol.UDP)),
    )
    assert describe_endpoint(pod, with_ports=True).endswith(", ports https=8443/TCP, 8080/TCP, 53/UDP")


def test_counts_take_the_singular_for_one_and_the_plural_otherwise():
    assert [counted(n, "region") for n in (0, 1, 2)] == ["0 regions", "1 region", "2 regions"]
    assert counted(1, "NetworkPolicy", "NetworkPolicies") == "1 NetworkPolicy"
    assert counted(3, "NetworkPolicy", "NetworkPolicies") == "3 NetworkPolicies"


def test_cluster_summary_says_one_in_the_singular():
    one = Cluster(
        policies=[NetworkPolicy("shop", "p")],
        namespaces=[Namespace("shop")],
        workloads=[Workload("Deployment", "shop", "api", {"app": "api"})],
    )
    assert summarize(one) == "1 NetworkPolicy, 1 Namespace, 1 workload (1 Deployment)"
    more = attrs.evolve(one, workloads=[Workload("Pod", "shop", f"p{k}") for k in range(3)], namespaces=[])
    assert summarize(more) == "1 NetworkPolicy, 0 Namespaces, 3 workloads (3 Pods)"
    report, _, _ = fixed_report()
    report = attrs.evolve(report, skipped=report.skipped[:1])
    assert "skipped 1 document of kinds npverify does not use:" in render_report(report)
