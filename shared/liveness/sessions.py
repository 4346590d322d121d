"""Creating, reading, listing and deleting liveness sessions, and their session images."""
from __future__ import annotations

import uuid
from datetime import timedelta

from shared import clock
from shared.api.params import parse_uuid
from shared.errors import BadArgument, FaceApiError, NotFound
from shared.liveness import abuse, images, monitoring
from shared.liveness.challenge import new_challenge
from shared.liveness.kinds import PASSIVE_ACTIVE, SessionKind
from shared.liveness.records import Entry, Session
from shared.liveness.render import settled
from shared.liveness.requests import SessionSpec
from shared.liveness.store import SessionStore
from shared.liveness.verify import verify_reference
from shared.settings import env_int

DEFAULT_RETENTION_SECONDS = 48 * 3600


def session_not_found() -> NotFound:
    return NotFound("Session is not found.", code="SessionNotFound")


def image_not_found() -> NotFound:
    return NotFound("Session image is not found.", code="SessionImageNotFound")


def create(kind: SessionKind, spec: SessionSpec) -> Session:
    verify = None
    if kind.with_verify:
        verify = verify_reference(spec.verify_image, spec.return_verify_image_hash, spec.verify_threshold)
    session = Session(
        session_id=str(uuid.uuid4()), kind=kind, mode=spec.mode, created=clock.now(), token_ttl=spec.token_ttl,
        retention=timedelta(seconds=env_int("FACE_LIVENESS_RETENTION_SECONDS", DEFAULT_RETENTION_SECONDS)),
        device_correlation_id=spec.device_correlation_id, device_id_from_client=spec.device_id_from_client,
        enable_session_image=spec.enable_session_image, send_results_to_client=spec.send_results_to_client,
        model_version=spec.model_version, challenge=new_challenge() if spec.mode == PASSIVE_ACTIVE else (),
        verify=verify, attempts_allowed=spec.attempts_allowed, client_information=spec.v1_3,
        abuse_monitoring=spec.v1_3 and monitoring.enabled(), user_correlation_id=spec.user_correlation_id,
        user_id_from_client=spec.user_id_from_client, expected_client_ip=spec.expected_client_ip,
    )
    SessionStore().insert(session)
    return session


def get(kind: SessionKind, session_id: str) -> Session:
    """A live session of this kind; 404 SessionNotFound otherwise (also for a malformed id)."""
    try:
        canonical = parse_uuid("sessionId", session_id)
    except FaceApiError:
        raise session_not_found() from None
    session = SessionStore().get(canonical)
    if session is None or session.kind != kind:
        raise session_not_found()
    return session


def entries(session: Session, after: int = 0, top: int | None = None) -> list[Entry]:
    return settled(SessionStore().entries(session.session_id, after, top))


def listed(kind: SessionKind, start: str, top: int) -> list[Session]:
    return SessionStore().list(kind, start, top)


def delete(kind: SessionKind, session_id: str) -> None:
    purge(get(kind, session_id).session_id)


def purge(session_id: str) -> None:
    """Delete everything of a session: its row (revoking the token), entries, images and
    abuse-monitoring observations."""
    SessionStore().delete(session_id)
    images.delete_all(session_id)
    abuse.delete_session(session_id)


def detect_session_image(image_id: str) -> bytes:
    """Detect's {"sessionImageId"}: a malformed id is a bad argument, an unknown one 404."""
    if images.session_of(image_id) is None:
        raise BadArgument("Invalid sessionImageId.")
    return session_image(image_id)


def session_image(image_id: str) -> bytes:
    session_id = images.session_of(image_id)
    if session_id is None or SessionStore().get(session_id) is None:
        raise image_not_found()
    image = images.get(session_id, image_id)
    if image is None:
        raise image_not_found()
    return image
