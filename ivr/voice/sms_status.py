"""Twilio's status callbacks for the SMS the hotline sends (worker/sms.py): each stored once, the latest kept.

Signed like every /voice route: verify_twilio checks X-Twilio-Signature against PUBLIC_BASE_URL.
"""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.core.models.delivery import SmsEvent, SmsMessage
from ivr.core.services import services
from ivr.voice.webhooks import empty_twiml, verify_twilio

bp = Blueprint("sms", __name__, url_prefix="/voice")
bp.before_request(verify_twilio)
SMS_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
SMS_STATUSES = {"accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled"}
FINAL = ("delivered", "undelivered", "failed", "read", "canceled")


@bp.post("/sms-status")
def sms_status() -> Response:
    """Store one status callback (MessageSid, MessageStatus, ErrorCode); a repeat or a late "sent" changes nothing."""
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not SMS_SID.match(sid) or status not in SMS_STATUSES:
        abort(400, description="MessageSid and a known MessageStatus are required")
    raw_code = request.form.get("ErrorCode", "")
    code = int(raw_code) if raw_code.isdigit() and len(raw_code) < 8 else None
    with services().db.session() as session:
        try:
            with session.begin_nested():
                session.add(SmsEvent(sid=sid, status=status, error_code=code))
        except IntegrityError:
            return empty_twiml()  # the same callback again
        row = session.scalar(select(SmsMessage).where(SmsMessage.sid == sid))
        if row is not None and row.status not in FINAL:  # callbacks may arrive out of order
            row.status, row.error_code = status, code or row.error_code
    return empty_twiml()
