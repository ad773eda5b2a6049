"""The API reference page's content, read from the OpenAPI document (so the page never drifts from it). Pure.

Every text the page shows from the document goes through `translate` (the page passes gettext): the document
stays in English, for programs; its texts are in the message catalogues through `app.api.reference_texts`,
which lists them (`python -m app.api.reference_texts` writes that list again after the document changed)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

#: A text of the document -> the same text in the page's language.
Translate = Callable[[str], str]


def same(text: str) -> str:
    """No translation: the document's own English."""
    return text


METHOD_ORDER = ("get", "post", "put", "patch", "delete")


@dataclass
class Field:
    """A parameter or a property: name, type, whether required, description, constraints."""

    name: str
    type: str
    ref: str | None
    required: bool
    description: str
    constraints: str
    location: str = ""


@dataclass
class Outcome:
    """One documented response: status, description, the schema of its body if any."""

    status: str
    description: str
    schema: str | None


@dataclass
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    public: bool
    parameters: list[Field]
    responses: list[Outcome]


@dataclass
class Section:
    """The operations of one tag."""

    name: str
    operations: list[Operation] = field(default_factory=list)


@dataclass
class Schema:
    name: str
    description: str
    fields: list[Field]
    enum: list[str]


@dataclass
class Reference:
    title: str
    version: str
    openapi: str
    description: list[Markup]
    sections: list[Section]
    schemas: list[Schema]


def inline_markdown(text: str) -> Markup:
    """Escape `text`, then render **bold**, *emphasis* and `code` (all the document's texts use)."""
    html = str(escape(text))
    html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
    html = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)
    html = re.sub(r"\*([^*]+)\*", r"<em>\1</em>", html)
    return Markup(html)  # noqa: S704 - built from escaped text


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def type_label(schema: dict[str, Any], t: Translate = same) -> tuple[str, str | None]:
    """A readable type ("integer", "list of Campaign", "string or null") and the schema it links to. JSON's own
    type names stay as they are in every language: they are what a program sees."""
    if not schema:
        return t("any"), None
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return name, name
    for key in ("anyOf", "oneOf"):
        if key in schema:
            labels = [type_label(s, t) for s in schema[key]]
            return f" {t('or')} ".join(label for label, _r in labels), next((r for _l, r in labels if r), None)
    if "enum" in schema:
        return t("one of %(values)s") % {"values": ", ".join(str(v) for v in schema["enum"])}, None
    if "const" in schema:
        return repr(schema["const"]), None
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = f" {t('or')} ".join(kind)
    elif kind == "any":
        kind = t("any")
    if kind == "array":
        label, ref = type_label(schema.get("items", {}), t)
        return t("list of %(type)s") % {"type": label}, ref
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        label, ref = type_label(schema["additionalProperties"], t)
        return t("object of %(type)s") % {"type": label}, ref
    if "format" in schema:
        return f"{kind} ({schema['format']})", None
    return kind, None


def constraints(schema: dict[str, Any], t: Translate = same) -> str:
    """Bounds, lengths, patterns and defaults, briefly."""
    parts = []
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", f"{t('length')} ≥"),
                       ("maxLength", f"{t('length')} ≤")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    if "pattern" in schema:
        parts.append(f"{t('pattern')} {schema['pattern']}")
    if "default" in schema and schema["default"] is not None:
        parts.append(f"{t('default')} {json.dumps(schema['default'], ensure_ascii=False)}")  # as a program sees it
    return ", ".join(parts)


def _field(name: str, schema: dict, required: bool, t: Translate, location: str = "") -> Field:
    label, ref = type_label(schema, t)
    return Field(name=name, type=label, ref=ref, required=required, description=_text(schema.get("description"), t),
                 constraints=constraints(schema, t), location=t(location) if location else "")


def _text(text: str | None, t: Translate) -> Markup:
    """A description of the document in the page's language, its `code` and emphasis rendered."""
    return inline_markdown(t(text)) if text else Markup("")


def _refs(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {_ref_name(value["$ref"])} if isinstance(value.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_refs(v) for v in value))
    return set()


def _referenced(paths: dict[str, Any], components: dict[str, Any]) -> set[str]:
    """The schemas the operations' bodies use, directly or through other schemas."""
    found, todo = set(), _refs(paths)
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo |= _refs(components.get(name, {})) - found
    return found


def reference(document: dict[str, Any], translate: Translate = same, translate_section: Translate | None = None
              ) -> Reference:
    """Everything the reference page shows, in the document's order of tags, its texts through `translate` and
    the names of its sections (the tags) through `translate_section` (a word such as "Responses" is a heading
    there, which the rest of the interface may translate otherwise)."""
    t = translate
    section_name = translate_section or translate
    info = document.get("info", {})
    sections: dict[str, Section] = {tag["name"]: Section(section_name(tag["name"]))
                                    for tag in document.get("tags", [])}
    for path, item in document.get("paths", {}).items():
        for method in sorted(item, key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 99):
            op = item[method]
            tag = (op.get("tags") or ["Other"])[0]
            parameters = [_field(p["name"], p.get("schema", {}), p.get("required", False), t, p.get("in", ""))
                          for p in op.get("parameters", [])]
            outcomes: list[Outcome] = []
            for status, resp in sorted(op.get("responses", {}).items()):
                content = resp.get("content", {}).get("application/json", {})
                ref = content.get("schema", {}).get("$ref")
                schema = _ref_name(ref) if ref else None
                description = t(resp["description"]) if resp.get("description") else ""
                previous = outcomes[-1] if outcomes else None
                if previous and status >= "400" and previous.status >= "400" and previous.schema == schema:
                    # Errors share one shape: one row for all of them.
                    outcomes[-1] = Outcome(f"{previous.status}, {status}", f"{previous.description}, {description}",
                                           schema)
                else:
                    outcomes.append(Outcome(status, description, schema))
            anchor = "op-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")
            if tag not in sections:
                sections[tag] = Section(section_name(tag))
            sections[tag].operations.append(Operation(
                method=method.upper(), path=path, anchor=anchor, summary=_text(op.get("summary"), t),
                description=_text(op.get("description"), t), public=op.get("security") == [],
                parameters=parameters, responses=outcomes,
            ))
    components = document.get("components", {}).get("schemas", {})
    shown = _referenced(document.get("paths", {}), components)
    schemas = []
    for name, schema in sorted(components.items()):
        if name not in shown:
            continue  # e.g. the containers of query parameters, shown with each operation instead
        required = set(schema.get("required", []))
        fields = [_field(prop, sub, prop in required, t) for prop, sub in schema.get("properties", {}).items()]
        schemas.append(Schema(name=name, description=_text(schema.get("description"), t), fields=fields,
                              enum=[str(v) for v in schema.get("enum", [])]))
    paragraphs = [inline_markdown(t(" ".join(p.split()))) for p in info.get("description", "").split("\n\n")
                  if p.strip()]
    return Reference(title=t(info["title"]) if info.get("title") else "", version=info.get("version", ""),
                     openapi=document.get("openapi", ""), description=paragraphs,
                     sections=[s for s in sections.values() if s.operations], schemas=schemas)


def texts(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Every text `reference` asks `translate` for, and every section name it asks `translate_section` for, in
    the order met: what the message catalogues must hold."""
    found: dict[str, None] = {}
    sections: dict[str, None] = {}

    def collect(text: str) -> str:
        found.setdefault(text)
        return text

    def collect_section(name: str) -> str:
        sections.setdefault(name)
        return name

    reference(document, collect, collect_section)
    return list(found), list(sections)
