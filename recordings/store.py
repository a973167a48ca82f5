"""Keep recordings on disk, once per id, written atomically and never outside the store root.

`RecordingStore` is the interface the rest of the hotline uses; `LocalStore` is the backend for
one directory (HOTLINE_DATA_DIR/recordings). A recording is a caller's voice: personal data that
exists nowhere else once Twilio's copy is deleted. Hence the habits below: ids are validated,
every path is checked to lie inside the root, a file is written to a temporary name, flushed to
disk and only then given its real name, and an id that is already stored is never overwritten.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from .audio import SUFFIXES
from .errors import NotStored, StoreError

log = logging.getLogger(__name__)

SID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
"""Ids we store under: Twilio's RecordingSid (RE + 32 hex) and our own ids. No dots, no slashes,
so an id can never name a parent directory; no leading dash, so it never reads as a CLI option."""

TWILIO_SID_PATTERN = re.compile(r"RE[0-9a-fA-F]{32}")
"""Twilio's documented shape of a RecordingSid."""

ALLOWED_SUFFIXES = tuple(dict.fromkeys(SUFFIXES.values()))
_CHUNK = 1 << 16


@dataclass(frozen=True)
class StoredAudio:
    """A stored recording: its id, key (name inside the store), local path, sha256 and size."""

    sid: str
    key: str
    path: Path
    sha256: str
    size: int


class RecordingStore(Protocol):
    """Where recordings live. Every method raises StoreError on an invalid id."""

    def put(self, sid: str, data: bytes | Iterable[bytes], suffix: str = ".wav") -> StoredAudio:
        """Store data under sid once; same bytes again return the stored one, others raise."""
        ...

    def info(self, sid: str) -> StoredAudio:
        """Describe what is stored under sid (hashing it); raise NotStored if nothing is."""
        ...

    def get(self, sid: str) -> bytes:
        """Return the stored bytes; raise NotStored if nothing is stored under sid."""
        ...

    def path(self, sid: str) -> Path:
        """Return a local path to the stored file; raise NotStored if nothing is stored."""
        ...

    def exists(self, sid: str) -> bool:
        """Say whether something is stored under sid."""
        ...

    def delete(self, sid: str) -> bool:
        """Delete what is stored under sid; say whether there was anything."""
        ...

    def verify(self, sid: str, sha256: str) -> bool:
        """Say whether the stored bytes still hash to sha256; raise NotStored if missing."""
        ...

    def sids(self) -> Iterator[str]:
        """Yield every stored id."""
        ...

    def stored_at(self, sid: str) -> datetime:
        """Return when sid was stored (UTC); raise NotStored if nothing is."""
        ...


def check_sid(sid: str) -> str:
    """Return sid if it is a safe id to store under, else raise StoreError."""
    if not isinstance(sid, str) or not SID_PATTERN.fullmatch(sid):
        raise StoreError(f"invalid recording id {sid!r}: expected RE + 32 hex digits or "
                         "1-64 letters, digits, '_' or '-'")
    return sid


