"""The HTML renderings (notebook ``_repr_html_`` and standalone pages): parsed, not eyeballed.

Each rendering must be well-formed (every element closed, tables made of rows of cells),
show the facts of the value, and escape what comes from the input: a label value or a
name holding ``<script>`` must come out as text, never as an element. Where Chromium is
on PATH, a page is also rendered headless and its DOM checked.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import attrs
import pytest

from tests.environment import require

import npverify
from npverify.model import NAMESPACE_NAME_LABEL, ContainerPort, Direction, NetworkPolicy, Packet, PodEndpoint, PolicyItem, Protocol
from npverify.redundancy import RedundancyReport, RedundantItem, UndecidedItem, VacuousItem
from npverify.report.html import html_page, render_report_page

ROOT = Path(__file__).resolve().parent.parent
SHOP = ROOT / "specs" / "examples" / "shop"
EVIL = "<script>alert('x')</script>"
VOID = {"br", "meta", "hr", "img", "input", "link"}


class Document(HTMLParser):
    """Elements, their nesting and the text of each table row, as a browser would read them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.problems: list[str] = []
        self.rows: list[list[str]] = []
        self.text = ""
        self.feed(html)
        self.close()
        if self.open:
            self.problems.append(f"unclosed: {self.open}")

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in VOID:
            return
        if tag in ("td", "th") and (not self.open or self.open[-1] != "tr"):
            self.problems.append(f"<{tag}> outside a <tr> (inside {self.open[-1:]})")
        if tag == "tr":
            if not self.open or self.open[-1] != "table":
                self.problems.append(f"<tr> outside a <table> (inside {self.open[-1:]})")
            self.rows.append([])
        if tag in ("td", "th"):
            self.rows[-1].append("")
        self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:]}")
            return
        self.open.pop()

    def handle_data(self, data):
        self.text += data
        if "td" in self.open or "th" in self.open:
            self.rows[-1][-1] += data

    def well_formed(self) -> bool:
        return not self.problems


@pytest.fixture(scope="module")
def report():
    return npverify.prove(SHOP / "invariants.yaml")


@pytest.fixture(scope="module")
def comparison():
    context = npverify.load_manifests([SHOP / "k8s" / "namespaces.yaml", SHOP / "k8s" / "workloads.yaml"])
    old = npverify.load_manifests([SHOP / "k8s" / "payments-policies.yaml"])
    fixed = npverify.load_manifests([ROOT / "docs" / "tutorial" / "payments-fixed.yaml"])
    return npverify.equivalence(old, fixed, context, max_diffs=2, names=("old", "fixed"))


def _evil_packet() -> Packet:
    src = PodEndpoint("dev", {NAMESPACE_NAME_LABEL: "dev"}, {"app": EVIL}, ipaddress.ip_address("10.0.0.1"), pod_id="a")
    dst = PodEndpoint(
        "shop", {NAMESPACE_NAME_LABEL: "shop", "team": EVIL}, {}, ipaddress.ip_address("10.0.0.2"),
        (ContainerPort(8080, Protocol.TCP, "http"),), workload="shop/Deployment/api", pod_id="b",
    )
    return Packet(src, dst, Protocol.TCP, 8080)


def test_packet_html_is_a_table_of_protocol_port_source_destination():
    document = Document(_evil_packet()._repr_html_())
    assert document.well_formed(), document.problems
    assert [row[0] for row in document.rows] == ["protocol", "port", "from", "to"]
    assert document.rows[0][1] == "TCP" and document.rows[1][1] == "8080"
    assert "pod in namespace dev" in document.rows[2][1]
    assert "pod of Deployment shop/api" in document.rows[3][1] and "ports http=8080/TCP" in document.rows[3][1]
    # The source has no workload, so its unread labels are arbitrary: the caption says so.
    assert "labels not shown are arbitrary" in document.text


def test_label_values_holding_markup_come_out_as_text():
    html = _evil_packet()._repr_html_()
    document = Document(html)
    assert "script" not in document.tags
    assert f"labels {{app={EVIL}}}" in document.rows[2][1]
    assert f"team={EVIL}" in document.rows[3][1]
    assert "<script>" not in html


def test_report_html_has_one_row_per_invariant_and_the_counts(report):
    document = Document(report._repr_html_())
    assert document.well_formed(), document.problems
    header, *rows = document.rows
    assert header == ["invariant", "kind", "verdict", "packet and reason", "time"]
    assert [(row[0], row[2]) for row in rows] == [(r.invariant.name, r.verdict.value.upper()) for r in report.results]
    refuted = rows[-1]
    assert refuted[1].startswith("only") and refuted[1].endswith("specs/examples/shop/invariants.yaml:35:5")
    assert "counterexample: TCP port 8443" in refuted[3]
    assert "payments-policies.yaml:17:11" in refuted[3]
    assert "6 invariants: 5 proved, 1 refuted, 0 unknown" in document.text
    # skipped documents are listed, as in the text output
    skipped = Document(attrs.evolve(report, skipped=("ConfigMap settings (k8s/config.yaml:1:1)",))._repr_html_())
    assert "ConfigMap settings (k8s/config.yaml:1:1)" in skipped.text


