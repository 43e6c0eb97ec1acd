"""Golden files for the text and JSON renderings of ``npverify explain`` (shop example)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from npverify.explain import explain
from npverify.load import load_manifests
from npverify.report.json import render_explanation as render_json
from npverify.report.text import render_explanation as render_text

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(monkeypatch):
    # Relative paths, so that locations in the goldens do not depend on the checkout.
    monkeypatch.chdir(ROOT)
    return load_manifests(["specs/examples/shop/k8s"])


def test_text_explanations_match_golden(golden, shop):
    denied = explain(shop, "shop/api", "shop/frontend", "8080/TCP")
    allowed = explain(shop, "shop-staging/app=web", "payments/gateway", "https")
    golden("explain.txt", render_text(denied) + "\n" + render_text(allowed))


def test_json_explanation_matches_golden_and_schema(golden, shop):
    rendered = render_json(explain(shop, "shop/api", "shop/frontend", "8080/TCP"))
    golden("explain.json", rendered)
    schema = json.loads((ROOT / "specs" / "explain.schema.json").read_text())
    jsonschema.validate(json.loads(rendered), schema)
