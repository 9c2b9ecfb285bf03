"""The records of a streamed produce request, one at a time, as their bytes arrive.

Confluent's streaming produce sends concatenated JSON (``{...}{...}``) or one object per line over a chunked
request, and answers each record as it comes, in order. So records are parsed from a growing buffer: each with
``json.JSONDecoder.raw_decode`` where it starts, which succeeds at once for a record that has fully arrived.

When it fails, the record is either cut by the end of a chunk or malformed, and ``raw_decode`` cannot say which
(an unterminated string fails the same way in both cases). A small scanner then finds where the record ends:
its closing bracket, counted outside strings, or a raw newline inside a string (JSON strings cannot contain
one, so the record is broken there). Until that end has arrived the parser waits for more bytes, resuming the
scan where it stopped rather than starting over. Once it has, the record is decoded again: a record that was
only cut short is yielded; a malformed one yields a RecordError and the parser goes on after its end
(resynchronises), so the records behind it are still answered. Something that does not start with a bracket
(stray text) ends at the next newline or ``{``.

The parser stops, after one last RecordError, when the stream ends inside a record, when a record outgrows
``max_record_chars`` (an unbalanced bracket would otherwise swallow the rest of the stream into memory) or
when the bytes are not UTF-8.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator

from onboarding.gateway.record_error import BAD_REQUEST, RecordError

MAX_RECORD_CHARS = 8 * 1024 * 1024
_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_OUTSIDE_STRING = re.compile(r'[{}\[\]"]')
_INSIDE_STRING = re.compile(r'["\\\n]')
_STRAY_END = re.compile(r"[\n{]")


def iter_records(chunks: Iterable[bytes], *,
                 max_record_chars: int = MAX_RECORD_CHARS) -> Iterator[object | RecordError]:
    """Each record of the stream (decoded JSON, of any kind: the encoder checks its shape), or a RecordError
    (code BAD_REQUEST, under path ``$``) for one that is not JSON, in stream order."""
    text = codecs.getincrementaldecoder("utf-8")()
    parser = _Parser(max_record_chars)
    for chunk in chunks:
        try:
            piece = text.decode(chunk)
        except UnicodeDecodeError as exc:
            yield _error(f"the stream is not UTF-8 ({exc.reason} in record {parser.number}); no records after "
                         "this one are read")
            return
        yield from parser.feed(piece)
        if parser.stopped:
            return
    try:
        tail = text.decode(b"", final=True)
    except UnicodeDecodeError:
        yield _error(f"the stream ends in the middle of a UTF-8 character (record {parser.number})")
        return
    yield from parser.feed(tail, final=True)


def _error(message: str) -> RecordError:
    return RecordError({"$": [message]}, code=BAD_REQUEST)


class _Parser:
    def __init__(self, max_record_chars: int):
        self.max_record_chars = max_record_chars
        self.buffer = ""
        self.scan: _Scan | None = None  # set once raw_decode failed on the record at the buffer's start
        self.number = 1  # of the record being read, for messages
        self.stopped = False

    def feed(self, piece: str, *, final: bool = False) -> Iterator[object | RecordError]:
        buffer = self.buffer + piece if self.buffer else piece
        pos = 0
        while not self.stopped:
            pos = _WHITESPACE.match(buffer, pos).end()
            if pos == len(buffer):
                break
            if self.scan is None:
                try:
                    value, end = _DECODER.raw_decode(buffer, pos)
                except json.JSONDecodeError:
                    self.scan = _Scan(buffer[pos])
                else:
                    # A bare number at the end of the buffer may go on in the next chunk ("12" then "3").
                    if end == len(buffer) and not final and buffer[pos] not in '{["':
                        break
                    yield value
                    self.number += 1
                    pos = end
                    continue
            end = self.scan.find_end(buffer, pos)
            if end is None:
                if len(buffer) - pos > self.max_record_chars:
                    yield _error(f"record {self.number} is longer than {self.max_record_chars:,} characters, or a "
                                 "bracket is never closed; no records after it are read")
                    self.stopped = True
                elif final:
                    yield _error(f"the stream ends inside record {self.number}")
                    self.stopped = True
                break
            yield self._complete(buffer[pos:end])
            self.number += 1
            self.scan = None
            pos = end
        # Keep only what is not yet a record (the scan's offsets count from its start, so they stay right).
        self.buffer = "" if self.stopped else buffer[pos:]

    def _complete(self, text: str) -> object | RecordError:
        """The record once all of it has arrived: its value, or why it is not JSON."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            return _error(f"record {self.number} is not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}")
        except RecursionError:
            return _error(f"record {self.number} is nested too deeply")


class _Scan:
    """Finds where a record that raw_decode could not read ends, across chunks."""

    def __init__(self, first: str):
        self.bracketed = first in "{["
        self.depth = 0
        self.in_string = False
        self.offset = 0  # how far past the record's start the scan has gone

    def find_end(self, buffer: str, start: int) -> int | None:
        """The index just past the record's end, or None when it has not arrived yet."""
        i = start + self.offset
        if not self.bracketed:
            found = _STRAY_END.search(buffer, max(i, start + 1))
            if found is None:
                self.offset = len(buffer) - start
                return None
            return found.end() if found.group() == "\n" else found.start()
        while True:
            pattern = _INSIDE_STRING if self.in_string else _OUTSIDE_STRING
            found = pattern.search(buffer, i)
            if found is None:
                self.offset = len(buffer) - start
                return None
            char, i = found.group(), found.end()
            if self.in_string:
                if char == "\n":
                    return i  # a raw newline cannot be in a JSON string: the record is broken here
                if char == "\\":
                    if i >= len(buffer):
                        self.offset = found.start() - start  # see the escaped character with the next chunk
                        return None
                    i += 1
                    continue
                self.in_string = False
            elif char == '"':
                self.in_string = True
            elif char in "{[":
                self.depth += 1
            else:
                self.depth -= 1
                if self.depth <= 0:
                    return i
