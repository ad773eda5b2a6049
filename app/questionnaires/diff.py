"""Comparison of two questionnaire versions (pure: works on canonical definition dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Change:
    """One item (question, section, indicator, area) present in both versions with different fields."""

    kind: str
    id: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class Diff:
    """Items added, removed and changed between version A and version B."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    top_level: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        """True when the two versions are the same."""
        return not (self.added or self.removed or self.changed or self.top_level)


def _items(definition: dict) -> dict[tuple[str, str], dict]:
    items: dict[tuple[str, str], dict] = {}
    for area in definition.get("areas", []):
        items[("area", area["id"])] = {k: v for k, v in area.items() if k != "indicators"}
        for indicator in area.get("indicators", []):
            items[("indicator", indicator["id"])] = dict(indicator, area=area["id"])
    for section in definition.get("sections", []):
        items[("section", section["id"])] = {k: v for k, v in section.items() if k != "questions"}
        for position, question in enumerate(section.get("questions", [])):
            items[("question", question["id"])] = dict(question, section=section["id"], position=position + 1)
    return items


def compare(a: dict, b: dict) -> Diff:
    """What changed from definition dict `a` to definition dict `b`."""
    diff = Diff()
    for key in sorted(set(a) | set(b)):
        if key in ("areas", "sections"):
            continue
        if a.get(key) != b.get(key):
            diff.top_level[key] = (a.get(key), b.get(key))
    items_a, items_b = _items(a), _items(b)
    for key in items_b:
        if key not in items_a:
            diff.added.append(key)
    for key in items_a:
        if key not in items_b:
            diff.removed.append(key)
    for key, old in items_a.items():
        new = items_b.get(key)
        if new is None:
            continue
        fields = {name: (old.get(name), new.get(name)) for name in sorted(set(old) | set(new))
                  if old.get(name) != new.get(name)}
        if fields:
            diff.changed.append(Change(key[0], key[1], fields))
    return diff
