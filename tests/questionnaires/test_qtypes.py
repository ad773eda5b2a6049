"""The question-type registry: normalising, emptiness and levels, type by type."""

from __future__ import annotations

from datetime import date

import pytest

from app.questionnaires.loader import load_file
from app.questionnaires.qtypes import REGISTRY, AnswerError
from tests.conftest import ROOT

DEFINITION = load_file(ROOT / "tests" / "data" / "small_questionnaire.yaml").definition


def q(question_id):
    return DEFINITION.question(question_id)


def normalise(question_id, raw, **kwargs):
    question = q(question_id)
    return REGISTRY[question.type].normalise(question, raw, definition=DEFINITION, **kwargs)


def scores(question_id, value):
    question = q(question_id)
    return REGISTRY[question.type].scores(question, value, DEFINITION)


@pytest.mark.parametrize("raw, expected", [("12", 12), (" 1 500 ", 1500), ("7,0", 7), (3.0, 3), (None, None),
                                           ("", None)])
def test_integer_number(raw, expected):
    assert normalise("staff_total", raw) == expected


def test_decimal_with_comma_in_russian_style():
    assert normalise("ct_unit_staff", "12,5") == 12.5


@pytest.mark.parametrize("raw, message", [("abc", "Enter a number, for example 12 or 12.5."),
                                          ("2.5", "Enter a whole number."),
                                          ("1e5", "Enter a number, for example 12 or 12.5."),
                                          (True, "Enter a number.")])
def test_number_refusals(raw, message):
    with pytest.raises(AnswerError) as info:
        normalise("staff_total", raw)
    assert str(info.value) == message


@pytest.mark.parametrize(("question_id", "raw", "message", "russian"), [
    ("ct_unit_staff", "1,234", "Is 1,234 meant as 1234 or as 1.234? Write 1234 without the comma, or 1.234 with a "
     "decimal point.", "Что означает 1,234: 1234 или дробное число 1.234? Напишите 1234 без запятой или дробное "
     "число с точкой: 1.234."),
    ("ct_unit_staff", "2,000", "Is 2,000 meant as 2000 or as 2? Write 2000 without the comma, or 2.",
     "Что означает 2,000: 2000 или 2? Напишите 2000 без запятой или 2."),
    ("staff_total", "1,200", "Write 1200 without the comma: the answer is a whole number.",
     "Напишите 1200 без запятой: ответом должно быть целое число."),
])
def test_a_comma_before_three_digits_is_asked_about_in_words_that_work(app_ctx, question_id, raw, message, russian):
    """1,234 is 1234 in English and 1.234 in Russian. The Russian message offered "1234 or 1,234", the very text
    refused; it now says to write the decimal with a point. A whole-number question has one reading left."""
    from flask_babel import force_locale, gettext

    with pytest.raises(AnswerError) as info:
        normalise(question_id, raw)
    assert str(info.value) == message
    with force_locale("ru"):
        assert gettext(info.value.message).format(**info.value.params) == russian


@pytest.mark.parametrize("raw", ["1000000000000000", "-1000000000000000", "99999999999999999999999999",
                                 "1" * 400, 10**15, 10**400, 1e26, float("inf"), float("nan")])
def test_numbers_of_more_than_15_digits_are_refused(raw):
    """A float keeps every digit of a whole number only up to about 9 x 10**15: beyond 15 digits an answer would
    be stored rounded (99999999999999999999999999 as 1e26), so it is refused instead."""
    with pytest.raises(AnswerError) as info:
        normalise("ct_unit_staff", raw)
    assert str(info.value) == "The number is too large: at most 15 digits before the decimal sign."


@pytest.mark.parametrize(("raw", "params"), [
    ("1,200", {"thousands": "1200", "decimal": "1.2"}),
    ("-12,050", {"thousands": "-12050", "decimal": "-12.05"}),
    (" 1,000 ", {"thousands": "1000", "decimal": "1"}),
])
def test_a_comma_before_exactly_three_digits_is_refused_with_both_readings(raw, params):
    with pytest.raises(AnswerError) as info:
        normalise("ct_unit_staff", raw)
    assert info.value.params == {"text": raw.strip(), **params}


@pytest.mark.parametrize(("raw", "expected"), [("1,2", 1.2), ("1,25", 1.25), ("1,2500", 1.25), ("1234,567", 1234.567),
                                               ("1 200,500", 1200.5), ("1200", 1200)])
def test_a_comma_is_a_decimal_sign_where_it_cannot_be_a_thousands_separator(raw, expected):
    assert normalise("ct_unit_staff", raw) == expected


