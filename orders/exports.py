"""Order and settlement exports at the speed of the database: streamed to the file as they come, memory flat.

`order_export_write` writes the whole order CSV. The database writes it: one
`COPY (SELECT ...) TO STDOUT WITH (FORMAT csv)` whose SELECT computes every cell as the
contract's column definition (`orders.resources.ORDER_COLUMNS`) formats it (money, shop
time, status labels in the reader's language, contact details masked unless asked for
in clear, the kernel's `csv_cell` neutralisation) with the parts' columns (parcels)
joined in through the SQL they register; its rows go to the file as the server sends them.
"""
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import date
from typing import IO

from django.db.models import QuerySet
from django.utils import timezone

from orders.constants import OrderStatus
from orders.models import Order, OrderLine, Settlement
from orders.parts import order_parts
from orders.resources import EXPORT_HEADERS, ORDER_COLUMNS
from orders.selectors import OrderFilters, orders_filtered
from orders.sql import orders_export_copy
from shop_admin.kernel.csvio import CsvWriter, csv_cell, rows_created_between

CHUNK = 2000
PROGRESS_EVERY = 5000  # rows between two progress reports of `order_export_write`


def order_filters_to_params(filters: OrderFilters) -> dict:
    """Filters as a job keeps them (JSON)."""
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in asdict(filters).items()}


def order_filters_from_params(params: dict) -> OrderFilters:
    values = dict(params)
    if values.pop("ship_due_soon", False):  # a job queued before "overdue" had a filter of its own
        values["ship_due"] = "soon"
    for key in ("created_from", "created_to"):
        if values.get(key):
            values[key] = date.fromisoformat(values[key])
    return OrderFilters(**{key: value for key, value in values.items() if key in OrderFilters.__dataclass_fields__})


def order_export_lines(*, shop_id: int, filters: OrderFilters | None = None, order_nos: list[str] | None = None) -> QuerySet[OrderLine]:
    """The shop's order lines to export: the orders the filters (or the selection) pick, oldest order first."""
    lines = OrderLine.objects.filter(order__shop_id=shop_id)
    if order_nos is not None:
        lines = lines.filter(order__order_no__in=[n for n in order_nos if n.isdigit()])
    if filters is not None and filters != OrderFilters():  # no filter at all: every line of the shop, no subquery
        orders, _order_by = orders_filtered(shop_id=shop_id, filters=filters)
        lines = lines.filter(order__in=orders.values("pk"))
    return lines


# The kernel's `csv_cell` in SQL, case for case: a long digit ID gets a tab (one that has it already keeps it), a
# cell a spreadsheet could run gets a quote. An empty cell is NULL, which COPY writes as nothing, as Python's csv
# writer does ('' would be written "").
_CELL_SQL = (
    "CASE WHEN {x} = '' THEN NULL "
    "WHEN ascii({x}) IN (61, 43, 45, 64, 13) THEN '''' || {x} "  # = + - @ CR
    r"WHEN ascii({x}) = 9 THEN CASE WHEN {x} ~ '^\t[0-9]{{12,}}$' THEN {x} ELSE '''' || {x} END "  # a tab
    r"WHEN ascii({x}) BETWEEN 48 AND 57 AND {x} ~ '^[0-9]{{12,}}$' THEN E'\t' || {x} "  # a digit: the regex only then
    "ELSE {x} END"
)
_CELL_SQL_USES = _CELL_SQL.count("{x}")
# A number: as text, and quoted like any cell starting with "-" if it ever were negative.
_NUMBER_SQL = "CASE WHEN {x} < 0 THEN '''' || ({x})::text ELSE ({x})::text END"


def _cell_sql(expression: str) -> str:
    return _CELL_SQL.format(x=f"coalesce({expression}, '')")


def _inside(sql: str, mark: str) -> str | None:
    """x of `{mark}(x)`, or None."""
    if sql.startswith(mark + "(") and sql.endswith(")"):
        return sql[len(mark) + 1 : -1]
    return None


# How Django writes the lines' query (order_export_lines); its WHERE is reused over the aliases `l` and `o`.
_LINES_FROM = (
    f'SELECT "{OrderLine._meta.db_table}"."id" AS "pk" FROM "{OrderLine._meta.db_table}" INNER JOIN "{Order._meta.db_table}" '
    f'ON ("{OrderLine._meta.db_table}"."order_id" = "{Order._meta.db_table}"."id") WHERE '
)


