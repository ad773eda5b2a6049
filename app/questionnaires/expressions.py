"""The expression language of `show_if` and `constraint` rules (XLSForm syntax), without eval.

Text is tokenised and parsed by a small recursive-descent parser into an immutable tree. The tree is
evaluated in Python here and, serialised with `to_json`, by app/static/js/expressions.js in the
browser, with the same semantics (ODK-like: an unanswered question is the empty string).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

#: Where "today" comes from when a rule or a limit is not given a date: the server's date, until the application
#: sets the date in its TIMEZONE (`app.i18n.local_today`), so that every path agrees on "today".
today_provider: Callable[[], date] = date.today


def current_date() -> date:
    """Today's date for rules and limits given none."""
    return today_provider()


class ExpressionError(ValueError):
    """The text is not a valid expression; `position` is the 0-based character offset when known."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message if position is None else f"{message} at character {position + 1}")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Num:
    """A number literal."""

    value: float


@dataclass(frozen=True)
class Str:
    """A string literal."""

    value: str


@dataclass(frozen=True)
class Ref:
    """A reference to another question's answer: ${id}."""

    name: str


@dataclass(frozen=True)
class Current:
    """`.`: the value of the question the rule belongs to."""


@dataclass(frozen=True)
class Unary:
    """Unary minus."""

    op: str
    operand: Any


@dataclass(frozen=True)
class Binary:
    """A binary operator: or and = != < <= > >= + - * div mod."""

    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Call:
    """A function call."""

    name: str
    args: tuple


Node = Num | Str | Ref | Current | Unary | Binary | Call

#: name -> (minimum, maximum) number of arguments
FUNCTIONS: dict[str, tuple[int, int]] = {
    "selected": (2, 2), "count-selected": (1, 1), "string-length": (1, 1), "if": (3, 3), "today": (0, 0),
    "not": (1, 1), "true": (0, 0), "false": (0, 0), "number": (1, 1), "string": (1, 1), "date": (1, 1),
    "boolean": (1, 1), "int": (1, 1), "concat": (1, 20), "coalesce": (2, 2), "contains": (2, 2),
    "regex": (2, 2),
}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<ref>\$\{\s*(?P<refname>[A-Za-z_][A-Za-z0-9_.\-]*)\s*\})
  | (?P<num>\d+\.\d*|\.\d+|\d+)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<op><=|>=|!=|=|<|>|\+|-|\*|\(|\)|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<dot>\.)
