"""Reading questionnaire YAML files into a Definition, with every problem located as file:line: path.

Problems come from three layers: YAML syntax, the typed schema (schema.py), and checks that need the
whole document (duplicate ids, references, expressions, cycles, translations).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent
from ruamel.yaml.reader import ReaderError

from app.questionnaires import expressions
from app.questionnaires.idents import make_id, make_slug
from app.questionnaires.qtypes import REGISTRY, SPECIAL
from app.questionnaires.schema import FILE_SIZE_LIMIT_MB, SCHEMA_VERSIONS, SCORABLE, Definition

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with each line break written as the two characters \\n: one message, one line."""
    return _LINE_BREAKS.sub(r"\\n", text)


@dataclass(frozen=True)
class Problem:
    """One problem of a definition file."""

    file: str
    line: int
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else "warning: "
        place = f"{self.file}:{self.line}" if self.line else self.file  # 0: about a folder, not a line
        return one_line(f"{place}: {self.path}: {prefix}{self.message}")  # a quoted text's line breaks too


@dataclass
class LoadResult:
    """The definition (None when there are errors) and every problem found."""

    definition: Definition | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """Problems that make the file unusable."""
        return [p for p in self.problems if p.severity == "error"]


def file_size_message(value: float) -> str:
    """The problem of a file question whose max_size_mb is above what the server accepts."""
    return (f"max_size_mb is at most {FILE_SIZE_LIMIT_MB} (MB; got {value:g}): the server refuses larger "
            "uploads")


def format_path(loc: Iterable) -> str:
    """('sections', 2, 'questions', 5) -> 'sections[2].questions[5]'."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "(document)"


def _lines(node: Any, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    """Map each path in the YAML document to its 1-based line."""
    out = {} if out is None else out
    if isinstance(node, CommentedMap):
        out.setdefault(path, node.lc.line + 1)
        for key, value in node.items():
            try:
                line = node.lc.key(key)[0] + 1
            except (KeyError, TypeError):
                line = node.lc.line + 1
            out[path + (key,)] = line
            _lines(value, path + (key,), out)
    elif isinstance(node, CommentedSeq):
        out.setdefault(path, node.lc.line + 1)
        for index, value in enumerate(node):
            try:
                line = node.lc.item(index)[0] + 1
            except (KeyError, TypeError, IndexError):
                line = node.lc.line + 1
            out[path + (index,)] = line
            _lines(value, path + (index,), out)
    return out


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k) if not isinstance(k, bool) else k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _non_finite_numbers(node: Any, loc: tuple = ()) -> Iterable[tuple[tuple, str]]:
    """(path, YAML spelling) of every .inf / .nan in the plain data."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _non_finite_numbers(value, loc + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _non_finite_numbers(value, loc + (index,))
    elif isinstance(node, float) and not math.isfinite(node):
        yield loc, ".nan" if math.isnan(node) else ".inf" if node > 0 else "-.inf"


def _not_finite(spelling: str) -> str:
    return f"{spelling} is not allowed: numbers must be finite (no infinity or NaN)"


class _Locator:
    def __init__(self, filename: str, lines: dict[tuple, int]):
        self.filename = filename
        self.lines = lines

    def line(self, loc: tuple) -> int:
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def problem(self, loc: tuple, message: str, severity: str = "error") -> Problem:
        return Problem(self.filename, self.line(loc), format_path(loc), message, severity)


