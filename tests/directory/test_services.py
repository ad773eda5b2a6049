"""Directory services: agencies and contacts, their checks, filters and audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.directory import services
from app.directory.services import DirectoryError


def actions(db_session) -> list[str]:
    from app.core.models import AuditEvent

    return [e.action for e in db_session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_create_agency_is_audited_with_its_values(countries, make_user, db_session):
    staff = make_user("staff")
    agency = services.create_agency(country_code="kz", acronym="  MVD ", kind="interior",
                                    names={"en": " Ministry of  Internal Affairs ", "ru": "МВД", "kk": ""},
                                    actor=staff)
    db_session.commit()
    assert (agency.country_code, agency.acronym, agency.names) == (
        "KZ", "MVD", {"en": "Ministry of Internal Affairs", "ru": "МВД"})
    from app.core.models import AuditEvent

    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "agency.created"))
    assert event.actor_id == staff.id and event.object_id == str(agency.id)
    assert event.new_value["acronym"] == "MVD" and event.new_value["country"] == "KZ"


def test_acronym_is_unique_within_a_country_ignoring_case(countries, make_agency):
    make_agency("KZ", "MVD")
    with pytest.raises(DirectoryError) as refused:
        services.create_agency(country_code="KZ", acronym="mvd", names={"en": "Other"})
    assert refused.value.field == "acronym"
    assert "Another agency of Kazakhstan already has the acronym MVD." in refused.value.message
    assert services.create_agency(country_code="KG", acronym="MVD", names={"en": "Kyrgyz ministry"}).id


def test_acronym_is_unique_among_regional_bodies(countries, make_agency):
    make_agency(None, "RATS", kind="regional")
    with pytest.raises(DirectoryError, match="Another regional body already has the acronym RATS"):
        services.create_agency(country_code="", acronym="Rats", kind="regional", names={"en": "Duplicate"})
    assert services.create_agency(country_code="KZ", acronym="RATS", names={"en": "A national RATS"}).id


def test_agency_needs_a_known_country_type_and_a_name(countries):
    with pytest.raises(DirectoryError, match="Unknown country code “XX”"):
        services.create_agency(country_code="XX", acronym="A", names={"en": "A"})
    with pytest.raises(DirectoryError, match="Unknown agency type"):
        services.create_agency(country_code="KZ", acronym="A", kind="army", names={"en": "A"})
    with pytest.raises(DirectoryError) as refused:
        services.create_agency(country_code="KZ", acronym="A", names={"en": " ", "ru": ""})
    assert refused.value.field == "names"
    with pytest.raises(DirectoryError) as refused:
        services.create_agency(country_code="KZ", acronym=" ", names={"en": "A"})
    assert refused.value.field == "acronym"


def test_update_keeps_names_in_other_languages_and_audits_old_and_new(countries, make_agency, db_session):
    agency = make_agency("KZ", "MVD", kind="interior", en="Ministry", ru="Министерство", kk="ІІМ")
    services.update_agency(agency, country_code="KZ", acronym="MVD", kind="interior",
                           names={"en": "Ministry of Internal Affairs", "ru": ""})
    db_session.commit()
    assert agency.names == {"en": "Ministry of Internal Affairs", "kk": "ІІМ"}
    from app.core.models import AuditEvent

    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "agency.updated"))
    assert event.old_value["names"]["ru"] == "Министерство" and "ru" not in event.new_value["names"]
    services.update_agency(agency, country_code="KZ", acronym="MVD", kind="interior", names={})
    db_session.commit()
    assert actions(db_session).count("agency.updated") == 1  # no change, no event


def test_update_may_not_take_another_agencys_acronym(countries, make_agency):
    make_agency("KZ", "MVD")
    other = make_agency("KZ", "GP")
    with pytest.raises(DirectoryError, match="already has the acronym MVD"):
        services.update_agency(other, country_code="KZ", acronym="Mvd", kind="other", names={})
    services.update_agency(other, country_code="KZ", acronym="gp", kind="other", names={})  # its own, recased
    assert other.acronym == "gp"


def test_deactivate_and_reactivate_are_audited_once(countries, make_agency, db_session):
    agency = make_agency("KZ", "MVD")
    assert services.set_agency_active(agency, False) is True
    assert services.set_agency_active(agency, False) is False
    assert services.set_agency_active(agency, True) is True
    db_session.commit()
    assert actions(db_session)[-2:] == ["agency.deactivated", "agency.reactivated"]


def test_list_agencies_filters_and_searches_in_any_language(countries, make_agency):
    make_agency("KZ", "MVD", kind="interior", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    make_agency("KZ", "AFM", kind="fiu", en="Financial Monitoring Agency", ru="Агентство по финансовому мониторингу")
    make_agency("KG", "GKNB", kind="security", is_active=False, en="State Committee for National Security")
    make_agency(None, "RATS", kind="regional", en="Regional Anti-Terrorist Structure", ru="РАТС ШОС")

    def acronyms(**filters):
        return [a.acronym for a in services.list_agencies(**filters)]

    assert acronyms() == ["GKNB", "AFM", "MVD", "RATS"]  # by country, then acronym; regional last
    assert acronyms(country="kz") == ["AFM", "MVD"]
    assert acronyms(country=services.REGIONAL) == ["RATS"]
    assert acronyms(kind="fiu") == ["AFM"]
    assert acronyms(active=False) == ["GKNB"]
    assert acronyms(active=True, country="KG") == []
    assert acronyms(q="ВНУТРЕННИХ") == ["MVD"]
    assert acronyms(q="шос") == ["RATS"]
    assert acronyms(q="monitoring") == ["AFM"]
    assert acronyms(q="gknb") == ["GKNB"]
    assert acronyms(q="agency", country="KZ") == ["AFM"]


def test_agencies_for_picks_by_country_and_type(countries, make_agency):
    make_agency("KZ", "MVD", kind="interior")
    make_agency("KZ", "AFM", kind="fiu")
    make_agency("UZ", "MVD", kind="interior")
    make_agency("TJ", "OLD", kind="interior", is_active=False)
    make_agency(None, "RATS", kind="regional")

    def keys(*args, **kwargs):
        return [(a.country_code, a.acronym) for a in services.agencies_for(*args, **kwargs)]

    assert keys() == [("KZ", "AFM"), ("KZ", "MVD"), ("UZ", "MVD"), ("", "RATS")]
    assert keys(["kz"]) == [("KZ", "AFM"), ("KZ", "MVD")]
    assert keys(["KZ", ""], kinds=["interior", "regional"]) == [("KZ", "MVD"), ("", "RATS")]
    assert keys(kinds=["interior"], active_only=False) == [("KZ", "MVD"), ("TJ", "OLD"), ("UZ", "MVD")]
    assert keys([]) == []
    with pytest.raises(DirectoryError, match="Unknown country code"):
        services.agencies_for(["ZZ"])
    with pytest.raises(DirectoryError, match="Unknown agency type"):
        services.agencies_for(kinds=["army"])


@pytest.mark.parametrize("typed, stored", [
    ("Ivan.Petrov@MVD.gov.kz", "ivan.petrov@mvd.gov.kz"),
    ("Иван.Петров@мвд.kz", "иван.петров@мвд.kz"),
    ("focal+ct@fiu.gov.kg", "focal+ct@fiu.gov.kg"),
    ("  spaced@example.org ", "spaced@example.org"),
])
def test_contact_emails_are_normalised_and_lower_cased(countries, make_agency, typed, stored):
    contact = services.create_contact(make_agency("KZ", "MVD"), name="Someone", email=typed)
    assert contact.email == stored
    assert services.get_contact_by_email(typed.upper()) is contact


@pytest.mark.parametrize("typed", ["not-an-address", "two@@example.org", "no-domain@", "@example.org", "a@b"])
def test_invalid_emails_are_refused_clearly(countries, make_agency, typed):
    with pytest.raises(DirectoryError) as refused:
        services.create_contact(make_agency("KZ", "MVD"), name="Someone", email=typed)
    assert refused.value.field == "email" and "is not a valid e-mail address" in refused.value.message


def test_contact_email_is_unique(countries, make_agency, make_contact):
    agency = make_agency("KZ", "MVD")
    make_contact(agency, name="First", email="one@example.org")
    with pytest.raises(DirectoryError, match=r"Another contact \(First, MVD\) already has the e-mail address"):
        services.create_contact(make_agency("KG", "GP"), name="Second", email="ONE@example.org")


def test_contact_defaults_and_language_check(app_ctx, countries, make_agency):
    agency = make_agency("KZ", "MVD")
    contact = services.create_contact(agency, name="  A   Person ", email="a@example.org")
    assert (contact.name, contact.locale, contact.is_focal_point, contact.is_active) == ("A Person", "ru", False, True)
    with pytest.raises(DirectoryError) as refused:
        services.create_contact(agency, name="B", email="b@example.org", locale="fr")
    assert refused.value.field == "locale"
    with pytest.raises(DirectoryError) as refused:
        services.create_contact(agency, name=" ", email="c@example.org")
    assert refused.value.field == "name"


def test_update_contact_moves_it_and_audits(countries, make_agency, make_contact, db_session):
    mvd, gp = make_agency("KZ", "MVD"), make_agency("KZ", "GP")
    contact = make_contact(mvd, name="Person", email="p@example.org")
    services.update_contact(contact, name="Person", email="P@example.org", position="Head", phone="+7 701",
                            locale="en", is_focal_point=True, agency=gp)
    db_session.commit()
    assert (contact.agency_id, contact.position, contact.locale, contact.is_focal_point) == (gp.id, "Head", "en", True)
    assert services.set_contact_active(contact, False) is True
    db_session.commit()
    assert actions(db_session)[-3:] == ["contact.created", "contact.updated", "contact.deactivated"]
    from app.core.models import AuditEvent

    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.updated"))
    assert event.old_value["agency"] == "KZ/MVD" and event.new_value["agency"] == "KZ/GP"


def test_list_contacts_filters(countries, make_agency, make_contact):
    mvd, rats = make_agency("KZ", "MVD"), make_agency(None, "RATS", kind="regional")
    make_contact(mvd, name="Айгуль Сапарова", email="a@example.org", is_focal_point=True)
    make_contact(mvd, name="Bob", email="bob@example.org", is_active=False)
    make_contact(rats, name="Carol", email="carol@example.org")

    def names(**filters):
        return [c.name for c in services.list_contacts(**filters)]

    assert names() == ["Bob", "Айгуль Сапарова", "Carol"]  # by agency, then name
    assert names(agency_id=rats.id) == ["Carol"]
    assert names(country=services.REGIONAL) == ["Carol"]
    assert names(country="KZ", active=True) == ["Айгуль Сапарова"]
    assert names(focal_only=True) == ["Айгуль Сапарова"]
    assert names(q="сапар") == ["Айгуль Сапарова"]
    assert names(q="BOB@") == ["Bob"]
