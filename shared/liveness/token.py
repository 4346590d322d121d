"""Session tokens: what a device presents as ``Authorization: Bearer <authToken>``.

A token is opaque to its holder: the session id, the session kind and the token's expiry,
sealed with AES-256-GCM under FACE_LIVENESS_TOKEN_KEY (shared.storage.crypto's key ring,
so FACE_LIVENESS_TOKEN_OLD_KEYS still open tokens minted before a rotation). Nobody without
the key can read, forge or alter one; nothing about it is stored (a GET of the session mints
an equivalent token). Revocation is the session's deletion, checked on every use.

Layout before sealing: session UUID (16 bytes) | kind (1 byte) | expiry, Unix seconds (8 bytes).
"""
from __future__ import annotations

import base64
import binascii
import logging
import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from shared.api.auth import Caller, bearer_token
from shared.errors import Unauthorized
from shared.liveness.kinds import KINDS, LIVENESS, WITH_VERIFY, SessionKind
from shared.liveness.records import Session
from shared.storage import crypto

logger = logging.getLogger(__name__)
_AAD = b"face-liveness-session-token"
_LAYOUT = struct.Struct(">16sBq")
_KIND_CODES = {LIVENESS.key: 1, WITH_VERIFY.key: 2}
_KINDS_BY_CODE = {code: KINDS[key] for key, code in _KIND_CODES.items()}
CREDENTIAL_PREFIX = "session:"


@dataclass(frozen=True)
class TokenClaims:
    session_id: str
    kind: SessionKind
    expires: datetime


def mint(session: Session) -> str:
    payload = _LAYOUT.pack(uuid.UUID(session.session_id).bytes, _KIND_CODES[session.kind.key],
                           int(session.token_expires.timestamp()))
    sealed = crypto.encrypt(payload, _AAD, crypto.LIVENESS_TOKEN_KEYS)
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def claims(token: str) -> TokenClaims | None:
    """What an authentic token says; None for anything else (garbage, forged, altered,
    sealed under a key no longer configured)."""
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        session_bytes, kind_code, expires = _LAYOUT.unpack(crypto.decrypt(sealed, _AAD, crypto.LIVENESS_TOKEN_KEYS))
    except (binascii.Error, ValueError, struct.error, crypto.DecryptionError):
        return None
    kind = _KINDS_BY_CODE.get(kind_code)
    if kind is None:
        return None
    return TokenClaims(str(uuid.UUID(bytes=session_bytes)), kind, datetime.fromtimestamp(expires, timezone.utc))


def request_claims(headers: Mapping[str, str]) -> TokenClaims | None:
    token = bearer_token(headers)
    return claims(token) if token else None


def session_authorizer(headers: Mapping[str, str]) -> Caller:
    """The client route's authorizer: an authentic session token, whatever its state (expiry,
    kind, attempts left and revocation are the attempt's to check, so that it can record the
    refusal on the session). The caller has no role, so no other operation admits it."""
    found = request_claims(headers)
    if found is None:
        logger.warning("liveness client route: refused a missing or inauthentic session token")
        raise Unauthorized("Access denied due to an invalid or missing liveness session token.")
    return Caller(frozenset(), CREDENTIAL_PREFIX + found.session_id, subject=found.session_id)
