"""The officials' dashboard: the inbox, one message (listen, read, reassign, status, notes, answer), the audit log.

Server-rendered, small pages for slow links and small screens. Views are thin: what may be seen and
done is decided in dashboard_inbox, dashboard_messages and dashboard_answers. Every message route
looks the message up through `visible_message`, so another agency's id answers 404 on every URL.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from ivr.core.audit import play_token, record_audit, record_listen
from ivr.core.auth import current_user, login_required
from ivr.core.local_time import parse_timezone, to_local
from ivr.core.models import Message, Recording
from ivr.core.models.accounts import User
from ivr.core.models.base import utcnow
from ivr.core.pages import secure_page
from ivr.core.prompt_audio import can_synthesise
from ivr.core.services import Services, services
from ivr.core.sms import enqueue_sms
from ivr.core.transcript_check import MAX_CHECKED, CheckRefused, check_transcript
from ivr.dashboard.answers import ACCEPTED, add_answer, enqueue_delivery, store_answer_audio
from ivr.dashboard.audit_log import load_audit, parse_audit_filter
from ivr.dashboard.casework import CLOSE_REASONS, answer_targets, members, reassign_with_reason, waiting_languages
from ivr.dashboard.delivery_state import delivery_states, sms_notices
from ivr.dashboard.inbox import FilterRejected, load_inbox, parse_filter, status_counts
from ivr.dashboard.messages import (
    TRANSITIONS,
    ActionRefused,
    MessageHidden,
    add_note,
    change_status,
    notes_of,
    reroute_checked,
    transcript_words,
    visible_message,
)
from ivr.dashboard.replies import Template, fill, load_replies
from menus.agencies import load_agencies
from recordings.errors import StoreError
from recordings.store import LocalStore

log = logging.getLogger(__name__)
bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
bp.after_request(secure_page)
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields around an uploaded answer

_agencies_lock = threading.Lock()
_agencies_cache: dict[str, tuple[float, dict[str, str]]] = {}


def agency_names(svc: Services) -> dict[str, str]:
    """Return {code: name} of the agencies file, re-read only when the file changed."""
    path = svc.config.agencies_path
    mtime = path.stat().st_mtime
    with _agencies_lock:
        cached = _agencies_cache.get(str(path))
        if cached is None or cached[0] != mtime:
            agencies = load_agencies(path, svc.menus)
            cached = _agencies_cache[str(path)] = (mtime, {a.code: a.name for a in agencies.by_code.values()})
        return cached[1]


def language_names(svc: Services) -> dict[str, str]:
    """Return {code: name in its own language} of the menus' languages ("fj" → "Vosa vaka-Viti")."""
    return {code: lang.name for code, lang in svc.menus.languages.items()}


def _user() -> User:
    user = current_user()
    assert user is not None  # login_required ran first
    return user


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> tuple[str, int]:
    """Say how big an answer may be, instead of a bare 413."""
    limit = services().config.answer_upload_max_bytes
    return render_template("dashboard/error.html",
                           error=f"The audio file is too large: an answer may have at most {limit} bytes."), 413


def _refused(message: str, status: int = 400) -> tuple[str, int]:
    return render_template("dashboard/error.html", error=message), status


@bp.get("/")
@login_required("official")
def inbox() -> str | tuple[str, int]:
    """List the agency's messages of one status, filtered, newest first, a page at a time."""
    svc, user = services(), _user()
    names = agency_names(svc)
    tables = svc.menus.flow.tables
    topics, places = tuple(tables.get("topics", {}).values()), tuple(tables.get("places", {}).values())
    try:
        f = parse_filter(request.args, user, agencies=names, topics=topics, places=places,
                         languages=svc.menus.languages)
    except FilterRejected as exc:
        return _refused(f"That inbox filter is not valid: {exc}.")
    with svc.db.session() as db:
        page = load_inbox(db, f, now=utcnow(), due_days=svc.config.answer_due_days)
        counts = status_counts(db, f.agency)
    return render_template("dashboard/inbox.html", f=f, page=page, counts=counts, agencies=names, topics=topics,
                           places=places, languages=sorted(svc.menus.languages), language_names=language_names(svc))


@bp.get("/home")
@login_required()
def home() -> str:
    """Show a user the pages their role opens (radio hosts land here)."""
    return render_template("dashboard/home.html")


def _message_or_404(db: Session, user: User, message_id: int) -> Message:
    try:
        return visible_message(db, user, message_id)
    except MessageHidden:
        abort(404)


