"""The public's view of the figures: aggregates only, with every small group hidden.

The public page and the open-data exports (CSV, JSON) are built from one PublicFigures, so what a
journalist downloads is exactly what the page shows. A group (an agency, a place, a topic, or one
place × topic cell) with fewer than THRESHOLD messages is *suppressed*: its numbers are withheld and
shown as "fewer than 5", because a count of 1 or 2 in a small village can point at a person.

A single hidden cell could still be worked out from a published total minus the visible cells, so
each table also hides the next smallest group whenever exactly one would otherwise be hidden
(complementary suppression); in the place × topic table that holds for every row and column.
A zero is shown as 0: it identifies nobody, and "nobody called about roads" is worth knowing.

Pure apart from `public_figures`, which runs the SQL: the rest is tested without a database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from ivr.core import disclosure
from ivr.core.accountability import GroupFigures, agency_figures, group_figures, place_topic_counts
from ivr.core.models import utcnow
from menus import Menus
from menus.agencies import Agencies

THRESHOLD = disclosure.THRESHOLD  # the one small-group rule (ivr/core/disclosure.py)
suppress_counts = disclosure.suppress_counts
HIDDEN = f"fewer than {THRESHOLD}"
NOT_GIVEN = "not given"
CSV_COLUMNS = ("group", "key", "name", "place", "topic", "received", "answered", "answered_within_due",
               "median_hours_to_first_answer", "overdue", "suppressed")

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class PublicRow:
    """One agency, place or topic as the public sees it; every number None when suppressed."""

    group: str  # "agency", "place" or "topic"
    key: str  # its code; "" for messages where the caller gave none
    name: str
    received: int | None
    answered: int | None
    answered_within_due: int | None
    median_hours_to_first_answer: float | None
    overdue: int | None
    suppressed: bool


@dataclass(frozen=True)
class PublicCell:
    """How many messages one place raised about one topic; None when suppressed."""

    place: str
    place_name: str
    topic: str
    topic_name: str
    received: int | None
    suppressed: bool


@dataclass(frozen=True)
class PublicFigures:
    """Everything the public page and the exports show, already suppressed."""

    generated_at: datetime
    since: datetime | None
    until: datetime
    due_days: int
    total: int | None  # None when even the total is under THRESHOLD
    agencies: tuple[PublicRow, ...]
    places: tuple[PublicRow, ...]
    topics: tuple[PublicRow, ...]
    cells: tuple[PublicCell, ...]

    def as_json(self) -> dict[str, Any]:
        """Return the open-data JSON document: dates as ISO 8601 UTC, suppressed numbers as null."""
        return {
            "generated_at": _iso(self.generated_at), "since": _iso(self.since), "until": _iso(self.until),
            "due_days": self.due_days, "total": self.total,
            "suppression": {"threshold": THRESHOLD,
                            "note": f"Groups with {HIDDEN} messages are withheld (null, suppressed: true), "
                                    "and one more where a single hidden group could be worked out."},
            "agencies": [asdict(r) for r in self.agencies],
            "places": [asdict(r) for r in self.places],
            "topics": [asdict(r) for r in self.topics],
            "place_topic": [asdict(c) for c in self.cells],
        }

    def as_csv(self) -> str:
        """Return one CSV table with a header row: agencies, places and topics, then place × topic cells."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in (*self.agencies, *self.places, *self.topics):
            writer.writerow([row.group, row.key, row.name, "", "", *_blank(row.received), *_blank(row.answered),
                             *_blank(row.answered_within_due), *_blank(row.median_hours_to_first_answer),
                             *_blank(row.overdue), str(row.suppressed).lower()])
        for cell in self.cells:
            writer.writerow(["place_topic", f"{cell.place}/{cell.topic}", f"{cell.place_name}: {cell.topic_name}",
                             cell.place, cell.topic, *_blank(cell.received), "", "", "", "",
                             str(cell.suppressed).lower()])
        return out.getvalue()


