"""The operator page: hear every prompt, replace one with a native speaker's recording, mark reviews.

Until the officials' accounts exist, one operator token from the config (HOTLINE_OPERATOR_TOKEN)
opens it; with no token set the page does not exist (404). Views stay thin: the checks live in
prompt_recordings, prompt_reviews and prompt_audio.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, session, url_for
from sqlalchemy import select, update
from werkzeug.exceptions import RequestEntityTooLarge

from ivr.core.audit import record_audit
from ivr.core.auth import current_user
from ivr.core.csrf import check_csrf, csrf_token, rotate_csrf_token
from ivr.core.models.accounts import OperatorSession
from ivr.core.models.base import utcnow
from ivr.core.prompt_audio import MISSING, PromptFile
from ivr.core.services import Services, services
from ivr.operator.recordings import ACCEPTED, MAX_SECONDS, RecordingRejected, store_recording
from ivr.operator.reviews import mark_reviewed, review_of
from menus import Language

log = logging.getLogger(__name__)
bp = Blueprint("operator", __name__, url_prefix="/operator")

FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the CSRF field around an uploaded file
SESSION_KEY = "operator"
OPEN_ENDPOINTS = {"operator.login"}
# No scripts at all; forms post only to us; audio only from us; never framed (no clickjacking).
CSP = ("default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class PromptRow:
    """One line of a language's page: the prompt, its text and the audio callers hear."""

    prompt_id: str
    text: str
    source: str  # human, synthesised or missing
    audio: PromptFile | None


def _fingerprint(svc: Services) -> str:
    # The session cookie is signed, not encrypted: it holds a keyed hash of the token, never the token.
    # Changing the token therefore logs every operator out.
    key = svc.config.secret_key.encode()
    return hmac.new(key, svc.config.operator_token.encode(), hashlib.sha256).hexdigest()


def _logged_in(svc: Services) -> bool:
    if _admin():
        return True
    fingerprint, _, token = str(session.get(SESSION_KEY, "")).partition(":")
    return (bool(svc.config.operator_token and token) and hmac.compare_digest(fingerprint, _fingerprint(svc))
            and _session_open(svc, token))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _session_open(svc: Services, token: str) -> bool:
    """Tell whether this operator login is still open in SQL: a logout ends it for every copy of the cookie."""
    with svc.db.session() as db:
        return db.scalar(select(OperatorSession.id).where(OperatorSession.token_hash == _token_hash(token),
                                                          OperatorSession.ended_at.is_(None))) is not None


def _admin() -> bool:
    """Return whether a dashboard admin is logged in (an admin account opens this page too)."""
    user = current_user()
    return user is not None and user.role == "admin"


@bp.before_request
def guard() -> Response | None:
    """Hide the page when it is off, check CSRF on every POST, and send strangers to the login form."""
    svc = services()
    if not svc.config.operator_token and not _admin():
        abort(404)
    if request.endpoint == "operator.upload":
        request.max_content_length = svc.config.prompt_upload_max_bytes + FORM_OVERHEAD
    if request.method == "POST":
        check_csrf()
    if request.endpoint not in OPEN_ENDPOINTS and not _logged_in(svc):
        return redirect(url_for("operator.login"))  # type: ignore[return-value]
    return None


@bp.after_request
def security_headers(resp: Response) -> Response:
    """Forbid framing, sniffing, scripts and caching of pages that can change what callers hear."""
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.cache_control.no_store = True
    return resp


@bp.context_processor
def template_helpers() -> dict[str, object]:
    """Give the templates the CSRF token and the upload limits they show."""
    return {"csrf_token": csrf_token, "logged_in": _logged_in(services()), "max_seconds": int(MAX_SECONDS),
            "accepted": ACCEPTED}


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    """Say which prompt's upload was too big, instead of a bare 413."""
    args = request.view_args or {}
    limit = services().config.prompt_upload_max_bytes
    if request.endpoint == "operator.upload" and args.get("lang") in services().menus.languages:
        reason = RecordingRejected(f"the file is larger than the {limit} bytes allowed",
                                   language=str(args["lang"]), prompt_id=str(args.get("prompt_id")))
        return _language_page(str(args["lang"]), error=str(reason), status=413)
    return render_template("operator/login.html", error="The request was too large."), 413


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int] | str:
    """Open the operator page for whoever knows the operator token."""
    svc = services()
    if request.method == "GET":
        return render_template("operator/login.html", error="")
    sent = request.form.get("token", "")
    if not hmac.compare_digest(sent.encode(), svc.config.operator_token.encode()):
        log.warning("operator login refused")
        return render_template("operator/login.html", error="That token is not right."), 403
    token = secrets.token_urlsafe(32)
    with svc.db.session() as db:
        db.add(OperatorSession(token_hash=_token_hash(token)))
    session.clear()
    session[SESSION_KEY] = f"{_fingerprint(svc)}:{token}"
    rotate_csrf_token()  # a token planted before login is worthless after it
    log.info("operator logged in")
    return redirect(url_for("operator.languages"))  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    """End the operator's session in SQL and in the cookie (a POST with CSRF, so another site cannot log them out)."""
    _, _, token = str(session.get(SESSION_KEY, "")).partition(":")
    if token:
        with services().db.session() as db:
            db.execute(update(OperatorSession).where(OperatorSession.token_hash == _token_hash(token))
                       .values(ended_at=utcnow()))
    session.clear()
    return redirect(url_for("operator.login"))  # type: ignore[return-value]


