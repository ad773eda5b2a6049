"""Writing a definition back to YAML in the format staff edit (readable key order, flow-style texts)."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from app.questionnaires.schema import Definition

_SHORT_FLOW_KEYS = {"title", "label", "hint", "description", "constraint_message", "required_message", "unit"}
#: Texts starting with these are written plain inside `{...}` / `[...]` by ruamel but cannot be read back
#: there (`{en: ? Other}`): they are quoted.
_FLOW_UNSAFE_START = ("?", ":")


def _flow_scalar(value, quote_all: bool):
    if isinstance(value, str) and (quote_all or value.startswith(_FLOW_UNSAFE_START)):
        return DoubleQuotedScalarString(value)
    return value


def _convert(value, key: str | None = None, quote_all: bool = False):
    if isinstance(value, dict):
        node = CommentedMap()
        flow = key in _SHORT_FLOW_KEYS and all(isinstance(v, str) for v in value.values())
        for k, v in value.items():
            node[k] = _flow_scalar(v, quote_all) if flow else _convert(v, k, quote_all)
        if flow:
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        flow = key in ("languages", "file_types") or (value and all(isinstance(v, str | int | float) for v in value))
        seq = CommentedSeq(_flow_scalar(v, quote_all) if flow else _convert(v, quote_all=quote_all) for v in value)
        if flow:
            seq.fa.set_flow_style()
        return seq
    return DoubleQuotedScalarString(value) if quote_all and isinstance(value, str) else value


def _dump(data: dict, quote_all: bool) -> str:
    yaml = YAML()
    yaml.width = 110
    yaml.allow_unicode = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_convert(data, quote_all=quote_all), out)
    return out.getvalue()


def _reads_back(text: str, data: dict) -> bool:
    from app.questionnaires.loader import yaml_data

    try:
        return yaml_data(text) == data
    except Exception:  # noqa: BLE001 - any failure to read back means: not this text
        return False


def dump_definition(definition: Definition) -> str:
    """The definition as YAML text (what `flask questionnaires import-xlsform` writes).

    The text is read back; if any value would not survive (a text ruamel writes unquoted where it cannot be
    read), it is written again with every text double-quoted.
    """
    data = definition.to_dict()
    text = _dump(data, quote_all=False)
    if not _reads_back(text, data):
        text = _dump(data, quote_all=True)
    return text


def round_trip_problems(definition: Definition, text: str, filename: str) -> list[str]:
    """Why `text` (the YAML written for `definition`) would not load back as the same definition; [] when it does.

    Each problem is `file:line: path: message` as the loader reports it.
    """
    from app.questionnaires.loader import load_text

    result = load_text(text, filename)
    errors = [str(problem) for problem in result.errors]
    if errors:
        return errors
    if result.definition is not None and result.definition.to_dict() != definition.to_dict():
        path = _first_difference(definition.to_dict(), result.definition.to_dict())
        return [f"{filename}: {path}: the file reads back differently from the imported form"]
    return []


def _first_difference(a: Any, b: Any, loc: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{loc}.{key}" if loc else str(key))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{loc}[{index}]")
    return loc or "(document)"
