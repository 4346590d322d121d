"""Chunked AEAD framing: encrypt/decrypt a stream in bounded memory.

A 1M-face snapshot is ~0.8 GB. One-shot AES-GCM needs the whole plaintext and the whole
ciphertext in memory at once (2x), so snapshots are sealed in independent chunks instead;
decryption streams to a file and never holds more than one chunk.

Stream layout:
    header  b"FXF1" | u32 chunk size | 8-byte random nonce prefix
    records u8 final flag | u32 ciphertext length | ciphertext (chunk + 16-byte tag)

Record i uses nonce = prefix || u32 i, and its AAD binds the caller's ``aad``, the
stream header, the index i and the final flag, so chunks cannot be reordered, dropped,
swapped between streams, or the stream cut short (the last record must be flagged
final). ``aead`` is any object with encrypt(nonce, data, aad)/decrypt(nonce, data, aad)
and 12-byte nonces, e.g. cryptography's AESGCM: storage plugs its key in.

With a random 64-bit prefix per stream, nonces stay unique per key for far more streams
than a deployment writes (birthday bound ~2^32 streams).

Decrypted bytes reach ``dst`` chunk by chunk, each one authentic, but the stream is only
known complete when decrypt_stream returns; treat ``dst`` as garbage if it raises.
"""
from __future__ import annotations

import os
import struct
from typing import BinaryIO, Protocol

MAGIC = b"FXF1"
DEFAULT_CHUNK = 4 << 20
TAG_SIZE = 16
_HEADER = struct.Struct("<4sI8s")
_RECORD = struct.Struct("<BI")
_MAX_CHUNK = 64 << 20


class Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class FramingError(ValueError):
    """The framed stream is malformed, truncated, or fails authentication."""


def _record_aad(aad: bytes, header: bytes, index: int, final: bool) -> bytes:
    return aad + header + struct.pack("<IB", index, final)


def _read_exact(src: BinaryIO, size: int) -> bytes:
    data = src.read(size)
    if len(data) != size:
        raise FramingError("encrypted stream is truncated")
    return data


def encrypt_stream(aead: Aead, src: BinaryIO, dst: BinaryIO, aad: bytes, chunk_size: int = DEFAULT_CHUNK) -> int:
    """Encrypt everything readable from ``src`` into ``dst``; returns bytes written."""
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise ValueError(f"chunk_size must be in 1..{_MAX_CHUNK}")
    prefix = os.urandom(8)
    header = _HEADER.pack(MAGIC, chunk_size, prefix)
    written = dst.write(header)
    chunk, index = src.read(chunk_size), 0
    while True:
        following = src.read(chunk_size)  # read ahead: the last chunk must be flagged final
        final = not following
        sealed = aead.encrypt(prefix + struct.pack("<I", index), chunk, _record_aad(aad, header, index, final))
        written += dst.write(_RECORD.pack(final, len(sealed)) + sealed)
        if final:
            return written
        chunk, index = following, index + 1


def decrypt_stream(aead: Aead, src: BinaryIO, dst: BinaryIO, aad: bytes) -> int:
    """Decrypt a stream made by encrypt_stream into ``dst``; returns plaintext bytes."""
    header = src.read(_HEADER.size)
    if len(header) != _HEADER.size or header[:4] != MAGIC:
        raise FramingError("not an encrypted index stream (bad magic)")
    _, chunk_size, prefix = _HEADER.unpack(header)
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise FramingError("encrypted stream header is corrupted")
    written, index = 0, 0
    while True:
        final, length = _RECORD.unpack(_read_exact(src, _RECORD.size))
        if final not in (0, 1) or not TAG_SIZE <= length <= chunk_size + TAG_SIZE:
            raise FramingError("encrypted stream record is corrupted")
        sealed = _read_exact(src, length)
        try:
            plain = aead.decrypt(prefix + struct.pack("<I", index), sealed, _record_aad(aad, header, index, bool(final)))
        except Exception as exc:  # the AEAD's own error type (e.g. InvalidTag) is library-specific
            raise FramingError("encrypted stream failed authentication") from exc
        written += dst.write(plain)
        if final:
            if src.read(1):
                raise FramingError("encrypted stream has trailing bytes")
            return written
        index += 1
