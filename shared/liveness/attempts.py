"""The client route: what a device does with its session token.

Order of checks for an attempt (POST), each refusal recorded on the session as an entry
(GA attempt / preview audit entry) with the digest of what was received, except where there
is no session left to record on (deleted or swept: 401, logged):
  token of another kind -> 401; token expired -> 401; request from outside the session's
  expectedClientIpAddress -> 403; body over the limits -> 413; malformed body -> 400; device
  over its rate -> 429 (Retry-After); all the session's attempts used -> 401.
An admitted attempt is recorded as Running at once, analysed, and finished with its result
(or error) in a transaction that requires the session row: if the session was deleted
meanwhile, nothing is written, its session image is removed again, and the device gets 401.

The digest (sha256 of the request body as received, upper-case hex) is returned in the
X-Liveness-Digest header of every answer and in the body of a 200, so the app can compare it
with what its device sent.

Sessions created under v1.3-preview.1 also record the client's address on every request
(shared.api.client_address), and, while abuse monitoring is on, keep an observation of each
attempt that found a face and check it against the last 48 hours (shared.liveness.abuse).
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import replace

import azure.functions as func

from shared import clock
from shared.api.client_address import client_address, contains, parse_address, parse_network
from shared.api.handler import Call
from shared.api.render import json_response
from shared.engine.types import Template
from shared.errors import BadArgument, FaceApiError, Forbidden, Unauthorized
from shared.liveness import abuse, decision, devices, images, monitoring, render, token
from shared.liveness.frames import FrameView
from shared.liveness.kinds import PASSIVE_ACTIVE, SessionKind
from shared.liveness.payload import MAX_BODY_BYTES, MAX_FRAMES, Payload, parse_payload
from shared.liveness.records import FAILED, RUNNING, Entry, Outcome, RequestInfo, Session
from shared.liveness.store import SessionGone, SessionStore
from shared.liveness.verify import RECOGNITION_MODEL, match

logger = logging.getLogger(__name__)
DIGEST_HEADER = "X-Liveness-Digest"
CLIENT_REQUEST_ID_HEADER = "x-ms-client-request-id"


class _WithDigest(FaceApiError):
    """An error answered with the request's digest header beside its own headers."""

    def __init__(self, error: FaceApiError, digest: str):
        super().__init__(error.message, code=error.code, status=error.status)
        self._headers = {**error.headers(), DIGEST_HEADER: digest}

    def headers(self) -> dict[str, str]:
        return self._headers


def _revoked() -> Unauthorized:
    return Unauthorized("The liveness session of this token no longer exists.")


def _check_token(session: Session | None, claims: token.TokenClaims, kind: SessionKind) -> Session:
    if session is None:
        logger.warning("liveness client route: token of a deleted session %s", claims.session_id)
        raise _revoked()
    if claims.kind != kind:
        raise Unauthorized(f"This token belongs to a {claims.kind.key} session; it cannot be used on {kind.client_path}.")
    if clock.now() >= claims.expires:
        raise Unauthorized("The liveness session token has expired.")
    return session


def _check_client_address(session: Session, address: str | None) -> None:
    """A session with expectedClientIpAddress serves requests from that address or block
    only; an unknown address (see shared.api.client_address) is not in any block."""
    if session.expected_client_ip is None:
        return
    network = parse_network(session.expected_client_ip)
    parsed = parse_address(address) if address else None
    if network is None or parsed is None or not contains(network, parsed):
        raise Forbidden("The client IP address is not the one expected for this liveness session.")


def _address(call: Call) -> str | None:
    found = client_address(call.req, call.req.headers)
    return None if found is None else str(found)


