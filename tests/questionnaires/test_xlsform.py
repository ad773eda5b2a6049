"""XLSForm import and export: each supported feature, each refusal, lenient reading, round trip, pyxform."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest

from app.questionnaires.xlsform import (
    ImportResult,
    export_xlsform,
    export_xlsform_bytes,
    import_xlsform,
)
from app.questionnaires.xlsform_read import language_code, parse_header, parse_type

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "xlsforms"
MESSAGE_RE = re.compile(r"^\S.* (row \d+|sheet): \S")


def workbook(survey: list[list], choices: list[list] | None = None, settings: list[list] | None = None,
             sheets: dict[str, list[list]] | None = None, names: dict[str, str] | None = None) -> bytes:
    """An .xlsx XLSForm built from rows (the first row of each sheet is the header)."""
    names = names or {}
    book = openpyxl.Workbook()
    book.active.title = names.get("survey", "survey")
    for row in survey:
        book.active.append(row)
    for key, rows in (("choices", choices), ("settings", settings), *((sheets or {}).items())):
        if rows is None:
            continue
        sheet = book.create_sheet(names.get(key, key))
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def run(survey, choices=None, settings=None, **kwargs) -> ImportResult:
    """Import a workbook built from rows; every message must name a sheet and a row or the sheet."""
    result = import_xlsform(workbook(survey, choices, settings, **kwargs), "test.xlsx")
    for message in [*result.problems, *result.skipped, *result.notes]:
        assert MESSAGE_RE.match(message), message
    return result


def imported(survey, choices=None, settings=None, **kwargs) -> dict:
    """The imported definition as a dict (the import must succeed)."""
    result = run(survey, choices, settings, **kwargs)
    assert not result.problems, result.problems
    assert result.definition is not None
    return result.definition.to_dict()


def questions(data: dict) -> dict[str, dict]:
    """All questions of a definition dict by id."""
    return {q["id"]: q for s in data["sections"] for q in s["questions"]}


def messages(items) -> str:
    """All messages joined, for `in` checks."""
    return "\n".join(items)


YES_NO = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


# ---------------------------------------------------------------------------------------------------------
# Reading helpers


@pytest.mark.parametrize(("header", "expected"), [
    ("label::English (en)", ("label", "English (en)")),
    ("label::English(en)", ("label", "English(en)")),
    ("Label:English", ("label", "English")),
    ("LABEL::EN", ("label", "EN")),
    ("list name", ("list_name", None)),
    ("List_Name", ("list_name", None)),
    ("bind::relevant", ("relevant", None)),
    ("bind:jr:constraintMsg", ("constraint_message", None)),
    ("constraint message::Français", ("constraint_message", "Français")),
    ("body::accept", ("accept", None)),
    (" type ", ("type", None)),
])
def test_parse_header_is_lenient(header, expected):
    assert parse_header(header) == expected


@pytest.mark.parametrize(("raw", "code"), [
    ("English (en)", "en"), ("English(en)", "en"), ("Русский (ru)", "ru"), ("Russian", "ru"),
    ("русский", "ru"), ("French", "fr"), ("Français", "fr"), ("EN", "en"), ("Українська (uk)", "uk"),
    ("Eng (en)", "en"), ("Local language", None), ("Language2", None),
])
def test_language_codes(raw, code):
    assert language_code(raw) == code


@pytest.mark.parametrize(("cell", "kind", "list_name", "or_other"), [
    ("select_one yn", "select_one", "yn", False),
    ("select one yn", "select_one", "yn", False),
    ("  Select_One   yn  or_other ", "select_one", "yn", True),
    ("select_multiple from_country", "select_multiple", "from_country", False),
    ("select all that apply tools", "select_multiple", "tools", False),
    ("select_one_from_file places.csv", "select_one_from_file", "places.csv", False),
    ("begin group", "begin_group", None, False),
    ("end_group", "end_group", None, False),
    ("begin repeat", "begin_repeat", None, False),
    ("string", "text", None, False),
    ("int", "integer", None, False),
])
def test_parse_type_is_lenient(cell, kind, list_name, or_other):
    parsed = parse_type(cell)
    assert (parsed.kind, parsed.list_name, parsed.or_other) == (kind, list_name, or_other)


# ---------------------------------------------------------------------------------------------------------
# Supported features


def test_question_types_and_two_languages():
    data = imported(
        [["type", "name", "label::English (en)", "label::Русский (ru)", "hint::English (en)"],
         ["select_one yn", "q_one", "One?", "Один?", "Pick one"],
         ["select_multiple tools", "q_many", "Many", "Много", ""],
         ["integer", "q_int", "Int", "Целое", ""],
         ["decimal", "q_dec", "Dec", "Дробное", ""],
         ["text", "q_text", "Text", "Текст", ""],
         ["text", "q_long", "Long", "Длинный", ""],
         ["date", "q_date", "Date", "Дата", ""],
         ["note", "q_note", "Note", "Заметка", ""]],
        [["list_name", "name", "label::English (en)", "label::Русский (ru)"],
         ["yn", "yes", "Yes", "Да"], ["yn", "no", "No", "Нет"],
         ["tools", "a", "A", "А"], ["tools", "b", "B", "Б"]])
    assert data["languages"] == ["en", "ru"]
    qs = questions(data)
    assert {k: q["type"] for k, q in qs.items()} == {
        "q_one": "single_choice", "q_many": "multiple_choice", "q_int": "number", "q_dec": "number",
        "q_text": "text", "q_long": "text", "q_date": "date", "q_note": "note"}
    assert qs["q_one"]["label"] == {"en": "One?", "ru": "Один?"}
    assert qs["q_one"]["hint"] == {"en": "Pick one"}
    assert [c["value"] for c in qs["q_one"]["choices"]] == ["yes", "no"]
    assert qs["q_many"]["choices"][1]["label"] == {"en": "B", "ru": "Б"}
    assert qs["q_int"]["integer"] is True
    assert not qs["q_dec"].get("integer")


def test_plain_label_is_the_default_language_from_settings():
    data = imported([["type", "name", "label", "label::English (en)"], ["text", "q", "Вопрос", "Question"]],
                    settings=[["form_id", "form_title", "default_language"],
                              ["my_form", "Анкета", "Русский (ru)"]])
    assert data["languages"] == ["ru", "en"]
    assert questions(data)["q"]["label"] == {"ru": "Вопрос", "en": "Question"}
    assert data["id"] == "my_form"
    assert data["title"] == "Анкета"  # a plain text: the default language


def test_plain_label_without_settings_is_english_and_form_id_comes_from_file_name():
    result = import_xlsform(workbook([["type", "name", "label"], ["text", "q", "Question"]]), "My Form.xlsx")
    data = result.definition.to_dict()
    assert data["languages"] == ["en"]
    assert data["id"] == "my-form"


def test_top_level_groups_become_sections_and_loose_questions_a_default_section():
    data = imported([
        ["type", "name", "label", "relevant", "hint"],
        ["text", "intro", "Intro", "", ""],
        ["begin_group", "legal", "Legal framework", "${intro} != ''", "About laws"],
        ["text", "law", "Law?", "", ""],
        ["end_group", "", "", "", ""],
        ["begin group", "ops", "Operations", "", ""],
        ["integer", "staff", "Staff", "", ""],
        ["end group", "", "", "", ""],
    ])
    assert [s["id"] for s in data["sections"]] == ["main", "legal", "ops"]
    legal = data["sections"][1]
    assert legal["title"] == "Legal framework"  # plain columns give plain texts (the default language)
    assert legal["description"] == "About laws"
    assert legal["show_if"] == "${intro} != ''"
    assert [q["id"] for q in legal["questions"]] == ["law"]


def test_nested_groups_are_flattened_into_a_note_and_their_relevant_is_combined():
    data = imported([
        ["type", "name", "label", "relevant"],
        ["begin_group", "sec", "Section", ""],
        ["select_one yn", "has", "Has?", ""],
        ["begin_group", "details", "Details", "${has} = 'yes'"],
        ["integer", "count", "How many?", "${has} != 'no' or true()"],
        ["begin_group", "unlabelled", "", ""],
        ["text", "deep", "Deep", ""],
        ["end_group", "", "", ""],
        ["end_group", "", "", ""],
        ["end_group", "", "", ""],
    ], YES_NO)
    section = data["sections"][0]
    assert [q["id"] for q in section["questions"]] == ["has", "details", "count", "deep"]
    qs = questions(data)
    assert qs["details"]["type"] == "note"
    assert qs["details"]["label"] == "Details"
    assert qs["details"]["show_if"] == "${has} = 'yes'"
    assert qs["count"]["show_if"] == "(${has} = 'yes') and (${has} != 'no' or true())"
    assert qs["deep"]["show_if"] == "${has} = 'yes'"


def test_relevant_constraint_required_messages_default_appearance():
    data = imported(
        [["type", "name", "label", "relevant", "constraint", "constraint_message", "required",
          "required_message", "default", "appearance"],
         ["select_one yn", "a", "A", "", "", "", "yes", "Please answer", "no", "minimal"],
         ["integer", "b", "B", "${a} = 'yes'", ". >= 1 and . <= 10", "1 to 10", "TRUE", "", "5", ""],
         ["text", "c", "C", "", "", "", "true()", "", "", ""],
         ["text", "d", "D", "", "", "", "1", "", "", ""],
         ["text", "e", "E", "", "", "", "no", "", "", ""]],
        YES_NO)
    qs = questions(data)
    assert qs["a"]["required"] is True
    assert qs["a"]["required_message"] == "Please answer"
    assert qs["a"]["default"] == "no"
    assert qs["a"]["appearance"] == "minimal"
    assert qs["b"]["show_if"] == "${a} = 'yes'"
    assert qs["b"]["constraint"] == ". >= 1 and . <= 10"
    assert qs["b"]["constraint_message"] == "1 to 10"
    assert qs["b"]["default"] == 5
    assert qs["c"]["required"] is True and qs["d"]["required"] is True
    assert not qs["e"].get("required")


def test_names_are_turned_into_valid_ids_and_references_follow():
    result = run([["type", "name", "label", "relevant"],
                  ["select_one yn", "HasUnit", "Has?", ""],
                  ["text", "Unit-Name", "Name", "${HasUnit} = 'yes'"]], YES_NO)
    data = result.definition.to_dict()
    qs = questions(data)
    assert set(qs) == {"hasunit", "unit_name"}
    assert qs["unit_name"]["show_if"] == "${hasunit} = 'yes'"
    assert "HasUnit → hasunit" in messages(result.notes)


def test_cyrillic_names_are_transliterated_into_ids_and_references_follow():
    result = run([["type", "name", "label", "relevant"],
                  ["select_one yn", "ЕстьПодразделение", "Есть ли подразделение?", ""],
                  ["integer", "Численность_штата", "Численность", "${ЕстьПодразделение} = 'yes'"],
                  ["text", "Численность штата", "Ещё одна", ""]], YES_NO)
    qs = questions(result.definition.to_dict())
    assert list(qs) == ["estpodrazdelenie", "chislennost_shtata", "chislennost_shtata_2"]
    assert qs["chislennost_shtata"]["show_if"] == "${estpodrazdelenie} = 'yes'"
    assert "ЕстьПодразделение → estpodrazdelenie" in messages(result.notes)


def test_or_other_adds_an_other_choice_and_a_text_question():
    result = run([["type", "name", "label"], ["select_one yn or_other", "src", "Source"]], YES_NO)
    qs = questions(result.definition.to_dict())
    assert [c["value"] for c in qs["src"]["choices"]] == ["yes", "no", "other"]
    assert qs["src_other"]["type"] == "text"
    assert qs["src_other"]["show_if"] == "selected(${src}, 'other')"
    assert "survey row 2: 'or_other'" in messages(result.notes)


def test_a_dont_know_or_not_applicable_choice_becomes_the_questions_special_answer():
    """Many forms (REACH's among them) list dont_know as a choice: the import was refused with a message about a
    YAML path. The choice is the question's special answer, said once per list in a note naming its row."""
    choices = [["list_name", "name", "label"], ["src", "police", "Police"], ["src", "court", "Court"],
               ["src", "dont_know", "Don't know"], ["src", "not_applicable", "N/A"]]
    result = run([["type", "name", "label"], ["select_one src", "main", "Main source"],
                  ["select_multiple src", "all", "All sources"]], choices)
    assert not result.problems, result.problems
    qs = questions(result.definition.to_dict())
    for qid in ("main", "all"):
        assert [c["value"] for c in qs[qid]["choices"]] == ["police", "court"]
        assert qs[qid]["dont_know"] is True and qs[qid]["not_applicable"] is True
    notes = messages(result.notes)
    assert notes.count("choice 'dont_know' of list 'src' is offered as the question's special answer") == 1
    assert "choices row 4: choice 'dont_know' of list 'src'" in notes
    assert "choices row 5: choice 'not_applicable' of list 'src'" in notes


def test_one_check_message_on_two_sheets_names_the_rows_of_both():
    """A translation missing from two survey rows and from a choice row: grouped by message alone, the note named
    the survey rows and left the choice row out."""
    result = run([["type", "name", "label::English (en)", "label::Russian (ru)"],
                  ["text", "a", "A", ""], ["text", "b", "B", ""], ["select_one src", "c", "C", "В"]],
                 [["list_name", "name", "label::English (en)", "label::Russian (ru)"],
                  ["src", "x", "X", "Икс"], ["src", "y", "Y", ""]])
    assert not result.problems, result.problems
    missing = [n for n in result.notes if "no 'ru' translation" in n]
    assert len(missing) == 2, missing
    assert any(n.startswith("survey row 2:") and "in 2 rows (2, 3)" in n for n in missing), missing
    assert any(n.startswith("choices row 3:") for n in missing), missing


def test_acknowledge_becomes_a_single_choice_with_ok():
    qs = questions(imported([["type", "name", "label"], ["acknowledge", "ok", "I agree"]]))
    assert qs["ok"]["type"] == "single_choice"
    assert [c["value"] for c in qs["ok"]["choices"]] == ["OK"]


def test_range_becomes_a_scale_when_it_matches_else_a_number():
    qs = questions(imported([["type", "name", "label", "parameters"],
                             ["range", "level", "Level", "start=0 end=4 step=1"],
                             ["range", "pct", "Percent", "start=0 end=100 step=5"],
                             ["range", "dflt", "Default", ""]]))
    assert qs["level"]["type"] == "scale"
    pct = qs["pct"]
    assert (pct["type"], pct["min"], pct["max"], pct["integer"]) == ("number", 0, 100, True)
    assert (qs["dflt"]["min"], qs["dflt"]["max"]) == (1, 10)


def test_file_and_image_become_file_questions():
    qs = questions(imported([["type", "name", "label", "body::accept"],
                             ["image", "photo", "Photo", ""],
                             ["file", "doc", "Document", ".pdf,.docx"]]))
    assert qs["photo"]["type"] == "file" and qs["photo"]["file_types"] == ["jpg", "png"]
    assert qs["doc"]["file_types"] == ["pdf", "docx"]


def test_a_file_size_above_what_the_server_takes_is_refused_with_its_row():
    result = run([["type", "name", "label", "na_max_size_mb"],
                  ["text", "a", "A", ""],
                  ["file", "doc", "Document", 200]])
    assert result.definition is None
    assert messages(result.problems).startswith("survey row 3: ")
    assert "max_size_mb is at most 50 (MB; got 200): the server refuses larger uploads" in messages(result.problems)
    assert questions(imported([["type", "name", "label", "na_max_size_mb"],
                               ["file", "doc", "Document", 50]]))["doc"]["max_size_mb"] == 50


def test_scoring_columns_indicator_score_weight_and_our_sheets():
    data = imported(
        [["type", "name", "label", "indicator", "weight"], ["select_one lvl", "q", "Q", "ind_a", "2"]],
        [["list_name", "name", "label", "score"], ["lvl", "none", "None", "0"], ["lvl", "full", "Full", "4"]],
        sheets={"indicators": [["area", "area_label::English (en)", "indicator", "label::English (en)",
                                "target", "weight", "aggregation"],
                               ["legal", "Legal", "ind_a", "Laws", 3, 2, "max"]],
                "scale": [["level", "label::English (en)"], [0, "Zero"], [1, "One"], [2, "Two"], [3, "Three"],
                          [4, "Four"]]})
    q = questions(data)["q"]
    assert q["indicator"] == "ind_a" and q["weight"] == 2
    assert [c.get("score") for c in q["choices"]] == [0, 4]
    assert [s["level"] for s in data["scale"]] == [0, 1, 2, 3, 4]
    assert data["scale"][1]["label"] == {"en": "One"}
    area = data["areas"][0]
    assert area["id"] == "legal" and area["title"] == {"en": "Legal"}
    assert area["indicators"][0]["id"] == "ind_a"
    assert (area["indicators"][0]["target"], area["indicators"][0]["aggregation"]) == (3, "max")


def test_foreign_form_gets_the_default_scale_and_no_areas():
    data = imported([["type", "name", "label"], ["text", "q", "Q"]])
    assert [s["level"] for s in data["scale"]] == [0, 1, 2, 3, 4]
    assert not data.get("areas")


# ---------------------------------------------------------------------------------------------------------
# Refusals and skipped parts


def test_repeat_is_refused_with_sheet_row_and_feature():
    result = run([["type", "name", "label"],
                  ["text", "a", "A"],
                  ["begin_repeat", "people", "People"],
                  ["text", "person", "Person"],
                  ["end_repeat", "", ""]])
    assert result.definition is None
    assert "survey row 3: repeat groups (begin_repeat) are not supported" in result.problems


def test_missing_choice_list_is_refused():
    result = run([["type", "name", "label"], ["select_one nowhere", "a", "A"]], YES_NO)
    assert result.definition is None
    assert "survey row 2: choice list 'nowhere' is not on the choices sheet" in result.problems


def test_unbalanced_groups_are_refused():
    result = run([["type", "name", "label"], ["begin_group", "g", "G"], ["text", "a", "A"]])
    assert result.definition is None
    assert any(p.startswith("survey row 2:") and "no matching end" in p for p in result.problems)
    result = run([["type", "name", "label"], ["text", "a", "A"], ["end_group", "", ""]])
    assert any(p.startswith("survey row 3:") for p in result.problems)


def test_calculate_used_by_a_relevant_is_refused():
    result = run([["type", "name", "label", "calculation", "relevant"],
                  ["integer", "age", "Age", "", ""],
                  ["calculate", "adult", "", "${age} >= 18", ""],
                  ["text", "job", "Job", "", "${adult} = 1"]])
    assert result.definition is None
    assert any(p.startswith("survey row 4: relevant refers to ${adult} (survey row 3: calculations")
               for p in result.problems)


def test_unreferenced_calculate_metadata_and_unsupported_types_are_skipped():
    result = run([["type", "name", "label", "calculation"],
                  ["start", "start", "", ""],
                  ["calculate", "total", "", "1 + 1"],
                  ["geopoint", "where", "Where", ""],
                  ["audio", "voice", "Voice", ""],
                  ["barcode", "code", "Code", ""],
                  ["select_one_from_file places.csv", "place", "Place", ""],
                  ["select_one_external ext", "ext", "Ext", ""],
                  ["text", "kept", "Kept", ""]])
    assert list(questions(result.definition.to_dict())) == ["kept"]
    text = messages(result.skipped)
    for expected in ["survey row 2: metadata fields (start)", "survey row 3: calculations (calculate)",
                     "survey row 4: geo questions (geopoint)", "survey row 5: audio questions",
                     "survey row 6: barcode questions",
                     "survey row 7: external choice lists (select_one_from_file)",
                     "survey row 8: external choice lists (select_one_external)"]:
        assert expected in text


def test_choice_filter_and_search_appearance_are_reported():
    result = run([["type", "name", "label", "choice_filter", "appearance"],
                  ["select_one yn", "a", "A", "filter = 'x'", ""],
                  ["select_one yn", "b", "B", "", "search('places')"]], YES_NO)
    assert list(questions(result.definition.to_dict())) == ["a"]
    text = messages(result.skipped)
    assert "survey row 2: cascading choices (choice_filter) are not supported" in text
    assert "survey row 3: search() appearances" in text


def test_unreadable_or_unsupported_expressions_are_skipped_and_the_question_kept():
    result = run([["type", "name", "label", "relevant", "constraint"],
                  ["integer", "a", "A", "", ""],
                  ["integer", "b", "B", "${a} > (1", ""],
                  ["integer", "c", "C", "", "pulldata('x', 'y', 'z', ${a})"]])
    qs = questions(result.definition.to_dict())
    assert set(qs) == {"a", "b", "c"}
    assert "show_if" not in qs["b"] and "constraint" not in qs["c"]
    text = messages(result.skipped)
    assert "survey row 3: relevant '${a} > (1' could not be read" in text
    assert "survey row 4: constraint 'pulldata(" in text


def test_a_reference_to_a_question_the_form_does_not_have_is_an_error():
    """A broken form (pyxform refuses it, and so does our YAML loader): dropping the rule would show the question
    to everyone, or accept any value, without a word."""
    for column in ("relevant", "constraint"):
        result = run([["type", "name", "label", column],
                      ["integer", "a", "A", ""],
                      ["integer", "d", "D", "${nowhere} = 1"]])
        assert result.definition is None
        assert f"survey row 3: {column} refers to ${{nowhere}}, which is not a question of this form" in \
            messages(result.problems)


def test_constraint_referencing_a_skipped_question_is_skipped():
    result = run([["type", "name", "label", "constraint"],
                  ["geopoint", "gps", "GPS", ""],
                  ["integer", "n", "N", ". > ${gps}"]])
    assert "constraint" not in questions(result.definition.to_dict())["n"]
    assert "survey row 3: constraint refers to ${gps}" in messages(result.skipped)


def test_conditional_required_dynamic_default_and_unknown_columns_are_reported():
    result = run([["type", "name", "label", "required", "default", "media::image::English", "chapter"],
                  ["integer", "a", "A", "", "", "a.png", "one"],
                  ["integer", "b", "B", "${a} > 1", "${a} + 1", "", "two"]])
    text = messages(result.skipped)
    assert "survey row 3: conditional required '${a} > 1' is not supported" in text
    assert "survey row 3: default '${a} + 1'" in text
    assert "survey row 2: column 'media::image::English' ignored" in text
    assert "survey row 2: column 'chapter' ignored" in text and "in 2 rows (2, 3)" in text
    assert not questions(result.definition.to_dict())["b"].get("required")


def test_extra_sheets_unknown_languages_and_unused_settings_are_reported():
    result = run([["type", "name", "label::English (en)", "label::Local language"], ["text", "a", "A", "Aa"]],
                 settings=[["form_title", "style"], ["T", "pages"]], sheets={"notes": [["x"], ["y"]]})
    text = messages(result.skipped)
    assert "notes sheet: extra sheet ignored" in text
    assert "survey row 1: columns in language 'Local language' ignored" in text
    assert "settings row 2: setting 'style'" in text
    assert result.definition.to_dict()["languages"] == ["en"]


def test_group_named_like_its_question_keeps_the_name_for_the_question():
    result = run([["type", "name", "label", "relevant"],
                  ["begin_group", "sec", "Section", ""],
                  ["begin_group", "permission", "Permission", ""],
                  ["select_one yn", "permission", "Permission given?", ""],
                  ["end_group", "", "", ""],
                  ["text", "why", "Why not?", "${permission} = 'no'"],
                  ["end_group", "", "", ""]], YES_NO)
    qs = questions(result.definition.to_dict())
    assert list(qs) == ["permission_group", "permission", "why"]
    assert qs["permission"]["type"] == "single_choice"
    assert qs["why"]["show_if"] == "${permission} = 'no'"


def test_references_in_labels_are_renamed_or_unwrapped_and_reported():
    result = run([["type", "name", "label", "calculation"],
                  ["text", "Name", "Name", ""],
                  ["calculate", "total", "", "1"],
                  ["note", "hello", "Hello ${Name}, total ${total}", ""]])
    label = questions(result.definition.to_dict())["hello"]["label"]
    assert label == "Hello ${name}, total [total]"
    text = messages(result.skipped)
    assert "survey row 4: references to answers in labels (${name}) are not filled in" in text
    assert "survey row 4: labels refer to ${total}, which was not imported; written as [total]" in text


def test_relevant_on_itself_or_with_current_value_is_skipped():
    result = run([["type", "name", "label", "relevant"],
                  ["integer", "a", "A", "${a} > 1"],
                  ["integer", "b", "B", ". > 1"],
                  ["integer", "c", "C", "/data/a > 1"]])
    qs = questions(result.definition.to_dict())
    assert not any("show_if" in q for q in qs.values())
    text = messages(result.skipped)
    assert "survey row 2: relevant '${a} > 1' refers to the question itself" in text
    assert "survey row 3: relevant '. > 1' is not supported" in text
    assert "survey row 4: relevant '/data/a > 1' could not be read" in text


def test_schema_problems_name_the_row_they_come_from():
    result = run([["type", "name", "label"], ["select_one lvl", "q", "Q"]],
                 [["list_name", "name", "label", "score"], ["lvl", "lo", "Low", "0"],
                  ["lvl", "hi", "High", "9"]])
    assert result.definition is None
    assert any(p.startswith("choices row 3:") and "score 9 is outside the scale (0-4)" in p
               for p in result.problems)


def test_not_a_workbook_is_refused():
    result = import_xlsform(b"type,name,label\ntext,a,A\n", "form.xlsx")
    assert result.definition is None
    assert "not an Excel workbook" in result.problems[0]


def test_no_survey_sheet_is_refused():
    result = import_xlsform(workbook([["a"]], names={"survey": "questions_list"}), "x.xlsx")
    assert result.definition is None and "no survey sheet" in result.problems[0]


# ---------------------------------------------------------------------------------------------------------
# Untidy real-world workbooks


def test_untidy_headers_sheet_names_types_and_blank_rows():
    data = imported(
        [["TYPE ", "Name", "Label:English", "LABEL::Русский(ru)", "Relevance", "REQUIRED"],
         ["  Select One   yn ", "a ", "A", "А", "", "Yes"],
         [None, None, None, None, None, None],
         ["", "", "", "", "", ""],
         ["integer", "b", "B", "Б", "${a} = 'yes'", "FALSE"]],
        [["List Name", "NAME", "Label:English", "label::Русский(ru)"],
         ["yn", "yes", "Yes", "Да"], [None, None, None, None], ["yn ", "no", "No", "Нет"]],
        [["Form_Title", "Default_Language"], ["Untidy", "English"]],
        names={"survey": "Survey", "choices": "CHOICES", "settings": "setting"})
    assert data["languages"] == ["en", "ru"]
    qs = questions(data)
    assert qs["a"]["type"] == "single_choice" and qs["a"]["required"] is True
    assert qs["a"]["label"] == {"en": "A", "ru": "А"}
    assert [c["value"] for c in qs["a"]["choices"]] == ["yes", "no"]
    assert qs["b"]["show_if"] == "${a} = 'yes'"
    assert data["title"] == "Untidy"


def test_misspelled_settings_sheet_is_read_and_noted():
    result = run([["type", "name", "label"], ["text", "a", "A"]],
                 settings=[["form_id"], ["spelled"]], names={"settings": "stettings"})
    assert result.definition.to_dict()["id"] == "spelled"
    assert "stettings sheet: read as the settings sheet" in result.notes


def test_duplicate_choice_names_are_reported_once_per_list():
    result = run([["type", "name", "label"], ["select_one yn", "a", "A"]],
                 [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "yes", "Yes again"],
                  ["yn", "yes", "Yes thrice"], ["yn", "no", "No"]])
    assert [c["value"] for c in questions(result.definition.to_dict())["a"]["choices"]] == ["yes", "no"]
    duplicate = [m for m in result.skipped if "duplicate choice" in m]
    assert len(duplicate) == 1
    assert duplicate[0].startswith("choices row 3:") and "in 2 rows (3, 4)" in duplicate[0]


