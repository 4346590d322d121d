from __future__ import annotations

import io
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.index import FramingError, decrypt_stream, encrypt_stream, open_decrypted
from shared.index.framing import _HEADER, _RECORD, TAG_SIZE

AAD = b"container=lfl-1;snapshot=s-0001"


@pytest.fixture
def aead() -> AESGCM:
    return AESGCM(AESGCM.generate_key(bit_length=256))


def _seal(aead, plain: bytes, chunk: int = 64) -> bytes:
    out = io.BytesIO()
    written = encrypt_stream(aead, io.BytesIO(plain), out, AAD, chunk_size=chunk)
    assert written == len(out.getvalue())
    return out.getvalue()


def _open(aead, sealed: bytes, aad: bytes = AAD) -> bytes:
    out = io.BytesIO()
    assert decrypt_stream(aead, io.BytesIO(sealed), out, aad) == len(out.getvalue())
    return out.getvalue()


@pytest.mark.parametrize("size", [0, 1, 63, 64, 65, 128, 1000])
def test_round_trip(aead, size):
    plain = os.urandom(size)
    sealed = _seal(aead, plain)
    if size >= 16:  # shorter strings can occur in ciphertext by chance
        assert plain[:16] not in sealed
    assert _open(aead, sealed) == plain


def test_same_plaintext_encrypts_differently(aead):
    assert _seal(aead, b"x" * 100) != _seal(aead, b"x" * 100)


def test_any_flipped_byte_fails(aead):
    sealed = _seal(aead, os.urandom(200))
    for where in range(0, len(sealed), 7):
        tampered = bytearray(sealed)
        tampered[where] ^= 0x01
        with pytest.raises(FramingError):
            _open(aead, bytes(tampered))


def test_wrong_aad_or_key_fails(aead):
    sealed = _seal(aead, b"template bytes" * 20)
    with pytest.raises(FramingError, match="authentication"):
        _open(aead, sealed, aad=b"container=other")
    with pytest.raises(FramingError, match="authentication"):
        _open(AESGCM(AESGCM.generate_key(bit_length=256)), sealed)


def _records(sealed: bytes) -> tuple[bytes, list[bytes]]:
    header, rest, records = sealed[: _HEADER.size], sealed[_HEADER.size:], []
    while rest:
        _, length = _RECORD.unpack_from(rest)
        records.append(rest[: _RECORD.size + length])
        rest = rest[_RECORD.size + length:]
    return header, records


def test_dropped_reordered_or_truncated_records_fail(aead):
    sealed = _seal(aead, os.urandom(64 * 3 + 5))
    header, records = _records(sealed)
    assert len(records) == 4 and len(records[0]) == _RECORD.size + 64 + TAG_SIZE
    for forged in (header + b"".join(records[:-1]),  # cut at a record boundary
                   header + records[1] + records[0] + b"".join(records[2:]),
                   header + b"".join(records[:2] + records[3:]),
                   sealed[:-1],
                   sealed + b"\0"):
        with pytest.raises(FramingError):
            _open(aead, forged)


def test_records_from_another_stream_fail(aead):
    header_a, records_a = _records(_seal(aead, os.urandom(100)))
    _, records_b = _records(_seal(aead, os.urandom(100)))
    with pytest.raises(FramingError, match="authentication"):
        _open(aead, header_a + records_a[0] + records_b[1])


def test_not_a_stream(aead):
    with pytest.raises(FramingError, match="magic"):
        _open(aead, b"FACEIDX1 plain snapshot")


def test_open_decrypted_reads_the_plaintext_in_any_read_sizes(aead):
    plain = os.urandom(1000)
    reader = open_decrypted(aead, io.BytesIO(_seal(aead, plain)), AAD)
    parts = [reader.read(size) for size in (1, 7, 64, 300, 1000)]
    assert b"".join(parts) == plain and reader.read(1) == b""


@pytest.mark.parametrize("damage", ["truncate", "trailing", "flip"])
def test_open_decrypted_raises_on_the_read_that_meets_damage(aead, damage):
    sealed = bytearray(_seal(aead, os.urandom(500)))
    if damage == "truncate":
        sealed = sealed[:-TAG_SIZE - 20]
    elif damage == "trailing":
        sealed += b"\0"
    else:
        sealed[len(sealed) // 2] ^= 1
    reader = open_decrypted(aead, io.BytesIO(bytes(sealed)), AAD)
    with pytest.raises(FramingError):
        reader.read()