def load_file(path: str | Path) -> LoadResult:
    """Read and check one YAML definition file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return LoadResult(None, [Problem(str(path), 1, "(document)", f"cannot read the file: {exc.strerror}")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return LoadResult(None, [Problem(str(path), line, "(document)", _not_utf8(data, exc))])
    return load_text(text, str(path))


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    """What a file that is not UTF-8 text most likely is, and what to do about it."""
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return ("this is an Excel workbook (or another binary file), not YAML text: an XLSForm is converted "
                "with 'flask questionnaires import-xlsform'")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16 text: save it as UTF-8 (in Notepad: Save as, Encoding: UTF-8)"
    byte = f"byte 0x{data[exc.start]:02x}"
    try:
        cyrillic = any("\u0400" <= c <= "\u04ff" for c in data.decode("cp1251"))
    except UnicodeDecodeError:
        cyrillic = False
    if cyrillic:
        return (f"not UTF-8 text ({byte}): it reads as Windows-1251 (Cyrillic); save the file as UTF-8 "
                "(in Notepad: Save as, Encoding: UTF-8)")
    return f"not UTF-8 text ({byte} cannot be read): save the file as UTF-8"


#: Spaces that look like a space but are not one to YAML (pasted from a word processor or a web page).
_LOOKALIKE_SPACES = {"\u00a0": "a non-breaking space", "\u2007": "a figure space", "\u202f": "a narrow no-break space",
                     "\u3000": "an ideographic space", "\u200b": "a zero-width space", "\ufeff": "a zero-width space"}


def _syntax_hint(text: str, line: int, message: str) -> str:
    """A plain reason for the usual causes of a YAML syntax error near `line` (1-based), or ""."""
    lines = text.splitlines()
    if "'\\t'" in message:
        return "YAML indents with spaces only: replace the tab with spaces"
    for number in (line, line - 1):
        if not 1 <= number <= len(lines):
            continue
        content = lines[number - 1]
        stripped = content.split("#", 1)[0]
        for char, name in _LOOKALIKE_SPACES.items():
            column = stripped.find(char)
            if column < 0:
                continue
            before = stripped[:column]
            in_text = before.count('"') % 2 == 1 or before.count("'") % 2 == 1 or (": " in before and column >
                                                                                    before.index(": ") + 2)
            if not in_text:
                return (f"line {number} column {column + 1} holds {name} (often pasted from a word processor) "
                        "where YAML needs an ordinary space: retype it")
    return ""


#: Deepest nesting of mappings and lists accepted (a definition needs about 8 levels).
MAX_YAML_NESTING = 40


class _Refused(Exception):
    """The YAML text uses something the loader does not accept; `line` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Constructor(RoundTripConstructor):
    """Round-trip constructor that reads dates as the text written and locates every construction error."""

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)
        except MarkedYAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. `!!int abc`: ruamel gives no line
            raise ConstructorError(None, None, str(exc), node.start_mark) from exc

    def _timestamp_as_text(self, node: Any) -> str:
        # `max: 2024-01-05` means the text "2024-01-05" (what `min`/`max` of a date question expect);
        # an impossible date such as 2024-13-45 is then reported by the schema at its own line.
        return str(node.value)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor._timestamp_as_text)


def _read_yaml(text: str) -> Any:
    """The YAML document, refused before it is built when it uses anchors/aliases or is nested too deeply.

    Aliases are refused because building and walking them costs as much as every copy they stand for (a
    ten-line "billion laughs" file never finishes) and a self-referencing anchor makes a cycle.
    """
    yaml = YAML(typ="rt")
    depth = 0
    for event in yaml.parse(text):  # events only: nothing is expanded yet
        line = event.start_mark.line + 1 if event.start_mark else 1
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            raise _Refused(line, "anchors and aliases (&, *) are not allowed: write the repeated part out")
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_NESTING:
                raise _Refused(line, f"the file is nested too deeply (more than {MAX_YAML_NESTING} levels)")
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    return yaml.load(text)


def yaml_data(text: str) -> Any:
    """The plain data (dicts, lists, texts, numbers) of YAML text read as `load_text` reads it; raises on bad YAML."""
    return _plain(_read_yaml(text))


