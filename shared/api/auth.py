"""Who may call what.

Two roles. ADMIN may do everything; RECOGNIZER may only run stateless recognition
(detect, verify, identify, group, find-similar, liveness session use) and nothing that
creates, changes or deletes enrolled data. Callers prove a role with a subscription key
(FACE_ADMIN_KEYS / FACE_RECOGNIZER_KEYS, comma separated) or, in Azure, with an Entra ID
token validated by App Service authentication, which forwards the principal in
X-MS-CLIENT-PRINCIPAL; that header is trusted only when FACE_TRUST_EASYAUTH=true, because
without EasyAuth in front anybody could send it.

An operation may instead declare its own Authorizer (a function of the request headers that
returns the Caller or raises 401/403): the liveness client route accepts a session's bearer
token that way, and no other route knows such tokens, so they are refused everywhere else.
"""
from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.errors import Forbidden, Unauthorized
from shared.settings import env_bool, env_list


class Role(enum.Enum):
    RECOGNIZER = "recognizer"
    ADMIN = "admin"


KEY_HEADER = "Ocp-Apim-Subscription-Key"
PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
APP_ROLES = {"Face.Admin": Role.ADMIN, "Face.Recognizer": Role.RECOGNIZER}
_ROLE_CLAIM_TYPES = {"roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}
_UNAUTHORIZED = ("Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                 "to provide a valid key for an active subscription and use a correct regional "
                 "API endpoint for your resource.")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the roles proven, and a stable name of the credential that proved
    them (for per-credential limits and telemetry). The name never contains the secret:
    a key is named by a short hash (``key:3f2a...``), an Entra ID caller by its object id."""

    roles: frozenset[Role]
    credential: str
    # A credential scoped to one resource (a liveness session token: "session:<id>", no
    # roles) names that resource here; None for keys and principals.
    subject: str | None = None

    @property
    def role(self) -> Role:
        """The strongest role held."""
        return Role.ADMIN if Role.ADMIN in self.roles else Role.RECOGNIZER


Authorizer = Callable[[Mapping[str, str]], Caller]


def role_authorizer(required: Role) -> Authorizer:
    """What @face_operation(role) uses: a subscription key or principal holding ``required``."""
    return lambda headers: authorize(headers, required)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None."""
    scheme, _, token = (headers.get("Authorization") or "").strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def authorize(headers: Mapping[str, str], required: Role) -> Caller:
    """The caller; 401 when it proves no role, 403 when it lacks ``required``."""
    caller = identify_caller(headers)
    if caller is None:
        raise Unauthorized(_UNAUTHORIZED)
    if required not in caller.roles and Role.ADMIN not in caller.roles:
        raise Forbidden("Principal does not have access to API/Operation.")
    return caller


def identify_caller(headers: Mapping[str, str]) -> Caller | None:
    """The caller proven by a subscription key or (behind EasyAuth) an app-role principal;
    None when neither proves a role. A valid key wins over the principal."""
    key = headers.get(KEY_HEADER)
    roles = _key_roles(key)
    if roles:
        return Caller(frozenset(roles), "key:" + hashlib.sha256(key.strip().encode()).hexdigest()[:16])
    if env_bool("FACE_TRUST_EASYAUTH"):
        principal = _principal(headers.get(PRINCIPAL_HEADER))
        roles = _principal_roles(principal)
        if roles:
            return Caller(frozenset(roles), "entra:" + _principal_id(principal))
    return None


def _key_roles(key: str | None) -> list[Role]:
    if not key:
        return []
    presented = key.strip().encode()
    admin = _matches_any(presented, env_list("FACE_ADMIN_KEYS"))
    recognizer = _matches_any(presented, env_list("FACE_RECOGNIZER_KEYS"))
    return [role for role, hit in ((Role.ADMIN, admin), (Role.RECOGNIZER, recognizer)) if hit]


def _matches_any(presented: bytes, keys: list[str]) -> bool:
    """Constant-time per key, and every key is compared (no early exit)."""
    hits = [hmac.compare_digest(presented, key.encode()) for key in keys]
    return any(hits)


_OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")


def _principal(header: str | None) -> dict:
    """The decoded X-MS-CLIENT-PRINCIPAL, or {} when absent or malformed."""
    if not header:
        return {}
    try:
        principal = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        return {}
    return principal if isinstance(principal, dict) else {}


def _claims(principal: dict) -> list[dict]:
    claims = principal.get("claims")
    return [c for c in claims if isinstance(c, dict)] if isinstance(claims, list) else []


def _principal_roles(principal: dict) -> list[Role]:
    role_type = principal.get("role_typ")
    return [APP_ROLES[c["val"]] for c in _claims(principal)
            if (c.get("typ") in _ROLE_CLAIM_TYPES or c.get("typ") == role_type)
            and isinstance(c.get("val"), str) and c.get("val") in APP_ROLES]


def _principal_id(principal: dict) -> str:
    """The caller's object id (an app's service principal or a user), else a hash of the
    whole principal so that two callers never share a name."""
    for claim in _claims(principal):
        if claim.get("typ") in _OBJECT_ID_CLAIMS and isinstance(claim.get("val"), str):
            return claim["val"]
    return hashlib.sha256(json.dumps(principal, sort_keys=True).encode()).hexdigest()[:16]
