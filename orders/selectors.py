"""Every read of orders, products and stock that the API, console, exports and jobs need."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet, Sum, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.constants import ExceptionStatus, OrderStatus
from orders.daystats import order_day_rows, order_day_stats
from orders.models import (
    Buyer,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Payment,
    Product,
    Refund,
    Sku,
    StockLevel,
)
from orders.parts import (
    PartRows,
    order_parts,
    order_parts_attach,
    order_parts_attach_for_list,
)
from shop_admin.kernel import rawsql, replicas
from shop_admin.kernel.api import (
    feed_cursor_decode,
    feed_cursor_encode,
)
from shop_admin.kernel.cache import cache_delete_on_commit
from shop_admin.kernel.errors import NotFound


def _order_detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("shop", "recovered_from", "recovered_to").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
        Prefetch("payments", queryset=Payment.objects.order_by("pk")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "pk")),
        Prefetch("exceptions", queryset=OrderException.objects.order_by("opened_at")),
    )


def order_relations_known(order: Order, *, lines: list, events: list, payments: list = (), exceptions: list = ()) -> Order:
    """Give an order just written its related rows from memory, as `_order_detail_queryset` would read them.

    Order submission answers with the whole order; reading back the rows it has just
    inserted was a third of a submission's time. A new order has no parcels or cases yet,
    so every part has no rows.
    """
    cache = getattr(order, "_prefetched_objects_cache", None)
    if cache is None:
        cache = order._prefetched_objects_cache = {}
    for name, rows in (("lines", lines), ("payments", payments), ("events", events), ("exceptions", exceptions)):
        queryset = getattr(order, name).get_queryset()  # lazy: nothing is read
        queryset._result_cache = list(rows)
        queryset._prefetch_done = True
        cache[name] = queryset
    order.part_rows = [PartRows(part=part, rows=[]) for part in order_parts()]
    return order


def buyer_by_token(*, token: str) -> Buyer | None:
    """The buyer of an API token. Every buyer request starts here: the SQL is written once (kernel rawsql), not compiled each time."""
    with connection.cursor() as cursor:
        rawsql.execute(cursor, _buyer_by_token_sql(), [token])
        row = cursor.fetchone()
    return None if row is None else rawsql.instance(Buyer, row)


@lru_cache(maxsize=1)
def _buyer_by_token_sql() -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT {rawsql.columns(Buyer, 'b')} FROM {q(Buyer._meta.db_table)} b "
        f"WHERE b.{q(Buyer._meta.get_field('api_token').column)} = %s LIMIT 1"
    )


def _order_not_found() -> NotFound:
    return NotFound(_("订单不存在"), code="order_not_found")


def order_page_url(*, order_id: int | None) -> str:
    """The console page of an order known only by id (a to-do about a row of it); the order list if it is gone."""
    order_no = Order.objects.filter(pk=order_id).values_list("order_no", flat=True).first()
    return f"/orders/{order_no}/" if order_no else "/orders/"


def refund_page_url(refund_id: int) -> str:
    """The console page of the order a refund belongs to."""
    return order_page_url(order_id=Refund.objects.filter(pk=refund_id).values_list("order_id", flat=True).first())


def order_get_for_buyer(*, buyer: Buyer, order_no: str) -> Order:
    order = order_no.isdigit() and _order_detail_queryset().filter(order_no=order_no, buyer=buyer).first()
    if not order:
        raise _order_not_found()
    return order


def order_get_for_shops(*, shop_ids: set[int], order_no: str) -> Order:
    """An order of one of these shops; any other shop's order does not exist for the caller."""
    # Order numbers are digits only; anything else cannot exist (and never reaches the database).
    order = order_no.isdigit() and _order_detail_queryset().filter(order_no=order_no, shop_id__in=shop_ids).first()
    if not order:
        raise _order_not_found()
    return order


def order_get_in_shop(*, shop_id: int, order_no: str) -> Order:
    """The bare order row of one shop (jobs re-read and lock it in the service); NotFound otherwise."""
    order = order_no.isdigit() and Order.objects.filter(order_no=order_no, shop_id=shop_id).first()
    if not order:
        raise _order_not_found()
    return order


def orders_in_shop(*, shop_id: int, order_nos: list[str]) -> list[Order]:
    """The shop's orders among these numbers, newest first; numbers of other shops are simply absent."""
    return list(Order.objects.filter(shop_id=shop_id, order_no__in=[n for n in order_nos if n.isdigit()]).order_by("-created_at"))


