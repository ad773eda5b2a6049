"""Accessibility: every page a role can reach from its home page, checked with axe-core (the engine behind
the browsers' accessibility audits; WCAG 2.1 A and AA rules and axe's best practices) on the demo data.

The browser follows the links of each page, as a user would, and checks each kind of page once (pages of the
same route with the same query parameters count as one: one agency, one country, one rating page stand for
all); downloads and the JSON API are left out. The dashboards are checked once their charts are drawn. Any
violation fails the test with the rule, the page and the element. What axe reports as "incomplete" (contrast
it cannot measure: text drawn over chart cells, buttons overlapping other elements) does not."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlparse

import pytest

from app.demo.seed import DEMO_PASSWORD
from tests.e2e.conftest import browser_sign_in

pytestmark = pytest.mark.e2e

#: Links not followed: signing out, files (workbooks, CSV, templates), the JSON API, static files.
NOT_PAGES = re.compile(r"/sign-out|/static/|/api/|\.(xlsx|csv|json)\b|template|download|export|format=")
#: True once every chart of the page is drawn (dashboards.js moves the chart's role and name to its SVG).
CHARTS_DRAWN = """() => [...document.querySelectorAll('script.plotly-figure')].every(figure => {
  const plot = document.getElementById(figure.dataset.target);
  return !plot || (plot.querySelector('svg.main-svg') && !plot.hasAttribute('role'));
})"""
#: Page kinds checked per role at most (the demo data reaches about 50 for an administrator).
BUDGET = 100


def _audit(page, app, starts: list[str], base: str) -> tuple[set[str], list[str]]:
    """(page kinds checked, violations as text) of every page reachable from the `starts`; a link that redirects
    counts as the page it led to."""
    from axe_playwright_python.sync_playwright import Axe
    from werkzeug.exceptions import HTTPException

    axe = Axe()
    routes = app.url_map.bind("localhost")

    def kind(url: str) -> str:
        """The page's kind: its route (endpoint) and the names of its query parameters."""
        parsed = urlparse(url)
        try:
            endpoint, _args = routes.match(parsed.path)
        except HTTPException:
            endpoint = parsed.path
        return " ".join([endpoint, *sorted(parse_qs(parsed.query))])

    seen: set[str] = set()  # kinds of the links followed
    checked: set[str] = set()  # kinds of the pages checked (where the links led)
    problems: list[str] = []
    queue = list(starts)
    while queue and len(seen) < BUDGET:
        url = queue.pop(0)
        if kind(url) in seen:
            continue
        seen.add(kind(url))
        response = page.goto(url)
        assert response is not None and response.status < 400, (url, response and response.status)
        checked.add(kind(page.url))
        # The dashboards draw their charts after the page has loaded: check them drawn, named images.
        page.wait_for_function(CHARTS_DRAWN)
        for violation in axe.run(page).response["violations"]:
            nodes = "; ".join(node["html"][:120] for node in violation["nodes"][:3])
            problems.append(f"{urlparse(url).path}: {violation['id']} ({violation['help']}): {nodes}")
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            target = urljoin(url, href).split("#")[0]
            if target.startswith(base) and not NOT_PAGES.search(target) and kind(target) not in seen:
                queue.append(target)
    return checked, problems


def _demo_campaign(live_app):
    from sqlalchemy import select

    from app.campaigns.models import Campaign
    from app.demo.campaign import DEMO_CAMPAIGN
    from app.extensions import db

    with live_app.app_context():
        campaign = db.session.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
        db.session.expunge(campaign)
        db.session.remove()
    return campaign


#: Pages each role must have reached (route, and query parameter names).
REVIEWING = {"review.index", "review.country", "review.response", "review.rate", "review.compare",
             "responses.show", "responses.history", "responses.print_view", "dashboards.index",
             "dashboards.country", "dashboards.regional", "dashboards.progress", "dashboards.questions",
             "api_tokens.tokens"}
MANAGING = {"auth.staff_home", "campaigns.index", "campaigns.detail", "campaigns.edit", "campaigns.new",
            "responses.progress", "directory.agencies", "directory.edit_agency", "directory.new_contact",
            "directory.import_page", "mail.outbox", "mail.outbox status", "mail.message", "auth.users",
            "auth.edit_user", "questionnaires.index", "questionnaires.version", "questionnaires.preview"}


@pytest.mark.parametrize("email", ["admin@example.org", "expert@example.org"])
def test_every_staff_and_expert_page_passes_axe(browser, live_app, live_server, email):
    demo = _demo_campaign(live_app)
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/sign-in")
        _seen, problems = _audit(page, live_app, [page.url], live_server)  # the sign-in page itself
        browser_sign_in(page, live_server, email, DEMO_PASSWORD)
        page.click("button[name=locale][value=ru]")  # another test may have saved English to the account
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "ru"
        # The compare view opens from a form (the question to compare), not from a link.
        seen, more = _audit(page, live_app, [page.url, f"{live_server}/review/campaigns/{demo.id}/KZ/compare"],
                            live_server)
        assert problems + more == []
        # The walk did reach every page that matters for the role.
        expected = REVIEWING | (MANAGING if email.startswith("admin") else {"auth.expert_home"})
        assert expected - seen == set()
    finally:
        context.close()


