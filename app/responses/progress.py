"""Progress of a response: required questions answered, and the state of each section.

Pure: no Flask, no database. `values` maps question ids to stored answers (values as normalised by the
question-type registry). The rules:

- A question is *visible* when its section's show_if and its own show_if hold for `values`, the answers of
  hidden questions counting as empty (app.questionnaires.rendering.visibility; no rule: visible), as the
  browser does.
- A question is *answered* when its value is not empty per its question type
  (qtypes.REGISTRY[type].is_empty). "not_applicable" and "dont_know" count as answered. A matrix counts
  as answered only when every row has a value (a row's value may itself be a special answer), or when
  the whole matrix has a special answer.
- A question *has an answer* when its value is not empty per its type, even a partly filled matrix: such
  an answer starts a section, but it does not answer a required question.
- Notes are never answered and never required.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from app.questionnaires.qtypes import REGISTRY, is_special
from app.questionnaires.rendering import visibility

#: The states `section_states` gives.
SECTION_STATES = ("not_started", "partial", "complete", "skipped")


def has_answer(question, value) -> bool:
    """Whether the value is not empty for its question type (a partly filled matrix has an answer)."""
    if question.type == "note":
        return False
    return not REGISTRY[question.type].is_empty(question, value)


def is_answered(question, value) -> bool:
    """Whether the value answers the question: not empty, a special answer, or a matrix with every row filled."""
    if not has_answer(question, value):
        return False
    if is_special(value):
        return True
    if question.type == "matrix":
        if not isinstance(value, Mapping):
            return False
        return all(not _empty_cell(value.get(row.id)) for row in question.rows)
    return True


def _empty_cell(cell) -> bool:
    return cell is None or (isinstance(cell, str) and cell.strip() == "")


def _visible_questions(definition, values: Mapping[str, Any], today: date | None) -> Iterator[tuple[Any, Any, bool]]:
    """(section, question, visible) in order; a question of a hidden section is not visible (`visibility`)."""
    hidden = visibility(definition, values, today).hidden
    for section in definition.sections:
        for question in section.questions:
            yield section, question, question.id not in hidden


def unanswered_required(definition, values: Mapping[str, Any], today: date | None = None) -> list[tuple]:
    """(section, question) of every required question that is visible under `values` and not answered, in order.

    Visible: its section's show_if and its own show_if hold. Answered: not empty per its question type;
    "not_applicable" / "dont_know" count as answered; a matrix needs a value in every row.
    """
    return [(section, question) for section, question, visible in _visible_questions(definition, values, today)
            if visible and question.required and not is_answered(question, values.get(question.id))]


def required_progress(definition, values: Mapping[str, Any], today: date | None = None) -> tuple[int, int]:
    """(required questions visible under `values`, how many of those are answered).

    Visible: its section's show_if and its own show_if hold. Answered: not empty per its question type;
    "not_applicable" / "dont_know" count as answered; a matrix needs a value in every row. Hidden required
    questions count in neither number.
    """
    total = answered = 0
    for _section, question, visible in _visible_questions(definition, values, today):
        if visible and question.required:
            total += 1
            answered += is_answered(question, values.get(question.id))
    return total, answered


def section_states(definition, values: Mapping[str, Any], today: date | None = None) -> list[str]:
    """For each section in order: "skipped", "not_started", "complete" or "partial".

    - "skipped": the section's show_if does not hold.
    - "not_started": no visible question of the section has an answer (a partly filled matrix is an answer).
    - "complete": at least one visible question has an answer and every visible required question is
      answered (special answers count; a matrix needs every row); a section without visible required
      questions is complete as soon as one visible question has an answer.
    - "partial": otherwise (some answer, but a visible required question is unanswered).
    """
    states: list[str] = []
    seen = visibility(definition, values, today)
    for n, section in enumerate(definition.sections):
        if n in seen.skipped:
            states.append("skipped")
            continue
        started = False
        missing = False
        for question in section.questions:
            if not seen.shown(question):
                continue
            value = values.get(question.id)
            started = started or has_answer(question, value)
            if question.required and not is_answered(question, value):
                missing = True
        states.append("not_started" if not started else "partial" if missing else "complete")
    return states
