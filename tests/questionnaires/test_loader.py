"""Definition files: every kind of problem is reported as file:line: path: message."""

from __future__ import annotations

import pytest

from app.questionnaires.loader import load_file, load_text
from tests.conftest import ROOT

HEAD = """\
schema_version: 1
id: t
title: {en: T, ru: Т}
languages: [en, ru]
scale:
  - {level: 0, label: {en: None, ru: Нет}}
  - {level: 4, label: {en: Full, ru: Полностью}}
areas:
  - id: a1
    title: {en: Area, ru: Направление}
    indicators:
      - {id: i1, title: {en: I1, ru: И1}, target: 3}
sections:
  - id: s1
    title: {en: S1, ru: Р1}
    questions:
      - id: q1
        type: yes_no
        label: {en: Q1, ru: В1}
        indicator: i1
"""


def load(extra: str = "", head: str = HEAD):
    extra = "\n".join(line[4:] for line in extra.splitlines())  # the test bodies are indented by 4 more
    return load_text(head + extra + ("\n" if extra else ""), "x.yaml")


def errors(result) -> list[str]:
    return [str(p) for p in result.problems if p.severity == "error"]


def warnings(result) -> list[str]:
    return [str(p) for p in result.problems if p.severity == "warning"]


def test_minimal_file_is_valid():
    result = load()
    assert result.problems == [] and result.definition is not None
    assert result.definition.question("q1").type == "yes_no"


def test_project_and_example_files_are_valid():
    paths = [ROOT / "tests" / "data" / "small_questionnaire.yaml", *sorted((ROOT / "questionnaires").glob("*.yaml"))]
    for path in paths:
        result = load_file(path)
        assert result.problems == [], [str(p) for p in result.problems]


def test_yaml_syntax_error_names_the_line():
    result = load_text("schema_version: 1\nid: x\ntitle: {en: [unclosed\n", "bad.yaml")
    assert result.definition is None
    assert errors(result)[0].startswith("bad.yaml:3: (document): YAML syntax error")


def test_unknown_schema_version():
    result = load_text("schema_version: 7\nid: x\n", "v.yaml")
    assert errors(result) == ["v.yaml:1: schema_version: schema_version 7 is not known to this program (known: 1)"]


def test_a_quoted_schema_version_says_to_remove_the_quotes():
    """Before: "schema_version 1 is not known to this program (known: 1)", which contradicts itself."""
    result = load_text('schema_version: "1"\nid: x\n', "v.yaml")
    assert errors(result) == ["v.yaml:1: schema_version: schema_version must be a number, not text: write 1 without "
                              "quotes"]


def test_missing_schema_version():
    assert "schema_version is missing" in errors(load_text("id: x\n", "v.yaml"))[0]


def test_unknown_key_names_key_and_line():
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            colour: red
    """)
    assert errors(result) == ["x.yaml:24: sections[0].questions[1].colour: unknown key 'colour'"]


def test_duplicate_question_id():
    result = load("""\
          - id: q1
            type: text
            label: {en: again, ru: снова}
    """)
    assert errors(result) == ['x.yaml:21: sections[0].questions[1].id: duplicate question id "q1"']


def test_duplicate_choice_value_example_from_the_issue():
    result = load("""\
          - id: q2
            type: single_choice
            label: {en: Q2, ru: В2}
            choices:
              - {value: "yes", label: {en: Y, ru: Д}}
              - {value: "yes", label: {en: Y2, ru: Д2}}
    """)
    assert errors(result) == ['x.yaml:26: sections[0].questions[1].choices[1].value: duplicate value "yes"']


def test_special_answer_as_a_choice_value_is_refused_with_the_flag_to_use():
    """A choice valued "not_applicable" would be taken for the special answer (refused where the question does
    not offer it, unscored where it does): the author is told to use the flag instead."""
    result = load("""\
          - id: q2
            type: single_choice
            label: {en: Q2, ru: В2}
            choices:
              - {value: fine, label: {en: Fine, ru: Хорошо}}
              - {value: not_applicable, label: {en: N/A, ru: Н/П}}
          - id: q3
            type: matrix
            label: {en: Q3, ru: В3}
            rows: [{id: r1, label: {en: R1, ru: С1}}]
            choices:
              - {value: dont_know, label: {en: DK, ru: НЗ}}
    """)
    assert errors(result) == [
        'x.yaml:26: sections[0].questions[1].choices[1].value: "not_applicable" is the value of a special answer '
        "and cannot be a choice: offer it with 'not_applicable: true' on the question",
        'x.yaml:32: sections[0].questions[2].choices[0].value: "dont_know" is the value of a special answer '
        "and cannot be a choice: offer it with 'dont_know: true' on the question"]


def test_multiple_choice_value_with_a_space_is_refused_single_choice_keeps_it():
    """XLSForm (and ODK's selected()) keep a multiple-choice answer as values separated by spaces, so "a b"
    could never be exported or tested; a single choice stores its one value whole."""
    result = load("""\
          - id: q2
            type: multiple_choice
            label: {en: Q2, ru: В2}
            choices:
              - {value: "border posts", label: {en: B, ru: Г}}
              - {value: ports, label: {en: P, ru: П}}
          - id: q3
            type: single_choice
            label: {en: Q3, ru: В3}
            choices:
              - {value: "border posts", label: {en: B, ru: Г}}
    """)
    assert errors(result) == [
        'x.yaml:25: sections[0].questions[1].choices[0].value: the value "border posts" of a multiple-choice '
        "answer cannot contain spaces (XLSForm keeps the chosen values in one text separated by spaces): write "
        "it as one word, for example with _"]


def test_a_language_listed_twice_is_refused_on_its_line():
    result = load(head=HEAD.replace("languages: [en, ru]", "languages: [en, ru, en]"))
    assert errors(result) == ['x.yaml:4: languages[2]: duplicate language "en"']


def test_broken_reference():
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            show_if: "${nowhere} = 'yes'"
    """)
    assert errors(result) == ["x.yaml:24: sections[0].questions[1].show_if: unknown reference ${nowhere}"]


