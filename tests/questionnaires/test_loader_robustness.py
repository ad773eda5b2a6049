"""Hostile or unusual definition files and XLSForms: each problem is a `file:line: message`, never a crash or hang."""

from __future__ import annotations

import io

import openpyxl

from app.questionnaires import expressions as ex
from app.questionnaires.loader import load_file, load_text
from app.questionnaires.xlsform import import_xlsform
from tests.questionnaires.test_loader import HEAD, errors, load


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def _xlsform(survey: list[list], settings: list[list] | None = None) -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "survey"
    for row in survey:
        book.active.append(row)
    if settings:
        sheet = book.create_sheet("settings")
        for row in settings:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ YAML anchors, aliases and nesting

def test_alias_bomb_is_refused_at_the_first_anchor_by_validate(app_ctx, tmp_path):
    # 10**6 "lol" here; with 8 levels (10**9) the file used to never finish: nothing is expanded any more.
    lines = ["schema_version: 1", "id: bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 6)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "validate", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3: (document): anchors and aliases (&, *) are not allowed" in result.output
    assert "Traceback" not in result.output


def test_self_referencing_anchor_is_refused_not_a_recursion_error(app_ctx, tmp_path):
    path = tmp_path / "rec.yaml"
    path.write_text("&a\nschema_version: 1\nid: rec\nx: *a\n", encoding="utf-8")
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "load", str(path)])
    assert result.exit_code == 1
    assert f"{path}:1: (document): anchors and aliases (&, *) are not allowed" in result.output
    assert "nothing loaded" in result.output
    assert not isinstance(result.exception, RecursionError)


def test_an_alias_inside_a_valid_file_names_its_line():
    text = HEAD.replace("title: {en: T, ru: Т}", "title: &t {en: T, ru: Т}") + "    description: *t\n"
    assert errors(load_text(text, "x.yaml")) == [
        "x.yaml:3: (document): anchors and aliases (&, *) are not allowed: write the repeated part out"]


def test_absurdly_deep_nesting_is_refused_with_its_line():
    text = "schema_version: 1\nid: x\ndescription: " + "[" * 3000 + "]" * 3000 + "\n"
    assert errors(load_text(text, "x.yaml")) == [
        "x.yaml:3: (document): the file is nested too deeply (more than 40 levels)"]


# ------------------------------------------------------------------ expressions that are too deep or too long

def _with_show_if(rule: str) -> str:
    return HEAD + f"""\
      - id: q2
        type: text
        label: {{en: Q2, ru: В2}}
        show_if: "{rule}"
"""


def test_deeply_nested_show_if_is_an_error_on_its_line():
    text = _with_show_if("(" * 80 + "${q1} = 'yes'" + ")" * 80)
    [message] = errors(load_text(text, "x.yaml"))
    assert message.startswith(f"x.yaml:{_line_of(text, 'show_if')}: sections[0].questions[1].show_if: "
                              "expression too deeply nested: more than 30 parentheses or function calls")


def test_show_if_with_a_thousand_terms_is_an_error_not_a_crash_and_long_real_rules_still_load():
    text = _with_show_if(" and ".join(["${q1} = 'yes'"] * 1000))
    [message] = errors(load_text(text, "x.yaml"))
    assert message.startswith(f"x.yaml:{_line_of(text, 'show_if')}: sections[0].questions[1].show_if: "
                              "expression too long: more than 100 operators")
    assert len(message) < 400  # the rule is not repeated in full
    rule = " or ".join(f"${{q1}} = 'v{i}'" for i in range(90))  # real forms: up to about 25 terms
    assert load(f"""\
          - id: q2
            type: text
            label: {{en: Q2, ru: В2}}
            show_if: "{rule}"
            constraint: "{'(' * 25}string-length(.) < 5{')' * 25}"
    """).definition is not None


def test_minus_signs_and_huge_numbers_do_not_crash_the_parser():
    for text, message in (("-" * 2000 + "1", "expression too long"), ("9" * 400, "number too large")):
        try:
            ex.parse(text)
        except ex.ExpressionError as exc:
            assert exc.message.startswith(message)
        else:
            raise AssertionError(f"{text[:10]}... was accepted")
    assert ex.evaluate(ex.parse("-" * 90 + "1"), {}) == 1


