"""The questionnaire definition format (schema_version 1) as typed pydantic models.

Pure: no Flask, no database. `questionnaires/README.md` documents the format for staff.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

SCHEMA_VERSIONS = (1,)
#: A number written plainly: digits, a point before decimals ("3", "-2.5").
_PLAIN_NUMBER = re.compile(r"^[-+]?\d+(\.\d+)?$")
ID = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
def _extension(value: Any) -> Any:
    """A file type as people write it: "PDF" and ".pdf" are pdf; anything but letters and digits is refused."""
    if not isinstance(value, str):
        return value  # the str type refuses it
    extension = value.strip().removeprefix(".").lower()
    if not re.fullmatch(r"[a-z0-9]+", extension):
        raise ValueError(f"'{value}' is not a file type: write an extension such as pdf or docx (letters and "
                         "digits only)")
    return extension


SLUG = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)]
LANG = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")]
#: Text a person reads: {"en": "...", "ru": "..."}, or a plain string in the default language.
Text = str | dict[LANG, str]

QUESTION_TYPES = ("single_choice", "multiple_choice", "yes_no", "scale", "number", "text", "long_text", "date",
                  "matrix", "file", "note")
DEFAULT_FILE_TYPES = ["pdf", "docx", "xlsx", "jpg", "png"]
#: Extensions that name the same kind of file: allowing one allows the others (a camera's photo.jpeg is a JPG).
SAME_FILE_TYPE = {"jpg": ("jpeg", "jpe"), "jpeg": ("jpg", "jpe"), "tif": ("tiff",), "tiff": ("tif",),
                  "htm": ("html",), "html": ("htm",)}
#: The largest file a file question may accept, in MB: the server refuses any request over 60 MB
#: (MAX_CONTENT_LENGTH in app.config), and a page sends its other answers with the file.
FILE_SIZE_LIMIT_MB = 50

#: Which optional fields each type accepts (besides the common ones).
TYPE_FIELDS: dict[str, set[str]] = {
    "single_choice": {"choices", "other"},
    "multiple_choice": {"choices"},
    "yes_no": {"partly", "scores"},
    "scale": set(),
    "number": {"integer", "min", "max", "unit", "thresholds"},
    "text": {"max_length"},
    "long_text": {"max_length"},
    "date": {"min", "max"},
    "matrix": {"rows", "choices"},
    "file": {"file_types", "max_size_mb"},
    "note": set(),
}
PER_TYPE = set().union(*TYPE_FIELDS.values())
SCORABLE = {"single_choice", "multiple_choice", "yes_no", "scale", "number", "matrix"}


class _Model(BaseModel):
    # allow_inf_nan: "inf" or "nan" written as a weight, target, score or limit is refused, not stored as Infinity
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ScaleLevel(_Model):
    """One level of the rating scale."""

    level: int
    label: Text
    description: Text | None = None


class Indicator(_Model):
    """A capability measured by questions, with its default target level."""

    id: ID
    title: Text
    description: Text | None = None
    target: float
    weight: float = Field(default=1, gt=0)
    aggregation: Literal["mean", "max", "min"] = "mean"


class Area(_Model):
    """A thematic area grouping indicators."""

    id: ID
    title: Text
    description: Text | None = None
    weight: float = Field(default=1, gt=0)
    indicators: list[Indicator] = Field(min_length=1)


class Choice(_Model):
    """An answer option; `score` is its level on the scale (none: not scored)."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label: Text
    score: float | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value):
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class MatrixRow(_Model):
    """A row of a matrix question; it may score its own indicator."""

    id: ID
    label: Text
    indicator: ID | None = None
    weight: float = Field(default=1, gt=0)


class Threshold(_Model):
    """A number at or above `at_least` gives `level`."""

    at_least: float
    level: float


