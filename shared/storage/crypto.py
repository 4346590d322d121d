"""Authenticated encryption for everything sensitive we store (templates, snapshots, session
images) and for the liveness session tokens we hand out.

AES-256-GCM under a key ring: the current key (base64 of 32 bytes; in Azure a Key Vault
reference) seals, and it or any previous key still opens, so an operator can rotate a key
and re-encrypt at leisure. Two rings: TEMPLATE_KEYS (FACE_TEMPLATE_KEY /
FACE_TEMPLATE_OLD_KEYS) for stored data, LIVENESS_TOKEN_KEYS (FACE_LIVENESS_TOKEN_KEY /
FACE_LIVENESS_TOKEN_OLD_KEYS) for session tokens. Callers pass associated data naming where
the ciphertext lives (table, partition, row, column...), so a ciphertext copied into another
row fails to decrypt instead of silently answering for a different face.

Layout: version (1 byte) | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.settings import env_list, env_str

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4
HEADER_BYTES = 1 + _KEY_ID_BYTES + _NONCE_BYTES


class DecryptionError(Exception):
    """Stored ciphertext is corrupt, moved to another row, or under an unknown key."""


@dataclass(frozen=True)
class KeyRing:
    """One current key and its predecessors, read from settings at call time (the readers
    name their settings literally, where the deployment's settings scan finds them)."""

    key_setting: str
    read_current: Callable[[], str]
    read_old: Callable[[], list[str]]

    def current(self) -> tuple[bytes, AESGCM]:
        return _cipher(self.key_setting, self.read_current())

    def by_id(self) -> dict[bytes, AESGCM]:
        encoded = [self.read_current()] + self.read_old()
        return dict(_cipher(self.key_setting, value) for value in encoded if value)

    def is_configured(self) -> bool:
        try:
            self.current()
        except RuntimeError:
            return False
        return True


TEMPLATE_KEYS = KeyRing("FACE_TEMPLATE_KEY", lambda: env_str("FACE_TEMPLATE_KEY"),
                        lambda: env_list("FACE_TEMPLATE_OLD_KEYS"))
LIVENESS_TOKEN_KEYS = KeyRing("FACE_LIVENESS_TOKEN_KEY", lambda: env_str("FACE_LIVENESS_TOKEN_KEY"),
                              lambda: env_list("FACE_LIVENESS_TOKEN_OLD_KEYS"))


def encrypt(plaintext: bytes, aad: bytes, keys: KeyRing = TEMPLATE_KEYS) -> bytes:
    key_id, cipher = keys.current()
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + key_id + nonce + cipher.encrypt(nonce, plaintext, aad)


def decrypt(blob: bytes, aad: bytes, keys: KeyRing = TEMPLATE_KEYS) -> bytes:
    if len(blob) < HEADER_BYTES or blob[:1] != _VERSION:
        raise DecryptionError("unknown ciphertext format")
    key_id, nonce, body = blob[1:1 + _KEY_ID_BYTES], blob[1 + _KEY_ID_BYTES:HEADER_BYTES], blob[HEADER_BYTES:]
    cipher = keys.by_id().get(key_id)
    if cipher is None:
        raise DecryptionError("ciphertext was written under a key we no longer have")
    try:
        return cipher.decrypt(nonce, body, aad)
    except InvalidTag as err:
        raise DecryptionError("ciphertext failed authentication") from err


@lru_cache(maxsize=16)
def _cipher(setting: str, encoded_key: str) -> tuple[bytes, AESGCM]:
    if not encoded_key:
        raise RuntimeError(f"setting {setting} is not set")
    try:
        key = base64.b64decode(encoded_key, validate=True)
    except binascii.Error as err:
        raise RuntimeError(f"{setting} is not valid base64") from err
    if len(key) != 32:
        raise RuntimeError(f"{setting} must decode to 32 bytes")
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES], AESGCM(key)