class LocalStore:
    """Store recordings as files in one local directory, named <sid><suffix>."""

    def __init__(self, root: Path | str) -> None:
        root = Path(root)
        # Owner-only: these are callers' voices.
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root = root.resolve(strict=True)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- reading ---------------------------------------------------------------------------

    def exists(self, sid: str) -> bool:
        """Say whether something is stored under sid."""
        return self._find(sid) is not None

    def path(self, sid: str) -> Path:
        """Return the stored file's path; raise NotStored if nothing is stored under sid."""
        return self._require(sid)

    def get(self, sid: str) -> bytes:
        """Return the stored bytes; raise NotStored if nothing is stored under sid."""
        path = self._require(sid)
        try:
            with _open_nofollow(path) as f:
                return f.read()
        except OSError as exc:
            raise StoreError(f"could not read recording {sid}: {_why(exc)}") from exc

    def info(self, sid: str) -> StoredAudio:
        """Describe what is stored under sid (hashing it); raise NotStored if nothing is."""
        return self._describe(sid, self._require(sid))

    def verify(self, sid: str, sha256: str) -> bool:
        """Say whether the stored bytes still hash to sha256; raise NotStored if missing."""
        return self.info(sid).sha256 == sha256.lower()

    def sids(self) -> Iterator[str]:
        """Yield every stored id, in name order (temporary files and strangers are skipped)."""
        for entry in sorted(os.scandir(self.root), key=lambda e: e.name):
            stem, dot, ext = entry.name.partition(".")
            if (dot and f".{ext}" in ALLOWED_SUFFIXES and SID_PATTERN.fullmatch(stem)
                    and entry.is_file(follow_symlinks=False)):
                yield stem

    def stored_at(self, sid: str) -> datetime:
        """Return when sid was stored (its file's modification time, UTC)."""
        return datetime.fromtimestamp(self._require(sid).lstat().st_mtime, tz=UTC)

    # -- writing ---------------------------------------------------------------------------

    def put(self, sid: str, data: bytes | Iterable[bytes], suffix: str = ".wav") -> StoredAudio:
        """Store data under sid once; the same bytes again return the stored copy.

        Different bytes for a stored sid raise StoreError: a second download that differs means
        something is wrong, and overwriting would destroy the evidence. The file appears under
        its real name only once complete and on disk, so a crash leaves either nothing or all.
        """
        final = self._candidate(sid, suffix)
        existing = self._find(sid)
        if existing is not None and isinstance(data, bytes | bytearray):
            return self._same_or_refuse(sid, existing, hashlib.sha256(data).hexdigest())
        tmp, digest, size = self._write_temp(sid, data)
        try:
            if existing is not None:
                return self._same_or_refuse(sid, existing, digest)
            try:
                self._link_into_place(tmp, final)
            except FileExistsError:
                # Another worker stored this sid since we looked: same bytes are fine.
                return self._same_or_refuse(sid, final, digest)
            except OSError as exc:
                raise StoreError(f"could not store recording {sid}: {_why(exc)}") from exc
        finally:
            tmp.unlink(missing_ok=True)
        log.info("stored recording %s (%d bytes)", sid, size)
        return StoredAudio(sid=sid, key=final.name, path=final, sha256=digest, size=size)

    def delete(self, sid: str) -> bool:
        """Delete what is stored under sid; say whether there was anything to delete."""
        path = self._find(sid)
        if path is None:
            return False
        try:
            path.unlink()
            _fsync_dir(self.root)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StoreError(f"could not delete recording {sid}: {_why(exc)}") from exc
        log.info("deleted recording %s", sid)
        return True

    def remove_stale_temps(self, older_than: float = 3600.0) -> int:
        """Delete temporary files an interrupted store left behind (a killed worker); return how many.

        Only hidden `.<sid>.….tmp` files untouched for `older_than` seconds: a store in progress writes
        its temporary file continuously and renames it within seconds.
        """
        removed = 0
        limit = datetime.now(UTC).timestamp() - older_than
        for entry in os.scandir(self.root):
            temporary = entry.name.startswith(".") and entry.name.endswith(".tmp")
            if not temporary or not entry.is_file(follow_symlinks=False):
                continue
            try:
                if entry.stat(follow_symlinks=False).st_mtime < limit:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
        if removed:
            log.info("removed %d stale temporary file(s) from the recordings store", removed)
        return removed

    # -- internals -------------------------------------------------------------------------

    def _candidate(self, sid: str, suffix: str) -> Path:
        """Return the path sid would be stored at, after checking it stays inside the root."""
        check_sid(sid)
        if suffix not in ALLOWED_SUFFIXES:
            raise StoreError(f"unsupported suffix {suffix!r}: expected one of {', '.join(ALLOWED_SUFFIXES)}")
        path = self.root / f"{sid}{suffix}"
        # We never create symlinks, so one here was planted: refuse it rather than follow it
        # to wherever it points (another recording, or a file outside the store).
        if path.is_symlink():
            raise StoreError(f"refusing recording {sid}: its file is a symbolic link")
        resolved = path.resolve()
        if resolved.parent != self.root:
            raise StoreError(f"refusing recording {sid}: path resolves outside the store")
        return path

    def _find(self, sid: str) -> Path | None:
        """Return the path of the file stored under sid, whatever its suffix, or None."""
        check_sid(sid)
        for suffix in ALLOWED_SUFFIXES:
            if os.path.lexists(self.root / f"{sid}{suffix}"):
                return self._candidate(sid, suffix)
        return None

    def _require(self, sid: str) -> Path:
        path = self._find(sid)
        if path is None:
            raise NotStored(f"no recording stored under {sid}")
        return path

    def _describe(self, sid: str, path: Path) -> StoredAudio:
        digest = hashlib.sha256()
        size = 0
        try:
            with _open_nofollow(path) as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except FileNotFoundError as exc:
            raise NotStored(f"no recording stored under {sid}") from exc
        except OSError as exc:
            raise StoreError(f"could not read recording {sid}: {_why(exc)}") from exc
        return StoredAudio(sid=sid, key=path.name, path=path, sha256=digest.hexdigest(), size=size)

    def _same_or_refuse(self, sid: str, path: Path, digest: str) -> StoredAudio:
        stored = self._describe(sid, path)
        if stored.sha256 != digest:
            raise StoreError(f"recording {sid} is already stored with different content "
                             f"(sha256 {stored.sha256[:12]}, new {digest[:12]}); refusing to overwrite")
        return stored

    def _write_temp(self, sid: str, data: bytes | Iterable[bytes]) -> tuple[Path, str, int]:
        """Write data to a hidden temporary file in the root, flushed to disk; return it hashed."""
        chunks: Iterable[bytes] = (bytes(data),) if isinstance(data, bytes | bytearray) else data
        digest = hashlib.sha256()
        size = 0
        try:
            # mkstemp: O_EXCL and mode 0600. The leading dot keeps it out of sids().
            fd, name = tempfile.mkstemp(prefix=f".{sid}.", suffix=".tmp", dir=self.root)
        except OSError as exc:
            raise StoreError(f"could not store recording {sid}: {_why(exc)}") from exc
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:  # an error of the source itself propagates unchanged
                    try:
                        f.write(chunk)
                    except OSError as exc:
                        raise StoreError(f"could not store recording {sid}: {_why(exc)}") from exc
                    digest.update(chunk)
                    size += len(chunk)
                try:
                    f.flush()
                    os.fsync(f.fileno())
                except OSError as exc:
                    raise StoreError(f"could not store recording {sid}: {_why(exc)}") from exc
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return tmp, digest.hexdigest(), size

    def _link_into_place(self, tmp: Path, final: Path) -> None:
        """Give the complete temporary file its real name, never replacing an existing file."""
        try:
            # link() fails if the name exists, so two workers racing on one sid cannot
            # silently overwrite each other (rename would).
            os.link(tmp, final)
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
                raise
            # A filesystem without hard links: rename is still atomic, checked just before.
            if os.path.lexists(final):
                raise FileExistsError(errno.EEXIST, "exists", str(final)) from exc
            os.replace(tmp, final)
        _fsync_dir(self.root)


def _open_nofollow(path: Path) -> io.BufferedReader:
    """Open a stored file for reading, refusing a symlink swapped in since the path was checked."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def _fsync_dir(path: Path) -> None:
    """Flush a directory's entries to disk, so a stored or deleted file stays so after a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)
