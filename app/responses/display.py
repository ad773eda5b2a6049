"""Stored answers as people read them: choice labels instead of codes, in the questionnaire's language."""

from __future__ import annotations

from typing import Any

from app.questionnaires.forms import tr
from app.questionnaires.qtypes import is_special


def special_label(value: str) -> str:
    """"Not applicable" / "Don't know" in the interface language."""
    from app.i18n import _

    return _("Not applicable") if value == "not_applicable" else _("Don't know")


def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def choice_labels(definition, question, lang: str) -> dict[str, str]:
    """{stored value as text: label} of the answers a choice-like question offers (specials excluded)."""
    from app.i18n import _

    default = definition.languages[0]
    if question.type == "yes_no":
        labels = {"yes": _("Yes"), "no": _("No")}
        if getattr(question, "partly", False):
            labels["partly"] = _("Partly")
        return labels
    if question.type == "scale":
        return {_number(level.level): f"{_number(level.level)} — {tr(level.label, lang, default)}"
                for level in definition.scale}
    if question.type == "matrix" and not question.choices:
        return {_number(level.level): tr(level.label, lang, default) for level in definition.scale}
    return {str(choice.value): tr(choice.label, lang, default) for choice in (question.choices or [])}


def display(definition, question, value: Any, lang: str) -> str:
    """The answer as text for people ("" when there is none)."""
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if is_special(value):
        return special_label(value)
    default = definition.languages[0]
    kind = question.type
    if kind in ("single_choice", "yes_no", "scale"):
        return choice_labels(definition, question, lang).get(_number(value), _number(value))
    if kind == "multiple_choice":
        labels = choice_labels(definition, question, lang)
        return "; ".join(labels.get(str(v), str(v)) for v in value)
    if kind == "matrix":
        labels = choice_labels(definition, question, lang)
        parts = []
        for row in question.rows:
            if row.id in value and value[row.id] is not None:
                cell = value[row.id]
                text = special_label(cell) if is_special(cell) else labels.get(_number(cell), _number(cell))
                parts.append(f"{tr(row.label, lang, default)}: {text}")
        return "; ".join(parts)
    if kind == "file":
        return str(value.get("name", "")) if isinstance(value, dict) else str(value)
    if kind == "number":
        return _number(value)
    return str(value)
