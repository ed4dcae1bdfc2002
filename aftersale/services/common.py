"""What every after-sale action shares: lock order and case, run a transition or refuse it clearly, refund, end a case."""
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed

from aftersale.constants import OPEN_STATUSES, MessageAuthor
from aftersale.models import AfterSaleCase, AfterSaleLine, AfterSaleMessage, BuyerMark
from orders.constants import RefundStatus
from orders.models import Buyer, Order, Refund
from orders.services.common import order_lock
from orders.services.lifecycle import order_auto_confirm_resume
from orders.services.refundable import order_lines_refundable, order_refundable_total
from orders.services.refunds import refund_create
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import ActorKind
from shop_admin.kernel.errors import Conflict, NotFound

ZERO = Decimal("0.00")

ACTION_LABELS = {
    "agree": gettext_lazy("同意"),
    "reject": gettext_lazy("拒绝"),
    "message": gettext_lazy("留言协商"),
    "confirm_return": gettext_lazy("确认收到退货"),
    "refund": gettext_lazy("退款"),
    "reship": gettext_lazy("补寄/换货发出"),
    "return_shipment": gettext_lazy("填写退货物流"),
    "arbitration": gettext_lazy("申请平台仲裁"),
    "ruling": gettext_lazy("仲裁"),
}


def case_lock(case_id: int) -> tuple[Order, AfterSaleCase]:
    """The case's order and the case, locked in that order (the order refunds and every order service lock in)."""
    order_id = AfterSaleCase.objects.filter(pk=case_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound(_("售后单不存在"), code="aftersale_not_found")
    order = order_lock(order_id)
    case = AfterSaleCase.objects.select_for_update().get(pk=case_id)
    case.order = order
    return order, case


def refusal(case: AfterSaleCase, action: str) -> Conflict:
    return Conflict(
        _("售后单状态为「%(status)s」，不能%(action)s") % {"status": case.get_status_display(), "action": ACTION_LABELS.get(action, action)},
        code="invalid_transition",
        details={"status": case.status, "action": action},
    )


def case_transition(case: AfterSaleCase, name: str, action: str) -> str:
    """Run transition `name` on a locked case and save it; returns the status it came from. Refused: 409."""
    from_status = case.status
    method = getattr(case, name)
    if not can_proceed(method):
        raise refusal(case, action)
    try:
        method()
        case.save()
    except (TransitionNotAllowed, ConcurrentTransition):
        raise Conflict(_("售后单刚被其他人处理，请刷新后查看"), code="concurrent_update") from None
    if (from_status in OPEN_STATUSES) != case.is_open:
        case_lines_follow(case_ids=[case.pk], status=case.status)
    return from_status


def case_lines_follow(*, case_ids: list[int], status: str) -> None:
    """The cases' lines follow their new status: held while open, free once ended. Every change of a case's status that
    opens or ends it comes here (`case_transition`, the sweeps' set-wise end); a case reopened (asked for arbitration)
    on a line another case now holds is a 409 naming the line."""
    held = status in OPEN_STATUSES
    lines = AfterSaleLine.objects.filter(case_id__in=case_ids)
    with lines_held(case_ids=case_ids, line_ids=list(lines.values_list("line_id", flat=True)) if held else []):
        lines.update(case_open=held)


@contextmanager
def lines_held(*, case_ids: list[int], line_ids: list[int]):
    """A write that makes these cases hold these lines. One open case per line is the partial unique index
    `aftersale_one_open_case_per_line`, not a read before the write, so two claims at once cannot both pass; the
    loser's IntegrityError becomes the 409 naming the line and the case that holds it."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        busy = (
            AfterSaleLine.objects.filter(line_id__in=line_ids, case_open=True)
            .exclude(case_id__in=case_ids)
            .select_related("line")
            .order_by("pk")
            .first()
        )
        if busy is None:
            raise
        raise Conflict(
            _("%(name)s 已有处理中的售后单 #%(id)d") % {"name": busy.line.product_name, "id": busy.case_id},
            code="aftersale_already_open",
            details={
                "aftersale_id": busy.case_id,
                "lines": [{"line_id": busy.line_id, "sku_id": busy.line.sku_id, "sku_code": busy.line.sku_code}],
            },
        ) from None


def case_lines_map(case: AfterSaleCase) -> dict[int, int]:
    return {al.line_id: al.quantity for al in case.lines.all()}


def case_refundable(case: AfterSaleCase) -> Decimal:
    """What a refund for this case can still pay: what its lines have left, never more than the order holds."""
    by_line = {lr.line.pk: lr for lr in order_lines_refundable(order=case.order)}
    caps = sum((by_line[line_id].cap(qty) for line_id, qty in case_lines_map(case).items() if line_id in by_line), ZERO)
    return min(caps, order_refundable_total(order=case.order))


def case_refund(case: AfterSaleCase, actor: Actor, *, amount: Decimal, reason: str) -> Refund | None:
    """Send the case's money back through the refund service (by the payment's channel); none if nothing is left."""
    amount = min(amount, case_refundable(case))
    if amount <= 0:
        return None
    refund = refund_create(
        order=case.order, amount=amount, actor=actor, reason=reason or case.reason, source=f"aftersale:{case.pk}", lines=case_lines_map(case)
    )
    case.refund = refund
    case.save(update_fields=["refund", "updated_at"])
    _flag_buyer_with_many_refunds(case, refund)
    return refund


def _flag_buyer_with_many_refunds(case: AfterSaleCase, refund: Refund) -> None:
    """More refunds in a day than the setting allows marks the buyer: the clock then never approves their cases."""
    since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    today = (
        Refund.objects.filter(order__buyer_id=case.buyer_id, created_at__gte=since)
        .exclude(status=RefundStatus.FAILED)
        .aggregate(n=Count("pk"))["n"]
    )
    if today > settings.BUYER_DAILY_REFUND_LIMIT and not Buyer.objects.filter(pk=case.buyer_id, is_flagged=True).exists():
        Buyer.objects.filter(pk=case.buyer_id).update(is_flagged=True)
        BuyerMark.objects.create(
            buyer_id=case.buyer_id, case=case, reason=_("一天内退款超过%(n)d次") % {"n": settings.BUYER_DAILY_REFUND_LIMIT}
        )


def case_responded(case: AfterSaleCase, actor: Actor, now: datetime) -> None:
    """The merchant's first answer, for the median response time."""
    if case.first_response_at is None and actor.kind == ActorKind.USER:
        case.first_response_at = now


def case_end(case: AfterSaleCase, actor: Actor, now: datetime) -> None:
    """The case no longer holds its lines: no deadline; the order's auto-confirm runs again once no case is open."""
    case.closed_at = now
    case.due_at = None
    case.save()
    still_open = AfterSaleCase.objects.filter(order_id=case.order_id, status__in=OPEN_STATUSES).exclude(pk=case.pk).exists()
    if not still_open:
        order_auto_confirm_resume(order=case.order, actor=actor, reason=gettext_noop("售后结束，恢复自动确认收货"))


def message_add(case: AfterSaleCase, actor: Actor, *, body: str, evidence: list[str] | None = None) -> AfterSaleMessage:
    author = {
        ActorKind.BUYER: MessageAuthor.BUYER,
        ActorKind.USER: MessageAuthor.MERCHANT,
        ActorKind.PLATFORM: MessageAuthor.PLATFORM,
    }.get(actor.kind, MessageAuthor.SYSTEM)
    return AfterSaleMessage.objects.create(case=case, author=author, author_label=actor.label[:64], body=body, evidence=evidence or [])
