"""Every read of orders, products and stock that the API, console, exports and jobs need."""
import base64
import binascii
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from orders.constants import ExceptionStatus
from orders.models import Buyer, Order, OrderEvent, OrderException, OrderLine, Payment, Product, Sku
from shop_admin.errors import Invalid, NotFound


def _order_detail_queryset() -> QuerySet[Order]:
    return Order.objects.select_related("shop").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
        Prefetch("payments", queryset=Payment.objects.order_by("pk")),
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "pk")),
        Prefetch("exceptions", queryset=OrderException.objects.order_by("opened_at")),
        "shipments",
    )


def order_get_for_buyer(*, buyer: Buyer, order_no: str) -> Order:
    order = _order_detail_queryset().filter(order_no=order_no, buyer=buyer).first()
    if order is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    return order


def order_get_for_shops(*, shop_ids: set[int], order_no: str) -> Order:
    """An order of one of these shops; any other shop's order does not exist for the caller."""
    order = _order_detail_queryset().filter(order_no=order_no, shop_id__in=shop_ids).first()
    if order is None:
        raise NotFound(_("订单不存在"), code="order_not_found")
    return order


def _cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        stamp, pk = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit("|", 1)
        moment = parse_datetime(stamp)
        if moment is None:
            raise ValueError
        return moment, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(_("cursor 无效"), code="invalid_cursor", details={"fields": {"cursor": _("请使用上一页返回的 next_cursor")}}) from None


def _cursor_encode(order: Order) -> str:
    return base64.urlsafe_b64encode(f"{order.updated_at.isoformat()}|{order.pk}".encode()).decode()


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
        moment, pk = _cursor_decode(cursor)
        qs = qs.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, pk__lt=pk))
    page = list(qs.order_by("-updated_at", "-pk")[: limit + 1])
    next_cursor = _cursor_encode(page[limit - 1]) if len(page) > limit else None
    return page[:limit], next_cursor


def stock_status(*, is_presale: bool, available: int) -> str:
    if available <= 0:
        return "sold_out"
    if is_presale:
        return "presale"
    if available <= settings.LOW_STOCK_THRESHOLD:
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


def open_exceptions(*, order: Order) -> list[OrderException]:
    return [e for e in order.exceptions.all() if e.status == ExceptionStatus.OPEN]


def order_status_counts(*, shop_id: int) -> dict[str, int]:
    """Orders per status of one shop (one grouped query on the shop/status index)."""
    rows = Order.objects.filter(shop_id=shop_id).values("status").annotate(n=Count("pk")).order_by()
    return {row["status"]: row["n"] for row in rows}


def order_list_for_shop(*, shop_id: int, status: str | None = None) -> QuerySet[Order]:
    qs = Order.objects.filter(shop_id=shop_id).order_by("-created_at", "-pk")
    if status:
        qs = qs.filter(status=status)
    return qs
