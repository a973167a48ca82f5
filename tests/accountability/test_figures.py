"""agency_figures on a known data set, on SQLite and PostgreSQL: every number worked out by hand."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ivr.core.accountability import AgencyFigures, agency_figures, group_figures
from ivr.core.config import Config
from ivr.core.db import database_for
from menus import load_menus
from menus.agencies import Agencies, load_agencies
from tests.accountability.dataset import DAY, NOW, add_known_set, add_message
from tests.conftest import make_config


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return make_config(tmp_path, database_url)


@pytest.fixture
def agencies(config: Config) -> Agencies:
    return load_agencies(config.agencies_path, load_menus(config.menus_dir))


def figures_by_code(config: Config, agencies: Agencies, **kwargs: object) -> dict[str, AgencyFigures]:
    with database_for(config.database_url).session() as session:
        rows = agency_figures(session, agencies, now=NOW, **kwargs)  # type: ignore[arg-type]
    return {row.agency: row for row in rows}


def test_figures_on_known_set(config: Config, agencies: Agencies) -> None:
    with database_for(config.database_url).session() as session:
        add_known_set(session)
    got = figures_by_code(config, agencies)
    assert got["water"] == AgencyFigures("water", "Water Authority", received=6, answered=3,
                                         answered_within_due=2, median_hours_to_first_answer=10.0, overdue=1)
    health = got["health"]
    assert (health.received, health.answered, health.answered_within_due, health.overdue) == (2, 2, 2, 0)
    # Even count: the median is the mean of the two middle values, (2 + 6) / 2.
    assert health.median_hours_to_first_answer == pytest.approx(4.0)


def test_every_agency_listed_in_file_order_then_unknown_codes(config: Config, agencies: Agencies) -> None:
    with database_for(config.database_url).session() as session:
        add_known_set(session)
        rows = agency_figures(session, agencies, now=NOW)
    codes = [r.agency for r in rows]
    assert codes == [*agencies.by_code, "ghost"]
    roads = next(r for r in rows if r.agency == "roads")
    assert roads == AgencyFigures("roads", agencies.by_code["roads"].name, 0, 0, 0, None, 0)
    ghost = rows[-1]
    assert (ghost.name, ghost.received, ghost.overdue) == ("ghost", 1, 1)
    # The unrouted message is nobody's: totals count the routed ten minus none.
    assert sum(r.received for r in rows) == 9


def test_filters_by_place_language_and_period(config: Config, agencies: Agencies) -> None:
    with database_for(config.database_url).session() as session:
        add_known_set(session)
    nadi = figures_by_code(config, agencies, place="nadi")
    assert (nadi["water"].received, nadi["health"].received) == (0, 2)
    hindi = figures_by_code(config, agencies, language="hi")
    assert (hindi["water"].received, hindi["health"].received) == (0, 2)
    # [Mar 2, Mar 4): the water messages of Mar 2 (192 h) and Mar 3 (4 h) only.
    period = figures_by_code(config, agencies, since=datetime(2025, 3, 2), until=datetime(2025, 3, 4))
    water = period["water"]
    assert (water.received, water.answered, water.answered_within_due) == (2, 2, 1)
    assert water.median_hours_to_first_answer == pytest.approx((192 + 4) / 2)
    assert period["health"].received == 0


def test_due_days_moves_within_and_overdue(config: Config, agencies: Agencies) -> None:
    with database_for(config.database_url).session() as session:
        add_known_set(session)
    # With 10 days to answer, the 192 h (8 day) answer is in time, and the 16-day-old message still overdue.
    water = figures_by_code(config, agencies, due_days=10)["water"]
    assert (water.answered_within_due, water.overdue) == (3, 1)
    # With 20 days, nothing in the set is overdue yet.
    assert figures_by_code(config, agencies, due_days=20)["water"].overdue == 0


def test_overdue_counts_from_now(config: Config, agencies: Agencies) -> None:
    with database_for(config.database_url).session() as session:
        add_message(session, agency="roads", created=NOW - 7 * DAY - DAY / 24)
        add_message(session, agency="roads", created=NOW - 6 * DAY)
        add_message(session, agency="roads", created=NOW - 9 * DAY, status="in_progress")
    assert figures_by_code(config, agencies)["roads"].overdue == 2


def test_group_figures_by_place_and_topic(config: Config) -> None:
    with database_for(config.database_url).session() as session:
        add_known_set(session)
        places = {g.key: g.received for g in group_figures(session, "place", now=NOW)}
        topics = {g.key: g.received for g in group_figures(session, "topic", now=NOW)}
    assert places == {"nadi": 2, "suva": 7}
    assert topics == {"health": 2, "water": 7}


def test_group_figures_refuses_unknown_grouping(config: Config) -> None:
    with database_for(config.database_url).session() as session, pytest.raises(ValueError, match="caller"):
        group_figures(session, "caller")
