"""The radio host's poll pages, and the poll question audio Twilio plays to callers.

Thin views: the checks and the rules live in ivr/radio/polls.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ivr.core.audit import record_audit
from ivr.core.auth import current_user, login_required
from ivr.core.models.radio import RadioPoll
from ivr.core.pages import secure_page
from ivr.core.services import services
from ivr.radio.polls import (
    MAX_OPTIONS,
    MAX_RECORDED_BYTES,
    MAX_RECORDED_SECONDS,
    PollRefused,
    check_poll,
    close_poll,
    create_poll,
    poll_results,
    question_audio,
    record_question,
)

bp = Blueprint("polls", __name__, url_prefix="/radio/polls")
bp.after_request(secure_page)
audio_bp = Blueprint("poll_audio", __name__, url_prefix="/polls")

LANG = re.compile(r"^[a-z]{2,3}$")
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields around a recorded question
RECORDER = "recorder"  # the X-Requested-With of the page's own recorder: it wants a status and a plain reason


def _from_recorder() -> bool:
    return request.headers.get("X-Requested-With") == RECORDER


def _refused(reason: str, status: int, *, refill: bool = True) -> Response | tuple[str, int]:
    """Refuse a request: the recorder gets the reason as plain text to show, a form post the page again."""
    if _from_recorder():
        return Response(reason, status=status, mimetype="text/plain")
    return _page(reason, status, refill=refill)


def _page(error: str = "", status: int = 200, *, refill: bool = True) -> tuple[str, int]:
    svc = services()
    with svc.db.session() as session:
        polls = list(session.query(RadioPoll).order_by(RadioPoll.id.desc()).limit(20))
        rows = [(p, poll_results(session, p.id)) for p in polls]
    offered = {p.id: offered_languages(p, svc.say_voices) for p in polls}
    recorded = {p.id: recorded_languages(p) for p in polls}
    # The page's recorder is offered where a recording is needed (or is what callers hear now, to redo it).
    recordable = {p.id: [lang for lang, yes in offered[p.id].items() if not yes or lang in recorded[p.id]]
                  for p in polls}
    return render_template("radio/polls.html", rows=rows, languages=svc.menus.languages, max_options=MAX_OPTIONS,
                           error=error, form=request.form if error and refill else {}, offered=offered,
                           recorded=recorded, recordable=recordable, max_seconds=int(MAX_RECORDED_SECONDS),
                           voiced={lang for lang, voice in svc.say_voices.items() if voice},
                           max_bytes=MAX_RECORDED_BYTES), status


def offered_languages(poll: RadioPoll, say_voices: Mapping[str, str]) -> dict[str, bool]:
    """Say, per language of the poll, whether its callers are offered it (as ivr/voice/poll_offer.py decides)."""
    spoken, audio = json.loads(poll.spoken), json.loads(poll.audio)
    return {lang: lang in audio or bool(say_voices.get(lang) and spoken.get(lang)) for lang in say_voices}


def recorded_languages(poll: RadioPoll) -> set[str]:
    """Return the languages whose question callers hear in a host's recording (not a rendered voice)."""
    return {lang for lang, entry in json.loads(poll.audio).items() if entry.get("recorded")}


@bp.before_request
def recording_body_limit() -> None:
    """Let the recording route (only) take a question's audio up to MAX_RECORDED_BYTES."""
    if request.endpoint == "polls.record":
        request.max_content_length = MAX_RECORDED_BYTES + FORM_OVERHEAD


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge) -> Response | tuple[str, int]:
    """Say how big a recorded question may be (or that a poll's form was too big), instead of a bare 413."""
    if request.endpoint == "polls.record":
        reason = (f"Recording not kept: the audio is larger than the {MAX_RECORDED_BYTES} bytes allowed "
                  f"(a question may last at most {MAX_RECORDED_SECONDS:.0f} s).")
    else:
        reason = "Not done: the form was larger than this page accepts."
    # refill=False: the body was refused unread, and reading request.form again would only raise again.
    return _refused(reason, 413, refill=False)