def order_feed_for_shops(
    *, shop_ids: set[int], status: str | None, updated_since: datetime | None, cursor: str | None, limit: int
) -> tuple[list[Order], str | None]:
    """Orders newest change first, keyset-paginated on (updated_at, id) so page 1000 costs what page 1 does."""
    qs = _order_detail_queryset().filter(shop_id__in=shop_ids)
    if status:
        qs = qs.filter(status=status)
    if updated_since:
        qs = qs.filter(updated_at__gte=updated_since)
    if cursor:
        moment, pk = feed_cursor_decode(cursor)
        qs = qs.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, pk__lt=pk))
    page = list(qs.order_by("-updated_at", "-pk")[: limit + 1])
    next_cursor = feed_cursor_encode(page[limit - 1].updated_at, page[limit - 1].pk) if len(page) > limit else None
    page = page[:limit]
    order_parts_attach(page)  # the page's parcels and cases in one query per part, not one per order
    return page, next_cursor


def sku_get_for_shops(*, shop_ids: set[int], sku_id: int) -> Sku:
    """A SKU of one of these shops; any other shop's SKU does not exist for the caller."""
    sku = Sku.objects.filter(pk=sku_id, shop_id__in=shop_ids).first()
    if sku is None:
        raise NotFound(_("SKU不存在"), code="sku_not_found")
    return sku


def stock_levels_of_sku(*, sku_id: int) -> list[StockLevel]:
    """The SKU's stock per warehouse, in shipping priority, each with its warehouse."""
    return list(StockLevel.objects.filter(sku_id=sku_id).select_related("warehouse").order_by("warehouse__priority", "warehouse_id"))


def products_with_stock(*, shop_id: int) -> list[Product]:
    """The shop's products, active first, with their SKUs and each SKU's stock per warehouse."""
    levels = StockLevel.objects.select_related("warehouse").order_by("warehouse__priority", "warehouse_id")
    skus = Sku.objects.prefetch_related(Prefetch("stock_levels", queryset=levels)).order_by("pk")
    return list(Product.objects.filter(shop_id=shop_id).prefetch_related(Prefetch("skus", queryset=skus)).order_by("-is_active", "pk"))


def product_get_for_shops(*, shop_ids: set[int], product_id: int) -> Product:
    product = Product.objects.filter(pk=product_id, shop_id__in=shop_ids).first()
    if product is None:
        raise NotFound(_("商品不存在"), code="product_not_found")
    return product


def stock_level_get_for_shops(*, shop_ids: set[int], level_id: int) -> StockLevel:
    level = StockLevel.objects.select_related("sku", "warehouse").filter(pk=level_id, sku__shop_id__in=shop_ids).first()
    if level is None:
        raise NotFound(_("库存记录不存在"), code="stock_not_found")
    return level


def stock_totals(levels) -> dict[str, int]:
    """The one way stock is summed over warehouses: free to sell, locked, occupied, and on the shelf (all three)."""
    totals = {"available": 0, "locked": 0, "occupied": 0}
    for level in levels:
        totals["available"] += level.available
        totals["locked"] += level.locked
        totals["occupied"] += level.occupied
    totals["on_hand"] = totals["available"] + totals["locked"] + totals["occupied"]
    return totals


def stock_status(*, is_presale: bool, available: int, low_stock_threshold: int) -> str:
    """`low_stock_threshold` is the shop's (shop_rule "low_stock_threshold"), read once per listing, not per SKU."""
    if available <= 0:
        return "sold_out"
    if is_presale:
        return "presale"
    if available <= low_stock_threshold:
        return "low_stock"
    return "in_stock"


def products_for_shop(*, shop_id: int) -> list[Product]:
    """Active products with active SKUs; each SKU carries `stock_available`, summed over warehouses."""
    skus = Sku.objects.filter(is_active=True).annotate(stock_available=Sum("stock_levels__available")).order_by("pk")
    return list(
        Product.objects.filter(shop_id=shop_id, is_active=True)
        .prefetch_related(Prefetch("skus", queryset=skus))
        .order_by("pk")
    )


# --- the console's order list: fast at a million orders ---

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


def order_tab_counts(*, shop_id: int) -> dict[str, int]:
    """Orders per status, each count capped at TAB_COUNT_CAP + 1 (shown as "1000+"), cached for 15 s."""
    key = f"order-tab-counts:{shop_id}"
    counts = cache.get(key)
    if counts is None:
        params = []
        for status in OrderStatus.values:
            params += [status, shop_id, status, TAB_COUNT_CAP + 1]
        with connection.cursor() as cursor:
            # Prepared once per connection: planning the nine counts took a third of the time of running them.
            # Every status's plan is the same index-only scan, so the generic plan PostgreSQL keeps fits them all.
            rawsql.execute(cursor, _tab_counts_sql(len(OrderStatus.values)), params)
            counts = dict(cursor.fetchall())
        cache.set(key, counts, 15)
    return counts


