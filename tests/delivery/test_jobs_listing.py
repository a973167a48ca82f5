"""`hotline jobs` shows an operator the calls to callers that failed, or are held by what they can fix."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ivr.commands.cli import main
from ivr.core.db import database_for
from ivr.core.models.delivery import CALLBACK, COMPLETED, FAILED, HELD, Delivery


def jobs_json(database_url: str, tmp_path: Path) -> list[dict[str, object]]:
    env = {"SECRET_KEY": "s", "HOTLINE_PEPPER": "p", "TWILIO_AUTH_TOKEN": "t", "PUBLIC_BASE_URL": "http://x",
           "DATABASE_URL": database_url, "REDIS_URL": "", "HOTLINE_ENV_FILE": str(tmp_path / "none")}
    result = CliRunner().invoke(main, ["jobs", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_failed_and_misconfigured_calls_are_listed_and_chosen_waits_are_not(database_url: str,
                                                                             tmp_path: Path) -> None:
    with database_for(database_url).session() as s:
        rows = [Delivery(kind=CALLBACK, reason="key-8", status=FAILED, attempts=3, last_outcome="no-answer"),
                Delivery(kind=CALLBACK, reason="missed-call", status=HELD,
                         held_reason="TWILIO_CALLER_ID is not set: no outbound calls are placed"),
                Delivery(kind=CALLBACK, reason="consent", status=HELD,
                         held_reason="no callback consent: the answer waits for the caller to ring and key the "
                                     "reference"),
                Delivery(kind=CALLBACK, reason="key-8", status=COMPLETED, attempts=1)]
        s.add_all(rows)
        s.flush()
        failed_id, misconfigured_id = rows[0].id, rows[1].id
    listed = [r for r in jobs_json(database_url, tmp_path) if "delivery" in r]
    assert [(r["delivery"], r["state"]) for r in listed] == [(failed_id, "call failed"),
                                                           (misconfigured_id, "call held")]
    assert listed[0]["error"] == "no-answer" and listed[0]["attempts"] == 3
    assert "TWILIO_CALLER_ID" in str(listed[1]["error"])