def test_expression_syntax_error():
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            show_if: "${q1} = = 'yes'"
    """)
    (message,) = errors(result)
    assert message.startswith("x.yaml:24: sections[0].questions[1].show_if: unexpected '=' at character 9")


def test_a_rule_comparing_with_a_misspelt_answer_code_is_a_warning():
    """`${q1} = 'yse'` is never true: the question it shows never appears. Named with the codes there are."""
    result = load("""\
          - id: q2
            type: multiple_choice
            not_applicable: true
            label: {en: Q2, ru: В2}
            choices:
              - {value: money, label: {en: Money, ru: Деньги}}
              - {value: other, label: {en: Other, ru: Другое}}
          - id: q3
            type: text
            label: {en: Q3, ru: В3}
            show_if: "${q1} = 'yse' or selected(${q2}, 'othr') or ${q2} = 'not_applicable' or ${q1} != 'no'"
    """)
    assert errors(result) == [] and result.definition is not None
    assert warnings(result) == [
        "x.yaml:31: sections[0].questions[2].show_if: warning: 'yse' is not one of the answers of ${q1} ('yes', "
        "'no')",
        "x.yaml:31: sections[0].questions[2].show_if: warning: 'othr' is not one of the answers of ${q2} ('money', "
        "'other', 'not_applicable')"]


def test_an_invalid_regex_pattern_is_an_error():
    """At run time an invalid pattern never matches: every answer would be refused by the constraint."""
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            constraint: "regex(., '[a-')"
    """)
    assert errors(result) == ["x.yaml:24: sections[0].questions[1].constraint: regex() pattern '[a-' is not a valid "
                              "regular expression (unterminated character set at position 0)"]


def test_file_types_are_taken_as_people_write_them():
    """PDF, .docx and ' xlsx ' are the extensions pdf, docx and xlsx (an XLSForm import lowers them too); a
    file type that is not an extension is named with the reason, not with a bare pattern."""
    result = load("""\
          - id: q2
            type: file
            file_types: [PDF, .Docx, " xlsx "]
            label: {en: Q2, ru: В2}
    """)
    assert result.problems == []
    assert result.definition.question("q2").file_types == ["pdf", "docx", "xlsx"]
    refused = load("""\
          - id: q2
            type: file
            file_types: [p d f]
            label: {en: Q2, ru: В2}
    """)
    assert errors(refused) == ["x.yaml:23: sections[0].questions[1].file_types[0]: 'p d f' is not a file type: "
                               "write an extension such as pdf or docx (letters and digits only)"]


