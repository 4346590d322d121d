"""What a liveness session stores, as plain data, and its Table rows.

A session is one partition (PartitionKey = sessionId): the session row (RowKey "session")
and one entry row per recorded client request (RowKey "entry-000001", ...). The session row
holds the verify image's template only encrypted and bound to the row (shared.storage
.templates), never the image; entries hold what was decided and the request's metadata,
never an image or a template. Every row carries ExpiresAt, the end of retention.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from shared.engine.types import Rectangle, Template
from shared.liveness.kinds import KINDS, SessionKind
from shared.storage.templates import row_location, template_columns, template_from_columns

SESSION_ROW = "session"
ENTRY_PREFIX = "entry-"
EXPIRES_AT = "ExpiresAt"
RUNNING, SUCCEEDED, FAILED = "Running", "Succeeded", "Failed"


@dataclass(frozen=True)
class VerifyReference:
    """The verify image of a with-verify session, reduced to what the attempts need."""

    rectangle: Rectangle
    quality: str  # qualityForRecognition
    image_hash: str  # sha256 hex of the verify image bytes
    template: Template
    return_hash: bool
    threshold: float | None  # verifyConfidenceThreshold; None = the calibrated default


@dataclass(frozen=True)
class Session:
    session_id: str
    kind: SessionKind
    mode: str
    created: datetime
    token_ttl: int
    retention: timedelta
    device_correlation_id: str | None
    device_id_from_client: bool
    enable_session_image: bool
    send_results_to_client: bool
    model_version: str
    challenge: tuple[str, ...] = ()
    verify: VerifyReference | None = None
    started: datetime | None = None
    admitted: int = 0  # attempts that ran (the token allows attempts_allowed)
    attempts_allowed: int = 3  # v1.3-preview.1's numberOfClientAttemptsAllowed; 3 before it
    # v1.3-preview.1 fields: a session created under it records the client's address on each
    # request and reports it; abuse monitoring is decided once, at creation.
    client_information: bool = False
    abuse_monitoring: bool = False
    user_correlation_id: str | None = None
    user_id_from_client: bool = False
    expected_client_ip: str | None = None  # an address or a CIDR block, as given
    entries: int = 0  # recorded requests, admitted or refused
    etag: str | None = None

    @property
    def token_expires(self) -> datetime:
        return self.created + timedelta(seconds=self.token_ttl)

    @property
    def expires(self) -> datetime:
        return self.created + self.retention


@dataclass(frozen=True)
class RequestInfo:
    """What the audit keeps of a client request (no body, no token)."""

    request_id: str
    client_request_id: str
    received: datetime
    url: str
    method: str
    content_length: int
    content_type: str
    user_agent: str | None
    client_ip: str | None = None  # personal data: kept only on v1.3 sessions, gone with them


@dataclass(frozen=True)
class Outcome:
    """What an admitted attempt found."""

    decision: str | None = None  # realface | spoofface | uncertain; None with an error
    rectangle: Rectangle | None = None  # the face the decision was made on
    frame_index: int | None = None
    frame_offset_ms: int = 0
    match_confidence: float | None = None
    is_identical: bool | None = None
    session_image_id: str | None = None
    # Abuse monitoring (v1.3 sessions with it on, attempts that found a face): the other
    # attempts flagged with this one, each {"sessionId", "attemptId"[, "sessionImageId"]}.
    # None = not checked; [] = checked, nothing found.
    abuse_others: list[dict] | None = None


@dataclass(frozen=True)
class Entry:
    """One recorded client request: an admitted attempt or a refusal."""

    entry_id: int
    admitted: bool
    status: str  # Running | Succeeded | Failed
    request: RequestInfo
    digest: str
    status_code: int | None = None
    latency_ms: int | None = None
    outcome: Outcome = field(default_factory=Outcome)
    error: tuple[str, str] | None = None  # (code, message)

    def finished(self, status_code: int, latency_ms: int, outcome: Outcome | None = None,
                 error: tuple[str, str] | None = None) -> Entry:
        status = FAILED if error is not None or status_code >= 400 else SUCCEEDED
        return replace(self, status=status, status_code=status_code, latency_ms=latency_ms,
                       outcome=outcome or self.outcome, error=error)


def entry_key(entry_id: int) -> str:
    return f"{ENTRY_PREFIX}{entry_id:06d}"


def session_row(table: str, session: Session) -> dict:
    row = {
        "PartitionKey": session.session_id, "RowKey": SESSION_ROW, EXPIRES_AT: session.expires,
        "Kind": session.kind.key, "Mode": session.mode, "CreatedAt": session.created,
        "TokenTtl": session.token_ttl, "RetentionSeconds": int(session.retention.total_seconds()),
        "DeviceIdFromClient": session.device_id_from_client, "EnableSessionImage": session.enable_session_image,
        "SendResultsToClient": session.send_results_to_client, "ModelVersion": session.model_version,
        "Challenge": ",".join(session.challenge), "Admitted": session.admitted, "Entries": session.entries,
        "AttemptsAllowed": session.attempts_allowed, "ClientInformation": session.client_information,
        "AbuseMonitoring": session.abuse_monitoring, "UserIdFromClient": session.user_id_from_client,
    }
    if session.user_correlation_id is not None:
        row["UserCorrelationId"] = session.user_correlation_id
    if session.expected_client_ip is not None:
        row["ExpectedClientIp"] = session.expected_client_ip
    if session.device_correlation_id is not None:
        row["DeviceCorrelationId"] = session.device_correlation_id
    if session.started is not None:
        row["StartedAt"] = session.started
    if session.verify is not None:
        verify = session.verify
        row |= {"VerifyRectangle": json.dumps(verify.rectangle.as_dict()), "VerifyQuality": verify.quality,
                "VerifyImageHash": verify.image_hash, "ReturnVerifyImageHash": verify.return_hash,
                **template_columns(verify.template, row_location(table, session.session_id, SESSION_ROW))}
        if verify.threshold is not None:
            row["VerifyThreshold"] = verify.threshold
    return row


def session_from_row(table: str, row: dict) -> Session:
    verify = None
    if "VerifyImageHash" in row:
        rectangle = Rectangle(**json.loads(row["VerifyRectangle"]))
        template = template_from_columns(row, row_location(table, row["PartitionKey"], SESSION_ROW))
        verify = VerifyReference(rectangle, row["VerifyQuality"], row["VerifyImageHash"], template,
                                 row["ReturnVerifyImageHash"], row.get("VerifyThreshold"))
    return Session(
        session_id=row["PartitionKey"], kind=KINDS[row["Kind"]], mode=row["Mode"], created=row["CreatedAt"],
        token_ttl=row["TokenTtl"], retention=timedelta(seconds=row["RetentionSeconds"]),
        device_correlation_id=row.get("DeviceCorrelationId"), device_id_from_client=row["DeviceIdFromClient"],
        enable_session_image=row["EnableSessionImage"], send_results_to_client=row["SendResultsToClient"],
        model_version=row["ModelVersion"], challenge=tuple(filter(None, row["Challenge"].split(","))),
        verify=verify, started=row.get("StartedAt"), admitted=row["Admitted"], entries=row["Entries"],
        attempts_allowed=row.get("AttemptsAllowed", 3), client_information=row.get("ClientInformation", False),
        abuse_monitoring=row.get("AbuseMonitoring", False), user_correlation_id=row.get("UserCorrelationId"),
        user_id_from_client=row.get("UserIdFromClient", False), expected_client_ip=row.get("ExpectedClientIp"),
        etag=row.metadata["etag"] if hasattr(row, "metadata") else None,
    )


def entry_row(session: Session, entry: Entry) -> dict:
    return {"PartitionKey": session.session_id, "RowKey": entry_key(entry.entry_id), EXPIRES_AT: session.expires,
            "Admitted": entry.admitted, "Status": entry.status, "Record": json.dumps(_entry_json(entry))}


def entry_record(session_id: str, entry: Entry) -> dict:
    """The columns of an entry row that change when a later attempt flags it."""
    return {"PartitionKey": session_id, "RowKey": entry_key(entry.entry_id), "Record": json.dumps(_entry_json(entry))}


def entry_from_row(row: dict) -> Entry:
    data = json.loads(row["Record"])
    request = RequestInfo(**{**data["request"], "received": datetime.fromisoformat(data["request"]["received"])})
    outcome = data.get("outcome") or {}
    if outcome.get("rectangle"):
        outcome["rectangle"] = Rectangle(**outcome["rectangle"])
    error = tuple(data["error"]) if data.get("error") else None
    return Entry(entry_id=data["id"], admitted=row["Admitted"], status=row["Status"], request=request,
                 digest=data["digest"], status_code=data.get("statusCode"), latency_ms=data.get("latencyMs"),
                 outcome=Outcome(**outcome), error=error)


def _entry_json(entry: Entry) -> dict:
    request = {**entry.request.__dict__, "received": entry.request.received.isoformat()}
    outcome = dict(entry.outcome.__dict__)
    if entry.outcome.rectangle is not None:
        outcome["rectangle"] = entry.outcome.rectangle.as_dict()
    return {"id": entry.entry_id, "request": request, "digest": entry.digest, "statusCode": entry.status_code,
            "latencyMs": entry.latency_ms, "outcome": outcome, "error": list(entry.error) if entry.error else None}
