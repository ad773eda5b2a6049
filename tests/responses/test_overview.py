"""The progress overview (scoped per role) and reminders."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import extract_csrf, sign_in


@pytest.fixture
def campaign(db_session, make_version, make_agency, make_contact):
    """An open campaign over five agencies in two countries plus a regional body, one response per status."""
    from app.campaigns import services
    from app.core.models import utcnow
    from app.responses.services import ensure_response

    agencies = [
        make_agency("KZ", "MVD", "interior", en="KZ Interior", ru="МВД РК"),
        make_agency("KZ", "AFM", "fiu", en="KZ Financial Monitoring", ru="АФМ"),
        make_agency("KZ", "KNB", "security", en="KZ Security Committee", ru="КНБ"),
        make_agency("KG", "MVD", "interior", en="KG Interior", ru="МВД КР"),
        make_agency("KG", "GSFR", "fiu", en="KG Financial Intelligence", ru="ГСФР"),
        make_agency(None, "RATS", "regional", en="RATS SCO", ru="РАТС ШОС"),
    ]
    for agency in agencies:
        make_contact(agency, email=f"{agency.acronym.lower()}.{agency.country_code or 'rg'}@example.org".lower())
    campaign = services.create_campaign("Round 1", make_version(), agencies=agencies)
    services.set_status(campaign, "open")
    services.invite(campaign)
    statuses = {"MVD/KZ": "in_progress", "AFM/KZ": "submitted", "KNB/KZ": "returned", "MVD/KG": "validated"}
    for agency in agencies:
        status = statuses.get(f"{agency.acronym}/{agency.country_code}")
        if status:
            response = ensure_response(campaign, agency)
            response.status = status
            response.required_total, response.required_answered = 4, 3 if status == "in_progress" else 4
            response.last_activity_at = utcnow()
    db_session.commit()
    return campaign


def _rows(html: str) -> dict[str, str]:
    """{acronym: row html} of the overview table."""
    import re

    return {m.group(1): m.group(2) for m in re.finditer(r'<tr data-agency="([^"]+)">(.*?)</tr>', html, re.S)}


def test_staff_sees_every_agency_with_status_progress_and_invitations(client, make_user, campaign):
    sign_in(client, make_user("staff").email)
    page = client.get(f"/campaigns/{campaign.id}/progress", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    rows = _rows(html)
    assert set(rows) == {"MVD", "AFM", "KNB", "GSFR", "RATS"}  # MVD twice (KZ and KG) under their countries
    assert html.count('data-agency="MVD"') == 2
    for status in ("not started", "in progress", "submitted", "returned", "validated"):
        assert f">{status}</span>" in html
    assert html.count(" 75%") == 1 and html.count(" 100%") == 3  # KZ MVD: 3 of 4 required answered
    assert "queued" in rows["GSFR"]  # invitation e-mail waiting in the outbox
    assert "Regional bodies" in html and "RATS SCO" in html
    assert "Remind every agency that has not submitted" in html


def test_filters_by_country_status_and_type(client, make_user, campaign):
    sign_in(client, make_user("staff").email)
    url = f"/campaigns/{campaign.id}/progress"
    assert set(_rows(client.get(url + "?country=KG").get_data(as_text=True))) == {"MVD", "GSFR"}
    assert set(_rows(client.get(url + "?status=submitted").get_data(as_text=True))) == {"AFM"}
    assert set(_rows(client.get(url + "?kind=fiu").get_data(as_text=True))) == {"AFM", "GSFR"}
    assert set(_rows(client.get(url + "?country=-").get_data(as_text=True))) == {"RATS"}
    assert set(_rows(client.get(url + "?status=not_started").get_data(as_text=True))) == {"GSFR", "RATS"}


def test_expert_sees_only_assigned_countries_and_no_actions(client, make_user, campaign):
    expert = make_user("expert", countries=["KG"])
    sign_in(client, expert.email)
    html = client.get(f"/campaigns/{campaign.id}/progress", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert set(_rows(html)) == {"MVD", "GSFR"} and html.count('data-agency="MVD"') == 1
    assert "KZ Interior" not in html and "RATS" not in html
    assert "Remind" not in html and "Revoke" not in html
    # filtering cannot widen the scope
    assert _rows(client.get(f"/campaigns/{campaign.id}/progress?country=KZ").get_data(as_text=True)) == {}
    assert _rows(client.get(f"/campaigns/{campaign.id}/progress?country=-").get_data(as_text=True)) == {}


def test_expert_opens_responses_of_assigned_countries_only(client, db_session, make_user, campaign):
    from app.responses.models import Response

    sign_in(client, make_user("expert", countries=["KG"]).email)
    by_country = {r.agency.country_code: r for r in db_session.scalars(select(Response))}
    assert client.get(f"/responses/{by_country['KG'].id}").status_code == 200
    assert client.get(f"/responses/{by_country['KZ'].id}").status_code == 404


def test_remind_only_reaches_agencies_that_have_not_submitted_and_respects_the_interval(app_ctx, db_session,
                                                                                       campaign):
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage

    runner = app_ctx.test_cli_runner()
    soon = runner.invoke(args=["campaigns", "remind", str(campaign.id)])
    assert soon.exit_code == 0 and "0 reminder(s) queued" in soon.output  # everyone was invited just now
    assert soon.output.count("too soon") == 4 and soon.output.count("submitted") == 2
    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=8)
    db_session.commit()
    result = runner.invoke(args=["campaigns", "remind", str(campaign.id), "--min-days", "7"])
    assert result.exit_code == 0, result.output
    reminded = sorted(line.split("\t")[0] for line in result.output.splitlines() if line.endswith("\treminded"))
    assert reminded == ["-/RATS", "KG/GSFR", "KZ/KNB", "KZ/MVD"]  # not AFM (submitted), not KG/MVD (validated)
    reminders = list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")))
    assert len(reminders) == 4 and all("/i/" in m.body_text for m in reminders)
    again = runner.invoke(args=["campaigns", "remind", str(campaign.id)])
    assert "0 reminder(s) queued" in again.output  # not twice within 7 days
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "reminder")) == 4
    zero = runner.invoke(args=["campaigns", "remind", str(campaign.id), "--min-days", "0", "--country", "KG"])
    assert [line.split("\t")[0] for line in zero.output.splitlines() if line.endswith("reminded")] == ["KG/GSFR"]


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "0 reminder(s) queued; 4 contact(s) were invited or reminded less than 7 days ago and are not "
           "reminded yet."),
    ("ru", "Напоминаний поставлено в очередь на отправку: 0; контактных лиц, которым приглашение или напоминание "
           "направлялось менее 7 дн. назад (им пока не напоминаем): 4."),
])
def test_reminding_just_after_the_invitations_says_the_contacts_were_just_invited(client, make_user, campaign, lang,
                                                                                  expected):
    sign_in(client, make_user("staff").email)
    token = extract_csrf(client.get(f"/campaigns/{campaign.id}/progress").get_data(as_text=True))
    page = client.post(f"/campaigns/{campaign.id}/remind", data={"csrf_token": token}, follow_redirects=True,
                       headers={"Accept-Language": lang})
    assert expected in page.get_data(as_text=True).replace("&#39;", "'")


def test_remind_button_for_one_agency(client, db_session, make_user, campaign):
    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.directory.models import Agency
    from app.mail.models import OutboxMessage

    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=30)
    db_session.commit()
    sign_in(client, make_user("staff").email)
    gsfr = db_session.scalar(select(Agency).where(Agency.acronym == "GSFR"))
    token = extract_csrf(client.get(f"/campaigns/{campaign.id}/progress").get_data(as_text=True))
    response = client.post(f"/campaigns/{campaign.id}/remind", data={"csrf_token": token, "agency_id": gsfr.id},
                           follow_redirects=True, headers={"Accept-Language": "en"})
    assert "1 reminder(s) queued" in response.get_data(as_text=True)
    assert [m.recipient for m in db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))] \
        == ["gsfr.kg@example.org"]
    row = _rows(response.get_data(as_text=True))["GSFR"]
    assert "1 reminder" in row
    # An agency id that cannot exist is refused: before, a number past the database's integers was a server
    # error, and one that was not a number reminded every agency.
    for bad in ("99999999999999999999", "all"):
        assert client.post(f"/campaigns/{campaign.id}/remind", data={"csrf_token": token, "agency_id": bad,
                                                                     "min_days": "0"}).status_code == 404
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == "reminder")) == 1


def test_remind_from_a_filtered_overview_reaches_only_the_agencies_shown(client, db_session, make_user, campaign):
    """With the overview filtered on Kyrgyzstan (or on a type of agency, the regional bodies, a text), the remind
    button says it reminds the matching agencies, and only those are reminded."""
    import re

    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage

    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=30)
    db_session.commit()
    sign_in(client, make_user("staff").email)

    def remind_from(query: str) -> list[str]:
        page = client.get(f"/campaigns/{campaign.id}/progress?{query}", headers={"Accept-Language": "en"})
        html = page.get_data(as_text=True)
        assert "Remind every matching agency that has not submitted" in html
        form = re.search(r'<form method="post" action="/campaigns/\d+/remind" class="toolbar">(.*?)</form>',
                         html, re.S).group(1)
        fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
        client.post(f"/campaigns/{campaign.id}/remind", data={**fields, "min_days": "0"})
        sent = sorted(m.recipient for m in db_session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "reminder")))
        db_session.rollback()
        return sent

    assert remind_from("country=KG") == ["gsfr.kg@example.org"]  # KG/MVD is validated
    # Then the security services only: KZ/KNB, whose answers were returned to it (the KG one before stays).
    assert remind_from("kind=security") == ["gsfr.kg@example.org", "knb.kz@example.org"]
    # The regional bodies have no country code: the filter "-" reaches them (and only them).
    assert remind_from("country=-") == ["gsfr.kg@example.org", "knb.kz@example.org", "rats.rg@example.org"]
    # A text: "interior" matches both interior ministries; KG's is validated, KZ's is still in progress.
    assert remind_from("q=interior") == ["gsfr.kg@example.org", "knb.kz@example.org", "mvd.kz@example.org",
                                         "rats.rg@example.org"]


def test_remind_from_an_overview_filtered_on_a_status_reaches_only_that_status(client, db_session, make_user,
                                                                              campaign):
    """Filtered on "returned", only KZ/KNB is listed, and only its contact is reminded (the status was left out of
    the form: every agency that had not submitted was reminded)."""
    import re

    from app.campaigns.models import Invitation
    from app.core.models import utcnow
    from app.mail.models import OutboxMessage

    for invitation in db_session.scalars(select(Invitation)):
        invitation.created_at = utcnow() - timedelta(days=30)
    db_session.commit()
    sign_in(client, make_user("staff").email)
    html = client.get(f"/campaigns/{campaign.id}/progress?status=returned",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert set(_rows(html)) == {"KNB"} and "Remind every matching agency that has not submitted" in html
    form = re.search(r'<form method="post" action="/campaigns/\d+/remind" class="toolbar">(.*?)</form>',
                     html, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    client.post(f"/campaigns/{campaign.id}/remind", data={**fields, "min_days": "0"})
    assert [m.recipient for m in db_session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "reminder"))] == ["knb.kz@example.org"]


def test_reminding_a_country_the_campaign_does_not_ask_says_so(app_ctx, client, db_session, make_user, campaign):
    """`--country XZ` (a typo) or a web filter on a country not asked: refused with the code named, nothing
    queued; it said "0 reminder(s) queued" and exited 0, as if everyone had answered."""
    from app.mail.models import OutboxMessage

    result = app_ctx.test_cli_runner().invoke(args=["campaigns", "remind", str(campaign.id), "--country", "XZ",
                                                    "--min-days", "0"])
    assert result.exit_code == 1 and "country code(s) not asked by this campaign: XZ" in result.output
    sign_in(client, make_user("staff").email)
    csrf = extract_csrf(client.get(f"/campaigns/{campaign.id}/progress").get_data(as_text=True))
    page = client.post(f"/campaigns/{campaign.id}/remind", data={"csrf_token": csrf, "country": "UZ", "min_days": "0"},
                       headers={"Accept-Language": "en"}, follow_redirects=True).get_data(as_text=True)
    assert "The campaign asks no agency of the country “UZ”. No reminder was sent." in page
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "reminder")) == 0
    assert app_ctx.test_cli_runner().invoke(args=["campaigns", "remind", str(campaign.id), "--country", "kg",
                                                  "--min-days", "0"]).exit_code == 0


def test_search_by_acronym_or_name_in_any_language(client, make_user, campaign):
    sign_in(client, make_user("staff").email)
    url = f"/campaigns/{campaign.id}/progress"
    assert set(_rows(client.get(url + "?q=gsfr").get_data(as_text=True))) == {"GSFR"}  # any case
    assert set(_rows(client.get(url + "?q=%D0%BC%D0%B2%D0%B4").get_data(as_text=True))) == {"MVD"}  # "мвд"
    html = client.get(url + "?q=financial&country=KZ", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert set(_rows(html)) == {"AFM"} and 'value="financial"' in html  # combined with a filter, kept in the form
    assert _rows(client.get(url + "?q=nothing-like-it").get_data(as_text=True)) == {}
    # an expert's search stays within their countries
    expert = client.application.test_client()
    sign_in(expert, make_user("expert", countries=["KG"]).email)
    html = expert.get(url + "?q=interior").get_data(as_text=True)
    assert set(_rows(html)) == {"MVD"} and "KG Interior" in html and "KZ Interior" not in html


def test_long_overview_is_shown_a_page_at_a_time_with_totals_over_every_page(client, db_session, make_user,
                                                                            campaign, monkeypatch):
    """Three agencies a page: six agencies make two pages; the figures count all of them, a country cut by a page
    break says it continues, the links keep the filters, and a page past the end shows the last one."""
    import re

    from app.responses import services

    monkeypatch.setattr(services, "OVERVIEW_PER_PAGE", 3)
    sign_in(client, make_user("staff").email)
    url = f"/campaigns/{campaign.id}/progress"
    first = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    second = client.get(url + "?page=2", headers={"Accept-Language": "en"}).get_data(as_text=True)
    # KG (GSFR, MVD) then KZ (AFM, KNB, MVD) then the regional bodies (RATS)
    assert re.findall(r'<tr data-agency="([^"]+)">', first) == ["GSFR", "MVD", "AFM"]
    assert re.findall(r'<tr data-agency="([^"]+)">', second) == ["KNB", "MVD", "RATS"]
    for html in (first, second):
        assert "<dt>Agencies</dt><dd>6</dd>" in html  # the figures count every page
    assert "Agencies 1–3 of 6" in first and "Page 1 of 2" in first and "Agencies 4–6 of 6" in second
    assert f'href="{url}?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert f'href="{url}?page=1" rel="prev"' in second and 'rel="next"' not in second
    # Kazakhstan starts on page 1 and continues on page 2, with its totals over both pages
    assert "(continued)" in second and "(continued)" not in first
    kz = re.search(r"<h2>KZ.*?</p>", second, re.S).group(0)
    assert "in progress</span> 1" in kz and "submitted</span> 1" in kz and "returned</span> 1" in kz
    # the links keep the filters; a page past the end shows the last page
    filtered = client.get(url + "?q=i", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<dt>Agencies</dt><dd>5</dd>" in filtered  # every agency but RATS SCO has an "i" in a name
    assert f'href="{url}?page=2&amp;q=i" rel="next"' in filtered
    beyond = client.get(url + "?page=99", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Page 2 of 2" in beyond and re.findall(r'<tr data-agency="([^"]+)">', beyond)[-1] == "RATS"