def test_show_if_on_itself():
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            show_if: "${q2} != ''"
    """)
    expected = "x.yaml:24: sections[0].questions[1].show_if: show_if of 'q2' refers to the question itself"
    assert expected in errors(result)


def test_a_chain_of_1500_show_if_rules_is_no_error_and_closing_it_is_one_short_cycle_message():
    """The cycle search keeps its own stack: a long chain loaded (it raised RecursionError), and the cycle made
    by pointing its first rule at its last is reported once, with the middle of the chain summed up."""
    chain = "".join(f"""\
          - id: c{i}
            type: yes_no
            label: {{en: C{i}, ru: Ц{i}}}
            show_if: "${{{'q1' if i == 1 else f'c{i - 1}'}}} = 'yes'"\n""" for i in range(1, 1501))
    result = load(chain)
    assert result.problems == [] and result.definition is not None
    closed = load(chain.replace("show_if: \"${q1} = 'yes'\"", "show_if: \"${c1500} = 'yes'\"", 1))
    cycles = [p for p in errors(closed) if "form a cycle" in p]
    assert cycles == ["x.yaml:24: sections[0].questions[1].show_if: show_if rules form a cycle: "
                      "c1 → c1500 → c1499 → c1498 → c1497 → … (1491 more) … → c5 → c4 → c3 → c2 → c1"]


def test_cycle_between_show_if_rules():
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            show_if: "${q3} = 'a'"
          - id: q3
            type: text
            label: {en: Q3, ru: В3}
            show_if: "${q2} = 'b'"
    """)
    assert "x.yaml:24: sections[0].questions[1].show_if: show_if rules form a cycle: q2 → q3 → q2" in errors(result)


SECTIONS = """\
schema_version: 1
id: sections-test
title: {en: Sections}
languages: [en]
scale:
  - {level: 0, label: {en: None}}
  - {level: 1, label: {en: Some}}
sections:
  - id: s0
    title: {en: First}
    questions:
      - id: a
        type: yes_no
        label: {en: A?}
        show_if: "${q} = 'yes'"
  - id: s1
    title: {en: Second}
    show_if: "${q1} = 'yes' or ${a} = 'yes'"
    questions:
      - id: q1
        type: yes_no
        label: {en: Q1?}
      - id: q
        type: yes_no
        label: {en: Q?}
"""


def test_a_section_rule_on_its_own_question_and_cycles_through_section_rules_are_errors():
    """A section shown only by an answer to one of its own questions was loaded without a word, and could never
    be shown (respondents saw it "not applicable", 0 of 0 required). A question's visibility depends on its
    section's rule too, so a cycle through a section rule (a shown by q, q's section shown by a) is one."""
    result = load_text(SECTIONS, "s.yaml")
    assert errors(result) == [
        "s.yaml:15: sections[0].questions[0].show_if: show_if rules form a cycle: a → q → a",
        "s.yaml:18: sections[1].show_if: show_if of section 's1' refers to 'q1', a question of the section itself: "
        "the section could never be shown; refer to questions of earlier sections"]
    valid = load_text(SECTIONS.replace("        show_if: \"${q} = 'yes'\"\n", "", 1)
                      .replace("${q1} = 'yes' or ", ""), "s.yaml")  # s1 shown by a, of the first section
    assert valid.problems == [] and valid.definition is not None


def test_a_rule_on_a_later_question_is_a_warning_for_questions_and_sections():
    """A question or section shown by an answer given further on makes the respondent go back: allowed, but said.
    A section's rule on a question of an earlier section, or a question's on an earlier question, is not."""
    text = SECTIONS.replace("${q1} = 'yes' or ", "")  # s0's a is shown by s1's q; s1 is shown by s0's a
    result = load_text(text, "s.yaml")
    assert [w for w in warnings(result) if "later" in w] == [
        "s.yaml:15: sections[0].questions[0].show_if: warning: show_if refers to 'q', which comes later in the "
        "questionnaire"]
    section_later = load_text(text.replace("        show_if: \"${q} = 'yes'\"\n", "", 1)
                              .replace("show_if: \"${a} = 'yes'\"", "show_if: \"${z} = 'yes'\"")
                              + "  - id: s2\n    title: {en: Third}\n    questions:\n      - id: z\n"
                                "        type: yes_no\n        label: {en: Z?}\n", "s.yaml")
    assert [w for w in warnings(section_later) if "later" in w] == [
        "s.yaml:17: sections[1].show_if: warning: show_if refers to 'z', which comes later in the questionnaire"]
    earlier = load_text(text.replace("        show_if: \"${q} = 'yes'\"\n", "", 1), "s.yaml")
    assert [w for w in warnings(earlier) if "later" in w] == []