@bp.get("/")
@bp.get("/prompts")
def languages() -> str:
    """List the languages: how much of each has audio, whether callers are offered it, its review."""
    svc = services()
    library = svc.prompts.library
    offered = set(library.offered())
    rows = [(lang, library.coverage(lang.code), review_of(lang, svc.config.data_dir), lang.code in offered)
            for lang in sorted(svc.menus.languages.values(), key=lambda lang: lang.key)]
    return render_template("operator/languages.html", rows=rows)


@bp.get("/prompts/<lang>")
def language(lang: str) -> str | tuple[str, int]:
    """List every prompt of a language with a player, its source and an upload form."""
    return _language_page(lang)


@bp.post("/prompts/<lang>/<prompt_id>/recording")
def upload(lang: str, prompt_id: str) -> Response | str | tuple[str, int]:
    """Replace a prompt's audio with an uploaded human recording, once it passed every check."""
    svc = services()
    _language_or_404(svc, lang)
    if prompt_id not in svc.prompts.library.required:
        abort(404)
    sent = request.files.get("recording")
    if sent is None or not sent.filename:
        error = RecordingRejected("no file was chosen", language=lang, prompt_id=prompt_id)
        return _language_page(lang, error=str(error), status=400)
    data = sent.read(svc.config.prompt_upload_max_bytes + 1)
    try:
        seconds = store_recording(data, folder=svc.config.prompt_recordings_dir, language=lang, prompt_id=prompt_id,
                                  max_bytes=svc.config.prompt_upload_max_bytes)
    except RecordingRejected as exc:
        log.info("prompt recording refused: %s/%s: %s", lang, prompt_id, exc.reason)
        _audit("prompt_upload_refused", f"{lang}/{prompt_id}", exc.reason)
        return _language_page(lang, error=str(exc), status=400)
    _audit("prompt_upload", f"{lang}/{prompt_id}", f"{seconds:.1f} s")
    svc.prompts.library.refresh()
    log.info("prompt recording stored: %s/%s (%.1f s)", lang, prompt_id, seconds)
    flash(f"The recording of {prompt_id} ({lang}, {seconds:.1f} s) is now what callers hear.")
    return redirect(url_for("operator.language", lang=lang, _anchor=f"prompt-{prompt_id}"))  # type: ignore[return-value]


@bp.post("/prompts/<lang>/reviewed")
def reviewed(lang: str) -> Response:
    """Record that a native speaker reviewed the language's current prompt texts."""
    svc = services()
    language = _language_or_404(svc, lang)
    mark_reviewed(language, svc.config.data_dir, request.form.get("reviewer", ""))
    _audit("prompts_reviewed", lang, f"reviewer={request.form.get('reviewer', '')[:100]}")
    log.info("prompts of %s marked reviewed", lang)
    flash(f"{language.name} ({lang}) is marked reviewed. Editing any of its prompts makes it a draft again.")
    return redirect(url_for("operator.language", lang=lang))  # type: ignore[return-value]


def _audit(action: str, target: str, detail: str) -> None:
    """Keep an operator's change to what callers hear in the audit log: an admin by id, else "operator token"."""
    user = current_user()
    with services().db.session() as db:
        record_audit(db, user.id if user is not None else None, action, "prompt", target,
                     f"{'admin' if user is not None else 'operator token'}; {detail}")


def _language_or_404(svc: Services, code: str) -> Language:
    language = svc.menus.languages.get(code)
    if language is None:
        abort(404)
    return language


def _language_page(code: str, *, error: str = "", status: int = 200) -> tuple[str, int]:
    svc = services()
    language = _language_or_404(svc, code)
    library = svc.prompts.library
    rows = []
    for pid in library.required:
        audio = library.find(code, pid)
        rows.append(PromptRow(pid, language.prompts.get(pid, ""), audio.source if audio else MISSING, audio))
    page = render_template("operator/language.html", language=language, rows=rows, error=error,
                           coverage=library.coverage(code), review=review_of(language, svc.config.data_dir),
                           offered=code in library.offered())
    return page, status
