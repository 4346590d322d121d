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
``open_decrypted`` gives the same bytes as a readable file instead, so a reader can put
each part where it belongs without a decrypted copy of the whole stream anywhere; it
raises FramingError from a read that meets a bad or missing record.
"""
from __future__ import annotations

import io
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


class _DecryptingReader(io.RawIOBase):
    def __init__(self, aead: Aead, src: BinaryIO, aad: bytes):
        super().__init__()
        header = src.read(_HEADER.size)
        if len(header) != _HEADER.size or header[:4] != MAGIC:
            raise FramingError("not an encrypted index stream (bad magic)")
        _, self._chunk_size, self._prefix = _HEADER.unpack(header)
        if not 0 < self._chunk_size <= _MAX_CHUNK:
            raise FramingError("encrypted stream header is corrupted")
        self._aead, self._src, self._aad, self._header = aead, src, aad, header
        self._index, self._final = 0, False
        self._plain = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._plain:
            if self._final:
                return 0
            self._plain = memoryview(self._next_record())
        size = min(len(buffer), len(self._plain))
        memoryview(buffer).cast("B")[:size] = self._plain[:size]
        self._plain = self._plain[size:]
        return size

    def _next_record(self) -> bytes:
        final, length = _RECORD.unpack(_read_exact(self._src, _RECORD.size))
        if final not in (0, 1) or not TAG_SIZE <= length <= self._chunk_size + TAG_SIZE:
            raise FramingError("encrypted stream record is corrupted")
        sealed = _read_exact(self._src, length)
        aad = _record_aad(self._aad, self._header, self._index, bool(final))
        try:
            plain = self._aead.decrypt(self._prefix + struct.pack("<I", self._index), sealed, aad)
        except Exception as exc:  # the AEAD's own error type (e.g. InvalidTag) is library-specific
            raise FramingError("encrypted stream failed authentication") from exc
        if final and self._src.read(1):
            raise FramingError("encrypted stream has trailing bytes")
        self._index, self._final = self._index + 1, bool(final)
        return plain


def open_decrypted(aead: Aead, src: BinaryIO, aad: bytes) -> BinaryIO:
    """The plaintext of a stream made by encrypt_stream, as a readable binary file."""
    return io.BufferedReader(_DecryptingReader(aead, src, aad), buffer_size=64 << 10)


def decrypt_stream(aead: Aead, src: BinaryIO, dst: BinaryIO, aad: bytes) -> int:
    """Decrypt a stream made by encrypt_stream into ``dst``; returns plaintext bytes."""
    plain, written = _DecryptingReader(aead, src, aad), 0
    buffer = bytearray(DEFAULT_CHUNK)
    while size := plain.readinto(buffer):
        written += dst.write(memoryview(buffer)[:size])
    return written