""", re.VERBOSE)

_KEYWORDS = {"and", "or", "div", "mod"}

#: Parentheses and function calls inside one another that the parser accepts (real forms use fewer than 10):
#: the parser recurses about a dozen Python frames per level.
MAX_NESTING = 30
#: Depth of the tree (operators inside one another, a chain of `and` counting one per term) that is accepted:
#: evaluation, serialisation and comparison of trees recurse once or more per level.
MAX_DEPTH = 100


def _tokenise(text: str) -> list[tuple[str, Any, int]]:
    tokens: list[tuple[str, Any, int]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            char = text[pos]
            if char in "'\"":
                raise ExpressionError("unterminated string", pos)
            if text.startswith("${", pos):
                raise ExpressionError("unterminated reference ${...", pos)
            raise ExpressionError(f"unexpected character {char!r}", pos)
        kind = match.lastgroup
        if kind == "refname":
            kind = "ref"
        value = match.group(0)
        if kind == "ref":
            tokens.append(("ref", match.group("refname"), pos))
        elif kind == "num":
            number = float(value)
            if not math.isfinite(number):
                raise ExpressionError("number too large", pos)
            tokens.append(("num", number, pos))
        elif kind == "str":
            tokens.append(("str", value[1:-1], pos))
        elif kind == "op":
            tokens.append(("op", value, pos))
        elif kind == "name":
            tokens.append(("kw" if value in _KEYWORDS else "name", value, pos))
        elif kind == "dot":
            tokens.append(("dot", ".", pos))
        pos = match.end()
    tokens.append(("end", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenise(text)
        self.i = 0
        self.nesting = 0
        self.depths: dict[int, int] = {}  # id(node) -> depth of the subtree; leaves are not stored (1)

    def make(self, node, children: tuple, pos: int):
        """Record the depth of a new inner node; refuse trees deeper than MAX_DEPTH."""
        depth = 1 + max((self.depths.get(id(child), 1) for child in children), default=1)
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression too long: more than {MAX_DEPTH} operators inside one another or "
                                  "in a chain (split the rule, or use selected() for lists of choices)", pos)
        self.depths[id(node)] = depth
        return node

    def enter(self, pos: int) -> None:
        """One more level of parentheses or function call; refuse more than MAX_NESTING."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExpressionError(f"expression too deeply nested: more than {MAX_NESTING} parentheses or "
                                  "function calls inside one another", pos)

    def peek(self):
        return self.tokens[self.i]

    def take(self):
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, kind: str, value: str | None = None):
        token = self.take()
        if token[0] != kind or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or kind} but found {_describe(token)}", token[2])
        return token

    def parse(self):
        if self.peek()[0] == "end":
            raise ExpressionError("empty expression", 0)
        node = self.or_expr()
        token = self.peek()
        if token[0] != "end":
            raise ExpressionError(f"unexpected {_describe(token)}", token[2])
        return node

    def _binary(self, operators: set[str], kinds: set[str], next_level):
        node = next_level()
        while self.peek()[0] in kinds and self.peek()[1] in operators:
            _kind, op, pos = self.take()
            right = next_level()
            node = self.make(Binary(op, node, right), (node, right), pos)
        return node

    def or_expr(self):
        return self._binary({"or"}, {"kw"}, self.and_expr)

    def and_expr(self):
        return self._binary({"and"}, {"kw"}, self.equality)

    def equality(self):
        return self._binary({"=", "!="}, {"op"}, self.comparison)

    def comparison(self):
        return self._binary({"<", "<=", ">", ">="}, {"op"}, self.additive)

    def additive(self):
        return self._binary({"+", "-"}, {"op"}, self.multiplicative)

    def multiplicative(self):
        node = self.unary()
        while (self.peek()[0] == "op" and self.peek()[1] == "*") or (
                self.peek()[0] == "kw" and self.peek()[1] in ("div", "mod")):
            _kind, op, pos = self.take()
            right = self.unary()
            node = self.make(Binary(op, node, right), (node, right), pos)
        return node

    def unary(self):
        signs = []  # a loop, not recursion: `- - - ... 1` cannot exhaust the stack
        while self.peek()[0] == "op" and self.peek()[1] == "-":
            signs.append(self.take()[2])
        node = self.primary()
        for pos in reversed(signs):
            node = self.make(Unary("-", node), (node,), pos)
        return node

    def primary(self):
        kind, value, pos = self.take()
        if kind == "num":
            return Num(value)
        if kind == "str":
            return Str(value)
        if kind == "ref":
            return Ref(value)
        if kind == "dot":
            return Current()
        if kind == "op" and value == "(":
            self.enter(pos)
            node = self.or_expr()
            self.expect("op", ")")
            self.nesting -= 1
            return node
        if kind == "name":
            if not (self.peek()[0] == "op" and self.peek()[1] == "("):
                raise ExpressionError(f"unknown name {value!r} (write text in quotes, answers as ${{id}})", pos)
            self.take()
            self.enter(pos)
            args = []
            if not (self.peek()[0] == "op" and self.peek()[1] == ")"):
                args.append(self.or_expr())
                while self.peek()[0] == "op" and self.peek()[1] == ",":
                    self.take()
                    args.append(self.or_expr())
            self.expect("op", ")")
            self.nesting -= 1
            if value not in FUNCTIONS:
                raise ExpressionError(f"unknown function {value!r}", pos)
            low, high = FUNCTIONS[value]
            if not low <= len(args) <= high:
                expected = str(low) if low == high else f"{low} to {high}"
                raise ExpressionError(f"{value}() takes {expected} argument(s), got {len(args)}", pos)
            return self.make(Call(value, tuple(args)), tuple(args), pos)
        raise ExpressionError(f"unexpected {_describe((kind, value, pos))}", pos)


def _describe(token) -> str:
    kind, value, _pos = token
    if kind == "end":
        return "end of expression"
    if kind == "str":
        return f"'{value}'"
    if kind == "ref":
        return f"${{{value}}}"
    if kind == "num":
        return _fmt_num(value)
    return f"'{value}'"


