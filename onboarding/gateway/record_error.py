"""The error of one produce record, and the Confluent REST Proxy error codes it carries.

Its own module because both the record encoder (``records.py``) and the stream parser (``stream.py``) raise or
yield it, and the encoder imports the parser.
"""

from __future__ import annotations

# Confluent REST Proxy error codes the HTTP layer answers with (error_code; the HTTP status is its first 3 digits).
BAD_REQUEST = 400  # not JSON at all (in a stream: this record is not)
INVALID_PAYLOAD = 42206  # the record's fields or data are wrong
SCHEMA_NOT_FOUND = 40403  # the subject, version or schema id is not in the registry


class RecordError(ValueError):
    """The record cannot be produced; ``errors`` maps each field path to what is wrong there.

    ``code`` is the Confluent error code to answer with: INVALID_PAYLOAD, SCHEMA_NOT_FOUND or BAD_REQUEST.
    """

    def __init__(self, errors: dict[str, list[str]], *, code: int = INVALID_PAYLOAD):
        self.errors = errors
        self.code = code
        super().__init__("; ".join(f"{path}: {message}" for path, messages in errors.items() for message in messages))
