"""Which storage failures mean "unavailable right now, retry later" rather than a bug.

A storage call that cannot connect, gets no answer within the client timeouts
(shared.storage.clients), loses its connection mid-answer, or is answered with a server
error (5xx, 408, 429) is an outage: the request answers 503 ServiceUnavailable with a
Retry-After, which the official SDKs' retry policies honour. Anything else (a 4xx the code
did not expect, a wrong key) stays a 500: retrying would not help.

What an outage leaves behind is each operation's concern: every multi-step write either
undoes its first step or leaves a state the sweep resolves (see docs/reliability.md).
"""
from __future__ import annotations

from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from shared.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 2
_RETRYABLE_STATUS = frozenset({408, 429})


def is_outage(err: BaseException) -> bool:
    if isinstance(err, ServiceUnavailable):
        return True  # already judged one (the search engine's, shared.postgres.connection)
    if isinstance(err, (ServiceRequestError, ServiceResponseError)):
        return True
    if isinstance(err, HttpResponseError):
        status = err.status_code
        return status is None or status >= 500 or status in _RETRYABLE_STATUS
    return False


def as_unavailable(err: BaseException) -> ServiceUnavailable | None:
    """The 503 to answer for ``err``, or None when ``err`` is not a storage outage."""
    if not is_outage(err):
        return None
    return ServiceUnavailable("The service is temporarily unable to reach its storage. Please retry.",
                              retry_after=RETRY_AFTER_SECONDS)
