"""The order CSV of the contract, defined once: its columns, how each is read from the database, and the
django-import-export resources the Django admin uses over the same definition.

One row per order line; order-level values repeat on each line. Orders fills its own
columns; 快递公司 and 快递单号 come from the part that registered them (orders.parts)
and are empty when no part does. The fast paths (`orders.exports`, `orders.imports`)
and the admin's resources read the same `ORDER_COLUMNS`.
"""
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.utils import timezone
from import_export import fields, resources
from import_export.formats import base_formats

from orders.constants import OrderStatus
from orders.models import OrderLine
from orders.parts import order_part_export_columns
from shop_admin.kernel.csvio import CsvUnreadable, csv_cell, csv_decode


def _money(*values: Decimal) -> str:
    return f"{sum(values):.2f}"


def _shop_time(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class OrderColumn:
    header: str
    # ORM paths from OrderLine (values_list names); the cell is `fmt(*values)`. Empty: a part's column.
    paths: Sequence[str]
    fmt: Callable[..., str] = _text
    # The same cell in SQL over `l` (the line) and `o` (its order), for PostgreSQL's COPY (orders.exports):
    # "{text}(x)" a text csv_cell neutralises, "{num}(x)" a number (a negative one gets the quote too),
    # "{status}" and "{tz}" are filled in there.
    sql: str = ""
    # Contact details (name, phone, address detail): exported as `mask_sql` over {x}, the column's text ('' for NULL),
    # unless the export is in clear. A test holds each to the mask the console shows (shop_admin.kernel.text).
    mask_sql: str = ""


_NAME_MASK_SQL = "CASE WHEN {x} = '' THEN '' ELSE left({x}, 1) || '*' END"  # name_mask
_PHONE_MASK_SQL = "CASE WHEN char_length({x}) = 11 THEN left({x}, 3) || '****' || right({x}, 4) ELSE '****' END"  # phone_mask
_DETAIL_MASK_SQL = "CASE WHEN {x} = '' THEN '' ELSE left({x}, 2) || '****' END"  # address_detail_mask


ORDER_COLUMNS: list[OrderColumn] = [
    OrderColumn("订单号", ["order__order_no"], sql="{text}(o.order_no)"),
    OrderColumn("下单时间", ["order__created_at"], _shop_time, sql="to_char(o.created_at AT TIME ZONE {tz}, 'YYYY-MM-DD HH24:MI:SS')"),
    OrderColumn("订单状态", ["order__status"], lambda status: str(OrderStatus(status).label), sql="{status}"),
    OrderColumn("SKU编码", ["sku_code"], sql="{text}(l.sku_code)"),
    OrderColumn("商品名称", ["product_name"], sql="{text}(l.product_name)"),
    OrderColumn("商品规格", ["spec"], sql="{text}(l.spec)"),
    OrderColumn("数量", ["quantity"], sql="{num}(l.quantity)"),
    OrderColumn("单价", ["unit_price"], _money, sql="{num}(l.unit_price)"),
    OrderColumn("运费", ["order__freight"], _money, sql="{num}(o.freight)"),
    OrderColumn(
        "优惠金额",
        ["order__coupon_discount", "order__full_reduction", "order__subsidy"],
        _money,
        sql="{num}(o.coupon_discount + o.full_reduction + o.subsidy)",
    ),
    OrderColumn("应付金额", ["order__payable"], _money, sql="{num}(o.payable)"),
    OrderColumn("收件人", ["order__recipient_name"], sql="{text}(o.recipient_name)", mask_sql=_NAME_MASK_SQL),
    OrderColumn("手机号", ["order__phone"], sql="{text}(o.phone)", mask_sql=_PHONE_MASK_SQL),
    OrderColumn("省", ["order__province"], sql="{text}(o.province)"),
    OrderColumn("市", ["order__city"], sql="{text}(o.city)"),
    OrderColumn("区", ["order__district"], sql="{text}(o.district)"),
    OrderColumn(
        "详细地址", ["order__address_detail"], sql="{text}(o.address_detail)", mask_sql=_DETAIL_MASK_SQL
    ),
    OrderColumn("快递公司", []),
    OrderColumn("快递单号", []),
    OrderColumn("买家留言", ["order__buyer_message"], sql="{text}(o.buyer_message)"),
    OrderColumn("商家备注", ["order__merchant_remark"], sql="{text}(o.merchant_remark)"),
]
EXPORT_HEADERS = [column.header for column in ORDER_COLUMNS]


def part_cell(header: str) -> Callable[[list], str]:
    """The cell of a part's column from that order's rows of the part ('' when no part fills it)."""
    _name, from_rows = order_part_export_columns().get(header, (None, None))
    return from_rows or (lambda rows: "")


def _instance_getter(column: OrderColumn) -> Callable[[OrderLine], str]:
    if column.paths:
        getters = [attrgetter(path.replace("__", ".")) for path in column.paths]
        return lambda line: column.fmt(*(get(line) for get in getters))
    name, from_rows = order_part_export_columns().get(column.header, (None, None))
    if from_rows is None:
        return lambda line: ""

    def from_part(line: OrderLine) -> str:
        rows = next((pr.rows for pr in getattr(line.order, "part_rows", []) if pr.part.name == name), [])
        return from_rows(rows)

    return from_part


class _Column(fields.Field):
    def __init__(self, header: str, getter):
        super().__init__(column_name=header, readonly=True)
        self.getter = getter

    def get_value(self, obj):
        return csv_cell(self.getter(obj))  # the console's Excel-safe cells, in the admin's export too


class OrderLineExportResource(resources.Resource):
    """The contract's columns over OrderLine instances (the admin's export); feed it lines whose orders carry `part_rows`."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields = {column.header: _Column(column.header, _instance_getter(column)) for column in ORDER_COLUMNS}

    @classmethod
    def get_display_name(cls):
        return cls.__name__

    def get_export_headers(self, selected_fields=None):
        return list(EXPORT_HEADERS)

    def get_export_order(self):
        return list(EXPORT_HEADERS)


class ConsoleCsv(base_formats.CSV):
    """The admin's CSV import format, reading what the console reads: UTF-8, UTF-8 with BOM, GB18030/GBK.

    django-import-export decodes a text format with one encoding (utf-8-sig); this one takes
    the upload as bytes and decodes it with the kernel's reader's rule instead.
    """

    def is_binary(self):
        return True

    def get_read_mode(self):
        return "rb"

    def create_dataset(self, in_stream, **kwargs):
        if isinstance(in_stream, bytes):
            in_stream, _encoding = csv_decode(in_stream)
            if "\x00" in in_stream:
                raise CsvUnreadable("binary")
        return super().create_dataset(in_stream, **kwargs)


class OrderImportResource(resources.Resource):
    """The admin's import over the console's: the same checks (`orders.imports`), all or nothing, into one chosen shop.

    django-import-export hands over the rows it read; they go back to CSV text and through
    the kernel's one reader, so the admin, the console and the command refuse the same rows.
    """

    def __init__(self, shop_id: int | None = None, user=None, **kwargs):
        super().__init__(**kwargs)
        self.shop_id = shop_id
        self.user = user

    @classmethod
    def get_display_name(cls):
        return cls.__name__

    def get_user_visible_fields(self):
        return []

    def import_data(self, dataset, dry_run=False, raise_errors=False, use_transactions=None, collect_failed_rows=False, **kwargs):
        from django.core.exceptions import ValidationError
        from import_export.results import Result, RowResult

        from orders.imports.apply import orders_import_apply
        from orders.imports.check import orders_import_plan
        from shop_admin.kernel.actors import Actor
        from shop_admin.kernel.csvio import csv_read

        table = csv_read(dataset.csv.encode("utf-8"))
        if dry_run:
            plan = orders_import_plan(shop_id=self.shop_id, table=table)
        else:
            actor = Actor.platform(self.user) if self.user else Actor.system("admin import")
            plan = orders_import_apply(shop_id=self.shop_id, actor=actor, table=table, source=kwargs.get("file_name") or "admin")
        result = Result()
        result.diff_headers = list(table.headers)
        by_line = {row.line: row.values for row in table.rows}
        errors: dict[int, dict[str, list[str]]] = {}
        for error in plan.errors:
            errors.setdefault(error.line, {}).setdefault(error.column, []).append(error.reason)
        for line, fields_errors in errors.items():
            result.append_invalid_row(line, by_line.get(line, {}), ValidationError(fields_errors))
        if not plan.errors:
            result.totals[RowResult.IMPORT_TYPE_NEW] = len(plan.new)
            result.totals[RowResult.IMPORT_TYPE_UPDATE] = len(plan.updates)
            result.totals[RowResult.IMPORT_TYPE_SKIP] = plan.skipped
        return result


def order_lines_with_parts(orders) -> list[OrderLine]:
    """The lines of these orders (a queryset), each order carrying its parts' rows, for OrderLineExportResource."""
    from orders.parts import order_parts_attach

    lines = list(OrderLine.objects.filter(order__in=orders.values("pk")).select_related("order").order_by("order__created_at", "order_id", "pk"))
    order_parts_attach(list({line.order_id: line.order for line in lines}.values()))
    return lines