def test_numbers_of_15_digits_are_kept_exactly():
    assert normalise("ct_unit_staff", "999 999 999 999 999") == 999999999999999
    assert normalise("ct_unit_staff", "-999999999999999,5") == -999999999999999.5
    assert normalise("ct_unit_staff", 123456789012345) == 123456789012345


@pytest.mark.parametrize(("raw", "message"), [
    ("31.02.2026", "There is no such date: 31.02.2026. Check the day and the month."),
    ("2026-02-30", "There is no such date: 2026-02-30. Check the day and the month."),
    ("2026-13-01", "There is no such date: 2026-13-01. Check the day and the month."),
    ("2026/02/01", "Enter a date as YYYY-MM-DD (or DD.MM.YYYY)."),
    ("yesterday", "Enter a date as YYYY-MM-DD (or DD.MM.YYYY)."),
])
def test_a_date_that_is_not_in_the_calendar_is_named_as_such(raw, message):
    with pytest.raises(AnswerError) as info:
        normalise("answered_on", raw, today=date(2026, 6, 1))
    assert str(info.value) == message


def test_number_thresholds_give_levels():
    assert scores("ct_unit_staff", 0.5) == [("inv_unit", None, 1)]
    assert scores("ct_unit_staff", 1) == [("inv_unit", 1, 1)]
    assert scores("ct_unit_staff", 49) == [("inv_unit", 3, 1)]
    assert scores("ct_unit_staff", 50) == [("inv_unit", 4, 1)]


def test_yes_no_defaults_and_special_answers():
    assert normalise("has_ct_unit", "Yes") == "yes"
    assert normalise("has_ct_unit", "partly") == "partly"
    assert normalise("has_ct_unit", "not_applicable") == "not_applicable"
    assert scores("has_ct_unit", "yes") == [("inv_unit", 4, 1)]
    assert scores("has_ct_unit", "partly") == [("inv_unit", 2, 1)]  # middle of 0..4
    assert scores("has_ct_unit", "no") == [("inv_unit", 0, 1)]
    assert scores("has_ct_unit", "not_applicable") == [("inv_unit", None, 1)]
    with pytest.raises(AnswerError, match="is not an allowed answer"):
        normalise("has_ct_unit", "dont_know")
    with pytest.raises(AnswerError, match="not one of the choices"):
        normalise("has_ct_unit", "maybe")


def test_multiple_choice_share_of_scoring_options():
    assert normalise("training_topics", ["digital", "financing"]) == ["financing", "digital"]  # definition order
    assert normalise("training_topics", "financing, rights") == ["financing", "rights"]
    # 3 scoring options (financing, digital, rights); "other" has no score
    assert scores("training_topics", ["financing"]) == [("inv_training", pytest.approx(4 / 3), 1)]
    assert scores("training_topics", ["other"]) == [("inv_training", 0, 1)]
    assert scores("training_topics", ["financing", "digital", "rights", "other"]) == [("inv_training", 4, 1)]
    assert normalise("training_topics", ["dont_know"]) == "dont_know"
    with pytest.raises(AnswerError, match="cannot be combined"):
        normalise("training_topics", ["dont_know", "digital"])
    with pytest.raises(AnswerError, match="“ghost” is not one of the choices"):
        normalise("training_topics", ["ghost"])


def test_matrix_rows_score_their_own_indicators():
    value = normalise("skills", {"interviewing": "3", "forensics": 1})
    assert value == {"interviewing": 3, "forensics": 1}
    assert scores("skills", value) == [("inv_training", 3, 1), ("inv_unit", 1, 1)]
    assert scores("skills", {"interviewing": 2}) == [("inv_training", 2, 1), ("inv_unit", None, 1)]
    with pytest.raises(AnswerError, match="not allowed in row"):
        normalise("skills", {"interviewing": "9"})
    with pytest.raises(AnswerError, match="Unknown row"):
        normalise("skills", {"ghost": "1"})


def test_dates():
    assert normalise("answered_on", "2026-01-31", today=date(2026, 11, 22)) == "2026-01-31"
    assert normalise("answered_on", "31.01.2026", today=date(2026, 11, 22)) == "2026-01-31"
    with pytest.raises(AnswerError, match="must not be after 2026-11-22"):
        normalise("answered_on", "2026-12-01", today=date(2026, 11, 22))
    with pytest.raises(AnswerError, match="Enter a date"):
        normalise("answered_on", "yesterday")