def test_long_choice_list_is_read_quickly():
    choices = [["list_name", "name", "label"]] + [["places", f"p{i}", f"Place {i}"] for i in range(13000)]
    data = imported([["type", "name", "label"], ["select_one places", "where", "Where"]], choices)
    assert len(questions(data)["where"]["choices"]) == 13000


@pytest.mark.skipif(not CORPUS.is_dir(), reason="XLSForm corpus not available")
def test_xls_file_named_xlsx_is_detected_by_its_magic_bytes():
    path = CORPUS / "getodk__web-forms" / "ifrc-distribution-site-assessment-v1.xlsx"
    assert path.read_bytes()[:4] == b"\xd0\xcf\x11\xe0"
    result = import_xlsform(path.read_bytes(), path.name)
    assert result.definition is not None, result.problems
    assert "fr" in result.definition.to_dict()["languages"]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="XLSForm corpus not available")
def test_xls_file_with_single_colon_language_headers():
    path = CORPUS / "kobotoolbox__kpi" / "good_eats_multilang.xls"
    result = import_xlsform(path, None)
    data = result.definition.to_dict()
    assert data["languages"][:2] == ["en", "fr"] or set(data["languages"]) >= {"en", "fr"}


# ---------------------------------------------------------------------------------------------------------
# Export and round trip

