"""WTForms adapters: one per question type, turning definition questions into form fields and back.

The adapters only move values between the form and plain answer values; checking and normalising a
value is the question-type registry's job (qtypes.py), so the web form, the offline workbook and the
API apply the same rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, Field, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

SPECIAL = ("not_applicable", "dont_know")


def field_name(question_id: str, part: str | None = None) -> str:
    """The form field name of a question (or of one part of it: a matrix row, the special answer)."""
    return f"q__{question_id}" + (f"__{part}" if part else "")


def tr(text, lang: str, default_lang: str | None = None) -> str:
    """A multilingual text in `lang`, falling back to the default language, then any language."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    data = text if isinstance(text, dict) else getattr(text, "root", None) or dict(text)
    return data.get(lang) or (default_lang and data.get(default_lang)) or next(iter(data.values()), "")


@dataclass
class Context:
    """What adapters need to label fields: the definition and the language."""

    definition: Any
    lang: str

    def t(self, text) -> str:
        """Translate a multilingual text of the definition."""
        return tr(text, self.lang, self.definition.languages[0])

    def special_labels(self) -> dict[str, str]:
        """Labels of the special answers in the interface language."""
        from app.i18n import _

        return {"not_applicable": _("Not applicable"), "dont_know": _("Don't know")}


def allowed_specials(question) -> list[str]:
    """The special answers a question offers, in display order."""
    return [s for s in SPECIAL if getattr(question, s, False)]


class Adapter:
    """Base adapter: a single text-like field plus optional special answers."""

    #: Name of the template macro rendering this type (templates/questionnaires/_question.html).
    macro = "text"

    def fields(self, question, ctx: Context) -> dict[str, Any]:
        """Unbound WTForms fields keyed by field name."""
        fields = {field_name(question.id): StringField(ctx.t(question.label))}
        if allowed_specials(question):
            fields[field_name(question.id, "special")] = RadioField(
                choices=[SelectChoice(s, ctx.special_labels()[s]) for s in allowed_specials(question)],
                validate_choice=False)
        return fields

    def form_data(self, question, value) -> dict[str, Any]:
        """Form data that shows the stored `value`."""
        if value in SPECIAL:
            return {field_name(question.id, "special"): value}
        return {field_name(question.id): "" if value is None else _display(value)}

    def raw(self, question, form: FlaskForm) -> Any:
        """The raw submitted value (a special answer wins over the input)."""
        special = form._fields.get(field_name(question.id, "special"))
        if special is not None and special.data in SPECIAL:
            return special.data
        return form[field_name(question.id)].data


def _display(value) -> str:
    """A stored value as the form's box shows it: numbers written out in full ("0.00001", not "1e-05", which the
    box would then refuse on the next save)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float) and math.isfinite(value):
        return format(Decimal(repr(value)), "f")
    return str(value)


class TextAdapter(Adapter):
    """text: one line."""

    macro = "text"


class LongTextAdapter(Adapter):
    """long_text: a text area."""

    macro = "long_text"

    def fields(self, question, ctx):
        fields = super().fields(question, ctx)
        fields[field_name(question.id)] = TextAreaField(ctx.t(question.label))
        return fields


class NumberAdapter(Adapter):
    """number: a text input with a decimal keyboard, so "12,5" can be typed and kept as typed."""

    macro = "number"


class DateAdapter(Adapter):
    """date: an ISO date input."""

    macro = "date"


class ChoiceAdapter(Adapter):
    """single_choice, yes_no and scale: radio buttons (the special answers are extra options)."""

    macro = "radios"

    def options(self, question, ctx: Context) -> list[tuple[str, str]]:
        """(value, label) pairs in display order, without the special answers."""
        return [(str(c.value), ctx.t(c.label)) for c in question.choices]

    def fields(self, question, ctx):
        choices = self.options(question, ctx) + [(s, ctx.special_labels()[s]) for s in allowed_specials(question)]
        return {field_name(question.id): RadioField(ctx.t(question.label),
                                                    choices=[SelectChoice(v, lbl) for v, lbl in choices],
                                                    validate_choice=False)}

    def form_data(self, question, value):
        return {field_name(question.id): None if value is None else str(value)}

    def raw(self, question, form):
        return form[field_name(question.id)].data


class YesNoAdapter(ChoiceAdapter):
    """yes_no: yes, no and optionally partly."""

    def options(self, question, ctx):
        from app.i18n import _

        options = [("yes", _("Yes")), ("no", _("No"))]
        if getattr(question, "partly", False):
            options.insert(1, ("partly", _("Partly")))
        return options


class ScaleAdapter(ChoiceAdapter):
    """scale: the questionnaire's rating levels."""

    macro = "scale"

    def options(self, question, ctx):
        return [(str(level.level), f"{level.level} — {ctx.t(level.label)}") for level in ctx.definition.scale]


