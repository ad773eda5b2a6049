"""questionnaires/README.md stays honest: its example loads without a problem and shows what it claims.

The first ```yaml block of the README is the small complete example. It is loaded with the real loader
(as `flask questionnaires validate` does) and must give no error and no warning; it must also keep the
features the README says it shows. The README must list every question type and expression function.
"""

from __future__ import annotations

import re

import pytest

from app.questionnaires import expressions
from app.questionnaires.loader import load_file
from app.questionnaires.schema import QUESTION_TYPES, TYPE_FIELDS
from tests.conftest import ROOT

README = ROOT / "questionnaires" / "README.md"
FENCE = re.compile(r"^```yaml[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def first_yaml_block(text: str) -> str:
    match = FENCE.search(text)
    assert match, "questionnaires/README.md has no ```yaml block"
    return match.group(1)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    path = tmp_path_factory.mktemp("readme") / "readme-example.yaml"
    path.write_text(first_yaml_block(readme_text()), encoding="utf-8")
    return load_file(path)


def test_fence_extraction_takes_the_first_yaml_block():
    text = "intro\n```\nnot yaml\n```\n```yaml\na: 1\n```\n```yaml\nb: 2\n```\n"
    assert first_yaml_block(text) == "a: 1\n"


def test_the_example_loads_without_errors_or_warnings(example):
    assert [str(p) for p in example.problems] == []
    assert example.definition is not None


def test_the_example_has_two_languages_a_scale_and_an_area_with_two_indicators(example):
    definition = example.definition
    assert len(definition.languages) >= 2
    assert len(definition.scale) >= 2
    assert any(len(area.indicators) >= 2 for area in definition.areas)
    # every text of the example is written in every language (no fallback needed)
    assert all(isinstance(definition.title, dict) and lang in definition.title for lang in definition.languages)


def test_the_example_shows_the_features_the_readme_claims(example):
    definition = example.definition
    questions = [q for _s, q in definition.questions()]
    by_type = {}
    for q in questions:
        by_type.setdefault(q.type, []).append(q)

    yes_no = [q for q in by_type.get("yes_no", []) if q.partly and q.indicator]
    assert yes_no, "a scored yes_no question with partly"
    refs = set()
    for q in questions:
        if q.show_if:
            refs |= expressions.references(expressions.parse(q.show_if))
    assert any(q.id in refs for q in yes_no), "skip logic that depends on the yes_no question"

    numbers = [q for q in by_type.get("number", []) if q.constraint and q.constraint_message]
    assert numbers, "a number question with a constraint and its message"
    assert any(expressions.uses_current(expressions.parse(q.constraint)) for q in numbers)

    multiple = [q for q in by_type.get("multiple_choice", []) if q.indicator]
    assert any(sum(c.score is not None for c in q.choices) >= 2 for q in multiple), \
        "a scored multiple_choice question with scored choices"

    matrices = by_type.get("matrix", [])
    assert matrices and all(len(q.rows) >= 2 for q in matrices), "a matrix with rows"
    assert any(q.indicator or any(r.indicator for r in q.rows) for q in matrices), "a scored matrix"

    assert any(q.show_if for q in questions) and any(q.constraint for q in questions)
    assert any(q.not_applicable or q.dont_know for q in questions)


def test_the_readme_lists_every_question_type_with_its_options():
    text = readme_text()
    after = text[text.index("Question types and their options\n"):].splitlines()
    first = next(i for i, line in enumerate(after) if line.startswith("|"))
    table = "\n".join(line for line in after[first:first + 2 + len(QUESTION_TYPES)] if line.startswith("|"))
    for qtype in QUESTION_TYPES:
        row = re.search(rf"^\| `{qtype}` \|.*$", table, re.MULTILINE)
        assert row, f"question type {qtype} has no line in the README's type table"
        for option in TYPE_FIELDS[qtype]:
            assert f"`{option}`" in row.group(0), f"option {option} of {qtype} is missing from its table line"


def test_the_readme_lists_every_expression_function():
    text = readme_text()
    for name in expressions.FUNCTIONS:
        assert re.search(rf"`{re.escape(name)}\(", text), f"function {name}() is not documented in the README"
