"""The phone in the browser (/operator/phone): admins and operators ring the line as a caller hears it.

The browser never talks to the voice webhooks itself (it cannot sign for Twilio): each of its turns
comes here, and the server plays Twilio's part through ivr/voice/web_phone.py — signed requests to
the very /voice/* routes Twilio calls, in this process — then answers with what the caller heard and a
token holding the rest of the TwiML (signed with SECRET_KEY, so only TwiML the hotline wrote is
resumed). A recording is converted to 8 kHz WAV and served Twilio-style at
/operator/phone/media/Recordings/<sid>: the hotline fetches it from there with the account SID and
auth token, exactly as it fetches Twilio's, and the page plays it back to a logged-in operator.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, session
from itsdangerous import BadSignature, URLSafeSerializer

from ivr.core.pages import csp_nonce, secure_page
from ivr.core.services import Services, services
from ivr.operator import views
from ivr.voice.emulator import CallError, FlaskTransport, describe_audio
from ivr.voice.web_phone import Turn, WebPhone
from speech.telephone_audio import UndecodableAudio, check_playable, decode, to_telephone, write_telephone_wav

bp = Blueprint("operator_phone", __name__, url_prefix="/operator/phone")
FORM_OVERHEAD = 64 * 1024


@bp.before_request
def allow_takes() -> None:
    """Let a turn carry a recorded take (the app's limit is sized for Twilio's small forms)."""
    if request.endpoint == "operator_phone.step":
        request.max_content_length = services().config.answer_upload_max_bytes + FORM_OVERHEAD


bp.before_request(views.guard)
bp.context_processor(views.template_helpers)
media_bp = Blueprint("operator_phone_media", __name__, url_prefix="/operator/phone/media")

SALT = "operator-phone"
SID_CHARS = frozenset("0123456789abcdef")
TEST_NUMBERS = "+999"  # country code 999 is unassigned: no real phone has these numbers


@bp.after_request
def headers(resp: Response) -> Response:
    """The page runs one nonce'd script; it plays our audio and the microphone's blob, posts only to us."""
    return secure_page(resp)


@bp.get("")
def page() -> str:
    """Show the phone: language, returning-caller switch, keypad, recorder, and what was heard."""
    svc = services()
    languages = [svc.menus.languages[c] for c in svc.offered_languages()]
    return render_template("operator/phone.html", languages=languages, csp_nonce=csp_nonce,
                           max_seconds=svc.config.recording_max_seconds)


@bp.post("/call")
def call() -> Response | tuple[Response, int]:
    """Place a call: a new caller (language menu) or a returning one remembered in `language`."""
    svc = services()
    language = request.form.get("language", "")
    returning = request.form.get("returning") == "1"
    if returning and language not in svc.offered_languages():
        return jsonify(error=f"language must be one of {', '.join(svc.offered_languages())}"), 400
    try:
        number = _returning_number(svc, language) if returning else _new_number()
        phone = _phone(svc, "CA" + secrets.token_hex(16), number)
        return jsonify(_turn_json(svc, phone, phone.start()))
    except CallError as exc:
        return jsonify(error=f"the hotline did not answer as Twilio expects: {exc}"), 502


@bp.post("/step")
def step() -> Response | tuple[Response, int]:
    """The caller acts: keys, silence, a recording (microphone or file), or hanging up."""
    svc = services()
    try:
        carried = URLSafeSerializer(svc.config.secret_key, salt=SALT).loads(request.form.get("token", ""))
    except BadSignature:
        return jsonify(error="this call's token is not one this hotline gave; place a new call"), 400
    phone = _phone(svc, str(carried["sid"]), str(carried["from"]))
    rest, action = str(carried["rest"]), request.form.get("action", "")
    try:
        if action == "keys":
            digits = request.form.get("digits", "")
            if len(digits) > 13 or any(c not in "0123456789*#" for c in digits):
                return jsonify(error="keys are 0-9, * and #, at most 13"), 400
            turn = phone.keys(rest, digits)
        elif action == "silence":
            turn = phone.keys(rest, "") if carried["wait"] == "keys" else phone.record(rest, None)
        elif action == "record":
            upload = request.files.get("audio")
            if upload is None:
                return jsonify(error="no audio file was sent"), 400
            try:
                sid, seconds = _store_take(svc, upload.read())
            except ValueError as exc:
                return jsonify(error=str(exc)), 400
            turn = phone.record(rest, (sid, f"{svc.config.public_base_url}/operator/phone/media/Recordings/{sid}",
                                       seconds))
        elif action == "hangup":
            turn = phone.hang_up()
        else:
            return jsonify(error="action must be keys, silence, record or hangup"), 400
    except CallError as exc:
        return jsonify(error=f"the hotline did not answer as Twilio expects: {exc}"), 502
    return jsonify(_turn_json(svc, phone, turn))


@media_bp.get("/Recordings/<name>")
def media(name: str) -> Response:
    """Serve a take as Twilio serves a recording: to the hotline's fetcher (basic auth) or a logged-in operator."""
    svc = services()
    sid = name.removesuffix(".wav")
    if not (sid.startswith("RE") and len(sid) == 34 and set(sid[2:]) <= SID_CHARS):
        abort(404)
    if not (_fetcher_authorised(svc) or views._logged_in(svc)):
        return Response("Twilio-style basic auth (account SID, auth token) required", 401,
                        {"WWW-Authenticate": 'Basic realm="Recordings"'})
    try:
        data = (_media_dir(svc) / f"{sid}.wav").read_bytes()  # a take is a few hundred kilobytes at most
    except OSError:
        abort(404)
    resp = Response(data, mimetype="audio/wav")
    resp.cache_control.no_store = True
    return resp


