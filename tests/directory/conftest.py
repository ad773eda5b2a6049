"""Factories and sample data of the directory tests."""

from __future__ import annotations

import io

import pytest

from tests.conftest import sign_in

#: The five partner countries of the model case, with their names.
COUNTRIES = {
    "KZ": {"en": "Kazakhstan", "ru": "Казахстан"},
    "KG": {"en": "Kyrgyzstan", "ru": "Кыргызстан"},
    "TJ": {"en": "Tajikistan", "ru": "Таджикистан"},
    "TM": {"en": "Turkmenistan", "ru": "Туркменистан"},
    "UZ": {"en": "Uzbekistan", "ru": "Узбекистан"},
}

#: (acronym, type, English name, Russian name) of the national agencies used in the big sample.
AGENCY_KINDS = [
    ("MVD", "interior", "Ministry of Internal Affairs", "Министерство внутренних дел"),
    ("GP", "prosecutor", "Prosecutor General's Office", "Генеральная прокуратура"),
    ("FIU", "fiu", "Financial Monitoring Agency", "Агентство по финансовому мониторингу"),
    ("GKNB", "security", "State Committee for National Security", "Государственный комитет национальной безопасности"),
]

EN_HEADERS = {
    "agencies": ["Country", "Acronym", "Type", "Name (en)", "Name (ru)", "Active"],
    "contacts": ["Agency country", "Agency acronym", "Name", "Position", "E-mail", "Phone", "Language", "Focal point",
                 "Active"],
}
RU_HEADERS = {
    "agencies": ["Страна", "Аббревиатура", "Тип", "Название (en)", "Название (ru)", "Активно"],
    "contacts": ["Страна ведомства", "Аббревиатура ведомства", "ФИО", "Должность", "Эл. почта", "Телефон", "Язык",
                 "Основное контактное лицо", "Активен"],
}


def sample_rows(lang: str = "en") -> tuple[list[list], list[list]]:
    """20 agencies (19 national in 5 countries, 1 regional body) and 40 contacts, as sheet rows.

    Among the contacts: a Cyrillic local part, a plus sign, upper-case letters, and phone numbers typed as numbers.
    """
    yes, no = ("yes", "no") if lang == "en" else ("да", "нет")
    agencies, contacts = [], []
    codes = list(COUNTRIES)
    for index, code in enumerate(codes):
        kinds = AGENCY_KINDS if code != "UZ" else AGENCY_KINDS[:3]
        for acronym, kind, en, ru in kinds:
            agencies.append([code, acronym, kind, f"{en} of {COUNTRIES[code]['en']}", f"{ru} ({COUNTRIES[code]['ru']})",
                             yes if index or acronym != "GP" else no])
    agencies.append(["", "RATS", "regional", "Regional Anti-Terrorist Structure of the SCO",
                     "Региональная антитеррористическая структура ШОС", yes])
    assert len(agencies) == 20
    for number, (code, acronym, *_rest) in enumerate(agencies):
        slug = f"{acronym.lower()}.{(code or 'rats').lower()}"
        contacts.append([code, acronym, f"Head {number} of {acronym}", "Head of unit",
                         f"head{number}@{slug}.example.org", 77010000000 + number, "ru", yes, yes])
        contacts.append([code, acronym, f"Deputy {number}", "", f"deputy{number}@{slug}.example.org",
                         f"+7 701 000 {number:04d}", "en", no, ""])
    contacts[0][4] = "иван.петров@mvd.kz.example.org"
    contacts[0][2] = "Иван Петров"
    contacts[3][4] = "Focal+CT@GP.kz.example.org"
    assert len(contacts) == 40
    return agencies, contacts


def filled_workbook(agencies, contacts, lang: str = "en", *, template=None) -> bytes:
    """A template (the app's own, or `template`) with these rows appended to its two sheets, as .xlsx bytes."""
    from app.directory import services

    book = template or services.template_workbook(lang)
    sheet_names = {"en": ("Agencies", "Contacts"), "ru": ("Ведомства", "Контакты")}[lang]
    for name, rows in zip(sheet_names, (agencies, contacts), strict=True):
        for row in rows:
            book[name].append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def snapshot(db_session) -> dict:
    """Every agency and contact with every column, to compare the database before and after."""
    from sqlalchemy import select

    from app.directory.models import Agency, Contact

    db_session.expire_all()
    agencies = [(a.id, a.country_code, a.acronym, a.kind, a.names, a.is_active, a.created_at, a.updated_at)
                for a in db_session.scalars(select(Agency).order_by(Agency.id)).unique()]
    contacts = [(c.id, c.agency_id, c.name, c.position, c.email, c.phone, c.locale, c.is_focal_point, c.is_active,
                 c.created_at, c.updated_at) for c in db_session.scalars(select(Contact).order_by(Contact.id)).unique()]
    return {"agencies": agencies, "contacts": contacts}


@pytest.fixture
def countries(make_country):
    """The five partner countries."""
    return {code: make_country(code, **names) for code, names in COUNTRIES.items()}


@pytest.fixture
def make_agency(app_ctx):
    """Factory: make_agency("KZ", "MVD", kind="interior", en="...", ru="...") through the service, committed."""
    from app.directory import services
    from app.extensions import db

    def factory(country: str | None, acronym: str, kind: str = "other", is_active: bool = True, **names):
        agency = services.create_agency(country_code=country, acronym=acronym, kind=kind,
                                        names=names or {"en": f"Agency {acronym}"})
        agency.is_active = is_active
        db.session.commit()
        return agency

    return factory


@pytest.fixture
def make_contact(app_ctx):
    """Factory: make_contact(agency, name="...", email=None, ...) through the service, committed."""
    from app.directory import services
    from app.extensions import db

    counter = iter(range(1, 10_000))

    def factory(agency, name: str | None = None, email: str | None = None, **kwargs):
        number = next(counter)
        contact = services.create_contact(agency, name=name or f"Contact {number}",
                                          email=email or f"contact{number}@example.org", **kwargs)
        db.session.commit()
        return contact

    return factory


@pytest.fixture
def staff(client, make_user):
    """The test client signed in as staff (English pages)."""
    user = make_user("staff")
    sign_in(client, user.email)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.user = user
    return client
