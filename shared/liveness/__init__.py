"""Liveness sessions (face-api.md §11): an app server creates a session with its key and hands
the session's token to a device; the device runs the capture page (or any client) against the
token-bound client route; the app server reads the decision. Sessions and everything of
theirs are deleted on DELETE and by the sweep 48 hours after creation. v1.3-preview.1 adds
per-session client address rules and abuse monitoring across sessions.

    kinds       the two session kinds, modes, model versions, which API versions have which route
    records     Session and Entry (one recorded client request) and their table rows
    store       sessions and entries in Table Storage (atomic, never resurrecting a deleted session)
    token       the sealed session token and the bearer authorizer of the client route
    requests    create bodies of every version -> SessionSpec
    verify      the verify image of a with-verify session -> its encrypted template
    frames      one captured frame as the engine sees it (faces, pose, quality, score)
    decision    realface / spoofface / uncertain from the frames (thresholds measured)
    challenge   the active (PassiveActive) challenge and its check across frames
    payload     the client route's multipart body (metadata + JPEG frames), bounded
    devices     anti-hammering per deviceCorrelationId (sliding window)
    images      encrypted session images in Blob Storage
    sessions    create / read / list / delete, session images
    attempts    the client route: token rules, recording, analysis, result
    render      GA and preview JSON shapes
    retention   the sweep (48 h, orphans, device windows, abuse observations)
    page        the capture page (page/) served by the app
    monitoring  v1.3's abuse monitoring setting (on by default; off deletes every observation)
    abuse       abuse observations (one template per attempt, 48 h) and the checks across sessions
    client_assets  the client-assets access token (v1.3's getClientAssetsAccessToken)
    page_assets the capture page's client assets (face detector + runtime), for a client-assets token
"""
