"""The browser evaluator gives exactly the Python evaluator's results on the shared case table."""

from __future__ import annotations

import json
import math

import pytest

from app.questionnaires import expressions as ex
from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

CASES = [c for c in json.loads((ROOT / "tests" / "data" / "expression_cases.json").read_text(encoding="utf-8"))
         if not c.get("error")]


def _same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
    return a == b


def test_js_and_python_agree_on_every_case(page):
    page.set_content("<html><body></body></html>")
    page.add_script_tag(path=str(ROOT / "app" / "static" / "js" / "expressions.js"))
    payload = [{"tree": ex.to_json(ex.parse(c["expr"])), "values": c["values"], "current": c["current"],
                "today": c["today"]} for c in CASES]
    results = page.evaluate(
        "cases => cases.map(c => { try { return {v: NAExpr.evaluate(c.tree, c.values, c.current, c.today)}; }"
        " catch (e) { return {error: String(e)}; } })", payload)
    from datetime import date

    mismatches = []
    for case, js in zip(CASES, results, strict=True):
        py = ex.evaluate(ex.parse(case["expr"]), case["values"], case["current"], date.fromisoformat(case["today"]))
        if "error" in js or not _same(js.get("v"), py) or not _same(py, case["expected"]):
            mismatches.append((case["expr"], py, js))
    assert mismatches == []
    truthy = page.evaluate("vals => vals.map(v => NAExpr.truthy(v))", [None, "", 0, False, [], "x", 1, ["a"]])
    assert truthy == [ex.truthy(v) for v in [None, "", 0, False, [], "x", 1, ["a"]]]