def parse(text: str) -> Node:
    """Parse an expression; raises ExpressionError naming the position of the problem."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    return _Parser(text).parse()


def references(node: Node) -> set[str]:
    """Ids of the questions referenced by ${...} in the tree."""
    found: set[str] = set()
    _walk(node, lambda n: found.add(n.name) if isinstance(n, Ref) else None)
    return found


def uses_current(node: Node) -> bool:
    """Whether `.` appears in the tree."""
    found = []
    _walk(node, lambda n: found.append(1) if isinstance(n, Current) else None)
    return bool(found)


def _walk(node, visit) -> None:
    visit(node)
    if isinstance(node, Unary):
        _walk(node.operand, visit)
    elif isinstance(node, Binary):
        _walk(node.left, visit)
        _walk(node.right, visit)
    elif isinstance(node, Call):
        for arg in node.args:
            _walk(arg, visit)


# ---------------------------------------------------------------- evaluation

def _fmt_num(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _to_string(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _fmt_num(float(value))
    if isinstance(value, list | tuple):
        return " ".join(_to_string(v) for v in value)
    if isinstance(value, dict):
        return ""
    return str(value)


#: A number written as text, with ASCII spaces around it at most: the same in expressions.js (the two languages'
#: "\s" differ, e.g. on U+001F and U+FEFF, and float() refuses some characters Python's "\s" takes).
_NUMERIC = re.compile(r"^[ \t\n\r\f\v]*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[ \t\n\r\f\v]*$")


def _to_number(value) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if isinstance(value, str) and _NUMERIC.match(value):
        return float(value)
    return None


def truthy(value) -> bool:
    """How a rule's result becomes yes/no: None, "", 0, False and empty lists are false."""
    if value is None or value is False:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