def load_text(text: str, filename: str = "<text>") -> LoadResult:
    """Parse and check definition text; `filename` is used in messages."""
    try:
        document = _read_yaml(text)
    except _Refused as exc:
        return LoadResult(None, [Problem(filename, exc.line, "(document)", exc.message)])
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "stream end" in str(exc.problem):
            mark = exc.context_mark  # an unclosed bracket or quote: point at where it was opened
        line = mark.line + 1 if mark else 1
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        hint = _syntax_hint(text, line, message)
        message = f"{message}: {hint}" if hint else message
        return LoadResult(None, [Problem(filename, line, "(document)", f"YAML syntax error: {message}")])
    except ReaderError as exc:  # a character YAML does not allow (a NUL byte, say): its line, on one line
        line = text[:exc.position].count("\n") + 1 if isinstance(exc.position, int) else 1
        character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return LoadResult(None, [Problem(filename, line, "(document)", f"YAML syntax error: the character "
                                         f"{character} is not allowed in a YAML file: remove it")])
    except Exception as exc:  # noqa: BLE001 - ruamel raises several unrelated types on bad input
        message = " ".join(str(exc).split())  # one problem, one line
        return LoadResult(None, [Problem(filename, 1, "(document)", f"YAML syntax error: {message}")])
    if not isinstance(document, CommentedMap):
        return LoadResult(None, [Problem(filename, 1, "(document)", "the file must be a mapping of keys "
                                                                    "(schema_version, id, title, ...)")])
    locator = _Locator(filename, _lines(document))
    data = _plain(document)
    not_finite = [locator.problem(loc, _not_finite(spelling)) for loc, spelling in _non_finite_numbers(data)]
    if not_finite:
        return LoadResult(None, not_finite)
    if "schema_version" not in data:
        return LoadResult(None, [locator.problem((), "schema_version is missing (this program reads version 1)")])
    if isinstance(data["schema_version"], str) and re.fullmatch(r"\s*[0-9]+\s*", data["schema_version"]):
        return LoadResult(None, [locator.problem(("schema_version",), f"schema_version must be a number, not text: "
                                                                      f"write {data['schema_version'].strip()} "
                                                                      f"without quotes")])
    if data["schema_version"] not in SCHEMA_VERSIONS:
        known = ", ".join(str(v) for v in SCHEMA_VERSIONS)
        return LoadResult(None, [locator.problem(("schema_version",), f"schema_version {data['schema_version']} is "
                                                                      f"not known to this program (known: {known})")])
    try:
        definition = Definition.model_validate(data)
    except ValidationError as exc:
        return LoadResult(None, _from_pydantic_errors(locator, exc.errors()))
    problems = check_definition(definition, locator) + _codes_read_as_numbers(data, text, locator)
    problems = sorted(problems, key=lambda p: (p.severity != "error", p.line))
    return LoadResult(None if any(p.severity == "error" for p in problems) else definition, problems)


_VALUE_TOKEN = re.compile(r"\bvalue:\s*([^\s,}#'\"]+)")


def _codes_read_as_numbers(data: dict, text: str, locator: _Locator) -> list[Problem]:
    """A warning for each choice value written as a number that YAML reads otherwise than written (01 as 1, 1.10
    as 1.1, 1e3 as 1000.0, 0x1F as 31): the code stored would not be the one written, nor match the codes of
    data collected elsewhere (a region 01)."""
    lines = text.splitlines()
    found = []
    for i, section in enumerate(data.get("sections") or []):
        for j, question in enumerate((section or {}).get("questions") or [] if isinstance(section, dict) else []):
            choices = question.get("choices") if isinstance(question, dict) else None
            for k, choice in enumerate(choices if isinstance(choices, list) else []):
                value = choice.get("value") if isinstance(choice, dict) else None
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                loc = ("sections", i, "questions", j, "choices", k, "value")
                number = locator.line(loc)
                line = lines[number - 1] if 0 < number <= len(lines) else ""
                # only where the line holds this one value (not several choices written on one line, nor a
                # label saying "value: 7"): no warning rather than one about the wrong text
                match = _VALUE_TOKEN.search(line) if line.count("value:") == 1 else None
                if match and match.group(1) != str(value):
                    written = match.group(1)
                    found.append(locator.problem(loc, f"the value {written} is read as the number {value}, and "
                                                      f"stored as \"{value}\": write it in quotes (\"{written}\") to "
                                                      "keep the code as written", "warning"))
    return found


