"""Secrets the portal must read back later (a password waiting for the cluster, a webhook signing key),
kept encrypted at rest with Fernet under a key derived from SECRET_KEY.

Each use passes its own ``purpose`` label, so one kind of secret cannot be decrypted as another.
Changing a label, or SECRET_KEY, makes the stored secrets of that purpose unreadable: they must be
rotated.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# The purpose of a service account's password while it waits to be set on the cluster: the service that
# rotates it encrypts, the access reconciler decrypts.
PENDING_SCRAM_PASSWORD = b"portal/service-account-pending-secret/v1"


@lru_cache(maxsize=8)
def _fernet(secret_key: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(text: str, *, purpose: bytes) -> bytes:
    return _fernet(settings.SECRET_KEY, purpose).encrypt(text.encode("utf-8"))


def decrypt_secret(token: bytes | memoryview | None, *, purpose: bytes) -> str | None:
    """The plain text, or None when there is none or it cannot be read (SECRET_KEY changed since)."""
    if not token:
        return None
    try:
        return _fernet(settings.SECRET_KEY, purpose).decrypt(bytes(token)).decode("utf-8")
    except InvalidToken:
        return None
