"""Reading a file into text the parsers can use, and mapping parser positions to spans."""

from __future__ import annotations

import bisect
import codecs
from functools import cached_property

from lint_ws.findings import Severity, Span

# Larger files are generated code or data, not hand-written connection logic; parsing
# them would dominate a run for nothing.
MAX_FILE_BYTES = 10 * 1024 * 1024

LANGUAGE_BY_SUFFIX = {".rs": "rust", ".py": "python", ".pyi": "python"}


class SourceError(Exception):
    """The file cannot be analysed; the message is one line for the user."""

    def __init__(self, message: str, line: int | None = None, severity: Severity = Severity.ERROR):
        super().__init__(message)
        self.line = line
        self.severity = severity


class SourceFile:
    def __init__(self, path: str, language: str, raw: bytes, text: str, encoding: str, has_bom: bool):
        self.path = path  # display path (relative, forward slashes)
        self.language = language
        self.raw = raw
        self.text = text  # decoded, without BOM
        self.encoding = encoding
        self.has_bom = has_bom

    @cached_property
    def encoded(self) -> bytes:
        """UTF-8 text without BOM: what tree-sitter parses and its byte offsets index."""
        if self.encoding == "utf-8" and not self.has_bom:
            return self.raw
        return self.text.encode("utf-8")

    @cached_property
    def is_ascii(self) -> bool:
        return self.text.isascii()

    @cached_property
    def line_offsets(self) -> list[int]:
        """Offset in ``text`` of the start of each line (0-based line index)."""
        return _newline_offsets(self.text, "\n")

    @cached_property
    def _line_byte_offsets(self) -> list[int]:
        return _newline_offsets(self.encoded, b"\n")

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its line ending."""
        offsets = self.line_offsets
        start = offsets[line - 1]
        end = offsets[line] if line < len(offsets) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset_of(self, line: int, col0: int) -> int:
        """Text offset of 1-based ``line`` and 0-based code-point column."""
        return self.line_offsets[line - 1] + col0

    def position_of(self, offset: int) -> tuple[int, int]:
        """(1-based line, 0-based column) of a text offset."""
        line_index = bisect.bisect_right(self.line_offsets, offset) - 1
        return line_index + 1, offset - self.line_offsets[line_index]

    def span_from_offsets(self, start: int, end: int) -> Span:
        start_line, start_col = self.position_of(start)
        end_line, end_col = self.position_of(end)
        return Span(start_line, start_col + 1, end_line, end_col + 1, start, end)

    def char_offset_of_byte(self, byte_offset: int) -> int:
        """Convert a byte offset into ``encoded`` to an offset into ``text``."""
        if self.is_ascii:
            return byte_offset
        line_index = bisect.bisect_right(self._line_byte_offsets, byte_offset) - 1
        line_start = self._line_byte_offsets[line_index]
        column = len(self.encoded[line_start:byte_offset].decode("utf-8", errors="replace"))
        return self.line_offsets[line_index] + column

    def span_from_bytes(self, start_byte: int, end_byte: int) -> Span:
        return self.span_from_offsets(
            self.char_offset_of_byte(start_byte), self.char_offset_of_byte(end_byte)
        )


def _newline_offsets(data, newline) -> list[int]:
    offsets = [0]
    position = data.find(newline)
    while position != -1:
        offsets.append(position + 1)
        position = data.find(newline, position + 1)
    return offsets


def language_of(path: str) -> str | None:
    # Asked of every entry of every directory a run walks: one look-up of what follows the last dot.
    return LANGUAGE_BY_SUFFIX.get(path[path.rfind(".") :])


def decode(path: str, raw: bytes, language: str) -> SourceFile:
    """Decode ``raw`` as the language defines it, or raise SourceError."""
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(
            f"file is {len(raw) // (1024 * 1024)} MiB, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit; skipped"
        )
    if b"\x00" in raw:
        raise SourceError("binary file (contains NUL bytes); skipped")
    has_bom = raw.startswith(codecs.BOM_UTF8)
    encoding = "utf-8"
    if language == "python":
        import io
        import tokenize

        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        except SyntaxError as error:
            raise SourceError(f"cannot decode: {error}") from None
        if encoding == "utf-8-sig":
            encoding = "utf-8"
    body = raw[len(codecs.BOM_UTF8):] if has_bom else raw
    try:
        text = body.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        line = body[: getattr(error, "start", 0)].count(b"\n") + 1
        raise SourceError(f"not valid {encoding}: {_reason(error)}", line=line) from None
    return SourceFile(path, language, raw, text, encoding, has_bom)


def _reason(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return f"byte 0x{error.object[error.start]:02x} at offset {error.start}"
    return str(error)
