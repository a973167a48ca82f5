"""Keep consenting callers informed by SMS: their reference after the call, an answer waiting, the message closed.

Only with HOTLINE_SMS on (TWILIO_CALLER_ID can send SMS), only to a caller who gave consent (key 1 or
3) and is not anonymous, never to a number Twilio reported unsubscribed (error 21610, remembered by
the number's keyed hash), and never in the local quiet hours (the job is deferred to their end). The
number is decrypted inside this job only, and never logged. Texts are data: the [sms] table of each
language's prompt file, in the caller's language and script.

Idempotent: one sms_messages row per message and kind, written before Twilio is asked; a row that
Twilio accepted (or that was held or refused) is never sent again, however often the job runs.
"""

from __future__ import annotations

import logging
import math
import tomllib
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.core.delayed_jobs import enqueue_at
from ivr.core.local_time import allowed_at, parse_quiet_hours, parse_timezone
from ivr.core.models import Caller, Message, utcnow
from ivr.core.models.delivery import SMS_KINDS, SmsMessage, SmsOptOut
from ivr.core.queue import make_queue
from ivr.core.runtime import current_config, current_db
from ivr.core.sms import SMS_JOB, sms_job_id
from ivr.voice.callback_numbers import recall_number
from ivr.voice.outbound_calls import CONSENTS
from ivr.voice.twilio_rest import TwilioRest, TwilioRestError, send_sms

log = logging.getLogger(__name__)
UNSUBSCRIBED = 21610  # Twilio: "Attempt to send to unsubscribed recipient" (the person replied STOP)
REFUSED_FOR_GOOD = {UNSUBSCRIBED, 21211, 21612, 21614, 21408}  # invalid/unreachable/not mobile/region off
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")


def segments(text: str) -> int:
    """Count the SMS segments a text needs: 160 GSM-7 characters in one, else 70 UCS-2 (Devanagari, ç …)."""
    if set(text) <= GSM7:
        return 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)


def sms_text(menus_dir: Path, language: str, kind: str, reference: str) -> str:
    """Return the SMS text of `kind` in the caller's language, with the reference in groups of four digits."""
    path = menus_dir / "prompts" / f"{language}.toml"
    table = tomllib.loads(path.read_text(encoding="utf-8")).get("sms", {})
    text = table.get(kind) if isinstance(table, dict) else None
    if not isinstance(text, str) or "{reference}" not in text:
        raise ValueError(f"prompts/{language}.toml: [sms] {kind} is missing or has no {{reference}}")
    spaced = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
    return text.replace("{reference}", spaced)


def _row(session: Session, message: Message, kind: str) -> SmsMessage | None:
    """Return this notice's row, made if new; None when it was dealt with already (sent, held or refused)."""
    row = session.scalar(select(SmsMessage).where(SmsMessage.message_id == message.id, SmsMessage.kind == kind))
    if row is None:
        try:
            with session.begin_nested():
                row = SmsMessage(message_id=message.id, kind=kind, language=message.language)
                session.add(row)
        except IntegrityError:
            return None
    return row if row.status == "pending" else None


def _hold(row: SmsMessage, why: str) -> str:
    row.status, row.held_reason = "held", why[:200]
    return f"held: {why}"


def send_sms_notice(message_id: int, kind: str, now_iso: str | None = None) -> str:
    """Send one notice about a message to its caller by SMS, if they may and should get it; say what happened."""
    config, db = current_config(), current_db()
    if kind not in SMS_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SMS_KINDS)}, not {kind!r}")
    if not config.sms_enabled or not config.twilio_caller_id:
        return "SMS is off (HOTLINE_SMS, TWILIO_CALLER_ID)"
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    due = allowed_at(now, parse_quiet_hours(config.quiet_hours), parse_timezone(config.timezone))
    if due > now:
        # Quiet hours: the same job, at their end (a later run finds the row and does not send twice).
        enqueue_at(make_queue(config), due, SMS_JOB, message_id, kind, due.isoformat(),
                   job_id=f"{sms_job_id(message_id, kind)}-{due:%Y%m%d%H%M}", now=now)
        return f"deferred to {due.isoformat(timespec='minutes')} (quiet hours)"
    with db.session() as session:
        message = session.get(Message, message_id)
        if message is None:
            return "no such message"
        row = _row(session, message, kind)
        if row is None:
            return "already dealt with"
        caller = session.get(Caller, message.caller_id) if message.caller_id is not None else None
        if caller is None or message.consent == "anonymous":
            return _hold(row, "anonymous report: no SMS")
        if message.consent not in CONSENTS:
            return _hold(row, "the caller did not consent to be contacted")
        if session.get(SmsOptOut, caller.number_hash) is not None:
            return _hold(row, "the caller unsubscribed from SMS (Twilio error 21610)")
        number = recall_number(session, config, caller.id, now=now)
        if number is None:
            return _hold(row, "no number kept for this caller")
        body = sms_text(config.menus_dir, message.language, kind, message.reference)
        row.attempts += 1
        row.segments = segments(body)
        client = TwilioRest(config.twilio_api_base_url, config.twilio_account_sid, config.twilio_auth_token)
        callback = f"{config.public_base_url}/voice/sms-status"
        try:
            sent = send_sms(client, number, config.twilio_caller_id, body, callback)
        except TwilioRestError as exc:
            if exc.code not in REFUSED_FOR_GOOD and exc.retryable:
                raise  # the row stays pending: the queue's retry sends it
            row.status, row.error_code, row.held_reason = "failed", exc.code, str(exc)[:200]
            if exc.code == UNSUBSCRIBED:
                session.merge(SmsOptOut(number_hash=caller.number_hash, error_code=exc.code))
            log.warning("SMS %s of message %s refused by Twilio (error %s)", kind, message_id, exc.code)
            return f"refused: {exc}"
        row.sid, row.status = sent.sid, sent.status
    # Ids only: never the number, never the text.
    log.info("SMS %s of message %s accepted by Twilio", kind, message_id)
    return f"sent ({sent.status})"