def test_xlsform_relevant_too_deep_is_reported_with_its_row_and_the_question_kept(app_ctx, tmp_path):
    source = tmp_path / "deep.xlsx"
    source.write_bytes(_xlsform([["type", "name", "label", "relevant"],
                                 ["integer", "age", "Age", None],
                                 ["text", "why", "Why", "(" * 80 + "${age} > 1" + ")" * 80],
                                 ["text", "more", "More", " and ".join(["${age} > 1"] * 1000)]]))
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "import-xlsform", str(source), "--check"])
    assert result.exit_code == 0, result.output
    assert f"{source}: skipped: survey row 3: relevant '" in result.output
    assert "(expression too deeply nested: more than 30 parentheses" in result.output
    assert f"{source}: skipped: survey row 4: relevant '" in result.output
    assert "(expression too long: more than 100 operators" in result.output
    assert "3 question(s)" in result.output


def test_xlsform_with_absurdly_nested_groups_is_refused_not_a_crash(app_ctx, tmp_path):
    survey = [["type", "name", "label"], ["integer", "age", "Age"]]
    survey += [["begin_group", f"g{i}", f"G{i}"] for i in range(1500)] + [["text", "why", "Why"]]
    survey += [["end_group", None, None]] * 1500
    source = tmp_path / "groups.xlsx"
    source.write_bytes(_xlsform(survey))
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "import-xlsform", str(source), "--check"])
    assert result.exit_code == 1
    assert f"{source}: error: survey row 53: groups are nested more than 50 deep" in result.output


# ------------------------------------------------------------------ import-xlsform writes what the loader reads

def test_import_xlsform_texts_starting_with_a_question_mark_load_back(app_ctx, tmp_path):
    source = tmp_path / "other.xlsx"
    source.write_bytes(_xlsform(
        [["type", "name", "label::English (en)", "label::Русский (ru)"],
         ["text", "other", "? Other (specify)", "? Другое"],
         ["text", "colon", ": starts with a colon", ": двоеточие"]],
        [["form_id"], ["other"]]))
    target = tmp_path / "other.yaml"
    runner = app_ctx.test_cli_runner()
    imported = runner.invoke(args=["questionnaires", "import-xlsform", str(source), "-o", str(target)])
    assert imported.exit_code == 0, imported.output
    assert f"written {target}" in imported.output
    checked = runner.invoke(args=["questionnaires", "validate", str(target)])
    assert checked.exit_code == 0, checked.output
    definition = load_file(target).definition
    assert definition.question("other").label == {"en": "? Other (specify)", "ru": "? Другое"}
    assert definition.question("colon").label == {"en": ": starts with a colon", "ru": ": двоеточие"}


def test_import_xlsform_reports_yaml_that_does_not_load_back_instead_of_written(app_ctx, tmp_path, monkeypatch):
    from app.questionnaires import yaml_io

    source = tmp_path / "form.xlsx"
    source.write_bytes(_xlsform([["type", "name", "label"], ["text", "q", "Question"]], [["form_id"], ["form"]]))
    target = tmp_path / "form.yaml"
    real_dump = yaml_io.dump_definition
    monkeypatch.setattr(yaml_io, "dump_definition", lambda d: real_dump(d).replace("label: Question",
                                                                                   "label: {en: ? Question}"))
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(args=["questionnaires", "import-xlsform", str(source), "-o", str(target)])
    assert result.exit_code == 1
    assert f"written {target}" not in result.output, result.output
    line = _line_of(target.read_text(encoding="utf-8"), "? Question")
    assert f"{target}:{line}: " in result.output
    assert "does not load back" in result.output
    check = runner.invoke(args=["questionnaires", "import-xlsform", str(source), "--check"])
    assert check.exit_code == 1 and "does not load back" in check.output


# ------------------------------------------------------------------ form ids in Cyrillic

