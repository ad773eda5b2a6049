"""The staff pages on a common laptop screen (1280 pixels): every column of every table, the actions included, is
visible without scrolling sideways, with the demo data's long e-mail addresses and mail servers' answers."""

from __future__ import annotations

import pytest

from app.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

#: Tables wider than the box they scroll in: [caption, box width, table width].
OVERFLOWING = """() => [...document.querySelectorAll('table')].flatMap(table => {
  const box = table.closest('.table-wrap') || table.parentElement;
  return table.scrollWidth > box.clientWidth + 1
    ? [[(table.caption && table.caption.textContent.trim()) || '', box.clientWidth, table.scrollWidth]] : [];
})"""


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_tables_fit_a_1280_pixel_screen(browser, live_app, live_server, lang):
    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.demo.campaign import DEMO_CAMPAIGN
    from app.extensions import db

    with live_app.app_context():  # the demo campaign, whatever campaigns other browser tests added
        demo = db.session.scalar(select(Campaign.id).where(Campaign.name == DEMO_CAMPAIGN))
        db.session.remove()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=lang)
    page = context.new_page()
    try:
        browser_sign_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
        campaign = f"/campaigns/{demo}"
        matrix = f"/dashboards/countries/KZ?campaign={demo}"
        paths = ["/campaigns/", campaign, f"{campaign}/progress", "/admin/outbox/", "/admin/users",
                 "/directory/agencies", "/admin/questionnaires/", "/review/", f"/dashboards/progress?campaign={demo}",
                 matrix, f"/dashboards/region?campaign={demo}"]
        seen = {}
        for path in paths:
            page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
            assert page.locator("main table").count(), path  # the check below must have something to check
            seen[path] = page.evaluate(OVERFLOWING)
        # A matrix (agencies × indicators: one column per indicator) scrolls inside its box by design.
        wide = {path: [t for t in tables if " × " not in t[0]] for path, tables in seen.items()}
        assert {path: tables for path, tables in wide.items() if tables} == {}
        assert any(" × " in t[0] for t in seen[matrix])  # the matrix was there and let through
        # The campaign page's invitations include a bounced e-mail with the server's answer, and its actions.
        page.goto(live_server + campaign)
        assert page.locator("main table .hint", has_text="550").count()
        assert page.locator("main table button.link").first.is_visible()
    finally:
        context.close()
