"""Encore's profile templates: every `#{…}` is a Spring SpEL expression, replaced by its value before YAML parsing.

Only a small, data-only subset of SpEL is understood (literals, properties of the job, map and list indexing, safe
navigation, arithmetic, comparisons, logic, Elvis and ternary). Nothing here calls Python code named by the template:
no attribute access on objects, no method calls, no type references.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

MAX_EXPRESSION = 100_000  # as Encore configures its SpEL parser
MAX_NESTING = 32  # parentheses, unary operators and ternaries inside each other
MAX_DEPTH = 100  # height of the expression tree, so evaluation cannot exhaust the stack
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1

PREFIX, SUFFIX = "#{", "}"


class TemplateError(ValueError):
    """A template or expression that cannot be parsed or evaluated; says where."""

    def __init__(self, reason: str, expression: str, position: int, where: str = "") -> None:
        shown = expression if len(expression) <= 80 else expression[:77] + "..."
        super().__init__(f"{reason} at position {position} in expression {shown!r}{where}")
        self.reason = reason
        self.expression = expression
        self.position = position


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num, str, name, op, end
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class _Node:
    kind: str
    pos: int
    value: Any = None
    children: tuple[_Node, ...] = ()
    depth: int = 1


_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_OPERATORS: tuple[str, ...] = ("?.", "?:", "==", "!=", "<=", ">=", "&&", "||", "?", ":", "<", ">", "!", "+", "-", "*")
_OPERATORS += ("/", "%", "(", ")", "[", "]", ".")
_UNSUPPORTED_CHARS = {
    "^": "the power operator '^' is not supported",
    "=": "assignment is not supported",
    "#": "variables and functions ('#') are not supported",
    "@": "bean references ('@') are not supported",
    "&": "bean references ('&') are not supported",
    "{": "inline lists and maps are not supported",
    "}": "unexpected '}'",
    ",": "unexpected ',' (method calls are not supported)",
}
_WORD_OPERATORS = {"and": "and", "or": "or", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">"}
_WORD_OPERATORS |= {"ge": ">=", "div": "/", "mod": "%"}
_UNSUPPORTED_WORDS = {
    "new": "constructors ('new') are not supported",
    "instanceof": "'instanceof' is not supported",
    "matches": "'matches' is not supported",
    "between": "'between' is not supported",
}
_LITERAL_WORDS = {"true": True, "false": False, "null": None}
_TRUE_TEXT = frozenset({"true", "on", "yes", "1"})
_FALSE_TEXT = frozenset({"false", "off", "no", "0"})


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, end = 0, len(expression)
    while pos < end:
        char = expression[pos]
        if char.isspace():
            pos += 1
            continue
        if char in "'\"":
            text, after = _string_literal(expression, pos)
            tokens.append(_Token("str", text, pos))
            pos = after
            continue
        number = _NUMBER.match(expression, pos)
        if number:
            tokens.append(_Token("num", _number(number.group(), expression, pos), pos))
            pos = number.end()
            continue
        name = _NAME.match(expression, pos)
        if name:
            tokens.append(_Token("name", name.group(), pos))
            pos = name.end()
            continue
        operator = next((op for op in _OPERATORS if expression.startswith(op, pos)), None)
        if operator is None:
            reason = _UNSUPPORTED_CHARS.get(char, f"unexpected character {char!r}")
            raise TemplateError(reason, expression, pos)
        tokens.append(_Token("op", operator, pos))
        pos += len(operator)
    tokens.append(_Token("end", None, end))
    return tokens


def _string_literal(expression: str, start: int) -> tuple[str, int]:
    # SpEL doubles the quote character to put it inside a literal: 'it''s'.
    quote, pos, parts = expression[start], start + 1, []
    while True:
        close = expression.find(quote, pos)
        if close < 0:
            raise TemplateError("unterminated string literal", expression, start)
        parts.append(expression[pos:close])
        if expression.startswith(quote, close + 1):
            parts.append(quote)
            pos = close + 2
            continue
        return "".join(parts), close + 1


def _number(text: str, expression: str, pos: int) -> int | float:
    if len(text) > 40:
        raise TemplateError("number literal too long", expression, pos)
    if "." in text or "e" in text or "E" in text:
        return float(text)
    value = int(text)
    if value > LONG_MAX:
        raise TemplateError("number literal too large", expression, pos)
    return value


class _Parser:
    """Recursive descent over SpEL's precedence: ?: and ?…: < or < and < relational < + - < * / % < unary < postfix."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokenize(expression)
        self.index = 0
        self.nesting = 0

    def parse(self) -> _Node:
        node = self._expression()
        token = self._peek()
        if token.kind != "end":
            self._fail(f"unexpected {self._describe(token)} after a complete expression", token)
        return node

    # -- helpers

    def _peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def _next(self) -> _Token:
        token = self._peek()
        self.index += 1
        return token

    def _op(self, *ops: str) -> str | None:
        """The operator at the cursor if it is one of `ops` (word operators included); consumes it."""
        token = self._peek()
        if token.kind == "op" and token.value in ops:
            self.index += 1
            return str(token.value)
        if token.kind == "name":
            word = _WORD_OPERATORS.get(token.value.lower())
            if word in ops:
                self.index += 1
                return word
        return None

    def _expect(self, op: str) -> None:
        token = self._next()
        if token.kind != "op" or token.value != op:
            self._fail(f"expected '{op}' but found {self._describe(token)}", token)

    def _fail(self, reason: str, token: _Token) -> NoReturn:
        raise TemplateError(reason, self.expression, token.pos)

    @staticmethod
    def _describe(token: _Token) -> str:
        if token.kind == "end":
            return "end of the expression"
        if token.kind == "str":
            return "a string literal"
        return f"{token.value!r}"

    def _node(self, kind: str, pos: int, value: Any = None, *children: _Node) -> _Node:
        depth = 1 + max((child.depth for child in children), default=0)
        if depth > MAX_DEPTH:
            raise TemplateError("expression too complex", self.expression, pos)
        return _Node(kind, pos, value, children, depth)

    def _enter(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise TemplateError("expression nested too deeply", self.expression, self._peek().pos)

    # -- grammar

    def _expression(self) -> _Node:
        self._enter()
        start = self._peek()
        node = self._or()
        token = self._peek()
        if self._op("?:"):
            node = self._node("elvis", token.pos, None, node, self._expression())
        elif self._op("?"):
            if_true = self._expression()
            self._expect(":")
            node = self._node("ternary", start.pos, None, node, if_true, self._expression())
        self.nesting -= 1
        return node

    def _or(self) -> _Node:
        node = self._and()
        while True:
            token = self._peek()
            if not (self._op("||") or self._op("or")):
                return node
            node = self._node("or", token.pos, None, node, self._and())

    def _and(self) -> _Node:
        node = self._relational()
        while True:
            token = self._peek()
            if not (self._op("&&") or self._op("and")):
                return node
            node = self._node("and", token.pos, None, node, self._relational())

    def _relational(self) -> _Node:
        node = self._sum()
        token = self._peek()
        op = self._op("==", "!=", "<", "<=", ">", ">=")
        if op:
            node = self._node("compare", token.pos, op, node, self._sum())
        word = self._peek()
        if word.kind == "name" and word.value.lower() in _UNSUPPORTED_WORDS:
            self._fail(_UNSUPPORTED_WORDS[word.value.lower()], word)
        return node

    def _sum(self) -> _Node:
        node = self._product()
        while True:
            token = self._peek()
            op = self._op("+", "-")
            if not op:
                return node
            node = self._node("arith", token.pos, op, node, self._product())

    def _product(self) -> _Node:
        node = self._unary()
        while True:
            token = self._peek()
            op = self._op("*", "/", "%")
            if not op:
                return node
            node = self._node("arith", token.pos, op, node, self._unary())

    def _unary(self) -> _Node:
        token = self._peek()
        op = self._op("!", "-", "+")
        if not op:
            return self._postfix()
        self._enter()
        operand = self._unary()
        self.nesting -= 1
        return self._node("unary", token.pos, op, operand)

    def _postfix(self) -> _Node:
        node = self._primary()
        while True:
            token = self._peek()
            if self._op("."):
                node = self._node("attr", token.pos, (self._property_name(), False), node)
            elif self._op("?."):
                if self._op("["):
                    node = self._node("index", token.pos, True, node, self._index_key())
                else:
                    node = self._node("attr", token.pos, (self._property_name(), True), node)
            elif self._op("["):
                node = self._node("index", token.pos, False, node, self._index_key())
            else:
                return node

    def _index_key(self) -> _Node:
        key = self._expression()
        self._expect("]")
        return key

    def _property_name(self) -> str:
        token = self._next()
        if token.kind != "name":
            self._fail(f"expected a property name but found {self._describe(token)}", token)
        if self._peek().kind == "op" and self._peek().value == "(":
            self._fail("method calls are not supported", self._peek())
        return str(token.value)

    def _primary(self) -> _Node:
        token = self._next()
        if token.kind in ("num", "str"):
            return self._node("literal", token.pos, token.value)
        if token.kind == "op" and token.value == "(":
            node = self._expression()
            self._expect(")")
            return node
        if token.kind == "name":
            word = token.value.lower()
            if word in _LITERAL_WORDS:
                return self._node("literal", token.pos, _LITERAL_WORDS[word])
            if word in _UNSUPPORTED_WORDS:
                self._fail(_UNSUPPORTED_WORDS[word], token)
            if word in _WORD_OPERATORS:
                self._fail(f"unexpected operator {token.value!r}", token)
            following = self._peek()
            if following.kind == "op" and following.value == "(":
                reason = "type references are not supported" if token.value == "T" else "method calls are not supported"
                self._fail(reason, token)
            return self._node("root", token.pos, token.value)
        self._fail(f"unexpected {self._describe(token)}", token)


# -- evaluation


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Double"
    if isinstance(value, str):
        return "String"
    if isinstance(value, Mapping):
        return "Map"
    if isinstance(value, Sequence):
        return "List"
    return "Object"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Evaluator:
    def __init__(self, expression: str, context: Mapping[str, Any]) -> None:
        self.expression = expression
        self.context = context

    def fail(self, reason: str, node: _Node) -> TemplateError:
        return TemplateError(reason, self.expression, node.pos)

    def value(self, node: _Node) -> Any:
        return _EVALUATE[node.kind](self, node)

    def boolean(self, node: _Node) -> bool:
        # Spring converts text such as "true"/"no" to a boolean; anything else (null included) is an error.
        value = self.value(node)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE_TEXT | _FALSE_TEXT:
            return value.strip().lower() in _TRUE_TEXT
        raise self.fail(f"expected a boolean but got {_type_name(value)}", node)

    def literal(self, node: _Node) -> Any:
        return node.value

    def root(self, node: _Node) -> Any:
        if node.value not in self.context:
            raise self.fail(f"unknown property {node.value!r}", node)
        return self.context[node.value]

    def attr(self, node: _Node) -> Any:
        name, safe = node.value
        target = self.value(node.children[0])
        if target is None:
            if safe:
                return None
            raise self.fail(f"cannot read property {name!r} of null", node)
        if isinstance(target, Mapping):
            return target.get(name)
        raise self.fail(f"cannot read property {name!r} of {_type_name(target)}", node)

    def index(self, node: _Node) -> Any:
        target = self.value(node.children[0])
        key = self.value(node.children[1])
        if target is None:
            if node.value:
                return None
            raise self.fail("cannot index into null", node)
        if isinstance(target, Mapping):
            if key is not None and not isinstance(key, str | int | float | bool):
                raise self.fail(f"a map key cannot be {_type_name(key)}", node)
            return target.get(key)
        if isinstance(target, str | Sequence):
            if not isinstance(key, int) or isinstance(key, bool):
                raise self.fail(f"an index into {_type_name(target)} must be an integer", node)
            if not 0 <= key < len(target):
                raise self.fail(f"index {key} out of bounds (size {len(target)})", node)
            return target[key]
        raise self.fail(f"cannot index into {_type_name(target)}", node)

    def unary(self, node: _Node) -> Any:
        if node.value == "!":
            return not self.boolean(node.children[0])
        operand = self.value(node.children[0])
        if not _is_number(operand):
            raise self.fail(f"operator '{node.value}' needs a number, not {_type_name(operand)}", node)
        return _long(-operand, self, node) if node.value == "-" else operand

    def logic_and(self, node: _Node) -> bool:
        return self.boolean(node.children[0]) and self.boolean(node.children[1])

    def logic_or(self, node: _Node) -> bool:
        return self.boolean(node.children[0]) or self.boolean(node.children[1])

    def elvis(self, node: _Node) -> Any:
        # Spring's Elvis also falls back on an empty string.
        value = self.value(node.children[0])
        return value if value is not None and value != "" else self.value(node.children[1])

    def ternary(self, node: _Node) -> Any:
        condition, if_true, if_false = node.children
        return self.value(if_true if self.boolean(condition) else if_false)

    def compare(self, node: _Node) -> bool:
        left, right = self.value(node.children[0]), self.value(node.children[1])
        if node.value == "==":
            return _equal(left, right)
        if node.value == "!=":
            return not _equal(left, right)
        order = _order(left, right)
        if order is None:
            raise self.fail(f"cannot compare {_type_name(left)} with {_type_name(right)}", node)
        return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[node.value]

    def arith(self, node: _Node) -> Any:
        left, right = self.value(node.children[0]), self.value(node.children[1])
        op = node.value
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            return _concat_text(left) + _concat_text(right)
        if not (_is_number(left) and _is_number(right)):
            raise self.fail(
                f"operator '{op}' is not supported between {_type_name(left)} and {_type_name(right)}", node
            )
        if isinstance(left, int) and isinstance(right, int):
            return _long(_int_arith(op, left, right, self, node), self, node)
        return _float_arith(op, float(left), float(right))


def _long(value: int | float, evaluator: _Evaluator, node: _Node) -> int | float:
    if isinstance(value, int) and not LONG_MIN <= value <= LONG_MAX:
        raise evaluator.fail("integer overflow", node)
    return value


def _int_arith(op: str, left: int, right: int, evaluator: _Evaluator, node: _Node) -> int:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        raise evaluator.fail("division by zero", node)
    # Java truncates integer division toward zero; the remainder takes the dividend's sign.
    quotient = abs(left) // abs(right)
    quotient = quotient if (left < 0) == (right < 0) else -quotient
    return quotient if op == "/" else left - right * quotient


def _float_arith(op: str, left: float, right: float) -> float:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            return (
                math.nan if left == 0 or math.isnan(left) else math.copysign(math.inf, left) * math.copysign(1, right)
            )
        return left / right
    return math.nan if right == 0 or math.isinf(left) else math.fmod(left, right)


def _equal(left: Any, right: Any) -> bool:
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if _type_name(left) != _type_name(right):
        return False
    return bool(left == right)


def _order(left: Any, right: Any) -> int | None:
    # Spring orders null before any value.
    if left is None or right is None:
        return (left is not None) - (right is not None)
    both_numbers = _is_number(left) and _is_number(right)
    same_kind = type(left) is type(right) and isinstance(left, str | bool)
    if not (both_numbers or same_kind):
        return None
    return int(left > right) - int(left < right)


def _concat_text(value: Any) -> str:
    return "null" if value is None else to_text(value)


_EVALUATE: dict[str, Callable[[_Evaluator, _Node], Any]] = {
    "literal": _Evaluator.literal,
    "root": _Evaluator.root,
    "attr": _Evaluator.attr,
    "index": _Evaluator.index,
    "unary": _Evaluator.unary,
    "and": _Evaluator.logic_and,
    "or": _Evaluator.logic_or,
    "elvis": _Evaluator.elvis,
    "ternary": _Evaluator.ternary,
    "compare": _Evaluator.compare,
    "arith": _Evaluator.arith,
}


# -- public API


def to_text(value: Any) -> str:
    """A value as Spring writes it into the template: null is empty, numbers and booleans as Java prints them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_concat_text(k)}={_concat_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_concat_text(item) for item in value) + "]"
    return str(value)


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of one SpEL `expression` (without `#{}`) whose root object is `context` (the job, camelCase keys)."""
    if len(expression) > MAX_EXPRESSION:
        raise TemplateError(f"expression longer than {MAX_EXPRESSION} characters", expression, 0)
    if not expression.strip():
        raise TemplateError("empty expression", expression, 0)
    tree = _Parser(expression).parse()
    return _Evaluator(expression, context).value(tree)


def render_template(text: str, context: Mapping[str, Any]) -> str:
    """`text` with every `#{expression}` replaced by its value, as Spring's TemplateParserContext does."""
    parts: list[str] = []
    pos = 0
    while True:
        start = text.find(PREFIX, pos)
        if start < 0:
            parts.append(text[pos:])
            return "".join(parts)
        parts.append(text[pos:start])
        body = start + len(PREFIX)
        end = _closing_suffix(text, body)
        expression = text[body:end]
        if not expression.strip():
            raise TemplateError("no expression inside '#{}'", expression, 0, _where(text, start))
        try:
            value = evaluate(expression, context)
            parts.append(to_text(value))
        except TemplateError as error:
            raise TemplateError(error.reason, expression, error.position, _where(text, body + error.position)) from None
        except ValueError as error:  # an int too long to print
            raise TemplateError(str(error), expression, 0, _where(text, body)) from None
        pos = end + len(SUFFIX)


def _closing_suffix(text: str, body: int) -> int:
    """Where the `}` closing the expression starting at `body` is; brackets and quoted text may hold `}`."""
    opened: list[tuple[str, int]] = []
    pairs = {"}": "{", "]": "[", ")": "("}
    pos = body
    while pos < len(text):
        char = text[pos]
        if char == "}" and not opened:
            return pos
        if char in "{[(":
            opened.append((char, pos))
        elif char in pairs:
            if not opened:
                raise _template_error(f"closing {char!r} without an opening {pairs[char]!r}", text, body, pos)
            opening, at = opened.pop()
            if opening != pairs[char]:
                raise _template_error(f"closing {char!r} does not match {opening!r} at {at - body}", text, body, pos)
        elif char in "'\"":
            close = text.find(char, pos + 1)
            if close < 0:
                raise _template_error("unterminated string literal", text, body, pos)
            pos = close
        pos += 1
    if opened:
        opening, at = opened[-1]
        raise _template_error(f"missing closing bracket for {opening!r}", text, body, at)
    raise _template_error("no closing '}' for '#{'", text, body, body - len(PREFIX))


def _template_error(reason: str, text: str, body: int, pos: int) -> TemplateError:
    expression = text[body : body + 80]
    return TemplateError(reason, expression, max(pos - body, 0), _where(text, pos))


def _where(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return f" (template line {line}, column {column})"