def public_figures(session: Session, agencies: Agencies, menus: Menus, *, days: int | None = None,
                   due_days: int = 7, now: datetime | None = None) -> PublicFigures:
    """Count everything over the last `days` days (all time when None) and suppress small groups."""
    now = now or utcnow()
    since = now - timedelta(days=days) if days is not None else None
    window: dict[str, Any] = dict(since=since, until=now, due_days=due_days, now=now)
    by_agency = agency_figures(session, agencies, **window)
    by_place = {g.key: g for g in group_figures(session, "place", **window)}
    by_topic = {g.key: g for g in group_figures(session, "topic", **window)}
    cells = place_topic_counts(session, since=since, until=now)
    place_codes = _codes(menus.flow.tables.get("places", {}).values(), by_place)
    topic_codes = _codes(menus.flow.tables.get("topics", {}).values(), by_topic)
    agency_rows = [PublicRow("agency", f.agency, f.name, f.received, f.answered, f.answered_within_due,
                             f.median_hours_to_first_answer, f.overdue, False) for f in by_agency]
    place_rows = [_group_row("place", code, _name(menus, "place", code), by_place.get(code)) for code in place_codes]
    topic_rows = [_group_row("topic", code, _name(menus, "topic", code), by_topic.get(code)) for code in topic_codes]
    grid = {(p, t): cells.get((p, t), 0) for p in place_codes for t in topic_codes}
    hidden_cells = suppress_grid(grid)
    total = sum(f.received for f in by_agency)
    return PublicFigures(
        generated_at=now, since=since, until=now, due_days=due_days,
        total=total if total >= THRESHOLD or total == 0 else None,
        agencies=tuple(_apply(agency_rows)), places=tuple(_apply(place_rows)), topics=tuple(_apply(topic_rows)),
        cells=tuple(PublicCell(p or "", _name(menus, "place", p), t or "", _name(menus, "topic", t),
                               None if (p, t) in hidden_cells else n, (p, t) in hidden_cells)
                    for (p, t), n in grid.items()),
    )


def suppress_grid(grid: Mapping[tuple[K, K], int]) -> set[tuple[K, K]]:
    """Hide small cells of a two-way table, then repeat until no row or column has exactly one hidden cell."""
    hidden = {cell for cell, n in grid.items() if 0 < n < THRESHOLD}
    changed = bool(hidden)
    while changed:
        changed = False
        for axis in (0, 1):
            lines: dict[K, list[tuple[K, K]]] = {}
            for cell in grid:
                lines.setdefault(cell[axis], []).append(cell)
            for cells in lines.values():
                if sum(1 for c in cells if c in hidden) != 1:
                    continue
                candidates = sorted((grid[c], i) for i, c in enumerate(cells) if grid[c] > 0 and c not in hidden)
                if candidates:
                    hidden.add(cells[candidates[0][1]])
                    changed = True
    return hidden


def _apply(rows: Sequence[PublicRow]) -> list[PublicRow]:
    """Withhold every number of the rows suppress_counts picks."""
    hidden = suppress_counts({i: r.received or 0 for i, r in enumerate(rows)})
    return [PublicRow(r.group, r.key, r.name, None, None, None, None, None, True) if i in hidden else r
            for i, r in enumerate(rows)]


def _group_row(group: str, code: str | None, name: str, figures: GroupFigures | None) -> PublicRow:
    if figures is None:
        return PublicRow(group, code or "", name, 0, 0, 0, None, 0, False)
    return PublicRow(group, code or "", name, figures.received, figures.answered, figures.answered_within_due,
                     figures.median_hours_to_first_answer, figures.overdue, False)


def _codes(table_codes: Any, found: Mapping[str | None, GroupFigures]) -> list[str | None]:
    """List the flow table's codes in keypad order, then any other code found (None, 'not given', last)."""
    codes: list[str | None] = list(table_codes)
    codes += sorted(k for k in found if k is not None and k not in codes)
    if None in found:
        codes.append(None)
    return codes


def _name(menus: Menus, kind: str, code: str | None) -> str:
    """Name a place or topic as the English prompt says it, e.g. "Suva", "Water"."""
    if code is None:
        return NOT_GIVEN
    english = menus.languages.get("en")
    text = english.prompts.get(f"{kind}_{code}") if english else None
    return (text or code).strip().rstrip(".")[:1].upper() + (text or code).strip().rstrip(".")[1:]


def _blank(value: int | float | None) -> list[str]:
    return [""] if value is None else [f"{value:.2f}" if isinstance(value, float) else str(value)]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"
