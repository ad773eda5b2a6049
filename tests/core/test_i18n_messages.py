"""What a Russian-speaking user reads is Russian: refusals of reminders, answers that a question does not allow,
the reason an export was refused, and the application's name on pages and in e-mails."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import EN, RU, extract_csrf


@pytest.fixture
def campaign(db_session, make_version, make_agency, make_contact):
    """An open campaign asking one Kazakh agency with a Russian-speaking and an English-speaking contact."""
    from app.campaigns import services

    agency = make_agency("KZ", "MVD", en="Ministry of Internal Affairs", ru="Министерство внутренних дел")
    make_contact(agency, email="ru.contact@example.org", locale="ru")
    make_contact(agency, email="en.contact@example.org", locale="en")
    opened = services.create_campaign("Round 1", make_version(), agencies=[agency])
    services.set_status(opened, "open")
    db_session.commit()
    return opened


# --- reminders ------------------------------------------------------------------------------------------------


def _remind(client, campaign_id: int, min_days: str, headers: dict) -> str:
    token = extract_csrf(client.get(f"/campaigns/{campaign_id}/progress", headers=headers).get_data(as_text=True))
    response = client.post(f"/campaigns/{campaign_id}/remind", data={"csrf_token": token, "min_days": min_days},
                           headers=headers, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_reminder_interval_that_is_no_number_of_days_is_refused_in_the_persons_language(staff_client, campaign,
                                                                                          db_session):
    """-1, "abc" or 366 are refused with nothing sent (before, anything but a number was taken for 7 without a
    word); 0 reminds everyone, and the message does not speak of contacts reminded "less than 0 days ago"."""
    from sqlalchemy import func, select

    from app.mail.models import OutboxMessage

    def reminders() -> int:
        db_session.rollback()
        return db_session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "reminder"))

    for typed in ("-1", "abc", "366", "7.5"):
        page = _remind(staff_client, campaign.id, typed, EN)
        assert "The minimum interval is a whole number of days, from 0 to 365. No reminder was sent." in page, typed
    page = _remind(staff_client, campaign.id, "abc", RU)
    assert "flash-error" in page and "minimum interval" not in page
    assert "Минимальный интервал — целое число дней от 0 до 365. Напоминания не отправлены." in page
    assert reminders() == 0
    from app.campaigns import services

    services.invite(db_session.merge(campaign), send_email=False)  # just now: 0 days ago
    db_session.commit()
    page = _remind(staff_client, campaign.id, "0", EN)
    assert "2 reminder(s) queued." in page and "less than 0 days" not in page
    assert reminders() == 2


# --- answers a question does not allow --------------------------------------------------------------------------


@pytest.mark.parametrize("question_id, raw, english, russian", [
    ("has_ct_unit", "dont_know", "“Don't know” is not an allowed answer to this question.",
     "Ответ «Затрудняюсь ответить» недопустим для этого вопроса."),
    ("staff_total", "not_applicable", "“Not applicable” is not an allowed answer to this question.",
     "Ответ «Неприменимо» недопустим для этого вопроса."),
], ids=["dont_know", "not_applicable"])
def test_a_special_answer_a_question_does_not_allow_is_named_in_the_language(app_ctx, question_id, raw, english,
                                                                            russian):
    from app.i18n import force_locale
    from app.questionnaires.loader import load_file
    from app.questionnaires.qtypes import REGISTRY, AnswerError
    from app.responses.answering import message_text
    from tests.conftest import ROOT

    definition = load_file(ROOT / "tests" / "data" / "small_questionnaire.yaml").definition
    question = definition.question(question_id)
    with pytest.raises(AnswerError) as refused:
        REGISTRY[question.type].normalise(question, raw, definition=definition)
    with force_locale("en"):
        assert message_text(refused.value) == english
    with force_locale("ru"):
        assert message_text(refused.value) == russian


# --- error pages ------------------------------------------------------------------------------------------------


def test_a_refused_export_says_why_and_never_shows_the_servers_own_texts(staff_client, campaign):
    english = staff_client.get(f"/exports/campaigns/{campaign.id}/raw?format=pdf", headers=EN)
    assert english.status_code == 400
    assert "Unknown format “pdf”: choose xlsx, csv or csv-semicolon." in english.get_data(as_text=True)
    russian = staff_client.get(f"/exports/campaigns/{campaign.id}/raw?format=pdf", headers=RU)
    assert russian.status_code == 400
    page = russian.get_data(as_text=True)
    assert "Неизвестный формат «pdf»: выберите xlsx, csv или csv-semicolon." in page and "Некорректный запрос" in page
    # A description werkzeug writes itself (English, technical) is never shown: the page's own message is.
    missing = staff_client.get("/exports/campaigns/424242/raw", headers=RU).get_data(as_text=True)
    assert "requested URL was not found" not in missing and "Страница не найдена" in missing


# --- the application's name -----------------------------------------------------------------------------------


def _title_places(page: str) -> tuple[str, str, str]:
    """The name in the browser tab, the header and the footer of a page."""
    tab = page.split("<title>", 1)[1].split("</title>", 1)[0].rsplit(" · ", 1)[1]
    brand = page.split('class="brand"', 1)[1].split(">", 1)[1].split("<", 1)[0]
    footer = page.split('<footer class="site-footer">', 1)[1].split("<p>", 1)[1].split("</p>", 1)[0]
    return tab, brand, footer


def test_the_default_name_is_translated_on_every_page(client):
    english = client.get("/sign-in", headers=EN).get_data(as_text=True)
    assert _title_places(english) == ("Needs Assessment",) * 3
    russian = client.get("/sign-in", headers=RU).get_data(as_text=True)
    assert _title_places(russian) == ("Оценка потребностей",) * 3


def test_a_name_per_language_and_a_changed_name(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "APP_TITLE_RU", "Оценка потребностей ЕС")
    monkeypatch.setitem(app.config, "APP_TITLE_EN", "EU Needs Assessment")
    assert _title_places(client.get("/sign-in", headers=RU).get_data(as_text=True)) == ("Оценка потребностей ЕС",) * 3
    assert _title_places(client.get("/sign-in", headers=EN).get_data(as_text=True)) == ("EU Needs Assessment",) * 3
    monkeypatch.delitem(app.config, "APP_TITLE_EN")
    monkeypatch.setitem(app.config, "APP_TITLE", "CT Capacity Project")
    # A name that was changed is nobody's to translate: it is shown as it is where no per-language name is set.
    assert _title_places(client.get("/sign-in", headers=EN).get_data(as_text=True)) == ("CT Capacity Project",) * 3
    assert _title_places(client.get("/sign-in", headers=RU).get_data(as_text=True)) == ("Оценка потребностей ЕС",) * 3


def test_the_per_language_names_are_read_from_the_environment(tmp_path, monkeypatch):
    from app.config import load_config

    monkeypatch.setenv("APP_TITLE_RU", " Оценка потребностей ЕС ")
    monkeypatch.setenv("APP_TITLE_KK", "Қажеттіліктерді бағалау")
    monkeypatch.delenv("APP_TITLE", raising=False)
    config = load_config(str(tmp_path), {"TESTING": True})
    assert config["APP_TITLE"] == "Needs Assessment"
    assert config["APP_TITLE_RU"] == "Оценка потребностей ЕС" and config["APP_TITLE_KK"] == "Қажеттіліктерді бағалау"


def _invitations(db_session, campaign) -> dict[str, str]:
    from app.campaigns import services
    from app.mail.models import OutboxMessage

    services.invite(campaign, send_email=True)
    db_session.commit()
    return {m.recipient: m.body_text for m in db_session.scalars(select(OutboxMessage))}


def test_invitations_name_the_application_in_the_contacts_language(db_session, campaign):
    bodies = _invitations(db_session, campaign)
    assert "Needs Assessment invites Ministry of Internal Affairs" in bodies["en.contact@example.org"]
    russian = bodies["ru.contact@example.org"]
    assert "Needs Assessment" not in russian
    assert "приглашено заполнить анкету в системе «Оценка потребностей»" in russian
    assert russian.rstrip().endswith("Оценка потребностей")


def test_invitations_use_the_name_set_for_the_contacts_language(app, db_session, campaign, monkeypatch):
    monkeypatch.setitem(app.config, "APP_TITLE_RU", "Проект ЕС по оценке потребностей")
    bodies = _invitations(db_session, campaign)
    assert "Needs Assessment invites" in bodies["en.contact@example.org"]
    russian = bodies["ru.contact@example.org"]
    assert "в системе «Проект ЕС по оценке потребностей»" in russian
    assert russian.rstrip().endswith("Проект ЕС по оценке потребностей")