class MultipleChoiceAdapter(Adapter):
    """multiple_choice: check boxes; a special answer excludes the others."""

    macro = "checkboxes"

    def fields(self, question, ctx):
        choices = [(str(c.value), ctx.t(c.label)) for c in question.choices]
        choices += [(s, ctx.special_labels()[s]) for s in allowed_specials(question)]
        return {field_name(question.id): SelectMultipleField(
            ctx.t(question.label), choices=[SelectChoice(v, lbl) for v, lbl in choices], validate_choice=False)}

    def form_data(self, question, value):
        if value in SPECIAL:
            return {field_name(question.id): [value]}
        return {field_name(question.id): list(value or [])}

    def raw(self, question, form):
        data = [v for v in (form[field_name(question.id)].data or []) if v]
        specials = [v for v in data if v in SPECIAL]
        if specials and len(data) == 1:
            return specials[0]
        return data


class MatrixAdapter(Adapter):
    """matrix: one radio group per row over the scale (or the question's own columns)."""

    macro = "matrix"

    def columns(self, question, ctx: Context) -> list[tuple[str, str]]:
        """(value, label) of the columns, special answers last."""
        if getattr(question, "choices", None):
            columns = [(str(c.value), ctx.t(c.label)) for c in question.choices]
        else:
            columns = [(str(level.level), ctx.t(level.label)) for level in ctx.definition.scale]
        return columns + [(s, ctx.special_labels()[s]) for s in allowed_specials(question)]

    def fields(self, question, ctx):
        choices = [SelectChoice(v, lbl) for v, lbl in self.columns(question, ctx)]
        return {field_name(question.id, row.id): RadioField(ctx.t(row.label), choices=choices, validate_choice=False)
                for row in question.rows}

    def form_data(self, question, value):
        value = value if isinstance(value, dict) else {}
        return {field_name(question.id, row.id): None if value.get(row.id) is None else str(value[row.id])
                for row in question.rows}

    def raw(self, question, form):
        return {row.id: form[field_name(question.id, row.id)].data for row in question.rows
                if form[field_name(question.id, row.id)].data not in (None, "", "None")}


#: The raw value of a file question whose "Remove this file" box is ticked (and no new file sent).
REMOVE_FILE = "__remove_file__"


class FileAdapter(Adapter):
    """file: an upload (the stored file is kept unless a new one is sent, or "Remove this file" is ticked)."""

    macro = "file"

    def fields(self, question, ctx):
        fields = super().fields(question, ctx)
        fields[field_name(question.id)] = FileField(ctx.t(question.label))
        fields[field_name(question.id, "remove")] = BooleanField()
        return fields

    def form_data(self, question, value):
        if value in SPECIAL:
            return {field_name(question.id, "special"): value}
        return {}

    def raw(self, question, form):
        special = form._fields.get(field_name(question.id, "special"))
        if special is not None and special.data in SPECIAL:
            return special.data
        upload = form[field_name(question.id)].data
        if not getattr(upload, "filename", None) and form[field_name(question.id, "remove")].data:
            return REMOVE_FILE
        return upload


class NoteAdapter(Adapter):
    """note: text only, no field."""

    macro = "note"

    def fields(self, question, ctx):
        return {}

    def form_data(self, question, value):
        return {}

    def raw(self, question, form):
        return None


ADAPTERS: dict[str, Adapter] = {
    "text": TextAdapter(),
    "long_text": LongTextAdapter(),
    "number": NumberAdapter(),
    "date": DateAdapter(),
    "single_choice": ChoiceAdapter(),
    "yes_no": YesNoAdapter(),
    "scale": ScaleAdapter(),
    "multiple_choice": MultipleChoiceAdapter(),
    "matrix": MatrixAdapter(),
    "file": FileAdapter(),
    "note": NoteAdapter(),
}


def build_section_form(definition, section, lang: str, values: dict[str, Any] | None = None, formdata=None,
                       meta: dict | None = None) -> FlaskForm:
    """A form for one section: fields for its questions, filled from `values` unless `formdata` is given."""
    ctx = Context(definition, lang)
    attrs: dict[str, Field] = {}
    data: dict[str, Any] = {}
    for question in section.questions:
        adapter = ADAPTERS[question.type]
        attrs.update(adapter.fields(question, ctx))
        if values and question.id in values:
            data.update(adapter.form_data(question, values[question.id]))
    form_class = type("SectionForm", (FlaskForm,), attrs)
    if formdata is not None:
        return form_class(formdata=formdata, meta=meta or {})
    return form_class(formdata=None, data=data, meta=meta or {})


def raw_values(definition, section, form: FlaskForm) -> dict[str, Any]:
    """Raw submitted values of a section's questions (notes excluded)."""
    return {q.id: ADAPTERS[q.type].raw(q, form) for q in section.questions if q.type != "note"}
