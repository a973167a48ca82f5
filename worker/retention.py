"""The daily retention job: delete callers' words and voices past their keep period (ivr/core/retention.py).

Enqueued by the scheduler (`hotline scheduler`) with one job id per day; idempotent, since each run only
touches what is still there.
"""

from __future__ import annotations

from ivr.core.models import utcnow
from ivr.core.retention import run_retention
from ivr.core.runtime import current_config, current_db


def run_retention_job() -> str:
    """Run retention once, now; return a one-line summary for the job registry."""
    report = run_retention(current_db(), current_config(), now=utcnow())
    return (f"recordings {len(report.recordings)}, transcripts {len(report.transcripts)}, "
            f"answers {len(report.answers)}, kept {len(report.kept_undelivered)}")
