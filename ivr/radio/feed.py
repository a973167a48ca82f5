"""The podcast feed of published bulletins: RSS 2.0, valid even when nothing is published yet.

Each item's enclosure names the MP3 with its exact length in bytes and type audio/mpeg, as RSS 2.0
requires; the guid changes when a bulletin's audio does, so podcast apps fetch the new file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from ivr.core.models.radio import RadioBulletin

ATOM = "http://www.w3.org/2005/Atom"
MAX_ITEMS = 50


def rfc822(moment: datetime) -> str:
    """Write a naive UTC time as RSS wants it (RFC 822): "Mon, 23 Nov 2026 09:00:00 +0000"."""
    return format_datetime(moment.replace(tzinfo=UTC))


def bulletin_url(base_url: str, bulletin_id: int) -> str:
    return f"{base_url}/radio/bulletins/{bulletin_id}.mp3"


def render_feed(bulletins: Sequence[RadioBulletin], *, station: str, base_url: str, language: str,
                titles: dict[int, str], now: datetime) -> bytes:
    """Return the RSS 2.0 document for the given published bulletins, newest first."""
    ET.register_namespace("atom", ATOM)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", f"{station}: what callers raised")
    _text(channel, "link", f"{base_url}/radio/feed.xml")
    _text(channel, "description", f"Bulletins of {station}: what callers raised on the Talanoa Hotline and "
                                  "what the agencies did about it.")
    _text(channel, "language", language)
    _text(channel, "lastBuildDate", rfc822(now))
    ET.SubElement(channel, f"{{{ATOM}}}link", {"href": f"{base_url}/radio/feed.xml", "rel": "self",
                                                "type": "application/rss+xml"})
    for bulletin in list(bulletins)[:MAX_ITEMS]:
        if bulletin.published_at is None or not bulletin.size_bytes:
            continue
        item = ET.SubElement(channel, "item")
        _text(item, "title", titles.get(bulletin.id, f"Bulletin {bulletin.id}"))
        _text(item, "description", bulletin.script)
        _text(item, "pubDate", rfc822(bulletin.published_at))
        guid = ET.SubElement(item, "guid", {"isPermaLink": "false"})
        guid.text = f"talanoa-bulletin-{bulletin.id}-{(bulletin.sha256 or '')[:12]}"
        ET.SubElement(item, "enclosure", {"url": bulletin_url(base_url, bulletin.id),
                                          "length": str(bulletin.size_bytes), "type": "audio/mpeg"})
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="utf-8")


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text