def _lines_where(lines: QuerySet[OrderLine]) -> tuple[str, list]:
    """The lines' filter as a condition over `l` and `o`: Django's own WHERE when the query has the expected shape
    (cheaper than `l.id IN (...)`, a second pass over every line), else that IN."""
    sql, params = lines.values("pk").query.sql_with_params()
    line_table, order_table = f'"{OrderLine._meta.db_table}"', f'"{Order._meta.db_table}"'
    if sql.startswith(_LINES_FROM):
        where = sql[len(_LINES_FROM) :].replace(f"{line_table}.", "l.").replace(f"{order_table}.", "o.")
        if line_table not in where and order_table not in where:
            return where, list(params)
    return f"l.id IN ({sql})", list(params)


def order_export_sql(lines: QuerySet[OrderLine], *, shop_id: int, full_contact: bool = False) -> tuple[str, list]:
    """One SELECT of every row of the export as its text cells, as `CsvWriter` writes cells: status labels in the
    current language, times in the current zone, contact details masked unless `full_contact`, the parts' columns
    joined in."""
    part_sql = {part.name: part.export_sql(shop_id) for part in order_parts() if part.export_sql}
    by_header = {header: column for parts_sql in part_sql.values() for header, column in parts_sql.columns.items()}
    selects, params = [], []
    for column in ORDER_COLUMNS:
        sql = column.sql
        if not sql:
            if column.header not in by_header:
                selects.append("NULL")
                continue
            expression, expression_params = by_header[column.header]
            selects.append(_cell_sql(expression))
            params += expression_params * _CELL_SQL_USES  # the expression appears that many times
        elif sql == "{status}":
            selects.append("CASE o.status " + " ".join("WHEN %s THEN %s" for _choice in OrderStatus.choices) + " ELSE o.status END")
            for value, label in OrderStatus.choices:
                params += [value, csv_cell(str(label))]  # in the job's language
        elif "{tz}" in sql:
            selects.append(sql.replace("{tz}", "%s"))
            params.append(timezone.get_current_timezone_name())
        elif (inner := _inside(sql, "{text}")) is not None:
            if column.mask_sql and not full_contact:
                inner = column.mask_sql.format(x=f"coalesce({inner}, '')")
            selects.append(_cell_sql(inner))
        elif (inner := _inside(sql, "{num}")) is not None:
            selects.append(_NUMBER_SQL.format(x=inner))
        else:
            selects.append(sql)
    joins, join_params = [], []
    for parts_sql in part_sql.values():
        joins.append(parts_sql.join)
        join_params += parts_sql.params
    where, where_params = _lines_where(lines)
    sql = (
        f"SELECT {', '.join(selects)} FROM {OrderLine._meta.db_table} l JOIN {Order._meta.db_table} o ON o.id = l.order_id "
        f"{' '.join(joins)} WHERE {where} ORDER BY o.created_at, o.id, l.id"
    )
    return sql, [*params, *join_params, *where_params]


def order_export_write(
    lines: QuerySet[OrderLine],
    out: IO[bytes],
    *,
    shop_id: int,
    progress: Callable[[int], None] | None = None,
    full_contact: bool = False,
) -> int:
    """The whole CSV (BOM, header, a row per line) written to a binary file as it is produced; returns the rows.

    `COPY (order_export_sql) TO STDOUT WITH (FORMAT csv)`. The server sends a protocol message per
    row, ending in a newline (a cell's own newlines sit inside its quotes); each goes to `out` with
    the CRLF the header row (Python's csv writer) ends with, so Excel reads one kind of line end.
    `progress(rows written)` every PROGRESS_EVERY rows. Names, phones and street addresses are masked
    as the console shows them unless `full_contact` (the caller logs that reveal: orders.services.privacy).
    """
    writer = CsvWriter(out)
    writer.header(EXPORT_HEADERS)
    writer.close()
    sql, params = order_export_sql(lines, shop_id=shop_id, full_contact=full_contact)
    written = 0
    write = out.write

    def write_row(data: bytes) -> None:
        nonlocal written
        write(data)
        write(b"\r\n")
        written += 1
        if progress is not None and written % PROGRESS_EVERY == 0:
            progress(written)

    return orders_export_copy(sql=sql, params=params, write_row=write_row)


# --- settlements: what the merchant was paid per completed order ---

SETTLEMENT_HEADERS = ["订单号", "结算时间", "订单金额", "平台佣金", "结算金额"]


def settlement_export_lines(*, shop_id: int, created_from: date | None = None, created_to: date | None = None) -> QuerySet[Settlement]:
    return rows_created_between(Settlement.objects.filter(shop_id=shop_id), created_from=created_from, created_to=created_to)


def settlement_export_rows(settlements: QuerySet[Settlement]) -> Iterator[list[str]]:
    tz = timezone.get_current_timezone()
    rows = settlements.order_by("created_at", "pk").values_list("order__order_no", "created_at", "gross", "commission", "net")
    for order_no, created_at, gross, commission, net in rows.iterator(chunk_size=CHUNK):
        yield [order_no, created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), f"{gross:.2f}", f"{commission:.2f}", f"{net:.2f}"]