EVERY_TYPE = {
    "schema_version": 1,
    "id": "every-type",
    "title": {"ru": "Все типы", "en": "Every type"},
    "description": {"ru": "Пример", "en": "Example"},
    "languages": ["ru", "en"],
    "scale": [{"level": i, "label": {"ru": f"Уровень {i}", "en": f"Level {i}"}} for i in range(5)],
    "areas": [{"id": "inv", "title": {"ru": "Расследование", "en": "Investigation"}, "weight": 2,
               "indicators": [
                   {"id": "inv_unit", "title": {"ru": "Подразделение", "en": "Unit"}, "target": 3,
                    "weight": 2, "aggregation": "max"},
                   {"id": "inv_staff", "title": {"ru": "Штат", "en": "Staff"}, "target": 2}]}],
    "sections": [
        {"id": "profile", "title": {"ru": "Профиль", "en": "Profile"},
         "description": {"ru": "О", "en": "About"},
         "questions": [
             {"id": "has_unit", "type": "yes_no", "partly": True, "not_applicable": True, "dont_know": True,
              "required": True, "indicator": "inv_unit", "scores": {"yes": 4, "partly": 2, "no": 0},
              "label": {"ru": "Есть подразделение?", "en": "Is there a unit?"}},
             {"id": "staff", "type": "number", "integer": True, "min": 1, "max": 10000,
              "indicator": "inv_staff",
              "label": {"ru": "Штат", "en": "Staff"}, "unit": {"ru": "чел.", "en": "people"},
              "show_if": "${has_unit} = 'yes' or ${has_unit} = 'partly'",
              "constraint_message": {"ru": "От 1 до 10 000", "en": "1 to 10,000"},
              "thresholds": [{"at_least": 0, "level": 0}, {"at_least": 10, "level": 2}]},
             {"id": "kind", "type": "single_choice", "dont_know": True, "other": True,
              "label": {"ru": "Тип", "en": "Kind"},
              "choices": [{"value": "a", "label": {"ru": "А", "en": "A"}, "score": 1},
                          {"value": "b", "label": {"ru": "Б", "en": "B"}, "score": 3}]},
             {"id": "tools", "type": "multiple_choice", "label": {"ru": "Средства", "en": "Tools"},
              "default": ["x"], "choices": [{"value": "x", "label": {"ru": "Х", "en": "X"}},
                                            {"value": "y", "label": {"ru": "У", "en": "Y"}}]},
             {"id": "level", "type": "scale", "not_applicable": True, "indicator": "inv_unit",
              "label": {"ru": "Уровень", "en": "Level"}},
             {"id": "unit_name", "type": "text", "max_length": 100,
              "label": {"ru": "Название", "en": "Name"}},
             {"id": "notes", "type": "long_text", "label": {"ru": "Заметки", "en": "Notes"}},
             {"id": "since", "type": "date", "max": "today", "label": {"ru": "С какого года", "en": "Since"}},
             {"id": "grid", "type": "matrix", "required": True, "dont_know": True,
              "label": {"ru": "Сетка", "en": "Grid"},
              "rows": [{"id": "r1", "label": {"ru": "Р1", "en": "R1"}, "indicator": "inv_unit"},
                       {"id": "r2", "label": {"ru": "Р2", "en": "R2"}, "weight": 2}]},
             {"id": "grid_own", "type": "matrix", "label": {"ru": "Сетка 2", "en": "Grid 2"},
              "rows": [{"id": "r1", "label": {"ru": "Р1", "en": "R1"}}],
              "choices": [{"value": "lo", "label": {"ru": "Н", "en": "Lo"}, "score": 0},
                          {"value": "hi", "label": {"ru": "В", "en": "Hi"}, "score": 4}]},
             {"id": "doc", "type": "file", "file_types": ["pdf", "docx"], "max_size_mb": 5,
              "label": {"ru": "Документ", "en": "Document"}},
             {"id": "info", "type": "note", "label": {"ru": "=Справка", "en": "=Info"}},
         ]},
        {"id": "meta", "title": {"ru": "Второй", "en": "Second"}, "show_if": "${has_unit} != 'no'",
         "questions": [
             {"id": "ratio", "type": "number", "label": {"ru": "Доля", "en": "Ratio"},
              "constraint": ". >= 0 and . <= 1.5"},
             {"id": "profile", "type": "text", "label": {"ru": "Профиль ${unit_name}", "en": "Profile"}},
             {"id": "plain", "type": "text", "label": "A plain text is in the default language",
              "hint": "Plain hint"}]},
    ],
}


