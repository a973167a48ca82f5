"""install_model against a local site that serves model zips and model-list.json like alphacephei.

Every failure must leave the models folder exactly as it was: no half-unpacked model, no
temporary files, nothing written outside it.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from speech.errors import (
    BrokenModel,
    ChecksumMismatch,
    DownloadError,
    ModelInstallError,
    UnsafeArchive,
)
from speech.models import install_model, model_url, models_by_language

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import MakeModel, ModelSite

NAME = "vosk-model-small-fr-0.22"


def zip_folder(folder: Path, top: str | None, extra: dict[str, bytes] | None = None) -> bytes:
    """Zip a folder the way alphacephei does (one top folder named like the model)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                relative = path.relative_to(folder).as_posix()
                zf.write(path, f"{top}/{relative}" if top else relative)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def archive(tmp_path: Path, make_model: MakeModel) -> bytes:
    return zip_folder(make_model(tmp_path / "build" / NAME, sample_rate=8000), NAME)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return folder


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(entries: list[dict[str, str]]) -> bytes:
    return json.dumps(entries).encode()


def left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_installs_a_model_verified_by_sha256(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    model_site.put(f"{NAME}.zip", archive)
    installed = install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(archive), progress=False)
    assert installed.info.path == dest / NAME
    assert (installed.info.language, installed.info.sample_rate) == ("fr", 8000)
    assert installed.sha256 == sha256(archive)
    assert installed.url == f"{model_site.base_url}{NAME}.zip"
    assert left_in(dest) == [NAME]  # nothing else: no .download-*, no .install-*
    assert list(models_by_language(dest)) == ["fr"]
    assert model_site.requests == [f"/vosk/models/{NAME}.zip"]  # a given sha256 needs no model list


