"""Authenticated encryption for everything sensitive we store (templates, snapshots).

AES-256-GCM under FACE_TEMPLATE_KEY (base64 of 32 bytes; in Azure a Key Vault reference).
Callers pass associated data naming where the ciphertext lives (table, partition, row,
column...), so a ciphertext copied into another row fails to decrypt instead of silently
answering for a different face. Keys listed in FACE_TEMPLATE_OLD_KEYS still decrypt, which
lets an operator rotate the key and re-encrypt at leisure.

Layout: version (1 byte) | key id (4 bytes) | nonce (12 bytes) | ciphertext+tag.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.settings import env_list, env_str

KEY_SETTING = "FACE_TEMPLATE_KEY"
OLD_KEYS_SETTING = "FACE_TEMPLATE_OLD_KEYS"
_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4


class DecryptionError(Exception):
    """Stored ciphertext is corrupt, moved to another row, or under an unknown key."""


def encrypt(plaintext: bytes, aad: bytes) -> bytes:
    key_id, cipher = _cipher(env_str(KEY_SETTING))
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + key_id + nonce + cipher.encrypt(nonce, plaintext, aad)


def decrypt(blob: bytes, aad: bytes) -> bytes:
    header = 1 + _KEY_ID_BYTES + _NONCE_BYTES
    if len(blob) < header or blob[:1] != _VERSION:
        raise DecryptionError("unknown ciphertext format")
    key_id, nonce, body = blob[1:1 + _KEY_ID_BYTES], blob[1 + _KEY_ID_BYTES:header], blob[header:]
    cipher = _ciphers_by_id().get(key_id)
    if cipher is None:
        raise DecryptionError("ciphertext was written under a key we no longer have")
    try:
        return cipher.decrypt(nonce, body, aad)
    except InvalidTag as err:
        raise DecryptionError("ciphertext failed authentication") from err


def key_is_configured() -> bool:
    try:
        _cipher(env_str(KEY_SETTING))
    except RuntimeError:
        return False
    return True


def _ciphers_by_id() -> dict[bytes, AESGCM]:
    encoded = [env_str(KEY_SETTING)] + env_list(OLD_KEYS_SETTING)
    return dict(_cipher(value) for value in encoded if value)


@lru_cache(maxsize=8)
def _cipher(encoded_key: str) -> tuple[bytes, AESGCM]:
    if not encoded_key:
        raise RuntimeError(f"setting {KEY_SETTING} is not set")
    try:
        key = base64.b64decode(encoded_key, validate=True)
    except binascii.Error as err:
        raise RuntimeError(f"{KEY_SETTING} is not valid base64") from err
    if len(key) != 32:
        raise RuntimeError(f"{KEY_SETTING} must decode to 32 bytes")
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES], AESGCM(key)
