"""A campaign's name in each interface language: staff give it once for all languages and, optionally, in the
other languages; respondents, experts and the reports read it in their own."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from tests.conftest import EN, RU, extract_csrf, sign_in
from tests.responses.test_form import complete, new_client, open_link

RUSSIAN = "Оценка потребностей 2027"


@pytest.fixture
def campaign_world(app_ctx, db_session, make_country, make_version, make_agency, make_contact):
    """An open campaign with a Russian name over KZ/MVD (one Russian-speaking contact), and its link."""
    from app.campaigns import services as campaigns

    make_country("KZ", en="Kazakhstan", ru="Казахстан")
    mvd = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    make_contact(mvd, email="aigul@mvd.example.org", name="Aigul", locale="ru")
    campaign = campaigns.create_campaign("Needs assessment 2027", make_version(), agencies=[mvd],
                                         name_translations={"ru": RUSSIAN})
    campaigns.set_status(campaign, "open")
    (invitation,) = campaigns.invite(campaign, send_email=False)
    db_session.commit()
    return campaign, invitation.link


def _form(client, version_id: int, **fields) -> dict:
    token = extract_csrf(client.get("/campaigns/new").get_data(as_text=True))
    return {"csrf_token": token, "version": str(version_id), "follow_up_of": "0", "opens_on": "", "deadline": "",
            "targets": "", "action": "save", **fields}


def test_staff_give_the_name_in_russian_beside_the_name_for_all_languages(client, db_session, make_user,
                                                                          make_version, make_agency):
    from app.campaigns.models import Campaign
    from app.core.models import AuditEvent

    version = make_version()
    agency = make_agency("KZ", "MVD")
    sign_in(client, make_user("staff").email)
    page = client.get("/campaigns/new", headers=EN).get_data(as_text=True)
    assert "Name in Russian" in page and "Shown in every language that has no name of its own below." in page
    assert "Название (русский)" in client.get("/campaigns/new", headers=RU).get_data(as_text=True)
    data = _form(client, version.id, name="Needs assessment 2027", name_ru=f"  {RUSSIAN} ",
                 agencies=[str(agency.id)])
    saved = client.post("/campaigns/new", data=data)
    assert saved.status_code == 302
    campaign = db_session.scalar(select(Campaign))
    assert campaign.name == "Needs assessment 2027" and campaign.name_translations == {"ru": RUSSIAN}
    assert f"<h1>{RUSSIAN}" in client.get(saved.headers["Location"], headers=RU).get_data(as_text=True)
    assert "<h1>Needs assessment 2027" in client.get(saved.headers["Location"], headers=EN).get_data(as_text=True)
    listing = client.get("/campaigns/", headers=RU).get_data(as_text=True)
    assert RUSSIAN in listing and "Needs assessment 2027" not in listing

    edit = client.get(f"/campaigns/{campaign.id}/edit", headers=EN).get_data(as_text=True)
    assert f'name="name_ru" type="text" value="{RUSSIAN}"' in edit
    data = {**_form(client, version.id, name="Needs assessment 2027", name_ru="", agencies=[str(agency.id)])}
    assert client.post(f"/campaigns/{campaign.id}/edit", data=data).status_code == 302
    db_session.refresh(campaign)
    assert campaign.name_translations == {}  # emptied: Russian pages show the one name again
    assert "<h1>Needs assessment 2027" in client.get(f"/campaigns/{campaign.id}", headers=RU).get_data(as_text=True)
    changes = list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "campaign.updated")))
    assert [(e.old_value["name_translations"], e.new_value["name_translations"]) for e in changes] \
        == [({"ru": RUSSIAN}, {})]


def test_a_name_too_long_is_refused_with_everything_typed_kept(client, db_session, make_user, make_version,
                                                               make_agency):
    from app.campaigns.models import Campaign

    version = make_version()
    agency = make_agency("KZ", "MVD")
    sign_in(client, make_user("staff").email)
    data = _form(client, version.id, name="Needs assessment 2027", name_ru="Д" * 201, description="Kept",
                 agencies=[str(agency.id)])
    refused = client.post("/campaigns/new", data=data, headers=EN)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Name in Russian: Field cannot be longer than 200 characters." in html
    assert f'value="{"Д" * 201}"' in html and 'value="Needs assessment 2027"' in html and "Kept" in html
    assert db_session.scalar(select(Campaign)) is None


def test_a_translation_equal_to_the_name_or_blank_is_not_kept(app_ctx, db_session, make_version):
    from app.campaigns import services

    campaign = services.create_campaign("Round 1", make_version(), name_translations={"ru": " Round 1 ", "kk": " "})
    assert campaign.name_translations == {}
    with pytest.raises(services.CampaignError, match="The name in Russian is longer than 200 characters") as refused:
        services.create_campaign("Round 2", make_version(), name_translations={"ru": "x" * 201})
    assert refused.value.field == "name_ru"
    kept = services.create_campaign("Round 3", make_version(), name_translations={"ru": "Раунд 3"})
    services.update_campaign(kept, name="Round 3 (2027)", version=kept.version, agencies=[], opens_on=None,
                             deadline=None)  # a caller that says nothing of the other names keeps them
    assert kept.name == "Round 3 (2027)" and kept.name_translations == {"ru": "Раунд 3"}


def test_the_respondent_reads_the_name_in_russian_on_pages_and_in_the_receipt(app_ctx, db_session,
                                                                               campaign_world):
    from app.mail.models import OutboxMessage

    _campaign, link = campaign_world
    respondent = open_link(new_client(app_ctx, "ru"), link)
    home = respondent.get("/respondent").get_data(as_text=True)
    assert RUSSIAN in home and "Needs assessment 2027" not in home
    assert RUSSIAN in respondent.get("/respondent/print").get_data(as_text=True)
    complete(respondent)
    assert respondent.post("/respondent/review", data={"csrf_token": respondent.csrf, "confirm": "1"}).status_code \
        == 302
    receipt = db_session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "receipt"))
    assert receipt.locale == "ru" and f"({RUSSIAN})" in receipt.body_text and RUSSIAN in receipt.body_html

    workbook = respondent.get("/respondent/workbook.xlsx")
    assert workbook.status_code == 200, workbook.status_code
    cells = [c.value for row in openpyxl.load_workbook(io.BytesIO(workbook.data)).worksheets[0].iter_rows()
             for c in row]
    assert RUSSIAN in cells


def test_reports_dashboards_and_the_api_give_the_name_in_the_readers_language(app_ctx, db_session,
                                                                               campaign_world, make_user):
    from app.api import services as api
    from app.directory.models import Country
    from app.reports.country import build_country_report
    from app.reports.data import country_report_data

    campaign, _link = campaign_world
    staff = make_user("staff")
    data = country_report_data(campaign, db_session.scalar(select(Country).where(Country.code == "KZ")))
    for lang, name in (("ru", RUSSIAN), ("en", "Needs assessment 2027")):
        cover = build_country_report(data, lang).worksheets[0]
        assert name in [c.value for row in cover.iter_rows() for c in row]

    client = app_ctx.test_client()
    sign_in(client, staff.email)
    page = client.get(f"/dashboards/progress?campaign={campaign.id}", headers=RU).get_data(as_text=True)
    assert RUSSIAN in page
    secret = api.create_token(staff, "test").secret
    db_session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    data = client.get(f"/api/v1/campaigns/{campaign.id}", headers=bearer).json["data"]
    assert data["name"] == "Needs assessment 2027" and data["name_translations"] == {"ru": RUSSIAN}
