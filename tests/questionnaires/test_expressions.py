"""The expression language: the shared case table, errors with positions, serialisation, static checks."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.questionnaires import expressions as ex
from tests.conftest import ROOT

CASES = json.loads((ROOT / "tests" / "data" / "expression_cases.json").read_text(encoding="utf-8"))
VALUE_CASES = [c for c in CASES if not c.get("error")]
ERROR_CASES = [c for c in CASES if c.get("error")]


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c["expr"] for c in VALUE_CASES])
def test_shared_case_table_in_python(case):
    tree = ex.parse(case["expr"])
    result = ex.evaluate(tree, case["values"], case["current"], date.fromisoformat(case["today"]))
    assert result == case["expected"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c["expr"] or "(empty)" for c in ERROR_CASES])
def test_shared_error_cases_are_refused(case):
    with pytest.raises(ex.ExpressionError):
        ex.parse(case["expr"])


@pytest.mark.parametrize("text, message, position", [
    ("1 +", "unexpected end of expression", 3),
    ("(1 + 2", "expected ) but found end of expression", 6),
    ("foo(1)", "unknown function 'foo'", 0),
    ("'abc", "unterminated string", 0),
    ("${a", "unterminated reference", 0),
    ("selected(${m})", "selected() takes 2 argument(s), got 1", 0),
    ("1 2", "unexpected 2", 2),
    ("${a} # 1", "unexpected character '#'", 5),
    ("yes", "unknown name 'yes'", 0),
])
def test_errors_name_the_problem_and_position(text, message, position):
    with pytest.raises(ex.ExpressionError) as info:
        ex.parse(text)
    assert info.value.message.startswith(message)
    assert info.value.position == position
    assert f"at character {position + 1}" in str(info.value)


def test_references_and_current():
    tree = ex.parse("${a} = 'x' and selected(${b}, 'y') or . > ${a}")
    assert ex.references(tree) == {"a", "b"}
    assert ex.uses_current(tree)
    assert not ex.uses_current(ex.parse("${a} = 1"))


def test_json_round_trip_for_every_case():
    for case in VALUE_CASES:
        tree = ex.parse(case["expr"])
        data = json.loads(json.dumps(ex.to_json(tree)))
        assert ex.from_json(data) == tree


def test_text_round_trip_for_every_case():
    for case in VALUE_CASES:
        tree = ex.parse(case["expr"])
        assert ex.parse(ex.to_text(tree)) == tree


def test_to_text_keeps_needed_parentheses_only():
    assert ex.to_text(ex.parse("(1 + 2) * 3")) == "(1 + 2) * 3"
    assert ex.to_text(ex.parse("1 + (2 * 3)")) == "1 + 2 * 3"
    assert ex.to_text(ex.parse("(${a} = 1 or ${b} = 2) and ${c} = 3")) == "(${a} = 1 or ${b} = 2) and ${c} = 3"
    assert ex.to_text(ex.parse("1 - (2 - 3)")) == "1 - (2 - 3)"


_leaf = st.one_of(
    st.integers(min_value=0, max_value=1000).map(lambda n: ex.Num(float(n))),
    st.text(alphabet="abcxyz абв", max_size=5).map(ex.Str),
    st.sampled_from(["a", "b", "q_1"]).map(ex.Ref),
    st.just(ex.Current()),
)
_trees = st.recursive(_leaf, lambda inner: st.one_of(
    st.builds(ex.Binary, st.sampled_from(sorted(ex._PRECEDENCE)), inner, inner),
    st.builds(lambda a: ex.Unary("-", a), inner),
    st.builds(lambda a, b: ex.Call("selected", (a, b)), inner, inner),
    st.builds(lambda a, b, c: ex.Call("if", (a, b, c)), inner, inner, inner),
), max_leaves=12)


@settings(deadline=None)
@given(_trees)
def test_any_tree_survives_text_and_json(tree):
    assert ex.parse(ex.to_text(tree)) == tree
    assert ex.from_json(ex.to_json(tree)) == tree


@settings(deadline=None)
@given(_trees, st.dictionaries(st.sampled_from(["a", "b", "q_1"]),
                               st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3),
                                         st.lists(st.sampled_from(["x", "y"]), max_size=2))))
def test_evaluation_never_crashes(tree, values):
    ex.truthy(ex.evaluate(tree, values, current=3, today=date(2026, 1, 1)))


@pytest.mark.parametrize("text, kinds, current, expected", [
    ("${ghost} = 1", {"a": "number"}, None, ["unknown reference ${ghost}"]),
    (". > 3", {}, None, ["'.' (this question's value) cannot be used here"]),
    ("${age} > 'abc'", {"age": "number"}, None, ["compares a number with the text 'abc'"]),
    ("selected(${age}, 'x')", {"age": "number"}, None,
     ["selected() needs a multiple-choice question as its first argument"]),
    ("${topics} > 'x'", {"topics": "list"}, None, ["'>' cannot be applied to a multiple-choice answer"]),
    ("${age} = ''", {"age": "number"}, None, []),
    (". >= 1 and . <= ${total}", {"total": "number"}, "number", []),
    ("selected(${topics}, 'x')", {"topics": "list"}, None, []),
    # A matrix or a file answer reads as empty in a rule: testing it is a rule that never changes.
    ("${grid} = '3'", {"grid": "matrix"}, None,
     ["${grid} is a matrix question: its answer cannot be tested in a rule (it always looks empty)"]),
    ("${proof} != ''", {"proof": "file"}, None,
     ["${proof} is a file question: its answer cannot be tested in a rule (it always looks empty)"]),
    (". != ''", {}, "matrix", ["'.' is the answer of a matrix question, which cannot be tested in a rule "
                               "(it always looks empty)"]),
    # A date is a text 'YYYY-MM-DD': against a number, another text or in arithmetic it is always false/empty.
    (". > 5", {}, "date", ["compares a date with the number 5: write the date as a text 'YYYY-MM-DD' or use "
                           "today()"]),
    ("${since} >= '01.02.2024'", {"since": "date"}, None,
     ["compares a date with the text '01.02.2024', which is not a date written 'YYYY-MM-DD'"]),
    ("${since} - 30 > 0", {"since": "date"}, None,
     ["'-' cannot be applied to a date (date arithmetic is not supported: compare with another date or today())"]),
    (". <= today() and . >= '2020-01-01' and . != ''", {}, "date", []),
    ("${since} < ${until}", {"since": "date", "until": "date"}, None, []),
])
def test_static_checks(text, kinds, current, expected):
    assert ex.check(ex.parse(text), kinds, current) == expected


@pytest.mark.parametrize("text, expected", [("0\x1f", False), (" 0 ", True), ("\ufeff0", False), ("٠", False)])
def test_numbers_written_as_text_allow_ascii_spaces_only(text, expected):
    """A text answer compared with a number counts as that number only when it is digits with ASCII spaces around
    them (the browser's evaluator reads the same; a control character once crashed the evaluation)."""
    assert ex.truthy(ex.evaluate(ex.parse("${a} = 0"), {"a": text})) is expected
