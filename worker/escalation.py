"""Daily casework emails: each agency's digest (new, overdue, due tomorrow) and the escalation of overdue messages.

"Overdue" used to be only displayed: nobody was reminded. The scheduler queues this job once per
local day (ivr/core/casework_schedule.py). Idempotent per day: one casework_emails row per kind,
agency and local day; a repeated or retried job sends only what did not go out (a failed send is
retried, a sent or skipped one never repeated). A message is escalated once (messages.escalated_at).
Every outcome, sent or skipped and why, is written to the audit log. The emails carry reference
numbers, topics and places only: never a transcript or a caller's number.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr.core.agencies import Agency, routing_for
from ivr.core.audit import record_audit
from ivr.core.config import Config
from ivr.core.local_time import parse_timezone, to_local, to_utc
from ivr.core.models import Answer, Message, utcnow
from ivr.core.models.core import CaseworkEmail
from ivr.core.runtime import current_config, current_db

log = logging.getLogger(__name__)
DIGEST, ESCALATION = "digest", "escalation"
OPEN = ("received", "in_progress")
LISTED = 30  # references listed per section; the count says how many more


class CaseworkEmailFailed(Exception):
    """An email could not be sent now; the queue retries the job (sent ones are not repeated)."""


def _unanswered() -> object:
    return ~exists().where(Answer.message_id == Message.id)


def _refs(session: Session, agency: str, *conditions: object) -> tuple[int, list[Message]]:
    q = select(Message).where(Message.agency == agency, *conditions)  # type: ignore[arg-type]
    rows = list(session.scalars(q.order_by(Message.created_at).limit(LISTED + 1)))
    count = len(rows) if len(rows) <= LISTED else len(list(session.scalars(q.with_only_columns(Message.id))))
    return count, rows[:LISTED]


def _section(title: str, count: int, rows: list[Message]) -> list[str]:
    lines = [f"{title}: {count}"]
    lines += [f"  {m.reference}  {m.topic or '-'} at {m.place or '-'}  ({m.language})" for m in rows]
    if count > len(rows):
        lines.append(f"  … and {count - len(rows)} more in the inbox")
    return [*lines, ""]


def digest_text(session: Session, config: Config, agency: Agency, now: datetime, day: date) -> tuple[str, str]:
    """Return the digest's body and its summary line (counts only, for the audit log)."""
    zone = parse_timezone(config.timezone)
    due = timedelta(days=config.answer_due_days)
    tomorrow = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    start, end = to_utc(tomorrow) - due, to_utc(tomorrow + timedelta(days=1)) - due
    new = _refs(session, agency.code, Message.status == "received", Message.created_at >= now - timedelta(days=1))
    overdue = _refs(session, agency.code, Message.status.in_(OPEN), Message.created_at < now - due, _unanswered())
    soon = _refs(session, agency.code, Message.status.in_(OPEN), Message.created_at >= start,
                 Message.created_at < end, _unanswered())
    body = [f"Talanoa Hotline: the day's casework for {agency.name}, {day:%A %d %B %Y}.", ""]
    body += _section("New since yesterday", *new)
    body += _section(f"Overdue (no answer within {config.answer_due_days} days)", *overdue)
    body += _section("Due tomorrow", *soon)
    body.append(f"Open the inbox: {config.public_base_url}/dashboard/")
    return "\n".join(body), f"new {new[0]}, overdue {overdue[0]}, due tomorrow {soon[0]}"


def send_mail(config: Config, to: tuple[str, ...], subject: str, body: str, msgid: str) -> None:
    """Send one plain-text email through HOTLINE_SMTP_HOST; raise CaseworkEmailFailed naming the failure."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = config.smtp_from, ", ".join(to), subject
    # The same Message-ID on every attempt lets a mail system drop a duplicate of a retried send.
    msg["Message-ID"] = make_msgid(idstring=msgid, domain="talanoa.hotline")
    msg.set_content(body)
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.notify_timeout_seconds) as smtp:
            if config.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise CaseworkEmailFailed(f"email not sent: {type(exc).__name__}") from exc


def _claim(session: Session, kind: str, agency: str, day: str) -> CaseworkEmail | None:
    """Return today's row for this email, created if new; None when it went out (or was skipped) already."""
    row = session.scalar(select(CaseworkEmail).where(CaseworkEmail.kind == kind, CaseworkEmail.agency == agency,
                                                     CaseworkEmail.day == day))
    if row is None:
        try:
            with session.begin_nested():
                row = CaseworkEmail(kind=kind, agency=agency, day=day)
                session.add(row)
        except IntegrityError:  # another run of the job made it first
            return None
    return None if row.status in ("sent", "skipped") else row


