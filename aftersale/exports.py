"""The after-sale cases of a shop as CSV: one row per case, streamed from a server-side cursor."""
from collections.abc import Iterator
from datetime import date

from django.db.models import QuerySet
from django.utils import timezone

from aftersale.constants import AfterSaleStatus, AfterSaleType
from aftersale.models import AfterSaleCase
from shop_admin.kernel.csvio import rows_created_between

AFTERSALE_HEADERS = ["售后单号", "订单号", "售后类型", "售后状态", "申请原因", "申请金额", "申请时间", "处理截止"]


def aftersale_export_cases(*, shop_id: int, created_from: date | None = None, created_to: date | None = None) -> QuerySet[AfterSaleCase]:
    return rows_created_between(AfterSaleCase.objects.filter(shop_id=shop_id), created_from=created_from, created_to=created_to)


def aftersale_export_rows(cases: QuerySet[AfterSaleCase]) -> Iterator[list[str]]:
    tz = timezone.get_current_timezone()
    types = {value: str(label) for value, label in AfterSaleType.choices}
    statuses = {value: str(label) for value, label in AfterSaleStatus.choices}

    def shop_time(moment) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""

    # The deadline is `due_at`, the one the workbench (aftersale_list_rows) shows and sorts by: the step the case waits
    # for now (reply, return, inspection, arbitration). reply_deadline stays the first answer's, long after it moved on.
    rows = cases.order_by("created_at", "pk").values_list(
        "pk", "order__order_no", "type", "status", "reason", "amount", "created_at", "due_at"
    )
    for pk, order_no, kind, status, reason, amount, created_at, due_at in rows.iterator(chunk_size=5000):
        yield [
            pk, order_no, types.get(kind, kind), statuses.get(status, status), reason,
            f"{amount:.2f}" if amount is not None else "", shop_time(created_at), shop_time(due_at),
        ]
