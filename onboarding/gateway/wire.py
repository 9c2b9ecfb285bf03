"""The Confluent wire format, writing side: magic byte 0, the schema id as 4 big-endian bytes, the payload.

Consumers with Confluent's deserializers (and the router's ``routing/decode.py``) read the id from these five
bytes to fetch the writer schema, so every schema'd key or value the gateway produces starts with them.
"""

from __future__ import annotations

import io
import struct

import fastavro

MAGIC_BYTE = 0
_HEADER = struct.Struct(">BI")
MAX_SCHEMA_ID = 2**32 - 1


def frame(*, schema_id: int, payload: bytes) -> bytes:
    """``payload`` behind the wire-format header of ``schema_id``."""
    return _HEADER.pack(MAGIC_BYTE, schema_id) + payload


def avro_frame(*, schema_id: int, parsed_schema: object, datum: object) -> bytes:
    """``datum`` written with fastavro's schemaless writer (no container, no schema in the bytes) and framed.

    Written straight after the header into one buffer, so a 10 KB value is not copied a second time. fastavro
    raises ValueError, TypeError, struct.error and others for a datum that does not fit; callers catch them.
    """
    buffer = io.BytesIO()
    buffer.write(_HEADER.pack(MAGIC_BYTE, schema_id))
    fastavro.schemaless_writer(buffer, parsed_schema, datum)
    return buffer.getvalue()
