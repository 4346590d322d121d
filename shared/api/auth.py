"""Who may call what.

Two roles. ADMIN may do everything; RECOGNIZER may only run stateless recognition
(detect, verify, identify, group, find-similar, liveness session use) and nothing that
creates, changes or deletes enrolled data. Callers prove a role with a subscription key
(FACE_ADMIN_KEYS / FACE_RECOGNIZER_KEYS, comma separated) or, in Azure, with an Entra ID
token validated by App Service authentication, which forwards the principal in
X-MS-CLIENT-PRINCIPAL; that header is trusted only when FACE_TRUST_EASYAUTH=true, because
without EasyAuth in front anybody could send it.
"""
from __future__ import annotations

import base64
import binascii
import enum
import hmac
import json
from collections.abc import Mapping

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


def authorize(headers: Mapping[str, str], required: Role) -> frozenset[Role]:
    """The caller's roles; 401 when it proves none, 403 when it lacks ``required``."""
    roles = caller_roles(headers)
    if not roles:
        raise Unauthorized(_UNAUTHORIZED)
    if required not in roles and Role.ADMIN not in roles:
        raise Forbidden("Principal does not have access to API/Operation.")
    return roles


def caller_roles(headers: Mapping[str, str]) -> frozenset[Role]:
    roles = set(_key_roles(headers.get(KEY_HEADER)))
    if env_bool("FACE_TRUST_EASYAUTH"):
        roles.update(_principal_roles(headers.get(PRINCIPAL_HEADER)))
    return frozenset(roles)


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


def _principal_roles(header: str | None) -> list[Role]:
    if not header:
        return []
    try:
        principal = json.loads(base64.b64decode(header, validate=True))
        claims = principal.get("claims") or []
        role_type = principal.get("role_typ")
        return [APP_ROLES[c["val"]] for c in claims
                if (c.get("typ") in _ROLE_CLAIM_TYPES or c.get("typ") == role_type)
                and c.get("val") in APP_ROLES]
    except (binascii.Error, ValueError, AttributeError, TypeError, KeyError):
        return []