def session_info(call: Call, kind: SessionKind) -> dict:
    """GET on the client route: what the capture page needs to guide the user."""
    claims = token.request_claims(call.req.headers)
    session = _check_token(SessionStore().get(claims.session_id), claims, kind)
    _check_client_address(session, _address(call))
    return {"livenessOperationMode": session.mode, "challenge": list(session.challenge),
            "attemptsRemaining": max(0, session.attempts_allowed - session.admitted),
            "tokenExpiresInSeconds": int((claims.expires - clock.now()).total_seconds()),
            "deviceCorrelationIdSetInClient": session.device_id_from_client,
            "userCorrelationIdSetInClient": session.user_id_from_client,
            "sendResultsToClient": session.send_results_to_client, "withVerify": kind.with_verify,
            "maxFrames": MAX_FRAMES, "maxBodyBytes": MAX_BODY_BYTES}


def attempt(call: Call, kind: SessionKind) -> func.HttpResponse:
    started = time.monotonic()
    body = call.req.get_body()
    digest = hashlib.sha256(body).hexdigest().upper()
    try:
        return json_response(_attempt(call, kind, body, digest, started), headers={DIGEST_HEADER: digest})
    except SessionGone:
        raise _WithDigest(_revoked(), digest) from None
    except FaceApiError as err:
        raise _WithDigest(err, digest) from None


def _attempt(call: Call, kind: SessionKind, body: bytes, digest: str, started: float) -> dict:
    store = SessionStore()
    claims = token.request_claims(call.req.headers)
    address = _address(call)
    session = store.get(claims.session_id)
    recorded_ip = address if session is not None and session.client_information else None
    request = _request_info(call, len(body), recorded_ip)
    try:
        session = _check_token(session, claims, kind)
        _check_client_address(session, address)
        payload = parse_payload(call.req.headers, body)
        _check_device_id(session, payload)
        devices.check_and_count(payload.device_correlation_id or session.device_correlation_id)
        session, entry = store.admit(session, lambda current: _admitted_entry(current, request, digest))
    except FaceApiError as refusal:
        if session is not None:
            _record_refusal(store, session, request, digest, refusal, started)
        raise
    return _run(store, session, entry, payload, started)


def _check_device_id(session: Session, payload: Payload) -> None:
    checked = [("deviceCorrelationId", session.device_id_from_client, payload.device_correlation_id)]
    if session.client_information:  # v1.3's userCorrelationId (older sessions ignore it)
        checked.append(("userCorrelationId", session.user_id_from_client, payload.user_correlation_id))
    for name, from_client, sent in checked:
        if from_client and sent is None:
            raise BadArgument(f"metadata.{name} is required: this session lets the client set it.")
        if not from_client and sent is not None:
            raise BadArgument(f"metadata.{name} is not allowed: the session already has one.")


def _admitted_entry(session: Session, request: RequestInfo, digest: str) -> Entry:
    if session.admitted >= session.attempts_allowed:
        raise Unauthorized(f"This liveness session token has been used for all {session.attempts_allowed} "
                           "attempts.")
    return Entry(session.entries + 1, admitted=True, status=RUNNING, request=request, digest=digest)


def _record_refusal(store: SessionStore, session: Session, request: RequestInfo, digest: str,
                    refusal: FaceApiError, started: float) -> None:
    def refused(current: Session) -> Entry:
        return Entry(current.entries + 1, admitted=False, status=FAILED, request=request, digest=digest,
                     status_code=refusal.status, latency_ms=_elapsed_ms(started),
                     error=(refusal.code, refusal.message))

    try:
        store.record(session, refused)
    except (SessionGone, FaceApiError):
        logger.warning("liveness: could not record a refused request on session %s", session.session_id)


