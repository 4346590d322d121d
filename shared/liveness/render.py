"""Liveness sessions in each API generation's JSON shapes (face-api.md §11).

v1.2 (GA): LivenessSession / LivenessWithVerifySession with results.attempts, one attempt per
recorded client request; v1.3-preview.1 adds isAbuseMonitoringEnabled, expectedClientIpAddress
and, per attempt, clientInformation and abuseMonitoringResult. Previews: the session object with
status NotStarted / Started / ResultAvailable and the latest result, list items, and audit entries.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from shared import clock
from shared.engine.types import Rectangle
from shared.liveness import token
from shared.liveness.kinds import GA_MODELS, PREVIEW_MODELS
from shared.liveness.records import FAILED, RUNNING, Entry, Session

NO_FACE = Rectangle(0, 0, 0, 0)
# host.json's functionTimeout: an attempt still Running after this died with its process.
ABANDONED_AFTER = timedelta(minutes=10)


def settled(entries: list[Entry]) -> list[Entry]:
    """The entries as they stand: an attempt whose process died while it ran stays Running in
    storage, and is shown as Failed once no process can still be working on it."""
    now = clock.now()
    return [replace(entry, status=FAILED, error=("AttemptAbandoned", "The attempt did not finish."))
            if entry.status == RUNNING and now - entry.request.received > ABANDONED_AFTER else entry
            for entry in entries]


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _model(session: Session, known: tuple[str, ...]) -> str:
    return session.model_version if session.model_version in known else known[-1]


def _admitted(entries: list[Entry]) -> list[Entry]:
    return [entry for entry in entries if entry.admitted]


def _targets(entry: Entry) -> dict:
    return {"color": {"faceRectangle": (entry.outcome.rectangle or NO_FACE).as_dict()}}


# v1.2 -------------------------------------------------------------------------------------

def ga_session(session: Session, entries: list[Entry], v1_3: bool = False) -> dict:
    results: dict = {"attempts": [ga_attempt(session, entry, v1_3) for entry in entries]}
    if session.verify is not None:
        results["verifyReferences"] = [{"referenceType": "Color", "faceRectangle": session.verify.rectangle.as_dict(),
                                        "qualityForRecognition": session.verify.quality}]
    body = {"sessionId": session.session_id, "authToken": token.mint(session),
            "status": ga_status(entries), "modelVersion": _model(session, GA_MODELS)}
    if v1_3:
        body["isAbuseMonitoringEnabled"] = session.abuse_monitoring
        if session.expected_client_ip is not None:
            body["expectedClientIpAddress"] = session.expected_client_ip
    return body | {"results": results}


def ga_status(entries: list[Entry]) -> str:
    """NotStarted until an attempt is admitted, then the latest admitted attempt's status."""
    admitted = _admitted(entries)
    return admitted[-1].status if admitted else "NotStarted"


def ga_attempt(session: Session, entry: Entry, v1_3: bool = False) -> dict:
    attempt: dict = {"attemptId": entry.entry_id, "attemptStatus": entry.status}
    if entry.error is not None:
        attempt["error"] = {"code": entry.error[0], "message": entry.error[1], "targets": _targets(entry)}
    elif entry.outcome.decision is not None:
        result = {"livenessDecision": entry.outcome.decision, "targets": _targets(entry), "digest": entry.digest}
        if entry.outcome.session_image_id:
            result["sessionImageId"] = entry.outcome.session_image_id
        result |= _verify_fields(session, entry)
        attempt["result"] = result
    if v1_3:
        attempt |= _v1_3_attempt_fields(entry)
    return attempt


def _v1_3_attempt_fields(entry: Entry) -> dict:
    fields: dict = {}
    if entry.request.client_ip is not None:
        fields["clientInformation"] = [{"ip": entry.request.client_ip}]
    others = entry.outcome.abuse_others
    if others is not None:
        fields["abuseMonitoringResult"] = {"isAbuseDetected": bool(others), "otherFlaggedSessions": others}
    return fields