@bp.get("/messages/<int:message_id>")
@login_required("official")
def message(message_id: int) -> str:
    """Show one message: the caller's voice, the transcript with doubtful words marked, notes, answers."""
    svc, user = services(), _user()
    with svc.db.session() as db:
        m = _message_or_404(db, user, message_id)
        # Opening the page reads the caller's words: audited, like every listen and download.
        record_audit(db, user.id, "view", "message", m.id)
        play = play_token(svc.config.secret_key, user.id, f"message:{m.id}")
        words = transcript_words(m.transcript, svc.config.check_by_ear_below) if m.transcript else []
        has_audio = bool(m.recording and m.recording.stored_path)
        notes = notes_of(db, m)
        answers = list(m.answers)
        due = m.created_at + timedelta(days=svc.config.answer_due_days)
        group = members(db, m)
        replies, reply_text, reply_error = _replies_for(svc, m, request.args.get("reply", ""))
        page = render_template("dashboard/message.html", m=m, words=words, has_audio=has_audio, notes=notes,
                               answers=answers, agencies=agency_names(svc), due=due, now=utcnow(),
                               group=group if len(group) > 1 else [], close_reasons=CLOSE_REASONS,
                               waiting=waiting_languages(db, group),
                               deliveries=delivery_states(db, [a.id for a in answers]), sms=sms_notices(db, m.id),
                               language_names=language_names(svc), replies=replies, reply_text=reply_text,
                               reply_error=reply_error,
                               transcript=m.transcript, accepted=ACCEPTED,
                               max_bytes=svc.config.answer_upload_max_bytes,
                               max_seconds=svc.config.answer_max_seconds, config_below=svc.config.check_by_ear_below,
                               transitions=sorted(TRANSITIONS.get(m.status, ())),
                               text_voice=bool(svc.say_voices.get(m.language)) or can_synthesise(m.language),
                               play=play)
    return page


def _replies_for(svc: Services, m: Message, chosen: str) -> tuple[list[Template], str, str]:
    """Return the message's reply templates, the chosen one filled in (for editing), and what went wrong."""
    found = load_replies(svc.config.replies_path, set(agency_names(svc)), set(svc.menus.languages))
    usable = found.for_message(m.agency, m.language)
    problems = "; ".join(found.problems)
    if not chosen:
        return usable, "", problems
    if not chosen.isdigit() or not 0 <= int(chosen) < len(usable):
        return usable, "", f"there is no reply template {chosen!r} for this message's agency and language"
    zone = parse_timezone(svc.config.timezone)
    try:
        text = fill(usable[int(chosen)], reference=m.reference, agency=agency_names(svc).get(m.agency or "", "-"),
                    topic=m.topic, place=m.place, today=to_local(utcnow(), zone))
    except ValueError as exc:
        return usable, "", str(exc)
    return usable, text, problems


def _recording_path(svc: Services, message_id: int) -> tuple[Message, Path]:
    """Return the visible message and its stored recording's file, or abort 404."""
    with svc.db.session() as db:
        m = _message_or_404(db, _user(), message_id)
        rec = db.scalar(select(Recording).where(Recording.message_id == m.id))
        if rec is None or not rec.stored_path:
            abort(404)
        sid = rec.recording_sid
    try:
        return m, LocalStore(svc.config.recordings_dir).path(sid)
    except StoreError:
        abort(404)


@bp.get("/messages/<int:message_id>/audio")
@login_required("official")
def audio(message_id: int) -> Response:
    """Stream the caller's recording (HTTP range requests for seeking); audit each listen (core.audit.record_listen)."""
    svc, user = services(), _user()
    m, path = _recording_path(svc, message_id)
    if request.range is not None and request.range.range_for_length(path.stat().st_size) is None:
        abort(416)  # answered before send_file opens the file, which it would otherwise leave open
    with svc.db.session() as db:  # one row per play session, however many ranges; any other fetch is a listen
        record_listen(db, svc.config.secret_key, user.id, "listen", m.id, request.args.get("play"),
                      request.headers.get("Range"))
    return send_file(path, mimetype="audio/wav", conditional=True, etag=True, max_age=0)


@bp.get("/messages/<int:message_id>/download")
@login_required("official")
def download(message_id: int) -> Response:
    """Send the caller's recording as a file download; audit it."""
    svc, user = services(), _user()
    m, path = _recording_path(svc, message_id)
    with svc.db.session() as db:
        record_audit(db, user.id, "download", "message", m.id)
    return send_file(path, mimetype="audio/wav", as_attachment=True, download_name=f"message-{m.reference}.wav")


@bp.post("/messages/<int:message_id>/status")
@login_required("official")
def set_status(message_id: int) -> Response | tuple[str, int]:
    """Move the message along new → in progress → answered → closed (or reopen it)."""
    svc, user = services(), _user()
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            change_status(db, user, m, request.form.get("status", ""))
    except ActionRefused as exc:
        return _refused(f"The status was not changed: {exc}.", 409)
    flash("Status changed.")
    return redirect(url_for("dashboard.message", message_id=message_id))  # type: ignore[return-value]


@bp.post("/messages/<int:message_id>/reassign")
@login_required("official")
def reassign_message(message_id: int) -> Response | tuple[str, int]:
    """Hand the message to another agency with a reason (it leaves this official's inbox)."""
    svc, user = services(), _user()
    names = agency_names(svc)
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            reassign_with_reason(db, user, m, request.form.get("agency", ""), names, request.form.get("reason"))
            reference, agency = m.reference, m.agency
    except ActionRefused as exc:
        return _refused(f"The message was not reassigned: {exc}.")
    log.info("message %s reassigned by user %s", message_id, user.id)
    flash(f"Message {reference} is now with {names.get(agency or '', agency)}.")
    if user.can_see_agency(agency):
        return redirect(url_for("dashboard.message", message_id=message_id))  # type: ignore[return-value]
    return redirect(url_for("dashboard.inbox"))  # type: ignore[return-value]


