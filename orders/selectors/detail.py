"""Reads of one order (its page, the buyer app, the merchant API feed), the buyer of a token and console links to an order."""
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from orders.models import (
    Buyer,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Payment,
    Refund,
)
from orders.parts import (
    PartRows,
    order_parts,
    order_parts_attach,
)
from orders.sql import buyer_by_token_row
from shop_admin.kernel import rawsql
from shop_admin.kernel.api import (
    feed_cursor_decode,
    feed_cursor_encode,
)
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
    row = buyer_by_token_row(token=token)
    return None if row is None else rawsql.instance(Buyer, row)


def _order_not_found() -> NotFound:
    return NotFound(_("订单不存在"), code="order_not_found")


def order_page_url(*, order_id: int | None) -> str:
    """The console page of an order known only by id (a to-do about a row of it); the order list if it is gone."""
    order_no = Order.objects.filter(pk=order_id).values_list("order_no", flat=True).first()
    return reverse("orders:detail", args=[order_no]) if order_no else reverse("orders:list")


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