def every_type_definition():
    """A definition with every question type, special answers, scoring, a reserved and a clashing name."""
    from app.questionnaires.schema import Definition

    return Definition.model_validate(EVERY_TYPE)


def pyxform_convert(content: bytes) -> str:
    """Convert an XLSForm with pyxform in-process (no ODK Validate) and return the XForm XML."""
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    result = convert(content, warnings=warnings, validate=False, file_type=".xlsx")
    return result.xform


QUESTIONNAIRES = [*sorted((REPO / "questionnaires").glob("*.yaml")),
                  *sorted((REPO / "tests" / "data").glob("*.yaml"))]


@pytest.mark.parametrize("path", QUESTIONNAIRES, ids=lambda p: p.name)
def test_questionnaire_files_round_trip_and_convert_with_pyxform(path):
    from app.questionnaires.loader import load_file

    loaded = load_file(path)
    if loaded.definition is None:
        pytest.skip(f"{path.name} does not load: {loaded.errors[:1]}")
    content = export_xlsform_bytes(loaded.definition)
    result = import_xlsform(content, path.name)
    assert not result.problems, result.problems
    assert result.definition.to_dict() == loaded.definition.to_dict()
    assert "<h:title>" in pyxform_convert(content)


def test_export_round_trip_is_exact_for_every_question_type():
    definition = every_type_definition()
    result = import_xlsform(export_xlsform_bytes(definition), "every-type.xlsx")
    assert not result.problems, result.problems
    assert result.definition.to_dict() == definition.to_dict()