def _finish(session: Session, row: CaseworkEmail, status: str, detail: str, recipients: int = 0) -> None:
    row.status, row.detail, row.recipients = status, detail[:2000], recipients
    row.attempts += 1
    if status == "sent":
        row.sent_at = utcnow()
    record_audit(session, None, row.kind, "agency", row.agency, f"{row.day} {status}: {detail}")


def send_digest(config: Config, agency: Agency, now: datetime, day: date) -> str:
    """Send one agency's digest for `day` unless it went out already; say what happened."""
    db = current_db()
    with db.session() as session:
        row = _claim(session, DIGEST, agency.code, day.isoformat())
        if row is None:
            return f"{agency.code} digest: already done"
        if not agency.emails():
            _finish(session, row, "skipped", f"agency {agency.code} has no email address in agencies.toml")
            return f"{agency.code} digest: skipped (no email address)"
        body, summary = digest_text(session, config, agency, now, day)
        failure: CaseworkEmailFailed | None
        try:
            send_mail(config, agency.emails(), f"Talanoa Hotline digest for {agency.name}: {summary}", body,
                      f"talanoa-digest-{agency.code}-{day.isoformat()}")
        except CaseworkEmailFailed as exc:
            failure = exc
            _finish(session, row, "failed", f"{summary}; {exc}")  # kept: the raise comes after the commit
        else:
            failure = None
            _finish(session, row, "sent", summary, len(agency.emails()))
    if failure is not None:
        raise failure
    return f"{agency.code} digest: sent ({summary})"


def escalate(config: Config, agency: Agency, now: datetime, day: date) -> str:
    """Tell an agency's supervisors about its messages that passed their due date since the last escalation."""
    db = current_db()
    due = now - timedelta(days=config.answer_due_days)
    failure: CaseworkEmailFailed | None = None
    with db.session() as session:
        late = list(session.scalars(select(Message).where(
            Message.agency == agency.code, Message.status.in_(OPEN), Message.created_at < due,
            Message.escalated_at.is_(None), _unanswered()).order_by(Message.created_at)))  # type: ignore[arg-type]
        if not late:
            return f"{agency.code} escalation: nothing overdue"
        row = _claim(session, ESCALATION, agency.code, day.isoformat())
        if row is None:
            return f"{agency.code} escalation: already done"
        refs = ", ".join(m.reference for m in late[:LISTED]) + (f" and {len(late) - LISTED} more"
                                                                 if len(late) > LISTED else "")
        if not agency.supervisors:
            _finish(session, row, "skipped", f"{len(late)} overdue ({refs}); agency {agency.code} names no "
                                             "supervisors in agencies.toml")
            return f"{agency.code} escalation: skipped (no supervisors)"
        body = "\n".join([f"Talanoa Hotline: {len(late)} message(s) to {agency.name} passed their due date "
                          f"({config.answer_due_days} days) without an answer.", "",
                          *_section("Overdue", len(late), late[:LISTED]),
                          f"Open the inbox: {config.public_base_url}/dashboard/?overdue=1"])
        try:
            send_mail(config, agency.supervisors, f"Talanoa Hotline: {len(late)} overdue at {agency.name}", body,
                      f"talanoa-escalation-{agency.code}-{day.isoformat()}")
        except CaseworkEmailFailed as exc:
            failure = exc
            _finish(session, row, "failed", f"{len(late)} overdue; {exc}")  # kept: the raise comes after the commit
        else:
            session.execute(update(Message).where(Message.id.in_([m.id for m in late])).values(escalated_at=now)
                            .execution_options(synchronize_session=False))
            for m in late:
                record_audit(session, None, "escalate", "message", m.id, f"to the supervisors of {agency.code}")
            _finish(session, row, "sent", f"{len(late)} overdue: {refs}", len(agency.supervisors))
        count = len(late)
    if failure is not None:
        raise failure
    return f"{agency.code} escalation: sent ({count} overdue)"


def send_daily_emails(now_iso: str | None = None) -> str:
    """Send every agency's digest and escalation for the local day of `now` (naive UTC ISO, default: now).

    Idempotent per day (see the module docstring); raises CaseworkEmailFailed after trying every agency
    when one email could not go out, so the queue retries just that one.
    """
    config = current_config()
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    day = to_local(now, parse_timezone(config.timezone)).date()
    _, routing = routing_for(config)
    outcomes, failed = [], []
    for agency in routing.agencies.by_code.values():
        for step in (send_digest, escalate):
            try:
                outcomes.append(step(config, agency, now, day))
            except CaseworkEmailFailed as exc:
                failed.append(f"{agency.code} {step.__name__}: {exc}")
    log.info("daily casework emails for %s: %s", day, "; ".join(outcomes))
    if failed:
        raise CaseworkEmailFailed("; ".join(failed))
    return "; ".join(outcomes)
