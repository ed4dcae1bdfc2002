"""Reads of after-sale cases: the workbench and the open API's list, one case, the dashboard and the order pages."""
import base64
import binascii
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet, Subquery
from django.db.models.functions import Least, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from aftersale.constants import (
    AWAITING_MERCHANT,
    AfterSaleStatus,
    AfterSaleType,
    douyin_code,
)
from aftersale.models import AfterSaleCase, ReturnAddress
from aftersale.sql import aftersale_metrics_row
from orders.models import OrderEvent
from shop_admin.kernel.api import api_datetime_check
from shop_admin.kernel.errors import Invalid, NotFound
from shop_admin.kernel.models import Shop
from shop_admin.kernel.templatetags.console import deadline_html


def aftersale_awaiting_merchant(*, shop_id: int, now: datetime) -> QuerySet[AfterSaleCase]:
    """Cases the merchant must answer (the dashboard tile counts them)."""
    return AfterSaleCase.objects.filter(shop_id=shop_id, status__in=AWAITING_MERCHANT)


def aftersale_awaiting_merchant_by_deadline(*, shop_id: int) -> QuerySet:
    """The nearest reply deadline of the cases the merchant must answer, as a one-row, one-column queryset."""
    # The first entry of each status in the (shop, status, reply_deadline) index, the least of them (PostgreSQL's
    # LEAST skips NULLs): MIN over the status list read every waiting case (tens of thousands in a big shop).
    firsts = [
        Subquery(AfterSaleCase.objects.filter(shop_id=shop_id, status=status).order_by("reply_deadline").values("reply_deadline")[:1])
        for status in AWAITING_MERCHANT
    ]
    return Shop.objects.filter(pk=shop_id).annotate(nearest=Least(*firsts)).values_list("nearest", flat=True)


def aftersale_awaiting_merchant_nearest(*, shop_id: int) -> datetime | None:
    """The nearest reply deadline of the cases the merchant must answer."""
    return aftersale_awaiting_merchant_by_deadline(shop_id=shop_id).first()


def aftersale_daily_counts(*, shop_id: int, start: date, end: date) -> dict[date, int]:
    """Cases opened per local day, start to end inclusive."""
    tz = timezone.get_current_timezone()
    rows = (
        AfterSaleCase.objects.filter(
            shop_id=shop_id,
            created_at__gte=timezone.make_aware(datetime.combine(start, time.min)),
            created_at__lt=timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min)),
        )
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("*"))  # not Count("pk"): COUNT(*) is answered from the (shop, created_at) index alone
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


@dataclass(frozen=True)
class CaseFilters:
    status: str | None = None
    type: str | None = None
    order_no: str | None = None


def _cursor_decode(cursor: str) -> tuple[datetime | None, int]:
    try:
        stamp, pk = base64.urlsafe_b64decode(cursor.encode()).decode().rsplit("|", 1)
        moment = None if stamp == "-" else parse_datetime(stamp)
        if stamp != "-" and moment is None:
            raise ValueError
        # A forged cursor's +20:00 offset would reach PostgreSQL as a 500: the API's one range check first.
        return (api_datetime_check(moment) if moment else None), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid(_("cursor 无效"), code="invalid_cursor", details={"fields": {"cursor": _("请使用上一页返回的 next_cursor")}}) from None


def _cursor_encode(case: AfterSaleCase) -> str:
    stamp = case.due_at.isoformat() if case.due_at else "-"
    return base64.urlsafe_b64encode(f"{stamp}|{case.pk}".encode()).decode()


def _page_queryset(*, shop_ids: set[int], filters: CaseFilters, cursor: str | None):
    qs = AfterSaleCase.objects.filter(shop_id__in=shop_ids)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.type:
        qs = qs.filter(type=filters.type)
    if filters.order_no:
        qs = qs.filter(order__order_no=filters.order_no.strip())
    if cursor:
        moment, pk = _cursor_decode(cursor)
        if moment is None:
            qs = qs.filter(due_at__isnull=True, pk__gt=pk)
        else:
            qs = qs.filter(Q(due_at__gt=moment) | Q(due_at=moment, pk__gt=pk) | Q(due_at__isnull=True))
    return qs.order_by(F("due_at").asc(nulls_last=True), "pk")


def aftersale_page(
    *, shop_ids: set[int], filters: CaseFilters, cursor: str | None = None, limit: int = 50
) -> tuple[list[AfterSaleCase], str | None]:
    """The shops' cases, nearest deadline first (finished cases, which have none, last), keyset-paginated on (due_at, id)."""
    qs = _page_queryset(shop_ids=shop_ids, filters=filters, cursor=cursor).select_related("order", "refund")
    page = list(qs[: limit + 1])
    next_cursor = _cursor_encode(page[limit - 1]) if len(page) > limit else None
    return page[:limit], next_cursor


LIST_COLUMNS = ("pk", "is_fragile", "order__order_no", "type", "reason", "amount", "status", "rejected_after_inspection", "due_at", "created_at")