def test_a_number_default_written_as_text_round_trips_without_a_new_version():
    """default: "3" of a number question stayed the text "3", the import made it the number 3: every round trip
    through XLSForm stored a new version showing "default 3 → 3" on the compare page."""
    from app.questionnaires.loader import load_text

    text = (REPO / "tests" / "data" / "small_questionnaire.yaml").read_text(encoding="utf-8")
    text = text.replace("      - id: staff_total\n", "      - id: staff_total\n        default: \"3\"\n", 1)
    loaded = load_text(text, "d.yaml")
    assert loaded.definition is not None, loaded.problems
    assert loaded.definition.question("staff_total").default == 3
    back = import_xlsform(export_xlsform_bytes(loaded.definition), "d.xlsx")
    assert back.definition.content_hash() == loaded.definition.content_hash()
    ambiguous = load_text(text.replace('default: "3"', 'default: "1,200"'), "d.yaml")  # 1200 or 1.2? kept as text
    assert ambiguous.definition.question("staff_total").default == "1,200"


def test_pyxform_converts_the_export():
    xform = pyxform_convert(export_xlsform_bytes(every_type_definition()))
    assert "<h:title>Все типы</h:title>" in xform
    assert 'lang="Русский (ru)"' in xform and 'lang="English (en)"' in xform
    assert "/data/profile_section/has_unit" in xform  # groups and questions share XLSForm names
    assert "/data/meta_section/ratio" in xform  # 'meta' is reserved by pyxform: written under another name


