"""Progress of a response: required questions under skip logic, special answers, matrices, section states."""

from __future__ import annotations

from app.questionnaires.schema import Definition
from app.responses.progress import required_progress, section_states, unanswered_required

DEFINITION = Definition.model_validate({
    "schema_version": 1,
    "id": "progress-test",
    "title": {"en": "Progress test", "ru": "Проверка хода заполнения"},
    "languages": ["en", "ru"],
    "scale": [{"level": level, "label": f"Level {level}"} for level in range(5)],
    "sections": [
        {"id": "profile", "title": "Profile", "questions": [
            {"id": "intro", "type": "note", "label": "Please answer on behalf of the agency."},
            {"id": "agency_name", "type": "text", "label": "Name", "required": True},
            {"id": "kind", "type": "single_choice", "label": "Kind",
             "choices": [{"value": "police", "label": "Police"}, {"value": "fiu", "label": "FIU"}]},
            {"id": "staff", "type": "number", "integer": True, "label": "Staff", "required": True,
             "dont_know": True},
        ]},
        {"id": "unit", "title": "Unit", "questions": [
            {"id": "has_unit", "type": "yes_no", "label": "A CT unit?", "required": True, "not_applicable": True},
            {"id": "unit_staff", "type": "number", "label": "Unit staff", "required": True,
             "show_if": "${has_unit} = 'yes'"},
            {"id": "skills", "type": "matrix", "label": "Skills", "required": True, "dont_know": True,
             "rows": [{"id": "interviews", "label": "Interviews"}, {"id": "forensics", "label": "Forensics"}]},
            {"id": "unit_notes", "type": "long_text", "label": "Notes"},
        ]},
        {"id": "fiu", "title": "FIU", "show_if": "${kind} = 'fiu'", "questions": [
            {"id": "str_count", "type": "number", "label": "STRs", "required": True},
            {"id": "fiu_notes", "type": "text", "label": "Notes"},
        ]},
        {"id": "needs", "title": "Needs", "questions": [
            {"id": "topics", "type": "multiple_choice", "label": "Topics",
             "choices": [{"value": "cft", "label": "CFT"}, {"value": "digital", "label": "Digital"}]},
            {"id": "comments", "type": "long_text", "label": "Comments"},
        ]},
    ],
})


def ids(pairs):
    return [question.id for _section, question in pairs]


def test_nothing_answered():
    # Visible required: agency_name, staff, has_unit, skills (unit_staff and the FIU section are hidden).
    assert required_progress(DEFINITION, {}) == (4, 0)
    assert section_states(DEFINITION, {}) == ["not_started", "not_started", "skipped", "not_started"]
    assert ids(unanswered_required(DEFINITION, {})) == ["agency_name", "staff", "has_unit", "skills"]


def test_hidden_required_questions_do_not_count():
    assert required_progress(DEFINITION, {"has_unit": "no"}) == (4, 1)
    # "yes" shows unit_staff: one more required question, not answered.
    assert required_progress(DEFINITION, {"has_unit": "yes"}) == (5, 1)
    # The FIU section appears with its required question.
    assert required_progress(DEFINITION, {"has_unit": "yes", "kind": "fiu"}) == (6, 1)
    # An answer to a question hidden again counts in neither number.
    assert required_progress(DEFINITION, {"has_unit": "no", "unit_staff": 12, "kind": "police",
                                          "str_count": 40}) == (4, 1)


def test_special_answers_count_as_answered():
    values = {"agency_name": "MVD", "staff": "dont_know", "has_unit": "not_applicable", "skills": "dont_know"}
    assert required_progress(DEFINITION, values) == (4, 4)
    assert unanswered_required(DEFINITION, values) == []
    # A special answer in a matrix row fills that row.
    assert required_progress(DEFINITION, {"skills": {"interviews": 2, "forensics": "dont_know"}}) == (4, 1)


