"""The audit log as a filterable, paginated list for admins (who did what, to which record, when)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.core.models.accounts import AuditEvent, User
from ivr.dashboard.inbox import FilterRejected, on_days, parse_day

PAGE_SIZE = 100


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    email: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    before_id: int | None = None

    def query_args(self, **changes: object) -> dict[str, str]:
        """Return the URL query of this filter, with changes (for the next page link)."""
        values = {"action": self.action, "email": self.email, "target_type": self.target_type,
                  "target_id": self.target_id, "from": self.date_from, "to": self.date_to,
                  "before": self.before_id, **changes}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    email: str
    action: str
    target_type: str
    target_id: str | None
    detail: str


def parse_audit_filter(args: Mapping[str, str]) -> AuditFilter:
    """Read the audit page's query string; raise FilterRejected naming a malformed value."""
    before = args.get("before", "").strip()
    if before and not (before.isdigit() and len(before) <= 18):  # 18 digits: always inside a BIGINT
        raise FilterRejected(f"'before' must be an audit row id, not {before!r}")
    return AuditFilter(action=args.get("action", "").strip() or None,
                       email=args.get("email", "").strip().lower() or None,
                       target_type=args.get("target_type", "").strip() or None,
                       target_id=args.get("target_id", "").strip() or None,
                       date_from=parse_day(args, "from"), date_to=parse_day(args, "to"),
                       before_id=int(before) if before else None)


def load_audit(db: Session, f: AuditFilter, per_page: int = PAGE_SIZE) -> tuple[list[AuditRow], int | None]:
    """Return one page of audit rows, newest first, and the id to continue from (None on the last page)."""
    q = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
    if f.action:
        q = q.where(AuditEvent.action == f.action)
    if f.email:
        q = q.where(User.email == f.email)
    if f.target_type:
        q = q.where(AuditEvent.target_type == f.target_type)
    if f.target_id:
        q = q.where(AuditEvent.target_id == f.target_id)
    q = q.where(*on_days(AuditEvent.at, f.date_from, f.date_to))
    if f.before_id:
        q = q.where(AuditEvent.id < f.before_id)
    found = db.execute(q.order_by(AuditEvent.id.desc()).limit(per_page + 1)).all()
    rows = [AuditRow(e.id, e.at, email or ("(system)" if e.user_id is None else "(deleted account)"), e.action,
                     e.target_type, e.target_id, e.detail) for e, email in found[:per_page]]
    return rows, (rows[-1].id if len(found) > per_page else None)
