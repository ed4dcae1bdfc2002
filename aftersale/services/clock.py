"""The clock of a case, through the one deadline mechanism: no answer approves the claim, no return closes the case,
no inspection refunds.

Each function locks the due cases (the order first, as every after-sale action does; a case
another process holds is skipped and the next sweep comes back), re-checks state and due
time under the lock, and applies, through `clock_batch`: the sweep's batch and a wake-up for
one case (a batch of one) take the same path, one transaction, each case the set-wise shape
does not take in a savepoint. Safe to run any number of times.
"""
import logging
from datetime import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aftersale.constants import AfterSaleStatus
from aftersale.events import aftersale_auto_approved_event, aftersale_closed_event, aftersale_escalated_event
from aftersale.models import AfterSaleCase
from aftersale.services.clock_batch import (
    DUE_STATUSES,
    REPLY_TIMEOUT_REASON,
    RETURN_TIMEOUT_REASON,
    aftersale_due,
    aftersale_due_batch,
    aftersale_reply_timeout_batch,
    aftersale_return_timeout_batch,
    buyers_flagged,
)
from aftersale.services.common import case_end, case_transition
from aftersale.services.review import case_approve, case_refund_after_inspection
from shop_admin.kernel.actors import Actor

logger = logging.getLogger(__name__)
S = AfterSaleStatus
REPLY_DUE, RETURN_DUE, INSPECT_DUE = DUE_STATUSES, [S.AWAITING_RETURN], [S.INSPECTING]


def _reply_timeout(case: AfterSaleCase, now: datetime) -> None:
    actor = Actor.system("aftersale_reply_timeout")
    if buyers_flagged(buyer_ids=[case.buyer_id]):
        # A flagged buyer's claim is never approved by the clock: the platform decides.
        from_status = case_transition(case, "refer_to_platform", "arbitration")
        case.arbitration_reason = _("风险买家的售后超时未处理，转平台审核")
        case.due_at = now + settings.AFTERSALE_ARBITRATION_TARGET
        case.save()
        aftersale_escalated_event(case=case, actor=actor, from_status=from_status, reason=case.arbitration_reason)
        return
    from_status = case_approve(case, actor, now=now, reason=REPLY_TIMEOUT_REASON)
    aftersale_auto_approved_event(case=case, actor=actor, from_status=from_status)


def aftersale_reply_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: the merchant did not answer in time, so the platform approves the buyer's claim (and pays a refund-only one).

    The sweep (no ids) and an RQ wake-up for one case (a batch of one) take the same path through `clock_batch`.
    """
    return aftersale_reply_timeout_batch(now=now, ids=ids, apply_one=_reply_timeout)


def _return_timeout(case: AfterSaleCase, now: datetime) -> None:
    actor = Actor.system("aftersale_return_timeout")
    from_status = case_transition(case, "close_unreturned", "return_shipment")
    case_end(case, actor, now)
    aftersale_closed_event(case=case, actor=actor, from_status=from_status, reason=RETURN_TIMEOUT_REASON)


def aftersale_return_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: an agreed return not shipped within 7 days closes the case (a sweep or a wake-up, through `clock_batch`)."""
    return aftersale_return_timeout_batch(now=now, ids=ids, apply_one=_return_timeout)


def _inspect_timeout(case: AfterSaleCase, now: datetime) -> None:
    actor = Actor.system("aftersale_inspect_timeout")
    case_refund_after_inspection(case, actor, now=now, deductions=[], reason=gettext_noop("商家超时未验货，系统自动退款"))


def aftersale_inspect_timeout(*, now: datetime, ids: list[int] | None = None) -> int:
    """Deadline: a received return not inspected within 24 h is refunded in full."""
    return aftersale_due_batch(
        statuses=INSPECT_DUE, deadline="inspect_deadline", now=now, ids=ids, apply_one=_inspect_timeout, kind="aftersale_inspect_timeout"
    )


def aftersale_reply_due(now: datetime) -> QuerySet:
    return aftersale_due(statuses=REPLY_DUE, deadline="reply_deadline", now=now)


def aftersale_return_due(now: datetime) -> QuerySet:
    return aftersale_due(statuses=RETURN_DUE, deadline="return_deadline", now=now)


def aftersale_inspect_due(now: datetime) -> QuerySet:
    return aftersale_due(statuses=INSPECT_DUE, deadline="inspect_deadline", now=now)
