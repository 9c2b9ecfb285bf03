"""Protobuf ``.proto`` text: syntax errors with their line, the rules protoc enforces, and a flat model.

Parsing is done by ``proto-schema-parser`` (pure Python, built on Buf's ANTLR grammar). Its ANTLR error
messages are collected through an error listener and reworded (``missing ';'`` is placed after the token that
needs it rather than at the start of the next line). The AST carries no positions, so the rule checks
(duplicate numbers, reserved ranges...) find their line by searching the comment-free text, which is exact
for ordinary files and approximate when two messages declare the same field text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace

from antlr4.error.ErrorListener import ErrorListener
from proto_schema_parser import ast
from proto_schema_parser.generator import Generator
from proto_schema_parser.parser import Parser

from ._common import SchemaTextError, suggest
from ._types import SchemaProblem

SCALARS = ("double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
           "sfixed32", "sfixed64", "bool", "string", "bytes")
_MAP_KEYS = frozenset(SCALARS) - {"double", "float", "bytes"}
_LABELS = ("optional", "repeated", "required")
_MAX_NUMBER = 536_870_911
_LABEL_LINE = re.compile(r"^\s*([A-Za-z_]\w*)\s+([A-Za-z_.][\w.]*)\s+([A-Za-z_]\w*)\s*=")


@dataclass(eq=False)
class PField:
    name: str
    number: int
    type: str  # as written, without a leading dot or the file's package
    label: str = ""  # "", optional, repeated, required
    key: str | None = None  # map key type (then ``type`` is the value type)
    oneof: str | None = None

    def describe(self) -> str:
        if self.key is not None:
            return f"map<{self.key}, {self.type}>"
        return f"{self.label} {self.type}".strip()


@dataclass(eq=False)
class PMessage:
    name: str  # qualified inside the file: Admission.Address
    fields: list[PField] = field(default_factory=list)
    reserved_numbers: list[tuple[int, int]] = field(default_factory=list)
    reserved_names: list[str] = field(default_factory=list)


@dataclass(eq=False)
class PFile:
    syntax: str | None
    package: str
    messages: dict[str, PMessage] = field(default_factory=dict)
    enums: dict[str, dict[str, int]] = field(default_factory=dict)
    enum_aliases: set[str] = field(default_factory=set)
    imports: int = 0
    top: list[str] = field(default_factory=list)  # top-level message names, in file order

    def resolve(self, type_name: str, scope: str) -> tuple[str, str] | None:
        """("message" | "enum", qualified name) for a type used inside message ``scope``, or None."""
        name = _local(type_name, self.package)
        parts = scope.split(".") if scope else []
        for i in range(len(parts), -1, -1):
            candidate = ".".join([*parts[:i], name])
            if candidate in self.messages:
                return "message", candidate
            if candidate in self.enums:
                return "enum", candidate
        return None


def _local(type_name: str, package: str) -> str:
    name = type_name.lstrip(".")
    return name[len(package) + 1:] if package and name.startswith(package + ".") else name


class _Errors(ErrorListener):
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.problems: list[SchemaProblem] = []

    def syntaxError(self, recognizer, offending, line, column, msg, e):  # noqa: N802 - ANTLR's name
        message, line, column = _reword(recognizer, offending, line, column, msg, self.lines)
        if not any(p.line == line for p in self.problems) and len(self.problems) < 20:
            self.problems.append(SchemaProblem(message, line=line, column=column + 1))


def _reword(recognizer, offending, line: int, column: int, msg: str, lines: list[str]):
    """ANTLR's wording, made readable; returns (message, line, 0-based column)."""
    if "<EOF>" in msg:
        return "unexpected end of file: is a closing '}' missing?", line, column
    wants_semicolon = msg.startswith("missing ';'") or ("expecting" in msg and "';'" in msg.split("expecting")[1])
    prev = _previous_token(recognizer, offending)
    closing = prev is not None and prev.text not in (";", "{", "}")
    if wants_semicolon and closing and (msg.startswith("missing") or prev.line < line):
        return f"missing ';' after {prev.text!r}", prev.line, prev.column + len(prev.text)
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    key = re.search(r"\bmap\s*<\s*([\w.]+)", source)
    if key and key.group(1) not in _MAP_KEYS:
        return f"a map key must be an integer type, bool or string, not {key.group(1)!r}", line, key.start(1)
    label = _LABEL_LINE.match(source)
    if label and label.group(1) not in (*_LABELS, "map", "option", "reserved", "extensions"):
        word = label.group(1)
        return (f"unknown field label {word!r}{suggest(word, _LABELS)}; a field starts with optional, repeated, "
                "required (proto2) or directly with its type", line, label.start(1))
    if msg.startswith("token recognition error at: "):
        return f"unexpected character {msg.rsplit(': ', 1)[1]}", line, column
    found = re.match(r"(?:extraneous|mismatched) input (.+?) expecting (.+)$", msg)
    if found:
        options = found.group(2).strip("{}").split(", ")
        if len(options) <= 4:
            return f"unexpected {found.group(1)} (expected {' or '.join(options)})", line, column
        return f"unexpected {found.group(1)}", line, column
    return msg.replace("no viable alternative at input", "can't make sense of"), line, column