#: Question-level schema messages about one option ("'max' of a date question must be ...").
_NAMED_OPTION = re.compile(r"^'(min|max)' of a ")


def _pattern_message(pattern: str, value: Any, fallback: str) -> str:
    """An id, a questionnaire id or a language code written otherwise than allowed, in plain words, with the id
    the XLSForm import would make of it ("вопрос 2" -> vopros_2)."""
    from app.questionnaires.schema import ID, LANG, SLUG

    def pattern_of(kind) -> str:
        return next(str(m.pattern) for m in kind.__metadata__ if getattr(m, "pattern", None))

    text = str(value)
    if pattern == pattern_of(ID):
        suggestion = make_id(text)
        return (f"'{text}' is not an id: write it in lower-case Latin letters, digits and _, starting with a letter"
                + (f", for example '{suggestion}'" if suggestion else ""))
    if pattern == pattern_of(SLUG):
        suggestion = make_slug(text)
        return (f"'{text}' is not a questionnaire id: write it in lower-case Latin letters, digits, - and _"
                + (f", for example '{suggestion}'" if suggestion else ""))
    if pattern == pattern_of(LANG):
        return f"'{text}' is not a language code: write a code such as en, ru, kk or uz"
    return fallback


def _from_pydantic_errors(locator: _Locator, errors: list[dict]) -> list[Problem]:
    """Turn pydantic errors into located problems, merging the two readings of a multilingual text."""
    problems: list[Problem] = []
    text_fields_with_dict_errors = set()
    for error in errors:
        loc = tuple(error["loc"])
        if any(isinstance(p, str) and p.startswith("dict[") for p in loc):
            text_fields_with_dict_errors.add(loc[:next(i for i, p in enumerate(loc)
                                                        if isinstance(p, str) and p.startswith("dict["))])
    for error in errors:
        loc = tuple(error["loc"])
        kind, message = error["type"], error["msg"]
        member = next((i for i, p in enumerate(loc) if isinstance(p, str) and p.startswith(("str", "dict["))), None)
        if member is not None:
            field_loc, rest = loc[:member], loc[member + 1:]
            if loc[member] == "str":
                if field_loc in text_fields_with_dict_errors:
                    continue
                problems.append(locator.problem(field_loc, "expected a text or a mapping {language: text}"))
            elif rest and rest[-1] == "[key]":
                problems.append(locator.problem(field_loc, f"'{rest[0]}' is not a language code (expected en, ru, "
                                                           "...); quote texts that contain commas or colons"))
            else:
                problems.append(locator.problem(field_loc + rest[:1], "the text must be a string"))
            continue
        if kind == "extra_forbidden":
            message = f"unknown key '{loc[-1]}'"
        elif kind == "missing":
            message = f"'{loc[-1]}' is missing"
        elif kind == "finite_number":  # "inf", "nan" written as text
            message = _not_finite(repr(error.get("input")))
        elif kind == "literal_error":
            message = f"{message} (got {error.get('input')!r})"
        elif kind == "string_pattern_mismatch":
            message = _pattern_message(str((error.get("ctx") or {}).get("pattern", "")), error.get("input"), message)
        elif message.startswith("Value error, "):
            message = message[len("Value error, "):]
            named = _NAMED_OPTION.match(message)
            if named and loc + (named.group(1),) in locator.lines:  # point at the `min:` line, not the question
                loc = loc + (named.group(1),)
        problems.append(locator.problem(loc, message))
    return list(dict.fromkeys(problems))


def definition_problems(definition: Definition, filename: str = "<definition>") -> list[Problem]:
    """The whole-document checks for a Definition built elsewhere (XLSForm import), without line numbers."""
    return check_definition(definition, _Locator(filename, {}))


