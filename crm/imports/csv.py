"""Reading a CSV file a town exported from another system: its encoding, its delimiter, its
header. Shared by every import that takes a spreadsheet (requests, staff)."""

from __future__ import annotations

import codecs
import csv
import re

DELIMITERS = (",", ";", "\t", "|")
HEADER_SAMPLE = 65536  # bytes: enough for any header


def guess_encoding(content: bytes) -> str:
    """UTF-8 when the file's first 64 KiB read as UTF-8, else Windows-1252: what a French
    spreadsheet saves when it does not save UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        decoder.decode(content[:HEADER_SAMPLE], final=False)  # a character cut short is fine
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8-sig"


def guess_delimiter(header: str) -> str:
    """The delimiter a CSV header line uses most (comma, semicolon, tab or bar); a comma when it
    uses none."""
    return max(DELIMITERS, key=header.count)


def first_line(text: str) -> str:
    return re.split(r"\r\n?|\n", text, maxsplit=1)[0]


def header_columns(content: bytes, encoding: str) -> list[str]:
    """The column names of the file's header, in `encoding`, as an import will read them
    (from the first 64 KiB)."""
    header = first_line(content[:HEADER_SAMPLE].decode(encoding, errors="replace"))
    if not header.strip():
        return []
    reader = csv.reader([header], delimiter=guess_delimiter(header))
    return [column.strip() for column in next(reader, [])]