def _plain_for_recorder(exc: HTTPException) -> Response | HTTPException:
    """Give the page's recorder a refusal it can show (stale CSRF token, login ended, wrong role) as plain text."""
    if not _from_recorder():
        return exc
    return Response(f"Recording not kept: {exc.description}", status=exc.code, mimetype="text/plain")


for _status in (400, 401, 403):
    bp.register_error_handler(_status, _plain_for_recorder)


@bp.get("/")
@login_required("radio")
def index() -> tuple[str, int]:
    """List recent polls with their results, and the form to open a new one."""
    return _page()


@bp.post("/")
@login_required("radio")
def create() -> Response | tuple[str, int]:
    """Open a poll from the form; refuse bad input with a 400 that says what was wrong."""
    svc = services()
    spoken = {code: request.form.get(f"spoken_{code}", "") for code in svc.menus.languages}
    options = [request.form.get(f"option_{i}", "") for i in range(1, 20)]
    try:
        draft = check_poll(request.form.get("question", ""), options, spoken, tuple(svc.menus.languages))
        with svc.db.session() as session:
            user = current_user()
            poll = create_poll(session, draft, user_id=user.id if user else None, data_dir=svc.config.data_dir)
            record_audit(session, user.id if user else None, "poll_open", "radio_poll", poll.id)
            poll_id = poll.id
    except PollRefused as exc:
        return _page(f"Poll not opened: {exc}.", 400)
    flash(f"Poll {poll_id} is open: callers hear it on key 4 of the main menu.")
    return redirect(url_for("polls.index"))  # type: ignore[return-value]


@bp.post("/<int:poll_id>/close")
@login_required("radio")
def close(poll_id: int) -> Response | tuple[str, int]:
    """Close a poll: key 4 disappears from the main menu at once; votes stop."""
    svc = services()
    try:
        with svc.db.session() as session:
            close_poll(session, poll_id)
            user = current_user()
            record_audit(session, user.id if user else None, "poll_close", "radio_poll", poll_id)
    except PollRefused as exc:
        return _page(f"{exc}.", 404)
    flash(f"Poll {poll_id} is closed.")
    return redirect(url_for("polls.index"))  # type: ignore[return-value]


@bp.post("/<int:poll_id>/recording")
@login_required("radio")
def record(poll_id: int) -> Response | tuple[str, int]:
    """Keep the host's recording of the question in one language (`lang`, file `audio`): then it is offered.

    The upload form and the page's recorder (`source=browser`, header X-Requested-With: recorder) post the
    same fields and pass the same checks; the recorder is answered 201 with the page to reload, or the
    refusal's status with its reason as plain text.
    """
    svc = services()
    lang = request.form.get("lang", "")
    source = "browser" if request.form.get("source") == "browser" else "upload"
    sent = request.files.get("audio")
    try:
        if sent is None or not sent.filename:
            raise PollRefused("no audio file was chosen")
        data = sent.read(MAX_RECORDED_BYTES + 1)
        with svc.db.session() as session:
            record_question(session, poll_id, lang, data, data_dir=svc.config.data_dir,
                            languages=tuple(svc.menus.languages))
            user = current_user()
            record_audit(session, user.id if user else None, "poll_recording", "radio_poll", poll_id,
                         f"lang={lang} source={source}")
    except PollRefused as exc:
        return _refused(f"Recording not kept: {exc}.", 400)
    flash(f"Recorded question kept: callers in {lang} are now offered poll {poll_id}.")
    if _from_recorder():
        # The recorder reloads the page itself (where the flash shows): answer where to go, not a redirect.
        return Response(url_for("polls.index"), status=201, mimetype="text/plain")
    return redirect(url_for("polls.index"))  # type: ignore[return-value]


@audio_bp.get("/<int:poll_id>/<lang>.wav")
def question(poll_id: int, lang: str) -> Response:
    """Serve a poll's spoken question to Twilio's <Play> (a broadcast question: nothing personal)."""
    if not LANG.match(lang):
        abort(404)
    svc = services()
    with svc.db.session() as session:
        poll = session.get(RadioPoll, poll_id)
        path = question_audio(svc.config.data_dir, poll, lang) if poll is not None else None
    if path is None:
        abort(404, description="no such poll question audio")
    response = send_file(path, mimetype="audio/wav", conditional=True, max_age=3600)
    return response
