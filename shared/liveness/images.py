"""Session images: the chosen frame of an attempt, kept only when the session's creator set
enableSessionImage, encrypted (AES-256-GCM under the template key, bound to the blob name)
in Blob Storage, and deleted with the session.

Blob name: ``<sessionId>/<sessionImageId>``. A sessionImageId is opaque to callers; it is the
session's UUID and 16 random bytes, base64url, so the image is found (and its session's
state checked) from the id alone, and a session's images are one prefix to delete.
"""
from __future__ import annotations

import base64
import binascii
import io
import secrets
import uuid
from collections.abc import Iterator

from shared.storage import crypto
from shared.storage.blobs import BlobStore

CONTAINER = "livenessimages"


def store() -> BlobStore:
    return BlobStore(CONTAINER)


def new_image_id(session_id: str) -> str:
    raw = uuid.UUID(session_id).bytes + secrets.token_bytes(16)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def session_of(image_id: str) -> str | None:
    """The session an image id belongs to, or None when it is no image id of ours."""
    try:
        raw = base64.urlsafe_b64decode(image_id + "=" * (-len(image_id) % 4))
    except (binascii.Error, ValueError):
        return None
    return str(uuid.UUID(bytes=raw[:16])) if len(raw) == 32 else None


def _blob(session_id: str, image_id: str) -> str:
    return f"{session_id}/{image_id}"


def aad(blob: str) -> bytes:
    return f"liveness-session-image\x1f{blob}".encode()


def put(session_id: str, image_id: str, image: bytes) -> None:
    blob = _blob(session_id, image_id)
    store().put(blob, crypto.encrypt(image, aad(blob)))


def get(session_id: str, image_id: str) -> bytes | None:
    blob = _blob(session_id, image_id)
    sealed = io.BytesIO()
    if not store().get_into(blob, sealed):
        return None
    return crypto.decrypt(sealed.getvalue(), aad(blob))


def delete(session_id: str, image_id: str) -> None:
    store().delete(_blob(session_id, image_id))


def delete_all(session_id: str) -> int:
    blobs = store()
    names = list(blobs.names(f"{session_id}/"))
    for name in names:
        blobs.delete(name)
    return len(names)


def session_ids() -> Iterator[str]:
    """Sessions that have images stored (each once, in name order)."""
    previous = None
    for name in store().names():
        session_id = name.split("/", 1)[0]
        if session_id != previous:
            previous = session_id
            yield session_id
