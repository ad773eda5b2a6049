"""Words that depend on what they are about: the name and the status of an agency, a contact, a campaign or an API
token each have their own translation context (Russian says «Название» for a campaign, «Имя» for a person;
«Активно» for an agency, «Действует» for a token), and languages are named, never shown as codes ("en").

Some contexts are new: until their Russian translations are in the catalogue, `russian` adds them (the words
proposed for the catalogue) on top of the real catalogue, so these tests check that each page asks for the right
context; the words of the real catalogue (such as «Имя» for a person) are the real ones."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import add_translations, extract_csrf, sign_in

#: The proposed Russian words of the new contexts (as in /tmp/i18n/presfix.json).
PROPOSED = {
    ("agency", "Name"): "Название",
    ("agency", "Active"): "Активно",
    ("agency", "Deactivated"): "Отключено",
    ("agencies", "Active"): "Активные",
    ("agencies", "Deactivated"): "Отключённые",
    ("contact", "Active"): "Активно",
    ("contact", "Deactivated"): "Отключено",
    ("campaign", "Name"): "Название",
    ("API token", "Name"): "Название",
    ("API token", "Active"): "Действует",
}


@pytest.fixture
def russian(monkeypatch):
    """The proposed Russian words of the new contexts, on top of the real catalogue."""
    add_translations(monkeypatch, "ru", PROPOSED)


@pytest.fixture
def agencies(countries, make_agency, make_contact):
    active = make_agency("KZ", "MVD", kind="interior", en="Ministry of Internal Affairs", ru="МВД")
    make_agency("TJ", "OLD", kind="other", is_active=False, en="Abolished Agency")
    make_contact(active, name="Ерлан Нурланов", email="erlan@example.org", locale="ru")
    make_contact(active, name="Jane Doe", email="jane@example.org", locale="en", is_active=False)
    return active


def header_cells(html: str) -> list[str]:
    return re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', html)


def contact_row(html: str, name: str) -> str:
    match = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(name)}</a></th>(.*?)</tr>", html, re.S)
    assert match, name
    return match.group(1)


def test_agencies_have_a_title_and_a_neuter_status_in_russian(staff, agencies, russian):
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    html = staff.get("/directory/agencies").get_data(as_text=True)
    assert header_cells(html)[2] == "Название"  # not «Имя», which is a person's
    assert '<span class="badge ok">Активно</span>' in html and '<span class="badge bad">Отключено</span>' in html
    assert '<option value="active">Активные</option>' in html
    assert '<option value="inactive">Отключённые</option>' in html

    form = staff.get(f"/directory/agencies/{agencies.id}").get_data(as_text=True)
    assert "<legend>Название</legend>" in form
    assert header_cells(form)[0] == "Имя"  # the contacts' column: people keep «Имя»
    assert '<span class="badge ok">Активно</span>' in contact_row(form, "Ерлан Нурланов")
    assert '<span class="badge bad">Отключено</span>' in contact_row(form, "Jane Doe")

    # English keeps its words.
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = staff.get("/directory/agencies").get_data(as_text=True)
    assert header_cells(html)[2] == "Name"
    assert '<span class="badge ok">Active</span>' in html and '<span class="badge bad">Deactivated</span>' in html
    assert '<option value="active">Active</option>' in html
    form = staff.get(f"/directory/agencies/{agencies.id}").get_data(as_text=True)
    assert "<legend>Name</legend>" in form and '<span class="badge bad">Deactivated</span>' in form


def test_contacts_languages_are_named(staff, agencies):
    """A contact's language is a value of the table, named in the reader's language like the other values."""
    for lang, russian, english in (("en", "Russian", "English"), ("ru", "Русский", "Английский")):
        staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        form = staff.get(f"/directory/agencies/{agencies.id}").get_data(as_text=True)
        assert f"<td>{russian}</td>" in contact_row(form, "Ерлан Нурланов")
        assert f"<td>{english}</td>" in contact_row(form, "Jane Doe")
        assert "<td>ru</td>" not in form and "<td>en</td>" not in form


@pytest.mark.parametrize(("lang", "texts"), [
    ("en", ["Empty template, English", "Empty template, Russian", "Filled in with the current directory, Russian",
            ">Name (English)<", ">Name (Russian)<"]),
    ("ru", ["Пустой шаблон, английский", "Пустой шаблон, русский", "С текущими данными справочника, английский",
            ">Название (английский)<", ">Название (русский)<"]),
])
def test_languages_inside_sentences_are_named_in_the_page_language(staff, agencies, lang, texts):
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    html = staff.get("/directory/import").get_data(as_text=True) + staff.get(
        f"/directory/agencies/{agencies.id}").get_data(as_text=True)
    for text in texts:
        assert text in html, text
    if lang == "ru":
        assert "Пустой шаблон, English" not in html and "(English)<" not in html


def test_the_outbox_names_the_language_of_each_message(staff, agencies, db_session):
    from app.mail.models import OutboxMessage

    message = OutboxMessage(kind="test", recipient="jane@example.org", locale="en", subject="Test",
                            body_text="Hello")
    db_session.add(message)
    db_session.commit()
    for lang, name in (("en", "English"), ("ru", "Английский")):
        staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
        outbox = staff.get("/admin/outbox/").get_data(as_text=True)
        assert f"<td>{name}</td>" in outbox
        page = staff.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
        assert f"<td>{name}</td>" in page


def test_campaigns_have_a_title_in_russian(staff, make_version, db_session, russian):
    from app.campaigns import services

    services.create_campaign("Round 1", make_version(), agencies=[], opens_on=date(2026, 3, 1))
    db_session.commit()
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    index = staff.get("/campaigns/").get_data(as_text=True)
    assert header_cells(index)[0] == "Название"
    form = staff.get("/campaigns/new").get_data(as_text=True)
    assert re.search(r'<label for="name">Название</label>', form)
    staff.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert header_cells(staff.get("/campaigns/").get_data(as_text=True))[0] == "Name"
    assert '<label for="name">Name</label>' in staff.get("/campaigns/new").get_data(as_text=True)


def test_api_tokens_have_a_title_and_are_in_force(client, make_user, russian):
    user = make_user("staff")
    sign_in(client, user.email)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    page = client.get("/account/api-tokens").get_data(as_text=True)
    assert '<label for="name">Название</label>' in page
    client.post("/account/api-tokens", data={"csrf_token": extract_csrf(page), "name": "Power BI", "expires": "90"})
    html = client.get("/account/api-tokens").get_data(as_text=True)
    assert header_cells(html)[0] == "Название"
    assert '<span class="badge ok">Действует</span>' in html
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/account/api-tokens").get_data(as_text=True)
    assert header_cells(html)[0] == "Name" and '<span class="badge ok">Active</span>' in html
