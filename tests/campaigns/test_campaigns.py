"""Campaigns: creation from the CLI and the pages, agencies picked by country and type, open and close."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import ROOT, extract_csrf, form_as_browser_sends, sign_in


@pytest.fixture
def directory(make_agency, make_contact):
    """Two countries, four agencies of two kinds, one regional body; one contact each."""
    agencies = {
        "KZ/MVD": make_agency("KZ", "MVD", "interior", en="Ministry of Internal Affairs", ru="МВД"),
        "KZ/AFM": make_agency("KZ", "AFM", "fiu", en="Financial Monitoring Agency", ru="АФМ"),
        "KG/MVD": make_agency("KG", "MVD", "interior", en="Ministry of Internal Affairs", ru="МВД КР"),
        "KG/GSFR": make_agency("KG", "GSFR", "fiu", en="State Financial Intelligence Service", ru="ГСФР"),
        "-/RATS": make_agency(None, "RATS", "regional", en="RATS SCO", ru="РАТС ШОС"),
    }
    for key, agency in agencies.items():
        make_contact(agency, email=f"{key.replace('/', '.').replace('-', 'r').lower()}@example.org")
    return agencies


def _events(db_session, action):
    from app.core.models import AuditEvent

    return list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_cli_creates_lists_opens_and_closes_a_campaign(app_ctx, db_session, make_version, directory):
    version = make_version()
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["campaigns", "create", "Round 1", "--questionnaire", version.questionnaire.slug,
                                 "--country", "KZ", "--kind", "fiu", "--deadline", "2027-01-31",
                                 "--name-in", "ru=Раунд 1"])
    assert result.exit_code == 0, result.output
    campaign_id = int(result.output.split("\t", 1)[0])
    listed = runner.invoke(args=["campaigns", "list"]).output.strip().splitlines()
    assert listed[0].split("\t")[:2] == [str(campaign_id), "draft"]
    assert "2027-01-31" in listed[0] and "1 agencies" in listed[0] and listed[0].endswith("Round 1")
    from app.campaigns.models import Campaign

    campaign = db_session.get(Campaign, campaign_id)
    assert [a.acronym for a in campaign.agencies] == ["AFM"]  # KZ and fiu: only the Financial Monitoring Agency
    assert campaign.name_translations == {"ru": "Раунд 1"}
    assert runner.invoke(args=["campaigns", "open", str(campaign_id)]).exit_code == 0
    assert runner.invoke(args=["campaigns", "close", str(campaign_id)]).exit_code == 0
    db_session.expire_all()
    assert db_session.get(Campaign, campaign_id).status == "closed"
    assert [len(_events(db_session, a)) for a in ("campaign.created", "campaign.opened", "campaign.closed")] == \
        [1, 1, 1]


def test_cli_refuses_unknown_questionnaire_agency_and_bad_date(app_ctx, make_version, directory):
    make_version()
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "nope"])
    assert result.exit_code != 0 and "no questionnaire 'nope'" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--agency", "KZ/NOPE"])
    assert result.exit_code != 0 and "no active agency 'KZ/NOPE'" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--deadline",
                                 "31.01.2027"])
    assert result.exit_code != 0 and "is not a date as YYYY-MM-DD" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--name-in",
                                 "Раунд 1"])
    assert result.exit_code != 0 and "'Раунд 1' is not LANGUAGE=NAME" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--name-in",
                                 "russian=Раунд 1"])
    assert result.exit_code != 0 and "'russian' is not one of the interface languages (en, ru" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--open"])
    assert result.exit_code != 0 and "Choose at least one agency" in result.output
    # a mistyped country, or a country and type that match nothing, made a campaign of no agency
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--country", "KZZ"])
    assert result.exit_code != 0 and "no active agency of 'KZZ'" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--country", "-",
                                 "--kind", "fiu"])
    assert result.exit_code != 0 and "no active agency of type fiu in -" in result.output
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--version", "0"])
    assert result.exit_code != 0 and "no questionnaire 'small-example' version 0" in result.output
    assert runner.invoke(args=["campaigns", "list"]).output.strip() == ""  # nothing half-created
    # the acronym in any case, as the directory import reads it
    result = runner.invoke(args=["campaigns", "create", "X", "--questionnaire", "small-example", "--agency",
                                 "kz/afm"])
    assert result.exit_code == 0 and result.output.rstrip().endswith("1 agencies")


def test_staff_picks_agencies_by_country_and_type_then_saves(client, db_session, make_user, make_version, directory):
    version = make_version()
    staff = make_user("staff")
    sign_in(client, staff.email)
    page = client.get("/campaigns/new", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    token = extract_csrf(page.get_data(as_text=True))
    form = {"csrf_token": token, "name": "Needs assessment 2027", "version": str(version.id), "follow_up_of": "0",
            "deadline": "2027-02-15", "opens_on": "2026-12-01", "targets": ""}
    picked = client.post("/campaigns/new", data={**form, "pick_countries": ["KG", "-"], "pick_kinds": [],
                                                 "action": "pick"})
    html = picked.get_data(as_text=True)
    checked = {a.acronym + ("/" + a.country_code if a.country_code else "") for key, a in directory.items()
               if f'value="{a.id}" checked' in html}
    assert checked == {"MVD/KG", "GSFR/KG", "RATS"}
    assert 'value="Needs assessment 2027"' in html  # what was typed is kept
    agencies = [str(directory[k].id) for k in ("KG/MVD", "KG/GSFR", "-/RATS")]
    saved = client.post("/campaigns/new", data={**form, "agencies": agencies, "action": "save"})
    assert saved.status_code == 302
    from app.campaigns.models import Campaign

    campaign = db_session.scalar(select(Campaign))
    assert campaign.name == "Needs assessment 2027" and campaign.status == "draft"
    assert campaign.deadline == date(2027, 2, 15)
    assert sorted(a.acronym for a in campaign.agencies) == ["GSFR", "MVD", "RATS"]
    detail = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Needs assessment 2027" in detail and "Open the campaign" in detail


def test_refused_save_keeps_the_text_and_names_the_problem(client, db_session, make_user, make_version, directory):
    version = make_version()
    sign_in(client, make_user("staff").email)
    token = extract_csrf(client.get("/campaigns/new").get_data(as_text=True))
    data = {"csrf_token": token, "name": "Campaign with a typo", "version": str(version.id), "follow_up_of": "0",
            "opens_on": "2027-03-01", "deadline": "2027-02-01", "agencies": [str(directory["KZ/MVD"].id)],
            "targets": "KZ inv_unit 3\nthis is not a target"}
    response = client.post("/campaigns/new", data=data, headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The deadline is before the opening date." in html
    assert "Line 2: write a country code, an indicator id and a level" in html
    assert 'value="Campaign with a typo"' in html and "this is not a target" in html
    # Every problem of every line at once, each with its line (not only the first bad line).
    data.update(deadline="2027-04-01", targets="# targets\nKZ no_such_indicator 3\nXX inv_unit 2\nKZ inv_unit 9\n"
                                                "nonsense\nKZ inv_training 3\nkz inv_training 2")
    response = client.post("/campaigns/new", data=data, headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True).replace("&#34;", '"')
    assert response.status_code == 422
    for problem in ("Line 2: the questionnaire has no indicator “no_such_indicator”.",
                    "Line 3: unknown country code “XX”.",
                    "Line 4: 9 is outside the scale, 0 to 4.",
                    "Line 5: write a country code, an indicator id and a level",
                    "Line 7 repeats KZ inv_training of line 6: keep one of them."):
        assert problem in html, problem
    assert "Line 6:" not in html and "Line 1" not in html
    ru = client.post("/campaigns/new", data=data, headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert "Строка 3: неизвестный код страны «XX»." in ru
    from app.campaigns.models import Campaign

    assert db_session.scalar(select(Campaign)) is None
    # A version number no form offers (one past the database's integers too) is the version field's error, with
    # the targets not checked against any version.
    for number in ("99999999999999999999", str(version.id + 1000)):
        refused = client.post("/campaigns/new", data={**data, "version": number}, headers={"Accept-Language": "en"})
        assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True), number
    data.update(targets="KZ inv_unit 4\nkg inv_training 2.5")
    assert client.post("/campaigns/new", data=data).status_code == 302
    assert db_session.scalar(select(Campaign)).target_overrides == {"KZ": {"inv_unit": 4},
                                                                    "KG": {"inv_training": 2.5}}


def test_version_cannot_change_once_open_and_status_buttons_work(client, db_session, make_user, make_version,
                                                                 directory):
    from app.campaigns import services

    version = make_version()
    campaign = services.create_campaign("R", version, agencies=[directory["KZ/MVD"]])
    db_session.commit()
    sign_in(client, make_user("admin").email)
    page = client.get(f"/campaigns/{campaign.id}")
    token = extract_csrf(page.get_data(as_text=True))
    assert client.post(f"/campaigns/{campaign.id}/status", data={"csrf_token": token, "status": "open"}).status_code \
        == 302
    db_session.expire_all()
    assert campaign.status == "open" and campaign.opened_at is not None
    other = make_version(ROOT / "questionnaires" / "training-needs-survey.yaml")
    with pytest.raises(services.CampaignError, match="only be changed while the campaign is a draft"):
        services.update_campaign(campaign, name="R", version=other, agencies=campaign.agencies, opens_on=None,
                                 deadline=None)
    client.post(f"/campaigns/{campaign.id}/status", data={"csrf_token": token, "status": "closed"})
    db_session.expire_all()
    assert campaign.status == "closed" and campaign.closed_at is not None
    assert "respondents can read their answers but not change them" in \
        client.get(f"/campaigns/{campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_staff_delete_a_draft_and_only_a_draft(client, db_session, make_user, make_version, directory):
    from app.campaigns import services
    from app.campaigns.models import Campaign

    version = make_version()
    kept = services.create_campaign("Round 1", version, agencies=[directory["KZ/MVD"]])
    twice = services.create_campaign("Round 1 (made twice)", version, agencies=[directory["KZ/MVD"]])
    services.update_campaign(twice, name=twice.name, version=version, agencies=[directory["KG/MVD"]],
                             opens_on=None, deadline=None)  # the draft's country figures are kept in step
    db_session.commit()
    from app.scoring.models import CountryScore

    assert db_session.scalar(select(func.count()).select_from(CountryScore).where(
        CountryScore.campaign_id == twice.id))
    kept_id, twice_id = kept.id, twice.id
    sign_in(client, make_user("staff").email)
    page = client.get(f"/campaigns/{twice_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Delete the draft" in page and "Delete the draft “Round 1 (made twice)”? This cannot be undone." in page
    deleted = client.post(f"/campaigns/{twice_id}/delete", data={"csrf_token": extract_csrf(page)},
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert deleted.request.path == "/campaigns/"
    listing = deleted.get_data(as_text=True)
    assert "The draft “Round 1 (made twice)” is deleted." in listing and "made twice" not in listing.split(
        "is deleted.", 1)[1]
    db_session.expire_all()
    assert db_session.get(Campaign, twice_id) is None and db_session.get(Campaign, kept_id) is not None
    assert not db_session.scalar(select(func.count()).select_from(CountryScore).where(
        CountryScore.campaign_id == twice_id))
    (event,) = _events(db_session, "campaign.deleted")
    assert event.object_id == str(twice_id) and event.old_value["name"] == "Round 1 (made twice)"
    assert client.get(f"/campaigns/{twice_id}").status_code == 404

    # Once opened, a campaign is kept: no button, and a forged request is refused with the reason.
    services.set_status(db_session.get(Campaign, kept_id), "open")
    db_session.commit()
    page = client.get(f"/campaigns/{kept_id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Delete the draft" not in page
    refused = client.post(f"/campaigns/{kept_id}/delete", data={"csrf_token": extract_csrf(page)},
                          headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "Only a draft can be deleted: this campaign has been opened. Close it instead." in \
        refused.get_data(as_text=True)
    ru = client.post(f"/campaigns/{kept_id}/delete", data={"csrf_token": extract_csrf(page)},
                     headers={"Accept-Language": "ru"}, follow_redirects=True).get_data(as_text=True)
    assert "Удалить можно только черновик" in ru
    db_session.expire_all()
    assert db_session.get(Campaign, kept_id).status == "open"


def test_a_draft_that_another_campaign_follows_up_is_kept(app_ctx, db_session, make_version, directory):
    from app.campaigns import services
    from app.campaigns.models import Campaign

    version = make_version()
    first = services.create_campaign("Round 1", version, agencies=[directory["KZ/MVD"]])
    services.create_campaign("Round 2", version, agencies=[directory["KZ/MVD"]], follow_up_of=first)
    db_session.commit()
    with pytest.raises(services.CampaignError, match="Campaigns that follow up this one: Round 2. Edit them"):
        services.delete_draft(first)
    runner = app_ctx.test_cli_runner()
    refused = runner.invoke(args=["campaigns", "delete", str(first.id)])
    assert refused.exit_code == 1 and "Campaigns that follow up this one: Round 2." in refused.output
    lone = services.create_campaign("Round 3", version)
    db_session.commit()
    lone_id = lone.id
    done = runner.invoke(args=["campaigns", "delete", str(lone_id)])
    assert done.exit_code == 0 and done.output == f"{lone_id}\tdeleted\tRound 3\n"
    db_session.expire_all()
    assert db_session.get(Campaign, lone_id) is None and db_session.get(Campaign, first.id) is not None
    assert [e.channel for e in _events(db_session, "campaign.deleted")] == ["cli"]


MANAGEMENT_ROUTES = [
    ("get", "/campaigns/new"),
    ("get", "/campaigns/{id}"),
    ("get", "/campaigns/{id}/edit"),
    ("post", "/campaigns/{id}/status"),
    ("post", "/campaigns/{id}/invite"),
    ("post", "/campaigns/{id}/remind"),
    ("post", "/campaigns/{id}/invitations/1/resend"),
    ("post", "/campaigns/{id}/invitations/1/revoke"),
    ("post", "/campaigns/{id}/delete"),  # last: staff delete the draft, and the read routes are a 404 then
]
READ_ROUTES = [("get", "/campaigns/"), ("get", "/campaigns/{id}/progress")]


@pytest.mark.parametrize("role", ["anonymous", "respondent", "expert", "staff", "admin"])
def test_every_campaign_route_checks_the_role(client, db_session, make_user, make_version, directory, role):
    from app.campaigns import services

    campaign = services.create_campaign("R", make_version(), agencies=[directory["KZ/MVD"]])
    db_session.commit()
    if role != "anonymous":
        sign_in(client, make_user(role, countries=["KZ"] if role == "expert" else ()).email)
    token = extract_csrf(client.get("/sign-in" if role == "anonymous" else "/").get_data(as_text=True)) \
        if role == "anonymous" else None
    for method, path in MANAGEMENT_ROUTES + READ_ROUTES:
        url = path.format(id=campaign.id)
        if method == "post":
            token = token or extract_csrf(client.get("/", follow_redirects=True).get_data(as_text=True))
            response = client.post(url, data={"csrf_token": token})
        else:
            response = client.get(url)
        allowed = role in ("staff", "admin") or (role == "expert" and (method, path) in READ_ROUTES)
        if role == "anonymous":
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
        elif allowed:
            assert response.status_code in (200, 302, 404), (url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)


def test_an_expert_knows_only_the_campaigns_of_their_countries(client, db_session, make_user, make_version,
                                                               directory):
    """A Kazakhstan expert: the campaigns page lists the open campaigns asking Kazakh agencies, with the number
    of Kazakh agencies; a campaign asking only Kyrgyz agencies and a draft are neither listed nor reachable
    through the progress overview or the dashboards (404, as on the review pages)."""
    from app.campaigns import services

    version = make_version()
    both = services.create_campaign("Round 1", version, agencies=[directory["KZ/MVD"], directory["KZ/AFM"],
                                                                  directory["KG/MVD"]])
    kyrgyz = services.create_campaign("Kyrgyz inquiry", version, agencies=[directory["KG/GSFR"]])
    draft = services.create_campaign("Kazakh follow-up", version, agencies=[directory["KZ/MVD"]])
    for campaign in (both, kyrgyz):
        services.set_status(campaign, "open")
    db_session.commit()
    ids = {"both": both.id, "kyrgyz": kyrgyz.id, "draft": draft.id}
    make_user("expert", email="kz.expert@example.org", countries=["KZ"])
    sign_in(client, "kz.expert@example.org")

    page = client.get("/campaigns/").get_data(as_text=True)
    assert "Round 1" in page and "Kyrgyz inquiry" not in page and "Kazakh follow-up" not in page
    counts = re.findall(r'<td class="num">(\d+)</td>', page)
    assert counts == ["2"]  # the expert's two agencies, not the campaign's three
    assert client.get(f"/campaigns/{ids['both']}/progress").status_code == 200
    for key in ("kyrgyz", "draft"):
        assert client.get(f"/campaigns/{ids[key]}/progress").status_code == 404, key
        for view in ("progress", "region", "questions"):
            assert client.get(f"/dashboards/{view}?campaign={ids[key]}&format=json").status_code == 404, (key, view)
    # The review pages too: a campaign that asks no Kazakh agency has nothing of Kazakhstan to show or to rate.
    assert client.get(f"/review/campaigns/{ids['both']}/KZ").status_code == 200
    for path in (f"/review/campaigns/{ids['kyrgyz']}/KZ", f"/review/campaigns/{ids['kyrgyz']}/KZ/compare",
                 f"/review/campaigns/{ids['kyrgyz']}/KG"):
        assert client.get(path).status_code == 404, path
    dashboards = client.get("/dashboards/progress").get_data(as_text=True)
    assert "Round 1" in dashboards and "Kyrgyz inquiry" not in dashboards and "Kazakh follow-up" not in dashboards

    client.post("/sign-out", data={"csrf_token": extract_csrf(page)})
    make_user("staff", email="staff@example.org")
    sign_in(client, "staff@example.org")
    page = client.get("/campaigns/").get_data(as_text=True)
    assert all(name in page for name in ("Round 1", "Kyrgyz inquiry", "Kazakh follow-up"))
    assert client.get(f"/dashboards/progress?campaign={ids['draft']}&format=json").status_code == 200


def test_an_agency_that_answered_cannot_be_taken_out_of_the_campaign(client, db_session, make_user, make_version,
                                                                   directory):
    """Unticking an agency that already answered is refused beside the agencies, with everything typed kept."""
    from app.campaigns import services
    from app.responses.services import ensure_response

    version = make_version()
    campaign = services.create_campaign("Round 1", version, agencies=[directory["KZ/MVD"], directory["KZ/AFM"]])
    ensure_response(campaign, directory["KZ/MVD"]).status = "in_progress"  # it has started answering
    db_session.commit()
    sign_in(client, make_user("staff").email)
    token = extract_csrf(client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True))
    refused = client.post(f"/campaigns/{campaign.id}/edit", data={
        "csrf_token": token, "name": "Round 1, renamed", "version": str(version.id), "follow_up_of": "0",
        "deadline": "", "opens_on": "", "targets": "", "agencies": [str(directory["KZ/AFM"].id)],
        "action": "save"}, headers={"Accept-Language": "en"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="agencies-error">KZ/MVD already answered in this campaign', html)
    assert 'value="Round 1, renamed"' in html
    db_session.expire_all()
    assert sorted(a.acronym for a in campaign.agencies) == ["AFM", "MVD"] and campaign.name == "Round 1"


def test_an_edit_page_opened_before_a_colleagues_save_does_not_undo_it(client, db_session, make_user, make_version,
                                                                      directory):
    """Tab A opens the edit page; tab B adds KZ/GP and saves; tab A then saves a new description. Before, tab A's
    save took KZ/GP out again without a word (revoking the links just sent to it). It is refused with 409, names
    what changed and the agency its ticks would take out, keeps what was typed; saved again, once seen, it goes
    through."""
    from app.campaigns import services
    from app.directory.models import Agency

    version = make_version()
    campaign = services.create_campaign("Round 1", version, agencies=[directory["KZ/MVD"], directory["KZ/AFM"]])
    gp = Agency(country_id=directory["KZ/MVD"].country_id, acronym="GP", kind="prosecutor", names={"en": "GP"})
    db_session.add(gp)
    db_session.commit()
    gp_id = gp.id
    sign_in(client, make_user("staff").email)
    url = f"/campaigns/{campaign.id}/edit"
    tab_a = form_as_browser_sends(client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True))
    tab_b = form_as_browser_sends(client.get(url).get_data(as_text=True))
    assert sorted(tab_a["agencies"]) == sorted(str(directory[k].id) for k in ("KZ/MVD", "KZ/AFM"))
    tab_b["agencies"] = [*tab_b["agencies"], str(gp_id)]
    assert client.post(url, data={**tab_b, "action": ["save"]}).status_code == 302

    tab_a["description"] = ["Second round for the ministries"]
    refused = client.post(url, data={**tab_a, "action": ["save"]}, headers={"Accept-Language": "en"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Someone saved this campaign after you opened this page, changing the agencies." in html
    assert re.search(r"Agencies added meanwhile, not ticked below[^:]*:\s*KZ GP", html)
    assert "Second round for the ministries" in html
    db_session.expire_all()
    assert sorted(a.acronym for a in campaign.agencies) == ["AFM", "GP", "MVD"] and campaign.description == ""
    # A "seen" that is not what the page wrote (edited by hand) is compared as unknown: refused, never a 500.
    for forged in ('{"parts": {}, "agencies": 5}', '{"parts": {}, "agencies": [[1]]}', "[" * 100000, "null"):
        answer = client.post(url, data={**tab_a, "seen": [forged], "action": ["save"]})
        assert answer.status_code == 409, forged
    # Saved again from the page that said so (its ticks as the person leaves them): it goes through.
    again = form_as_browser_sends(html)
    assert client.post(url, data={**again, "action": ["save"]}).status_code == 302
    db_session.expire_all()
    assert campaign.description == "Second round for the ministries"


def test_a_save_that_is_probably_not_what_was_meant_is_kept_with_a_warning(client, db_session, make_user,
                                                                            make_version, directory):
    """Targets for a country the campaign asks no agency of, and a past deadline on an open campaign, are saved
    (both can be meant) but said: before, nothing told staff that the targets did nothing or that reminders
    would give a date already past."""
    from datetime import date, timedelta

    from app.campaigns import services

    version = make_version()
    campaign = services.create_campaign("Round 1", version, agencies=[directory["KZ/MVD"]])
    services.set_status(campaign, "open")
    db_session.commit()
    sign_in(client, make_user("staff").email)
    url = f"/campaigns/{campaign.id}/edit"
    fields = form_as_browser_sends(client.get(url).get_data(as_text=True))
    past = date.today() - timedelta(days=2)
    fields.update(targets=["KG inv_unit 1\nKZ inv_unit 4"], deadline=[past.isoformat()], action=["save"])
    page = client.post(url, data=fields, headers={"Accept-Language": "en"}, follow_redirects=True)
    html = page.get_data(as_text=True)
    assert "Campaign saved." in html
    assert "The campaign asks no agency of KG: their target overrides change nothing until one is added." in html
    assert "has passed: invitations and reminders will give that date" in html
    db_session.expire_all()
    assert campaign.target_overrides == {"KG": {"inv_unit": 1}, "KZ": {"inv_unit": 4}} and campaign.deadline == past
    fields.update(targets=["KZ inv_unit 4"], deadline=[(date.today() + timedelta(days=30)).isoformat()])
    fields["seen"] = form_as_browser_sends(client.get(url).get_data(as_text=True))["seen"]
    quiet = client.post(url, data=fields, headers={"Accept-Language": "en"}, follow_redirects=True)
    html = quiet.get_data(as_text=True)
    assert "Campaign saved." in html and "asks no agency" not in html and "has passed" not in html


def test_the_campaign_page_counts_the_active_contacts_of_its_agencies(client, db_session, make_user, make_version,
                                                                      make_contact, directory):
    """Contacts of the campaign's agencies count, except the inactive one; those of an agency not asked do not."""
    from app.campaigns import services

    make_contact(directory["KZ/MVD"], email="deputy.mvd@example.org")
    make_contact(directory["KZ/MVD"], email="gone.mvd@example.org").is_active = False
    campaign = services.create_campaign("R", make_version(), agencies=[directory["KZ/MVD"], directory["KG/MVD"]])
    db_session.commit()
    sign_in(client, make_user("staff").email)
    page = client.get(f"/campaigns/{campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r"<dt>Active contacts</dt><dd>(\d+)</dd>", page).group(1) == "3"


def test_a_campaign_cannot_follow_up_its_own_follow_up(client, db_session, make_user, make_version, directory):
    """Round 2 follows up Round 1, Round 3 follows up Round 2: Round 1 may follow up neither (a loop), and the
    form tells campaigns of the same name apart by number and deadline."""
    from app.campaigns import services

    version = make_version()
    first = services.create_campaign("Round", version, agencies=[directory["KZ/MVD"]], deadline=date(2026, 3, 1))
    second = services.create_campaign("Round", version, agencies=[directory["KZ/MVD"]], follow_up_of=first)
    third = services.create_campaign("Round 3", version, agencies=[directory["KZ/MVD"]], follow_up_of=second)
    db_session.commit()
    for loop in (second, third):
        with pytest.raises(services.CampaignError) as info:
            services.update_campaign(first, name="Round", version=version, agencies=first.agencies, opens_on=None,
                                     deadline=None, follow_up_of=loop)
        assert "cannot follow up its own follow-up" in str(info.value) and info.value.field == "follow_up_of"
    db_session.rollback()
    # Following up a campaign outside the chain is fine.
    services.update_campaign(third, name="Round 3", version=version, agencies=third.agencies, opens_on=None,
                             deadline=None, follow_up_of=first)
    db_session.commit()
    sign_in(client, make_user("staff").email)
    form = client.get(f"/campaigns/{first.id}/edit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', form.split('name="follow_up_of"')[1]
                         .split("</select>")[0])
    assert (str(second.id), f"Round (#{second.id})") in options
    page = client.get(f"/campaigns/{second.id}/edit", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Round (#{first.id}, Mar 1, 2026)" in page


def test_opening_a_campaign_whose_deadline_has_passed_asks_first(client, db_session, make_user, make_version,
                                                                 directory):
    from app.campaigns import services

    version = make_version()
    late = services.create_campaign("Late", version, agencies=[directory["KZ/MVD"]], opens_on=date(2025, 1, 1),
                                    deadline=date(2025, 2, 1))
    timely = services.create_campaign("Timely", version, agencies=[directory["KZ/MVD"]], deadline=date(2099, 2, 1))
    db_session.commit()
    sign_in(client, make_user("staff").email)

    def open_button(campaign) -> str:
        html = client.get(f"/campaigns/{campaign.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
        return re.search(r'<button type="submit" name="status" value="open"[^>]*>', html).group(0)

    assert 'data-confirm="The deadline, Feb 1, 2025, has passed' in open_button(late)
    assert "data-confirm" not in open_button(timely)