def test_export_writes_the_expected_sheets_and_cells():
    book = export_xlsform(every_type_definition())
    assert book.sheetnames == ["survey", "choices", "settings", "scale", "indicators"]
    survey = list(book["survey"].iter_rows(values_only=True))
    header = survey[0]
    assert header[:4] == ("type", "name", "label::Русский (ru)", "label::English (en)")
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in survey[1:] if r[1]}
    assert rows["has_unit"]["type"].startswith("select_one ") and rows["has_unit"]["na_type"] == "yes_no"
    assert rows["has_unit"]["na_options"] == "not_applicable dont_know"
    assert rows["level"]["na_type"] == "scale"
    assert rows["notes"]["appearance"] == "multiline" and rows["notes"]["na_type"] == "long_text"
    assert rows["grid"]["type"] == "begin_group" and rows["grid"]["na_type"] == "matrix"
    assert rows["grid__r1"]["type"].startswith("select_one na_scale")
    assert rows["staff"]["constraint"] == ". >= 1 and . <= 10000"
    assert rows["staff"]["na_generated"] == "constraint"
    assert rows["meta_section"]["na_id"] == "meta"
    info = next(c for c in book["survey"]["C"] if c.value == "=Справка")
    assert info.data_type == "s"  # a text, never a formula
    settings = dict(zip(*book["settings"].iter_rows(values_only=True), strict=True))
    assert settings["form_id"] == "every-type" and settings["default_language"] == "Русский (ru)"
    choices = list(book["choices"].iter_rows(values_only=True))
    assert ("na_yes_no", "yes", "Да", "Yes", 4) in choices


