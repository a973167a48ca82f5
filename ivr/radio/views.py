"""The radio hosts' pages (summary, script, moderation, bulletins) and the public feed and bulletin audio.

Thin: each view checks its input, calls the plain functions of ivr/radio/, and renders. Hosts and
admins log in (ivr.core.auth); callers' recordings are heard here only for messages with on-air consent.
Twilio and podcast apps fetch published bulletins and the feed without a login.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WerkzeugResponse

from ivr.core.audit import play_token, record_audit, record_listen
from ivr.core.auth import current_user, has_role, login_required
from ivr.core.disclosure import may_see
from ivr.core.models import Message, Recording, utcnow
from ivr.core.models.radio import RadioBulletin
from ivr.core.pages import secure_page
from ivr.core.services import services
from ivr.core.transcript_check import MAX_CHECKED, CheckRefused, check_transcript
from ivr.radio.bulletin import PUBLISHED, BulletinError, bulletins_dir, publish_bulletin, request_bulletin
from ivr.radio.feed import cover_png, distinct_titles, render_feed
from ivr.radio.moderation import ModerationRefused, NotFound, approve, moderation_queue, reject
from ivr.radio.period import Period, last, last_complete_week, parse_since
from ivr.radio.schedule import BULLETIN_JOB, bulletin_job_id
from ivr.radio.script import Script, write_script
from ivr.radio.station import Station, UnknownChoice
from recordings.errors import StoreError
from recordings.store import LocalStore

bp = Blueprint("radio", __name__, url_prefix="/radio")
PUBLIC = {"radio.feed", "radio.bulletin_audio", "radio.cover"}
HOSTS = ("radio",)  # and admins, who may do anything a host may


@bp.after_request
def secure(resp: Response) -> Response:
    """Dashboard headers (no caching, no framing, strict CSP) on the hosts' pages, not on public files."""
    return resp if request.endpoint in PUBLIC else secure_page(resp)


@dataclass(frozen=True)
class Choice:
    """What a host asked for: a period, an optional place and language, the script's language."""

    period: Period
    since: str
    last_week: bool
    place: str | None
    language: str | None
    say_in: str


def _station() -> Station:
    return Station.for_config(services().config)


def _choice(station: Station) -> Choice:
    """Read the period and filters from the query string; 400 naming what is wrong."""
    args = request.args
    since, last_week = args.get("since", "7d"), args.get("week") == "last"
    try:
        span = parse_since(since)
        place, language = station.check_place(args.get("place")), station.check_language(args.get("lang"))
    except (ValueError, UnknownChoice) as exc:
        abort(400, description=str(exc))
    now = utcnow()
    say_in = station.script_language(args.get("in") or language).code
    return Choice(period=last_complete_week(now) if last_week else last(span, now), since=since,
                  last_week=last_week, place=place, language=language, say_in=say_in)


def _user_id() -> int | None:
    user = current_user()
    return user.id if user is not None else None


@bp.get("/")
@login_required(*HOSTS)
def index() -> str:
    """The host's week: the figures, with links to the script, the moderation queue and the bulletins."""
    station = _station()
    choice = _choice(station)
    with services().db.session() as db:
        summary = station.summarise(db, choice.period, place=choice.place, language=choice.language)
        waiting = sum(1 for c in moderation_queue(db, include_decided=False))
    return render_template("radio/index.html", summary=summary, choice=choice, station=station, waiting=waiting,
                           languages=station.menus.languages, args=request.args)


def _requested_script() -> tuple[Script, Choice]:
    """Summarise the period the request asks for and write its script in the language asked for."""
    station = _station()
    choice = _choice(station)
    with services().db.session() as db:
        summary = station.summarise(db, choice.period, place=choice.place, language=choice.language)
    return write_script(summary, station.languages[choice.say_in], station.menus), choice


@bp.get("/script")
@login_required(*HOSTS)
def script() -> str:
    """The printable script, in the station's language (or ?in=fr)."""
    written, choice = _requested_script()
    return render_template("radio/script.html", script=written, choice=choice, args=request.args)


@bp.get("/script.txt")
@login_required(*HOSTS)
def script_text() -> Response:
    """The same script as plain text, to print or paste."""
    return Response(_requested_script()[0].text(), mimetype="text/plain")


