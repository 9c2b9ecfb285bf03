"""Subscription filters: JMESPath expressions evaluated on each event.

A filter sees one document per event::

    {"value": <the decoded message value>, "headers": {name: text}, "key": <the message key or null>}

so ``value.ward == 'ICU'`` or ``headers.source == 'lab'`` read naturally. JMESPath is a query
language, not code: nothing a team types is ever passed to eval, and an expression can only read
the event. The result counts as a match when it is truthy in JMESPath's sense: false, null, an
empty string, an empty list and an empty object do not match; anything else (including 0) does.

Mistakes surface as ``FilterError`` with a plain message: syntax errors when the filter is saved
(with the column of the problem), ``FilterEvaluationError`` when a filter meets an event it cannot
be evaluated on (a function given the wrong type), which the router sends to the dead-letter topic.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

import jmespath
from jmespath import exceptions as jmespath_errors
from jmespath.functions import Functions
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter, _is_actual_number, _is_comparable

_INTERPRETER = TreeInterpreter()

MAX_FILTER_LENGTH = 2000

# Names JMESPath's lexer gives its tokens, in words a team understands.
_TOKEN_WORDS = {"EOF": "the end of the filter"}
_FUNCTIONS = Functions.FUNCTION_TABLE


class FilterError(ValueError):
    """The filter cannot be used: a syntax error, an unknown function, too long, or a bad sample event."""

    def __init__(self, message: str, *, column: int | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        # 1-based position of the problem in the filter (or the sample event), when known.
        self.column = column
        self.line = line

    def __str__(self) -> str:
        return self.message


class FilterEvaluationError(FilterError):
    """The filter is valid but cannot be evaluated on this event (e.g. a function given the wrong type)."""


@dataclass(frozen=True)
class CompiledFilter:
    """A checked filter expression. Build it with ``compile_filter``; constructing it directly checks it too."""

    expression: str
    _parsed: ParsedResult = field(init=False, repr=False, compare=False, hash=False)
    _evaluate: object = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_parsed", _compile(self.expression))
        object.__setattr__(self, "_evaluate", closure_of(self._parsed.parsed))

    @property
    def tree(self) -> dict:
        """The parsed expression (JMESPath's AST), for the rule index to recognise shapes it can look up."""
        return self._parsed.parsed

    def matches(self, *, value, headers: dict[str, str] | None = None, key: str | None = None) -> bool:
        """Whether the event matches; FilterEvaluationError when the filter cannot be evaluated on it."""
        return self.matches_document({"value": value, "headers": headers or {}, "key": key})

    def matches_document(self, document: dict) -> bool:
        """``matches`` on a document built once per event and shared by every filter of its source."""
        try:
            # One shared interpreter: ParsedResult.search builds a new one per call, which costs more than
            # evaluating a typical filter (about 3x with 100 rules on a source).
            result = self._evaluate(document)
        except jmespath_errors.JMESPathTypeError as exc:
            raise FilterEvaluationError(
                f"The filter cannot be evaluated on this event: {exc.function_name}() expects "
                f"{_or_list(exc.expected_types)} but got {_article(exc.actual_type)} "
                f"({_short(exc.current_value)}).") from None
        except (jmespath_errors.JMESPathError, TypeError, ValueError, OverflowError, RecursionError) as exc:
            raise FilterEvaluationError(f"The filter cannot be evaluated on this event: {exc}") from None
        return _truthy(result)


def compile_filter(expression: str | None) -> CompiledFilter | None:
    """The checked filter, or None when there is none (None or blank: every event matches).

    Raises FilterError for a syntax error (naming the column), an unknown function, a function
    called with the wrong number of arguments, or an expression longer than MAX_FILTER_LENGTH.
    """
    if expression is None or not expression.strip():
        return None
    return CompiledFilter(expression)


def test_filter(expression: str | None, event_text: str, headers: dict | None = None) -> tuple[bool, str | None]:
    """Try a filter on a sample event typed into the UI (the event's value, as JSON).

    Returns ``(matched, None)``. Raises FilterError for an invalid filter or sample (with line and
    column for invalid JSON), and FilterEvaluationError (a FilterError) when the filter cannot be
    evaluated on the sample: the router would send such an event to the dead-letter topic.
    """
    compiled = compile_filter(expression)
    try:
        value = json.loads(event_text)
    except json.JSONDecodeError as exc:
        raise FilterError(f"The sample event is not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
                          line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise FilterError("The sample event is nested too deeply to read.") from None
    if headers is not None and not isinstance(headers, dict):
        raise FilterError("The sample headers must be an object of names to text.")
    if compiled is None:
        return True, None
    return compiled.matches(value=value, headers=headers), None


# Not a test, whatever pytest thinks of its name when a test module imports it.
test_filter.__test__ = False


# ---------------------------------------------------------------------------------------------- closures
def closure_of(node: dict):
    """The parsed expression as nested Python closures, built once per filter: the same results and errors as
    JMESPath's TreeInterpreter (whose helpers it calls), without its per-node dispatch by name on every event.
    Node types without a closure here (projections, slices, multi-selects...) are left to the interpreter."""
    kind = node.get("type")
    children = node.get("children") or []
    if kind == "field":
        name = node["value"]

        def field_(value):
            try:
                return value.get(name)
            except AttributeError:
                return None
        return field_
    if kind == "subexpression" and all(child.get("type") == "field" for child in children):
        names = tuple(child["value"] for child in children)

        def path(value):
            # value.a.b in one closure; a missing field or a non-object on the way gives null, as field by field.
            for name in names:
                try:
                    value = value.get(name)
                except AttributeError:
                    return None
            return value
        return path
    if kind == "subexpression":
        parts = [closure_of(child) for child in children]

        def subexpression(value):
            for part in parts:
                value = part(value)
            return value
        return subexpression
    if kind == "literal":
        constant = node["value"]
        return lambda _value: constant
    if kind == "current":
        return lambda value: value
    if kind == "comparator" and node["value"] in TreeInterpreter._EQUALITY_OPS and any(
            child.get("type") == "literal" and _scalar(child["value"]) for child in children):
        return _equality_with_literal(node)
    if kind == "comparator":
        left, right = closure_of(children[0]), closure_of(children[1])
        compare = TreeInterpreter.COMPARATOR_FUNC[node["value"]]
        if node["value"] in TreeInterpreter._EQUALITY_OPS:
            return lambda value: compare(left(value), right(value))

        def ordering(value):
            # Ordering is defined for numbers (and strings) only; anything else gives null.
            a, b = left(value), right(value)
            if not (_is_comparable(a) and _is_comparable(b)):
                return None
            return compare(a, b)
        return ordering
    if kind == "and_expression":
        left, right = closure_of(children[0]), closure_of(children[1])

        def and_(value):
            matched = left(value)
            return matched if _INTERPRETER._is_false(matched) else right(value)
        return and_
    if kind == "or_expression":
        left, right = closure_of(children[0]), closure_of(children[1])

        def or_(value):
            matched = left(value)
            return right(value) if _INTERPRETER._is_false(matched) else matched
        return or_
    if kind == "not_expression":
        inner = closure_of(children[0])

        def not_(value):
            result = inner(value)
            if _is_actual_number(result) and result == 0:
                return False  # !0 is false: 0 is true in JMESPath
            return not result
        return not_
    if kind == "function_expression":
        name, arguments = node["value"], [closure_of(child) for child in children]
        if not any(child.get("type") == "expref" for child in children):
            call = _INTERPRETER._functions.call_function
            return lambda value: call(name, [argument(value) for argument in arguments])
    return lambda value: _INTERPRETER.visit(node, value)


def _scalar(value) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _equality_with_literal(node: dict):
    """``field == literal`` (or !=) without JMESPath's general equality: a boolean equals only that boolean,
    a number only a number that is not a boolean (JMESPath never equals 1 and true), text and null by ==."""
    left, right = node["children"]
    if left.get("type") == "literal" and _scalar(left["value"]):
        left, right = right, left
    read, constant = closure_of(left), right["value"]
    if isinstance(constant, bool):
        def equal(value):
            return read(value) is constant
    elif isinstance(constant, int | float):
        def equal(value):
            found = read(value)
            return not isinstance(found, bool) and found == constant
    else:
        def equal(value):
            return read(value) == constant
    if node["value"] == "eq":
        return equal
    return lambda value: not equal(value)


# ---------------------------------------------------------------------------------------------- internals
@lru_cache(maxsize=512)
def _compile(expression: str) -> ParsedResult:
    if not isinstance(expression, str):
        raise FilterError("A filter must be text.")
    if len(expression) > MAX_FILTER_LENGTH:
        raise FilterError(f"The filter is too long: {len(expression)} characters, the limit is {MAX_FILTER_LENGTH}.")
    if not expression.strip():
        raise FilterError("The filter is empty.")
    try:
        parsed = jmespath.compile(expression)
    except jmespath_errors.JMESPathError as exc:
        raise _syntax_error(expression, exc) from None
    except RecursionError:
        # jmespath parses by recursive descent: a few hundred nested brackets exhaust Python's stack.
        raise FilterError("The filter is nested too deeply; write it with fewer nested parentheses or "
                          "brackets.") from None
    _check_functions(expression, parsed.parsed)
    return parsed


def _syntax_error(expression: str, exc: jmespath_errors.JMESPathError) -> FilterError:
    if isinstance(exc, jmespath_errors.LexerError):
        position, problem = exc.lexer_position, _lexer_problem(exc)
    elif isinstance(exc, jmespath_errors.IncompleteExpressionError):
        position, problem = len(expression.rstrip()), "the filter ends too early"
    elif isinstance(exc, jmespath_errors.ParseError) and not isinstance(exc, jmespath_errors.ArityError):
        position = exc.lex_position
        token = exc.token_value
        problem = (f"unexpected {_TOKEN_WORDS[exc.token_type]}" if exc.token_type in _TOKEN_WORDS
                   else f"unexpected token {_quote(token)}")
    else:
        return FilterError(f"Invalid filter: {exc}")
    where, line, column = _where(expression, position)
    return FilterError(f"Invalid filter{where}: {problem}", line=line, column=column)


def _lexer_problem(exc: jmespath_errors.LexerError) -> str:
    message = str(exc.message or "").strip()
    if message.startswith("Unclosed"):
        # "Unclosed ' delimiter": a string or literal without its closing quote.
        delimiter = message.split()[1] if len(message.split()) > 1 else ""
        what = {"'": "quote", '"': "double quote", "`": "backtick"}.get(delimiter, "delimiter")
        return f"{exc.lexer_value} has no closing {what}"
    if message.startswith("Unknown token"):
        value = exc.lexer_value
        hint = " (use == to compare)" if value == "=" else ""
        return f"unexpected character {_quote(value)}{hint}"
    if message.startswith("Bad token"):
        return f"{_quote(exc.lexer_value)} is not a valid JSON literal"
    return message[:1].lower() + message[1:] if message else "invalid token"


def _check_functions(expression: str, node) -> None:
    """JMESPath looks functions up only when it calls them; check names and argument counts now instead."""
    if isinstance(node, dict):
        if node.get("type") == "function_expression":
            name, args = node.get("value"), node.get("children") or []
            spec = _FUNCTIONS.get(name)
            match = re.search(rf"(?<![\w\"']){re.escape(name)}\s*\(", expression)
            where, line, column = _where(expression, match.start()) if match else ("", None, None)
            if spec is None:
                known = ", ".join(sorted(_FUNCTIONS))
                raise FilterError(f"Invalid filter{where}: unknown function {name}(). Known functions: {known}.",
                                  line=line, column=column)
            signature = spec["signature"]
            variadic = bool(signature) and signature[-1].get("variadic", False)
            if (len(args) < len(signature)) if variadic else (len(args) != len(signature)):
                count = len(signature)
                expected = f"{'at least ' if variadic else ''}{count} argument{'' if count == 1 else 's'}"
                raise FilterError(f"Invalid filter{where}: {name}() takes {expected}, not {len(args)}.",
                                  line=line, column=column)
        for child in node.get("children") or []:
            _check_functions(expression, child)
    elif isinstance(node, list):
        for child in node:
            _check_functions(expression, child)


def _where(expression: str, position: int) -> tuple[str, int, int]:
    """' at column C' (or ' at line L, column C' for a filter of several lines), line and column."""
    line, column = _line_and_column(expression, position)
    where = f" at line {line}, column {column}" if "\n" in expression else f" at column {column}"
    return where, line, column


def _line_and_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a 0-based offset."""
    position = max(0, min(position, len(text)))
    before = text[:position]
    line = before.count("\n") + 1
    return line, position - (before.rfind("\n") + 1) + 1


def truthy(result) -> bool:
    """JMESPath's truthiness: what counts as a match."""
    return _truthy(result)


def _truthy(result) -> bool:
    # JMESPath's falsy values; 0 and 0.0 are true in JMESPath, unlike in Python.
    if result is None or result is False:
        return False
    if isinstance(result, str | list | dict | tuple):
        return len(result) > 0
    return True


def _quote(value) -> str:
    text = str(value)
    return f"'{text}'" if "'" not in text else f'"{text}"'


def _or_list(types) -> str:
    names = [_article(t) for t in types or []]
    if len(names) <= 1:
        return names[0] if names else "another type"
    return ", ".join(names[:-1]) + " or " + names[-1]


def _article(type_name) -> str:
    name = str(type_name)
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
