"""Order and settlement exports at the speed of the database: rows streamed from a server-side cursor, memory flat.

The lines are read as plain tuples in chunks (no model instances), formatted by the
contract's column definition (`orders.resources.ORDER_COLUMNS`), and handed on as
they come; the parts' columns (parcels) are loaded once per chunk of orders. Whoever
writes the file (`shop_admin.kernel.background.background_job_csv`, the command)
never holds more than a chunk.
"""
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from itertools import islice

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from orders.constants import OrderStatus
from orders.models import Order, OrderLine, Settlement
from orders.parts import order_part_export_columns, order_parts
from orders.resources import ORDER_COLUMNS
from orders.selectors import OrderFilters, orders_filtered
from shop_admin.kernel.csvio import csv_cell

CHUNK = 2000


def order_filters_to_params(filters: OrderFilters) -> dict:
    """Filters as a job keeps them (JSON)."""
    return {key: value.isoformat() if isinstance(value, date) else value for key, value in asdict(filters).items()}


def order_filters_from_params(params: dict) -> OrderFilters:
    values = dict(params)
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


# A cell a spreadsheet could run gets a quote, a long digit ID a tab: the kernel's `csv_cell`, in SQL.
_NEUTRAL_SQL = (
    r"CASE WHEN {x} ~ '^[0-9]{{12,}}$' THEN E'\t' || {x} "
    r"WHEN left({x}, 1) IN ('=', '+', '-', '@', E'\t', E'\r') THEN '''' || {x} ELSE {x} END"
)


def _column_sql(column) -> str:
    sql = column.sql
    if sql.startswith("{text}(") and sql.endswith(")"):
        return _NEUTRAL_SQL.format(x=sql[len("{text}(") : -1])
    return sql


def order_export_rows(lines: QuerySet[OrderLine]) -> Iterator[list[str]]:
    """Each line as the contract's row, in the order of EXPORT_HEADERS.

    On PostgreSQL the database formats every cell (what COPY would send, a chunk per
    round trip of a server-side cursor); parts' columns (parcels) are filled per chunk
    of orders. Elsewhere rows are read in chunks from a cursor and formatted here.
    """
    if connection.vendor == "postgresql":
        yield from _order_export_rows_copy(lines)
        return
    yield from _order_export_rows_python(lines)


def _order_export_rows_copy(lines: QuerySet[OrderLine]) -> Iterator[list[str]]:
    part_columns = order_part_export_columns()
    parts = {part.name: part for part in order_parts() if any(name == part.name for name, _g in part_columns.values())}
    selects, params, fills = ["l.order_id::text"], [], []
    for position, column in enumerate(ORDER_COLUMNS):
        if not column.sql:
            fills.append((position, *part_columns.get(column.header, (None, None))))
            selects.append("''")
        elif column.sql == "{status}":
            selects.append("CASE o.status " + " ".join("WHEN %s THEN %s" for _choice in OrderStatus.choices) + " ELSE o.status END")
            for value, label in OrderStatus.choices:
                params += [value, str(label)]  # in the job's language
        elif "{tz}" in column.sql:
            selects.append(column.sql.replace("{tz}", "%s"))
            params.append(timezone.get_current_timezone_name())
        else:
            selects.append(_column_sql(column))
    ids_sql, ids_params = lines.values("pk").query.sql_with_params()
    sql = (
        f"SELECT {', '.join(selects)} FROM {OrderLine._meta.db_table} l JOIN {Order._meta.db_table} o ON o.id = l.order_id "
        f"WHERE l.id IN ({ids_sql}) ORDER BY o.created_at, o.id, l.id"
    )
    # A server-side cursor: the database formats every cell as text and hands them over a chunk per round
    # trip; between two chunks the parts' queries (parcels) use the same connection.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [*params, *ids_params])
        while chunk := cursor.fetchmany(CHUNK):
            loaded = {}
            if parts:
                order_ids = list({int(record[0]) for record in chunk})
                loaded = {name: part.load(order_ids) for name, part in parts.items()}
            for record in chunk:
                row = list(record[1:])
                for position, name, getter in fills:
                    if getter is not None:
                        row[position] = csv_cell(getter(loaded[name].get(int(record[0]), [])))
                yield row


def _order_export_rows_python(lines: QuerySet[OrderLine]) -> Iterator[list[str]]:
    """Each line as the contract's row, read in chunks from a server-side cursor and formatted here."""
    paths = ["order_id"]
    plan = []  # per column: ("own", fmt, slice of the tuple) or ("part", part name, getter)
    part_columns = order_part_export_columns()
    labels = {value: str(label) for value, label in OrderStatus.choices}  # once per export, in the job's language
    tz = timezone.get_current_timezone()
    for column in ORDER_COLUMNS:
        if column.paths:
            start = len(paths)
            paths.extend(column.paths)
            if column.header == "订单状态":
                plan.append(("own", labels.__getitem__, slice(start, start + 1)))
            elif column.header == "下单时间":
                plan.append(("own", lambda moment: moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), slice(start, start + 1)))
            else:
                plan.append(("own", column.fmt, slice(start, start + len(column.paths))))
        else:
            name, getter = part_columns.get(column.header, (None, None))
            plan.append(("part", name, getter))
    parts = {part.name: part for part in order_parts() if any(kind == "part" and name == part.name for kind, name, _g in plan)}
    cursor = lines.order_by("order__created_at", "order_id", "pk").values_list(*paths).iterator(chunk_size=CHUNK)
    while True:
        chunk = list(islice(cursor, CHUNK))
        if not chunk:
            return
        order_ids = list({values[0] for values in chunk})
        loaded = {name: part.load(order_ids) for name, part in parts.items()}
        for values in chunk:
            row = []
            for kind, how, arg in plan:
                if kind == "own":
                    row.append(how(*values[arg]))
                elif how is None:
                    row.append("")
                else:
                    row.append(arg(loaded[how].get(values[0], [])))
            yield row


# --- settlements: what the merchant was paid per completed order ---

SETTLEMENT_HEADERS = ["订单号", "结算时间", "订单金额", "平台佣金", "结算金额"]


def settlement_export_lines(*, shop_id: int, created_from: date | None = None, created_to: date | None = None) -> QuerySet[Settlement]:
    settlements = Settlement.objects.filter(shop_id=shop_id)
    if created_from:
        settlements = settlements.filter(created_at__date__gte=created_from)
    if created_to:
        settlements = settlements.filter(created_at__date__lte=created_to)
    return settlements


def settlement_export_rows(settlements: QuerySet[Settlement]) -> Iterator[list[str]]:
    tz = timezone.get_current_timezone()
    rows = settlements.order_by("created_at", "pk").values_list("order__order_no", "created_at", "gross", "commission", "net")
    for order_no, created_at, gross, commission, net in rows.iterator(chunk_size=CHUNK):
        yield [order_no, created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), f"{gross:.2f}", f"{commission:.2f}", f"{net:.2f}"]

