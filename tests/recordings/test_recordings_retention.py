"""purge_older_than deletes old recordings, except those asked to be kept."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from recordings.retention import purge_older_than
from recordings.store import LocalStore

OLD, OLD_KEPT, NEW = "RE" + "1" * 32, "RE" + "2" * 32, "answer_7"


def age(store: LocalStore, sid: str, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(store.path(sid), (then, then))


def test_purges_only_old_unkept_recordings(store: LocalStore, wav: bytes) -> None:
    for sid in (OLD, OLD_KEPT, NEW):
        store.put(sid, wav)
    age(store, OLD, 40)
    age(store, OLD_KEPT, 400)
    age(store, NEW, 10)

    deleted = purge_older_than(store, 30, keep={OLD_KEPT})

    assert deleted == [OLD]
    assert sorted(store.sids()) == sorted([OLD_KEPT, NEW])


def test_measures_age_from_the_given_now(store: LocalStore, wav: bytes) -> None:
    store.put(OLD, wav)
    assert purge_older_than(store, 30) == []
    assert purge_older_than(store, 30, now=datetime.now(UTC) + timedelta(days=31)) == [OLD]
    assert not store.exists(OLD)


@pytest.mark.parametrize("days", [0, -1])
def test_refuses_a_period_that_would_delete_everything(store: LocalStore, wav: bytes, days: float) -> None:
    store.put(OLD, wav)
    with pytest.raises(ValueError):
        purge_older_than(store, days)
    assert store.exists(OLD)
