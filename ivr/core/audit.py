"""Write the audit log: who listened to, downloaded, reassigned, answered, exported or deleted what.

Officials hear callers' own voices; the log is how an agency (and the callers' trust in it) knows
that only those who should did. Rows are added in the caller's transaction, so an action and its
audit row are committed together or not at all.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ivr.core.models.accounts import AuditEvent

MAX_DETAIL = 2000


def record_audit(session: Session, user_id: int | None, action: str, target_type: str,
                 target_id: str | int | None, detail: str = "") -> None:
    """Add one audit row to the session (committed with the action it records).

    `detail` is for ids and short facts ("to=roads", "bytes 0-1023"), never a transcript or a phone number.
    """
    session.add(AuditEvent(user_id=user_id, action=action[:48], target_type=target_type[:32],
                           target_id=None if target_id is None else str(target_id)[:64],
                           detail=detail[:MAX_DETAIL]))
