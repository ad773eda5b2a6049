"""Account refusals in the reader's language, and a language chosen before signing in that stays chosen."""

from __future__ import annotations

from tests.conftest import EN, RU, extract_csrf, sign_in


def _create(client, email: str, headers: dict) -> str:
    token = extract_csrf(client.get("/admin/users/new", headers=headers).get_data(as_text=True))
    response = client.post("/admin/users/new", data={"email": email, "name": "", "role": "staff", "locale": "",
                                                     "password": "", "csrf_token": token}, headers=headers)
    assert response.status_code == 422
    return response.get_data(as_text=True)


def test_a_duplicate_account_is_refused_in_the_persons_language(client, make_user):
    admin = make_user("admin", email="admin@example.org")
    sign_in(client, admin.email)
    assert "A user with e-mail admin@example.org already exists." in _create(client, admin.email, EN)
    russian = _create(client, admin.email, RU)
    assert "already exists" not in russian
    assert "Пользователь с адресом admin@example.org уже существует" in russian


def test_the_language_chosen_on_the_sign_in_page_stays_after_signing_in(client, db_session, make_user):
    user = make_user("staff", locale="en")
    # Without a choice from the menu, the saved preference decides (the browser's language changes nothing).
    sign_in(client, user.email)
    page = client.get("/staff", headers=RU).get_data(as_text=True)
    assert '<html lang="en">' in page
    client.post("/sign-out", data={"csrf_token": extract_csrf(page)})
    # Choosing Russian on the sign-in page, then signing in: the pages stay in Russian, and the choice is saved.
    token = extract_csrf(client.get("/sign-in", headers=EN).get_data(as_text=True))
    client.post("/language", data={"locale": "ru", "next": "/sign-in", "csrf_token": token})
    assert sign_in(client, user.email).status_code == 302
    page = client.get("/staff", headers=EN).get_data(as_text=True)
    assert '<html lang="ru">' in page and "Обзор" in page
    db_session.refresh(user)
    assert user.locale == "ru"
