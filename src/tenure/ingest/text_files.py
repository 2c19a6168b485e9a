"""Text files as importers meet them: any line ending, UTF-8, Windows-1252 or UTF-16/32.

Lines are split at CRLF, LF or a lone CR and decoded one by one (UTF-8, else
Windows-1252) unless a byte order mark (or NUL bytes) announces a wide encoding.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Iterator
from typing import IO, Any

BLOCK_BYTES = 1 << 20
# Byte order marks, longest first: UTF-32 LE's starts with UTF-16 LE's.
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", None),  # Excel's UTF-8 BOM: read like any 8-bit file
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
_BYTE_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)")
_TEXT_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)")


def _decode(raw: bytes) -> str:
    # Excel and older CRMs still export Windows-1252; a file is UTF-8 line by line or not.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def detect_encoding(head: bytes) -> tuple[str | None, int]:
    """The wide encoding ``head`` announces and the length of its byte order mark.

    None means 8-bit text, decoded line by line (UTF-8, else Windows-1252). Excel's
    "Unicode text" and many Windows tools write UTF-16 with a BOM; without one, a NUL in
    every other byte of ASCII headers gives UTF-16 away.
    """
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    sample = head[:200]
    if len(sample) >= 4 and b"\x00" not in sample[0::2] and set(sample[1::2]) == {0}:
        return "utf-16-le", 0
    if len(sample) >= 4 and set(sample[0::2]) == {0} and b"\x00" not in sample[1::2]:
        return "utf-16-be", 0
    return None, 0


def split_lines(chunks: Iterator[Any]) -> Iterator[Any]:
    """Lines of ``chunks`` (bytes or str) with their endings: CRLF, LF or a lone CR.

    File iteration splits at LF only, so a file from a classic Mac or some exporters
    (CR only) was one line and the csv module stopped with "new-line character seen in
    unquoted field" (issue 9). A CR at the end of a chunk waits for the next one, which
    may start with its LF.
    """
    parts: list[Any] = []
    for chunk in chunks:
        if not chunk:
            continue
        text = isinstance(chunk, str)
        cr: Any = "\r" if text else b"\r"
        lf: Any = "\n" if text else b"\n"
        empty: Any = "" if text else b""
        if parts and parts[-1].endswith(cr):
            if chunk.startswith(lf):
                parts.append(lf)
                chunk = chunk[1:]
            yield empty.join(parts)
            parts = []
        end = 0
        for match in (_TEXT_LINE if text else _BYTE_LINE).finditer(chunk):
            line = match.group()
            if parts:
                line = empty.join([*parts, line])
                parts = []
            end = match.end()
            if end == len(chunk) and line.endswith(cr):
                parts = [line]
                break
            yield line
        else:
            if end < len(chunk):
                parts.append(chunk[end:])
    if parts:
        yield parts[0][:0].join(parts)


class CountingLines:
    """Decoded lines of a binary file, counting the bytes read (for the progress bar)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.bytes_read = 0

    def _blocks(self) -> Iterator[bytes]:
        while block := self.handle.read(BLOCK_BYTES):
            self.bytes_read += len(block)
            yield block

    def __iter__(self) -> Iterator[str]:
        blocks = self._blocks()
        head = next(blocks, b"")
        encoding, bom = detect_encoding(head)
        head = head[bom:]
        if encoding is None:
            for raw in split_lines(itertools.chain([head], blocks)):
                yield _decode(raw)
            return
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        texts = (decoder.decode(block) for block in itertools.chain([head], blocks))
        yield from split_lines(itertools.chain(texts, [decoder.decode(b"", final=True)]))
