"""The question-type registry: one small class per type that checks, normalises and scores a value.

Every channel (web form, autosave, offline workbook, API) calls `normalise`, so the same rules apply
everywhere. Messages are plain English sentences with {placeholders}; the web layer translates them.
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

from app.questionnaires import expressions

SPECIAL = ("not_applicable", "dont_know")
#: A date written in one of the accepted forms (YYYY-MM-DD, DD.MM.YYYY), whether or not the calendar has it.
_DATE_SHAPE = re.compile(r"^(\d{4}-\d{2}-\d{2}|\d{1,2}\.\d{1,2}\.\d{4})$")
_ISO_CALENDAR = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_NUMBER = re.compile(r"^[-+]?(\d+([.,]\d*)?|[.,]\d+)$")
#: "1,200": 1200 to a reader of English (a thousands separator), 1.2 to a reader of Russian (a decimal comma).
_COMMA_THOUSANDS = re.compile(r"^([-+]?\d{1,3}),(\d{3})$")


def N_(message: str) -> str:
    """Marks a message for translation without translating it (the web layer translates AnswerError.message)."""
    return message


class AnswerError(ValueError):
    """A value was refused; `message` has {placeholders} filled from `params`."""

    def __init__(self, message: str, **params: Any):
        super().__init__(message.format(**params) if params else message)
        self.message = message
        self.params = params


def is_special(value) -> bool:
    """True for "not_applicable" and "dont_know"."""
    return isinstance(value, str) and value in SPECIAL


class QuestionType:
    """Base class: text-like value, not scorable."""

    name = ""
    #: What the expression checker calls this type's values.
    kind = "string"
    scorable = False

    def normalise(self, question, raw, *, definition=None, today: date | None = None):
        """Check a raw value (from a form, a workbook or JSON) and return the value to store (None: empty)."""
        if raw is None or (isinstance(raw, str) and raw.strip() == ""):
            return None
        if is_special(raw):
            return self._special(question, raw)
        return self.convert(question, raw, definition=definition, today=today)

    def _special(self, question, raw):
        if not getattr(question, raw, False):
            # One whole sentence per answer, so the web layer translates the answer's name with the sentence.
            if raw == "not_applicable":
                raise AnswerError(N_("“Not applicable” is not an allowed answer to this question."))
            raise AnswerError(N_("“Don't know” is not an allowed answer to this question."))
        return raw

    def convert(self, question, raw, *, definition=None, today=None):
        """Type-specific conversion of a non-empty, non-special raw value."""
        if not isinstance(raw, str):
            raw = str(raw)
        if "\x00" in raw:
            raise AnswerError(N_("The text contains a character that cannot be stored."))
        return raw

    def is_empty(self, question, value) -> bool:
        """True when the question counts as unanswered."""
        return value is None or value == "" or value == [] or value == {}

    def scores(self, question, value, definition) -> list[tuple[str, float | None, float]]:
        """(indicator id, level or None, weight) for each indicator this answer feeds."""
        if not self.scorable or not question.indicator:
            return []
        level = None if is_special(value) or self.is_empty(question, value) else self.level(question, value,
                                                                                               definition)
        return [(question.indicator, level, question.weight)]

    def level(self, question, value, definition) -> float | None:
        """The level on the scale given by a (non-empty, non-special) value."""
        return None


class TextType(QuestionType):
    """One line of text."""

    name = "text"
    default_max = 500

    def convert(self, question, raw, *, definition=None, today=None):
        # Line breaks as one "\n" whatever sent them: a browser posts a form's textarea with CR LF but the
        # autosave's JSON with LF, and the two must compare equal (else a false conflict, and a history entry
        # for every save); CR LF also reached the offline workbook as "_x000D_".
        text = super().convert(question, raw).replace("\r\n", "\n").replace("\r", "\n")
        limit = question.max_length or self.default_max
        if len(text) > limit:
            raise AnswerError(N_("The text is too long: {length} characters, at most {limit} allowed."),
                              length=len(text), limit=limit)
        return text


class LongTextType(TextType):
    """Several paragraphs."""

    name = "long_text"
    default_max = 20000


#: Answers to number questions stay below this in size: a float (what JSON and the scores hold) keeps every digit
#: of a whole number up to 2**53 (about 9 x 10**15), and people read a number of 15 digits at most.
NUMBER_LIMIT = 10.0**15


class NumberType(QuestionType):
    """An integer or a decimal, with optional limits and score thresholds."""

    name = "number"
    kind = "number"
    scorable = True

    def convert(self, question, raw, *, definition=None, today=None):
        if isinstance(raw, bool):
            raise AnswerError(N_("Enter a number."))
        if isinstance(raw, int | float):
            number = float(raw) if abs(raw) < NUMBER_LIMIT else math.inf  # float(10**400) would raise
        else:
            text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
            if not _NUMBER.match(text):
                raise AnswerError(N_("Enter a number, for example 12 or 12.5."))
            if ambiguous := _COMMA_THOUSANDS.match(text):
                # Refused rather than guessed: either reading, stored silently, would be wrong for someone.
                whole, decimals = ambiguous.groups()
                decimals = decimals.rstrip("0")
                thousands = whole + ambiguous.group(2)
                if decimals and question.integer:  # 1.2 is no answer to a whole-number question: one reading left
                    raise AnswerError(N_("Write {thousands} without the comma: the answer is a whole number."),
                                      text=text, thousands=thousands)
                if decimals:  # written again with its comma, the decimal reading would be refused again
                    raise AnswerError(N_("Is {text} meant as {thousands} or as {decimal}? Write {thousands} without "
                                         "the comma, or {decimal} with a decimal point."),
                                      text=text, thousands=thousands, decimal=f"{whole}.{decimals}")
                raise AnswerError(N_("Is {text} meant as {thousands} or as {decimal}? Write {thousands} without "
                                     "the comma, or {decimal}."), text=text, thousands=thousands, decimal=whole)
            number = float(text.replace(",", "."))
        if not abs(number) < NUMBER_LIMIT:  # also refuses inf and nan
            raise AnswerError(N_("The number is too large: at most 15 digits before the decimal sign."))
        if question.integer:
            if not number.is_integer():
                raise AnswerError(N_("Enter a whole number."))
            number = int(number)
        if question.min is not None and number < question.min:
            raise AnswerError(N_("The number must be at least {min}."), min=_fmt(question.min))
        if question.max is not None and number > question.max:
            raise AnswerError(N_("The number must be at most {max}."), max=_fmt(question.max))
        return int(number) if isinstance(number, float) and number.is_integer() and question.integer else number

    def level(self, question, value, definition):
        if not question.thresholds:
            return None
        level = None
        for threshold in question.thresholds:
            if value >= threshold.at_least:
                level = threshold.level
        return level


def _fmt(value) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _iso_calendar_date(text: str) -> date:
    """An ISO calendar date (2024-03-08, 20240308); ValueError otherwise. date.fromisoformat alone also reads
    week dates such as 2024-W10-5, which nobody means in an answer."""
    if not _ISO_CALENDAR.match(text):
        raise ValueError(text)
    return date.fromisoformat(text)


class DateType(QuestionType):
    """A calendar date, stored as YYYY-MM-DD."""

    name = "date"
    kind = "date"

    def convert(self, question, raw, *, definition=None, today=None):
        from datetime import datetime

        if isinstance(raw, datetime):
            value = raw.date()
        elif isinstance(raw, date):
            value = raw
        else:
            text = str(raw).strip()
            value = None
            for parse in (_iso_calendar_date, lambda t: datetime.strptime(t, "%d.%m.%Y").date()):
                try:
                    value = parse(text)
                    break
                except ValueError:
                    continue
            if value is None:
                if _DATE_SHAPE.match(text):  # written right, but no such day: 31.02.2026, 2026-02-30, 2026-13-01
                    raise AnswerError(N_("There is no such date: {date}. Check the day and the month."), date=text)
                raise AnswerError(N_("Enter a date as YYYY-MM-DD (or DD.MM.YYYY)."))
        today = today or expressions.current_date()
        bounds = {name: (today if getattr(question, name) == "today" else
                         date.fromisoformat(str(getattr(question, name))) if getattr(question, name) else None)
                  for name in ("min", "max")}
        if bounds["min"] and value < bounds["min"]:
            # {min_dmy}: the date as DD.MM.YYYY, for the languages that write dates so (the Russian message)
            raise AnswerError(N_("The date must not be before {min}."), min=bounds["min"].isoformat(),
                              min_dmy=bounds["min"].strftime("%d.%m.%Y"))
        if bounds["max"] and value > bounds["max"]:
            raise AnswerError(N_("The date must not be after {max}."), max=bounds["max"].isoformat(),
                              max_dmy=bounds["max"].strftime("%d.%m.%Y"))
        return value.isoformat()


class SingleChoiceType(QuestionType):
    """One of the listed choices."""

    name = "single_choice"
    scorable = True

    def values(self, question, definition) -> list[str]:
        """Allowed stored values."""
        return [c.value for c in question.choices]

    def convert(self, question, raw, *, definition=None, today=None):
        value = _choice_text(raw)
        if value not in self.values(question, definition):
            raise AnswerError(N_("“{value}” is not one of the choices."), value=value)
        return value

    def level(self, question, value, definition):
        return next((c.score for c in question.choices if c.value == value), None)


def _choice_text(raw) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


class YesNoType(SingleChoiceType):
    """Yes / no, optionally partly."""

    name = "yes_no"

    def values(self, question, definition):
        return ["yes", "partly", "no"] if question.partly else ["yes", "no"]

    def convert(self, question, raw, *, definition=None, today=None):
        if isinstance(raw, bool):
            raw = "yes" if raw else "no"
        return super().convert(question, str(raw).strip().lower(), definition=definition)

    def level(self, question, value, definition):
        return yes_no_scores(question, definition).get(value)


def yes_no_scores(question, definition) -> dict[str, float]:
    """The levels of yes/partly/no: the question's `scores` over defaults max / middle / min."""
    levels = sorted(level.level for level in definition.scale)
    defaults = {"yes": levels[-1], "partly": levels[(len(levels) - 1) // 2], "no": levels[0]}
    defaults.update(question.scores or {})
    return defaults


class ScaleType(QuestionType):
    """A level of the questionnaire's rating scale."""

    name = "scale"
    kind = "number"
    scorable = True

    def convert(self, question, raw, *, definition=None, today=None):
        levels = [level.level for level in definition.scale] if definition else None
        try:
            value = float(str(raw).strip().replace(",", "."))
        except ValueError:
            value = None
        if value is None or not value.is_integer() or (levels is not None and int(value) not in levels):
            raise AnswerError(N_("Choose one of the levels of the scale."))
        return int(value)

    def level(self, question, value, definition):
        return float(value)


class MultipleChoiceType(QuestionType):
    """Any number of the listed choices."""

    name = "multiple_choice"
    kind = "list"
    scorable = True

    def convert(self, question, raw, *, definition=None, today=None):
        items = raw if isinstance(raw, list | tuple) else [p for p in re.split(r"[,;\s]+", str(raw)) if p]
        items = [_choice_text(item) for item in items if str(item).strip()]
        if any(is_special(item) for item in items):
            if len(items) > 1:
                raise AnswerError(N_("“Not applicable” and “Don't know” cannot be combined with other choices."))
            return self._special(question, items[0])
        allowed = [c.value for c in question.choices]
        unknown = [item for item in items if item not in allowed]
        if unknown:
            raise AnswerError(N_("“{value}” is not one of the choices."), value=unknown[0])
        return [value for value in allowed if value in items] or None

    def level(self, question, value, definition):
        scoring = [c for c in question.choices if c.score is not None]
        if not scoring:
            return None
        share = sum(1 for c in scoring if c.value in value) / len(scoring)
        return definition.min_level + share * (definition.max_level - definition.min_level)


class MatrixType(QuestionType):
    """Rows rated on one scale; each row may score its own indicator."""

    name = "matrix"
    kind = "matrix"  # cannot be tested in a rule: the checker refuses it there
    scorable = True

    def columns(self, question, definition) -> list[str]:
        """Allowed values of a row."""
        if question.choices:
            return [c.value for c in question.choices]
        return [str(level.level) for level in definition.scale]

    def convert(self, question, raw, *, definition=None, today=None):
        if not isinstance(raw, dict):
            raise AnswerError(N_("A table answer must give a value per row."))
        rows = {row.id: row for row in question.rows}
        allowed = self.columns(question, definition) if definition else None
        value = {}
        for row_id, cell in raw.items():
            if row_id not in rows:
                raise AnswerError(N_("Unknown row “{row}”."), row=row_id)
            if cell is None or str(cell).strip() == "":
                continue
            if is_special(cell):
                value[row_id] = self._special(question, cell)
                continue
            text = _choice_text(cell)
            if allowed is not None and text not in allowed:
                raise AnswerError(N_("“{value}” is not allowed in row “{row}”."), value=text, row=row_id)
            value[row_id] = int(text) if not question.choices else text
        return value or None

    def scores(self, question, value, definition):
        value = value if isinstance(value, dict) else {}
        out = []
        for row in question.rows:
            indicator = row.indicator or question.indicator
            if not indicator:
                continue
            cell = value.get(row.id)
            level = None
            if cell is not None and not is_special(cell):
                if question.choices:
                    level = next((c.score for c in question.choices if c.value == str(cell)), None)
                else:
                    level = float(cell)
            out.append((indicator, level, row.weight * question.weight if row.indicator is None else row.weight))
        return out


class FileType(QuestionType):
    """An uploaded evidence file (stored as a reference)."""

    name = "file"
    kind = "file"  # cannot be tested in a rule: the checker refuses it there

    def convert(self, question, raw, *, definition=None, today=None):
        if not isinstance(raw, dict) or not {"name", "key"} <= set(raw):
            raise AnswerError(N_("Upload a file."))
        extension = raw["name"].rsplit(".", 1)[-1].lower() if "." in raw["name"] else ""
        if extension not in question.accepted_extensions:
            raise AnswerError(N_("Files of type “{ext}” are not accepted; allowed: {allowed}."),
                              ext=extension or "?", allowed=", ".join(question.allowed_file_types).upper())
        if int(raw.get("size", 0)) > question.size_limit_mb * 1024 * 1024:
            raise AnswerError(N_("The file is larger than {limit} MB."), limit=_fmt(question.size_limit_mb))
        return {k: raw[k] for k in ("name", "key", "size", "content_type") if k in raw}


class NoteType(QuestionType):
    """Text to read; never answered."""

    name = "note"

    def normalise(self, question, raw, *, definition=None, today=None):
        return None


REGISTRY: dict[str, QuestionType] = {cls.name: cls() for cls in (
    SingleChoiceType, MultipleChoiceType, YesNoType, ScaleType, NumberType, TextType, LongTextType, DateType,
    MatrixType, FileType, NoteType)}