def test_imported_corpus_like_form_round_trips_through_our_export():
    result = run([["type", "name", "label::English (en)", "label::Français (fr)", "relevant"],
                  ["begin_group", "g", "Group", "Groupe", ""],
                  ["select_one yn or_other", "src", "Source", "Source", ""],
                  ["begin_group", "inner", "Inner", "Intérieur", "${src} = 'yes'"],
                  ["integer", "n", "How many ${src}?", "Combien ?", ""],
                  ["end_group", "", "", "", ""],
                  ["end_group", "", "", "", ""],
                  ["acknowledge", "ok", "OK?", "OK ?", ""]],
                 [["list_name", "name", "label::English (en)", "label::Français (fr)"],
                  ["yn", "yes", "Yes", "Oui"], ["yn", "no", "No", "Non"]])
    again = import_xlsform(export_xlsform_bytes(result.definition), "again.xlsx")
    assert not again.problems
    assert again.definition.to_dict() == result.definition.to_dict()
    pyxform_convert(export_xlsform_bytes(result.definition))


def test_import_accepts_a_path_and_a_file_object(tmp_path):
    content = workbook([["type", "name", "label"], ["text", "a", "A"]])
    path = tmp_path / "From Disk.xlsx"
    path.write_bytes(content)
    assert import_xlsform(path).definition.to_dict()["id"] == "from-disk"
    assert import_xlsform(io.BytesIO(content), "stream.xlsx").definition.to_dict()["id"] == "stream"
    missing = import_xlsform(tmp_path / "missing.xlsx")
    assert missing.definition is None and missing.problems[0].startswith("file: cannot read")