@bp.post("/messages/<int:message_id>/notes")
@login_required("official")
def note(message_id: int) -> Response | tuple[str, int]:
    """Add an internal note (never heard by the caller)."""
    svc, user = services(), _user()
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            add_note(db, user, m, request.form.get("text", ""))
    except ActionRefused as exc:
        return _refused(f"The note was not added: {exc}.")
    flash("Note added.")
    return redirect(url_for("dashboard.message", message_id=message_id, _anchor="notes"))  # type: ignore[return-value]


@bp.post("/messages/<int:message_id>/transcript")
@login_required("official")
def check_words(message_id: int) -> Response | tuple[str, int]:
    """Keep the words the official heard (the machine text stays); re-route only if they ask for it."""
    svc, user = services(), _user()
    form = request.form
    moved = None
    try:
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            check_transcript(db, m, user.id, form.get("text", "")[:MAX_CHECKED + 1000],
                             listened=form.get("listened") == "1", role="official")
            if form.get("reroute") == "1":
                moved = reroute_checked(db, user, m, svc.config)
            agency = m.agency
    except CheckRefused as exc:
        return _refused(f"The words were not kept: {exc}.", 409)
    except ActionRefused as exc:
        return _refused(f"The words were kept, but the message was not re-routed: {exc}.", 409)
    log.info("transcript of message %s checked by user %s", message_id, user.id)
    flash("Checked by a person." + (f" Re-routed to {agency_names(svc).get(moved, moved)}." if moved else ""))
    if agency is None or user.can_see_agency(agency):
        return redirect(url_for("dashboard.message", message_id=message_id))  # type: ignore[return-value]
    return redirect(url_for("dashboard.inbox"))  # type: ignore[return-value]


@bp.before_request
def answer_body_limit() -> None:
    """Let the answer route (only) take an audio file up to HOTLINE_ANSWER_UPLOAD_MAX_BYTES."""
    if request.endpoint == "dashboard.answer":
        request.max_content_length = services().config.answer_upload_max_bytes + FORM_OVERHEAD


@bp.post("/messages/<int:message_id>/answers")
@login_required("official")
def answer(message_id: int) -> Response | tuple[str, int]:
    """Answer the message with an uploaded or browser-recorded file, or typed text; queue its delivery."""
    svc, user = services(), _user()
    with svc.db.session() as db:
        _message_or_404(db, user, message_id)  # before touching the upload: foreign ids learn nothing
    source = request.form.get("source", "upload")
    try:
        stored = None
        if source in ("upload", "browser"):
            sent = request.files.get("audio")
            if sent is None or not sent.filename:
                raise ActionRefused("no audio file was chosen")
            stored = store_answer_audio(sent.read(svc.config.answer_upload_max_bytes + 1), svc.config, message_id)
        with svc.db.session() as db:
            m = _message_or_404(db, user, message_id)
            targets = answer_targets(db, m, request.form.get("language"))
            answer_ids = [add_answer(db, user, t, source=source, text=request.form.get("text"), audio=stored).id
                          for t in targets]
            answered = [t.id for t in targets]
    except ActionRefused as exc:
        log.info("answer to message %s refused: %s", message_id, exc)
        if request.headers.get("X-Requested-With") == "recorder":
            return Response(f"The answer was not saved: {exc}.", status=400, mimetype="text/plain")
        return _refused(f"The answer was not saved: {exc}.")
    for answer_id in answer_ids:  # one per caller of a group in the answer's language
        enqueue_delivery(svc.queue, answer_id)
    for ident in answered:
        enqueue_sms(svc.queue, svc.config, ident, "answer")  # "an answer is waiting", to consenting callers
    log.info("answers %s to message %s by user %s (%s)", answer_ids, message_id, user.id, source)
    flash("Answer saved. The caller hears it when they call and key their reference number"
          " (or by a callback, if they asked for one).")
    if request.headers.get("X-Requested-With") == "recorder":
        # The in-page recorder follows this itself: answer with where to go rather than a redirect.
        return Response(url_for("dashboard.message", message_id=message_id), status=201, mimetype="text/plain")
    return redirect(url_for("dashboard.message", message_id=message_id, _anchor="answers"))  # type: ignore[return-value]


@bp.get("/audit")
@login_required("admin")
def audit() -> str | tuple[str, int]:
    """List audit rows, newest first, filtered by action, user, target and date."""
    try:
        f = parse_audit_filter(request.args)
    except FilterRejected as exc:
        return _refused(f"That audit filter is not valid: {exc}.")
    with services().db.session() as db:
        rows, next_before = load_audit(db, f)
    return render_template("dashboard/audit.html", f=f, rows=rows, next_before=next_before)
