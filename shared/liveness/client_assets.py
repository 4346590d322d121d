"""Client-assets access tokens: what `GET /settings/getClientAssetsAccessToken` hands out and
what the capture page presents to fetch its assets (the in-browser face detector and its
runtime) from `/liveness/assets/...`.

A token is the purpose and an expiry, sealed with AES-256-GCM under FACE_LIVENESS_TOKEN_KEY
(the session tokens' key ring, under another associated-data label, so neither kind of token
opens as the other). Nothing is stored: the token is valid until its expiry, like Azure's.
"""
from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared import clock
from shared.settings import env_int
from shared.storage import crypto

_AAD = b"face-client-assets-token"
_LAYOUT = struct.Struct(">q")  # expiry, Unix seconds


@dataclass(frozen=True)
class AccessToken:
    token: str
    expiry: datetime

    @property
    def base64_token(self) -> str:
        return base64.b64encode(self.token.encode("ascii")).decode("ascii")


def lifetime() -> timedelta:
    return timedelta(seconds=min(max(env_int("FACE_CLIENT_ASSETS_TOKEN_SECONDS", 3600), 60), 86400))


def mint() -> AccessToken:
    expiry = (clock.now() + lifetime()).replace(microsecond=0)
    sealed = crypto.encrypt(_LAYOUT.pack(int(expiry.timestamp())), _AAD, crypto.LIVENESS_TOKEN_KEYS)
    return AccessToken(base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii"), expiry)


def valid(token: str) -> bool:
    """True for an authentic token (ours, unaltered, under a configured key) not yet expired.
    Accepts the token as handed out or its base64 form."""
    for candidate in (token, _unwrap_base64(token)):
        expiry = _expiry(candidate) if candidate else None
        if expiry is not None:
            return clock.now() < expiry
    return False


def _expiry(token: str) -> datetime | None:
    try:
        sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        (seconds,) = _LAYOUT.unpack(crypto.decrypt(sealed, _AAD, crypto.LIVENESS_TOKEN_KEYS))
    except (binascii.Error, ValueError, struct.error, crypto.DecryptionError):
        return None
    return datetime.fromtimestamp(seconds, timezone.utc)


def _unwrap_base64(token: str) -> str | None:
    try:
        return base64.b64decode(token, validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