def _previous_token(recognizer, offending):
    """The last non-blank token before the offending one (parser errors only), or None."""
    if offending is None or not hasattr(recognizer, "getTokenStream"):
        return None
    stream, index = recognizer.getTokenStream(), offending.tokenIndex - 1
    while index >= 0 and not stream.get(index).text.strip():
        index -= 1
    return stream.get(index) if index >= 0 else None


def _strip_comments(text: str) -> str:
    """Comments and string contents blanked out, keeping every character's line and column."""
    def blank(m: re.Match) -> str:
        s = m.group(0)
        if s.startswith(('"', "'")):
            return s[0] + re.sub(r"[^\n]", " ", s[1:-1]) + s[-1]
        return re.sub(r"[^\n]", " ", s)
    return re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', blank, text, flags=re.S)


def parse_ast(text: str) -> tuple[ast.File | None, list[SchemaProblem]]:
    listener = _Errors(text.splitlines())

    def quiet(recognizer) -> None:
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(listener)

    try:
        tree = Parser(setup_lexer=quiet, setup_parser=quiet).parse(text)
    except Exception as exc:  # the AST builder can trip over what the grammar let through (e.g. 0x10 numbers)
        number = re.search(r"invalid literal for int\(\) with base 10: '([^']*)'", str(exc))
        detail = f"write the number {number.group(1)} in decimal" if number else str(exc)
        return None, listener.problems or [SchemaProblem(f"Protobuf schema can't be read: {detail}")]
    return tree, listener.problems


class _Reader:
    """Flattens the AST into a PFile and checks the rules protoc would enforce."""

    def __init__(self, tree: ast.File, text: str) -> None:
        self.text = _strip_comments(text)
        self.newlines = [i for i, c in enumerate(self.text) if c == "\n"]
        self.problems: list[SchemaProblem] = []
        package = next((e.name for e in tree.file_elements if isinstance(e, ast.Package)), "")
        self.file = PFile(tree.syntax, package, imports=sum(isinstance(e, ast.Import) for e in tree.file_elements))
        self.elements(tree.file_elements, "", 0)
        self.file.top = [e.name for e in tree.file_elements if isinstance(e, ast.Message)]

    def find(self, pattern: str, start: int = 0) -> int | None:
        m = re.compile(pattern).search(self.text, start)
        return m.start() if m else None

    def problem(self, message: str, pattern: str | None = None, start: int = 0) -> None:
        """Record a problem, placed at the first match of ``pattern`` after ``start`` (positions only computed here)."""
        pos = self.find(pattern, start) if pattern else None
        if pos is None:
            self.problems.append(SchemaProblem(message))
            return
        line = bisect.bisect_right(self.newlines, pos - 1)
        column = pos - (self.newlines[line - 1] + 1 if line else 0) + 1
        self.problems.append(SchemaProblem(message, line=line + 1, column=column))

    def elements(self, elements: list, scope: str, start: int) -> None:
        """Messages and enums in file order; each is searched for after the previous one, keeping this linear."""
        seen: set[str] = set()
        cursor = start
        for e in elements:
            if isinstance(e, ast.Message | ast.Enum):
                qualified = f"{scope}.{e.name}" if scope else e.name
                keyword = "message" if isinstance(e, ast.Message) else "enum"
                found = self.find(rf"\b{keyword}\s+{re.escape(e.name)}\s*\{{", cursor)
                pos = found if found is not None else start
                cursor = pos + 1 if found is not None else cursor
                if e.name in seen:
                    self.problem(f"{qualified!r} is defined twice", rf"\b{keyword}\s+{re.escape(e.name)}\b", pos)
                seen.add(e.name)
                (self.message if keyword == "message" else self.enum)(e, qualified, pos)

    def message(self, msg: ast.Message, name: str, pos: int) -> None:
        m = self.file.messages.setdefault(name, PMessage(name))
        for e in msg.elements:
            if isinstance(e, ast.Reserved):
                m.reserved_names += e.names
                for r in e.ranges:
                    low, _, high = str(r).partition(" to ")
                    high = str(_MAX_NUMBER) if high.strip() == "max" else high or low
                    if low.strip().isdigit() and high.strip().isdigit():
                        m.reserved_numbers.append((int(low), int(high)))
        for e in msg.elements:
            members = e.elements if isinstance(e, ast.OneOf) else [e]
            for f in members:
                if isinstance(f, ast.Field | ast.MapField | ast.Group):
                    self.field(m, f, e.name if isinstance(e, ast.OneOf) else None, pos)
        self.elements(msg.elements, name, pos)

    def field(self, m: PMessage, f, oneof: str | None, pos: int) -> None:
        label = f.cardinality.value.lower() if getattr(f, "cardinality", None) else ""
        if isinstance(f, ast.MapField):
            pf = PField(f.name, f.number, _local(f.value_type, self.file.package), key=f.key_type)
        else:
            ftype = "group" if isinstance(f, ast.Group) else _local(f.type, self.file.package)
            pf = PField(f.name, f.number, ftype, label, oneof=oneof)
        at = rf"\b{re.escape(pf.name)}\s*=\s*{pf.number}\b"
        if pf.number < 1 or pf.number > _MAX_NUMBER:
            self.problem(f"field {pf.name!r}: field numbers go from 1 to {_MAX_NUMBER:,} (got {pf.number})", at, pos)
        elif 19000 <= pf.number <= 19999:
            self.problem(f"field {pf.name!r}: numbers 19000-19999 are reserved for the Protocol Buffers "
                         f"implementation (got {pf.number})", at, pos)
        for other in m.fields:
            if other.number == pf.number:
                self.problem(f"field number {pf.number} is used twice in message {m.name} ({other.name!r} and "
                             f"{pf.name!r})", at, pos)
            if other.name == pf.name:
                self.problem(f"field name {pf.name!r} is used twice in message {m.name}", at, pos)
        if any(low <= pf.number <= high for low, high in m.reserved_numbers) or pf.name in m.reserved_names:
            self.problem(f"field {pf.name!r} = {pf.number} uses a number or name that message {m.name} reserves",
                         at, pos)
        if label == "required" and self.file.syntax == "proto3":
            self.problem(f"field {pf.name!r}: proto3 has no required fields", at, pos)
        if pf.key is not None and pf.key not in _MAP_KEYS:
            self.problem(f"field {pf.name!r}: a map key must be an integer type, bool or string, not {pf.key!r}",
                         at, pos)
        m.fields.append(pf)

    def enum(self, e: ast.Enum, name: str, pos: int) -> None:
        values = self.file.enums.setdefault(name, {})
        if any(isinstance(o, ast.Option) and o.name == "allow_alias" and o.value is True for o in e.elements):
            self.file.enum_aliases.add(name)
        for v in (v for v in e.elements if isinstance(v, ast.EnumValue)):
            at = rf"\b{re.escape(v.name)}\s*=\s*-?\s*{abs(v.number)}\b"
            if not values and self.file.syntax == "proto3" and v.number != 0:
                self.problem(f"enum {name}: in proto3 the first value must be 0 ({v.name} is {v.number})", at, pos)
            if v.name in values:
                self.problem(f"enum {name}: value name {v.name!r} is used twice", at, pos)
            elif v.number in values.values() and name not in self.file.enum_aliases:
                self.problem(f"enum {name}: number {v.number} is used twice (add option allow_alias = true; if "
                             "that is meant)", at, pos)
            values.setdefault(v.name, v.number)

    def check_types(self) -> None:
        known = [*SCALARS, *(n.rsplit(".", 1)[-1] for n in self.file.messages), *self.file.enums]
        for m in self.file.messages.values():
            for f in m.fields:
                if f.type in SCALARS or f.type == "group" or self.file.resolve(f.type, m.name):
                    continue
                hint = suggest(f.type, SCALARS if self.file.imports else known)
                if hint or (not self.file.imports and "." not in f.type):
                    self.problem(f"field {f.name!r} in message {m.name}: unknown type {f.type!r}{hint}",
                                 rf"\b{re.escape(f.name)}\s*=\s*{f.number}\b")


