"""What changed between two Avro schemas, and which changes break a reader under Avro's resolution rules.

The diff follows records wherever they appear (nested, in arrays, maps and unions, or by named reference) and
matches fields by name, or by a new field's aliases when it was renamed. The reasons follow the rules in the
Avro specification's "Schema Resolution" section, which the registry applies: a reader field missing from the
writer needs a default; int -> long -> float -> double and string <-> bytes are the only promotions; named types
match by unqualified name or the reader's aliases; a writer's enum symbol unknown to the reader needs the
reader's enum default.
"""

from __future__ import annotations

from ._avro_model import NAMED, AField, AType, describe
from ._types import Change, FieldInfo

_PROMOTIONS = {("int", "long"), ("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"),
               ("float", "double"), ("string", "bytes"), ("bytes", "string")}


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _info(f: AField) -> FieldInfo:
    return FieldInfo(describe(f.type), f.has_default, f.default)


def _branches(t: AType) -> list[AType]:
    return t.branches if t.kind == "union" else [t]


def _same_named(old: AType, new: AType) -> bool:
    return old.kind == new.kind and (old.name == new.name or old.name in new.aliases)


class _Differ:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.seen: set[tuple[int, int]] = set()

    def add(self, kind: str, path: str, old: object = None, new: object = None) -> None:
        self.changes.append(Change(kind, path, old, new))

    def top(self, old: AType, new: AType) -> None:
        if old.kind == new.kind == "record":
            if old.name != new.name:
                self.add("name_changed", "", old.name, new.name)
            self.record(old, new, new.name)
            return
        if describe(old) != describe(new):
            self.add("type_changed", "", describe(old), describe(new))
        self.walk(old, new, "")

    def walk(self, old: AType, new: AType, path: str) -> None:
        """Descend into the parts of two field types that correspond, to find changes inside them."""
        if old.kind == "union" or new.kind == "union":
            for ob in _branches(old):
                match = next((nb for nb in _branches(new) if _pairs(ob, nb)), None)
                if match is not None:
                    self.walk(ob, match, path)
            return
        if not _pairs(old, new):
            return
        if old.kind == "record":
            self.record(old, new, path or new.name)
        elif old.kind == "enum":
            for sym in new.symbols:
                if sym not in old.symbols:
                    self.add("symbol_added", path or new.name, new=sym)
            for sym in old.symbols:
                if sym not in new.symbols:
                    self.add("symbol_removed", path or new.name, old=sym)
        elif old.kind in ("array", "map"):
            self.walk(old.items, new.items, path + ("[]" if old.kind == "array" else "{}"))

    def record(self, old: AType, new: AType, path: str) -> None:
        if (id(old), id(new)) in self.seen:
            return
        self.seen.add((id(old), id(new)))
        if (old.doc or "") != (new.doc or "") and path == new.name:
            self.add("doc_changed", path, old.doc, new.doc)
        olds = {f.name: f for f in old.fields}
        news = {f.name: f for f in new.fields}
        renamed = {}
        for nf in new.fields:
            if nf.name not in olds:
                alias = next((a for a in nf.aliases if a in olds and a not in news), None)
                if alias is not None:
                    renamed[alias] = nf
        for of in old.fields:
            nf = news.get(of.name) or renamed.get(of.name)
            if nf is None:
                self.add("field_removed", _join(path, of.name), old=_info(of))
                continue
            if nf.name != of.name:
                self.add("name_changed", _join(path, of.name), of.name, nf.name)
            self.field(of, nf, _join(path, nf.name))
        matched = {f.name for f in renamed.values()}
        for nf in new.fields:
            if nf.name not in olds and nf.name not in matched:
                self.add("field_added", _join(path, nf.name), new=_info(nf))

    def field(self, of: AField, nf: AField, path: str) -> None:
        if describe(of.type) != describe(nf.type):
            self.add("type_changed", path, describe(of.type), describe(nf.type))
        if of.has_default and not nf.has_default:
            self.add("default_removed", path, old=of.default)
        elif nf.has_default and not of.has_default:
            self.add("default_added", path, new=nf.default)
        elif of.has_default and of.default != nf.default:
            self.add("default_changed", path, of.default, nf.default)
        if (of.doc or "") != (nf.doc or ""):
            self.add("doc_changed", path, of.doc, nf.doc)
        self.walk(of.type, nf.type, path)


def _pairs(old: AType, new: AType) -> bool:
    """Whether two types are "the same slot" for diffing: same kind, and for named types the same name/alias."""
    if old.kind != new.kind:
        return False
    return _same_named(old, new) if old.kind in NAMED else True


def diff(old: AType, new: AType) -> list[Change]:
    differ = _Differ()
    differ.top(old, new)
    return differ.changes


# --- compatibility -------------------------------------------------------------------------------------------

_ROLES = {
    # direction: (reader, writer, who fails)
    "BACKWARD": ("new", "old", "consumers using the new schema can't read data written with the old one"),
    "FORWARD": ("old", "new", "consumers still on the old schema can't read data written with the new one"),
}