def _as_list(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [_to_string(v) for v in value]
    text = _to_string(value).strip()
    return text.split() if text else []


def _equal(left, right) -> bool:
    ln, rn = _to_number(left), _to_number(right)
    if ln is not None and rn is not None and not (isinstance(left, str) and isinstance(right, str)):
        return ln == rn
    if isinstance(left, bool) or isinstance(right, bool):
        return truthy(left) == truthy(right)
    return _to_string(left) == _to_string(right)


def _order(op: str, left, right) -> bool:
    ln, rn = _to_number(left), _to_number(right)
    if ln is not None and rn is not None:
        a, b = ln, rn
    else:
        if left in (None, "") or right in (None, "") or ln is not None or rn is not None:
            return False
        a, b = _to_string(left), _to_string(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _arith(op: str, left, right):
    a, b = _to_number(left), _to_number(right)
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        return None
    if op == "div":
        return a / b
    return math.fmod(a, b)


def evaluate(node: Node, values: Mapping[str, Any], current: Any = None, today: date | None = None) -> Any:
    """Evaluate a tree against answers (question id -> value); unanswered questions are ""."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Str):
        return node.value
    if isinstance(node, Ref):
        value = values.get(node.name)
        return "" if value is None else value
    if isinstance(node, Current):
        return "" if current is None else current
    if isinstance(node, Unary):
        number = _to_number(evaluate(node.operand, values, current, today))
        return None if number is None else -number
    if isinstance(node, Binary):
        if node.op == "and":
            return truthy(evaluate(node.left, values, current, today)) and truthy(
                evaluate(node.right, values, current, today))
        if node.op == "or":
            return truthy(evaluate(node.left, values, current, today)) or truthy(
                evaluate(node.right, values, current, today))
        left = evaluate(node.left, values, current, today)
        right = evaluate(node.right, values, current, today)
        if node.op == "=":
            return _equal(left, right)
        if node.op == "!=":
            return not _equal(left, right)
        if node.op in ("<", "<=", ">", ">="):
            return _order(node.op, left, right)
        return _arith(node.op, left, right)
    if isinstance(node, Call):
        return _call(node, values, current, today)
    raise ExpressionError(f"not an expression node: {node!r}")


def _call(node: Call, values, current, today):
    name = node.name
    if name == "if":
        cond = truthy(evaluate(node.args[0], values, current, today))
        return evaluate(node.args[1] if cond else node.args[2], values, current, today)
    args = [evaluate(a, values, current, today) for a in node.args]
    if name == "selected":
        return _to_string(args[1]) in _as_list(args[0])
    if name == "count-selected":
        return float(len(_as_list(args[0])))
    if name == "string-length":
        return float(len(_to_string(args[0])))
    if name == "today":
        return (today or current_date()).isoformat()
    if name == "not":
        return not truthy(args[0])
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "number":
        return _to_number(args[0])
    if name == "int":
        number = _to_number(args[0])
        return None if number is None else float(math.trunc(number))
    if name in ("string", "date"):
        return _to_string(args[0])
    if name == "boolean":
        return truthy(args[0])
    if name == "concat":
        return "".join(_to_string(a) for a in args)
    if name == "coalesce":
        return args[0] if truthy(args[0]) else args[1]
    if name == "contains":
        return _to_string(args[1]) in _to_string(args[0])
    if name == "regex":
        try:
            return re.search(_to_string(args[1]), _to_string(args[0])) is not None
        except re.error:
            return False
    raise ExpressionError(f"unknown function {name!r}")


# ---------------------------------------------------------------- serialisation

def to_json(node: Node) -> Any:
    """A JSON-serialisable tree for the browser evaluator."""
    if isinstance(node, Num):
        return {"t": "num", "v": node.value}
    if isinstance(node, Str):
        return {"t": "str", "v": node.value}
    if isinstance(node, Ref):
        return {"t": "ref", "v": node.name}
    if isinstance(node, Current):
        return {"t": "cur"}
    if isinstance(node, Unary):
        return {"t": "neg", "a": to_json(node.operand)}
    if isinstance(node, Binary):
        return {"t": "bin", "op": node.op, "l": to_json(node.left), "r": to_json(node.right)}
    return {"t": "call", "f": node.name, "args": [to_json(a) for a in node.args]}


def from_json(data: Any) -> Node:
    """Rebuild a tree from `to_json` output."""
    kind = data["t"]
    if kind == "num":
        return Num(float(data["v"]))
    if kind == "str":
        return Str(data["v"])
    if kind == "ref":
        return Ref(data["v"])
    if kind == "cur":
        return Current()
    if kind == "neg":
        return Unary("-", from_json(data["a"]))
    if kind == "bin":
        return Binary(data["op"], from_json(data["l"]), from_json(data["r"]))
    if kind == "call":
        return Call(data["f"], tuple(from_json(a) for a in data["args"]))
    raise ExpressionError(f"unknown node type {kind!r}")


_PRECEDENCE = {"or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5,
               "*": 6, "div": 6, "mod": 6}


def to_text(node: Node) -> str:
    """Canonical XLSForm text; parse(to_text(n)) == n."""
    return _text(node, 0)


def _text(node: Node, parent: int) -> str:
    if isinstance(node, Num):
        return _fmt_num(node.value)
    if isinstance(node, Str):
        return f'"{node.value}"' if "'" in node.value else f"'{node.value}'"
    if isinstance(node, Ref):
        return f"${{{node.name}}}"
    if isinstance(node, Current):
        return "."
    if isinstance(node, Unary):
        return "-" + _text(node.operand, 7)
    if isinstance(node, Binary):
        prec = _PRECEDENCE[node.op]
        text = f"{_text(node.left, prec)} {node.op} {_text(node.right, prec + 1)}"
        return f"({text})" if prec < parent else text
    return f"{node.name}({', '.join(_text(a, 0) for a in node.args)})"


# ---------------------------------------------------------------- static checks

#: Kinds of answer a rule cannot test (a matrix's rows, an uploaded file): they read as empty.
UNTESTABLE = ("matrix", "file")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check(node: Node, kinds: Mapping[str, str], current_kind: str | None = None) -> list[str]:
    """Problems that can be known without answers: unknown references, misuse of `.`, type mismatches."""
    problems: list[str] = []

    def kind_of(n) -> str:
        if isinstance(n, Num):
            return "number"
        if isinstance(n, Str):
            return "string"
        if isinstance(n, Ref):
            return kinds.get(n.name, "any")
        if isinstance(n, Current):
            return current_kind or "any"
        if isinstance(n, Unary):
            return "number"
        if isinstance(n, Binary):
            return "number" if n.op in ("+", "-", "*", "div", "mod") else "boolean"
        if n.name in ("count-selected", "string-length", "number", "int"):
            return "number"
        if n.name in ("today", "string", "date", "concat"):
            return "string"
        return "any" if n.name in ("if", "coalesce") else "boolean"

    def visit(n) -> None:
        if isinstance(n, Ref) and n.name not in kinds:
            problems.append(f"unknown reference ${{{n.name}}}")
        if isinstance(n, Ref) and kinds.get(n.name) in UNTESTABLE:
            problems.append(f"${{{n.name}}} is a {kinds[n.name]} question: its answer cannot be tested in a rule "
                            "(it always looks empty)")
        if isinstance(n, Current) and current_kind is None:
            problems.append("'.' (this question's value) cannot be used here")
        if isinstance(n, Current) and current_kind in UNTESTABLE:
            problems.append(f"'.' is the answer of a {current_kind} question, which cannot be tested in a rule "
                            "(it always looks empty)")
        if isinstance(n, Call) and n.name in ("selected", "count-selected"):
            target = kind_of(n.args[0])
            if isinstance(n.args[0], Num | Str) or target in ("number", "date"):
                problems.append(f"{n.name}() needs a multiple-choice question as its first argument")
        if isinstance(n, Call) and n.name == "regex" and isinstance(n.args[1], Str):
            try:
                re.compile(n.args[1].value)
            except re.error as exc:  # at run time it would never match: every answer refused, or never shown
                problems.append(f"regex() pattern '{n.args[1].value}' is not a valid regular expression ({exc})")
        if isinstance(n, Binary) and n.op in ("<", "<=", ">", ">=", "+", "-", "*", "div", "mod", "=", "!="):
            pair = (n.left, n.right)
            for a, b in (pair, pair[::-1]):
                if isinstance(b, Str) and kind_of(a) == "number" and b.value != "" and _to_number(b.value) is None:
                    problems.append(f"compares a number with the text '{b.value}'")
                    break
                if n.op not in ("=", "!=") and isinstance(b, Str) and kind_of(a) == "list":
                    problems.append(f"'{n.op}' cannot be applied to a multiple-choice answer")
                    break
                if kind_of(a) == "date" and n.op in ("+", "-", "*", "div", "mod"):
                    problems.append(f"'{n.op}' cannot be applied to a date (date arithmetic is not supported: "
                                    "compare with another date or today())")
                    break
                if kind_of(a) == "date" and isinstance(b, Num):
                    problems.append(f"compares a date with the number {_fmt_num(b.value)}: write the date as a "
                                    "text 'YYYY-MM-DD' or use today()")
                    break
                if kind_of(a) == "date" and isinstance(b, Str) and b.value != "" and not _ISO_DATE.match(b.value):
                    problems.append(f"compares a date with the text '{b.value}', which is not a date written "
                                    "'YYYY-MM-DD'")
                    break

    _walk(node, visit)
    return list(dict.fromkeys(problems))


def unknown_choices(node: Node, choices: Mapping[str, Iterable[str]]) -> list[str]:
    """Values a rule compares a choice question's answer with (`${q} = 'x'`, `${q} != 'x'`, `selected(${q},
    'x')`) that are none of its answers' codes: most likely a misspelt code, which makes the rule always false
    (or always true). `choices` maps the ids of choice-like questions to their codes, special answers included."""
    problems: list[str] = []

    def compared(ref, text) -> None:
        if isinstance(ref, Ref) and isinstance(text, Str) and ref.name in choices and text.value != "" \
                and text.value not in choices[ref.name]:
            known = ", ".join(f"'{code}'" for code in choices[ref.name])
            problems.append(f"'{text.value}' is not one of the answers of ${{{ref.name}}} ({known})")

    def visit(n) -> None:
        if isinstance(n, Binary) and n.op in ("=", "!="):
            compared(n.left, n.right)
            compared(n.right, n.left)
        if isinstance(n, Call) and n.name == "selected" and len(n.args) == 2:
            compared(n.args[0], n.args[1])

    _walk(node, visit)
    return list(dict.fromkeys(problems))