def test_messages_are_strings_with_their_parts_and_survive_pickling():
    import pickle

    result = run([["type", "name", "label"], ["begin_repeat", "r", "R"], ["text", "a", "A"],
                  ["end_repeat", "", ""]])
    message = result.problems[0]
    assert (message.sheet, message.row, message.feature) == ("survey", 2, "repeat groups (begin_repeat)")
    again = pickle.loads(pickle.dumps(message))
    assert again == message and again.row == 2 and isinstance(again, str)


def test_a_name_used_twice_is_said_to_be_a_duplicate_and_a_rule_naming_it_is_refused():
    """Two rows named 'a': the second gets a_2 with a note saying why (not "changed into a valid id": it was
    one), and a relevant naming ${a} is refused since it cannot tell which row is meant."""
    result = run([["type", "name", "label", "relevant"], ["text", "a", "A", ""], ["integer", "a", "A again", ""],
                  ["text", "b", "B", "${a} != ''"], ["text", "Bad Name", "C", ""]])
    assert result.notes[:2] == [
        "survey row 5: 1 name(s) changed into valid ids (lower case letters, digits, _): Bad Name → bad_name",
        "survey row 3: 1 name(s) already used by an earlier row, each given an id of its own: a (row 3) → a_2; a "
        "rule naming one of them is refused, as it cannot tell which is meant"]
    assert result.problems == ["survey row 4: relevant refers to ${a}, a name used by more than one row of the form"]


def test_a_line_break_in_a_cell_quoted_in_a_message_keeps_the_message_on_one_line():
    result = run([["type", "name", "label"], ["bogus\ntype", "f", "F"], ["text", "b\r\nc", "B"]])
    assert result.skipped == ["survey row 2: unknown question type 'bogus\\ntype'; 'f' skipped"]
    assert result.notes[0] == ("survey row 3: 1 name(s) changed into valid ids (lower case letters, digits, _): "
                               "b\\nc → b_c")
    assert all("\n" not in message and "\r" not in message for message in [*result.skipped, *result.notes])