class _Compat:
    """Checks that a reader schema can resolve data written with a writer schema, collecting plain reasons."""

    def __init__(self, direction: str) -> None:
        self.direction = direction
        self.reader_role, self.writer_role, self.effect = _ROLES[direction]
        self.reasons: list[str] = []
        self.seen: set[tuple[int, int]] = set()
        self.outer: _Compat | None = None  # the checker a trial (``quiet``) runs inside

    def visited(self, key: tuple[int, int]) -> bool:
        return key in self.seen or (self.outer is not None and self.outer.visited(key))

    def old_new(self, reader: AType, writer: AType) -> tuple[AType, AType]:
        return (writer, reader) if self.direction == "BACKWARD" else (reader, writer)

    def say(self, path: str, text: str) -> None:
        where = path or "The top-level type"
        self.reasons.append(f"{where}: {text}")

    def quiet(self, reader: AType, writer: AType, path: str) -> list[str]:
        sub = _Compat(self.direction)
        sub.outer = self
        sub.check(reader, writer, path)
        return sub.reasons

    def check(self, reader: AType, writer: AType, path: str, branch: bool = False) -> None:
        """``branch`` marks ``writer`` as one branch of a writer union, which changes how a mismatch is told."""
        if "unknown" in (reader.kind, writer.kind):
            return
        if writer.kind == "union":
            for wb in writer.branches:
                self.check(reader, wb, path, branch=True)
            return
        if reader.kind == "union":
            if any(self.quiet(rb, writer, path) == [] for rb in reader.branches):
                return
            close = [rb for rb in reader.branches if _shallow(rb, writer)]
            if close:
                self.check(close[0], writer, path)
            else:
                self.unreadable(reader, writer, path)
            return
        if not _shallow(reader, writer):
            if reader.kind == writer.kind and reader.kind in NAMED:
                self.renamed(reader, writer, path)
            elif branch:
                self.unreadable(reader, writer, path)
            else:
                self.type_changed(reader, writer, path)
            return
        if reader.kind == "record":
            self.record(reader, writer, path or reader.name)
        elif reader.kind == "enum":
            self.enum(reader, writer, path or reader.name)
        elif reader.kind in ("array", "map"):
            self.check(reader.items, writer.items, path + ("[]" if reader.kind == "array" else "{}"))

    def unreadable(self, reader: AType, writer: AType, path: str) -> None:
        self.say(path, f"{self.writer_role} data may hold {describe(writer)} values, which the {self.reader_role} "
                       f"type {describe(reader)} can't read; {self.effect}.")

    def type_changed(self, reader: AType, writer: AType, path: str) -> None:
        old, new = self.old_new(reader, writer)
        hint = ""
        if (reader.kind, writer.kind) in _PROMOTIONS:
            hint = " (Avro only widens int -> long -> float -> double, and swaps string and bytes)"
        self.say(path, f"type changed from {describe(old)} to {describe(new)}; {self.effect}, because "
                       f"{describe(writer)} values can't be read as {describe(reader)}{hint}.")

    def renamed(self, reader: AType, writer: AType, path: str) -> None:
        old, new = self.old_new(reader, writer)
        if old.kind == "fixed" and old.name == new.name:
            self.say(path, f"fixed {old.name} changed size from {old.size} to {new.size}; {self.effect}.")
            return
        self.say(path, f"{old.kind} {old.name} was renamed to {new.name} without the {self.reader_role} schema "
                       f"listing the other name in \"aliases\"; {self.effect}.")

    def record(self, reader: AType, writer: AType, path: str) -> None:
        if self.visited((id(reader), id(writer))):
            return
        self.seen.add((id(reader), id(writer)))
        written = {f.name: f for f in writer.fields}
        for rf in reader.fields:
            wf = written.get(rf.name) or next((written[a] for a in rf.aliases if a in written), None)
            fpath = f"{path}.{rf.name}" if path else rf.name
            if wf is not None:
                self.check(rf.type, wf.type, fpath)
            elif not rf.has_default:
                if self.direction == "BACKWARD":
                    self.say(fpath, "was added without a default, so consumers using the new schema can't read "
                                    "records written with the old one, which have no value for it. Give it a "
                                    "default (for an optional field: type [\"null\", ...] with \"default\": null).")
                else:
                    self.say(fpath, "was removed, but it has no default in the old schema, so consumers still on "
                                    "the old schema can't read new records, which lack it. Keep the field, or "
                                    "first give it a default in a compatible version.")

    def enum(self, reader: AType, writer: AType, path: str) -> None:
        if reader.enum_default is not None:
            return
        for sym in writer.symbols:
            if sym in reader.symbols:
                continue
            if self.direction == "BACKWARD":
                self.say(path, f"symbol {sym} was removed from enum {reader.name}; old records may contain it "
                               "and the new enum has no \"default\" symbol to fall back on.")
            else:
                self.say(path, f"symbol {sym} was added to enum {reader.name}; consumers still on the old schema "
                               "don't know it and the old enum has no \"default\" symbol to fall back on.")


def _shallow(reader: AType, writer: AType) -> bool:
    """Avro's first resolution test: same kind (and name/size for named types), or an allowed promotion."""
    if reader.kind == writer.kind:
        if reader.kind in NAMED:
            same = reader.name == writer.name or writer.name in reader.aliases
            return same and (reader.kind != "fixed" or reader.size == writer.size)
        return True
    return (writer.kind, reader.kind) in _PROMOTIONS


def reasons(old: AType, new: AType, direction: str) -> list[str]:
    """Why data resolution fails in one direction: BACKWARD (new reads old) or FORWARD (old reads new)."""
    compat = _Compat(direction)
    reader, writer = (new, old) if direction == "BACKWARD" else (old, new)
    compat.check(reader, writer, "")
    return compat.reasons
