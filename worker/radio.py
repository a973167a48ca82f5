"""Background jobs for the radio: store a period's summary, build a bulletin's MP3.

Both take plain values or ids, are enqueued by name (ivr.radio.schedule) and are idempotent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from ivr.core.models import utcnow
from ivr.core.runtime import current_config, current_db
from ivr.radio.bulletin import build_bulletin as build
from ivr.radio.period import Period, last
from ivr.radio.station import Station
from ivr.radio.summary import store_summary
from ivr.radio.themes import redact_new_transcripts

log = logging.getLogger(__name__)


def summarise_period(start: str, end: str, language: str = "") -> int:
    """Summarise [start, end) for one language ("" = all) and keep it; return the summary's id.

    Idempotent: the summary is stored once per period and language (a repeat replaces it with the
    latest figures), and transcripts already redacted are not redacted again.
    """
    config = current_config()
    station = Station.for_config(config)
    period = Period(datetime.fromisoformat(start), datetime.fromisoformat(end))
    with current_db().session() as session:
        summary = station.summarise(session, period, language=language or None)
        row = store_summary(session, summary)
        session.flush()
        log.info("radio summary %s stored for %s (%s)", row.id, period.key(), language or "all languages")
        return row.id


def redact_recent(days: int = 15) -> int:
    """Redact (once) every transcript of the last `days` days not yet redacted; return how many.

    Idempotent: a transcript already redacted is skipped. The scheduler queues this every few
    minutes, so a summary or a host's page rarely has a transcript left to redact itself.
    """
    with current_db().session() as session:
        count = redact_new_transcripts(session, last(timedelta(days=days), utcnow()))
    if count:
        log.info("radio: %d new transcript(s) redacted", count)
    return count


def build_bulletin(bulletin_id: int) -> str:
    """Render a bulletin's MP3 (see ivr.radio.bulletin.build_bulletin); return its status.

    Idempotent: a bulletin that is already ready or published is left as it is.
    """
    config = current_config()
    with current_db().session() as session:
        status = build(session, Station.for_config(config), config, bulletin_id)
    log.info("radio bulletin %s: %s", bulletin_id, status)
    return status
