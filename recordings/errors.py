"""The recordings package's own exceptions, in one place.

RecordingError
 ├── FetchFailed        Twilio did not hand over the audio: .attempts, .status (last HTTP status,
 │                      None for a network error) and .retryable (worth another try later?)
 ├── DeleteFailed       Twilio did not delete its copy of a recording: .status
 ├── AudioUnreadable    the bytes are not audio we can use: .reason (HTML or JSON error page,
 │                      garbage, empty, truncated, zero or absurd duration)
 └── StoreError         the store refused or failed: bad id, path outside the store root,
      │                 different bytes for an id already stored, an I/O error
      └── NotStored     nothing is stored under this id

Callers catch RecordingError for "anything the recordings package raised on purpose" and the
subclasses to decide what to do: a retryable FetchFailed is retried by the job, AudioUnreadable
is shown to an operator, StoreError is never swallowed.
"""

from __future__ import annotations


class RecordingError(Exception):
    """Base of every error the recordings package raises on purpose."""


class FetchFailed(RecordingError):
    """Say why a recording could not be downloaded, after how many attempts."""

    def __init__(self, message: str, *, attempts: int, status: int | None, retryable: bool) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.status = status
        self.retryable = retryable


class DeleteFailed(RecordingError):
    """Say why Twilio's copy of a recording could not be deleted."""

    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status


class AudioUnreadable(RecordingError):
    """Say why a blob of bytes is not usable audio."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"not usable audio: {reason}")
        self.reason = reason


class StoreError(RecordingError):
    """Refuse an unsafe or conflicting store operation, or report an I/O failure."""


class NotStored(StoreError):
    """Report that no recording is stored under an id."""