class Question(_Model):
    """One question; which optional fields apply depends on `type`."""

    id: ID
    type: Literal["single_choice", "multiple_choice", "yes_no", "scale", "number", "text", "long_text", "date",
                  "matrix", "file", "note"]
    label: Text
    hint: Text | None = None
    required: bool = False
    required_message: Text | None = None
    show_if: str | None = None
    constraint: str | None = None
    constraint_message: Text | None = None
    indicator: ID | None = None
    weight: float = Field(default=1, gt=0)
    not_applicable: bool = False
    dont_know: bool = False
    default: Any = None
    appearance: str | None = None
    # per-type options
    choices: list[Choice] | None = None
    other: bool = False
    partly: bool = False
    scores: dict[Literal["yes", "partly", "no"], float] | None = None
    integer: bool = False
    min: float | str | None = None
    max: float | str | None = None
    unit: Text | None = None
    thresholds: list[Threshold] | None = None
    max_length: int | None = Field(default=None, gt=0)
    rows: list[MatrixRow] | None = None
    #: extensions without the dot; written in capitals (PDF) or with the dot (.pdf) they are taken as pdf
    file_types: list[Annotated[str, BeforeValidator(_extension)]] | None = None
    max_size_mb: float | None = Field(default=None, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _number_default_as_number(cls, data):
        """`default: "3"` of a number or scale question is the number 3, as the XLSForm import reads it: kept as
        text, every round trip through XLSForm made a new version for nothing."""
        if isinstance(data, dict) and data.get("type") in ("number", "scale") and isinstance(data.get("default"), str) \
                and _PLAIN_NUMBER.match(data["default"].strip()):  # not "1,200" (1200 or 1.2?), as answers
            number = float(data["default"].strip())
            if math.isfinite(number):
                data = {**data, "default": int(number) if number.is_integer() else number}
        return data

    @model_validator(mode="after")
    def _fields_fit_the_type(self):
        allowed = TYPE_FIELDS[self.type]
        defaults = Question.model_fields
        for name in PER_TYPE - allowed:
            if getattr(self, name) != defaults[name].default:
                raise ValueError(f"'{name}' does not apply to a {self.type} question")
        if self.type in ("single_choice", "multiple_choice") and not self.choices:
            raise ValueError(f"a {self.type} question needs 'choices'")
        if self.type == "matrix" and not self.rows:
            raise ValueError("a matrix question needs 'rows'")
        if self.type == "note" and (self.required or self.not_applicable or self.dont_know or self.indicator):
            raise ValueError("a note shows text only: it cannot be required, answered or scored")
        if self.type not in SCORABLE and self.indicator:
            raise ValueError(f"a {self.type} question cannot score an indicator")
        if self.type == "number":
            for name in ("min", "max"):
                if isinstance(getattr(self, name), str):
                    raise ValueError(f"'{name}' of a number question must be a number")
        if self.type == "date":
            for name in ("min", "max"):
                value = getattr(self, name)
                if value is not None and value != "today" and not _is_iso_date(value):
                    raise ValueError(f"'{name}' of a date question must be an ISO date (YYYY-MM-DD) or 'today'")
        return self

    @property
    def allowed_file_types(self) -> list[str]:
        """File types accepted by a file question, as its author listed them (shown to people)."""
        return self.file_types or DEFAULT_FILE_TYPES

    @property
    def accepted_extensions(self) -> list[str]:
        """Every file extension accepted: the allowed types and their other spellings (jpg: jpeg, jpe)."""
        out = list(self.allowed_file_types)
        for extension in self.allowed_file_types:
            out.extend(other for other in SAME_FILE_TYPE.get(extension, ()) if other not in out)
        return out

    @property
    def size_limit_mb(self) -> float:
        """Upload size limit of a file question, in MB (never above FILE_SIZE_LIMIT_MB, which a version stored before
        that limit was checked may ask for)."""
        return min(self.max_size_mb or 10, FILE_SIZE_LIMIT_MB)


def _is_iso_date(value) -> bool:
    from datetime import date

    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


class Section(_Model):
    """A page of the questionnaire."""

    id: ID
    title: Text
    description: Text | None = None
    show_if: str | None = None
    questions: list[Question] = Field(min_length=1)


class Definition(_Model):
    """A whole questionnaire definition."""

    schema_version: int
    id: SLUG
    title: Text
    description: Text | None = None
    languages: list[LANG] = Field(min_length=1)
    scale: list[ScaleLevel] = Field(min_length=2)
    areas: list[Area] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value not in SCHEMA_VERSIONS:
            known = ", ".join(str(v) for v in SCHEMA_VERSIONS)
            raise ValueError(f"schema_version {value} is not known to this program (known: {known})")
        return value

    @property
    def default_language(self) -> str:
        """The first language."""
        return self.languages[0]

    def language_for(self, wanted: str | None) -> str:
        """`wanted` when the questionnaire is written in it, else its default language."""
        return wanted if wanted in self.languages else self.languages[0]

    @property
    def min_level(self) -> float:
        """Lowest level of the scale."""
        return min(level.level for level in self.scale)

    @property
    def max_level(self) -> float:
        """Highest level of the scale."""
        return max(level.level for level in self.scale)

    def questions(self) -> Iterator[tuple[Section, Question]]:
        """Every (section, question) in order."""
        for section in self.sections:
            for question in section.questions:
                yield section, question

    def question(self, question_id: str) -> Question | None:
        """The question with this id, or None."""
        return next((q for _s, q in self.questions() if q.id == question_id), None)

    def indicators(self) -> Iterator[tuple[Area, Indicator]]:
        """Every (area, indicator) in order."""
        for area in self.areas:
            for indicator in area.indicators:
                yield area, indicator

    def indicator(self, indicator_id: str) -> Indicator | None:
        """The indicator with this id, or None."""
        return next((i for _a, i in self.indicators() if i.id == indicator_id), None)

    def text(self, text: Text | None, lang: str) -> str:
        """A text in `lang`, falling back to the default language, then to any language."""
        if text is None:
            return ""
        if isinstance(text, str):
            return text
        return text.get(lang) or text.get(self.default_language) or next(iter(text.values()), "")

    def to_dict(self) -> dict:
        """Canonical JSON-able form (defaults omitted): stored in the database and compared."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def content_hash(self) -> str:
        """sha256 of the canonical form: the same content always gives the same hash."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
