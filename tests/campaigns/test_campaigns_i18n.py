"""Refusals of campaign operations are shown in the language of the person reading them (the command line keeps
DEFAULT_LOCALE)."""

from __future__ import annotations

import pytest

from tests.conftest import EN, RU, extract_csrf


@pytest.fixture
def draft(db_session, make_version):
    """A draft campaign asking no agency."""
    from app.campaigns import services

    campaign = services.create_campaign("Round 1", make_version())
    db_session.commit()
    return campaign


def _post(client, path: str, data: dict, headers: dict) -> str:
    token = extract_csrf(client.get("/campaigns/", headers=headers).get_data(as_text=True))
    response = client.post(path, data={**data, "csrf_token": token}, headers=headers, follow_redirects=True)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_opening_a_campaign_without_agencies_says_why_in_the_persons_language(app_ctx, staff_client, draft):
    english = _post(staff_client, f"/campaigns/{draft.id}/status", {"status": "open"}, EN)
    assert "flash-error" in english and "Choose at least one agency before opening the campaign." in english
    russian = _post(staff_client, f"/campaigns/{draft.id}/status", {"status": "open"}, RU)
    assert "flash-error" in russian and "choose at least one agency" not in russian
    assert "Прежде чем открыть опрос, выберите хотя бы одно ведомство" in russian
    # The command line keeps DEFAULT_LOCALE.
    result = app_ctx.test_cli_runner().invoke(args=["campaigns", "open", str(draft.id)])
    assert result.exit_code != 0 and "Choose at least one agency before opening the campaign." in result.output


def test_inviting_for_a_draft_is_refused_in_the_persons_language(staff_client, draft):
    english = _post(staff_client, f"/campaigns/{draft.id}/invite", {"country": ""}, EN)
    assert "Invitations can only be sent for an open campaign." in english
    russian = _post(staff_client, f"/campaigns/{draft.id}/invite", {"country": ""}, RU)
    assert "invitations can only be sent" not in russian
    assert "Приглашения можно отправлять только по открытому опросу" in russian


def test_a_target_outside_the_scale_is_named_in_russian(staff_client, draft, make_agency):
    agency = make_agency("KZ", "MVD")
    token = extract_csrf(staff_client.get(f"/campaigns/{draft.id}/edit", headers=RU).get_data(as_text=True))
    data = {"csrf_token": token, "name": "Round 1", "version": str(draft.version_id), "follow_up_of": "0",
            "agencies": [str(agency.id)], "targets": "KZ inv_unit 9"}
    english = staff_client.post(f"/campaigns/{draft.id}/edit", data=data, headers=EN)
    assert english.status_code == 422
    assert "Line 1: 9 is outside the scale, 0 to 4." in english.get_data(as_text=True)
    russian = staff_client.post(f"/campaigns/{draft.id}/edit", data=data, headers=RU)
    assert russian.status_code == 422
    page = russian.get_data(as_text=True)
    assert "outside the scale" not in page
    assert "Строка 1: 9 выходит за пределы шкалы (от 0 до 4)." in page
