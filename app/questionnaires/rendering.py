"""What the form pages need from a definition: expression trees for the browser, visible sections."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.questionnaires import expressions


def expression_trees(definition) -> dict[str, dict[str, Any]]:
    """{question_id: {"show_if": json tree, "constraint": json tree}} for every question with rules."""
    trees: dict[str, dict[str, Any]] = {}
    for section in definition.sections:
        for question in section.questions:
            rules = {}
            if question.show_if:
                rules["show_if"] = expressions.to_json(expressions.parse(question.show_if))
            if question.constraint:
                rules["constraint"] = expressions.to_json(expressions.parse(question.constraint))
            if rules:
                trees[question.id] = rules
    return trees


def is_visible(rule: str | None, values: dict[str, Any], today: date | None = None) -> bool:
    """Whether a show_if rule holds for these answers (no rule: visible)."""
    if not rule:
        return True
    return expressions.truthy(expressions.evaluate(expressions.parse(rule), values, today=today))


def visible_sections(definition, values: dict[str, Any], today: date | None = None) -> list[bool]:
    """For each section, whether its show_if holds."""
    return [is_visible(section.show_if, values, today) for section in definition.sections]
