"""The two kinds of liveness session, their routes per API version, modes and model versions."""
from __future__ import annotations

from dataclasses import dataclass

GA_VERSIONS = ("v1.2", "v1.3-preview.1")
PREVIEW_VERSIONS = ("v1.1-preview.1", "v1.2-preview.1")
CLIENT_VERSIONS = (*PREVIEW_VERSIONS, *GA_VERSIONS)
PREVIEW_SESSION_IMAGE_VERSIONS = ("v1.2-preview.1",)
DETECT_FROM_SESSION_IMAGE_VERSIONS = ("v1.2-preview.1", "v1.2", "v1.3-preview.1")
SETTINGS_VERSIONS = ("v1.3-preview.1",)  # GET/PATCH /settings, /settings/getClientAssetsAccessToken

PASSIVE, PASSIVE_ACTIVE = "Passive", "PassiveActive"
MODES = (PASSIVE, PASSIVE_ACTIVE)

# Model version names of each API generation. Every name runs the same engine models
# (MiniFASNet V2 + V1SE, see docs/liveness.md); the name is kept and echoed.
GA_MODELS = ("2024-11-15",)
PREVIEW_MODELS = ("2022-10-15-preview.04", "2023-12-20-preview.06")


@dataclass(frozen=True)
class SessionKind:
    key: str  # stored on the session row and sealed into its token
    ga_path: str
    preview_path: str
    client_path: str  # the token-bound route a device calls
    with_verify: bool


LIVENESS = SessionKind("liveness", "detectLiveness-sessions", "detectLiveness/singleModal/sessions",
                       "detectLiveness/singleModal", with_verify=False)
WITH_VERIFY = SessionKind("livenessWithVerify", "detectLivenessWithVerify-sessions",
                          "detectLivenessWithVerify/singleModal/sessions", "detectLivenessWithVerify/singleModal",
                          with_verify=True)
KINDS = {kind.key: kind for kind in (LIVENESS, WITH_VERIFY)}
