"""The podcast feed of published bulletins: RSS 2.0, valid even when nothing is published yet.

Each item's enclosure names the MP3 with its exact length in bytes and type audio/mpeg, as RSS 2.0
requires; the guid changes when a bulletin's audio does, so podcast apps fetch the new file. The
iTunes tags podcast directories ask for are there too: author, cover image, category, explicit, and
each item's duration; every item has its own title (period, place, language).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from ivr.core.models.radio import RadioBulletin

ATOM = "http://www.w3.org/2005/Atom"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CATEGORY = "Government"  # Apple's podcast category for civic and public-service programmes
COVER_SIDE = 1400  # pixels: the smallest square cover Apple Podcasts accepts
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
    ET.register_namespace("itunes", ITUNES)
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
    _text(channel, f"{{{ITUNES}}}author", station)
    ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": f"{base_url}/radio/cover.png"})
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": CATEGORY})
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    for bulletin in list(bulletins)[:MAX_ITEMS]:
        if bulletin.published_at is None or not bulletin.size_bytes:
            continue
        item = ET.SubElement(channel, "item")
        title = titles.get(bulletin.id, f"Bulletin {bulletin.id}")
        _text(item, "title", title)
        _text(item, f"{{{ITUNES}}}title", title)
        if bulletin.duration_seconds:
            _text(item, f"{{{ITUNES}}}duration", duration(bulletin.duration_seconds))
        _text(item, "description", bulletin.script)
        _text(item, "pubDate", rfc822(bulletin.published_at))
        guid = ET.SubElement(item, "guid", {"isPermaLink": "false"})
        guid.text = f"talanoa-bulletin-{bulletin.id}-{(bulletin.sha256 or '')[:12]}"
        ET.SubElement(item, "enclosure", {"url": bulletin_url(base_url, bulletin.id),
                                          "length": str(bulletin.size_bytes), "type": "audio/mpeg"})
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="utf-8")


def duration(seconds: float) -> str:
    """Write a length as iTunes wants it: "H:MM:SS"."""
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def cover_png(side: int = COVER_SIDE) -> bytes:
    """Draw the feed's square cover: the hotline's blue with a white band, as a PNG (standard library only)."""
    blue, white = b"\x0a\x4f\x8b", b"\xff\xff\xff"
    band = range(side * 2 // 5, side * 3 // 5)
    rows = b"".join(b"\x00" + (white if y in band else blue) * side for y in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def distinct_titles(titles: dict[int, str]) -> dict[int, str]:
    """Number titles that would otherwise repeat (two bulletins of one period, place and language)."""
    seen: dict[str, int] = {}
    for title in titles.values():
        seen[title] = seen.get(title, 0) + 1
    return {ident: f"{title} (no. {ident})" if seen[title] > 1 else title for ident, title in titles.items()}


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text
