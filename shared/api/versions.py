"""Everything that differs between the API versions we serve, decided here and only here.

Served versions: v1.0 (old SDK), v1.1-preview.1, v1.2-preview.1 (new Python SDK default),
v1.2 (GA) and v1.3-preview.1 (v1.2 plus liveness settings and abuse monitoring). Route
handlers ask the ApiVersion object; they never compare version strings.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from shared.errors import NotFound

# Lower-case (v1.1+) spellings of attribute enum values whose v1.0 spelling differs.
_V1_0_SPELLING = {
    "low": "Low", "medium": "Medium", "high": "High",
    "underExposure": "UnderExposure", "goodExposure": "GoodExposure",
    "overExposure": "OverExposure", "headwear": "headWear",
}
_V1_2_ATTRIBUTES = ("headPose", "glasses", "occlusion", "accessories", "blur", "exposure",
                    "noise", "mask", "qualityForRecognition", "age", "smile", "facialHair", "hair")
_V1_0_LEGACY_ATTRIBUTES = ("gender", "emotion", "makeup")


@dataclass(frozen=True)
class ApiVersion:
    name: str
    capitalised_levels: bool  # v1.0 spells levels "Low", "GoodExposure", accessory "headWear"
    identify_default_candidates: int
    legacy_attributes: tuple[str, ...]  # v1.0-only enum names (retired by Azure)
    # PersonDirectory (face-api.md §10): the management routes exist in the previews only; the
    # identify/verify targets (personIds, dynamicPersonGroupId, bare personId) in v1.1+ incl. GA.
    directory_routes: bool = True
    directory_targets: bool = True
    operations_route: bool = True  # GET /operations/{id}; v1.0 has it (snapshots), v1.2 GA not
    # v1.3-preview.1: /settings, the client-assets token, and the liveness session fields
    # (userCorrelationId, expectedClientIpAddress, attempts allowed, abuse monitoring results).
    liveness_settings: bool = False

    def spell(self, value: str) -> str:
        """An attribute enum value in this version's spelling."""
        return _V1_0_SPELLING.get(value, value) if self.capitalised_levels else value

    @property
    def attribute_names(self) -> tuple[str, ...]:
        return _V1_2_ATTRIBUTES + self.legacy_attributes

    def __str__(self) -> str:
        return self.name


V1_0 = ApiVersion("v1.0", capitalised_levels=True, identify_default_candidates=1,
                  legacy_attributes=_V1_0_LEGACY_ATTRIBUTES, directory_routes=False, directory_targets=False)
V1_1_PREVIEW_1 = ApiVersion("v1.1-preview.1", capitalised_levels=False, identify_default_candidates=10,
                            legacy_attributes=())
V1_2_PREVIEW_1 = ApiVersion("v1.2-preview.1", capitalised_levels=False, identify_default_candidates=10,
                            legacy_attributes=())
V1_2 = ApiVersion("v1.2", capitalised_levels=False, identify_default_candidates=10,
                  legacy_attributes=(), directory_routes=False, operations_route=False)

V1_3_PREVIEW_1 = ApiVersion("v1.3-preview.1", capitalised_levels=False, identify_default_candidates=10,
                            legacy_attributes=(), directory_routes=False, operations_route=False,
                            liveness_settings=True)

ALL = (V1_0, V1_1_PREVIEW_1, V1_2_PREVIEW_1, V1_2, V1_3_PREVIEW_1)
_BY_NAME = {v.name.lower(): v for v in ALL}


def names(feature: str) -> tuple[str, ...]:
    """The versions whose ``feature`` flag is set, for a route's ``api_versions``."""
    return tuple(version.name for version in ALL if getattr(version, feature))


def resource_not_found() -> NotFound:
    """What Azure answers for an unknown route or api version."""
    return NotFound("Resource not found", code="404")


def parse(name: str, allowed: Collection[str] | None = None) -> ApiVersion:
    """The version named in the URL; unknown (or not offered by this route) -> 404."""
    version = _BY_NAME.get(name.lower())
    if version is None or (allowed is not None and version.name not in allowed):
        raise resource_not_found()
    return version
