"""CSV in and out, the one way: reading what Excel and the 抖店 console write, and writing what Excel opens safely.

Reading: UTF-8, UTF-8 with BOM and GB18030 (a superset of GBK, what Excel in China
writes) are told apart by trying them in that order; values lose the leading tab
抖店 puts before IDs and its `-` for empty; dates come as `2026-11-22 10:30:00` or
with `/`. Writing: UTF-8 with BOM, long digit IDs kept as text, and any cell a
spreadsheet could run as a formula neutralised.
"""
import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from shop_admin.kernel.bulk import gc_paused

ENCODINGS = ("utf-8-sig", "gb18030")
# What a spreadsheet may run as a formula when a cell starts with it (OWASP "CSV injection").
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
# Excel shows digits-only cells of 12 and more as 6.9E+18 and loses the tail: such IDs get 抖店's leading tab.
# ASCII digits, the whole cell (no "\d", no "$" before a trailing newline): PostgreSQL's COPY export
# (orders.exports) applies the same rule in SQL and must give the same bytes.
_LONG_DIGITS = re.compile(r"[0-9]{12,}")
_DATETIME = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


class CsvUnreadable(ValueError):
    """The file is no CSV we can read (encoding, or not text at all); the message says why."""


@dataclass(frozen=True)
class CsvRow:
    line: int  # the line number a spreadsheet shows: the header is line 1
    values: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    headers: list[str]
    rows: list[CsvRow]
    encoding: str


def rows_created_between(rows, *, created_from=None, created_to=None):
    """An export's rows (a queryset) narrowed to those created on or after `created_from` and on or before `created_to`
    (dates, each optional)."""
    if created_from:
        rows = rows.filter(created_at__date__gte=created_from)
    if created_to:
        rows = rows.filter(created_at__date__lte=created_to)
    return rows


def csv_decode(content: bytes) -> tuple[str, str]:
    """The text and the encoding it was in; a BOM is dropped."""
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding), ("gb18030" if encoding == "gb18030" else "utf-8")
        except UnicodeDecodeError:
            continue
    raise CsvUnreadable("encoding")  # gb18030 decodes any byte string but a few; reached only by binary junk


def csv_value(raw: str | None) -> str:
    """A cell as the user meant it: 抖店's leading tab (IDs as text) and surrounding blanks gone, `-` for empty."""
    value = (raw or "").strip()  # blanks include the tab
    return "" if value == "-" else value


@gc_paused()
def csv_read(content: bytes) -> CsvTable:
    """Every row of the file with its line number; headers cleaned like values, empty lines skipped."""
    text, encoding = csv_decode(content)
    if "\x00" in text:
        raise CsvUnreadable("binary")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = [csv_value(h) for h in next(reader)]
    except StopIteration:
        return CsvTable(headers=[], rows=[], encoding=encoding)
    except csv.Error as exc:
        raise CsvUnreadable(str(exc)) from None
    rows = []
    width, named = len(headers), all(headers)
    # One string per distinct value: a file repeats its statuses, dates, SKUs, prices, names and addresses on
    # every row, and 100,000 rows kept two million strings alive where a few hundred thousand are different.
    distinct: dict[str, str] = {}
    one = distinct.setdefault
    try:
        for cells in reader:
            if named and len(cells) == width:  # the usual row: every cell under a header, cleaned in one pass
                cleaned = [one(c, c) for c in map(str.strip, cells)]
                if not any(cleaned):
                    continue
                if "-" in cleaned:
                    cleaned = ["" if c == "-" else c for c in cleaned]
                rows.append(CsvRow(line=reader.line_num, values=dict(zip(headers, cleaned))))
                continue
            if not any(c.strip() for c in cells):
                continue
            values = {h: csv_value(cells[i]) if i < len(cells) else "" for i, h in enumerate(headers) if h}
            rows.append(CsvRow(line=reader.line_num, values=values))
    except csv.Error as exc:
        raise CsvUnreadable(str(exc)) from None
    return CsvTable(headers=headers, rows=rows, encoding=encoding)


def csv_datetime(value: str) -> datetime | None:
    """`2026-11-22 10:30:00`, `2026/11/22 10:30` or a bare date, in shop time; None if it is none of these."""
    match = _DATETIME.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) if part else 0 for part in match.groups())
    try:
        return timezone.make_aware(datetime(year, month, day, hour, minute, second))
    except ValueError:
        return None


def csv_cell(value) -> str:
    """A value as an exported cell: long digit IDs as text, formula leads neutralised with a quote (idempotent)."""
    text = "" if value is None else str(value)
    if _LONG_DIGITS.fullmatch(text):
        return "\t" + text
    if text.startswith("\t") and _LONG_DIGITS.fullmatch(text[1:]):  # already kept as text: the same cell again
        return text
    if text.startswith(FORMULA_LEADS):
        return "'" + text
    return text


class CsvWriter:
    """Rows to a binary file as UTF-8 with BOM, every cell through `csv_cell`; written as they come."""

    def __init__(self, binary_file):
        self._text = io.TextIOWrapper(binary_file, encoding="utf-8", newline="", write_through=False)
        self._text.write("\ufeff")
        self._csv = csv.writer(self._text)

    def header(self, headers: Iterable[str]) -> None:
        self._csv.writerow(headers)

    def rows(self, rows: Iterable[Iterable]) -> None:
        self._csv.writerows([csv_cell(v) for v in row] for row in rows)

    def close(self) -> None:
        """Flush, and hand the binary file back open (the caller stores it)."""
        self._text.flush()
        self._text.detach()


def csv_bytes(headers: list[str], rows: Iterable[Iterable]) -> bytes:
    """A small CSV (an error report) in memory."""
    buffer = io.BytesIO()
    writer = CsvWriter(buffer)
    writer.header(headers)
    writer.rows(rows)
    writer.close()
    return buffer.getvalue()

