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


def test_long_category_names_and_many_answer_options_stay_readable(page, live_server):
    """The question explorer in Russian for a question with ten answer options: the agency types under the bars
    (long, rotated) are drawn whole inside the chart, and no two answer options look alike in the legend (the
    tenth option is the first colour again, with stripes)."""
    browser_sign_in(page, live_server, "staff@example.org", DEMO_PASSWORD)
    page.click("button[name=locale][value=ru]")
    page.wait_for_load_state("networkidle")
    page.goto(live_server + "/dashboards/questions?question=agency_functions&country=KZ")
    expected = page.locator("script.plotly-figure").count()
    page.wait_for_function(f"document.querySelectorAll('.plot-drawn .main-svg').length >= {expected}")
    for name in ("by_country", "by_kind"):
        clipped = page.evaluate("""name => {
            const svg = document.querySelector(`#plot-${name} svg.main-svg`).getBoundingClientRect();
            return [...document.querySelectorAll(`#plot-${name} .xtick text`)]
                .map(t => [t.textContent, t.getBoundingClientRect()])
                .filter(([, r]) => r.bottom > svg.bottom + 0.5 || r.top < svg.top - 0.5 || r.left < svg.left - 0.5)
                .map(([text]) => text);
        }""", name)
        assert clipped == [], (name, clipped)
        fills = page.evaluate("""name => [...document.querySelectorAll(`#plot-${name} .legend .traces`)].map(t => {
            const swatch = t.querySelector('.legendpoints path');
            return swatch.style.fill + ' ' + (swatch.style.stroke || '');
        })""", name)
        assert len(fills) == 10 and len(set(fills)) == 10, (name, fills)
