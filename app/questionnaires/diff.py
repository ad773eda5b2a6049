"""Comparison of two questionnaire versions (pure: works on canonical definition dicts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Lists whose entries are compared one by one, by this key: a changed choice is one line, not two whole lists.
KEYED_LISTS = {"choices": "value", "rows": "id", "scale": "level"}


@dataclass
class Member:
    """One entry of a keyed list (an answer option, a matrix row, a level of the scale) added (`old` None),
    removed (`new` None) or changed."""

    field: str
    key: Any
    old: dict | None
    new: dict | None


@dataclass
class Change:
    """One item (question, section, indicator, area) present in both versions with different fields.

    A changed keyed list is in `members` (entry by entry), plus `<field>_order` in `fields` (the keys in each
    version's order) when the entries both versions have are in another order."""

    kind: str
    id: str
    fields: dict[str, tuple[Any, Any]]
    members: list[Member] = field(default_factory=list)


@dataclass
class Diff:
    """Items added, removed and changed between version A and version B."""

    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    top_level: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    top_members: list[Member] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        """True when the two versions are the same."""
        return not (self.added or self.removed or self.changed or self.top_level or self.top_members)


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


def _keyed(name: str, old: Any, new: Any) -> tuple[list[Member], tuple[list, list] | None] | None:
    """The entries of list field `name` that differ, and both orders when the shared entries moved; None when
    the field is not a keyed list in both versions (it is then shown whole)."""
    key = KEYED_LISTS.get(name)
    old, new = old or [], new or []
    if key is None or not isinstance(old, list) or not isinstance(new, list):
        return None
    if not all(isinstance(entry, dict) and key in entry for entry in [*old, *new]):
        return None
    by_old, by_new = {e[key]: e for e in old}, {e[key]: e for e in new}
    if len(by_old) != len(old) or len(by_new) != len(new):
        return None
    members = [Member(name, k, by_old.get(k), by_new.get(k)) for k in [*by_old, *(k for k in by_new if k not in by_old)]
               if by_old.get(k) != by_new.get(k)]
    shared_old = [k for k in by_old if k in by_new]
    shared_new = [k for k in by_new if k in by_old]
    order = (list(by_old), list(by_new)) if shared_old != shared_new else None
    return members, order


def _field_changes(old: dict, new: dict) -> tuple[dict[str, tuple[Any, Any]], list[Member]]:
    fields: dict[str, tuple[Any, Any]] = {}
    members: list[Member] = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) == new.get(name):
            continue
        keyed = _keyed(name, old.get(name), new.get(name))
        if keyed is None:
            fields[name] = (old.get(name), new.get(name))
            continue
        changed, order = keyed
        members.extend(changed)
        if order:
            fields[f"{name}_order"] = order
    return fields, members


def compare(a: dict, b: dict) -> Diff:
    """What changed from definition dict `a` to definition dict `b`."""
    diff = Diff()
    top_a = {k: v for k, v in a.items() if k not in ("areas", "sections")}
    top_b = {k: v for k, v in b.items() if k not in ("areas", "sections")}
    diff.top_level, diff.top_members = _field_changes(top_a, top_b)
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
        fields, members = _field_changes(old, new)
        if fields or members:
            diff.changed.append(Change(key[0], key[1], fields, members))
    return diff
