"""After-sale's kinds of the deadline queue: the reply, the return parcel awaited, the inspection, the bad review to answer.

Each case kind reads the case's `due_at` (the deadline of the step it waits for) for its statuses, one bounded range
read in order: the reply's two statuses on the partial `aftersale_shop_reply_due` (shop, due_at, id), the others on
`aftersale_shop_status_due_id` (shop, status, due_at, id). A review reads its `reply_deadline`: one range on
`review_shop_reply_due` (shop, reply_deadline, id; unanswered only).
"""
from datetime import datetime

from django.db.models import CharField, F
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftersale.constants import AfterSaleStatus, AfterSaleType
from aftersale.models import AfterSaleCase, ProductReview
from shop_admin.kernel.deadline_queue import QueueKind, QueueRow, deadline_queue_register, queue_rows, queue_values
from shop_admin.kernel.permissions import Perm

# Which statuses each kind covers: the merchant's answer runs while requested or negotiating.
QUEUE_STATUSES = {
    "aftersale_reply": [AfterSaleStatus.REQUESTED, AfterSaleStatus.NEGOTIATING],
    "return_receipt": [AfterSaleStatus.AWAITING_RETURN],
    "inspection": [AfterSaleStatus.INSPECTING],
}
_TYPES = dict(AfterSaleType.choices)


def _case_select(name: str):
    def select(*, shop_ids: set[int], now: datetime, until: datetime, after):
        cases = queue_rows(
            AfterSaleCase.objects.filter(shop_id__in=shop_ids, status__in=QUEUE_STATUSES[name]), due="due_at", until=until, after=after
        )
        return queue_values(cases, due=F("due_at"), order_no=F("order__order_no"), detail=F("type"))

    select.__name__ = f"{name}_queue_select"
    return select


def _case_row(name: str):
    def row(*, pk: int, shop_id: int, due_at: datetime, order_no: str, detail: str) -> QueueRow:
        return QueueRow(
            kind=name, shop_id=shop_id, pk=pk, due_at=due_at, order_no=order_no, detail=str(_TYPES.get(detail, detail)),
            url=f"/aftersales/{pk}/", aftersale_id=pk,
        )

    row.__name__ = f"{name}_queue_row"
    return row


def review_reply_queue_select(*, shop_ids: set[int], now: datetime, until: datetime, after):
    """Bad reviews not yet answered (and not hidden by the platform), by their reply deadline."""
    reviews = queue_rows(
        ProductReview.objects.filter(shop_id__in=shop_ids, replied_at__isnull=True, reply_deadline__isnull=False, hidden_at__isnull=True),
        due="reply_deadline", until=until, after=after,
    )
    # The detail column is text in every kind: the union reads them as one column.
    return queue_values(reviews, due=F("reply_deadline"), order_no=F("order__order_no"), detail=Cast("rating", CharField()))


def review_reply_queue_row(*, pk: int, shop_id: int, due_at: datetime, order_no: str, detail: str) -> QueueRow:
    return QueueRow(
        kind="review_reply", shop_id=shop_id, pk=pk, due_at=due_at, order_no=order_no, detail=f"{detail}★",
        url=f"{reverse('reviews:list')}?review={pk}", review_id=pk,
    )


def aftersale_deadline_queue_register() -> None:
    for name, label, action, action_label in (
        ("aftersale_reply", _("售后处理截止"), "reply", _("去处理")),
        ("return_receipt", _("买家退货截止"), "receive", _("查看退货")),
        ("inspection", _("验货截止"), "inspect", _("去验货")),
    ):
        deadline_queue_register(
            QueueKind(
                name=name, label=label, select=_case_select(name), row=_case_row(name), action=action, action_label=action_label,
                perm=Perm.AFTERSALE,
            )
        )
    deadline_queue_register(
        QueueKind(
            name="review_reply", label=_("差评回复截止"), select=review_reply_queue_select, row=review_reply_queue_row, action="reply_review",
            action_label=_("去回复"), perm=Perm.REVIEW,
        )
    )
