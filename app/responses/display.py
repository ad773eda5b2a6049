"""Stored answers as people read them: choice labels instead of codes, in the questionnaire's language, and
numbers and dates in the interface language's notation (as the `number` and `date` template filters write them)."""

from __future__ import annotations

import decimal
import math
from datetime import date
from typing import Any

from app.questionnaires.forms import tr
from app.questionnaires.qtypes import is_special


def special_label(value: str) -> str:
    """"Not applicable" / "Don't know" in the interface language."""
    from app.i18n import _

    return _("Not applicable") if value == "not_applicable" else _("Don't know")


#: Pattern of numbers typed as answers: grouped thousands, every decimal the person typed (never rounded away).
NUMBER_PATTERN = "#,##0." + "#" * 15


def _number(value) -> str:
    """A stored number as the text its choice code is (9.0 -> "9"): for look-ups, never for people."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number_text(value) -> str:
    """A number for people in the interface language ("12 369", "9,6" in Russian); other values as text."""
    from app.i18n import format_decimal

    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        # Every digit of the number plus the pattern's 15 decimals: the default context (28 digits) would make
        # Babel fail on a number of 14 digits or more (answers stored before NUMBER_LIMIT existed, or imported).
        with decimal.localcontext(prec=len(str(int(abs(value)))) + 20):
            return format_decimal(value, format=NUMBER_PATTERN)
    return str(value)


def date_text(value) -> str:
    """An ISO date for people in the interface language ("12 сент. 2026 г."); anything else as it is."""
    from app.i18n import format_date

    try:
        return format_date(date.fromisoformat(str(value)))
    except ValueError:
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
        return choice_labels(definition, question, lang).get(_number(value), number_text(value))
    if kind == "multiple_choice":
        labels = choice_labels(definition, question, lang)
        return "; ".join(labels.get(str(v), str(v)) for v in value)
    if kind == "matrix":
        labels = choice_labels(definition, question, lang)
        parts = []
        for row in question.rows:
            if row.id in value and value[row.id] is not None:
                cell = value[row.id]
                text = special_label(cell) if is_special(cell) else labels.get(_number(cell), number_text(cell))
                parts.append(f"{tr(row.label, lang, default)}: {text}")
        return "; ".join(parts)
    if kind == "file":
        return str(value.get("name", "")) if isinstance(value, dict) else str(value)
    if kind == "number":
        unit = tr(question.unit, lang, default) if getattr(question, "unit", None) else ""
        if not unit:
            return number_text(value)
        # "62 %" in Russian typography, "62%" in English; any other unit after a no-break space ("6,2 мес.")
        return number_text(value) + ("" if unit == "%" and not lang.startswith("ru") else "\u00a0") + unit
    if kind == "date":
        return date_text(value)
    return str(value)