@lru_cache(maxsize=1)
def _tab_counts_sql(statuses: int) -> str:
    # ORDER BY the index's own order keeps each count in the (shop, status, created_at) index: without it the
    # planner counts a big status by a seq scan of its first heap pages, 5-10 ms once other reads evicted them.
    table = connection.ops.quote_name(Order._meta.db_table)
    return " UNION ALL ".join(
        f"SELECT %s, COUNT(*) FROM (SELECT 1 FROM {table} WHERE shop_id = %s AND status = %s ORDER BY created_at LIMIT %s) AS t{i}"
        for i in range(statuses)
    )


def order_counts_changed(*, shop_ids: set[int]) -> None:
    """Orders of these shops changed status: drop their cached tab counts once the change is committed."""

    cache_delete_on_commit(*(f"order-tab-counts:{shop_id}" for shop_id in shop_ids))


# --- the dashboard: what to act on now ---


def _order_tiles(*, shop_id: int, now: datetime) -> dict[str, QuerySet]:
    """What each of orders' dashboard tiles counts."""
    paid = Order.objects.filter(shop_id=shop_id, status=OrderStatus.PAID)
    return {
        "to_pay": Order.objects.filter(shop_id=shop_id, status=OrderStatus.PENDING_PAYMENT),
        "to_ship": paid,
        "ship_due_soon": Order.objects.filter(ship_due_q(due="soon", now=now), shop_id=shop_id),
        "ship_overdue": Order.objects.filter(ship_due_q(due="overdue", now=now), shop_id=shop_id),
        "risk_review": paid.filter(Q(needs_risk_review=True) | Q(is_frozen=True)),
    }


def orders_to_pay(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["to_pay"]


def orders_to_ship(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["to_ship"]


def orders_ship_due_soon(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["ship_due_soon"]


def orders_ship_overdue(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["ship_overdue"]


def orders_risk_review(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    return _order_tiles(shop_id=shop_id, now=now)["risk_review"]


def exceptions_open(*, shop_id: int, now: datetime) -> QuerySet[OrderException]:
    return OrderException.objects.filter(shop_id=shop_id, status=ExceptionStatus.OPEN)


class DeadlineOrder(NamedTuple):
    """The order of a dashboard deadline, as the dashboard links it."""

    order_no: str


def dashboard_deadlines(*, shop_id: int, limit: int = 10) -> list[tuple[datetime, str, DeadlineOrder]]:
    """The nearest deadlines of the shop, closest first: ship-by for paid orders, pay-by for unpaid ones."""
    # Two columns of twenty rows: whole Order instances (forty columns, the FSM's bookkeeping) were a tenth of the page.
    to_ship = Order.objects.filter(shop_id=shop_id, status=OrderStatus.PAID, ship_deadline__isnull=False).order_by("ship_deadline")
    to_pay = Order.objects.filter(shop_id=shop_id, status=OrderStatus.PENDING_PAYMENT).order_by("pay_deadline")
    # Both in one statement (UNION ALL of the two index ranges): a round trip less.
    ships = to_ship.annotate(deadline_kind=Value("ship")).values_list("ship_deadline", "deadline_kind", "order_no")[:limit]
    pays = to_pay.annotate(deadline_kind=Value("pay")).values_list("pay_deadline", "deadline_kind", "order_no")[:limit]
    items = [(at, kind, DeadlineOrder(no)) for at, kind, no in ships.union(pays, all=True)]
    return sorted(items, key=lambda item: item[0])[:limit]


def dashboard_trend(*, shop_id: int, days: int = 30, today: date | None = None) -> list[dict]:
    """Per day for `days` days: orders placed, GMV (paid amounts) and the refund rate.

    Past days change slowly (a late refund): they come from the daily rollup, cached for an hour; today is counted live.
    """
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    key = f"dashboard-trend:{shop_id}:{today.isoformat()}:{days}"
    past = cache.get(key)
    if past is None:
        # The stored daily rollup (orders.daystats), counted live for a day it lacks.
        past = {d.isoformat(): row for d, row in order_day_stats(shop_id=shop_id, start=start, end=today - timedelta(days=1)).items()}
        cache.set(key, past, 3600)
    current = {d.isoformat(): row for d, row in order_day_rows(shop_id=shop_id, start=today, end=today).items()}
    by_day = {**past, **current}
    trend = []
    for offset in range(days):
        day = (start + timedelta(days=offset)).isoformat()
        row = by_day.get(day, {})
        paid_orders = row.get("paid_orders", 0)
        trend.append(
            {
                "day": day,
                "orders": row.get("orders", 0),
                "gmv": str((row.get("gmv") or Decimal("0")).quantize(Decimal("0.01"))),
                "paid_orders": paid_orders,
                "refund_rate": round(100 * row.get("refunded", 0) / paid_orders, 1) if paid_orders else 0,
            }
        )
    return trend
