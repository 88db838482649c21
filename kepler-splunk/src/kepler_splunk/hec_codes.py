"""HEC's status codes: what each means for a writer that must lose nothing.

Three outcomes: *retry* (the server is busy or broken for now: back off and send again), *stop*
(the token or the index is wrong: no batch can succeed until a person fixes it, so everything
unsent is spooled and the error raised), *reject* (this data can never be indexed: the rows are
reported as failed with Splunk's reason; the rest goes on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["retry", "stop", "reject", "split"]


@dataclass(frozen=True)
class HecCode:
    code: int
    meaning: str
    outcome: Outcome
    hint: str


_CREDENTIAL_HINT = (
    "Check splunk.hec_token (kepler secrets set splunk-hec-token, then hec_token: "
    "${secret:splunk-hec-token}) and that the token is enabled in Splunk "
    "(Settings > Data inputs > HTTP Event Collector)."
)

CODES: dict[int, HecCode] = {c.code: c for c in (
    HecCode(1, "Token disabled", "stop", _CREDENTIAL_HINT),
    HecCode(2, "Token is required", "stop", _CREDENTIAL_HINT),
    HecCode(3, "Invalid authorization", "stop", _CREDENTIAL_HINT),
    HecCode(4, "Invalid token", "stop", _CREDENTIAL_HINT),
    HecCode(5, "No data", "reject", "The batch was empty; this is a Kepler bug, please report."),
    HecCode(6, "Invalid data format", "reject", "The event is not valid HEC JSON."),
    HecCode(7, "Incorrect index", "stop",
            "Create the index in Splunk or allow the HEC token to write to it, then run "
            "'kepler results flush' (or flush --index NAME to send the spool elsewhere)."),
    HecCode(8, "Internal server error", "retry", "Splunk had an internal error; retrying."),
    HecCode(9, "Server is busy", "retry", "Splunk is busy; retrying with backoff."),
    HecCode(10, "Data channel is missing", "stop",
            "The token has indexer acknowledgement on: set splunk.hec_ack: true."),
    HecCode(11, "Invalid data channel", "stop", "Kepler sent a bad channel id; please report."),
    HecCode(12, "Event field is required", "reject", "Every event needs an 'event' value."),
    HecCode(13, "Event field cannot be blank", "reject", "Rows with no values cannot be sent."),
    HecCode(14, "ACK is disabled", "stop",
            "Enable indexer acknowledgement on the HEC token, or set splunk.hec_ack: false."),
    HecCode(15, "Error in handling indexed fields", "reject",
            "Indexed field values must be text or numbers (fields=...)."),
    HecCode(16, "Query string authorization is not enabled", "stop", _CREDENTIAL_HINT),
)}


def classify(status: int, code: int | None) -> HecCode:
    """What to do with an HTTP status and HEC code."""
    if code is not None and code in CODES:
        return CODES[code]
    if status == 413:
        return HecCode(-1, "Request entity too large", "split",
                       "Lower splunk.hec_batch_bytes below the server's max_content_length.")
    if status in (401, 403):
        return HecCode(-1, "Unauthorized", "stop", _CREDENTIAL_HINT)
    if status == 429 or status >= 500:
        return HecCode(-1, f"HTTP {status}", "retry", "Splunk is unavailable; retrying.")
    return HecCode(-1, f"HTTP {status}", "reject", "Splunk refused the events.")
