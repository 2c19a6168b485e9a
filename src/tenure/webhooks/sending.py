"""One signed POST of a delivery and what its answer means (no database here).

Headers per the Standard Webhooks spec: ``webhook-id`` (the delivery's, the same on every
attempt, so the receiver deduplicates), ``webhook-timestamp`` (this attempt's time, in
Unix seconds: receivers refuse stale ones) and ``webhook-signature`` (``v1,`` + the
base64 HMAC-SHA256 of ``id.timestamp.body`` with the secret), computed by the spec's
reference library.

What an answer means: 2xx delivered; 408, 429 and 5xx, a timeout or a network error are
worth another try (the job runner's backoff); any other 4xx is the endpoint refusing
the message, which a retry would not change. Redirects are not followed (one could lead
to a private address); they are retried, so fixing the URL lets the next attempt through.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from threading import Lock

import httpx
from standardwebhooks import Webhook

from tenure.webhooks.urls import UnsafeAddress, check_resolved

#: How much of an endpoint's answer the delivery log keeps.
RESPONSE_EXCERPT_BYTES = 1000
USER_AGENT = "Tenure-Webhooks/1"
RETRYABLE_STATUSES = frozenset({408, 429})


class Outcome(StrEnum):
    succeeded = "succeeded"
    retry = "retry"  # worth another attempt
    failed = "failed"  # permanent: no retry will change it


@dataclass(frozen=True)
class Attempted:
    outcome: Outcome
    duration_ms: int
    status_code: int | None = None
    response_excerpt: str | None = None
    error: str | None = None


def signed_headers(*, secret: str, webhook_id: str, body: bytes, at: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }


def classify(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return Outcome.succeeded
    if 400 <= status_code < 500 and status_code not in RETRYABLE_STATUSES:
        return Outcome.failed
    return Outcome.retry


_client: httpx.Client | None = None
_client_lock = Lock()


def _shared_client() -> httpx.Client:
    """One client for every delivery of the process: kept-alive connections to the same
    endpoint are reused across jobs (httpx.Client is thread-safe)."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False, headers={"user-agent": USER_AGENT})
        return _client


def post(
    *,
    url: str,
    secret: str,
    webhook_id: str,
    body: bytes,
    timeout_seconds: float,
    allow_private: bool,
) -> Attempted:
    """POST ``body`` to ``url``, signed; never raises for what the endpoint or network did."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        check_resolved(url, allow_private=allow_private)
    except UnsafeAddress as error:
        return Attempted(Outcome.failed, elapsed(), error=f"refused: {error}")
    # The attempt's real time, not the workspace clock: receivers compare it with theirs.
    headers = signed_headers(secret=secret, webhook_id=webhook_id, body=body, at=datetime.now(UTC))
    try:
        with _shared_client().stream(
            "POST", url, content=body, headers=headers, timeout=timeout_seconds
        ) as response:
            excerpt = bytearray()
            for chunk in response.iter_bytes():
                excerpt += chunk
                if len(excerpt) >= RESPONSE_EXCERPT_BYTES:
                    break
            # No NUL: PostgreSQL text cannot hold it.
            text = bytes(excerpt[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", "replace")
            text = text.replace("\x00", "")
            outcome = classify(response.status_code)
            problem = None
            if outcome is not Outcome.succeeded:
                problem = f"HTTP {response.status_code}"
                if response.is_redirect:
                    problem += " (a redirect: redirects are not followed; fix the URL)"
            return Attempted(outcome, elapsed(), response.status_code, text, problem)
    except httpx.TimeoutException as error:
        return Attempted(Outcome.retry, elapsed(), error=f"timed out: {type(error).__name__}")
    except httpx.HTTPError as error:
        return Attempted(Outcome.retry, elapsed(), error=f"{type(error).__name__}: {error}"[:500])
