"""The console's order list: its filters, search, one page of rows and the capped tab counts."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from orders.constants import ExceptionStatus, OrderStatus
from orders.models import (
    Order,
    OrderException,
    OrderLine,
)
from orders.parts import (
    order_parts,
    order_parts_attach_for_list,
)
from orders.sql import order_tab_count_rows
from shop_admin.kernel import rawsql, replicas

TAB_COUNT_CAP = 1000  # a tab shows "1000+" beyond this: counting further costs a scan on every change


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    q: str = ""
    created_from: date | None = None
    created_to: date | None = None
    exception: str | None = None  # an exception kind, or "any"
    sort: str = "created"  # created / paid
    ship_due: str = ""  # "soon" / "overdue": paid orders by their ship-by (`ship_due_q`), nearest first


SHIP_DUE_CHOICES = ("soon", "overdue")


def ship_due_q(*, due: str, now: datetime) -> Q:
    """Paid orders by the pressure of their ship-by: "overdue" has passed it; "soon" is due within DASHBOARD_SHIP_SOON
    and has not passed. The one split of the list's filter, the dashboard's tiles and the deadline badges."""
    if due == "overdue":
        return Q(status=OrderStatus.PAID, ship_deadline__lte=now)
    return Q(status=OrderStatus.PAID, ship_deadline__gt=now, ship_deadline__lte=now + settings.DASHBOARD_SHIP_SOON)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def order_search_q(*, shop_ids: list[int], q: str) -> Q:
    """Orders of these shops that `q` finds, read the way the console's search box reads it.

    What `q` looks like decides where to look (a phone, an order number, text another
    app holds such as a tracking number, a product name), so every search is one indexed
    lookup per shop. The console searches its one shop; the platform's admin every shop.
    """
    q = q.strip()
    if q.isdigit() and len(q) == 11 and q.startswith("1"):
        return Q(shop_id__in=shop_ids, phone=q)
    if q.isdigit() and len(q) >= 16:
        return Q(order_no=q)
    for part in order_parts():
        if not part.search or not shop_ids:
            continue
        # Text another app holds (a tracking number): its ids come first, as an OR with a subquery
        # would make PostgreSQL walk every order of the shop.
        found = part.search(shop_ids[0], q)
        if found is not None:
            for shop_id in shop_ids[1:]:
                found += part.search(shop_id, q) or []
            return Q(pk__in=found) | Q(order_no=q)
    # UPPER(product_name) LIKE UPPER('%q%'), served by the trigram index of migration 0005.
    return Q(pk__in=OrderLine.objects.filter(product_name__icontains=q).values("order_id"))


def _search_filter(shop_id: int, q: str) -> Q:
    return order_search_q(shop_ids=[shop_id], q=q)


def orders_filtered(*, shop_id: int, filters: OrderFilters) -> tuple[QuerySet[Order], list[str]]:
    """The shop's orders the list's filters select, and the list's ordering: the list pages it, the export streams it."""
    qs = Order.objects.filter(shop_id=shop_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.q:
        qs = qs.filter(_search_filter(shop_id, filters.q))
    if filters.created_from:
        qs = qs.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to:
        qs = qs.filter(created_at__lt=_day_start(filters.created_to + timedelta(days=1)))
    if filters.exception:
        open_exceptions = OrderException.objects.filter(shop_id=shop_id, status=ExceptionStatus.OPEN)
        if filters.exception != "any":
            open_exceptions = open_exceptions.filter(kind=filters.exception)
        qs = qs.filter(pk__in=open_exceptions.values("order_id"))
    order_by = ["-paid_at", "-pk"] if filters.sort == "paid" else ["-created_at", "-pk"]
    if filters.sort == "paid":
        qs = qs.filter(paid_at__isnull=False)
    if filters.ship_due in SHIP_DUE_CHOICES:
        qs = qs.filter(ship_due_q(due=filters.ship_due, now=timezone.now()))
        order_by = ["ship_deadline", "pk"]
    return qs, order_by


@dataclass(slots=True)
class OrderListRow:
    """What one row of the console's order list prints: the order's columns, its lines, its open exceptions' kinds.

    Built from tuples (`values_list`), not model instances: at 20-100 rows a page, instantiating
    orders, lines and exceptions and their prefetch machinery was most of the list's Python.
    `part_rows` holds each part's rows for its list cell (`OrderPart.list_load`).
    """

    pk: int
    order_no: str
    status: str
    created_at: datetime
    recipient_name: str
    phone: str
    payable: Decimal
    ship_deadline: datetime | None
    remark_flag: int
    merchant_remark: str
    lines: list = field(default_factory=list)  # (product_name, spec, quantity), in line order
    open_exception_kinds: list = field(default_factory=list)
    part_rows: list = field(default_factory=list)


_LIST_COLUMNS = (
    "pk", "order_no", "status", "created_at", "recipient_name", "phone", "payable", "ship_deadline", "remark_flag", "merchant_remark",
)


def order_list_page(*, shop_id: int, filters: OrderFilters, page: int, per_page: int) -> tuple[list[OrderListRow], bool]:
    """One page of the shop's orders and whether there is a next one; never counts the whole list.

    Lag-tolerant: a replica may answer, a few seconds behind at most; the order's own page reads the primary.
    """
    return replicas.lag_tolerant(lambda: _order_list_page(shop_id=shop_id, filters=filters, page=page, per_page=per_page))


def _order_list_page(*, shop_id: int, filters: OrderFilters, page: int, per_page: int) -> tuple[list[OrderListRow], bool]:
    qs, order_by = orders_filtered(shop_id=shop_id, filters=filters)
    offset = (page - 1) * per_page
    # The page's ids first, from the index alone, then only those rows: page 500 skips 10,000 index
    # entries instead of 10,000 table rows.
    ids = list(qs.order_by(*order_by).values_list("pk", flat=True)[offset : offset + per_page + 1])
    page_ids = ids[:per_page]
    by_id = _order_list_rows(page_ids, using=qs.db) if page_ids else {}
    rows = [by_id[pk] for pk in page_ids if pk in by_id]
    order_parts_attach_for_list(rows)
    return rows, len(ids) > per_page


@lru_cache(maxsize=1)
def _order_list_rows_sql() -> str:
    """The page's orders, one row per line in line order (an order without lines once), each with its open exceptions' kinds."""
    q = connection.ops.quote_name
    order, line, exception = Order._meta, OrderLine._meta, OrderException._meta
    columns = ", ".join(f"o.{q((order.pk if name == 'pk' else order.get_field(name)).column)}" for name in _LIST_COLUMNS)
    return (
        f"SELECT {columns}, "
        f"ARRAY(SELECT e.kind FROM {q(exception.db_table)} e WHERE e.order_id = o.id AND e.status = %s ORDER BY e.id), "
        f"l.id, l.product_name, l.spec, l.quantity "
        f"FROM {q(order.db_table)} o LEFT JOIN {q(line.db_table)} l ON l.order_id = o.id "
        "WHERE o.id = ANY(%s) ORDER BY o.id, l.id"
    )


def _order_list_rows(page_ids: list[int], *, using: str) -> dict[int, OrderListRow]:
    """The rows of these orders by id, with their lines and open exceptions' kinds.

    One hand-written statement, prepared once per connection (kernel rawsql): the list runs on every click of a
    merchant's day, and building and compiling it through the ORM (two statements: the orders joined to their
    lines, and the open exceptions) cost three times the CPU of reading its rows.
    """
    by_id: dict[int, OrderListRow] = {}
    for *columns, kinds, line_pk, name, spec, quantity in rawsql.prepared_rows(
        using, _order_list_rows_sql, [ExceptionStatus.OPEN.value, page_ids]
    ):
        row = by_id.get(columns[0])
        if row is None:
            row = by_id[columns[0]] = OrderListRow(*columns, open_exception_kinds=kinds)
        if line_pk is not None:
            row.lines.append((name, spec, quantity))
    return by_id


def order_tab_counts_key(shop_id: int) -> str:
    """The cache key of a shop's tab counts, which every status change drops (`order_counts_changed`)."""
    return f"order-tab-counts:{shop_id}"


def order_tab_counts(*, shop_id: int) -> dict[str, int]:
    """Orders per status, each count capped at TAB_COUNT_CAP + 1 (shown as "1000+"), cached for 15 s."""
    key = order_tab_counts_key(shop_id)
    counts = cache.get(key)
    if counts is None:
        counts = dict(order_tab_count_rows(shop_id=shop_id, cap=TAB_COUNT_CAP + 1))
        cache.set(key, counts, 15)
    return counts

