"""Per-tier gallery limits (face-api.md §6-9, §13), overridable one by one.

``FACE_TIER`` picks the tier (S0 default, or F0); each limit can be overridden with
``FACE_QUOTA_<NAME>`` (e.g. ``FACE_QUOTA_FACES_PER_PERSON=3``), which is how tests keep
limit checks fast.
"""
from __future__ import annotations

from shared.galleries.kinds import FACE_LIST, LARGE_FACE_LIST, LARGE_PERSON_GROUP, PERSON_GROUP, ContainerKind
from shared.settings import env_int, env_str

DIRECTORY = "persondirectory"
# (kind, limit name) -> (S0, F0). "containers" counts per subscription, "persons_total" counts
# persons in all containers of the kind, "persons"/"faces" count inside one container. The
# PersonDirectory (one per subscription) counts its persons and its dynamic person groups;
# Azure documents a directory of up to 20 million identities, the F0 figures are ours.
_TIERS: dict[tuple[str, str], tuple[int, int]] = {
    (FACE_LIST.key, "containers"): (64, 64),
    (FACE_LIST.key, "faces"): (1_000, 1_000),
    (LARGE_FACE_LIST.key, "containers"): (1_000_000, 64),
    (LARGE_FACE_LIST.key, "faces"): (1_000_000, 1_000),
    (PERSON_GROUP.key, "containers"): (1_000_000, 1_000),
    (PERSON_GROUP.key, "persons"): (10_000, 1_000),
    (PERSON_GROUP.key, "persons_total"): (100_000_000, 1_000),
    (LARGE_PERSON_GROUP.key, "containers"): (1_000_000, 1_000),
    (LARGE_PERSON_GROUP.key, "persons"): (1_000_000, 1_000),
    (LARGE_PERSON_GROUP.key, "persons_total"): (1_000_000_000, 1_000),
    (DIRECTORY, "persons"): (20_000_000, 1_000),
    (DIRECTORY, "dynamicpersongroups"): (1_000_000, 1_000),
}
_FACES_PER_PERSON = 248


def tier() -> str:
    value = env_str("FACE_TIER", "S0").upper()
    return "F0" if value == "F0" else "S0"


def limit(kind: ContainerKind, name: str) -> int:
    """The limit ``name`` for ``kind``; see _TIERS for the names."""
    return _limit(kind.key, name)


def directory_limit(name: str) -> int:
    """The PersonDirectory's limit ``name``: "persons" or "dynamicpersongroups"."""
    return _limit(DIRECTORY, name)


def _limit(key: str, name: str) -> int:
    s0, f0 = _TIERS[(key, name)]
    return env_int(f"FACE_QUOTA_{key.upper()}_{name.upper()}", f0 if tier() == "F0" else s0)


def faces_per_person() -> int:
    return env_int("FACE_QUOTA_FACES_PER_PERSON", _FACES_PER_PERSON)