def _respondent_link(live_app, live_server) -> str:
    """A new link of the demo contact whose answers are in progress (KZ/MVD, in Russian)."""
    from sqlalchemy import select

    from app.campaigns import services as campaigns
    from app.campaigns.models import Campaign
    from app.directory.models import Contact
    from app.extensions import db

    demo = _demo_campaign(live_app)
    with live_app.app_context():
        contact = db.session.scalar(select(Contact).where(Contact.email == "a.nurlanov@mvd.kz.example"))
        issued = campaigns.invite(db.session.get(Campaign, demo.id), contact_ids=[contact.id], reissue=True,
                                  send_email=False)
        db.session.commit()
        link = live_server + issued[0].link[issued[0].link.index("/i/"):]
        db.session.remove()
    return link


def test_every_respondent_page_passes_axe(browser, live_app, live_server):
    link = _respondent_link(live_app, live_server)
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    try:
        page.goto(link)
        seen, problems = _audit(page, live_app, [page.url], live_server)
        assert problems == []
        assert {"responses.respondent_home", "respond.section", "respond.review", "respond.print_view",
                "respond.history", "respond.upload_workbook"} - seen == set()
    finally:
        context.close()


#: Staff forms sent empty (the browser's own checks turned off), so that the server refuses them.
FORMS = ["/directory/agencies/new", "/campaigns/new", "/admin/users/new", "/account/password"]


def test_forms_refused_by_the_server_pass_axe(browser, live_app, live_server):
    """A refused form (error summary, messages under the fields, fields marked invalid) is as accessible as the
    empty one: the red of the messages has enough contrast, every message belongs to its field."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/sign-in")
        page.fill("input[name=email]", "admin@example.org")
        page.fill("input[name=password]", "not the password")
        page.click("button[type=submit].primary")
        problems = [(page.url, v["id"], [n["html"][:120] for n in v["nodes"][:3]])
                    for v in axe.run(page).response["violations"]]
        assert page.locator(".flash-error").count()  # "wrong e-mail or password"
        browser_sign_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
        for path in FORMS:
            page.goto(live_server + path)
            page.evaluate("document.querySelectorAll('main form').forEach(f => f.noValidate = true)")
            page.locator("main form button[type=submit]").last.click()
            page.wait_for_load_state()
            assert page.locator("main [aria-invalid=true]").count(), path  # the server refused it
            assert page.locator("main .error-summary").count(), path
            problems += [(path, v["id"], [n["html"][:120] for n in v["nodes"][:3]])
                         for v in axe.run(page).response["violations"]]
        assert problems == []
    finally:
        context.close()


#: The focused element: what it is, and whether the focus shows (an outline or a shadow drawn around it).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) { return null; }
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
  return {tag: el.tagName.toLowerCase(), type: el.type || '', ring: ring, inMain: !!el.closest('main'),
          name: el.name || el.id || el.textContent.trim().slice(0, 30)};
}"""


def _tab_stops(page) -> list[dict]:
    """Every stop of the page, pressing Tab from its top until the focus leaves the page or comes back to the
    first stop; the first stop is checked to be the skip link, shown while it has the focus."""
    page.keyboard.press("Tab")
    first = page.evaluate(FOCUSED)
    assert first is not None and page.locator(".skip-link").is_visible()
    stops = [first]
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None or focused == first:
            break
        stops.append(focused)
    return stops


def test_every_stop_of_the_busiest_staff_pages_shows_the_focus(browser, live_app, live_server):
    """The campaign page (forms in every row), its progress, a country's dashboard (charts and their tables), a
    country's review: with Tab alone, every link, button and field shows a focus ring when it has the focus."""
    demo = _demo_campaign(live_app)
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    try:
        browser_sign_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
        for path in (f"/campaigns/{demo.id}", f"/campaigns/{demo.id}/progress",
                     f"/dashboards/countries/KZ?campaign={demo.id}", f"/review/campaigns/{demo.id}/KZ"):
            page.goto(live_server + path)
            page.wait_for_function(CHARTS_DRAWN)
            stops = _tab_stops(page)
            assert len([stop for stop in stops if stop["inMain"]]) >= 10, (path, stops)
            assert [stop for stop in stops if not stop["ring"]] == [], path
    finally:
        context.close()


def test_a_respondent_can_answer_with_the_keyboard_alone(browser, live_app, live_server):
    """Tab from the top of a section: the first stop is the skip link and every stop of the page shows where the
    focus is; a text field of the form is reached with Tab, and an answer typed there and left with Tab is saved."""
    link = _respondent_link(live_app, live_server)
    context = browser.new_context(locale="ru-RU")
    page = context.new_page()
    try:
        page.goto(link)
        section = f"{live_server}/respondent/sections/1"
        page.goto(section)
        stops = _tab_stops(page)
        assert stops[0]["tag"] == "a" and stops[0]["ring"], stops[0]  # "Skip to main content", shown when focused
        assert len([stop for stop in stops if stop["inMain"]]) >= 10, stops  # the form's fields were reached
        assert [stop for stop in stops if not stop["ring"]] == []  # every stop shows the focus
        text_field = next(stop["name"] for stop in stops if stop["inMain"] and stop["type"] == "text")
        page.goto(section)
        for _ in range(len(stops)):  # Tab again to that field, and answer it
            page.keyboard.press("Tab")
            if (page.evaluate(FOCUSED) or {}).get("name") == text_field:
                break
        assert page.evaluate(FOCUSED)["name"] == text_field
        page.keyboard.press("Control+A")
        page.keyboard.type("Typed with the keyboard")
        page.keyboard.press("Tab")
        status = page.locator("#save-status")
        status.filter(has_text=re.compile(r"\d")).wait_for()  # "Сохранено в 14:32"
        assert "save-status ok" in (status.get_attribute("class") or "")
        page.reload()
        assert page.locator(f"main input[name='{text_field}']").input_value() == "Typed with the keyboard"
    finally:
        context.close()
