"""Find, check and name the Vosk model folders an operator has installed, one per language.

The models folder (HOTLINE_VOSK_MODELS) holds the folders exactly as alphacephei publishes them
(`vosk-model-small-fr-0.22`), so the language is read from the folder name; a `language` file
inside, or a folder named by the code itself (`fj`), names languages Vosk has no official model for.
A folder is checked against the layout Vosk's loader reads (src/model.cc), so a missing file
gives a clear message here instead of a Kaldi error deep inside a job.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
from tqdm import tqdm

from .engine import is_language_code, normalise_language
from .errors import (
    BrokenModel,
    ChecksumMismatch,
    DownloadError,
    ModelInstallError,
    ModelNotFound,
    UnsafeArchive,
)
from .language_check import check_language

DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models/"
MODEL_LIST = "model-list.json"  # alphacephei's published list: name, lang, url, md5, size per model
LANGUAGE_FILE = "language"
DEFAULT_SAMPLE_RATE = 16000  # Kaldi's default --sample-frequency, used when mfcc.conf omits it

_NAME = re.compile(r"^vosk-model-(?:small-)?([a-z]{2,3})(?=-|$)")
_CODE_FOLDER = re.compile(r"^[a-z]{2,3}(-[a-z]{2})?$")  # "fj", "en-nz": a folder named by its language
_VERSION = re.compile(r"-(\d+(?:\.\d+)+)")
_SAMPLE_FREQUENCY = re.compile(r"^\s*--sample-frequency\s*=\s*(\S+)")
# Codes in alphacephei's model names that are not ISO 639-1 codes.
_ALIASES = {"cn": "zh", "ua": "uk", "vn": "vi", "kz": "kk"}
# vosk-model-spk-*: speaker identification, not speech recognition.
_NOT_LANGUAGES = {"spk"}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_MAX_UNPACKED = 64 * 1024**3  # the biggest official models unpack to a few GB
_IVECTOR_FILES = ("final.dubm", "final.mat", "global_cmvn.stats", "online_cmvn.conf", "splice.conf")


@dataclass(frozen=True)
class ModelInfo:
    """One folder in the models directory: its language, sample rate and any problems found."""

    path: Path
    language: str | None
    explicit: bool  # the language came from a `language` file or the folder's own name
    sample_rate: int
    problems: tuple[str, ...]

    @property
    def name(self) -> str:
        """Return the folder name, which for official models is the model's published name."""
        return self.path.name

    @property
    def ok(self) -> bool:
        """Tell whether the folder passed every check and has a language."""
        return not self.problems


def language_of(folder: Path) -> tuple[str | None, bool]:
    """Return the folder's language code and whether it was named explicitly.

    A `language` file wins, then a folder named by a code (`fj`), then the official model name
    (`vosk-model-small-hi-0.22` -> `hi`).
    """
    marker = folder / LANGUAGE_FILE
    if marker.is_file():
        code = normalise_language(marker.read_text(encoding="utf-8", errors="replace"))
        return (code if is_language_code(code) else None), True
    name = folder.name.lower().replace("_", "-")
    if _CODE_FOLDER.match(name):
        return name, True
    match = _NAME.match(name)
    if match is None or match.group(1) in _NOT_LANGUAGES:
        return None, False
    code = match.group(1)
    return _ALIASES.get(code, code), False


def _mfcc_conf(folder: Path) -> Path:
    nested = folder / "conf" / "mfcc.conf"
    return nested if (folder / "am").is_dir() else folder / "mfcc.conf"


def read_sample_rate(folder: Path) -> int:
    """Return the rate the model expects, from `--sample-frequency` in its mfcc.conf.

    Raises ValueError when the setting is present but not a positive number.
    """
    conf = _mfcc_conf(folder)
    if not conf.is_file():
        return DEFAULT_SAMPLE_RATE
    for line in conf.read_text(encoding="utf-8", errors="replace").splitlines():
        match = _SAMPLE_FREQUENCY.match(line)
        if match:
            rate = float(match.group(1))
            if rate <= 0 or rate != int(rate):
                raise ValueError(f"--sample-frequency={match.group(1)}")
            return int(rate)
    return DEFAULT_SAMPLE_RATE


def _need(folder: Path, relative: str, problems: list[str]) -> None:
    path = folder / relative
    if not path.is_file():
        problems.append(f"missing {relative}")
    elif path.stat().st_size == 0:
        problems.append(f"empty {relative}")