@bp.get("/moderation")
@login_required(*HOSTS)
def moderation() -> tuple[str, int]:
    """The queue of on-air-consent messages to approve or keep off air."""
    return _queue_page()


def _queue_page(error: str | None = None, status: int = 200) -> tuple[str, int]:
    with services().db.session() as db:
        candidates = moderation_queue(db)
    secret, user_id = services().config.secret_key, _user_id()
    plays = {c.message_id: play_token(secret, user_id, f"message:{c.message_id}") for c in candidates}
    return render_template("radio/moderation.html", candidates=candidates, error=error, plays=plays), status


@bp.post("/moderation/<int:message_id>/approve")
@login_required(*HOSTS)
def approve_message(message_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Approve a quote (and, if ticked, the audio); refused with 409 and the reason when a rule forbids it."""
    form = request.form
    with services().db.session() as db:
        try:
            approve(db, message_id, _user_id(), quote=form.get("quote", "")[:2000], audio=form.get("audio") == "1",
                    listened=form.get("listened") == "1")
        except NotFound:
            abort(404)
        except ModerationRefused as exc:
            refused = str(exc)
        else:
            refused = ""
    if refused:
        return _queue_page(error=refused, status=409)
    flash("Approved for air.")
    return redirect(url_for("radio.moderation"))


@bp.post("/moderation/<int:message_id>/transcript")
@login_required(*HOSTS)
def check_words(message_id: int) -> WerkzeugResponse | tuple[str, int]:
    """Keep the words a host heard in an on-air-consent recording (the machine text stays); audited."""
    form = request.form
    with services().db.session() as db:
        message = db.get(Message, message_id)
        if message is None or not may_see("radio", "redacted_words", message):
            abort(404)  # a host checks only callers who agreed to radio (ivr/core/disclosure.py)
        try:
            check_transcript(db, message, _user_id(), form.get("text", "")[:MAX_CHECKED + 1000],
                             listened=form.get("listened") == "1", role="radio")
        except CheckRefused as exc:
            refused = f"The words were not kept: {exc}."
        else:
            refused = ""
    if refused:
        return _queue_page(error=refused, status=409)
    flash("Checked by a person: these words may now be quoted.")
    return redirect(url_for("radio.moderation", _anchor=f"candidate-{message_id}"))


@bp.post("/moderation/<int:message_id>/reject")
@login_required(*HOSTS)
def reject_message(message_id: int) -> WerkzeugResponse:
    """Keep a message off air, or take an approved one off again."""
    with services().db.session() as db:
        try:
            reject(db, message_id, _user_id())
        except NotFound:
            abort(404)
    flash("Kept off air.")
    return redirect(url_for("radio.moderation"))


@bp.get("/moderation/<int:message_id>/audio")
@login_required(*HOSTS)
def clip_audio(message_id: int) -> Response:
    """Let a host listen to an on-air-consent recording before approving it; audited."""
    svc = services()
    with svc.db.session() as db:
        message = db.get(Message, message_id)
        # A host hears only callers who agreed to radio: any other message is not theirs to hear.
        if message is None or not may_see("radio", "voice", message):
            abort(404)
        sid = db.scalar(select(Recording.recording_sid).where(Recording.message_id == message_id,
                                                              Recording.stored_path.is_not(None)))
        if sid is None:
            abort(404)
        try:
            path = LocalStore(svc.config.recordings_dir).path(sid)
        except StoreError:
            abort(404)
        if request.range is not None and request.range.range_for_length(path.stat().st_size) is None:
            abort(416)
        record_listen(db, svc.config.secret_key, _user_id(), "radio_listen", message_id, request.args.get("play"),
                      request.headers.get("Range"))
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@bp.get("/bulletins")
@login_required(*HOSTS)
def bulletins() -> str:
    """Every bulletin, newest first, with the form that asks for a new one."""
    station = _station()
    with services().db.session() as db:
        rows = db.scalars(select(RadioBulletin).order_by(RadioBulletin.id.desc()).limit(100)).all()
    skipped = {b.id: json.loads(b.skipped or "[]") for b in rows}
    return render_template("radio/bulletins.html", bulletins=rows, station=station, skipped_by_id=skipped,
                           languages=list(station.languages), places=station.places)


@bp.post("/bulletins")
@login_required(*HOSTS)
def create_bulletin() -> WerkzeugResponse:
    """Ask for a bulletin of a period; the worker builds its MP3."""
    svc, station = services(), _station()
    form = request.form
    try:
        span = parse_since(form.get("since", "7d"))
        place = station.check_place(form.get("place"))
    except (ValueError, UnknownChoice) as exc:
        abort(400, description=str(exc))
    now = utcnow()
    period = last_complete_week(now) if form.get("week") == "last" else last(span, now)
    with svc.db.session() as db:
        try:
            bulletin = request_bulletin(db, station, period, language=form.get("language") or None, place=place,
                                        user_id=_user_id())
        except BulletinError as exc:
            abort(400, description=str(exc))
        record_audit(db, _user_id(), "radio_bulletin_request", "bulletin", bulletin.id)
        bulletin_id = bulletin.id
    svc.queue.enqueue(BULLETIN_JOB, bulletin_id, job_id=bulletin_job_id(bulletin_id))
    flash(f"Bulletin {bulletin_id} is being built. Reload this page in a minute.")
    return redirect(url_for("radio.bulletins"))


@bp.post("/bulletins/<int:bulletin_id>/publish")
@login_required(*HOSTS)
def publish(bulletin_id: int) -> WerkzeugResponse:
    """Publish a ready bulletin: to callers on main menu 3 and to the podcast feed."""
    with services().db.session() as db:
        try:
            publish_bulletin(db, bulletin_id)
        except BulletinError as exc:
            abort(409, description=str(exc))
        record_audit(db, _user_id(), "radio_publish", "bulletin", bulletin_id)
    flash(f"Bulletin {bulletin_id} is published.")
    return redirect(url_for("radio.bulletins"))


@bp.get("/bulletins/<int:bulletin_id>.mp3")
def bulletin_audio(bulletin_id: int) -> Response:
    """A bulletin's MP3: public once published (Twilio plays it, podcast apps fetch it); else hosts only."""
    svc = services()
    with svc.db.session() as db:
        bulletin = db.get(RadioBulletin, bulletin_id)
        if bulletin is None or not bulletin.audio_path:
            abort(404)
        user = current_user()
        # Before publication a bulletin is a draft: only hosts and admins may hear it (404 to anyone else).
        if bulletin.status != PUBLISHED and (user is None or not has_role(user, HOSTS)):
            abort(404)
        if user is not None and has_role(user, HOSTS):
            record_audit(db, user.id, "radio_download", "bulletin", bulletin_id)
        name = bulletin.audio_path
    folder = bulletins_dir(svc.config).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():  # stored names only, never a path outside the folder
        abort(404)
    return send_file(path, mimetype="audio/mpeg", conditional=True, etag=True, max_age=300,
                     download_name=f"bulletin-{bulletin_id}.mp3")


@bp.get("/feed.xml")
def feed() -> Response:
    """The RSS 2.0 podcast feed of published bulletins (valid when empty)."""
    svc, station = services(), _station()
    with svc.db.session() as db:
        rows = db.scalars(select(RadioBulletin).where(RadioBulletin.status == PUBLISHED)
                          .order_by(RadioBulletin.published_at.desc(), RadioBulletin.id.desc())).all()
        titles = distinct_titles({b.id: _title(station, b) for b in rows})
        body = render_feed(rows, station=station.name, base_url=svc.config.public_base_url,
                           language=station.language, titles=titles, now=utcnow())
    return Response(body, mimetype="application/rss+xml")


def _title(station: Station, bulletin: RadioBulletin) -> str:
    """Title a bulletin by its period, place and language, all in the bulletin's own language."""
    lang = station.script_language(bulletin.language)
    prompts = station.menus.languages.get(lang.code)
    place = (prompts.prompts.get(f"place_{bulletin.place}") if prompts else None) or bulletin.place \
        if bulletin.place else lang.say("every_place")
    language = lang.say(f"language_{lang.code}") if f"language_{lang.code}" in lang.phrases else lang.code
    return f"{lang.date(bulletin.period_start)} – {lang.date(bulletin.period_end)} · {place} · {language}"


@bp.get("/cover.png")
def cover() -> Response:
    """The podcast feed's cover image (itunes:image), drawn once per process."""
    return Response(_cover(), mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


@cache
def _cover() -> bytes:
    return cover_png()
