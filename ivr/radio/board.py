"""The live call-in board for radio hosts: new messages and poll results, as server-sent events.

GET /radio/board shows the latest messages; GET /radio/board/events streams what arrives after
them. Each message event's id is the message id, so a browser that reconnects sends Last-Event-ID
and misses nothing. The stream polls the database by id (once a second: a primary-key range scan),
which works whichever process stored the message and on SQLite and PostgreSQL alike. A comment
line every HEARTBEAT_SECONDS keeps proxies from closing a quiet stream, and each connection ends
after HOTLINE_BOARD_STREAM_SECONDS (the browser reconnects at once), so a gunicorn thread is never
held for ever.

A host sees the topic, place and language of every message, and the REDACTED transcript
(ivr/core/redact.py) only of one whose caller agreed to radio (ivr/core/disclosure.py: the words of any
other are not even read from the database): never the reference number, the caller or the recording,
none of which is ever queried here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, stream_with_context
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ivr.core.auth import login_required
from ivr.core.db import Database
from ivr.core.disclosure import MessageFacts, allowed, may_see
from ivr.core.local_time import parse_timezone, to_local
from ivr.core.models import Message, Transcript
from ivr.core.pages import secure_page
from ivr.core.redact import redact
from ivr.core.services import services
from ivr.radio.polls import open_poll, poll_results
from menus import Menus

UTC_ZONE = ZoneInfo("UTC")
bp = Blueprint("board", __name__, url_prefix="/radio/board")
bp.after_request(secure_page)

PAGE_MESSAGES = 30
BATCH = 50
TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 2000
PENDING_LOOKBACK = 50  # on (re)connect, watch this many earlier messages for a transcript still to come


@dataclass(frozen=True)
class BoardItem:
    """One message as a host sees it on air: nothing that identifies the caller."""

    id: int
    time: str  # HH:MM in the hotline's time zone (HOTLINE_TIMEZONE), as the station's clock shows it
    topic: str
    place: str
    language: str
    transcript: str  # redacted; "" while transcription is pending, or when the caller did not agree to radio
    pending: bool
    on_air: bool  # the caller agreed to radio: their (redacted) words may be shown
    checked: bool = False  # a person listened and checked the words; else the machine's guess, marked so


def board_items(session: Session, menus: Menus, *, after: int = 0, before: int | None = None,
                ids: Sequence[int] | None = None, limit: int = BATCH, newest: bool = False,
                zone: ZoneInfo = UTC_ZONE) -> list[BoardItem]:
    """Load messages by id with their redacted transcripts (one query); only the columns shown."""
    query = (select(Message.id, Message.created_at, Message.topic, Message.place, Message.language,
                    Message.pipeline, func.coalesce(Transcript.checked_text, Transcript.text),
                    Transcript.checked_at, Message.consent)
             .outerjoin(Transcript, and_(Transcript.message_id == Message.id, allowed("radio", "redacted_words")))
             .where(Message.id > after))
    if before is not None:
        query = query.where(Message.id <= before)
    if ids is not None:
        query = query.where(Message.id.in_(list(ids)))
    query = query.order_by(Message.id.desc() if newest else Message.id).limit(limit)
    items = []
    for mid, created, topic, place, language, pipeline, text, checked_at, consent in session.execute(query):
        on_air = may_see("radio", "redacted_words", MessageFacts(consent))
        items.append(BoardItem(
            id=mid, time=f"{to_local(created, zone):%H:%M}", topic=_name(menus, "topic", topic),
            place=_name(menus, "place", place), language=_language(menus, language),
            transcript=redact(text).text if text and on_air else "",
            # Waiting for speech recognition; a message no engine can hear stays without text.
            pending=on_air and text is None and pipeline in ("received", "stored"), on_air=on_air,
            checked=on_air and checked_at is not None))
    return items


def poll_snapshot(session: Session) -> dict[str, object] | None:
    """Return the open poll's question and live results, or None when no poll is open."""
    poll = open_poll(session)
    if poll is None:
        return None
    results = poll_results(session, poll.id)
    return {"id": poll.id, "question": poll.question,
            "results": [{"key": k, "label": label, "votes": n} for k, label, n in results],
            "total": sum(n for _, _, n in results)}


def events(db: Database, menus: Menus, last_id: int, *, seconds: float, tick: float = TICK_SECONDS,
           heartbeat: float = HEARTBEAT_SECONDS, zone: ZoneInfo = UTC_ZONE) -> Iterator[str]:
    """Yield SSE frames: messages after last_id, transcripts that arrive, poll results; then stop.

    Each frame is built from short sessions opened per tick, so no connection or transaction is held
    between ticks (SQLite writers are never blocked by a board left open).
    """
    deadline = time.monotonic() + seconds
    yield f"retry: {RETRY_MS}\n\n"
    with db.session() as session:
        pending = {i.id for i in board_items(session, menus, after=max(0, last_id - PENDING_LOOKBACK),
                                             before=last_id, limit=PENDING_LOOKBACK, zone=zone) if i.pending}
    poll_seen: object = ...
    beat = time.monotonic()
    while True:
        frames: list[str] = []
        with db.session() as session:
            for item in board_items(session, menus, after=last_id, zone=zone):
                last_id = item.id
                frames.append(_frame("message", asdict(item), item.id))
                if item.pending:
                    pending.add(item.id)
            if pending:
                for item in board_items(session, menus, ids=sorted(pending), zone=zone):
                    if not item.pending:
                        pending.discard(item.id)
                        frames.append(_frame("update", asdict(item)))
            poll = poll_snapshot(session)
        if poll != poll_seen:
            poll_seen = poll
            frames.append(_frame("poll", poll))
        now = time.monotonic()
        if not frames and now - beat >= heartbeat:
            frames.append(": keep-alive\n\n")
        if frames:
            beat = now
            yield "".join(frames)
        if now >= deadline:
            return
        time.sleep(min(tick, max(0.0, deadline - now)))


def parse_last_id(header: str | None, query: str | None) -> int | None:
    """Read where to resume: the Last-Event-ID header, else ?after=; None when neither is a sane id."""
    raw = header if header else query
    if raw is None or raw == "":
        return 0
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


@bp.get("/")
@login_required("radio")
def index() -> str:
    """Show the latest messages and the open poll; the page's script then follows the event stream."""
    svc = services()
    with svc.db.session() as session:
        items = board_items(session, svc.menus, limit=PAGE_MESSAGES, newest=True,
                            zone=parse_timezone(svc.config.timezone))
        poll = poll_snapshot(session)
    last_id = items[0].id if items else 0
    return render_template("radio/board.html", items=items, poll=poll, last_id=last_id)


@bp.get("/events")
@login_required("radio")
def stream() -> Response:
    """Stream server-sent events from Last-Event-ID (or ?after=) on, for a bounded time."""
    svc = services()
    last_id = parse_last_id(request.headers.get("Last-Event-ID"), request.args.get("after"))
    if last_id is None:
        return Response("Last-Event-ID (or after=) must be a message id: digits only\n", status=400,
                        mimetype="text/plain")
    body = events(svc.db, svc.menus, last_id, seconds=svc.config.board_stream_seconds,
                  zone=parse_timezone(svc.config.timezone))
    response = Response(stream_with_context(body), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _frame(event: str, data: object, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _name(menus: Menus, kind: str, code: str | None) -> str:
    if code is None:
        return "not given"
    english = menus.languages.get("en")
    text = (english.prompts.get(f"{kind}_{code}") if english else None) or code
    return text[:1].upper() + text[1:]


def _language(menus: Menus, code: str) -> str:
    lang = menus.languages.get(code)
    return lang.name if lang else code