def _run(store: SessionStore, session: Session, entry: Entry, payload: Payload, started: float) -> dict:
    image_id = observation = None
    try:
        outcome, chosen, templates = _analyse(session, payload)
        image_id = outcome.session_image_id
        observation, flagged = _abuse_check(session, entry, payload, chosen, templates, image_id)
        if observation is not None:
            outcome = replace(outcome, abuse_others=[found.reference for found in flagged])
        finished = entry.finished(200, _elapsed_ms(started), outcome)
    except decision.AttemptError as failed:
        finished = entry.finished(200, _elapsed_ms(started), error=(failed.code, failed.message))
    except FaceApiError as err:  # a frame that does not decode
        store.finish(session, entry.finished(err.status, _elapsed_ms(started), error=(err.code, err.message)))
        raise
    except Exception:
        store.finish(session, entry.finished(500, _elapsed_ms(started), error=("InternalServerError", "Analysis failed.")))
        raise
    try:
        store.finish(session, finished)
    except SessionGone:
        if image_id is not None:
            images.delete(session.session_id, image_id)
        raise
    if observation is not None:
        _keep_observation(store, observation, flagged)
    return render.client_result(session, finished, session.attempts_allowed - session.admitted)


def _abuse_check(session: Session, entry: Entry, payload: Payload, chosen: FrameView, templates: dict[str, Template],
                 image_id: str | None) -> tuple[abuse.Observation | None, list[abuse.Observation]]:
    """The attempt's observation and the earlier ones it flags; (None, []) when the session
    is not monitored or monitoring has been turned off since it was created."""
    if not session.abuse_monitoring or not monitoring.enabled():
        return None, []
    embedder = abuse.embedder()
    template = templates.get(embedder) or chosen.template(embedder, RECOGNITION_MODEL)
    observation = abuse.observe(session.session_id, entry.entry_id, template,
                                payload.user_correlation_id or session.user_correlation_id,
                                payload.device_correlation_id or session.device_correlation_id,
                                entry.request.client_ip, image_id)
    return observation, abuse.flagged(observation, abuse.recent())


def _keep_observation(store: SessionStore, observation: abuse.Observation, flagged: list[abuse.Observation]) -> None:
    """Keep the observation for later attempts and flag the earlier ones it matched. Read the
    setting again, uncached: another instance may have turned monitoring off (and deleted
    every observation) while this attempt ran; then this one goes too."""
    abuse.keep(observation)
    if not monitoring.enabled(fresh=True):
        abuse.delete_session(observation.session_id)
        return
    for earlier in flagged:
        store.flag(earlier.session_id, earlier.attempt_id, observation.reference)


def _analyse(session: Session, payload: Payload) -> tuple[Outcome, FrameView, dict[str, Template]]:
    """The attempt's outcome, its chosen frame, and the chosen face's templates made so far
    (by embedder), which abuse monitoring reuses rather than embedding the face twice."""
    views = [FrameView(frame) for frame in payload.frames]
    if session.mode == PASSIVE_ACTIVE:
        decided = decision.active(views, session.challenge)
    else:
        decided = decision.passive(views)
    chosen = decided.frame
    match_confidence = is_identical = None
    templates: dict[str, Template] = {}
    if session.verify is not None:
        template = chosen.template(session.verify.template.embedder, RECOGNITION_MODEL)
        templates[template.embedder] = template
        match_confidence, is_identical = match(session.verify, template)
    image_id = None
    if session.enable_session_image:
        image_id = images.new_image_id(session.session_id)
        images.put(session.session_id, image_id, chosen.frame.data)
    outcome = Outcome(decision=decided.decision, rectangle=chosen.face.rectangle, frame_index=chosen.frame.index,
                      frame_offset_ms=chosen.frame.offset_ms, match_confidence=match_confidence,
                      is_identical=is_identical, session_image_id=image_id)
    return outcome, chosen, templates


def _request_info(call: Call, length: int, client_ip: str | None) -> RequestInfo:
    headers = call.req.headers
    url = call.req.url
    path = url[url.index("/face/"):] if "/face/" in url else url
    return RequestInfo(request_id=call.request_id, client_request_id=headers.get(CLIENT_REQUEST_ID_HEADER) or "",
                       received=clock.now(), url=path, method=call.req.method, content_length=length,
                       content_type=headers.get("Content-Type") or "", user_agent=headers.get("User-Agent"),
                       client_ip=client_ip)


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)

