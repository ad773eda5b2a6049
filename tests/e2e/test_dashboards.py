"""The dashboards in a real browser: the vendored plotly.js draws every figure under the Content-Security-Policy
(no inline script, no eval), in English and Russian, for staff and for an expert."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "demo-password-2026"
PAGES = ("/dashboards/progress", "/dashboards/countries/KZ", "/dashboards/region",
         "/dashboards/questions?question=priority_areas")


@pytest.mark.parametrize(("email", "lang"), [("staff@example.org", "en"), ("expert@example.org", "ru")])
def test_every_figure_is_drawn(page, live_server, email, lang):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error"
            and "favicon" not in (message.location or {}).get("url", "") else None)
    browser_sign_in(page, live_server, email, DEMO_PASSWORD)
    if lang == "ru":
        page.click("button[name=locale][value=ru]")
        page.wait_for_load_state("networkidle")
    for path in PAGES:
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == lang
        expected = page.locator("script.plotly-figure").count()
        assert expected >= 2, path
        page.wait_for_function(f"document.querySelectorAll('.plot-drawn .main-svg').length >= {expected}")
        assert page.locator(".plot-drawn").count() == expected, path
        # The drawn chart is the image; plotly's download button is not inside it (a button in an image has no
        # name for screen readers), and it is named in the page's language.
        page.locator("svg.main-svg[role=img]").nth(expected - 1).wait_for(state="attached")
        assert page.evaluate("document.querySelectorAll('[role=img] button, [role=img] a').length") == 0, path
        labels = page.evaluate("[...document.querySelectorAll('.modebar-btn')].map(b => b.getAttribute('data-title'))")
        expected_label = "Скачать диаграмму" if lang == "ru" else "Download the chart"
        assert labels and all(label.startswith(expected_label) for label in labels), (path, labels)
        # A table wider than its box can be reached with the keyboard to scroll it.
        wide = page.evaluate("[...document.querySelectorAll('.table-wrap')].filter(b => b.scrollWidth > b.clientWidth)"
                             ".map(b => b.getAttribute('tabindex') === '0' && b.getAttribute('role') === 'region')")
        assert all(wide), path
    assert errors == []
