"""The clock of a case, through the one deadline mechanism: no answer approves the claim, no return closes the case,
no inspection refunds.

Each function locks the due cases (the order first, as every after-sale action does; a case
another process holds is skipped and the next sweep comes back), re-checks state and due
time under the lock, and applies. A wake-up for one case (ids) locks and commits that case
alone; the sweep locks a batch and applies it in one transaction, each case in a savepoint,
and the reply and return timeouts' common shapes set-wise (`clock_batch`). Safe to run any number of times.
"""
import logging
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersale.constants import AfterSaleStatus
from aftersale.events import aftersale_auto_approved_event, aftersale_closed_event, aftersale_escalated_event
from aftersale.models import AfterSaleCase
from aftersale.services.clock_batch import (
    DUE_STATUSES,
    aftersale_due,
    aftersale_due_batch,
    aftersale_reply_timeout_batch,
    aftersale_return_timeout_batch,
)
from aftersale.services.common import case_end, case_transition
from aftersale.services.review import case_approve, case_refund_after_inspection
from orders.models import Buyer, Order
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.deadlines import deadline_failure_record
from shop_admin.kernel.errors import DomainError

logger = logging.getLogger(__name__)
S = AfterSaleStatus
REPLY_DUE, RETURN_DUE, INSPECT_DUE = DUE_STATUSES, [S.AWAITING_RETURN], [S.INSPECTING]


def _apply_each(*, kind: str, statuses: list[str], deadline: str, now: datetime, ids: list[int] | None, apply: Callable) -> int:
    if ids is None or len(ids) > 1:  # a sweep's batch; a wake-up names one case
        return aftersale_due_batch(statuses=statuses, deadline=deadline, now=now, ids=ids, apply_one=apply, kind=kind)
    queryset = aftersale_due(statuses=statuses, deadline=deadline, now=now).filter(pk__in=ids).order_by(deadline)
    applied = 0
    for case_pk, order_pk in list(queryset.values_list("pk", "order_id")[: settings.SWEEP_BATCH_SIZE]):
        try:
            with transaction.atomic():
                order = Order.objects.select_for_update(skip_locked=True).filter(pk=order_pk).first()
                case = AfterSaleCase.objects.select_for_update(skip_locked=True).filter(pk=case_pk).first()
                if order is None or case is None:
                    continue  # someone is working on it; the next sweep comes back
                due = getattr(case, deadline)
                if case.status not in statuses or due is None or due > now:
                    continue
                case.order = order
                apply(case, now)
                applied += 1
        except DomainError as exc:  # one case's refusal must not stop the others; it stays due, and counted until seen
            logger.warning("after-sale case %s: %s", case_pk, exc.message)
            deadline_failure_record(kind=kind, row_id=case_pk, shop_id=case.shop_id, error=exc)
    return applied


def _reply_timeout(case: AfterSaleCase, now: datetime) -> None:
    actor = Actor.system("aftersale_reply_timeout")
    if Buyer.objects.filter(pk=case.buyer_id, is_flagged=True).exists():
        # A flagged buyer's claim is never approved by the clock: the platform decides.
        from_status = case_transition(case, "refer_to_platform", "arbitration")
        case.arbitration_reason = _("风险买家的售后超时未处理，转平台审核")
        case.due_at = now + settings.AFTERSALE_ARBITRATION_TARGET
        case.save()
        aftersale_escalated_event(case=case, actor=actor, from_status=from_status, reason=case.arbitration_reason)
        return
    from_status = case_approve(case, actor, now=now, reason=gettext_noop("商家超时未处理，系统自动同意"))
    aftersale_auto_approved_event(case=case, actor=actor, from_status=from_status)


def aftersale_reply_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: the merchant did not answer in time, so the platform approves the buyer's claim (and pays a refund-only one).

    The sweep (no ids) goes batch-wise through `clock_batch` (COPY, arrays); an RQ wake-up for one case takes the
    per-case path, whose outcome the batch is tested against.
    """
    if ids is None or len(ids) > 1:
        return aftersale_reply_timeout_batch(now=now, ids=ids, apply_one=_reply_timeout)
    return _apply_each(
        kind="aftersale_reply_timeout", statuses=REPLY_DUE, deadline="reply_deadline", now=now, ids=ids, apply=_reply_timeout
    )


def _return_timeout(case: AfterSaleCase, now: datetime) -> None:
    actor = Actor.system("aftersale_return_timeout")
    from_status = case_transition(case, "close_unreturned", "return_shipment")
    case_end(case, actor, now)
    aftersale_closed_event(case=case, actor=actor, from_status=from_status, reason=gettext_noop("买家超时未寄回退货，售后关闭"))


def aftersale_return_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: an agreed return not shipped within 7 days closes the case (the sweep set-wise through `clock_batch`)."""
    if ids is None or len(ids) > 1:
        return aftersale_return_timeout_batch(now=now, ids=ids, apply_one=_return_timeout)
    return _apply_each(
        kind="aftersale_return_timeout", statuses=RETURN_DUE, deadline="return_deadline", now=now, ids=ids, apply=_return_timeout
    )


def _inspect_timeout(case: AfterSaleCase, now: datetime) -> None:
    actor = Actor.system("aftersale_inspect_timeout")
    case_refund_after_inspection(case, actor, now=now, deductions=[], reason=gettext_noop("商家超时未验货，系统自动退款"))


def aftersale_inspect_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: a received return not inspected within 24 h is refunded in full."""
    return _apply_each(
        kind="aftersale_inspect_timeout", statuses=INSPECT_DUE, deadline="inspect_deadline", now=now, ids=ids, apply=_inspect_timeout
    )


def aftersale_reply_due(now: datetime) -> QuerySet:
    return aftersale_due(statuses=REPLY_DUE, deadline="reply_deadline", now=now)


def aftersale_return_due(now: datetime) -> QuerySet:
    return aftersale_due(statuses=RETURN_DUE, deadline="return_deadline", now=now)


def aftersale_inspect_due(now: datetime) -> QuerySet:
    return aftersale_due(statuses=INSPECT_DUE, deadline="inspect_deadline", now=now)
