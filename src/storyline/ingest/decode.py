"""Bytes to text, for files whose encoding nobody told us.

UTF-8 is tried first because it is both the common case and fast; only when it fails does
charset-normalizer guess. Binary content is recognised and refused rather than decoded into garbage.
"""

from __future__ import annotations

import codecs

__all__ = ["DecodeError", "decode_bytes", "decode_line", "looks_binary", "reads_as_utf8", "without_utf8_bom"]

_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
_KEEP_ONLY_CONTROLS = bytes(range(256)).translate(None, _CONTROL_BYTES)  # everything else, to delete


class DecodeError(ValueError):
    """The bytes are not text in any encoding we can recognise."""


def looks_binary(data: bytes, sample: int = 8192) -> bool:
    head = data[:sample]
    if not head:
        return False
    if b"\x00" in head:
        # UTF-16 text has NULs too; charset detection handles it when a BOM says so
        return not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"))
    controls = len(head.translate(None, _KEEP_ONLY_CONTROLS))
    return controls / len(head) > 0.05


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text with no byte-order mark (e.g. a feed that declares encoding="UTF-16"): mostly-ASCII
    text then has a NUL in every other byte, which would otherwise read as binary."""
    head = data[:4096]
    if len(head) < 4 or len(data) % 2:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    codec = "utf-16-be" if even > 0.4 * len(head) / 2 and odd == 0 else "utf-16-le" if odd > 0.4 * len(head) / 2 and even == 0 else None
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def without_utf8_bom(data: bytes) -> bytes:
    """``data`` without a leading UTF-8 byte-order mark (the start of a file, not of each line)."""
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding name)."""
    data = without_utf8_bom(data)
    utf16 = _utf16_without_bom(data) if b"\x00" in data[:8192] else None
    if utf16 is not None:
        return utf16.lstrip("\ufeff"), "utf-16"
    if looks_binary(data):
        raise DecodeError("binary content, not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DecodeError("could not detect a text encoding (not UTF-8; charset-normalizer found none)")
    text = str(best)
    if "\x00" in text:
        raise DecodeError(f"decoded as {best.encoding} but contains NUL characters")
    return text.lstrip("\ufeff"), best.encoding


def reads_as_utf8(sample: bytes, complete: bool) -> bool:
    """Whether ``decode_bytes`` would read a file that begins with ``sample`` as UTF-8: such a file can be
    decoded line by line (a line break never falls inside a UTF-8 character), so a stream need not be held
    whole. The checks are the ones ``decode_bytes`` makes on the same leading bytes (a NUL, then binary
    content, then UTF-8); ``complete`` says ``sample`` is the whole file, so a character cut off at its end
    is an error rather than the sample's edge."""
    sample = without_utf8_bom(sample)
    if b"\x00" in sample[:8192] or looks_binary(sample):
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def decode_line(line: bytes) -> str:
    """One line of a file that ``reads_as_utf8``: UTF-8, as nearly always. A line that is not (a stray
    Latin-1 record deep in a UTF-8 dump) gets ``decode_bytes``' detection on its own, so it costs no other
    line; it raises ``DecodeError`` as ``decode_bytes`` does."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(line)[0]