def test_partly_filled_matrix_is_unanswered_but_starts_the_section():
    values = {"has_unit": "no", "skills": {"interviews": 3}}
    assert required_progress(DEFINITION, values) == (4, 1)
    assert ids(unanswered_required(DEFINITION, values)) == ["agency_name", "staff", "skills"]
    assert section_states(DEFINITION, {"skills": {"interviews": 3}})[1] == "partial"
    values["skills"] = {"interviews": 3, "forensics": 1}
    assert required_progress(DEFINITION, values) == (4, 2)
    assert section_states(DEFINITION, values)[1] == "complete"


def test_empty_values_are_unanswered():
    values = {"agency_name": "", "staff": None, "has_unit": "no", "skills": {}, "topics": []}
    assert required_progress(DEFINITION, values) == (4, 1)
    assert section_states(DEFINITION, values) == ["not_started", "partial", "skipped", "not_started"]


def test_section_states():
    values = {
        "agency_name": "Ministry of Internal Affairs",   # profile: staff (required) missing -> partial
        "kind": "fiu",                                    # shows the FIU section
        "has_unit": "yes", "unit_staff": 25,              # unit: every required answered -> complete
        "skills": {"interviews": 2, "forensics": 0},
        "fiu_notes": "Figures for 2025",                  # fiu: str_count (required) missing -> partial
        "comments": "Training on digital evidence",       # needs: no required questions, one answer -> complete
    }
    assert section_states(DEFINITION, values) == ["partial", "complete", "partial", "complete"]
    assert required_progress(DEFINITION, values) == (6, 4)
    assert ids(unanswered_required(DEFINITION, values)) == ["staff", "str_count"]
    pairs = unanswered_required(DEFINITION, values)
    assert [section.id for section, _question in pairs] == ["profile", "fiu"]


def test_a_hidden_question_with_an_answer_does_not_start_or_complete_a_section():
    # unit_staff is hidden (has_unit empty): its stale answer is ignored.
    assert section_states(DEFINITION, {"unit_staff": 4})[1] == "not_started"
    # The FIU section stays skipped however much of it was answered before.
    assert section_states(DEFINITION, {"kind": "police", "str_count": 3})[2] == "skipped"


def test_hand_computed_complete_response():
    values = {"agency_name": "AFM", "kind": "fiu", "staff": 700, "has_unit": "partly",
              "skills": {"interviews": 1, "forensics": 2}, "str_count": 1200}
    # agency_name, staff, has_unit, skills, str_count (unit_staff hidden: has_unit is "partly").
    assert required_progress(DEFINITION, values) == (5, 5)
    assert section_states(DEFINITION, values) == ["complete", "complete", "complete", "not_started"]


def test_a_rule_on_a_hidden_questions_answer_reads_it_as_empty():
    """XLSForm/ODK semantics: "Other" ticked, then the question itself hidden by the answer before it: "specify
    the other" goes too, and is not required. (It stayed shown and required, and the respondent could not untick
    "Other" any more: that question was hidden.)"""
    from pathlib import Path

    from app.questionnaires.loader import load_file
    from app.questionnaires.rendering import visibility

    definition = load_file(Path(__file__).resolve().parents[1] / "data" / "chained_questionnaire.yaml").definition
    stale = {"ct_mandate": "no", "has_unit": "yes", "unit_size": "large", "unit_trained": ["other"]}
    seen = visibility(definition, stale)
    assert seen.hidden == {"has_unit", "unit_size", "unit_trained", "trained_other"}
    assert seen.skipped == {1} and seen.values == {"ct_mandate": "no"}
    assert ids(unanswered_required(definition, stale)) == []
    assert required_progress(definition, stale) == (1, 1)
    assert section_states(definition, stale) == ["complete", "skipped"]
    # One link of the chain at a time: every answer shown, then "has_unit" taken back to "no".
    shown = dict(stale, ct_mandate="yes")
    assert ids(unanswered_required(definition, shown)) == ["trained_other"]
    assert ids(unanswered_required(definition, dict(shown, has_unit="no"))) == []
    assert section_states(definition, dict(shown, has_unit="no")) == ["complete", "skipped"]