def _read(text: str) -> tuple[ast.File | None, PFile | None, list[SchemaProblem]]:
    tree, problems = parse_ast(text)
    if problems or tree is None:
        return None, None, problems
    reader = _Reader(tree, text)
    if tree.syntax is None and tree.edition is None:
        reader.problems.insert(0, SchemaProblem('missing syntax line: start the file with syntax = "proto3";',
                                                line=1, column=1))
    elif tree.syntax is not None and tree.syntax.strip("\"'") not in ("proto2", "proto3"):
        reader.problem(f"syntax must be \"proto2\" or \"proto3\", not {tree.syntax}", r"\bsyntax\b")
    reader.check_types()
    return tree, reader.file, reader.problems


def check(text: str) -> list[SchemaProblem]:
    """Syntax errors if there are any, otherwise every rule protoc would enforce that the file breaks."""
    return _read(text)[2]


def parse(text: str, which: str = "schema") -> PFile:
    """The flat model of a valid file, or SchemaTextError."""
    _, pfile, problems = _read(text)
    if problems or pfile is None:
        raise SchemaTextError(problems, which)
    return pfile


def _without_comments(node):
    """A copy of an AST node with every Comment element removed, at any depth."""
    for attr in ("file_elements", "elements"):
        if hasattr(node, attr):
            kept = [_without_comments(e) for e in getattr(node, attr) if not isinstance(e, ast.Comment)]
            return replace(node, **{attr: kept})
    return node


def canonical(text: str) -> str:
    """The file regenerated from its syntax tree without comments: spacing and comments no longer count."""
    tree, _, problems = _read(text)
    if problems or tree is None:
        raise SchemaTextError(problems)
    return Generator().generate(_without_comments(tree)).strip() + "\n"
