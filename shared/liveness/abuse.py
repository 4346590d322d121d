"""Abuse monitoring of liveness attempts (v1.3-preview.1, while the account setting is on).

Each attempt of a monitored session that finds a face keeps one *observation*: the chosen
face's template (recognition_04's embedder, encrypted and bound to its row like every
template), when it was made, pseudonyms of the session's user and device ids, the client
address, and the attempt's session image id. Observations are one Table partition per
session (deleted with the session) and expire 48 hours after they were made (the sweep
deletes them; reads ignore them from that moment). No API returns a template.

A new observation is checked against every observation of the last 48 hours:
  * one face, many accounts: the same face (calibrated confidence at least
    FACE_LIVENESS_ABUSE_MATCH_CONFIDENCE, default 0.65) seen under another userCorrelationId;
  * a fraud farm: FACE_LIVENESS_ABUSE_FARM_FACES (default 5, 0 = off) or more different
    faces from one device or one client address within FACE_LIVENESS_ABUSE_FARM_WINDOW_SECONDS
    (default 600) of each other.
The observations that made a check fire are the attempt's otherFlaggedSessions.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from shared import clock
from shared.engine.engine import recognition_embedders
from shared.engine.matching import confidence, distances
from shared.engine.types import Template
from shared.liveness.devices import pseudonym
from shared.liveness.records import EXPIRES_AT
from shared.liveness.verify import RECOGNITION_MODEL
from shared.settings import env_float, env_int
from shared.storage import crypto
from shared.storage.tables import Table
from shared.storage.templates import row_location, template_columns, template_from_columns

logger = logging.getLogger(__name__)
TABLE = "livenessabuse"
LIFETIME = timedelta(hours=48)
MADE_AT = "MadeAt"
# Stricter than Azure's same-person point (0.5): a flag accuses someone. On the dev photos
# (61 faces, 134 same-person and 1,696 different-person pairs) 0.65 keeps every same-person
# pair with SFace and dlib_sface, and lets 0 (SFace) / 1 (dlib_sface) different pair through,
# against 9 / 7 at 0.5 (docs/liveness.md).
DEFAULT_MATCH_CONFIDENCE = 0.65


@dataclass(frozen=True)
class Observation:
    session_id: str
    attempt_id: int
    made: datetime
    template: Template
    user: str | None  # pseudonym of the userCorrelationId
    device: str | None  # pseudonym of the deviceCorrelationId
    client_ip: str | None
    session_image_id: str | None

    @property
    def reference(self) -> dict:
        """The attempt as otherFlaggedSessions lists it."""
        found = {"sessionId": self.session_id, "attemptId": self.attempt_id}
        if self.session_image_id:
            found["sessionImageId"] = self.session_image_id
        return found


def embedder() -> str:
    """The embedder of observations: whatever serves recognition_04 (FACE_RECOGNITION_EMBEDDERS)."""
    return recognition_embedders()[RECOGNITION_MODEL]


def observe(session_id: str, attempt_id: int, template: Template, user_id: str | None, device_id: str | None,
            client_ip: str | None, session_image_id: str | None) -> Observation:
    return Observation(session_id, attempt_id, clock.now(), template, pseudonym(user_id) if user_id else None,
                       pseudonym(device_id) if device_id else None, client_ip, session_image_id)


def flagged(new: Observation, earlier: list[Observation]) -> list[Observation]:
    """The earlier observations of other sessions that make ``new`` abuse, oldest first."""
    found = {(o.session_id, o.attempt_id): o for o in (*_same_face_other_user(new, earlier), *_farm(new, earlier))
             if o.session_id != new.session_id}
    return sorted(found.values(), key=lambda o: o.made)


def _same_faces(new: Observation, candidates: list[Observation]) -> list[Observation]:
    """The candidates showing the same face as ``new``, scored in one pass (a check may meet
    thousands). Templates of another embedder (the default changed since) are not comparable."""
    comparable = [o for o in candidates if _model(o.template) == _model(new.template)]
    if not comparable:
        return []
    gallery = np.stack([o.template.vector for o in comparable])
    scores = np.atleast_1d(confidence(distances(new.template.vector, gallery), new.template.embedder))
    threshold = env_float("FACE_LIVENESS_ABUSE_MATCH_CONFIDENCE", DEFAULT_MATCH_CONFIDENCE)
    return [o for o, score in zip(comparable, scores) if score >= threshold]


def _model(template: Template) -> tuple[str, str, str]:
    return template.embedder, template.embedder_version, template.recognition_model


def _same_face_other_user(new: Observation, earlier: list[Observation]) -> list[Observation]:
    if new.user is None:
        return []
    return _same_faces(new, [o for o in earlier if o.user is not None and o.user != new.user])


def _farm(new: Observation, earlier: list[Observation]) -> list[Observation]:
    limit = env_int("FACE_LIVENESS_ABUSE_FARM_FACES", 5)
    window = timedelta(seconds=env_int("FACE_LIVENESS_ABUSE_FARM_WINDOW_SECONDS", 600))
    if limit <= 0:
        return []
    near = [o for o in earlier if abs(new.made - o.made) <= window
            and ((new.device is not None and o.device == new.device)
                 or (new.client_ip is not None and o.client_ip == new.client_ip))]
    return near if _distinct_faces([*near, new]) >= limit else []


def _distinct_faces(observations: list[Observation]) -> int:
    """How many different people: each face joins the first group whose first face it matches."""
    groups: list[Observation] = []
    for observation in observations:
        if not _same_faces(observation, groups):
            groups.append(observation)
    return len(groups)


# storage ------------------------------------------------------------------------------------

def _row_key(attempt_id: int) -> str:
    return f"{attempt_id:06d}"


def keep(observation: Observation) -> None:
    table = Table(TABLE)
    row_key = _row_key(observation.attempt_id)
    row = {"PartitionKey": observation.session_id, "RowKey": row_key, MADE_AT: observation.made,
           EXPIRES_AT: observation.made + LIFETIME,
           **template_columns(observation.template, row_location(table.name, observation.session_id, row_key))}
    optional = {"UserKey": observation.user, "DeviceKey": observation.device, "ClientIp": observation.client_ip,
                "SessionImageId": observation.session_image_id}
    table.upsert(row | {name: value for name, value in optional.items() if value is not None})


def recent() -> list[Observation]:
    """Every observation not yet expired (the last 48 hours), oldest first."""
    table = Table(TABLE)
    found = []
    for row in table.query(f"{EXPIRES_AT} gt @now", {"now": clock.now()}):
        try:
            template = template_from_columns(row, row_location(table.name, row["PartitionKey"], row["RowKey"]))
        except crypto.DecryptionError:
            logger.warning("abuse monitoring: an observation of session %s does not decrypt", row["PartitionKey"])
            continue
        found.append(Observation(row["PartitionKey"], int(row["RowKey"]), row[MADE_AT], template,
                                 row.get("UserKey"), row.get("DeviceKey"), row.get("ClientIp"),
                                 row.get("SessionImageId")))
    return sorted(found, key=lambda o: o.made)


def delete_session(session_id: str) -> int:
    table = Table(TABLE)
    return table.delete_rows(session_id, [row["RowKey"] for row in table.partition(session_id, ["RowKey"])])


def delete_all() -> int:
    """Every observation (monitoring was turned off)."""
    return Table(TABLE).delete_matching("PartitionKey ge @first", {"first": ""})


def sweep(monitoring_on: bool, session_exists: Callable[[str], bool]) -> int:
    """Expired observations, those of sessions that no longer exist, and all of them when
    monitoring is off (catching one an attempt wrote while another instance turned it off)."""
    if not monitoring_on:
        return delete_all()
    table = Table(TABLE)
    removed = table.delete_matching(f"{EXPIRES_AT} le @now", {"now": clock.now()})
    stored = {row["PartitionKey"] for row in table.query("PartitionKey ge @first", {"first": ""},
                                                          select=["PartitionKey"])}
    for session_id in stored:
        if not session_exists(session_id):
            removed += delete_session(session_id)
    return removed