def _fetcher_authorised(svc: Services) -> bool:
    """Check HTTP basic auth against TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, as Twilio's media URLs do."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic ") or not svc.config.twilio_account_sid:
        return False
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    return (hmac.compare_digest(user, svc.config.twilio_account_sid)
            & hmac.compare_digest(password, svc.config.twilio_auth_token))


def _media_dir(svc: Services) -> Path:
    return Path(svc.config.data_dir) / "phone-media"


def _store_take(svc: Services, data: bytes) -> tuple[str, int]:
    """Convert what the caller "said" to 8 kHz mono WAV under phone-media/; return its sid and seconds."""
    if not data:
        raise ValueError("the recording is empty")
    if len(data) > svc.config.answer_upload_max_bytes:
        raise ValueError(f"the recording has {len(data)} bytes, more than {svc.config.answer_upload_max_bytes}")
    try:
        pcm = decode(data)
    except UndecodableAudio as exc:
        raise ValueError(f"not audio this hotline can read (WAV, MP3, OGG or FLAC): {exc}") from exc
    if not 0 < pcm.duration_s <= svc.config.recording_max_seconds:
        raise ValueError(f"a message lasts 1 to {svc.config.recording_max_seconds} s; this one "
                         f"{pcm.duration_s:.0f} s")
    sid = "RE" + secrets.token_hex(16)
    folder = _media_dir(svc)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sid}.wav"
    write_telephone_wav(to_telephone(pcm), path)
    check = check_playable(path, min_duration_s=0.1)
    if not check.playable:
        path.unlink(missing_ok=True)
        raise ValueError("; ".join(check.problems))
    return sid, max(1, round(check.duration_s))


def _new_number() -> str:
    return TEST_NUMBERS + "".join(secrets.choice("0123456789") for _ in range(9))


def _returning_number(svc: Services, language: str) -> str:
    """Return this login's test number remembered in `language`, choosing it once in a short call first.

    The first call goes through the same signed webhooks: the language menu, the language's key, hang up.
    """
    numbers: dict[str, str] = dict(session.get("phone_numbers") or {})
    if language in numbers:
        return numbers[language]
    number = _new_number()
    phone = _phone(svc, "CA" + secrets.token_hex(16), number)
    turn = phone.start()
    if turn.wait == "keys":
        phone.keys(turn.rest, svc.menus.languages[language].key)
    phone.hang_up()
    numbers[language] = number
    session["phone_numbers"] = numbers
    return number


def _phone(svc: Services, sid: str, number: str) -> WebPhone:
    transport = FlaskTransport(current_app.test_client())  # the real routes, signatures checked, in this process
    return WebPhone(transport, svc.config.twilio_auth_token, svc.config.public_base_url,
                    svc.config.twilio_account_sid or "AC" + "0" * 32, sid, number)


def _turn_json(svc: Services, phone: WebPhone, turn: Turn) -> dict[str, Any]:
    """What the page needs: each thing heard with its words and a local URL, the wait, the signed rest."""
    def text_of(lang: str, pid: str) -> str | None:
        language = svc.menus.languages.get(lang)
        return language.prompts.get(pid) if language is not None else None

    base = svc.config.public_base_url
    heard = []
    for item in turn.heard:
        url = item["url"]
        local = url[len(base):] if url.startswith(base + "/") else ""
        text = item["text"] if item["kind"] != "play" else describe_audio(url, text_of)
        heard.append({"kind": item["kind"], "text": text, "url": local, "language": item["language"]})
    token = ""
    if turn.wait != "ended":
        token = URLSafeSerializer(svc.config.secret_key, salt=SALT).dumps(
            {"sid": phone.call_sid, "from": phone.from_number, "rest": turn.rest, "wait": turn.wait})
    return {"heard": heard, "wait": turn.wait, "token": token, "num_digits": turn.num_digits,
            "finish_on_key": turn.finish_on_key}