def test_report_html_escapes_invariant_names_and_reasons(report):
    result = report.results[0]
    evil = attrs.evolve(result, invariant=attrs.evolve(result.invariant, name=EVIL), reason=EVIL)
    html = attrs.evolve(report, results=(evil,), source=EVIL)._repr_html_()
    document = Document(html)
    assert document.well_formed(), document.problems
    assert "script" not in document.tags
    assert document.rows[1][0] == EVIL and EVIL in document.rows[1][3]


def test_comparison_html_lists_regions_with_both_sides_decisions(comparison):
    document = Document(comparison._repr_html_())
    assert document.well_formed(), document.problems
    assert document.rows[0] == ["", "region", "example packet", "old", "fixed"]
    assert document.rows[1] == ["only old allows: 2 regions (more exist; raise --max-diffs)"]
    regions = document.rows[2:4]
    assert [row[0] for row in regions] == ["[1]", "[2]"]
    for row, difference in zip(regions, comparison.only_left):
        assert row[1] == str(difference.region)
        assert row[3].startswith("allowed") and "payments/gateway ingress[0]" in row[3]
        assert row[4].startswith("denied")
    assert document.rows[4] == ["only fixed allows: 0 regions"]
    assert "DIFFERENT: 2 difference regions" in document.text


def test_containment_html_says_contained(comparison):
    contained = attrs.evolve(comparison, only_left=None, only_right=(), left_complete=True, right_complete=True)
    document = Document(contained._repr_html_())
    assert document.well_formed(), document.problems
    assert "does old contain fixed" in document.text and "CONTAINED: 0 difference regions" in document.text
    assert "only old allows" not in document.text


def test_difference_html_shows_region_packet_and_decisions(comparison):
    difference = comparison.only_left[0]
    document = Document(difference._repr_html_())
    assert document.well_formed(), document.problems
    names = [row[0] for row in document.rows if row]
    assert names[0] == "region" and names[1] == "example packet"
    assert "left allows" in names and "right denies" in names
    assert str(difference.region) in document.text
    assert "protocol" in names and "port" in names  # the packet table, nested


def test_comparison_html_escapes_side_names(comparison):
    html = attrs.evolve(comparison, left_name=EVIL, right_name="<b>right")._repr_html_()
    document = Document(html)
    assert document.well_formed(), document.problems
    assert "script" not in document.tags
    assert document.rows[0][3:] == [EVIL, "<b>right"]


def test_redundancy_html_has_a_row_per_item_and_escapes():
    policy = NetworkPolicy("shop", EVIL, ingress=())
    other = NetworkPolicy("shop", "other")
    rule_policy = NetworkPolicy("shop", "api", policy_types={Direction.INGRESS, Direction.EGRESS}, egress=(npverify.Rule(),))
    report = RedundancyReport(
        redundant=(RedundantItem(PolicyItem(policy), (PolicyItem(other),)),),
        vacuous=(VacuousItem(PolicyItem(rule_policy, Direction.EGRESS, 0), f"reason {EVIL}"),),
        undecided=(UndecidedItem(PolicyItem(other), "timeout"),),
        items_checked=7,
    )
    html = report._repr_html_()
    document = Document(html)
    assert document.well_formed(), document.problems
    assert "script" not in document.tags
    assert document.rows[0] == ["category", "item", "where", "why"]
    assert document.rows[1] == ["redundant", "policy", f"shop/{EVIL}", "covered by shop/other"]
    assert document.rows[2] == ["vacuous", "rule", "shop/api egress[0]", f"reason {EVIL}"]
    assert document.rows[3] == ["undecided", "policy", "shop/other", "timeout"]
    assert "7 items checked: 1 redundant, 1 vacuous, 1 undecided" in document.text


def test_page_is_a_complete_document(report):
    page = render_report_page(attrs.evolve(report, source=EVIL))
    assert page.startswith("<!DOCTYPE html>")
    document = Document(page)
    assert document.well_formed(), document.problems
    assert document.tags[:3] == ["html", "head", "meta"]
    assert "script" not in document.tags
    assert document.tags.count("title") == 1 and f"npverify: {EVIL}" in document.text
    assert html_page("a & b", "<p>x</p>").count("<title>a &amp; b</title>") == 1


# --- rendered by a real browser, where one is installed ------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def test_page_renders_in_headless_chromium(report, tmp_path):
    require(_chromium() is not None, "chromium", f"Chromium not found on PATH (looked for: {', '.join(CHROMIUM_NAMES)})")
    page = tmp_path / "report.html"
    evil = attrs.evolve(report.results[-1], invariant=attrs.evolve(report.results[-1].invariant, name=EVIL))
    page.write_text(render_report_page(attrs.evolve(report, results=report.results[:-1] + (evil,))), encoding="utf-8")
    done = subprocess.run(
        # No network here: without these flags Chromium keeps trying to reach its services.
        [
            _chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    dom = Document(done.stdout)
    assert "script" not in dom.tags, "the escaped invariant name became a script element"
    # The browser's DOM holds the same table: a header row and one row per invariant.
    assert len([row for row in dom.rows if row]) == 1 + len(report.results)
    assert dom.rows[-1][0] == EVIL and dom.rows[-1][2] == "REFUTED"
