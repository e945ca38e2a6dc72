"""Which text encoding a CSV file is in: UTF-8 (with or without BOM) or GB18030/GBK, nothing else.

The whole file is checked, chunk by chunk with incremental decoders, before any row is read, so
that a bad byte on the last line refuses the file instead of importing half of it.

Choices, documented here because they decide what users see:

* A NUL byte anywhere makes the file binary and refuses it, even when the rest is text (a NUL
  inside a cell of a CSV is a sign of a corrupt or mis-saved file, e.g. UTF-16 "Unicode text").
* GB18030 decodes almost any byte string, so a file that is not UTF-8 is only taken as GB18030
  when it also *looks* like Chinese text: at least :data:`MIN_COMMON_SHARE` of its non-ASCII
  characters must be common characters (those GB2312 can encode). Latin-1 and Shift-JIS files
  decode to rare CJK characters and are refused.
"""

from __future__ import annotations

import codecs
import functools
from collections import Counter
from pathlib import Path

from followup.intake.records import UnusableFile

CHUNK_SIZE = 64 * 1024
#: Share of non-ASCII characters that must be common (GB2312) characters in a GB18030 file.
MIN_COMMON_SHARE = 0.8

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@functools.lru_cache(maxsize=16384)
def _is_common(char: str) -> bool:
    """True for a character GB2312 can encode (the common Chinese set, with full-width signs)."""
    try:
        char.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _check_utf8(path: Path) -> bool:
    """True when the whole file is valid UTF-8; raises :class:`UnusableFile` on a NUL byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    valid = True
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            if b"\x00" in chunk:
                raise UnusableFile("binary file (contains NUL bytes), expected a CSV or XLSX file")
            if valid:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid = False
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return valid


def _check_gb18030(path: Path) -> None:
    """Raise :class:`UnusableFile` unless the whole file decodes as GB18030 and looks like Chinese."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    non_ascii = common = newlines = 0
    with path.open("rb") as stream:
        while True:
            chunk = stream.read(CHUNK_SIZE)
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc.object starts with the bytes held back from the previous chunk; they hold no
                # newline, which is never part of a GB18030 multi-byte character.
                line = newlines + exc.object[: exc.start].count(b"\n") + 1
                raise UnusableFile(_unknown_encoding(f"invalid bytes on line {line}")) from exc
            newlines += chunk.count(b"\n")
            if not text.isascii():
                # each distinct character looked at once per chunk, not every occurrence
                for char, count in Counter(text).items():
                    if char >= "\x80":
                        non_ascii += count
                        common += count * _is_common(char)
            if not chunk:
                break
    if non_ascii and common < MIN_COMMON_SHARE * non_ascii:
        raise UnusableFile(_unknown_encoding("the text does not look like Chinese"))


def _refuse_mixed(path: Path) -> None:
    """Refuse a file that is not UTF-8 as a whole but has lines of UTF-8 Chinese (two exports pasted
    together): read as GB18030 those lines would become wrong characters, silently."""
    utf8_line = other_line = None
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):  # GB18030 never uses the byte 0x0A inside a character
            if line.isascii():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                other_line = other_line or number
            else:
                # GBK bytes form valid UTF-8 with a Chinese character only by rare chance (line by line)
                if utf8_line is None and any("\u4e00" <= ch <= "\u9fff" for ch in text):
                    utf8_line = number
            if utf8_line and other_line:
                raise UnusableFile(_unknown_encoding(f"mixed encodings: line {utf8_line} is UTF-8, "
                                                     f"line {other_line} is not"))


def _unknown_encoding(detail: str) -> str:
    return f"unsupported text encoding ({detail}): save the file as CSV in UTF-8 or GB18030/GBK"


def detect_encoding(path: Path) -> str:
    """Return ``"utf-8-sig"``, ``"utf-8"`` or ``"gb18030"`` for the CSV file at ``path``.

    Raises :class:`UnusableFile` for an empty file, a binary or UTF-16 file, or any other encoding.
    """
    with path.open("rb") as stream:
        head = stream.read(4)
    if head.startswith(_UTF16_BOMS):
        raise UnusableFile("UTF-16 text is not supported: save the file as CSV in UTF-8 or GB18030/GBK")
    if not head:
        raise UnusableFile("empty file: no header row")
    if _check_utf8(path):
        return "utf-8-sig" if head.startswith(_UTF8_BOM) else "utf-8"
    _refuse_mixed(path)
    _check_gb18030(path)
    return "gb18030"