def test_cyrillic_form_id_is_transliterated_and_the_id_named(app_ctx, tmp_path):
    source = tmp_path / "form.xlsx"
    source.write_bytes(_xlsform([["type", "name", "label"], ["text", "q", "Вопрос"]],
                                [["form_id"], ["Анкета 2024"]]))
    target = tmp_path / "out.yaml"
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "import-xlsform", str(source), "-o",
                                                    str(target)])
    assert result.exit_code == 0, result.output
    assert f"{source}: note: settings row 2: form_id 'Анкета 2024' imported as 'anketa-2024'" in result.output
    assert load_file(target).definition.id == "anketa-2024"


def test_cyrillic_file_name_without_form_id_gives_a_transliterated_id_and_a_note(app_ctx, tmp_path):
    source = tmp_path / "Анкета.xlsx"
    source.write_bytes(_xlsform([["type", "name", "label"], ["text", "q", "Вопрос"]]))
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "import-xlsform", str(source), "--check"])
    assert result.exit_code == 0, result.output
    assert f"{source}: anketa: 1 section(s)" in result.output
    assert "no form_id: the questionnaire id is 'anketa' (made from the file name 'Анкета')" in result.output


def test_kazakh_uzbek_and_tajik_letters_are_transliterated():
    cases = {"Сауалнама Қазақстан": "saualnama-qazaqstan", "Сўровнома": "sorovnoma",
             "Пурсишнома ҷавоб": "pursishnoma-javob", "Ёшлар ҳаёти": "yoshlar-hayoti"}
    for form_id, expected in cases.items():
        result = import_xlsform(_xlsform([["type", "name", "label"], ["text", "q", "Q"]], [["form_id"], [form_id]]),
                                "form.xlsx")
        assert result.definition.id == expected
        assert f"form_id '{form_id}' imported as '{expected}'" in "\n".join(result.notes)


# ------------------------------------------------------------------ dates and numbers

def _date_question(limits: str) -> str:
    return HEAD + "      - id: d1\n        type: date\n        label: {en: D, ru: Д}\n" + limits


def test_impossible_unquoted_date_is_reported_on_its_own_line():
    text = _date_question("        min: \"2020-01-01\"\n        max: 2024-13-45\n")
    assert errors(load_text(text, "x.yaml")) == [
        f"x.yaml:{_line_of(text, 'max:')}: sections[0].questions[1].max: 'max' of a date question must be an ISO "
        "date (YYYY-MM-DD) or 'today'"]


def test_unquoted_dates_are_read_as_the_text_written():
    result = load_text(_date_question("        min: 2020-01-01\n        max: 2024-01-05\n"), "x.yaml")
    assert result.problems == []
    question = result.definition.question("d1")
    assert (question.min, question.max) == ("2020-01-01", "2024-01-05")


def test_a_value_ruamel_cannot_build_is_reported_on_its_line():
    text = _date_question("        max: !!int abc\n")
    [message] = errors(load_text(text, "x.yaml"))
    assert message.startswith(f"x.yaml:{_line_of(text, 'max:')}: (document): YAML syntax error: ")


def test_infinite_and_nan_numbers_are_refused_with_their_lines():
    text = HEAD.replace("target: 3}", "target: .nan, weight: .inf}") + """\
      - id: n1
        type: number
        label: {en: N, ru: Ч}
        min: -.inf
        thresholds: [{at_least: 1, level: .inf}]
"""
    finite = "is not allowed: numbers must be finite (no infinity or NaN)"
    assert errors(load_text(text, "x.yaml")) == [
        f"x.yaml:12: areas[0].indicators[0].target: .nan {finite}",
        f"x.yaml:12: areas[0].indicators[0].weight: .inf {finite}",
        f"x.yaml:{_line_of(text, 'min:')}: sections[0].questions[1].min: -.inf {finite}",
        f"x.yaml:{_line_of(text, 'at_least')}: sections[0].questions[1].thresholds[0].level: .inf {finite}",
    ]


def test_infinity_written_as_text_is_refused_too():
    text = HEAD.replace("target: 3}", "target: 3, weight: inf}")
    assert errors(load_text(text, "x.yaml")) == [
        "x.yaml:12: areas[0].indicators[0].weight: 'inf' is not allowed: numbers must be finite (no infinity or NaN)"]


