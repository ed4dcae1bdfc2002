"""Reads of the exception centre: open exceptions by kind and age, one exception with its facts, the recovery queue, a buyer's coupons."""
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.constants import ExceptionKind, ExceptionStatus, OrderStatus, PaymentStatus
from orders.models import (
    Coupon,
    CouponClaim,
    CouponRedemption,
    Order,
    OrderEvent,
    OrderException,
    OrderLine,
    Payment,
    ReconciliationRun,
)
from orders.parts import order_parts_attach
from orders.reconcile import mismatch_text
from shop_admin.kernel.api import feed_cursor_decode, feed_cursor_encode
from shop_admin.kernel.errors import NotFound

KIND_COUNTS_TTL = 15  # seconds; dropped whenever an exception opens or closes in the shop


def exceptions_feed(
    *, shop_ids: set[int], kind: str | None, status: str, cursor: str | None, limit: int
) -> tuple[list[OrderException], str | None]:
    """Exceptions of these shops, oldest first, keyset-paginated on (opened_at, id): page 1000 costs what page 1 does."""
    qs = OrderException.objects.filter(shop_id__in=shop_ids, status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if cursor:
        moment, pk = feed_cursor_decode(cursor)
        # The redundant `opened_at >= moment` lets the index start at the cursor instead of filtering every row before it.
        qs = qs.filter(Q(opened_at__gte=moment), Q(opened_at__gt=moment) | Q(opened_at=moment, pk__gt=pk))
    # The order number is the only column of the order a row shows: annotate it rather than load every order.
    page = list(qs.annotate(order_no=F("order__order_no")).select_related("coupon").order_by("opened_at", "pk")[: limit + 1])
    next_cursor = feed_cursor_encode(page[limit - 1].opened_at, page[limit - 1].pk) if len(page) > limit else None
    return page[:limit], next_cursor


def exceptions_page(*, shop_id: int, kind: str | None, status: str, page: int, per_page: int = 20) -> tuple[list[OrderException], bool]:
    """One page of the console list, oldest first; the ids come from the index alone, then only those rows are read."""
    qs = OrderException.objects.filter(shop_id=shop_id, status=status)
    if kind:
        qs = qs.filter(kind=kind)
    order_by = ["opened_at", "pk"] if status == ExceptionStatus.OPEN else ["-resolved_at", "-pk"]
    offset = (page - 1) * per_page
    ids = list(qs.order_by(*order_by).values_list("pk", flat=True)[offset : offset + per_page + 1])
    rows = {e.pk: e for e in OrderException.objects.filter(pk__in=ids[:per_page]).select_related("order", "coupon")}
    return [rows[pk] for pk in ids[:per_page] if pk in rows], len(ids) > per_page


KIND_COUNT_CAP = 1000  # a kind shows "1000+" beyond this: counting 100,000 open exceptions on every cold load costs a scan


def exception_kind_counts(*, shop_id: int) -> dict[str, int]:
    """Open exceptions per kind, each capped at KIND_COUNT_CAP + 1 and cached briefly: the centre's bars."""
    key = f"exception-kind-counts:{shop_id}"
    counts = cache.get(key)
    if counts is None:
        open_ = OrderException.objects.filter(shop_id=shop_id, status=ExceptionStatus.OPEN)
        counts = {}
        for kind in ExceptionKind.values:
            # One index range per kind, stopped at the cap: the cost does not grow with the backlog.
            counts[kind] = open_.filter(kind=kind).values("pk")[: KIND_COUNT_CAP + 1].count()
        counts = {kind: n for kind, n in counts.items() if n}
        cache.set(key, counts, KIND_COUNTS_TTL)
    return counts


def exception_counts_changed(*, shop_id: int) -> None:
    """An exception of the shop opened or closed: drop its cached counts once that is committed."""
    transaction.on_commit(lambda: cache.delete(f"exception-kind-counts:{shop_id}"))


def exceptions_by_deadline(*, shop_id: int) -> QuerySet[OrderException]:
    """The deadlines of the shop's open exceptions, nearest first: the dashboard tile shows the first."""
    return (
        OrderException.objects.filter(shop_id=shop_id, status=ExceptionStatus.OPEN, deadline__isnull=False)
        .order_by("deadline")
        .values_list("deadline", flat=True)
    )


def exception_get_for_shops(*, shop_ids: set[int], exception_id: int) -> OrderException:
    """An exception of one of these shops; any other shop's does not exist for the caller."""
    exception = OrderException.objects.filter(pk=exception_id, shop_id__in=shop_ids).select_related("order", "coupon").first()
    if exception is None:
        raise NotFound(_("异常不存在"), code="exception_not_found")
    return exception


def exception_facts(*, exception: OrderException) -> Order:
    """The order behind an exception with what confirms the facts: lines as ordered (snapshot), payments, timeline, parts (tracking)."""
    order = (
        Order.objects.select_related("recovered_from")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("pk")),
            Prefetch("payments", queryset=Payment.objects.order_by("pk")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "pk")),
            Prefetch("exceptions", queryset=OrderException.objects.select_related("coupon").order_by("opened_at")),
        )
        .get(pk=exception.order_id)
    )
    order_parts_attach([order])
    return order