def check_definition(definition: Definition, locator: _Locator) -> list[Problem]:
    """Checks that need the whole document."""
    problems: list[Problem] = []
    add = problems.append
    levels = [level.level for level in definition.scale]
    if levels != sorted(set(levels)):
        add(locator.problem(("scale",), "levels must be whole numbers in strictly ascending order"))
    low, high = min(levels), max(levels)

    def in_scale(value) -> bool:
        return low <= value <= high

    def dup(kind: str, items: list[tuple[tuple, str]]):
        seen: set[str] = set()
        for loc, ident in items:
            if ident in seen:
                add(locator.problem(loc, f'duplicate {kind} "{ident}"'))
            seen.add(ident)

    dup("language", [(("languages", k), lang) for k, lang in enumerate(definition.languages)])
    dup("area id", [(("areas", i, "id"), a.id) for i, a in enumerate(definition.areas)])
    indicator_items = [(("areas", i, "indicators", j, "id"), ind.id)
                       for i, a in enumerate(definition.areas) for j, ind in enumerate(a.indicators)]
    dup("indicator id", indicator_items)
    dup("section id", [(("sections", i, "id"), s.id) for i, s in enumerate(definition.sections)])
    question_items = [(("sections", i, "questions", j, "id"), q.id)
                      for i, s in enumerate(definition.sections) for j, q in enumerate(s.questions)]
    dup("question id", question_items)
    for i, section in enumerate(definition.sections):
        for j, question in enumerate(section.questions):
            if (question.max_size_mb or 0) > FILE_SIZE_LIMIT_MB:
                add(locator.problem(("sections", i, "questions", j, "max_size_mb"),
                                    file_size_message(question.max_size_mb)))
    indicator_ids = {ident for _loc, ident in indicator_items}
    for i, area in enumerate(definition.areas):
        for j, ind in enumerate(area.indicators):
            if not in_scale(ind.target):
                add(locator.problem(("areas", i, "indicators", j, "target"),
                                    f"target {ind.target:g} is outside the scale ({low}-{high})"))
    scored: set[str] = set()
    kinds = {q.id: REGISTRY[q.type].kind for _s, q in definition.questions()}
    # the codes of the answers of single, yes/no and multiple choice questions, for `unknown_choices`
    choices = {q.id: [*(REGISTRY[q.type].values(q, definition) if q.type == "yes_no" else
                        [c.value for c in q.choices or []]), *(s for s in SPECIAL if getattr(q, s, False))]
               for _s, q in definition.questions() if q.type in ("single_choice", "yes_no", "multiple_choice")}
    positions = {q.id: (i, j) for i, s in enumerate(definition.sections) for j, q in enumerate(s.questions)}
    show_refs: dict[str, set[str]] = {}
    section_refs: dict[int, set[str]] = {}

    def later_refs(refs: set[str], place: tuple[int, float], loc: tuple) -> None:
        """Warn of the questions a show_if at `place` (section, question) refers to that come after it."""
        for ref in sorted(refs):
            if ref in positions and positions[ref] > place:
                add(locator.problem(loc + ("show_if",), f"show_if refers to '{ref}', which comes later in the "
                                                        "questionnaire", "warning"))

    for i, section in enumerate(definition.sections):
        base = ("sections", i)
        if section.show_if:
            tree = _check_expression(section.show_if, base + ("show_if",), kinds, None, locator, problems, choices)
            refs = expressions.references(tree) if tree is not None else set()
            section_refs[i] = refs
            own = sorted(ref for ref in refs if ref in positions and positions[ref][0] == i)
            if own:  # hidden, the section hides the very answers that would show it: never shown
                add(locator.problem(base + ("show_if",), f"show_if of section '{section.id}' refers to "
                                    f"{', '.join(repr(r) for r in own)}, a question of the section itself: the "
                                    "section could never be shown; refer to questions of earlier sections"))
            later_refs(refs, (i, math.inf), base)
        for j, q in enumerate(section.questions):
            loc = base + ("questions", j)
            if q.indicator:
                if q.indicator not in indicator_ids:
                    add(locator.problem(loc + ("indicator",), f'unknown indicator "{q.indicator}"'))
                scored.add(q.indicator)
            elif q.type in SCORABLE and q.type != "matrix" and _has_scores(q):
                add(locator.problem(loc, "the question has scores but no indicator", "warning"))
            if q.choices:
                dup("value", [(loc + ("choices", k, "value"), c.value) for k, c in enumerate(q.choices)])
                for lang in definition.languages:  # two identical buttons: which one is meant cannot be told
                    first: dict[str, int] = {}
                    for k, choice in enumerate(q.choices):
                        label = choice.label if isinstance(choice.label, str) else choice.label.get(lang, "")
                        text = " ".join(label.split()).casefold()
                        if text and text in first:
                            add(locator.problem(loc + ("choices", k, "label"), f"the label of choices "
                                                f"'{q.choices[first[text]].value}' and '{choice.value}' is the same "
                                                f"in {lang}: respondents cannot tell them apart", "warning"))
                        first.setdefault(text, k)
                for k, choice in enumerate(q.choices):
                    if choice.value in SPECIAL:
                        flag = "not_applicable: true" if choice.value == "not_applicable" else "dont_know: true"
                        add(locator.problem(loc + ("choices", k, "value"),
                                            f'"{choice.value}" is the value of a special answer and cannot be a '
                                            f"choice: offer it with '{flag}' on the question"))
                    elif q.type == "multiple_choice" and re.search(r"\s", choice.value):
                        add(locator.problem(loc + ("choices", k, "value"),
                                            f'the value "{choice.value}" of a multiple-choice answer cannot contain '
                                            "spaces (XLSForm keeps the chosen values in one text separated by "
                                            "spaces): write it as one word, for example with _"))
                    if choice.score is not None and not in_scale(choice.score):
                        add(locator.problem(loc + ("choices", k, "score"),
                                            f"score {choice.score:g} is outside the scale ({low}-{high})"))
            if q.rows:
                dup("row id", [(loc + ("rows", k, "id"), r.id) for k, r in enumerate(q.rows)])
                for k, row in enumerate(q.rows):
                    if row.indicator:
                        if row.indicator not in indicator_ids:
                            add(locator.problem(loc + ("rows", k, "indicator"),
                                                f'unknown indicator "{row.indicator}"'))
                        scored.add(row.indicator)
            for name, value in (q.scores or {}).items():
                if name == "partly" and not q.partly:
                    add(locator.problem(loc + ("scores", "partly"), "a score for 'partly' needs 'partly: true'"))
                if not in_scale(value):
                    add(locator.problem(loc + ("scores", name), f"score {value:g} is outside the scale ({low}-{high})"))
            for k, threshold in enumerate(q.thresholds or []):
                if not in_scale(threshold.level):
                    add(locator.problem(loc + ("thresholds", k, "level"),
                                        f"level {threshold.level:g} is outside the scale ({low}-{high})"))
            if q.thresholds and [t.at_least for t in q.thresholds] != sorted(t.at_least for t in q.thresholds):
                add(locator.problem(loc + ("thresholds",), "thresholds must be in ascending order of at_least"))
            if q.type == "number" and q.min is not None and q.max is not None and q.min > q.max:
                add(locator.problem(loc + ("min",), f"min {q.min:g} is greater than max {q.max:g}"))
            if q.show_if:
                tree = _check_expression(q.show_if, loc + ("show_if",), kinds, None, locator, problems, choices)
                if tree is not None:
                    refs = expressions.references(tree)
                    show_refs[q.id] = refs
                    if q.id in refs:
                        add(locator.problem(loc + ("show_if",), f"show_if of '{q.id}' refers to the question itself"))
                    later_refs(refs, (i, j), loc)
            if q.constraint:
                _check_expression(q.constraint, loc + ("constraint",), kinds, REGISTRY[q.type].kind, locator,
                                  problems, choices)
            if q.constraint_message and not q.constraint:
                add(locator.problem(loc + ("constraint_message",), "constraint_message without a constraint",
                                    "warning"))
    for loc, ident in indicator_items:
        if ident not in scored:
            add(locator.problem(loc, f'no question scores indicator "{ident}"', "warning"))
    # A question is shown only when its section is: its section's rule counts as one of its own, so that a cycle
    # through section rules is found too (a question's own section's refer to itself is said above).
    for i, refs in section_refs.items():
        for q in definition.sections[i].questions:
            extra = {ref for ref in refs if not (ref in positions and positions[ref][0] == i)}
            if extra:
                show_refs[q.id] = show_refs.get(q.id, set()) | extra
    _check_cycles(definition, show_refs, positions, locator, problems)
    _check_translations(definition, locator, problems)
    return problems


