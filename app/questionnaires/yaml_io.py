"""Writing a definition back to YAML in the format staff edit (readable key order, flow-style texts)."""

from __future__ import annotations

import io

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from app.questionnaires.schema import Definition

_SHORT_FLOW_KEYS = {"title", "label", "hint", "description", "constraint_message", "required_message", "unit"}


def _convert(value, key: str | None = None):
    if isinstance(value, dict):
        node = CommentedMap()
        for k, v in value.items():
            node[k] = _convert(v, k)
        if key in _SHORT_FLOW_KEYS and all(isinstance(v, str) for v in value.values()):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_convert(v) for v in value)
        if key in ("languages", "file_types") or (value and all(isinstance(v, str | int | float) for v in value)):
            seq.fa.set_flow_style()
        return seq
    return value


def dump_definition(definition: Definition) -> str:
    """The definition as YAML text (what `flask questionnaires import-xlsform` writes)."""
    yaml = YAML()
    yaml.width = 110
    yaml.allow_unicode = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(_convert(definition.to_dict()), out)
    return out.getvalue()