def check_model(folder: Path) -> list[str]:
    """List what is wrong with a model folder; an empty list means Vosk should load it.

    Two layouts exist: the current one (am/, conf/, graph/, ivector/) and the old flat one that
    a few published models (vosk-model-small-pt-0.3) still use.
    """
    if not folder.is_dir():
        return ["not a folder"]
    problems: list[str] = []
    if (folder / "am" / "final.mdl").is_file():
        _need(folder, "am/final.mdl", problems)
        _need(folder, "conf/model.conf", problems)
        _need(folder, "conf/mfcc.conf", problems)
        graph = "graph/"
    elif (folder / "final.mdl").is_file():
        _need(folder, "final.mdl", problems)
        _need(folder, "mfcc.conf", problems)
        graph = ""
    else:
        return ["missing am/final.mdl (is this a Vosk model folder?)"]
    if not (folder / f"{graph}HCLG.fst").is_file():
        lookahead = [f"{graph}HCLr.fst", f"{graph}Gr.fst", f"{graph}disambig_tid.int"]
        if not any((folder / f).is_file() for f in lookahead):
            problems.append(f"missing {graph}HCLG.fst (or {graph}HCLr.fst with {graph}Gr.fst)")
        else:
            for relative in lookahead:
                _need(folder, relative, problems)
    else:
        _need(folder, f"{graph}HCLG.fst", problems)
    if (folder / "ivector" / "final.ie").is_file():
        for name in _IVECTOR_FILES:
            _need(folder, f"ivector/{name}", problems)
    try:
        read_sample_rate(folder)
    except ValueError as exc:
        problems.append(f"bad mfcc.conf: {exc}")
    return problems


def inspect_model(folder: Path) -> ModelInfo:
    """Check one folder and read its language and sample rate."""
    problems = check_model(folder)
    language, explicit = language_of(folder) if folder.is_dir() else (None, False)
    if language is None:
        problems.append(
            f"unknown language: name the folder vosk-model-LANG-..., or write the code in {LANGUAGE_FILE}"
        )
    try:
        rate = read_sample_rate(folder)
    except (ValueError, OSError):
        rate = DEFAULT_SAMPLE_RATE
    return ModelInfo(folder, language, explicit, rate, tuple(problems))


def validate_model(folder: Path) -> ModelInfo:
    """Return the folder's details, or raise ModelNotFound / BrokenModel naming what is wrong."""
    if not folder.exists():
        raise ModelNotFound(folder)
    info = inspect_model(folder)
    if info.problems:
        raise BrokenModel(folder, info.problems)
    return info


def find_models(models_dir: Path) -> list[ModelInfo]:
    """Inspect every folder in the models directory, broken ones included, sorted by name.

    Hidden folders are skipped: `install_model` unpacks into `.install-*` beside the models.
    """
    if not models_dir.is_dir():
        return []
    return [inspect_model(p) for p in sorted(models_dir.iterdir()) if p.is_dir() and not p.name.startswith(".")]


def _preference(info: ModelInfo) -> tuple[bool, bool, tuple[int, ...], str]:
    match = _VERSION.search(info.name)
    version = tuple(int(part) for part in match.group(1).split(".")) if match else ()
    # Explicitly named first, then full-size over -small-, then the newest version.
    return (info.explicit, "-small-" not in info.name, version, info.name)


def choose_models(infos: Iterable[ModelInfo]) -> dict[str, ModelInfo]:
    """Pick the model each language uses among the folders that passed their checks."""
    chosen: dict[str, ModelInfo] = {}
    for info in infos:
        if not info.ok or info.language is None:
            continue
        current = chosen.get(info.language)
        if current is None or _preference(info) > _preference(current):
            chosen[info.language] = info
    return dict(sorted(chosen.items()))


def models_by_language(models_dir: Path) -> dict[str, ModelInfo]:
    """Return the usable model for each language in the models directory."""
    return choose_models(find_models(models_dir))


@dataclass(frozen=True)
class Installed:
    """A model `install_model` put in place, with the archive digest to pin it next time."""

    info: ModelInfo
    url: str
    sha256: str


def model_url(name_or_url: str, base_url: str = DEFAULT_BASE_URL) -> tuple[str, str]:
    """Return (archive URL, model name) for a published model name or a full URL to a zip."""
    if urlsplit(name_or_url).scheme in ("http", "https"):
        url = name_or_url
        name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    else:
        name = name_or_url
        url = urljoin(base_url.rstrip("/") + "/", f"{name.removesuffix('.zip')}.zip")
    name = name.removesuffix(".zip")
    if not _SAFE_NAME.match(name):
        raise ModelInstallError(f"not a model name: {name!r}")
    return url, name


def published_md5(name: str, url: str, base_url: str = DEFAULT_BASE_URL, timeout: float = 30.0) -> str | None:
    """Return the md5 alphacephei publishes for the model in its model-list.json, if it is listed.

    Any failure (no network, no list, not listed) gives None: the caller decides whether an
    unverified download is acceptable, and `install_model` decides it is not.
    """
    list_url = urljoin(base_url.rstrip("/") + "/", MODEL_LIST)
    try:
        response = requests.get(list_url, timeout=timeout)
        response.raise_for_status()
        entries = response.json()
    except (requests.RequestException, ValueError):
        return None
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and (entry.get("name") == name or entry.get("url") == url):
            md5 = str(entry.get("md5") or "").strip().lower()
            if re.fullmatch(r"[0-9a-f]{32}", md5):
                return md5
    return None


