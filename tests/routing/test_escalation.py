"""Daily casework emails against a local SMTP server: the digest per agency, escalation to supervisors,
once per local day, every outcome in the audit log; an agency without email is skipped with the reason."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ivr.commands.cli import main
from ivr.core.config import Config
from ivr.core.db import database_for
from ivr.core.models import Message
from ivr.core.models.accounts import AuditEvent
from ivr.core.models.core import CaseworkEmail
from ivr.core.runtime import set_config
from tests.conftest import make_config
from tests.ivr.test_cli import env_for
from tests.routing.conftest import SmtpServer, closed_port
from worker.escalation import CaseworkEmailFailed, send_daily_emails

NOW = datetime(2026, 3, 10, 20, 0)  # 08:00 on Wednesday 11 March in Fiji (UTC+12)
AGENCIES = '''
[agencies.water]
name = "Water Authority"
topics = ["water"]
supervisors = ["head@water.example.org", "deputy@water.example.org"]

[[agencies.water.notify]]
email = "desk@water.example.org"

[agencies.roads]
name = "Roads Authority"
topics = ["roads"]
supervisors = ["head@roads.example.org"]

[agencies.triage]
name = "Triage desk"
topics = ["other"]
triage = true
'''


@pytest.fixture
def config(tmp_path: Path, database_url: str, smtp_server: SmtpServer) -> Iterator[Config]:
    (tmp_path / "agencies.toml").write_text(AGENCIES, encoding="utf-8")
    config = make_config(tmp_path, database_url, agencies_file=tmp_path / "agencies.toml", smtp_host="127.0.0.1",
                         smtp_port=smtp_server.port, notify_timeout_seconds=5.0)
    set_config(config)
    yield config
    set_config(None)


def add(config: Config, *, agency: str = "water", age: timedelta, status: str = "received") -> str:
    reference = str(secrets.randbelow(9 * 10**7) + 10**7)
    with database_for(config.database_url).session() as s:
        s.add(Message(reference=reference, language="en", topic="water", place="ba", consent="none", status=status,
                      agency=agency, created_at=NOW - age))
    return reference


def mails(smtp: SmtpServer) -> list[tuple[list[str], str, str]]:
    out = []
    for _sender, to, raw in smtp.mailbox.messages:
        msg = message_from_bytes(raw, policy=policy.default)
        out.append((sorted(to), str(msg["Subject"]).strip(), msg.get_content()))  # type: ignore[attr-defined]
    return out


def rows(config: Config) -> dict[tuple[str, str], tuple[str, str]]:
    with database_for(config.database_url).session() as s:
        return {(r.kind, r.agency): (r.status, r.detail or "") for r in s.scalars(select(CaseworkEmail))}


def test_digest_and_escalation_once_a_day_and_audited(config: Config, smtp_server: SmtpServer) -> None:
    new = add(config, age=timedelta(hours=3))
    overdue = add(config, age=timedelta(days=10), status="in_progress")
    # due 7 days after: created 6 days before tomorrow (local) is due tomorrow
    soon = add(config, age=timedelta(days=6, hours=-6))
    add(config, age=timedelta(days=12), status="closed")  # closed: neither overdue nor escalated
    roads_late = add(config, agency="roads", age=timedelta(days=9))
    outcome = send_daily_emails(NOW.isoformat())
    assert "water digest: sent (new 1, overdue 1, due tomorrow 1)" in outcome
    assert "roads digest: skipped (no email address)" in outcome
    got = mails(smtp_server)
    digest = next(m for m in got if m[0] == ["desk@water.example.org"])
    assert digest[1] == "Talanoa Hotline digest for Water Authority: new 1, overdue 1, due tomorrow 1"
    assert "Wednesday 11 March 2026" in digest[2] and all(r in digest[2] for r in (new, overdue, soon))
    water_esc = next(m for m in got if m[0] == ["deputy@water.example.org", "head@water.example.org"])
    assert water_esc[1] == "Talanoa Hotline: 1 overdue at Water Authority" and overdue in water_esc[2]
    roads_esc = next(m for m in got if m[0] == ["head@roads.example.org"])
    assert roads_late in roads_esc[2]
    assert len(got) == 3
    assert rows(config)[("digest", "roads")] == ("skipped", "agency roads has no email address in agencies.toml")
    with database_for(config.database_url).session() as s:
        audit = [(a.action, a.target_id) for a in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
        escalated = s.scalar(select(Message.escalated_at).where(Message.reference == overdue))
    assert ("digest", "roads") in audit and ("digest", "water") in audit and ("escalation", "water") in audit
    assert escalated == NOW
    # The same day again (a restarted scheduler, a retried job): nothing is sent twice.
    again = send_daily_emails((NOW + timedelta(hours=3)).isoformat())
    assert "water digest: already done" in again and len(smtp_server.mailbox.messages) == 3
    # The next day: a new digest; the overdue message was escalated already, so no second escalation.
    send_daily_emails((NOW + timedelta(days=1)).isoformat())
    assert len(smtp_server.mailbox.messages) == 4


def test_a_refused_send_is_kept_failed_and_retried(tmp_path: Path, config: Config, smtp_server: SmtpServer) -> None:
    add(config, age=timedelta(hours=1))
    down = make_config(tmp_path, config.database_url, agencies_file=config.agencies_file, smtp_host="127.0.0.1",
                       smtp_port=closed_port(), notify_timeout_seconds=2.0)
    set_config(down)
    with pytest.raises(CaseworkEmailFailed, match="water send_digest: email not sent: ConnectionRefusedError"):
        send_daily_emails(NOW.isoformat())
    assert rows(config)[("digest", "water")][0] == "failed"
    set_config(config)
    assert "water digest: sent" in send_daily_emails(NOW.isoformat())
    assert rows(config)[("digest", "water")][0] == "sent" and len(smtp_server.mailbox.messages) == 1


def test_the_scheduler_queues_the_days_emails(tmp_path: Path, config: Config, smtp_server: SmtpServer) -> None:
    add(config, age=timedelta(hours=1))
    env = env_for(tmp_path, DATABASE_URL=config.database_url, HOTLINE_AGENCIES=str(config.agencies_file),
                  HOTLINE_SMTP_HOST="127.0.0.1", HOTLINE_SMTP_PORT=str(smtp_server.port), HOTLINE_DIGEST_HOUR="0")
    result = CliRunner().invoke(main, ["scheduler", "--once"], env=env)
    assert result.exit_code == 0, result.output
    assert "today's casework emails (digests, escalations) queued" in result.output
    assert any(to == ["desk@water.example.org"] for _, to, _ in smtp_server.mailbox.messages)


def test_supervisors_must_be_email_addresses(tmp_path: Path) -> None:
    from menus import MenuError, load_menus
    from menus.agencies import load_agencies

    path = tmp_path / "agencies.toml"
    path.write_text(AGENCIES.replace('"deputy@water.example.org"', '"the deputy"'), encoding="utf-8")
    with pytest.raises(MenuError, match="agency water: supervisors must be a list of email addresses"):
        load_agencies(path, load_menus(Path(__file__).resolve().parents[2] / "menus"))
