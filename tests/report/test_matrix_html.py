"""The matrix as HTML: the page's graph labels fit the picture; the notebook view carries its styles."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from npverify.matrix import Cell, ConnectivityMatrix, PortSet
from npverify.model import Protocol
from npverify.report.html import MATRIX_SCOPE, render_matrix_page

TCP = Protocol.TCP
CELL = Cell(PortSet.of(TCP, 80, 80), PortSet.of(TCP, 80, 80))


def matrix(by: str, rows: tuple[str, ...]) -> ConnectivityMatrix:
    return ConnectivityMatrix(by, rows, rows, {(k, (k + 1) % len(rows)): CELL for k in range(len(rows))})


WORKLOADS = (
    "payments/Deployment/api",
    "payments/Deployment/ledger-writer-with-a-rather-long-name",
    "payments/StatefulSet/db",
    "shop/Deployment/frontend",
    "shop/Deployment/checkout-service-for-the-european-storefront",
    "kube-system/DaemonSet/node-local-dns",
    "monitoring-and-observability/Deployment/prometheus",
)
NAMESPACES = ("payments", "shop", "a-namespace-with-a-very-long-name-indeed-63-characters-long-xyz", "kube-system", "x")


class _SvgTexts(HTMLParser):
    """The svg's viewBox and each text element's position, anchor, size, weight and text."""

    def __init__(self):
        super().__init__()
        self.view_box: tuple[float, ...] = ()
        self.texts: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "svg":
            self.view_box = tuple(float(v) for v in attributes["viewbox"].split())
        elif tag == "text":
            self._open = {**attributes, "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if tag == "text" and self._open is not None:
            self.texts.append(self._open)
            self._open = None


@pytest.mark.parametrize("by, rows", [("workload", WORKLOADS), ("namespace", NAMESPACES), ("workload", WORKLOADS[:1])])
def test_every_graph_label_lies_within_the_picture(by, rows):
    page = _SvgTexts()
    page.feed(render_matrix_page(matrix(by, rows)))
    left, top, width, height = page.view_box
    assert page.texts and {t["text"] for t in page.texts} >= {r.split("/", 1)[-1] for r in rows}
    for text in page.texts:
        size = float(text["font-size"])
        # A sans-serif letter is on average about half an em wide; allow more.
        extent = len(text["text"]) * size * (0.65 if text.get("font-weight") == "bold" else 0.6)
        x, y = float(text["x"]), float(text["y"])
        x0, x1 = {"start": (x, x + extent), "end": (x - extent, x), "middle": (x - extent / 2, x + extent / 2)}[text["text-anchor"]]
        assert left <= x0 and x1 <= left + width, text
        assert top <= y - size and y + size * 0.3 <= top + height, text


def test_notebook_view_carries_the_pages_styles_scoped_to_itself():
    html = matrix("namespace", NAMESPACES)._repr_html_()
    assert html.startswith(f"<div class='{MATRIX_SCOPE}'><style>") and html.endswith("</div>")
    [style] = re.findall(r"<style>(.*?)</style>", html, re.S)
    selectors = [s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", style) for s in block.split(",")]
    assert selectors and all(s == f".{MATRIX_SCOPE}" or s.startswith(f".{MATRIX_SCOPE} ") for s in selectors), selectors
    # Each class the table and verdict use is styled, and the cells have borders.
    for css in re.findall(r"class='([^']+)'", html.split("</style>", 1)[1]):
        for name in css.split():
            assert f".{name}" in style, name
    assert f".{MATRIX_SCOPE} th,.{MATRIX_SCOPE} td{{border:1px solid" in style