@pytest.mark.parametrize("text", ["Министерство внутренних дел", "Қазақстан Республикасы Ішкі істер министрлігі",
                                  "Oʻzbekiston Respublikasi", "שלום עולם", "Emoji 🚓🛂", "tab\tand\nnewline",
                                  "  spaces kept  "])
def test_text_is_kept_exactly(text):
    assert normalise("priorities", text) == text


def test_text_limits_and_nul():
    with pytest.raises(AnswerError, match="too long: 501 characters, at most 500"):
        normalise("agency_name", "x" * 501)
    with pytest.raises(AnswerError, match="cannot be stored"):
        normalise("agency_name", "a\x00b")


def test_emptiness():
    for question_id, empty in (("agency_name", ""), ("training_topics", []), ("skills", {}), ("staff_total", None)):
        question = q(question_id)
        assert REGISTRY[question.type].is_empty(question, empty)
    assert not REGISTRY["yes_no"].is_empty(q("has_ct_unit"), "not_applicable")


def test_file_type_and_size_limits():
    from app.questionnaires.schema import Question

    question = Question(id="f", type="file", label="Evidence", file_types=["pdf"], max_size_mb=1)
    file_type = REGISTRY["file"]
    ok = {"name": "law.PDF", "key": "abc", "size": 1000, "content_type": "application/pdf"}
    assert file_type.normalise(question, ok) == ok
    with pytest.raises(AnswerError, match="“exe” are not accepted; allowed: PDF"):
        file_type.normalise(question, dict(ok, name="x.exe"))
    with pytest.raises(AnswerError, match="larger than 1 MB"):
        file_type.normalise(question, dict(ok, size=2 * 1024 * 1024))


def test_a_jpeg_photo_is_a_jpg():
    """The default types list JPG: a camera's photo.jpeg (or .JPE) is one too; a question for JPEG takes .jpg."""
    from app.questionnaires.schema import Question

    file_type = REGISTRY["file"]
    photo = {"name": "photo.jpeg", "key": "abc", "size": 1000, "content_type": "image/jpeg"}
    default = Question(id="f", type="file", label="Evidence")
    assert file_type.normalise(default, photo) == photo
    assert file_type.normalise(default, dict(photo, name="scan.JPE"))["name"] == "scan.JPE"
    assert file_type.normalise(Question(id="g", type="file", label="Photo", file_types=["jpeg"]),
                               dict(photo, name="photo.jpg"))["name"] == "photo.jpg"
    assert default.accepted_extensions == ["pdf", "docx", "xlsx", "jpg", "png", "jpeg", "jpe"]
    with pytest.raises(AnswerError, match="“gif” are not accepted; allowed: PDF, DOCX, XLSX, JPG, PNG"):
        file_type.normalise(default, dict(photo, name="anim.gif"))


def test_every_type_is_registered_with_a_kind():
    from app.questionnaires.schema import QUESTION_TYPES

    assert set(REGISTRY) == set(QUESTION_TYPES)
    assert {REGISTRY[t].kind for t in QUESTION_TYPES} <= {"number", "string", "date", "list", "matrix", "file"}


@pytest.mark.parametrize("typed", ["0,00001", "0.000000015", "123456789.125", "12,5", "-0,0003"])
def test_a_stored_number_is_shown_back_as_the_box_accepts_it(typed):
    """0,00001 is stored as the float 1e-05; the form showed "1e-05", which the box then refused on the next
    save of the untouched page. Shown written out, it reads back as the same number."""
    from app.questionnaires.forms import _display
    from app.questionnaires.schema import Question

    question = Question(id="n", type="number", label="Budget")
    stored = REGISTRY["number"].normalise(question, typed)
    shown = _display(stored)
    assert "e" not in shown.lower() and REGISTRY["number"].normalise(question, shown) == stored


@pytest.mark.parametrize("typed, stored", [("2024-03-08", "2024-03-08"), ("20240308", "2024-03-08"),
                                           ("8.3.2024", "2024-03-08"), ("2024-W10-5", None), ("2024-068", None)])
def test_dates_are_calendar_dates_only(typed, stored):
    """A week date (2024-W10-5) or an ordinal date (2024-068) is no answer anyone means: refused (it was stored
    as 2024-03-08)."""
    from app.questionnaires.schema import Question

    question = Question(id="d", type="date", label="Date")
    if stored is None:
        with pytest.raises(AnswerError, match="Enter a date as YYYY-MM-DD"):
            REGISTRY["date"].normalise(question, typed)
    else:
        assert REGISTRY["date"].normalise(question, typed) == stored