def _verify_fields(session: Session, entry: Entry) -> dict:
    if session.verify is None or entry.outcome.match_confidence is None:
        return {}
    fields: dict = {"verifyResult": {"matchConfidence": entry.outcome.match_confidence,
                                     "isIdentical": entry.outcome.is_identical}}
    if session.verify.return_hash:
        fields["verifyImageHash"] = session.verify.image_hash
    return fields


# previews ---------------------------------------------------------------------------------

def preview_item(session: Session) -> dict:
    item = {"id": session.session_id, "createdDateTime": _time(session.created),
            "sessionExpired": clock.now() >= session.token_expires,
            "authTokenTimeToLiveInSeconds": session.token_ttl}
    if session.started is not None:
        item["sessionStartDateTime"] = _time(session.started)
    if session.device_correlation_id is not None:
        item["deviceCorrelationId"] = session.device_correlation_id
    return item


def preview_session(session: Session, entries: list[Entry]) -> dict:
    body = preview_item(session)
    admitted = _admitted(entries)
    decided = [entry for entry in admitted if entry.outcome.decision is not None]
    body["status"] = "ResultAvailable" if decided else "Started" if admitted else "NotStarted"
    finished = decided or [entry for entry in admitted if entry.status != RUNNING]
    if finished:
        body["result"] = audit_entry(session, finished[-1])
    return body


def audit_entry(session: Session, entry: Entry) -> dict:
    request = entry.request
    request_json = {"url": request.url, "method": request.method, "contentLength": request.content_length,
                    "contentType": request.content_type}
    if request.user_agent:
        request_json["userAgent"] = request.user_agent
    audited = {
        "id": entry.entry_id, "sessionId": session.session_id, "requestId": request.request_id,
        "clientRequestId": request.client_request_id, "receivedDateTime": _time(request.received),
        "request": request_json,
        "response": {"body": _audit_body(session, entry), "statusCode": entry.status_code or 0,
                     "latencyInMilliseconds": entry.latency_ms or 0},
        "digest": entry.digest,
    }
    if entry.outcome.session_image_id:
        audited["sessionImageId"] = entry.outcome.session_image_id
    if session.verify is not None and session.verify.return_hash and entry.admitted:
        audited["verifyImageHash"] = session.verify.image_hash
    return audited


def _audit_body(session: Session, entry: Entry) -> dict:
    if entry.error is not None:
        return {"error": {"code": entry.error[0], "message": entry.error[1]}}
    outcome = entry.outcome
    if outcome.decision is None:
        return {}
    body = {"livenessDecision": outcome.decision,
            "target": {"faceRectangle": outcome.rectangle.as_dict(), "fileName": f"frame-{outcome.frame_index}.jpg",
                       "timeOffsetWithinFile": outcome.frame_offset_ms, "imageType": "Color"},
            "modelVersionUsed": _model(session, PREVIEW_MODELS)}
    if session.verify is not None and outcome.match_confidence is not None:
        body["verifyResult"] = {"verifyImage": {"faceRectangle": session.verify.rectangle.as_dict(),
                                                "qualityForRecognition": session.verify.quality},
                                "matchConfidence": outcome.match_confidence, "isIdentical": outcome.is_identical}
    return body


# the client route -------------------------------------------------------------------------

def client_result(session: Session, entry: Entry, attempts_left: int) -> dict:
    """What the device learns: the attempt and its digest; the decision only when the session
    was created with sendResultsToClient."""
    answer: dict = {"attemptId": entry.entry_id, "attemptStatus": entry.status, "digest": entry.digest,
                    "attemptsRemaining": attempts_left}
    if entry.error is not None:
        answer["error"] = {"code": entry.error[0], "message": entry.error[1]}
    if session.send_results_to_client and entry.outcome.decision is not None:
        answer["livenessDecision"] = entry.outcome.decision
        if entry.outcome.match_confidence is not None:
            answer["verifyResult"] = {"matchConfidence": entry.outcome.match_confidence,
                                      "isIdentical": entry.outcome.is_identical}
    return answer

