"""Write the audit log: who listened to, downloaded, reassigned, answered, exported or deleted what.

Officials hear callers' own voices; the log is how an agency (and the callers' trust in it) knows
that only those who should did. Rows are added in the caller's transaction, so an action and its
audit row are committed together or not at all.
"""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
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


# ---- listens: one row per play session, whatever the Range header (issue 13) --------------------------------

PLAY_SECONDS = 4 * 3600  # a page's player token groups the range requests of one play session this long


def play_token(secret: str, user_id: int | None, target: str) -> str:
    """Return a fresh token for one page's player: the range requests it makes count as one listen."""
    return URLSafeTimedSerializer(secret, salt="play").dumps([user_id, target, secrets.token_hex(8)])


def record_listen(session: Session, secret: str, user_id: int | None, action: str, message_id: int,
                  token: str | None, range_header: str | None) -> bool:
    """Audit one listen to a caller's voice; return whether a row was added.

    Every request that sends audio is audited (a `bytes=-N` or `bytes=1-` fetch too), except a further
    range request of a play session already audited: the same user's valid, unexpired token for the same
    message (the player asks for many ranges while seeking). A request without one is a listen of its own.
    """
    target = f"message:{message_id}"
    key = None
    if token:
        try:
            owner, signed_target, _ = URLSafeTimedSerializer(secret, salt="play").loads(token, max_age=PLAY_SECONDS)
        except (BadSignature, ValueError, TypeError):
            owner = signed_target = None
        if owner == user_id and signed_target == target:
            key = "play=" + hashlib.sha256(token.encode()).hexdigest()[:16]
    if key is not None and session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == action, AuditEvent.target_type == "message", AuditEvent.target_id == str(message_id),
            AuditEvent.user_id == user_id if user_id is not None else AuditEvent.user_id.is_(None),
            AuditEvent.detail.startswith(key + " ")).limit(1)) is not None:
        return False
    record_audit(session, user_id, action, "message", message_id,
                 f"{key or 'play=none'} range={(range_header or 'whole')[:64]}")
    return True
