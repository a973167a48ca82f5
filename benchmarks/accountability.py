"""Time the accountability figures over many messages on PostgreSQL, beside the bare count of them.

A schema of its own in TEST_POSTGRES_URL's database is migrated, filled with generated messages and
answers (INSERT … SELECT FROM generate_series: seconds, not minutes), analysed, and dropped at the
end. Ours: `agency_figures` (the admin page, the radio summaries) and `public_figures` (the public
page and exports: agency, place and topic figures and the place × topic cells, with suppression).
Baseline: the least any such page must do, one `SELECT agency, count(*) … GROUP BY agency` scan.

    .venv/bin/python benchmarks/accountability.py [--messages 1000000] [--runs 5] [--json]

Prints the median seconds of each and the ratio ours / baseline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.core.accountability import agency_figures  # noqa: E402
from ivr.core.db import database_for, forget_databases  # noqa: E402
from ivr.public.open_data import public_figures  # noqa: E402
from menus import load_menus  # noqa: E402
from menus.agencies import load_agencies  # noqa: E402

BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FILL = """
INSERT INTO messages (reference, language, topic, place, consent, confirmed, status, pipeline, pipeline_at,
                      created_at, updated_at, agency)
SELECT lpad(g::text, 10, '0'),
       (ARRAY['en','fr','hi','fj'])[1 + g % 4],
       (ARRAY['water','health','roads','electricity','safety','other'])[1 + g % 6],
       (ARRAY['suva','nausori','nadi','lautoka','ba','labasa','savusavu','levuka'])[1 + (g / 7) % 8],
       'anonymous', true,
       CASE WHEN g % 10 < 6 THEN 'answered' WHEN g % 10 = 9 THEN 'closed' ELSE 'received' END,
       'ready', now(), now() - (g % 120) * interval '1 day', now(),
       (ARRAY['water','health','roads','power','police','triage'])[1 + g % 6]
FROM generate_series(1, :n) AS g
"""
ANSWERS = """
INSERT INTO answers (message_id, text, created_at)
SELECT id, 'answer', created_at + (id % 400) * interval '1 hour' FROM messages WHERE status = 'answered'
"""


def median_seconds(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--postgres", default=BASE)
    args = parser.parse_args()
    schema = f"bench_acc_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.postgres)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}options=-csearch_path%3D{schema}"
    try:
        db = database_for(url)
        db.upgrade()
        started = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text(FILL), {"n": args.messages})
            conn.execute(text(ANSWERS))
            conn.execute(text("ANALYZE"))
        fill = time.perf_counter() - started
        menus = load_menus(ROOT / "menus")
        agencies = load_agencies(ROOT / "menus" / "agencies.toml", menus)

        def ours_agency() -> object:
            with db.session() as session:
                return agency_figures(session, agencies)

        def ours_public() -> object:
            with db.session() as session:
                return public_figures(session, agencies, menus)

        def baseline() -> object:
            with db.engine.connect() as conn:
                return conn.execute(text("SELECT agency, count(*) FROM messages GROUP BY agency")).all()

        ours_agency()  # warm the pool and the buffers for all three alike
        base = median_seconds(baseline, args.runs)
        agency = median_seconds(ours_agency, args.runs)
        public = median_seconds(ours_public, args.runs)
        result = {"messages": args.messages, "fill_seconds": round(fill, 1), "baseline_s": round(base, 3),
                  "agency_figures_s": round(agency, 3), "public_figures_s": round(public, 3),
                  "agency_ratio": round(agency / base, 1), "public_ratio": round(public / base, 1)}
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{args.messages:,} messages (filled in {fill:.1f} s), median of {args.runs} runs:")
            print(f"  baseline GROUP BY count   {base:8.3f} s")
            print(f"  agency_figures            {agency:8.3f} s   ratio {agency / base:5.1f}x")
            print(f"  public_figures            {public:8.3f} s   ratio {public / base:5.1f}x")
        return 0
    finally:
        forget_databases()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
