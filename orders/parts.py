"""What an upper app adds wherever orders are shown, without orders knowing it.

Logistics adds parcels, after-sale adds cases: each registers an `OrderPart` in its
`AppConfig.ready()`. The order page draws the part's panel and actions, the order
list its column, the CSV export fills the contract's columns the part owns, and the
order search asks the part for orders by text it holds (a tracking number).
Rows are loaded for a whole page of orders in one query per part.
"""
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OrderPart:
    name: str
    # order ids -> the part's rows of each order, in one query
    load: Callable[[list[int]], dict[int, list[Any]]]
    # the order page: a panel (gets `order`, `rows`) and form controls inside the actions card (also `actions`)
    panel_template: str = ""
    actions_template: str = ""
    # the order list: a column header and its cell (gets `order`, the list's row, and `rows`), and buttons of the bulk
    # bar (gets `perms`)
    list_header: Any = ""
    list_template: str = ""
    # or the cell as a function (the order's rows -> HTML marked safe, anything else is escaped): the list draws
    # it without a template per row, which at 20-100 rows a page is most of the list's time
    list_cell: Callable[[list[Any]], Any] | None = None
    # the rows `list_cell` gets, if it needs less than `load` reads (order ids -> rows, one query): a list page
    # needs a parcel's carrier and number, not its timeline
    list_load: Callable[[list[int]], dict[int, list[Any]]] | None = None
    bulk_template: str = ""
    # the CSV export: contract header -> its value from the order's rows
    export_columns: dict[str, Callable[[list[Any]], str]] = field(default_factory=dict)
    # the same columns in SQL, for PostgreSQL's COPY export (orders.exports): (shop id) -> the SQL, called once per
    # export, in its language
    export_sql: Callable[[int], "PartExportSql"] | None = None
    # the CSV import (orders.imports): the part's columns of the new orders checked in one go (-> bad cells), then,
    # inside the import's transaction, its rows written for them in bulk
    import_check: Callable[[int, list["ImportedOrder"]], list[tuple]] | None = None  # (line, column, message id[, params])
    import_write: Callable[[list["ImportedOrder"]], None] | None = None
    # the order search: (shop_id, q) -> ids of orders whose rows match q, or None when q is not this part's kind of text
    search: Callable[[int, str], list[int] | None] | None = None
    # the JSON API's order view: the field, its schema (an item's shape), and a row as JSON; merchant_only hides it from buyers
    api_field: str = ""
    api_item_schema: Any = None
    api_item: Callable[[Any], dict] | None = None
    merchant_only: bool = False


@dataclass(frozen=True)
class PartExportSql:
    """A part's CSV columns in SQL: a join to the order `o` under the part's name as alias (at most one row an
    order, e.g. a LEFT JOIN of a DISTINCT ON (order_id) of the shop's rows), and per header an expression over that
    alias giving the same
    text as the part's `export_columns` getter (NULL for empty); the export neutralises the cells itself."""

    join: str
    columns: dict[str, tuple[str, list]]  # header -> (SQL expression, its params)
    params: list = field(default_factory=list)  # the join's params


@dataclass(frozen=True)
class ImportedOrder:
    """A new order of a CSV import as a part sees it: `line` is its first row in the file, `values` the file's
    order-level columns by contract header (快递公司, 快递单号, ...); `order_id` is 0 while it is only checked."""

    order_id: int
    order_no: str
    shop_id: int
    line: int
    status: str
    created_at: Any
    values: dict[str, str]


_parts: dict[str, OrderPart] = {}


def order_part_register(part: OrderPart) -> None:
    _parts[part.name] = part


def order_parts() -> list[OrderPart]:
    return list(_parts.values())


@dataclass(frozen=True)
class PartRows:
    part: OrderPart
    rows: list[Any]


def order_parts_attach(orders: list) -> None:
    """Give each order `part_rows`: every registered part with that order's rows, in registration order."""
    ids = [order.pk for order in orders]
    loaded = {part.name: part.load(ids) if ids else {} for part in order_parts()}
    for order in orders:
        order.part_rows = [PartRows(part=part, rows=loaded[part.name].get(order.pk, [])) for part in order_parts()]


def order_parts_attach_for_list(rows: list) -> None:
    """Give each row of the order list `part_rows`: the parts with a list column and the rows their cell draws.

    A part without a column in the list is not read at all; one with `list_load` reads only what its cell shows.
    """
    ids = [row.pk for row in rows]
    shown = [part for part in order_parts() if part.list_cell or part.list_template]
    loaded = {
        part.name: ((part.list_load if part.list_cell and part.list_load else part.load)(ids) if ids else {}) for part in shown
    }
    for row in rows:
        row.part_rows = [PartRows(part=part, rows=loaded[part.name].get(row.pk, [])) for part in shown]


def order_part_export_columns() -> dict[str, Callable[[list[Any]], str]]:
    """Contract headers some part fills, with the part's name to find its rows."""
    return {header: (part.name, getter) for part in order_parts() for header, getter in part.export_columns.items()}