def test_a_character_yaml_forbids_is_one_problem_on_its_own_line(app_ctx, tmp_path):
    """A NUL byte (a file damaged in transfer): one line of output naming the file's line, not ruamel's two."""
    path = tmp_path / "damaged.yaml"
    path.write_bytes(b"schema_version: 1\ntitle: {en: T}\nid: x\x00y\n")
    result = app_ctx.test_cli_runner().invoke(args=["questionnaires", "validate", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"{path}:3: (document): YAML syntax error: the character #x0000 is not "
                                          "allowed in a YAML file: remove it"]


# ------------------------------------------------------------------ files saved the wrong way

def _problem(path) -> str:
    (problem,) = load_file(path).problems
    return str(problem)


def test_a_file_not_in_utf8_says_what_it_is_and_how_to_save_it(tmp_path):
    """Windows-1251 (the usual Cyrillic Notepad file), UTF-16 and an Excel workbook named .yaml each get their
    own advice, on the line of the first unreadable byte; UTF-8 with a byte-order mark is read."""
    cp1251 = tmp_path / "cp1251.yaml"
    cp1251.write_bytes(HEAD.encode("cp1251"))
    assert _problem(cp1251) == (f"{cp1251}:3: (document): not UTF-8 text (byte 0xd2): it reads as Windows-1251 "
                                "(Cyrillic); save the file as UTF-8 (in Notepad: Save as, Encoding: UTF-8)")
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes(HEAD.encode("utf-16"))
    assert _problem(utf16) == (f"{utf16}:1: (document): the file is UTF-16 text: save it as UTF-8 (in Notepad: "
                               "Save as, Encoding: UTF-8)")
    book = tmp_path / "book.yaml"
    book.write_bytes(_xlsform([["type", "name", "label"]]))
    assert _problem(book) == (f"{book}:1: (document): this is an Excel workbook (or another binary file), not "
                              "YAML text: an XLSForm is converted with 'flask questionnaires import-xlsform'")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(HEAD.replace("title: {en: T, ru: Т}", "title: {en: Café, ru: Т}").encode("utf-8")
                      .replace("Café".encode(), b"Caf\xe9").replace("Т".encode(), b"T"))
    assert _problem(latin) == (f"{latin}:3: (document): not UTF-8 text (byte 0xe9 cannot be read): save the file "
                               "as UTF-8")
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + HEAD.encode("utf-8"))
    assert load_file(bom).problems == []


def test_a_tab_or_a_pasted_non_breaking_space_is_named_as_the_cause():
    tab = load_text(HEAD.replace("        type: yes_no", "\ttype: yes_no"), "x.yaml")
    assert errors(tab) == ["x.yaml:18: (document): YAML syntax error: while scanning for the next token found "
                           "character '\\t' that cannot start any token: YAML indents with spaces only: replace the "
                           "tab with spaces"]
    indented = load_text(HEAD.replace("        type: yes_no", "\u00a0       type: yes_no"), "x.yaml")
    assert errors(indented)[0].endswith(": line 18 column 1 holds a non-breaking space (often pasted from a word "
                                        "processor) where YAML needs an ordinary space: retype it")
    after_colon = load_text(HEAD.replace("type: yes_no", "type:\u00a0yes_no"), "x.yaml")
    assert "line 18 column 14 holds a non-breaking space" in errors(after_colon)[0]
    # In a text a non-breaking space is a character like any other (Russian writes "100 000" with one).
    in_label = load_text(HEAD.replace("label: {en: Q1, ru: В1}", "label: {en: Q1, ru: \"100\u00a0000\"}"), "x.yaml")
    assert in_label.problems == []


def test_a_line_break_in_a_value_quoted_in_a_problem_keeps_it_on_one_line():
    result = load_text(HEAD.replace("type: yes_no", 'type: yes_no\n        "lab\\nel": 3'), "x.yaml")
    assert errors(result) == ["x.yaml:19: sections[0].questions[0].lab\\nel: unknown key 'lab\\nel'"]