def aftersale_list_rows(
    *, shop_ids: set[int], filters: CaseFilters, now: datetime, cursor: str | None = None, limit: int = 50
) -> tuple[list[dict], str | None]:
    """The workbench's page as ready-to-print strings: one query of the columns shown, no model instances.

    The template then only prints (labels, money and local dates through template filters were
    most of a row's time, tests/perf/README.md), so the page's time stays the query's.
    """
    rows = list(_page_queryset(shop_ids=shop_ids, filters=filters, cursor=cursor).values_list(*LIST_COLUMNS)[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        pk, due_at = rows[limit - 1][0], rows[limit - 1][8]
        next_cursor = base64.urlsafe_b64encode(f"{due_at.isoformat() if due_at else '-'}|{pk}".encode()).decode()
    types = {value: str(label) for value, label in AfterSaleType.choices}
    statuses = {value: str(label) for value, label in AfterSaleStatus.choices}
    zone = timezone.get_current_timezone()
    page = []
    for pk, fragile, order_no, type_, reason, amount, status, after_inspection, due_at, created_at in rows[:limit]:
        page.append({
            "pk": pk,
            "fragile": fragile,
            "order_no": order_no,
            "type": types.get(type_, type_),
            "reason": reason,
            "amount": f"¥{amount:,.2f}" if amount is not None else "—",
            "status": statuses.get(status, status),
            "code": douyin_code(status, rejected_after_inspection=after_inspection),
            "due": deadline_html(due_at, now=now) if due_at else "",
            "created": created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        })
    return page, next_cursor


def aftersale_get_for_shops(*, shop_ids: set[int], case_id: int) -> AfterSaleCase:
    """A case of one of these shops; any other shop's case does not exist for the caller."""
    case = AfterSaleCase.objects.filter(pk=case_id, shop_id__in=shop_ids).select_related("order", "refund", "shop").first()
    if case is None:
        raise NotFound(_("售后单不存在"), code="aftersale_not_found")
    return case


def aftersale_get_for_buyer(*, buyer, case_id: int) -> AfterSaleCase:
    case = AfterSaleCase.objects.filter(pk=case_id, buyer=buyer).select_related("order", "refund", "shop").first()
    if case is None:
        raise NotFound(_("售后单不存在"), code="aftersale_not_found")
    return case


def evidence_file_get(*, case_id: int, file_id: int, shop_ids: set[int] | None):
    """An evidence file of a case of these shops (None: any shop, for the platform); None if there is no such file."""
    from aftersale.models import EvidenceFile

    files = EvidenceFile.objects.filter(pk=file_id, case_id=case_id)
    if shop_ids is not None:
        files = files.filter(case__shop_id__in=shop_ids)
    return files.first()


def aftersale_timeline(*, case: AfterSaleCase) -> list[OrderEvent]:
    """The case's own entries of the order's audit trail, oldest first."""
    return list(OrderEvent.objects.filter(order_id=case.order_id, data__aftersale_id=case.pk).order_by("created_at", "pk"))


def aftersale_detail_rows(*, case: AfterSaleCase) -> dict:
    """What the case page and the API show with the case: its lines and its message thread."""
    return {
        "lines": list(case.lines.select_related("line").order_by("pk")),
        "messages": list(case.messages.all()),
    }


def cases_by_order(order_ids: list[int]) -> dict[int, list[AfterSaleCase]]:
    """The after-sale cases of these orders, oldest first, in one query."""
    by_order: dict[int, list[AfterSaleCase]] = defaultdict(list)
    for case in AfterSaleCase.objects.filter(order_id__in=order_ids).order_by("created_at", "pk"):
        by_order[case.order_id].append(case)
    return by_order


def aftersale_metrics(*, shop_id: int, now: datetime, days: int = 30) -> dict:
    """The merchant's after-sale scores over `days`: cases per paid order, median first answer, median refund time."""
    from orders.daystats import orders_paid_since

    since = now - timedelta(days=days)
    # The count and both medians in one statement, from one read of the period's cases: three statements
    # fetched every answered and refunded case's times for Python to sort. percentile_cont(0.5) is the median
    # (the mean of the middle two for an even count); NULLs (unanswered, not refunded) are left out.
    paid = orders_paid_since(shop_id=shop_id, since=since, now=now)  # whole past days from orders' daily rollup
    opened, median_response, median_refund = aftersale_metrics_row(shop_id=shop_id, since=since)
    return {
        "days": days,
        "cases": opened,
        "aftersale_rate": round(100 * opened / paid, 1) if paid else 0,
        "median_response": median_response,
        "median_refund": median_refund,
    }


def return_addresses_for_shops(*, shop_ids) -> QuerySet[ReturnAddress]:
    """The shops' return addresses, each shop's default first."""
    return ReturnAddress.objects.filter(shop_id__in=list(shop_ids)).order_by("shop_id", "-is_default", "id")


def return_address_get_for_shops(*, shop_ids, address_id: int) -> ReturnAddress:
    address = ReturnAddress.objects.filter(shop_id__in=list(shop_ids), pk=address_id).first()
    if address is None:  # another shop's, or none: the same answer
        raise NotFound(_("退货地址不存在"), code="return_address_not_found")
    return address
