"""LocalStore: once per id, atomic, verified, and never outside its root."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from recordings.errors import NotStored, StoreError
from recordings.store import LocalStore, RecordingStore, StoredAudio

SID = "RE" + "0123456789abcdef" * 2
OTHER = "RE" + "f" * 32


def leftovers(store: LocalStore) -> list[str]:
    """Return the hidden temporary files left in the store."""
    return sorted(p.name for p in store.root.iterdir() if p.name.startswith("."))


def test_is_a_recording_store(tmp_path: Path) -> None:
    store: RecordingStore = LocalStore(tmp_path / "a" / "b")  # creates the root
    assert (tmp_path / "a" / "b").is_dir()
    assert list(store.sids()) == []


def test_put_stores_and_describes(store: LocalStore, wav: bytes) -> None:
    stored = store.put(SID, wav)

    assert stored == StoredAudio(sid=SID, key=f"{SID}.wav", path=store.root / f"{SID}.wav",
                                 sha256=hashlib.sha256(wav).hexdigest(), size=len(wav))
    assert stored.path.read_bytes() == wav
    assert stored.path.stat().st_mode & 0o777 == 0o600  # callers' voices: owner only
    assert store.exists(SID) and store.get(SID) == wav and store.path(SID) == stored.path
    assert store.info(SID) == stored
    assert list(store.sids()) == [SID]
    assert leftovers(store) == []


def test_put_is_idempotent(store: LocalStore, wav: bytes) -> None:
    first = store.put(SID, wav)
    mtime = first.path.stat().st_mtime_ns

    again = store.put(SID, wav)
    streamed = store.put(SID, iter([wav[:100], wav[100:]]))

    assert again == first == streamed
    assert first.path.stat().st_mtime_ns == mtime  # not rewritten
    assert leftovers(store) == []


def test_different_bytes_for_a_stored_id_are_refused(store: LocalStore, wav: bytes) -> None:
    store.put(SID, wav)

    with pytest.raises(StoreError, match="different content"):
        store.put(SID, wav[:-2] + b"\x00\x01")
    with pytest.raises(StoreError, match="different content"):
        store.put(SID, b"other", suffix=".mp3")  # whatever the suffix

    assert store.get(SID) == wav
    assert leftovers(store) == []


def test_put_streams_chunks(store: LocalStore, wav: bytes) -> None:
    chunks = [wav[i:i + 1000] for i in range(0, len(wav), 1000)]
    stored = store.put(SID, iter(chunks), suffix=".wav")
    assert stored.sha256 == hashlib.sha256(wav).hexdigest() and stored.size == len(wav)


def test_verify_detects_tampering(store: LocalStore, wav: bytes) -> None:
    stored = store.put(SID, wav)
    assert store.verify(SID, stored.sha256)
    assert store.verify(SID, stored.sha256.upper())

    stored.path.write_bytes(wav[:-1] + b"\x7f")

    assert not store.verify(SID, stored.sha256)


def test_missing_ids_raise_not_stored(store: LocalStore) -> None:
    assert not store.exists(SID)
    assert store.delete(SID) is False
    for read in (store.get, store.path, store.info, store.stored_at):
        with pytest.raises(NotStored):
            read(SID)
    with pytest.raises(NotStored):
        store.verify(SID, "0" * 64)


def test_delete(store: LocalStore, wav: bytes) -> None:
    store.put(SID, wav)
    store.put(OTHER, wav)
    assert store.delete(SID) is True
    assert not store.exists(SID) and store.exists(OTHER)
    assert list(store.sids()) == [OTHER]


def test_accepts_our_own_ids(store: LocalStore, wav: bytes) -> None:
    for sid in ("answer_42", "bulletin-2024-w07", "a", "x" * 64):
        assert store.put(sid, wav).key == f"{sid}.wav"


@pytest.mark.parametrize("sid", ["../x", "../../etc/passwd", "a/b", "/abs", "", ".hidden", "RE..",
                                 "-rf", "x" * 65, "caf\u00e9", "a b", "a\nb", "a.wav", "RE1\x00"])
def test_refuses_unsafe_ids(store: LocalStore, tmp_path: Path, wav: bytes, sid: str) -> None:
    for call in (lambda: store.put(sid, wav), lambda: store.get(sid), lambda: store.exists(sid),
                 lambda: store.delete(sid)):
        with pytest.raises(StoreError, match="invalid recording id"):
            call()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recordings"]
    assert list(store.root.iterdir()) == []


def test_refuses_unsupported_suffixes(store: LocalStore, wav: bytes) -> None:
    for suffix in (".exe", "", "/../x.wav", ".WAV"):
        with pytest.raises(StoreError, match="suffix"):
            store.put(SID, wav, suffix=suffix)


def test_refuses_a_symlink_pointing_outside(store: LocalStore, tmp_path: Path, wav: bytes) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not yours")
    (store.root / f"{SID}.wav").symlink_to(secret)

    for call in (lambda: store.get(SID), lambda: store.exists(SID), lambda: store.put(SID, wav),
                 lambda: store.delete(SID), lambda: store.verify(SID, "0" * 64)):
        with pytest.raises(StoreError, match="symbolic link"):
            call()

    assert secret.read_bytes() == b"not yours"
    assert list(store.sids()) == []  # a planted link is not a recording


def test_refuses_a_dangling_symlink(store: LocalStore, tmp_path: Path, wav: bytes) -> None:
    (store.root / f"{SID}.wav").symlink_to(tmp_path / "would-be-created")
    with pytest.raises(StoreError, match="symbolic link"):
        store.put(SID, wav)
    assert not (tmp_path / "would-be-created").exists()


def test_no_partial_file_when_the_source_fails(store: LocalStore, wav: bytes) -> None:
    def source() -> Iterator[bytes]:
        yield wav[:1000]
        raise ConnectionError("download broke off")

    with pytest.raises(ConnectionError):
        store.put(SID, source())

    assert not store.exists(SID)
    assert list(store.root.iterdir()) == []  # no temporary file either
    assert store.put(SID, wav).size == len(wav)  # and a retry stores it


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_no_partial_file_when_the_store_is_read_only(store: LocalStore, wav: bytes) -> None:
    store.root.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="could not store"):
            store.put(SID, wav)
    finally:
        store.root.chmod(0o700)
    assert list(store.root.iterdir()) == []


def test_racing_workers_never_overwrite_each_other(store: LocalStore, wav: bytes) -> None:
    contents = [wav, wav, wav, wav, wav[:-1] + b"\x01", wav[:-1] + b"\x02"]
    results: list[StoredAudio | StoreError] = []
    barrier = threading.Barrier(len(contents))

    def work(data: bytes) -> None:
        barrier.wait()
        try:
            results.append(store.put(SID, iter([data])))
        except StoreError as exc:
            results.append(exc)

    threads = [threading.Thread(target=work, args=(data,)) for data in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    winner = store.get(SID)
    stored = [r for r in results if isinstance(r, StoredAudio)]
    assert stored and all(r.sha256 == hashlib.sha256(winner).hexdigest() for r in stored)
    assert len(stored) == contents.count(winner)  # every other content was refused, not written
    assert leftovers(store) == []


def test_sids_skip_temporary_and_foreign_files(store: LocalStore, wav: bytes) -> None:
    store.put(SID, wav)
    (store.root / f".{OTHER}.abc.tmp").write_bytes(b"half")
    (store.root / "notes.txt").write_bytes(b"x")
    (store.root / "subdir.wav").mkdir()
    assert list(store.sids()) == [SID]
