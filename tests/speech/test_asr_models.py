"""Vosk model folders: which language each serves, what makes one broken, which one is used."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from speech.errors import BrokenModel, ModelError, ModelNotFound
from speech.models import (
    choose_models,
    find_models,
    inspect_model,
    language_of,
    models_by_language,
    read_sample_rate,
    validate_model,
)
from speech.vosk_engine import VoskEngine

if TYPE_CHECKING:  # conftest is not importable at run time under --import-mode=importlib
    from conftest import MakeModel


@pytest.mark.parametrize(
    ("folder", "language"),
    [
        ("vosk-model-small-fr-0.22", "fr"),
        ("vosk-model-en-us-0.22", "en"),
        ("vosk-model-en-us-0.22-lgraph", "en"),
        ("vosk-model-small-hi-0.22", "hi"),
        ("vosk-model-small-en-in-0.4", "en"),
        ("vosk-model-small-cn-0.22", "zh"),  # the site's "cn" is ISO "zh"
        ("vosk-model-small-uk-v3-small", "uk"),
        ("vosk-model-fr-0.6-linto-2.2.0", "fr"),
        ("fj", "fj"),
        ("sm", "sm"),
        ("vosk-model-spk-0.4", None),  # speaker identification, not a language
        ("my-model", None),
    ],
)
def test_language_from_folder_name(tmp_path: Path, folder: str, language: str | None) -> None:
    path = tmp_path / folder
    path.mkdir()
    assert language_of(path)[0] == language


def test_language_file_overrides_the_name(tmp_path: Path, make_model: MakeModel) -> None:
    folder = make_model(tmp_path / "vosk-model-small-en-us-0.15", language="FJ")
    assert language_of(folder) == ("fj", True)
    assert inspect_model(folder).language == "fj"


def test_a_well_formed_model_passes(tmp_path: Path, make_model: MakeModel) -> None:
    info = validate_model(make_model(tmp_path / "vosk-model-small-fr-0.22"))
    assert (info.name, info.language, info.sample_rate, info.problems) == ("vosk-model-small-fr-0.22", "fr", 16000, ())


def test_small_model_graph_layout_passes(tmp_path: Path, make_model: MakeModel) -> None:
    assert validate_model(make_model(tmp_path / "vosk-model-small-hi-0.22", graph="lookahead")).ok


def test_old_flat_layout_passes(tmp_path: Path) -> None:
    folder = tmp_path / "vosk-model-small-pt-0.3"
    folder.mkdir()
    for name in ("final.mdl", "mfcc.conf", "HCLG.fst", "words.txt"):
        (folder / name).write_text("x", encoding="utf-8")
    assert validate_model(folder).language == "pt"


def test_sample_rate_comes_from_mfcc_conf(tmp_path: Path, make_model: MakeModel) -> None:
    assert read_sample_rate(make_model(tmp_path / "a", sample_rate=8000)) == 8000
    assert read_sample_rate(make_model(tmp_path / "b", sample_rate=None)) == 16000  # Kaldi's default
    bad = make_model(tmp_path / "vosk-model-small-fr-0.22")
    (bad / "conf" / "mfcc.conf").write_text("--sample-frequency=fast\n", encoding="utf-8")
    assert "bad mfcc.conf" in " ".join(inspect_model(bad).problems)


@pytest.mark.parametrize(
    ("omit", "empty", "problem"),
    [
        (("am/final.mdl",), (), "missing am/final.mdl"),
        (("conf/model.conf",), (), "missing conf/model.conf"),
        (("conf/mfcc.conf",), (), "missing conf/mfcc.conf"),
        (("graph/HCLG.fst",), (), "missing graph/HCLG.fst"),
        (("ivector/final.mat",), (), "missing ivector/final.mat"),
        ((), ("am/final.mdl",), "empty am/final.mdl"),
    ],
)
def test_broken_models_say_what_is_wrong(
    tmp_path: Path, make_model: MakeModel, omit: tuple[str, ...], empty: tuple[str, ...], problem: str
) -> None:
    folder = make_model(tmp_path / "vosk-model-small-fr-0.22", omit=omit, empty=empty)
    with pytest.raises(BrokenModel, match=re.escape(problem)) as caught:
        validate_model(folder)
    assert caught.value.path == folder


def test_lookahead_graph_needs_all_its_parts(tmp_path: Path, make_model: MakeModel) -> None:
    folder = make_model(tmp_path / "vosk-model-small-fr-0.22", graph="lookahead", omit=("graph/Gr.fst",))
    with pytest.raises(BrokenModel, match=r"missing graph/Gr\.fst"):
        validate_model(folder)


def test_unknown_language_is_a_problem(tmp_path: Path, make_model: MakeModel) -> None:
    with pytest.raises(BrokenModel, match="unknown language"):
        validate_model(make_model(tmp_path / "downloaded-model"))


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound) as caught:
        validate_model(tmp_path / "vosk-model-small-fr-0.22")
    assert isinstance(caught.value, ModelError)


def test_find_models_lists_broken_ones_and_skips_the_rest(tmp_path: Path, make_model: MakeModel) -> None:
    make_model(tmp_path / "vosk-model-small-fr-0.22")
    make_model(tmp_path / "vosk-model-small-hi-0.22", omit=("conf/model.conf",))
    make_model(tmp_path / ".install-abc123")  # an install in progress
    (tmp_path / "vosk-model-small-de-0.15.zip").write_bytes(b"PK")
    infos = find_models(tmp_path)
    assert [(i.name, i.ok) for i in infos] == [("vosk-model-small-fr-0.22", True), ("vosk-model-small-hi-0.22", False)]
    assert list(models_by_language(tmp_path)) == ["fr"]
    assert find_models(tmp_path / "nowhere") == []


def test_one_model_per_language_explicit_then_big_then_newest(tmp_path: Path, make_model: MakeModel) -> None:
    small_old = inspect_model(make_model(tmp_path / "vosk-model-small-en-us-0.4"))
    small_new = inspect_model(make_model(tmp_path / "vosk-model-small-en-us-0.15"))
    big = inspect_model(make_model(tmp_path / "vosk-model-en-us-0.22"))
    explicit = inspect_model(make_model(tmp_path / "english", language="en"))
    assert choose_models([small_old, small_new])["en"] == small_new  # 0.15 is newer than 0.4
    assert choose_models([small_new, big, small_old])["en"] == big
    assert choose_models([big, explicit, small_new])["en"] == explicit


def test_vosk_refusing_a_folder_raises_our_error(tmp_path: Path, make_model: MakeModel) -> None:
    # The layout is right but the files are placeholders: Vosk itself fails to load them.
    folder = make_model(tmp_path / "vosk-model-small-fr-0.22")
    with pytest.raises(BrokenModel, match="Vosk could not load it") as caught:
        VoskEngine.load(folder)
    assert caught.value.path == folder


def test_vosk_engine_checks_the_folder_before_loading(tmp_path: Path, make_model: MakeModel) -> None:
    with pytest.raises(BrokenModel, match=r"missing conf/model\.conf"):
        VoskEngine.load(make_model(tmp_path / "vosk-model-small-fr-0.22", omit=("conf/model.conf",)))
    with pytest.raises(ModelNotFound):
        VoskEngine.load(tmp_path / "vosk-model-small-de-0.15")
