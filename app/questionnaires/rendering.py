"""What the form pages need from a definition: expression trees for the browser, and which questions skip logic
hides under given answers (`visibility`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from app.questionnaires import expressions


def expression_trees(definition) -> dict[str, dict[str, Any]]:
    """{question_id: {"show_if": json tree, "constraint": json tree}} for every question with rules."""
    trees: dict[str, dict[str, Any]] = {}
    for section in definition.sections:
        for question in section.questions:
            rules = {}
            if question.show_if:
                rules["show_if"] = expressions.to_json(expressions.parse(question.show_if))
            if question.constraint:
                rules["constraint"] = expressions.to_json(expressions.parse(question.constraint))
            if rules:
                trees[question.id] = rules
    return trees


@lru_cache(maxsize=4096)
def _tree(rule: str) -> expressions.Node:
    return expressions.parse(rule)


def is_visible(rule: str | None, values: Mapping[str, Any], today: date | None = None) -> bool:
    """Whether a show_if rule holds for these answers (no rule: visible). The answers must be the ones that
    count (`visibility(...).values`), not every stored one."""
    if not rule:
        return True
    return expressions.truthy(expressions.evaluate(_tree(rule), values, today=today))


@dataclass(frozen=True)
class Visibility:
    """What skip logic shows under some answers."""

    #: The answers that count: those of the questions shown (a hidden question's answer is empty).
    values: dict[str, Any]
    #: Ids of the questions hidden, by their own show_if or their section's.
    hidden: frozenset[str]
    #: Indexes (from 0) of the sections whose show_if does not hold.
    skipped: frozenset[int]

    def shown(self, question) -> bool:
        """Whether the question is shown."""
        return question.id not in self.hidden


def visibility(definition, values: Mapping[str, Any], today: date | None = None) -> Visibility:
    """Which questions and sections skip logic hides under `values`, read as XLSForm/ODK read it: the answer of a
    hidden question counts as empty for every rule, so a rule on a hidden question's answer hides the questions
    that depend on it too ("Other" ticked, then the question itself hidden: "specify the other" goes as well),
    whatever stays stored. Rules never form a cycle (the loader refuses one), so this settles within as many
    rounds as the longest chain of rules; a definition without chains takes one."""
    relevant = dict(values)
    hidden: frozenset[str] = frozenset()
    skipped: frozenset[int] = frozenset()
    for _round in range(sum(len(section.questions) for section in definition.sections) + 2):
        now_skipped = frozenset(n for n, section in enumerate(definition.sections)
                                if not is_visible(section.show_if, relevant, today))
        now_hidden = frozenset(question.id for n, section in enumerate(definition.sections)
                               for question in section.questions
                               if n in now_skipped or not is_visible(question.show_if, relevant, today))
        if now_hidden == hidden and now_skipped == skipped:
            break
        hidden, skipped = now_hidden, now_skipped
        relevant = {key: value for key, value in values.items() if key not in hidden}
    return Visibility(relevant, hidden, skipped)


def rule_inputs(definition, question_ids) -> set[str]:
    """The questions whose answers skip logic reads to tell whether these questions are shown: those their own
    and their sections' rules name, then those the rules of these name, and so on (a hidden question's answer
    counts as empty, so a whole chain decides). With the questions themselves: enough answers to load for
    `visibility` to judge them as it would with every answer."""
    section_of = {question.id: section for section in definition.sections for question in section.questions}
    questions = {question.id: question for section in definition.sections for question in section.questions}
    needed: set[str] = set()
    todo = [qid for qid in question_ids if qid in questions]
    while todo:
        qid = todo.pop()
        if qid in needed:
            continue
        needed.add(qid)
        for rule in (section_of[qid].show_if, questions[qid].show_if):
            if rule:
                todo.extend(ref for ref in expressions.references(_tree(rule)) if ref in questions)
    return needed


class SkipLogic:
    """`visibility` for many responses of one definition: only the answers the rules read count (those of the
    chains deciding `questions`, or of every rule), and responses that give them the same answers share one
    computation (exports and counts over thousands of responses)."""

    def __init__(self, definition, questions: Iterable[str] | None = None):
        self.definition = definition
        closure = rule_inputs(definition, questions if questions is not None else [
            q.id for section in definition.sections for q in section.questions])
        rules = [rule for section in definition.sections for q in section.questions if q.id in closure
                 for rule in (section.show_if, q.show_if) if rule]
        #: The questions whose answers the rules read, sorted; () without skip logic.
        self.reads = tuple(sorted({ref for rule in rules for ref in expressions.references(_tree(rule))}))
        self._memo: dict[tuple, frozenset[str]] = {}

    def hidden(self, answers: Mapping[str, Any]) -> frozenset[str]:
        """The questions hidden under these answers (any other answers given are not read)."""
        if not self.reads:
            return frozenset()
        key = tuple(repr(answers.get(ref)) for ref in self.reads)  # decoded JSON values: repr is exact
        if key not in self._memo:
            read = {ref: answers[ref] for ref in self.reads if answers.get(ref) is not None}
            self._memo[key] = visibility(self.definition, read).hidden
        return self._memo[key]


def visible_sections(definition, values: Mapping[str, Any], today: date | None = None) -> list[bool]:
    """For each section, whether its show_if holds."""
    skipped = visibility(definition, values, today).skipped
    return [n not in skipped for n in range(len(definition.sections))]