def _download(url: str, path: Path, label: str, progress: bool, timeout: float) -> dict[str, str]:
    """Stream the archive into `path`, returning its sha256 and md5 hex digests."""
    sha256 = hashlib.sha256()
    # md5 only because it is what alphacephei publishes; sha256 is checked whenever given.
    md5 = hashlib.md5(usedforsecurity=False)
    received = 0
    try:
        # identity: the checksums are of the archive as published, not of a re-encoded stream.
        with requests.get(url, stream=True, timeout=timeout, headers={"Accept-Encoding": "identity"}) as response:
            if response.status_code != 200:
                raise DownloadError(f"cannot download {url}: HTTP {response.status_code} {response.reason}")
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with open(path, "wb") as out, tqdm(
                total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, disable=not progress
            ) as bar:
                for chunk in response.iter_content(chunk_size=1 << 16):
                    out.write(chunk)
                    sha256.update(chunk)
                    md5.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as exc:
        raise DownloadError(f"cannot download {url}: {exc}") from exc
    if total is not None and received != total:
        raise DownloadError(f"cannot download {url}: got {received} of {total} bytes")
    return {"sha256": sha256.hexdigest(), "md5": md5.hexdigest()}


def _unsafe_member(member: zipfile.ZipInfo) -> str | None:
    name = member.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (parts and ":" in parts[0]):
        return f"absolute path {name!r}"
    if ".." in parts:
        return f"path {name!r} leaves the folder"
    if stat.S_ISLNK(member.external_attr >> 16):
        return f"symbolic link {name!r}"
    return None


def _unpack(archive: Path, into: Path) -> None:
    """Extract a zip after refusing any member that could land outside `into`."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            for member in members:
                # A crafted archive could otherwise write anywhere the worker can (zip slip).
                problem = _unsafe_member(member)
                if problem:
                    raise UnsafeArchive(f"refusing {archive.name}: {problem}")
            if sum(m.file_size for m in members) > _MAX_UNPACKED:
                raise UnsafeArchive(f"refusing {archive.name}: unpacks to more than {_MAX_UNPACKED} bytes")
            zf.extractall(into)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise UnsafeArchive(f"{archive.name} is not a readable zip archive: {exc}") from exc


def _model_root(unpacked: Path) -> tuple[Path, str | None]:
    """Return the model folder inside the unpacked archive and its own name, if it had one.

    Official archives hold one top folder named like the archive; a bare layout is accepted too.
    """
    entries = [p for p in unpacked.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0], entries[0].name
    return unpacked, None


def install_model(
    name_or_url: str,
    dest_dir: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    sha256: str | None = None,
    md5: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
    language: str | None = None,
) -> Installed:
    """Download a Vosk model zip, verify it, and unpack it into `dest_dir` atomically.

    The checksum is the given sha256 (or md5), else the md5 published in the site's model list;
    with neither, nothing is installed. The archive is unpacked into a hidden folder beside the
    destination, checked like any model folder, and only then renamed into place, so a failure at
    any step leaves `dest_dir` as it was. `language` writes a `language` file into the model folder;
    a model whose words are in another script than its language's is refused (WrongLanguageModel).
    """
    url, name = model_url(name_or_url, base_url)
    if language is not None:
        language = normalise_language(language)
        if not is_language_code(language):
            raise ModelInstallError(f"not a language code: {language!r}")
    dest_dir.mkdir(parents=True, exist_ok=True)
    if (dest_dir / name).exists():
        raise ModelInstallError(f"{dest_dir / name} already exists: remove it first to reinstall")
    expected = {"sha256": (sha256 or "").strip().lower(), "md5": (md5 or "").strip().lower()}
    if not expected["sha256"] and not expected["md5"]:
        expected["md5"] = published_md5(name, url, base_url, timeout) or ""
    if not expected["sha256"] and not expected["md5"]:
        raise ModelInstallError(
            f"no checksum to verify {name} against: {base_url.rstrip('/')}/{MODEL_LIST} does not list it "
            "(or cannot be reached); give the archive's sha256"
        )
    fd, archive_name = tempfile.mkstemp(dir=dest_dir, prefix=".download-", suffix=".zip")
    os.close(fd)
    archive = Path(archive_name)
    work = Path(tempfile.mkdtemp(dir=dest_dir, prefix=".install-"))
    try:
        actual = _download(url, archive, name, progress, timeout)
        for algorithm in ("sha256", "md5"):
            if expected[algorithm] and expected[algorithm] != actual[algorithm]:
                raise ChecksumMismatch(url, algorithm, expected[algorithm], actual[algorithm])
        unpacked = work / "unpacked"
        unpacked.mkdir()
        _unpack(archive, unpacked)
        root, own_name = _model_root(unpacked)
        final_name = own_name or name
        if not _SAFE_NAME.match(final_name):
            raise UnsafeArchive(f"refusing {archive.name}: odd folder name {final_name!r}")
        staged = work / final_name
        os.replace(root, staged)
        if language is not None:
            (staged / LANGUAGE_FILE).write_text(language + "\n", encoding="utf-8")
        info = validate_model(staged)  # named as it will be, so the language is read the same way
        check_language(info.path, info.language)
        target = dest_dir / final_name
        if target.exists():
            raise ModelInstallError(f"{target} already exists: remove it first to reinstall")
        os.replace(staged, target)
    finally:
        archive.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    return Installed(validate_model(target), url, actual["sha256"])