def _has_scores(q) -> bool:
    return bool(q.scores or q.thresholds or any(c.score is not None for c in q.choices or []))


def _check_expression(text, loc, kinds, current_kind, locator, problems, choices):
    try:
        tree = expressions.parse(text)
    except expressions.ExpressionError as exc:
        shown = text if len(text) <= 200 else text[:120] + "…"  # a 1000-term rule is not repeated in full
        problems.append(locator.problem(loc, f"{exc} in {shown!r}"))
        return None
    for message in expressions.check(tree, kinds, current_kind):
        problems.append(locator.problem(loc, message))
    for message in expressions.unknown_choices(tree, choices):  # a warning: the rule still works as written
        problems.append(locator.problem(loc, message, "warning"))
    return tree


def _check_cycles(definition, show_refs, positions, locator, problems) -> None:
    graph = {q: {r for r in refs if r in show_refs and r != q} for q, refs in show_refs.items()}
    state: dict[str, int] = {}
    reported: set[frozenset] = set()

    def report(cycle: list[str]) -> None:
        key = frozenset(cycle)
        if key not in reported:
            reported.add(key)
            i, j = positions[cycle[0]]
            names = cycle if len(cycle) <= 12 else [*cycle[:5], f"… ({len(cycle) - 10} more) …", *cycle[-5:]]
            problems.append(locator.problem(("sections", i, "questions", j, "show_if"),
                                            "show_if rules form a cycle: " + " → ".join(names)))

    # Depth-first, with a stack of its own rather than Python's: a chain of thousands of rules is no error.
    for start in sorted(graph):
        if state.get(start) is not None:
            continue
        path: list[str] = [start]
        pending = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                pending.pop()
                state[path.pop()] = 2
            elif state.get(nxt) == 1:
                report(path[path.index(nxt):] + [nxt])
            elif state.get(nxt) is None:
                state[nxt] = 1
                path.append(nxt)
                pending.append(iter(sorted(graph.get(nxt, ()))))


def _check_translations(definition: Definition, locator: _Locator, problems: list[Problem]) -> None:
    languages = definition.languages
    data = definition.model_dump(exclude_defaults=True)
    text_keys = {"title", "label", "hint", "description", "constraint_message", "required_message", "unit"}

    def walk(node, loc):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in text_keys and value is not None:
                    check_text(value, loc + (key,))
                elif isinstance(value, dict | list):
                    walk(value, loc + (key,))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, loc + (index,))

    def check_text(value, loc):
        if isinstance(value, str):
            if not value.strip():
                problems.append(locator.problem(loc, "the text is empty"))
            return
        for lang, text in value.items():
            if lang not in languages:
                problems.append(locator.problem(loc + (lang,), f"language '{lang}' is not in languages", "warning"))
            elif not (text or "").strip():
                problems.append(locator.problem(loc + (lang,), "the text is empty"))
        for lang in languages:
            if lang not in value:
                shown = languages[0] if languages[0] in value else next(iter(value), "")
                problems.append(locator.problem(loc, f"no '{lang}' translation (the {shown} text is shown)",
                                                "warning"))

    walk(data, ())
