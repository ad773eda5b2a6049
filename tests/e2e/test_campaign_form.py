"""The campaign form in a real browser: Enter in a field saves the campaign (the browser's default button), it
does not run "Add the matching agencies"."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e


def test_enter_in_the_name_saves_the_campaign(page, live_server):
    browser_sign_in(page, live_server, "staff@example.org", "demo-password-2026")
    page.goto(live_server + "/campaigns/new")
    page.fill("#name", "Pressed Enter to save")
    page.locator("input[name=agencies]").first.check()
    page.press("#name", "Enter")
    page.wait_for_load_state("networkidle")
    assert "/campaigns/new" not in page.url  # the campaign's own page
    assert page.locator("h1").inner_text().startswith("Pressed Enter to save")
    assert page.locator(".flash-success").count() == 1