def test_a_choice_code_that_yaml_reads_as_another_number_is_named_with_the_quotes_to_add():
    """01 became "1", 1.10 "1.1" and 0x1F "31" without a word: codes that then match no data collected elsewhere.
    A code written as a number that reads back the same (2), or in quotes ("03"), is no warning."""
    text = SECTIONS.split("sections:")[0] + """sections:
  - id: s0
    title: {en: First}
    questions:
      - id: region
        type: single_choice
        label: {en: Region?}
        choices:
          - {value: 01, label: {en: North}}
          - {value: 2, label: {en: South}}
          - value: 1.10
            label: {en: East}
          - {value: "03", label: {en: West}}
          - {value: 0x1F, label: {en: Hex}}
"""
    result = load_text(text, "c.yaml")
    assert errors(result) == [] and result.definition is not None
    assert warnings(result) == [
        'c.yaml:16: sections[0].questions[0].choices[0].value: warning: the value 01 is read as the number 1, and '
        'stored as "1": write it in quotes ("01") to keep the code as written',
        'c.yaml:18: sections[0].questions[0].choices[2].value: warning: the value 1.10 is read as the number 1.1, '
        'and stored as "1.1": write it in quotes ("1.10") to keep the code as written',
        'c.yaml:21: sections[0].questions[0].choices[4].value: warning: the value 0x1F is read as the number 31, '
        'and stored as "31": write it in quotes ("0x1F") to keep the code as written']
    # several choices on one line, or "value:" inside a label: no warning about another choice's text
    flow = text.replace("          - {value: 01, label: {en: North}}\n          - {value: 2, label: {en: South}}\n",
                        "          - {value: 2, label: {en: South}}\n"
                        "          - {label: {en: 'Total value: 7'}, value: 1}\n")
    assert [w for w in warnings(load_text(flow, "c.yaml")) if "value 7" in w or "value 2" in w] == []


def test_two_choices_with_one_label_in_a_language_are_named():
    """Two identical buttons ("Other" twice): the web form showed both, and the workbook's preview could not say
    which one was meant."""
    text = SECTIONS.split("sections:")[0].replace("languages: [en]", "languages: [en, ru]") + """sections:
  - id: s0
    title: {en: First, ru: Первый}
    questions:
      - id: q1
        type: single_choice
        label: {en: Q?, ru: В?}
        choices:
          - {value: a, label: {en: Other, ru: Другое}}
          - {value: b, label: {en: " other ", ru: Иное}}
          - {value: c, label: {en: Third, ru: Третье}}
"""
    result = load_text(text, "d.yaml")
    assert [w for w in warnings(result) if "tell them apart" in w] == [
        "d.yaml:17: sections[0].questions[0].choices[1].label: warning: the label of choices 'a' and 'b' is the "
        "same in en: respondents cannot tell them apart"]


def test_ids_and_language_codes_written_otherwise_are_explained_with_a_suggestion():
    """A Cyrillic id or a language written out got pydantic's "String should match pattern '^[a-z][a-z0-9_]*$'"."""
    text = SECTIONS.replace("id: sections-test", "id: Опрос 1").replace("languages: [en]", "languages: [en, English]")
    text = text.replace("      - id: q1\n", "      - id: вопрос 2\n", 1)
    assert errors(load_text(text, "i.yaml")) == [
        "i.yaml:2: id: 'Опрос 1' is not a questionnaire id: write it in lower-case Latin letters, digits, - and _, "
        "for example 'opros-1'",
        "i.yaml:4: languages[1]: 'English' is not a language code: write a code such as en, ru, kk or uz",
        "i.yaml:20: sections[1].questions[0].id: 'вопрос 2' is not an id: write it in lower-case Latin letters, "
        "digits and _, starting with a letter, for example 'vopros_2'"]


def test_static_type_mismatch():
    result = load("""\
          - id: q2
            type: number
            label: {en: Q2, ru: В2}
            constraint: ". > 'many'"
    """)
    assert errors(result) == ["x.yaml:24: sections[0].questions[1].constraint: compares a number with the text 'many'"]


def test_unknown_indicator_and_target_outside_scale():
    result = load("""\
          - id: q2
            type: scale
            label: {en: Q2, ru: В2}
            indicator: ghost
    """, head=HEAD.replace("target: 3", "target: 9"))
    assert errors(result) == [
        "x.yaml:12: areas[0].indicators[0].target: target 9 is outside the scale (0-4)",
        'x.yaml:24: sections[0].questions[1].indicator: unknown indicator "ghost"',
    ]


