#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432, database `test`) and Redis (127.0.0.1:6379) answer, starting
# them when they are installed but stopped. Prints the TEST_POSTGRES_URL to use.
set -euo pipefail

pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! redis_up; then
  echo "==> starting Redis" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do redis_up && break; sleep 0.1; done
fi
if ! pg_up; then
  echo "==> starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 100); do pg_up && break; sleep 0.1; done
fi
if [ "$(id -u)" = 0 ] && command -v psql >/dev/null; then
  # A fresh cluster has no `test` database and password auth on TCP: create it, once.
  if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
    su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
    su postgres -c "createdb test" 2>/dev/null || true
    echo "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/test"
    exit 0
  fi
fi
echo "postgresql+psycopg://postgres@127.0.0.1:5432/test"