def test_uses_the_md5_the_model_list_publishes(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    url = model_site.put(f"{NAME}.zip", archive)
    model_site.put("model-list.json", listing([
        {"name": "vosk-model-small-hi-0.22", "lang": "hi", "url": "x", "md5": "0" * 32, "size": 1},
        {"name": NAME, "lang": "fr", "url": url, "md5": hashlib.md5(archive).hexdigest(), "size": len(archive)},
    ]), content_type="application/json")
    installed = install_model(NAME, dest, base_url=model_site.base_url, progress=False)
    assert installed.info.language == "fr"
    assert model_site.requests == ["/vosk/models/model-list.json", f"/vosk/models/{NAME}.zip"]


def test_published_md5_mismatch_installs_nothing(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    url = model_site.put(f"{NAME}.zip", archive)
    model_site.put("model-list.json", listing([{"name": NAME, "lang": "fr", "url": url, "md5": "a" * 32}]))
    with pytest.raises(ChecksumMismatch, match="md5") as caught:
        install_model(NAME, dest, base_url=model_site.base_url, progress=False)
    assert caught.value.expected == "a" * 32
    assert left_in(dest) == []


def test_sha256_mismatch_installs_nothing(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    model_site.put(f"{NAME}.zip", archive)
    with pytest.raises(ChecksumMismatch, match="sha256"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256="b" * 64, progress=False)
    assert left_in(dest) == []


def test_refuses_to_install_without_any_checksum(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    model_site.put(f"{NAME}.zip", archive)  # and no model-list.json: the site answers 404
    with pytest.raises(ModelInstallError, match="no checksum"):
        install_model(NAME, dest, base_url=model_site.base_url, progress=False)
    assert f"/vosk/models/{NAME}.zip" not in model_site.requests
    assert left_in(dest) == []


def test_http_error(model_site: ModelSite, dest: Path) -> None:
    with pytest.raises(DownloadError, match="HTTP 404"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256="c" * 64, progress=False)
    model_site.put(f"{NAME}.zip", b"busy", status=503)
    with pytest.raises(DownloadError, match="HTTP 503"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256="c" * 64, progress=False)
    assert left_in(dest) == []


def test_connection_cut_short(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    model_site.put(f"{NAME}.zip", archive, cut_short=True)
    with pytest.raises(DownloadError, match=NAME):
        install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(archive), progress=False)
    assert left_in(dest) == []


def test_truncated_archive_is_refused(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    half = archive[: len(archive) // 2]  # served whole, checksum matching: the archive itself is short
    model_site.put(f"{NAME}.zip", half)
    with pytest.raises(UnsafeArchive, match="not a readable zip"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(half), progress=False)
    assert left_in(dest) == []


@pytest.mark.parametrize(
    "member", ["../escaped.txt", f"{NAME}/../../escaped.txt", "/tmp/escaped.txt", "..\\escaped.txt"]
)
def test_members_leaving_the_folder_are_refused(
    model_site: ModelSite, tmp_path: Path, make_model: MakeModel, dest: Path, member: str
) -> None:
    data = zip_folder(make_model(tmp_path / "build" / NAME), NAME, {member: b"pwned"})
    model_site.put(f"{NAME}.zip", data)
    with pytest.raises(UnsafeArchive, match="refusing"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(data), progress=False)
    assert left_in(dest) == []
    assert not list(tmp_path.rglob("escaped.txt"))


def test_symbolic_links_are_refused(model_site: ModelSite, tmp_path: Path, make_model: MakeModel, dest: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        link = zipfile.ZipInfo(f"{NAME}/am/final.mdl")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    data = buffer.getvalue()
    model_site.put(f"{NAME}.zip", data)
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(data), progress=False)
    assert left_in(dest) == []


def test_an_archive_holding_a_broken_model_installs_nothing(
    model_site: ModelSite, tmp_path: Path, make_model: MakeModel, dest: Path
) -> None:
    data = zip_folder(make_model(tmp_path / "build" / NAME, omit=("conf/mfcc.conf",)), NAME)
    model_site.put(f"{NAME}.zip", data)
    with pytest.raises(BrokenModel, match=r"missing conf/mfcc\.conf"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(data), progress=False)
    assert left_in(dest) == []


def test_an_archive_without_a_top_folder_is_named_after_the_model(
    model_site: ModelSite, tmp_path: Path, make_model: MakeModel, dest: Path
) -> None:
    data = zip_folder(make_model(tmp_path / "build" / "x"), None)
    model_site.put(f"{NAME}.zip", data)
    installed = install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(data), progress=False)
    assert installed.info.path == dest / NAME and installed.info.ok


def test_installs_from_a_full_url_into_a_new_folder(model_site: ModelSite, archive: bytes, tmp_path: Path) -> None:
    url = model_site.put(f"mirror/{NAME}.zip", archive)
    dest = tmp_path / "data" / "models" / "vosk"
    installed = install_model(url, dest, sha256=sha256(archive).upper(), progress=False)
    assert installed.info.path == dest / NAME


def test_an_installed_model_is_not_overwritten(model_site: ModelSite, archive: bytes, dest: Path) -> None:
    (dest / NAME).mkdir()
    model_site.put(f"{NAME}.zip", archive)
    with pytest.raises(ModelInstallError, match="already exists"):
        install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(archive), progress=False)
    assert model_site.requests == []


def test_shows_a_progress_bar(
    model_site: ModelSite, archive: bytes, dest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_site.put(f"{NAME}.zip", archive)
    install_model(NAME, dest, base_url=model_site.base_url, sha256=sha256(archive), progress=True)
    assert NAME in capsys.readouterr().err


def test_model_urls() -> None:
    assert model_url(NAME) == (f"https://alphacephei.com/vosk/models/{NAME}.zip", NAME)
    assert model_url(f"{NAME}.zip", "http://mirror.example/vosk") == (f"http://mirror.example/vosk/{NAME}.zip", NAME)
    assert model_url(f"https://example.org/m/{NAME}.zip") == (f"https://example.org/m/{NAME}.zip", NAME)
    for bad in ("../etc", "a/b", "", ".hidden"):
        with pytest.raises(ModelInstallError):
            model_url(bad)