def test_type_specific_rules():
    result = load("""\
          - id: q2
            type: text
            label: {en: Q2, ru: В2}
            rows: [{id: r, label: R}]
          - id: q3
            type: note
            label: {en: Q3, ru: В3}
            required: true
          - id: q4
            type: long_text
            label: {en: Q4, ru: В4}
            indicator: i1
          - id: q5
            type: single_choice
            label: {en: Q5, ru: В5}
    """)
    assert errors(result) == [
        "x.yaml:21: sections[0].questions[1]: 'rows' does not apply to a text question",
        "x.yaml:25: sections[0].questions[2]: a note shows text only: it cannot be required, answered or scored",
        "x.yaml:29: sections[0].questions[3]: a long_text question cannot score an indicator",
        "x.yaml:33: sections[0].questions[4]: a single_choice question needs 'choices'",
    ]


def test_unknown_question_type_lists_the_types():
    result = load("""\
          - id: q2
            type: slider
            label: {en: Q2, ru: В2}
    """)
    (message,) = errors(result)
    assert message.startswith("x.yaml:22: sections[0].questions[1].type: Input should be 'single_choice'")


def test_score_outside_scale_and_bad_thresholds():
    result = load("""\
          - id: q2
            type: number
            label: {en: Q2, ru: В2}
            indicator: i1
            thresholds: [{at_least: 10, level: 2}, {at_least: 5, level: 9}]
    """)
    assert errors(result) == [
        "x.yaml:25: sections[0].questions[1].thresholds[1].level: level 9 is outside the scale (0-4)",
        "x.yaml:25: sections[0].questions[1].thresholds: thresholds must be in ascending order of at_least",
    ]


def test_missing_translation_is_a_warning_and_falls_back():
    result = load("""\
          - id: q2
            type: text
            label: {en: Only English}
    """)
    assert errors(result) == []
    assert warnings(result) == ["x.yaml:23: sections[0].questions[1].label: warning: no 'ru' translation "
                                "(the en text is shown)"]
    definition = result.definition
    assert definition.text(definition.question("q2").label, "ru") == "Only English"


def test_empty_label_is_an_error():
    result = load("""\
          - id: q2
            type: text
            label: {en: "", ru: "В2"}
    """)
    assert errors(result) == ["x.yaml:23: sections[0].questions[1].label.en: the text is empty"]


def test_unscored_indicator_is_a_warning():
    result = load(head=HEAD.replace("        indicator: i1\n", ""))
    assert 'x.yaml:12: areas[0].indicators[0].id: warning: no question scores indicator "i1"' in [
        str(p) for p in result.problems]


def test_unquoted_comma_in_flow_text_is_explained():
    result = load("""\
          - id: q2
            type: text
            label: {en: Between 1 and 100,000, ru: В2}
    """)
    assert any("quote texts that contain commas" in e for e in errors(result))


@pytest.mark.parametrize("missing", ["title", "languages", "scale", "sections"])
def test_missing_top_level_keys(missing):
    lines, skipping = [], False
    for line in HEAD.splitlines():
        if line.startswith(missing + ":"):
            skipping = True
            continue
        if skipping and line.startswith(" "):
            continue
        skipping = False
        lines.append(line)
    result = load_text("\n".join(lines) + "\n", "x.yaml")
    assert any(f"'{missing}' is missing" in e for e in errors(result))


def test_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    assert "must be a mapping" in errors(load_file(path))[0]


def test_definition_round_trips_through_its_canonical_dict():
    from app.questionnaires.schema import Definition

    definition = load_file(ROOT / "questionnaires" / "ct-capacity-needs-assessment.yaml").definition
    again = Definition.model_validate(definition.to_dict())
    assert again == definition and again.content_hash() == definition.content_hash()


def with_file_question(max_size_mb: float):
    """The minimal file with a second question: a file question accepting up to `max_size_mb`."""
    return load(f"""
          - id: doc
            type: file
            label: {{en: Document, ru: Документ}}
            max_size_mb: {max_size_mb}
    """)


def test_a_file_question_cannot_accept_more_than_the_server_takes():
    result = with_file_question(100)
    assert result.definition is None
    assert errors(result) == ["x.yaml:25: sections[0].questions[1].max_size_mb: max_size_mb is at most 50 "
                              "(MB; got 100): the server refuses larger uploads"]
    accepted = with_file_question(50)
    assert accepted.problems == [] and accepted.definition.question("doc").size_limit_mb == 50


def test_a_version_stored_before_the_file_size_limit_still_loads_with_the_limit_applied():
    from app.questionnaires.schema import Definition

    data = with_file_question(10).definition.to_dict()
    data["sections"][0]["questions"][1]["max_size_mb"] = 80  # as a version stored before the check was made
    stored = Definition.model_validate(data)
    assert stored.question("doc").max_size_mb == 80 and stored.question("doc").size_limit_mb == 50
