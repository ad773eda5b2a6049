"""The staff pages of the directory: list, search and filters, add, edit, deactivate, as a user clicks them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import extract_csrf, form_as_browser_sends


def rows_of(html: str) -> list[str]:
    """The acronyms linked in the agency table, in order."""
    import re

    return re.findall(r'<th scope="row"><a href="/directory/agencies/\d+">([^<]+)</a></th>', html)


@pytest.fixture
def directory(countries, make_agency, make_contact):
    kz_mvd = make_agency("KZ", "MVD", kind="interior", en="Ministry of Internal Affairs",
                         ru="Министерство внутренних дел")
    kz_afm = make_agency("KZ", "AFM", kind="fiu", en="Financial Monitoring Agency", ru="Агентство финмониторинга")
    kg_gknb = make_agency("KG", "GKNB", kind="security", en="State Committee for National Security")
    old = make_agency("TJ", "OLD", kind="other", is_active=False, en="Abolished Agency")
    rats = make_agency(None, "RATS", kind="regional", en="Regional Anti-Terrorist Structure")
    make_contact(kz_mvd, name="Ерлан Нурланов", email="erlan@example.org")
    return {"MVD": kz_mvd, "AFM": kz_afm, "GKNB": kg_gknb, "OLD": old, "RATS": rats}


def test_list_search_and_filters(staff, directory):
    page = staff.get("/directory/agencies").get_data(as_text=True)
    assert sorted(rows_of(page)) == ["AFM", "GKNB", "MVD", "OLD", "RATS"]
    assert "5 agencies" in page and "Regional" in page and "Deactivated" in page

    # Search in a language other than the page's, by country, by type, by status.
    assert rows_of(staff.get("/directory/agencies?q=внутренних").get_data(as_text=True)) == ["MVD"]
    assert sorted(rows_of(staff.get("/directory/agencies?country=KZ").get_data(as_text=True))) == ["AFM", "MVD"]
    assert rows_of(staff.get("/directory/agencies?kind=security").get_data(as_text=True)) == ["GKNB"]
    assert rows_of(staff.get("/directory/agencies?status=inactive").get_data(as_text=True)) == ["OLD"]
    from app.directory.services import REGIONAL

    assert rows_of(staff.get(f"/directory/agencies?country={REGIONAL}").get_data(as_text=True)) == ["RATS"]
    empty = staff.get("/directory/agencies?q=nothing-like-this").get_data(as_text=True)
    assert rows_of(empty) == [] and "No agency matches the search." in empty


def test_the_list_is_shown_a_hundred_agencies_a_page_with_the_filters_kept(staff, directory, make_agency,
                                                                            monkeypatch):
    from app.directory import views

    monkeypatch.setattr(views, "AGENCIES_PER_PAGE", 2)  # 5 agencies: 3 pages
    first = staff.get("/directory/agencies").get_data(as_text=True)
    assert "5 agencies" in first and "Agencies 1–2 of 5" in first and "Page 1 of 3" in first
    seen = rows_of(first)
    last = staff.get("/directory/agencies?page=3").get_data(as_text=True)
    assert "Agencies 5–5 of 5" in last and 'rel="next"' not in last
    assert '<a href="/directory/agencies?page=2" rel="prev">' in last
    seen += rows_of(staff.get("/directory/agencies?page=2").get_data(as_text=True)) + rows_of(last)
    assert sorted(seen) == ["AFM", "GKNB", "MVD", "OLD", "RATS"]  # every agency once
    # A filtered list pages through the matches only, and the page links keep the filter.
    for acronym in ("ABC", "XYZ"):
        make_agency("KZ", acronym, kind="other", en=f"Agency {acronym}")
    kz = staff.get("/directory/agencies?country=KZ").get_data(as_text=True)
    assert "4 agencies" in kz and 'href="/directory/agencies?page=2&amp;country=KZ"' in kz
    assert all(row in ("ABC", "AFM", "MVD", "XYZ") for row in rows_of(
        staff.get("/directory/agencies?page=2&country=KZ").get_data(as_text=True)))
    assert rows_of(staff.get("/directory/agencies?page=99").get_data(as_text=True)), "past the end: the last page"


def test_add_an_agency_then_a_contact(staff, directory, db_session):
    from app.directory.models import Agency, Contact

    token = extract_csrf(staff.get("/directory/agencies/new").get_data(as_text=True))
    response = staff.post("/directory/agencies/new", data={
        "csrf_token": token, "country": "UZ", "acronym": "DBEP", "kind": "border",
        "name_en": "Border Protection Service", "name_ru": "Служба пограничной охраны"})
    assert response.status_code == 302
    agency = db_session.scalar(select(Agency).where(Agency.acronym == "DBEP"))
    assert agency.country_code == "UZ" and agency.names == {"en": "Border Protection Service",
                                                           "ru": "Служба пограничной охраны"}
    db_session.rollback()
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Agency DBEP added." in page

    url = f"/directory/agencies/{agency.id}/contacts/new"
    token = extract_csrf(staff.get(url).get_data(as_text=True))
    response = staff.post(url, data={"csrf_token": token, "name": "Dilnoza Karimova", "position": "Head of unit",
                                     "email": "Dilnoza+CT@Example.org", "phone": "+998 71 000 00 00", "locale": "ru",
                                     "is_focal_point": "y"})
    assert response.status_code == 302
    contact = db_session.scalar(select(Contact).where(Contact.agency_id == agency.id))
    assert (contact.email, contact.locale, contact.is_focal_point) == ("dilnoza+ct@example.org", "ru", True)
    assert "Dilnoza Karimova" in staff.get(f"/directory/agencies/{agency.id}").get_data(as_text=True)


def test_a_refused_save_keeps_what_was_typed(staff, directory, db_session):
    from app.directory.models import Agency

    before = db_session.scalar(select(Agency.id).order_by(Agency.id.desc()))
    db_session.rollback()
    token = extract_csrf(staff.get("/directory/agencies/new").get_data(as_text=True))
    response = staff.post("/directory/agencies/new", data={
        "csrf_token": token, "country": "KZ", "acronym": "mvd", "kind": "interior",
        "name_en": "A second interior ministry", "name_ru": "Второе министерство"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "A second interior ministry" in page and "Второе министерство" in page
    assert db_session.scalar(select(Agency.id).order_by(Agency.id.desc())) == before

    contact_url = f"/directory/agencies/{directory['AFM'].id}/contacts/new"
    token = extract_csrf(staff.get(contact_url).get_data(as_text=True))
    response = staff.post(contact_url, data={"csrf_token": token, "name": "Someone Careful", "email": "not an address",
                                             "locale": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Someone Careful" in page and "not an address" in page


def test_edit_an_agency_and_move_a_contact(staff, directory, db_session):
    mvd, afm = directory["MVD"], directory["AFM"]
    url = f"/directory/agencies/{mvd.id}"
    token = extract_csrf(staff.get(url).get_data(as_text=True))
    response = staff.post(url, data={"csrf_token": token, "country": "KZ", "acronym": "MVD", "kind": "interior",
                                     "name_en": "Ministry of Internal Affairs of Kazakhstan",
                                     "name_ru": "Министерство внутренних дел"})
    assert response.status_code == 302
    db_session.rollback()  # ends the read so the next request may write
    assert mvd.names["en"] == "Ministry of Internal Affairs of Kazakhstan"

    contact = mvd.contacts[0]
    db_session.rollback()
    url = f"/directory/contacts/{contact.id}"
    token = extract_csrf(staff.get(url).get_data(as_text=True))
    response = staff.post(url, data={"csrf_token": token, "agency": str(afm.id), "name": contact.name,
                                     "email": contact.email, "locale": "ru"})
    assert response.status_code == 302
    db_session.rollback()  # ends the read so the next request may write
    assert contact.agency_id == afm.id


def test_saving_a_contact_as_the_browser_shows_it_keeps_their_agency(staff, directory, db_session):
    """The contact form selects the contact's own agency: a save that changes only the phone leaves the contact
    where they are (the list selected no agency, so the browser sent the first one and the contact moved)."""
    from app.directory.models import Contact

    mvd = directory["MVD"]
    contact_id = mvd.contacts[0].id
    db_session.rollback()
    url = f"/directory/contacts/{contact_id}"
    page = staff.get(url).get_data(as_text=True)
    fields = form_as_browser_sends(page)
    assert fields["agency"] == [str(mvd.id)]
    assert re.search(rf'<option selected value="{mvd.id}">|<option value="{mvd.id}" selected', page)
    fields["phone"] = ["+7 717 000 00 00"]
    assert staff.post(url, data=fields).status_code == 302
    db_session.rollback()
    contact = db_session.get(Contact, contact_id)
    assert contact.agency_id == mvd.id and contact.phone == "+7 717 000 00 00"


def test_deactivate_and_reactivate(staff, directory, db_session):
    mvd = directory["MVD"]
    page = staff.get(f"/directory/agencies/{mvd.id}").get_data(as_text=True)
    token = extract_csrf(page)
    response = staff.post(f"/directory/agencies/{mvd.id}/toggle", data={"csrf_token": token, "active": "0"},
                          follow_redirects=True)
    assert "is deactivated" in response.get_data(as_text=True)
    db_session.rollback()  # ends the read so the next request may write
    assert mvd.is_active is False
    assert "MVD" in rows_of(staff.get("/directory/agencies?status=inactive").get_data(as_text=True))
    staff.post(f"/directory/agencies/{mvd.id}/toggle", data={"csrf_token": token, "active": "1"})
    db_session.rollback()  # ends the read so the next request may write
    assert mvd.is_active is True

    contact = mvd.contacts[0]
    db_session.rollback()
    staff.post(f"/directory/contacts/{contact.id}/toggle", data={"csrf_token": token, "active": "0"})
    db_session.rollback()  # ends the read so the next request may write
    assert contact.is_active is False

    # Without the CSRF token nothing changes.
    staff.post(f"/directory/contacts/{contact.id}/toggle", data={"active": "1"})
    db_session.rollback()  # ends the read so the next request may write
    assert contact.is_active is False


def test_pages_in_russian(staff, directory):
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    page = staff.get("/directory/agencies").get_data(as_text=True)
    assert "Министерство внутренних дел" in page and "Ministry of Internal Affairs" not in page


def test_unknown_ids_are_not_found(staff, directory):
    assert staff.get("/directory/agencies/999999").status_code == 404
    assert staff.get("/directory/contacts/999999").status_code == 404
    assert staff.get("/directory/agencies/999999/contacts/new").status_code == 404