def order_recovered_to(*, order: Order) -> Order | None:
    """The order recovered from this one, if any (the reverse side of `recovered_from`)."""
    return Order.objects.filter(recovered_from=order).only("order_no").first()


# --- the "recover within 2 h" queue: payments that failed recently ---


def orders_payment_failed(*, shop_id: int, now: datetime) -> QuerySet[Order]:
    """Unpaid orders whose payment failed within the recover window (the queue and its dashboard tile)."""
    # From the recent failures (a partial index on failed payments) to their orders, not from every unpaid order.
    failed = Payment.objects.filter(
        status=PaymentStatus.FAILED, settled_at__gte=now - settings.PAYMENT_FAILED_RECOVER_WINDOW
    ).values("order_id")
    return Order.objects.filter(
        pk__in=failed, shop_id=shop_id, status__in=[OrderStatus.PENDING_PAYMENT, OrderStatus.CANCELLED], paid_amount=0
    ).filter(recovered_to__isnull=True)


def orders_payment_failed_queue(*, shop_id: int, now: datetime | None = None, limit: int = 50) -> list[Order]:
    """Orders whose payment failed within the last 2 h and that are still unpaid: a call to the buyer may save them."""
    now = now or timezone.now()
    # Each order's failed payments in one query for the page, not one per order (the same ordering as before).
    failed = Prefetch("payments", queryset=Payment.objects.filter(status=PaymentStatus.FAILED).order_by("-settled_at"),
                      to_attr="failed_payments")
    rows = list(orders_payment_failed(shop_id=shop_id, now=now).order_by("created_at").prefetch_related(failed)[:limit])
    for order in rows:
        last = order.failed_payments[0] if order.failed_payments else None
        order.failed_payment = last
        order.recover_by = last.settled_at + settings.PAYMENT_FAILED_RECOVER_WINDOW if last and last.settled_at else None
    return rows


# --- coupons a buyer can still use ---


def buyer_coupons(*, buyer, shop_id: int | None, now: datetime | None = None) -> list[Coupon]:
    """The buyer's usable coupons: the shops' open coupons and the buyer's own compensation coupons, in force and not used up."""
    now = now or timezone.now()
    qs = Coupon.objects.filter(Q(buyer__isnull=True) | Q(buyer=buyer), valid_from__lte=now, valid_to__gt=now)
    if shop_id is not None:
        qs = qs.filter(shop_id=shop_id)
    used = (
        CouponRedemption.objects.filter(coupon=OuterRef("pk"), buyer=buyer, released_at__isnull=True)
        .values("coupon")
        .annotate(n=Count("pk"))
        .values("n")
    )
    held = CouponClaim.objects.filter(coupon=OuterRef("pk"), buyer=buyer).values("coupon").annotate(n=Count("pk")).values("n")
    qs = qs.annotate(
        used=Coalesce(Subquery(used, output_field=IntegerField()), 0),
        held=Coalesce(Subquery(held, output_field=IntegerField()), 0),
    ).filter(
        # A campaign's coupon is the buyer's once claimed, and stays so after the campaign ends; one without a total
        # is anyone's up to the per-buyer limit while its campaign runs.
        Q(total_quantity__isnull=False, used__lt=F("held"))
        | Q(total_quantity__isnull=True, state=Coupon.State.ACTIVE, used__lt=F("per_buyer_limit"))
    )
    return list(qs.order_by("valid_to", "pk")[:200])


def reconciliation_runs_for_shop(*, shop_id: int, days: int = 14) -> list[tuple[ReconciliationRun, list[dict]]]:
    """The shop's latest days, each with its mismatches in the reader's language and its run on demand (job, who asked)."""
    runs = ReconciliationRun.objects.filter(shop_id=shop_id).select_related("job", "requested_by").order_by("-day")[:days]
    return [(run, [mismatch_text(m) for m in run.mismatches]) for run in runs]


def reconciliation_run_for_shop(*, shop_id: int, run_id: int) -> tuple[ReconciliationRun, list[dict]] | None:
    """One of the shop's days (its progress while it runs, then its result); None for another shop's."""
    run = ReconciliationRun.objects.filter(shop_id=shop_id, pk=run_id).select_related("job", "requested_by").first()
    return None if run is None else (run, [mismatch_text(m) for m in run.mismatches])
