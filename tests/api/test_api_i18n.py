"""The `title` and `message` of API errors are for people: in the language of Accept-Language (English without
one); `code` stays the same in every language."""

from __future__ import annotations

from tests.conftest import RU


def _error(answer, status: int, code: str) -> dict:
    assert answer.status_code == status and answer.content_type == "application/json"
    error = answer.get_json()["error"]
    assert error["status"] == status and error["code"] == code
    return error


def test_a_refused_parameter_is_explained_in_russian(client, api_world):
    headers = {**api_world["auth"]["staff"], **RU}
    error = _error(client.get("/api/v1/agencies?per_page=0", headers=headers), 400, "invalid_parameter")
    assert error["details"] and error["details"][0]["location"] == "query.per_page"
    assert error["title"] == "Некорректный запрос"
    assert error["message"] == "Параметр запроса отсутствует, записан неверно или выходит за допустимые пределы."
    # what is wrong with each parameter is in Russian too, not pydantic's English
    assert error["details"][0]["message"] == "Должно быть не меньше 1"
    for query, location, message in (("countri=KZ", "query.countri", "Неизвестный параметр"),
                                     ("page=x", "query.page", "Должно быть целым числом"),
                                     ("per_page=101", "query.per_page", "Должно быть не больше 100")):
        refused = _error(client.get(f"/api/v1/agencies?{query}", headers=headers), 400, "invalid_parameter")
        assert refused["details"] == [{"location": location, "message": message}], query
    english = _error(client.get("/api/v1/agencies?per_page=0", headers=api_world["auth"]["staff"]), 400,
                     "invalid_parameter")
    assert english["details"][0]["message"] == "Must be at least 1"
    # the values a filter takes are listed without pydantic's English quotes and "or"
    refused = _error(client.get("/api/v1/campaigns?status=finished", headers=headers), 400, "invalid_parameter")
    assert refused["details"] == [{"location": "query.status",
                                   "message": "Допустимые значения: draft, open, closed"}]
    refused = _error(client.get("/api/v1/campaigns?status=finished", headers=api_world["auth"]["staff"]), 400,
                     "invalid_parameter")
    assert refused["details"][0]["message"] == "Must be one of: draft, open, closed"


def test_not_found_and_token_errors_are_in_russian_and_in_english_without_accept_language(client, api_world):
    english = _error(client.get("/api/v1/agencies/424242", headers=api_world["auth"]["staff"]), 404, "not_found")
    assert english["title"] == "Not Found" and english["message"] == "There is no such agency, or you may not see it."
    anonymous = _error(client.get("/api/v1/campaigns"), 401, "unauthorized")
    assert anonymous["title"] == "Unauthorized"
    assert anonymous["message"] == "Send a personal API token: Authorization: Bearer <token>."
    staff = {**api_world["auth"]["staff"], **RU}
    missing = _error(client.get("/api/v1/agencies/424242", headers=staff), 404, "not_found")
    assert missing["title"] == "Не найдено"
    assert missing["message"] == "Такого ведомства нет, или у вас нет к нему доступа."
    nowhere = _error(client.get("/api/v1/no-such-thing", headers=staff), 404, "not_found")
    assert nowhere["message"] == "По этому адресу ничего нет, или у вас нет к этому доступа."
    unknown = _error(client.get("/api/v1/campaigns", headers={"Authorization": "Bearer na_nope", **RU}), 401,
                     "invalid_token")
    assert unknown["title"] == "Требуется аутентификация" and "Authorization" not in unknown["message"]
    respondent = _error(client.get("/api/v1/campaigns", headers={**api_world["auth"]["respondent"], **RU}), 403,
                        "forbidden")
    assert respondent["title"] == "Доступ запрещён"
    assert respondent["message"] == "Пользоваться API могут только сотрудники проекта, администраторы и эксперты."


def test_a_server_error_message_is_in_russian(client, api_world, monkeypatch):
    from app.api import services

    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "campaigns_query", broken)
    error = _error(client.get("/api/v1/campaigns", headers={**api_world["auth"]["staff"], **RU}), 500,
                   "server_error")
    # Already in the catalogue: "An unexpected error happened. It has been logged; please try again later."
    assert error["message"] == "Произошла непредвиденная ошибка. Она записана в журнал; повторите попытку позже."
    assert error["title"] == "Внутренняя ошибка сервера"


def test_a_repeated_or_too_long_parameter_is_explained_in_the_callers_language(client, api_world):
    """A parameter given twice was called "not a whole number" (both values were); an over-long text and a
    repeated text filter were explained in pydantic's English on a Russian request."""
    headers = {**api_world["auth"]["staff"], **RU}
    campaign = api_world["campaign"]
    for path, location, russian, english in (
            ("/api/v1/responses?page=1&page=2", "query.page", "Указан несколько раз: укажите один раз",
             "Given more than once: give it once"),
            ("/api/v1/responses?country=KZ&country=TJ", "query.country", "Указан несколько раз: укажите один раз",
             "Given more than once: give it once"),
            (f"/api/v1/campaigns/{campaign}/scores?area={'a' * 81}", "query.area", "Не более 80 символов",
             "At most 80 characters")):
        refused = _error(client.get(path, headers=headers), 400, "invalid_parameter")
        assert refused["details"] == [{"location": location, "message": russian}], path
        refused = _error(client.get(path, headers=api_world["auth"]["staff"]), 400, "invalid_parameter")
        assert refused["details"] == [{"location": location, "message": english}], path
