"""`flask directory duplicates`: agencies stored before invisible characters were set aside, which now look the
same to the forms and the import, are listed so that staff can keep one of each."""

from __future__ import annotations

import pytest


@pytest.fixture
def stored_agency(app_ctx, countries, db_session):
    """Factory: an agency stored as it is, without the checks the forms and the import make today."""
    from sqlalchemy import select

    from app.directory.models import Agency, Country

    def factory(country_code: str | None, acronym: str, is_active: bool = True):
        country = db_session.scalar(select(Country).where(Country.code == country_code)) if country_code else None
        agency = Agency(country=country, acronym=acronym, kind="other", names={"en": acronym}, is_active=is_active)
        db_session.add(agency)
        db_session.commit()
        return agency

    return factory


def test_look_alike_agencies_are_listed_with_their_invisible_characters(app_ctx, stored_agency):
    first = stored_agency("KZ", "MVD")
    second = stored_agency("KZ", "mvd\u200b")  # pasted from a document, before the import cleaned texts
    stored_agency("KG", "MVD")  # another country: not the same agency
    third = stored_agency(None, "RATS")
    fourth = stored_agency(None, " RATS\ufeff", is_active=False)
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["directory", "duplicates"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"KZ: “MVD” (id {first.id}, active); “mvd\\u200b” (id {second.id}, active)",
        f"regional body: “RATS” (id {third.id}, active); “ RATS\\ufeff” (id {fourth.id}, inactive)",
    ]
    assert "2 group(s) of agencies that look the same" in result.stderr
    russian = runner.invoke(args=["directory", "duplicates", "--lang", "ru"])
    assert f"(id {second.id}, активно)" in russian.stdout and "региональный орган:" in russian.stdout


def test_no_look_alikes_says_so(app_ctx, stored_agency):
    stored_agency("KZ", "MVD")
    stored_agency("KZ", "AFM")
    result = app_ctx.test_cli_runner().invoke(args=["directory", "duplicates"])
    assert result.exit_code == 0 and result.stdout.strip() == "No agencies that look the same."
